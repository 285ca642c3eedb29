//! Sessions: argon2id password hashes and HS256 JWTs. The adapters carry
//! the token (a bearer header, an HttpOnly cookie); this is what it means.

use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use domain::Role;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::error::{Msg, ServiceError};

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
    pub fn issue(&self, user_id: i64, role: Role) -> Result<(String, DateTime<Utc>), ServiceError> {
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.ttl).map_err(ServiceError::internal)?;
        let expires_at = now + ttl;
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ServiceError::internal)?;
        Ok((token, expires_at))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ServiceError> {
        let mut v = Validation::new(Algorithm::HS256);
        // A token is either valid now or not; clock skew between our own
        // nodes is negligible, and a lenient window would extend stolen tokens.
        v.leeway = 0;
        v.set_required_spec_claims(&["exp", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ServiceError::Unauthenticated(Msg::new("err.session_expired"))
                }
                _ => ServiceError::Unauthenticated(Msg::new("err.invalid_token")),
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
pub async fn hash_password(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::internal(anyhow::anyhow!("argon2 hash failed: {e}")))
    })
    .await
    .map_err(ServiceError::internal)?
}

/// Verifies in constant time relative to the password; a malformed stored
/// hash counts as a mismatch (and is logged), never as success.
pub async fn verify_password(password: String, stored: String) -> Result<bool, ServiceError> {
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
    .map_err(ServiceError::internal)
}

/// A hash to compare against when the email is unknown, so that a login
/// for a missing account costs the same time as a wrong password.
pub static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"not-a-real-password")
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// The user a session token stands for, loaded fresh from the database so
/// that a disabled account or a changed role takes effect at once.
pub async fn user_for_token(
    db: &store::Db,
    keys: &Keys,
    token: &str,
) -> Result<store::users::User, ServiceError> {
    let claims = keys.verify(token)?;
    let id: i64 = claims
        .sub
        .parse()
        .map_err(|_| ServiceError::Unauthenticated(Msg::new("err.invalid_token")))?;
    let user = store::users::find_by_id(db.conn(), id)
        .await?
        .filter(|u| !u.disabled)
        .ok_or(ServiceError::Unauthenticated(Msg::new(
            "err.account_unavailable",
        )))?;
    if user.role != claims.role {
        return Err(ServiceError::Unauthenticated(Msg::new("err.role_changed")));
    }
    Ok(user)
}

/// Checks a password; the same answer (and about the same time) whether
/// the email is unknown, the account disabled or the password wrong.
pub async fn check_credentials(
    db: &store::Db,
    email: &str,
    password: &str,
) -> Result<Option<store::users::User>, ServiceError> {
    let email = email.trim().to_lowercase();
    let creds = store::users::find_credentials(db.conn(), &email).await?;
    match creds {
        Some(c) if !c.user.disabled => Ok(verify_password(password.to_owned(), c.password_hash)
            .await?
            .then_some(c.user)),
        _ => {
            verify_password(password.to_owned(), DUMMY_HASH.clone()).await?;
            Ok(None)
        }
    }
}

/// A session: its user and the bearer token that stands for them.
#[derive(Debug)]
pub struct Session {
    pub user: store::users::User,
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// Signs in with email and password; a wrong pair is `Unauthenticated`,
/// the same for an unknown email. Both outcomes are audited
/// (`session.sign_in`, `session.sign_in_failed` naming the email tried);
/// `actor` is the anonymous visitor with the request's id.
pub async fn login(
    db: &store::Db,
    keys: &Keys,
    actor: &Actor,
    email: &str,
    password: &str,
) -> Result<Session, ServiceError> {
    let Some(user) = check_credentials(db, email, password).await? else {
        let tried: String = email.trim().to_lowercase().chars().take(120).collect();
        store::audit::append(
            db.conn(),
            actor.audit(
                "session.sign_in_failed",
                "user",
                None,
                format!("登录失败：{tried}"),
            ),
        )
        .await?;
        return Err(ServiceError::Unauthenticated(Msg::new(
            "err.wrong_credentials",
        )));
    };
    let (token, expires_at) = keys.issue(user.id, user.role)?;
    let me = Actor::user(user.clone(), actor.request_id().map(str::to_owned));
    store::audit::append(
        db.conn(),
        me.audit("session.sign_in", "user", user.id, "登录".to_owned()),
    )
    .await?;
    Ok(Session {
        user,
        token,
        expires_at,
    })
}

/// Records a sign-out (the session token itself is stateless; the browser
/// drops its cookie). Nothing to record for a visitor who is not signed in.
pub async fn sign_out(db: &store::Db, actor: &Actor) -> Result<(), ServiceError> {
    if let Some(id) = actor.id() {
        store::audit::append(
            db.conn(),
            actor.audit("session.sign_out", "user", id, "退出登录".to_owned()),
        )
        .await?;
    }
    Ok(())
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
        assert!(matches!(err, ServiceError::Unauthenticated(_)), "{err:?}");
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
        assert!(
            matches!(&err, ServiceError::Unauthenticated(m) if m.key == "err.session_expired"),
            "{err:?}"
        );
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
