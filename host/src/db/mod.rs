//! The embedded store: runs, their event logs, step outputs, compute logs, memoized
//! results and the asset index, in one redb file that several processes share. Tables,
//! keys and encodings are documented in `docs/db-format.md`.

mod automation;
mod query;
mod retention;
mod tables;
mod writer;

pub use automation::{AutomationState, BackfillRecord, BackfillStatus, Claim, Tick, TickStatus};
pub use query::{AssetEntry, AssetSummary, RunFilter};
pub use retention::{GcReport, Retention};
pub use writer::{Writer, WriterStats};

use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::run::{RunId, RunRecord, RunStatus, now_micros};
use crate::value::Output;
use redb::{ConcurrencyMode, Database, ReadableDatabase, ReadableTable, TableError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tables::*;

/// The on-disk format this host writes. Older files are migrated when opened; newer
/// ones are refused.
pub const FORMAT_VERSION: u32 = 2;

/// Which captured stream of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 1,
    Stderr = 2,
}

/// Where a step with a given version key already succeeded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoEntry {
    pub run: RunId,
    pub step: String,
    /// Output name -> hex BLAKE3 digest of its blob.
    pub outputs: Vec<(String, String)>,
}

/// The store, open. Several processes may open the same file at once: any of them may
/// write, one write transaction at a time.
pub struct Db {
    path: PathBuf,
    db: Database,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// Writes that land together, in one transaction.
#[derive(Debug, Default)]
pub struct Batch {
    /// The run record; a finished run leaves the active set.
    pub run: Option<RunRecord>,
    /// Events; materializations among them are indexed by asset key.
    pub events: Vec<Event>,
    /// (step key, output): the value is stored once per content.
    pub outputs: Vec<(String, Output)>,
    /// (step key, attempt, stream, bytes).
    pub compute_logs: Vec<(String, u32, Stream, Vec<u8>)>,
    /// (step version key, where it succeeded).
    pub memo: Vec<([u8; 32], MemoEntry)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.run.is_none()
            && self.events.is_empty()
            && self.outputs.is_empty()
            && self.compute_logs.is_empty()
            && self.memo.is_empty()
    }

    /// Roughly how many bytes the batch holds: its values and compute logs.
    pub fn weight(&self) -> u64 {
        let values = self.outputs.iter().map(|(_, o)| o.value.size());
        let logs = self.compute_logs.iter().map(|(_, _, _, bytes)| bytes.len());
        (values.sum::<usize>() + logs.sum::<usize>()) as u64
    }
}

/// Shorthand for turning any redb error into an [`Error::Db`] naming the file.
trait OrDb<T> {
    fn or_db(self, db: &Db) -> Result<T>;
}

impl<T, E: std::fmt::Display> OrDb<T> for std::result::Result<T, E> {
    fn or_db(self, db: &Db) -> Result<T> {
        self.map_err(|e| Error::Db { path: db.path.clone(), message: e.to_string() })
    }
}

impl Db {
    /// Opens the store at `path`, creating it (and its directory) if needed, migrating an
    /// older format.
    ///
    /// # Errors
    /// [`Error::Db`] when the file cannot be opened, is not a weft store, or was written
    /// by a newer weft.
    pub fn open(path: &Path) -> Result<Db> {
        let fail = |message: String| Error::Db { path: path.to_path_buf(), message };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create its directory: {e}")))?;
        }
        let db = Database::builder()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(path)
            .map_err(|e| fail(format!("cannot open: {e}")))?;
        let db = Db { path: path.to_path_buf(), db };
        db.check_format()?;
        Ok(db)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the format version in a new file, migrates an older one, refuses a newer.
    fn check_format(&self) -> Result<()> {
        let tx = self.db.begin_write().or_db(self)?;
        {
            let mut meta = tx.open_table(META).or_db(self)?;
            let found = meta.get("format_version").or_db(self)?.map(|v| v.value().to_vec());
            let version = match found {
                // A new file, or one that never finished its first transaction.
                None => FORMAT_VERSION,
                Some(bytes) => <[u8; 4]>::try_from(bytes.as_slice()).map(u32::from_le_bytes).unwrap_or(u32::MAX),
            };
            if version > FORMAT_VERSION {
                return Err(Error::Db {
                    path: self.path.clone(),
                    message: format!(
                        "written by a newer weft (format version {version}); this weft reads versions up to {FORMAT_VERSION}"
                    ),
                });
            }
            if version == 1 {
                migrate_v1(&tx).or_db(self)?;
            }
            meta.insert("format_version", FORMAT_VERSION.to_le_bytes().as_slice()).or_db(self)?;
        }
        // Create every table so that readers never find one missing.
        tx.open_table(RUNS).or_db(self)?;
        tx.open_table(EVENTS).or_db(self)?;
        tx.open_table(OUTPUTS).or_db(self)?;
        tx.open_table(BLOBS).or_db(self)?;
        tx.open_table(COMPUTE_LOGS).or_db(self)?;
        tx.open_table(ACTIVE).or_db(self)?;
        tx.open_table(MEMO).or_db(self)?;
        tx.open_table(ASSETS).or_db(self)?;
        tx.open_table(PARTITION_RUNS).or_db(self)?;
        tx.open_table(BACKFILLS).or_db(self)?;
        tx.open_table(TICKS).or_db(self)?;
        tx.open_table(AUTOMATION).or_db(self)?;
        tx.open_table(RUN_KEYS).or_db(self)?;
        tx.commit().or_db(self)
    }

