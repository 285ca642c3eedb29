//! The audit log: append-only and hash-chained.
//!
//! # Chain
//!
//! Entries are numbered by `seq` = 1, 2, 3 … without gaps. Each entry stores
//! `prev_hash`, the `hash` of the entry before it ([`GENESIS_HASH`] for
//! seq 1), and its own `hash`:
//!
//! ```text
//! hash = lower-case hex( SHA-256( UTF-8( canonical ) ) )
//! canonical = JSON array, serialised compactly (serde_json, no spaces):
//!   ["govmarket-audit-v1", seq, prev_hash, occurred_at, actor_id,
//!    actor_role, action, object_type, object_id, summary, request_id]
//! ```
//!
//! `seq`, `actor_id` and `object_id` are JSON integers (or `null`),
//! `occurred_at` is RFC 3339 in UTC with exactly six fractional digits and a
//! `Z` (`2026-11-23T03:50:00.123456Z`), the rest are JSON strings (or
//! `null`) escaped as serde_json escapes them. A JSON array leaves no
//! ambiguity about where one field ends, and includes `prev_hash`, so
//! editing, deleting or reordering any entry breaks the chain at that point
//! (see [`verify`]). The one change the chain alone cannot reveal is the
//! removal of the newest entries; publish [`head`] somewhere else (a signed
//! report, another system) to anchor it.
//!
//! # Serialised appends
//!
//! [`append`] reads the head and inserts the next entry in one transaction,
//! holding a lock in between: on PostgreSQL a transaction-level advisory lock
//! ([`ADVISORY_LOCK_KEY`]); on SQLite a `BEGIN IMMEDIATE` transaction, which
//! takes the database's single write lock up front. The unique index on
//! `prev_hash` is the last line of defence: a fork cannot be stored.

use chrono::{DateTime, Utc};
use domain::Role;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::StoreError;
use crate::entity::audit_events;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Key of the PostgreSQL advisory lock that serialises appends
/// (ASCII "govaudit" as a big-endian i64, unlikely to collide).
pub const ADVISORY_LOCK_KEY: i64 = 0x676f_7661_7564_6974;

/// Version tag inside the canonical form, so the format can evolve.
const CANONICAL_TAG: &str = "govmarket-audit-v1";

/// Most entries [`list`] returns at once.
pub const MAX_PAGE: u64 = 500;

/// Rows [`verify`] reads per query: bounded memory on long logs.
const VERIFY_BATCH: u64 = 1000;

/// What happened, as the caller describes it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    /// The acting user; `None` for the platform itself (workers, schedules).
    pub actor_id: Option<i64>,
    pub actor_role: Option<Role>,
    /// A dotted verb, e.g. `order.publish`, `settlement.approve`.
    pub action: String,
    /// e.g. `order`, `version`, `settlement_run`.
    pub object_type: String,
    pub object_id: Option<i64>,
    /// One human-readable sentence.
    pub summary: String,
    /// The HTTP request id, to join with the access log.
    pub request_id: Option<String>,
}

/// A stored entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    /// Kept as stored text: a log must be readable even if a role is renamed.
    pub actor_role: Option<String>,
    pub action: String,
    pub object_type: String,
    pub object_id: Option<i64>,
    pub summary: String,
    pub request_id: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

impl From<audit_events::Model> for AuditEvent {
    fn from(m: audit_events::Model) -> Self {
        AuditEvent {
            id: m.id,
            seq: m.seq,
            occurred_at: m.occurred_at,
            actor_id: m.actor_id,
            actor_role: m.actor_role,
            action: m.action,
            object_type: m.object_type,
            object_id: m.object_id,
            summary: m.summary,
            request_id: m.request_id,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

/// The fields the hash covers, borrowed from wherever they live.
struct Hashed<'a> {
    seq: i64,
    prev_hash: &'a str,
    occurred_at: DateTime<Utc>,
    actor_id: Option<i64>,
    actor_role: Option<&'a str>,
    action: &'a str,
    object_type: &'a str,
    object_id: Option<i64>,
    summary: &'a str,
    request_id: Option<&'a str>,
}

impl Hashed<'_> {
    fn canonical(&self) -> String {
        let occurred_at = self
            .occurred_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        serde_json::json!([
            CANONICAL_TAG,
            self.seq,
            self.prev_hash,
            occurred_at,
            self.actor_id,
            self.actor_role,
            self.action,
            self.object_type,
            self.object_id,
            self.summary,
            self.request_id,
        ])
        .to_string()
    }

    fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical().as_bytes()))
    }
}

