//! Test cases as an order defines them: input, expectation, visibility, weight.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bytes of stdout/stderr kept per case in a report: enough to debug a sample case, small
/// enough that a report of a few hundred cases stays a normal database row.
pub const REPORT_LOG_BYTES: usize = 4096;

/// The share of hidden cases (by weight) a version must pass when the contract names none.
pub const DEFAULT_THRESHOLD_PERCENT: u8 = 100;

/// Whether the ISV sees a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Published to ISVs with its input and expectation.
    Sample,
    /// Known only to the department; ISVs see its id, verdict and rule label.
    Hidden,
}

/// What a case expects of the app's output (which must match the output schema in any case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expect {
    /// The output equals `value` (numbers compare by value: `1` equals `1.0`).
    Equals {
        /// The expected output.
        value: Value,
    },
    /// The output contains `value`: every key of an expected object is present with a
    /// containing value; arrays have the same length and contain element by element; other
    /// values are equal.
    Contains {
        /// The expected part of the output.
        value: Value,
    },
    /// Only the output schema is checked.
    Schema,
}

/// One test case of an order's suite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// Unique within the suite.
    pub id: String,
    /// What the case checks, in words.
    #[serde(default)]
    pub description: String,
    /// The `input` sent to the app.
    #[serde(default = "empty_object")]
    pub input: Value,
    /// The mock person the case is about: their key in the datasets (for the example service,
    /// a resident ID number). The app sees their suite pseudonym as `context.subject`
    /// ([`crate::suite_pseudonym`]), the same on the platform and in `govmarket app test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The expectation.
    pub expect: Expect,
    /// Sample or hidden; hidden when absent, so an unmarked case never leaks.
    #[serde(default = "hidden")]
    pub visibility: Visibility,
    /// Weight in the hidden-case threshold and the score.
    #[serde(default = "one")]
    pub weight: u32,
    /// The rule of the order's rules document this case checks, in a few words
    /// ("拒绝他人申请：列出查封与抵押"). Vendors see it beside the verdict of every case,
    /// hidden ones too, so it must name the rule, never the case's data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
}

pub(super) fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

pub(super) fn hidden() -> Visibility {
    Visibility::Hidden
}

pub(super) fn one() -> u32 {
    1
}

pub(super) fn default_threshold() -> u8 {
    DEFAULT_THRESHOLD_PERCENT
}
