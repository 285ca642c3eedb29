//! Usage events: one invocation row per use of an app by a citizen.
//!
//! This is the biggest table (settlement reads millions of rows a period),
//! so writes come in two shapes: [`record`] for the one event a request
//! produces, idempotent per citizen and key, and [`insert_bulk`] for loads
//! (imports, the benchmark) as multi-row `INSERT`s in one transaction, or
//! [`load`], which on PostgreSQL streams the rows with `COPY`.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryResult, QuerySelect, QueryTrait, Statement, TransactionSession, TransactionTrait, sqlx,
};

use crate::StoreError;
use crate::entity::{invocation_queries, invocations};

/// Rows per `INSERT` in [`insert_bulk`]: 11 parameters a row stays well
/// under SQLite's 32766 and PostgreSQL's 65535 bound-parameter limits.
const BULK_CHUNK: usize = 2000;

/// One usage event as the invoking code knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInvocation {
    pub app_id: i64,
    pub version_id: i64,
    pub citizen_id: i64,
    pub occurred_at: DateTime<Utc>,
    /// The settlement period of `occurred_at` (platform time zone), e.g. `2026Q3`.
    pub period: String,
    /// A `domain::Verdict` name.
    pub verdict: String,
    /// Whether the citizen got a valid answer; only successes count as usage.
    pub success: bool,
    pub instructions: i64,
    pub latency_us: i64,
    /// The client's key for this use, so a retried request counts once.
    pub idempotency_key: Option<String>,
}

impl NewInvocation {
    fn into_active(self) -> invocations::ActiveModel {
        invocations::ActiveModel {
            app_id: Set(self.app_id),
            version_id: Set(self.version_id),
            citizen_id: Set(self.citizen_id),
            occurred_at: Set(crate::truncate_to_micros(self.occurred_at)),
            period: Set(self.period),
            verdict: Set(self.verdict),
            success: Set(self.success),
            instructions: Set(self.instructions),
            latency_us: Set(self.latency_us),
            idempotency_key: Set(self.idempotency_key),
            invalid: Set(false),
            ..Default::default()
        }
    }
}

/// Outcome of [`record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new event, with its id.
    New(i64),
    /// The citizen already recorded an event with this idempotency key:
    /// nothing was written; the earlier event's id.
    Duplicate(i64),
}

impl Recorded {
    pub fn id(self) -> i64 {
        match self {
            Recorded::New(id) | Recorded::Duplicate(id) => id,
        }
    }
}

/// Records one usage event without queries: [`record_batch`] of one. A
/// repeated `(citizen_id, idempotency_key)` is not an error but
/// [`Recorded::Duplicate`]; `ON CONFLICT DO NOTHING` keeps a surrounding
/// PostgreSQL transaction usable (a failed insert would abort it).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    event: NewInvocation,
) -> Result<Recorded, StoreError> {
    let event = UsageEvent {
        invocation: event,
        queries: Vec::new(),
        replay: None,
    };
    record_batch(conn, std::slice::from_ref(&event))
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// One `gov.query` an app made while serving the citizen: the data access
/// log kept with the invocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataQuery {
    pub dataset: String,
    pub key: String,
    /// The record's length as the app saw it, or the negative ABI code.
    pub code: i32,
    /// The dataset's access rule refused it.
    pub refused: bool,
}

/// One invocation with the queries it made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    pub invocation: NewInvocation,
    pub queries: Vec<DataQuery>,
    /// What a replay of it needs, sealed by the service layer (see
    /// [`crate::replays`]); `None` keeps no replay record.
    pub replay: Option<Vec<u8>>,
}

/// Most events per statement: 11 parameters a row keeps a full batch far
/// under SQLite's bound-parameter limit.
const BATCH_CHUNK: usize = 1000;

