//! Requirement orders: drafts, publication, datasets, test suites and the
//! ISVs' starter kit.
//!
//! The logic lives in plain functions (`create_order`, `put_suite`, …) that
//! take the acting user; the handlers and the web pages both call them.

use std::collections::{BTreeMap, HashSet};
use std::io::Write;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::{OrderStatus, Role};
use sandbox::{Contract, Expect, Limits, TestCase, Visibility};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::entity::orders;
use utoipa::{IntoParams, ToSchema};

use super::{ApiJson, ApiPath, ApiQuery};
use crate::auth::{Authed, CurrentUser, roles};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::RequestId;
use crate::state::AppState;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create, list, get_order, update, publish, close, cancel, put_dataset, put_test_suite,
        get_test_suite, starter_kit
    ),
    tags((name = "orders", description = "Requirement orders, datasets and test suites"))
)]
pub struct OrdersApi;

/// Most cases one suite may hold.
pub const MAX_CASES: usize = 5_000;
/// Largest dataset upload, in bytes of JSON.
pub const MAX_DATASET_BYTES: usize = 8 << 20;
/// Largest test-suite upload, in bytes of JSON.
pub const MAX_SUITE_BYTES: usize = 8 << 20;
/// Longest dataset key.
const MAX_KEY_LEN: usize = 256;
/// Largest weight of a case.
const MAX_WEIGHT: u32 = 1_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(create).get(list))
        .route("/orders/{id}", get(get_order).patch(update))
        .route("/orders/{id}/publish", post(publish))
        .route("/orders/{id}/close", post(close))
        .route("/orders/{id}/cancel", post(cancel))
        .route(
            "/orders/{id}/datasets/{name}",
            // The handler reads the body itself under its own cap.
            put(put_dataset).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/orders/{id}/test-suite",
            put(put_test_suite)
                .get(get_test_suite)
                .layer(DefaultBodyLimit::max(MAX_SUITE_BYTES)),
        )
        .route("/orders/{id}/starter-kit.zip", get(starter_kit))
}

/// The signed-in user when there is a session; anonymous otherwise.
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(MaybeUser(Some(u.clone())));
        }
        Ok(MaybeUser(crate::auth::session_user(parts, state).await?))
    }
}

// ---------------------------------------------------------------- requests

/// An order's contract as departments write it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    /// JSON Schema of the app's `input`.
    #[schema(value_type = Object)]
    pub input_schema: Value,
    /// JSON Schema of the app's output.
    #[schema(value_type = Object)]
    pub output_schema: Value,
    /// Names of the datasets apps may query.
    #[serde(default, alias = "grants")]
    pub datasets: Vec<String>,
    /// Resource limits; absent fields take the platform defaults.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub limits: Limits,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrder {
    pub title: String,
    pub description: String,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Quarterly budget in fen.
    pub budget_fen: i64,
    pub deadline: Option<DateTime<Utc>>,
    pub contract: ContractInput,
    /// Share of hidden cases (by weight) that must pass, in basis points; default 10000.
    pub pass_threshold_bp: Option<i32>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrder {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub tags: Option<Vec<String>>,
    pub budget_fen: Option<i64>,
    /// Absent: unchanged; `null`: no deadline any more.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub deadline: Option<Option<DateTime<Utc>>>,
    pub contract: Option<ContractInput>,
    pub pass_threshold_bp: Option<i32>,
}

/// A field that is present, even as `null` (which plain `Option` cannot
/// tell from absent).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, ToSchema)]
pub struct DatasetView {
    pub name: String,
    pub version: i32,
    /// Whether ISVs may download it (it is in the starter kit).
    pub sample: bool,
    pub record_count: i64,
    pub size_bytes: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderView {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub department_org_id: i64,
    pub department: Option<String>,
    pub budget_fen: i64,
    pub deadline: Option<DateTime<Utc>>,
    /// draft | open | closed | cancelled
    pub status: String,
    #[schema(value_type = Object)]
    pub contract: Value,
    pub pass_threshold_bp: i32,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub datasets: Vec<DatasetView>,
    pub sample_cases: usize,
    pub hidden_cases: usize,
    pub questions: Vec<service::questions::QuestionView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderSummary {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub department_org_id: i64,
    pub department: Option<String>,
    pub budget_fen: i64,
    pub deadline: Option<DateTime<Utc>>,
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderSummary>,
    pub next: Option<i64>,
}

// ---------------------------------------------------------------- helpers

fn status_of(order: &orders::Model) -> ApiResult<OrderStatus> {
    order
        .status
        .parse()
        .map_err(|e: domain::lifecycle::UnknownStatus| {
            ApiError::internal(anyhow::anyhow!("order {}: {e}", order.id))
        })
}

/// The order, if this user may see it: drafts are their department's alone.
pub async fn visible_order(
    state: &AppState,
    who: Option<&CurrentUser>,
    id: i64,
) -> ApiResult<orders::Model> {
    let order = store::orders::get(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("订单 / order"))?;
    if order.status == OrderStatus::Draft.as_str() && !owns(who, &order) {
        return Err(ApiError::not_found("订单 / order"));
    }
    Ok(order)
}

fn owns(who: Option<&CurrentUser>, order: &orders::Model) -> bool {
    who.is_some_and(|u| {
        u.role() == Role::Department && u.user.org_id == Some(order.department_org_id)
    })
}

/// The order, which must belong to this department user's organisation.
pub async fn owned_order<C: sea_orm::ConnectionTrait>(
    conn: &C,
    who: &CurrentUser,
    id: i64,
) -> ApiResult<orders::Model> {
    let order = store::orders::get_for_update(conn, id)
        .await?
        .ok_or_else(|| ApiError::not_found("订单 / order"))?;
    if !owns(Some(who), &order) {
        return Err(ApiError::forbidden(
            "只有发布该订单的部门可以修改它 / only the order's department may change it",
        ));
    }
    Ok(order)
}

pub(crate) fn audit_entry(
    who: &CurrentUser,
    action: &str,
    object_type: &str,
    object_id: i64,
    summary: String,
    request_id: &RequestId,
) -> store::audit::AuditEntry {
    store::audit::AuditEntry {
        actor_id: Some(who.id()),
        actor_role: Some(who.role()),
        action: action.to_owned(),
        object_type: object_type.to_owned(),
        object_id: Some(object_id),
        summary,
        request_id: request_id.0.clone(),
    }
}

fn check_text(field: &str, value: &str, max: usize) -> ApiResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} 不能为空 / is required"),
        ));
    }
    if v.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{field} 不能超过 {max} 个字符 / at most {max} characters"),
        ));
    }
    Ok(v.to_owned())
}