    /// Writes a batch in one durable transaction.
    ///
    /// # Errors
    /// [`Error::Db`] when the write fails; nothing of the batch is then stored.
    pub fn commit(&self, run_id: RunId, batch: &Batch) -> Result<()> {
        self.commit_group(std::iter::once((run_id, batch)))
    }

    /// Writes several runs' batches in one durable transaction, in order: a group commit.
    ///
    /// # Errors
    /// [`Error::Db`] when the write fails; nothing of the group is then stored.
    pub fn commit_group<'b>(&self, batches: impl IntoIterator<Item = (RunId, &'b Batch)>) -> Result<()> {
        let mut batches = batches.into_iter().filter(|(_, b)| !b.is_empty()).peekable();
        if batches.peek().is_none() {
            return Ok(());
        }
        let tx = self.db.begin_write().or_db(self)?;
        {
            let mut tables = Tables::open(&tx).or_db(self)?;
            for (run_id, batch) in batches {
                tables.write(run_id, batch).or_db(self)?;
            }
        }
        tx.commit().or_db(self)
    }

    /// Marks every unfinished run whose owner is gone (per `is_alive`) as INTERRUPTED:
    /// its running steps get a `STEP_CANCELED`, the run a `RUN_INTERRUPTED`. Checked and
    /// written in one transaction, so two processes never both mark one run.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read or written.
    pub fn recover_interrupted(&self, is_alive: impl Fn(&str) -> bool) -> Result<Vec<RunId>> {
        let suspects: Vec<(u128, String)> = {
            let tx = self.db.begin_read().or_db(self)?;
            let active = tx.open_table(ACTIVE).or_db(self)?;
            let mut found = Vec::new();
            for entry in active.iter().or_db(self)? {
                let (id, owner) = entry.or_db(self)?;
                found.push((id.value(), owner.value().to_owned()));
            }
            found
        };
        let mut recovered = Vec::new();
        for (id, owner) in suspects.into_iter().filter(|(_, owner)| !is_alive(owner)) {
            let tx = self.db.begin_write().or_db(self)?;
            // Still active, still the same owner? Another process may have just done this.
            let current = tx.open_table(ACTIVE).or_db(self)?.get(id).or_db(self)?.map(|o| o.value().to_owned());
            if current.as_deref() != Some(owner.as_str()) {
                continue;
            }
            let run_id = RunId(id);
            let mut record: RunRecord = {
                let runs = tx.open_table(RUNS).or_db(self)?;
                let json = runs.get(id).or_db(self)?.map(|j| j.value().to_vec()).unwrap_or_default();
                serde_json::from_slice(&json).or_db(self)?
            };
            let mut events: Vec<Event> = Vec::new();
            {
                let table = tx.open_table(EVENTS).or_db(self)?;
                for entry in table.range((id, 0)..=(id, u64::MAX)).or_db(self)? {
                    let (_, json) = entry.or_db(self)?;
                    events.push(serde_json::from_slice(json.value()).or_db(self)?);
                }
            }
            let mut seq = events.last().map_or(0, |e| e.seq + 1);
            let now = now_micros();
            let mut added = Vec::new();
            for step in query::running_steps(&events) {
                let reason = "the host process stopped while the step ran".to_owned();
                added.push(Event { seq, timestamp: now, step: Some(step), kind: EventKind::StepCanceled { reason } });
                seq += 1;
            }
            let message = format!("the host process that ran it (owner {owner}) is gone");
            added.push(Event { seq, timestamp: now, step: None, kind: EventKind::RunInterrupted { message } });
            record.status = record.status.transition(RunStatus::Interrupted);
            record.ended_at = Some(now);
            {
                let mut table = tx.open_table(EVENTS).or_db(self)?;
                for event in &added {
                    let json = serde_json::to_vec(event).or_db(self)?;
                    table.insert((id, event.seq), json.as_slice()).or_db(self)?;
                }
                let json = serde_json::to_vec(&record).or_db(self)?;
                tx.open_table(RUNS).or_db(self)?.insert(id, json.as_slice()).or_db(self)?;
                tx.open_table(ACTIVE).or_db(self)?.remove(id).or_db(self)?;
            }
            tx.commit().or_db(self)?;
            recovered.push(run_id);
        }
        Ok(recovered)
    }
}

