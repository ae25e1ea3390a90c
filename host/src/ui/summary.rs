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
    /// The API's answer for this summary once the run has ended (it cannot change then),
    /// with the event count it was rendered at.
    #[serde(skip)]
    pub(super) rendered: Option<(u64, axum::body::Bytes)>,
}

/// One step of a run.
#[derive(Debug)]
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

/// A step as the API sends it: what is empty is left out, and so is the attempt list
/// when it holds one attempt that says what the step says. A summary of 10,000 steps is
/// half the size for it.
impl Serialize for StepSummary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct View<'a> {
            key: &'a str,
            status: StepStatus,
            #[serde(skip_serializing_if = "Option::is_none")]
            start: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            end: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            attempts: Option<&'a [Attempt]>,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a StepError>,
            #[serde(skip_serializing_if = "<[String]>::is_empty")]
            outputs: &'a [String],
            #[serde(skip_serializing_if = "Expectations::is_empty")]
            expectations: &'a Expectations,
            #[serde(skip_serializing_if = "is_zero")]
            materializations: u32,
        }
        View {
            key: &self.key,
            status: self.status,
            start: self.start,
            end: self.end,
            attempts: (!self.has_one_plain_attempt()).then_some(&self.attempts[..]),
            error: self.error.as_ref(),
            outputs: &self.outputs,
            expectations: &self.expectations,
            materializations: self.materializations,
        }
        .serialize(serializer)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One call of a step's `compute`.
#[derive(Debug, Serialize)]
pub struct Attempt {
    pub attempt: u32,
    pub start: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    /// `running`, then `succeeded`, `failed`, `up_for_retry` or `canceled`.
    pub status: StepStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

#[derive(Debug, Default, Serialize)]
pub struct Expectations {
    pub passed: u32,
    pub failed: u32,
}

impl Expectations {
    fn is_empty(&self) -> bool {
        self.passed == 0 && self.failed == 0
    }
}

impl StepSummary {
    /// Whether the step ran once, and that attempt's start, end, status and error are
    /// the step's own.
    fn has_one_plain_attempt(&self) -> bool {
        match self.attempts.as_slice() {
            [only] => {
                only.attempt == 1
                    && Some(only.start) == self.start
                    && only.end == self.end
                    && only.status == self.status
                    && only.error == self.error
            }
            _ => false,
        }
    }
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

        // Two attempts are listed; a skipped step's empty list is kept, so that it is not
        // taken for one plain attempt; one plain attempt is left out.
        let json = serde_json::to_value(&summary.steps).unwrap();
        assert_eq!(json[0]["attempts"].as_array().unwrap().len(), 2);
        assert_eq!(json[1]["attempts"], serde_json::json!([]));
        let mut plain = RunSummary::default();
        plain.apply(&event(0, "c", EventKind::StepStarted { attempt: 1 }));
        plain.apply(&event(1, "c", EventKind::StepSucceeded { duration_us: 1 }));
        let json = serde_json::to_value(&plain.steps[0]).unwrap();
        assert_eq!(json, serde_json::json!({ "key": "c", "status": "succeeded", "start": 1000, "end": 1001 }));
    }
}
