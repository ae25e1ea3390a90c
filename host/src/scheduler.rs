//! The scheduler: walks a locked pipeline, hands ready steps to the executor, feeds each
//! step the outputs of its upstream steps (type-checked at the boundary), skips what a
//! failure makes impossible, and records everything in the run's event log.
//!
//! Durability: a step's events, outputs and compute logs are committed in one
//! transaction when the step ends, before its dependents start; events are sent to live
//! subscribers as they happen, before they are durable.

use crate::db::{Batch, Db, Stream};
use crate::error::Result;
use crate::event::{Event, EventKind, StepError, StepErrorKind};
use crate::executor::Executor;
use crate::plan::LockedPipeline;
use crate::run::{RunId, RunRecord, RunStatus, StepStatus, now_micros};
use crate::sandbox::{Attempt, EventSink, StepLimits};
use crate::value::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// The run's event log as it is written: numbers events, buffers them for the next
/// commit, and forwards them to the live subscriber.
struct RunLog {
    run_id: RunId,
    next_seq: u64,
    pending: Batch,
    live: Option<UnboundedSender<Event>>,
}

impl RunLog {
    fn emit(&mut self, step: Option<&str>, kind: EventKind) {
        let event = Event { seq: self.next_seq, timestamp: now_micros(), step: step.map(str::to_owned), kind };
        self.next_seq += 1;
        if let Some(live) = &self.live
            && live.send(event.clone()).is_err()
        {
            // The subscriber went away; the run goes on and is still recorded.
            self.live = None;
        }
        self.pending.events.push(event);
    }

    fn commit(&mut self, db: &Db) -> Result<()> {
        let batch = std::mem::take(&mut self.pending);
        db.commit(self.run_id, &batch)
    }
}

