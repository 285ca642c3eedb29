//! Replays of citizens' invocations, the supervisors' evidence when a
//! citizen complains about an answer.
//!
//! Every invocation keeps a sealed record of what a rerun needs: the input,
//! the seed, the virtual clock, the locale, the dataset stamps and the
//! output the citizen got. It is encrypted (XChaCha20-Poly1305, a key
//! derived from the platform secret like the CSRF key, so every node
//! agrees) and bound to its invocation's app, version and citizen, so a
//! record moved to another row fails to open. After the retention period
//! ([`crate::config::Config::replay_retention`]) the purge job
//! ([`crate::housekeeping`]) deletes it,
//! and a replay of that invocation is `Gone`.
//!
//! A replay reruns the same version with the same input, seed and clock on
//! the datasets as they stand; it names every difference: verdict,
//! instruction count, output, and each dataset changed since.

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chrono::{DateTime, Utc};
use domain::{ResidentId, Role, Verdict};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// Who may replay an invocation over the API (operators use the CLI).
pub const REPLAYERS: &[Role] = &[Role::Supervisor];

/// The nonce is random per record; 24 bytes make a collision negligible.
const NONCE_BYTES: usize = 24;

/// What a replay needs, as sealed with each invocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ReplayRecord {
    pub input: Value,
    pub seed: u64,
    /// The virtual clock's start, RFC 3339 in the platform time zone.
    pub now: String,
    pub locale: String,
    pub datasets: Vec<store::market::DatasetStamp>,
    /// What the citizen got (after the contract's output check).
    pub output: Option<Value>,
}

/// Which invocation a record belongs to: authenticated with it, never
/// stored in it.
pub(crate) struct Binding {
    pub app_id: i64,
    pub version_id: i64,
    pub citizen_id: i64,
}

impl Binding {
    fn aad(&self) -> Vec<u8> {
        format!(
            "govmarket replay v1:{}:{}:{}",
            self.app_id, self.version_id, self.citizen_id
        )
        .into_bytes()
    }
}

/// Encrypts `record` for `binding`: nonce, then ciphertext.
pub(crate) fn seal(key: &[u8], binding: &Binding, record: &ReplayRecord) -> ServiceResult<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(ServiceError::internal)?;
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let plain = serde_json::to_vec(record).map_err(ServiceError::internal)?;
    let aad = binding.aad();
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: &plain,
                aad: &aad,
            },
        )
        .map_err(|_| ServiceError::internal(anyhow::anyhow!("sealing a replay record failed")))?;
    let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// Decrypts a record sealed for `binding`; a wrong key, a tampered record or
/// one moved to another invocation is an internal error (logged, never shown).
pub(crate) fn open(key: &[u8], binding: &Binding, sealed: &[u8]) -> ServiceResult<ReplayRecord> {
    let cipher = XChaCha20Poly1305::new_from_slice(key).map_err(ServiceError::internal)?;
    if sealed.len() <= NONCE_BYTES {
        return Err(ServiceError::internal(anyhow::anyhow!(
            "replay record too short"
        )));
    }
    let (nonce, body) = sealed.split_at(NONCE_BYTES);
    let aad = binding.aad();
    let plain = cipher
        .decrypt(
            nonce.into(),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| {
            ServiceError::internal(anyhow::anyhow!(
                "a replay record does not open: another key, tampered, or not this invocation's"
            ))
        })?;
    serde_json::from_slice(&plain).map_err(ServiceError::internal)
}

/// One run, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunSummary {
    #[schema(value_type = String, example = "accepted")]
    pub verdict: Verdict,
    pub instructions: u64,
    /// The answer, with every resident ID number in it masked.
    pub output: Option<Value>,
}

/// How a replay differs from the original.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    Verdict {
        #[schema(value_type = String)]
        original: Verdict,
        #[schema(value_type = String)]
        replayed: Verdict,
    },
    Instructions {
        original: u64,
        replayed: u64,
    },
    Output,
    /// The dataset changed after the invocation: the replay read its records
    /// as they stand now.
    DatasetChanged {
        name: String,
        version_then: i32,
        version_now: i32,
    },
    /// The dataset no longer exists.
    DatasetGone {
        name: String,
    },
}

/// A replay's result.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReplayReport {
    pub invocation_id: i64,
    pub app_id: i64,
    pub version_id: i64,
    pub occurred_at: DateTime<Utc>,
    pub original: RunSummary,
    pub replayed: RunSummary,
    /// Same verdict, instruction count and output.
    pub identical: bool,
    pub differences: Vec<Difference>,
}

