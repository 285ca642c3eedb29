//! Finance pages (choose a period, preview the draft with each line's
//! explanation and charts, approve, pay, follow payouts, download
//! statements), the ISV's statements and payout account, and the public
//! page of each approved settlement. Charts are inline SVG drawn on the
//! server, each with a title, labels and a table beside it: no JavaScript,
//! and no meaning carried by colour alone.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use domain::{Fen, Role};
use serde::Deserialize;
use store::settlements::{self as st, LineRow, PayoutRow, RunRow};

use super::{FormErrors, Page, WebPath, csrf_form, internal_page, message_page};
use crate::api::public_settlements::{Names, approved_run, names};
use crate::api::settlements::{actor, parse_request};
use crate::error::ApiError;
use crate::extract::RequestId;
use crate::state::AppState;
use service::settlement;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/finance", get(runs_page).post(draft_submit))
        .route("/finance/settlements/{id}", get(run_page))
        .route("/finance/settlements/{id}/approve", post(approve_submit))
        .route("/finance/settlements/{id}/pay", post(pay_submit))
        .route(
            "/finance/settlements/{id}/corrections",
            post(correction_submit),
        )
        .route("/finance/payouts/{id}/retry", post(retry_submit))
        .route("/settlements", get(public_list))
        .route("/settlements/{id}", get(public_page))
        .route("/isv/statements", get(statements_page).post(account_submit))
}

fn yuan(fen: i64) -> String {
    Fen::from_fen(fen).to_string()
}

/// The signed-in user if their role is one of `roles`; else the response
/// to send (sign-in redirect or 403 page).
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn require(page: &Page, roles: &[Role]) -> Result<(i64, Role, Option<i64>), Response> {
    match &page.current {
        None => {
            Err(Redirect::to(&format!("/login?next={}", urlencode(&page.path))).into_response())
        }
        Some(c) if roles.contains(&c.user.role) => Ok((c.user.id, c.user.role, c.user.org_id)),
        Some(_) => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "finance.forbidden",
        )),
    }
}

/// The checks every finance form post starts with: a finance user, then
/// the CSRF token; yields the signed-in user.
#[allow(
    clippy::result_large_err,
    reason = "the error is the response the handler returns at once; boxing buys nothing"
)]
fn finance_post<'p>(
    state: &AppState,
    page: &'p Page,
    body: &Bytes,
) -> Result<&'p crate::auth::CurrentUser, Response> {
    require(page, &[Role::Finance])?;
    csrf_form::<EmptyForm>(state, page, body)?;
    page.current
        .as_ref()
        .ok_or_else(|| internal_page(page, ApiError::unauthorized("session")))
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

fn error_page(page: &Page, e: ApiError) -> Response {
    if e.status().is_server_error() {
        return internal_page(page, e);
    }
    let html = ErrorPage {
        page,
        message: e.message().to_owned(),
    };
    (e.status(), html).into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/error.html")]
struct ErrorPage<'a> {
    page: &'a Page,
    message: String,
}

// ------------------------------------------------------------ run list

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

#[derive(Template, WebTemplate)]
#[template(path = "finance/runs.html")]
struct RunsPage {
    page: Page,
    errors: FormErrors,
    period: String,
    reward_pool_fen: String,
    runs: Vec<RunItem>,
    suggested: String,
}

async fn runs_view(
    state: &AppState,
    page: Page,
    errors: FormErrors,
    period: String,
    reward_pool_fen: String,
) -> Response {
    let runs = match st::list_runs(state.db.conn(), false, None, 200).await {
        Ok((rows, _)) => rows.iter().map(RunItem::from).collect(),
        Err(e) => return internal_page(&page, e),
    };
    let suggested = domain::Period::containing(&Utc::now(), state.config.timezone)
        .ok()
        .and_then(domain::Period::prev)
        .map(|p| p.to_string())
        .unwrap_or_default();
    let mut page = page;
    page.has_errors = !errors.is_empty();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        RunsPage {
            page,
            errors,
            period,
            reward_pool_fen,
            runs,
            suggested,
        },
    )
        .into_response()
}

