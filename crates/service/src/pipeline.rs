//! The test pipeline's workers: claim a `test_run` job, load the module, the
//! order's contract, suite and datasets, evaluate, store the results and move
//! the version on.
//!
//! Exactly once: the results, the version's new status and the job's
//! completion are written in one transaction, and completing the job checks
//! that this worker still holds its lease. A worker that lost its lease
//! (it stalled, and another worker claimed the job) rolls back, so a run's
//! results are stored once however many workers started it.
//!
//! At most one run per version at a time: a worker that finds another run
//! of the same version running re-queues its job a little later.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use domain::{Verdict, VersionStatus};
use sandbox::{EvalOptions, Visibility};
use store::jobs::Job;

use crate::error::ServiceError;
use crate::services::Services;

/// How a worker behaves; the defaults suit production.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// A lease lasts this long unless renewed; a crashed worker's job is
    /// claimed again after at most this.
    pub lease: Duration,
    /// How often a running job's lease is renewed and its progress stored.
    pub heartbeat: Duration,
    /// Sleep between polls when the queue is empty (a job queued by this
    /// process ends the sleep at once, see [`crate::caches::JobSignal`]).
    pub idle_poll: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            lease: Duration::from_secs(60),
            heartbeat: Duration::from_secs(1),
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// A unique worker id: host, process and a random part.
pub fn worker_id(index: usize) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    format!(
        "{host}:{}:{index}:{}",
        std::process::id(),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Starts `n` workers on the current runtime (used by `serve`).
pub fn spawn_workers(state: Services, n: usize) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|i| {
            let state = state.clone();
            tokio::spawn(async move {
                run_worker_forever(state, worker_id(i), WorkerConfig::default()).await;
            })
        })
        .collect()
}

