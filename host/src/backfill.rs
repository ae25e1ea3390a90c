//! Partition status and backfills: which partitions of a pipeline have run and how, and
//! one run per partition key, launched a few at a time and tracked as one backfill that
//! survives a crash.
//!
//! A backfill's progress is not kept apart from its runs: each run is tagged
//! `weft/backfill=ID`, and what is done is read back from them. A partition is done once
//! one of the backfill's runs of it ended SUCCESS or FAILURE; one whose run was canceled
//! or interrupted (the process died) is run again by `resume`, one that succeeded never
//! is. Failures are run again by a new backfill with `--failed-only`.

use crate::cancel::CancelToken;
use crate::config::RunConfig;
use crate::db::{BackfillRecord, BackfillStatus};
use crate::error::{Error, Problem, Problems, Result};
use crate::host::Host;
use crate::manifest::Manifest;
use crate::partition::PartitionSet;
use crate::run::{RunId, RunRecord, RunStatus, now_micros};
use serde::Serialize;
use std::collections::BTreeMap;
use tokio::task::JoinSet;

/// The tag that names the backfill a run belongs to.
pub const BACKFILL_TAG: &str = "weft/backfill";

/// What the latest run of a partition says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionState {
    /// No run.
    Missing,
    /// The latest run is queued or running.
    Running,
    Succeeded,
    /// The latest run failed, was canceled or was interrupted.
    Failed,
}

impl PartitionState {
    fn of(status: RunStatus) -> PartitionState {
        match status {
            RunStatus::Queued | RunStatus::Started => PartitionState::Running,
            RunStatus::Success => PartitionState::Succeeded,
            RunStatus::Failure | RunStatus::Canceled | RunStatus::Interrupted => PartitionState::Failed,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PartitionState::Missing => "missing",
            PartitionState::Running => "running",
            PartitionState::Succeeded => "succeeded",
            PartitionState::Failed => "failed",
        }
    }
}

/// One partition of a pipeline and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct PartitionStatus {
    pub key: String,
    pub state: PartitionState,
    /// Its latest run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run: Option<RunId>,
    /// How many runs it had.
    pub runs: usize,
}

/// Every partition of `pipeline` at `now`, in key order, with its latest run. Keys that
/// are no longer in the set (a static list edited) but have runs are left out.
///
/// # Errors
/// [`Error::NotFound`] when the pipeline is not partitioned; [`Error::Db`] when the store
/// cannot be read.
pub fn partition_status(
    host: &Host,
    manifest: &Manifest,
    pipeline: &str,
    now: jiff::Timestamp,
) -> Result<(PartitionSet, Vec<PartitionStatus>)> {
    let set = partition_set(manifest, pipeline)?;
    let mut runs: BTreeMap<String, Vec<RunRecord>> = host.db().partition_runs(pipeline)?.into_iter().collect();
    let status = set
        .keys(now)
        .into_iter()
        .map(|key| {
            let list = runs.remove(&key).unwrap_or_default();
            let latest = list.iter().max_by_key(|r| r.id);
            PartitionStatus {
                state: latest.map_or(PartitionState::Missing, |r| PartitionState::of(r.status)),
                run: latest.map(|r| r.id),
                runs: list.len(),
                key,
            }
        })
        .collect();
    Ok((set, status))
}

fn partition_set(manifest: &Manifest, pipeline: &str) -> Result<PartitionSet> {
    if manifest.pipeline(pipeline).is_none() {
        return Err(Error::NotFound(format!("no pipeline `{pipeline}` in {}", manifest.path.display())));
    }
    manifest.partition_set(pipeline).cloned().ok_or_else(|| {
        Error::NotFound(format!(
            "pipeline `{pipeline}` is not partitioned: give it `partitions = \"SET\"` in {}",
            manifest.path.display()
        ))
    })
}

/// Which partitions a new backfill runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySelection {
    /// From one key to another, both included, in the set's order.
    Range { from: Option<String>, to: Option<String> },
    /// These keys.
    Keys(Vec<String>),
}

/// A backfill to start.
#[derive(Debug, Clone)]
pub struct BackfillRequest {
    pub pipeline: String,
    pub keys: KeySelection,
    /// Only partitions with no run.
    pub missing_only: bool,
    /// Only partitions whose latest run failed (with `missing_only`: either).
    pub failed_only: bool,
    /// The run config every run starts from.
    pub run_config: RunConfig,
    /// Runs at once.
    pub max_concurrent: usize,
}

/// Where a backfill stands, told as it goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub running: usize,
}

