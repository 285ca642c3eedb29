//! Ratings: a citizen rates an app they used (one rating, editable, history
//! kept); the app's ISV replies once, publicly; anyone reports a rating.
//! Rate limits are the adapters' (a page answers a slip on its form before
//! the limit counts the attempt).

use chrono::{DateTime, Utc};
use domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;
use crate::validate::{optional_text, stars_field};

/// Longest comment, suggestion or reply, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;
/// Longest report reason.
pub const MAX_REASON_CHARS: usize = 500;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingRequest {
    /// 1 (非常不满意) … 5 (非常满意).
    pub stars: i64,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    pub id: i64,
    pub app_id: i64,
    pub stars: i32,
    /// The level's label, e.g. 满意.
    pub label: String,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How many states the rating has had (1 = never edited).
    pub revisions: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyView {
    pub id: i64,
    pub rating_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportView {
    pub id: i64,
    pub rating_id: i64,
    /// `open` until a supervisor decides.
    pub status: String,
}

async fn app(services: &Services, app_id: i64) -> ServiceResult<store::entity::apps::Model> {
    store::apps::get(services.db.conn(), app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))
}

async fn rating(
    services: &Services,
    rating_id: i64,
) -> ServiceResult<store::entity::ratings::Model> {
    store::ratings::find(services.db.conn(), rating_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Rating))
}

/// The app a rating is of.
pub async fn app_of_rating(services: &Services, rating_id: i64) -> ServiceResult<i64> {
    Ok(rating(services, rating_id).await?.app_id)
}

/// A citizen rates an app they have used successfully: creates their
/// rating, or updates it (the earlier state is kept in its history).
pub async fn rate(
    services: &Services,
    actor: &Actor,
    app_id: i64,
    req: RatingRequest,
) -> ServiceResult<(RatingView, store::ratings::Upserted)> {
    let citizen = actor.require(&[Role::Citizen])?;
    let app = app(services, app_id).await?;
    let stars = stars_field(req.stars)?;
    let comment = optional_text("comment", req.comment, MAX_TEXT_CHARS)?;
    let suggestion = optional_text("suggestion", req.suggestion, MAX_TEXT_CHARS)?;
    if !store::usage::has_successful_use(services.db.conn(), citizen.id, app.id).await? {
        return Err(ServiceError::forbidden("err.market.rate_use_first"));
    }
    let txn = services.db.begin_write().await?;
    let (model, how) = store::ratings::upsert(
        &txn,
        store::ratings::RatingInput {
            app_id: app.id,
            citizen_id: citizen.id,
            stars: stars.get(),
            comment,
            suggestion,
        },
        store::now(),
    )
    .await?;
    let action = match how {
        store::ratings::Upserted::Created => "rating.create",
        store::ratings::Upserted::Updated => "rating.update",
    };
    store::audit::append(
        &txn,
        actor.audit(
            action,
            "rating",
            model.id,
            format!("应用 {} 获评 {} 星", app.id, stars.get()),
        ),
    )
    .await?;
    txn.commit().await?;
    let revisions = store::ratings::history(services.db.conn(), model.id)
        .await?
        .len();
    crate::search_index::index_app(services, app.id).await;
    Ok((
        RatingView {
            id: model.id,
            app_id: model.app_id,
            stars: model.stars,
            label: stars.label_zh().to_owned(),
            comment: model.comment,
            suggestion: model.suggestion,
            created_at: model.created_at,
            updated_at: model.updated_at,
            revisions,
        },
        how,
    ))
}

/// The app's ISV replies publicly to a rating, once.
pub async fn reply(
    services: &Services,
    actor: &Actor,
    rating_id: i64,
    body: String,
) -> ServiceResult<ReplyView> {
    let isv = actor.require(&[Role::Isv])?;
    let rating = rating(services, rating_id).await?;
    let app = app(services, rating.app_id).await?;
    if isv.org_id != Some(app.isv_org_id) {
        return Err(ServiceError::forbidden("err.market.reply_not_owner"));
    }
    let body = optional_text("body", Some(body), MAX_TEXT_CHARS)?
        .ok_or_else(|| ServiceError::invalid("body", Msg::new("err.market.reply_required")))?;
    let txn = services.db.begin_write().await?;
    let saved = store::ratings::reply(&txn, rating.id, isv.id, body, store::now())
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict { .. } => {
                ServiceError::conflict("already_replied", Msg::new("err.market.already_replied"))
            }
            other => other.into(),
        })?;
    store::audit::append(
        &txn,
        actor.audit(
            "rating.reply",
            "rating",
            rating.id,
            format!("回复了应用 {} 的评价", app.id),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ReplyView {
        id: saved.id,
        rating_id: saved.rating_id,
        body: saved.body,
        created_at: saved.created_at,
    })
}

/// Anyone, signed in or not, reports a rating to the supervisors.
pub async fn report(
    services: &Services,
    actor: &Actor,
    rating_id: i64,
    reason: String,
) -> ServiceResult<ReportView> {
    let rating = rating(services, rating_id).await?;
    let reason = optional_text("reason", Some(reason), MAX_REASON_CHARS)?.ok_or_else(|| {
        ServiceError::invalid("reason", Msg::new("err.market.report_reason_required"))
    })?;
    let txn = services.db.begin_write().await?;
    let saved = store::ratings::report(&txn, rating.id, actor.id(), reason, store::now()).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "rating.report",
            "rating",
            rating.id,
            format!("举报了应用 {} 的一条评价", rating.app_id),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ReportView {
        id: saved.id,
        rating_id: saved.rating_id,
        status: saved.status,
    })
}

/// What the viewer of an app's page may do there.
#[derive(Debug, Default)]
pub struct ViewerState {
    /// A citizen who has used the app successfully (and so may rate it).
    pub has_used: bool,
    /// That citizen's current rating.
    pub rating: Option<store::entity::ratings::Model>,
    /// A user of the ISV that made the app (and so may reply).
    pub can_reply: bool,
}

/// What `actor` may do on app `app_id`'s page: nothing when signed out.
pub async fn viewer_state(
    services: &Services,
    actor: &Actor,
    app_id: i64,
) -> ServiceResult<ViewerState> {
    let conn = services.db.conn();
    let Some(user) = actor.signed_in() else {
        return Ok(ViewerState::default());
    };
    match user.role {
        Role::Citizen => Ok(ViewerState {
            has_used: store::usage::has_successful_use(conn, user.id, app_id).await?,
            rating: store::ratings::find_by_citizen(conn, app_id, user.id).await?,
            can_reply: false,
        }),
        Role::Isv => {
            let owner = store::apps::get(conn, app_id).await?.map(|a| a.isv_org_id);
            Ok(ViewerState {
                can_reply: owner.is_some() && user.org_id == owner,
                ..Default::default()
            })
        }
        _ => Ok(ViewerState::default()),
    }
}
