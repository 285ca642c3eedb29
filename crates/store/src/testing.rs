//! Fresh, migrated databases for tests (feature `testing`).
//!
//! After crates.io's `crates_io_test_db` and zero-to-production's
//! `spawn_app`:
//!
//! - With `TEST_DATABASE_URL` set (a PostgreSQL server URL, e.g.
//!   `postgres://postgres@127.0.0.1:5432/postgres`; the role must be allowed
//!   to create databases), a template database
//!   `govmarket_template_<hash of the migration names>` is migrated once per
//!   process (and reused by later processes while the migrations are the
//!   same), under an advisory lock so parallel test binaries do not race.
//!   Each [`TestDb`] is then `CREATE DATABASE test_<uuid> TEMPLATE …`, and
//!   is dropped (`WITH (FORCE)`, PostgreSQL 13+) when the `TestDb` is.
//! - Otherwise each [`TestDb`] is a SQLite file in a temporary directory that
//!   lives as long as the `TestDb`.
//!
//! ```no_run
//! # async fn example() {
//! let test_db = store::testing::TestDb::new().await;
//! let db = test_db.db(); // or connect your server to test_db.url()
//! # }
//! ```

use std::time::Duration;

use migration::MigratorTrait;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};
use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::{Db, StoreError};

/// The environment variable naming the PostgreSQL server to test against.
pub const TEST_DATABASE_URL: &str = "TEST_DATABASE_URL";

/// Advisory lock key held while the template is built (ASCII "govtmplt").
const TEMPLATE_LOCK_KEY: i64 = 0x676f_7674_6d70_6c74;

/// The template's name, once this process has ensured it exists.
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A fresh migrated database, deleted when dropped.
pub struct TestDb {
    db: Db,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    /// Keeps the directory (and the database file in it) alive.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres {
        server_url: String,
        name: String,
    },
}

impl TestDb {
    /// A fresh database; panics with the cause when one cannot be made,
    /// which in a test is the useful outcome.
    pub async fn new() -> TestDb {
        match TestDb::try_new().await {
            Ok(db) => db,
            Err(e) => panic!("cannot create a test database: {e}"),
        }
    }

    pub async fn try_new() -> Result<TestDb, StoreError> {
        match std::env::var(TEST_DATABASE_URL) {
            Ok(server_url) if !server_url.trim().is_empty() => TestDb::postgres(server_url).await,
            _ => TestDb::sqlite().await,
        }
    }

    /// The URL of this database, for a server under test to connect to.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn backend(&self) -> DbBackend {
        self.db.backend()
    }

    async fn sqlite() -> Result<TestDb, StoreError> {
        let dir = tempfile::tempdir()
            .map_err(|e| StoreError::InvalidInput(format!("temporary directory: {e}")))?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("govmarket.db").display()
        );
        let db = crate::connect(&url).await?;
        crate::migrate(&db).await?;
        Ok(TestDb {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        })
    }

    async fn postgres(server_url: String) -> Result<TestDb, StoreError> {
        let template = TEMPLATE
            .get_or_try_init(|| ensure_template(&server_url))
            .await?
            .clone();
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let admin = admin_connection(&server_url).await?;
        let create = format!(r#"CREATE DATABASE "{name}" TEMPLATE "{template}""#);
        retry_while_busy(|| admin.execute_unprepared(&create)).await?;
        admin.close().await?;
        let url = with_database(&server_url, &name);
        let db = crate::connect(&url).await?;
        Ok(TestDb {
            db,
            url,
            cleanup: Cleanup::Postgres { server_url, name },
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Cleanup::Postgres { server_url, name } = &self.cleanup else {
            return; // the TempDir removes the SQLite file
        };
        let (server_url, name) = (server_url.clone(), name.clone());
        // Drop runs inside the test's runtime, which may be shutting down:
        // a thread with its own runtime finishes the job regardless. Joined,
        // so the database is gone when the test ends (best effort: errors
        // are reported, not raised).
        let dropper = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => return eprintln!("test database {name} not dropped: {e}"),
            };
            runtime.block_on(async {
                let sql = format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#);
                let result = match admin_connection(&server_url).await {
                    Ok(admin) => {
                        let r = admin.execute_unprepared(&sql).await.map(|_| ());
                        let _ = admin.close().await;
                        r
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    eprintln!("test database {name} not dropped: {e}");
                }
            });
        });
        let _ = dropper.join();
    }
}

