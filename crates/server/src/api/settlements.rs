//! Settlement runs for finance (draft, approve, pay, statements as CSV),
//! payout retries, and the ISV's own statements and payout account.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::{Period, SettlementParams};
use serde::{Deserialize, Serialize};
use store::settlements::{self as st, Actor, LineRow, PayoutRow, RunRow, SettleError};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;
use service::settlement::{self, SettlementFailure};

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create_run, list_runs, get_run, lines_csv, payouts_csv, approve_run, payout_run,
          retry_payout, my_statements, set_payout_account, create_correction),
    tags((name = "settlements", description = "Quarterly settlement and payouts"))
)]
pub struct SettlementsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settlements", post(create_run).get(list_runs))
        .route("/settlements/{id}", get(get_run))
        .route("/settlements/{id}/lines.csv", get(lines_csv))
        .route("/settlements/{id}/payouts.csv", get(payouts_csv))
        .route("/settlements/{id}/approve", post(approve_run))
        .route("/settlements/{id}/payout", post(payout_run))
        .route(
            "/settlements/{id}/lines/{line_id}/corrections",
            post(create_correction),
        )
        .route("/payouts/{id}/retry", post(retry_payout))
        .route("/statements", get(my_statements))
        .route("/me/payout-account", put(set_payout_account))
}

pub(crate) fn actor(user: &CurrentUser, request_id: RequestId) -> Actor {
    Actor {
        id: Some(user.id()),
        role: Some(user.role()),
        request_id: request_id.0,
    }
}

impl From<SettleError> for ApiError {
    fn from(e: SettleError) -> Self {
        match e {
            SettleError::NotFound => ApiError::not_found("结算 / settlement"),
            SettleError::Transition(t) => {
                ApiError::conflict("invalid_transition", format!("当前状态不允许此操作 / {t}"))
            }
            SettleError::AlreadySettled(p) => ApiError::conflict(
                "already_settled",
                format!(
                    "{p} 的结算已批准，不能再修改；更正请在以后的周期中做调整 / \
                     {p} is approved and immutable; corrections go in a later period"
                ),
            ),
            SettleError::CorrectDraft(_) => ApiError::conflict(
                "correct_draft",
                "草稿可以重新计算，不需要更正；只有已批准的结算才能更正 / \
                 a draft is recomputed, not corrected: only approved runs take corrections",
            ),
            SettleError::LineNotFound => ApiError::not_found("结算行 / statement line"),
            SettleError::InvalidCorrection(c) => {
                let field = match c {
                    domain::adjustment::CorrectionError::NoReason
                    | domain::adjustment::CorrectionError::ReasonTooLong => "reason",
                    _ => "amount_fen",
                };
                ApiError::invalid_field(field, format!("{} / {c}", c.message_zh()))
            }
            SettleError::CorrectionsChanged => ApiError::conflict(
                "corrections_changed",
                "计算草稿期间更正记录发生了变化，请重试 / corrections changed meanwhile; try again",
            ),
            SettleError::Store(s) => s.into(),
        }
    }
}

