//! Finance pages (choose a period, preview the draft with each line's
//! explanation and charts, approve, pay, follow payouts, download
//! statements), the ISV's statements and payout account, and the public
//! page of each approved settlement. Charts are inline SVG drawn on the
//! server, each with a title, labels and a table beside it: no JavaScript,
//! and no meaning carried by colour alone.
//!
//! Every page calls `service::settlement`; the sections live in their own
//! files: `runs` (the list and the draft form), `run` (one run, its
//! corrections form), `actions` (approve, pay, retry), `charts`,
//! `public`, `statements` (the ISV's).

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use domain::Fen;
use service::ServiceError;
use service::settlement::RunView;
use service::settlement::public::Names;
use store::settlements::{LineRow, RunRow};

use super::{Page, internal_page};
use crate::error::status_of;
use crate::state::AppState;

mod actions;
mod charts;
mod public;
mod run;
mod runs;
mod statements;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/finance", get(runs::runs_page).post(runs::draft_submit))
        .route("/finance/settlements/{id}", get(run::run_page))
        .route(
            "/finance/settlements/{id}/approve",
            post(actions::approve_submit),
        )
        .route("/finance/settlements/{id}/pay", post(actions::pay_submit))
        .route(
            "/finance/settlements/{id}/corrections",
            post(run::correction_submit),
        )
        .route("/finance/payouts/{id}/retry", post(actions::retry_submit))
        .route("/settlements", get(public::public_list))
        .route("/settlements/{id}", get(public::public_page))
        .route(
            "/isv/statements",
            get(statements::statements_page).post(statements::account_submit),
        )
}

fn yuan(fen: i64) -> String {
    Fen::from_fen(fen).to_string()
}

/// A refusal of a use case as the finance error page, in the page's
/// language; failures of the platform are the internal error page.
fn error_page(page: &Page, e: ServiceError) -> Response {
    if !e.is_client_error() {
        return internal_page(page, e);
    }
    let html = ErrorPage {
        page,
        message: page.lang.error_message(&e),
    };
    (status_of(&e), html).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/error.html")]
struct ErrorPage<'a> {
    page: &'a Page,
    message: String,
}

/// A run in a list.
struct RunItem {
    id: i64,
    period: String,
    status: String,
    paid: String,
    unspent: String,
}

impl From<&RunRow> for RunItem {
    fn from(r: &RunRow) -> Self {
        RunItem {
            id: r.id,
            period: r.period.clone(),
            status: r.status.clone(),
            paid: yuan(r.paid_total_fen),
            unspent: yuan(r.unspent_fen),
        }
    }
}

impl From<&RunView> for RunItem {
    fn from(r: &RunView) -> Self {
        RunItem {
            id: r.id,
            period: r.period.clone(),
            status: r.status.clone(),
            paid: yuan(r.paid_total_fen),
            unspent: yuan(r.unspent_fen),
        }
    }
}

/// A statement line as the tables show it.
struct LineItem {
    kind: String,
    order: String,
    app: String,
    isv: String,
    users: i64,
    ratings: i64,
    rating: String,
    amount: String,
    rank: String,
    eligibility: String,
    explanation: String,
    /// `#line (run N)` an adjustment line corrects; empty otherwise.
    adjusts: String,
}

fn line_items(lines: &[LineRow], n: &Names) -> Vec<LineItem> {
    lines
        .iter()
        .map(|l| LineItem {
            kind: l.kind.clone(),
            order: n.order(l.order_id).unwrap_or_default(),
            app: n.app(l.app_id),
            isv: n.org(l.isv_org_id),
            users: l.users_u,
            ratings: l.ratings_n,
            rating: service::settlement::r_display(l),
            amount: yuan(l.amount_fen),
            rank: l.rank.map(|r| r.to_string()).unwrap_or_default(),
            eligibility: l.eligibility.clone(),
            explanation: l.explanation.clone(),
            adjusts: match (l.adjusts_run_id, l.adjusts_line_id) {
                (Some(run), Some(line)) => format!("#{line} (run {run})"),
                _ => String::new(),
            },
        })
        .collect()
}
