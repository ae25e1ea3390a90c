//! Reading the store: runs (filtered), events, outputs, compute logs, memoized results
//! and assets.

use super::tables::*;
use super::{Db, MemoEntry, OrDb, Stream};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind};
use crate::run::{RunId, RunRecord, RunStatus};
use crate::value::Value;
use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;

/// One entry of the events table as redb yields it.
type EventEntry<'a> =
    Result<(redb::AccessGuard<'a, (u128, u64)>, redb::AccessGuard<'a, &'static [u8]>), redb::StorageError>;

/// Which runs to list. Empty fields match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    pub pipeline: Option<String>,
    pub status: Option<RunStatus>,
    /// Every one of these tags must be on the run.
    pub tags: Vec<(String, String)>,
    /// Created at or after this many microseconds since the epoch.
    pub since: Option<i64>,
    /// Created before this many microseconds since the epoch.
    pub until: Option<i64>,
    /// Runs older than this one (ids are ULIDs: ordered by time), for paging.
    pub before: Option<RunId>,
    /// At most this many, newest first.
    pub limit: Option<usize>,
}

impl RunFilter {
    /// A tag filter as users type it: `KEY=VALUE`.
    ///
    /// # Errors
    /// A message naming the text when it has no `=`.
    pub fn parse_tag(text: &str) -> std::result::Result<(String, String), String> {
        text.split_once('=')
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .ok_or_else(|| format!("`{text}` is not a tag filter KEY=VALUE"))
    }

    fn matches(&self, run: &RunRecord) -> bool {
        self.pipeline.as_ref().is_none_or(|p| *p == run.pipeline)
            && self.status.is_none_or(|s| s == run.status)
            && self.tags.iter().all(|(k, v)| run.tags.get(k) == Some(v))
            && self.since.is_none_or(|t| run.created_at >= t)
            && self.until.is_none_or(|t| run.created_at < t)
    }
}

/// An asset key with its latest materialization.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetSummary {
    pub key: String,
    pub materializations: usize,
    pub latest: AssetEntry,
}

/// One materialization of an asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetEntry {
    pub run: RunId,
    pub step: String,
    /// The `MATERIALIZATION` event, with its description and metadata.
    pub event: Event,
}

/// The steps of an event log that started (or wait for a retry) and did not finish.
pub(super) fn running_steps(events: &[Event]) -> Vec<String> {
    let mut open: Vec<String> = Vec::new();
    for event in events {
        let Some(step) = &event.step else { continue };
        match event.kind {
            EventKind::StepStarted { .. } | EventKind::StepRetry { .. } if !open.contains(step) => {
                open.push(step.clone());
            }
            EventKind::StepSucceeded { .. }
            | EventKind::StepFailed { .. }
            | EventKind::StepSkipped { .. }
            | EventKind::StepCanceled { .. }
            | EventKind::StepReused { .. } => open.retain(|s| s != step),
            _ => {}
        }
    }
    open
}