/// Runs `plan` as the run `record` (already stored, QUEUED) and returns its final record.
///
/// # Errors
/// Only database faults; step faults are recorded in the run and fail the run.
pub(crate) async fn execute_run(
    db: &Db,
    executor: &dyn Executor,
    plan: &LockedPipeline,
    mut record: RunRecord,
    live: Option<UnboundedSender<Event>>,
) -> Result<RunRecord> {
    let log = Arc::new(Mutex::new(RunLog { run_id: record.id, next_seq: 0, pending: Batch::default(), live }));
    let emit = |step: Option<&str>, kind: EventKind| log.lock().expect("run log lock").emit(step, kind);
    let commit = || log.lock().expect("run log lock").commit(db);

    let started = Instant::now();
    record.status = record.status.transition(RunStatus::Started);
    record.started_at = Some(now_micros());
    emit(None, EventKind::RunStarted { pipeline: plan.name.clone() });
    log.lock().expect("run log lock").pending.run = Some(record.clone());
    commit()?;

    let mut status = vec![StepStatus::Pending; plan.steps.len()];
    // Outputs of finished steps, handed to dependents from memory.
    let mut values: HashMap<(usize, &str), Value> = HashMap::new();
    for (index, step) in plan.steps.iter().enumerate() {
        let key = step.key.as_str();
        // A step runs only when every step it reads from succeeded and every required
        // input has a value.
        if let Some(&upstream) = step.upstream.iter().find(|&&u| !status[u].is_success()) {
            let reason = format!(
                "upstream step `{}` {}",
                plan.steps[upstream].key,
                if status[upstream] == StepStatus::Failed { "failed" } else { "was skipped" }
            );
            status[index] = status[index].transition(StepStatus::Skipped);
            emit(Some(key), EventKind::StepSkipped { reason });
            commit()?;
            continue;
        }
        let mut inputs = Vec::new();
        let mut skip_reason = None;
        let mut input_error = None;
        for input in &step.inputs {
            let def = step.solid.def.input(&input.name).expect("planned inputs are declared");
            let mut fed = 0;
            for (upstream, output) in &input.sources {
                let Some(value) = values.get(&(*upstream, output.as_str())) else {
                    continue;
                };
                fed += 1;
                if !def.ty.admits(value) {
                    input_error = Some(format!(
                        "input `{}` is declared {} but `{}.{output}` produced {}",
                        input.name,
                        def.ty,
                        plan.steps[*upstream].key,
                        value.kind()
                    ));
                }
                inputs.push((input.name.clone(), value.clone()));
            }
            if fed == 0 && !def.optional && !def.multiple {
                let (upstream, output) = &input.sources[0];
                skip_reason =
                    Some(format!("optional output `{}.{output}` was not produced", plan.steps[*upstream].key));
            }
        }
        if let Some(reason) = skip_reason {
            status[index] = status[index].transition(StepStatus::Skipped);
            emit(Some(key), EventKind::StepSkipped { reason });
            commit()?;
            continue;
        }
        if let Some(message) = input_error {
            let error = StepError {
                kind: StepErrorKind::InputType,
                message,
                retryable: false,
                metadata: Vec::new(),
                backtrace: None,
            };
            status[index] = status[index].transition(StepStatus::Failed);
            emit(Some(key), EventKind::StepFailed { duration_us: 0, error });
            commit()?;
            continue;
        }

        status[index] = status[index].transition(StepStatus::Running);
        emit(Some(key), EventKind::StepStarted { attempt: 1 });
        let step_started = Instant::now();
        let sink: EventSink = {
            let (log, key) = (log.clone(), key.to_owned());
            Arc::new(move |kind| log.lock().expect("run log lock").emit(Some(&key), kind))
        };
        let attempt = Attempt {
            run_id: record.id.to_string(),
            step_key: key.to_owned(),
            partition_key: None,
            config: step.config.to_string(),
            inputs,
            limits: StepLimits::default(),
        };
        let report = executor.execute(step, attempt, sink).await;
        let duration_us = step_started.elapsed().as_micros() as u64;
        {
            let mut log = log.lock().expect("run log lock");
            if !report.stdout.is_empty() || !report.stderr.is_empty() {
                log.emit(
                    Some(key),
                    EventKind::ComputeLogs {
                        stdout_bytes: report.stdout.len() as u64,
                        stderr_bytes: report.stderr.len() as u64,
                    },
                );
                log.pending.compute_logs.push((key.to_owned(), Stream::Stdout, report.stdout));
                log.pending.compute_logs.push((key.to_owned(), Stream::Stderr, report.stderr));
            }
            match report.error {
                None => {
                    status[index] = status[index].transition(StepStatus::Succeeded);
                    log.emit(Some(key), EventKind::StepSucceeded { duration_us });
                }
                Some(error) => {
                    status[index] = status[index].transition(StepStatus::Failed);
                    log.emit(Some(key), EventKind::StepFailed { duration_us, error });
                }
            }
            // Outputs of a failed attempt are kept for inspection but feed nothing.
            for (output, value) in report.outputs {
                log.pending.outputs.push((key.to_owned(), output.clone(), value.clone()));
                if status[index].is_success() {
                    let name =
                        step.solid.def.output(&output).map(|o| o.name.as_str()).expect("accepted outputs are declared");
                    values.insert((index, name), value);
                }
            }
        }
        commit()?;
    }

    let duration_us = started.elapsed().as_micros() as u64;
    let failed: Vec<&str> = plan
        .steps
        .iter()
        .zip(&status)
        .filter(|(_, s)| **s == StepStatus::Failed)
        .map(|(s, _)| s.key.as_str())
        .collect();
    if failed.is_empty() {
        record.status = record.status.transition(RunStatus::Success);
        emit(None, EventKind::RunSucceeded { duration_us });
    } else {
        record.status = record.status.transition(RunStatus::Failure);
        let message = format!("step(s) failed: {}", failed.join(", "));
        emit(None, EventKind::RunFailed { duration_us, message });
    }
    record.ended_at = Some(now_micros());
    log.lock().expect("run log lock").pending.run = Some(record.clone());
    commit()?;
    Ok(record)
}
