//! Ratings: one per citizen per app, editable, every state kept in
//! `rating_history` (settlement reads "the ratings as they stood at the end
//! of the period" from there); the ISV's one public reply; reports.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::{rating_history, rating_replies, rating_reports, ratings};

/// What a citizen submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RatingInput {
    pub app_id: i64,
    pub citizen_id: i64,
    /// 1–5, already checked by `domain::Stars`.
    pub stars: u8,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
}

/// Whether [`upsert`] created the rating or changed an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
}

/// Creates the citizen's rating of the app, or updates it, and appends the
/// new state to the history. Call inside a transaction (with the audit
/// append) so the rating and its history never disagree.
pub async fn upsert<C: ConnectionTrait>(
    conn: &C,
    input: RatingInput,
    now: DateTime<Utc>,
) -> Result<(ratings::Model, Upserted), StoreError> {
    let now = crate::truncate_to_micros(now);
    let existing = ratings::Entity::find()
        .filter(ratings::Column::AppId.eq(input.app_id))
        .filter(ratings::Column::CitizenId.eq(input.citizen_id))
        .one(conn)
        .await?;
    let (model, how) = match existing {
        Some(old) => {
            let mut active: ratings::ActiveModel = old.into();
            active.stars = Set(i32::from(input.stars));
            active.comment = Set(input.comment.clone());
            active.suggestion = Set(input.suggestion.clone());
            active.updated_at = Set(now);
            (active.update(conn).await?, Upserted::Updated)
        }
        None => {
            let active = ratings::ActiveModel {
                app_id: Set(input.app_id),
                citizen_id: Set(input.citizen_id),
                stars: Set(i32::from(input.stars)),
                comment: Set(input.comment.clone()),
                suggestion: Set(input.suggestion.clone()),
                hidden: Set(false),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            };
            let model = active.insert(conn).await.map_err(|e| {
                StoreError::from_insert(e, &[("ratings", "rating"), ("app_id", "rating")])
            })?;
            (model, Upserted::Created)
        }
    };
    rating_history::ActiveModel {
        rating_id: Set(model.id),
        app_id: Set(model.app_id),
        citizen_id: Set(model.citizen_id),
        stars: Set(model.stars),
        comment: Set(model.comment.clone()),
        suggestion: Set(model.suggestion.clone()),
        hidden: Set(model.hidden),
        recorded_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok((model, how))
}

pub async fn find<C: ConnectionTrait>(
    conn: &C,
    rating_id: i64,
) -> Result<Option<ratings::Model>, StoreError> {
    Ok(ratings::Entity::find_by_id(rating_id).one(conn).await?)
}

pub async fn find_by_citizen<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    citizen_id: i64,
) -> Result<Option<ratings::Model>, StoreError> {
    Ok(ratings::Entity::find()
        .filter(ratings::Column::AppId.eq(app_id))
        .filter(ratings::Column::CitizenId.eq(citizen_id))
        .one(conn)
        .await?)
}

/// The states a rating has had, oldest first.
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    rating_id: i64,
) -> Result<Vec<rating_history::Model>, StoreError> {
    Ok(rating_history::Entity::find()
        .filter(rating_history::Column::RatingId.eq(rating_id))
        .order_by_asc(rating_history::Column::Id)
        .all(conn)
        .await?)
}

/// The ISV's public reply; a second reply to the same rating is
/// `Conflict { what: "reply" }`.
pub async fn reply<C: ConnectionTrait>(
    conn: &C,
    rating_id: i64,
    author_id: i64,
    body: String,
    now: DateTime<Utc>,
) -> Result<rating_replies::Model, StoreError> {
    let now = crate::truncate_to_micros(now);
    rating_replies::ActiveModel {
        rating_id: Set(rating_id),
        author_id: Set(author_id),
        body: Set(body),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| StoreError::from_insert(e, &[("rating", "reply")]))
}

/// A report of a rating, open for a supervisor.
pub async fn report<C: ConnectionTrait>(
    conn: &C,
    rating_id: i64,
    reporter_id: Option<i64>,
    reason: String,
    now: DateTime<Utc>,
) -> Result<rating_reports::Model, StoreError> {
    Ok(rating_reports::ActiveModel {
        rating_id: Set(rating_id),
        reporter_id: Set(reporter_id),
        reason: Set(reason),
        status: Set("open".into()),
        created_at: Set(crate::truncate_to_micros(now)),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// A visible rating with its reply, for the app page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub id: i64,
    pub stars: i32,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the rating was changed after it was first given.
    pub edited: bool,
    pub reply: Option<(String, DateTime<Utc>)>,
}

/// Visible ratings of an app, newest change first, `limit` after the
/// cursor (a rating id; pages go by id descending).
pub async fn reviews<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    cursor: Option<i64>,
    limit: u64,
) -> Result<(Vec<Review>, Option<i64>), StoreError> {
    let mut q = ratings::Entity::find()
        .filter(ratings::Column::AppId.eq(app_id))
        .filter(ratings::Column::Hidden.eq(false))
        .order_by_desc(ratings::Column::Id)
        .limit(limit + 1);
    if let Some(c) = cursor {
        q = q.filter(ratings::Column::Id.lt(c));
    }
    let mut rows = q.all(conn).await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    let replies: std::collections::HashMap<i64, (String, DateTime<Utc>)> =
        rating_replies::Entity::find()
            .filter(rating_replies::Column::RatingId.is_in(rows.iter().map(|r| r.id)))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| (r.rating_id, (r.body, r.created_at)))
            .collect();
    Ok((
        rows.into_iter()
            .map(|r| Review {
                id: r.id,
                stars: r.stars,
                edited: r.updated_at != r.created_at,
                reply: replies.get(&r.id).cloned(),
                comment: r.comment,
                suggestion: r.suggestion,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect(),
        next,
    ))
}

/// How many visible ratings of an app give 1, 2, 3, 4 and 5 stars.
pub async fn histogram<C: ConnectionTrait>(conn: &C, app_id: i64) -> Result<[u64; 5], StoreError> {
    let rows: Vec<(i32, i64)> = ratings::Entity::find()
        .select_only()
        .column(ratings::Column::Stars)
        .column_as(ratings::Column::Id.count(), "n")
        .filter(ratings::Column::AppId.eq(app_id))
        .filter(ratings::Column::Hidden.eq(false))
        .group_by(ratings::Column::Stars)
        .into_tuple()
        .all(conn)
        .await?;
    let mut out = [0u64; 5];
    for (stars, n) in rows {
        if let Some(slot) = usize::try_from(stars - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = u64::try_from(n).unwrap_or(0);
        }
    }
    Ok(out)
}