/// Records many usage events, each with its data access log, in as few
/// statements as the backend allows: a multi-row `INSERT … ON CONFLICT DO
/// NOTHING RETURNING` for the invocations and one multi-row `INSERT` for
/// their queries. Answers one [`Recorded`] per event, in order, exactly as
/// [`record`] would have one by one (a repeated citizen and key, also within
/// the batch, is a [`Recorded::Duplicate`] of the first). Call it inside a
/// transaction: on an error part of the batch may have been written.
pub async fn record_batch<C: ConnectionTrait>(
    conn: &C,
    events: &[UsageEvent],
) -> Result<Vec<Recorded>, StoreError> {
    let mut answers = Vec::with_capacity(events.len());
    for chunk in events.chunks(BATCH_CHUNK) {
        answers.extend(record_chunk(conn, chunk).await?);
    }
    Ok(answers)
}

/// What identifies an inserted row among its batch: the key when there is
/// one; otherwise every value that differs between invocations (rows equal
/// in all of them are interchangeable).
#[derive(PartialEq, Eq, Hash)]
enum RowKey {
    Keyed(i64, String),
    Unkeyed {
        citizen_id: i64,
        app_id: i64,
        version_id: i64,
        verdict: String,
        instructions: i64,
        latency_us: i64,
    },
}

impl RowKey {
    fn of(e: &NewInvocation) -> RowKey {
        match &e.idempotency_key {
            Some(k) => RowKey::Keyed(e.citizen_id, k.clone()),
            None => RowKey::Unkeyed {
                citizen_id: e.citizen_id,
                app_id: e.app_id,
                version_id: e.version_id,
                verdict: e.verdict.clone(),
                instructions: e.instructions,
                latency_us: e.latency_us,
            },
        }
    }
}

async fn record_chunk<C: ConnectionTrait>(
    conn: &C,
    events: &[UsageEvent],
) -> Result<Vec<Recorded>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let rows = conn
        .query_all_raw(insert_invocations(events, conn.get_database_backend()))
        .await?;
    let mut answers = assign_ids(events, rows)?;
    for (event, answer) in events.iter().zip(answers.iter_mut()) {
        if let Assigned::Earlier(key) = answer {
            let earlier = invocations::Entity::find()
                .select_only()
                .column(invocations::Column::Id)
                .filter(invocations::Column::CitizenId.eq(event.invocation.citizen_id))
                .filter(invocations::Column::IdempotencyKey.eq(key.as_str()))
                .into_tuple::<i64>()
                .one(conn)
                .await?;
            *answer = Assigned::Done(Recorded::Duplicate(earlier.ok_or(StoreError::NotFound)?));
        }
    }
    let answers = settled(answers)?;
    for chunk in query_rows(events, &answers).chunks(QUERY_CHUNK) {
        invocation_queries::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    for insert in crate::replays::inserts_for(events, &answers, conn.get_database_backend()) {
        conn.execute_raw(insert).await?;
    }
    Ok(answers)
}

/// 7 parameters a row; a run's queries are capped by its quota, so a chunk
/// of events can still exceed one statement's parameter budget.
const QUERY_CHUNK: usize = 4000;

/// The multi-row `INSERT … ON CONFLICT DO NOTHING RETURNING` of a chunk's
/// invocations.
fn insert_invocations(events: &[UsageEvent], backend: DbBackend) -> Statement {
    use sea_orm::sea_query::{OnConflict, Query};

    let mut insert =
        invocations::Entity::insert_many(events.iter().map(|e| e.invocation.clone().into_active()))
            .on_conflict(
                OnConflict::columns([
                    invocations::Column::CitizenId,
                    invocations::Column::IdempotencyKey,
                ])
                .do_nothing()
                .to_owned(),
            );
    QueryTrait::query(&mut insert).returning(Query::returning().columns([
        invocations::Column::Id,
        invocations::Column::CitizenId,
        invocations::Column::IdempotencyKey,
        invocations::Column::AppId,
        invocations::Column::VersionId,
        invocations::Column::Verdict,
        invocations::Column::Instructions,
        invocations::Column::LatencyUs,
    ]));
    insert.build(backend)
}

