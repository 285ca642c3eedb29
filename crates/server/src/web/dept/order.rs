//! One order's page: its contract, datasets, cases and questions, with the
//! forms that add to them (shown again with their errors when refused).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::OrderStatus;
use sandbox::{Expect, TestCase, Visibility};
use serde::Deserialize;
use serde_json::Value;
use service::Actor;
use service::orders::OrderView;
use store::entity::orders;

use super::super::orders::{status_key, yuan};
use super::super::{FormErrors, Page, WebPath, WebQuery, internal_page};
use super::form::percent_of_bp;
use super::{Desk, DoneQuery, FieldView, date_in, flash, order_status, own_order, time_in};
use crate::state::AppState;

struct CaseRow {
    id: String,
    description: String,
    sample: bool,
    weight: u32,
    expect_key: &'static str,
    input: String,
    subject: String,
    rule: String,
}

struct QuestionRow {
    id: i64,
    body: String,
    asked: String,
    answer: Option<String>,
    overdue: bool,
    field: FieldView,
}

struct DatasetRow {
    name: String,
    version: i32,
    records: i64,
    size: String,
    sample: bool,
    updated: String,
}

/// What the forms of the order page hold when it is shown again.
#[derive(Debug, Default, Clone, Deserialize)]
pub(super) struct CaseForm {
    #[serde(default)]
    pub(super) case_id: String,
    #[serde(default)]
    pub(super) case_description: String,
    #[serde(default)]
    pub(super) case_subject: String,
    #[serde(default)]
    pub(super) case_input: String,
    #[serde(default)]
    pub(super) case_expect: String,
    #[serde(default)]
    pub(super) case_expected: String,
    #[serde(default)]
    pub(super) case_visibility: String,
    #[serde(default)]
    pub(super) case_weight: String,
    #[serde(default)]
    pub(super) case_rule: String,
}

