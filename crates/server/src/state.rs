//! What every handler shares is the use cases' [`service::Services`]: the
//! database, configuration, keys, sandbox, search index and caches.

pub use service::Services as AppState;