/// What an event of a chunk turned out to be once its `INSERT` ran.
enum Assigned {
    Done(Recorded),
    /// Not inserted: an earlier event (maybe earlier in this batch) has the
    /// citizen's key, whose id is still to be looked up. Rare, so one
    /// lookup each.
    Earlier(String),
}

/// Matches the `RETURNING` rows to the events: their order is not
/// guaranteed, so by content.
fn assign_ids(events: &[UsageEvent], rows: Vec<QueryResult>) -> Result<Vec<Assigned>, StoreError> {
    use std::collections::HashMap;

    let mut inserted: HashMap<RowKey, Vec<i64>> = HashMap::with_capacity(rows.len());
    for row in rows {
        let key: Option<String> = row.try_get("", "idempotency_key")?;
        let citizen_id: i64 = row.try_get("", "citizen_id")?;
        let id: i64 = row.try_get("", "id")?;
        let k = match key {
            Some(k) => RowKey::Keyed(citizen_id, k),
            None => RowKey::Unkeyed {
                citizen_id,
                app_id: row.try_get("", "app_id")?,
                version_id: row.try_get("", "version_id")?,
                verdict: row.try_get("", "verdict")?,
                instructions: row.try_get("", "instructions")?,
                latency_us: row.try_get("", "latency_us")?,
            },
        };
        inserted.entry(k).or_default().push(id);
    }
    events
        .iter()
        .map(|event| {
            let e = &event.invocation;
            // Keyed rows are unique, so there is one; unkeyed ones are
            // handed out in turn.
            let new_id = inserted
                .get_mut(&RowKey::of(e))
                .and_then(|ids| (!ids.is_empty()).then(|| ids.remove(0)));
            match (new_id, &e.idempotency_key) {
                (Some(id), _) => Ok(Assigned::Done(Recorded::New(id))),
                (None, Some(key)) => Ok(Assigned::Earlier(key.clone())),
                (None, None) => Err(StoreError::Db(sea_orm::DbErr::Custom(
                    "an invocation without a key was not inserted".into(),
                ))),
            }
        })
        .collect()
}

fn settled(answers: Vec<Assigned>) -> Result<Vec<Recorded>, StoreError> {
    answers
        .into_iter()
        .map(|a| match a {
            Assigned::Done(r) => Ok(r),
            Assigned::Earlier(_) => Err(StoreError::Db(sea_orm::DbErr::Custom(
                "a duplicate invocation was not looked up".into(),
            ))),
        })
        .collect()
}

/// The data access log rows of the newly inserted events (a duplicate's
/// log is the first event's, already written).
fn query_rows(events: &[UsageEvent], answers: &[Recorded]) -> Vec<invocation_queries::ActiveModel> {
    let mut rows = Vec::new();
    for (event, answer) in events.iter().zip(answers) {
        if let Recorded::New(id) = *answer {
            for (seq, q) in event.queries.iter().enumerate() {
                rows.push(invocation_queries::ActiveModel {
                    invocation_id: Set(id),
                    seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
                    dataset: Set(q.dataset.clone()),
                    record_key: Set(q.key.clone()),
                    code: Set(q.code),
                    refused: Set(q.refused),
                    ..Default::default()
                });
            }
        }
    }
    rows
}

/// Writes a batch of events in a transaction of its own: what
/// [`record_batch`] inside `begin_write` … `commit` does, with the same
/// answers, in fewer round trips on SQLite.
///
/// Every statement on SQLite is a round trip to the connection's worker
/// thread, and on a busy machine each waits to be scheduled: `BEGIN`, the
/// two inserts and `COMMIT` cost four such waits. Here `BEGIN IMMEDIATE`
/// travels with the invocations' insert and `COMMIT` with the queries'
/// insert, on one connection taken from the pool for the batch: two.
pub async fn write_batch(
    db: &crate::Db,
    events: &[UsageEvent],
) -> Result<Vec<Recorded>, StoreError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    if db.backend() != DbBackend::Sqlite {
        let txn = db.begin_write().await?;
        let answers = record_batch(&txn, events).await?;
        txn.commit().await?;
        return Ok(answers);
    }
    let conn = db.conn().get_sqlite_connection_pool().acquire().await?;
    let mut pinned = Pinned { conn, open: true };
    let (answers, clean) = write_or_roll_back(&mut pinned.conn, events).await;
    pinned.open = !clean;
    answers
}

