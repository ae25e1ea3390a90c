//! A run's steps at a glance, folded from its event log: what the run page draws (the
//! DAG's colours, the Gantt's bars, the step panel's error). A summary is kept per run
//! and brought up to date from the last event it folded, so refreshing a live run of
//! 10,000 steps reads only what is new.

use crate::event::{Event, EventKind, StepError};
use crate::run::StepStatus;
use serde::Serialize;
use std::collections::HashMap;

/// Where every step of a run is, as of event `next_seq - 1`.
#[derive(Debug, Default, Serialize)]
pub struct RunSummary {
    /// How many events were folded (the log's length).
    pub events: u64,
    /// How many of them are `log` events.
    pub log_lines: u64,
    /// The steps the events name, in the order they first appear.
    pub steps: Vec<StepSummary>,
    #[serde(skip)]
    index: HashMap<String, usize>,
}

/// One step of a run.
#[derive(Debug, Serialize)]
pub struct StepSummary {
    pub key: String,
    pub status: StepStatus,
    /// When its first attempt started, or when it was skipped, canceled or reused.
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub attempts: Vec<Attempt>,
    /// Why it failed, when it did.
    pub error: Option<StepError>,
    /// The outputs it produced (reused outputs are not events of this run).
    pub outputs: Vec<String>,
    pub expectations: Expectations,
    pub materializations: u32,
}

/// One call of a step's `compute`.
#[derive(Debug, Serialize)]
pub struct Attempt {
    pub attempt: u32,
    pub start: i64,
    pub end: Option<i64>,
    /// `running`, then `succeeded`, `failed`, `up_for_retry` or `canceled`.
    pub status: StepStatus,
    pub error: Option<StepError>,
}

#[derive(Debug, Default, Serialize)]
pub struct Expectations {
    pub passed: u32,
    pub failed: u32,
}

impl RunSummary {
    /// The sequence number of the next event to fold.
    pub fn next_seq(&self) -> u64 {
        self.events
    }

    /// Folds the next event of the log in.
    pub fn apply(&mut self, event: &Event) {
        self.events = event.seq + 1;
        if matches!(event.kind, EventKind::Log { .. }) {
            self.log_lines += 1;
        }
        let Some(key) = &event.step else { return };
        let step = self.step(key);
        let at = event.timestamp;
        match &event.kind {
            EventKind::StepStarted { attempt } => {
                step.status = StepStatus::Running;
                step.start.get_or_insert(at);
                step.attempts.push(Attempt {
                    attempt: *attempt,
                    start: at,
                    end: None,
                    status: StepStatus::Running,
                    error: None,
                });
            }
            EventKind::StepRetry { error, .. } => {
                step.status = StepStatus::UpForRetry;
                step.close_attempt(at, StepStatus::UpForRetry, Some(error.clone()));
            }
            EventKind::StepSucceeded { .. } => step.finish(at, StepStatus::Succeeded, None),
            EventKind::StepFailed { error, .. } => step.finish(at, StepStatus::Failed, Some(error.clone())),
            EventKind::StepSkipped { .. } => step.finish(at, StepStatus::Skipped, None),
            EventKind::StepCanceled { .. } => step.finish(at, StepStatus::Canceled, None),
            EventKind::StepReused { .. } => step.finish(at, StepStatus::Reused, None),
            EventKind::StepOutput { output, .. } => step.outputs.push(output.clone()),
            EventKind::Expectation { success: true, .. } => step.expectations.passed += 1,
            EventKind::Expectation { success: false, .. } => step.expectations.failed += 1,
            EventKind::Materialization { .. } => step.materializations += 1,
            _ => {}
        }
    }

    /// Whether the run has a step `key` (one that any event named).
    pub fn has_step(&self, key: &str) -> bool {
        self.index.contains_key(key)
    }

    fn step(&mut self, key: &str) -> &mut StepSummary {
        let index = match self.index.get(key) {
            Some(&i) => i,
            None => {
                self.steps.push(StepSummary {
                    key: key.to_owned(),
                    status: StepStatus::Pending,
                    start: None,
                    end: None,
                    attempts: Vec::new(),
                    error: None,
                    outputs: Vec::new(),
                    expectations: Expectations::default(),
                    materializations: 0,
                });
                self.index.insert(key.to_owned(), self.steps.len() - 1);
                self.steps.len() - 1
            }
        };
        &mut self.steps[index]
    }
}

impl StepSummary {
    fn finish(&mut self, at: i64, status: StepStatus, error: Option<StepError>) {
        self.status = status;
        self.start.get_or_insert(at);
        self.end = Some(at);
        self.close_attempt(at, status, error.clone());
        self.error = error;
    }

    /// Ends the attempt still running, if one is (a step can fail before any attempt,
    /// on an input of the wrong type, or be canceled while it waits for a retry).
    fn close_attempt(&mut self, at: i64, status: StepStatus, error: Option<StepError>) {
        if let Some(attempt) = self.attempts.last_mut().filter(|a| a.end.is_none()) {
            attempt.end = Some(at);
            attempt.status = status;
            attempt.error = error;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::StepErrorKind;

    fn event(seq: u64, step: &str, kind: EventKind) -> Event {
        Event { seq, timestamp: 1000 + seq as i64, step: Some(step.to_owned()), kind }
    }

    #[test]
    fn attempts_retries_and_failures_are_folded_per_step() {
        let error = StepError::new(StepErrorKind::Trap, "boom");
        let events = [
            Event { seq: 0, timestamp: 1000, step: None, kind: EventKind::RunStarted { pipeline: "p".into() } },
            event(1, "a", EventKind::StepStarted { attempt: 1 }),
            event(2, "a", EventKind::StepRetry { attempt: 1, delay_us: 5, error: error.clone() }),
            event(3, "a", EventKind::StepStarted { attempt: 2 }),
            event(4, "a", EventKind::StepFailed { duration_us: 1, error: error.clone() }),
            event(5, "b", EventKind::StepSkipped { reason: "a failed".into() }),
            event(6, "a", EventKind::Log { level: crate::event::LogLevel::Info, message: "late".into() }),
        ];
        let mut summary = RunSummary::default();
        for e in &events {
            summary.apply(e);
        }
        assert_eq!(summary.next_seq(), 7);
        assert_eq!(summary.log_lines, 1);
        let a = &summary.steps[0];
        assert_eq!((a.key.as_str(), a.status, a.start, a.end), ("a", StepStatus::Failed, Some(1001), Some(1004)));
        let attempts: Vec<_> = a.attempts.iter().map(|t| (t.attempt, t.start, t.end, t.status)).collect();
        assert_eq!(
            attempts,
            [(1, 1001, Some(1002), StepStatus::UpForRetry), (2, 1003, Some(1004), StepStatus::Failed)]
        );
        assert_eq!(a.error.as_ref().map(|e| e.message.as_str()), Some("boom"));
        let b = &summary.steps[1];
        assert_eq!((b.status, b.attempts.len()), (StepStatus::Skipped, 0));
        assert!(summary.has_step("b") && !summary.has_step("c"));
    }
}
