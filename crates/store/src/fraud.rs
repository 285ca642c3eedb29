//! Fraud signals: the facts the detector reads (usage, ratings, account
//! ages and client-address hashes over a window), the signals it writes,
//! the supervisor's decisions, and flagging a confirmed signal's usage
//! invalid. Every statement runs on SQLite and PostgreSQL alike (`$n`
//! placeholders, which sqlx also accepts for SQLite).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{SignalKind, SignalStatus};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, SqlErr, Statement, Value,
};

use crate::StoreError;
use crate::entity::{client_addresses, fraud_signal_subjects, fraud_signals};

fn stmt<C: ConnectionTrait>(conn: &C, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(conn.get_database_backend(), sql, values)
}

/// A citizen's successful, valid uses of an app in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CitizenUses {
    pub app_id: i64,
    pub citizen_id: i64,
    pub uses: i64,
    /// The citizen's first use of the app in the window.
    pub first_use: DateTime<Utc>,
    /// When the citizen's account was created.
    pub account_created: DateTime<Utc>,
}

/// Per app and citizen: successful, valid uses in `[start, end)`, with the
/// first use and the account's creation (for the new-accounts check).
pub async fn uses_in<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<CitizenUses>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            conn,
            "SELECT i.app_id, i.citizen_id, CAST(COUNT(*) AS BIGINT) AS uses, \
                    MIN(i.occurred_at) AS first_use, u.created_at AS account_created \
             FROM invocations i JOIN users u ON u.id = i.citizen_id \
             WHERE i.occurred_at >= $1 AND i.occurred_at < $2 AND i.success AND NOT i.invalid \
             GROUP BY i.app_id, i.citizen_id, u.created_at \
             ORDER BY i.app_id, i.citizen_id",
            vec![start.into(), end.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CitizenUses {
                app_id: r.try_get("", "app_id")?,
                citizen_id: r.try_get("", "citizen_id")?,
                uses: r.try_get("", "uses")?,
                first_use: r.try_get("", "first_use")?,
                account_created: r.try_get("", "account_created")?,
            })
        })
        .collect()
}

/// A rating given in the window, with its rater's successful uses of the
/// app up to the window's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatingFact {
    pub app_id: i64,
    pub citizen_id: i64,
    pub rater_uses: i64,
}

/// Ratings created in `[start, end)` (hidden or not: a burst is a burst).
pub async fn ratings_in<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<RatingFact>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            conn,
            "SELECT r.app_id, r.citizen_id, CAST(( \
                 SELECT COUNT(*) FROM invocations i WHERE i.app_id = r.app_id \
                    AND i.citizen_id = r.citizen_id AND i.success AND i.occurred_at < $2 \
             ) AS BIGINT) AS rater_uses \
             FROM ratings r WHERE r.created_at >= $1 AND r.created_at < $2 \
             ORDER BY r.app_id, r.citizen_id",
            vec![start.into(), end.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(RatingFact {
                app_id: r.try_get("", "app_id")?,
                citizen_id: r.try_get("", "citizen_id")?,
                rater_uses: r.try_get("", "rater_uses")?,
            })
        })
        .collect()
}

/// Ratings created in `[start, end)` per app: the baseline of a burst.
pub async fn rating_counts<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<BTreeMap<i64, i64>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            conn,
            "SELECT app_id, CAST(COUNT(*) AS BIGINT) AS n FROM ratings \
             WHERE created_at >= $1 AND created_at < $2 GROUP BY app_id",
            vec![start.into(), end.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "app_id")?, r.try_get("", "n")?)))
        .collect()
}

/// `(app, citizen, address hash)` for every citizen with a successful,
/// valid use of the app in `[start, end)` and a recorded client address.
pub async fn addresses_of_users<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<(i64, i64, String)>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            conn,
            "SELECT DISTINCT i.app_id, i.citizen_id, c.address_hash \
             FROM invocations i JOIN client_addresses c ON c.user_id = i.citizen_id \
             WHERE i.occurred_at >= $1 AND i.occurred_at < $2 AND i.success AND NOT i.invalid \
             ORDER BY i.app_id, c.address_hash, i.citizen_id",
            vec![start.into(), end.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "app_id")?,
                r.try_get("", "citizen_id")?,
                r.try_get("", "address_hash")?,
            ))
        })
        .collect()
}

