//! Sealed replay records: what a supervisor's replay of an invocation needs,
//! encrypted by the service layer before it gets here. The store never sees
//! the plaintext; it keeps the bytes until the retention period ends.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::StoreError;
use crate::usage::{Recorded, UsageEvent};

const TABLE: &str = "invocation_replays";

/// One stored record: the invocation it replays and its sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedReplay {
    pub invocation_id: i64,
    pub recorded_at: DateTime<Utc>,
    pub sealed: Vec<u8>,
}

/// Rows per `INSERT`: three parameters a row stays far under either
/// backend's bound-parameter limit.
const CHUNK: usize = 1000;

/// The `INSERT`s of the sealed records of a batch's newly recorded events
/// (a duplicate's record is the first event's); none if there are none.
pub(crate) fn inserts_for(
    events: &[UsageEvent],
    answers: &[Recorded],
    backend: DbBackend,
) -> Vec<Statement> {
    let rows: Vec<(i64, &UsageEvent, &Vec<u8>)> = events
        .iter()
        .zip(answers)
        .filter_map(|(event, answer)| match (*answer, &event.replay) {
            (Recorded::New(id), Some(sealed)) => Some((id, event, sealed)),
            _ => None,
        })
        .collect();
    rows.chunks(CHUNK)
        .map(|chunk| {
            let mut insert = Query::insert();
            insert.into_table(Alias::new(TABLE)).columns([
                Alias::new("invocation_id"),
                Alias::new("recorded_at"),
                Alias::new("sealed"),
            ]);
            for (id, event, sealed) in chunk {
                insert.values_panic([
                    (*id).into(),
                    crate::truncate_to_micros(event.invocation.occurred_at).into(),
                    (*sealed).clone().into(),
                ]);
            }
            // A re-sent batch (a writer retry) must not fail on rows it wrote.
            insert.on_conflict(
                OnConflict::column(Alias::new("invocation_id"))
                    .do_nothing()
                    .to_owned(),
            );
            backend.build(&insert)
        })
        .collect()
}

/// The sealed record of `invocation_id`, if it is still kept.
pub async fn get<C: ConnectionTrait>(
    conn: &C,
    invocation_id: i64,
) -> Result<Option<SealedReplay>, StoreError> {
    let backend = conn.get_database_backend();
    let select = Query::select()
        .columns([
            Alias::new("invocation_id"),
            Alias::new("recorded_at"),
            Alias::new("sealed"),
        ])
        .from(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("invocation_id")).eq(invocation_id))
        .to_owned();
    let Some(row) = conn.query_one_raw(backend.build(&select)).await? else {
        return Ok(None);
    };
    Ok(Some(SealedReplay {
        invocation_id: row.try_get("", "invocation_id")?,
        recorded_at: row.try_get("", "recorded_at")?,
        sealed: row.try_get("", "sealed")?,
    }))
}

/// Deletes every record of an invocation older than `cutoff`; answers how
/// many went. Safe to run on several nodes at once: a row is deleted once.
pub async fn purge_before<C: ConnectionTrait>(
    conn: &C,
    cutoff: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let backend = conn.get_database_backend();
    let delete = Query::delete()
        .from_table(Alias::new(TABLE))
        .and_where(Expr::col(Alias::new("recorded_at")).lt(crate::truncate_to_micros(cutoff)))
        .to_owned();
    Ok(conn
        .execute_raw(backend.build(&delete))
        .await?
        .rows_affected())
}

/// How many records are kept (the dashboard's and the tests' count).
pub async fn count<C: ConnectionTrait>(conn: &C) -> Result<i64, StoreError> {
    let backend = conn.get_database_backend();
    let select = Query::select()
        .expr(Expr::col(Alias::new("invocation_id")).count())
        .from(Alias::new(TABLE))
        .to_owned();
    let row = conn
        .query_one_raw(backend.build(&select))
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(row.try_get_by_index(0)?)
}