/// `govmarket worker`: `n` workers in this process until Ctrl-C or SIGTERM.
/// A job interrupted here is claimed again by any worker once its lease ends.
pub async fn run_workers_until_shutdown(state: Services, n: usize) {
    let handles = spawn_workers(state, n.max(1));
    println!("govmarket worker: {} test worker(s) running", handles.len());
    shutdown_signal().await;
    for h in handles {
        h.abort();
    }
    tracing::info!("test workers stopped");
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM (what a service manager sends):
/// the signal both the server and the workers stop on.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Claims and runs jobs until the task is dropped.
pub async fn run_worker_forever(state: Services, worker: String, config: WorkerConfig) {
    tracing::info!(%worker, "test worker started");
    loop {
        match run_one(&state, &worker, &config).await {
            Ok(true) => {}
            Ok(false) => state.jobs.idle(config.idle_poll).await,
            Err(e) => {
                tracing::error!(%worker, error = ?e.into_anyhow(), "test worker error");
                tokio::time::sleep(config.idle_poll).await;
            }
        }
    }
}

/// Claims one due job and runs it. `Ok(false)` when the queue was empty.
pub async fn run_one(
    state: &Services,
    worker: &str,
    config: &WorkerConfig,
) -> Result<bool, ServiceError> {
    store::jobs::fail_exhausted(state.db.conn()).await?;
    let Some(job) = store::jobs::claim(
        state.db.conn(),
        worker,
        &[store::pipeline::TEST_RUN_JOB],
        config.lease,
    )
    .await?
    else {
        return Ok(false);
    };
    if let Err(e) = handle(state, worker, config, &job).await {
        let text = format!("{:#}", e.into_anyhow());
        tracing::warn!(job = job.id, error = %text, "test run failed");
        match store::jobs::fail(
            state.db.conn(),
            job.id,
            worker,
            &text,
            Some(Duration::from_secs(5)),
        )
        .await
        {
            Ok(store::jobs::JobStatus::Failed) => {
                if let Some(run_id) = run_id_of(&job) {
                    store::pipeline::error(state.db.conn(), run_id, &text).await?;
                    reset_version_after_error(state, run_id).await?;
                }
            }
            Ok(_) => {}
            // Someone else holds the job now; it is theirs to finish.
            Err(store::StoreError::Conflict { .. }) => {}
            Err(other) => return Err(other.into()),
        }
    }
    Ok(true)
}

fn run_id_of(job: &Job) -> Option<i64> {
    job.payload.get("test_run_id").and_then(|v| v.as_i64())
}

/// A version whose upload run could not be run at all goes back to `failed`
/// with the reason, so its ISV is not left waiting on `testing` forever.
async fn reset_version_after_error(state: &Services, run_id: i64) -> Result<(), ServiceError> {
    let Some(run) = store::pipeline::get(state.db.conn(), run_id).await? else {
        return Ok(());
    };
    for from in [VersionStatus::Queued, VersionStatus::Testing] {
        if from == VersionStatus::Queued {
            // queued -> failed is not a lifecycle move; go through testing.
            let _ = store::apps::set_version_status(
                state.db.conn(),
                run.version_id,
                VersionStatus::Queued,
                VersionStatus::Testing,
                None,
            )
            .await;
            continue;
        }
        let _ = store::apps::set_version_status(
            state.db.conn(),
            run.version_id,
            from,
            VersionStatus::Failed,
            Some("平台无法完成测试 / the platform could not run the tests".into()),
        )
        .await;
    }
    Ok(())
}

async fn handle(
    state: &Services,
    worker: &str,
    config: &WorkerConfig,
    job: &Job,
) -> Result<(), ServiceError> {
    let run_id = run_id_of(job).ok_or_else(|| {
        ServiceError::internal(anyhow::anyhow!("job {} has no test_run_id", job.id))
    })?;
    let Some(run) = store::pipeline::get(state.db.conn(), run_id).await? else {
        // The run is gone (its order was deleted by an operator): nothing to do.
        store::jobs::complete(state.db.conn(), job.id, worker).await?;
        return Ok(());
    };
    if run.status == store::pipeline::RUN_FINISHED {
        store::jobs::complete(state.db.conn(), job.id, worker).await?;
        return Ok(());
    }
    // At most one run per version: defer while another one is running.
    if store::pipeline::another_running(state.db.conn(), &run).await? {
        let txn = state.db.begin_write().await?;
        store::jobs::complete(&txn, job.id, worker).await?;
        store::jobs::enqueue_at(
            &txn,
            store::pipeline::TEST_RUN_JOB,
            job.payload.clone(),
            store::now() + chrono::TimeDelta::seconds(2),
            job.max_attempts,
        )
        .await?;
        txn.commit().await?;
        return Ok(());
    }

    let version = store::apps::version(state.db.conn(), run.version_id)
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("run {run_id}: version missing")))?;
    let app = store::apps::get(state.db.conn(), version.app_id)
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("run {run_id}: app missing")))?;
    let order = store::orders::get(state.db.conn(), app.order_id)
        .await?
        .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("run {run_id}: order missing")))?;
    let contract = crate::appdata::contract_of(&order)?;
    let cases: Vec<sandbox::TestCase> = store::orders::cases(state.db.conn(), order.id)
        .await?
        .iter()
        .map(crate::appdata::case_of)
        .collect::<Result<_, _>>()?;
    let data = crate::appdata::datasets_for_order(&state.db, &state.datasets, order.id).await?;
    let module = crate::appdata::module_for_version(&state.db, version.id).await?;
    let total = i32::try_from(cases.len()).map_err(ServiceError::internal)?;

    let regression = run.reason == "regression";
    if !regression {
        // A re-claimed run finds its version in `testing` already.
        let _ = store::apps::set_version_status(
            state.db.conn(),
            version.id,
            VersionStatus::Queued,
            VersionStatus::Testing,
            None,
        )
        .await;
    }
    store::pipeline::start(state.db.conn(), run_id, total, order.suite_revision).await?;

    // Evaluate on a blocking thread; the async side renews the lease and
    // stores the progress while it runs.
    let done = Arc::new(AtomicI32::new(0));
    let accepted = Arc::new(AtomicI32::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let eval = {
        let sandbox = state.sandbox.clone();
        let done = Arc::clone(&done);
        let accepted = Arc::clone(&accepted);
        let finished = Arc::clone(&finished);
        let contract = contract.clone();
        let data: Arc<dyn sandbox::DatasetProvider> = data;
        tokio::task::spawn_blocking(move || {
            let mut progress = |p: &sandbox::CaseProgress<'_>| {
                done.store(i32::try_from(p.done).unwrap_or(i32::MAX), Ordering::Relaxed);
                if p.verdict == Verdict::Accepted {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            };
            let report = sandbox::evaluate_suite(
                &sandbox,
                &module.bytes,
                &contract,
                &cases,
                data,
                &EvalOptions::default(),
                &mut progress,
            );
            finished.store(true, Ordering::Release);
            report
        })
    };
    tokio::pin!(eval);
    let report = loop {
        tokio::select! {
            joined = &mut eval => break joined.map_err(ServiceError::internal)?,
            () = tokio::time::sleep(config.heartbeat) => {
                if let Err(e) = store::jobs::heartbeat(state.db.conn(), job.id, worker, config.lease).await {
                    // The lease is lost: another worker owns the run now. Let
                    // the evaluation finish on its thread, but store nothing.
                    tracing::warn!(job = job.id, error = %e, "lost the lease of a test run");
                    return Ok(());
                }
                let _ = store::pipeline::progress(
                    state.db.conn(),
                    run_id,
                    done.load(Ordering::Relaxed),
                    accepted.load(Ordering::Relaxed),
                )
                .await;
            }
        }
    };
    let report = report.map_err(|e| {
        ServiceError::internal(anyhow::anyhow!(
            "order {}: unusable contract: {e}",
            order.id
        ))
    })?;

    // The evaluator's threshold is whole percent; the order's is basis
    // points, applied here exactly (99.5% is not 100%).
    let mut report = report;
    let (passed, score_bp) = exact_pass(&report, order.pass_threshold_bp);
    report.passed = passed;
    let verdict_status = if report.rejection.is_some() {
        VersionStatus::Rejected
    } else if report.passed {
        VersionStatus::Passed
    } else {
        VersionStatus::Failed
    };
    for c in &report.cases {
        metrics::counter!("govmarket_test_case_verdicts_total", "verdict" => c.verdict.as_str())
            .increment(1);
    }
    metrics::counter!("govmarket_test_runs_total", "status" => verdict_status.as_str())
        .increment(1);
    let rows = report
        .cases
        .iter()
        .map(|c| store::pipeline::CaseRow {
            case_id: c.id.clone(),
            verdict: c.verdict.as_str().to_owned(),
            instructions: c
                .instructions
                .map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX)),
            peak_memory_bytes: c
                .peak_memory_bytes
                .map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX)),
            wall_time_us: c
                .wall_time_us
                .map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX)),
            queries: c
                .queries
                .as_ref()
                .map_or(0, |q| i32::try_from(q.len()).unwrap_or(i32::MAX)),
            stdout: c.stdout.clone().unwrap_or_default(),
            stderr: c.stderr.clone().unwrap_or_default(),
            actual_output: c.actual.clone(),
            message: c.detail.clone(),
        })
        .collect();
    let accepted_total = i32::try_from(report.totals.accepted).unwrap_or(i32::MAX);
    let failed_hidden = report
        .cases
        .iter()
        .filter(|c| c.visibility == Visibility::Hidden && c.verdict != Verdict::Accepted)
        .count();
    let report_json = serde_json::to_value(&report).map_err(ServiceError::internal)?;

    let txn = state.db.begin_write().await?;
    // First, so that a worker that lost its lease writes nothing at all.
    match store::jobs::complete(&txn, job.id, worker).await {
        Ok(()) => {}
        Err(store::StoreError::Conflict { .. }) => {
            tracing::warn!(
                job = job.id,
                "lease lost before storing; another worker owns the run"
            );
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    // The suite changed while this run had it loaded: run it again against
    // the new one rather than store a verdict on the old.
    let now_revision = store::orders::get(&txn, order.id)
        .await?
        .map_or(order.suite_revision, |o| o.suite_revision);
    if now_revision != order.suite_revision {
        store::pipeline::requeue(&txn, run_id).await?;
        txn.commit().await?;
        state.jobs.queued();
        return Ok(());
    }
    store::pipeline::finish(
        &txn,
        run_id,
        store::pipeline::Finished {
            accepted: accepted_total,
            total,
            score_bp,
            passed: report.passed,
            report: report_json,
        },
        rows,
    )
    .await?;
    store::apps::set_version_score(&txn, version.id, score_bp).await?;
    let summary;
    if regression {
        let now_status = store::apps::version(&txn, version.id)
            .await?
            .and_then(|v| v.status.parse::<VersionStatus>().ok());
        let published = now_status == Some(VersionStatus::Published);
        if !report.passed && now_status == Some(VersionStatus::Passed) {
            // Not yet published: it fails the grown suite, so it cannot be.
            store::apps::set_version_status(
                &txn,
                version.id,
                VersionStatus::Passed,
                VersionStatus::Failed,
                Some(format!(
                    "回归测试未通过（得分 {}%） / failed the regression run after the order's suite changed",
                    report.score_percent
                )),
            )
            .await?;
            summary = format!(
                "应用「{}」第 {} 版回归测试未通过，不能发布（得分 {}%）",
                app.name, version.number, report.score_percent
            );
        } else if !report.passed && published {
            // Delisted: it no longer meets the order's suite.
            store::apps::set_version_status(
                &txn,
                version.id,
                VersionStatus::Published,
                VersionStatus::Suspended,
                Some(format!(
                    "回归测试未通过（得分 {}%，{failed_hidden} 个隐藏用例未通过），已下架 / failed the regression run and was delisted",
                    report.score_percent
                )),
            )
            .await?;
            summary = format!(
                "应用「{}」第 {} 版回归测试未通过，已下架（得分 {}%）",
                app.name, version.number, report.score_percent
            );
            // The vendor hears of it in the same transaction as the delisting.
            store::notifications::notify(
                &txn,
                store::notifications::Recipient::Org(app.isv_org_id),
                "version.delisted",
                format!(
                    "{summary}：需求订单新增了测试用例，请查看报告、修复后上传新版本。 / Version {} of \"{}\" failed the regression run after the order's suite grew and was delisted.",
                    version.number, app.name
                ),
                Some(format!("/isv/versions/{}", version.id)),
            )
            .await?;
        } else {
            summary = format!(
                "应用「{}」第 {} 版回归测试{}（得分 {}%）",
                app.name,
                version.number,
                if report.passed { "通过" } else { "未通过" },
                report.score_percent
            );
        }
    } else {
        store::apps::set_version_status(
            &txn,
            version.id,
            VersionStatus::Testing,
            verdict_status,
            report.rejection.as_ref().map(ToString::to_string),
        )
        .await?;
        summary = format!(
            "应用「{}」第 {} 版测试完成：{}（得分 {}%，{}/{} 用例通过）",
            app.name,
            version.number,
            verdict_status,
            report.score_percent,
            report.totals.accepted,
            report.totals.cases
        );
    }
    store::audit::append(
        &txn,
        store::audit::AuditEntry {
            actor_id: None,
            actor_role: None,
            action: "test_run.finish".into(),
            object_type: "version".into(),
            object_id: Some(version.id),
            summary,
            request_id: None,
        },
    )
    .await?;
    txn.commit().await?;
    if regression {
        // A delisted version leaves the market's search results at once.
        crate::search_index::index_app(state, app.id).await;
    }
    debug_assert!(finished.load(Ordering::Acquire));
    Ok(())
}

/// Whether a report passes a threshold of `threshold_bp` basis points of
/// the hidden cases' weight, exactly, and its score in basis points
/// (rounded down). The other pass rules (module accepted, a non-empty
/// suite, every sample case accepted) are the evaluator's.
pub fn exact_pass(report: &sandbox::TestReport, threshold_bp: i32) -> (bool, i32) {
    let t = &report.totals;
    let bp = u64::try_from(threshold_bp.clamp(0, 10_000)).unwrap_or(10_000);
    let hidden_ok = t.hidden_weight_accepted * 10_000 >= bp * t.hidden_weight;
    let passed = report.rejection.is_none()
        && t.cases > 0
        && t.sample_accepted == t.sample_cases
        && hidden_ok;
    let (mut weight, mut accepted) = (0u64, 0u64);
    for c in &report.cases {
        let w = u64::from(c.weight.unwrap_or(1));
        weight += w;
        if c.verdict == Verdict::Accepted {
            accepted += w;
        }
    }
    let score_bp = (accepted * 10_000)
        .checked_div(weight)
        .map_or(0, |s| i32::try_from(s).unwrap_or(10_000));
    (passed, score_bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(hidden: &[(u32, bool)]) -> sandbox::TestReport {
        let mut r: sandbox::TestReport = serde_json::from_value(serde_json::json!({
            "passed": false, "score_percent": 0, "threshold_percent": 100,
            "limits": serde_json::to_value(sandbox::ResolvedLimits::DEFAULT).unwrap(),
            "totals": {"cases": 0, "accepted": 0, "sample_cases": 0, "sample_accepted": 0,
                       "hidden_cases": 0, "hidden_accepted": 0, "hidden_weight": 0,
                       "hidden_weight_accepted": 0},
            "cases": []
        }))
        .unwrap();
        for &(w, ok) in hidden {
            r.totals.cases += 1;
            r.totals.hidden_cases += 1;
            r.totals.hidden_weight += u64::from(w);
            if ok {
                r.totals.accepted += 1;
                r.totals.hidden_accepted += 1;
                r.totals.hidden_weight_accepted += u64::from(w);
            }
        }
        r
    }

    #[test]
    fn a_threshold_in_basis_points_is_applied_exactly() {
        // 199 of 200 by weight is 99.5%: it meets 9950 bp, not 9951 or 10000.
        let r = report(&[(199, true), (1, false)]);
        assert!(exact_pass(&r, 9_950).0);
        assert!(!exact_pass(&r, 9_951).0);
        assert!(!exact_pass(&r, 10_000).0);
        assert!(exact_pass(&report(&[(1, true)]), 10_000).0);
        assert!(
            !exact_pass(&report(&[]), 0).0,
            "an empty suite passes nothing"
        );
    }
}
