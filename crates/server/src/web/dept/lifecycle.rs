//! Publishing, closing and cancelling an order from its page.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use domain::OrderStatus;
use serde::Deserialize;

use super::super::extract::CsrfForm;
use super::super::{FormErrors, WebPath, internal_page};
use super::order::{Forms, refused};
use super::{Desk, own_order, refusal};
use crate::state::AppState;

#[derive(Deserialize)]
pub(super) struct EmptyForm {}

async fn move_submit(state: AppState, desk: Desk, id: i64, to: OrderStatus) -> Response {
    let Desk { page, actor } = desk;
    if let Err(r) = own_order(&state, &page, &actor, id).await {
        return r;
    }
    match service::orders::move_order(&state, &actor, id, to).await {
        Ok(_) => {
            let done = match to {
                OrderStatus::Open => "published",
                OrderStatus::Closed => "closed",
                _ => "cancelled",
            };
            Redirect::to(&format!("/dept/orders/{id}?done={done}")).into_response()
        }
        Err(e) if e.is_client_error() => {
            let mut errors = FormErrors::default();
            refusal(&page, &mut errors, "actions", &e);
            let status = crate::error::status_of(&e);
            refused(&state, page, &actor, id, errors, status, Forms::default()).await
        }
        Err(e) => internal_page(&page, e),
    }
}

pub(super) async fn publish_submit(
    State(state): State<AppState>,
    desk: Desk,
    WebPath(id): WebPath<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    move_submit(state, desk, id, OrderStatus::Open).await
}

pub(super) async fn close_submit(
    State(state): State<AppState>,
    desk: Desk,
    WebPath(id): WebPath<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    move_submit(state, desk, id, OrderStatus::Closed).await
}

pub(super) async fn cancel_submit(
    State(state): State<AppState>,
    desk: Desk,
    WebPath(id): WebPath<i64>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    move_submit(state, desk, id, OrderStatus::Cancelled).await
}
