//! What partitions, backfills, schedules and sensors keep in the store: the runs of each
//! partition, backfill records, ticks, cursors and claimed run keys.

use super::{Batch, Db, OrDb, Tables, tables::*};
use crate::error::{Error, Result};
use crate::run::{RunId, RunRecord};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};

/// Ticks kept per schedule or sensor: the oldest go as new ones come (a sensor evaluated
/// every second records 86,400 a day).
pub const TICKS_KEPT: usize = 1000;

/// A backfill: one run per partition key, launched and tracked together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackfillRecord {
    pub id: RunId,
    pub pipeline: String,
    pub manifest: String,
    pub partition_set: String,
    /// The keys it runs, in order.
    pub keys: Vec<String>,
    /// The run config every run starts from (its `partition` set per run).
    pub run_config: serde_json::Value,
    /// Runs at once.
    pub max_concurrent: usize,
    pub status: BackfillStatus,
    pub created_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<i64>,
    /// The process running it, while it runs (an owner token, as for runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Why it stopped early, when an error stopped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where a backfill is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BackfillStatus {
    /// Launching runs.
    Running,
    /// Every partition ran and succeeded.
    Success,
    /// Every partition ran; some failed.
    Failure,
    /// Stopped by the user (Ctrl-C); `weft backfill resume` goes on.
    Canceled,
    /// Its process died; `weft backfill resume` goes on.
    Interrupted,
}

impl std::fmt::Display for BackfillStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BackfillStatus::Running => "RUNNING",
            BackfillStatus::Success => "SUCCESS",
            BackfillStatus::Failure => "FAILURE",
            BackfillStatus::Canceled => "CANCELED",
            BackfillStatus::Interrupted => "INTERRUPTED",
        })
    }
}

/// One evaluation of a schedule or sensor, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tick {
    /// `schedule/NAME` or `sensor/NAME`.
    pub origin: String,
    /// For a schedule, the time the tick was due; for a sensor, when it was evaluated
    /// (microseconds since the Unix epoch).
    pub at: i64,
    /// When the daemon evaluated it.
    pub evaluated_at: i64,
    pub status: TickStatus,
    /// The runs it launched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<RunId>,
    /// The partition it ran, for a schedule of a partitioned pipeline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Why it skipped, or the error that failed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// How a tick ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TickStatus {
    /// It launched runs.
    Success,
    /// It launched nothing, for the reason its message gives.
    Skipped,
    /// It could not be evaluated or its run could not be planned; its message says why.
    Failure,
}

impl std::fmt::Display for TickStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TickStatus::Success => "SUCCESS",
            TickStatus::Skipped => "SKIPPED",
            TickStatus::Failure => "FAILURE",
        })
    }
}

/// What a schedule or sensor carries from one evaluation to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationState {
    /// A schedule's last evaluated tick time (microseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tick: Option<i64>,
    /// A sensor's cursor, as its last evaluation returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

/// What must be written with a run's first record, atomically: the tick that launched it,
/// the state after it, and the run key it claims. A claim that conflicts with one already
/// stored (the same tick, the same run key) launches nothing.
#[derive(Debug, Clone, Default)]
pub struct Claim {
    pub origin: String,
    pub tick: Option<Tick>,
    pub state: Option<AutomationState>,
    pub run_key: Option<String>,
}

impl Db {
    /// Every run of each partition of `pipeline`: (key, runs oldest first), keys in byte
    /// order.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read.
    pub fn partition_runs(&self, pipeline: &str) -> Result<Vec<(String, Vec<RunRecord>)>> {
        let tx = self.db.begin_read().or_db(self)?;
        let index = tx.open_table(PARTITION_RUNS).or_db(self)?;
        let runs = tx.open_table(RUNS).or_db(self)?;
        let mut out: Vec<(String, Vec<RunRecord>)> = Vec::new();
        for entry in index.range((pipeline, "", 0)..).or_db(self)? {
            let (key, _) = entry.or_db(self)?;
            let (p, partition, run) = key.value();
            if p != pipeline {
                break;
            }
            // A deleted run leaves no record: skip its index entry.
            let Some(json) = runs.get(run).or_db(self)? else { continue };
            let record: RunRecord = serde_json::from_slice(json.value()).or_db(self)?;
            match out.last_mut() {
                Some((last, list)) if last == partition => list.push(record),
                _ => out.push((partition.to_owned(), vec![record])),
            }
        }
        Ok(out)
    }

