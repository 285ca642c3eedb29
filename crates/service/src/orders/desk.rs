//! The department's desk per order: the apps and versions submitted to its
//! own order, their statuses and latest scores, each app's users this
//! period and last, and its ratings with a histogram. Another department's
//! order is not found (its apps are none of their business).

use chrono::{DateTime, Utc};
use domain::{Period, Role, VersionStatus};
use serde::Serialize;
use utoipa::ToSchema;

use super::owns;
use crate::actor::Actor;
use crate::error::{ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// A version as the order's department sees it on its desk.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskVersion {
    pub id: i64,
    pub number: i32,
    /// queued | testing | passed | failed | rejected | published | superseded | withdrawn | suspended
    #[schema(value_type = String)]
    pub status: VersionStatus,
    /// The latest finished run's score, in basis points.
    pub score_bp: Option<i32>,
    pub uploaded_at: DateTime<Utc>,
}

/// Distinct citizens who used an app in one period.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodUsers {
    #[schema(value_type = String, example = "2026Q3")]
    pub period: Period,
    pub users: u64,
    pub invocations: u64,
}

/// An app submitted to the order, with its versions, users and ratings.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskApp {
    pub id: i64,
    pub name: String,
    /// active | withdrawn | suspended
    pub status: String,
    pub isv_org_id: i64,
    /// Newest first.
    pub versions: Vec<DeskVersion>,
    pub this_period: PeriodUsers,
    pub last_period: Option<PeriodUsers>,
    /// Visible ratings.
    pub ratings: u64,
    /// Mean stars times 100 (e.g. 425 for 4.25), `None` without ratings.
    pub mean_stars_x100: Option<u32>,
    /// Ratings with 1, 2, 3, 4 and 5 stars.
    pub histogram: Vec<u64>,
}

/// What `GET /api/v1/orders/{id}/apps` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeskApps {
    pub order_id: i64,
    pub apps: Vec<DeskApp>,
}

/// The apps of the actor's department's own order (department only; 403
/// for another role, 404 for another department's order).
pub async fn desk_apps(services: &Services, actor: &Actor, id: i64) -> ServiceResult<DeskApps> {
    actor.require(&[Role::Department])?;
    let conn = services.db.conn();
    let order = store::orders::get(conn, id)
        .await?
        .filter(|o| owns(actor, o))
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    let tz = services.config.timezone;
    let now = Period::containing(&store::now(), tz).map_err(ServiceError::internal)?;
    let last = now.prev();
    let mut apps = Vec::new();
    for app in store::apps::list(conn, None, Some(order.id)).await? {
        let mut versions = Vec::new();
        for v in store::apps::versions_of(conn, app.id).await? {
            versions.push(DeskVersion {
                id: v.id,
                number: v.number,
                status: crate::apps::version_status(&v)?,
                score_bp: v.test_score_bp,
                uploaded_at: v.created_at,
            });
        }
        versions.sort_by_key(|v| std::cmp::Reverse(v.number));
        let users = |p: Period| async move {
            let (users, invocations) =
                store::usage::users_in_period(conn, app.id, &p.to_string()).await?;
            Ok::<_, ServiceError>(PeriodUsers {
                period: p,
                users,
                invocations,
            })
        };
        let this_period = users(now).await?;
        let last_period = match last {
            Some(p) => Some(users(p).await?),
            None => None,
        };
        let histogram = store::ratings::histogram(conn, app.id).await?;
        let ratings: u64 = histogram.iter().sum();
        let stars: u64 = histogram.iter().zip(1u64..).map(|(n, s)| n * s).sum();
        apps.push(DeskApp {
            id: app.id,
            name: app.name,
            status: app.status,
            isv_org_id: app.isv_org_id,
            versions,
            this_period,
            last_period,
            ratings,
            mean_stars_x100: (stars * 100)
                .checked_div(ratings)
                .map(|m| u32::try_from(m).unwrap_or(500)),
            histogram: histogram.to_vec(),
        });
    }
    Ok(DeskApps {
        order_id: order.id,
        apps,
    })
}
