//! Prometheus metrics at `GET /metrics`: requests and their latency per
//! route (a middleware), the test queue (read from the database at each
//! scrape, so every node reports the shared queue), and what the use cases
//! record through the `metrics` facade (sandbox verdicts, invocations,
//! usage-writer batch sizes, search latency).
//!
//! The recorder is process-wide; every app built in this process (tests
//! build many) shares it.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Latency buckets in seconds: from a cached page to a slow sandbox run.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Usage-writer batches hold 1 to 512 events.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process's recorder, installed on first use. `None` when another
/// recorder was installed first (the metrics then go there).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("govmarket_usage_batch_events".into()),
                        BATCH_BUCKETS,
                    )
                })
                .map(|b| b.build_recorder());
            match recorder {
                Ok(recorder) => {
                    let handle = recorder.handle();
                    match metrics::set_global_recorder(recorder) {
                        Ok(()) => Some(handle),
                        Err(e) => {
                            tracing::warn!(error = %e, "metrics recorder not installed");
                            None
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not built");
                    None
                }
            }
        })
        .as_ref()
}

/// Counts each request and times it, by method, route template and status
/// class: the template (`/api/v1/apps/{id}`), never the path, so ids do
/// not become labels.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(
        "govmarket_http_requests_total",
        "method" => method.clone(),
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        "govmarket_http_request_duration_seconds",
        "method" => method,
        "route" => route
    )
    .record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the Prometheus text format.
pub async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let now = chrono::Utc::now();
    match store::jobs::queue_stats(state.db.conn(), now).await {
        Ok(q) => {
            metrics::gauge!("govmarket_test_queue_waiting").set(q.waiting as f64);
            metrics::gauge!("govmarket_test_queue_running").set(q.running as f64);
            let age = q
                .oldest_waiting_since
                .map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
            metrics::gauge!("govmarket_test_queue_oldest_age_seconds").set(age);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: test queue not read"),
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
