use sea_orm::{DbErr, SqlErr};

/// Errors of the store. `NotFound` and `Conflict` are expected outcomes the
/// caller maps to 404 and 409; `Db` is everything else (a 500, logged).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was violated (`what` names it, e.g. "email"), or a
    /// conditional update lost a race (e.g. "job lease").
    #[error("conflict: {what}")]
    Conflict { what: &'static str },
    /// The caller passed a value the store cannot represent.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// A stored value does not parse (e.g. an unknown role name): the
    /// database was edited outside the application.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Errors of the raw sqlx statements (the SQLite usage writer, the
/// background checkpoint), as sea-orm would report them.
impl From<sea_orm::sqlx::Error> for StoreError {
    fn from(e: sea_orm::sqlx::Error) -> StoreError {
        StoreError::Db(DbErr::Exec(sea_orm::RuntimeErr::SqlxError(
            std::sync::Arc::new(e),
        )))
    }
}

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict`, naming the rule by
    /// the first `(needle, what)` whose needle occurs in the database's
    /// message (PostgreSQL names the index, SQLite the `table.column`).
    /// Any other error stays `Db`.
    pub(crate) fn from_insert(err: DbErr, rules: &[(&str, &'static str)]) -> StoreError {
        match err.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(message)) => {
                let what = rules
                    .iter()
                    .find(|(needle, _)| message.contains(needle))
                    .map(|(_, what)| *what)
                    .unwrap_or("unique constraint");
                StoreError::Conflict { what }
            }
            _ => StoreError::Db(err),
        }
    }
}
