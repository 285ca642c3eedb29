//! Star ratings, 1 to 5, with the labels citizens see.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::user_facing;

/// A rating of 1 to 5 stars. Serialised as the bare number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Stars(u8);

/// A star count outside 1..=5.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StarsError {
    #[error("a rating is 1 to 5 stars")]
    OutOfRange,
}

user_facing!(StarsError {
    StarsError::OutOfRange => ("stars_out_of_range", "评分应为 1 至 5 星"),
});

impl Stars {
    pub const ALL: [Stars; 5] = [Stars(1), Stars(2), Stars(3), Stars(4), Stars(5)];

    pub fn new(stars: u8) -> Result<Stars, StarsError> {
        if (1..=5).contains(&stars) {
            Ok(Stars(stars))
        } else {
            Err(StarsError::OutOfRange)
        }
    }

    /// Parses `"1"` ..= `"5"` (a form field).
    pub fn parse(s: &str) -> Result<Stars, StarsError> {
        s.trim()
            .parse::<u8>()
            .map_err(|_| StarsError::OutOfRange)
            .and_then(Stars::new)
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// The label citizens see in zh-CN.
    pub fn label_zh(self) -> &'static str {
        match self.0 {
            1 => "非常不满意",
            2 => "不满意",
            3 => "一般",
            4 => "满意",
            _ => "非常满意",
        }
    }

    /// The label citizens see in English.
    pub fn label_en(self) -> &'static str {
        match self.0 {
            1 => "Very dissatisfied",
            2 => "Dissatisfied",
            3 => "Neutral",
            4 => "Satisfied",
            _ => "Very satisfied",
        }
    }
}

impl fmt::Display for Stars {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl TryFrom<u8> for Stars {
    type Error = StarsError;
    fn try_from(v: u8) -> Result<Self, Self::Error> {
        Stars::new(v)
    }
}

impl From<Stars> for u8 {
    fn from(s: Stars) -> u8 {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn only_one_to_five_stars_exist() {
        assert_eq!(Stars::new(0), Err(StarsError::OutOfRange));
        assert_eq!(Stars::new(6), Err(StarsError::OutOfRange));
        assert_eq!(Stars::parse(" 4 ").map(Stars::get), Ok(4));
        assert_eq!(Stars::parse("4.5"), Err(StarsError::OutOfRange));
        assert!(serde_json::from_str::<Stars>("6").is_err());
        assert!(serde_json::from_str::<Stars>("-1").is_err());
        assert_eq!(serde_json::from_str::<Stars>("5").ok(), Stars::new(5).ok());
    }

    #[test]
    fn each_star_count_has_its_label() {
        let zh: Vec<_> = Stars::ALL.iter().map(|s| s.label_zh()).collect();
        assert_eq!(zh, ["非常不满意", "不满意", "一般", "满意", "非常满意"]);
        let en: Vec<_> = Stars::ALL.iter().map(|s| s.label_en()).collect();
        assert_eq!(
            en,
            [
                "Very dissatisfied",
                "Dissatisfied",
                "Neutral",
                "Satisfied",
                "Very satisfied"
            ]
        );
    }

    proptest! {
        #[test]
        fn any_u8_is_a_rating_exactly_when_it_is_one_to_five(n in any::<u8>()) {
            let valid = (1..=5).contains(&n);
            prop_assert_eq!(Stars::new(n).is_ok(), valid);
            prop_assert_eq!(Stars::try_from(n).is_ok(), valid);
            prop_assert_eq!(Stars::parse(&n.to_string()).is_ok(), valid);
            prop_assert_eq!(serde_json::from_str::<Stars>(&n.to_string()).is_ok(), valid);
        }

        #[test]
        fn display_then_parse_gives_back_the_same_rating(n in 1u8..=5) {
            let stars = Stars::new(n).expect("in range");
            prop_assert_eq!(Stars::parse(&stars.to_string()), Ok(stars));
            let json = serde_json::to_string(&stars).expect("serialises");
            prop_assert_eq!(serde_json::from_str::<Stars>(&json).ok(), Some(stars));
        }

        #[test]
        fn any_text_parses_only_to_a_rating_it_spells(s in "\\PC{0,6}") {
            // Whatever a form posts, parsing never panics, and a success is
            // exactly the number the trimmed text spells.
            if let Ok(stars) = Stars::parse(&s) {
                prop_assert_eq!(s.trim().parse::<u8>().ok(), Some(stars.get()));
            }
        }
    }
}
