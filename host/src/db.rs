//! The embedded store: runs, their event logs, step outputs and compute logs, in one redb
//! file. Tables, keys and encodings are documented in `docs/db-format.md`; change them
//! only together with [`FORMAT_VERSION`].

use crate::error::{Error, Result};
use crate::event::Event;
use crate::run::{RunId, RunRecord};
use crate::value::Value;
use redb::{ConcurrencyMode, Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};

/// The on-disk format this host writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// `"format_version"` -> u32, little-endian.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
/// Run id -> JSON [`RunRecord`].
const RUNS: TableDefinition<u128, &[u8]> = TableDefinition::new("runs");
/// (run id, seq) -> JSON [`Event`].
const EVENTS: TableDefinition<(u128, u64), &[u8]> = TableDefinition::new("events");
/// (run id, step key, output name) -> BLAKE3 digest of the encoded value.
const OUTPUTS: TableDefinition<(u128, &str, &str), [u8; 32]> = TableDefinition::new("step_outputs");
/// Digest -> encoded value (see [`Value::encode`]), stored once per content.
const BLOBS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("blobs");
/// (run id, step key, attempt, stream: 1 stdout, 2 stderr) -> captured bytes.
const COMPUTE_LOGS: TableDefinition<(u128, &str, u32, u8), &[u8]> = TableDefinition::new("compute_logs");

/// Which captured stream of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout = 1,
    Stderr = 2,
}

/// The store, open. Several processes may open the same file at once.
pub struct Db {
    path: PathBuf,
    db: Database,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

/// Writes that land together, in one transaction: when `commit` returns they are durable.
#[derive(Debug, Default)]
pub struct Batch {
    pub run: Option<RunRecord>,
    pub events: Vec<Event>,
    pub outputs: Vec<(String, String, Value)>,
    /// (step key, attempt, stream, bytes).
    pub compute_logs: Vec<(String, u32, Stream, Vec<u8>)>,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.run.is_none() && self.events.is_empty() && self.outputs.is_empty() && self.compute_logs.is_empty()
    }
}

