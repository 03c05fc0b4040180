//! Outbound HTTP from blocking code (the federal outbox, FHIR subscription
//! deliveries): one small runtime for the whole process, made on first use,
//! instead of a runtime per call.

use std::future::Future;
use std::sync::OnceLock;

/// Worker threads of the outbound runtime: calls wait on the network, not on CPU.
const THREADS: usize = 2;

fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(THREADS)
            .thread_name("rtms-outbound")
            .enable_all()
            .build()
            .map_err(|e| format!("the outbound HTTP runtime: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Runs `f` to completion on the outbound runtime, from a blocking thread.
pub fn block_on<T>(f: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    runtime()?.block_on(f)
}
