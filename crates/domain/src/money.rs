//! Money as integer fen (分, 1/100 yuan). Never a float, anywhere.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::user_facing;

/// An amount of money in fen (1 yuan = 100 fen).
///
/// Serialised as the bare integer number of fen (the API's `*_fen` fields).
/// Arithmetic is checked only: there is no `Add` and no plain `Sum`, so an
/// overflow can never wrap silently into a wrong payment. Sum with
/// [`Fen::checked_sum`] or `iter.sum::<Option<Fen>>()`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Fen(i64);

/// Why a money amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FenError {
    #[error("the amount is empty")]
    Empty,
    #[error("the amount is not a number of yuan such as 1234.56")]
    InvalidFormat,
    #[error("the amount has more than two decimal places")]
    TooManyDecimals,
    #[error("the amount must not be negative")]
    Negative,
    #[error("the amount is too large")]
    Overflow,
}

user_facing!(FenError {
    FenError::Empty => ("amount_empty", "请填写金额"),
    FenError::InvalidFormat => ("amount_invalid", "金额格式不正确，请填写如 1234.56 的元金额"),
    FenError::TooManyDecimals => ("amount_too_many_decimals", "金额最多保留两位小数"),
    FenError::Negative => ("amount_negative", "金额不能为负数"),
    FenError::Overflow => ("amount_too_large", "金额过大"),
});

impl Fen {
    pub const ZERO: Fen = Fen(0);
    /// The largest amount; parsing anything above it is an [`FenError::Overflow`].
    pub const MAX: Fen = Fen(i64::MAX);

    /// An amount of `fen` fen. Every i64 is a valid amount (negative ones
    /// are adjustments and refunds); budgets use [`Fen::parse_non_negative`].
    pub const fn from_fen(fen: i64) -> Fen {
        Fen(fen)
    }

    /// The amount as whole fen.
    pub const fn as_fen(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn checked_add(self, other: Fen) -> Option<Fen> {
        self.0.checked_add(other.0).map(Fen)
    }

    pub fn checked_sub(self, other: Fen) -> Option<Fen> {
        self.0.checked_sub(other.0).map(Fen)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Fen> {
        self.0.checked_mul(factor).map(Fen)
    }

    /// The sum of `amounts`, or `None` on overflow. The only way to sum fen.
    pub fn checked_sum<I: IntoIterator<Item = Fen>>(amounts: I) -> Option<Fen> {
        amounts
            .into_iter()
            .try_fold(Fen::ZERO, |acc, x| acc.checked_add(x))
    }

    /// Parses an amount of yuan: `1234.56`, `1234.5`, `1234`, `-3.20`, and
    /// also the display form `¥1,234.56` so that display round-trips.
    /// At most two decimals; no exponent, no float rounding, ever.
    pub fn parse(s: &str) -> Result<Fen, FenError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(FenError::Empty);
        }
        let (negative, rest) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let rest = rest
            .strip_prefix('¥')
            .or_else(|| rest.strip_prefix('￥'))
            .unwrap_or(rest);
        let (int_part, frac_part) = match rest.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (rest, None),
        };
        let int_digits = strip_thousands_separators(int_part)?;
        if int_digits.is_empty() {
            return Err(FenError::InvalidFormat);
        }
        let mut fen: i64 = 0;
        for b in int_digits.bytes() {
            fen = fen
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(b - b'0')))
                .ok_or(FenError::Overflow)?;
        }
        fen = fen.checked_mul(100).ok_or(FenError::Overflow)?;
        if let Some(frac) = frac_part {
            if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
                return Err(FenError::InvalidFormat);
            }
            if frac.len() > 2 {
                return Err(FenError::TooManyDecimals);
            }
            let mut cents: i64 = 0;
            for b in frac.bytes() {
                cents = cents * 10 + i64::from(b - b'0');
            }
            if frac.len() == 1 {
                cents *= 10;
            }
            fen = fen.checked_add(cents).ok_or(FenError::Overflow)?;
        }
        if negative {
            // The magnitude was accumulated as a positive i64, so i64::MIN
            // itself is out of reach; nobody budgets 92 quadrillion yuan.
            fen = -fen;
        }
        Ok(Fen(fen))
    }

    /// [`Fen::parse`] for budgets and reward pools, which cannot be negative.
    pub fn parse_non_negative(s: &str) -> Result<Fen, FenError> {
        let fen = Fen::parse(s)?;
        if fen.is_negative() {
            return Err(FenError::Negative);
        }
        Ok(fen)
    }

    /// The amount as a plain yuan string, `1234.56` (or `-0.05`), as the
    /// treasury CSV export and form fields want it.
    pub fn to_yuan_string(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// Accepts `1234` or `1,234` (groups of exactly three after the first), and
/// returns the bare digits.
fn strip_thousands_separators(int_part: &str) -> Result<String, FenError> {
    if !int_part.contains(',') {
        return if int_part.bytes().all(|b| b.is_ascii_digit()) {
            Ok(int_part.to_owned())
        } else {
            Err(FenError::InvalidFormat)
        };
    }
    let mut groups = int_part.split(',');
    let first = groups.next().unwrap_or_default();
    if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FenError::InvalidFormat);
    }
    let mut digits = first.to_owned();
    for group in groups {
        if group.len() != 3 || !group.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FenError::InvalidFormat);
        }
        digits.push_str(group);
    }
    Ok(digits)
}

impl fmt::Display for Fen {
    /// `¥1,234.56`, `-¥0.05`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let yuan = (abs / 100).to_string();
        let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
        for (i, c) in yuan.chars().enumerate() {
            if i > 0 && (yuan.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}¥{grouped}.{:02}", abs % 100)
    }
}