#[derive(Default)]
pub(super) struct Forms {
    pub(super) case: Option<CaseForm>,
    pub(super) dataset_name: String,
    pub(super) dataset_sample: bool,
    pub(super) answer: Option<(i64, String)>,
    /// The rules document as posted.
    pub(super) rules: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dept/order.html")]
struct OrderPage {
    page: Page,
    errors: FormErrors,
    order: OrderView,
    status_key: &'static str,
    budget: String,
    deadline: String,
    threshold: String,
    input_schema: String,
    output_schema: String,
    limits: String,
    grants: Vec<String>,
    /// The rules document rendered (safe HTML) and its editing box.
    rules_html: String,
    rules: FieldView,
    can_edit: bool,
    can_publish: bool,
    can_close: bool,
    can_cancel: bool,
    /// Datasets and cases may still be added (draft or open).
    can_add: bool,
    is_open: bool,
    datasets: Vec<DatasetRow>,
    dataset_name: String,
    dataset_sample: bool,
    dataset_name_error: Option<String>,
    dataset_file: FieldView,
    cases: Vec<CaseRow>,
    case_fields: Vec<FieldView>,
    case_expected: FieldView,
    case_weight: FieldView,
    case_expect: String,
    case_expect_error: Option<String>,
    case_visibility: String,
    case_visibility_error: Option<String>,
    questions: Vec<QuestionRow>,
}

fn size_text(bytes: i64) -> String {
    if bytes >= 1 << 20 {
        format!(
            "{}.{} MiB",
            bytes >> 20,
            ((bytes & ((1 << 20) - 1)) * 10) >> 20
        )
    } else {
        format!("{} KiB", (bytes + 1023) / 1024)
    }
}

async fn order_view_page(
    state: &AppState,
    mut page: Page,
    actor: &Actor,
    order: orders::Model,
    errors: FormErrors,
    status: StatusCode,
    forms: Forms,
) -> Response {
    let tz = state.config.timezone;
    let st = order_status(&order);
    let id = order.id;
    let suite = match service::orders::suite_for(state, actor, id).await {
        Ok((_, s)) => s,
        Err(e) => return internal_page(&page, e),
    };
    let view = match service::orders::order_view(state, order).await {
        Ok(v) => v,
        Err(e) => return internal_page(&page, e),
    };
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
    let e = &errors;
    let cf = forms.case.clone().unwrap_or_else(|| CaseForm {
        case_input: "{}".into(),
        case_expect: "equals".into(),
        case_visibility: "hidden".into(),
        case_weight: "1".into(),
        ..Default::default()
    });
    let case_fields = vec![
        FieldView::new("case_id", "dept.field.case_id", &cf.case_id, e).hint("dept.hint.case_id"),
        FieldView::new(
            "case_description",
            "dept.field.case_description",
            &cf.case_description,
            e,
        ),
        FieldView::new(
            "case_subject",
            "dept.field.case_subject",
            &cf.case_subject,
            e,
        )
        .hint("dept.hint.case_subject"),
        FieldView::new("case_input", "dept.field.case_input", &cf.case_input, e)
            .hint("dept.hint.case_input")
            .rows(5),
        FieldView::new("case_rule", "dept.field.case_rule", &cf.case_rule, e)
            .hint("dept.hint.case_rule"),
    ];
    let rules_draft = forms.rules.clone().unwrap_or_else(|| view.rules.clone());
    let rules = FieldView::new("rules", "dept.field.rules", &rules_draft, e)
        .hint("dept.hint.rules")
        .rows(16);
    let questions = view
        .questions
        .iter()
        .map(|q| {
            let name = format!("answer-{}", q.id);
            let draft = match &forms.answer {
                Some((qid, text)) if *qid == q.id => text.clone(),
                _ => String::new(),
            };
            // Each question has its own answer box, so its own field id.
            let field = FieldView::new(&name, "dept.field.answer", &draft, e).rows(4);
            QuestionRow {
                id: q.id,
                body: q.body.clone(),
                asked: time_in(tz, &q.created_at),
                answer: q.answer.as_ref().map(|a| a.body.clone()),
                overdue: q.overdue,
                field,
            }
        })
        .collect();
    page.has_errors = !errors.is_empty();
    let html = OrderPage {
        status_key: status_key(view.status),
        budget: yuan(view.budget_fen),
        deadline: view.deadline.map(|d| date_in(tz, &d)).unwrap_or_default(),
        threshold: percent_of_bp(view.pass_threshold_bp),
        input_schema: pretty(&view.contract["input_schema"]),
        output_schema: pretty(&view.contract["output_schema"]),
        limits: pretty(&view.contract["limits"]),
        grants: serde_json::from_value(view.contract["datasets"].clone()).unwrap_or_default(),
        rules_html: crate::web::markdown::render(&view.rules),
        rules,
        can_edit: st.contract_editable(),
        can_publish: st.can_move_to(OrderStatus::Open),
        can_close: st.can_move_to(OrderStatus::Closed),
        can_cancel: st.can_move_to(OrderStatus::Cancelled),
        can_add: matches!(st, OrderStatus::Draft | OrderStatus::Open),
        is_open: st == OrderStatus::Open,
        datasets: view
            .datasets
            .iter()
            .map(|d| DatasetRow {
                name: d.name.clone(),
                version: d.version,
                records: d.record_count,
                size: size_text(d.size_bytes),
                sample: d.sample,
                updated: time_in(tz, &d.updated_at),
            })
            .collect(),
        dataset_name: forms.dataset_name,
        dataset_sample: forms.dataset_sample,
        dataset_name_error: e.get("dataset_name").map(str::to_owned),
        dataset_file: FieldView::new("dataset_file", "dept.field.dataset_file", "", e)
            .hint("dept.hint.dataset_file")
            .kind("file"),
        cases: suite
            .cases
            .iter()
            .map(|c: &TestCase| CaseRow {
                id: c.id.clone(),
                description: c.description.clone(),
                sample: c.visibility == Visibility::Sample,
                weight: c.weight,
                expect_key: match c.expect {
                    Expect::Equals { .. } => "dept.expect.equals",
                    Expect::Contains { .. } => "dept.expect.contains",
                    Expect::Schema => "dept.expect.schema",
                },
                input: serde_json::to_string(&c.input).unwrap_or_default(),
                subject: c.subject.clone().unwrap_or_default(),
                rule: c.rule.clone().unwrap_or_default(),
            })
            .collect(),
        case_fields,
        case_expected: FieldView::new(
            "case_expected",
            "dept.field.case_expected",
            &cf.case_expected,
            e,
        )
        .hint("dept.hint.case_expected")
        .rows(5),
        case_weight: FieldView::new("case_weight", "dept.field.case_weight", &cf.case_weight, e)
            .hint("dept.hint.case_weight")
            .numeric("numeric"),
        case_expect: cf.case_expect.clone(),
        case_expect_error: e.get("case_expect").map(str::to_owned),
        case_visibility: cf.case_visibility.clone(),
        case_visibility_error: e.get("case_visibility").map(str::to_owned),
        questions,
        order: view,
        errors,
        page,
    };
    (status, html).into_response()
}

pub(super) async fn order_page(
    State(state): State<AppState>,
    Desk { mut page, actor }: Desk,
    WebPath(id): WebPath<i64>,
    WebQuery(q): WebQuery<DoneQuery>,
) -> Response {
    let order = match own_order(&state, &page, &actor, id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    flash(&mut page, q.done.as_deref());
    order_view_page(
        &state,
        page,
        &actor,
        order,
        FormErrors::default(),
        StatusCode::OK,
        Forms::default(),
    )
    .await
}

/// Shows the order page again with `errors` (after a refused form).
pub(super) async fn refused(
    state: &AppState,
    page: Page,
    actor: &Actor,
    id: i64,
    errors: FormErrors,
    status: StatusCode,
    forms: Forms,
) -> Response {
    match own_order(state, &page, actor, id).await {
        Ok(order) => order_view_page(state, page, actor, order, errors, status, forms).await,
        Err(r) => r,
    }
}
