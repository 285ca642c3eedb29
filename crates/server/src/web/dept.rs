//! Departments' pages: their orders (drafts included), authoring a draft,
//! datasets, test cases, publishing and closing, and answering questions.
//!
//! Every state change goes through the API layer's functions
//! (`create_order`, `put_suite`, `put_dataset_records`, …), so a page can
//! never accept what the API refuses. What the pages add is checking each
//! field first, so that every problem is reported beside its field in the
//! reader's language, and nothing is written until all of them are fixed.

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::{Fen, FenError, OrderStatus, Role};
use sandbox::{Expect, Limits, TestCase, Visibility};
use serde::Deserialize;
use serde_json::Value;
use store::entity::orders;

use super::orders::{status_key, yuan};
use super::{FormErrors, Page, WebPath, WebQuery, csrf_form, internal_page, message_page};
use crate::api::orders::{
    CaseInput, ContractInput, CreateOrder, MAX_DATASET_BYTES, OrderQuery, OrderSummary, OrderView,
    SuiteInput, UpdateOrder, check_contract, create_order, list_orders, move_order, order_view,
    put_dataset_records, put_suite, suite_for, update_order,
};
use crate::auth::CurrentUser;
use crate::csrf;
use crate::extract::RequestId;
use crate::i18n::Lang;
use crate::state::AppState;

/// The multipart envelope around a dataset (boundaries, the other fields)
/// is small; this leaves room for it above the dataset cap itself.
const UPLOAD_BODY_LIMIT: usize = MAX_DATASET_BYTES + (64 << 10);

const MIB: u64 = 1 << 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dept/orders", get(list_page))
        .route("/dept/orders/new", get(new_page).post(new_submit))
        .route("/dept/orders/{id}", get(order_page))
        .route("/dept/orders/{id}/edit", get(edit_page).post(edit_submit))
        .route("/dept/orders/{id}/publish", post(publish_submit))
        .route("/dept/orders/{id}/close", post(close_submit))
        .route("/dept/orders/{id}/cancel", post(cancel_submit))
        .route(
            "/dept/orders/{id}/datasets",
            post(dataset_submit).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/dept/orders/{id}/cases", post(case_submit))
        .route("/dept/questions/{id}/answer", post(answer_submit))
}

// ------------------------------------------------------------ helpers

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// The signed-in department user; else the response to send: signed-out
/// users go to sign in (and come back to `back`), other roles get a 403.
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn department<'p>(page: &'p Page, back: &str) -> Result<&'p CurrentUser, Response> {
    match &page.current {
        None => Err(Redirect::to(&format!("/login?next={}", urlencode(back))).into_response()),
        Some(c) if c.user.role == Role::Department && c.user.org_id.is_some() => Ok(c),
        Some(_) => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "dept.forbidden",
        )),
    }
}

/// The order if it is this department's. Another department's draft does
/// not exist as far as this user can tell (404); a published one is public,
/// so saying it is someone else's reveals nothing (403).
async fn own_order(
    state: &AppState,
    page: &Page,
    who: &CurrentUser,
    id: i64,
) -> Result<orders::Model, Response> {
    match store::orders::get(state.db.conn(), id).await {
        Ok(Some(o)) if Some(o.department_org_id) == who.user.org_id => Ok(o),
        Ok(Some(o)) if o.status != OrderStatus::Draft.as_str() => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "dept.not_yours",
        )),
        Ok(_) => Err(message_page(
            page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "notfound.body",
        )),
        Err(e) => Err(internal_page(page, e)),
    }
}

fn order_status(order: &orders::Model) -> OrderStatus {
    // A status the domain does not know cannot be acted on: treat it as
    // cancelled, which offers no action.
    order.status.parse().unwrap_or(OrderStatus::Cancelled)
}

/// The API's messages are "中文 / English[: detail]"; a page shows the
/// reader's language, keeping the technical detail in both.
pub(crate) fn localized(lang: Lang, msg: &str) -> String {
    let Some((zh, en)) = msg.split_once(" / ") else {
        return msg.to_owned();
    };
    match lang {
        Lang::En => en.to_owned(),
        Lang::ZhCn => match en.split_once(": ") {
            Some((_, detail)) => format!("{zh}：{detail}"),
            None => zh.to_owned(),
        },
    }
}

fn date_in(tz: chrono_tz::Tz, t: &DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d").to_string()
}

