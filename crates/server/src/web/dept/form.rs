//! The draft form: a new order, and editing a draft (an open order's
//! contract is shown frozen).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{Fen, FenError};
use sandbox::Limits;
use serde::Deserialize;
use serde_json::Value;
use service::ServiceError;
use service::orders::{ContractInput, CreateOrder, UpdateOrder, check_contract};
use store::entity::orders;

use super::super::extract::CsrfForm;
use super::super::{FormErrors, Page, WebPath, internal_page};
use super::{Desk, FieldView, MIB, date_in, order_status, own_order, refusal};
use crate::state::AppState;

/// The order form as posted (and as shown again with its errors).
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct OrderForm {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    tags: String,
    #[serde(default)]
    budget: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    input_schema: String,
    #[serde(default)]
    output_schema: String,
    #[serde(default)]
    datasets: String,
    #[serde(default)]
    instructions: String,
    #[serde(default)]
    memory_mib: String,
    #[serde(default)]
    wall_time_ms: String,
    #[serde(default)]
    pass_threshold: String,
}

const EMPTY_SCHEMA: &str =
    "{\n  \"type\": \"object\",\n  \"properties\": {},\n  \"additionalProperties\": false\n}";

impl OrderForm {
    fn blank() -> Self {
        OrderForm {
            input_schema: EMPTY_SCHEMA.into(),
            output_schema: EMPTY_SCHEMA.into(),
            pass_threshold: "100".into(),
            ..Default::default()
        }
    }

    fn of(order: &orders::Model, tz: chrono_tz::Tz) -> Self {
        let c = &order.contract;
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        let limit = |k: &str| c["limits"][k].as_u64().map(|v| v.to_string());
        OrderForm {
            title: order.title.clone(),
            description: order.description.clone(),
            category: order.category.clone(),
            tags: serde_json::from_value::<Vec<String>>(order.tags.clone())
                .unwrap_or_default()
                .join(", "),
            budget: Fen::from_fen(order.budget_fen).to_yuan_string(),
            deadline: order.deadline.map(|d| date_in(tz, &d)).unwrap_or_default(),
            input_schema: pretty(&c["input_schema"]),
            output_schema: pretty(&c["output_schema"]),
            datasets: serde_json::from_value::<Vec<String>>(c["datasets"].clone())
                .unwrap_or_default()
                .join(", "),
            instructions: limit("instructions").unwrap_or_default(),
            // Shown in whole MiB, rounded up so a saved draft never tightens.
            memory_mib: c["limits"]["memory_bytes"]
                .as_u64()
                .map(|b| b.div_ceil(MIB).to_string())
                .unwrap_or_default(),
            wall_time_ms: limit("wall_time_ms").unwrap_or_default(),
            pass_threshold: percent_of_bp(order.pass_threshold_bp),
        }
    }
}

pub(super) fn percent_of_bp(bp: i32) -> String {
    if bp % 100 == 0 {
        (bp / 100).to_string()
    } else {
        format!("{}.{:02}", bp / 100, bp % 100)
            .trim_end_matches('0')
            .to_owned()
    }
}

/// A percentage with at most two decimals as basis points, without floats.
fn parse_percent(s: &str) -> Option<i32> {
    let s = s.trim().trim_end_matches('%').trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty()
        || int.len() > 3
        || frac.len() > 2
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let int: i32 = int.parse().ok()?;
    let frac: i32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    let bp = int * 100 + frac;
    (0..=10_000).contains(&bp).then_some(bp)
}

fn split_list(s: &str, also_space: bool) -> Vec<String> {
    s.split(|c: char| c == ',' || c == '，' || c == '、' || (also_space && c.is_whitespace()))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The order as the API takes it.
struct ParsedOrder {
    title: String,
    description: String,
    category: String,
    tags: Vec<String>,
    budget_fen: i64,
    deadline: Option<DateTime<Utc>>,
    contract: ContractInput,
    pass_threshold_bp: i32,
}

/// Where an API error about an order belongs on the form.
fn order_field(api_field: Option<&str>) -> &'static str {
    match api_field {
        Some("description") => "description",
        Some("category") => "category",
        Some("tags") => "tags",
        Some("budget_fen") => "budget",
        Some("deadline") => "deadline",
        Some("pass_threshold_bp") => "pass_threshold",
        Some("contract.input_schema") => "input_schema",
        Some("contract.output_schema") => "output_schema",
        Some("contract.datasets") => "datasets",
        Some("contract.limits") => "instructions",
        _ => "title",
    }
}

