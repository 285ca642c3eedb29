//! Finance's draft of a period: the request parsed, the parameters
//! validated once, the period's run read once, the lines computed and
//! stored (an existing draft is recomputed in place).

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::{Period, Role, SettlementParams, SettlementStatus};
use serde::Deserialize;
use store::settlements::{self as st, RunRow, SettleError};
use utoipa::ToSchema;

use super::views::RunRecords;
use super::{audited_by, compute, settlement_opens_at};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

/// What finance asks for: a period and the formula's parameters.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRunRequest {
    /// e.g. `2026Q3`.
    pub period: String,
    /// Formula parameters; missing ones take the defaults
    /// (`c`, `m`, `r_min`, `cap_share`, `reward_pool_fen`,
    /// `reward_split_percent`, `time_zone`).
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
}

/// Parses the request's period and parameters (the time zone defaults to
/// the platform's). Only parses: [`draft`] validates the parameters.
pub fn parse_request(
    period: &str,
    params: Option<serde_json::Value>,
    default_tz: chrono_tz::Tz,
) -> ServiceResult<(Period, SettlementParams)> {
    let period =
        Period::parse(period).map_err(|e| ServiceError::invalid("period", Msg::domain(&e)))?;
    let mut params = params.unwrap_or_else(|| serde_json::json!({}));
    let Some(obj) = params.as_object_mut() else {
        return Err(ServiceError::invalid(
            "params",
            Msg::new("err.settle.params_not_object"),
        ));
    };
    obj.entry("time_zone")
        .or_insert_with(|| serde_json::Value::String(default_tz.name().to_owned()));
    let params: SettlementParams = serde_json::from_value(params).map_err(|e| {
        ServiceError::invalid(
            "params",
            Msg::new("err.settle.params_invalid").arg("detail", e),
        )
    })?;
    Ok((period, params))
}

/// Finance drafts a period from a request, and reads back what was stored.
pub async fn create_draft(
    services: &Services,
    actor: &Actor,
    req: CreateRunRequest,
) -> ServiceResult<RunRecords> {
    actor.require(&[Role::Finance])?;
    let (period, params) = parse_request(&req.period, req.params, services.config.timezone)?;
    let run = draft(
        &services.db,
        period,
        &params,
        services.config.settlement_grace,
        Utc::now(),
        actor,
    )
    .await?;
    RunRecords::of(services.db.conn(), run).await
}

/// Computes and stores the period's draft (recomputing an existing draft
/// in place). Refused before the period has ended plus the grace time,
/// and once the period's run is approved. The parameters are validated
/// here, once; the period's run is read here, once, and handed to the
/// computation and the store.
pub async fn draft(
    db: &store::Db,
    period: Period,
    params: &SettlementParams,
    grace: Duration,
    now: DateTime<Utc>,
    actor: &Actor,
) -> ServiceResult<RunRow> {
    actor.require(&[Role::Finance])?;
    params.validate()?;
    let opens_at = settlement_opens_at(period, params, grace)?;
    if now < opens_at {
        return Err(ServiceError::unprocessable(
            "period_not_ended",
            Msg::new("err.settle.period_not_ended")
                .arg("period", period)
                .arg("opens_at", opens_at.to_rfc3339()),
        ));
    }
    let existing = st::find_run_by_period(db.conn(), period).await?;
    if let Some(run) = &existing
        && !run.is(SettlementStatus::Draft)
    {
        return Err(SettleError::AlreadySettled(period.to_string()).into());
    }
    let computed = compute(db.conn(), period, params, existing.as_ref().map(|r| r.id)).await?;
    Ok(st::save_draft(
        db,
        existing,
        computed.run,
        computed.lines,
        &audited_by(actor),
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_parsed_with_the_platform_time_zone_and_validated_by_the_draft() {
        let tz = chrono_tz::Asia::Shanghai;
        let (period, params) = parse_request("2026Q3", None, tz).unwrap();
        assert_eq!(period.to_string(), "2026Q3");
        assert_eq!(params.time_zone, "Asia/Shanghai");
        // Parsing does not validate: a negative pool parses, and the draft
        // (which validates once) refuses it.
        let (_, bad) = parse_request(
            "2026Q3",
            Some(serde_json::json!({"reward_pool_fen": -1})),
            tz,
        )
        .unwrap();
        assert!(bad.validate().is_err());
    }

    #[test]
    fn a_bad_request_names_its_field() {
        let tz = chrono_tz::Asia::Shanghai;
        let field = |p: &str, v: Option<serde_json::Value>| {
            parse_request(p, v, tz)
                .unwrap_err()
                .field()
                .map(str::to_owned)
        };
        assert_eq!(field("Q3-2026", None).as_deref(), Some("period"));
        assert_eq!(
            field("2026Q3", Some(serde_json::json!([1]))).as_deref(),
            Some("params")
        );
        assert_eq!(
            field("2026Q3", Some(serde_json::json!({"reward_pool_fen": 10.5}))).as_deref(),
            Some("params")
        );
    }
}