/// Writes a batch on `conn` in a transaction of its own, rolling it back if
/// a statement fails. The flag says whether `conn` is outside any
/// transaction afterwards, fit to use again: if the rollback fails too
/// (or the failure came before `BEGIN`, a rare path that then retires a
/// healthy connection), it is not.
async fn write_or_roll_back(
    conn: &mut sqlx::SqliteConnection,
    events: &[UsageEvent],
) -> (Result<Vec<Recorded>, StoreError>, bool) {
    match write_pinned(conn, events).await {
        Ok(answers) => (Ok(answers), true),
        Err(e) => {
            let clean = sqlx::query("ROLLBACK").execute(&mut *conn).await.is_ok();
            (Err(e), clean)
        }
    }
}

/// A long-lived writer of usage batches (the server's usage writer) with a
/// SQLite connection of its own, taken out of the pool for good.
///
/// In WAL mode a connection's page cache is discarded whenever another
/// connection has committed since its last transaction. A batch written
/// on whichever pool connection is free therefore starts cold nearly every
/// time, and reads back the pages of the invocations table and its five
/// indexes: measured in `bench invoke`, a third of the SQLite threads' time
/// was that refill (`pread`, copying, and `malloc` for each page). A
/// connection that only this writer uses sees nobody else's commits
/// between its own batches (other writes are rare beside usage), so its
/// cache stays warm. On PostgreSQL it is [`write_batch`].
pub struct Writer {
    db: crate::Db,
    conn: Option<sqlx::SqliteConnection>,
}

impl Writer {
    pub fn new(db: crate::Db) -> Writer {
        Writer { db, conn: None }
    }

    /// Writes a batch of events in a transaction of its own, with
    /// [`write_batch`]'s answers.
    pub async fn write(&mut self, events: &[UsageEvent]) -> Result<Vec<Recorded>, StoreError> {
        if events.is_empty() || self.db.backend() != DbBackend::Sqlite {
            return write_batch(&self.db, events).await;
        }
        // Taken out while the batch runs: if this future is dropped midway,
        // the connection goes with it (closed, maybe inside the transaction)
        // instead of staying for the next batch.
        let mut conn = match self.conn.take() {
            Some(conn) => conn,
            // The pool may open another in its place.
            None => self
                .db
                .conn()
                .get_sqlite_connection_pool()
                .acquire()
                .await?
                .detach(),
        };
        let (answers, clean) = write_or_roll_back(&mut conn, events).await;
        // Otherwise it is closed here, and the next batch starts afresh.
        if clean {
            self.conn = Some(conn);
        }
        answers
    }
}

/// A pool connection that may be inside a transaction: if so when dropped
/// (an error, or the future cancelled mid-batch), it is closed rather than
/// handed back to the pool, so no later caller inherits the transaction.
struct Pinned {
    conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
    open: bool,
}

impl Drop for Pinned {
    fn drop(&mut self) {
        if self.open {
            self.conn.close_on_drop();
        }
    }
}

fn sqlx_statement(
    sql: &str,
    values: Option<sea_orm::sea_query::Values>,
) -> sqlx::query::Query<'_, sqlx::Sqlite, sea_query_sqlx::SqlxValues> {
    let values = values.unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    sqlx::query_with(sqlx::AssertSqlSafe(sql), sea_query_sqlx::SqlxValues(values))
}