async fn runs_page(State(state): State<AppState>, page: Page) -> Response {
    if let Err(r) = require(&page, &[Role::Finance, Role::Supervisor, Role::Admin]) {
        return r;
    }
    runs_view(
        &state,
        page,
        FormErrors::default(),
        String::new(),
        "0".into(),
    )
    .await
}

#[derive(Deserialize)]
struct DraftForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    reward_pool_fen: String,
}

async fn draft_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    body: Bytes,
) -> Response {
    if let Err(r) = require(&page, &[Role::Finance]) {
        return r;
    }
    let form: DraftForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut errors = FormErrors::default();
    let pool = form.reward_pool_fen.trim();
    let pool_value = if pool.is_empty() {
        Some(0)
    } else {
        pool.parse::<i64>().ok().filter(|p| *p >= 0)
    };
    if pool_value.is_none() {
        errors.push("reward_pool_fen", page.t("finance.pool_invalid"));
    }
    let params = serde_json::json!({"reward_pool_fen": pool_value.unwrap_or(0)});
    let parsed = parse_request(&form.period, Some(params), state.config.timezone);
    let (period, params) = match parsed {
        Ok(p) if errors.is_empty() => p,
        Ok(_) => {
            return runs_view(&state, page, errors, form.period, form.reward_pool_fen).await;
        }
        Err(e) => {
            errors.push(e.field().unwrap_or("period"), e.message());
            return runs_view(&state, page, errors, form.period, form.reward_pool_fen).await;
        }
    };
    let Some(current) = page.current.as_ref() else {
        return internal_page(&page, ApiError::unauthorized("session"));
    };
    let who = actor(current, request_id);
    match settlement::draft(
        &state.db,
        period,
        &params,
        state.config.settlement_grace,
        Utc::now(),
        &who,
    )
    .await
    {
        Ok(run) => Redirect::to(&format!("/finance/settlements/{}", run.id)).into_response(),
        Err(e) => {
            let e: ApiError = e.into();
            if e.status().is_server_error() {
                return internal_page(&page, e);
            }
            errors.push("period", e.message());
            runs_view(&state, page, errors, form.period, form.reward_pool_fen).await
        }
    }
}

// ------------------------------------------------------------ one run

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
            order: l
                .order_id
                .and_then(|o| n.orders.get(&o).cloned())
                .unwrap_or_default(),
            app: n.apps.get(&l.app_id).cloned().unwrap_or_default(),
            isv: n.orgs.get(&l.isv_org_id).cloned().unwrap_or_default(),
            users: l.users_u,
            ratings: l.ratings_n,
            rating: crate::api::settlements::r_display(l),
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

/// One bar segment of the budget-share chart.
struct Segment {
    x: String,
    width: String,
    title: String,
    /// Alternating fills plus a text label, so colour is never the only cue.
    fill: &'static str,
}

struct ShareChart {
    order: String,
    budget: String,
    segments: Vec<Segment>,
    rows: Vec<(String, String, String)>,
}

const FILLS: [&str; 4] = ["#1d70b8", "#00703c", "#d4351c", "#6f72af"];

fn share_charts(lines: &[LineRow], n: &Names) -> Vec<ShareChart> {
    let mut by_order: BTreeMap<i64, Vec<&LineRow>> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.kind == "payment") {
        by_order.entry(l.order_id.unwrap_or(0)).or_default().push(l);
    }
    by_order
        .into_iter()
        .map(|(order_id, ls)| {
            let budget = ls.first().map(|l| l.budget_fen).unwrap_or(0).max(1);
            let mut x = 0.0_f64;
            let mut segments = Vec::new();
            let mut rows = Vec::new();
            for (i, l) in ls.iter().enumerate() {
                // Drawing only: the amounts themselves are exact integers.
                let share = l.amount_fen as f64 / budget as f64 * 100.0;
                let name = n.apps.get(&l.app_id).cloned().unwrap_or_default();
                rows.push((name.clone(), yuan(l.amount_fen), format!("{share:.1}%")));
                if l.amount_fen <= 0 {
                    continue;
                }
                segments.push(Segment {
                    x: format!("{x:.2}"),
                    width: format!("{share:.2}"),
                    title: format!("{name}: {} ({share:.1}%)", yuan(l.amount_fen)),
                    fill: FILLS[i % FILLS.len()],
                });
                x += share;
            }
            ShareChart {
                order: n.orders.get(&order_id).cloned().unwrap_or_default(),
                budget: yuan(budget),
                segments,
                rows,
            }
        })
        .collect()
}

