//! What every validation error of this crate offers the layers above.

/// A validation error that can be shown to an end user.
///
/// The UI is zh-CN first, so each error carries a Chinese message beside its
/// English `Display`, and a stable machine code the API puts in
/// `{"error": {"code": ...}}` so clients never match on prose.
pub trait UserFacingError: std::error::Error {
    /// A stable snake_case code, e.g. `resident_id_bad_check_character`.
    fn code(&self) -> &'static str;
    /// The message in Chinese, for forms and API errors under `zh-CN`.
    fn message_zh(&self) -> &'static str;
}

/// Implements [`UserFacingError`] from a table of `variant => (code, zh)`.
macro_rules! user_facing {
    ($ty:ty { $($pat:pat => ($code:literal, $zh:literal)),+ $(,)? }) => {
        impl $ty {
            /// A stable snake_case code for API error bodies.
            pub fn code(&self) -> &'static str {
                match self { $($pat => $code),+ }
            }
            /// The message in Chinese (the UI is zh-CN first).
            pub fn message_zh(&self) -> &'static str {
                match self { $($pat => $zh),+ }
            }
        }
        impl $crate::error::UserFacingError for $ty {
            fn code(&self) -> &'static str { <$ty>::code(self) }
            fn message_zh(&self) -> &'static str { <$ty>::message_zh(self) }
        }
    };
}
pub(crate) use user_facing;
