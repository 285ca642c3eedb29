//! The market: listings (an app's published version with its order, ISV and
//! department), their public numbers (ratings, users this period, test
//! score, rewards), and the rows the search index is built from.
//!
//! Listings are assembled from a handful of `IN (…)` queries rather than one
//! wide join, so the same code runs on SQLite and PostgreSQL and each query
//! uses an index.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::StoreError;
use crate::entity::{apps, invocations, orders, organisations, ratings, settlement_runs, versions};

/// An app as the market shows it: its one published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub app_id: i64,
    pub order_id: i64,
    pub version_id: i64,
    pub app_name: String,
    pub isv_org_id: i64,
    pub isv_name: String,
    pub order_title: String,
    pub order_description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub department_name: String,
    pub version_number: i32,
    pub release_notes: String,
    /// Weighted share of accepted test cases of the published version, basis points.
    pub test_score_bp: Option<i32>,
    pub published_at: Option<DateTime<Utc>>,
    /// The later of the app's and the version's last change.
    pub updated_at: DateTime<Utc>,
    /// Visible ratings per star, index 0 = one star.
    pub star_counts: [u64; 5],
    /// Distinct citizens with a successful, valid invocation this period.
    pub users_this_period: u64,
    /// Rewards won: (period, rank 1–3), newest first.
    pub rewards: Vec<(String, i32)>,
}

/// Which listings to load.
#[derive(Debug, Clone, Default)]
pub struct ListingFilter {
    pub order_id: Option<i64>,
    /// Only these apps (e.g. search hits); `None` means all.
    pub app_ids: Option<Vec<i64>>,
}

