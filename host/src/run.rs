//! Runs: their ids, their lifecycle, and the record kept of each.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// A run's id: a ULID, so ids sort by creation time. Printed as 26 Crockford base32
/// characters; commands accept any unique prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct RunId(pub u128);

impl RunId {
    /// A new id for a run created now.
    pub fn generate() -> RunId {
        RunId(ulid::Ulid::new().0)
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&ulid::Ulid(self.0), f)
    }
}

impl FromStr for RunId {
    type Err = String;
    fn from_str(s: &str) -> Result<RunId, String> {
        ulid::Ulid::from_string(s).map(|u| RunId(u.0)).map_err(|e| format!("`{s}` is not a run id: {e}"))
    }
}

impl From<RunId> for String {
    fn from(id: RunId) -> String {
        id.to_string()
    }
}

impl TryFrom<String> for RunId {
    type Error = String;
    fn try_from(s: String) -> Result<RunId, String> {
        s.parse()
    }
}

/// Where a run is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Recorded, not yet started.
    Queued,
    /// Steps are being executed.
    Started,
    /// Every step succeeded or was skipped by design.
    Success,
    /// A step failed.
    Failure,
    /// Stopped on request before it could finish.
    Canceled,
    /// The host process running it died; found and marked by another process.
    Interrupted,
}

impl RunStatus {
    /// The legal transitions: everything else is a bug in the host.
    const LEGAL: &'static [(RunStatus, RunStatus)] = &[
        (RunStatus::Queued, RunStatus::Started),
        (RunStatus::Queued, RunStatus::Failure),
        (RunStatus::Queued, RunStatus::Canceled),
        (RunStatus::Started, RunStatus::Success),
        (RunStatus::Started, RunStatus::Failure),
        (RunStatus::Started, RunStatus::Canceled),
        (RunStatus::Queued, RunStatus::Interrupted),
        (RunStatus::Started, RunStatus::Interrupted),
    ];

    /// Moves to `next`.
    ///
    /// # Panics
    /// On an illegal transition, which is a bug in the host, not bad input.
    pub fn transition(self, next: RunStatus) -> RunStatus {
        assert!(Self::LEGAL.contains(&(self, next)), "illegal run status transition {self} -> {next}");
        next
    }

    /// Whether the run is over.
    pub fn is_finished(self) -> bool {
        matches!(self, RunStatus::Success | RunStatus::Failure | RunStatus::Canceled | RunStatus::Interrupted)
    }
}

impl std::str::FromStr for RunStatus {
    type Err = String;

    /// A status as users type it, in any case (`failure`, `FAILURE`).
    fn from_str(text: &str) -> Result<RunStatus, String> {
        serde_json::from_value(serde_json::Value::String(text.to_lowercase())).map_err(|_| {
            format!("`{text}` is not a run status (queued, started, success, failure, canceled, interrupted)")
        })
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunStatus::Queued => "QUEUED",
            RunStatus::Started => "STARTED",
            RunStatus::Success => "SUCCESS",
            RunStatus::Failure => "FAILURE",
            RunStatus::Canceled => "CANCELED",
            RunStatus::Interrupted => "INTERRUPTED",
        })
    }
}

/// Where a step is in its lifecycle within a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Waiting for its inputs.
    Pending,
    /// An attempt is running.
    Running,
    /// An attempt failed; another is scheduled.
    UpForRetry,
    Succeeded,
    Failed,
    /// Not run, because something it needs was not produced.
    Skipped,
    /// Interrupted, or never started, because the run stopped.
    Canceled,
    /// Not run: its outputs were reused from an earlier run (partial run, memoization).
    Reused,
}

impl StepStatus {
    const LEGAL: &'static [(StepStatus, StepStatus)] = &[
        (StepStatus::Pending, StepStatus::Running),
        (StepStatus::Pending, StepStatus::Skipped),
        (StepStatus::Pending, StepStatus::Failed),
        (StepStatus::Pending, StepStatus::Canceled),
        (StepStatus::Pending, StepStatus::Reused),
        (StepStatus::Running, StepStatus::Succeeded),
        (StepStatus::Running, StepStatus::Failed),
        (StepStatus::Running, StepStatus::UpForRetry),
        (StepStatus::Running, StepStatus::Canceled),
        (StepStatus::UpForRetry, StepStatus::Running),
        (StepStatus::UpForRetry, StepStatus::Canceled),
    ];

    /// Moves to `next`.
    ///
    /// # Panics
    /// On an illegal transition, which is a bug in the host.
    pub fn transition(self, next: StepStatus) -> StepStatus {
        assert!(Self::LEGAL.contains(&(self, next)), "illegal step status transition {self} -> {next}");
        next
    }

    /// Whether the step produced what it was asked to.
    pub fn is_success(self) -> bool {
        matches!(self, StepStatus::Succeeded | StepStatus::Reused)
    }

    /// Whether the step is done, one way or another.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded
                | StepStatus::Failed
                | StepStatus::Skipped
                | StepStatus::Canceled
                | StepStatus::Reused
        )
    }
}

impl fmt::Display for StepStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepStatus::Pending => "PENDING",
            StepStatus::Running => "RUNNING",
            StepStatus::UpForRetry => "RETRYING",
            StepStatus::Succeeded => "SUCCESS",
            StepStatus::Failed => "FAILURE",
            StepStatus::Skipped => "SKIPPED",
            StepStatus::Canceled => "CANCELED",
            StepStatus::Reused => "REUSED",
        })
    }
}

/// The stored record of a run. Steps, outputs and logs live in the event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: RunId,
    pub pipeline: String,
    /// The manifest the run was launched from.
    pub manifest: String,
    pub status: RunStatus,
    /// Microseconds since the Unix epoch.
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    /// The run config the run used, validated, defaults filled in.
    pub run_config: serde_json::Value,
    pub tags: BTreeMap<String, String>,
    /// The run whose outputs this one reused for steps it did not select.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_run: Option<RunId>,
    /// The first run of a chain of re-executions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_run: Option<RunId>,
    /// The step selection, when the run did not run every step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_selection: Option<String>,
    /// The host process running it (see `owner.rs`), while it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as i64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_round_trip_through_text() {
        let id = RunId::generate();
        assert_eq!(id.to_string().parse::<RunId>(), Ok(id));
        assert!("not-an-id".parse::<RunId>().is_err());
    }

    #[test]
    fn a_run_goes_from_queued_to_started_to_an_end() {
        let status = RunStatus::Queued.transition(RunStatus::Started);
        assert!(status.transition(RunStatus::Success).is_finished());
    }

    #[test]
    #[should_panic(expected = "illegal step status transition SKIPPED -> RUNNING")]
    fn a_skipped_step_never_runs() {
        StepStatus::Skipped.transition(StepStatus::Running);
    }

    #[test]
    #[should_panic(expected = "illegal run status transition SUCCESS -> STARTED")]
    fn a_finished_run_cannot_start_again() {
        RunStatus::Success.transition(RunStatus::Started);
    }
}