fn time_in(tz: chrono_tz::Tz, t: &DateTime<Utc>) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// One form field as the page shows it.
pub struct FieldView {
    pub name: String,
    pub label: &'static str,
    pub hint: &'static str,
    /// Appended to the hint (a platform cap, which is configuration).
    pub hint_extra: String,
    pub value: String,
    pub error: Option<String>,
    /// Lines of a textarea; 0 for a one-line input.
    pub rows: u32,
    pub kind: &'static str,
    pub inputmode: &'static str,
    pub class: &'static str,
}

impl FieldView {
    fn new(name: &str, label: &'static str, value: &str, errors: &FormErrors) -> Self {
        FieldView {
            name: name.to_owned(),
            label,
            hint: "",
            hint_extra: String::new(),
            value: value.to_owned(),
            error: errors.get(name).map(str::to_owned),
            rows: 0,
            kind: "text",
            inputmode: "",
            class: "",
        }
    }
    fn hint(mut self, key: &'static str) -> Self {
        self.hint = key;
        self
    }
    fn extra(mut self, text: String) -> Self {
        self.hint_extra = text;
        self
    }
    fn rows(mut self, rows: u32) -> Self {
        self.rows = rows;
        self
    }
    fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }
    fn numeric(mut self, mode: &'static str) -> Self {
        self.inputmode = mode;
        self.class = "dept-input-short";
        self
    }
    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if !self.hint.is_empty() {
            ids.push(format!("{}-hint", self.name));
        }
        if self.error.is_some() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

/// The confirmation shown after a redirect (`?done=…`).
fn flash(page: &mut Page, done: Option<&str>) {
    let key = match done {
        Some("created") => "dept.done.created",
        Some("updated") => "dept.done.updated",
        Some("published") => "dept.done.published",
        Some("closed") => "dept.done.closed",
        Some("cancelled") => "dept.done.cancelled",
        Some("dataset") => "dept.done.dataset",
        Some("case") => "dept.done.case",
        Some("case_regression") => "dept.done.case_regression",
        Some("answered") => "dept.done.answered",
        _ => return,
    };
    page.flash = page.t(key).to_owned();
}

// ------------------------------------------------------------ order list

struct ListRow {
    id: i64,
    title: String,
    category: String,
    status_key: &'static str,
    budget: String,
    deadline: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "dept/list.html")]
struct ListPage {
    page: Page,
    orders: Vec<ListRow>,
}

