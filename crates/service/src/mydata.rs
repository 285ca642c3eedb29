//! "My data" (我的数据): every data access an app made on the signed-in
//! citizen's behalf: when, which app, the verdict, and each dataset and
//! record read or refused. Keys are what the log holds: the citizen's own
//! per-app subject token, an input key the citizen typed, or `[redacted]`
//! for a refused key the app chose (which may be someone else's identity).

use chrono::{DateTime, Utc};
use domain::{Role, Verdict};
use serde::Serialize;
use utoipa::ToSchema;

use crate::actor::Actor;
use crate::error::ServiceResult;
use crate::services::Services;

/// The most invocations one listing holds (newest first).
pub const MAX_INVOCATIONS: u64 = 500;

/// How one query ended, as a citizen reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessOutcome {
    /// The record was read.
    Read,
    /// There was no such record.
    NotFound,
    /// The contract's access rule refused it.
    Refused,
    /// Not granted, malformed, or over the quota: nothing was read.
    Failed,
}

impl AccessOutcome {
    fn of(code: i32, refused: bool) -> Self {
        match sandbox::QueryStatus::of_code(code) {
            _ if refused => Self::Refused,
            sandbox::QueryStatus::Found | sandbox::QueryStatus::BufferTooSmall => Self::Read,
            sandbox::QueryStatus::NotFound => Self::NotFound,
            sandbox::QueryStatus::Refused => Self::Refused,
            _ => Self::Failed,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::NotFound => "not_found",
            Self::Refused => "refused",
            Self::Failed => "failed",
        }
    }
}

/// One `gov.query` of an invocation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DataAccess {
    pub dataset: String,
    /// The record's key as logged (a subject token, an input key, or `[redacted]`).
    pub record: String,
    pub outcome: AccessOutcome,
}

/// One invocation made for the citizen.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvocationData {
    pub invocation_id: i64,
    pub occurred_at: DateTime<Utc>,
    pub app_id: i64,
    pub app_name: String,
    #[schema(value_type = String, example = "accepted")]
    pub verdict: Verdict,
    pub accesses: Vec<DataAccess>,
}

/// The signed-in citizen's data accesses, newest invocation first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyData {
    pub invocations: Vec<InvocationData>,
}

/// The data accesses made on behalf of the citizen `actor` (citizens only).
pub async fn my_data(services: &Services, actor: &Actor) -> ServiceResult<MyData> {
    let citizen = actor.require(&[Role::Citizen])?;
    let rows =
        store::data_access::for_citizen(services.db.conn(), citizen.id, MAX_INVOCATIONS).await?;
    let invocations = rows
        .into_iter()
        .map(|row| InvocationData {
            invocation_id: row.invocation.id,
            occurred_at: row.invocation.occurred_at,
            app_id: row.invocation.app_id,
            app_name: row.app_name,
            verdict: row
                .invocation
                .verdict
                .parse()
                .unwrap_or(Verdict::InternalError),
            accesses: row
                .queries
                .into_iter()
                .map(|q| DataAccess {
                    outcome: AccessOutcome::of(q.code, q.refused),
                    dataset: q.dataset,
                    record: q.record_key,
                })
                .collect(),
        })
        .collect();
    Ok(MyData { invocations })
}

/// One dataset an app may read, as its order's contract grants it: what a
/// citizen is told before using the app.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasetRead {
    pub dataset: String,
    /// `subject` (only your own record), `input` (the record of a key you
    /// enter, with `owned` when it must name you) or `reference`.
    pub access: String,
    /// The record must name the citizen as an owner.
    pub owned: bool,
    /// The fields the app is given; `None`: all but identity fields.
    pub fields: Option<Vec<String>>,
}

