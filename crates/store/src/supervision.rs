//! Read queries for the supervisor's dashboard: counts and the test
//! queue's waits. Nothing here writes.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use domain::{AppStatus, ComplaintStatus};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};

use crate::StoreError;
use crate::entity::{answers, apps, complaints, questions, rating_reports, test_runs};

/// How long each test run that started at or after `since` waited in the
/// queue (from being queued to starting), in seconds, unordered.
pub async fn queue_waits_since<C: ConnectionTrait>(
    conn: &C,
    since: DateTime<Utc>,
) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = test_runs::Entity::find()
        .select_only()
        .column(test_runs::Column::CreatedAt)
        .column(test_runs::Column::StartedAt)
        .filter(test_runs::Column::StartedAt.gte(since))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(queued, started)| started.map(|s| (s - queued).num_seconds().max(0)))
        .collect())
}

/// Complaints still open past their deadline at `now`.
pub async fn overdue_complaints<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(complaints::Entity::find()
        .filter(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
        .filter(complaints::Column::Deadline.lt(now))
        .count(conn)
        .await?)
}

/// Questions asked before `asked_before` that have no answer yet.
pub async fn overdue_questions<C: ConnectionTrait>(
    conn: &C,
    asked_before: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let asked: Vec<i64> = questions::Entity::find()
        .select_only()
        .column(questions::Column::Id)
        .filter(questions::Column::CreatedAt.lt(asked_before))
        .into_tuple()
        .all(conn)
        .await?;
    if asked.is_empty() {
        return Ok(0);
    }
    let answered: HashSet<i64> = answers::Entity::find()
        .select_only()
        .column(answers::Column::QuestionId)
        .filter(answers::Column::QuestionId.is_in(asked.iter().copied()))
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(asked.iter().filter(|id| !answered.contains(id)).count() as u64)
}

/// Ratings with at least one open report.
pub async fn reported_ratings<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    let ids: Vec<i64> = rating_reports::Entity::find()
        .select_only()
        .column(rating_reports::Column::RatingId)
        .filter(rating_reports::Column::Status.eq("open"))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().collect::<HashSet<_>>().len() as u64)
}

/// Apps suspended now.
pub async fn suspended_apps<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    Ok(apps::Entity::find()
        .filter(apps::Column::Status.eq(AppStatus::Suspended.as_str()))
        .count(conn)
        .await?)
}

/// Which audit entries the supervisors' trail shows; every part optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor_id: Option<i64>,
    pub actor_role: Option<String>,
    pub action: Option<String>,
    pub object_type: Option<String>,
    pub object_id: Option<i64>,
    /// `occurred_at >= from`
    pub from: Option<DateTime<Utc>>,
    /// `occurred_at < until`
    pub until: Option<DateTime<Utc>>,
}

/// Entries matching `filter` with `seq < cursor` (all when `None`), newest
/// first, at most `limit` (1..=[`crate::audit::MAX_PAGE`]).
pub async fn audit_trail<C: ConnectionTrait>(
    conn: &C,
    filter: &AuditFilter,
    cursor: Option<i64>,
    limit: u64,
) -> Result<crate::audit::AuditPage, StoreError> {
    use crate::entity::audit_events::{Column, Entity};
    use sea_orm::{QueryOrder, QuerySelect as _};
    let limit = limit.clamp(1, crate::audit::MAX_PAGE);
    let mut q = Entity::find().order_by_desc(Column::Seq);
    if let Some(v) = filter.actor_id {
        q = q.filter(Column::ActorId.eq(v));
    }
    if let Some(v) = &filter.actor_role {
        q = q.filter(Column::ActorRole.eq(v.as_str()));
    }
    if let Some(v) = &filter.action {
        q = q.filter(Column::Action.eq(v.as_str()));
    }
    if let Some(v) = &filter.object_type {
        q = q.filter(Column::ObjectType.eq(v.as_str()));
    }
    if let Some(v) = filter.object_id {
        q = q.filter(Column::ObjectId.eq(v));
    }
    if let Some(v) = filter.from {
        q = q.filter(Column::OccurredAt.gte(v));
    }
    if let Some(v) = filter.until {
        q = q.filter(Column::OccurredAt.lt(v));
    }
    if let Some(c) = cursor {
        q = q.filter(Column::Seq.lt(c));
    }
    let mut rows = q.limit(limit + 1).all(conn).await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().map(|r| r.seq)
    } else {
        None
    };
    Ok(crate::audit::AuditPage {
        items: rows
            .into_iter()
            .map(crate::audit::AuditEvent::from)
            .collect(),
        next,
    })
}
