//! Drafting an order: creating it, editing it while it is a draft, and the
//! checks of its fields and its contract.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::Role;
use sandbox::{Contract, Limits};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::entity::orders;
use utoipa::ToSchema;

use super::{owned_order, status_of};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

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
    /// The datasets apps may query, each with its access rule:
    /// `NAME:subject` (the citizen's own record), `NAME:input/pointer
    /// [:owner/pointer]...` (the key at that pointer of the input, optionally
    /// only a record naming the citizen) or `NAME:reference` (any key).
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

// ---------------------------------------------------------------- checks

fn check_text(field: &'static str, value: &str, max: usize) -> ServiceResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(ServiceError::invalid(
            field,
            Msg::new("err.order.required").arg("field", field),
        ));
    }
    if v.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            Msg::new("err.order.text_too_long")
                .arg("field", field)
                .arg("max", max),
        ));
    }
    Ok(v.to_owned())
}

fn check_budget(budget_fen: i64) -> ServiceResult<i64> {
    (budget_fen > 0).then_some(budget_fen).ok_or_else(|| {
        ServiceError::invalid("budget_fen", Msg::new("err.order.budget_not_positive"))
    })
}

fn check_threshold(bp: i32) -> ServiceResult<i32> {
    if (0..=10_000).contains(&bp) {
        Ok(bp)
    } else {
        Err(ServiceError::invalid(
            "pass_threshold_bp",
            Msg::new("err.order.threshold_range"),
        ))
    }
}

/// A deadline must lie ahead (a past one would close uploads at once).
fn check_deadline(deadline: Option<DateTime<Utc>>) -> ServiceResult<Option<DateTime<Utc>>> {
    match deadline {
        Some(d) if d <= store::now() => Err(ServiceError::invalid(
            "deadline",
            Msg::new("err.order.deadline_past"),
        )),
        other => Ok(other),
    }
}

fn check_tags(tags: &[String]) -> ServiceResult<Vec<String>> {
    if tags.len() > 20 {
        return Err(ServiceError::invalid(
            "tags",
            Msg::new("err.order.too_many_tags"),
        ));
    }
    tags.iter().map(|t| check_text("tags", t, 40)).collect()
}

/// Dataset names are `[a-z0-9_-]{1,64}`.
pub(crate) fn check_dataset_name(field: &'static str, name: &str) -> ServiceResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ServiceError::invalid(
            field,
            Msg::new("err.order.dataset_name").arg("name", name),
        ))
    }
}

/// Checks a contract: both schemas are valid JSON Schemas, grants are
/// well-named, and every limit is within the platform cap. Returns the
/// contract as stored.
pub fn check_contract(services: &Services, c: &ContractInput) -> ServiceResult<Value> {
    for (field, schema) in [
        ("contract.input_schema", &c.input_schema),
        ("contract.output_schema", &c.output_schema),
    ] {
        if !schema.is_object() {
            return Err(ServiceError::invalid(
                field,
                Msg::new("err.order.schema_not_object"),
            ));
        }
        let invalid = |e: &dyn std::fmt::Display| {
            ServiceError::invalid(field, Msg::new("err.order.schema_invalid").arg("detail", e))
        };
        if let Err(e) = jsonschema::meta::validate(schema) {
            return Err(invalid(&e));
        }
        if let Err(e) = jsonschema::validator_for(schema) {
            return Err(invalid(&e));
        }
    }
    let mut seen = HashSet::new();
    let mut grants = Vec::with_capacity(c.datasets.len());
    for text in &c.datasets {
        let grant = sandbox::DatasetGrant::parse(text).map_err(|e| match e {
            sandbox::GrantError::MissingRule(name) => ServiceError::invalid(
                "contract.datasets",
                Msg::new("err.order.dataset_access_missing").arg("name", name),
            ),
            sandbox::GrantError::BadRule { name, reason } => ServiceError::invalid(
                "contract.datasets",
                Msg::new("err.order.dataset_access_invalid")
                    .arg("name", name)
                    .arg("detail", reason),
            ),
        })?;
        check_dataset_name("contract.datasets", &grant.name)?;
        if !seen.insert(grant.name.clone()) {
            return Err(ServiceError::invalid(
                "contract.datasets",
                Msg::new("err.order.dataset_twice").arg("name", &grant.name),
            ));
        }
        grants.push(grant);
    }
    let caps = &services.sandbox.config().caps;
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
        return Err(ServiceError::invalid(
            "contract.limits",
            Msg::new("err.order.limits_over_caps").arg("detail", over.join("; ")),
        ));
    }
    let contract = Contract {
        input_schema: c.input_schema.clone(),
        output_schema: c.output_schema.clone(),
        datasets: grants,
        limits: c.limits.clone(),
        threshold_percent: sandbox::suite::DEFAULT_THRESHOLD_PERCENT,
    };
    serde_json::to_value(&contract).map_err(ServiceError::internal)
}

// ---------------------------------------------------------------- use cases

/// A department user drafts an order for their department.
pub async fn create(
    services: &Services,
    actor: &Actor,
    req: CreateOrder,
) -> ServiceResult<orders::Model> {
    let user = actor.require(&[Role::Department])?;
    let org = user
        .org_id
        .ok_or_else(|| ServiceError::forbidden("err.order.no_department"))?;
    let new = store::orders::NewOrder {
        department_org_id: org,
        created_by: user.id,
        title: check_text("title", &req.title, 120)?,
        description: check_text("description", &req.description, 10_000)?,
        category: check_text("category", &req.category, 40)?,
        tags: check_tags(&req.tags)?,
        budget_fen: check_budget(req.budget_fen)?,
        deadline: check_deadline(req.deadline)?,
        contract: check_contract(services, &req.contract)?,
        pass_threshold_bp: check_threshold(req.pass_threshold_bp.unwrap_or(10_000))?,
    };
    let txn = services.db.begin_write().await?;
    let order = store::orders::create(&txn, new).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "order.create",
            "order",
            order.id,
            format!("创建需求订单草稿《{}》", order.title),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(order)
}

/// The order's department edits a draft; an open order's contract is
/// frozen (`order_not_draft`).
pub async fn update(
    services: &Services,
    actor: &Actor,
    id: i64,
    req: UpdateOrder,
) -> ServiceResult<orders::Model> {
    actor.require(&[Role::Department])?;
    let txn = services.db.begin_write().await?;
    let order = owned_order(&txn, actor, id).await?;
    if !status_of(&order)?.contract_editable() {
        return Err(ServiceError::conflict(
            "order_not_draft",
            Msg::new("err.order.not_draft"),
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
        active.deadline = Set(check_deadline(v)?);
    }
    if let Some(c) = &req.contract {
        active.contract = Set(check_contract(services, c)?);
    }
    if let Some(v) = req.pass_threshold_bp {
        active.pass_threshold_bp = Set(check_threshold(v)?);
    }
    active.updated_at = Set(store::now());
    let order = sea_orm::ActiveModelTrait::update(active, &txn).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "order.update",
            "order",
            order.id,
            format!("修改需求订单草稿《{}》", order.title),
        ),
    )
    .await?;
    txn.commit().await?;
    services.datasets.invalidate(id);
    services.availability.invalidate();
    Ok(order)
}
