//! Exact rational numbers for ratings and settlement weights.
//!
//! DESIGN.md asks for exact rationals "e.g. i128". Per-app values (R, q, w)
//! would fit in i128, but the settlement needs `sum(w)` over all apps of an
//! order, and the denominators `5 * (C + n_a)` differ per app: their least
//! common multiple grows with the number of apps and overflows i128 after
//! roughly six apps with coprime rating counts. So numerator and denominator
//! are arbitrary-precision integers: no bound on magnitudes is relied upon,
//! comparisons by cross-multiplication cannot overflow, and anyone
//! recomputing from the same inputs gets the same fen on any machine.

use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, Mul, Neg, Sub};
use std::str::FromStr;

pub use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::user_facing;

/// An exact rational number `numer / denom`, always normalised: the
/// denominator is positive and shares no factor with the numerator, so
/// equal values have equal representations (derived `Eq`/`Hash` are exact).
///
/// Serialised as a string, `"37/10"` or `"3"`; deserialised from such a
/// string, a decimal string (`"2.5"`), a JSON integer, or a JSON number
/// read as the decimal it is written as (`2.5` means 5/2 exactly).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Ratio {
    numer: BigInt,
    denom: BigInt,
}

/// Why a rational number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RatioError {
    #[error("division by zero")]
    ZeroDenominator,
    #[error("not a number such as 3, 2.5 or 7/2")]
    InvalidFormat,
}

user_facing!(RatioError {
    RatioError::ZeroDenominator => ("ratio_zero_denominator", "分母不能为零"),
    RatioError::InvalidFormat => ("ratio_invalid", "数值格式不正确，应如 3、2.5 或 7/2"),
});

impl Ratio {
    /// `numer / denom`, normalised.
    pub fn new(numer: impl Into<BigInt>, denom: impl Into<BigInt>) -> Result<Ratio, RatioError> {
        let (numer, denom) = (numer.into(), denom.into());
        if denom.is_zero() {
            return Err(RatioError::ZeroDenominator);
        }
        Ok(Ratio::normalised(numer, denom))
    }

    /// Normalises a pair whose denominator is known to be non-zero.
    fn normalised(numer: BigInt, denom: BigInt) -> Ratio {
        let g = numer.gcd(&denom);
        let sign = if denom.is_negative() {
            -BigInt::one()
        } else {
            BigInt::one()
        };
        if g.is_zero() {
            // Only when numer = denom = 0, which callers exclude; keep 0/1.
            return Ratio::zero();
        }
        Ratio {
            numer: &numer / &g * &sign,
            denom: &denom / &g * &sign,
        }
    }

    /// Rebuilds a ratio from decimal numerator and denominator strings, as
    /// stored in `*_num` / `*_den` text columns.
    pub fn from_parts(numer: &str, denom: &str) -> Result<Ratio, RatioError> {
        Ratio::new(parse_int(numer.trim())?, parse_int(denom.trim())?)
    }

    /// The normalised numerator and denominator as decimal strings, for
    /// `*_num` / `*_den` text columns (they may exceed any fixed-width
    /// integer type).
    pub fn to_parts(&self) -> (String, String) {
        (self.numer.to_string(), self.denom.to_string())
    }

    pub fn from_integer(n: impl Into<BigInt>) -> Ratio {
        Ratio {
            numer: n.into(),
            denom: BigInt::one(),
        }
    }

    pub fn zero() -> Ratio {
        Ratio::from_integer(0)
    }

    pub fn one() -> Ratio {
        Ratio::from_integer(1)
    }

    pub fn numer(&self) -> &BigInt {
        &self.numer
    }

    /// Always positive.
    pub fn denom(&self) -> &BigInt {
        &self.denom
    }

    pub fn is_zero(&self) -> bool {
        self.numer.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.numer.is_negative()
    }

    pub fn is_positive(&self) -> bool {
        self.numer.is_positive()
    }

    /// `self / other`, or `None` when `other` is zero.
    pub fn checked_div(&self, other: &Ratio) -> Option<Ratio> {
        if other.is_zero() {
            return None;
        }
        Some(Ratio::normalised(
            &self.numer * &other.denom,
            &self.denom * &other.numer,
        ))
    }

    /// The largest integer not greater than the value.
    pub fn floor(&self) -> BigInt {
        self.numer.div_floor(&self.denom)
    }

    /// `self - floor(self)`, in `[0, 1)`.
    pub fn fract(&self) -> Ratio {
        Ratio::normalised(self.numer.mod_floor(&self.denom), self.denom.clone())
    }

