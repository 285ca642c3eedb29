//! Test runs and their per-case results.
//!
//! A run is `queued` when its job is enqueued, `running` while a worker
//! evaluates it (its `report` then holds `{"progress": {"done": n}}`, so any
//! node can show the progress), and `finished` with the full report once the
//! results are stored. `error` means the platform could not run it.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    QueryFilter, QueryOrder,
};

use crate::StoreError;
use crate::entity::{case_results, test_runs};

/// The kind of job that runs a test run; its payload is `{"test_run_id": id}`.
pub const TEST_RUN_JOB: &str = "test_run";

pub const RUN_QUEUED: &str = "queued";
pub const RUN_RUNNING: &str = "running";
pub const RUN_FINISHED: &str = "finished";
pub const RUN_ERROR: &str = "error";

/// Creates a queued run of `version_id` (reason `upload` or `regression`)
/// and its job, in the caller's transaction.
pub async fn enqueue_run<C: ConnectionTrait>(
    conn: &C,
    version_id: i64,
    reason: &str,
    total_cases: i32,
) -> Result<test_runs::Model, StoreError> {
    let run = test_runs::ActiveModel {
        version_id: Set(version_id),
        status: Set(RUN_QUEUED.to_owned()),
        reason: Set(reason.to_owned()),
        total_cases: Set(total_cases),
        accepted_cases: Set(0),
        score_bp: Set(None),
        passed: Set(None),
        created_at: Set(crate::now()),
        started_at: Set(None),
        finished_at: Set(None),
        report: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    crate::jobs::enqueue(
        conn,
        TEST_RUN_JOB,
        serde_json::json!({"test_run_id": run.id}),
    )
    .await?;
    Ok(run)
}

pub async fn get<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<test_runs::Model>, StoreError> {
    Ok(test_runs::Entity::find_by_id(id).one(conn).await?)
}

/// The newest run of a version.
pub async fn latest_run<C: ConnectionTrait>(
    conn: &C,
    version_id: i64,
) -> Result<Option<test_runs::Model>, StoreError> {
    Ok(test_runs::Entity::find()
        .filter(test_runs::Column::VersionId.eq(version_id))
        .order_by_desc(test_runs::Column::Id)
        .one(conn)
        .await?)
}

/// The newest finished run of a version.
pub async fn latest_finished<C: ConnectionTrait>(
    conn: &C,
    version_id: i64,
) -> Result<Option<test_runs::Model>, StoreError> {
    Ok(test_runs::Entity::find()
        .filter(test_runs::Column::VersionId.eq(version_id))
        .filter(test_runs::Column::Status.eq(RUN_FINISHED))
        .order_by_desc(test_runs::Column::Id)
        .one(conn)
        .await?)
}

/// Puts a run that loaded an outdated suite back in the queue, with a new
/// job (in the caller's transaction): it is run again from the start.
pub async fn requeue<C: ConnectionTrait>(conn: &C, id: i64) -> Result<(), StoreError> {
    test_runs::Entity::update_many()
        .filter(test_runs::Column::Id.eq(id))
        .filter(test_runs::Column::Status.ne(RUN_FINISHED))
        .col_expr(test_runs::Column::Status, Expr::value(RUN_QUEUED))
        .col_expr(test_runs::Column::AcceptedCases, Expr::value(0))
        .col_expr(
            test_runs::Column::StartedAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(
            test_runs::Column::Report,
            Expr::value(Option::<serde_json::Value>::None),
        )
        .exec(conn)
        .await?;
    crate::jobs::enqueue(conn, TEST_RUN_JOB, serde_json::json!({"test_run_id": id})).await?;
    Ok(())
}

/// Whether any of these versions has a run queued or running.
pub async fn any_in_flight<C: ConnectionTrait>(
    conn: &C,
    version_ids: &[i64],
) -> Result<bool, StoreError> {
    if version_ids.is_empty() {
        return Ok(false);
    }
    Ok(test_runs::Entity::find()
        .filter(test_runs::Column::VersionId.is_in(version_ids.to_vec()))
        .filter(test_runs::Column::Status.is_in([RUN_QUEUED, RUN_RUNNING]))
        .one(conn)
        .await?
        .is_some())
}

/// Whether another run of the same version is running (at most one runs
/// per version at a time).
pub async fn another_running<C: ConnectionTrait>(
    conn: &C,
    run: &test_runs::Model,
) -> Result<bool, StoreError> {
    Ok(test_runs::Entity::find()
        .filter(test_runs::Column::VersionId.eq(run.version_id))
        .filter(test_runs::Column::Status.eq(RUN_RUNNING))
        .filter(test_runs::Column::Id.ne(run.id))
        .one(conn)
        .await?
        .is_some())
}

/// Marks a run as started (again, when a crashed worker's job is
/// re-claimed), against revision `suite_revision` of its order's suite.
pub async fn start<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    total: i32,
    suite_revision: i32,
) -> Result<(), StoreError> {
    test_runs::Entity::update_many()
        .filter(test_runs::Column::Id.eq(id))
        .col_expr(test_runs::Column::Status, Expr::value(RUN_RUNNING))
        .col_expr(
            test_runs::Column::SuiteRevision,
            Expr::value(suite_revision),
        )
        .col_expr(test_runs::Column::TotalCases, Expr::value(total))
        .col_expr(test_runs::Column::AcceptedCases, Expr::value(0))
        .col_expr(test_runs::Column::StartedAt, Expr::value(crate::now()))
        .col_expr(
            test_runs::Column::Report,
            Expr::value(serde_json::json!({"progress": {"done": 0}})),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// Records how far a running run got.
pub async fn progress<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    done: i32,
    accepted: i32,
) -> Result<(), StoreError> {
    test_runs::Entity::update_many()
        .filter(test_runs::Column::Id.eq(id))
        .filter(test_runs::Column::Status.eq(RUN_RUNNING))
        .col_expr(test_runs::Column::AcceptedCases, Expr::value(accepted))
        .col_expr(
            test_runs::Column::Report,
            Expr::value(serde_json::json!({"progress": {"done": done}})),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// One case's stored result.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub case_id: String,
    pub verdict: String,
    pub instructions: i64,
    pub peak_memory_bytes: i64,
    pub wall_time_us: i64,
    pub queries: i32,
    pub stdout: String,
    pub stderr: String,
    pub actual_output: Option<serde_json::Value>,
    pub message: Option<String>,
}

/// The outcome of a run, written once.
#[derive(Debug, Clone)]
pub struct Finished {
    pub accepted: i32,
    pub total: i32,
    pub score_bp: i32,
    pub passed: bool,
    pub report: serde_json::Value,
}

/// Stores the results and the report. Fails with `Conflict` if the run
/// already finished (results are written exactly once).
pub async fn finish<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    outcome: Finished,
    cases: Vec<CaseRow>,
) -> Result<(), StoreError> {
    let result = test_runs::Entity::update_many()
        .filter(test_runs::Column::Id.eq(id))
        .filter(test_runs::Column::Status.ne(RUN_FINISHED))
        .col_expr(test_runs::Column::Status, Expr::value(RUN_FINISHED))
        .col_expr(test_runs::Column::TotalCases, Expr::value(outcome.total))
        .col_expr(
            test_runs::Column::AcceptedCases,
            Expr::value(outcome.accepted),
        )
        .col_expr(test_runs::Column::ScoreBp, Expr::value(outcome.score_bp))
        .col_expr(test_runs::Column::Passed, Expr::value(outcome.passed))
        .col_expr(test_runs::Column::FinishedAt, Expr::value(crate::now()))
        .col_expr(test_runs::Column::Report, json_text(conn, &outcome.report)?)
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict {
            what: "finished test run",
        });
    }
    let rows: Vec<case_results::ActiveModel> = cases
        .into_iter()
        .map(|c| case_results::ActiveModel {
            test_run_id: Set(id),
            case_id: Set(c.case_id),
            verdict: Set(c.verdict),
            instructions: Set(c.instructions),
            peak_memory_bytes: Set(c.peak_memory_bytes),
            wall_time_us: Set(c.wall_time_us),
            queries: Set(c.queries),
            stdout: Set(c.stdout),
            stderr: Set(c.stderr),
            actual_output: Set(c.actual_output),
            message: Set(c.message),
            ..Default::default()
        })
        .collect();
    // 11 parameters per row; SQLite binds at most 32766 per statement.
    for chunk in rows.chunks(500) {
        case_results::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// A large JSON document as a bound parameter, serialized once.
///
/// A run's report holds every case (about 0.9 MB for 1,000 cases): bound as
/// a JSON value, the query builder copies the whole tree and the driver
/// then serializes it, which took 60 ms of a 1,000-case run's 300. Bound as
/// its text it is one string, cast on PostgreSQL to the column's `jsonb`
/// (SQLite keeps JSON as text).
fn json_text<C: ConnectionTrait>(conn: &C, value: &serde_json::Value) -> Result<Expr, StoreError> {
    let text = serde_json::to_string(value)
        .map_err(|e| StoreError::InvalidInput(format!("report: {e}")))?;
    Ok(match conn.get_database_backend() {
        DbBackend::Postgres => Expr::value(text).cast_as("jsonb"),
        _ => Expr::value(text),
    })
}

/// Marks a run the platform could not complete.
pub async fn error<C: ConnectionTrait>(conn: &C, id: i64, message: &str) -> Result<(), StoreError> {
    test_runs::Entity::update_many()
        .filter(test_runs::Column::Id.eq(id))
        .filter(test_runs::Column::Status.ne(RUN_FINISHED))
        .col_expr(test_runs::Column::Status, Expr::value(RUN_ERROR))
        .col_expr(test_runs::Column::FinishedAt, Expr::value(crate::now()))
        .col_expr(
            test_runs::Column::Report,
            Expr::value(serde_json::json!({"error": message})),
        )
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn case_results<C: ConnectionTrait>(
    conn: &C,
    run_id: i64,
) -> Result<Vec<case_results::Model>, StoreError> {
    Ok(case_results::Entity::find()
        .filter(case_results::Column::TestRunId.eq(run_id))
        .order_by_asc(case_results::Column::Id)
        .all(conn)
        .await?)
}
