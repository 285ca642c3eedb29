//! One run for finance, supervisors and admins: totals, lines, charts,
//! payouts and corrections; and finance's correction form.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::{Fen, PayoutStatus, Role};
use serde::Deserialize;
use service::settlement::public::Names;
use service::settlement::runs::{self, RunSheet};
use service::settlement::{self, RunRecords};
use service::{Actor, ServiceError, Thing};
use store::settlements::{LineKind, LineRow, PayoutRow};

use super::charts::{Scatter, ShareChart, scatter, share_charts};
use super::{LineItem, RunItem, error_page, line_items, yuan};
use crate::auth::roles;
use crate::state::AppState;
use crate::web::extract::{CsrfForm, SignedIn};
use crate::web::{FormErrors, Page, WebPath, message_page};

struct PayoutItem {
    id: i64,
    line_id: i64,
    isv: String,
    status: String,
    amount: String,
    destination: String,
    external_id: String,
    reason: String,
    retryable: bool,
    /// Kept back to offset the ISV's negative adjustments; empty if none.
    offset: String,
}

fn payout_items(payouts: &[PayoutRow], lines: &[LineRow], n: &Names) -> Vec<PayoutItem> {
    let isv_of: BTreeMap<i64, i64> = lines.iter().map(|l| (l.id, l.isv_org_id)).collect();
    payouts
        .iter()
        .map(|p| PayoutItem {
            id: p.id,
            line_id: p.line_id,
            isv: isv_of
                .get(&p.line_id)
                .map(|o| n.org(*o))
                .unwrap_or_default(),
            status: p.status.clone(),
            amount: yuan(p.amount_fen),
            destination: p.destination.clone().unwrap_or_default(),
            external_id: p.external_id.clone().unwrap_or_default(),
            reason: p.last_error.clone().unwrap_or_default(),
            retryable: p.is(PayoutStatus::Failed) || p.is(PayoutStatus::Held),
            offset: if p.offset_fen == 0 {
                String::new()
            } else {
                yuan(p.offset_fen)
            },
        })
        .collect()
}

/// A correction recorded against the run, as its table shows it.
struct CorrectionItem {
    line_id: i64,
    app: String,
    isv: String,
    amount: String,
    reason: String,
    kind: String,
    /// The later run that took it in, if any.
    applied_run_id: Option<i64>,
}

/// A line finance may correct, for the form's choice of line.
struct LineChoice {
    id: i64,
    label: String,
    selected: bool,
}

/// What finance typed into the correction form, kept when it is refused.
#[derive(Default, Deserialize)]
pub(super) struct CorrectionForm {
    #[serde(default)]
    line_id: String,
    #[serde(default)]
    amount_fen: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "finance/run.html")]
struct RunPage {
    page: Page,
    errors: FormErrors,
    form: CorrectionForm,
    line_choices: Vec<LineChoice>,
    corrections: Vec<CorrectionItem>,
    adjustments: String,
    has_adjustments: bool,
    run: RunItem,
    budget: String,
    pool: String,
    params: String,
    approved_at: String,
    can_act: bool,
    lines: Vec<LineItem>,
    charts: Vec<ShareChart>,
    scatter: Scatter,
    payouts: Vec<PayoutItem>,
    confirmed: usize,
}

pub(super) async fn run_page(
    State(state): State<AppState>,
    WebPath(id): WebPath<i64>,
    signed: SignedIn<roles::SettlementReaders>,
) -> Response {
    run_view(
        &state,
        signed.page,
        &signed.actor,
        id,
        FormErrors::default(),
        CorrectionForm::default(),
    )
    .await
}

