//! Uploading a dataset from the order page (multipart, CSRF token first).

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use service::ServiceError;

use super::super::{FormErrors, Page, WebPath, internal_page, message_page};
use super::order::{Forms, refused};
use super::{Desk, own_order, refusal};
use crate::csrf;
use crate::state::AppState;

/// The upload as posted: the dataset's name, its sample flag and its bytes.
struct DatasetUpload {
    name: String,
    sample: bool,
    bytes: Vec<u8>,
}

/// Reads the multipart upload. The CSRF token must be the first part (the
/// form puts it first), so a forged post is refused before any file byte
/// is read.
async fn read_dataset_upload(
    state: &AppState,
    page: &Page,
    form: Result<Multipart, MultipartRejection>,
) -> Result<Result<DatasetUpload, (StatusCode, &'static str)>, Response> {
    let csrf_refused = || {
        message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "forbidden.csrf",
        )
    };
    let Ok(mut form) = form else {
        return Err(csrf_refused());
    };
    let token = match form.next_field().await {
        Ok(Some(f)) if f.name() == Some(csrf::CSRF_FIELD) => f.text().await.unwrap_or_default(),
        _ => return Err(csrf_refused()),
    };
    if page.csrf_seed.is_empty() || !csrf::verify(&state.csrf_key, &page.csrf_seed, &token) {
        return Err(csrf_refused());
    }
    let too_big = (StatusCode::PAYLOAD_TOO_LARGE, "dept.err.dataset_too_big");
    let malformed = (StatusCode::BAD_REQUEST, "dept.err.upload_malformed");
    let mut up = DatasetUpload {
        name: String::new(),
        sample: false,
        bytes: Vec::new(),
    };
    loop {
        let mut field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Ok(Err(too_big)),
            Err(_) => return Ok(Err(malformed)),
        };
        match field.name().unwrap_or_default() {
            "dataset_name" => match field.text().await {
                Ok(t) => up.name = t.trim().to_owned(),
                Err(_) => return Ok(Err(malformed)),
            },
            "dataset_sample" => up.sample = true,
            "dataset_file" => loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => {
                        if up.bytes.len() + chunk.len() > service::orders::MAX_DATASET_BYTES {
                            return Ok(Err(too_big));
                        }
                        up.bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        return Ok(Err(too_big));
                    }
                    Err(_) => return Ok(Err(malformed)),
                }
            },
            _ => return Ok(Err(malformed)),
        }
    }
    Ok(Ok(up))
}

pub(super) async fn dataset_submit(
    State(state): State<AppState>,
    Desk { page, actor }: Desk,
    WebPath(id): WebPath<i64>,
    form: Result<Multipart, MultipartRejection>,
) -> Response {
    let upload = match read_dataset_upload(&state, &page, form).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut errors = FormErrors::default();
    let mut forms = Forms::default();
    let up = match upload {
        Ok(up) => up,
        Err((status, key)) => {
            errors.push("dataset_file", page.t(key));
            return refused(&state, page, &actor, id, errors, status, forms).await;
        }
    };
    forms.dataset_name = up.name.clone();
    forms.dataset_sample = up.sample;
    if up.name.is_empty() {
        errors.push("dataset_name", page.t("dept.err.dataset_name_required"));
    }
    if up.bytes.is_empty() {
        errors.push("dataset_file", page.t("dept.err.dataset_file_required"));
    }
    if !errors.is_empty() {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return refused(&state, page, &actor, id, errors, status, forms).await;
    }
    if let Err(r) = own_order(&state, &page, &actor, id).await {
        return r;
    }
    match service::orders::put_dataset(&state, &actor, id, &up.name, up.sample, &up.bytes).await {
        Ok(_) => Redirect::to(&format!("/dept/orders/{id}?done=dataset#datasets")).into_response(),
        Err(e) if e.is_client_error() => {
            let field = match &e {
                ServiceError::Unprocessable {
                    code: "dataset_not_granted",
                    ..
                } => "dataset_name",
                _ if e.field() == Some("name") => "dataset_name",
                _ => "dataset_file",
            };
            refusal(&page, &mut errors, field, &e);
            let status = crate::error::status_of(&e);
            refused(&state, page, &actor, id, errors, status, forms).await
        }
        Err(e) => internal_page(&page, e),
    }
}