/// Remembers that `user_id` came from the address whose keyed hash is
/// `address_hash` (once per user and address).
pub async fn record_address<C: ConnectionTrait>(
    conn: &C,
    user_id: i64,
    address_hash: &str,
) -> Result<(), StoreError> {
    if read_first(
        conn,
        "client_addresses",
        "user_id = $1 AND address_hash = $2",
        vec![user_id.into(), address_hash.into()],
    )
    .await?
    {
        return Ok(());
    }
    client_addresses::Entity::insert(client_addresses::ActiveModel {
        user_id: Set(user_id),
        address_hash: Set(address_hash.to_owned()),
        first_seen_at: Set(crate::now()),
        ..Default::default()
    })
    .exec(conn)
    .await
    .map(|_| ())
    .or_else(already_there)
}

/// A signal as the detector found it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSignal {
    pub kind: SignalKind,
    pub app_id: i64,
    pub evidence: serde_json::Value,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// `(citizen, uses in the window)`.
    pub subjects: Vec<(i64, i64)>,
}

/// Stores a new open signal with its subjects; `None` (and nothing
/// written) when a signal of this kind, app and window exists already.
pub async fn insert_signal<C: ConnectionTrait>(
    conn: &C,
    s: NewSignal,
) -> Result<Option<i64>, StoreError> {
    if read_first(
        conn,
        "fraud_signals",
        "kind = $1 AND app_id = $2 AND window_start = $3 AND window_end = $4",
        vec![
            s.kind.as_str().into(),
            s.app_id.into(),
            crate::truncate_to_micros(s.window_start).into(),
            crate::truncate_to_micros(s.window_end).into(),
        ],
    )
    .await?
    {
        return Ok(None);
    }
    let inserted = fraud_signals::Entity::insert(fraud_signals::ActiveModel {
        kind: Set(s.kind.as_str().to_owned()),
        app_id: Set(s.app_id),
        evidence: Set(s.evidence),
        window_start: Set(crate::truncate_to_micros(s.window_start)),
        window_end: Set(crate::truncate_to_micros(s.window_end)),
        status: Set(SignalStatus::Open.as_str().to_owned()),
        created_at: Set(crate::now()),
        decided_by: Set(None),
        decided_at: Set(None),
        reason: Set(None),
        flagged_uses: Set(None),
        ..Default::default()
    })
    .exec(conn)
    .await
    .map(|r| Some(r.last_insert_id))
    .or_else(|e| already_there(e).map(|()| None))?;
    let Some(id) = inserted else {
        return Ok(None);
    };
    if !s.subjects.is_empty() {
        fraud_signal_subjects::Entity::insert_many(s.subjects.into_iter().map(
            |(citizen_id, uses)| fraud_signal_subjects::ActiveModel {
                signal_id: Set(id),
                citizen_id: Set(citizen_id),
                uses: Set(uses),
                ..Default::default()
            },
        ))
        .exec(conn)
        .await?;
    }
    Ok(Some(id))
}

/// Signals, newest first, with the given status (any when `None`).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    status: Option<SignalStatus>,
) -> Result<Vec<fraud_signals::Model>, StoreError> {
    let mut q = fraud_signals::Entity::find();
    if let Some(s) = status {
        q = q.filter(fraud_signals::Column::Status.eq(s.as_str()));
    }
    Ok(q.order_by_desc(fraud_signals::Column::CreatedAt)
        .order_by_desc(fraud_signals::Column::Id)
        .all(conn)
        .await?)
}

pub async fn get<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<fraud_signals::Model>, StoreError> {
    Ok(fraud_signals::Entity::find_by_id(id).one(conn).await?)
}

