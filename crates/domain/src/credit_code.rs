//! Unified social credit codes (统一社会信用代码, GB 32100-2015) of ISVs,
//! departments and legal-person citizens.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::user_facing;

/// The 31 characters a credit code may use: digits and upper-case letters
/// without I, O, Z, S, V (too easily confused with 1, 0, 2, 5, U).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1..=17 (3^(i-1) mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code whose check character is right.
/// Credit codes are public registry data, so unlike [`crate::ResidentId`]
/// they display in full.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CreditCode(String);

/// Why a credit code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has exactly 18 characters")]
    WrongLength,
    #[error("a unified social credit code uses only digits and the letters A-Y except I, O, S, V")]
    InvalidCharacter,
    #[error("the region code (characters 3 to 8) must be digits")]
    InvalidRegion,
    #[error("the check character does not match; please check the code for typos")]
    BadCheckCharacter,
}

user_facing!(CreditCodeError {
    CreditCodeError::WrongLength => ("credit_code_wrong_length", "统一社会信用代码应为 18 位"),
    CreditCodeError::InvalidCharacter => ("credit_code_invalid_character", "统一社会信用代码只能包含数字和大写字母（不含 I、O、Z、S、V）"),
    CreditCodeError::InvalidRegion => ("credit_code_invalid_region", "统一社会信用代码第 3 至 8 位应为行政区划码"),
    CreditCodeError::BadCheckCharacter => ("credit_code_bad_check_character", "统一社会信用代码校验位不正确，请检查是否输错"),
});

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character of 17 alphabet characters (each already validated).
fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(&c, w)| value_of(c).unwrap_or(0) * w)
        .sum();
    // 31 - (sum mod 31), where 31 itself wraps to '0'.
    ALPHABET[((31 - sum % 31) % 31) as usize]
}

/// The GB 11714 check character of an 8-digit organisation code body,
/// so that generated codes look like real ones (positions 9..=17).
fn organisation_check_char(body8: &[u8]) -> u8 {
    const W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body8
        .iter()
        .zip(W)
        .map(|(&d, w)| u32::from(d - b'0') * w)
        .sum();
    match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        v => b'0' + v as u8,
    }
}

impl CreditCode {
    /// Parses a code; lower-case letters and surrounding whitespace are
    /// accepted and normalised away.
    pub fn parse(s: &str) -> Result<CreditCode, CreditCodeError> {
        let s = s.trim();
        if s.chars().count() != 18 {
            return Err(CreditCodeError::WrongLength);
        }
        let upper = s.to_ascii_uppercase();
        let bytes = upper.as_bytes();
        if bytes.len() != 18 || !bytes.iter().all(|&b| value_of(b).is_some()) {
            return Err(CreditCodeError::InvalidCharacter);
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(CreditCodeError::InvalidRegion);
        }
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(CreditCodeError::BadCheckCharacter);
        }
        Ok(CreditCode(upper))
    }

    /// Builds a valid code for mock data: registration authority `9`
    /// (market regulation) and organisation type `1` (enterprise) as most
    /// companies have, the 6-digit `region`, and an organisation code made
    /// from `seq % 10^8` with its own GB 11714 check character.
    pub fn generate(region: &str, seq: u32) -> Result<CreditCode, CreditCodeError> {
        if region.len() != 6 || !region.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CreditCodeError::InvalidRegion);
        }
        let body = format!("{:08}", seq % 100_000_000);
        let mut s = format!("91{region}{body}");
        s.push(char::from(organisation_check_char(body.as_bytes())));
        s.push(char::from(check_char(s.as_bytes())));
        CreditCode::parse(&s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Position 1: the registration authority (e.g. `9` market regulation).
    pub fn registration_authority(&self) -> char {
        char::from(self.0.as_bytes()[0])
    }

    /// Position 2: the organisation type within that authority.
    pub fn organisation_type(&self) -> char {
        char::from(self.0.as_bytes()[1])
    }

    /// Positions 3..=8: the administrative region code.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }

    /// Positions 9..=17: the organisation code.
    pub fn organisation_code(&self) -> &str {
        &self.0[8..17]
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CreditCode {
    type Error = CreditCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        CreditCode::parse(&s)
    }
}

impl From<CreditCode> for String {
    fn from(c: CreditCode) -> String {
        c.0
    }
}

impl AsRef<str> for CreditCode {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_published_real_world_code_is_accepted() {
        // Alibaba (China) Co., Ltd., as printed on its public business licence.
        let code = CreditCode::parse("91330100716105852f").expect("valid");
        assert_eq!(code.as_str(), "91330100716105852F");
        assert_eq!(code.region_code(), "330100");
        assert_eq!(code.organisation_code(), "716105852");
        assert_eq!(code.registration_authority(), '9');
    }

    #[test]
    fn letters_outside_the_alphabet_are_refused() {
        assert_eq!(
            CreditCode::parse("91330100716105852I"),
            Err(CreditCodeError::InvalidCharacter)
        );
        assert_eq!(
            CreditCode::parse("9133010071610585"),
            Err(CreditCodeError::WrongLength)
        );
    }

    #[test]
    fn a_wrong_check_character_is_refused_with_a_chinese_reason() {
        let err = CreditCode::parse("913301007161058520").unwrap_err();
        assert_eq!(err, CreditCodeError::BadCheckCharacter);
        assert!(err.message_zh().contains("校验位"));
    }

    proptest! {
        #[test]
        fn every_generated_code_parses_back_to_itself(region in 0u32..=999_999, seq: u32) {
            let code = CreditCode::generate(&format!("{region:06}"), seq).expect("valid inputs");
            prop_assert_eq!(CreditCode::parse(code.as_str()), Ok(code.clone()));
            let json = serde_json::to_string(&code).expect("serialise");
            prop_assert_eq!(serde_json::from_str::<CreditCode>(&json).ok(), Some(code));
        }

        #[test]
        fn changing_any_one_character_breaks_the_check(
            region in 0u32..=999_999, seq: u32, pos in 0usize..17, delta in 1usize..31,
        ) {
            let code = CreditCode::generate(&format!("{region:06}"), seq).expect("valid inputs");
            let mut bytes = code.as_str().as_bytes().to_vec();
            let v = value_of(bytes[pos]).expect("alphabet") as usize;
            bytes[pos] = ALPHABET[(v + delta) % 31];
            let altered = String::from_utf8(bytes).expect("ascii");
            prop_assert!(CreditCode::parse(&altered).is_err());
        }
    }
}
