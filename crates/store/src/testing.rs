//! Fresh databases for tests, on either backend: a new SQLite file, or a new
//! PostgreSQL database on the server named by `RTMS_TEST_PG_URL` (default: the
//! local server, `postgres://postgres@127.0.0.1:5432/postgres`). Dropped after use.

use std::path::PathBuf;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::{BackendKind, Db};

pub const BACKENDS: [BackendKind; 2] = [BackendKind::Sqlite, BackendKind::Postgres];

pub fn pg_admin_url() -> String {
    std::env::var("RTMS_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "rtms_test_{}_{}_{}",
        std::process::id(),
        nanos,
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A database that exists for the life of this value.
pub struct TestDatabase {
    pub backend: BackendKind,
    pub url: String,
    dir: Option<PathBuf>,
    pg_name: Option<String>,
}

impl TestDatabase {
    pub fn new(backend: BackendKind) -> TestDatabase {
        let name = unique_name();
        match backend {
            BackendKind::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).expect("temp dir");
                let url = dir.join("rtms.sqlite").to_string_lossy().into_owned();
                TestDatabase {
                    backend,
                    url,
                    dir: Some(dir),
                    pg_name: None,
                }
            }
            BackendKind::Postgres => {
                let admin = pg_admin_url();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL is needed for this test ({admin}): {e}")
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                let base = admin
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_string())
                    .unwrap_or(admin.clone());
                TestDatabase {
                    backend,
                    url: format!("{base}/{name}"),
                    dir: None,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A migrated pool on this database.
    pub fn db(&self) -> Db {
        let db = Db::connect(&self.url, 4).expect("connect");
        db.migrate().expect("migrate");
        db
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some(name) = &self.pg_name {
            if let Ok(mut conn) = PgConnection::establish(&pg_admin_url()) {
                let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}