fn check_budget(budget_fen: i64) -> ApiResult<i64> {
    (budget_fen > 0).then_some(budget_fen).ok_or_else(|| {
        ApiError::invalid_field(
            "budget_fen",
            "预算须为正整数（分）/ budget must be positive fen",
        )
    })
}

fn check_threshold(bp: i32) -> ApiResult<i32> {
    if (0..=10_000).contains(&bp) {
        Ok(bp)
    } else {
        Err(ApiError::invalid_field(
            "pass_threshold_bp",
            "通过门槛须在 0 到 10000 基点之间 / must be 0..=10000 basis points",
        ))
    }
}

fn check_tags(tags: &[String]) -> ApiResult<Vec<String>> {
    if tags.len() > 20 {
        return Err(ApiError::invalid_field(
            "tags",
            "最多 20 个标签 / at most 20 tags",
        ));
    }
    tags.iter().map(|t| check_text("tags", t, 40)).collect()
}

fn check_dataset_name(field: &str, name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid_field(
            field,
            format!(
                "数据集名称 `{name}` 只能由小写字母、数字、_ 和 - 组成 / dataset names are [a-z0-9_-]{{1,64}}"
            ),
        ))
    }
}

/// Checks a contract: both schemas are valid JSON Schemas, grants are
/// well-named, and every limit is within the platform cap.
pub fn check_contract(state: &AppState, c: &ContractInput) -> ApiResult<Value> {
    for (field, schema) in [
        ("contract.input_schema", &c.input_schema),
        ("contract.output_schema", &c.output_schema),
    ] {
        if !schema.is_object() {
            return Err(ApiError::invalid_field(
                field,
                "须为 JSON Schema 对象 / must be a JSON Schema object",
            ));
        }
        if let Err(e) = jsonschema::meta::validate(schema) {
            return Err(ApiError::invalid_field(
                field,
                format!("不是有效的 JSON Schema / not a valid JSON Schema: {e}"),
            ));
        }
        if let Err(e) = jsonschema::validator_for(schema) {
            return Err(ApiError::invalid_field(
                field,
                format!("不是有效的 JSON Schema / not a valid JSON Schema: {e}"),
            ));
        }
    }
    let mut seen = HashSet::new();
    for name in &c.datasets {
        check_dataset_name("contract.datasets", name)?;
        if !seen.insert(name) {
            return Err(ApiError::invalid_field(
                "contract.datasets",
                format!("数据集 `{name}` 重复 / dataset `{name}` listed twice"),
            ));
        }
    }
    let caps = &state.sandbox.config().caps;
    let l = &c.limits;
    let over: Vec<String> = [
        ("instructions", l.instructions, caps.instructions),
        ("memory_bytes", l.memory_bytes, caps.memory_bytes),
        ("wall_time_ms", l.wall_time_ms, caps.wall_time_ms),
        ("stdout_bytes", l.stdout_bytes, caps.stdout_bytes),
        ("stderr_bytes", l.stderr_bytes, caps.stderr_bytes),
        ("module_bytes", l.module_bytes, caps.module_bytes),
        ("queries", l.queries.map(u64::from), u64::from(caps.queries)),
    ]
    .into_iter()
    .filter_map(|(name, v, cap)| match v {
        Some(0) => Some(format!("{name} must be positive")),
        Some(v) if v > cap => Some(format!("{name} {v} > cap {cap}")),
        _ => None,
    })
    .collect();
    if !over.is_empty() {
        return Err(ApiError::invalid_field(
            "contract.limits",
            format!(
                "资源限制超出平台上限 / limits outside platform caps: {}",
                over.join("; ")
            ),
        ));
    }
    let contract = Contract {
        input_schema: c.input_schema.clone(),
        output_schema: c.output_schema.clone(),
        datasets: c.datasets.clone(),
        limits: c.limits.clone(),
        threshold_percent: sandbox::suite::DEFAULT_THRESHOLD_PERCENT,
    };
    serde_json::to_value(&contract).map_err(ApiError::internal)
}