impl Db {
    /// Runs matching `filter`, newest first.
    pub fn runs_matching(&self, filter: &RunFilter) -> Result<Vec<RunRecord>> {
        let tx = self.db.begin_read().or_db(self)?;
        let runs = tx.open_table(RUNS).or_db(self)?;
        let mut out = Vec::new();
        let below = filter.before.map_or(u128::MAX, |id| id.0);
        for entry in runs.range(..below).or_db(self)?.rev() {
            let (_, json) = entry.or_db(self)?;
            let run: RunRecord =
                serde_json::from_slice(json.value()).map_err(|e| self.corrupt(format!("a run record: {e}")))?;
            if filter.matches(&run) {
                out.push(run);
                if filter.limit.is_some_and(|n| out.len() >= n) {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        self.runs_matching(&RunFilter::default())
    }

    fn corrupt(&self, what: String) -> Error {
        Error::Db { path: self.path.clone(), message: format!("unreadable: {what}") }
    }

    /// One run.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no run has that id.
    pub fn run(&self, id: RunId) -> Result<RunRecord> {
        let tx = self.db.begin_read().or_db(self)?;
        let runs = tx.open_table(RUNS).or_db(self)?;
        let json = runs
            .get(id.0)
            .or_db(self)?
            .ok_or_else(|| Error::NotFound(format!("no run {id} in {}", self.path.display())))?;
        serde_json::from_slice(json.value()).map_err(|e| self.corrupt(format!("run {id}: {e}")))
    }

    /// Finds the run whose id starts with `prefix` (case-insensitive), as git does with
    /// commits.
    ///
    /// # Errors
    /// [`Error::NotFound`] when no run or several runs match.
    pub fn resolve_run(&self, prefix: &str) -> Result<RunId> {
        let wanted = prefix.to_ascii_uppercase();
        let tx = self.db.begin_read().or_db(self)?;
        let runs = tx.open_table(RUNS).or_db(self)?;
        let mut matches = Vec::new();
        for entry in runs.iter().or_db(self)? {
            let id = RunId(entry.or_db(self)?.0.value());
            if id.to_string().starts_with(&wanted) {
                matches.push(id);
            }
        }
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => Err(Error::NotFound(format!("no run matches `{prefix}` in {}", self.path.display()))),
            many => Err(Error::NotFound(format!("`{prefix}` matches {} runs; give more of the id", many.len()))),
        }
    }

    /// A run's events, in order.
    pub fn events(&self, id: RunId) -> Result<Vec<Event>> {
        self.events_from(id, 0)
    }

    /// A run's events from sequence number `seq` on, in order (for following a run).
    pub fn events_from(&self, id: RunId, seq: u64) -> Result<Vec<Event>> {
        let tx = self.db.begin_read().or_db(self)?;
        let events = tx.open_table(EVENTS).or_db(self)?;
        let mut out = Vec::new();
        for entry in events.range((id.0, seq)..=(id.0, u64::MAX)).or_db(self)? {
            let (_, json) = entry.or_db(self)?;
            out.push(serde_json::from_slice(json.value()).map_err(|e| self.corrupt(format!("an event of {id}: {e}")))?);
        }
        Ok(out)
    }

    /// Visits a run's events with `after < seq < before` as their stored JSON, oldest
    /// first (or newest first), until `visit` returns false: a page of a large log is
    /// read without parsing the rest of it.
    pub fn scan_events(
        &self,
        id: RunId,
        after: Option<u64>,
        before: Option<u64>,
        newest_first: bool,
        mut visit: impl FnMut(u64, &[u8]) -> bool,
    ) -> Result<()> {
        let low = after.map_or(0, |a| a.saturating_add(1));
        let high = before.unwrap_or(u64::MAX);
        if low >= high {
            return Ok(());
        }
        let tx = self.db.begin_read().or_db(self)?;
        let events = tx.open_table(EVENTS).or_db(self)?;
        let range = events.range((id.0, low)..(id.0, high)).or_db(self)?;
        let mut go = |entry: EventEntry| {
            let (key, json) = entry.or_db(self)?;
            Ok::<bool, Error>(visit(key.value().1, json.value()))
        };
        if newest_first {
            for entry in range.rev() {
                if !go(entry)? {
                    break;
                }
            }
        } else {
            for entry in range {
                if !go(entry)? {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The sequence number of a run's last stored event, if it has any.
    pub fn last_event_seq(&self, id: RunId) -> Result<Option<u64>> {
        let tx = self.db.begin_read().or_db(self)?;
        let events = tx.open_table(EVENTS).or_db(self)?;
        let last = events.range((id.0, 0)..=(id.0, u64::MAX)).or_db(self)?.next_back();
        Ok(match last {
            Some(entry) => Some(entry.or_db(self)?.0.value().1),
            None => None,
        })
    }

    /// The value a step of a run produced (or reused) for `output`, if any.
    pub fn output(&self, id: RunId, step: &str, output: &str) -> Result<Option<Value>> {
        let tx = self.db.begin_read().or_db(self)?;
        let outputs = tx.open_table(OUTPUTS).or_db(self)?;
        let Some(digest) = outputs.get((id.0, step, output)).or_db(self)?.map(|d| d.value()) else {
            return Ok(None);
        };
        drop(outputs);
        self.blob(&digest)?
            .map(Some)
            .ok_or_else(|| self.corrupt(format!("the blob of {step}.{output} in run {id} is missing")))
    }

    /// Every output of a run: (step, output, digest).
    pub fn outputs_of(&self, id: RunId) -> Result<Vec<(String, String, [u8; 32])>> {
        let tx = self.db.begin_read().or_db(self)?;
        let outputs = tx.open_table(OUTPUTS).or_db(self)?;
        let mut out = Vec::new();
        for entry in outputs.range((id.0, "", "")..(id.0 + 1, "", "")).or_db(self)? {
            let (key, digest) = entry.or_db(self)?;
            let (_, step, output) = key.value();
            out.push((step.to_owned(), output.to_owned(), digest.value()));
        }
        Ok(out)
    }

    /// The value stored under `digest`.
    pub fn blob(&self, digest: &[u8; 32]) -> Result<Option<Value>> {
        let tx = self.db.begin_read().or_db(self)?;
        let blobs = tx.open_table(BLOBS).or_db(self)?;
        match blobs.get(digest).or_db(self)? {
            None => Ok(None),
            Some(bytes) => Value::decode(bytes.value()).map(Some).ok_or_else(|| self.corrupt("a corrupt blob".into())),
        }
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
        let tx = self.db.begin_read().or_db(self)?;
        let logs = tx.open_table(COMPUTE_LOGS).or_db(self)?;
        let mut out = Vec::new();
        for entry in logs.range((id.0, step, 0, 0)..=(id.0, step, u32::MAX, u8::MAX)).or_db(self)? {
            let (key, bytes) = entry.or_db(self)?;
            let (_, _, attempt, stream) = key.value();
            let stream = if stream == Stream::Stdout as u8 { Stream::Stdout } else { Stream::Stderr };
            out.push((attempt, stream, bytes.value().to_vec()));
        }
        Ok(out)
    }

    /// Where a step with this version key already succeeded, if anywhere.
    pub fn memo(&self, key: &[u8; 32]) -> Result<Option<MemoEntry>> {
        let tx = self.db.begin_read().or_db(self)?;
        let memo = tx.open_table(MEMO).or_db(self)?;
        match memo.get(key).or_db(self)? {
            None => Ok(None),
            Some(json) => {
                serde_json::from_slice(json.value()).map(Some).map_err(|e| self.corrupt(format!("memo: {e}")))
            }
        }
    }

    /// Every asset key with its latest materialization, by key.
    pub fn assets(&self) -> Result<Vec<AssetSummary>> {
        let mut summaries: Vec<AssetSummary> = Vec::new();
        for (key, entry) in self.asset_rows(None)? {
            match summaries.last_mut() {
                Some(summary) if summary.key == key => {
                    summary.materializations += 1;
                    summary.latest = entry;
                }
                _ => summaries.push(AssetSummary { key, materializations: 1, latest: entry }),
            }
        }
        Ok(summaries)
    }

    /// Every materialization of `key`, oldest first.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the key was never materialized.
    pub fn asset_history(&self, key: &str) -> Result<Vec<AssetEntry>> {
        let rows: Vec<AssetEntry> = self.asset_rows(Some(key))?.into_iter().map(|(_, entry)| entry).collect();
        if rows.is_empty() {
            return Err(Error::NotFound(format!("no asset `{key}` was materialized in {}", self.path.display())));
        }
        Ok(rows)
    }

    fn asset_rows(&self, only: Option<&str>) -> Result<Vec<(String, AssetEntry)>> {
        let tx = self.db.begin_read().or_db(self)?;
        let assets = tx.open_table(ASSETS).or_db(self)?;
        let events = tx.open_table(EVENTS).or_db(self)?;
        let range = match only {
            Some(key) => assets.range((key, 0, 0)..=(key, u128::MAX, u64::MAX)).or_db(self)?,
            None => assets.iter().or_db(self)?,
        };
        let mut out = Vec::new();
        for entry in range {
            let (k, step) = entry.or_db(self)?;
            let (key, run, seq) = k.value();
            let Some(json) = events.get((run, seq)).or_db(self)? else { continue };
            let event: Event = serde_json::from_slice(json.value()).map_err(|e| self.corrupt(format!("event: {e}")))?;
            out.push((key.to_owned(), AssetEntry { run: RunId(run), step: step.value().to_owned(), event }));
        }
        Ok(out)
    }
}
