//! CSRF protection for the web forms: a signed double-submit token.
//!
//! Each browser gets a random `gm_csrf` cookie (HttpOnly, SameSite=Strict);
//! every form carries `csrf_token` = HMAC(key, cookie). A forged cross-site
//! post cannot read the cookie nor compute the HMAC, so it fails. The token
//! does not depend on the session, so the login and registration forms are
//! protected too (login CSRF).

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::CookieJar;
use hmac::{Hmac, Mac};
use rand::RngCore;

use crate::state::AppState;

pub const CSRF_COOKIE: &str = "gm_csrf";
pub const CSRF_FIELD: &str = "csrf_token";

/// The browser's CSRF seed, available to handlers through the request
/// extensions after the middleware ran.
#[derive(Debug, Clone)]
pub struct CsrfSeed(pub String);

pub fn token_for(key: &[u8], seed: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(seed.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Constant-time check of a submitted token against the seed.
pub fn verify(key: &[u8], seed: &str, submitted: &str) -> bool {
    let Ok(bytes) = hex::decode(submitted) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(seed.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

/// Gives every browser a seed cookie on its first request.
pub async fn ensure_seed(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(req.headers());
    let existing = jar
        .get(CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()));
    let (seed, fresh) = match existing {
        Some(s) => (s, false),
        None => {
            let mut b = [0u8; 16];
            rand::rng().fill_bytes(&mut b);
            (hex::encode(b), true)
        }
    };
    req.extensions_mut().insert(CsrfSeed(seed.clone()));
    let mut resp = next.run(req).await;
    if fresh {
        let secure = if state.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!("{CSRF_COOKIE}={seed}; Path=/; HttpOnly; SameSite=Strict{secure}");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            resp.headers_mut().append(SET_COOKIE, v);
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_own_seed_and_key() {
        let key = b"k".repeat(32);
        let t = token_for(&key, "seed-a");
        assert!(verify(&key, "seed-a", &t));
        assert!(!verify(&key, "seed-b", &t));
        assert!(!verify(b"other key", "seed-a", &t));
        assert!(!verify(&key, "seed-a", "zz-not-hex"));
        assert!(!verify(&key, "seed-a", ""));
    }
}
