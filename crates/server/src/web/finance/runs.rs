//! The finance desk: the list of runs and the form that drafts a period.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;
use service::Actor;
use service::settlement::{self, CreateRunRequest, runs};

use super::RunItem;
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{FormErrors, Page, internal_page};

#[derive(Template, WebTemplate)]
#[template(path = "finance/runs.html")]
struct RunsPage {
    page: Page,
    errors: FormErrors,
    period: String,
    reward_pool_fen: String,
    runs: Vec<RunItem>,
    suggested: String,
}

async fn runs_view(
    state: &AppState,
    page: Page,
    actor: &Actor,
    errors: FormErrors,
    period: String,
    reward_pool_fen: String,
) -> Response {
    let runs = match runs::list(state, actor, None, 200).await {
        Ok(list) => list.items.iter().map(RunItem::from).collect(),
        Err(e) => return internal_page(&page, e),
    };
    let suggested = domain::Period::containing(&Utc::now(), state.config.timezone)
        .ok()
        .and_then(domain::Period::prev)
        .map(|p| p.to_string())
        .unwrap_or_default();
    let mut page = page;
    let status = page.show_errors(&errors);
    (
        status,
        RunsPage {
            page,
            errors,
            period,
            reward_pool_fen,
            runs,
            suggested,
        },
    )
        .into_response()
}

pub(super) async fn runs_page(
    State(state): State<AppState>,
    signed: SignedIn<roles::SettlementReaders>,
) -> Response {
    runs_view(
        &state,
        signed.page,
        &signed.actor,
        FormErrors::default(),
        String::new(),
        "0".into(),
    )
    .await
}

#[derive(Deserialize)]
pub(super) struct DraftForm {
    #[serde(default)]
    period: String,
    #[serde(default)]
    reward_pool_fen: String,
}

pub(super) async fn draft_submit(
    State(state): State<AppState>,
    signed: SignedIn<roles::Finance>,
    CsrfForm(form): CsrfForm<DraftForm>,
) -> Response {
    let SignedIn { page, actor, .. } = signed;
    let mut errors = FormErrors::default();
    let pool = form.reward_pool_fen.trim();
    let pool_value = if pool.is_empty() {
        Some(0)
    } else {
        pool.parse::<i64>().ok().filter(|p| *p >= 0)
    };
    let Some(pool_value) = pool_value else {
        errors.push("reward_pool_fen", page.t("finance.pool_invalid"));
        // The period's own error too, so both are shown at once.
        let params = Some(serde_json::json!({ "reward_pool_fen": 0 }));
        if let Err(e) = settlement::parse_request(&form.period, params, state.config.timezone) {
            errors.push(e.field().unwrap_or("period"), page.lang.error_message(&e));
        }
        return runs_view(
            &state,
            page,
            &actor,
            errors,
            form.period,
            form.reward_pool_fen,
        )
        .await;
    };
    let req = CreateRunRequest {
        period: form.period.clone(),
        params: Some(serde_json::json!({ "reward_pool_fen": pool_value })),
    };
    match settlement::create_draft(&state, &actor, req).await {
        Ok(records) => {
            Redirect::to(&format!("/finance/settlements/{}", records.run.id)).into_response()
        }
        Err(e) if !e.is_client_error() => internal_page(&page, e),
        Err(e) => {
            errors.push(e.field().unwrap_or("period"), page.lang.error_message(&e));
            runs_view(
                &state,
                page,
                &actor,
                errors,
                form.period,
                form.reward_pool_fen,
            )
            .await
        }
    }
}
