//! Extractors for pages, in the axum style: the check is in the handler's
//! signature, so it cannot be forgotten in the body.
//!
//! - [`SignedIn<R>`]: the signed-in user with a role in `R`, the page and
//!   the use cases' [`Actor`]. Signed-out visitors are sent to sign in (and
//!   brought back); other roles get the 403 page.
//! - [`CsrfForm<T>`]: a posted form whose CSRF token has been checked
//!   before the form is read (403 page otherwise), parsed as `T` (400 page
//!   when it does not parse).

use std::marker::PhantomData;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use service::Actor;

use super::{Page, csrf_form, message_page};
use crate::auth::{CurrentUser, RoleSet};
use crate::extract::RequestId;
use crate::state::AppState;

/// Where a signed-out visitor goes: the sign-in page, then back to `next`.
pub(crate) fn login_redirect(next: &str) -> Response {
    let next = serde_urlencoded::to_string([("", next)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// A signed-in user whose role is in `R`, on a page.
pub struct SignedIn<R: RoleSet> {
    pub page: Page,
    pub current: CurrentUser,
    pub actor: Actor,
    _roles: PhantomData<R>,
}

impl<R: RoleSet> SignedIn<R> {
    pub fn user(&self) -> &store::users::User {
        &self.current.user
    }
}

impl<R: RoleSet> FromRequestParts<AppState> for SignedIn<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let page = Page::from_request_parts(parts, state).await?;
        let Some(current) = page.current.clone() else {
            let next = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| page.path.clone());
            return Err(login_redirect(&next));
        };
        if !R::ROLES.contains(&current.role()) {
            return Err(message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                R::FORBIDDEN_KEY,
            ));
        }
        let request_id = match RequestId::from_request_parts(parts, state).await {
            Ok(id) => id,
            Err(never) => match never {},
        };
        let actor = current.actor(&request_id);
        Ok(SignedIn {
            page,
            current,
            actor,
            _roles: PhantomData,
        })
    }
}

/// A posted form, its CSRF token checked first.
pub struct CsrfForm<T>(pub T);

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: serde::de::DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let page = Page::from_request_parts(&mut parts, state).await?;
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            let status = rejection.status();
            message_page(&page, status, "badrequest.title", "badrequest.body")
        })?;
        csrf_form(state, &page, &bytes).map(CsrfForm)
    }
}