/// One point of the users-against-rating chart.
struct Point {
    cx: String,
    cy: String,
    title: String,
}

struct Scatter {
    points: Vec<Point>,
    max_users: i64,
}

fn scatter(lines: &[LineRow], n: &Names) -> Scatter {
    let payments: Vec<&LineRow> = lines.iter().filter(|l| l.kind == "payment").collect();
    let max_users = payments.iter().map(|l| l.users_u).max().unwrap_or(0).max(1);
    let points = payments
        .iter()
        .map(|l| {
            let r: f64 = crate::api::settlements::r_display(l).parse().unwrap_or(0.0);
            // Plot area: x 50..570 (users), y 20..220 (rating 1..5 upwards).
            let cx = 50.0 + l.users_u as f64 / max_users as f64 * 520.0;
            let cy = 220.0 - (r - 1.0).clamp(0.0, 4.0) / 4.0 * 200.0;
            Point {
                cx: format!("{cx:.1}"),
                cy: format!("{cy:.1}"),
                title: format!(
                    "{}: U={}, R={}",
                    n.apps.get(&l.app_id).cloned().unwrap_or_default(),
                    l.users_u,
                    crate::api::settlements::r_display(l)
                ),
            }
        })
        .collect();
    Scatter { points, max_users }
}

struct PayoutItem {
    id: i64,
    line_id: i64,
    isv: String,
    status: String,
    amount: String,
    destination: String,
    external_id: String,
    reason: String,
    retryable: bool,
    /// Kept back to offset the ISV's negative adjustments; empty if none.
    offset: String,
}

fn payout_items(payouts: &[PayoutRow], lines: &[LineRow], n: &Names) -> Vec<PayoutItem> {
    let isv_of: BTreeMap<i64, i64> = lines.iter().map(|l| (l.id, l.isv_org_id)).collect();
    payouts
        .iter()
        .map(|p| PayoutItem {
            id: p.id,
            line_id: p.line_id,
            isv: isv_of
                .get(&p.line_id)
                .and_then(|o| n.orgs.get(o).cloned())
                .unwrap_or_default(),
            status: p.status.clone(),
            amount: yuan(p.amount_fen),
            destination: p.destination.clone().unwrap_or_default(),
            external_id: p.external_id.clone().unwrap_or_default(),
            reason: p.last_error.clone().unwrap_or_default(),
            retryable: p.status == "failed" || p.status == "held",
            offset: if p.offset_fen == 0 {
                String::new()
            } else {
                yuan(p.offset_fen)
            },
        })
        .collect()
}

/// A correction recorded against the run, as its table shows it.
struct CorrectionItem {
    line_id: i64,
    app: String,
    isv: String,
    amount: String,
    reason: String,
    kind: String,
    /// The later run that took it in, if any.
    applied_run_id: Option<i64>,
}

/// A line finance may correct, for the form's choice of line.
struct LineChoice {
    id: i64,
    label: String,
    selected: bool,
}