impl From<SettlementFailure> for ApiError {
    fn from(e: SettlementFailure) -> Self {
        match e {
            SettlementFailure::PeriodNotEnded { period, opens_at } => ApiError::unprocessable(
                "period_not_ended",
                format!(
                    "{period} 尚未结束（含迟到数据宽限期），{} 之后才能结算 / \
                     {period} can be settled from {}",
                    opens_at.to_rfc3339(),
                    opens_at.to_rfc3339()
                ),
            ),
            SettlementFailure::Formula(f) => ApiError::invalid_field("params", f.message_zh()),
            SettlementFailure::Settle(s) => s.into(),
            SettlementFailure::Store(s) => s.into(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRunRequest {
    /// e.g. `2026Q3`.
    pub period: String,
    /// Formula parameters; missing ones take the defaults
    /// (`c`, `m`, `r_min`, `cap_share`, `reward_pool_fen`,
    /// `reward_split_percent`, `time_zone`).
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
}

/// Parses the request's period and parameters; the time zone defaults to
/// the platform's.
pub(crate) fn parse_request(
    period: &str,
    params: Option<serde_json::Value>,
    default_tz: chrono_tz::Tz,
) -> Result<(Period, SettlementParams), ApiError> {
    let period =
        Period::parse(period).map_err(|e| ApiError::invalid_field("period", e.message_zh()))?;
    let mut params = params.unwrap_or_else(|| serde_json::json!({}));
    let Some(obj) = params.as_object_mut() else {
        return Err(ApiError::invalid_field(
            "params",
            "params 应为对象 / params must be an object",
        ));
    };
    obj.entry("time_zone")
        .or_insert_with(|| serde_json::Value::String(default_tz.name().to_owned()));
    let params: SettlementParams = serde_json::from_value(params).map_err(|e| {
        ApiError::invalid_field(
            "params",
            format!("结算参数无效（金额须为整数分）/ invalid params: {e}"),
        )
    })?;
    params
        .validate()
        .map_err(|e| ApiError::invalid_field("params", e.message_zh()))?;
    Ok((period, params))
}

/// A run with its totals.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunView {
    pub id: i64,
    pub period: String,
    /// draft | approved | paying | paid
    pub status: String,
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    pub budget_total_fen: i64,
    pub paid_total_fen: i64,
    pub unspent_fen: i64,
    pub reward_pool_fen: i64,
    pub line_count: i32,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
    pub approved_by: Option<i64>,
    pub approved_at: Option<DateTime<Utc>>,
    pub paid_at: Option<DateTime<Utc>>,
}

impl From<RunRow> for RunView {
    fn from(r: RunRow) -> Self {
        RunView {
            id: r.id,
            period: r.period,
            status: r.status,
            params: r.params,
            budget_total_fen: r.budget_total_fen,
            paid_total_fen: r.paid_total_fen,
            unspent_fen: r.unspent_fen,
            reward_pool_fen: r.reward_pool_fen,
            line_count: r.line_count,
            created_by: r.created_by,
            created_at: r.created_at,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
            paid_at: r.paid_at,
        }
    }
}

/// One statement line with every input of its amount.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineView {
    pub id: i64,
    pub order_id: Option<i64>,
    pub app_id: i64,
    pub isv_org_id: i64,
    /// payment | reward | adjustment
    pub kind: String,
    /// eligible | not_published | no_usage | suspended_for_fraud
    pub eligibility: String,
    /// U
    pub users: i64,
    /// n
    pub ratings: i64,
    pub sum_stars: i64,
    /// Exact rationals as `numerator/denominator`.
    pub r: String,
    pub q: String,
    pub w: String,
    pub sum_w: String,
    /// R to two decimals, for reading.
    pub r_display: String,
    pub budget_fen: i64,
    pub amount_fen: i64,
    pub capped: bool,
    pub rank: Option<i32>,
    pub explanation: String,
    /// On an adjustment line: the correction it carries, the approved run
    /// and line it corrects, and why.
    pub correction_id: Option<i64>,
    pub adjusts_run_id: Option<i64>,
    pub adjusts_line_id: Option<i64>,
    pub reason: Option<String>,
}

fn ratio_text(num: &str, den: &str) -> String {
    if den == "1" {
        num.to_owned()
    } else {
        format!("{num}/{den}")
    }
}

pub(crate) fn r_display(l: &LineRow) -> String {
    domain::Ratio::from_parts(&l.r_num, &l.r_den)
        .map(|r| r.to_decimal_string(2))
        .unwrap_or_default()
}

impl From<LineRow> for LineView {
    fn from(l: LineRow) -> Self {
        LineView {
            r_display: r_display(&l),
            id: l.id,
            order_id: l.order_id,
            app_id: l.app_id,
            isv_org_id: l.isv_org_id,
            kind: l.kind,
            eligibility: l.eligibility,
            users: l.users_u,
            ratings: l.ratings_n,
            sum_stars: l.stars_sum,
            r: ratio_text(&l.r_num, &l.r_den),
            q: ratio_text(&l.q_num, &l.q_den),
            w: ratio_text(&l.w_num, &l.w_den),
            sum_w: ratio_text(&l.sum_w_num, &l.sum_w_den),
            budget_fen: l.budget_fen,
            amount_fen: l.amount_fen,
            capped: l.capped,
            rank: l.rank,
            explanation: l.explanation,
            correction_id: l.correction_id,
            adjusts_run_id: l.adjusts_run_id,
            adjusts_line_id: l.adjusts_line_id,
            reason: l.reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutView {
    pub id: i64,
    pub line_id: i64,
    pub provider: String,
    /// pending | held | sent | confirmed | failed
    pub status: String,
    pub amount_fen: i64,
    pub destination: Option<String>,
    pub idempotency_key: String,
    pub external_id: Option<String>,
    pub attempts: i32,
    /// Why it is held or failed.
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
    /// Kept back from the line's amount to offset the ISV's negative
    /// adjustment lines in this run (`amount_fen` is what is sent).
    pub offset_fen: i64,
}

impl From<PayoutRow> for PayoutView {
    fn from(p: PayoutRow) -> Self {
        PayoutView {
            id: p.id,
            line_id: p.line_id,
            provider: p.provider,
            status: p.status,
            amount_fen: p.amount_fen,
            destination: p.destination,
            idempotency_key: p.idempotency_key,
            external_id: p.external_id,
            attempts: p.attempts,
            last_error: p.last_error,
            updated_at: p.updated_at,
            offset_fen: p.offset_fen,
        }
    }
}

/// A correction of an approved run's line, and where it was taken in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionView {
    pub id: i64,
    /// The approved run and its line being corrected.
    pub run_id: i64,
    pub line_id: i64,
    pub app_id: i64,
    pub isv_org_id: i64,
    /// May be negative.
    pub amount_fen: i64,
    pub reason: String,
    /// correction | carry_forward (a negative net held by the payout)
    pub kind: String,
    pub created_by: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// The later run whose draft carries it as an adjustment line; `null`
    /// until a draft of a later period takes it in.
    pub applied_run_id: Option<i64>,
}

impl From<st::CorrectionRow> for CorrectionView {
    fn from(c: st::CorrectionRow) -> Self {
        CorrectionView {
            id: c.id,
            run_id: c.run_id,
            line_id: c.line_id,
            app_id: c.app_id,
            isv_org_id: c.isv_org_id,
            amount_fen: c.amount_fen,
            reason: c.reason,
            kind: c.kind,
            created_by: c.created_by,
            created_at: c.created_at,
            applied_run_id: c.applied_run_id,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    pub run: RunView,
    pub lines: Vec<LineView>,
    pub payouts: Vec<PayoutView>,
    /// Corrections recorded against this run's lines.
    pub corrections: Vec<CorrectionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RunList {
    pub items: Vec<RunView>,
    pub next: Option<i64>,
}

async fn detail(state: &AppState, run: RunRow) -> ApiResult<RunDetail> {
    let lines = st::lines(state.db.conn(), run.id).await?;
    let payouts = st::payouts_of_run(state.db.conn(), run.id).await?;
    let corrections = st::corrections_of_run(state.db.conn(), run.id).await?;
    Ok(RunDetail {
        run: run.into(),
        lines: lines.into_iter().map(LineView::from).collect(),
        payouts: payouts.into_iter().map(PayoutView::from).collect(),
        corrections: corrections.into_iter().map(CorrectionView::from).collect(),
    })
}

/// Computes the period's draft (finance). Recomputes an existing draft in
/// place; refused for a period not yet ended (plus grace) or already
/// approved.
#[utoipa::path(post, path = "/api/v1/settlements", tag = "settlements",
    request_body = CreateRunRequest, security(("bearer" = [])),
    responses((status = 201, body = RunDetail), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_run(
    State(state): State<AppState>,
    who: Authed<roles::Finance>,
    request_id: RequestId,
    ApiJson(req): ApiJson<CreateRunRequest>,
) -> ApiResult<(StatusCode, Json<RunDetail>)> {
    let (period, params) = parse_request(&req.period, req.params, state.config.timezone)?;
    let run = settlement::draft(
        &state.db,
        period,
        &params,
        state.config.settlement_grace,
        Utc::now(),
        &actor(&who.current, request_id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(detail(&state, run).await?)))
}

/// Settlement runs, newest first (finance, supervisor, admin).
#[utoipa::path(get, path = "/api/v1/settlements", tag = "settlements",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = RunList), (status = 403, body = ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    _who: Authed<roles::SettlementReaders>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<RunList>> {
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let (rows, next) = st::list_runs(state.db.conn(), false, page.cursor, limit).await?;
    Ok(Json(RunList {
        items: rows.into_iter().map(RunView::from).collect(),
        next,
    }))
}

async fn load(state: &AppState, id: i64) -> ApiResult<RunRow> {
    st::find_run(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("结算 / settlement"))
}

/// A run with its lines and payouts (finance, supervisor, admin).
#[utoipa::path(get, path = "/api/v1/settlements/{id}", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RunDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    _who: Authed<roles::SettlementReaders>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunDetail>> {
    let run = load(&state, id).await?;
    Ok(Json(detail(&state, run).await?))
}

/// A CSV field: quoted when needed; a leading formula character is
/// neutralised so a spreadsheet never evaluates it.
pub(crate) fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub(crate) fn csv_response(filename: String, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        // A byte-order mark so spreadsheet programs read the Chinese text
        // as UTF-8.
        format!("\u{feff}{body}"),
    )
        .into_response()
}

/// The statement lines as CSV, every input included.
pub fn lines_to_csv(run: &RunRow, lines: &[LineRow]) -> String {
    let mut out = String::from(
        "period,line_id,kind,order_id,app_id,isv_org_id,eligibility,users_u,ratings_n,stars_sum,\
         r_num,r_den,q_num,q_den,w_num,w_den,sum_w_num,sum_w_den,budget_fen,amount_fen,capped,rank,explanation,\
         correction_id,adjusts_run_id,adjusts_line_id,reason\n",
    );
    for l in lines {
        let row = [
            run.period.clone(),
            l.id.to_string(),
            l.kind.clone(),
            l.order_id.map(|o| o.to_string()).unwrap_or_default(),
            l.app_id.to_string(),
            l.isv_org_id.to_string(),
            l.eligibility.clone(),
            l.users_u.to_string(),
            l.ratings_n.to_string(),
            l.stars_sum.to_string(),
            l.r_num.clone(),
            l.r_den.clone(),
            l.q_num.clone(),
            l.q_den.clone(),
            l.w_num.clone(),
            l.w_den.clone(),
            l.sum_w_num.clone(),
            l.sum_w_den.clone(),
            l.budget_fen.to_string(),
            l.amount_fen.to_string(),
            l.capped.to_string(),
            l.rank.map(|r| r.to_string()).unwrap_or_default(),
            l.explanation.clone(),
            l.correction_id.map(|c| c.to_string()).unwrap_or_default(),
            l.adjusts_run_id.map(|c| c.to_string()).unwrap_or_default(),
            l.adjusts_line_id.map(|c| c.to_string()).unwrap_or_default(),
            l.reason.clone().unwrap_or_default(),
        ];
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// The statement lines as CSV (finance, supervisor, admin).
#[utoipa::path(get, path = "/api/v1/settlements/{id}/lines.csv", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lines_csv(
    State(state): State<AppState>,
    _who: Authed<roles::SettlementReaders>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let run = load(&state, id).await?;
    let lines = st::lines(state.db.conn(), id).await?;
    Ok(csv_response(
        format!("settlement-{}-lines.csv", run.period),
        lines_to_csv(&run, &lines),
    ))
}

/// The payout instructions as CSV for the treasury's bank system (finance).
#[utoipa::path(get, path = "/api/v1/settlements/{id}/payouts.csv", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn payouts_csv(
    State(state): State<AppState>,
    _who: Authed<roles::Finance>,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let run = load(&state, id).await?;
    let payouts = st::payouts_of_run(state.db.conn(), id).await?;
    let mut out = String::from(
        "period,payout_id,line_id,provider,status,amount_fen,amount_yuan,destination,idempotency_key,external_id,last_error,offset_fen\n",
    );
    for p in &payouts {
        let row = [
            run.period.clone(),
            p.id.to_string(),
            p.line_id.to_string(),
            p.provider.clone(),
            p.status.clone(),
            p.amount_fen.to_string(),
            format!("{}.{:02}", p.amount_fen / 100, p.amount_fen % 100),
            p.destination.clone().unwrap_or_default(),
            p.idempotency_key.clone(),
            p.external_id.clone().unwrap_or_default(),
            p.last_error.clone().unwrap_or_default(),
            p.offset_fen.to_string(),
        ];
        let fields: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    Ok(csv_response(
        format!("settlement-{}-payouts.csv", run.period),
        out,
    ))
}

/// Approves a draft (finance): the run becomes immutable.
#[utoipa::path(post, path = "/api/v1/settlements/{id}/approve", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RunView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn approve_run(
    State(state): State<AppState>,
    who: Authed<roles::Finance>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunView>> {
    let run = st::approve(&state.db, id, &actor(&who.current, request_id)).await?;
    Ok(Json(run.into()))
}

/// Pays an approved run (finance): one payout per paid line, through the
/// configured provider, in the background. Lines of ISVs without a payout
/// account are held with the reason; the rest proceed. Calling it again
/// on a run being paid resumes it.
#[utoipa::path(post, path = "/api/v1/settlements/{id}/payout", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 202, body = RunDetail), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn payout_run(
    State(state): State<AppState>,
    who: Authed<roles::Finance>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<RunDetail>)> {
    let provider = settlement::provider(&state.config).map_err(ApiError::internal)?;
    let actor = actor(&who.current, request_id);
    let run = st::start_payout(&state.db, id, provider.name(), &actor).await?;
    settlement::spawn_pay_run(&state, run.id, actor);
    Ok((StatusCode::ACCEPTED, Json(detail(&state, run).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// Whole fen, non-zero, may be negative (at most 10^12 either way); a
    /// line cannot be taken back below zero.
    pub amount_fen: i64,
    /// Why (required, at most 500 characters): shown on the adjustment
    /// line, the statement and the CSV.
    pub reason: String,
}

/// Records a correction of an approved run's line (finance). The run is
/// not changed: the correction becomes an adjustment line in the next
/// draft of a later period.
#[utoipa::path(post, path = "/api/v1/settlements/{id}/lines/{line_id}/corrections", tag = "settlements",
    params(("id" = i64, Path), ("line_id" = i64, Path)),
    request_body = CorrectionRequest, security(("bearer" = [])),
    responses((status = 201, body = CorrectionView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody)))]
pub async fn create_correction(
    State(state): State<AppState>,
    who: Authed<roles::Finance>,
    request_id: RequestId,
    ApiPath((id, line_id)): ApiPath<(i64, i64)>,
    ApiJson(req): ApiJson<CorrectionRequest>,
) -> ApiResult<(StatusCode, Json<CorrectionView>)> {
    let c = st::record_correction(
        &state.db,
        id,
        line_id,
        req.amount_fen,
        &req.reason,
        &actor(&who.current, request_id),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

/// Retries a failed payout with a new idempotency key, or releases a held
/// one once its ISV has a payout account (finance).
#[utoipa::path(post, path = "/api/v1/payouts/{id}/retry", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 202, body = PayoutView), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_payout(
    State(state): State<AppState>,
    who: Authed<roles::Finance>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<PayoutView>)> {
    let actor = actor(&who.current, request_id);
    let p = st::retry_payout(&state.db, id, &actor).await?;
    settlement::spawn_pay_run(&state, p.run_id, actor);
    Ok((StatusCode::ACCEPTED, Json(p.into())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub run_id: i64,
    pub period: String,
    pub status: String,
    pub total_fen: i64,
    pub lines: Vec<LineView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StatementList {
    pub items: Vec<Statement>,
    pub next: Option<i64>,
    /// Where this ISV is paid; `null` holds its payouts.
    pub payout_account: Option<String>,
}

/// The signed-in ISV's statements in approved runs.
#[utoipa::path(get, path = "/api/v1/statements", tag = "settlements",
    security(("bearer" = [])),
    responses((status = 200, body = StatementList), (status = 403, body = ErrorBody)))]
pub async fn my_statements(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
) -> ApiResult<Json<StatementList>> {
    let Some(org_id) = who.user().org_id else {
        return Err(ApiError::forbidden("账户未关联服务商 / no organisation"));
    };
    let runs = st::lines_of_isv(state.db.conn(), org_id).await?;
    let org = store::orgs::find_by_id(state.db.conn(), org_id).await?;
    Ok(Json(StatementList {
        items: runs
            .into_iter()
            .map(|(run, lines)| Statement {
                run_id: run.id,
                period: run.period,
                status: run.status,
                total_fen: lines.iter().map(|l| l.amount_fen).sum(),
                lines: lines.into_iter().map(LineView::from).collect(),
            })
            .collect(),
        next: None,
        payout_account: org.and_then(|o| o.payout_account),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutAccountRequest {
    /// A Stripe connected account id, `acct_…`; `null` clears it.
    pub account: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PayoutAccountView {
    pub payout_account: Option<String>,
}

/// Records where the signed-in ISV is paid.
#[utoipa::path(put, path = "/api/v1/me/payout-account", tag = "settlements",
    request_body = PayoutAccountRequest, security(("bearer" = [])),
    responses((status = 200, body = PayoutAccountView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_payout_account(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
    ApiJson(req): ApiJson<PayoutAccountRequest>,
) -> ApiResult<Json<PayoutAccountView>> {
    let Some(org_id) = who.user().org_id else {
        return Err(ApiError::forbidden("账户未关联服务商 / no organisation"));
    };
    let account = req.account.map(|a| a.trim().to_owned());
    if let Some(a) = &account
        && !payouts::valid_account(a)
    {
        return Err(ApiError::invalid_field(
            "account",
            "收款账户应为 acct_ 开头的 Stripe 关联账户号 / expected a connected account id acct_…",
        ));
    }
    let txn = state.db.begin_write().await?;
    store::orgs::set_payout_account(&txn, org_id, account.clone()).await?;
    store::audit::append(
        &txn,
        store::audit::AuditEntry {
            actor_id: Some(who.user().id),
            actor_role: Some(who.current.role()),
            action: "organisation.payout_account".into(),
            object_type: "organisation".into(),
            object_id: Some(org_id),
            summary: match &account {
                Some(a) => format!("登记收款账户 {a}"),
                None => "清除收款账户".into(),
            },
            request_id: request_id.0,
        },
    )
    .await?;
    txn.commit().await.map_err(ApiError::from)?;
    Ok(Json(PayoutAccountView {
        payout_account: account,
    }))
}