/// The citizens a signal covers, heaviest first.
pub async fn subjects<C: ConnectionTrait>(
    conn: &C,
    signal_id: i64,
) -> Result<Vec<fraud_signal_subjects::Model>, StoreError> {
    Ok(fraud_signal_subjects::Entity::find()
        .filter(fraud_signal_subjects::Column::SignalId.eq(signal_id))
        .order_by_desc(fraud_signal_subjects::Column::Uses)
        .order_by_asc(fraud_signal_subjects::Column::CitizenId)
        .all(conn)
        .await?)
}

/// How many signals wait for a decision.
pub async fn count_open<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    Ok(fraud_signals::Entity::find()
        .filter(fraud_signals::Column::Status.eq(SignalStatus::Open.as_str()))
        .count(conn)
        .await?)
}

/// The filter of the invocations a signal covers: its subjects' uses of
/// its app inside its window, not yet invalid.
const COVERED: &str = "i.app_id = $1 AND i.occurred_at >= $2 AND i.occurred_at < $3 \
     AND NOT i.invalid AND i.citizen_id IN \
         (SELECT s.citizen_id FROM fraud_signal_subjects s WHERE s.signal_id = $4)";

fn covered_values(signal: &fraud_signals::Model) -> Vec<Value> {
    vec![
        signal.app_id.into(),
        signal.window_start.into(),
        signal.window_end.into(),
        signal.id.into(),
    ]
}

/// Settlement periods of the signal's covered invocations that already
/// have a run past its draft (approved, paying or paid).
pub async fn settled_periods<C: ConnectionTrait>(
    conn: &C,
    signal: &fraud_signals::Model,
) -> Result<Vec<String>, StoreError> {
    let sql = format!(
        "SELECT DISTINCT i.period FROM invocations i WHERE {COVERED} \
           AND EXISTS (SELECT 1 FROM settlement_runs r WHERE r.period = i.period \
                         AND r.status <> 'draft') \
         ORDER BY i.period"
    );
    let rows = conn
        .query_all_raw(stmt(conn, &sql, covered_values(signal)))
        .await?;
    rows.iter().map(|r| Ok(r.try_get("", "period")?)).collect()
}

/// Flags the signal's covered invocations invalid, naming the signal.
/// Returns how many were flagged.
pub async fn flag_invocations<C: ConnectionTrait>(
    conn: &C,
    signal: &fraud_signals::Model,
) -> Result<u64, StoreError> {
    // The filter of [`COVERED`] without the alias (UPDATE takes none on
    // SQLite).
    let sql = "UPDATE invocations SET invalid = TRUE, invalid_signal_id = $4 \
               WHERE app_id = $1 AND occurred_at >= $2 AND occurred_at < $3 AND NOT invalid \
                 AND citizen_id IN \
                     (SELECT citizen_id FROM fraud_signal_subjects WHERE signal_id = $4)";
    let values = covered_values(signal);
    let result = conn.execute_raw(stmt(conn, sql, values)).await?;
    Ok(result.rows_affected())
}

/// Decides an open signal: `to` (confirmed or dismissed), by whom, why,
/// and how many uses were flagged. `Conflict` if it is no longer open (a
/// compare-and-set: of two racing decisions one wins).
pub async fn decide<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    to: SignalStatus,
    by: Option<i64>,
    reason: &str,
    flagged_uses: Option<i64>,
) -> Result<fraud_signals::Model, StoreError> {
    let result = fraud_signals::Entity::update_many()
        .filter(fraud_signals::Column::Id.eq(id))
        .filter(fraud_signals::Column::Status.eq(SignalStatus::Open.as_str()))
        .col_expr(fraud_signals::Column::Status, Expr::value(to.as_str()))
        .col_expr(fraud_signals::Column::DecidedBy, Expr::value(by))
        .col_expr(fraud_signals::Column::DecidedAt, Expr::value(crate::now()))
        .col_expr(
            fraud_signals::Column::Reason,
            Expr::value(reason.to_owned()),
        )
        .col_expr(
            fraud_signals::Column::FlaggedUses,
            Expr::value(flagged_uses),
        )
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict {
            what: "fraud signal status",
        });
    }
    get(conn, id).await?.ok_or(StoreError::NotFound)
}

