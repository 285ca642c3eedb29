//! Sessions: argon2id password hashes, HS256 JWTs, and the extractors that
//! turn a request into a checked user with a checked role.
//!
//! API clients send `Authorization: Bearer <token>`; the web sends the same
//! token in the HttpOnly `gm_session` cookie. A role requirement is part of
//! the handler's signature (`Authed<roles::Finance>`), so it cannot be
//! forgotten in the body.

use std::marker::PhantomData;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use domain::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

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

/// HS256 keys, built once at start-up.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl Keys {
    pub fn new(secret: &[u8], ttl: Duration) -> Self {
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed token for `user_id` acting as `role`.
    pub fn issue(&self, user_id: i64, role: Role) -> Result<(String, DateTime<Utc>), ApiError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).map_err(ApiError::internal)?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)?;
        Ok((token, expires_at))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut v = Validation::new(Algorithm::HS256);
        // A token is either valid now or not; clock skew between our own
        // nodes is negligible, and a lenient window would extend stolen tokens.
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::unauthorized("登录已过期，请重新登录 / session expired")
                }
                _ => ApiError::unauthorized("无效的登录凭证 / invalid token"),
            })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// Hashes with argon2id and the crate's default (OWASP-recommended)
/// parameters, off the async executor: a hash takes tens of milliseconds.
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(anyhow::anyhow!("argon2 hash failed: {e}")))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Verifies in constant time relative to the password; a malformed stored
/// hash counts as a mismatch (and is logged), never as success.
pub async fn verify_password(password: String, stored: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || match PasswordHash::new(&stored) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(e) => {
            tracing::error!(error = %e, "stored password hash is malformed");
            false
        }
    })
    .await
    .map_err(ApiError::internal)
}

/// A hash to compare against when the email is unknown, so that a login
/// for a missing account costs the same time as a wrong password.
pub static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"not-a-real-password")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// The signed-in user, loaded fresh from the database on every request so a
/// disabled account or a changed role takes effect at once.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: store::users::User,
    /// Where the token came from; cookie sessions must pass CSRF checks.
    pub via_cookie: bool,
}

impl CurrentUser {
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
    let claims = state.keys.verify(&token)?;
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| ApiError::unauthorized("无效的登录凭证 / invalid token"))?;
    let user = store::users::find_by_id(state.db.conn(), id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or_else(|| ApiError::unauthorized("账户不可用 / account unavailable"))?;
    if user.role != claims.role {
        return Err(ApiError::unauthorized(
            "角色已变更，请重新登录 / role changed, sign in again",
        ));
    }
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
}

/// Role sets, named for what they admit.
pub mod roles {
    use super::RoleSet;
    use domain::Role;

    macro_rules! role_set {
        ($($(#[$m:meta])* $name:ident = [$($r:ident),+];)+) => {$(
            $(#[$m])*
            #[derive(Debug)]
            pub struct $name;
            impl RoleSet for $name {
                const ROLES: &'static [Role] = &[$(Role::$r),+];
            }
        )+};
    }

    role_set! {
        Citizen = [Citizen];
        Isv = [Isv];
        Department = [Department];
        Finance = [Finance];
        Supervisor = [Supervisor];
        Admin = [Admin];
        /// Those who may read the audit log.
        Auditors = [Supervisor, Admin];
        /// Those who answer complaints: about their apps, about their orders.
        ComplaintAnswerers = [Isv, Department];
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

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::new(b"0123456789abcdef0123456789abcdef", Duration::from_secs(60))
    }

    #[test]
    fn a_token_carries_the_user_and_role() {
        let k = keys();
        let (t, exp) = k.issue(42, Role::Finance).unwrap();
        let c = k.verify(&t).unwrap();
        assert_eq!(c.sub, "42");
        assert_eq!(c.role, Role::Finance);
        assert!(exp > Utc::now());
    }

    #[test]
    fn a_token_signed_with_another_key_is_refused() {
        let other = Keys::new(b"another-secret-another-secret-xx", Duration::from_secs(60));
        let (t, _) = other.issue(1, Role::Admin).unwrap();
        let err = keys().verify(&t).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn an_expired_token_is_refused_as_expired() {
        let k = keys();
        let claims = Claims {
            sub: "1".into(),
            role: Role::Citizen,
            iat: 0,
            exp: Utc::now().timestamp() - 5,
        };
        let t = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        let err = k.verify(&t).unwrap_err();
        assert!(err.message().contains("expired"), "{}", err.message());
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let k = keys();
        let (t, _) = k.issue(7, Role::Citizen).unwrap();
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        // swap the payload for one claiming admin, keep the old signature
        let forged = Claims {
            sub: "7".into(),
            role: Role::Admin,
            iat: 0,
            exp: Utc::now().timestamp() + 60,
        };
        use base64_payload::encode;
        parts[1] = encode(&serde_json::to_vec(&forged).unwrap());
        assert!(k.verify(&parts.join(".")).is_err());
    }

    /// base64url without padding, enough to forge a payload in a test.
    mod base64_payload {
        pub fn encode(bytes: &[u8]) -> String {
            const A: &[u8; 64] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in bytes.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                let chars = chunk.len() + 1;
                for i in 0..chars {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(
            verify_password("correct horse".into(), h.clone())
                .await
                .unwrap()
        );
        assert!(!verify_password("wrong horse".into(), h).await.unwrap());
        assert!(
            !verify_password("x".into(), "not a hash".into())
                .await
                .unwrap()
        );
    }
}
