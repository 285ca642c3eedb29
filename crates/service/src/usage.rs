//! Usage events, written in batches (group commit).
//!
//! Every invocation writes one usage event, and the citizen's response
//! carries its id, so the request waits for its row. Writing each row in its
//! own transaction would make the database commit the bottleneck (on SQLite
//! one fsync-bound writer for the whole node). Instead requests hand their
//! event to one writer task, which takes everything queued and writes it in
//! one transaction, then answers each request with its row's id: under load
//! many events share one commit, idle a single event is written at once.
//!
//! Nothing is lost on shutdown: a request is answered only after its event
//! is committed, and [`UsageRecorder::shutdown`] closes the queue and waits
//! for the writer to drain it. Events arriving after shutdown are written
//! directly.

use std::sync::{Arc, Mutex};

use store::usage::{Recorded, UsageEvent};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Most events in one transaction; bounds the transaction's duration.
const MAX_BATCH: usize = 512;
/// Queued events before requests wait for room (back-pressure).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Recorded, store::StoreError>>;

#[derive(Clone)]
pub struct UsageRecorder {
    inner: Arc<Inner>,
}

struct Inner {
    db: store::Db,
    /// The queue and its writer, started on first use (inside the runtime).
    writer: Mutex<WriterState>,
}

enum WriterState {
    NotStarted,
    Running {
        tx: mpsc::Sender<(UsageEvent, Reply)>,
        task: JoinHandle<()>,
    },
    Stopped,
}

impl UsageRecorder {
    pub fn new(db: store::Db) -> UsageRecorder {
        UsageRecorder {
            inner: Arc::new(Inner {
                db,
                writer: Mutex::new(WriterState::NotStarted),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WriterState> {
        // The state is a plain enum; a panic elsewhere cannot corrupt it.
        self.inner
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn sender(&self) -> Option<mpsc::Sender<(UsageEvent, Reply)>> {
        let mut state = self.lock();
        match &*state {
            WriterState::Running { tx, .. } => Some(tx.clone()),
            WriterState::Stopped => None,
            WriterState::NotStarted => {
                let (tx, rx) = mpsc::channel(QUEUE);
                let task = tokio::spawn(writer(self.inner.db.clone(), rx));
                *state = WriterState::Running {
                    tx: tx.clone(),
                    task,
                };
                Some(tx)
            }
        }
    }

    /// Records one event with its data access log and returns once it is
    /// committed. A repeated `(citizen, idempotency key)` answers the first
    /// event's id.
    pub async fn record(&self, event: UsageEvent) -> Result<Recorded, store::StoreError> {
        if let Some(tx) = self.sender() {
            let (reply, answer) = oneshot::channel();
            match tx.send((event, reply)).await {
                Ok(()) => {
                    if let Ok(result) = answer.await {
                        return result;
                    }
                    // The writer died before answering: its batch may or may
                    // not have been committed; the idempotency key (when
                    // given) makes the retry below safe.
                    return Err(store::StoreError::Db(sea_orm::DbErr::Custom(
                        "usage writer stopped before answering".into(),
                    )));
                }
                Err(mpsc::error::SendError((event, _))) => {
                    return write_one(&self.inner.db, event).await;
                }
            }
        }
        write_one(&self.inner.db, event).await
    }

    /// Stops taking events into the queue and waits until every queued
    /// event is written. Call after the HTTP server has stopped.
    pub async fn shutdown(&self) {
        let previous = std::mem::replace(&mut *self.lock(), WriterState::Stopped);
        if let WriterState::Running { tx, task } = previous {
            drop(tx);
            if let Err(e) = task.await {
                tracing::error!(error = %e, "usage writer ended abnormally");
            }
        }
    }
}

async fn writer(db: store::Db, mut rx: mpsc::Receiver<(UsageEvent, Reply)>) {
    let mut writer = store::usage::Writer::new(db);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    // recv() returns None only when every sender is gone and the queue is
    // empty: that is the drain on shutdown.
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(more) => batch.push(more),
                Err(_) => break,
            }
        }
        write_batch(&mut writer, &mut batch).await;
    }
    tracing::debug!("usage writer drained and stopped");
}

/// One event in its own transaction (the invocation and its queries
/// together or not at all).
async fn write_one(db: &store::Db, event: UsageEvent) -> Result<Recorded, store::StoreError> {
    only(store::usage::write_batch(db, std::slice::from_ref(&event)).await)
}

/// The answer of a batch of one.
fn only(answers: Result<Vec<Recorded>, store::StoreError>) -> Result<Recorded, store::StoreError> {
    answers?
        .into_iter()
        .next()
        .ok_or(store::StoreError::NotFound)
}

async fn write_batch(writer: &mut store::usage::Writer, batch: &mut Vec<(UsageEvent, Reply)>) {
    let (events, replies): (Vec<UsageEvent>, Vec<Reply>) = batch.drain(..).unzip();
    metrics::histogram!("govmarket_usage_batch_events").record(events.len() as f64);
    match writer.write(&events).await {
        Ok(ids) => {
            for (reply, id) in replies.into_iter().zip(ids) {
                let _ = reply.send(Ok(id));
            }
        }
        Err(e) => {
            // One bad event must not fail its neighbours: write them one
            // by one, each answering for itself.
            tracing::warn!(error = %e, size = events.len(), "usage batch failed; writing singly");
            for (event, reply) in events.into_iter().zip(replies) {
                let _ = reply.send(only(writer.write(std::slice::from_ref(&event)).await));
            }
        }
    }
}
