//! What anyone may read of orders: the list (others' drafts left out) and
//! one order with its datasets, case counts and public Q&A.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::{OrderStatus, Role};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::entity::orders;
use utoipa::{IntoParams, ToSchema};

use super::{status_of, visible_order};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

#[derive(Debug, Default, Deserialize, IntoParams)]
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

impl From<store::entity::datasets::Model> for DatasetView {
    fn from(d: store::entity::datasets::Model) -> Self {
        DatasetView {
            name: d.name,
            version: d.version,
            sample: d.sample,
            record_count: d.record_count,
            size_bytes: d.size_bytes,
            updated_at: d.updated_at,
        }
    }
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
    #[schema(value_type = String)]
    pub status: OrderStatus,
    #[schema(value_type = Object)]
    pub contract: Value,
    pub pass_threshold_bp: i32,
    pub created_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub datasets: Vec<DatasetView>,
    pub sample_cases: usize,
    pub hidden_cases: usize,
    /// The department's rules document (Markdown; empty until written).
    pub rules: String,
    pub questions: Vec<crate::questions::QuestionView>,
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
    #[schema(value_type = String)]
    pub status: OrderStatus,
    pub published_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrderList {
    pub items: Vec<OrderSummary>,
    pub next: Option<i64>,
}

/// The full view of an order the caller has already been allowed to see.
pub async fn order_view(services: &Services, order: orders::Model) -> ServiceResult<OrderView> {
    let conn = services.db.conn();
    let status = status_of(&order)?;
    let department = store::orgs::find_by_id(conn, order.department_org_id)
        .await?
        .map(|o| o.name);
    let datasets = store::datasets::list(conn, order.id)
        .await?
        .into_iter()
        .map(DatasetView::from)
        .collect();
    let cases = store::orders::cases(conn, order.id).await?;
    let sample_cases = cases.iter().filter(|c| c.visibility == "sample").count();
    let questions = crate::questions::of_order(services, order.id).await?;
    let rules = store::rules::get(conn, order.id)
        .await?
        .map(|r| r.markdown)
        .unwrap_or_default();
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
        status,
        contract: order.contract,
        pass_threshold_bp: order.pass_threshold_bp,
        created_at: order.created_at,
        published_at: order.published_at,
        closed_at: order.closed_at,
        datasets,
        sample_cases,
        hidden_cases: cases.len() - sample_cases,
        rules,
        questions,
    })
}

/// One order with its datasets and public Q&A (drafts: their department
/// only; to anyone else a draft does not exist).
pub async fn get(services: &Services, actor: &Actor, id: i64) -> ServiceResult<OrderView> {
    let order = visible_order(services, actor, id).await?;
    order_view(services, order).await
}

/// Orders, newest first. Anyone may list published orders; a department
/// also sees its own drafts (asking for its own department, or for drafts).
pub async fn list(
    services: &Services,
    actor: &Actor,
    query: &OrderQuery,
) -> ServiceResult<OrderList> {
    let my_org = actor
        .org_id()
        .filter(|_| actor.role() == Some(Role::Department));
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
                ServiceError::invalid(
                    "status",
                    Msg::new("err.order.unknown_status").arg("status", s),
                )
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
    let (rows, next) = store::orders::list(services.db.conn(), &filter).await?;
    let mut names: BTreeMap<i64, Option<String>> = BTreeMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for o in rows {
        if let std::collections::btree_map::Entry::Vacant(slot) = names.entry(o.department_org_id) {
            let name = store::orgs::find_by_id(services.db.conn(), o.department_org_id)
                .await?
                .map(|g| g.name);
            slot.insert(name);
        }
        let status = status_of(&o)?;
        items.push(OrderSummary {
            id: o.id,
            title: o.title,
            category: o.category,
            department_org_id: o.department_org_id,
            department: names.get(&o.department_org_id).cloned().flatten(),
            budget_fen: o.budget_fen,
            deadline: o.deadline,
            status,
            published_at: o.published_at,
        });
    }
    Ok(OrderList { items, next })
}
