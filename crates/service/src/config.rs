//! Typed, layered configuration.
//!
//! Layers, later ones win: built-in defaults, then an optional TOML file
//! (`--config FILE` or `GOVMARKET_CONFIG`), then environment variables.
//! Every setting is listed in README.md's configuration table; keep the two
//! in step.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;

use crate::ratelimit::{DEFAULT_INVOKE_RATE, DEFAULT_RATING_RATE, Rate};

/// Where the server listens unless told otherwise: loopback only, so a demo
/// never exposes itself to the network by accident.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
/// Relative to the working directory, as the README's demo command expects.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// A working day is covered without re-login; short enough that a stolen
/// token does not live for long.
pub const DEFAULT_TOKEN_TTL_HOURS: u64 = 12;
/// The platform time zone decides which quarter an event belongs to.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Asia::Shanghai;
/// JSON bodies are small; uploads have their own, larger cap.
pub const DEFAULT_BODY_LIMIT_BYTES: usize = 1024 * 1024;
/// Usage events may arrive late (offline clients, retries): a period is
/// settled only this long after it ends.
pub const DEFAULT_SETTLEMENT_GRACE_HOURS: u64 = 72;
/// Largest accepted module upload, platform-wide: an order's contract may
/// ask for less, never for more.
pub const DEFAULT_UPLOAD_LIMIT_BYTES: usize = 16 * 1024 * 1024;
/// The sandbox's hard cap on a module: a larger upload limit would accept
/// modules the sandbox then refuses, so it is refused at startup instead.
pub const MAX_UPLOAD_LIMIT_BYTES: usize = sandbox::limits::MAX_MODULE_BYTES as usize;
/// Time a department has to answer a question before it shows as overdue:
/// three days, the usual reply time of a government hotline.
pub const DEFAULT_QUESTION_ANSWER_HOURS: u64 = 72;
/// A year: a longer deadline would mean questions are never overdue.
pub const MAX_QUESTION_ANSWER_HOURS: u64 = 24 * 366;
/// The Meilisearch index used when `MEILI_INDEX` is not set.
pub const DEFAULT_MEILI_INDEX: &str = "govmarket";
/// How long what a replay needs is kept: 180 days covers a complaint's
/// whole course (filing, handling, appeal) with room to spare, and no
/// longer than evidence is needed.
pub const DEFAULT_REPLAY_RETENTION_DAYS: u32 = 180;

/// A string that must never reach a log or a debug print.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// The resolved configuration the server runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` (default, in the data dir) or `postgres://…`.
    pub database_url: String,
    /// HMAC key for session tokens and CSRF tokens. `None`: generated once
    /// and kept in `<data_dir>/jwt-secret`.
    pub jwt_secret: Option<Secret>,
    /// HMAC key of the per-app pseudonyms apps see as `context.subject`
    /// (`GOVMARKET_SUBJECT_KEY`, at least 32 characters; the same on every
    /// node). `None`, the demo/dev default: derived from the JWT secret.
    /// **Rotating it changes every pseudonym**: each app then sees each
    /// citizen as a new subject, and records an app keeps by subject no
    /// longer match.
    pub subject_key: Option<Secret>,
    pub token_ttl: Duration,
    pub timezone: Tz,
    pub body_limit_bytes: usize,
    pub upload_limit_bytes: usize,
    /// Mark cookies `Secure`; on by default outside loopback demos.
    pub secure_cookies: bool,
    /// Run the test-run workers inside `serve`.
    pub workers: usize,
    /// Meilisearch instead of the embedded index when set.
    pub meili_url: Option<String>,
    pub meili_api_key: Option<Secret>,
    pub meili_index: String,
    pub stripe_secret_key: Option<Secret>,
    /// Stripe's API base URL (a fake or a proxy in tests and staging).
    pub stripe_base_url: Option<String>,
    /// How long after a period's end it can be settled.
    pub settlement_grace: Duration,
    /// How long a question may wait for its answer before it is overdue.
    pub question_answer_limit: Duration,
    /// Invocations per citizen (an address gets more; see `ratelimit`).
    pub invoke_rate: Rate,
    /// Ratings, replies and reports per user.
    pub rating_rate: Rate,
    /// Four eyes: a settlement run is approved, and its payout started, by
    /// a finance user other than the one who drafted or last recomputed it.
    /// On by default; off only for a one-person finance office.
    pub four_eyes: bool,
    /// How long an invocation's sealed replay record is kept before the
    /// purge job deletes it (`GOVMARKET_REPLAY_RETENTION_DAYS`).
    pub replay_retention: Duration,
    /// Working days for complaint deadlines: the official 2026 calendar
    /// plus the holidays and make-up working days configured for later
    /// years (`GOVMARKET_HOLIDAYS`, `GOVMARKET_MAKE_UP_DAYS`).
    pub calendar: domain::working_days::WorkingCalendar,
    /// What the fraud detector counts as suspicious (`[fraud]` in the
    /// file; each default is explained in `supervise::detector`).
    pub fraud: crate::supervise::detector::Thresholds,
}