    /// Stores a backfill record (new or updated).
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be written.
    pub fn put_backfill(&self, record: &BackfillRecord) -> Result<()> {
        let tx = self.db.begin_write().or_db(self)?;
        {
            let json = serde_json::to_vec(record).or_db(self)?;
            tx.open_table(BACKFILLS).or_db(self)?.insert(record.id.0, json.as_slice()).or_db(self)?;
        }
        tx.commit().or_db(self)
    }

    /// Stores `record` as taken by its owner, unless the stored one is RUNNING in another
    /// process that `alive` says lives; checked and written in one transaction.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read or written.
    pub fn claim_backfill(&self, record: &BackfillRecord, alive: impl Fn(&str) -> bool) -> Result<bool> {
        let tx = self.db.begin_write().or_db(self)?;
        {
            let mut table = tx.open_table(BACKFILLS).or_db(self)?;
            let stored: Option<BackfillRecord> = match table.get(record.id.0).or_db(self)? {
                Some(json) => Some(serde_json::from_slice(json.value()).or_db(self)?),
                None => None,
            };
            if let Some(stored) = stored
                && stored.status == BackfillStatus::Running
                && let Some(owner) = stored.owner.as_deref()
                && Some(owner) != record.owner.as_deref()
                && alive(owner)
            {
                return Ok(false);
            }
            let json = serde_json::to_vec(record).or_db(self)?;
            table.insert(record.id.0, json.as_slice()).or_db(self)?;
        }
        tx.commit().or_db(self)?;
        Ok(true)
    }

    /// Every backfill, newest first.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read.
    pub fn backfills(&self) -> Result<Vec<BackfillRecord>> {
        let tx = self.db.begin_read().or_db(self)?;
        let table = tx.open_table(BACKFILLS).or_db(self)?;
        let mut out = Vec::new();
        for entry in table.iter().or_db(self)?.rev() {
            let (_, json) = entry.or_db(self)?;
            out.push(serde_json::from_slice(json.value()).or_db(self)?);
        }
        Ok(out)
    }

