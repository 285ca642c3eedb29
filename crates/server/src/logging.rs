//! How the server's log lines are written. A person at a terminal reads
//! coloured text; anything else (a file, a log collector) gets one JSON
//! object per line with no colour codes, each carrying the request's span:
//! its method, path and `request_id` (the `x-request-id` header, which the
//! response carries too).

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The subscriber for `writer`: text with colour when `terminal`, JSON
/// without colour otherwise.
pub fn subscriber<W>(
    writer: W,
    terminal: bool,
    filter: EnvFilter,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if terminal {
        Box::new(builder.finish())
    } else {
        Box::new(
            builder
                .json()
                .with_ansi(false)
                .with_current_span(true)
                .finish(),
        )
    }
}

/// `GOVMARKET_LOG`, else `RUST_LOG`, else the default levels.
pub fn filter_from_env() -> EnvFilter {
    EnvFilter::try_from_env("GOVMARKET_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"))
}