async fn write_pinned(
    conn: &mut sqlx::SqliteConnection,
    events: &[UsageEvent],
) -> Result<Vec<Recorded>, StoreError> {
    use sqlx::Row;

    let mut answers = Vec::with_capacity(events.len());
    let mut begin = "BEGIN IMMEDIATE; ";
    for chunk in events.chunks(BATCH_CHUNK) {
        let insert = insert_invocations(chunk, DbBackend::Sqlite);
        let sql = format!("{begin}{}", insert.sql);
        begin = "";
        let rows = sqlx_statement(&sql, insert.values)
            .fetch_all(&mut *conn)
            .await?;
        let mut assigned = assign_ids(chunk, rows.into_iter().map(QueryResult::from).collect())?;
        for (event, answer) in chunk.iter().zip(assigned.iter_mut()) {
            if let Assigned::Earlier(key) = answer {
                let earlier = sqlx::query(
                    "SELECT id FROM invocations WHERE citizen_id = ? AND idempotency_key = ?",
                )
                .bind(event.invocation.citizen_id)
                .bind(key.as_str())
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?;
                *answer = Assigned::Done(Recorded::Duplicate(earlier.try_get::<i64, _>(0)?));
            }
        }
        answers.extend(settled(assigned)?);
    }
    // The queries' and the replay records' inserts; `COMMIT` travels with
    // the last of them.
    let mut statements: Vec<(String, Option<sea_orm::sea_query::Values>)> =
        query_rows(events, &answers)
            .chunks(QUERY_CHUNK)
            .map(|chunk| {
                let insert = invocation_queries::Entity::insert_many(chunk.to_vec())
                    .build(DbBackend::Sqlite);
                (insert.sql, insert.values)
            })
            .collect();
    statements.extend(
        crate::replays::inserts_for(events, &answers, DbBackend::Sqlite)
            .into_iter()
            .map(|insert| (insert.sql, insert.values)),
    );
    match statements.last_mut() {
        Some((sql, _)) => sql.push_str("; COMMIT"),
        None => statements.push(("COMMIT".to_owned(), None)),
    }
    for (sql, values) in statements {
        sqlx_statement(&sql, values).execute(&mut *conn).await?;
    }
    Ok(answers)
}

/// One invocation, by id.
pub async fn invocation<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<invocations::Model>, StoreError> {
    Ok(invocations::Entity::find_by_id(id).one(conn).await?)
}

/// The data access log of one invocation, in query order.
pub async fn queries_of<C: ConnectionTrait>(
    conn: &C,
    invocation_id: i64,
) -> Result<Vec<DataQuery>, StoreError> {
    use sea_orm::QueryOrder;
    Ok(invocation_queries::Entity::find()
        .filter(invocation_queries::Column::InvocationId.eq(invocation_id))
        .order_by_asc(invocation_queries::Column::Seq)
        .all(conn)
        .await?
        .into_iter()
        .map(|q| DataQuery {
            dataset: q.dataset,
            key: q.record_key,
            code: q.code,
            refused: q.refused,
        })
        .collect())
}

/// Inserts many events in one transaction (a savepoint inside the
/// caller's), as multi-row `INSERT`s. Idempotency keys must be unique: a
/// duplicate fails the whole call with `Conflict { what: "idempotency_key" }`.
/// Returns the number of rows written.
pub async fn insert_bulk<C>(conn: &C, events: Vec<NewInvocation>) -> Result<u64, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = conn.begin().await?;
    let mut written = 0;
    let mut events = events.into_iter().peekable();
    while events.peek().is_some() {
        let chunk: Vec<_> = events
            .by_ref()
            .take(BULK_CHUNK)
            .map(NewInvocation::into_active)
            .collect();
        written += invocations::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await
            .map_err(|e| StoreError::from_insert(e, &[("idempotency_key", "idempotency_key")]))?;
    }
    txn.commit().await?;
    Ok(written)
}