    /// The backfill whose id is `id_or_prefix` or starts with it.
    ///
    /// # Errors
    /// [`Error::NotFound`] when none or several match.
    pub fn backfill(&self, id_or_prefix: &str) -> Result<BackfillRecord> {
        let wanted = id_or_prefix.to_ascii_uppercase();
        let mut found: Vec<BackfillRecord> =
            self.backfills()?.into_iter().filter(|b| b.id.to_string().starts_with(&wanted)).collect();
        match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(Error::NotFound(format!("no backfill `{id_or_prefix}` in {}", self.path.display()))),
            n => Err(Error::NotFound(format!("`{id_or_prefix}` names {n} backfills; give more of the id"))),
        }
    }

    /// The newest `limit` ticks of `origin`, newest first.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read.
    pub fn ticks(&self, origin: &str, limit: usize) -> Result<Vec<Tick>> {
        let tx = self.db.begin_read().or_db(self)?;
        let table = tx.open_table(TICKS).or_db(self)?;
        let mut out = Vec::new();
        for entry in table.range((origin, i64::MIN)..=(origin, i64::MAX)).or_db(self)?.rev().take(limit) {
            let (_, json) = entry.or_db(self)?;
            out.push(serde_json::from_slice(json.value()).or_db(self)?);
        }
        Ok(out)
    }

    /// The state `origin` carries between evaluations (default when it has none yet).
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read.
    pub fn automation_state(&self, origin: &str) -> Result<AutomationState> {
        let tx = self.db.begin_read().or_db(self)?;
        let table = tx.open_table(AUTOMATION).or_db(self)?;
        match table.get(origin).or_db(self)? {
            Some(json) => serde_json::from_slice(json.value()).or_db(self),
            None => Ok(AutomationState::default()),
        }
    }

    /// Replaces the state `origin` carries between evaluations.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be written.
    pub fn set_automation_state(&self, origin: &str, state: &AutomationState) -> Result<()> {
        let tx = self.db.begin_write().or_db(self)?;
        {
            let json = serde_json::to_vec(state).or_db(self)?;
            tx.open_table(AUTOMATION).or_db(self)?.insert(origin, json.as_slice()).or_db(self)?;
        }
        tx.commit().or_db(self)
    }

    /// The run launched for run key `key` of `origin`, if one was.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read.
    pub fn claimed_run_key(&self, origin: &str, key: &str) -> Result<Option<RunId>> {
        let tx = self.db.begin_read().or_db(self)?;
        let table = tx.open_table(RUN_KEYS).or_db(self)?;
        Ok(table.get((origin, key)).or_db(self)?.map(|id| RunId(id.value())))
    }

    /// Records a tick and the state after it, launching nothing. A tick already stored
    /// at the same time is kept: the first record of a tick wins.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be written.
    pub fn record_tick(&self, tick: &Tick, state: Option<&AutomationState>) -> Result<bool> {
        let claim =
            Claim { origin: tick.origin.clone(), tick: Some(tick.clone()), state: state.cloned(), run_key: None };
        let tx = self.db.begin_write().or_db(self)?;
        let written = write_claim(&tx, &claim, None).or_db(self)?;
        tx.commit().or_db(self)?;
        Ok(written)
    }

    /// Writes a run's first record with its claim, in one transaction; `false` (and
    /// nothing written) when the claim conflicts with one already stored.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be written.
    pub fn commit_claimed(&self, run_id: RunId, batch: &Batch, claim: &Claim) -> Result<bool> {
        let tx = self.db.begin_write().or_db(self)?;
        if !write_claim(&tx, claim, Some(run_id)).or_db(self)? {
            tx.abort().or_db(self)?;
            return Ok(false);
        }
        {
            let mut tables = Tables::open(&tx).or_db(self)?;
            tables.write(run_id, batch).or_db(self)?;
        }
        tx.commit().or_db(self)?;
        Ok(true)
    }
}

/// Writes `claim` in `tx`; `false` when its tick or run key is already stored.
fn write_claim(
    tx: &redb::WriteTransaction,
    claim: &Claim,
    run: Option<RunId>,
) -> std::result::Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let origin = claim.origin.as_str();
    if let Some(key) = &claim.run_key {
        let mut keys = tx.open_table(RUN_KEYS)?;
        if keys.get((origin, key.as_str()))?.is_some() {
            return Ok(false);
        }
        keys.insert((origin, key.as_str()), run.map_or(0, |r| r.0))?;
    }
    if let Some(tick) = &claim.tick {
        let mut ticks = tx.open_table(TICKS)?;
        if ticks.get((origin, tick.at))?.is_some() {
            return Ok(false);
        }
        ticks.insert((origin, tick.at), serde_json::to_vec(tick)?.as_slice())?;
        let kept = ticks.range((origin, i64::MIN)..=(origin, i64::MAX))?.count();
        if kept > TICKS_KEPT {
            let mut oldest = Vec::new();
            for entry in ticks.range((origin, i64::MIN)..=(origin, i64::MAX))?.take(kept - TICKS_KEPT) {
                oldest.push(entry?.0.value().1);
            }
            for at in oldest {
                ticks.remove((origin, at))?;
            }
        }
    }
    if let Some(state) = &claim.state {
        tx.open_table(AUTOMATION)?.insert(origin, serde_json::to_vec(state)?.as_slice())?;
    }
    Ok(true)
}