/// The run page; with `errors`, the correction form as finance filled it
/// in, answered 422.
async fn run_view(
    state: &AppState,
    page: Page,
    actor: &Actor,
    id: i64,
    errors: FormErrors,
    form: CorrectionForm,
) -> Response {
    let RunSheet { records, names: n } = match runs::sheet(state, actor, id).await {
        Ok(s) => s,
        Err(ServiceError::NotFound(_)) => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "notfound.body",
            );
        }
        Err(e) => return error_page(&page, e),
    };
    let RunRecords {
        run,
        lines,
        payouts,
        corrections,
    } = records;
    let corrections = corrections
        .iter()
        .map(|c| CorrectionItem {
            line_id: c.line_id,
            app: n.app(c.app_id),
            isv: n.org(c.isv_org_id),
            amount: yuan(c.amount_fen),
            reason: c.reason.clone(),
            kind: c.kind.clone(),
            applied_run_id: c.applied_run_id,
        })
        .collect();
    let chosen: Option<i64> = form.line_id.trim().parse().ok();
    let line_choices = lines
        .iter()
        .map(|l| LineChoice {
            id: l.id,
            label: format!(
                "#{} {} · {} · {} · {}",
                l.id,
                l.kind,
                n.app(l.app_id),
                n.org(l.isv_org_id),
                yuan(l.amount_fen)
            ),
            selected: chosen == Some(l.id),
        })
        .collect();
    let is_adjustment = |l: &&LineRow| l.line_kind() == Some(LineKind::Adjustment);
    let adjustments: i64 = lines
        .iter()
        .filter(is_adjustment)
        .map(|l| l.amount_fen)
        .sum();
    let mut page = page;
    let status = page.show_errors(&errors);
    (
        status,
        RunPage {
            errors,
            form,
            line_choices,
            corrections,
            has_adjustments: lines.iter().any(|l| is_adjustment(&l)),
            adjustments: yuan(adjustments),
            run: RunItem::from(&run),
            budget: yuan(run.budget_total_fen),
            pool: yuan(run.reward_pool_fen),
            params: serde_json::to_string(&run.params).unwrap_or_default(),
            approved_at: run
                .approved_at
                .map(|t| {
                    t.with_timezone(&state.config.timezone)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            can_act: actor.role() == Some(Role::Finance),
            charts: share_charts(&lines, &n),
            scatter: scatter(&lines, &n),
            confirmed: payouts
                .iter()
                .filter(|p| p.is(PayoutStatus::Confirmed))
                .count(),
            payouts: payout_items(&payouts, &lines, &n),
            lines: line_items(&lines, &n),
            page,
        },
    )
        .into_response()
}

/// Finance records a correction of one of an approved run's lines; it
/// becomes an adjustment line in the next draft of a later period.
pub(super) async fn correction_submit(
    State(state): State<AppState>,
    WebPath(id): WebPath<i64>,
    signed: SignedIn<roles::Finance>,
    CsrfForm(form): CsrfForm<CorrectionForm>,
) -> Response {
    let SignedIn { page, actor, .. } = signed;
    let mut errors = FormErrors::default();
    let line_id = form.line_id.trim().parse::<i64>().ok();
    if line_id.is_none() {
        errors.push("line_id", page.t("finance.correction_line_missing"));
    }
    // Whole fen only: "1.5" or "一百" is refused, not rounded.
    let amount = form.amount_fen.trim().parse::<i64>().ok();
    if amount.is_none() {
        errors.push("amount_fen", page.t("finance.correction_amount_invalid"));
    }
    if form.reason.trim().is_empty() {
        errors.push("reason", page.t("finance.correction_reason_missing"));
    }
    let (Some(line_id), Some(amount), true) = (line_id, amount, errors.is_empty()) else {
        return run_view(&state, page, &actor, id, errors, form).await;
    };
    let amount = Fen::from_fen(amount);
    match settlement::record_correction(&state, &actor, id, line_id, amount, &form.reason).await {
        Ok(_) => Redirect::to(&format!("/finance/settlements/{id}#corrections")).into_response(),
        Err(e @ ServiceError::Invalid { .. }) => {
            errors.push(
                e.field().unwrap_or("amount_fen"),
                page.lang.error_message(&e),
            );
            run_view(&state, page, &actor, id, errors, form).await
        }
        Err(ServiceError::NotFound(Thing::SettlementLine)) => {
            errors.push("line_id", page.t("finance.correction_line_missing"));
            run_view(&state, page, &actor, id, errors, form).await
        }
        Err(e) => error_page(&page, e),
    }
}
