//! The client addresses the fraud detector compares ("many accounts from
//! one address"), kept only as keyed hashes: HMAC-SHA256 of the address
//! under `Services::client_key`. Without the key a hash cannot be turned
//! back into an address, even by trying all 2³² IPv4 addresses.

use std::net::IpAddr;

use hmac::{Hmac, Mac};

use crate::services::Services;

/// The keyed hash of `addr`, hex. IPv4-mapped IPv6 addresses hash as
/// their IPv4 form, so one client is one hash whichever socket it used.
pub fn hash(key: &[u8], addr: IpAddr) -> String {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(addr.to_string().as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Remembers that `user_id` registered or signed in from `addr` (when the
/// server knows it). Best effort: the detector's evidence must never stop
/// a citizen from signing in, so a failure is logged, not returned.
pub async fn remember(services: &Services, user_id: i64, addr: Option<IpAddr>) {
    let Some(addr) = addr else { return };
    let h = hash(&services.client_key, addr);
    if let Err(e) = store::fraud::record_address(services.db.conn(), user_id, &h).await {
        tracing::warn!(user_id, error = %e, "cannot record the client address hash");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_is_keyed_and_never_the_address() {
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let h = hash(b"k1", a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains("203"));
        assert_eq!(h, hash(b"k1", mapped));
        assert_ne!(h, hash(b"k2", a));
        assert_ne!(h, hash(b"k1", "203.0.113.8".parse().unwrap()));
    }
}