/// One connection to the server's maintenance database: session-level
/// advisory locks need the same connection for lock and unlock.
async fn admin_connection(server_url: &str) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut opts = ConnectOptions::new(server_url);
    opts.max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    Database::connect(opts).await
}

/// `govmarket_template_<first 16 hex of sha256 of the migration names>`: a
/// new migration makes a new template, never a stale one.
fn template_name() -> String {
    let mut hasher = Sha256::new();
    for m in migration::Migrator::migrations() {
        hasher.update(m.name().as_bytes());
        hasher.update(b"\n");
    }
    let digest = hex::encode(hasher.finalize());
    format!("govmarket_template_{}", &digest[..16])
}

async fn ensure_template(server_url: &str) -> Result<String, StoreError> {
    let template = template_name();
    let admin = admin_connection(server_url).await?;
    lock(&admin, "SELECT pg_advisory_lock($1)").await?;
    let built = build_template_if_missing(&admin, server_url, &template).await;
    let unlocked = lock(&admin, "SELECT pg_advisory_unlock($1)").await;
    let _ = admin.close().await;
    built?;
    unlocked?;
    Ok(template)
}

async fn lock(admin: &DatabaseConnection, sql: &str) -> Result<(), StoreError> {
    admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [TEMPLATE_LOCK_KEY.into()],
        ))
        .await?;
    Ok(())
}

async fn build_template_if_missing(
    admin: &DatabaseConnection,
    server_url: &str,
    template: &str,
) -> Result<(), StoreError> {
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM pg_database WHERE datname = $1",
            [template.into()],
        ))
        .await?
        .is_some();
    if exists {
        return Ok(());
    }
    // Built under another name and renamed when complete, so a crash
    // mid-migration never leaves a half-migrated template behind.
    let building = format!(
        "{template}_b{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    admin
        .execute_unprepared(&format!(r#"CREATE DATABASE "{building}""#))
        .await?;
    let migrated = async {
        let db = crate::connect(&with_database(server_url, &building)).await?;
        let result = migration::Migrator::up(db.conn(), None).await;
        db.close().await?;
        result.map_err(StoreError::from)
    }
    .await;
    if let Err(e) = migrated {
        let _ = admin
            .execute_unprepared(&format!(
                r#"DROP DATABASE IF EXISTS "{building}" WITH (FORCE)"#
            ))
            .await;
        return Err(e);
    }
    let rename = format!(r#"ALTER DATABASE "{building}" RENAME TO "{template}""#);
    retry_while_busy(|| admin.execute_unprepared(&rename)).await?;
    Ok(())
}

/// PostgreSQL refuses to copy or rename a database while a session is still
/// connected to it, and a closed client's backend can take a moment to exit.
async fn retry_while_busy<F, Fut, T>(mut op: F) -> Result<T, sea_orm::DbErr>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, sea_orm::DbErr>>,
{
    let mut tries = 0;
    loop {
        match op().await {
            Err(e) if tries < 50 && e.to_string().contains("being accessed by other users") => {
                tries += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// `url` with its database (path) replaced by `name`, query kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let prefix = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced_and_query_kept() {
        assert_eq!(
            with_database("postgres://u:p@h:5432/postgres?sslmode=disable", "test_1"),
            "postgres://u:p@h:5432/test_1?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h:1", "x"), "postgres://h:1/x");
        assert_eq!(with_database("postgres://h/", "x"), "postgres://h/x");
    }
}