impl Db {
    /// Opens the store at `path`, creating it (and its directory) if needed.
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

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::Db { path: self.path.clone(), message: e.to_string() }
    }

    /// Records the format version in a new file; refuses a file of another version.
    fn check_format(&self) -> Result<()> {
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            let mut meta = tx.open_table(META).map_err(|e| self.err(e))?;
            let found = meta.get("format_version").map_err(|e| self.err(e))?.map(|v| v.value().to_vec());
            match found {
                None => {
                    meta.insert("format_version", FORMAT_VERSION.to_le_bytes().as_slice()).map_err(|e| self.err(e))?;
                }
                Some(bytes) => {
                    let version = <[u8; 4]>::try_from(bytes.as_slice()).map(u32::from_le_bytes).unwrap_or(u32::MAX);
                    if version != FORMAT_VERSION {
                        return Err(self.err(format!(
                            "written in format version {version}; this weft reads version {FORMAT_VERSION}"
                        )));
                    }
                }
            }
            // Create every table so that readers never find one missing.
            tx.open_table(RUNS).map_err(|e| self.err(e))?;
            tx.open_table(EVENTS).map_err(|e| self.err(e))?;
            tx.open_table(OUTPUTS).map_err(|e| self.err(e))?;
            tx.open_table(BLOBS).map_err(|e| self.err(e))?;
            tx.open_table(COMPUTE_LOGS).map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Writes a batch in one durable transaction.
    ///
    /// # Errors
    /// [`Error::Db`] when the write fails; nothing of the batch is then stored.
    pub fn commit(&self, run_id: RunId, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let tx = self.db.begin_write().map_err(|e| self.err(e))?;
        {
            if let Some(run) = &batch.run {
                let mut runs = tx.open_table(RUNS).map_err(|e| self.err(e))?;
                let json = serde_json::to_vec(run).map_err(|e| self.err(e))?;
                runs.insert(run.id.0, json.as_slice()).map_err(|e| self.err(e))?;
            }
            if !batch.events.is_empty() {
                let mut events = tx.open_table(EVENTS).map_err(|e| self.err(e))?;
                for event in &batch.events {
                    let json = serde_json::to_vec(event).map_err(|e| self.err(e))?;
                    events.insert((run_id.0, event.seq), json.as_slice()).map_err(|e| self.err(e))?;
                }
            }
            if !batch.outputs.is_empty() {
                let mut outputs = tx.open_table(OUTPUTS).map_err(|e| self.err(e))?;
                let mut blobs = tx.open_table(BLOBS).map_err(|e| self.err(e))?;
                for (step, output, value) in &batch.outputs {
                    let encoded = value.encode();
                    let digest = *blake3::hash(&encoded).as_bytes();
                    if blobs.get(digest).map_err(|e| self.err(e))?.is_none() {
                        blobs.insert(digest, encoded.as_slice()).map_err(|e| self.err(e))?;
                    }
                    outputs.insert((run_id.0, step.as_str(), output.as_str()), digest).map_err(|e| self.err(e))?;
                }
            }
            if !batch.compute_logs.is_empty() {
                let mut logs = tx.open_table(COMPUTE_LOGS).map_err(|e| self.err(e))?;
                for (step, attempt, stream, bytes) in &batch.compute_logs {
                    logs.insert((run_id.0, step.as_str(), *attempt, *stream as u8), bytes.as_slice())
                        .map_err(|e| self.err(e))?;
                }
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let runs = tx.open_table(RUNS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in runs.iter().map_err(|e| self.err(e))?.rev() {
            let (_, json) = entry.map_err(|e| self.err(e))?;
            out.push(
                serde_json::from_slice(json.value())
                    .map_err(|e| self.err(format!("a run record is unreadable: {e}")))?,
            );
        }
        Ok(out)
    }

    /// One run.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no run has that id.
    pub fn run(&self, id: RunId) -> Result<RunRecord> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let runs = tx.open_table(RUNS).map_err(|e| self.err(e))?;
        let json = runs
            .get(id.0)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| Error::NotFound(format!("no run {id} in {}", self.path.display())))?;
        serde_json::from_slice(json.value()).map_err(|e| self.err(format!("run {id} is unreadable: {e}")))
    }

    /// Finds the run whose id starts with `prefix` (case-insensitive), as git does with
    /// commits.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no run or several runs match.
    pub fn resolve_run(&self, prefix: &str) -> Result<RunId> {
        let wanted = prefix.to_ascii_uppercase();
        let matches: Vec<RunId> =
            self.runs()?.into_iter().map(|r| r.id).filter(|id| id.to_string().starts_with(&wanted)).collect();
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::NotFound(format!("no run matches `{prefix}` in {}", self.path.display()))),
            many => Err(Error::NotFound(format!("`{prefix}` matches {} runs; give more of the id", many.len()))),
        }
    }

    /// A run's events, in order.
    pub fn events(&self, id: RunId) -> Result<Vec<Event>> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let events = tx.open_table(EVENTS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in events.range((id.0, 0)..=(id.0, u64::MAX)).map_err(|e| self.err(e))? {
            let (_, json) = entry.map_err(|e| self.err(e))?;
            out.push(
                serde_json::from_slice(json.value())
                    .map_err(|e| self.err(format!("an event of run {id} is unreadable: {e}")))?,
            );
        }
        Ok(out)
    }

    /// The value a step of a run produced for `output`, if it did.
    pub fn output(&self, id: RunId, step: &str, output: &str) -> Result<Option<Value>> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let outputs = tx.open_table(OUTPUTS).map_err(|e| self.err(e))?;
        let Some(digest) = outputs.get((id.0, step, output)).map_err(|e| self.err(e))?.map(|d| d.value()) else {
            return Ok(None);
        };
        let blobs = tx.open_table(BLOBS).map_err(|e| self.err(e))?;
        let blob = blobs
            .get(digest)
            .map_err(|e| self.err(e))?
            .ok_or_else(|| self.err(format!("the blob of {step}.{output} in run {id} is missing")))?;
        Value::decode(blob.value())
            .map(Some)
            .ok_or_else(|| self.err(format!("the blob of {step}.{output} in run {id} is corrupt")))
    }

    /// A step's captured stdout or stderr, of its last attempt (empty when it wrote
    /// nothing).
    pub fn compute_log(&self, id: RunId, step: &str, stream: Stream) -> Result<Vec<u8>> {
        Ok(self
            .compute_logs(id, step)?
            .into_iter()
            .rev()
            .find(|(_, s, _)| *s == stream)
            .map(|(_, _, bytes)| bytes)
            .unwrap_or_default())
    }

    /// Every captured stream of a step, by attempt then stream.
    pub fn compute_logs(&self, id: RunId, step: &str) -> Result<Vec<(u32, Stream, Vec<u8>)>> {
        let tx = self.db.begin_read().map_err(|e| self.err(e))?;
        let logs = tx.open_table(COMPUTE_LOGS).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for entry in logs.range((id.0, step, 0, 0)..=(id.0, step, u32::MAX, u8::MAX)).map_err(|e| self.err(e))? {
            let (key, bytes) = entry.map_err(|e| self.err(e))?;
            let (_, _, attempt, stream) = key.value();
            let stream = if stream == Stream::Stdout as u8 { Stream::Stdout } else { Stream::Stderr };
            out.push((attempt, stream, bytes.value().to_vec()));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;
    use crate::run::RunStatus;

    fn record(id: RunId) -> RunRecord {
        RunRecord {
            id,
            pipeline: "p".into(),
            manifest: "weft.toml".into(),
            status: RunStatus::Queued,
            created_at: 1,
            started_at: None,
            ended_at: None,
            run_config: serde_json::json!({}),
            tags: Default::default(),
            parent_run: None,
            step_selection: None,
        }
    }

    #[test]
    fn what_is_committed_is_there_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/weft.redb");
        let id = RunId::generate();
        {
            let db = Db::open(&path).unwrap();
            let batch = Batch {
                run: Some(record(id)),
                events: vec![Event {
                    seq: 0,
                    timestamp: 5,
                    step: None,
                    kind: EventKind::RunStarted { pipeline: "p".into() },
                }],
                outputs: vec![("a".into(), "out".into(), Value::Text("hi".into()))],
                compute_logs: vec![("a".into(), 1, Stream::Stdout, b"printed".to_vec())],
            };
            db.commit(id, &batch).unwrap();
        }
        let db = Db::open(&path).unwrap();
        assert_eq!(db.run(id).unwrap(), record(id));
        assert_eq!(db.events(id).unwrap().len(), 1);
        assert_eq!(db.output(id, "a", "out").unwrap(), Some(Value::Text("hi".into())));
        assert_eq!(db.output(id, "a", "nope").unwrap(), None);
        assert_eq!(db.compute_log(id, "a", Stream::Stdout).unwrap(), b"printed");
        assert_eq!(db.resolve_run(&id.to_string()[..10].to_lowercase()).unwrap(), id);
        assert!(matches!(db.resolve_run("ZZZZ"), Err(Error::NotFound(_))));
    }

    #[test]
    fn a_file_of_another_format_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.redb");
        {
            let db = Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(META).unwrap().insert("format_version", 99u32.to_le_bytes().as_slice()).unwrap();
            tx.commit().unwrap();
        }
        let err = Db::open(&path).unwrap_err().to_string();
        assert!(err.contains("format version 99"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_a_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("weft.redb");
        std::fs::write(&path, b"this is not a database, just some text that is long enough").unwrap();
        assert!(Db::open(&path).is_err());
    }
}
