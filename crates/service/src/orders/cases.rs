//! An order's test suite: a draft's is replaced as a whole, an open order's
//! only grows (and each addition re-tests every passed and published version); ISVs
//! see the sample cases, the department every case. An addition re-tests
//! the `passed` versions too, and bumps the suite's revision, which a
//! version must have passed to be published.

use std::collections::{BTreeMap, HashSet};

use domain::{OrderStatus, Role};
use sandbox::{Expect, TestCase, Visibility};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::entity::orders;
use utoipa::ToSchema;

use super::{owned_order, owns, status_of, visible_order};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// Most cases one suite may hold.
pub const MAX_CASES: usize = 5_000;
/// Largest test-suite upload, in bytes of JSON.
pub const MAX_SUITE_BYTES: usize = 8 << 20;
/// Largest weight of a case.
const MAX_WEIGHT: u32 = 1_000;

/// A case as authored (the suite file's format).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    pub id: String,
    #[serde(default)]
    pub description: String,
    #[schema(value_type = Object)]
    pub input: Value,
    pub subject: Option<String>,
    /// `{"kind": "equals"|"contains", "value": …}` or `{"kind": "schema"}`.
    #[schema(value_type = Object)]
    pub expect: Expect,
    /// `sample` or `hidden`.
    #[schema(value_type = String)]
    pub visibility: Visibility,
    #[serde(default = "one")]
    pub weight: u32,
    /// The rule of the order's rules document the case checks, in a few
    /// words; vendors see it beside the verdict, hidden cases too, so it
    /// names the rule, never the case's data.
    #[serde(default)]
    pub rule: Option<String>,
}

/// Longest rule label of a case, in characters.
pub const MAX_RULE_CHARS: usize = 80;

fn one() -> u32 {
    1
}

