//! Group commits. A run's batches go to one writer thread per store, which commits
//! everything that queued up while its previous commit was being made in one durable
//! transaction: a run of many short steps pays for an fsync per group, not per step, and
//! the steps never wait for the disk. Batches are committed in the order they were
//! submitted, so what is on disk after a crash is always a prefix of what was submitted
//! (the durability contract in `docs/db-format.md`).

use super::{Batch, Db};
use crate::error::{Error, Result};
use crate::run::RunId;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// At most this many bytes of values and logs go into one group, so that a commit stays
/// short and memory bounded when steps produce large values faster than the disk takes
/// them.
const GROUP_BYTES: u64 = 64 << 20;

/// A group gathers for at least this long after the previous commit began, unless a
/// flush is waiting for it. A commit costs about a millisecond of CPU and an fsync
/// whatever it holds: a run of short steps committing as fast as the disk allows spent a
/// core on it (and, sharing the process's memory map, slowed each step's page-table
/// updates). Batches wait at most this long more to be durable; no step waits for them.
const GROUP_INTERVAL: Duration = Duration::from_millis(4);

enum Job {
    Write(RunId, Box<Batch>),
    /// Answered once everything submitted before it is durable, or could not be made so.
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// What is waiting for the writer thread. A submit wakes the thread only when it is idle
/// (or the group is full): while a group gathers, the thread sleeps until the group is
/// due, so that a run of short steps costs a wake-up per group, not one per step (on 2
/// cores, a wake-up per step was a tenth of the run's CPU).
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    /// The weight of the writes queued.
    bytes: u64,
    /// Flushes queued: the group is due at once.
    flushes: usize,
    /// The thread waits for a first job.
    idle: bool,
    /// The writer was dropped: write what is queued, then stop.
    closed: bool,
    /// The thread is gone (it panicked): nothing queued will be written.
    stopped: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is consistent between statements: a panic elsewhere cannot tear it.
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The store's writer thread. Dropping it waits for every submitted batch to be written.
pub struct Writer {
    db: Arc<Db>,
    shared: Arc<Shared>,
    /// The first commit that failed; every later write is refused, since the log would
    /// have a gap.
    failed: Arc<Mutex<Option<String>>>,
    stats: Arc<WriterStats>,
    thread: Option<JoinHandle<()>>,
}

/// What a writer has done so far.
#[derive(Debug, Default)]
pub struct WriterStats {
    /// Batches committed.
    pub batches: AtomicU64,
    /// Transactions they took.
    pub groups: AtomicU64,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("db", &self.db).finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer thread of `db`.
    ///
    /// # Errors
    /// [`Error::Host`] when the thread cannot be started.
    pub fn start(db: Arc<Db>) -> Result<Writer> {
        let shared = Arc::new(Shared::default());
        let failed = Arc::new(Mutex::new(None));
        let stats = Arc::new(WriterStats::default());
        let (thread_db, thread_shared, thread_failed, thread_stats) =
            (db.clone(), shared.clone(), failed.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name("weft-writer".into())
            .spawn(move || write_groups(&thread_db, &thread_shared, &thread_failed, &thread_stats))
            .map_err(|e| Error::Host(format!("cannot start the store's writer thread: {e}")))?;
        Ok(Writer { db, shared, failed, stats, thread: Some(thread) })
    }

    /// Queues `batch` for the next group commit; it is durable once a later
    /// [`Writer::flush`] returns.
    ///
    /// # Errors
    /// [`Error::Db`] when an earlier commit failed: nothing more is written.
    pub fn submit(&self, run_id: RunId, batch: Batch) -> Result<()> {
        self.check()?;
        if batch.is_empty() {
            return Ok(());
        }
        let weight = batch.weight();
        let mut queue = self.shared.lock();
        if queue.stopped {
            return Err(self.fault("the store's writer thread stopped".into()));
        }
        queue.jobs.push_back(Job::Write(run_id, Box::new(batch)));
        queue.bytes += weight;
        if queue.idle || queue.bytes >= GROUP_BYTES {
            self.shared.wake.notify_one();
        }
        Ok(())
    }

    /// Waits until everything submitted so far is on disk.
    ///
    /// # Errors
    /// [`Error::Db`] when a commit failed.
    pub async fn flush(&self) -> Result<()> {
        let (done, written) = tokio::sync::oneshot::channel();
        {
            let mut queue = self.shared.lock();
            if queue.stopped {
                return Err(self.fault("the store's writer thread stopped".into()));
            }
            queue.jobs.push_back(Job::Flush(done));
            queue.flushes += 1;
            self.shared.wake.notify_one();
        }
        written.await.map_err(|_| self.fault("the store's writer thread stopped".into()))?;
        self.check()
    }

    /// Batches and group commits so far.
    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    fn check(&self) -> Result<()> {
        match &*self.failed.lock().unwrap_or_else(|p| p.into_inner()) {
            Some(message) => Err(self.fault(message.clone())),
            None => Ok(()),
        }
    }

    fn fault(&self, message: String) -> Error {
        Error::Db { path: self.db.path().to_path_buf(), message }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The thread writes what is queued, then sees the queue closed.
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread of {} panicked", self.db.path().display());
        }
    }
}

/// The writer thread: waits for a first job, gathers what is queued for at least
/// [`GROUP_INTERVAL`] since its previous commit began (unless a flush asks, the group
/// reaches [`GROUP_BYTES`], or the writer is dropped), commits it in one transaction,
/// answers the flushes that were waiting for it, and starts over.
fn write_groups(db: &Db, shared: &Shared, failed: &Mutex<Option<String>>, stats: &WriterStats) {
    let _unwinding = StopOnPanic(shared);
    let mut due = Instant::now();
    loop {
        let mut queue = shared.lock();
        while queue.jobs.is_empty() && !queue.closed {
            queue.idle = true;
            queue = shared.wake.wait(queue).unwrap_or_else(|p| p.into_inner());
        }
        queue.idle = false;
        if queue.jobs.is_empty() {
            return;
        }
        loop {
            let now = Instant::now();
            if now >= due || queue.flushes > 0 || queue.bytes >= GROUP_BYTES || queue.closed {
                break;
            }
            queue = shared.wake.wait_timeout(queue, due - now).unwrap_or_else(|p| p.into_inner()).0;
        }
        // The group: jobs in order, up to GROUP_BYTES; what is left waits for the next.
        let mut group: Vec<(RunId, Box<Batch>)> = Vec::new();
        let mut flushes = Vec::new();
        let mut bytes = 0;
        while bytes < GROUP_BYTES
            && let Some(job) = queue.jobs.pop_front()
        {
            match job {
                Job::Write(run_id, batch) => {
                    bytes += batch.weight();
                    group.push((run_id, batch));
                }
                Job::Flush(done) => flushes.push(done),
            }
        }
        queue.bytes -= bytes;
        queue.flushes -= flushes.len();
        drop(queue);
        due = Instant::now() + GROUP_INTERVAL;
        // The lock is taken only to read and record a failure, never across a commit:
        // `submit` checks it, and must not wait for the disk.
        let failed_before = failed.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        if !failed_before && !group.is_empty() {
            match db.commit_group(group.iter().map(|(id, batch)| (*id, &**batch))) {
                Ok(()) => {
                    stats.batches.fetch_add(group.len() as u64, Ordering::Relaxed);
                    stats.groups.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    tracing::error!("{e}");
                    *failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(match e {
                        Error::Db { message, .. } => message,
                        other => other.to_string(),
                    });
                }
            }
        }
        for done in flushes {
            // A flusher that went away no longer needs to know.
            let _ = done.send(());
        }
    }
}

/// Should the writer thread panic (a bug), what is queued is dropped, so that waiting
/// flushes fail instead of hanging, and later submits are refused.
struct StopOnPanic<'a>(&'a Shared);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut queue = self.0.lock();
            queue.stopped = true;
            queue.jobs.clear();
        }
    }
}