impl FromStr for Fen {
    type Err = FenError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fen::parse(s)
    }
}

impl From<Fen> for i64 {
    fn from(f: Fen) -> i64 {
        f.0
    }
}

/// `iter.sum::<Option<Fen>>()`: `None` if the total overflows.
impl Sum<Fen> for Option<Fen> {
    fn sum<I: Iterator<Item = Fen>>(iter: I) -> Option<Fen> {
        Fen::checked_sum(iter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn display_groups_thousands_with_the_yuan_sign() {
        assert_eq!(Fen::from_fen(123_456).to_string(), "¥1,234.56");
        assert_eq!(Fen::from_fen(5).to_string(), "¥0.05");
        assert_eq!(Fen::from_fen(-5).to_string(), "-¥0.05");
        assert_eq!(Fen::from_fen(100_000_000).to_string(), "¥1,000,000.00");
        assert_eq!(Fen::from_fen(12_300).to_string(), "¥123.00");
    }

    #[test]
    fn yuan_string_has_exactly_two_decimals_and_no_grouping() {
        assert_eq!(Fen::from_fen(123_456).to_yuan_string(), "1234.56");
        assert_eq!(Fen::from_fen(-1).to_yuan_string(), "-0.01");
        assert_eq!(Fen::ZERO.to_yuan_string(), "0.00");
    }

    #[test]
    fn yuan_strings_parse_to_exact_fen() {
        assert_eq!(Fen::parse("1234.56"), Ok(Fen::from_fen(123_456)));
        assert_eq!(Fen::parse("1234.5"), Ok(Fen::from_fen(123_450)));
        assert_eq!(Fen::parse("1234"), Ok(Fen::from_fen(123_400)));
        assert_eq!(Fen::parse(" 0.07 "), Ok(Fen::from_fen(7)));
        assert_eq!(Fen::parse("¥1,234.56"), Ok(Fen::from_fen(123_456)));
        assert_eq!(Fen::parse("-3.20"), Ok(Fen::from_fen(-320)));
    }

    #[test]
    fn malformed_amounts_are_refused_with_a_reason() {
        assert_eq!(Fen::parse(""), Err(FenError::Empty));
        assert_eq!(Fen::parse("1.234"), Err(FenError::TooManyDecimals));
        assert_eq!(Fen::parse("1e3"), Err(FenError::InvalidFormat));
        assert_eq!(Fen::parse("1."), Err(FenError::InvalidFormat));
        assert_eq!(Fen::parse(".5"), Err(FenError::InvalidFormat));
        assert_eq!(Fen::parse("12,34"), Err(FenError::InvalidFormat));
        assert_eq!(Fen::parse("+1"), Err(FenError::InvalidFormat));
        assert_eq!(Fen::parse("NaN"), Err(FenError::InvalidFormat));
        assert_eq!(Fen::parse("99999999999999999999"), Err(FenError::Overflow));
    }

    #[test]
    fn a_budget_cannot_be_negative() {
        assert_eq!(Fen::parse_non_negative("-0.01"), Err(FenError::Negative));
        assert_eq!(Fen::parse_non_negative("0"), Ok(Fen::ZERO));
        assert_eq!(FenError::Negative.message_zh(), "金额不能为负数");
    }

    #[test]
    fn summing_reports_overflow_instead_of_wrapping() {
        let total: Option<Fen> = [Fen::MAX, Fen::from_fen(1)].into_iter().sum();
        assert_eq!(total, None);
        let total: Option<Fen> = [Fen::from_fen(1), Fen::from_fen(2)].into_iter().sum();
        assert_eq!(total, Some(Fen::from_fen(3)));
    }

    #[test]
    fn serde_uses_the_bare_fen_integer() {
        let json = serde_json::to_string(&Fen::from_fen(123_456)).expect("serialise");
        assert_eq!(json, "123456");
        let back: Fen = serde_json::from_str("-7").expect("deserialise");
        assert_eq!(back, Fen::from_fen(-7));
    }

    proptest! {
        #[test]
        fn display_and_yuan_string_parse_back_to_the_same_amount(fen in (i64::MIN + 1)..=i64::MAX) {
            let amount = Fen::from_fen(fen);
            prop_assert_eq!(Fen::parse(&amount.to_string()), Ok(amount));
            prop_assert_eq!(Fen::parse(&amount.to_yuan_string()), Ok(amount));
        }

        #[test]
        fn checked_arithmetic_matches_wide_arithmetic_or_reports_overflow(a: i64, b: i64, k: i64) {
            let (fa, fb) = (Fen::from_fen(a), Fen::from_fen(b));
            let wide = i128::from(a) + i128::from(b);
            match fa.checked_add(fb) {
                Some(s) => prop_assert_eq!(i128::from(s.as_fen()), wide),
                None => prop_assert!(wide > i128::from(i64::MAX) || wide < i128::from(i64::MIN)),
            }
            let wide = i128::from(a) - i128::from(b);
            match fa.checked_sub(fb) {
                Some(s) => prop_assert_eq!(i128::from(s.as_fen()), wide),
                None => prop_assert!(wide > i128::from(i64::MAX) || wide < i128::from(i64::MIN)),
            }
            let wide = i128::from(a) * i128::from(k);
            match fa.checked_mul(k) {
                Some(s) => prop_assert_eq!(i128::from(s.as_fen()), wide),
                None => prop_assert!(wide > i128::from(i64::MAX) || wide < i128::from(i64::MIN)),
            }
        }
    }
}