/// Checks `request` against the manifest and the store, chooses its keys, and plans the
/// run of the first key, so that a bad run config is an error before anything runs: the
/// backfill to run. Nothing is recorded until [`run_backfill`] starts it.
///
/// # Errors
/// [`Error::NotFound`] for a pipeline that is not partitioned; [`Error::Invalid`] naming
/// the field for a key not in its set, a range that selects nothing, or every problem of
/// the run config; [`Error::Db`] when the store cannot be read.
pub async fn create_backfill(
    host: &Host,
    manifest: &Manifest,
    request: &BackfillRequest,
    now: jiff::Timestamp,
) -> Result<BackfillRecord> {
    let (set, status) = partition_status(host, manifest, &request.pipeline, now)?;
    let all: Vec<&str> = status.iter().map(|s| s.key.as_str()).collect();
    // A bad request is bad input (exit code 2, HTTP 400) that names the field at fault.
    let bad = |field: &str, message: String| {
        Error::Invalid(Problems::one(Problem::new(std::path::Path::new("backfill request"), Some(field), message)))
    };
    let position = |key: &str, field: &str| {
        all.iter().position(|k| *k == key).ok_or_else(|| match set.partition(key) {
            Err(message) => bad(field, message),
            Ok(_) => bad(field, format!("partition `{key}` of `{}` has not ended yet", set.name)),
        })
    };
    let chosen: Vec<usize> = match &request.keys {
        KeySelection::Range { from, to } => {
            let first = from.as_deref().map(|k| position(k, "from")).transpose()?.unwrap_or(0);
            let last = match to.as_deref() {
                Some(key) => position(key, "to")?,
                None => all
                    .len()
                    .checked_sub(1)
                    .ok_or_else(|| bad("to", format!("partition set `{}` has no complete partition yet", set.name)))?,
            };
            if first > last {
                return Err(bad("from", format!("`{}` comes after the range's last key, `{}`", all[first], all[last])));
            }
            (first..=last).collect()
        }
        KeySelection::Keys(keys) => keys.iter().map(|k| position(k, "partitions")).collect::<Result<_>>()?,
    };
    let keys: Vec<String> = chosen
        .into_iter()
        .filter(|&i| {
            let state = status[i].state;
            match (request.missing_only, request.failed_only) {
                (false, false) => true,
                (true, false) => state == PartitionState::Missing,
                (false, true) => state == PartitionState::Failed,
                (true, true) => matches!(state, PartitionState::Missing | PartitionState::Failed),
            }
        })
        .map(|i| status[i].key.clone())
        .collect();
    if keys.is_empty() {
        let which = match (request.missing_only, request.failed_only) {
            (true, true) => " missing or failed",
            (true, false) => " missing",
            (false, true) => " failed",
            (false, false) => "",
        };
        return Err(bad(
            "partitions",
            format!("no{which} partition of `{}` to backfill in that range", request.pipeline),
        ));
    }
    let record = BackfillRecord {
        id: RunId::generate(),
        pipeline: request.pipeline.clone(),
        manifest: manifest.path.display().to_string(),
        partition_set: set.name.clone(),
        keys,
        run_config: request.run_config.to_json(),
        max_concurrent: request.max_concurrent.max(1),
        status: BackfillStatus::Running,
        created_at: now_micros(),
        ended_at: None,
        owner: Some(host.owner_token().to_owned()),
        message: None,
    };
    let mut first = request.run_config.clone();
    first.partition = record.keys.first().cloned();
    host.plan(manifest, &request.pipeline, &first).await?;
    Ok(record)
}

/// The backfill's record with a dead owner's RUNNING read as INTERRUPTED.
///
/// # Errors
/// [`Error::NotFound`] when there is no such backfill.
pub fn backfill(host: &Host, id_or_prefix: &str) -> Result<BackfillRecord> {
    Ok(as_seen(host, host.db().backfill(id_or_prefix)?))
}

/// Every backfill, newest first, with dead owners' RUNNING read as INTERRUPTED.
///
/// # Errors
/// [`Error::Db`] when the store cannot be read.
pub fn backfills(host: &Host) -> Result<Vec<BackfillRecord>> {
    Ok(host.db().backfills()?.into_iter().map(|b| as_seen(host, b)).collect())
}

fn as_seen(host: &Host, mut record: BackfillRecord) -> BackfillRecord {
    if record.status == BackfillStatus::Running && !record.owner.as_deref().is_some_and(|o| host.owner_alive(o)) {
        record.status = BackfillStatus::Interrupted;
    }
    record
}

/// Each key of a backfill with its run in it that counts: one that succeeded, else one
/// that failed, else the latest (canceled, interrupted, or still running). Re-executions
/// of its runs carry its tag but are not its own runs, and do not count.
///
/// # Errors
/// [`Error::Db`] when the store cannot be read.
pub fn backfill_runs(host: &Host, record: &BackfillRecord) -> Result<Vec<(String, Option<RunRecord>)>> {
    let id = record.id.to_string();
    let mut runs: BTreeMap<String, RunRecord> = BTreeMap::new();
    for (key, list) in host.db().partition_runs(&record.pipeline)? {
        let ours: Vec<RunRecord> =
            list.into_iter().filter(|r| r.tags.get(BACKFILL_TAG) == Some(&id) && r.parent_run.is_none()).collect();
        let with = |status| ours.iter().find(|r| r.status == status);
        let counted = with(RunStatus::Success).or_else(|| with(RunStatus::Failure)).or_else(|| ours.last());
        if let Some(run) = counted {
            runs.insert(key, run.clone());
        }
    }
    Ok(record.keys.iter().map(|k| (k.clone(), runs.remove(k))).collect())
}