/// Checks every field, collecting each problem beside its field; the
/// contract goes through the same `check_contract` as the API.
fn parse_order_form(
    state: &AppState,
    page: &Page,
    f: &OrderForm,
    base_limits: Limits,
) -> (Option<ParsedOrder>, FormErrors) {
    let mut errors = FormErrors::default();
    for (name, value, key) in [
        ("title", &f.title, "dept.err.title_required"),
        (
            "description",
            &f.description,
            "dept.err.description_required",
        ),
        ("category", &f.category, "dept.err.category_required"),
    ] {
        if value.trim().is_empty() {
            errors.push(name, page.t(key));
        }
    }
    let budget = match Fen::parse_non_negative(&f.budget) {
        Ok(b) if b.as_fen() > 0 => Some(b.as_fen()),
        Ok(_) => {
            errors.push("budget", page.t("dept.err.budget_zero"));
            None
        }
        Err(e) => {
            let key = match e {
                FenError::Empty => "dept.err.budget_empty",
                FenError::InvalidFormat => "dept.err.budget_invalid",
                FenError::TooManyDecimals => "dept.err.budget_decimals",
                FenError::Negative => "dept.err.budget_negative",
                FenError::Overflow => "dept.err.budget_too_large",
            };
            errors.push("budget", page.t(key));
            None
        }
    };
    let tz = state.config.timezone;
    let deadline = match f.deadline.trim() {
        "" => None,
        d => match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(date) if date < Utc::now().with_timezone(&tz).date_naive() => {
                errors.push("deadline", page.t("dept.err.deadline_past"));
                None
            }
            // The order stays open through the whole of its last day.
            Ok(date) => date
                .and_hms_opt(23, 59, 59)
                .and_then(|t| tz.from_local_datetime(&t).earliest())
                .map(|t| t.with_timezone(&Utc)),
            Err(_) => {
                errors.push("deadline", page.t("dept.err.deadline_invalid"));
                None
            }
        },
    };
    let mut schema = |name: &str, text: &str| match serde_json::from_str::<Value>(text) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(name, format!("{}{e}", page.t("dept.err.not_json")));
            None
        }
    };
    let input_schema = schema("input_schema", &f.input_schema);
    let output_schema = schema("output_schema", &f.output_schema);

    let caps = &state.sandbox.config().caps;
    let mut limits = base_limits;
    let mut limit = |name: &str, text: &str, cap: u64| -> Option<Option<u64>> {
        let text = text.trim();
        if text.is_empty() {
            return Some(None);
        }
        match text.parse::<u64>() {
            Ok(v) if (1..=cap).contains(&v) => Some(Some(v)),
            _ => {
                errors.push(name, format!("{}{cap}", page.t("dept.err.limit")));
                None
            }
        }
    };
    if let Some(v) = limit("instructions", &f.instructions, caps.instructions) {
        limits.instructions = v;
    }
    if let Some(v) = limit("memory_mib", &f.memory_mib, caps.memory_bytes / MIB) {
        limits.memory_bytes = v.map(|m| m * MIB);
    }
    if let Some(v) = limit("wall_time_ms", &f.wall_time_ms, caps.wall_time_ms) {
        limits.wall_time_ms = v;
    }
    let threshold = if f.pass_threshold.trim().is_empty() {
        Some(10_000)
    } else {
        parse_percent(&f.pass_threshold)
    };
    if threshold.is_none() {
        errors.push("pass_threshold", page.t("dept.err.threshold"));
    }

    let contract = match (input_schema, output_schema) {
        (Some(input_schema), Some(output_schema)) => {
            let c = ContractInput {
                input_schema,
                output_schema,
                datasets: split_list(&f.datasets, true),
                limits,
            };
            if let Err(e) = check_contract(state, &c) {
                let field = order_field(e.field());
                if !errors.has(field) {
                    refusal(page, &mut errors, field, &e);
                }
            }
            Some(c)
        }
        _ => None,
    };
    if !errors.is_empty() {
        return (None, errors);
    }
    match (budget, contract, threshold) {
        (Some(budget_fen), Some(contract), Some(pass_threshold_bp)) => (
            Some(ParsedOrder {
                title: f.title.trim().to_owned(),
                description: f.description.trim().to_owned(),
                category: f.category.trim().to_owned(),
                tags: split_list(&f.tags, false),
                budget_fen,
                deadline,
                contract,
                pass_threshold_bp,
            }),
            errors,
        ),
        _ => (None, errors),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dept/form.html")]
struct FormPage {
    page: Page,
    errors: FormErrors,
    /// `None` for a new order.
    order_id: Option<i64>,
    /// Shown read-only: the order is no longer a draft.
    frozen: bool,
    main: Vec<FieldView>,
    contract: Vec<FieldView>,
    limits: Vec<FieldView>,
    threshold: FieldView,
}

fn form_view(
    state: &AppState,
    mut page: Page,
    errors: FormErrors,
    status: StatusCode,
    order_id: Option<i64>,
    frozen: bool,
    f: &OrderForm,
) -> Response {
    let caps = &state.sandbox.config().caps;
    let e = &errors;
    let main = vec![
        FieldView::new("title", "dept.field.title", &f.title, e),
        FieldView::new("description", "dept.field.description", &f.description, e)
            .hint("dept.hint.description")
            .rows(5),
        FieldView::new("category", "dept.field.category", &f.category, e)
            .hint("dept.hint.category"),
        FieldView::new("tags", "dept.field.tags", &f.tags, e).hint("dept.hint.tags"),
        FieldView::new("budget", "dept.field.budget", &f.budget, e)
            .hint("dept.hint.budget")
            .numeric("decimal"),
        FieldView::new("deadline", "dept.field.deadline", &f.deadline, e)
            .hint("dept.hint.deadline")
            .kind("date")
            .numeric(""),
    ];
    let contract = vec![
        FieldView::new(
            "input_schema",
            "dept.field.input_schema",
            &f.input_schema,
            e,
        )
        .hint("dept.hint.input_schema")
        .rows(10),
        FieldView::new(
            "output_schema",
            "dept.field.output_schema",
            &f.output_schema,
            e,
        )
        .hint("dept.hint.output_schema")
        .rows(10),
        FieldView::new("datasets", "dept.field.datasets", &f.datasets, e)
            .hint("dept.hint.datasets"),
    ];
    let limits = vec![
        FieldView::new(
            "instructions",
            "dept.field.instructions",
            &f.instructions,
            e,
        )
        .hint("dept.hint.cap")
        .extra(caps.instructions.to_string())
        .numeric("numeric"),
        FieldView::new("memory_mib", "dept.field.memory_mib", &f.memory_mib, e)
            .hint("dept.hint.cap")
            .extra((caps.memory_bytes / MIB).to_string())
            .numeric("numeric"),
        FieldView::new(
            "wall_time_ms",
            "dept.field.wall_time_ms",
            &f.wall_time_ms,
            e,
        )
        .hint("dept.hint.cap")
        .extra(caps.wall_time_ms.to_string())
        .numeric("numeric"),
    ];
    let threshold = FieldView::new(
        "pass_threshold",
        "dept.field.pass_threshold",
        &f.pass_threshold,
        e,
    )
    .hint("dept.hint.pass_threshold")
    .numeric("decimal");
    page.has_errors = !errors.is_empty();
    (
        status,
        FormPage {
            page,
            errors,
            order_id,
            frozen,
            main,
            contract,
            limits,
            threshold,
        },
    )
        .into_response()
}

pub(super) async fn new_page(State(state): State<AppState>, Desk { page, .. }: Desk) -> Response {
    form_view(
        &state,
        page,
        FormErrors::default(),
        StatusCode::OK,
        None,
        false,
        &OrderForm::blank(),
    )
}

pub(super) async fn new_submit(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    CsrfForm(form): CsrfForm<OrderForm>,
) -> Response {
    let (parsed, mut errors) = parse_order_form(&state, &page, &form, Limits::default());
    let Some(p) = parsed else {
        return form_view(
            &state,
            page,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            false,
            &form,
        );
    };
    let req = CreateOrder {
        title: p.title,
        description: p.description,
        category: p.category,
        tags: p.tags,
        budget_fen: p.budget_fen,
        deadline: p.deadline,
        contract: p.contract,
        pass_threshold_bp: Some(p.pass_threshold_bp),
    };
    match service::orders::create(&state, &actor, req).await {
        Ok(order) => {
            Redirect::to(&format!("/dept/orders/{}?done=created", order.id)).into_response()
        }
        Err(e) if e.is_client_error() => {
            refusal(&page, &mut errors, order_field(e.field()), &e);
            let status = crate::error::status_of(&e);
            form_view(&state, page, errors, status, None, false, &form)
        }
        Err(e) => internal_page(&page, e),
    }
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    WebPath(id): WebPath<i64>,
) -> Response {
    let order = match own_order(&state, &page, &actor, id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let frozen = !order_status(&order).contract_editable();
    let form = OrderForm::of(&order, state.config.timezone);
    form_view(
        &state,
        page,
        FormErrors::default(),
        StatusCode::OK,
        Some(id),
        frozen,
        &form,
    )
}

pub(super) async fn edit_submit(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    WebPath(id): WebPath<i64>,
    CsrfForm(form): CsrfForm<OrderForm>,
) -> Response {
    let order = match own_order(&state, &page, &actor, id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let frozen = |page: Page, mut errors: FormErrors| {
        errors.push("input_schema", page.t("dept.err.contract_frozen"));
        form_view(
            &state,
            page,
            errors,
            StatusCode::CONFLICT,
            Some(id),
            true,
            &form,
        )
    };
    // Said first: no other correction would make the edit possible.
    if !order_status(&order).contract_editable() {
        return frozen(page, FormErrors::default());
    }
    let base_limits: Limits =
        serde_json::from_value(order.contract["limits"].clone()).unwrap_or_default();
    let (parsed, mut errors) = parse_order_form(&state, &page, &form, base_limits);
    let Some(p) = parsed else {
        return form_view(
            &state,
            page,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(id),
            false,
            &form,
        );
    };
    let req = UpdateOrder {
        title: Some(p.title),
        description: Some(p.description),
        category: Some(p.category),
        tags: Some(p.tags),
        budget_fen: Some(p.budget_fen),
        // The form always carries the field: emptied, it clears the deadline.
        deadline: Some(p.deadline),
        contract: Some(p.contract),
        pass_threshold_bp: Some(p.pass_threshold_bp),
    };
    match service::orders::update(&state, &actor, id, req).await {
        Ok(_) => Redirect::to(&format!("/dept/orders/{id}?done=updated")).into_response(),
        // Published while this form was open: the use case's own check caught it.
        Err(ServiceError::Conflict {
            code: "order_not_draft",
            ..
        }) => frozen(page, FormErrors::default()),
        Err(e) if e.is_client_error() => {
            refusal(&page, &mut errors, order_field(e.field()), &e);
            let status = crate::error::status_of(&e);
            form_view(&state, page, errors, status, Some(id), false, &form)
        }
        Err(e) => internal_page(&page, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_become_basis_points_without_floats() {
        assert_eq!(parse_percent("100"), Some(10_000));
        assert_eq!(parse_percent("99.5"), Some(9_950));
        assert_eq!(parse_percent("0.01"), Some(1));
        assert_eq!(parse_percent("80%"), Some(8_000));
        assert_eq!(parse_percent("100.01"), None);
        assert_eq!(parse_percent("-1"), None);
        assert_eq!(parse_percent("1.234"), None);
        assert_eq!(parse_percent("1e2"), None);
        assert_eq!(parse_percent(""), None);
        for bp in [0, 1, 10, 950, 9_950, 10_000] {
            assert_eq!(parse_percent(&percent_of_bp(bp)), Some(bp), "{bp}");
        }
    }
}