async fn department_org(who: &CurrentUser) -> ApiResult<i64> {
    who.user
        .org_id
        .ok_or_else(|| ApiError::forbidden("账户未关联部门 / the account belongs to no department"))
}

pub async fn order_view(state: &AppState, order: orders::Model) -> ApiResult<OrderView> {
    let conn = state.db.conn();
    let department = store::orgs::find_by_id(conn, order.department_org_id)
        .await?
        .map(|o| o.name);
    let datasets = store::datasets::list(conn, order.id)
        .await?
        .into_iter()
        .map(|d| DatasetView {
            name: d.name,
            version: d.version,
            sample: d.sample,
            record_count: d.record_count,
            size_bytes: d.size_bytes,
            updated_at: d.updated_at,
        })
        .collect();
    let cases = store::orders::cases(conn, order.id).await?;
    let sample_cases = cases.iter().filter(|c| c.visibility == "sample").count();
    let questions = service::questions::of_order(state, order.id).await?;
    Ok(OrderView {
        id: order.id,
        title: order.title,
        description: order.description,
        category: order.category,
        tags: serde_json::from_value(order.tags).unwrap_or_default(),
        department_org_id: order.department_org_id,
        department,
        budget_fen: order.budget_fen,
        deadline: order.deadline,
        status: order.status,
        contract: order.contract,
        pass_threshold_bp: order.pass_threshold_bp,
        created_at: order.created_at,
        published_at: order.published_at,
        closed_at: order.closed_at,
        datasets,
        sample_cases,
        hidden_cases: cases.len() - sample_cases,
        questions,
    })
}

// ---------------------------------------------------------------- logic

