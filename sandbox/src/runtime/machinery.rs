//! What a sandbox runs on: the compiled-module cache, the run permits, the epoch ticker
//! and the run threads.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use parking_lot::{Condvar, Mutex};
use wasmtime::{Engine, InstancePre};

use super::{EPOCH_TICK, ModuleInfo, SandboxError};
use crate::host::HostState;

/// A validated, compiled module ready to instantiate.
pub(super) struct Compiled {
    pub(super) info: ModuleInfo,
    pub(super) pre: InstancePre<HostState>,
}

#[derive(Default)]
pub(super) struct ModuleCache {
    pub(super) by_sha: HashMap<String, Arc<Compiled>>,
    pub(super) order: VecDeque<String>,
}

/// A counting semaphore for blocking callers.
pub(super) struct Permits {
    pub(super) free: Mutex<usize>,
    pub(super) freed: Condvar,
}

pub(super) struct Permit<'a>(&'a Permits);

impl Permits {
    pub(super) fn new(n: usize) -> Self {
        Self {
            free: Mutex::new(n),
            freed: Condvar::new(),
        }
    }

    pub(super) fn acquire(&self) -> Permit<'_> {
        let mut free = self.free.lock();
        while *free == 0 {
            self.freed.wait(&mut free);
        }
        *free -= 1;
        Permit(self)
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        *self.0.free.lock() += 1;
        self.0.freed.notify_one();
    }
}

/// Advances the engine epoch on its own OS thread, outside any async executor, so a busy
/// executor can never delay a wall-time deadline.
pub(super) struct EpochTicker {
    pub(super) stop: Arc<AtomicBool>,
    pub(super) thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(super) fn start(engine: Engine) -> Result<Self, SandboxError> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sandbox-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| SandboxError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            // The ticker never panics; a join error would only mean it already ended.
            let _ = thread.join();
        }
    }
}

/// A run queued for the run threads.
pub(super) type Job = Box<dyn FnOnce() + Send>;

/// Runs queued per run thread before callers wait (asynchronously) for room.
pub(super) const QUEUE_PER_THREAD: usize = 64;

/// The threads that serve [`Sandbox::run_async`], as many as runs may go at
/// once, fed by one queue.
///
/// A run is CPU-bound and takes about a tenth of a millisecond. Handing each
/// to `spawn_blocking` behind an async semaphore made every hand-off wait
/// for the runtime to poll the next waiting task, with a slot held all the
/// while: on a busy two-core machine that wait was ten times the run. Here a
/// thread that finishes a run takes the next queued one at once, and a
/// burst waits in the queue instead of piling up blocked threads.
pub(super) struct RunThreads {
    pub(super) queue: tokio::sync::mpsc::Sender<Job>,
}

impl RunThreads {
    pub(super) fn start(count: usize) -> Result<RunThreads, SandboxError> {
        let (queue, rx) = tokio::sync::mpsc::channel::<Job>(count * QUEUE_PER_THREAD);
        let rx = Arc::new(parking_lot::Mutex::new(rx));
        for i in 0..count {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("sandbox-run-{i}"))
                .spawn(move || {
                    loop {
                        // One thread waits on the queue, the others on the
                        // lock; `None` once the sandbox is gone.
                        let job = rx.lock().blocking_recv();
                        let Some(job) = job else { break };
                        // A panic must not take a run thread with it; the
                        // job's caller sees its answer dropped.
                        if std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).is_err() {
                            tracing::error!("a sandbox run panicked");
                        }
                    }
                })
                .map_err(|e| SandboxError::Engine(format!("starting a run thread: {e}")))?;
        }
        Ok(RunThreads { queue })
    }
}