impl From<TestCase> for CaseInput {
    fn from(c: TestCase) -> Self {
        CaseInput {
            id: c.id,
            description: c.description,
            input: c.input,
            subject: c.subject,
            expect: c.expect,
            visibility: c.visibility,
            weight: c.weight,
            rule: c.rule,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuiteInput {
    pub cases: Vec<CaseInput>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuiteView {
    pub order_id: i64,
    /// Cases this caller may see (ISVs: sample cases only).
    #[schema(value_type = Vec<Object>)]
    pub cases: Vec<TestCase>,
    pub sample_cases: usize,
    pub hidden_cases: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SuitePut {
    pub order_id: i64,
    pub cases: usize,
    pub added: usize,
    /// Passed and published versions queued for a regression run (a
    /// version whose run is in flight runs again instead).
    pub regression_runs: usize,
}

fn same_case(stored: &TestCase, new: &CaseInput) -> bool {
    stored.description == new.description
        && stored.input == new.input
        && stored.subject == new.subject
        && stored.expect == new.expect
        && stored.visibility == new.visibility
        && stored.weight == new.weight
        && stored.rule.as_deref() == new.rule.as_deref().map(str::trim)
}

/// Checks every case against the contract before anything is written.
fn check_cases(order: &orders::Model, cases: &[CaseInput]) -> ServiceResult<()> {
    let contract = crate::appdata::contract_of(order)?;
    let schemas = contract.schemas().map_err(ServiceError::internal)?;
    let mut ids = HashSet::new();
    for (i, c) in cases.iter().enumerate() {
        let field = |x: &str| format!("cases[{i}].{x}");
        let id_ok = !c.id.is_empty()
            && c.id.len() <= 64
            && c.id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !id_ok {
            return Err(ServiceError::invalid(
                field("id"),
                Msg::new("err.order.case_id_format"),
            ));
        }
        if !ids.insert(c.id.as_str()) {
            return Err(ServiceError::invalid(
                field("id"),
                Msg::new("err.order.case_id_twice").arg("id", &c.id),
            ));
        }
        if !(1..=MAX_WEIGHT).contains(&c.weight) {
            return Err(ServiceError::invalid(
                field("weight"),
                Msg::new("err.order.case_weight").arg("max", MAX_WEIGHT),
            ));
        }
        if let Some(rule) = &c.rule
            && (rule.trim().is_empty() || rule.chars().count() > MAX_RULE_CHARS)
        {
            return Err(ServiceError::invalid(
                field("rule"),
                Msg::new("err.order.case_rule_length").arg("max", MAX_RULE_CHARS),
            ));
        }
        if let Err(errors) = schemas.check_input(&c.input) {
            return Err(ServiceError::invalid(
                field("input"),
                Msg::new("err.order.case_input_schema")
                    .arg("id", &c.id)
                    .arg("detail", errors.join("; ")),
            ));
        }
        if let Expect::Equals { value } = &c.expect
            && let Err(errors) = schemas.check_output(value)
        {
            return Err(ServiceError::invalid(
                field("expect"),
                Msg::new("err.order.case_output_schema")
                    .arg("id", &c.id)
                    .arg("detail", errors.join("; ")),
            ));
        }
    }
    Ok(())
}

/// The order's department replaces a draft's suite, or adds cases to an
/// open order's suite (which re-tests every published version).
pub async fn put_suite(
    services: &Services,
    actor: &Actor,
    id: i64,
    req: SuiteInput,
) -> ServiceResult<SuitePut> {
    actor.require(&[Role::Department])?;
    if req.cases.len() > MAX_CASES {
        return Err(ServiceError::TooLarge(
            Msg::new("err.order.too_many_cases").arg("max", MAX_CASES),
        ));
    }
    // Validate everything before writing anything.
    let order = store::orders::get(services.db.conn(), id)
        .await?
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    check_cases(&order, &req.cases)?;

    let txn = services.db.begin_write().await?;
    let order = owned_order(&txn, actor, id).await?;
    let status = status_of(&order)?;
    let existing: Vec<TestCase> = store::orders::cases(&txn, id)
        .await?
        .iter()
        .map(crate::appdata::case_of)
        .collect::<Result<_, _>>()?;
    let to_insert: Vec<&CaseInput> = match status {
        OrderStatus::Draft => {
            store::orders::delete_cases(&txn, id).await?;
            req.cases.iter().collect()
        }
        OrderStatus::Open => {
            let by_id: BTreeMap<&str, &CaseInput> =
                req.cases.iter().map(|c| (c.id.as_str(), c)).collect();
            for old in &existing {
                match by_id.get(old.id.as_str()) {
                    Some(new) if same_case(old, new) => {}
                    _ => {
                        return Err(ServiceError::conflict(
                            "suite_frozen",
                            Msg::new("err.order.suite_frozen").arg("id", &old.id),
                        ));
                    }
                }
            }
            let old_ids: HashSet<&str> = existing.iter().map(|c| c.id.as_str()).collect();
            req.cases
                .iter()
                .filter(|c| !old_ids.contains(c.id.as_str()))
                .collect()
        }
        OrderStatus::Closed | OrderStatus::Cancelled => {
            return Err(ServiceError::conflict(
                "order_not_editable",
                Msg::new("err.order.not_editable"),
            ));
        }
    };
    let added = to_insert.len();
    let rows = to_insert
        .into_iter()
        .map(|c| {
            Ok(store::orders::NewCase {
                case_id: c.id.clone(),
                description: c.description.clone(),
                input: c.input.clone(),
                subject: c.subject.clone(),
                expect: serde_json::to_value(&c.expect).map_err(ServiceError::internal)?,
                visibility: match c.visibility {
                    Visibility::Sample => "sample".into(),
                    Visibility::Hidden => "hidden".into(),
                },
                weight: i32::try_from(c.weight).map_err(ServiceError::internal)?,
                rule: c.rule.as_ref().map(|r| r.trim().to_owned()),
            })
        })
        .collect::<ServiceResult<Vec<_>>>()?;
    store::orders::insert_cases(&txn, id, rows).await?;
    let total = if status == OrderStatus::Draft {
        req.cases.len()
    } else {
        existing.len() + added
    };
    let regression_runs = if status == OrderStatus::Open && added > 0 {
        super::retest_after_suite_change(&txn, id).await?
    } else {
        0
    };
    store::audit::append(
        &txn,
        actor.audit(
            "test_suite.put",
            "order",
            id,
            format!(
                "测试集共 {total} 个用例（新增 {added} 个），回归测试 {regression_runs} 个已通过或已发布的版本"
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    if regression_runs > 0 {
        services.jobs.queued();
    }
    Ok(SuitePut {
        order_id: id,
        cases: total,
        added,
        regression_runs,
    })
}

/// The suite as this actor may see it: the order's department, supervisors
/// and admins see everything; others see the sample cases of a published
/// order.
pub async fn suite_for(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(orders::Model, SuiteView)> {
    let order = visible_order(services, actor, id).await?;
    let all = owns(actor, &order) || matches!(actor.role(), Some(Role::Supervisor | Role::Admin));
    let cases: Vec<TestCase> = store::orders::cases(services.db.conn(), id)
        .await?
        .iter()
        .map(crate::appdata::case_of)
        .collect::<Result<_, _>>()?;
    let sample_cases = cases
        .iter()
        .filter(|c| c.visibility == Visibility::Sample)
        .count();
    let hidden_cases = cases.len() - sample_cases;
    let cases = if all {
        cases
    } else {
        cases
            .into_iter()
            .filter(|c| c.visibility == Visibility::Sample)
            .collect()
    };
    Ok((
        order,
        SuiteView {
            order_id: id,
            cases,
            sample_cases,
            hidden_cases,
        },
    ))
}
