//! Group commits. A run's batches go to one writer thread per store, which commits
//! everything that queued up while its previous commit was being made in one durable
//! transaction: a run of many short steps pays for an fsync per group, not per step, and
//! the steps never wait for the disk. Batches are committed in the order they were
//! submitted, so what is on disk after a crash is always a prefix of what was submitted
//! (the durability contract in `docs/db-format.md`).

use super::{Batch, Db};
use crate::error::{Error, Result};
use crate::run::RunId;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
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

/// The store's writer thread. Dropping it waits for every submitted batch to be written.
pub struct Writer {
    db: Arc<Db>,
    jobs: Option<mpsc::Sender<Job>>,
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
        let (jobs, queue) = mpsc::channel();
        let failed = Arc::new(Mutex::new(None));
        let stats = Arc::new(WriterStats::default());
        let (thread_db, thread_failed, thread_stats) = (db.clone(), failed.clone(), stats.clone());
        let thread = std::thread::Builder::new()
            .name("weft-writer".into())
            .spawn(move || write_groups(&thread_db, &queue, &thread_failed, &thread_stats))
            .map_err(|e| Error::Host(format!("cannot start the store's writer thread: {e}")))?;
        Ok(Writer { db, jobs: Some(jobs), failed, stats, thread: Some(thread) })
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
        self.send(Job::Write(run_id, Box::new(batch)))
    }

    /// Waits until everything submitted so far is on disk.
    ///
    /// # Errors
    /// [`Error::Db`] when a commit failed.
    pub async fn flush(&self) -> Result<()> {
        let (done, written) = tokio::sync::oneshot::channel();
        self.send(Job::Flush(done))?;
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

    fn send(&self, job: Job) -> Result<()> {
        let jobs = self.jobs.as_ref().expect("the queue lives as long as the writer");
        jobs.send(job).map_err(|_| self.fault("the store's writer thread stopped".into()))
    }

    fn fault(&self, message: String) -> Error {
        Error::Db { path: self.db.path().to_path_buf(), message }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // The thread drains the queue, then sees it closed.
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the writer thread of {} panicked", self.db.path().display());
        }
    }
}

/// The writer thread: gathers what is queued, up to [`GROUP_BYTES`], for at least
/// [`GROUP_INTERVAL`] since its previous commit began (or until a flush asks), commits it
/// in one transaction, answers the flushes that were waiting for it, and starts over.
fn write_groups(db: &Db, queue: &mpsc::Receiver<Job>, failed: &Mutex<Option<String>>, stats: &WriterStats) {
    let mut due = Instant::now();
    while let Ok(first) = queue.recv() {
        let mut group: Vec<(RunId, Box<Batch>)> = Vec::new();
        let mut flushes = Vec::new();
        let mut bytes = 0;
        let mut job = Some(first);
        while let Some(current) = job.take() {
            match current {
                Job::Write(run_id, batch) => {
                    bytes += batch.weight();
                    group.push((run_id, batch));
                }
                Job::Flush(done) => flushes.push(done),
            }
            if bytes >= GROUP_BYTES || !flushes.is_empty() {
                break;
            }
            job = match queue.try_recv() {
                Ok(next) => Some(next),
                Err(mpsc::TryRecvError::Disconnected) => None,
                Err(mpsc::TryRecvError::Empty) => {
                    let now = Instant::now();
                    if now >= due { None } else { queue.recv_timeout(due - now).ok() }
                }
            };
        }
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
