//! The one error type of the JSON API.
//!
//! Policy: every failure a client can cause maps to a 4xx with a stable
//! machine `code` and a human `message` (zh-CN first, English after a
//! slash where it helps), as `{"error": {"code", "message", "field"?}}`.
//! Anything else is an internal error: its cause is logged with the request
//! context, and the client sees only an opaque message — never a stack trace
//! or a database message.

use axum::Json;
use axum::extract::path::ErrorKind as PathErrorKind;
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use service::ServiceError;
use utoipa::ToSchema;

use crate::i18n::Lang;

/// What the client receives.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `validation_failed`, `conflict`, …
    pub code: String,
    pub message: String,
    /// The request field at fault, for validation errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after_secs: Option<u64>,
    /// Kept for the log only.
    source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            retry_after_secs: None,
            source: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} 不存在 / not found"),
        )
    }
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
    }
    /// A well-formed request whose `field` holds an unacceptable value.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            message,
        );
        e.field = Some(field.to_owned());
        e
    }
    /// Names the request field a conflict or validation error is about.
    pub fn with_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// A route that exists, asked with a method it does not answer.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "此接口不支持该请求方法 / method not allowed (see the Allow header)",
        )
    }
    /// An unsafe request authenticated only by the browser's session cookie
    /// without the CSRF token that proves it came from our own pages.
    pub fn csrf(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "csrf", message)
    }
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut e = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "请求过于频繁，请稍后再试 / too many requests",
        );
        e.retry_after_secs = Some(retry_after_secs);
        e
    }
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut e = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "服务器内部错误，请稍后再试 / internal error",
        );
        e.source = Some(source.into());
        e
    }

    /// For command-line callers: the message, with the internal cause
    /// when there is one (an operator may see it; a web client may not).
    pub fn into_anyhow(self) -> anyhow::Error {
        match self.source {
            Some(source) => source.context(self.message),
            None => anyhow::anyhow!("{} ({})", self.message, self.code),
        }
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
    pub fn code(&self) -> &'static str {
        self.code
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }
    /// Seconds a rate-limited client should wait (the `Retry-After`).
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(source) = &self.source {
            tracing::error!(error = ?source, status = %self.status, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
            },
        };
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
            // The IETF RateLimit header (draft-ietf-httpapi-ratelimit-headers):
            // nothing remains of the quota until it resets in `t` seconds.
            if let Ok(v) = HeaderValue::from_str(&format!("\"default\";r=0;t={secs}")) {
                resp.headers_mut()
                    .insert(header::HeaderName::from_static("ratelimit"), v);
            }
        }
        resp
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => {
                // serde names the offending field in its message, e.g.
                // "unknown field `x`" or "missing field `y`".
                ApiError::unprocessable(
                    "invalid_body",
                    format!("请求内容不符合要求 / {}", body_text(&e)),
                )
            }
            JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
                "malformed_json",
                format!("JSON 格式错误 / {}", body_text(&e)),
            ),
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "请使用 Content-Type: application/json",
            ),
            JsonRejection::BytesRejection(e) => from_bytes_status(e.status(), e.body_text()),
            other => ApiError::bad_request("bad_request", other.body_text()),
        }
    }
}

impl From<FormRejection> for ApiError {
    fn from(r: FormRejection) -> Self {
        match r {
            FormRejection::BytesRejection(e) => from_bytes_status(e.status(), e.body_text()),
            other => ApiError::unprocessable("invalid_form", other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::from_path_rejection(r, None)
    }
}

impl ApiError {
    /// A path parameter that does not parse: 400 `invalid_path` naming it.
    /// axum names the parameter only for multi-parameter paths; the caller
    /// passes `only_key`, the route's single parameter, for the others.
    pub fn from_path_rejection(r: PathRejection, only_key: Option<&str>) -> ApiError {
        let PathRejection::FailedToDeserializePathParams(e) = r else {
            // Missing captures are a routing bug, not the client's doing.
            return ApiError::internal(anyhow::anyhow!("path extraction: {}", r.body_text()));
        };
        let not_a = |key: &str, value: &str, expected_type: &str| {
            format!(
                "网址中的 {key} 无效：{value:?} / path parameter `{key}` is not a valid {}",
                readable_type(expected_type)
            )
        };
        let (field, message) = match e.kind() {
            PathErrorKind::ParseErrorAtKey {
                key,
                value,
                expected_type,
            } => (Some(key.as_str()), not_a(key, value, expected_type)),
            PathErrorKind::ParseError {
                value,
                expected_type,
            } => match only_key {
                Some(key) => (Some(key), not_a(key, value, expected_type)),
                None => (
                    None,
                    format!(
                        "网址中的参数无效：{value:?} / path parameter is not a valid {}",
                        readable_type(expected_type)
                    ),
                ),
            },
            PathErrorKind::DeserializeError {
                key,
                value,
                message,
            } => (
                Some(key.as_str()),
                format!("网址中的 {key} 无效：{value:?} / path parameter `{key}`: {message}"),
            ),
            PathErrorKind::InvalidUtf8InPathParam { key } => (
                Some(key.as_str()),
                format!(
                    "网址中的 {key} 不是有效的 UTF-8 / path parameter `{key}` is not valid UTF-8"
                ),
            ),
            PathErrorKind::WrongNumberOfParameters { .. }
            | PathErrorKind::UnsupportedType { .. } => {
                return ApiError::internal(anyhow::anyhow!("path extraction: {}", e.body_text()));
            }
            other => (only_key, format!("网址无效 / invalid path: {other}")),
        };
        let mut err = ApiError::bad_request("invalid_path", message);
        err.field = field.map(str::to_owned);
        err
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        // serde_path_to_error prefixes the parameter at fault ("cursor:
        // invalid digit found in string"); unknown parameters are named in
        // serde's own message ("unknown field `bogus`, expected …").
        let detail = body_text(&r);
        let field = query_field(&detail);
        let mut err = ApiError::bad_request(
            "invalid_query",
            match &field {
                Some(f) => format!("查询参数 {f} 无效 / query parameter `{f}`: {detail}"),
                None => format!("查询参数无效 / invalid query string: {detail}"),
            },
        );
        err.field = field;
        err
    }
}

/// The query parameter a deserialisation message is about, if it names one.
fn query_field(detail: &str) -> Option<String> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
    };
    if let Some(rest) = detail
        .find("unknown field `")
        .map(|i| &detail[i + "unknown field `".len()..])
        && let Some(end) = rest.find('`')
    {
        return Some(rest[..end].to_owned());
    }
    if let Some(rest) = detail
        .find("missing field `")
        .map(|i| &detail[i + "missing field `".len()..])
        && let Some(end) = rest.find('`')
    {
        return Some(rest[..end].to_owned());
    }
    detail
        .split_once(": ")
        .map(|(head, _)| head)
        .filter(|h| is_name(h))
        .map(str::to_owned)
}

