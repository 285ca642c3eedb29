//! Citizens using an app: the input is checked against the order's input
//! schema, the app runs in the sandbox with the citizen as subject and the
//! order's datasets, and one usage event is written.
//!
//! [`run_for_citizen`] is the hot path of `bench invoke`: the availability
//! and the prepared version come from caches, and the only write is the
//! batched usage event.

use chrono::Utc;
use domain::{Role, Verdict};
use serde_json::Value;
use store::market::Availability;

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::market::MarketItem;
use crate::services::Services;

/// Longest accepted idempotency key (the API's `Idempotency-Key` header,
/// the use form's hidden field).
pub const MAX_KEY_LEN: usize = 128;

/// What a run produced, for the API and the web page alike.
pub struct Invoked {
    pub invocation_id: i64,
    pub version_id: i64,
    pub order_id: i64,
    pub verdict: Verdict,
    /// The app's answer; `None` when it failed (see `verdict`).
    pub output: Option<Value>,
    pub latency_us: u64,
}

/// The input failed the schema: one message per offending path
/// (`/a/b`, or empty for the whole value).
#[derive(Debug)]
pub struct InputErrors(pub Vec<(String, String)>);

/// Why an invocation did not run: the input, which a form shows beside
/// each of its fields, or anything else.
#[derive(Debug)]
pub enum InvokeError {
    Service(ServiceError),
    Input(InputErrors),
}

impl From<ServiceError> for InvokeError {
    fn from(e: ServiceError) -> Self {
        InvokeError::Service(e)
    }
}

impl From<store::StoreError> for InvokeError {
    fn from(e: store::StoreError) -> Self {
        InvokeError::Service(e.into())
    }
}

/// The first input error as a field error (`input.a.b`), for callers that
/// show one.
impl From<InvokeError> for ServiceError {
    fn from(e: InvokeError) -> Self {
        match e {
            InvokeError::Service(e) => e,
            InvokeError::Input(InputErrors(errors)) => {
                let (path, detail) = errors.into_iter().next().unwrap_or_default();
                let field = if path.is_empty() {
                    "input".to_owned()
                } else {
                    format!("input{}", path.replace('/', "."))
                };
                ServiceError::invalid(field, Msg::new("err.invoke.input").arg("detail", detail))
            }
        }
    }
}

/// A listed app's published version, order and dataset stamps; or why it
/// cannot be used.
fn listed(a: Availability) -> ServiceResult<(i64, i64, Vec<store::market::DatasetStamp>)> {
    match a {
        Availability::Listed {
            version_id,
            order_id,
            datasets,
        } => Ok((version_id, order_id, datasets)),
        Availability::NoSuchApp => Err(ServiceError::NotFound(Thing::App)),
        Availability::Suspended => Err(ServiceError::conflict(
            "app_suspended",
            Msg::new("err.invoke.app_suspended"),
        )),
        Availability::NotPublished => Err(ServiceError::conflict(
            "app_not_published",
            Msg::new("err.invoke.app_not_published"),
        )),
    }
}

/// An app a citizen may use now, with its listing and its order's
/// contract (for drawing the input form): `NotFound`, or a conflict
/// `app_suspended` / `app_not_published`.
pub async fn usable(
    services: &Services,
    app_id: i64,
) -> ServiceResult<(MarketItem, sandbox::Contract)> {
    let (_, order_id, _) = listed(store::market::availability(services.db.conn(), app_id).await?)?;
    let app = crate::market::listing(services, app_id).await?;
    let contract = crate::appdata::contract_for_order(&services.db, order_id).await?;
    Ok((app, contract))
}