/// Runs a backfill's remaining partitions — those none of its runs took to SUCCESS or
/// FAILURE — at most `max_concurrent` at once, telling `progress` after each change.
/// Canceling `cancel` cancels the running runs and ends the backfill CANCELED.
///
/// # Errors
/// [`Error::NotFound`] when another living process runs it; [`Error::Invalid`] when the
/// manifest no longer plans; [`Error::Db`] when the store fails.
pub async fn run_backfill(
    host: &Host,
    manifest: &Manifest,
    mut record: BackfillRecord,
    progress: &(dyn Fn(&Progress) + Sync),
    cancel: CancelToken,
) -> Result<BackfillRecord> {
    record.status = BackfillStatus::Running;
    record.owner = Some(host.owner_token().to_owned());
    record.ended_at = None;
    record.message = None;
    // Checked and taken in one transaction: two `resume`s of one backfill cannot both run it.
    if !host.db().claim_backfill(&record, |owner| host.owner_alive(owner))? {
        return Err(Error::NotFound(format!("backfill {} is running in another weft process", record.id)));
    }
    let outcome = drive(host, manifest, &record, progress, &cancel).await;
    // Whatever happened, the backfill ends with a status and, if it stopped on an error,
    // that error: never RUNNING with nobody running it.
    record.status = match &outcome {
        Ok(_) if cancel.is_canceled() => BackfillStatus::Canceled,
        Ok(state) if state.failed > 0 => BackfillStatus::Failure,
        Ok(_) => BackfillStatus::Success,
        Err(_) => BackfillStatus::Failure,
    };
    record.message = outcome.as_ref().err().map(|e| format!("stopped: {e}"));
    record.ended_at = Some(now_micros());
    record.owner = None;
    host.db().put_backfill(&record)?;
    match outcome {
        Ok(_) => Ok(record),
        Err(e) => Err(e),
    }
}

/// Launches the backfill's remaining partitions and waits for them; the final counts.
async fn drive(
    host: &Host,
    manifest: &Manifest,
    record: &BackfillRecord,
    progress: &(dyn Fn(&Progress) + Sync),
    cancel: &CancelToken,
) -> Result<Progress> {
    let base = RunConfig::from_json(&record.run_config, None)?;
    let mut state = Progress { total: record.keys.len(), ..Progress::default() };
    let mut pending = Vec::new();
    for (key, run) in backfill_runs(host, record)? {
        match run.map(|r| r.status) {
            Some(RunStatus::Success) => state.succeeded += 1,
            Some(RunStatus::Failure) => state.failed += 1,
            _ => pending.push(key),
        }
    }
    progress(&state);
    let mut pending = pending.into_iter();
    let mut running: JoinSet<Result<RunRecord>> = JoinSet::new();
    let mut tokens = Vec::new();
    let mut failure = None;
    loop {
        while !cancel.is_canceled() && failure.is_none() && running.len() < record.max_concurrent {
            let Some(key) = pending.next() else { break };
            let mut config = base.clone();
            config.partition = Some(key.clone());
            config.tags.insert(BACKFILL_TAG.into(), record.id.to_string());
            let launched = match host.plan(manifest, &record.pipeline, &config).await {
                Ok(plan) => host.launch(plan),
                Err(e) => Err(e),
            };
            match launched {
                Ok(handle) => {
                    tokens.push(handle.cancel_token());
                    running.spawn(handle.wait());
                    state.running += 1;
                    progress(&state);
                }
                // This key cannot run (its plan failed): launch nothing more, let the
                // running ones end, and report it.
                Err(e) => {
                    failure = Some(Error::Invalid(Problems::one(Problem::new(
                        manifest.path.as_path(),
                        Some("partition"),
                        format!("partition `{key}` could not be planned: {e}"),
                    ))))
                }
            }
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            done = running.join_next() => {
                let Some(done) = done else { break };
                let run = done.map_err(|e| Error::Host(format!("a backfill run crashed: {e}")))??;
                state.running -= 1;
                match run.status {
                    RunStatus::Success => state.succeeded += 1,
                    RunStatus::Failure => state.failed += 1,
                    _ => {}
                }
                progress(&state);
            }
            () = cancel.cancelled(), if !tokens.is_empty() => {
                tokens.drain(..).for_each(|t| t.cancel());
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(state),
    }
}
