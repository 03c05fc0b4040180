//! A multipart form as anyone may post it to `/verify` without signing in:
//! axum's parser (multer), then our reading of its `file` field with the
//! 20 MiB cap (`rtms_web::ui::verify_file`).
#![no_main]

use axum::extract::FromRequest;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static RT: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
}

fuzz_target!(|data: &[u8]| {
    let Ok(req) = axum::http::Request::builder()
        .method("POST")
        .uri("/verify")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(data.to_vec()))
    else {
        return;
    };
    RT.with(|rt| {
        rt.block_on(async {
            if let Ok(mut form) = axum::extract::Multipart::from_request(req, &()).await {
                let _ = rtms_web::ui::verify_file(&mut form).await;
            }
        })
    });
});
