//! Checks of submitted values that several areas share.

use domain::Stars;

use crate::error::{Msg, ServiceError, ServiceResult};

/// An optional free text: trimmed, empty means absent, at most `max` characters.
pub fn optional_text(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> ServiceResult<Option<String>> {
    let Some(v) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(ServiceError::invalid(
            field,
            Msg::new("err.too_long_words").arg("max", max),
        ));
    }
    Ok(Some(v))
}

/// A 1–5 `stars` field as submitted; anything else is a field error.
pub fn stars_field(stars: i64) -> ServiceResult<Stars> {
    u8::try_from(stars)
        .ok()
        .and_then(|s| Stars::new(s).ok())
        .ok_or_else(|| ServiceError::invalid("stars", Msg::new("err.stars_range")))
}