/// What finance typed into the correction form, kept when it is refused.
#[derive(Default, Deserialize)]
struct CorrectionForm {
    #[serde(default)]
    line_id: String,
    #[serde(default)]
    amount_fen: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/run.html")]
struct RunPage {
    page: Page,
    errors: FormErrors,
    form: CorrectionForm,
    line_choices: Vec<LineChoice>,
    corrections: Vec<CorrectionItem>,
    adjustments: String,
    has_adjustments: bool,
    run: RunItem,
    budget: String,
    pool: String,
    params: String,
    approved_at: String,
    can_act: bool,
    lines: Vec<LineItem>,
    charts: Vec<ShareChart>,
    scatter: Scatter,
    payouts: Vec<PayoutItem>,
    confirmed: usize,
}

async fn run_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(id): WebPath<i64>,
) -> Response {
    run_view(
        &state,
        page,
        id,
        FormErrors::default(),
        CorrectionForm::default(),
    )
    .await
}

/// The run page; with `errors`, the correction form as finance filled it
/// in, answered 422.
async fn run_view(
    state: &AppState,
    page: Page,
    id: i64,
    errors: FormErrors,
    form: CorrectionForm,
) -> Response {
    let role = match require(&page, &[Role::Finance, Role::Supervisor, Role::Admin]) {
        Ok((_, role, _)) => role,
        Err(r) => return r,
    };
    let run = match st::find_run(state.db.conn(), id).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "notfound.body",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    let loaded = async {
        let lines = st::lines(state.db.conn(), id).await?;
        let payouts = st::payouts_of_run(state.db.conn(), id).await?;
        let corrections = st::corrections_of_run(state.db.conn(), id).await?;
        Ok::<_, ApiError>((lines, payouts, corrections))
    }
    .await;
    let (lines, payouts, corrections) = match loaded {
        Ok(x) => x,
        Err(e) => return internal_page(&page, e),
    };
    let n = match names(state, &lines).await {
        Ok(n) => n,
        Err(e) => return internal_page(&page, e),
    };
    let corrections = corrections
        .iter()
        .map(|c| CorrectionItem {
            line_id: c.line_id,
            app: n.apps.get(&c.app_id).cloned().unwrap_or_default(),
            isv: n.orgs.get(&c.isv_org_id).cloned().unwrap_or_default(),
            amount: yuan(c.amount_fen),
            reason: c.reason.clone(),
            kind: c.kind.clone(),
            applied_run_id: c.applied_run_id,
        })
        .collect();
    let chosen: Option<i64> = form.line_id.trim().parse().ok();
    let line_choices = lines
        .iter()
        .map(|l| LineChoice {
            id: l.id,
            label: format!(
                "#{} {} · {} · {} · {}",
                l.id,
                l.kind,
                n.apps.get(&l.app_id).cloned().unwrap_or_default(),
                n.orgs.get(&l.isv_org_id).cloned().unwrap_or_default(),
                yuan(l.amount_fen)
            ),
            selected: chosen == Some(l.id),
        })
        .collect();
    let adjustments: i64 = lines
        .iter()
        .filter(|l| l.kind == "adjustment")
        .map(|l| l.amount_fen)
        .sum();
    let mut page = page;
    page.has_errors = !errors.is_empty();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        RunPage {
            errors,
            form,
            line_choices,
            corrections,
            has_adjustments: lines.iter().any(|l| l.kind == "adjustment"),
            adjustments: yuan(adjustments),
            run: RunItem::from(&run),
            budget: yuan(run.budget_total_fen),
            pool: yuan(run.reward_pool_fen),
            params: serde_json::to_string(&run.params).unwrap_or_default(),
            approved_at: run
                .approved_at
                .map(|t| {
                    t.with_timezone(&state.config.timezone)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            can_act: role == Role::Finance,
            charts: share_charts(&lines, &n),
            scatter: scatter(&lines, &n),
            confirmed: payouts.iter().filter(|p| p.status == "confirmed").count(),
            payouts: payout_items(&payouts, &lines, &n),
            lines: line_items(&lines, &n),
            page,
        },
    )
        .into_response()
}

/// Finance records a correction of one of an approved run's lines; it
/// becomes an adjustment line in the next draft of a later period.
async fn correction_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    if let Err(r) = require(&page, &[Role::Finance]) {
        return r;
    }
    let form: CorrectionForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut errors = FormErrors::default();
    let line_id = form.line_id.trim().parse::<i64>().ok();
    if line_id.is_none() {
        errors.push("line_id", page.t("finance.correction_line_missing"));
    }
    // Whole fen only: "1.5" or "一百" is refused, not rounded.
    let amount = form.amount_fen.trim().parse::<i64>().ok();
    if amount.is_none() {
        errors.push("amount_fen", page.t("finance.correction_amount_invalid"));
    }
    if form.reason.trim().is_empty() {
        errors.push("reason", page.t("finance.correction_reason_missing"));
    }
    let (Some(line_id), Some(amount), true) = (line_id, amount, errors.is_empty()) else {
        return run_view(&state, page, id, errors, form).await;
    };
    let Some(current) = page.current.as_ref() else {
        return internal_page(&page, ApiError::unauthorized("session"));
    };
    let who = actor(current, request_id);
    match st::record_correction(&state.db, id, line_id, amount, &form.reason, &who).await {
        Ok(_) => Redirect::to(&format!("/finance/settlements/{id}#corrections")).into_response(),
        Err(e) => {
            let e: ApiError = e.into();
            match e.field() {
                Some(field) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
                    errors.push(field, e.message());
                    run_view(&state, page, id, errors, form).await
                }
                _ if e.status() == StatusCode::NOT_FOUND && line_id > 0 => {
                    errors.push("line_id", page.t("finance.correction_line_missing"));
                    run_view(&state, page, id, errors, form).await
                }
                _ => error_page(&page, e),
            }
        }
    }
}

