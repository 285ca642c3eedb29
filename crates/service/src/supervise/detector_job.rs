//! The detector as a periodic job, safe with several nodes.
//!
//! Every node runs [`run_forever`] (inside `serve` and `worker`). Each tick
//! it looks at the last [`CATCH_UP_WINDOWS`] complete windows (windows of
//! `fraud.window_hours`, counted from the Unix epoch in UTC, so every node
//! computes the same ones): for each, the node whose insert into
//! `fraud_detector_windows` succeeds queues one `fraud_detect` job, in the
//! same transaction; the others find the window taken and queue nothing. Then any node claims
//! due `fraud_detect` jobs through the job queue (one claimer per job,
//! under a lease) and runs them. A run that fails is retried by the queue;
//! a run repeated after a lost lease adds nothing, since signals are unique
//! per kind, app and window.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use super::detector;
use crate::error::{ServiceError, ServiceResult};
use crate::services::Services;

/// The job kind of a detector run.
pub const DETECT_JOB: &str = "fraud_detect";

/// How often a node looks for a window to queue and a run to claim. A
/// minute: a window is hours long, and the look is two small statements.
const TICK: Duration = Duration::from_secs(60);

/// A run reads one window of rows; a minute is ample, and a crashed node's
/// run is claimed again after it.
const LEASE: Duration = Duration::from_secs(60);

/// The last complete window before `now`: `[start, start + window)`.
pub fn last_complete_window(
    now: DateTime<Utc>,
    window: TimeDelta,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let len = window.num_seconds().max(1);
    let end_secs = now.timestamp().div_euclid(len) * len;
    let end = DateTime::<Utc>::from_timestamp(end_secs, 0).unwrap_or(now);
    (end - window, end)
}

/// Complete windows looked at on each tick, newest first: after all nodes
/// were down for up to a week of daily windows, the missed ones still run.
pub const CATCH_UP_WINDOWS: i32 = 7;

/// Queues a run for each of the last [`CATCH_UP_WINDOWS`] complete windows
/// that no node has queued yet. Returns how many this call queued.
pub async fn schedule(services: &Services, now: DateTime<Utc>) -> ServiceResult<usize> {
    let window = services.config.fraud.window();
    let (_, last_end) = last_complete_window(now, window);
    let mut queued = 0;
    for back in 0..CATCH_UP_WINDOWS {
        let end = last_end - window * back;
        let start = end - window;
        // The common case, read without taking the write lock.
        if store::fraud::window_claimed(services.db.conn(), start, end).await? {
            continue;
        }
        let txn = services.db.begin_write().await?;
        if !store::fraud::claim_window(&txn, start, end).await? {
            continue;
        }
        store::jobs::enqueue(
            &txn,
            DETECT_JOB,
            json!({"window_start": start, "window_end": end}),
        )
        .await?;
        txn.commit().await?;
        queued += 1;
    }
    Ok(queued)
}

fn window_of(job: &store::jobs::Job) -> ServiceResult<(DateTime<Utc>, DateTime<Utc>)> {
    let at = |name: &str| -> ServiceResult<DateTime<Utc>> {
        job.payload
            .get(name)
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.with_timezone(&Utc))
            .ok_or_else(|| ServiceError::internal(anyhow::anyhow!("job {} has no {name}", job.id)))
    };
    Ok((at("window_start")?, at("window_end")?))
}

/// Claims one due detector run and runs it; `Ok(false)` when none is due.
pub async fn run_one(services: &Services, worker: &str) -> ServiceResult<bool> {
    let Some(job) = store::jobs::claim(services.db.conn(), worker, &[DETECT_JOB], LEASE).await?
    else {
        return Ok(false);
    };
    let outcome = match window_of(&job) {
        Ok((start, end)) => detector::detect(services, start, end).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(report) => {
            tracing::info!(
                job = job.id,
                found = report.found,
                new = report.new,
                "fraud detector ran"
            );
            match store::jobs::complete(services.db.conn(), job.id, worker).await {
                Ok(()) | Err(store::StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => {
            let text = format!("{:#}", e.into_anyhow());
            tracing::warn!(job = job.id, error = %text, "fraud detector run failed");
            match store::jobs::fail(
                services.db.conn(),
                job.id,
                worker,
                &text,
                Some(Duration::from_secs(60)),
            )
            .await
            {
                Ok(_) | Err(store::StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(true)
}

/// Schedules and runs detector windows until the task is dropped.
pub async fn run_forever(services: Services) {
    let worker = crate::pipeline::worker_id(0);
    tracing::info!(%worker, "fraud detector started");
    loop {
        if let Err(e) = schedule(&services, store::now()).await {
            tracing::warn!(error = ?e.into_anyhow(), "cannot schedule the fraud detector");
        }
        loop {
            match run_one(&services, &worker).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(error = ?e.into_anyhow(), "fraud detector error");
                    break;
                }
            }
        }
        tokio::time::sleep(TICK).await;
    }
}

/// Starts [`run_forever`] on the current runtime.
pub fn spawn(services: Services) -> tokio::task::JoinHandle<()> {
    tokio::spawn(run_forever(services))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_complete_window_ends_on_a_boundary_before_now() {
        let now = DateTime::parse_from_rfc3339("2026-12-04T19:03:29Z")
            .unwrap()
            .with_timezone(&Utc);
        let (start, end) = last_complete_window(now, TimeDelta::hours(24));
        assert_eq!(end.to_rfc3339(), "2026-12-04T00:00:00+00:00");
        assert_eq!(start.to_rfc3339(), "2026-12-03T00:00:00+00:00");
        let (start, end) = last_complete_window(now, TimeDelta::hours(1));
        assert_eq!(end.to_rfc3339(), "2026-12-04T19:00:00+00:00");
        assert_eq!(start.to_rfc3339(), "2026-12-04T18:00:00+00:00");
    }
}
