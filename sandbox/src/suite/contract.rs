//! An order's contract (schemas, data permissions, limits, pass threshold) and the
//! checks of an app's output against it: schema validity and JSON equality/containment.

use domain::Verdict;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::case::*;
use crate::access::DatasetGrant;
use crate::limits::Limits;
use crate::runtime::RunOutcome;

/// An order's contract: schemas, data permissions, limits and the pass threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contract {
    /// JSON Schema of `input`.
    pub input_schema: Value,
    /// JSON Schema of the app's output.
    pub output_schema: Value,
    /// Datasets apps may query, each with its access rule (`NAME: RULE`, see
    /// [`crate::access`]).
    #[serde(default)]
    pub datasets: Vec<DatasetGrant>,
    /// Resource limits (absent fields take the platform defaults).
    #[serde(default)]
    pub limits: Limits,
    /// Share of hidden cases, by weight, that must be accepted (0-100).
    #[serde(default = "default_threshold", alias = "threshold")]
    pub threshold_percent: u8,
}

/// A contract that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    /// A schema is not a valid JSON Schema.
    #[error("the {which} schema is invalid: {reason}")]
    Schema {
        /// `input` or `output`.
        which: &'static str,
        /// The validator's message.
        reason: String,
    },
    /// The threshold is over 100.
    #[error("threshold_percent {0} is over 100")]
    Threshold(u8),
    /// A granted dataset has no access rule.
    #[error("datasets[{index}]: dataset `{name}` has no access rule")]
    NoAccessRule {
        /// Its position in `datasets`.
        index: usize,
        /// Its name.
        name: String,
    },
}

/// A contract's schemas, compiled once and reused for every case or invocation.
pub struct ContractSchemas {
    input: jsonschema::Validator,
    output: jsonschema::Validator,
}

impl std::fmt::Debug for ContractSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContractSchemas")
    }
}

fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Result<(), Vec<String>> {
    let errors: Vec<String> = validator
        .iter_errors(value)
        .take(10)
        .map(|e| {
            let path = e.instance_path().to_string();
            if path.is_empty() {
                e.to_string()
            } else {
                format!("{path}: {e}")
            }
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

impl ContractSchemas {
    /// Check a citizen's (or a case's) input; the errors name the offending paths.
    pub fn check_input(&self, input: &Value) -> Result<(), Vec<String>> {
        schema_errors(&self.input, input)
    }

    /// Check an app's output; the errors name the offending paths.
    pub fn check_output(&self, output: &Value) -> Result<(), Vec<String>> {
        schema_errors(&self.output, output)
    }

    /// Downgrade an accepted run whose output breaks the output schema to `invalid_output`,
    /// as the platform does for every invocation.
    pub fn judge_output(&self, outcome: &mut RunOutcome) {
        if outcome.verdict != Verdict::Accepted {
            return;
        }
        let Some(output) = &outcome.output else {
            return;
        };
        if let Err(errors) = self.check_output(output) {
            outcome.verdict = Verdict::InvalidOutput;
            outcome.detail = Some(format!(
                "output does not match the output schema: {}",
                errors.join("; ")
            ));
        }
    }
}

impl Contract {
    /// The names of the granted datasets.
    pub fn dataset_names(&self) -> impl Iterator<Item = &str> {
        self.datasets.iter().map(|g| g.name.as_str())
    }

    /// Compile the schemas.
    pub fn schemas(&self) -> Result<ContractSchemas, ContractError> {
        if self.threshold_percent > 100 {
            return Err(ContractError::Threshold(self.threshold_percent));
        }
        if let Some((index, g)) = self
            .datasets
            .iter()
            .enumerate()
            .find(|(_, g)| g.access.is_none())
        {
            return Err(ContractError::NoAccessRule {
                index,
                name: g.name.clone(),
            });
        }
        let compile = |which, schema: &Value| {
            jsonschema::validator_for(schema).map_err(|e| ContractError::Schema {
                which,
                reason: e.to_string(),
            })
        };
        Ok(ContractSchemas {
            input: compile("input", &self.input_schema)?,
            output: compile("output", &self.output_schema)?,
        })
    }
}

/// Numbers compare by value, containers structurally.
pub fn json_equal(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Number(a), Value::Number(e)) => match (a.as_i64(), e.as_i64()) {
            (Some(a), Some(e)) => a == e,
            _ => match (a.as_u64(), e.as_u64()) {
                (Some(a), Some(e)) => a == e,
                _ => a.as_f64() == e.as_f64(),
            },
        },
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| json_equal(a, e))
        }
        (Value::Object(a), Value::Object(e)) => {
            a.len() == e.len()
                && e.iter()
                    .all(|(k, ev)| a.get(k).is_some_and(|av| json_equal(av, ev)))
        }
        _ => actual == expected,
    }
}

/// Whether `actual` contains `expected` in the sense of [`Expect::Contains`].
pub fn json_contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| json_contains(av, ev))),
        (Value::Array(a), Value::Array(e)) => {
            a.len() == e.len() && a.iter().zip(e).all(|(a, e)| json_contains(a, e))
        }
        _ => json_equal(actual, expected),
    }
}
