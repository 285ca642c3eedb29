//! What every use case may draw on: the database, the configuration, the
//! session keys, the sandbox, the search index and this process's caches.
//! One per process, cloned cheaply into each request.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rand::RngCore;

use crate::config::{Config, Secret};
use crate::sessions::Keys;

#[derive(Clone)]
pub struct Services {
    pub db: store::Db,
    pub config: Arc<Config>,
    pub keys: Keys,
    /// HMAC key for CSRF tokens; derived from the session secret so that
    /// every node of a deployment agrees without another setting.
    pub csrf_key: Arc<[u8]>,
    /// HMAC key of the subjects apps see (`context.subject`, a per-app
    /// pseudonym of the citizen): the `subject_key` setting, or (the
    /// demo/dev default) derived from the platform secret like `csrf_key`.
    /// Every node must agree, and rotating it changes every pseudonym.
    pub subject_key: Arc<[u8]>,
    /// Key of the sealed replay records (see [`crate::replay`]): derived
    /// from the platform secret like `csrf_key`, so every node opens every
    /// record and no second secret has to be kept.
    pub replay_key: Arc<[u8]>,
    /// HMAC key of the client addresses kept for the fraud detector (only
    /// their keyed hashes are stored): derived from the platform secret
    /// like `csrf_key`, so every node hashes an address alike.
    pub client_key: Arc<[u8]>,
    /// The one wasm runtime of this process: its engine, module cache and
    /// concurrency bound are shared by test runs and citizens' invocations.
    pub sandbox: sandbox::Sandbox,
    /// Orders and apps, for the market (tantivy in the data dir, or Meilisearch).
    pub search: Arc<dyn search::Search>,
    /// Usage events, written in batches; drained on shutdown.
    pub usage: crate::usage::UsageRecorder,
    /// Per-citizen and per-address limits on invoking and rating.
    pub rate_limits: crate::ratelimit::RateLimits,
    /// What an invocation of a published version needs and never changes.
    pub versions: crate::caches::VersionCache,
    /// Orders' datasets, checked against a fingerprint on every use.
    pub datasets: crate::caches::DatasetCache,
    /// Listed apps' availability, so invocations skip that query under load.
    pub availability: crate::caches::AvailabilityCache,
    /// Wakes this process's test workers when a request queues a run.
    pub jobs: crate::caches::JobSignal,
}

impl Services {
    /// Connects, migrates and loads the keys: everything `serve` needs
    /// before it can answer a request.
    pub async fn build(config: Config) -> anyhow::Result<Services> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("cannot create data directory {}", config.data_dir.display())
        })?;
        let db = store::connect(&config.database_url)
            .await
            .with_context(|| {
                format!(
                    "cannot connect to {}",
                    crate::config::redact_url(&config.database_url)
                )
            })?;
        store::migrate(&db).await.context("migrations failed")?;
        let services = Self::with_db(config, db)?;
        let config = &services.config;
        if let Some(url) = &config.meili_url {
            services.search.check().await.with_context(|| {
                format!(
                    "Meilisearch at {} does not answer (MEILI_URL, MEILI_API_KEY, MEILI_INDEX); \
                     start it or unset MEILI_URL to use the embedded index",
                    crate::config::redact_url(url)
                )
            })?;
        } else if services.db.backend() == sea_orm::DbBackend::Postgres {
            tracing::warn!(
                "search index is local to this node ({}/search): with several API nodes \
                 set MEILI_URL so that all of them search the same index",
                config.data_dir.display()
            );
        }
        Ok(services)
    }

    pub fn with_db(config: Config, db: store::Db) -> anyhow::Result<Services> {
        let secret = match &config.jwt_secret {
            Some(s) => s.expose().as_bytes().to_vec(),
            None => load_or_create_secret(&config.data_dir)?,
        };
        let keys = Keys::new(&secret, config.token_ttl);
        let csrf_key = derive(&secret, b"govmarket csrf v1");
        let subject_key = subject_key(&config, &secret);
        let replay_key = derive(&secret, b"govmarket replay v1");
        let client_key = derive(&secret, b"govmarket client addresses v1");
        let sandbox = sandbox::Sandbox::new(sandbox::SandboxConfig {
            cache_dir: Some(config.data_dir.join("module-cache")),
            ..Default::default()
        })
        .context("cannot start the wasm sandbox")?;
        let search = open_search(&config)?;
        Ok(Services {
            usage: crate::usage::UsageRecorder::new(db.clone()),
            rate_limits: crate::ratelimit::RateLimits::new(config.invoke_rate, config.rating_rate),
            versions: crate::caches::VersionCache::default(),
            datasets: crate::caches::DatasetCache::default(),
            availability: crate::caches::AvailabilityCache::default(),
            jobs: crate::caches::JobSignal::default(),
            search,
            db,
            config: Arc::new(config),
            keys,
            csrf_key: csrf_key.into(),
            subject_key: subject_key.into(),
            replay_key: replay_key.into(),
            client_key: client_key.into(),
            sandbox,
        })
    }
}