    /// The value rounded half away from zero to `places` decimals, for
    /// display only (`3.74`); never feed it back into money arithmetic.
    pub fn to_decimal_string(&self, places: u32) -> String {
        let scale = num_traits::pow(BigInt::from(10), places as usize);
        let scaled = &self.numer.abs() * &scale;
        let (q, r) = scaled.div_rem(&self.denom);
        let rounded = if &r * 2 >= self.denom { q + 1 } else { q };
        let (int_part, frac_part) = rounded.div_rem(&scale);
        let sign = if self.is_negative() && !rounded_is_zero(&int_part, &frac_part) {
            "-"
        } else {
            ""
        };
        if places == 0 {
            format!("{sign}{int_part}")
        } else {
            format!(
                "{sign}{int_part}.{:0>width$}",
                frac_part.to_string(),
                width = places as usize
            )
        }
    }

    /// The nearest f64, for charts and sorting hints only.
    pub fn to_f64_lossy(&self) -> f64 {
        let n = self.numer.to_f64().unwrap_or(f64::NAN);
        let d = self.denom.to_f64().unwrap_or(f64::NAN);
        n / d
    }

    /// Parses `7/2`, `-3`, `2.5` (an exact decimal), with optional spaces.
    pub fn parse(s: &str) -> Result<Ratio, RatioError> {
        let s = s.trim();
        if let Some((n, d)) = s.split_once('/') {
            let n = parse_int(n.trim())?;
            let d = parse_int(d.trim())?;
            return Ratio::new(n, d);
        }
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
        if int_part.is_empty()
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
            || (digits.contains('.') && frac_part.is_empty())
        {
            return Err(RatioError::InvalidFormat);
        }
        let numer = parse_int(&format!("{int_part}{frac_part}"))?;
        let denom = num_traits::pow(BigInt::from(10), frac_part.len());
        let r = Ratio::new(numer, denom)?;
        Ok(if negative { -r } else { r })
    }
}

fn rounded_is_zero(int_part: &BigInt, frac_part: &BigInt) -> bool {
    int_part.is_zero() && frac_part.is_zero()
}

fn parse_int(s: &str) -> Result<BigInt, RatioError> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RatioError::InvalidFormat);
    }
    s.parse().map_err(|_| RatioError::InvalidFormat)
}

impl Ord for Ratio {
    /// Cross-multiplication; both denominators are positive, and big
    /// integers cannot overflow.
    fn cmp(&self, other: &Ratio) -> Ordering {
        (&self.numer * &other.denom).cmp(&(&other.numer * &self.denom))
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Ratio) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Add for &Ratio {
    type Output = Ratio;
    fn add(self, o: &Ratio) -> Ratio {
        Ratio::normalised(
            &self.numer * &o.denom + &o.numer * &self.denom,
            &self.denom * &o.denom,
        )
    }
}

impl Sub for &Ratio {
    type Output = Ratio;
    fn sub(self, o: &Ratio) -> Ratio {
        Ratio::normalised(
            &self.numer * &o.denom - &o.numer * &self.denom,
            &self.denom * &o.denom,
        )
    }
}

impl Mul for &Ratio {
    type Output = Ratio;
    fn mul(self, o: &Ratio) -> Ratio {
        Ratio::normalised(&self.numer * &o.numer, &self.denom * &o.denom)
    }
}

impl Add for Ratio {
    type Output = Ratio;
    fn add(self, o: Ratio) -> Ratio {
        &self + &o
    }
}

impl Sub for Ratio {
    type Output = Ratio;
    fn sub(self, o: Ratio) -> Ratio {
        &self - &o
    }
}

impl Mul for Ratio {
    type Output = Ratio;
    fn mul(self, o: Ratio) -> Ratio {
        &self * &o
    }
}

impl Neg for Ratio {
    type Output = Ratio;
    fn neg(self) -> Ratio {
        Ratio {
            numer: -self.numer,
            denom: self.denom,
        }
    }
}

impl<'a> std::iter::Sum<&'a Ratio> for Ratio {
    fn sum<I: Iterator<Item = &'a Ratio>>(iter: I) -> Ratio {
        iter.fold(Ratio::zero(), |acc, x| &acc + x)
    }
}

impl From<i64> for Ratio {
    fn from(n: i64) -> Ratio {
        Ratio::from_integer(n)
    }
}

impl From<u64> for Ratio {
    fn from(n: u64) -> Ratio {
        Ratio::from_integer(n)
    }
}

impl fmt::Display for Ratio {
    /// `37/10`, or `3` for an integer.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.denom.is_one() {
            write!(f, "{}", self.numer)
        } else {
            write!(f, "{}/{}", self.numer, self.denom)
        }
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ratio({self})")
    }
}

impl FromStr for Ratio {
    type Err = RatioError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ratio::parse(s)
    }
}

impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Ratio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ratio, D::Error> {
        struct RatioVisitor;
        impl Visitor<'_> for RatioVisitor {
            type Value = Ratio;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rational number such as \"7/2\", \"2.5\" or 3")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ratio, E> {
                Ratio::parse(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ratio, E> {
                Ok(Ratio::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ratio, E> {
                Ok(Ratio::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Ratio, E> {
                // f64's Display is the shortest decimal that reads back as
                // the same float, i.e. the number as the user wrote it
                // (`2.5`, `0.1`); read that decimal exactly.
                if !v.is_finite() {
                    return Err(E::custom("not a finite number"));
                }
                Ratio::parse(&format!("{v}")).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(RatioVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn r(n: i64, d: i64) -> Ratio {
        Ratio::new(n, d).expect("non-zero denominator")
    }

    #[test]
    fn ratios_are_normalised_so_equal_values_are_equal() {
        assert_eq!(r(6, -4), r(-3, 2));
        assert_eq!(r(6, -4).to_string(), "-3/2");
        assert_eq!(r(10, 5).to_string(), "2");
        assert_eq!(Ratio::new(1, 0), Err(RatioError::ZeroDenominator));
    }

    #[test]
    fn decimals_and_fractions_parse_exactly() {
        assert_eq!(Ratio::parse("2.5"), Ok(r(5, 2)));
        assert_eq!(Ratio::parse("3.0"), Ok(r(3, 1)));
        assert_eq!(Ratio::parse(" 7 / 2 "), Ok(r(7, 2)));
        assert_eq!(Ratio::parse("-0.25"), Ok(r(-1, 4)));
        assert_eq!(Ratio::parse("1e3"), Err(RatioError::InvalidFormat));
        assert_eq!(Ratio::parse("2."), Err(RatioError::InvalidFormat));
        assert_eq!(Ratio::parse("1/0"), Err(RatioError::ZeroDenominator));
    }

    #[test]
    fn json_numbers_are_read_as_the_decimal_written() {
        let v: Ratio = serde_json::from_str("2.5").expect("number");
        assert_eq!(v, r(5, 2));
        let v: Ratio = serde_json::from_str("0.1").expect("number");
        assert_eq!(v, r(1, 10));
        let v: Ratio = serde_json::from_str("\"37/10\"").expect("string");
        assert_eq!(serde_json::to_string(&v).expect("serialise"), "\"37/10\"");
    }

    #[test]
    fn decimal_display_rounds_half_away_from_zero() {
        assert_eq!(r(37, 10).to_decimal_string(2), "3.70");
        assert_eq!(r(2, 3).to_decimal_string(2), "0.67");
        assert_eq!(r(-2, 3).to_decimal_string(2), "-0.67");
        assert_eq!(r(1, 8).to_decimal_string(2), "0.13");
        assert_eq!(r(-1, 1000).to_decimal_string(2), "0.00");
        assert_eq!(r(5, 2).to_decimal_string(0), "3");
    }

    #[test]
    fn parts_round_trip_through_text_columns() {
        let x = r(-37, 10);
        let (n, d) = x.to_parts();
        assert_eq!((n.as_str(), d.as_str()), ("-37", "10"));
        assert_eq!(Ratio::from_parts(&n, &d), Ok(x));
        assert_eq!(
            Ratio::from_parts("1", "0"),
            Err(RatioError::ZeroDenominator)
        );
        assert_eq!(
            Ratio::from_parts("1.5", "2"),
            Err(RatioError::InvalidFormat)
        );
    }

    #[test]
    fn floor_and_fract_split_negative_values_downwards() {
        assert_eq!(r(-7, 2).floor(), BigInt::from(-4));
        assert_eq!(r(-7, 2).fract(), r(1, 2));
        assert_eq!(r(7, 2).floor(), BigInt::from(3));
    }

    proptest! {
        #[test]
        fn ordering_agrees_with_exact_wide_integer_comparison(
            a in -1_000_000_000i64..1_000_000_000, b in 1i64..1_000_000_000,
            c in -1_000_000_000i64..1_000_000_000, d in 1i64..1_000_000_000,
        ) {
            let expected = (i128::from(a) * i128::from(d)).cmp(&(i128::from(c) * i128::from(b)));
            prop_assert_eq!(r(a, b).cmp(&r(c, d)), expected);
        }

        #[test]
        fn display_parses_back_and_arithmetic_is_exact(
            a in -1_000_000i64..1_000_000, b in 1i64..1_000_000,
            c in -1_000_000i64..1_000_000, d in 1i64..1_000_000,
        ) {
            let (x, y) = (r(a, b), r(c, d));
            prop_assert_eq!(Ratio::parse(&x.to_string()), Ok(x.clone()));
            prop_assert_eq!(&(&x + &y) - &y, x.clone());
            if !y.is_zero() {
                prop_assert_eq!((&x * &y).checked_div(&y), Some(x.clone()));
            }
            let f = x.fract();
            prop_assert!(f >= Ratio::zero() && f < Ratio::one());
            prop_assert_eq!(&Ratio::from_integer(x.floor()) + &f, x);
        }
    }
}
