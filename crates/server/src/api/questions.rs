//! Clarification Q&A: ISVs ask while an order is open, the department
//! answers, and every question and answer is public to all ISVs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use service::questions::{self, QuestionView};
use utoipa::ToSchema;

use super::{ApiJson, ApiPath};
use crate::auth::{Authed, roles};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(ask, answer),
    tags((name = "questions", description = "Clarification questions on orders, answered publicly"))
)]
pub struct QuestionsApi;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders/{id}/questions", post(ask))
        .route("/questions/{id}/answer", post(answer))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    pub body: String,
}

/// Ask a clarification question on an open order (ISV).
#[utoipa::path(post, path = "/api/v1/orders/{id}/questions", tag = "questions",
    request_body = QuestionBody, security(("bearer" = [])),
    responses((status = 201, body = QuestionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn ask(
    State(state): State<AppState>,
    who: Authed<roles::Isv>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<QuestionBody>,
) -> ApiResult<(StatusCode, Json<QuestionView>)> {
    let q = questions::ask(&state, &who.current.actor(&request_id), id, &req.body).await?;
    Ok((StatusCode::CREATED, Json(q)))
}

/// Answer a question publicly (the order's department).
#[utoipa::path(post, path = "/api/v1/questions/{id}/answer", tag = "questions",
    request_body = QuestionBody, security(("bearer" = [])),
    responses((status = 200, body = QuestionView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn answer(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<QuestionBody>,
) -> ApiResult<Json<QuestionView>> {
    Ok(Json(
        questions::answer(&state, &who.current.actor(&request_id), id, &req.body).await?,
    ))
}
