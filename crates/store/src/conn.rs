//! One connection type over SQLite and PostgreSQL, a pool, and migrations.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{
    ConnectionManager, CustomizeConnection, ManageConnection, Pool, PooledConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::counts::ListCounts;
use crate::StoreError;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Runs a query on the backend's own connection instead of through
/// [`DbConn`]: `on_backend!(conn, c => query.load(c))`. The expression is
/// compiled once per backend, so it must type-check on both.
///
/// Only for the queries every request runs. `DbConn` (diesel's
/// `MultiConnection`) writes a query's whole SQL out again each time it walks
/// it, twice per execution even when the statement is cached, and reads each
/// value through a wrapper: about a fifth of a list request's instructions.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::conn::DbConn::Pg($c) => $body,
            $crate::conn::DbConn::Sqlite($c) => $body,
        }
    };
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendKind {
    Sqlite,
    Postgres,
}

impl BackendKind {
    pub fn of_url(url: &str) -> BackendKind {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            BackendKind::Postgres
        } else {
            BackendKind::Sqlite
        }
    }
}

/// A connection given back to the pool less than this long ago is handed out
/// again without the `SELECT 1` check: under load that check was a quarter of
/// the statements a list sent to PostgreSQL. A connection the server closed in
/// the meantime fails the one statement that finds out; diesel then marks its
/// transaction manager broken (libpq no longer knows the transaction's
/// state), and the pool drops it when it comes back.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A connection in the pool, with when it last came back.
struct Pooled {
    conn: DbConn,
    returned_at: Instant,
}

/// Diesel's connection manager, checking a connection on checkout only when it
/// has been idle longer than [`TRUSTED_FOR`].
struct Manager(ConnectionManager<DbConn>);

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        Ok(Pooled {
            conn: self.0.connect()?,
            returned_at: Instant::now(),
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        if pooled.returned_at.elapsed() < TRUSTED_FOR {
            return Ok(());
        }
        self.0.is_valid(&mut pooled.conn)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.returned_at = Instant::now();
        self.0.has_broken(&mut pooled.conn)
    }
}

#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<Pooled, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, pooled: &mut Pooled) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = &mut pooled.conn {
            c.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                 PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// A connection taken from the pool; it goes back when dropped.
pub struct Conn(PooledConnection<Manager>);

impl std::ops::Deref for Conn {
    type Target = DbConn;
    fn deref(&self) -> &DbConn {
        &self.0.conn
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.0.conn
    }
}

/// The database: a pool of connections and, on SQLite, the single-writer lock.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: BackendKind,
    /// SQLite allows one writer; taking this lock before a write transaction
    /// turns "database is locked" errors into a short wait.
    write_lock: Arc<Mutex<()>>,
    /// Where it is, for a connection of its own (the cluster bus listens on one).
    url: Arc<str>,
    /// The counts lists show, kept while no request changes.
    counts: Arc<ListCounts>,
}

impl Db {
    pub fn connect(url: &str, max_connections: u32) -> Result<Db, StoreError> {
        let backend = BackendKind::of_url(url);
        let manager = Manager(ConnectionManager::<DbConn>::new(url));
        let pool = Pool::builder()
            .max_size(max_connections)
            // No background replenishing: a connection being opened by a pool thread
            // while the process exits crashes in OpenSSL's exit handler (libpq + TLS).
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(SqlitePragmas))
            .build(manager)
            .map_err(|e| StoreError::Connect(e.to_string()))?;
        Ok(Db {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            url: url.into(),
            counts: Arc::new(ListCounts::new()),
        })
    }

    /// The counts lists show, kept while no request changes (SQLite).
    pub fn list_counts(&self) -> &ListCounts {
        &self.counts
    }

    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn conn(&self) -> Result<Conn, StoreError> {
        self.pool
            .get()
            .map(Conn)
            .map_err(|e| StoreError::Connect(e.to_string()))
    }

    /// Applies the embedded migrations of this backend; returns how many ran.
    pub fn migrate(&self) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        let ran = match &mut *conn {
            DbConn::Pg(c) => c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.len()),
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
        };
        let ran = ran.map_err(|e| StoreError::Migration(e.to_string()))?;
        // The one data step SQL cannot do on SQLite (migration 24).
        crate::video::hash_legacy_calendar_tokens(&mut conn)?;
        Ok(ran)
    }

    /// Runs `f` in a read-only use of a pooled connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        f(&mut conn)
    }

    /// Like [`Db::write`], for a write that changes no request (the audit
    /// log): on PostgreSQL the list counts kept stay current.
    pub fn write_beside_requests<T, E>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, E>,
    ) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<StoreError>,
    {
        if self.backend == BackendKind::Postgres {
            let mut conn = self.conn()?;
            return (*conn).transaction(f);
        }
        self.write(f)
    }

    /// Runs `f` in a transaction; on SQLite, one writer at a time.
    pub fn write<T, E>(&self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<diesel::result::Error> + From<StoreError>,
    {
        let mut conn = self.conn()?;
        let _guard: Option<MutexGuard<'_, ()>> = match self.backend {
            BackendKind::Sqlite => Some(self.write_lock.lock().unwrap_or_else(|p| p.into_inner())),
            BackendKind::Postgres => None,
        };
        let conn: &mut DbConn = &mut conn;
        let DbConn::Sqlite(c) = conn else {
            let written = conn.transaction(f);
            if written.is_ok() {
                // Kept list counts are old from now on (counts.rs); the
                // triggers' notification would say so too, a little later.
                self.counts.changed();
            }
            return written;
        };
        // `BEGIN IMMEDIATE`: the file's write lock is taken at the start, so
        // another process writing (a second pool, `rtms admin`) is waited for
        // by the busy timeout. A deferred transaction that read first and then
        // wrote got "database is locked" at once instead.
        AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        let result = f(conn);
        let DbConn::Sqlite(c) = conn else {
            unreachable!("the connection is SQLite's");
        };
        match result {
            Ok(value) => {
                AnsiTransactionManager::commit_transaction(c)?;
                Ok(value)
            }
            Err(e) => {
                AnsiTransactionManager::rollback_transaction(c)?;
                Err(e)
            }
        }
    }

    /// True when the database answers a trivial query.
    pub fn ping(&self) -> bool {
        self.conn()
            .and_then(|mut c| c.batch_execute("SELECT 1").map_err(StoreError::from))
            .is_ok()
    }
}
