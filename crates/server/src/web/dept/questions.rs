//! Answering a question publicly from the order page.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::extract::CsrfForm;
use super::super::{FormErrors, WebPath, internal_page, missing};
use super::order::{Forms, refused};
use super::{Desk, own_order, refusal};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    answer: String,
}

pub(super) async fn answer_submit(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    WebPath(qid): WebPath<i64>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Response {
    let order_id = match store::orders::question(state.db.conn(), qid).await {
        Ok(Some(q)) => q.question.order_id,
        Ok(None) => return missing(&page),
        Err(e) => return internal_page(&page, e),
    };
    if let Err(r) = own_order(&state, &page, &actor, order_id).await {
        return r;
    }
    match service::questions::answer(&state, &actor, qid, &form.answer).await {
        Ok(_) => Redirect::to(&format!(
            "/dept/orders/{order_id}?done=answered#question-{qid}"
        ))
        .into_response(),
        Err(e) if e.is_client_error() => {
            let mut errors = FormErrors::default();
            refusal(&page, &mut errors, &format!("answer-{qid}"), &e);
            let forms = Forms {
                answer: Some((qid, form.answer)),
                ..Default::default()
            };
            let status = crate::error::status_of(&e);
            refused(&state, page, &actor, order_id, errors, status, forms).await
        }
        Err(e) => internal_page(&page, e),
    }
}