pub async fn create_order(
    state: &AppState,
    who: &CurrentUser,
    req: CreateOrder,
    request_id: &RequestId,
) -> ApiResult<orders::Model> {
    let org = department_org(who).await?;
    let new = store::orders::NewOrder {
        department_org_id: org,
        created_by: who.id(),
        title: check_text("title", &req.title, 120)?,
        description: check_text("description", &req.description, 10_000)?,
        category: check_text("category", &req.category, 40)?,
        tags: check_tags(&req.tags)?,
        budget_fen: check_budget(req.budget_fen)?,
        deadline: req.deadline,
        contract: check_contract(state, &req.contract)?,
        pass_threshold_bp: check_threshold(req.pass_threshold_bp.unwrap_or(10_000))?,
    };
    let txn = state.db.begin_write().await?;
    let order = store::orders::create(&txn, new).await?;
    store::audit::append(
        &txn,
        audit_entry(
            who,
            "order.create",
            "order",
            order.id,
            format!("创建需求订单草稿《{}》", order.title),
            request_id,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(order)
}

pub async fn update_order(
    state: &AppState,
    who: &CurrentUser,
    id: i64,
    req: UpdateOrder,
    request_id: &RequestId,
) -> ApiResult<orders::Model> {
    let txn = state.db.begin_write().await?;
    let order = owned_order(&txn, who, id).await?;
    if !status_of(&order)?.contract_editable() {
        return Err(ApiError::conflict(
            "order_not_draft",
            "订单已发布，合同已冻结，不能修改 / the order is no longer a draft: its contract is frozen",
        ));
    }
    let mut active: orders::ActiveModel = order.into();
    use sea_orm::ActiveValue::Set;
    if let Some(v) = &req.title {
        active.title = Set(check_text("title", v, 120)?);
    }
    if let Some(v) = &req.description {
        active.description = Set(check_text("description", v, 10_000)?);
    }
    if let Some(v) = &req.category {
        active.category = Set(check_text("category", v, 40)?);
    }
    if let Some(v) = &req.tags {
        active.tags = Set(serde_json::json!(check_tags(v)?));
    }
    if let Some(v) = req.budget_fen {
        active.budget_fen = Set(check_budget(v)?);
    }
    if let Some(v) = req.deadline {
        active.deadline = Set(v);
    }
    if let Some(c) = &req.contract {
        active.contract = Set(check_contract(state, c)?);
    }
    if let Some(v) = req.pass_threshold_bp {
        active.pass_threshold_bp = Set(check_threshold(v)?);
    }
    active.updated_at = Set(store::now());
    let order = sea_orm::ActiveModelTrait::update(active, &txn).await?;
    store::audit::append(
        &txn,
        audit_entry(
            who,
            "order.update",
            "order",
            order.id,
            format!("修改需求订单草稿《{}》", order.title),
            request_id,
        ),
    )
    .await?;
    txn.commit().await?;
    state.datasets.invalidate(id);
    state.availability.invalidate();
    Ok(order)
}

/// Publish, close or cancel.
pub async fn move_order(
    state: &AppState,
    who: &CurrentUser,
    id: i64,
    to: OrderStatus,
    request_id: &RequestId,
) -> ApiResult<orders::Model> {
    let txn = state.db.begin_write().await?;
    let order = owned_order(&txn, who, id).await?;
    let from = status_of(&order)?;
    from.move_to(to)?;
    if to == OrderStatus::Open {
        let cases = store::orders::cases(&txn, id).await?;
        if cases.is_empty() {
            return Err(ApiError::unprocessable(
                "order_incomplete",
                "发布前请先上传测试用例 / add test cases before publishing",
            ));
        }
        let contract = service::appdata::contract_of(&order)?;
        let present: HashSet<String> = store::datasets::list(&txn, id)
            .await?
            .into_iter()
            .map(|d| d.name)
            .collect();
        let missing: Vec<&str> = contract
            .datasets
            .iter()
            .filter(|d| !present.contains(*d))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            return Err(ApiError::unprocessable(
                "order_incomplete",
                format!(
                    "合同授权的数据集尚未上传 / granted datasets not uploaded: {}",
                    missing.join(", ")
                ),
            ));
        }
    }
    let now = store::now();
    let mut active: orders::ActiveModel = order.into();
    use sea_orm::ActiveValue::Set;
    active.status = Set(to.as_str().to_owned());
    active.updated_at = Set(now);
    match to {
        OrderStatus::Open => active.published_at = Set(Some(now)),
        OrderStatus::Closed | OrderStatus::Cancelled => active.closed_at = Set(Some(now)),
        OrderStatus::Draft => {}
    }
    let order = sea_orm::ActiveModelTrait::update(active, &txn).await?;
    let (action, verb) = match to {
        OrderStatus::Open => ("order.publish", "发布"),
        OrderStatus::Closed => ("order.close", "关闭"),
        _ => ("order.cancel", "取消"),
    };
    store::audit::append(
        &txn,
        audit_entry(
            who,
            action,
            "order",
            order.id,
            format!("{verb}需求订单《{}》", order.title),
            request_id,
        ),
    )
    .await?;
    txn.commit().await?;
    // Opening puts the order in search; closing or cancelling takes it and
    // (for cancel) its listings out.
    service::search_index::index_order(state, order.id).await;
    for app in store::apps::list(state.db.conn(), None, Some(order.id)).await? {
        service::search_index::index_app(state, app.id).await;
    }
    Ok(order)
}

/// Parses a dataset upload: a JSON object of key -> record, a JSON array of
/// `{"key", "record"}`, or JSON Lines of `{"key", "record"}`.
pub fn parse_dataset(body: &[u8]) -> ApiResult<Vec<(String, Value)>> {
    let text = std::str::from_utf8(body).map_err(|_| {
        ApiError::bad_request(
            "malformed_dataset",
            "数据集须为 UTF-8 JSON / dataset must be UTF-8 JSON",
        )
    })?;
    let keyed = |v: Value, at: String| -> ApiResult<(String, Value)> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Line {
            key: String,
            record: Value,
        }
        let line: Line = serde_json::from_value(v).map_err(|e| {
            ApiError::bad_request(
                "malformed_dataset",
                format!("{at}: 每条记录须为 {{\"key\", \"record\"}} / each line must be {{\"key\", \"record\"}}: {e}"),
            )
        })?;
        Ok((line.key, line.record))
    };
    let records: Vec<(String, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        Ok(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| keyed(v, format!("[{i}]")))
            .collect::<ApiResult<_>>()?,
        Ok(_) => {
            return Err(ApiError::bad_request(
                "malformed_dataset",
                "数据集须为对象（键 -> 记录）/ dataset must be an object of key -> record",
            ));
        }
        Err(whole) => {
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line).map_err(|e| {
                    let msg = if n == 0 {
                        whole.to_string()
                    } else {
                        e.to_string()
                    };
                    ApiError::bad_request(
                        "malformed_dataset",
                        format!(
                            "第 {} 行不是 JSON / line {} is not JSON: {msg}",
                            n + 1,
                            n + 1
                        ),
                    )
                })?;
                out.push(keyed(v, format!("line {}", n + 1))?);
            }
            out
        }
    };
    let mut seen = HashSet::new();
    for (key, _) in &records {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(ApiError::unprocessable(
                "invalid_dataset",
                format!(
                    "记录键须为 1 到 {MAX_KEY_LEN} 字节 / keys must be 1..={MAX_KEY_LEN} bytes"
                ),
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(ApiError::unprocessable(
                "invalid_dataset",
                format!("键 `{key}` 重复 / key `{key}` appears twice"),
            ));
        }
    }
    if records.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_dataset",
            "数据集不能为空 / a dataset needs at least one record",
        ));
    }
    Ok(records)
}