/// Replays invocation `id` for a supervisor; audited.
pub async fn replay(services: &Services, actor: &Actor, id: i64) -> ServiceResult<ReplayReport> {
    actor.require(REPLAYERS)?;
    let report = rerun(services, id).await?;
    audit(services, actor, &report, None).await?;
    Ok(report)
}

/// Replays the invocation complaint `complaint_id` names, for one who may
/// handle that complaint (checked by `complaints::replay`); audited.
pub(crate) async fn replay_for_complaint(
    services: &Services,
    actor: &Actor,
    complaint_id: i64,
    invocation_id: i64,
) -> ServiceResult<ReplayReport> {
    let report = rerun(services, invocation_id).await?;
    audit(services, actor, &report, Some(complaint_id)).await?;
    Ok(report)
}

/// Replays invocation `id` for an operator at the command line (who holds
/// the database and the secret already); audited as the system.
pub async fn replay_as_operator(services: &Services, id: i64) -> ServiceResult<ReplayReport> {
    let report = rerun(services, id).await?;
    audit(services, &Actor::system(), &report, None).await?;
    Ok(report)
}

async fn audit(
    services: &Services,
    actor: &Actor,
    report: &ReplayReport,
    complaint: Option<i64>,
) -> ServiceResult<()> {
    let outcome = if report.identical {
        "结果一致".to_owned()
    } else {
        format!("{} 处不同", report.differences.len())
    };
    let why = complaint
        .map(|c| format!("为投诉 {c} "))
        .unwrap_or_default();
    store::audit::append(
        services.db.conn(),
        actor.audit(
            "invocation.replay",
            "invocation",
            report.invocation_id,
            format!("{why}回放调用 {}：{outcome}", report.invocation_id),
        ),
    )
    .await?;
    Ok(())
}

async fn rerun(services: &Services, id: i64) -> ServiceResult<ReplayReport> {
    let conn = services.db.conn();
    let invocation = store::usage::invocation(conn, id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Invocation))?;
    let sealed = store::replays::get(conn, id)
        .await?
        .ok_or(ServiceError::Gone(Msg::new("err.replay.purged")))?;
    let binding = Binding {
        app_id: invocation.app_id,
        version_id: invocation.version_id,
        citizen_id: invocation.citizen_id,
    };
    let record = open(&services.replay_key, &binding, &sealed.sealed)?;
    let app = store::apps::get(conn, invocation.app_id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::App))?;
    let prepared =
        crate::appdata::prepared_version(services, invocation.version_id, app.order_id).await?;
    let stamps = store::datasets::stamps(conn, app.order_id).await?;
    let mut differences = dataset_differences(&record.datasets, &stamps);
    let data = crate::appdata::datasets_from_stamps(
        &services.db,
        &services.datasets,
        app.order_id,
        &prepared.contract,
        stamps,
    )
    .await?;
    let identity = store::users::find_by_id(conn, invocation.citizen_id)
        .await?
        .and_then(|u| u.id_number);
    let request = sandbox::RunRequest {
        input: record.input,
        context: sandbox::RunContext {
            subject: crate::invoke::subject_for_app(services, app.id, invocation.citizen_id),
            locale: record.locale,
            now: record.now,
        },
        seed: record.seed,
        identity,
    };
    let mut outcome = services
        .sandbox
        .run_async(
            prepared.sha256.clone(),
            request,
            data,
            prepared.contract.limits.clone(),
        )
        .await;
    prepared.schemas.judge_output(&mut outcome);

    let original_verdict: Verdict = invocation.verdict.parse().map_err(|_| {
        ServiceError::internal(anyhow::anyhow!("stored verdict {:?}", invocation.verdict))
    })?;
    let original_instructions = u64::try_from(invocation.instructions).unwrap_or(0);
    if original_verdict != outcome.verdict {
        differences.push(Difference::Verdict {
            original: original_verdict,
            replayed: outcome.verdict,
        });
    }
    if original_instructions != outcome.instructions {
        differences.push(Difference::Instructions {
            original: original_instructions,
            replayed: outcome.instructions,
        });
    }
    if record.output != outcome.output {
        differences.push(Difference::Output);
    }
    let identical = !differences.iter().any(|d| {
        matches!(
            d,
            Difference::Verdict { .. } | Difference::Instructions { .. } | Difference::Output
        )
    });
    Ok(ReplayReport {
        invocation_id: id,
        app_id: invocation.app_id,
        version_id: invocation.version_id,
        occurred_at: invocation.occurred_at,
        original: RunSummary {
            verdict: original_verdict,
            instructions: original_instructions,
            output: record.output.map(masked),
        },
        replayed: RunSummary {
            verdict: outcome.verdict,
            instructions: outcome.instructions,
            output: outcome.output.map(masked),
        },
        identical,
        differences,
    })
}

