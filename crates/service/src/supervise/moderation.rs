//! Moderation of reported ratings. A hidden rating leaves the market's
//! Bayesian average, its reviews (with the ISV's reply) and, from that
//! moment, settlement's ratings; the rater and the ISV are told.

use chrono::{DateTime, Utc};
use serde::Serialize;
use store::notifications::{Recipient, notify};
use utoipa::ToSchema;

use super::{SUPERVISORS, reason};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// Most ratings the queue shows at once.
pub const QUEUE_LIMIT: u64 = 200;

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportItem {
    pub id: i64,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// A reported rating with its open reports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportedRating {
    pub rating_id: i64,
    pub app_id: i64,
    pub app_name: String,
    pub stars: i32,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
    pub hidden: bool,
    pub updated_at: DateTime<Utc>,
    /// The ISV's public reply, if any (hidden with the rating).
    pub reply: Option<String>,
    pub reports: Vec<ReportItem>,
}

/// Reported ratings waiting for a decision, the longest-waiting first
/// (supervisor).
pub async fn reported(services: &Services, actor: &Actor) -> ServiceResult<Vec<ReportedRating>> {
    actor.require(SUPERVISORS)?;
    Ok(store::moderation::reported(services.db.conn(), QUEUE_LIMIT)
        .await?
        .into_iter()
        .map(|r| ReportedRating {
            rating_id: r.rating.id,
            app_id: r.rating.app_id,
            app_name: r.app_name,
            stars: r.rating.stars,
            comment: r.rating.comment,
            suggestion: r.rating.suggestion,
            hidden: r.rating.hidden,
            updated_at: r.rating.updated_at,
            reply: r.reply,
            reports: r
                .reports
                .into_iter()
                .map(|p| ReportItem {
                    id: p.id,
                    reason: p.reason,
                    created_at: p.created_at,
                })
                .collect(),
        })
        .collect())
}

/// A rating after a moderation decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModerationView {
    pub rating_id: i64,
    pub app_id: i64,
    pub hidden: bool,
    pub reason: String,
}

/// A supervisor's decision about a reported rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The rating leaves the market and settlement; its open reports are
    /// upheld.
    Hide,
    /// A hidden rating returns; its open reports are dismissed.
    Restore,
}

/// Hides or restores a rating with a reason (supervisor). `NotFound` for a
/// missing rating; hiding a hidden rating is `already_hidden`, restoring a
/// visible one `not_hidden`.
pub async fn decide(
    services: &Services,
    actor: &Actor,
    rating_id: i64,
    decision: Decision,
    why: &str,
) -> ServiceResult<ModerationView> {
    let hidden = decision == Decision::Hide;
    let user = actor.require(SUPERVISORS)?;
    let why = reason(why)?;
    let txn = services.db.begin_write().await?;
    let rating = store::ratings::find(&txn, rating_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Rating))?;
    let app = store::apps::get(&txn, rating.app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))?;
    let refused = || {
        if hidden {
            ServiceError::conflict("already_hidden", Msg::new("err.supervise.already_hidden"))
        } else {
            ServiceError::conflict("not_hidden", Msg::new("err.supervise.not_hidden"))
        }
    };
    if rating.hidden == hidden {
        return Err(refused());
    }
    store::moderation::set_hidden(&txn, rating.id, hidden, Some(user.id), store::now())
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict { .. } => refused(),
            e => e.into(),
        })?;
    let (zh, en, kind, verb) = if hidden {
        (
            "已被监管隐藏",
            "was hidden by a supervisor",
            "rating.hidden",
            "隐藏",
        )
    } else {
        (
            "已恢复显示",
            "was restored by a supervisor",
            "rating.restored",
            "恢复",
        )
    };
    notify(
        &txn,
        Recipient::User(rating.citizen_id),
        kind,
        format!(
            "您对应用「{}」的评价{zh}。理由：{why} / Your rating of \"{}\" {en}. Reason: {why}",
            app.name, app.name
        ),
        Some(format!("/market/apps/{}", app.id)),
    )
    .await?;
    notify(
        &txn,
        Recipient::Org(app.isv_org_id),
        kind,
        format!(
            "应用「{}」的一条评价{zh}（连同回复）。理由：{why} / A rating of \"{}\" {en} (with its reply). Reason: {why}",
            app.name, app.name
        ),
        None,
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            if hidden {
                "rating.hide"
            } else {
                "rating.restore"
            },
            "rating",
            rating.id,
            format!("{verb}应用「{}」的评价 #{}：{why}", app.name, rating.id),
        ),
    )
    .await?;
    txn.commit().await?;
    // The rating floor of the app's search document moves with it.
    crate::search_index::index_app(services, app.id).await;
    Ok(ModerationView {
        rating_id: rating.id,
        app_id: app.id,
        hidden,
        reason: why,
    })
}
