//! Request facts both adapters read: the request id and the client's
//! address. Neither can fail: a request without them still has an answer.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// The request id set by the request-id layer, for the audit log.
pub struct RequestId(pub Option<String>);

impl RequestId {
    pub fn as_option(&self) -> Option<String> {
        self.0.clone()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

/// The client's address as the socket saw it, when the server was started
/// with connection info (`serve` is). Forwarded headers are not trusted: a
/// client could name any address in them.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(a)| a.ip()),
        ))
    }
}

/// Reads an upload's multipart form (both adapters post one), refusing a
/// module over `cap` bytes as soon as it is exceeded (the rest of the body
/// is not read). The parts' checks are `service::apps`'s.
pub async fn read_upload_parts(
    mut form: axum::extract::Multipart,
    cap: usize,
) -> service::ServiceResult<service::apps::Upload> {
    use service::apps::{PartKind, UploadParts};
    use service::{Msg, ServiceError};
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ServiceError::TooLarge(Msg::new("err.apps.upload_too_large"))
        } else {
            ServiceError::bad_request(
                "malformed_multipart",
                Msg::new("err.apps.malformed").arg("detail", e.body_text()),
            )
        }
    };
    let mut parts = UploadParts::new(cap);
    while let Some(mut field) = form.next_field().await.map_err(bad)? {
        let part = PartKind::of(field.name().unwrap_or_default())?;
        while let Some(chunk) = field.chunk().await.map_err(bad)? {
            parts.push(part, &chunk)?;
        }
        parts.end(part)?;
    }
    Ok(parts.finish())
}
