//! Writing the order's rules document from the order page.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::extract::CsrfForm;
use super::super::{FormErrors, WebPath, internal_page};
use super::order::{Forms, refused};
use super::{Desk, own_order, refusal};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct RulesForm {
    #[serde(default)]
    rules: String,
}

pub(super) async fn rules_submit(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<RulesForm>,
) -> Response {
    if let Err(r) = own_order(&state, &page, &actor, id).await {
        return r;
    }
    let input = service::orders::RulesInput {
        markdown: form.rules.clone(),
    };
    match service::orders::put_rules(&state, &actor, id, input).await {
        Ok(_) => Redirect::to(&format!("/dept/orders/{id}?done=rules#rules")).into_response(),
        Err(e) if e.is_client_error() => {
            let mut errors = FormErrors::default();
            refusal(&page, &mut errors, "rules", &e);
            let forms = Forms {
                rules: Some(form.rules),
                ..Default::default()
            };
            let status = crate::error::status_of(&e);
            refused(&state, page, &actor, id, errors, status, forms).await
        }
        Err(e) => internal_page(&page, e),
    }
}