async fn list_page(
    State(state): State<AppState>,
    mut page: Page,
    WebQuery(q): WebQuery<DoneQuery>,
) -> Response {
    let who = match department(&page, "/dept/orders") {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let query = OrderQuery {
        status: None,
        q: None,
        category: None,
        // Asking for one's own department is what brings the drafts in.
        department: who.user.org_id,
        page: None,
        limit: Some(200),
    };
    let list = match list_orders(&state, Some(&who), &query).await {
        Ok(l) => l,
        Err(e) => return internal_page(&page, e),
    };
    let tz = state.config.timezone;
    let orders = list
        .items
        .into_iter()
        .map(|o: OrderSummary| ListRow {
            id: o.id,
            title: o.title,
            category: o.category,
            status_key: status_key(&o.status),
            budget: yuan(o.budget_fen),
            deadline: o.deadline.map(|d| date_in(tz, &d)).unwrap_or_default(),
        })
        .collect();
    flash(&mut page, q.done.as_deref());
    ListPage { page, orders }.into_response()
}

// ------------------------------------------------------------ draft form

/// The order form as posted (and as shown again with its errors).
#[derive(Debug, Default, Clone, Deserialize)]
struct OrderForm {
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

fn percent_of_bp(bp: i32) -> String {
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
                    errors.push(field, localized(page.lang, e.message()));
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

async fn new_page(State(state): State<AppState>, page: Page) -> Response {
    if let Err(r) = department(&page, "/dept/orders/new") {
        return r;
    }
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

async fn new_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    body: Bytes,
) -> Response {
    let who = match department(&page, "/dept/orders/new") {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let form: OrderForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
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
    match create_order(&state, &who, req, &request_id).await {
        Ok(order) => {
            Redirect::to(&format!("/dept/orders/{}?done=created", order.id)).into_response()
        }
        Err(e) if e.status().is_client_error() => {
            errors.push(order_field(e.field()), localized(page.lang, e.message()));
            form_view(&state, page, errors, e.status(), None, false, &form)
        }
        Err(e) => internal_page(&page, e),
    }
}

async fn edit_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(id): WebPath<i64>,
) -> Response {
    let who = match department(&page, &format!("/dept/orders/{id}/edit")) {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let order = match own_order(&state, &page, &who, id).await {
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

async fn edit_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let who = match department(&page, &format!("/dept/orders/{id}/edit")) {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let form: OrderForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let order = match own_order(&state, &page, &who, id).await {
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
    match update_order(&state, &who, id, req, &request_id).await {
        Ok(_) => Redirect::to(&format!("/dept/orders/{id}?done=updated")).into_response(),
        // Published while this form was open: the API's own check caught it.
        Err(e) if e.code() == "order_not_draft" => frozen(page, FormErrors::default()),
        Err(e) if e.status().is_client_error() => {
            errors.push(order_field(e.field()), localized(page.lang, e.message()));
            form_view(&state, page, errors, e.status(), Some(id), false, &form)
        }
        Err(e) => internal_page(&page, e),
    }
}

// ------------------------------------------------------------ order page

struct CaseRow {
    id: String,
    description: String,
    sample: bool,
    weight: u32,
    expect_key: &'static str,
    input: String,
    subject: String,
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
struct CaseForm {
    #[serde(default)]
    case_id: String,
    #[serde(default)]
    case_description: String,
    #[serde(default)]
    case_subject: String,
    #[serde(default)]
    case_input: String,
    #[serde(default)]
    case_expect: String,
    #[serde(default)]
    case_expected: String,
    #[serde(default)]
    case_visibility: String,
    #[serde(default)]
    case_weight: String,
}

#[derive(Default)]
struct Forms {
    case: Option<CaseForm>,
    dataset_name: String,
    dataset_sample: bool,
    answer: Option<(i64, String)>,
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
    who: &CurrentUser,
    order: orders::Model,
    errors: FormErrors,
    status: StatusCode,
    forms: Forms,
) -> Response {
    let tz = state.config.timezone;
    let st = order_status(&order);
    let id = order.id;
    let suite = match suite_for(state, Some(who), id).await {
        Ok((_, s)) => s,
        Err(e) => return internal_page(&page, e),
    };
    let view = match order_view(state, order).await {
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
    ];
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
        status_key: status_key(&view.status),
        budget: yuan(view.budget_fen),
        deadline: view.deadline.map(|d| date_in(tz, &d)).unwrap_or_default(),
        threshold: percent_of_bp(view.pass_threshold_bp),
        input_schema: pretty(&view.contract["input_schema"]),
        output_schema: pretty(&view.contract["output_schema"]),
        limits: pretty(&view.contract["limits"]),
        grants: serde_json::from_value(view.contract["datasets"].clone()).unwrap_or_default(),
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

async fn order_page(
    State(state): State<AppState>,
    mut page: Page,
    WebPath(id): WebPath<i64>,
    WebQuery(q): WebQuery<DoneQuery>,
) -> Response {
    let who = match department(&page, &format!("/dept/orders/{id}")) {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let order = match own_order(&state, &page, &who, id).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    flash(&mut page, q.done.as_deref());
    order_view_page(
        &state,
        page,
        &who,
        order,
        FormErrors::default(),
        StatusCode::OK,
        Forms::default(),
    )
    .await
}

/// Shows the order page again with `errors` (after a refused form).
async fn refused(
    state: &AppState,
    page: Page,
    who: &CurrentUser,
    id: i64,
    errors: FormErrors,
    status: StatusCode,
    forms: Forms,
) -> Response {
    match own_order(state, &page, who, id).await {
        Ok(order) => order_view_page(state, page, who, order, errors, status, forms).await,
        Err(r) => r,
    }
}

// ------------------------------------------------------------ lifecycle

#[derive(Deserialize)]
struct EmptyForm {}

async fn move_submit(
    state: AppState,
    page: Page,
    request_id: RequestId,
    id: i64,
    body: Bytes,
    to: OrderStatus,
) -> Response {
    let who = match department(&page, &format!("/dept/orders/{id}")) {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    if let Err(r) = csrf_form::<EmptyForm>(&state, &page, &body) {
        return r;
    }
    if let Err(r) = own_order(&state, &page, &who, id).await {
        return r;
    }
    match move_order(&state, &who, id, to, &request_id).await {
        Ok(_) => {
            let done = match to {
                OrderStatus::Open => "published",
                OrderStatus::Closed => "closed",
                _ => "cancelled",
            };
            Redirect::to(&format!("/dept/orders/{id}?done={done}")).into_response()
        }
        Err(e) if e.status().is_client_error() => {
            let mut errors = FormErrors::default();
            errors.push("actions", localized(page.lang, e.message()));
            refused(&state, page, &who, id, errors, e.status(), Forms::default()).await
        }
        Err(e) => internal_page(&page, e),
    }
}

async fn publish_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    move_submit(state, page, request_id, id, body, OrderStatus::Open).await
}

async fn close_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    move_submit(state, page, request_id, id, body, OrderStatus::Closed).await
}

async fn cancel_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    move_submit(state, page, request_id, id, body, OrderStatus::Cancelled).await
}

// ------------------------------------------------------------ datasets

/// The upload as posted: the dataset's name, its sample flag and its bytes.
struct DatasetUpload {
    name: String,
    sample: bool,
    bytes: Vec<u8>,
}

/// Reads the multipart upload. The CSRF token must be the first part (the
/// form puts it first), so a forged post is refused before any file byte
/// is read.
async fn read_dataset_upload(
    state: &AppState,
    page: &Page,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Result<DatasetUpload, (StatusCode, &'static str)>, Response> {
    let csrf_refused = || {
        message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "forbidden.csrf",
        )
    };
    let Ok(mut form) = form else {
        return Err(csrf_refused());
    };
    let token = match form.next_field().await {
        Ok(Some(f)) if f.name() == Some(csrf::CSRF_FIELD) => f.text().await.unwrap_or_default(),
        _ => return Err(csrf_refused()),
    };
    if page.csrf_seed.is_empty() || !csrf::verify(&state.csrf_key, &page.csrf_seed, &token) {
        return Err(csrf_refused());
    }
    let too_big = (StatusCode::PAYLOAD_TOO_LARGE, "dept.err.dataset_too_big");
    let malformed = (StatusCode::BAD_REQUEST, "dept.err.upload_malformed");
    let mut up = DatasetUpload {
        name: String::new(),
        sample: false,
        bytes: Vec::new(),
    };
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(Err(too_big)),
            Err(_) => return Ok(Err(malformed)),
        };
        match field.name().unwrap_or_default() {
            "dataset_name" => match field.text().await {
                Ok(t) => up.name = t.trim().to_owned(),
                Err(_) => return Ok(Err(malformed)),
            },
            "dataset_sample" => up.sample = true,
            "dataset_file" => loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if up.bytes.len() + chunk.len() > MAX_DATASET_BYTES {
                            return Ok(Err(too_big));
                        }
                        up.bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Ok(Err(too_big));
                    }
                    Err(_) => return Ok(Err(malformed)),
                }
            },
            _ => return Ok(Err(malformed)),
        }
    }
    Ok(Ok(up))
}

async fn dataset_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let who = match department(&page, &format!("/dept/orders/{id}")) {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let upload = match read_dataset_upload(&state, &page, form).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut errors = FormErrors::default();
    let mut forms = Forms::default();
    let up = match upload {
        Ok(up) => up,
        Err((status, key)) => {
            errors.push("dataset_file", page.t(key));
            return refused(&state, page, &who, id, errors, status, forms).await;
        }
    };
    forms.dataset_name = up.name.clone();
    forms.dataset_sample = up.sample;
    if up.name.is_empty() {
        errors.push("dataset_name", page.t("dept.err.dataset_name_required"));
    }
    if up.bytes.is_empty() {
        errors.push("dataset_file", page.t("dept.err.dataset_file_required"));
    }
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return refused(&state, page, &who, id, errors, status, forms).await;
    }
    if let Err(r) = own_order(&state, &page, &who, id).await {
        return r;
    }
    match put_dataset_records(
        &state,
        &who,
        id,
        &up.name,
        up.sample,
        &up.bytes,
        &request_id,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/dept/orders/{id}?done=dataset#datasets")).into_response(),
        Err(e) if e.status().is_client_error() => {
            let field = if e.field() == Some("name") || e.code() == "dataset_not_granted" {
                "dataset_name"
            } else {
                "dataset_file"
            };
            errors.push(field, localized(page.lang, e.message()));
            refused(&state, page, &who, id, errors, e.status(), forms).await
        }
        Err(e) => internal_page(&page, e),
    }
}

// ------------------------------------------------------------ test cases

fn input_of(c: TestCase) -> CaseInput {
    CaseInput {
        id: c.id,
        description: c.description,
        input: c.input,
        subject: c.subject,
        expect: c.expect,
        visibility: c.visibility,
        weight: c.weight,
    }
}

/// Where an API error about `cases[i].x` belongs on the one-case form.
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
            }),
            errors,
        ),
        _ => (None, errors),
    }
}

