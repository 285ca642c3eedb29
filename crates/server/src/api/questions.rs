//! Clarification Q&A: ISVs ask while an order is open, the department
//! answers, and every question and answer is public to all ISVs.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::OrderStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::orders::{audit_entry, owned_order};
use super::{ApiJson, ApiPath, RequestId};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
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

const MAX_BODY_CHARS: usize = 4_000;

#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerView {
    pub id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuestionView {
    pub id: i64,
    pub order_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub answer: Option<AnswerView>,
    /// Unanswered for longer than the configured limit.
    pub overdue: bool,
}

/// `limit`: how long a question may wait (`Config::question_answer_limit`).
fn view(
    q: store::orders::QuestionWithAnswer,
    now: DateTime<Utc>,
    limit: std::time::Duration,
) -> QuestionView {
    let limit = chrono::TimeDelta::from_std(limit).unwrap_or(chrono::TimeDelta::MAX);
    let overdue = q.answer.is_none() && now - q.question.created_at > limit;
    QuestionView {
        id: q.question.id,
        order_id: q.question.order_id,
        body: q.question.body,
        created_at: q.question.created_at,
        answer: q.answer.map(|a| AnswerView {
            id: a.id,
            body: a.body,
            created_at: a.created_at,
        }),
        overdue,
    }
}

pub async fn question_views(state: &AppState, order_id: i64) -> ApiResult<Vec<QuestionView>> {
    let now = Utc::now();
    Ok(store::orders::questions(state.db.conn(), order_id)
        .await?
        .into_iter()
        .map(|q| view(q, now, state.config.question_answer_limit))
        .collect())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionBody {
    pub body: String,
}

fn check_body(body: &str) -> ApiResult<String> {
    let b = body.trim();
    if b.is_empty() {
        return Err(ApiError::invalid_field(
            "body",
            "内容不能为空 / body is required",
        ));
    }
    if b.chars().count() > MAX_BODY_CHARS {
        return Err(ApiError::invalid_field(
            "body",
            format!("不能超过 {MAX_BODY_CHARS} 个字符 / at most {MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(b.to_owned())
}

pub async fn ask_question(
    state: &AppState,
    who: &CurrentUser,
    order_id: i64,
    body: &str,
    request_id: &RequestId,
) -> ApiResult<QuestionView> {
    let body = check_body(body)?;
    let txn = state.db.begin_write().await?;
    let order = store::orders::get(&txn, order_id)
        .await?
        .filter(|o| o.status != OrderStatus::Draft.as_str())
        .ok_or_else(|| ApiError::not_found("订单 / order"))?;
    if order.status != OrderStatus::Open.as_str() {
        return Err(ApiError::conflict(
            "order_not_open",
            "订单未在征集中，不能提问 / questions are taken while the order is open",
        ));
    }
    let q = store::orders::ask(&txn, order_id, who.id(), body).await?;
    store::audit::append(
        &txn,
        audit_entry(
            who,
            "question.ask",
            "question",
            q.id,
            format!("就订单《{}》提出澄清问题", order.title),
            request_id,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(view(
        store::orders::QuestionWithAnswer {
            question: q,
            answer: None,
        },
        Utc::now(),
        state.config.question_answer_limit,
    ))
}

pub async fn answer_question(
    state: &AppState,
    who: &CurrentUser,
    question_id: i64,
    body: &str,
    request_id: &RequestId,
) -> ApiResult<QuestionView> {
    let body = check_body(body)?;
    let txn = state.db.begin_write().await?;
    let q = store::orders::question(&txn, question_id)
        .await?
        .ok_or_else(|| ApiError::not_found("问题 / question"))?;
    let order = owned_order(&txn, who, q.question.order_id).await?;
    if q.answer.is_some() {
        return Err(ApiError::conflict(
            "already_answered",
            "该问题已答复 / the question has been answered",
        ));
    }
    let a = store::orders::answer(&txn, question_id, who.id(), body).await?;
    store::audit::append(
        &txn,
        audit_entry(
            who,
            "question.answer",
            "question",
            question_id,
            format!("公开答复订单《{}》的澄清问题", order.title),
            request_id,
        ),
    )
    .await?;
    // The asker hears of the answer; everyone else reads it on the order page.
    store::notifications::notify(
        &txn,
        store::notifications::Recipient::User(q.question.asked_by),
        "question.answered",
        format!(
            "部门已答复您在订单《{}》中提出的问题。 / Your question on \"{}\" was answered.",
            order.title, order.title
        ),
        Some(format!("/orders/{}#questions", order.id)),
    )
    .await?;
    txn.commit().await?;
    Ok(view(
        store::orders::QuestionWithAnswer {
            question: q.question,
            answer: Some(a),
        },
        Utc::now(),
        state.config.question_answer_limit,
    ))
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
    let q = ask_question(&state, &who.current, id, &req.body, &request_id).await?;
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
        answer_question(&state, &who.current, id, &req.body, &request_id).await?,
    ))
}