/// Opens the search engine: Meilisearch when the configuration names one
/// (`MEILI_URL`, with `MEILI_API_KEY` and `MEILI_INDEX`), otherwise the
/// embedded tantivy index in `<data_dir>/search`.
fn open_search(config: &Config) -> anyhow::Result<Arc<dyn search::Search>> {
    if let Some(url) = &config.meili_url {
        return Ok(Arc::new(search::MeiliSearch::new(
            url,
            config.meili_api_key.as_ref().map(Secret::expose),
            &config.meili_index,
        )?));
    }
    let dir = config.data_dir.join("search");
    Ok(Arc::new(search::TantivySearch::open(&dir).map_err(
        |e| anyhow::anyhow!("cannot open the search index in {}: {e}", dir.display()),
    )?))
}

fn derive(secret: &[u8], label: &[u8]) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().to_vec()
}

/// The session secret lives in the data dir so that restarts keep users
/// signed in; it is created once, readable by the owner only.
/// The subject key in force: the setting, else derived from the platform
/// secret (which keeps the pseudonyms of a deployment that predates the
/// setting).
fn subject_key(config: &Config, secret: &[u8]) -> Vec<u8> {
    match &config.subject_key {
        Some(k) => derive(k.expose().trim().as_bytes(), b"govmarket subjects v1"),
        None => {
            if !config.addr.ip().is_loopback() {
                tracing::warn!(
                    "GOVMARKET_SUBJECT_KEY is not set: citizens' pseudonyms are derived from \
                     the JWT secret, so rotating that secret changes every pseudonym"
                );
            }
            derive(secret, b"govmarket subjects v1")
        }
    }
}

fn load_or_create_secret(data_dir: &Path) -> anyhow::Result<Vec<u8>> {
    let path = data_dir.join("jwt-secret");
    match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().len() >= 64 => Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => anyhow::bail!(
            "{} is too short; delete it to have a new one generated",
            path.display()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::rng().fill_bytes(&mut bytes);
            let text = hex::encode(bytes);
            write_private(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(text.into_bytes())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_secret_is_kept_across_restarts() {
        let dir = tempfile::tempdir().unwrap();
        let a = load_or_create_secret(dir.path()).unwrap();
        let b = load_or_create_secret(dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("jwt-secret"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn the_subject_key_setting_decides_the_pseudonyms_not_the_jwt_secret() {
        let config = |subject: Option<&str>| {
            let env = |k: &str| {
                (k == "GOVMARKET_SUBJECT_KEY")
                    .then(|| subject.map(str::to_owned))
                    .flatten()
            };
            crate::config::Config::resolve(Default::default(), env, Default::default()).unwrap()
        };
        let jwt_a = b"a-jwt-secret-of-at-least-32-characters".as_slice();
        let jwt_b = b"another-jwt-secret-of-32-characters-too".as_slice();
        // Demo default: derived from the JWT secret, as before the setting.
        assert_eq!(
            subject_key(&config(None), jwt_a),
            derive(jwt_a, b"govmarket subjects v1")
        );
        assert_ne!(
            subject_key(&config(None), jwt_a),
            subject_key(&config(None), jwt_b)
        );
        // With the setting, rotating the JWT secret keeps the pseudonyms...
        let k1 = Some("subject-key-one-0123456789abcdef0123456");
        assert_eq!(
            subject_key(&config(k1), jwt_a),
            subject_key(&config(k1), jwt_b)
        );
        assert_ne!(
            subject_key(&config(k1), jwt_a),
            subject_key(&config(None), jwt_a)
        );
        // ...and rotating the subject key changes them.
        let k2 = Some("subject-key-two-0123456789abcdef0123456");
        assert_ne!(
            subject_key(&config(k1), jwt_a),
            subject_key(&config(k2), jwt_a)
        );
    }
}
