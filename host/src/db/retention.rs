//! Deleting runs and collecting what no run needs any more.

use super::tables::*;
use super::{Db, MemoEntry, OrDb};
use crate::error::{Error, Result};
use crate::run::{RunId, RunRecord};
use redb::ReadableTable;
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;

/// Which finished runs `gc` keeps. A run is deleted when it falls outside either rule;
/// unfinished runs are always kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retention {
    /// Keep at most this many of the newest finished runs.
    pub keep_last: Option<usize>,
    /// Delete finished runs created longer ago than this.
    pub older_than: Option<Duration>,
}

/// What `gc` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GcReport {
    pub runs_deleted: Vec<RunId>,
    pub blobs_freed: usize,
    pub bytes_freed: u64,
}

impl Db {
    /// Deletes a finished run: its record, events, output references, compute logs, asset
    /// index entries and memoized results. Blobs stay until [`Db::gc`].
    ///
    /// # Errors
    /// [`Error::NotFound`] when there is no such run; [`Error::Invalid`]-like refusal
    /// ([`Error::NotFound`] with a reason) when the run has not finished.
    pub fn delete_run(&self, id: RunId) -> Result<()> {
        let record = self.run(id)?;
        if !record.status.is_finished() {
            return Err(Error::NotFound(format!("run {id} is {}; only finished runs can be deleted", record.status)));
        }
        let tx = self.db.begin_write().or_db(self)?;
        {
            tx.open_table(RUNS).or_db(self)?.remove(id.0).or_db(self)?;
            tx.open_table(ACTIVE).or_db(self)?.remove(id.0).or_db(self)?;
            tx.open_table(EVENTS).or_db(self)?.retain_in((id.0, 0)..=(id.0, u64::MAX), |_, _| false).or_db(self)?;
            let mut outputs = tx.open_table(OUTPUTS).or_db(self)?;
            outputs.retain_in((id.0, "", "")..(id.0 + 1, "", ""), |_, _| false).or_db(self)?;
            let mut logs = tx.open_table(COMPUTE_LOGS).or_db(self)?;
            logs.retain_in((id.0, "", 0, 0)..(id.0 + 1, "", 0, 0), |_, _| false).or_db(self)?;
            tx.open_table(ASSETS).or_db(self)?.retain(|(_, run, _), _| run != id.0).or_db(self)?;
            if let Some(partition) = record.tags.get(crate::partition::PARTITION_TAG) {
                let entry = (record.pipeline.as_str(), partition.as_str(), id.0);
                tx.open_table(PARTITION_RUNS).or_db(self)?.remove(entry).or_db(self)?;
            }
            tx.open_table(MEMO)
                .or_db(self)?
                .retain(|_, json| serde_json::from_slice::<MemoEntry>(json).map_or(true, |m| m.run != id))
                .or_db(self)?;
        }
        tx.commit().or_db(self)
    }

    /// Deletes the finished runs outside `retention`, then frees every blob that no
    /// remaining output or memoized result refers to.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read or written.
    pub fn gc(&self, retention: Retention, now_micros: i64) -> Result<GcReport> {
        let finished: Vec<RunRecord> = self.runs()?.into_iter().filter(|r| r.status.is_finished()).collect();
        let cutoff = retention.older_than.map(|age| now_micros - age.as_micros() as i64);
        let doomed: Vec<RunId> = finished
            .iter()
            .enumerate()
            .filter(|(rank, run)| {
                retention.keep_last.is_some_and(|n| *rank >= n) || cutoff.is_some_and(|c| run.created_at < c)
            })
            .map(|(_, run)| run.id)
            .collect();
        for id in &doomed {
            self.delete_run(*id)?;
        }
        let tx = self.db.begin_write().or_db(self)?;
        let (mut blobs_freed, mut bytes_freed) = (0, 0);
        {
            let mut referenced: HashSet<[u8; 32]> = HashSet::new();
            for entry in tx.open_table(OUTPUTS).or_db(self)?.iter().or_db(self)? {
                referenced.insert(entry.or_db(self)?.1.value());
            }
            for entry in tx.open_table(MEMO).or_db(self)?.iter().or_db(self)? {
                let entry = entry.or_db(self)?;
                if let Ok(memo) = serde_json::from_slice::<MemoEntry>(entry.1.value()) {
                    for (_, hex) in memo.outputs {
                        if let Ok(digest) = blake3::Hash::from_hex(&hex) {
                            referenced.insert(*digest.as_bytes());
                        }
                    }
                }
            }
            let mut blobs = tx.open_table(BLOBS).or_db(self)?;
            blobs
                .retain(|digest, bytes| {
                    let keep = referenced.contains(&digest);
                    if !keep {
                        blobs_freed += 1;
                        bytes_freed += bytes.len() as u64;
                    }
                    keep
                })
                .or_db(self)?;
        }
        tx.commit().or_db(self)?;
        Ok(GcReport { runs_deleted: doomed, blobs_freed, bytes_freed })
    }
}
