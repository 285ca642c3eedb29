//! The one error type of the use cases.
//!
//! A use case says *what* went wrong, never how to show it: no HTTP status
//! and no display string lives here. Each variant carries a [`Msg`], a key
//! into the message catalogues (`web/i18n/<lang>/*.toml`) with named
//! arguments, and where it helps a stable machine `code` and the request
//! `field` at fault. The JSON API maps a variant to its status and renders
//! the message in both languages; the web pages render it in the page's
//! language beside the field. Internal errors keep their cause for the log
//! and are shown to nobody.

use std::borrow::Cow;

/// A message for a person: a catalogue key and the values of its
/// `{name}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub key: Cow<'static, str>,
    pub args: Vec<(&'static str, String)>,
}

impl Msg {
    pub const fn new(key: &'static str) -> Msg {
        Msg {
            key: Cow::Borrowed(key),
            args: Vec::new(),
        }
    }

    /// A key computed at run time (a domain error's code, a verdict).
    pub fn owned(key: String) -> Msg {
        Msg {
            key: Cow::Owned(key),
            args: Vec::new(),
        }
    }

    /// A validation error of the domain crate, which carries its own
    /// message in both languages (`domain.error` shows them).
    pub fn domain(e: &impl domain::error::UserFacingError) -> Msg {
        Msg::new("domain.error")
            .arg("zh", e.message_zh())
            .arg("en", e.to_string())
    }

    /// Fills the placeholder `{name}` with `value`.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Msg {
        self.args.push((name, value.to_string()));
        self
    }
}

/// Things a use case can fail to find. Each has a catalogue key
/// `thing.<name>`, so adapters can say "order not found" in either language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Thing {
    App,
    Version,
    Order,
    Dataset,
    TestRun,
    Question,
    Rating,
    Complaint,
    SettlementRun,
    SettlementLine,
    Adjustment,
    User,
    Notification,
    Invocation,
    Record,
    Endpoint,
    Period,
    FraudSignal,
}

impl Thing {
    pub fn key(self) -> &'static str {
        match self {
            Thing::App => "thing.app",
            Thing::Version => "thing.version",
            Thing::Order => "thing.order",
            Thing::Dataset => "thing.dataset",
            Thing::TestRun => "thing.test_run",
            Thing::Question => "thing.question",
            Thing::Rating => "thing.rating",
            Thing::Complaint => "thing.complaint",
            Thing::SettlementRun => "thing.settlement_run",
            Thing::SettlementLine => "thing.settlement_line",
            Thing::Adjustment => "thing.adjustment",
            Thing::User => "thing.user",
            Thing::Notification => "thing.notification",
            Thing::Invocation => "thing.invocation",
            Thing::Record => "thing.record",
            Thing::Endpoint => "thing.endpoint",
            Thing::Period => "thing.period",
            Thing::FraudSignal => "thing.fraud_signal",
        }
    }
}