/// The TOML file's shape: every field optional, unknown keys refused so a
/// typo does not silently leave a default in force.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub addr: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub jwt_secret: Option<Secret>,
    pub subject_key: Option<Secret>,
    pub token_ttl_hours: Option<u64>,
    pub timezone: Option<String>,
    pub body_limit_bytes: Option<usize>,
    pub upload_limit_bytes: Option<usize>,
    pub secure_cookies: Option<bool>,
    pub workers: Option<usize>,
    pub meili_url: Option<String>,
    pub meili_api_key: Option<Secret>,
    pub meili_index: Option<String>,
    pub stripe_secret_key: Option<Secret>,
    pub stripe_base_url: Option<String>,
    pub settlement_grace_hours: Option<u64>,
    pub question_answer_hours: Option<u64>,
    pub invoke_per_minute: Option<u32>,
    pub invoke_burst: Option<u32>,
    pub rate_per_minute: Option<u32>,
    pub rate_burst: Option<u32>,
    pub four_eyes: Option<bool>,
    pub replay_retention_days: Option<u32>,
    /// Dates `YYYY-MM-DD` or ranges `YYYY-MM-DD..YYYY-MM-DD`.
    pub holidays: Option<Vec<String>>,
    pub make_up_days: Option<Vec<String>>,
    /// `[fraud]`: the detector's thresholds; missing keys keep their defaults.
    pub fraud: Option<crate::supervise::detector::Thresholds>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    File { path: PathBuf, message: String },
    #[error("setting {name} = {value:?} is not valid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// Command-line overrides; they win over file and environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub addr: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads the layers from the real environment.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("GOVMARKET_CONFIG").map(PathBuf::from));
        let file_cfg = match &file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|e| ConfigError::File {
                    path: path.clone(),
                    message: e.to_string(),
                })?
            }
            None => FileConfig::default(),
        };
        Config::resolve(file_cfg, |k| std::env::var(k).ok(), overrides)
    }

    /// Merges the layers. The environment is a function so tests need not
    /// mutate the process environment.
    pub fn resolve(
        file: FileConfig,
        env: impl Fn(&str) -> Option<String>,
        overrides: Overrides,
    ) -> Result<Config, ConfigError> {
        let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());

        let addr_text = env("GOVMARKET_ADDR")
            .or(file.addr)
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = match overrides.addr {
            Some(a) => a,
            None => addr_text.parse().map_err(|e| ConfigError::Invalid {
                name: "GOVMARKET_ADDR",
                value: addr_text.clone(),
                reason: format!("{e}"),
            })?,
        };
        let data_dir = overrides
            .data_dir
            .or_else(|| env("GOVMARKET_DATA_DIR").map(PathBuf::from))
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        // DATABASE_URL is the name every tool in the ecosystem knows;
        // GOVMARKET_DATABASE_URL wins when both are set.
        let database_url = env("GOVMARKET_DATABASE_URL")
            .or_else(|| env("DATABASE_URL"))
            .or(file.database_url)
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: redact_url(&database_url),
                reason: "expected sqlite:… or postgres://…".into(),
            });
        }
        let jwt_secret = env("GOVMARKET_JWT_SECRET").map(Secret).or(file.jwt_secret);
        if let Some(s) = &jwt_secret
            && s.expose().len() < 32
        {
            return Err(ConfigError::Invalid {
                name: "GOVMARKET_JWT_SECRET",
                value: "***".into(),
                reason: "must be at least 32 characters".into(),
            });
        }
        let subject_key = env("GOVMARKET_SUBJECT_KEY")
            .map(Secret)
            .or(file.subject_key);
        if let Some(s) = &subject_key
            && s.expose().trim().len() < 32
        {
            return Err(ConfigError::Invalid {
                name: "GOVMARKET_SUBJECT_KEY",
                value: "***".into(),
                reason: "must be at least 32 characters".into(),
            });
        }
        let token_ttl_hours = parse_env(&env, "GOVMARKET_TOKEN_TTL_HOURS")?
            .or(file.token_ttl_hours)
            .unwrap_or(DEFAULT_TOKEN_TTL_HOURS);
        if token_ttl_hours == 0 || token_ttl_hours > 24 * 30 {
            return Err(ConfigError::Invalid {
                name: "GOVMARKET_TOKEN_TTL_HOURS",
                value: token_ttl_hours.to_string(),
                reason: "must be between 1 and 720".into(),
            });
        }
        let tz_text = env("GOVMARKET_TIMEZONE").or(file.timezone);
        let timezone = match tz_text {
            Some(t) => t.parse::<Tz>().map_err(|e| ConfigError::Invalid {
                name: "GOVMARKET_TIMEZONE",
                value: t.clone(),
                reason: e.to_string(),
            })?,
            None => DEFAULT_TIMEZONE,
        };
        let body_limit_bytes = parse_env(&env, "GOVMARKET_BODY_LIMIT_BYTES")?
            .or(file.body_limit_bytes)
            .unwrap_or(DEFAULT_BODY_LIMIT_BYTES);
        let upload_limit_bytes = parse_env(&env, "GOVMARKET_UPLOAD_LIMIT_BYTES")?
            .or(file.upload_limit_bytes)
            .unwrap_or(DEFAULT_UPLOAD_LIMIT_BYTES);
        if upload_limit_bytes == 0 || upload_limit_bytes > MAX_UPLOAD_LIMIT_BYTES {
            return Err(ConfigError::Invalid {
                name: "GOVMARKET_UPLOAD_LIMIT_BYTES",
                value: upload_limit_bytes.to_string(),
                reason: format!(
                    "must be between 1 and {MAX_UPLOAD_LIMIT_BYTES} (the sandbox's cap on a module)"
                ),
            });
        }
        let secure_cookies = parse_env(&env, "GOVMARKET_SECURE_COOKIES")?
            .or(file.secure_cookies)
            .unwrap_or(!addr.ip().is_loopback());
        let four_eyes = parse_env(&env, "GOVMARKET_FOUR_EYES")?
            .or(file.four_eyes)
            .unwrap_or(true);
        let workers = parse_env(&env, "GOVMARKET_WORKERS")?
            .or(file.workers)
            .unwrap_or(1);
        let meili_url = env("MEILI_URL")
            .or(file.meili_url.filter(|u| !u.trim().is_empty()))
            .map(|u| u.trim().to_owned());
        if let Some(u) = &meili_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(ConfigError::Invalid {
                name: "MEILI_URL",
                value: redact_url(u),
                reason: "expected http://… or https://…".into(),
            });
        }
        let meili_api_key = env("MEILI_API_KEY").map(Secret).or(file.meili_api_key);
        let meili_index = env("MEILI_INDEX")
            .or(file.meili_index)
            .map(|i| i.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_MEILI_INDEX.to_owned());
        // Meilisearch's own rule for an index uid; checked here so a typo
        // stops the start instead of failing every search later.
        if meili_index.is_empty()
            || meili_index.len() > 400
            || !meili_index
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConfigError::Invalid {
                name: "MEILI_INDEX",
                value: meili_index,
                reason: "must be 1 to 400 of the characters a-z A-Z 0-9 - _".into(),
            });
        }
        let stripe_secret_key = env("STRIPE_SECRET_KEY")
            .map(Secret)
            .or(file.stripe_secret_key);
        let stripe_base_url = env("STRIPE_BASE_URL").or(file.stripe_base_url);
        let settlement_grace_hours = parse_env(&env, "GOVMARKET_SETTLEMENT_GRACE_HOURS")?
            .or(file.settlement_grace_hours)
            .unwrap_or(DEFAULT_SETTLEMENT_GRACE_HOURS);
        let question_answer_hours = parse_env(&env, "GOVMARKET_QUESTION_ANSWER_HOURS")?
            .or(file.question_answer_hours)
            .unwrap_or(DEFAULT_QUESTION_ANSWER_HOURS);
        if question_answer_hours == 0 || question_answer_hours > MAX_QUESTION_ANSWER_HOURS {
            return Err(ConfigError::Invalid {
                name: "GOVMARKET_QUESTION_ANSWER_HOURS",
                value: question_answer_hours.to_string(),
                reason: format!("must be between 1 and {MAX_QUESTION_ANSWER_HOURS}"),
            });
        }
        let invoke_rate = Rate {
            per_minute: positive(
                &env,
                "GOVMARKET_INVOKE_PER_MINUTE",
                file.invoke_per_minute,
                DEFAULT_INVOKE_RATE.per_minute,
            )?,
            burst: positive(
                &env,
                "GOVMARKET_INVOKE_BURST",
                file.invoke_burst,
                DEFAULT_INVOKE_RATE.burst,
            )?,
        };
        let rating_rate = Rate {
            per_minute: positive(
                &env,
                "GOVMARKET_RATE_PER_MINUTE",
                file.rate_per_minute,
                DEFAULT_RATING_RATE.per_minute,
            )?,
            burst: positive(
                &env,
                "GOVMARKET_RATE_BURST",
                file.rate_burst,
                DEFAULT_RATING_RATE.burst,
            )?,
        };
        let fraud = file.fraud.unwrap_or_default();
        fraud.check().map_err(|reason| ConfigError::Invalid {
            name: "[fraud]",
            value: format!("{fraud:?}"),
            reason,
        })?;

        let replay_retention_days = positive(
            &env,
            "GOVMARKET_REPLAY_RETENTION_DAYS",
            file.replay_retention_days,
            DEFAULT_REPLAY_RETENTION_DAYS,
        )?;

        let holidays = dates(&env, "GOVMARKET_HOLIDAYS", file.holidays)?;
        let make_up_days = dates(&env, "GOVMARKET_MAKE_UP_DAYS", file.make_up_days)?;
        let calendar =
            domain::working_days::WorkingCalendar::default().with(holidays, make_up_days);

        Ok(Config {
            addr,
            data_dir,
            database_url,
            jwt_secret,
            subject_key,
            token_ttl: Duration::from_secs(token_ttl_hours * 3600),
            timezone,
            body_limit_bytes,
            upload_limit_bytes,
            secure_cookies,
            workers,
            meili_url,
            meili_api_key,
            meili_index,
            stripe_secret_key,
            stripe_base_url,
            settlement_grace: Duration::from_secs(settlement_grace_hours.saturating_mul(3600)),
            question_answer_limit: Duration::from_secs(question_answer_hours * 3600),
            invoke_rate,
            rating_rate,
            four_eyes,
            replay_retention: Duration::from_secs(u64::from(replay_retention_days) * 86_400),
            calendar,
            fraud,
        })
    }
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("govmarket.db").display()
    )
}

