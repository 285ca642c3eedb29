//! Persistence for govmarket: sea-orm entities for the whole product, the
//! queries other crates call, the job queue and the audit log.
//!
//! # Connections and transactions
//!
//! [`connect`] returns a [`Db`], a cheap-to-clone handle over a connection
//! pool. Every query function is generic over [`sea_orm::ConnectionTrait`],
//! so it runs on the pool (`db.conn()`) or inside a transaction the caller
//! opened (`db.begin_write().await?`, see [`Db::begin_write`] for why not a
//! plain `begin()` when the transaction writes on SQLite); that is how
//! several writes become atomic. Functions that must be atomic on their own (audit appends, user
//! registration with its organisation) also take [`sea_orm::TransactionTrait`]
//! and open a transaction, or a savepoint when given one.
//!
//! # Backends
//!
//! PostgreSQL in production, SQLite for one-node installs and tests; the
//! same migrations and queries serve both. Instants are always written by
//! the application (UTC, microsecond precision where it matters), never by a
//! database default.
//!
//! # Test databases
//!
//! With the `testing` feature, [`testing::TestDb`] gives each test a fresh
//! migrated database: SQLite by default, PostgreSQL (cloned from a template)
//! when `TEST_DATABASE_URL` is set.

use std::time::Duration;

pub use sea_orm;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

pub mod apps;
pub mod audit;
mod checkpoint;
pub mod complaints;
pub mod data_access;
pub mod datasets;
pub mod entity;
mod error;
pub mod fraud;
pub mod jobs;
pub mod market;
pub mod moderation;
pub mod notifications;
pub mod orders;
pub mod orgs;
pub mod pipeline;
pub mod ratings;
pub mod replays;
pub mod rules;
pub mod settlements;
mod status;
pub mod supervision;
pub mod suspensions;
#[cfg(feature = "testing")]
pub mod testing;
pub mod usage;
pub mod users;

pub use error::StoreError;

/// Connections per SQLite pool. SQLite runs one writer at a time whatever the
/// pool size (writers queue on the busy timeout), but WAL lets readers
/// proceed beside it, and a caller holding a transaction can still use the
/// pool for other work without deadlocking on a single connection.
const SQLITE_POOL_SIZE: u32 = 8;

/// How long a SQLite writer waits for the write lock before giving up with
/// "database is locked". Long enough for any single request's transaction.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle to the database: a thin newtype over sea-orm's pooled
/// [`DatabaseConnection`]. Clone it freely (it is an `Arc` inside).
///
/// Pass `db.conn()` to the query functions; use
/// [`sea_orm::TransactionTrait::begin`] on it for a transaction.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// A SQLite file's background checkpoint runs while this lives.
    _checkpoint: Option<std::sync::Arc<checkpoint::Alive>>,
}

impl Db {
    /// Wraps an existing sea-orm connection (no pragmas are applied, no
    /// background checkpoint runs).
    pub fn from_connection(conn: DatabaseConnection) -> Self {
        Db {
            conn,
            _checkpoint: None,
        }
    }

    /// The pooled connection, for the query functions and for `begin()`.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Begins a transaction that is going to write.
    ///
    /// On SQLite this is `BEGIN IMMEDIATE`: the write lock is taken up
    /// front, waiting (up to the busy timeout) for other writers. A plain
    /// `BEGIN` that reads and then writes fails with "database is locked"
    /// whenever another connection committed in between, since its snapshot
    /// can no longer be upgraded; under concurrent requests that is a 500.
    /// On PostgreSQL it is an ordinary `BEGIN`.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, StoreError> {
        Ok(self
            .conn
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?)
    }

    /// Checks the database answers (for health checks).
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.conn.ping().await?)
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(self) -> Result<(), StoreError> {
        Ok(self.conn.close().await?)
    }
}

impl AsRef<DatabaseConnection> for Db {
    fn as_ref(&self) -> &DatabaseConnection {
        &self.conn
    }
}

/// Opens a pool on `url`: `postgres://…` or `sqlite://path?mode=rwc`.
///
/// SQLite files are created when missing, and every SQLite connection runs
/// with WAL journaling, `synchronous = NORMAL` (durable across application
/// crashes; the last commits may be lost only on power failure, the usual
/// WAL trade-off), foreign keys enforced and a busy timeout.
pub async fn connect(url: &str) -> Result<Db, StoreError> {
    let mut opts = ConnectOptions::new(url);
    opts.sqlx_logging(false);
    if !url.starts_with("sqlite:") {
        return Ok(Db::from_connection(Database::connect(opts).await?));
    }
    // Each connection to an in-memory database is a separate database,
    // so those get exactly one.
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    opts.max_connections(if in_memory { 1 } else { SQLITE_POOL_SIZE });
    // The pool pings a connection before handing it out, by default: a
    // guard against network connections gone stale. A SQLite connection
    // is a local file and a thread, and the ping is one more round trip
    // to that thread before every query.
    opts.test_before_acquire(false);
    opts.map_sqlx_sqlite_opts(|o| {
        o.create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            // Statement journals (a multi-row insert inside a transaction,
            // such as a usage batch, keeps one) otherwise spill to a temp
            // file past 64 KiB: a file opened, written and deleted per batch.
            .pragma("temp_store", "memory")
            // See `checkpoint`: the background checkpoint does this work.
            .pragma("wal_autocheckpoint", checkpoint::BACKSTOP_PAGES.to_string())
    });
    let pool = Database::connect(opts).await?;
    if in_memory {
        return Ok(Db::from_connection(pool));
    }
    // With the pool's own options: the same file, WAL, busy timeout.
    let options = pool.get_sqlite_connection_pool().connect_options();
    let alive = checkpoint::start(&options).await?;
    Ok(Db {
        conn: pool,
        _checkpoint: Some(alive),
    })
}

/// Applies every pending migration of the `migration` crate.
pub async fn migrate(db: &Db) -> Result<(), StoreError> {
    use migration::MigratorTrait;
    migration::Migrator::up(db.conn(), None).await?;
    Ok(())
}

/// The current instant, truncated to whole microseconds: PostgreSQL keeps
/// microseconds, so a value read back equals the value written, which the
/// audit hash and equality tests rely on.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    truncate_to_micros(chrono::Utc::now())
}

pub(crate) fn truncate_to_micros(
    t: chrono::DateTime<chrono::Utc>,
) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    // Truncate, not round: rounding up could cross into the next second.
    t.trunc_subsecs(6)
}
