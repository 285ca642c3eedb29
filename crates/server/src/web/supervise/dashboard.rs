//! `/supervise`: the dashboard. Counts that need watching, the test
//! queue's latency and the audit chain's state; numbers that compare are
//! drawn as inline SVG bars, with the same numbers in a table beside them.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use service::supervise::dashboard::{self, Dashboard};

use super::local;
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::SignedIn;
use crate::web::{Page, internal_page};

pub fn router() -> Router<AppState> {
    Router::new().route("/supervise", get(dashboard_page))
}

/// One bar of a chart: its label key, the number as shown, and its length
/// in percent of the chart's longest bar.
pub struct Bar {
    pub label: String,
    pub shown: String,
    pub width: f64,
    pub y: usize,
}

/// A horizontal bar chart of numbers that compare.
pub struct Chart {
    pub id: &'static str,
    pub title_key: &'static str,
    pub bars: Vec<Bar>,
    pub height: usize,
}

pub(crate) fn chart(
    id: &'static str,
    title_key: &'static str,
    rows: Vec<(String, i64, String)>,
) -> Chart {
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, v, shown))| Bar {
            label,
            shown,
            // Leave a sliver for zero so the row still reads as a bar.
            width: (v.max(0) as f64 / max as f64 * 100.0).max(0.5),
            y: i * 10,
        })
        .collect();
    Chart {
        id,
        title_key,
        height: bars.len() * 10,
        bars,
    }
}

/// Seconds as a person reads a wait.
fn wait(secs: Option<i64>, page: &Page) -> String {
    match secs {
        None => page.t("supervise.dash.no_runs").to_owned(),
        Some(s) if s < 120 => format!("{s} s"),
        Some(s) if s < 7200 => format!("{} min", s / 60),
        Some(s) => format!("{:.1} h", s as f64 / 3600.0),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "supervise/dashboard.html")]
struct DashboardPage {
    page: Page,
    d: Dashboard,
    at: String,
    charts: Vec<Chart>,
    head_id: String,
    head_hash: String,
}

async fn dashboard_page(
    State(state): State<AppState>,
    who: SignedIn<roles::Supervisor>,
) -> Response {
    let page = who.page;
    let d = match dashboard::dashboard(&state, &who.actor).await {
        Ok(d) => d,
        Err(e) => return internal_page(&page, e),
    };
    let t = |k: &str| page.t(k).to_owned();
    let lat = |label: &str, p: Option<i64>| (t(label), p.unwrap_or(0), wait(p, &page));
    let latency = chart(
        "latency",
        "supervise.dash.latency",
        vec![
            lat("supervise.dash.p50_24h", d.latency_24h.p50_secs),
            lat("supervise.dash.p95_24h", d.latency_24h.p95_secs),
            lat("supervise.dash.p50_7d", d.latency_7d.p50_secs),
            lat("supervise.dash.p95_7d", d.latency_7d.p95_secs),
        ],
    );
    let count = |label: &str, n: u64| (t(label), n as i64, n.to_string());
    let waiting = chart(
        "waiting",
        "supervise.dash.waiting",
        vec![
            count("supervise.dash.overdue_complaints", d.overdue_complaints),
            count("supervise.dash.overdue_questions", d.overdue_questions),
            count("supervise.dash.reported_ratings", d.reported_ratings),
            count("supervise.dash.open_fraud_signals", d.open_fraud_signals),
            count("supervise.dash.suspended_apps", d.suspended_apps),
        ],
    );
    let (head_id, head_hash) = match &d.chain.head {
        Some((id, hash)) => (id.to_string(), hash.clone()),
        None => (String::new(), String::new()),
    };
    DashboardPage {
        at: local(&state, d.at),
        charts: vec![waiting, latency],
        head_id,
        head_hash,
        d,
        page,
    }
    .into_response()
}
