//! 18-digit resident identity card numbers (公民身份号码, GB 11643-1999).

use std::fmt;

use chrono::{Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::user_facing;
use crate::period::PLATFORM_TZ;

/// Weights of the first 17 characters in the GB 11643 check (2^(18-i) mod 11).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each value of the weighted sum mod 11.
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// A checksum-valid resident ID number, normalised to upper-case `X`.
///
/// `Display` and `Debug` show only the masked form (`3301**********123X`) so
/// the full number never lands in a log by accident; [`ResidentId::as_str`]
/// and serde give the full number for storage and for the sandbox subject.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(String);

/// A citizen's gender as encoded in the 17th digit of the ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    Male,
    Female,
}

/// Why a resident ID number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResidentIdError {
    #[error("a resident ID number has exactly 18 characters")]
    WrongLength,
    #[error(
        "the first 17 characters of a resident ID number must be digits and the last a digit or X"
    )]
    InvalidCharacter,
    #[error("the region code (first 6 digits) is not valid")]
    InvalidRegion,
    #[error("the birth date (characters 7 to 14) is not a real date")]
    InvalidBirthDate,
    #[error("the birth date is in the future")]
    BirthDateInFuture,
    #[error("the birth date is before 1900")]
    BirthDateTooEarly,
    #[error("the check character does not match; please check the number for typos")]
    BadCheckCharacter,
}

user_facing!(ResidentIdError {
    ResidentIdError::WrongLength => ("resident_id_wrong_length", "身份证号码应为 18 位"),
    ResidentIdError::InvalidCharacter => ("resident_id_invalid_character", "身份证号码前 17 位应为数字，最后一位为数字或 X"),
    ResidentIdError::InvalidRegion => ("resident_id_invalid_region", "身份证号码的地区码（前 6 位）无效"),
    ResidentIdError::InvalidBirthDate => ("resident_id_invalid_birth_date", "身份证号码中的出生日期无效"),
    ResidentIdError::BirthDateInFuture => ("resident_id_birth_date_in_future", "身份证号码中的出生日期晚于今天"),
    ResidentIdError::BirthDateTooEarly => ("resident_id_birth_date_too_early", "身份证号码中的出生日期早于 1900 年"),
    ResidentIdError::BadCheckCharacter => ("resident_id_bad_check_character", "身份证号码校验位不正确，请检查是否输错"),
});

/// The earliest birth date accepted.
fn earliest_birth_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).expect("1900-01-01 is a valid date")
}