fn parse_env<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<T>, ConfigError>
where
    T::Err: fmt::Display,
{
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|e| ConfigError::Invalid {
                name,
                value: v.clone(),
                reason: e.to_string(),
            }),
    }
}

/// A count that must be at least one: environment, then file, then default.
fn positive(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    file: Option<u32>,
    default: u32,
) -> Result<u32, ConfigError> {
    let n = parse_env(env, name)?.or(file).unwrap_or(default);
    if n == 0 {
        return Err(ConfigError::Invalid {
            name,
            value: n.to_string(),
            reason: "must be at least 1".into(),
        });
    }
    Ok(n)
}

/// Days from a comma-separated variable, else the file's list: each a date
/// `YYYY-MM-DD` or an inclusive range `YYYY-MM-DD..YYYY-MM-DD` (at most a
/// month, which no holiday exceeds).
fn dates(
    env: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    file: Option<Vec<String>>,
) -> Result<Vec<chrono::NaiveDate>, ConfigError> {
    let items: Vec<String> = match env(name) {
        Some(v) => v.split(',').map(|s| s.trim().to_owned()).collect(),
        None => file.unwrap_or_default(),
    };
    let invalid = |value: &str, reason: &str| ConfigError::Invalid {
        name,
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let day = |s: &str| {
        chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| invalid(s, "expected YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"))
    };
    let mut out = Vec::new();
    for item in items.iter().filter(|s| !s.trim().is_empty()) {
        match item.split_once("..") {
            None => out.push(day(item)?),
            Some((from, to)) => {
                let (mut d, to) = (day(from)?, day(to)?);
                if to < d || (to - d).num_days() > 31 {
                    return Err(invalid(item, "a range runs forward, at most 31 days"));
                }
                while d <= to {
                    out.push(d);
                    d += chrono::Duration::days(1);
                }
            }
        }
    }
    Ok(out)
}

/// Hides the password of a database URL for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests;
