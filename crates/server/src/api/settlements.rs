//! Settlement runs for finance (draft, approve, pay, statements as CSV),
//! payout retries, and the ISV's own statements and payout account: thin
//! adapters over `service::settlement`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use domain::Fen;
use serde::Deserialize;
use service::settlement::runs::Csv;
use service::settlement::statements::{PayoutAccountView, StatementList};
use service::settlement::{
    self, CorrectionView, CreateRunRequest, PayoutView, RunDetail, RunList, RunView, runs,
    statements,
};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath, ApiQuery, PageQuery};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

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
    let records = settlement::create_draft(&state, &who.current.actor(&request_id), req).await?;
    Ok((StatusCode::CREATED, Json(records.into())))
}

/// Settlement runs, newest first (finance, supervisor, admin).
#[utoipa::path(get, path = "/api/v1/settlements", tag = "settlements",
    params(PageQuery), security(("bearer" = [])),
    responses((status = 200, body = RunList), (status = 403, body = ErrorBody)))]
pub async fn list_runs(
    State(state): State<AppState>,
    who: Authed<roles::SettlementReaders>,
    request_id: RequestId,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> ApiResult<Json<RunList>> {
    let actor = who.current.actor(&request_id);
    let limit = page.limit.unwrap_or(50);
    Ok(Json(runs::list(&state, &actor, page.cursor, limit).await?))
}

/// A run with its lines and payouts (finance, supervisor, admin).
#[utoipa::path(get, path = "/api/v1/settlements/{id}", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = RunDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_run(
    State(state): State<AppState>,
    who: Authed<roles::SettlementReaders>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<RunDetail>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(runs::detail(&state, &actor, id).await?))
}

/// A CSV download; a byte-order mark so spreadsheet programs read the
/// Chinese text as UTF-8.
pub(crate) fn csv_response(csv: Csv) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", csv.filename),
            ),
        ],
        format!("\u{feff}{}", csv.body),
    )
        .into_response()
}

/// The statement lines as CSV (finance, supervisor, admin).
#[utoipa::path(get, path = "/api/v1/settlements/{id}/lines.csv", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn lines_csv(
    State(state): State<AppState>,
    who: Authed<roles::SettlementReaders>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let actor = who.current.actor(&request_id);
    Ok(csv_response(runs::lines_csv(&state, &actor, id).await?))
}

/// The payout instructions as CSV for the treasury's bank system (finance).
#[utoipa::path(get, path = "/api/v1/settlements/{id}/payouts.csv", tag = "settlements",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn payouts_csv(
    State(state): State<AppState>,
    who: Authed<roles::Finance>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let actor = who.current.actor(&request_id);
    Ok(csv_response(runs::payouts_csv(&state, &actor, id).await?))
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
    let actor = who.current.actor(&request_id);
    Ok(Json(settlement::approve(&state, &actor, id).await?.into()))
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
    let actor = who.current.actor(&request_id);
    let records = settlement::start_payout(&state, &actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(records.into())))
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
    let actor = who.current.actor(&request_id);
    let amount = Fen::from_fen(req.amount_fen);
    let c = settlement::record_correction(&state, &actor, id, line_id, amount, &req.reason).await?;
    Ok((StatusCode::CREATED, Json(c)))
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
    let actor = who.current.actor(&request_id);
    let p = settlement::retry_payout(&state, &actor, id).await?;
    Ok((StatusCode::ACCEPTED, Json(p.into())))
}

/// The signed-in ISV's statements in approved runs.
#[utoipa::path(get, path = "/api/v1/statements", tag = "settlements",
    security(("bearer" = [])),
    responses((status = 200, body = StatementList), (status = 403, body = ErrorBody)))]
pub async fn my_statements(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
) -> ApiResult<Json<StatementList>> {
    let actor = who.current.actor(&request_id);
    Ok(Json(statements::of_isv(&state, &actor).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutAccountRequest {
    /// A Stripe connected account id, `acct_…`; `null` clears it.
    pub account: Option<String>,
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
    let actor = who.current.actor(&request_id);
    let view = statements::set_payout_account(&state, &actor, req.account.as_deref()).await?;
    Ok(Json(view))
}
