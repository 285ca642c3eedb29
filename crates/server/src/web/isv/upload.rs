//! Uploading a version from the browser: the form (a new app, or a new
//! version of a chosen app), its CSRF token read before a byte of the
//! module, and the errors shown beside the fields.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use service::ServiceError;
use service::apps::{self, OnRejection, Upload, UploadForm};

use super::{Vendor, access_error, forbidden, internal_page, message_page, not_found};
use crate::extract::read_upload_parts;
use crate::state::AppState;
use crate::web::{FormErrors, Page, WebPath, WebQuery};

#[derive(Deserialize)]
pub(super) struct UploadQuery {
    /// An existing app of this ISV to add a version to; absent for a new app.
    app: Option<String>,
}

/// An existing app of the ISV on this order, offered as a target.
pub struct AppChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "isv/upload.html")]
struct UploadPage {
    page: Page,
    errors: FormErrors,
    order_id: i64,
    order_title: String,
    /// The app a version is added to; `None` for a new app.
    app: Option<AppChoice>,
    /// The ISV's other active apps on this order.
    choices: Vec<AppChoice>,
    name: String,
    release_notes: String,
    max_size: String,
}

fn human_size(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// The form's target (the order, the chosen app); else the page to send.
async fn upload_target(
    state: &AppState,
    vendor: &Vendor,
    order_id: i64,
    query: &UploadQuery,
) -> Result<UploadForm, Response> {
    let app_id = match query.app.as_deref().filter(|a| !a.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => return Err(not_found(&vendor.page)),
        },
    };
    match apps::upload_form(state, &vendor.actor, order_id, app_id).await {
        Ok(form) => Ok(form),
        Err(e) => {
            Err(access_error(&vendor.page, e).unwrap_or_else(|e| internal_page(&vendor.page, e)))
        }
    }
}

/// The form, filled in as sent, with its errors.
fn upload_view(
    page: Page,
    status: StatusCode,
    target: UploadForm,
    errors: FormErrors,
    name: String,
    release_notes: String,
) -> Response {
    let choice = |a: store::entity::apps::Model| AppChoice {
        id: a.id,
        name: a.name,
    };
    let mut page = page;
    page.has_errors = !errors.is_empty();
    (
        status,
        UploadPage {
            page,
            errors,
            order_id: target.order.id,
            order_title: target.order.title,
            app: target.app.map(choice),
            choices: target.choices.into_iter().map(choice).collect(),
            name,
            release_notes,
            max_size: human_size(target.cap),
        },
    )
        .into_response()
}

pub(super) async fn upload_page(
    State(state): State<AppState>,
    vendor: Vendor,
    WebPath(order_id): WebPath<i64>,
    WebQuery(query): WebQuery<UploadQuery>,
) -> Response {
    let target = match upload_target(&state, &vendor, order_id, &query).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !target.open {
        return message_page(
            &vendor.page,
            StatusCode::CONFLICT,
            "isv.upload.closed_title",
            "isv.upload.order_closed",
        );
    }
    upload_view(
        vendor.page,
        StatusCode::OK,
        target,
        FormErrors::default(),
        String::new(),
        String::new(),
    )
}

/// The CSRF token, which the form sends as its first part so that a forged
/// post is refused before a byte of the module is read. (Hence not
/// `CsrfForm`, which reads the whole body.)
async fn leading_csrf_token(form: &mut Multipart) -> Option<String> {
    let mut field = form.next_field().await.ok()??;
    if field.name() != Some(crate::csrf::CSRF_FIELD) {
        return None;
    }
    let mut buf = Vec::new();
    while let Some(chunk) = field.chunk().await.ok()? {
        buf.extend_from_slice(&chunk);
        // A token is 64 hex digits; anything longer is not one.
        if buf.len() > 128 {
            return None;
        }
    }
    String::from_utf8(buf).ok()
}

