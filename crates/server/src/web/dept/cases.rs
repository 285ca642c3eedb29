//! Adding one test case from the order page.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use sandbox::{Expect, TestCase, Visibility};
use serde_json::Value;
use service::orders::{CaseInput, SuiteInput};

use super::super::extract::CsrfForm;
use super::super::{FormErrors, Page, WebPath, internal_page};
use super::order::{CaseForm, Forms, refused};
use super::{Desk, own_order, refusal};
use crate::state::AppState;

/// Where a use case's error about `cases[i].x` belongs on the one-case form.
fn case_field(api_field: Option<&str>) -> &'static str {
    match api_field.and_then(|f| f.rsplit_once('.')).map(|(_, x)| x) {
        Some("input") => "case_input",
        Some("expect") => "case_expected",
        Some("weight") => "case_weight",
        _ => "case_id",
    }
}

fn parse_case_form(
    page: &Page,
    f: &CaseForm,
    existing: &[TestCase],
) -> (Option<CaseInput>, FormErrors) {
    let mut errors = FormErrors::default();
    let id = f.case_id.trim();
    if id.is_empty() {
        errors.push("case_id", page.t("dept.err.case_id_required"));
    } else if existing.iter().any(|c| c.id == id) {
        errors.push("case_id", page.t("dept.err.case_id_taken"));
    }
    let json =
        |errors: &mut FormErrors, name: &str, text: &str| match serde_json::from_str::<Value>(text)
        {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(name, format!("{}{e}", page.t("dept.err.not_json")));
                None
            }
        };
    let input = json(&mut errors, "case_input", &f.case_input);
    let expect = match f.case_expect.as_str() {
        "schema" => Some(Expect::Schema),
        kind @ ("equals" | "contains") => {
            if f.case_expected.trim().is_empty() {
                errors.push("case_expected", page.t("dept.err.case_expected_required"));
                None
            } else {
                json(&mut errors, "case_expected", &f.case_expected).map(|value| {
                    if kind == "equals" {
                        Expect::Equals { value }
                    } else {
                        Expect::Contains { value }
                    }
                })
            }
        }
        _ => {
            errors.push("case_expect", page.t("dept.err.case_expect_required"));
            None
        }
    };
    let visibility = match f.case_visibility.as_str() {
        "sample" => Some(Visibility::Sample),
        "hidden" => Some(Visibility::Hidden),
        _ => {
            errors.push(
                "case_visibility",
                page.t("dept.err.case_visibility_required"),
            );
            None
        }
    };
    let weight = match f.case_weight.trim() {
        "" => Some(1),
        w => match w.parse::<u32>() {
            Ok(w) if (1..=1000).contains(&w) => Some(w),
            _ => {
                errors.push("case_weight", page.t("dept.err.case_weight_invalid"));
                None
            }
        },
    };
    match (input, expect, visibility, weight) {
        (Some(input), Some(expect), Some(visibility), Some(weight)) if errors.is_empty() => (
            Some(CaseInput {
                id: id.to_owned(),
                description: f.case_description.trim().to_owned(),
                input,
                subject: Some(f.case_subject.trim().to_owned()).filter(|s| !s.is_empty()),
                expect,
                visibility,
                weight,
                rule: Some(f.case_rule.trim().to_owned()).filter(|r| !r.is_empty()),
            }),
            errors,
        ),
        _ => (None, errors),
    }
}

pub(super) async fn case_submit(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<CaseForm>,
) -> Response {
    if let Err(r) = own_order(&state, &page, &actor, id).await {
        return r;
    }
    let existing = match service::orders::suite_for(&state, &actor, id).await {
        Ok((_, s)) => s.cases,
        Err(e) => return internal_page(&page, e),
    };
    let forms = Forms {
        case: Some(form.clone()),
        ..Default::default()
    };
    let (case, mut errors) = parse_case_form(&page, &form, &existing);
    let Some(case) = case else {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return refused(&state, page, &actor, id, errors, status, forms).await;
    };
    // The use case takes a whole suite: a draft's is replaced, an open
    // order's only grows. Sending the current cases plus the new one adds
    // one case either way, and the new case is validated exactly as an
    // upload's.
    let mut cases: Vec<CaseInput> = existing.into_iter().map(CaseInput::from).collect();
    cases.push(case);
    match service::orders::put_suite(&state, &actor, id, SuiteInput { cases }).await {
        Ok(put) => {
            let done = if put.regression_runs > 0 {
                "case_regression"
            } else {
                "case"
            };
            Redirect::to(&format!("/dept/orders/{id}?done={done}#suite")).into_response()
        }
        Err(e) if e.is_client_error() => {
            refusal(&page, &mut errors, case_field(e.field()), &e);
            let status = crate::error::status_of(&e);
            refused(&state, page, &actor, id, errors, status, forms).await
        }
        Err(e) => internal_page(&page, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_errors_land_beside_their_field() {
        assert_eq!(case_field(Some("cases[3].input")), "case_input");
        assert_eq!(case_field(Some("cases[0].expect")), "case_expected");
        assert_eq!(case_field(Some("cases[0].weight")), "case_weight");
        assert_eq!(case_field(None), "case_id");
    }
}
