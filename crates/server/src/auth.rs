//! Sessions: argon2id password hashes, HS256 JWTs, and the extractors that
//! turn a request into a checked user with a checked role.
//!
//! API clients send `Authorization: Bearer <token>`; the web sends the same
//! token in the HttpOnly `gm_session` cookie. A role requirement is part of
//! the handler's signature (`Authed<roles::Finance>`), so it cannot be
//! forgotten in the body.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use domain::Role;
use service::Actor;

use crate::error::ApiError;
use crate::state::AppState;

/// Name of the session cookie the web pages use.
pub const SESSION_COOKIE: &str = "gm_session";

/// The header a page's script must send with an unsafe JSON API request
/// that relies on the session cookie: the page's CSRF token (the
/// `csrf_token` its forms carry).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Marks a request to the JSON API (a layer on its router sets it), where
/// the session cookie alone does not authorise a state change.
#[derive(Debug, Clone, Copy)]
pub struct ApiSurface;

/// The signed-in user, loaded fresh from the database on every request so a
/// disabled account or a changed role takes effect at once.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: store::users::User,
    /// Where the token came from; cookie sessions must pass CSRF checks.
    pub via_cookie: bool,
}

impl CurrentUser {
    /// The use cases' view of this user, acting in request `request_id`.
    pub fn actor(&self, request_id: &crate::extract::RequestId) -> Actor {
        Actor::user(self.user.clone(), request_id.as_option())
    }

    pub fn id(&self) -> i64 {
        self.user.id
    }
    pub fn role(&self) -> Role {
        self.user.role
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

/// Finds and checks the session token; `Ok(None)` when there is none.
pub async fn session_user(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<CurrentUser>, ApiError> {
    let (token, via_cookie) = match bearer(parts) {
        Some(t) => (t.to_owned(), false),
        None => {
            let jar = CookieJar::from_headers(&parts.headers);
            match jar.get(SESSION_COOKIE) {
                Some(c) => (c.value().to_owned(), true),
                None => return Ok(None),
            }
        }
    };
    if via_cookie {
        cookie_may_change_state(parts, state)?;
    }
    let user = service::sessions::user_for_token(&state.db, &state.keys, &token).await?;
    Ok(Some(CurrentUser { user, via_cookie }))
}

/// The browser sends the session cookie with any request to our origin,
/// whoever made the page that sent it; SameSite=Lax stops cross-site POSTs
/// only in browsers that honour it and not from a sibling subdomain. So an
/// unsafe API request authenticated by the cookie must also carry the
/// page's CSRF token in `X-CSRF-Token` (HMAC of the `gm_csrf` seed, which a
/// foreign page can neither read nor compute). Bearer tokens, which API
/// clients use, are never sent by a browser on its own and need no token.
/// Web form posts are checked by `csrf_form` instead.
fn cookie_may_change_state(parts: &Parts, state: &AppState) -> Result<(), ApiError> {
    if parts.extensions.get::<ApiSurface>().is_none() || parts.method.is_safe() {
        return Ok(());
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let seed = jar.get(crate::csrf::CSRF_COOKIE).map(|c| c.value());
    let submitted = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
    match (seed, submitted) {
        (Some(seed), Some(token)) if crate::csrf::verify(&state.csrf_key, seed, token) => Ok(()),
        _ => Err(ApiError::csrf(
            "使用登录 Cookie 修改数据时须附带 X-CSRF-Token；API 客户端请使用 Authorization: Bearer 令牌 \
             / a state-changing API request signed in by cookie needs the X-CSRF-Token header; \
             API clients use an Authorization: Bearer token",
        )),
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(u) = parts.extensions.get::<CurrentUser>() {
            return Ok(u.clone());
        }
        let user = session_user(parts, state)
            .await?
            .ok_or_else(|| ApiError::unauthorized("请先登录 / sign in first"))?;
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// A set of roles a route admits.
pub trait RoleSet: Send + Sync + 'static {
    const ROLES: &'static [Role];
    /// The catalogue key of what a page tells a signed-in user of another
    /// role; an area may say it in its own words.
    const FORBIDDEN_KEY: &'static str = "forbidden.role";
}

/// Role sets, named for what they admit.
pub mod roles {
    use super::RoleSet;
    use domain::Role;

    macro_rules! role_set {
        ($($(#[$m:meta])* $name:ident = [$($r:ident),+] $(=> $key:literal)?;)+) => {$(
            $(#[$m])*
            #[derive(Debug)]
            pub struct $name;
            impl RoleSet for $name {
                const ROLES: &'static [Role] = &[$(Role::$r),+];
                $(const FORBIDDEN_KEY: &'static str = $key;)?
            }
        )+};
    }

    role_set! {
        /// Anyone signed in.
        Anyone = [Citizen, Isv, Department, Finance, Supervisor, Admin];
        Citizen = [Citizen];
        Isv = [Isv];
        Department = [Department];
        Finance = [Finance];
        Supervisor = [Supervisor];
        Admin = [Admin];
        /// Those who may read the audit log.
        Auditors = [Supervisor, Admin];
        /// Those who answer complaints: about their apps, about their orders.
        ComplaintAnswerers = [Isv, Department] => "complaints.forbidden";
        /// Those who may replay the use a complaint names.
        ComplaintHandlers = [Isv, Department, Supervisor] => "complaints.forbidden";
        /// Department staff on their desk.
        DeskStaff = [Department] => "dept.forbidden";
        /// Citizens, as those who file complaints.
        Complainants = [Citizen] => "complaints.citizens_only";
        /// Those who may read settlement runs in full.
        SettlementReaders = [Finance, Supervisor, Admin];
    }
}

/// A signed-in user whose role is in `R`; 401 without a session, 403 for
/// another role.
#[derive(Debug)]
pub struct Authed<R: RoleSet> {
    pub current: CurrentUser,
    _roles: PhantomData<R>,
}

impl<R: RoleSet> Authed<R> {
    pub fn user(&self) -> &store::users::User {
        &self.current.user
    }
}

impl<R: RoleSet> FromRequestParts<AppState> for Authed<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        if !R::ROLES.contains(&current.role()) {
            let allowed: Vec<&str> = R::ROLES.iter().map(|r| r.as_str()).collect();
            return Err(ApiError::forbidden(format!(
                "此操作仅限 {} / this action requires role {}",
                allowed.join("、"),
                allowed.join(" or ")
            )));
        }
        Ok(Authed {
            current,
            _roles: PhantomData,
        })
    }
}