impl<'a> From<&'a audit_events::Model> for Hashed<'a> {
    fn from(m: &'a audit_events::Model) -> Self {
        Hashed {
            seq: m.seq,
            prev_hash: &m.prev_hash,
            occurred_at: m.occurred_at,
            actor_id: m.actor_id,
            actor_role: m.actor_role.as_deref(),
            action: &m.action,
            object_type: &m.object_type,
            object_id: m.object_id,
            summary: &m.summary,
            request_id: m.request_id.as_deref(),
        }
    }
}

/// The canonical serialisation of a stored entry (see the module docs), for
/// anyone re-deriving hashes outside the application.
pub fn canonical_form(event: &AuditEvent) -> String {
    Hashed {
        seq: event.seq,
        prev_hash: &event.prev_hash,
        occurred_at: event.occurred_at,
        actor_id: event.actor_id,
        actor_role: event.actor_role.as_deref(),
        action: &event.action,
        object_type: &event.object_type,
        object_id: event.object_id,
        summary: &event.summary,
        request_id: event.request_id.as_deref(),
    }
    .canonical()
}

/// Appends an entry and returns its id. Runs in its own transaction (a
/// savepoint inside the caller's), so the entry commits with the change it
/// records when the caller passes its transaction.
pub async fn append<C>(conn: &C, entry: AuditEntry) -> Result<i64, StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = conn
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        // Released at the end of the (outermost) transaction.
        txn.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [ADVISORY_LOCK_KEY.into()],
        ))
        .await?;
    }
    let head = audit_events::Entity::find()
        .order_by_desc(audit_events::Column::Seq)
        .one(&txn)
        .await?;
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS_HASH.to_owned()),
    };
    let occurred_at = crate::now();
    let actor_role = entry.actor_role.map(|r| r.as_str().to_owned());
    let hash = Hashed {
        seq,
        prev_hash: &prev_hash,
        occurred_at,
        actor_id: entry.actor_id,
        actor_role: actor_role.as_deref(),
        action: &entry.action,
        object_type: &entry.object_type,
        object_id: entry.object_id,
        summary: &entry.summary,
        request_id: entry.request_id.as_deref(),
    }
    .hash();
    let inserted = audit_events::ActiveModel {
        seq: Set(seq),
        occurred_at: Set(occurred_at),
        actor_id: Set(entry.actor_id),
        actor_role: Set(actor_role),
        action: Set(entry.action),
        object_type: Set(entry.object_type),
        object_id: Set(entry.object_id),
        summary: Set(entry.summary),
        request_id: Set(entry.request_id),
        prev_hash: Set(prev_hash),
        hash: Set(hash),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| {
        StoreError::from_insert(
            e,
            &[
                ("prev_hash", "audit chain head"),
                ("seq", "audit chain head"),
            ],
        )
    })?;
    txn.commit().await?;
    Ok(inserted.id)
}

/// Outcome of [`verify`]; serialises as the API's
/// `{"ok": true, "entries": N}` or `{"ok": false, "first_bad": id, "reason": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyResult {
    pub ok: bool,
    /// Entries checked (all of them when `ok`).
    pub entries: u64,
    /// Id of the first entry that breaks the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Walks the chain in `seq` order and reports the first entry that does not