/// What the apps of order `order_id` may read (public: it is the contract).
pub async fn reads_of_order(services: &Services, order_id: i64) -> ServiceResult<Vec<DatasetRead>> {
    let contract = crate::appdata::contract_for_order(&services.db, order_id).await?;
    Ok(contract
        .datasets
        .into_iter()
        .filter_map(|g| {
            let access = g.access?;
            Some(DatasetRead {
                owned: matches!(&access, sandbox::Access::Input { owner, .. } if !owner.is_empty()),
                access: access.kind().to_owned(),
                dataset: g.name,
                fields: g.fields,
            })
        })
        .collect())
}

/// A supervisor's evidence on one app's data accesses: counts by dataset
/// and the latest refused queries (keys are subject tokens, input keys or
/// `[redacted]`; never an ID number).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppEvidence {
    pub app_id: i64,
    pub datasets: Vec<DatasetCounts>,
    pub refused: Vec<RefusedQuery>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DatasetCounts {
    pub dataset: String,
    pub queries: i64,
    pub refused: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RefusedQuery {
    pub invocation_id: i64,
    pub dataset: String,
    pub record: String,
}

/// Refused queries listed in [`AppEvidence`] at most.
pub const MAX_REFUSED_LISTED: u64 = 200;

/// App `app_id`'s data access evidence (supervisors and admins).
pub async fn app_evidence(
    services: &Services,
    actor: &Actor,
    app_id: i64,
) -> ServiceResult<AppEvidence> {
    actor.require(&[Role::Supervisor, Role::Admin])?;
    let conn = services.db.conn();
    store::apps::get(conn, app_id)
        .await?
        .ok_or(crate::error::ServiceError::NotFound(
            crate::error::Thing::App,
        ))?;
    let datasets = store::data_access::counts_for_app(conn, app_id)
        .await?
        .into_iter()
        .map(|c| DatasetCounts {
            dataset: c.dataset,
            queries: c.queries,
            refused: c.refused,
        })
        .collect();
    let refused = store::data_access::refused_for_app(conn, app_id, MAX_REFUSED_LISTED)
        .await?
        .into_iter()
        .map(|q| RefusedQuery {
            invocation_id: q.invocation_id,
            dataset: q.dataset,
            record: q.record_key,
        })
        .collect();
    Ok(AppEvidence {
        app_id,
        datasets,
        refused,
    })
}

/// `data` as CSV: one line per access (an invocation without any, one line
/// with empty dataset fields), with a header line.
pub fn to_csv(data: &MyData) -> String {
    fn field(s: &str) -> String {
        // Quote always; a leading formula character is defused for spreadsheets.
        let s = if s.starts_with(['=', '+', '-', '@']) {
            format!("'{s}")
        } else {
            s.to_owned()
        };
        format!("\"{}\"", s.replace('"', "\"\""))
    }
    let mut out = String::from(
        "invocation_id,occurred_at,app_id,app_name,verdict,dataset,record,outcome\r\n",
    );
    for inv in &data.invocations {
        let head = format!(
            "{},{},{},{},{}",
            inv.invocation_id,
            inv.occurred_at.to_rfc3339(),
            inv.app_id,
            field(&inv.app_name),
            inv.verdict.as_str()
        );
        if inv.accesses.is_empty() {
            out.push_str(&format!("{head},,,\r\n"));
        }
        for a in &inv.accesses {
            out.push_str(&format!(
                "{head},{},{},{}\r\n",
                field(&a.dataset),
                field(&a.record),
                a.outcome.as_str()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_fields_and_defuses_formulas() {
        let data = MyData {
            invocations: vec![InvocationData {
                invocation_id: 7,
                occurred_at: DateTime::from_timestamp(0, 0).unwrap(),
                app_id: 3,
                app_name: "=HYPERLINK(\"x\")".into(),
                verdict: Verdict::Accepted,
                accesses: vec![DataAccess {
                    dataset: "si".into(),
                    record: "[redacted]".into(),
                    outcome: AccessOutcome::Refused,
                }],
            }],
        };
        let csv = to_csv(&data);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(
            lines[1],
            "7,1970-01-01T00:00:00+00:00,3,\"'=HYPERLINK(\"\"x\"\")\",accepted,\"si\",\"[redacted]\",refused"
        );
    }
}
