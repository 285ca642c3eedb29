//! Finance's buttons on a run: approve, pay, retry a payout. Each is a
//! form post with nothing in it but the CSRF token.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use service::settlement;

use super::error_page;
use crate::auth::roles;
use crate::state::AppState;
use crate::web::WebPath;
use crate::web::extract::{CsrfForm, SignedIn};

#[derive(Deserialize)]
pub(super) struct EmptyForm {}

pub(super) async fn approve_submit(
    State(state): State<AppState>,
    WebPath(id): WebPath<i64>,
    signed: SignedIn<roles::Finance>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match settlement::approve(&state, &signed.actor, id).await {
        Ok(_) => Redirect::to(&format!("/finance/settlements/{id}")).into_response(),
        Err(e) => error_page(&signed.page, e),
    }
}

pub(super) async fn pay_submit(
    State(state): State<AppState>,
    WebPath(id): WebPath<i64>,
    signed: SignedIn<roles::Finance>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match settlement::start_payout(&state, &signed.actor, id).await {
        Ok(_) => Redirect::to(&format!("/finance/settlements/{id}#payouts")).into_response(),
        Err(e) => error_page(&signed.page, e),
    }
}

pub(super) async fn retry_submit(
    State(state): State<AppState>,
    WebPath(id): WebPath<i64>,
    signed: SignedIn<roles::Finance>,
    CsrfForm(_): CsrfForm<EmptyForm>,
) -> Response {
    match settlement::retry_payout(&state, &signed.actor, id).await {
        Ok(p) => {
            let run_id = p.run_id;
            Redirect::to(&format!("/finance/settlements/{run_id}#payouts")).into_response()
        }
        Err(e) => error_page(&signed.page, e),
    }
}
