//! The demo services. Each module builds its dataset from the shared
//! population, states its rule once as a Rust reference implementation,
//! and derives every case's expected output from that implementation.

pub mod housing_fund;
pub mod property;
pub mod social_insurance;
pub mod traffic;

use serde_json::Value;

use crate::{Expect, TestCase, Visibility};

/// A calendar month as a count of months since year 0, so that month
/// arithmetic is integer arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(pub i32);

impl Month {
    pub fn new(year: i32, month: u32) -> Month {
        Month(year * 12 + month as i32 - 1)
    }

    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Month> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let (y, m): (i32, u32) = (y.parse().ok()?, m.parse().ok()?);
        (1..=12).contains(&m).then(|| Month::new(y, m))
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1..=12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    pub fn plus(self, months: i32) -> Month {
        Month(self.0 + months)
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

/// Collects cases, numbering them `PREFIX-01`, … and making the first
/// `samples` of them sample cases; the rest are hidden.
pub struct CaseList {
    prefix: &'static str,
    samples: usize,
    cases: Vec<TestCase>,
    rule_of: fn(&Value, &Value) -> String,
}

impl CaseList {
    /// `rule_of(input, expected)` names the rule a case checks, from the
    /// branch of the reference rule its expected output took.
    pub fn new(
        prefix: &'static str,
        samples: usize,
        rule_of: fn(&Value, &Value) -> String,
    ) -> CaseList {
        CaseList {
            prefix,
            samples,
            cases: Vec::new(),
            rule_of,
        }
    }

    pub fn push(
        &mut self,
        description: String,
        input: Value,
        subject: Option<String>,
        expected: Value,
    ) {
        let n = self.cases.len();
        let rule = Some((self.rule_of)(&input, &expected));
        self.cases.push(TestCase {
            id: format!("{}-{:02}", self.prefix, n + 1),
            description,
            input,
            subject,
            expect: Expect::Equals { value: expected },
            visibility: if n < self.samples {
                Visibility::Sample
            } else {
                Visibility::Hidden
            },
            weight: 1,
            rule,
        });
    }

    pub fn into_cases(self) -> Vec<TestCase> {
        self.cases
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_format_and_parse_across_year_ends() {
        let m = Month::new(2026, 1);
        assert_eq!(m.plus(-1).to_string(), "2025-12");
        assert_eq!(Month::parse("2025-12"), Some(m.plus(-1)));
        assert_eq!(Month::parse("2025-13"), None);
        assert_eq!(Month::parse("2025-1"), None);
    }
}