async fn case_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let who = match department(&page, &format!("/dept/orders/{id}")) {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let form: CaseForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    if let Err(r) = own_order(&state, &page, &who, id).await {
        return r;
    }
    let existing = match suite_for(&state, Some(&who), id).await {
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
        return refused(&state, page, &who, id, errors, status, forms).await;
    };
    // The API takes a whole suite: a draft's is replaced, an open order's
    // only grows. Sending the current cases plus the new one adds one case
    // either way, and the new case is validated exactly as an upload's.
    let mut cases: Vec<CaseInput> = existing.into_iter().map(input_of).collect();
    cases.push(case);
    match put_suite(&state, &who, id, SuiteInput { cases }, &request_id).await {
        Ok(put) => {
            let done = if put.regression_runs > 0 {
                "case_regression"
            } else {
                "case"
            };
            Redirect::to(&format!("/dept/orders/{id}?done={done}#suite")).into_response()
        }
        Err(e) if e.status().is_client_error() => {
            errors.push(case_field(e.field()), localized(page.lang, e.message()));
            refused(&state, page, &who, id, errors, e.status(), forms).await
        }
        Err(e) => internal_page(&page, e),
    }
}

// ------------------------------------------------------------ questions

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    answer: String,
}

async fn answer_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(qid): WebPath<i64>,
    body: Bytes,
) -> Response {
    let who = match department(&page, "/dept/orders") {
        Ok(w) => w.clone(),
        Err(r) => return r,
    };
    let form: AnswerForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let order_id = match store::orders::question(state.db.conn(), qid).await {
        Ok(Some(q)) => q.question.order_id,
        Ok(None) => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "notfound.body",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    if let Err(r) = own_order(&state, &page, &who, order_id).await {
        return r;
    }
    match service::questions::answer(&state, &who.actor(&request_id), qid, &form.answer).await {
        Ok(_) => Redirect::to(&format!(
            "/dept/orders/{order_id}?done=answered#question-{qid}"
        ))
        .into_response(),
        Err(e) if e.is_client_error() => {
            let mut errors = FormErrors::default();
            errors.push(&format!("answer-{qid}"), page.lang.error_message(&e));
            let forms = Forms {
                answer: Some((qid, form.answer)),
                ..Default::default()
            };
            let status = crate::error::status_of(&e);
            refused(&state, page, &who, order_id, errors, status, forms).await
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

    #[test]
    fn api_messages_are_shown_in_the_readers_language_with_their_detail() {
        let m = "不是有效的 JSON Schema / not a valid JSON Schema: bad type";
        assert_eq!(localized(Lang::ZhCn, m), "不是有效的 JSON Schema：bad type");
        assert_eq!(localized(Lang::En, m), "not a valid JSON Schema: bad type");
        assert_eq!(localized(Lang::En, "plain"), "plain");
    }

    #[test]
    fn case_errors_land_beside_their_field() {
        assert_eq!(case_field(Some("cases[3].input")), "case_input");
        assert_eq!(case_field(Some("cases[0].expect")), "case_expected");
        assert_eq!(case_field(Some("cases[0].weight")), "case_weight");
        assert_eq!(case_field(None), "case_id");
    }

    #[test]
    fn every_message_key_the_dept_pages_build_exists_in_both_languages() {
        let src = include_str!("./dept.rs");
        let mut keys = std::collections::BTreeSet::new();
        for (i, _) in src.match_indices("\"dept.") {
            let rest = &src[i + 1..];
            if let Some(end) = rest.find('"')
                && !rest[..end].ends_with('.')
            {
                keys.insert(&rest[..end]);
            }
        }
        assert!(keys.len() > 30, "{keys:?}");
        for lang in [Lang::ZhCn, Lang::En] {
            for k in &keys {
                // The catalogue answers the key itself when it has no message.
                assert_ne!(lang.catalog().t(k), *k, "{} lacks {k}", lang.code());
            }
        }
    }
}