/// The tables a batch writes to, open in one write transaction.
struct Tables<'tx> {
    runs: redb::Table<'tx, u128, &'static [u8]>,
    active: redb::Table<'tx, u128, &'static str>,
    events: redb::Table<'tx, (u128, u64), &'static [u8]>,
    assets: redb::Table<'tx, (&'static str, u128, u64), &'static str>,
    outputs: redb::Table<'tx, (u128, &'static str, &'static str), [u8; 32]>,
    blobs: redb::Table<'tx, [u8; 32], &'static [u8]>,
    compute_logs: redb::Table<'tx, (u128, &'static str, u32, u8), &'static [u8]>,
    memo: redb::Table<'tx, [u8; 32], &'static [u8]>,
    partition_runs: redb::Table<'tx, (&'static str, &'static str, u128), ()>,
}

type WriteResult = std::result::Result<(), Box<dyn std::error::Error + Send + Sync>>;

impl<'tx> Tables<'tx> {
    fn open(tx: &'tx redb::WriteTransaction) -> std::result::Result<Tables<'tx>, TableError> {
        Ok(Tables {
            runs: tx.open_table(RUNS)?,
            active: tx.open_table(ACTIVE)?,
            events: tx.open_table(EVENTS)?,
            assets: tx.open_table(ASSETS)?,
            outputs: tx.open_table(OUTPUTS)?,
            blobs: tx.open_table(BLOBS)?,
            compute_logs: tx.open_table(COMPUTE_LOGS)?,
            memo: tx.open_table(MEMO)?,
            partition_runs: tx.open_table(PARTITION_RUNS)?,
        })
    }

    fn write(&mut self, run_id: RunId, batch: &Batch) -> WriteResult {
        if let Some(run) = &batch.run {
            self.runs.insert(run.id.0, serde_json::to_vec(run)?.as_slice())?;
            if let Some(partition) = run.tags.get(crate::partition::PARTITION_TAG) {
                self.partition_runs.insert((run.pipeline.as_str(), partition.as_str(), run.id.0), ())?;
            }
            if run.status.is_finished() {
                self.active.remove(run.id.0)?;
            } else {
                self.active.insert(run.id.0, run.owner.as_deref().unwrap_or(""))?;
            }
        }
        for event in &batch.events {
            self.events.insert((run_id.0, event.seq), serde_json::to_vec(event)?.as_slice())?;
            if let EventKind::Materialization { asset_key, .. } = &event.kind {
                let step = event.step.as_deref().unwrap_or("");
                self.assets.insert((asset_key.as_str(), run_id.0, event.seq), step)?;
            }
        }
        for (step, output) in &batch.outputs {
            let digest = *output.digest.as_bytes();
            if self.blobs.get(digest)?.is_none() {
                // Encoded straight into the page: the value is copied once, to disk.
                let value = &output.value;
                value.encode_into(self.blobs.insert_reserve(digest, value.encoded_len())?.as_mut());
            }
            self.outputs.insert((run_id.0, step.as_str(), output.name.as_str()), digest)?;
        }
        for (step, attempt, stream, bytes) in &batch.compute_logs {
            self.compute_logs.insert((run_id.0, step.as_str(), *attempt, *stream as u8), bytes.as_slice())?;
        }
        for (key, entry) in &batch.memo {
            self.memo.insert(key, serde_json::to_vec(entry)?.as_slice())?;
        }
        Ok(())
    }
}

/// Version 1 -> 2: compute logs gain the attempt (1), and the asset index is built from
/// the materialization events already stored.
fn migrate_v1(tx: &redb::WriteTransaction) -> std::result::Result<(), redb::Error> {
    /// A version 1 compute log row: (run, step, stream) and its bytes.
    type LogRow = ((u128, String, u8), Vec<u8>);
    let old: Option<Vec<LogRow>> = match tx.open_table(COMPUTE_LOGS_V1) {
        Ok(table) => {
            let mut rows = Vec::new();
            for entry in table.iter()? {
                let (key, bytes) = entry?;
                let (run, step, stream) = key.value();
                rows.push(((run, step.to_owned(), stream), bytes.value().to_vec()));
            }
            Some(rows)
        }
        // Already in the new layout (a development build wrote it): nothing to move.
        Err(TableError::TableTypeMismatch { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(rows) = old {
        tx.delete_table(COMPUTE_LOGS_V1)?;
        let mut logs = tx.open_table(COMPUTE_LOGS)?;
        for ((run, step, stream), bytes) in rows {
            logs.insert((run, step.as_str(), 1, stream), bytes.as_slice())?;
        }
    }
    let mut index = Vec::new();
    for entry in tx.open_table(EVENTS)?.iter()? {
        let (key, json) = entry?;
        let (run, seq) = key.value();
        if let Ok(event) = serde_json::from_slice::<Event>(json.value())
            && let EventKind::Materialization { asset_key, .. } = event.kind
        {
            index.push((asset_key, run, seq, event.step.unwrap_or_default()));
        }
    }
    let mut assets = tx.open_table(ASSETS)?;
    for (key, run, seq, step) in &index {
        assets.insert((key.as_str(), *run, *seq), step.as_str())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