/// The GB 11643 check character of 17 ASCII digits.
fn check_char(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl ResidentId {
    /// Parses and validates an ID number, with "today" taken as the current
    /// date in the platform time zone. Use [`ResidentId::parse_as_of`] where
    /// the reference date must be reproducible (tests, replays).
    pub fn parse(s: &str) -> Result<ResidentId, ResidentIdError> {
        let today = Utc::now().with_timezone(&PLATFORM_TZ).date_naive();
        ResidentId::parse_as_of(s, today)
    }

    /// Parses and validates an ID number: 18 characters, a non-zero region,
    /// a real birth date between 1900-01-01 and `today`, and the check
    /// character. A lower-case `x` is accepted and normalised to `X`;
    /// surrounding whitespace (a common paste artefact) is ignored.
    pub fn parse_as_of(s: &str, today: NaiveDate) -> Result<ResidentId, ResidentIdError> {
        let s = s.trim();
        if s.chars().count() != 18 {
            return Err(ResidentIdError::WrongLength);
        }
        let mut bytes = s.as_bytes().to_vec();
        if !bytes[..17].iter().all(u8::is_ascii_digit) {
            return Err(ResidentIdError::InvalidCharacter);
        }
        bytes[17] = bytes[17].to_ascii_uppercase();
        if !(bytes[17].is_ascii_digit() || bytes[17] == b'X') {
            return Err(ResidentIdError::InvalidCharacter);
        }
        if bytes[..6].iter().all(|&b| b == b'0') {
            return Err(ResidentIdError::InvalidRegion);
        }
        let birth = birth_date_of(&bytes).ok_or(ResidentIdError::InvalidBirthDate)?;
        if birth < earliest_birth_date() {
            return Err(ResidentIdError::BirthDateTooEarly);
        }
        if birth > today {
            return Err(ResidentIdError::BirthDateInFuture);
        }
        if check_char(&bytes[..17]) != bytes[17] {
            return Err(ResidentIdError::BadCheckCharacter);
        }
        // Every byte is now an ASCII digit or `X`.
        Ok(ResidentId(String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Builds a valid ID number for mock data: `region` (6 digits, not all
    /// zero), `birth` (1900-01-01 ..= 9999-12-31), and a sequence number of
    /// which `seq % 500` is used, so each region, birth date and gender
    /// has 500 distinct numbers. The 17th digit is odd for `male`.
    pub fn generate(
        region: &str,
        birth: NaiveDate,
        seq: u16,
        male: bool,
    ) -> Result<ResidentId, ResidentIdError> {
        if region.len() != 6 || !region.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ResidentIdError::InvalidRegion);
        }
        if birth < earliest_birth_date() || birth.year() > 9999 {
            return Err(ResidentIdError::InvalidBirthDate);
        }
        let order = (seq % 500) * 2 + u16::from(male);
        let mut s = format!("{region}{}{order:03}", birth.format("%Y%m%d"));
        let check = check_char(s.as_bytes());
        s.push(char::from(check));
        // Re-validate (only the future check is skipped, since generators
        // may well want citizens born "tomorrow" relative to wall time).
        ResidentId::parse_as_of(&s, NaiveDate::MAX)
    }

    /// The full, normalised 18-character number.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The administrative region code (first 6 digits).
    pub fn region_code(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        birth_date_of(self.0.as_bytes()).expect("a parsed ResidentId has a valid birth date")
    }

    /// Odd 17th digit: male; even: female.
    pub fn gender(&self) -> Gender {
        if (self.0.as_bytes()[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// The number with all but the first 4 and last 4 characters hidden,
    /// `3301**********123X`, for display to anyone but its holder.
    pub fn masked(&self) -> String {
        format!("{}**********{}", &self.0[..4], &self.0[14..])
    }
}

fn birth_date_of(bytes: &[u8]) -> Option<NaiveDate> {
    let digits = std::str::from_utf8(bytes.get(6..14)?).ok()?;
    let year: i32 = digits[..4].parse().ok()?;
    let month: u32 = digits[4..6].parse().ok()?;
    let day: u32 = digits[6..8].parse().ok()?;
    NaiveDate::from_ymd_opt(year, month, day)
}

impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({})", self.masked())
    }
}

impl TryFrom<String> for ResidentId {
    type Error = ResidentIdError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ResidentId::parse(&s)
    }
}

impl From<ResidentId> for String {
    fn from(id: ResidentId) -> String {
        id.0
    }
}

impl AsRef<str> for ResidentId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).expect("valid date")
    }

    #[test]
    fn a_known_valid_number_parses_with_its_birth_date_and_gender() {
        // 11010519491231002X is the standard's own example.
        let id = ResidentId::parse_as_of("11010519491231002x", today()).expect("valid");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).expect("date")
        );
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.region_code(), "110105");
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(id.to_string(), "1101**********002X");
    }

    #[test]
    fn a_typo_in_one_digit_is_caught_by_the_check_character() {
        assert_eq!(
            ResidentId::parse_as_of("11010519491231003X", today()),
            Err(ResidentIdError::BadCheckCharacter)
        );
    }

    #[test]
    fn impossible_or_out_of_range_birth_dates_are_refused() {
        let feb30 = fix_check("110105199002300010");
        assert_eq!(
            ResidentId::parse_as_of(&feb30, today()),
            Err(ResidentIdError::InvalidBirthDate)
        );
        let future = fix_check("110105202701010010");
        assert_eq!(
            ResidentId::parse_as_of(&future, today()),
            Err(ResidentIdError::BirthDateInFuture)
        );
        let early = fix_check("110105189912310010");
        assert_eq!(
            ResidentId::parse_as_of(&early, today()),
            Err(ResidentIdError::BirthDateTooEarly)
        );
    }

    #[test]
    fn malformed_numbers_are_refused_with_a_chinese_reason() {
        assert_eq!(
            ResidentId::parse_as_of("1234", today()),
            Err(ResidentIdError::WrongLength)
        );
        let err = ResidentId::parse_as_of("1101051949123100AX", today()).unwrap_err();
        assert_eq!(err, ResidentIdError::InvalidCharacter);
        assert!(err.message_zh().contains("身份证"));
        let zero_region = fix_check("000000199001010010");
        assert_eq!(
            ResidentId::parse_as_of(&zero_region, today()),
            Err(ResidentIdError::InvalidRegion)
        );
    }

    #[test]
    fn serde_round_trips_the_full_number_and_refuses_a_bad_one() {
        let id = ResidentId::parse_as_of("11010519491231002X", today()).expect("valid");
        let json = serde_json::to_string(&id).expect("serialise");
        assert_eq!(json, "\"11010519491231002X\"");
        let back: ResidentId = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ResidentId>("\"11010519491231003X\"").is_err());
    }

    fn fix_check(s: &str) -> String {
        let mut s = s[..17].to_owned();
        let c = check_char(s.as_bytes());
        s.push(char::from(c));
        s
    }

    fn arb_id() -> impl Strategy<Value = ResidentId> {
        (
            1u32..=999_999,
            0i64..(365 * 120),
            any::<u16>(),
            any::<bool>(),
        )
            .prop_map(|(region, days, seq, male)| {
                let birth = earliest_birth_date() + chrono::Days::new(days as u64);
                ResidentId::generate(&format!("{region:06}"), birth, seq, male)
                    .expect("generator inputs are in range")
            })
    }

    proptest! {
        #[test]
        fn every_generated_id_parses_back_to_itself(id in arb_id()) {
            prop_assert_eq!(ResidentId::parse_as_of(id.as_str(), NaiveDate::MAX), Ok(id.clone()));
        }

        #[test]
        fn generated_gender_is_the_one_asked_for(region in 1u32..=999_999, seq: u16, male: bool) {
            let birth = NaiveDate::from_ymd_opt(1990, 1, 1).expect("date");
            let id = ResidentId::generate(&format!("{region:06}"), birth, seq, male).expect("valid");
            prop_assert_eq!(id.gender() == Gender::Male, male);
            prop_assert_eq!(id.birth_date(), birth);
        }

        #[test]
        fn changing_any_one_digit_breaks_the_check(id in arb_id(), pos in 0usize..17, delta in 1u8..10) {
            let mut bytes = id.as_str().as_bytes().to_vec();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let altered = String::from_utf8(bytes).expect("ascii");
            // A changed digit may also break the date or region first; it
            // must never be accepted.
            prop_assert!(ResidentId::parse_as_of(&altered, NaiveDate::MAX).is_err());
        }
    }
}