/// Each dataset the invocation read that changed or went since.
fn dataset_differences(
    then: &[store::market::DatasetStamp],
    now: &[store::market::DatasetStamp],
) -> Vec<Difference> {
    then.iter()
        .filter_map(|old| match now.iter().find(|d| d.id == old.id) {
            None => Some(Difference::DatasetGone {
                name: old.name.clone(),
            }),
            Some(new) if new.version != old.version || new.updated_at != old.updated_at => {
                Some(Difference::DatasetChanged {
                    name: old.name.clone(),
                    version_then: old.version,
                    version_now: new.version,
                })
            }
            Some(_) => None,
        })
        .collect()
}

/// `value` with every string that is a resident ID number masked: an
/// answer may quote the citizen's own number, which the supervisor reading
/// the report must not see.
fn masked(value: Value) -> Value {
    match value {
        Value::String(s) => match ResidentId::parse(&s) {
            Ok(id) => Value::String(id.masked()),
            Err(_) => Value::String(s),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(masked).collect()),
        Value::Object(fields) => {
            Value::Object(fields.into_iter().map(|(k, v)| (k, masked(v))).collect())
        }
        other => other,
    }
}

/// Deletes the replay records older than the retention period; answers how
/// many went. Idempotent, so every node may run it.
pub async fn purge_expired(services: &Services, now: DateTime<Utc>) -> ServiceResult<u64> {
    let retention = chrono::Duration::from_std(services.config.replay_retention)
        .map_err(ServiceError::internal)?;
    let purged = store::replays::purge_before(services.db.conn(), now - retention).await?;
    if purged > 0 {
        tracing::info!(purged, "replay records past their retention purged");
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> ReplayRecord {
        ReplayRecord {
            input: serde_json::json!({"plate": "粤B12345"}),
            seed: 42,
            now: "2026-12-04T10:00:00+08:00".into(),
            locale: "zh-CN".into(),
            datasets: Vec::new(),
            output: Some(serde_json::json!({"ok": true})),
        }
    }

    fn binding(citizen_id: i64) -> Binding {
        Binding {
            app_id: 1,
            version_id: 2,
            citizen_id,
        }
    }

    #[test]
    fn a_sealed_record_opens_with_its_key_and_invocation_only() {
        let key = [7u8; 32];
        let sealed = seal(&key, &binding(3), &record()).unwrap();
        assert_eq!(open(&key, &binding(3), &sealed).unwrap(), record());
        assert!(
            open(&[8u8; 32], &binding(3), &sealed).is_err(),
            "another key"
        );
        assert!(
            open(&key, &binding(4), &sealed).is_err(),
            "another citizen's row"
        );
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(open(&key, &binding(3), &tampered).is_err(), "tampered");
        assert!(open(&key, &binding(3), &sealed[..10]).is_err(), "cut short");
    }

    #[test]
    fn the_plaintext_is_not_in_the_sealed_bytes() {
        let sealed = seal(&[7u8; 32], &binding(3), &record()).unwrap();
        let needle = "粤B12345".as_bytes();
        assert!(!sealed.windows(needle.len()).any(|w| w == needle));
    }

    #[test]
    fn resident_id_numbers_in_an_answer_are_masked_everywhere() {
        let id = ResidentId::generate(
            "440305",
            chrono::NaiveDate::from_ymd_opt(1990, 1, 1).unwrap(),
            7,
            false,
        )
        .unwrap();
        let out = masked(serde_json::json!({
            "owner": id.as_str(), "list": [id.as_str(), "粤B12345"], "n": 3
        }));
        let text = out.to_string();
        assert!(!text.contains(id.as_str()), "{text}");
        assert_eq!(out["owner"], id.masked());
        assert_eq!(out["list"][1], "粤B12345");
        assert_eq!(out["n"], 3);
    }
}
