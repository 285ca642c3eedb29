//! Requirement orders: drafts, publication, datasets, test suites and the
//! ISVs' starter kit. The use cases are `service::orders`; each handler
//! parses the request, calls one of them and returns its result.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use domain::OrderStatus;
use serde::Deserialize;
use service::Actor;
use service::orders::{
    self, CreateOrder, DatasetView, OrderList, OrderQuery, OrderView, RulesInput, SuiteInput,
    SuitePut, SuiteView, UpdateOrder,
};
use utoipa::IntoParams;

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{Authed, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create, list, get_order, update, publish, close, cancel, put_dataset, put_test_suite,
        get_test_suite, starter_kit, put_rules
    ),
    tags((name = "orders", description = "Requirement orders, datasets and test suites"))
)]
pub struct OrdersApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(create).get(list))
        .route("/orders/{id}", get(get_order).patch(update))
        .route("/orders/{id}/publish", post(publish))
        .route("/orders/{id}/close", post(close))
        .route("/orders/{id}/cancel", post(cancel))
        .route(
            "/orders/{id}/datasets/{name}",
            // The handler reads the body itself under its own cap.
            put(put_dataset).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/orders/{id}/test-suite",
            put(put_test_suite)
                .get(get_test_suite)
                .layer(DefaultBodyLimit::max(orders::cases::MAX_SUITE_BYTES)),
        )
        .route("/orders/{id}/starter-kit.zip", get(starter_kit))
        .route("/orders/{id}/rules", put(put_rules))
}

/// Whoever asks: the signed-in user when there is a session (a bad one is
/// refused), anonymous otherwise.
pub struct Viewer(pub Actor);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let request_id = match RequestId::from_request_parts(parts, state).await {
            Ok(id) => id,
            Err(never) => match never {},
        };
        let current = match parts.extensions.get::<crate::auth::CurrentUser>() {
            Some(u) => Some(u.clone()),
            None => crate::auth::session_user(parts, state).await?,
        };
        Ok(Viewer(match current {
            Some(u) => u.actor(&request_id),
            None => Actor::anonymous(request_id.as_option()),
        }))
    }
}

/// Create a draft order (department).
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = CreateOrder,
    security(("bearer" = [])),
    responses((status = 201, body = OrderView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiJson(req): ApiJson<CreateOrder>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let order = orders::create(&state, &who.current.actor(&request_id), req).await?;
    Ok((
        StatusCode::CREATED,
        Json(orders::order_view(&state, order).await?),
    ))
}

/// Orders, newest first. Anyone may list published orders; a department also
/// sees its own drafts (with `?department=<its org id>` or `?status=draft`).
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = OrderList), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Viewer(actor): Viewer,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> ApiResult<Json<OrderList>> {
    Ok(Json(orders::list(&state, &actor, &query).await?))
}

/// One order with its datasets and public Q&A (drafts: their department only).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    Viewer(actor): Viewer,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(orders::queries::get(&state, &actor, id).await?))
}

/// Edit a draft (department); an open order's contract is frozen (409).
#[utoipa::path(patch, path = "/api/v1/orders/{id}", tag = "orders", request_body = UpdateOrder,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateOrder>,
) -> ApiResult<Json<OrderView>> {
    let order = orders::update(&state, &who.current.actor(&request_id), id, req).await?;
    Ok(Json(orders::order_view(&state, order).await?))
}

/// Write the order's rules document, Markdown (its department; not once
/// the order is closed or cancelled). The order view carries it as `rules`.
#[utoipa::path(put, path = "/api/v1/orders/{id}/rules", tag = "orders", request_body = RulesInput,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_rules(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<RulesInput>,
) -> ApiResult<Json<OrderView>> {
    Ok(Json(
        orders::put_rules(&state, &who.current.actor(&request_id), id, req).await?,
    ))
}

async fn move_to(
    state: &AppState,
    who: &Authed<roles::Department>,
    request_id: &RequestId,
    id: i64,
    to: OrderStatus,
) -> ApiResult<Json<OrderView>> {
    let order = orders::move_order(state, &who.current.actor(request_id), id, to).await?;
    Ok(Json(orders::order_view(state, order).await?))
}

/// Publish a draft: the contract freezes (department).
#[utoipa::path(post, path = "/api/v1/orders/{id}/publish", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    move_to(&state, &who, &request_id, id, OrderStatus::Open).await
}

/// Close an open order (department).
#[utoipa::path(post, path = "/api/v1/orders/{id}/close", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    move_to(&state, &who, &request_id, id, OrderStatus::Closed).await
}

/// Cancel a draft or open order (department).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    move_to(&state, &who, &request_id, id, OrderStatus::Cancelled).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DatasetQuery {
    /// Whether ISVs may download it in the starter kit (default false).
    pub sample: Option<bool>,
}

/// Upload (or replace) a dataset: a JSON object of key -> record, or JSON
/// Lines of `{"key", "record"}`; at most 8 MiB (department).
#[utoipa::path(put, path = "/api/v1/orders/{id}/datasets/{name}", tag = "orders",
    params(DatasetQuery), security(("bearer" = [])),
    responses((status = 200, body = DatasetView), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_dataset(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath((id, name)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<DatasetQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<DatasetView>> {
    // Refuse an announced oversize body before reading it.
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > orders::MAX_DATASET_BYTES
    {
        return Err(orders::datasets::too_large().into());
    }
    let bytes: Bytes = axum::body::to_bytes(body, orders::MAX_DATASET_BYTES)
        .await
        .map_err(|_| orders::datasets::too_large())?;
    let actor = who.current.actor(&request_id);
    let d =
        orders::put_dataset(&state, &actor, id, &name, q.sample.unwrap_or(false), &bytes).await?;
    Ok(Json(d.into()))
}

/// Replace a draft's test suite, or add cases to an open order's suite,
/// which re-tests every published version (department).
#[utoipa::path(put, path = "/api/v1/orders/{id}/test-suite", tag = "orders",
    request_body = SuiteInput, security(("bearer" = [])),
    responses((status = 200, body = SuitePut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_test_suite(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SuiteInput>,
) -> ApiResult<Json<SuitePut>> {
    Ok(Json(
        orders::put_suite(&state, &who.current.actor(&request_id), id, req).await?,
    ))
}

/// The test suite: the department sees every case, ISVs the sample cases.
#[utoipa::path(get, path = "/api/v1/orders/{id}/test-suite", tag = "orders",
    responses((status = 200, body = SuiteView), (status = 404, body = ErrorBody)))]
pub async fn get_test_suite(
    State(state): State<AppState>,
    Viewer(actor): Viewer,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SuiteView>> {
    Ok(Json(orders::suite_for(&state, &actor, id).await?.1))
}

/// The starter kit zip: contract, sample cases and sample datasets, a suite
/// directory for `govmarket app test --suite` (with `kit.json`: the hidden
/// cases and threshold of the platform's run).
#[utoipa::path(get, path = "/api/v1/orders/{id}/starter-kit.zip", tag = "orders",
    responses((status = 200, content_type = "application/zip"), (status = 404, body = ErrorBody)))]
pub async fn starter_kit(
    State(state): State<AppState>,
    Viewer(actor): Viewer,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (order, bytes) = orders::starter_kit_zip(&state, &actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"order-{}-starter-kit.zip\"",
                    order.id
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