/// Successful uses per app in period P that are invalid (and so left out
/// of U), with the signals that made them so: `(app, signal, uses)`; uses
/// flagged otherwise (before signals existed) have signal `None`.
pub async fn invalid_uses<C: ConnectionTrait>(
    conn: &C,
    period: &str,
) -> Result<Vec<(i64, Option<i64>, i64)>, StoreError> {
    let rows = conn
        .query_all_raw(stmt(
            conn,
            "SELECT app_id, invalid_signal_id, CAST(COUNT(*) AS BIGINT) AS uses \
             FROM invocations WHERE period = $1 AND success AND invalid \
             GROUP BY app_id, invalid_signal_id ORDER BY app_id, invalid_signal_id",
            vec![period.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("", "app_id")?,
                r.try_get("", "invalid_signal_id")?,
                r.try_get("", "uses")?,
            ))
        })
        .collect()
}

/// Whether `table` has a row matching `filter`: the common "already
/// there" answered without a write (on PostgreSQL a unique violation would
/// abort the caller's transaction).
///
/// The inserts here are plain `INSERT`s whose unique violation means
/// "already there" ([`already_there`]), not `INSERT … ON CONFLICT`: SQLite
/// resolves an upsert's conflict target when it prepares the statement,
/// against the connection's cached schema, and a pooled connection opened
/// while the migrations ran may not have seen the unique index yet ("ON
/// CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint").
async fn read_first<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    filter: &str,
    values: Vec<Value>,
) -> Result<bool, StoreError> {
    let sql = format!("SELECT 1 AS found FROM {table} WHERE {filter}");
    Ok(conn
        .query_one_raw(stmt(conn, &sql, values))
        .await?
        .is_some())
}

/// The unique key of a detector window: `<start>/<end>` in RFC 3339.
fn window_key(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    format!(
        "{}/{}",
        crate::truncate_to_micros(start).to_rfc3339(),
        crate::truncate_to_micros(end).to_rfc3339()
    )
}

/// Whether some node has claimed the detector window `[start, end)`.
pub async fn window_claimed<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<bool, StoreError> {
    read_first(
        conn,
        "fraud_detector_windows",
        "window_key = $1",
        vec![window_key(start, end).into()],
    )
    .await
}

/// A unique violation of an insert: the row is there already.
fn already_there(e: sea_orm::DbErr) -> Result<(), StoreError> {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => Ok(()),
        _ => Err(e.into()),
    }
}

/// Claims the detector window `[start, end)` for this node: `true` for
/// the one caller that recorded it first, so its run is queued once
/// however many nodes ask.
pub async fn claim_window<C: ConnectionTrait>(
    conn: &C,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<bool, StoreError> {
    use sea_orm::sea_query::{Alias, Query};
    let (start, end) = (
        crate::truncate_to_micros(start),
        crate::truncate_to_micros(end),
    );
    let key = format!("{}/{}", start.to_rfc3339(), end.to_rfc3339());
    if read_first(
        conn,
        "fraud_detector_windows",
        "window_key = $1",
        vec![key.clone().into()],
    )
    .await?
    {
        return Ok(false);
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("fraud_detector_windows"))
        .columns([
            Alias::new("window_key"),
            Alias::new("window_start"),
            Alias::new("window_end"),
            Alias::new("created_at"),
        ])
        .values([key.into(), start.into(), end.into(), crate::now().into()])
        .map_err(|e| StoreError::InvalidInput(e.to_string()))?;
    match conn.execute(&insert).await {
        Ok(result) => Ok(result.rows_affected() == 1),
        Err(e) => already_there(e).map(|()| false),
    }
}
