//! An app's page: its numbers, its reviews (paged), and the forms its
//! viewer may use (rate it, reply to a review, report one).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::Role;
use serde::Deserialize;
use service::market::{MarketItem, PublicApp, public_app};
use service::ratings::{MAX_REASON_CHARS, MAX_TEXT_CHARS, viewer_state};
use service::{Actor, ServiceError};

use super::charts::{Histogram, histogram};
use super::{REVIEWS_PER_PAGE, level_key, local_date, percent_bp, star_picture};
use crate::extract::RequestId;
use crate::state::AppState;
use crate::web::{FormErrors, Page, WebPath, WebQuery, internal_page, message_page};

pub struct ReviewItem {
    pub id: i64,
    pub stars: i32,
    pub picture: String,
    pub level_key: &'static str,
    pub comment: String,
    pub suggestion: String,
    pub date: String,
    pub edited: bool,
    pub reply: Option<(String, String)>,
}

/// What the rating form shows: the posted values, or the citizen's
/// current rating, or nothing yet.
#[derive(Default)]
pub struct RatingDraft {
    pub stars: String,
    pub comment: String,
    pub suggestion: String,
}

/// A reply or report being written, shown again with its error.
#[derive(Default)]
pub(super) struct Drafts {
    pub(super) rating: Option<RatingDraft>,
    pub(super) reply: Option<(i64, String)>,
    pub(super) report: Option<(i64, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "market/app.html")]
struct AppPage {
    page: Page,
    errors: FormErrors,
    app: MarketItem,
    period: String,
    test_score: String,
    updated: String,
    published: String,
    histogram: Histogram,
    reviews: Vec<ReviewItem>,
    next: Option<i64>,
    paged: bool,
    is_citizen: bool,
    has_used: bool,
    editing: bool,
    draft: RatingDraft,
    can_reply: bool,
    reply_draft: (i64, String),
    report_draft: (i64, String),
    levels: Vec<(i32, &'static str)>,
    max_text: usize,
    max_reason: usize,
    /// What the app may read: (dataset, message key of its rule, fields).
    reads: Vec<(String, &'static str, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct AppParams {
    cursor: Option<i64>,
    done: Option<String>,
}

pub(super) async fn app_page(
    State(state): State<AppState>,
    mut page: Page,
    request_id: RequestId,
    WebPath(app_id): WebPath<i64>,
    WebQuery(params): WebQuery<AppParams>,
) -> Response {
    page.flash = match params.done.as_deref() {
        Some("rated") => page.t("market.flash.rated").to_owned(),
        Some("replied") => page.t("market.flash.replied").to_owned(),
        Some("reported") => page.t("market.flash.reported").to_owned(),
        _ => page.flash,
    };
    app_view(
        &state,
        page,
        &request_id,
        app_id,
        params.cursor,
        FormErrors::default(),
        Drafts::default(),
    )
    .await
}

/// The app's page as `page`'s viewer sees it; `errors` and `drafts` are
/// a refused form's (422 when there are errors).
pub(super) async fn app_view(
    state: &AppState,
    mut page: Page,
    request_id: &RequestId,
    app_id: i64,
    cursor: Option<i64>,
    errors: FormErrors,
    drafts: Drafts,
) -> Response {
    let listed: PublicApp = match public_app(state, app_id, cursor, Some(REVIEWS_PER_PAGE)).await {
        Ok(a) => a,
        Err(ServiceError::NotFound(_)) => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "market.app_not_listed",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    let actor = match &page.current {
        Some(c) => c.actor(request_id),
        None => Actor::anonymous(request_id.as_option()),
    };
    let is_citizen = actor.role() == Some(Role::Citizen);
    let viewer = match viewer_state(state, &actor, app_id).await {
        Ok(v) => v,
        Err(e) => return internal_page(&page, e),
    };
    let has_used = viewer.has_used;
    let can_reply = viewer.can_reply;
    let current = viewer.rating.map(|r| RatingDraft {
        stars: r.stars.to_string(),
        comment: r.comment.unwrap_or_default(),
        suggestion: r.suggestion.unwrap_or_default(),
    });
    let editing = current.is_some();
    let draft = drafts.rating.or(current).unwrap_or_default();
    let reviews = listed
        .reviews
        .into_iter()
        .map(|r| ReviewItem {
            id: r.rating_id,
            stars: r.stars,
            picture: star_picture(r.stars),
            level_key: level_key(r.stars),
            comment: r.comment.unwrap_or_default(),
            suggestion: r.suggestion.unwrap_or_default(),
            date: local_date(state, r.updated_at),
            edited: r.edited,
            reply: r
                .reply
                .map(|rep| (rep.body, local_date(state, rep.created_at))),
        })
        .collect();
    let reads = match service::mydata::reads_of_order(state, listed.app.order_id).await {
        Ok(r) => r
            .into_iter()
            .map(|r| {
                let key = match (r.access.as_str(), r.owned) {
                    ("subject", _) => "market.reads.subject",
                    ("input", true) => "market.reads.input_owned",
                    ("input", false) => "market.reads.input",
                    _ => "market.reads.reference",
                };
                (
                    r.dataset,
                    key,
                    r.fields.map(|f| f.join("、")).unwrap_or_default(),
                )
            })
            .collect(),
        Err(e) => return internal_page(&page, e),
    };
    let status = page.show_errors(&errors);
    let app = listed.app;
    (
        status,
        AppPage {
            errors,
            period: listed.period,
            test_score: percent_bp(app.test_score_bp),
            updated: local_date(state, app.updated_at),
            published: app
                .published_at
                .map(|t| local_date(state, t))
                .unwrap_or_default(),
            histogram: histogram(app.rating.histogram, page.lang.catalog()),
            app,
            reviews,
            next: listed.next,
            paged: cursor.is_some(),
            is_citizen,
            has_used,
            editing,
            draft,
            can_reply,
            reply_draft: drafts.reply.unwrap_or_default(),
            report_draft: drafts.report.unwrap_or_default(),
            levels: (1..=5).rev().map(|s| (s, level_key(s))).collect(),
            max_text: MAX_TEXT_CHARS,
            max_reason: MAX_REASON_CHARS,
            reads,
            page,
        },
    )
        .into_response()
}
