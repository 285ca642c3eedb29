//! Rate limits on invoking and rating, per citizen and per client address:
//! an in-process keyed token bucket. A refused request gets 429 with
//! `Retry-After` (whole seconds until a token is back).
//!
//! In-process means per API node: with N nodes a citizen gets up to N times
//! the rate. That bounds abuse well enough for these two routes (each
//! invocation also costs a sandbox slot); a shared limiter would need a
//! round trip to a shared store on every request.
//!
//! The rates (requests per minute, and the burst a quiet client may spend
//! at once) are settings (`Config::invoke_rate`, `Config::rating_rate`) so
//! load tests can lift them; a client address gets ten times a citizen's
//! allowance (many citizens share an office or carrier NAT).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::ServiceError;

/// Buckets idle this long are full again and can be forgotten.
const IDLE_EVICT: Duration = Duration::from_secs(600);
/// Evict idle buckets when a limiter holds more than this many.
const EVICT_AT: usize = 100_000;
/// How many citizens' allowance one client address gets.
const ADDRESS_FACTOR: u32 = 10;

/// A rate: `per_minute` tokens a minute, at most `burst` saved up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

/// One invocation a second on average, and a burst of twenty for a citizen
/// filling in a form several times over.
pub const DEFAULT_INVOKE_RATE: Rate = Rate {
    per_minute: 60,
    burst: 20,
};
/// Ratings, replies and reports are written by hand: ten a minute is far
/// above a person's pace and far below a script's.
pub const DEFAULT_RATING_RATE: Rate = Rate {
    per_minute: 10,
    burst: 5,
};

impl Rate {
    fn times(self, k: u32) -> Rate {
        Rate {
            per_minute: self.per_minute.saturating_mul(k),
            burst: self.burst.saturating_mul(k),
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// One keyed token bucket.
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    pub fn new(rate: Rate) -> Limiter {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `key`, or says how many seconds until one is back.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let per_sec = f64::from(self.rate.per_minute.max(1)) / 60.0;
        let burst = f64::from(self.rate.burst.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > EVICT_AT {
            buckets.retain(|_, b| now.duration_since(b.at) < IDLE_EVICT);
        }
        let b = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(b.at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * per_sec).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / per_sec;
            // Whole seconds, at least one: Retry-After has no fractions.
            Err((wait.ceil() as u64).max(1))
        }
    }
}

/// The limiters of this node.
#[derive(Clone)]
pub struct RateLimits {
    invoke_citizen: Arc<Limiter>,
    invoke_address: Arc<Limiter>,
    rate_citizen: Arc<Limiter>,
    rate_address: Arc<Limiter>,
}

/// What is being limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Invoke,
    Rate,
}

impl RateLimits {
    pub fn new(invoke: Rate, rate: Rate) -> RateLimits {
        RateLimits {
            invoke_citizen: Arc::new(Limiter::new(invoke)),
            invoke_address: Arc::new(Limiter::new(invoke.times(ADDRESS_FACTOR))),
            rate_citizen: Arc::new(Limiter::new(rate)),
            rate_address: Arc::new(Limiter::new(rate.times(ADDRESS_FACTOR))),
        }
    }

    /// Takes a token for the citizen and one for the address; 429 when
    /// either is exhausted.
    pub fn check(
        &self,
        action: Action,
        citizen_id: Option<i64>,
        address: Option<IpAddr>,
    ) -> Result<(), ServiceError> {
        let (by_citizen, by_address) = match action {
            Action::Invoke => (&self.invoke_citizen, &self.invoke_address),
            Action::Rate => (&self.rate_citizen, &self.rate_address),
        };
        if let Some(id) = citizen_id {
            by_citizen
                .check(&id.to_string())
                .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs })?;
        }
        if let Some(ip) = address {
            by_address
                .check(&ip.to_string())
                .map_err(|retry_after_secs| ServiceError::RateLimited { retry_after_secs })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_refused_with_the_seconds_to_wait() {
        let l = Limiter::new(Rate {
            per_minute: 60,
            burst: 3,
        });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at("a", t0), Ok(()));
        }
        assert_eq!(l.check_at("a", t0), Err(1));
        // Another key has its own bucket.
        assert_eq!(l.check_at("b", t0), Ok(()));
        // One token a second comes back.
        assert_eq!(l.check_at("a", t0 + Duration::from_millis(1000)), Ok(()));
        assert!(l.check_at("a", t0 + Duration::from_millis(1000)).is_err());
    }

    #[test]
    fn a_slow_rate_asks_for_a_longer_wait() {
        let l = Limiter::new(Rate {
            per_minute: 2,
            burst: 1,
        });
        let t0 = Instant::now();
        assert_eq!(l.check_at("a", t0), Ok(()));
        assert_eq!(l.check_at("a", t0), Err(30));
    }

    #[test]
    fn an_address_is_limited_across_citizens() {
        let limits = RateLimits::new(
            Rate {
                per_minute: 60,
                burst: 100,
            },
            Rate {
                per_minute: 1,
                burst: 1,
            },
        );
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        // Ten citizens' allowance from one address.
        for citizen in 0..10 {
            limits.check(Action::Rate, Some(citizen), Some(ip)).unwrap();
        }
        let err = limits.check(Action::Rate, Some(99), Some(ip)).unwrap_err();
        assert!(matches!(err, ServiceError::RateLimited { .. }), "{err:?}");
    }
}