/// Why a use case refused.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// It does not exist, or the actor may not know that it does.
    #[error("{0:?} not found")]
    NotFound(Thing),
    /// No usable session: not signed in, expired, disabled.
    #[error("unauthenticated: {}", .0.key)]
    Unauthenticated(Msg),
    /// Signed in, but this actor may not do this.
    #[error("forbidden: {}", .0.key)]
    Forbidden(Msg),
    /// Signed in with the right role, but this actor may not do this to
    /// this thing, for the reason `code` names (e.g. `four_eyes`: the
    /// drafter of a run may not approve it).
    #[error("refused {code}: {}", msg.key)]
    Refused { code: &'static str, msg: Msg },
    /// The request is fine but the state of things refuses it (`code`
    /// names the state, e.g. `order_not_open`).
    #[error("conflict {code}: {}", msg.key)]
    Conflict {
        code: &'static str,
        msg: Msg,
        field: Option<&'static str>,
    },
    /// A well-formed request whose `field` holds an unacceptable value.
    #[error("invalid {field}: {}", msg.key)]
    Invalid { field: Cow<'static, str>, msg: Msg },
    /// Well-formed, but not something this use case can take as a whole.
    #[error("unprocessable {code}: {}", msg.key)]
    Unprocessable { code: &'static str, msg: Msg },
    /// Malformed input the adapter could not have caught itself.
    #[error("bad request {code}: {}", msg.key)]
    BadRequest { code: &'static str, msg: Msg },
    /// Over a size limit.
    #[error("too large: {}", .0.key)]
    TooLarge(Msg),
    /// Over a rate limit; try again after this many seconds.
    #[error("rate limited for {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// It existed, and is gone for good (e.g. a replay record past its
    /// retention period).
    #[error("gone: {}", .0.key)]
    Gone(Msg),
    /// A part the use case needs is down for now (search, payouts).
    #[error("unavailable: {}", .0.key)]
    Unavailable(Msg),
    /// A bug or an outage: logged with its cause, shown to nobody.
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn invalid(field: impl Into<Cow<'static, str>>, msg: Msg) -> ServiceError {
        ServiceError::Invalid {
            field: field.into(),
            msg,
        }
    }

    pub fn conflict(code: &'static str, msg: Msg) -> ServiceError {
        ServiceError::Conflict {
            code,
            msg,
            field: None,
        }
    }

    pub fn unprocessable(code: &'static str, msg: Msg) -> ServiceError {
        ServiceError::Unprocessable { code, msg }
    }

    pub fn bad_request(code: &'static str, msg: Msg) -> ServiceError {
        ServiceError::BadRequest { code, msg }
    }

    pub fn forbidden(key: &'static str) -> ServiceError {
        ServiceError::Forbidden(Msg::new(key))
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> ServiceError {
        ServiceError::Internal(source.into())
    }

    /// For command-line callers: what went wrong, with the internal cause
    /// when there is one (an operator may see it; a web client may not).
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            ServiceError::Internal(e) => e,
            other => anyhow::anyhow!("{other}"),
        }
    }

    /// True for failures the caller caused (everything but `Internal` and
    /// `Unavailable`), which pages show beside the form instead of an
    /// error page.
    pub fn is_client_error(&self) -> bool {
        !matches!(
            self,
            ServiceError::Internal(_) | ServiceError::Unavailable(_)
        )
    }

    /// The field at fault, when the error names one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ServiceError::Invalid { field, .. } => Some(field),
            ServiceError::Conflict { field, .. } => *field,
            _ => None,
        }
    }

    /// The same error about another field (a form names its fields
    /// differently from the API).
    pub fn with_field(self, name: &'static str) -> ServiceError {
        match self {
            ServiceError::Invalid { msg, .. } => ServiceError::Invalid {
                field: Cow::Borrowed(name),
                msg,
            },
            ServiceError::Conflict { code, msg, .. } => ServiceError::Conflict {
                code,
                msg,
                field: Some(name),
            },
            other => other,
        }
    }
}

impl From<store::StoreError> for ServiceError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::NotFound => ServiceError::NotFound(Thing::Record),
            store::StoreError::Conflict { what } => {
                ServiceError::conflict("conflict", Msg::new("err.exists").arg("what", what))
            }
            other => ServiceError::Internal(other.into()),
        }
    }
}

impl From<sea_orm::DbErr> for ServiceError {
    fn from(e: sea_orm::DbErr) -> Self {
        ServiceError::Internal(e.into())
    }
}

impl From<domain::TransitionError> for ServiceError {
    fn from(e: domain::TransitionError) -> Self {
        ServiceError::conflict(
            "invalid_transition",
            Msg::new("err.invalid_transition").arg("detail", e),
        )
    }
}

impl From<tokio::task::JoinError> for ServiceError {
    fn from(e: tokio::task::JoinError) -> Self {
        ServiceError::Internal(e.into())
    }
}
