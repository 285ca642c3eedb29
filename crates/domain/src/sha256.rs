//! Content addresses: a version's module is identified by its sha256.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::user_facing;

/// A sha256 digest as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sha256Hex(String);

/// A string that is not a sha256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Sha256HexError {
    #[error("a sha256 digest has exactly 64 hexadecimal characters")]
    WrongLength,
    #[error("a sha256 digest contains only the characters 0-9 and a-f")]
    InvalidCharacter,
}

user_facing!(Sha256HexError {
    Sha256HexError::WrongLength => ("sha256_wrong_length", "SHA-256 摘要应为 64 位十六进制字符"),
    Sha256HexError::InvalidCharacter => ("sha256_invalid_character", "SHA-256 摘要只能包含 0-9 和 a-f"),
});

impl Sha256Hex {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Sha256Hex {
        Sha256Hex(hex::encode(Sha256::digest(bytes)))
    }

    /// Parses 64 hex characters; upper case is accepted and normalised.
    pub fn parse(s: &str) -> Result<Sha256Hex, Sha256HexError> {
        let s = s.trim();
        if s.len() != 64 {
            return Err(Sha256HexError::WrongLength);
        }
        if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Sha256HexError::InvalidCharacter);
        }
        Ok(Sha256Hex(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 32 raw bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        hex::decode_to_slice(&self.0, &mut out)
            .expect("a parsed Sha256Hex is 64 valid hex characters");
        out
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Sha256Hex {
    type Error = Sha256HexError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Sha256Hex::parse(&s)
    }
}

impl From<Sha256Hex> for String {
    fn from(h: Sha256Hex) -> String {
        h.0
    }
}

impl AsRef<str> for Sha256Hex {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_digest_of_abc_is_the_published_test_vector() {
        assert_eq!(
            Sha256Hex::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn upper_case_is_normalised_and_non_hex_refused() {
        let upper = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";
        assert_eq!(Sha256Hex::parse(upper), Ok(Sha256Hex::of(b"abc")));
        let bad = format!("{}g", &upper[..63]);
        assert_eq!(
            Sha256Hex::parse(&bad),
            Err(Sha256HexError::InvalidCharacter)
        );
        assert_eq!(Sha256Hex::parse("abc"), Err(Sha256HexError::WrongLength));
    }

    proptest! {
        #[test]
        fn every_digest_parses_back_and_round_trips_its_bytes(data: Vec<u8>) {
            let h = Sha256Hex::of(&data);
            prop_assert_eq!(Sha256Hex::parse(h.as_str()), Ok(h.clone()));
            prop_assert_eq!(Sha256Hex::parse(&h.as_str().to_ascii_uppercase()), Ok(h.clone()));
            prop_assert_eq!(hex::encode(h.to_bytes()), h.as_str());
        }
    }
}