pub async fn put_dataset_records(
    state: &AppState,
    who: &CurrentUser,
    id: i64,
    name: &str,
    sample: bool,
    body: &[u8],
    request_id: &RequestId,
) -> ApiResult<store::entity::datasets::Model> {
    check_dataset_name("name", name)?;
    if body.len() > MAX_DATASET_BYTES {
        return Err(ApiError::payload_too_large(format!(
            "数据集不能超过 {} MiB / a dataset may be at most {} MiB",
            MAX_DATASET_BYTES >> 20,
            MAX_DATASET_BYTES >> 20
        )));
    }
    let records = parse_dataset(body)?;
    let txn = state.db.begin_write().await?;
    let order = owned_order(&txn, who, id).await?;
    let status = status_of(&order)?;
    if !matches!(status, OrderStatus::Draft | OrderStatus::Open) {
        return Err(ApiError::conflict(
            "order_not_editable",
            "订单已关闭或取消 / the order is closed or cancelled",
        ));
    }
    let contract = service::appdata::contract_of(&order)?;
    if !contract.datasets.iter().any(|d| d == name) {
        return Err(ApiError::unprocessable(
            "dataset_not_granted",
            format!("合同未授权数据集 `{name}` / the contract grants no dataset `{name}`"),
        ));
    }
    let size = i64::try_from(body.len()).map_err(ApiError::internal)?;
    let dataset = store::datasets::put(&txn, id, name, sample, records, size).await?;
    store::audit::append(
        &txn,
        audit_entry(
            who,
            "dataset.put",
            "order",
            id,
            format!(
                "上传数据集 {name} 第 {} 版，{} 条记录",
                dataset.version, dataset.record_count
            ),
            request_id,
        ),
    )
    .await?;
    txn.commit().await?;
    state.datasets.invalidate(id);
    state.availability.invalidate();
    Ok(dataset)
}