/// follow from its predecessor: a gap in `seq` (deleted entry), a
/// `prev_hash` that is not the previous `hash` (deleted or reordered
/// entries), or a `hash` that does not match the content (edited entry).
pub async fn verify<C: ConnectionTrait>(conn: &C) -> Result<VerifyResult, StoreError> {
    let mut checked: u64 = 0;
    let mut expected_seq: i64 = 1;
    let mut prev_hash = GENESIS_HASH.to_owned();
    // No lower bound on the first batch: an entry smuggled in below seq 1
    // must be seen (and rejected), not skipped.
    let mut last_seq: Option<i64> = None;
    loop {
        let mut query = audit_events::Entity::find()
            .order_by_asc(audit_events::Column::Seq)
            .limit(VERIFY_BATCH);
        if let Some(last) = last_seq {
            query = query.filter(audit_events::Column::Seq.gt(last));
        }
        let batch = query.all(conn).await?;
        let done = (batch.len() as u64) < VERIFY_BATCH;
        for event in &batch {
            let bad = |reason: String| VerifyResult {
                ok: false,
                entries: checked,
                first_bad: Some(event.id),
                reason: Some(reason),
            };
            if event.seq != expected_seq {
                return Ok(bad(format!(
                    "entry {} has seq {}, expected {}: an entry is missing",
                    event.id, event.seq, expected_seq
                )));
            }
            if event.prev_hash != prev_hash {
                return Ok(bad(format!(
                    "entry {} (seq {}) does not follow the previous entry's hash: entries were deleted or reordered",
                    event.id, event.seq
                )));
            }
            if Hashed::from(event).hash() != event.hash {
                return Ok(bad(format!(
                    "entry {} (seq {}) does not match its hash: it was edited",
                    event.id, event.seq
                )));
            }
            checked += 1;
            expected_seq += 1;
            last_seq = Some(event.seq);
            prev_hash.clone_from(&event.hash);
        }
        if done {
            return Ok(VerifyResult {
                ok: true,
                entries: checked,
                first_bad: None,
                reason: None,
            });
        }
    }
}

/// The newest entry's `(seq, hash)`, to anchor the chain elsewhere.
pub async fn head<C: ConnectionTrait>(conn: &C) -> Result<Option<(i64, String)>, StoreError> {
    Ok(audit_events::Entity::find()
        .order_by_desc(audit_events::Column::Seq)
        .one(conn)
        .await?
        .map(|m| (m.seq, m.hash)))
}

/// Checks that the log still extends a head published earlier
/// (`seq`, `hash`): the chain verifies, and its entry `seq` still carries
/// `hash`. Removing the newest entries (a truncation the chain alone cannot
/// show) fails here: `first_bad` is then the seq of the first removed entry
/// (its row, and so its id, is gone; ids and seqs are both 1, 2, 3 … as
/// appended); a rewritten head names the id of the entry now at its seq.
pub async fn verify_extends<C: ConnectionTrait>(
    conn: &C,
    seq: i64,
    hash: &str,
) -> Result<VerifyResult, StoreError> {
    let chain = verify(conn).await?;
    if !chain.ok {
        return Ok(chain);
    }
    let entry = audit_events::Entity::find()
        .filter(audit_events::Column::Seq.eq(seq))
        .one(conn)
        .await?;
    let bad = |first_bad: Option<i64>, reason: String| VerifyResult {
        ok: false,
        entries: chain.entries,
        first_bad,
        reason: Some(reason),
    };
    Ok(match entry {
        // The chain verified from seq 1, so it ends at seq `entries`; the
        // rows from the next seq on are gone, and that seq is named.
        None => {
            let first_gone = i64::try_from(chain.entries).unwrap_or(i64::MAX) + 1;
            bad(
                Some(first_gone),
                format!(
                    "the published head (seq {seq}) is missing: the log ends at seq {}, entries from seq {first_gone} on were removed",
                    chain.entries
                ),
            )
        }
        Some(e) if e.hash != hash => bad(
            Some(e.id),
            format!(
                "entry {} (seq {seq}) does not carry the published head's hash: the log was rewritten",
                e.id
            ),
        ),
        Some(_) => chain,
    })
}

/// One page of the log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// Pass as `cursor` for the next (older) page; `None` at the end.
    pub next: Option<i64>,
}

/// Entries with `seq < cursor` (all when `None`), newest first, at most
/// `limit` (capped at [`MAX_PAGE`], at least 1).
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    cursor: Option<i64>,
    limit: u64,
) -> Result<AuditPage, StoreError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut query = audit_events::Entity::find().order_by_desc(audit_events::Column::Seq);
    if let Some(cursor) = cursor {
        query = query.filter(audit_events::Column::Seq.lt(cursor));
    }
    // One extra row tells whether another page exists.
    let mut rows = query.limit(limit + 1).all(conn).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(AuditPage {
        items: rows.into_iter().map(AuditEvent::from).collect(),
        next,
    })
}
