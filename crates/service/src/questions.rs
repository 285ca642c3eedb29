//! Clarification Q&A: ISVs ask while an order is open, the department
//! answers, and every question and answer is public to all ISVs.

use chrono::{DateTime, Utc};
use domain::Role;
use serde::Serialize;
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::orders::owned_order;
use crate::services::Services;

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

/// Every question on an order with its answer, oldest first (public).
pub async fn of_order(services: &Services, order_id: i64) -> ServiceResult<Vec<QuestionView>> {
    let now = Utc::now();
    Ok(store::orders::questions(services.db.conn(), order_id)
        .await?
        .into_iter()
        .map(|q| view(q, now, services.config.question_answer_limit))
        .collect())
}

fn check_body(body: &str) -> ServiceResult<String> {
    let b = body.trim();
    if b.is_empty() {
        return Err(ServiceError::invalid("body", Msg::new("err.body_required")));
    }
    if b.chars().count() > MAX_BODY_CHARS {
        return Err(ServiceError::invalid(
            "body",
            Msg::new("err.too_long").arg("max", MAX_BODY_CHARS),
        ));
    }
    Ok(b.to_owned())
}

/// An ISV asks a question on an open order.
pub async fn ask(
    services: &Services,
    actor: &Actor,
    order_id: i64,
    body: &str,
) -> ServiceResult<QuestionView> {
    let user = actor.require(&[Role::Isv])?;
    let body = check_body(body)?;
    let txn = services.db.begin_write().await?;
    let order = crate::orders::open_order(&txn, order_id, "err.question.order_not_open").await?;
    let q = store::orders::ask(&txn, order_id, user.id, body).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "question.ask",
            "question",
            q.id,
            format!("就订单《{}》提出澄清问题", order.title),
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
        services.config.question_answer_limit,
    ))
}

/// The order's department answers a question publicly, once; the asker is
/// notified.
pub async fn answer(
    services: &Services,
    actor: &Actor,
    question_id: i64,
    body: &str,
) -> ServiceResult<QuestionView> {
    let user = actor.require(&[Role::Department])?;
    let body = check_body(body)?;
    let txn = services.db.begin_write().await?;
    let q = store::orders::question(&txn, question_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Question))?;
    let order = owned_order(&txn, actor, q.question.order_id).await?;
    if q.answer.is_some() {
        return Err(ServiceError::conflict(
            "already_answered",
            Msg::new("err.question.already_answered"),
        ));
    }
    let a = store::orders::answer(&txn, question_id, user.id, body).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "question.answer",
            "question",
            question_id,
            format!("公开答复订单《{}》的澄清问题", order.title),
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
        services.config.question_answer_limit,
    ))
}