/// Loads many events as fast as the backend allows: one `COPY … FROM STDIN`
/// on PostgreSQL (atomic, like [`insert_bulk`]), [`insert_bulk`] on SQLite.
/// Runs on the pool, not inside a caller's transaction (a `COPY` needs a
/// connection of its own). Returns the number of rows written.
pub async fn load(db: &crate::Db, events: Vec<NewInvocation>) -> Result<u64, StoreError> {
    use sea_orm::sqlx::postgres::PgPoolCopyExt;

    if db.backend() != sea_orm::DbBackend::Postgres {
        return insert_bulk(db.conn(), events).await;
    }
    let sqlx_err = |e: sea_orm::sqlx::Error| {
        StoreError::from_insert(
            sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e))),
            &[("idempotency_key", "idempotency_key")],
        )
    };
    let pool = db.conn().get_postgres_connection_pool();
    let mut copy = pool
        .copy_in_raw(
            "COPY invocations (app_id, version_id, citizen_id, occurred_at, period, verdict, \
             success, instructions, latency_us, idempotency_key, invalid) \
             FROM STDIN (FORMAT csv)",
        )
        .await
        .map_err(sqlx_err)?;
    let mut buf = String::with_capacity(1 << 20);
    for (i, e) in events.iter().enumerate() {
        use std::fmt::Write as _;
        // Writing to a String cannot fail.
        let _ = writeln!(
            buf,
            "{},{},{},{},{},{},{},{},{},{},f",
            e.app_id,
            e.version_id,
            e.citizen_id,
            crate::truncate_to_micros(e.occurred_at)
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            csv_text(&e.period),
            csv_text(&e.verdict),
            if e.success { 't' } else { 'f' },
            e.instructions,
            e.latency_us,
            // Unquoted empty is NULL in CSV COPY; a key is always quoted.
            e.idempotency_key
                .as_deref()
                .map(csv_text)
                .unwrap_or_default(),
        );
        if buf.len() > (1 << 20) || i + 1 == events.len() {
            if let Err(err) = copy.send(buf.as_bytes()).await {
                let _ = copy.abort("send failed").await;
                return Err(sqlx_err(err));
            }
            buf.clear();
        }
    }
    copy.finish().await.map_err(sqlx_err)
}

/// A CSV field, always quoted (so an empty string is not NULL).
fn csv_text(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Whether the citizen has used the app successfully at least once: the
/// condition for rating it.
/// Whether the citizen has used the app at all, successfully or not (a
/// failed use is what many complaints are about); flagged uses do not count.
pub async fn has_used<C: ConnectionTrait>(
    conn: &C,
    citizen_id: i64,
    app_id: i64,
) -> Result<bool, StoreError> {
    any_use(conn, citizen_id, app_id, false).await
}

pub async fn has_successful_use<C: ConnectionTrait>(
    conn: &C,
    citizen_id: i64,
    app_id: i64,
) -> Result<bool, StoreError> {
    any_use(conn, citizen_id, app_id, true).await
}

/// One unflagged invocation of the app by the citizen, successful ones
/// only when `successful` is set.
async fn any_use<C: ConnectionTrait>(
    conn: &C,
    citizen_id: i64,
    app_id: i64,
    successful: bool,
) -> Result<bool, StoreError> {
    let mut query = invocations::Entity::find()
        .select_only()
        .column(invocations::Column::Id)
        .filter(invocations::Column::CitizenId.eq(citizen_id))
        .filter(invocations::Column::AppId.eq(app_id))
        .filter(invocations::Column::Invalid.eq(false));
    if successful {
        query = query.filter(invocations::Column::Success.eq(true));
    }
    Ok(query.into_tuple::<i64>().one(conn).await?.is_some())
}

/// Distinct citizens and valid invocations of an app in one period
/// (`2026Q3`): what the department's desk compares this period with last.
pub async fn users_in_period<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    period: &str,
) -> Result<(u64, u64), StoreError> {
    let base = || {
        invocations::Entity::find()
            .filter(invocations::Column::AppId.eq(app_id))
            .filter(invocations::Column::Period.eq(period))
            .filter(invocations::Column::Invalid.eq(false))
    };
    let total: Option<i64> = base()
        .select_only()
        .column_as(invocations::Column::Id.count(), "n")
        .into_tuple()
        .one(conn)
        .await?;
    let users: Vec<i64> = base()
        .select_only()
        .column(invocations::Column::CitizenId)
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    Ok((users.len() as u64, total.unwrap_or(0).max(0) as u64))
}