/// A case as authored (the suite file's format).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    pub id: String,
    #[serde(default)]
    pub description: String,
    #[schema(value_type = Object)]
    pub input: Value,
    pub subject: Option<String>,
    /// `{"kind": "equals"|"contains", "value": …}` or `{"kind": "schema"}`.
    #[schema(value_type = Object)]
    pub expect: Expect,
    /// `sample` or `hidden`.
    #[schema(value_type = String)]
    pub visibility: Visibility,
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteInput {
    pub cases: Vec<CaseInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuiteView {
    pub order_id: i64,
    /// Cases this caller may see (ISVs: sample cases only).
    #[schema(value_type = Vec<Object>)]
    pub cases: Vec<TestCase>,
    pub sample_cases: usize,
    pub hidden_cases: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuitePut {
    pub order_id: i64,
    pub cases: usize,
    pub added: usize,
    /// Published versions queued for a regression run.
    pub regression_runs: usize,
}

fn same_case(stored: &TestCase, new: &CaseInput) -> bool {
    stored.description == new.description
        && stored.input == new.input
        && stored.subject == new.subject
        && stored.expect == new.expect
        && stored.visibility == new.visibility
        && stored.weight == new.weight
}

/// Replaces a draft's suite, or adds cases to an open order's suite (which
/// re-tests every published version).
pub async fn put_suite(
    state: &AppState,
    who: &CurrentUser,
    id: i64,
    req: SuiteInput,
    request_id: &RequestId,
) -> ApiResult<SuitePut> {
    if req.cases.len() > MAX_CASES {
        return Err(ApiError::payload_too_large(format!(
            "一个测试集最多 {MAX_CASES} 个用例 / at most {MAX_CASES} cases"
        )));
    }
    // Validate everything before writing anything.
    let order = store::orders::get(state.db.conn(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("订单 / order"))?;
    let contract = service::appdata::contract_of(&order)?;
    let schemas = contract.schemas().map_err(ApiError::internal)?;
    let mut ids = HashSet::new();
    for (i, c) in req.cases.iter().enumerate() {
        let field = format!("cases[{i}]");
        let id_ok = !c.id.is_empty()
            && c.id.len() <= 64
            && c.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !id_ok {
            return Err(ApiError::invalid_field(
                &format!("{field}.id"),
                "用例编号只能由字母、数字、-、_、. 组成 / case ids are [A-Za-z0-9._-]{1,64}",
            ));
        }
        if !ids.insert(c.id.as_str()) {
            return Err(ApiError::invalid_field(
                &format!("{field}.id"),
                format!(
                    "用例编号 `{}` 重复 / case id `{}` appears twice",
                    c.id, c.id
                ),
            ));
        }
        if !(1..=MAX_WEIGHT).contains(&c.weight) {
            return Err(ApiError::invalid_field(
                &format!("{field}.weight"),
                format!("权重须在 1 到 {MAX_WEIGHT} 之间 / weight must be 1..={MAX_WEIGHT}"),
            ));
        }
        if let Err(errors) = schemas.check_input(&c.input) {
            return Err(ApiError::invalid_field(
                &format!("{field}.input"),
                format!(
                    "用例 `{}` 的输入不符合合同的输入模式 / case `{}` input violates the input schema: {}",
                    c.id,
                    c.id,
                    errors.join("; ")
                ),
            ));
        }
        if let Expect::Equals { value } | Expect::Contains { value } = &c.expect
            && matches!(c.expect, Expect::Equals { .. })
            && let Err(errors) = schemas.check_output(value)
        {
            return Err(ApiError::invalid_field(
                &format!("{field}.expect"),
                format!(
                    "用例 `{}` 的期望输出不符合输出模式 / case `{}` expected output violates the output schema: {}",
                    c.id,
                    c.id,
                    errors.join("; ")
                ),
            ));
        }
    }

    let txn = state.db.begin_write().await?;
    let order = owned_order(&txn, who, id).await?;
    let status = status_of(&order)?;
    let existing: Vec<TestCase> = store::orders::cases(&txn, id)
        .await?
        .iter()
        .map(service::appdata::case_of)
        .collect::<Result<_, _>>()?;
    let to_insert: Vec<&CaseInput> = match status {
        OrderStatus::Draft => {
            store::orders::delete_cases(&txn, id).await?;
            req.cases.iter().collect()
        }
        OrderStatus::Open => {
            let by_id: BTreeMap<&str, &CaseInput> =
                req.cases.iter().map(|c| (c.id.as_str(), c)).collect();
            for old in &existing {
                match by_id.get(old.id.as_str()) {
                    Some(new) if same_case(old, new) => {}
                    _ => {
                        return Err(ApiError::conflict(
                            "suite_frozen",
                            format!(
                                "订单已发布：只能新增用例，不能修改或删除（用例 `{}`）/ the order is open: cases may be added, not changed or removed (case `{}`)",
                                old.id, old.id
                            ),
                        ));
                    }
                }
            }
            let old_ids: HashSet<&str> = existing.iter().map(|c| c.id.as_str()).collect();
            req.cases
                .iter()
                .filter(|c| !old_ids.contains(c.id.as_str()))
                .collect()
        }
        OrderStatus::Closed | OrderStatus::Cancelled => {
            return Err(ApiError::conflict(
                "order_not_editable",
                "订单已关闭或取消 / the order is closed or cancelled",
            ));
        }
    };
    let added = to_insert.len();
    let rows = to_insert
        .into_iter()
        .map(|c| {
            Ok(store::orders::NewCase {
                case_id: c.id.clone(),
                description: c.description.clone(),
                input: c.input.clone(),
                subject: c.subject.clone(),
                expect: serde_json::to_value(&c.expect).map_err(ApiError::internal)?,
                visibility: match c.visibility {
                    Visibility::Sample => "sample".into(),
                    Visibility::Hidden => "hidden".into(),
                },
                weight: i32::try_from(c.weight).map_err(ApiError::internal)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    store::orders::insert_cases(&txn, id, rows).await?;
    let total = if status == OrderStatus::Draft {
        req.cases.len()
    } else {
        existing.len() + added
    };
    let mut regression_runs = 0;
    if status == OrderStatus::Open && added > 0 {
        let total_i32 = i32::try_from(total).map_err(ApiError::internal)?;
        for v in store::apps::published_versions_of_order(&txn, id).await? {
            store::pipeline::enqueue_run(&txn, v.id, "regression", total_i32).await?;
            regression_runs += 1;
        }
    }
    store::audit::append(
        &txn,
        audit_entry(
            who,
            "test_suite.put",
            "order",
            id,
            format!(
                "测试集共 {total} 个用例（新增 {added} 个），回归测试 {regression_runs} 个已发布版本"
            ),
            request_id,
        ),
    )
    .await?;
    txn.commit().await?;
    if regression_runs > 0 {
        state.jobs.queued();
    }
    Ok(SuitePut {
        order_id: id,
        cases: total,
        added,
        regression_runs,
    })
}

/// The suite as this caller may see it: departments of the order, supervisors
/// and admins see everything; others see the sample cases of a published order.
pub async fn suite_for(
    state: &AppState,
    who: Option<&CurrentUser>,
    id: i64,
) -> ApiResult<(orders::Model, SuiteView)> {
    let order = visible_order(state, who, id).await?;
    let all = owns(who, &order)
        || who.is_some_and(|u| matches!(u.role(), Role::Supervisor | Role::Admin));
    let cases: Vec<TestCase> = store::orders::cases(state.db.conn(), id)
        .await?
        .iter()
        .map(service::appdata::case_of)
        .collect::<Result<_, _>>()?;
    let sample_cases = cases
        .iter()
        .filter(|c| c.visibility == Visibility::Sample)
        .count();
    let hidden_cases = cases.len() - sample_cases;
    let cases = if all {
        cases
    } else {
        cases
            .into_iter()
            .filter(|c| c.visibility == Visibility::Sample)
            .collect()
    };
    Ok((
        order,
        SuiteView {
            order_id: id,
            cases,
            sample_cases,
            hidden_cases,
        },
    ))
}

/// The starter kit: a suite directory (`contract.json`, `cases.json` with
/// the sample cases, `datasets/NAME.json` for sample datasets, a README) as
/// a zip that `govmarket app test --suite` reads once unpacked.
pub async fn starter_kit_zip(
    state: &AppState,
    who: Option<&CurrentUser>,
    id: i64,
) -> ApiResult<(orders::Model, Vec<u8>)> {
    let (order, suite) = suite_for(state, who, id).await?;
    let sample_cases: Vec<&TestCase> = suite
        .cases
        .iter()
        .filter(|c| c.visibility == Visibility::Sample)
        .collect();
    let mut contract = service::appdata::contract_of(&order)?;
    let mut files: Vec<(String, Vec<u8>)> = vec![];
    let mut included = Vec::new();
    for d in store::datasets::list(state.db.conn(), id).await? {
        if !d.sample {
            continue;
        }
        let records: serde_json::Map<String, Value> =
            store::datasets::records(state.db.conn(), d.id)
                .await?
                .into_iter()
                .collect();
        files.push((
            format!("datasets/{}.json", d.name),
            serde_json::to_vec_pretty(&records).map_err(ApiError::internal)?,
        ));
        included.push(d.name);
    }
    // The kit must load as a suite directory: a grant whose data the ISV may
    // not download is left out of the kit's contract (its queries then
    // answer "not permitted" locally), and the README says so.
    let withheld: Vec<String> = contract
        .datasets
        .iter()
        .filter(|d| !included.contains(d))
        .cloned()
        .collect();
    contract.datasets.retain(|d| included.contains(d));
    files.push((
        "contract.json".into(),
        serde_json::to_vec_pretty(&contract).map_err(ApiError::internal)?,
    ));
    files.push((
        "cases.json".into(),
        serde_json::to_vec_pretty(&sample_cases).map_err(ApiError::internal)?,
    ));
    let readme = format!(
        "# {title}\n\n订单 / order {id}\n\n\
         本目录可直接用于本地黑盒测试 / this directory is a test suite for the local check:\n\n\
         ```\ngovmarket app test app.wasm --suite .\n```\n\n\
         - contract.json: 输入输出模式、数据授权与资源限制 / schemas, data grants, limits\n\
         - cases.json: {n} 个示例用例 / sample cases ({hidden} hidden cases are run on the platform only)\n\
         - datasets/: 可下载的示例数据 / sample datasets\n{withheld}",
        title = order.title,
        n = sample_cases.len(),
        hidden = suite.hidden_cases,
        withheld = if withheld.is_empty() {
            String::new()
        } else {
            format!(
                "\n未包含的数据集（仅平台测试可用）/ datasets not in the kit (platform only): {}\n",
                withheld.join(", ")
            )
        }
    );
    files.push(("README.md".into(), readme.into_bytes()));

    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in files {
        zip.start_file(name, options).map_err(ApiError::internal)?;
        zip.write_all(&bytes).map_err(ApiError::internal)?;
    }
    let bytes = zip.finish().map_err(ApiError::internal)?.into_inner();
    Ok((order, bytes))
}

// ---------------------------------------------------------------- handlers

/// Create a draft order (department).
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = CreateOrder,
    security(("bearer" = [])),
    responses((status = 201, body = OrderView), (status = 422, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiJson(req): ApiJson<CreateOrder>,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let order = create_order(&state, &who.current, req, &request_id).await?;
    Ok((StatusCode::CREATED, Json(order_view(&state, order).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OrderQuery {
    /// draft | open | closed | cancelled; default: all but other departments' drafts.
    pub status: Option<String>,
    /// Words in the title, description or category.
    pub q: Option<String>,
    /// Only this department's orders.
    pub department: Option<i64>,
    /// Only orders of exactly this category.
    pub category: Option<String>,
    /// The `next` cursor of the previous page.
    pub page: Option<i64>,
    /// At most 200; default 50.
    pub limit: Option<u64>,
}

pub async fn list_orders(
    state: &AppState,
    who: Option<&CurrentUser>,
    query: &OrderQuery,
) -> ApiResult<OrderList> {
    let my_org = who
        .filter(|u| u.role() == Role::Department)
        .and_then(|u| u.user.org_id);
    let mut filter = store::orders::OrderFilter {
        q: query.q.clone(),
        department_org_id: query.department,
        category: query.category.clone(),
        before_id: query.page,
        limit: query.limit.unwrap_or(50),
        ..Default::default()
    };
    match query.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => {
            let status: OrderStatus = s.parse().map_err(|_| {
                ApiError::invalid_field("status", format!("未知状态 / unknown status `{s}`"))
            })?;
            if status == OrderStatus::Draft {
                // Drafts are their department's alone.
                match my_org {
                    Some(org) => filter.department_org_id = Some(org),
                    None => {
                        return Ok(OrderList {
                            items: vec![],
                            next: None,
                        });
                    }
                }
            }
            filter.statuses = vec![status.as_str().to_owned()];
        }
        None => match my_org {
            Some(org) if query.department == Some(org) => {}
            _ => {
                filter.statuses = [
                    OrderStatus::Open,
                    OrderStatus::Closed,
                    OrderStatus::Cancelled,
                ]
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect();
            }
        },
    }
    let (rows, next) = store::orders::list(state.db.conn(), &filter).await?;
    let mut names: BTreeMap<i64, Option<String>> = BTreeMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for o in rows {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(o.department_org_id) {
            let name = store::orgs::find_by_id(state.db.conn(), o.department_org_id)
                .await?
                .map(|g| g.name);
            slot.insert(name);
        }
        items.push(OrderSummary {
            id: o.id,
            title: o.title,
            category: o.category,
            department_org_id: o.department_org_id,
            department: names.get(&o.department_org_id).cloned().flatten(),
            budget_fen: o.budget_fen,
            deadline: o.deadline,
            status: o.status,
            published_at: o.published_at,
        });
    }
    Ok(OrderList { items, next })
}

/// Orders, newest first. Anyone may list published orders; a department also
/// sees its own drafts (with `?department=<its org id>` or `?status=draft`).
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderQuery),
    responses((status = 200, body = OrderList), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    MaybeUser(who): MaybeUser,
    ApiQuery(query): ApiQuery<OrderQuery>,
) -> ApiResult<Json<OrderList>> {
    Ok(Json(list_orders(&state, who.as_ref(), &query).await?))
}

/// One order with its datasets and public Q&A (drafts: their department only).
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders",
    responses((status = 200, body = OrderView), (status = 404, body = ErrorBody)))]
pub async fn get_order(
    State(state): State<AppState>,
    MaybeUser(who): MaybeUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    let order = visible_order(&state, who.as_ref(), id).await?;
    Ok(Json(order_view(&state, order).await?))
}

/// Edit a draft (department); an open order's contract is frozen (409).
#[utoipa::path(patch, path = "/api/v1/orders/{id}", tag = "orders", request_body = UpdateOrder,
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<UpdateOrder>,
) -> ApiResult<Json<OrderView>> {
    let order = update_order(&state, &who.current, id, req, &request_id).await?;
    Ok(Json(order_view(&state, order).await?))
}

/// Publish a draft: the contract freezes (department).
#[utoipa::path(post, path = "/api/v1/orders/{id}/publish", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn publish(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    let order = move_order(&state, &who.current, id, OrderStatus::Open, &request_id).await?;
    Ok(Json(order_view(&state, order).await?))
}

/// Close an open order (department).
#[utoipa::path(post, path = "/api/v1/orders/{id}/close", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    let order = move_order(&state, &who.current, id, OrderStatus::Closed, &request_id).await?;
    Ok(Json(order_view(&state, order).await?))
}

/// Cancel a draft or open order (department).
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders",
    security(("bearer" = [])),
    responses((status = 200, body = OrderView), (status = 409, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<OrderView>> {
    let order = move_order(
        &state,
        &who.current,
        id,
        OrderStatus::Cancelled,
        &request_id,
    )
    .await?;
    Ok(Json(order_view(&state, order).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DatasetQuery {
    /// Whether ISVs may download it in the starter kit (default false).
    pub sample: Option<bool>,
}

/// Upload (or replace) a dataset: a JSON object of key -> record, or JSON
/// Lines of `{"key", "record"}`; at most 8 MiB (department).
#[utoipa::path(put, path = "/api/v1/orders/{id}/datasets/{name}", tag = "orders",
    params(DatasetQuery), security(("bearer" = [])),
    responses((status = 200, body = DatasetView), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_dataset(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath((id, name)): ApiPath<(i64, String)>,
    ApiQuery(q): ApiQuery<DatasetQuery>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> ApiResult<Json<DatasetView>> {
    // Refuse an announced oversize body before reading it.
    if let Some(len) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > MAX_DATASET_BYTES
    {
        return Err(too_big_dataset());
    }
    let bytes: Bytes = axum::body::to_bytes(body, MAX_DATASET_BYTES)
        .await
        .map_err(|_| too_big_dataset())?;
    let d = put_dataset_records(
        &state,
        &who.current,
        id,
        &name,
        q.sample.unwrap_or(false),
        &bytes,
        &request_id,
    )
    .await?;
    Ok(Json(DatasetView {
        name: d.name,
        version: d.version,
        sample: d.sample,
        record_count: d.record_count,
        size_bytes: d.size_bytes,
        updated_at: d.updated_at,
    }))
}

fn too_big_dataset() -> ApiError {
    ApiError::payload_too_large(format!(
        "数据集不能超过 {} MiB / a dataset may be at most {} MiB",
        MAX_DATASET_BYTES >> 20,
        MAX_DATASET_BYTES >> 20
    ))
}

/// Replace a draft's test suite, or add cases to an open order's suite,
/// which re-tests every published version (department).
#[utoipa::path(put, path = "/api/v1/orders/{id}/test-suite", tag = "orders",
    request_body = SuiteInput, security(("bearer" = [])),
    responses((status = 200, body = SuitePut), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn put_test_suite(
    State(state): State<AppState>,
    who: Authed<roles::Department>,
    request_id: RequestId,
    ApiPath(id): ApiPath<i64>,
    ApiJson(req): ApiJson<SuiteInput>,
) -> ApiResult<Json<SuitePut>> {
    Ok(Json(
        put_suite(&state, &who.current, id, req, &request_id).await?,
    ))
}

/// The test suite: the department sees every case, ISVs the sample cases.
#[utoipa::path(get, path = "/api/v1/orders/{id}/test-suite", tag = "orders",
    responses((status = 200, body = SuiteView), (status = 404, body = ErrorBody)))]
pub async fn get_test_suite(
    State(state): State<AppState>,
    MaybeUser(who): MaybeUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<SuiteView>> {
    Ok(Json(suite_for(&state, who.as_ref(), id).await?.1))
}

/// The starter kit zip: contract, sample cases and sample datasets, a suite
/// directory for `govmarket app test --suite`.
#[utoipa::path(get, path = "/api/v1/orders/{id}/starter-kit.zip", tag = "orders",
    responses((status = 200, content_type = "application/zip"), (status = 404, body = ErrorBody)))]
pub async fn starter_kit(
    State(state): State<AppState>,
    MaybeUser(who): MaybeUser,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    let (order, bytes) = starter_kit_zip(&state, who.as_ref(), id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"order-{}-starter-kit.zip\"",
                    order.id
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