/// Checks that `app_id` can be used, validates `input`, runs the app for
/// the citizen `actor` and records the usage event.
pub async fn run_for_citizen(
    services: &Services,
    actor: &Actor,
    app_id: i64,
    input: Value,
    idempotency_key: Option<String>,
) -> Result<Invoked, InvokeError> {
    let citizen = actor.require(&[Role::Citizen])?;
    let (version_id, order_id, stamps) =
        listed(services.availability.get(&services.db, app_id).await?)?;
    let prepared = crate::appdata::prepared_version(services, version_id, order_id).await?;
    let (contract, schemas) = (&prepared.contract, &prepared.schemas);
    if let Err(errors) = check_input(schemas, &input) {
        return Err(InvokeError::Input(errors));
    }
    let sha256 = prepared.sha256.clone();
    let replay_datasets = stamps.clone();
    let data = crate::appdata::datasets_from_stamps(
        &services.db,
        &services.datasets,
        order_id,
        contract,
        stamps,
    )
    .await?;

    let now = Utc::now();
    let tz = services.config.timezone;
    let local = now.with_timezone(&tz);
    let request = sandbox::RunRequest {
        input,
        context: sandbox::RunContext {
            subject: subject_for_app(services, app_id, citizen.id),
            locale: "zh-CN".into(),
            now: local.to_rfc3339(),
        },
        // Varies per request; a retry may see other random numbers, which
        // apps must not depend on for their answer anyway.
        seed: now.timestamp_micros() as u64 ^ (citizen.id as u64).rotate_left(32),
        // The host maps the pseudonym back to the ID number for `subject`
        // datasets; the app never sees it.
        identity: citizen.id_number.clone(),
    };
    let mut replay = crate::replay::ReplayRecord {
        input: request.input.clone(),
        seed: request.seed,
        now: request.context.now.clone(),
        locale: request.context.locale.clone(),
        datasets: replay_datasets,
        output: None,
    };
    let started = std::time::Instant::now();
    let mut outcome = services
        .sandbox
        .run_async(sha256, request, data, contract.limits.clone())
        .await;
    schemas.judge_output(&mut outcome);
    replay.output = outcome.output.clone();
    let replay = crate::replay::seal(
        &services.replay_key,
        &crate::replay::Binding {
            app_id,
            version_id,
            citizen_id: citizen.id,
        },
        &replay,
    )?;
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    if outcome.verdict != Verdict::Accepted {
        tracing::info!(app_id, version_id, verdict = %outcome.verdict,
            detail = outcome.detail.as_deref().unwrap_or(""), "invocation failed");
    }
    let period = domain::Period::containing(&now, tz)
        .map_err(ServiceError::internal)?
        .to_string();
    let queries = std::mem::take(&mut outcome.queries)
        .into_iter()
        .map(|q| store::usage::DataQuery {
            refused: q.status == sandbox::QueryStatus::Refused,
            dataset: q.dataset,
            key: q.key,
            code: q.code,
        })
        .collect();
    let recorded = services
        .usage
        .record(store::usage::UsageEvent {
            invocation: store::usage::NewInvocation {
                app_id,
                version_id,
                citizen_id: citizen.id,
                occurred_at: now,
                period,
                verdict: outcome.verdict.as_str().to_owned(),
                success: outcome.verdict == Verdict::Accepted,
                instructions: i64::try_from(outcome.instructions).unwrap_or(i64::MAX),
                latency_us: i64::try_from(latency_us).unwrap_or(i64::MAX),
                idempotency_key,
            },
            queries,
            replay: Some(replay),
        })
        .await?;
    Ok(Invoked {
        invocation_id: recorded.id(),
        version_id,
        order_id,
        verdict: outcome.verdict,
        output: outcome
            .output
            .filter(|_| outcome.verdict == Verdict::Accepted),
        latency_us,
    })
}

/// What app `app_id` sees as `context.subject` for citizen `citizen_id`: a
/// keyed hash of the platform's subject key, the app and the citizen. The
/// same app always sees the same token; two apps cannot link theirs without
/// the key; it is never the ID number.
pub fn subject_for_app(services: &Services, app_id: i64, citizen_id: i64) -> String {
    sandbox::pseudonym(
        &services.subject_key,
        &format!("app:{app_id}"),
        &format!("citizen:{citizen_id}"),
    )
}

/// The schema's complaints, by JSON pointer of the offending value.
pub fn check_input(schemas: &sandbox::ContractSchemas, input: &Value) -> Result<(), InputErrors> {
    schemas.check_input(input).map_err(|errors| {
        InputErrors(
            errors
                .into_iter()
                .map(|e| match e.split_once(": ") {
                    Some((path, msg)) if path.starts_with('/') => (path.to_owned(), msg.to_owned()),
                    _ => (String::new(), e),
                })
                .collect(),
        )
    })
}

/// A usable idempotency key: 1–[`MAX_KEY_LEN`] visible ASCII characters
/// after trimming.
pub fn idempotency_key(raw: &str) -> Option<&str> {
    let k = raw.trim();
    (!k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic()))
        .then_some(k)
}