/// Rust type names as a client would say them.
fn readable_type(rust: &str) -> &str {
    match rust {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            "integer"
        }
        "f32" | "f64" => "number",
        "bool" => "boolean (true or false)",
        other => other,
    }
}

fn from_bytes_status(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::payload_too_large("请求体过大 / request body too large")
    } else {
        ApiError::bad_request("bad_request", text)
    }
}

/// serde_json's message without axum's prefix, which repeats the type name.
fn body_text(e: &impl std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s = inner.to_string();
        cur = inner.source();
    }
    s
}

/// The status of a use case's refusal: the one table both adapters use.
pub fn status_of(e: &ServiceError) -> StatusCode {
    match e {
        ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
        ServiceError::Gone(_) => StatusCode::GONE,
        ServiceError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        ServiceError::Forbidden(_) | ServiceError::Refused { .. } => StatusCode::FORBIDDEN,
        ServiceError::Conflict { .. } => StatusCode::CONFLICT,
        ServiceError::Invalid { .. } | ServiceError::Unprocessable { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ServiceError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        ServiceError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        ServiceError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        ServiceError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ServiceError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The API speaks both languages: Chinese first, English after a slash.
fn both(e: &ServiceError) -> String {
    let zh = Lang::ZhCn.error_message(e);
    let en = Lang::En.error_message(e);
    if zh == en { zh } else { format!("{zh} / {en}") }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = status_of(&e);
        let message = both(&e);
        match e {
            ServiceError::Internal(source) => ApiError::internal(source),
            ServiceError::RateLimited { retry_after_secs } => {
                ApiError::too_many_requests(retry_after_secs)
            }
            ServiceError::NotFound(_) => ApiError::new(status, "not_found", message),
            ServiceError::Gone(_) => ApiError::new(status, "gone", message),
            ServiceError::Unauthenticated(_) => ApiError::new(status, "unauthorized", message),
            ServiceError::Forbidden(_) => ApiError::new(status, "forbidden", message),
            ServiceError::Refused { code, .. } => ApiError::new(status, code, message),
            ServiceError::TooLarge(_) => ApiError::new(status, "payload_too_large", message),
            ServiceError::Unavailable(_) => ApiError::new(status, "unavailable", message),
            ServiceError::Conflict { code, field, .. } => {
                let e = ApiError::new(status, code, message);
                match field {
                    Some(f) => e.with_field(f),
                    None => e,
                }
            }
            ServiceError::Invalid { field, .. } => {
                ApiError::new(status, "validation_failed", message).with_field(&field)
            }
            ServiceError::Unprocessable { code, .. } | ServiceError::BadRequest { code, .. } => {
                ApiError::new(status, code, message)
            }
        }
    }
}

impl From<service::accounts::AccountError> for ApiError {
    fn from(e: service::accounts::AccountError) -> Self {
        ServiceError::from(e).into()
    }
}

impl From<store::StoreError> for ApiError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::NotFound => ApiError::not_found("记录 / record"),
            store::StoreError::Conflict { what } => {
                ApiError::conflict("conflict", format!("{what} 已存在 / {what} already exists"))
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(e: sea_orm::DbErr) -> Self {
        ApiError::internal(e)
    }
}

impl From<domain::TransitionError> for ApiError {
    fn from(e: domain::TransitionError) -> Self {
        ApiError::conflict("invalid_transition", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_messages_name_the_parameter_at_fault() {
        assert_eq!(
            query_field("cursor: invalid digit found in string").as_deref(),
            Some("cursor")
        );
        assert_eq!(
            query_field("unknown field `bogus`, expected `cursor` or `limit`").as_deref(),
            Some("bogus")
        );
        assert_eq!(
            query_field("sort: unknown variant `best`, expected one of `rating`, `users`, `new`")
                .as_deref(),
            Some("sort")
        );
        assert_eq!(query_field("invalid type: string, expected u64"), None);
    }
}