#[derive(Deserialize)]
struct EmptyForm {}

async fn approve_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let current = match finance_post(&state, &page, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    match st::approve(&state.db, id, &actor(current, request_id)).await {
        Ok(_) => Redirect::to(&format!("/finance/settlements/{id}")).into_response(),
        Err(e) => error_page(&page, e.into()),
    }
}

async fn pay_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let current = match finance_post(&state, &page, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let provider = match settlement::provider(&state.config) {
        Ok(p) => p,
        Err(e) => return internal_page(&page, ApiError::internal(e)),
    };
    let who = actor(current, request_id);
    match st::start_payout(&state.db, id, provider.name(), &who).await {
        Ok(run) => {
            settlement::spawn_pay_run(&state, run.id, who);
            Redirect::to(&format!("/finance/settlements/{id}#payouts")).into_response()
        }
        Err(e) => error_page(&page, e.into()),
    }
}

async fn retry_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let current = match finance_post(&state, &page, &body) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let who = actor(current, request_id);
    match st::retry_payout(&state.db, id, &who).await {
        Ok(p) => {
            settlement::spawn_pay_run(&state, p.run_id, who);
            Redirect::to(&format!("/finance/settlements/{}#payouts", p.run_id)).into_response()
        }
        Err(e) => error_page(&page, e.into()),
    }
}

// ------------------------------------------------------------ public

#[derive(Template, WebTemplate)]
#[template(path = "finance/public_list.html")]
struct PublicListPage {
    page: Page,
    runs: Vec<RunItem>,
}

