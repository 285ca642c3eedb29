//! The periodic jobs every `serve` node runs: telling supervisors of
//! overdue complaints, and purging replay records past their retention.
//! Each is safe on several nodes at once (a claim per complaint; a delete
//! by cut-off), so no node has to be chosen to run them.

use std::time::Duration;

use chrono::Utc;

use crate::services::Services;

/// How often overdue complaints are looked for: a complaint's supervisors
/// learn of it within a minute of its deadline.
pub const OVERDUE_EVERY: Duration = Duration::from_secs(60);
/// How often replay records past their retention are purged.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Runs the jobs now and then on their intervals until the task is dropped.
pub fn spawn(services: Services) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut overdue = tokio::time::interval(OVERDUE_EVERY);
        let mut purge = tokio::time::interval(PURGE_EVERY);
        loop {
            tokio::select! {
                _ = overdue.tick() => {
                    if let Err(e) = crate::complaints::notify_overdue(&services, Utc::now()).await {
                        tracing::error!(error = ?e.into_anyhow(), "telling of overdue complaints failed");
                    }
                }
                _ = purge.tick() => {
                    if let Err(e) = crate::replay::purge_expired(&services, Utc::now()).await {
                        tracing::error!(error = ?e.into_anyhow(), "purging replay records failed");
                    }
                }
            }
        }
    })
}
