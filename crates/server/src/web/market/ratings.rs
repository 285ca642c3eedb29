//! The forms of an app's page: a citizen's rating, an ISV's reply, anyone's
//! report. A refused form is the app's page again with its error.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::Role;
use serde::Deserialize;
use service::ratelimit::Action;
use service::ratings::{self, MAX_REASON_CHARS, MAX_TEXT_CHARS, RatingRequest};
use service::{Actor, ServiceError};

use super::app_page::{Drafts, RatingDraft, app_view};
use super::{error_page, login_redirect, message_with_back, require_citizen};
use crate::extract::{ClientAddr, RequestId};
use crate::state::AppState;
use crate::web::{FormErrors, Page, WebPath, csrf_form, internal_page, message_page};

#[derive(Deserialize)]
pub(super) struct RatingForm {
    #[serde(default)]
    stars: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    suggestion: String,
}

pub(super) async fn rate_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(addr): ClientAddr,
    request_id: RequestId,
    WebPath(app_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let back = format!("/market/apps/{app_id}");
    let actor = match require_citizen(&page, &request_id, &back) {
        Ok(a) => a,
        Err(r) => return r,
    };
    let form: RatingForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let draft = RatingDraft {
        stars: form.stars.clone(),
        comment: form.comment.clone(),
        suggestion: form.suggestion.clone(),
    };
    let Some(stars) = form
        .stars
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=5).contains(s))
    else {
        let mut errors = FormErrors::default();
        errors.push("stars", page.t("market.rate.choose"));
        let drafts = Drafts {
            rating: Some(draft),
            ..Default::default()
        };
        return app_view(&state, page, &request_id, app_id, None, errors, drafts).await;
    };
    // A slip on the form is answered before the limit counts the attempt.
    if let Err(e) = state.rate_limits.check(Action::Rate, actor.id(), addr) {
        return error_page(&page, e, &back);
    }
    let req = RatingRequest {
        stars,
        comment: Some(form.comment),
        suggestion: Some(form.suggestion),
    };
    match ratings::rate(&state, &actor, app_id, req).await {
        Ok(_) => {
            Redirect::to(&format!("/market/apps/{app_id}?done=rated#your-rating")).into_response()
        }
        Err(e @ ServiceError::Invalid { .. }) => {
            let mut errors = FormErrors::default();
            let field = e.field().unwrap_or("stars").to_owned();
            let message = match field.as_str() {
                "comment" | "suggestion" => page
                    .t("market.rate.too_long")
                    .replace("{max}", &MAX_TEXT_CHARS.to_string()),
                _ => page.lang.error_message(&e),
            };
            errors.push(&field, message);
            let drafts = Drafts {
                rating: Some(draft),
                ..Default::default()
            };
            app_view(&state, page, &request_id, app_id, None, errors, drafts).await
        }
        Err(ServiceError::Forbidden(_)) => {
            message_with_back(&page, StatusCode::FORBIDDEN, "market.rate.use_first", &back)
        }
        Err(e) => error_page(&page, e, &back),
    }
}

#[derive(Deserialize)]
pub(super) struct ReplyForm {
    #[serde(default)]
    body: String,
}

async fn rating_app(state: &AppState, page: &Page, rating_id: i64) -> Result<i64, Response> {
    match ratings::app_of_rating(state, rating_id).await {
        Ok(app_id) => Ok(app_id),
        Err(ServiceError::NotFound(_)) => Err(message_page(
            page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "notfound.body",
        )),
        Err(e) => Err(internal_page(page, e)),
    }
}

pub(super) async fn reply_submit(
    State(state): State<AppState>,
    page: Page,
    request_id: RequestId,
    WebPath(rating_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let app_id = match rating_app(&state, &page, rating_id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = format!("/market/apps/{app_id}");
    let actor = match &page.current {
        None => return login_redirect(&back),
        Some(c) if c.user.role == Role::Isv => c.actor(&request_id),
        Some(_) => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "market.reply.isv_only",
            );
        }
    };
    let form: ReplyForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let text = form.body.clone();
    let result = ratings::reply(&state, &actor, rating_id, form.body).await;
    let shown = TextForm {
        app_id,
        rating_id,
        kind: TextKind::Reply,
        text,
    };
    shown.outcome(&state, page, &request_id, result).await
}

#[derive(Deserialize)]
pub(super) struct ReportForm {
    #[serde(default)]
    reason: String,
}

pub(super) async fn report_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(addr): ClientAddr,
    request_id: RequestId,
    WebPath(rating_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let app_id = match rating_app(&state, &page, rating_id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = format!("/market/apps/{app_id}");
    let form: ReportForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let actor = match &page.current {
        Some(c) => c.actor(&request_id),
        None => Actor::anonymous(request_id.as_option()),
    };
    if let Err(e) = state.rate_limits.check(Action::Rate, actor.id(), addr) {
        return error_page(&page, e, &back);
    }
    let text = form.reason.clone();
    let result = ratings::report(&state, &actor, rating_id, form.reason).await;
    let shown = TextForm {
        app_id,
        rating_id,
        kind: TextKind::Report,
        text,
    };
    shown.outcome(&state, page, &request_id, result).await
}

/// The two free-text forms under a review: an ISV's reply, anyone's report.
#[derive(Clone, Copy)]
enum TextKind {
    Reply,
    Report,
}

/// A reply or report as submitted, to show its outcome: the review again
/// on success, or the app's page with the text kept and its error beside it.
struct TextForm {
    app_id: i64,
    rating_id: i64,
    kind: TextKind,
    text: String,
}

impl TextForm {
    async fn outcome<T>(
        self,
        state: &AppState,
        page: Page,
        request_id: &RequestId,
        result: service::ServiceResult<T>,
    ) -> Response {
        let TextForm {
            app_id,
            rating_id,
            kind,
            text,
        } = self;
        let (name, done, empty_key, max) = match kind {
            TextKind::Reply => ("reply", "replied", "market.reply.empty", MAX_TEXT_CHARS),
            TextKind::Report => (
                "report",
                "reported",
                "market.report.empty",
                MAX_REASON_CHARS,
            ),
        };
        match result {
            Ok(_) => Redirect::to(&format!(
                "/market/apps/{app_id}?done={done}#review-{rating_id}"
            ))
            .into_response(),
            Err(ServiceError::Invalid { .. }) => {
                let message = if text.trim().is_empty() {
                    page.t(empty_key).to_owned()
                } else {
                    page.t("market.rate.too_long")
                        .replace("{max}", &max.to_string())
                };
                let mut errors = FormErrors::default();
                errors.push(&format!("{name}-{rating_id}"), message);
                let draft = Some((rating_id, text));
                let drafts = match kind {
                    TextKind::Reply => Drafts {
                        reply: draft,
                        ..Default::default()
                    },
                    TextKind::Report => Drafts {
                        report: draft,
                        ..Default::default()
                    },
                };
                app_view(state, page, request_id, app_id, None, errors, drafts).await
            }
            Err(e) => error_page(&page, e, &format!("/market/apps/{app_id}")),
        }
    }
}
