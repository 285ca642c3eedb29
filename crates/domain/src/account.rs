//! What registration accepts: e-mail addresses and passwords.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::user_facing;

/// Longest address SMTP can carry (RFC 5321: 256 octets of path minus the
/// angle brackets).
const EMAIL_MAX: usize = 254;
const LOCAL_PART_MAX: usize = 64;
const DOMAIN_LABEL_MAX: usize = 63;

/// An e-mail address, trimmed and lower-cased so that one person cannot
/// register twice as `Zhang@x.cn` and `zhang@x.cn`.
///
/// Validation is deliberately simple but sane: one `@`, a dot-atom local
/// part, and a domain of at least two LDH labels with a non-numeric top
/// level. Internationalised domains must be given in punycode.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why an e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("please enter an e-mail address")]
    Empty,
    #[error("the e-mail address is longer than 254 characters")]
    TooLong,
    #[error("the e-mail address must contain exactly one @")]
    MissingAt,
    #[error("the part before the @ is not valid")]
    InvalidLocalPart,
    #[error("the part after the @ is not a valid domain, e.g. example.cn")]
    InvalidDomain,
}

user_facing!(EmailError {
    EmailError::Empty => ("email_empty", "请填写电子邮箱"),
    EmailError::TooLong => ("email_too_long", "电子邮箱不能超过 254 个字符"),
    EmailError::MissingAt => ("email_missing_at", "电子邮箱应包含且仅包含一个 @"),
    EmailError::InvalidLocalPart => ("email_invalid_local_part", "电子邮箱 @ 前的部分格式不正确"),
    EmailError::InvalidDomain => ("email_invalid_domain", "电子邮箱 @ 后的域名格式不正确，如 example.cn"),
});

impl Email {
    pub fn parse(s: &str) -> Result<Email, EmailError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().count() > EMAIL_MAX {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.split_once('@').ok_or(EmailError::MissingAt)?;
        if domain.contains('@') {
            return Err(EmailError::MissingAt);
        }
        if !valid_local_part(local) {
            return Err(EmailError::InvalidLocalPart);
        }
        if !valid_domain(domain) {
            return Err(EmailError::InvalidDomain);
        }
        Ok(Email(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+/=?^_`{|}~-";
    !local.is_empty()
        && local.len() <= LOCAL_PART_MAX
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
        })
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= DOMAIN_LABEL_MAX
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Email::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> String {
        e.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// Password length bounds, counted in characters (a Chinese passphrase
/// counts each character once). 128 is the upper bound so that hashing
/// cost stays bounded for every request.
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A password that meets the policy. It has no `Serialize` and no
/// `Display`, and its `Debug` is redacted, so it cannot leak through a log
/// or a response by accident; hash [`Password::expose`] and drop it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Password(String);

/// Why a password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password must have at least 8 characters")]
    TooShort,
    #[error("the password must have at most 128 characters")]
    TooLong,
    #[error("the password must not be only spaces")]
    Blank,
}

user_facing!(PasswordError {
    PasswordError::TooShort => ("password_too_short", "密码至少 8 个字符"),
    PasswordError::TooLong => ("password_too_long", "密码最多 128 个字符"),
    PasswordError::Blank => ("password_blank", "密码不能全为空格"),
});

impl Password {
    /// Checks the policy. The password is kept exactly as typed: trimming
    /// would silently change what the user has to type next time.
    pub fn parse(s: &str) -> Result<Password, PasswordError> {
        let chars = s.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        if s.trim().is_empty() {
            return Err(PasswordError::Blank);
        }
        Ok(Password(s.to_owned()))
    }

    /// The password itself, for the hasher only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

impl TryFrom<String> for Password {
    type Error = PasswordError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Password::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        let e = Email::parse("  Zhang.San@Example.GOV.cn ").expect("valid");
        assert_eq!(e.as_str(), "zhang.san@example.gov.cn");
    }

    #[test]
    fn malformed_addresses_are_refused_with_a_reason() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("zhang.example.cn"), Err(EmailError::MissingAt));
        assert_eq!(Email::parse("a@b@c.cn"), Err(EmailError::MissingAt));
        assert_eq!(
            Email::parse("@example.cn"),
            Err(EmailError::InvalidLocalPart)
        );
        assert_eq!(
            Email::parse("a..b@example.cn"),
            Err(EmailError::InvalidLocalPart)
        );
        assert_eq!(
            Email::parse("a b@example.cn"),
            Err(EmailError::InvalidLocalPart)
        );
        assert_eq!(Email::parse("a@localhost"), Err(EmailError::InvalidDomain));
        assert_eq!(Email::parse("a@-x.cn"), Err(EmailError::InvalidDomain));
        assert_eq!(Email::parse("a@1.2.3.4"), Err(EmailError::InvalidDomain));
        assert_eq!(Email::parse("a@x..cn"), Err(EmailError::InvalidDomain));
        let long = format!("{}@example.cn", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        assert_eq!(
            EmailError::MissingAt.message_zh(),
            "电子邮箱应包含且仅包含一个 @"
        );
    }

    #[test]
    fn password_length_is_counted_in_characters() {
        assert_eq!(
            Password::parse("1234567").map(|_| ()),
            Err(PasswordError::TooShort)
        );
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse("为人民服务的政务平台").is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129)).map(|_| ()),
            Err(PasswordError::TooLong)
        );
        assert_eq!(
            Password::parse("         ").map(|_| ()),
            Err(PasswordError::Blank)
        );
    }

    #[test]
    fn a_password_never_appears_in_debug_output() {
        let p = Password::parse("correct horse battery").expect("valid");
        assert!(!format!("{p:?}").contains("horse"));
        assert_eq!(p.expose(), "correct horse battery");
    }

    proptest! {
        #[test]
        fn every_accepted_address_is_lower_case_and_parses_to_itself(
            local in "[A-Za-z0-9_+-]{1,20}(\\.[A-Za-z0-9]{1,8})?",
            domain in "[A-Za-z0-9]{1,15}\\.[A-Za-z]{2,6}",
        ) {
            let e = Email::parse(&format!("{local}@{domain}")).expect("valid by construction");
            prop_assert_eq!(e.as_str(), e.as_str().to_ascii_lowercase());
            prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
        }
    }
}
