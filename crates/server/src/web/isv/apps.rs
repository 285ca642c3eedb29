//! "My apps": the ISV's apps across orders, and withdrawing one through a
//! confirmation page.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use service::apps;
use store::entity::versions;

use super::{EmptyForm, Vendor, access_error, internal_page, message_page};
use crate::state::AppState;
use crate::web::extract::CsrfForm;
use crate::web::{Page, WebPath};

/// A version as a row of the apps table shows it.
pub struct VersionCell {
    pub id: i64,
    pub number: i32,
    /// `None` for a stored status this code does not know.
    pub status: Option<domain::VersionStatus>,
    pub score: String,
}

impl VersionCell {
    fn of(v: &versions::Model) -> VersionCell {
        VersionCell {
            id: v.id,
            number: v.number,
            status: v.typed_status().ok(),
            score: v
                .test_score_bp
                .map(|bp| format!("{}.{:02}%", bp / 100, bp % 100))
                .unwrap_or_default(),
        }
    }
}

pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub order_id: i64,
    pub order_title: String,
    pub status: String,
    pub published: Option<VersionCell>,
    pub latest: Option<VersionCell>,
    pub can_withdraw: bool,
    pub can_upload: bool,
    pub can_delete: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "isv/apps.html")]
struct AppsPage {
    page: Page,
    apps: Vec<AppRow>,
}

pub(super) async fn apps_page(State(state): State<AppState>, vendor: Vendor) -> Response {
    let Vendor { page, actor } = vendor;
    match apps::of_vendor(&state, &actor).await {
        Ok(mine) => {
            let apps = mine
                .into_iter()
                .map(|a| AppRow {
                    published: a.published().map(VersionCell::of),
                    latest: a.latest().map(VersionCell::of),
                    id: a.app.id,
                    name: a.app.name,
                    order_id: a.app.order_id,
                    order_title: a.order_title,
                    status: a.app.status,
                    can_withdraw: a.can_withdraw,
                    can_upload: a.can_upload,
                    can_delete: a.can_delete,
                })
                .collect();
            AppsPage { page, apps }.into_response()
        }
        Err(e) => internal_page(&page, e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "isv/withdraw.html")]
struct WithdrawPage {
    page: Page,
    app_id: i64,
    app_name: String,
    order_id: i64,
    order_title: String,
}

/// An app that cannot be withdrawn (it already is).
fn withdraw_refused(page: &Page, e: &service::ServiceError) -> Response {
    message_page(
        page,
        crate::error::status_of(e),
        "isv.withdraw.failed",
        "isv.withdraw.already",
    )
}

pub(super) async fn withdraw_page(
    State(state): State<AppState>,
    vendor: Vendor,
    WebPath(id): WebPath<i64>,
) -> Response {
    let Vendor { page, actor } = vendor;
    match apps::withdrawal(&state, &actor, id).await {
        Ok(w) => WithdrawPage {
            page,
            app_id: w.app.id,
            app_name: w.app.name,
            order_id: w.app.order_id,
            order_title: w.order_title,
        }
        .into_response(),
        Err(e) => access_error(&page, e).unwrap_or_else(|e| withdraw_refused(&page, &e)),
    }
}

pub(super) async fn withdraw_submit(
    State(state): State<AppState>,
    vendor: Vendor,
    WebPath(id): WebPath<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Response {
    let Vendor { page, actor } = vendor;
    match apps::withdraw(&state, &actor, id).await {
        Ok(_) => Redirect::to("/isv/apps").into_response(),
        Err(e) => access_error(&page, e).unwrap_or_else(|e| withdraw_refused(&page, &e)),
    }
}

/// Deletes an app that was never published, from "my apps".
pub(super) async fn delete_submit(
    State(state): State<AppState>,
    vendor: Vendor,
    WebPath(id): WebPath<i64>,
    CsrfForm(EmptyForm {}): CsrfForm<EmptyForm>,
) -> Response {
    let Vendor { page, actor } = vendor;
    match apps::delete(&state, &actor, id).await {
        Ok(()) => Redirect::to("/isv/apps").into_response(),
        Err(e) => access_error(&page, e).unwrap_or_else(|e| {
            message_page(
                &page,
                crate::error::status_of(&e),
                "isv.delete.failed",
                "isv.delete.refused",
            )
        }),
    }
}
