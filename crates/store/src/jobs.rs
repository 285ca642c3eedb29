//! The work queue: test runs, regression runs, reindexing, payouts.
//!
//! A job is `queued` until a worker [`claim`]s it, which makes it `running`
//! under a lease (owner and expiry). The worker extends the lease with
//! [`heartbeat`] and ends with [`complete`] or [`fail`]. A worker that dies
//! stops heart-beating; once its lease expires any worker may claim the job
//! again. Every job runs at most `max_attempts` times.
//!
//! Claiming is one statement on both backends, so two workers never get the
//! same job: on PostgreSQL `UPDATE … WHERE id = (SELECT … FOR UPDATE SKIP
//! LOCKED) RETURNING *` (concurrent claimers skip each other's rows instead
//! of waiting); on SQLite the same `UPDATE … RETURNING` without the lock
//! clause, which SQLite's single writer makes atomic.
//!
//! Worker ids must be unique per process (e.g. `host:pid:uuid`): the lease
//! owner is how a worker proves the job is still its own.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, Statement, Value,
};
use serde::Serialize;

use crate::StoreError;
use crate::entity::jobs;

/// Attempts a job gets unless enqueued with another limit.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;

/// Longest `last_error` kept; errors can embed whole outputs.
const MAX_ERROR_LEN: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        match s {
            "queued" => Ok(JobStatus::Queued),
            "running" => Ok(JobStatus::Running),
            "done" => Ok(JobStatus::Done),
            "failed" => Ok(JobStatus::Failed),
            other => Err(StoreError::Corrupt(format!("unknown job status `{other}`"))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub id: i64,
    /// What to do, e.g. `test_run`; workers claim the kinds they handle.
    pub kind: String,
    pub payload: serde_json::Value,
    pub status: JobStatus,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    /// Not claimable before this instant (delayed jobs, retry backoff).
    pub run_after: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<jobs::Model> for Job {
    type Error = StoreError;
    fn try_from(m: jobs::Model) -> Result<Self, StoreError> {
        Ok(Job {
            id: m.id,
            kind: m.kind,
            payload: m.payload,
            status: m.status.parse()?,
            attempts: m.attempts,
            max_attempts: m.max_attempts,
            lease_owner: m.lease_owner,
            lease_until: m.lease_until,
            run_after: m.run_after,
            last_error: m.last_error,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

fn after(now: DateTime<Utc>, delay: Duration) -> Result<DateTime<Utc>, StoreError> {
    chrono::TimeDelta::from_std(delay)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .ok_or_else(|| StoreError::InvalidInput(format!("duration {delay:?} is too long")))
}

/// How the queue stands: jobs waiting (queued and due) and running, and
/// when the oldest waiting one was created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    pub waiting: u64,
    pub running: u64,
    pub oldest_waiting_since: Option<DateTime<Utc>>,
}

/// The queue's state now, for the operations metrics.
pub async fn queue_stats<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<QueueStats, StoreError> {
    use sea_orm::{PaginatorTrait, QueryOrder, QuerySelect};
    let waiting_filter = || {
        jobs::Entity::find()
            .filter(jobs::Column::Status.eq(JobStatus::Queued.as_str()))
            .filter(jobs::Column::RunAfter.lte(now))
    };
    let waiting = waiting_filter().count(conn).await?;
    let running = jobs::Entity::find()
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .count(conn)
        .await?;
    let oldest: Option<DateTime<Utc>> = waiting_filter()
        .select_only()
        .column(jobs::Column::CreatedAt)
        .order_by_asc(jobs::Column::CreatedAt)
        .limit(1)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(QueueStats {
        waiting,
        running,
        oldest_waiting_since: oldest,
    })
}

/// Queues a job to run as soon as a worker is free.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    payload: serde_json::Value,
) -> Result<Job, StoreError> {
    enqueue_at(conn, kind, payload, crate::now(), DEFAULT_MAX_ATTEMPTS).await
}

/// Queues a job not to run before `run_after`, at most `max_attempts` times.
pub async fn enqueue_at<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    payload: serde_json::Value,
    run_after: DateTime<Utc>,
    max_attempts: i32,
) -> Result<Job, StoreError> {
    if max_attempts < 1 {
        return Err(StoreError::InvalidInput(format!(
            "max_attempts must be at least 1, not {max_attempts}"
        )));
    }
    let now = crate::now();
    jobs::ActiveModel {
        kind: Set(kind.to_owned()),
        payload: Set(payload),
        status: Set(JobStatus::Queued.as_str().to_owned()),
        attempts: Set(0),
        max_attempts: Set(max_attempts),
        lease_owner: Set(None),
        lease_until: Set(None),
        run_after: Set(crate::truncate_to_micros(run_after)),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .try_into()
}

pub async fn get<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Job>, StoreError> {
    jobs::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Job::try_from)
        .transpose()
}

/// Claims the oldest due job of one of `kinds` (any kind when empty) for
/// `worker_id`, leased for `lease`: a queued job whose `run_after` has come,
/// or a running one whose lease expired (its worker is presumed dead).
/// `None` when there is nothing to do.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    worker_id: &str,
    kinds: &[&str],
    lease: Duration,
) -> Result<Option<Job>, StoreError> {
    let backend = conn.get_database_backend();
    let now = crate::now();
    let lease_until = after(now, lease)?;
    let mut values: Vec<Value> = vec![worker_id.into(), lease_until.into(), now.into()];
    // `$n` placeholders: PostgreSQL's syntax, which SQLite (through sqlx)
    // also accepts, so both backends run the same text but the lock clause.
    let kind_filter = if kinds.is_empty() {
        String::new()
    } else {
        let placeholders: Vec<String> = kinds
            .iter()
            .enumerate()
            .map(|(i, _)| format!("${}", i + 4))
            .collect();
        values.extend(kinds.iter().map(|k| Value::from(*k)));
        format!("kind IN ({}) AND ", placeholders.join(", "))
    };
    let lock = match backend {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, \
                attempts = attempts + 1, updated_at = $3 \
         WHERE id = ( \
             SELECT id FROM jobs \
             WHERE {kind_filter}attempts < max_attempts AND ( \
                 (status = 'queued' AND run_after <= $3) \
                 OR (status = 'running' AND lease_until < $3)) \
             ORDER BY run_after, id \
             LIMIT 1 {lock}) \
         RETURNING *"
    );
    jobs::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
        .one(conn)
        .await?
        .map(Job::try_from)
        .transpose()
}

/// Extends the lease of a running job the worker still owns. A job that was
/// re-claimed by another worker (or finished) is `Conflict { what: "job
/// lease" }`: the caller should stop working on it.
pub async fn heartbeat<C: ConnectionTrait>(
    conn: &C,
    job_id: i64,
    worker_id: &str,
    lease: Duration,
) -> Result<(), StoreError> {
    let now = crate::now();
    let lease_until = after(now, lease)?;
    let result = owned_running(job_id, worker_id)
        .col_expr(jobs::Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    lease_outcome(conn, job_id, result.rows_affected).await
}

/// Marks a job the worker owns as done.
pub async fn complete<C: ConnectionTrait>(
    conn: &C,
    job_id: i64,
    worker_id: &str,
) -> Result<(), StoreError> {
    let result = owned_running(job_id, worker_id)
        .col_expr(jobs::Column::Status, Expr::value(JobStatus::Done.as_str()))
        .col_expr(
            jobs::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            jobs::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(crate::now()))
        .exec(conn)
        .await?;
    lease_outcome(conn, job_id, result.rows_affected).await
}

/// Records a failed attempt. With `retry_after`, the job is queued again
/// after that delay unless it has used all its attempts; without, or when
/// exhausted, it is `failed` for good. Returns the job's new status.
pub async fn fail<C: ConnectionTrait>(
    conn: &C,
    job_id: i64,
    worker_id: &str,
    error: &str,
    retry_after: Option<Duration>,
) -> Result<JobStatus, StoreError> {
    let job = get(conn, job_id).await?.ok_or(StoreError::NotFound)?;
    if job.status != JobStatus::Running || job.lease_owner.as_deref() != Some(worker_id) {
        return Err(StoreError::Conflict { what: "job lease" });
    }
    let now = crate::now();
    let (status, run_after) = match retry_after {
        Some(delay) if job.attempts < job.max_attempts => (JobStatus::Queued, after(now, delay)?),
        _ => (JobStatus::Failed, job.run_after),
    };
    let error: String = error.chars().take(MAX_ERROR_LEN).collect();
    // `attempts` in the filter: if the lease expired and the job was
    // claimed again meanwhile, this worker's report no longer applies.
    let result = owned_running(job_id, worker_id)
        .filter(jobs::Column::Attempts.eq(job.attempts))
        .col_expr(jobs::Column::Status, Expr::value(status.as_str()))
        .col_expr(jobs::Column::RunAfter, Expr::value(run_after))
        .col_expr(jobs::Column::LastError, Expr::value(error))
        .col_expr(
            jobs::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            jobs::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .exec(conn)
        .await?;
    lease_outcome(conn, job_id, result.rows_affected).await?;
    Ok(status)
}

/// Marks as failed the running jobs whose lease expired after their last
/// allowed attempt (their worker crashed every time): [`claim`] no longer
/// takes them, and without this they would stay `running` forever.
/// Returns how many were failed.
pub async fn fail_exhausted<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    let now = crate::now();
    let result = jobs::Entity::update_many()
        .col_expr(
            jobs::Column::Status,
            Expr::value(JobStatus::Failed.as_str()),
        )
        .col_expr(
            jobs::Column::LastError,
            Expr::value("lease expired on the last attempt"),
        )
        .col_expr(
            jobs::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            jobs::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .filter(jobs::Column::LeaseUntil.lt(now))
        .filter(Expr::col(jobs::Column::Attempts).gte(Expr::col(jobs::Column::MaxAttempts)))
        .exec(conn)
        .await?;
    Ok(result.rows_affected)
}

/// An update of job `job_id` that only applies while `worker_id` holds it.
fn owned_running(job_id: i64, worker_id: &str) -> sea_orm::UpdateMany<jobs::Entity> {
    jobs::Entity::update_many()
        .filter(jobs::Column::Id.eq(job_id))
        .filter(jobs::Column::Status.eq(JobStatus::Running.as_str()))
        .filter(jobs::Column::LeaseOwner.eq(worker_id))
}

/// Turns "no row updated" into NotFound (no such job) or Conflict (the
/// worker no longer holds it).
async fn lease_outcome<C: ConnectionTrait>(
    conn: &C,
    job_id: i64,
    rows_affected: u64,
) -> Result<(), StoreError> {
    if rows_affected > 0 {
        return Ok(());
    }
    match jobs::Entity::find_by_id(job_id).one(conn).await? {
        None => Err(StoreError::NotFound),
        Some(_) => Err(StoreError::Conflict { what: "job lease" }),
    }
}