pub(super) async fn upload_submit(
    State(state): State<AppState>,
    vendor: Vendor,
    WebPath(order_id): WebPath<i64>,
    WebQuery(query): WebQuery<UploadQuery>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let Ok(mut form) = form else {
        return message_page(
            &vendor.page,
            StatusCode::BAD_REQUEST,
            "isv.upload.failed",
            "isv.upload.bad_form",
        );
    };
    let token = leading_csrf_token(&mut form).await;
    let page = &vendor.page;
    let csrf_ok = !page.csrf_seed.is_empty()
        && token
            .as_deref()
            .is_some_and(|t| crate::csrf::verify(&state.csrf_key, &page.csrf_seed, t));
    if !csrf_ok {
        return forbidden(page, "forbidden.csrf");
    }
    let target = match upload_target(&state, &vendor, order_id, &query).await {
        Ok(t) => t,
        Err(r) => return r,
    };
    let Vendor { page, actor } = vendor;
    let mut errors = FormErrors::default();

    let up = match read_upload_parts(form, target.cap).await {
        Ok(up) => up,
        Err(e) if e.is_client_error() => {
            let (field, message) = upload_error(&page, &e, &target);
            errors.push(field, message);
            let status = crate::error::status_of(&e);
            return upload_view(page, status, target, errors, String::new(), String::new());
        }
        Err(e) => return internal_page(&page, e),
    };
    // A chosen app's name is the app's own, whatever the form carried.
    let up = match &target.app {
        Some(app) => Upload {
            name: app.name.clone(),
            ..up
        },
        None => up,
    };
    let name = up.name.clone();
    let notes = up.release_notes.clone();
    // The API keeps an invalid module as a `rejected` version; in the
    // browser the ISV is told at once, beside the file input, and nothing
    // is stored.
    match apps::upload(&state, &actor, order_id, up, OnRejection::Refuse).await {
        Ok((_, version)) => Redirect::to(&format!("/isv/versions/{}", version.id)).into_response(),
        Err(e) if e.is_client_error() => {
            let (field, message) = upload_error(&page, &e, &target);
            errors.push(field, message);
            let status = crate::error::status_of(&e);
            upload_view(page, status, target, errors, name, notes)
        }
        Err(e) => internal_page(&page, e),
    }
}

/// The field and the message for a refused upload.
fn upload_error(page: &Page, e: &ServiceError, target: &UploadForm) -> (&'static str, String) {
    // Errors about a chosen app sit beside its summary; for a new app the
    // name field is where the user can act.
    let app_field = if target.app.is_some() { "app" } else { "name" };
    let (field, key) = match e {
        ServiceError::TooLarge(_) => {
            return (
                "wasm",
                format!(
                    "{}{}",
                    page.t("isv.upload.too_large"),
                    human_size(target.cap)
                ),
            );
        }
        ServiceError::Unprocessable {
            code: "invalid_module",
            ..
        } => return ("wasm", page.lang.error_message(e)),
        ServiceError::Conflict { code, .. } => match *code {
            "order_not_open" => ("wasm", "isv.upload.order_closed"),
            "run_in_flight" => (app_field, "isv.upload.in_flight"),
            "app_not_active" => (app_field, "isv.upload.app_not_active"),
            "name_taken" => ("name", "isv.upload.name_taken"),
            _ => return ("wasm", page.lang.error_message(e)),
        },
        ServiceError::Invalid { .. } => match e.field() {
            Some("wasm") => ("wasm", "isv.upload.no_file"),
            Some("name") => ("name", "isv.upload.name_invalid"),
            Some("release_notes") => ("release_notes", "isv.upload.notes_too_long"),
            _ => ("wasm", "isv.upload.bad_form"),
        },
        ServiceError::BadRequest { .. } => ("wasm", "isv.upload.bad_form"),
        _ => return ("wasm", page.lang.error_message(e)),
    };
    (field, page.t(key).to_owned())
}
