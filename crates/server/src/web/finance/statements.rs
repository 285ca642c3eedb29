//! The ISV's statements and its payout account.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use service::settlement::statements::{self, StatementSheet};
use service::{Actor, ServiceError};

use super::{LineItem, error_page, line_items, yuan};
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{FormErrors, Page, message_page};

struct StatementItem {
    period: String,
    status: String,
    total: String,
    lines: Vec<LineItem>,
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/statements.html")]
struct StatementsPage {
    page: Page,
    errors: FormErrors,
    account: String,
    statements: Vec<StatementItem>,
}

/// An ISV account with no organisation: the finance pages' own 403.
fn no_organisation(page: &Page) -> Response {
    message_page(
        page,
        StatusCode::FORBIDDEN,
        "forbidden.title",
        "finance.forbidden",
    )
}

async fn statements_view(
    state: &AppState,
    page: Page,
    actor: &Actor,
    errors: FormErrors,
    account_input: Option<String>,
) -> Response {
    let StatementSheet {
        runs,
        names,
        payout_account,
    } = match statements::sheet(state, actor).await {
        Ok(s) => s,
        Err(ServiceError::Forbidden(_)) => return no_organisation(&page),
        Err(e) => return error_page(&page, e),
    };
    let statements = runs
        .iter()
        .map(|(run, ls)| StatementItem {
            period: run.period.clone(),
            status: run.status.clone(),
            total: yuan(ls.iter().map(|l| l.amount_fen).sum()),
            lines: line_items(ls, &names),
        })
        .collect();
    let mut page = page;
    let status = page.show_errors(&errors);
    (
        status,
        StatementsPage {
            account: account_input.or(payout_account).unwrap_or_default(),
            errors,
            statements,
            page,
        },
    )
        .into_response()
}

pub(super) async fn statements_page(
    State(state): State<AppState>,
    signed: SignedIn<roles::Isv>,
) -> Response {
    statements_view(
        &state,
        signed.page,
        &signed.actor,
        FormErrors::default(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct AccountForm {
    #[serde(default)]
    account: String,
}

pub(super) async fn account_submit(
    State(state): State<AppState>,
    signed: SignedIn<roles::Isv>,
    CsrfForm(form): CsrfForm<AccountForm>,
) -> Response {
    let SignedIn { page, actor, .. } = signed;
    let account = form.account.trim().to_owned();
    // An empty field clears the account.
    let value = (!account.is_empty()).then_some(account.as_str());
    match statements::set_payout_account(&state, &actor, value).await {
        Ok(_) => Redirect::to("/isv/statements").into_response(),
        Err(ServiceError::Invalid { .. }) => {
            let mut errors = FormErrors::default();
            errors.push("account", page.t("finance.account_invalid"));
            statements_view(&state, page, &actor, errors, Some(account)).await
        }
        Err(ServiceError::Forbidden(_)) => no_organisation(&page),
        Err(e) => error_page(&page, e),
    }
}
