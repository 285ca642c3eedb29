//! Moderation of ratings: the queue of reported ratings, and hiding or
//! restoring a rating. Each change appends the rating's new state to its
//! history, so settlement's "ratings as they stood at the end of P" sees a
//! hidden rating leave from the moment it was hidden, not before.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::{apps, rating_history, rating_replies, rating_reports, ratings};

/// A rating with open reports, as the supervisor's queue shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub rating: ratings::Model,
    pub app_name: String,
    pub isv_org_id: i64,
    /// Open reports, oldest first.
    pub reports: Vec<rating_reports::Model>,
    /// The ISV's reply, if any.
    pub reply: Option<String>,
}

/// Ratings with at least one open report, the longest-waiting first, at
/// most `limit`.
pub async fn reported<C: ConnectionTrait>(
    conn: &C,
    limit: u64,
) -> Result<Vec<Reported>, StoreError> {
    let open = rating_reports::Entity::find()
        .filter(rating_reports::Column::Status.eq("open"))
        .order_by_asc(rating_reports::Column::Id)
        .all(conn)
        .await?;
    let mut order: Vec<i64> = Vec::new();
    let mut by_rating: HashMap<i64, Vec<rating_reports::Model>> = HashMap::new();
    for r in open {
        if !by_rating.contains_key(&r.rating_id) {
            order.push(r.rating_id);
        }
        by_rating.entry(r.rating_id).or_default().push(r);
    }
    order.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    if order.is_empty() {
        return Ok(vec![]);
    }
    let rows: HashMap<i64, ratings::Model> = ratings::Entity::find()
        .filter(ratings::Column::Id.is_in(order.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let app_ids: Vec<i64> = rows.values().map(|r| r.app_id).collect();
    let app_rows: HashMap<i64, apps::Model> = apps::Entity::find()
        .filter(apps::Column::Id.is_in(app_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let replies: HashMap<i64, String> = rating_replies::Entity::find()
        .filter(rating_replies::Column::RatingId.is_in(order.iter().copied()))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.rating_id, r.body))
        .collect();
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let (Some(rating), Some(reports)) = (rows.get(&id), by_rating.remove(&id)) else {
            continue;
        };
        let (app_name, isv_org_id) = app_rows
            .get(&rating.app_id)
            .map(|a| (a.name.clone(), a.isv_org_id))
            .unwrap_or_default();
        out.push(Reported {
            rating: rating.clone(),
            app_name,
            isv_org_id,
            reports,
            reply: replies.get(&id).cloned(),
        });
    }
    Ok(out)
}

/// How many ratings wait in the queue.
pub async fn count_reported<C: ConnectionTrait>(conn: &C) -> Result<u64, StoreError> {
    let ids: Vec<i64> = rating_reports::Entity::find()
        .select_only()
        .column(rating_reports::Column::RatingId)
        .filter(rating_reports::Column::Status.eq("open"))
        .distinct()
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.len() as u64)
}

/// Hides (`hidden = true`) or restores a rating: a compare-and-set on the
/// flag (`Conflict` if it already is so), a history entry of the new state
/// at `now`, and its open reports resolved (`upheld` by hiding, `dismissed`
/// by restoring). Call inside the transaction of the audit entry.
pub async fn set_hidden<C: ConnectionTrait>(
    conn: &C,
    rating_id: i64,
    hidden: bool,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<ratings::Model, StoreError> {
    let now = crate::truncate_to_micros(now);
    let result = ratings::Entity::update_many()
        .filter(ratings::Column::Id.eq(rating_id))
        .filter(ratings::Column::Hidden.eq(!hidden))
        .col_expr(ratings::Column::Hidden, Expr::value(hidden))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::Conflict {
            what: "rating visibility",
        });
    }
    let rating = ratings::Entity::find_by_id(rating_id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    rating_history::ActiveModel {
        rating_id: Set(rating.id),
        app_id: Set(rating.app_id),
        citizen_id: Set(rating.citizen_id),
        stars: Set(rating.stars),
        comment: Set(rating.comment.clone()),
        suggestion: Set(rating.suggestion.clone()),
        hidden: Set(hidden),
        recorded_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    rating_reports::Entity::update_many()
        .filter(rating_reports::Column::RatingId.eq(rating_id))
        .filter(rating_reports::Column::Status.eq("open"))
        .col_expr(
            rating_reports::Column::Status,
            Expr::value(if hidden { "upheld" } else { "dismissed" }),
        )
        .col_expr(rating_reports::Column::ResolvedBy, Expr::value(by))
        .col_expr(rating_reports::Column::ResolvedAt, Expr::value(now))
        .exec(conn)
        .await?;
    Ok(rating)
}