/// Listings matching `filter`, in no particular order; `period` is the
/// current period's text (e.g. `2026Q3`) for "users this period".
pub async fn listings<C: ConnectionTrait>(
    conn: &C,
    filter: &ListingFilter,
    period: &str,
) -> Result<Vec<Listing>, StoreError> {
    let mut q = apps::Entity::find().filter(apps::Column::Status.eq("active"));
    if let Some(order_id) = filter.order_id {
        q = q.filter(apps::Column::OrderId.eq(order_id));
    }
    if let Some(ids) = &filter.app_ids {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        q = q.filter(apps::Column::Id.is_in(ids.iter().copied()));
    }
    let app_rows = q.all(conn).await?;
    if app_rows.is_empty() {
        return Ok(vec![]);
    }
    let app_ids: Vec<i64> = app_rows.iter().map(|a| a.id).collect();
    let published: HashMap<i64, versions::Model> = versions::Entity::find()
        .filter(versions::Column::AppId.is_in(app_ids.iter().copied()))
        .filter(versions::Column::Status.eq("published"))
        .all(conn)
        .await?
        .into_iter()
        .map(|v| (v.app_id, v))
        .collect();
    let app_rows: Vec<apps::Model> = app_rows
        .into_iter()
        .filter(|a| published.contains_key(&a.id))
        .collect();
    if app_rows.is_empty() {
        return Ok(vec![]);
    }
    let app_ids: Vec<i64> = app_rows.iter().map(|a| a.id).collect();

    let order_ids: Vec<i64> = app_rows.iter().map(|a| a.order_id).collect();
    let orders_by_id: HashMap<i64, orders::Model> = orders::Entity::find()
        .filter(orders::Column::Id.is_in(order_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut org_ids: Vec<i64> = app_rows.iter().map(|a| a.isv_org_id).collect();
    org_ids.extend(orders_by_id.values().map(|o| o.department_org_id));
    let org_names: HashMap<i64, String> = organisations::Entity::find()
        .select_only()
        .column(organisations::Column::Id)
        .column(organisations::Column::Name)
        .filter(organisations::Column::Id.is_in(org_ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let stars = star_counts(conn, &app_ids).await?;
    let users = users_in_period(conn, &app_ids, period).await?;
    let rewards = rewards_of(conn, &app_ids).await?;

    let mut out = Vec::with_capacity(app_rows.len());
    for a in app_rows {
        let (Some(v), Some(o)) = (published.get(&a.id), orders_by_id.get(&a.order_id)) else {
            continue;
        };
        out.push(Listing {
            app_id: a.id,
            order_id: a.order_id,
            version_id: v.id,
            app_name: a.name.clone(),
            isv_org_id: a.isv_org_id,
            isv_name: org_names.get(&a.isv_org_id).cloned().unwrap_or_default(),
            order_title: o.title.clone(),
            order_description: o.description.clone(),
            category: o.category.clone(),
            tags: serde_json::from_value(o.tags.clone()).unwrap_or_default(),
            department_name: org_names
                .get(&o.department_org_id)
                .cloned()
                .unwrap_or_default(),
            version_number: v.number,
            release_notes: v.release_notes.clone(),
            test_score_bp: v.test_score_bp,
            published_at: v.published_at,
            updated_at: Ord::max(v.published_at.unwrap_or(v.created_at), a.updated_at),
            star_counts: stars.get(&a.id).copied().unwrap_or_default(),
            users_this_period: users.get(&a.id).copied().unwrap_or(0),
            rewards: rewards.get(&a.id).cloned().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// Visible ratings per star for each app.
pub async fn star_counts<C: ConnectionTrait>(
    conn: &C,
    app_ids: &[i64],
) -> Result<HashMap<i64, [u64; 5]>, StoreError> {
    let rows: Vec<(i64, i32, i64)> = ratings::Entity::find()
        .select_only()
        .column(ratings::Column::AppId)
        .column(ratings::Column::Stars)
        .column_as(Expr::col(ratings::Column::Id).count(), "n")
        .filter(ratings::Column::AppId.is_in(app_ids.iter().copied()))
        .filter(ratings::Column::Hidden.eq(false))
        .group_by(ratings::Column::AppId)
        .group_by(ratings::Column::Stars)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out: HashMap<i64, [u64; 5]> = HashMap::new();
    for (app, stars, n) in rows {
        if let Some(slot) = usize::try_from(stars - 1).ok().filter(|i| *i < 5) {
            out.entry(app).or_default()[slot] = u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(out)
}

/// Distinct citizens with a successful, valid invocation in `period`.
pub async fn users_in_period<C: ConnectionTrait>(
    conn: &C,
    app_ids: &[i64],
    period: &str,
) -> Result<HashMap<i64, u64>, StoreError> {
    let rows: Vec<(i64, i64)> = invocations::Entity::find()
        .select_only()
        .column(invocations::Column::AppId)
        .column_as(
            Expr::col(invocations::Column::CitizenId).count_distinct(),
            "n",
        )
        .filter(invocations::Column::Period.eq(period))
        .filter(invocations::Column::AppId.is_in(app_ids.iter().copied()))
        .filter(invocations::Column::Success.eq(true))
        .filter(invocations::Column::Invalid.eq(false))
        .group_by(invocations::Column::AppId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(a, n)| (a, u64::try_from(n).unwrap_or(0)))
        .collect())
}

/// Ranked lines of approved (or paid) settlement runs: the reward badges.
async fn rewards_of<C: ConnectionTrait>(
    conn: &C,
    app_ids: &[i64],
) -> Result<HashMap<i64, Vec<(String, i32)>>, StoreError> {
    let lines: Vec<(i64, i64, i32)> = crate::settlements::line::Entity::find()
        .select_only()
        .column(crate::settlements::line::Column::AppId)
        .column(crate::settlements::line::Column::RunId)
        .column(crate::settlements::line::Column::Rank)
        .filter(crate::settlements::line::Column::AppId.is_in(app_ids.iter().copied()))
        .filter(crate::settlements::line::Column::Rank.is_not_null())
        .into_tuple()
        .all(conn)
        .await?;
    if lines.is_empty() {
        return Ok(HashMap::new());
    }
    let runs: HashMap<i64, String> = settlement_runs::Entity::find()
        .select_only()
        .column(settlement_runs::Column::Id)
        .column(settlement_runs::Column::Period)
        .filter(settlement_runs::Column::Id.is_in(lines.iter().map(|l| l.1)))
        .filter(settlement_runs::Column::Status.is_in(["approved", "paying", "paid"]))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    let mut out: HashMap<i64, Vec<(String, i32)>> = HashMap::new();
    for (app, run, rank) in lines {
        if let Some(period) = runs.get(&run) {
            let badges = out.entry(app).or_default();
            if !badges.iter().any(|(p, _)| p == period) {
                badges.push((period.clone(), rank));
            }
        }
    }
    for badges in out.values_mut() {
        badges.sort_by(|a, b| b.0.cmp(&a.0));
    }
    Ok(out)
}

/// An order as the search index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDoc {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub department_name: String,
    pub tags: Vec<String>,
}

/// Orders the public may find: open and closed ones (drafts are private,
/// cancelled ones gone).
pub async fn searchable_orders<C: ConnectionTrait>(
    conn: &C,
    only: Option<i64>,
) -> Result<Vec<OrderDoc>, StoreError> {
    let mut q = orders::Entity::find().filter(orders::Column::Status.is_in(["open", "closed"]));
    if let Some(id) = only {
        q = q.filter(orders::Column::Id.eq(id));
    }
    let rows = q.all(conn).await?;
    let dep_ids: Vec<i64> = rows.iter().map(|o| o.department_org_id).collect();
    let names: HashMap<i64, String> = organisations::Entity::find()
        .select_only()
        .column(organisations::Column::Id)
        .column(organisations::Column::Name)
        .filter(organisations::Column::Id.is_in(dep_ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(rows
        .into_iter()
        .map(|o| OrderDoc {
            id: o.id,
            department_name: names.get(&o.department_org_id).cloned().unwrap_or_default(),
            tags: serde_json::from_value(o.tags).unwrap_or_default(),
            title: o.title,
            description: o.description,
            category: o.category,
        })
        .collect())
}

/// One dataset of an order: enough to tell whether a cached copy of its
/// records is current.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DatasetStamp {
    pub id: i64,
    pub version: i32,
    pub name: String,
    pub updated_at: DateTime<Utc>,
}

/// Whether an app can be used right now, and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Listed: its published version and order.
    Listed {
        version_id: i64,
        order_id: i64,
        /// The order's datasets as they stand, by id: what a cached copy of
        /// their records must match.
        datasets: Vec<DatasetStamp>,
    },
    NoSuchApp,
    /// Suspended by a supervisor (or its version was).
    Suspended,
    /// Withdrawn, or no version is published.
    NotPublished,
}

pub async fn availability<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
) -> Result<Availability, StoreError> {
    // One round trip: this runs before every invocation.
    let backend = conn.get_database_backend();
    let p = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?1"
    };
    let sql = format!(
        "SELECT a.status AS app_status, a.order_id AS order_id, \
                v.id AS version_id, v.status AS version_status, \
                d.id AS dataset_id, d.version AS dataset_version, \
                d.name AS dataset_name, d.updated_at AS dataset_updated_at \
         FROM apps a LEFT JOIN versions v \
           ON v.app_id = a.id AND v.status IN ('published', 'suspended') \
         LEFT JOIN datasets d ON d.order_id = a.order_id \
         WHERE a.id = {p} \
         ORDER BY d.id"
    );
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [app_id.into()],
        ))
        .await?;
    let Some(first) = rows.first() else {
        return Ok(Availability::NoSuchApp);
    };
    let app_status: String = first.try_get("", "app_status")?;
    let order_id: i64 = first.try_get("", "order_id")?;
    if app_status == "suspended" {
        return Ok(Availability::Suspended);
    }
    if app_status != "active" {
        return Ok(Availability::NotPublished);
    }
    let mut any_suspended = false;
    let mut published = None;
    let mut datasets: Vec<DatasetStamp> = Vec::new();
    for row in &rows {
        let version_id: Option<i64> = row.try_get("", "version_id")?;
        let status: Option<String> = row.try_get("", "version_status")?;
        match (version_id, status.as_deref()) {
            (Some(id), Some("published")) => published = Some(id),
            (Some(_), Some(_)) => any_suspended = true,
            _ => {}
        }
        // Rows are versions x datasets, ordered by dataset: keep each once.
        let dataset_id: Option<i64> = row.try_get("", "dataset_id")?;
        if let Some(id) = dataset_id
            && datasets.last().is_none_or(|d| d.id != id)
        {
            datasets.push(DatasetStamp {
                id,
                version: row.try_get("", "dataset_version")?,
                name: row.try_get("", "dataset_name")?,
                updated_at: row.try_get("", "dataset_updated_at")?,
            });
        }
    }
    Ok(match published {
        Some(version_id) => Availability::Listed {
            version_id,
            order_id,
            datasets,
        },
        None if any_suspended => Availability::Suspended,
        None => Availability::NotPublished,
    })
}