async fn public_list(State(state): State<AppState>, page: Page) -> Response {
    match st::list_runs(state.db.conn(), true, None, 200).await {
        Ok((rows, _)) => PublicListPage {
            runs: rows.iter().map(RunItem::from).collect(),
            page,
        }
        .into_response(),
        Err(e) => internal_page(&page, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/public_run.html")]
struct PublicRunPage {
    page: Page,
    run: RunItem,
    budget: String,
    pool: String,
    params: String,
    lines: Vec<LineItem>,
    charts: Vec<ShareChart>,
}

async fn public_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(id): WebPath<i64>,
) -> Response {
    let run = match approved_run(&state, id).await {
        Ok(r) => r,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "notfound.body",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    let lines = match st::lines(state.db.conn(), id).await {
        Ok(l) => l,
        Err(e) => return internal_page(&page, e),
    };
    let n = match names(&state, &lines).await {
        Ok(n) => n,
        Err(e) => return internal_page(&page, e),
    };
    PublicRunPage {
        run: RunItem::from(&run),
        budget: yuan(run.budget_total_fen),
        pool: yuan(run.reward_pool_fen),
        params: serde_json::to_string(&run.params).unwrap_or_default(),
        charts: share_charts(&lines, &n),
        lines: line_items(&lines, &n),
        page,
    }
    .into_response()
}

// ------------------------------------------------------------ ISV

struct StatementItem {
    period: String,
    status: String,
    total: String,
    lines: Vec<LineItem>,
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/statements.html")]
struct StatementsPage {
    page: Page,
    errors: FormErrors,
    account: String,
    statements: Vec<StatementItem>,
}

async fn statements_view(
    state: &AppState,
    page: Page,
    org_id: i64,
    errors: FormErrors,
    account_input: Option<String>,
) -> Response {
    let loaded = async {
        let runs = st::lines_of_isv(state.db.conn(), org_id).await?;
        let org = store::orgs::find_by_id(state.db.conn(), org_id).await?;
        Ok::<_, ApiError>((runs, org))
    }
    .await;
    let (runs, org) = match loaded {
        Ok(x) => x,
        Err(e) => return internal_page(&page, e),
    };
    let all_lines: Vec<LineRow> = runs.iter().flat_map(|(_, ls)| ls.clone()).collect();
    let n = match names(state, &all_lines).await {
        Ok(n) => n,
        Err(e) => return internal_page(&page, e),
    };
    let statements = runs
        .iter()
        .map(|(run, ls)| StatementItem {
            period: run.period.clone(),
            status: run.status.clone(),
            total: yuan(ls.iter().map(|l| l.amount_fen).sum()),
            lines: line_items(ls, &n),
        })
        .collect();
    let mut page = page;
    page.has_errors = !errors.is_empty();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        StatementsPage {
            account: account_input
                .or_else(|| org.and_then(|o| o.payout_account))
                .unwrap_or_default(),
            errors,
            statements,
            page,
        },
    )
        .into_response()
}

async fn statements_page(State(state): State<AppState>, page: Page) -> Response {
    let org_id = match require(&page, &[Role::Isv]) {
        Ok((_, _, Some(org))) => org,
        Ok(_) => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "finance.forbidden",
            );
        }
        Err(r) => return r,
    };
    statements_view(&state, page, org_id, FormErrors::default(), None).await
}

#[derive(Deserialize)]
struct AccountForm {
    #[serde(default)]
    account: String,
}

async fn account_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    body: Bytes,
) -> Response {
    let (user_id, role, org_id) = match require(&page, &[Role::Isv]) {
        Ok((u, r, Some(org))) => (u, r, org),
        Ok(_) => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "finance.forbidden",
            );
        }
        Err(r) => return r,
    };
    let form: AccountForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let account = form.account.trim().to_owned();
    if !account.is_empty() && !payouts::valid_account(&account) {
        let mut errors = FormErrors::default();
        errors.push("account", page.t("finance.account_invalid"));
        return statements_view(&state, page, org_id, errors, Some(account)).await;
    }
    let value = (!account.is_empty()).then_some(account);
    let saved = async {
        let txn = state.db.begin_write().await?;
        store::orgs::set_payout_account(&txn, org_id, value.clone()).await?;
        store::audit::append(
            &txn,
            store::audit::AuditEntry {
                actor_id: Some(user_id),
                actor_role: Some(role),
                action: "organisation.payout_account".into(),
                object_type: "organisation".into(),
                object_id: Some(org_id),
                summary: match &value {
                    Some(a) => format!("登记收款账户 {a}"),
                    None => "清除收款账户".into(),
                },
                request_id: request_id.0,
            },
        )
        .await?;
        txn.commit().await?;
        Ok::<_, store::StoreError>(())
    }
    .await;
    match saved {
        Ok(()) => Redirect::to("/isv/statements").into_response(),
        Err(e) => internal_page(&page, e),
    }
}
