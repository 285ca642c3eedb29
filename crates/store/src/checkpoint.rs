//! WAL checkpoints off the writers' path (SQLite).
//!
//! By default SQLite checkpoints inside whichever commit pushes the WAL past
//! 1,000 pages: that writer copies the WAL back into the database file and
//! fsyncs both before its commit returns, and every writer queued behind it
//! waits. With `synchronous = NORMAL` a WAL commit itself never syncs, so
//! that checkpoint is the only sync on the write path, and by far its
//! slowest step: batches of five usage events took 0.44 ms at the median
//! and 14 ms at the 99th percentile, the batches that carried a checkpoint
//! (15–20 ms on this class of disk); with the checkpoint moved here, 0.95 ms
//! at the 99th percentile.
//!
//! So a connection of its own runs a passive checkpoint every
//! [`CHECKPOINT_EVERY`]: the copying and syncing happen on its thread while
//! writers go on (a passive checkpoint takes no lock a writer needs). The
//! pool's connections keep an automatic checkpoint, at a higher mark
//! ([`BACKSTOP_PAGES`]), only in case this one falls behind or fails.

use std::sync::{Arc, Weak};
use std::time::Duration;

use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::sqlx::{self, ConnectOptions, Connection};

/// How often the background checkpoint runs. At a few thousand usage
/// events a second the WAL grows by a few MiB in between.
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);

/// The pool connections' `wal_autocheckpoint`: ten times SQLite's default,
/// so that in normal operation only the background checkpoint runs, while a
/// WAL left unattended still stops growing near 40 MiB.
pub(crate) const BACKSTOP_PAGES: u32 = 10_000;

/// Kept by every clone of the [`crate::Db`]; the checkpointer stops once
/// the last is dropped.
#[derive(Debug)]
pub(crate) struct Alive;

/// Starts the background checkpoint on a connection of its own, opened with
/// `options` (a file database in WAL mode). Returns the token whose drop
/// stops it.
pub(crate) async fn start(options: &SqliteConnectOptions) -> Result<Arc<Alive>, sqlx::Error> {
    let conn = options.connect().await?;
    let alive = Arc::new(Alive);
    tokio::spawn(run(conn, Arc::downgrade(&alive)));
    Ok(alive)
}

async fn run(mut conn: sqlx::SqliteConnection, alive: Weak<Alive>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        if alive.strong_count() == 0 {
            break;
        }
        // Passive: copies back what no reader still needs, takes no lock a
        // writer waits for.
        let result = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&mut conn)
            .await;
        // Reported once per outage: the backstop keeps the WAL bounded
        // meanwhile, and a line per tick would flood the log.
        match &result {
            Ok(_) if failing => tracing::info!("WAL checkpoints work again"),
            Err(e) if !failing => {
                tracing::warn!(error = %e, "WAL checkpoint failed; writers checkpoint instead");
            }
            _ => {}
        }
        failing = result.is_err();
    }
    // The last connection to close checkpoints what is left and removes the WAL.
    let _ = conn.close().await;
}
