//! The scheduler: runs a locked pipeline's steps as their inputs become ready, up to
//! `max_concurrent` at once; retries failed attempts by their policy; skips steps that a
//! failure or an unproduced optional output makes impossible; stops on cancellation or,
//! when asked, at the first failure; and records everything in the run's event log.
//!
//! Durability: a step's events, outputs and compute logs go to the store's writer in one
//! batch when its attempt ends, and are committed with whatever else is queued (a group
//! commit); dependents start at once, fed from memory. Batches are committed in order, so
//! the store never holds a step's records without those of the steps before it. Events
//! reach the live subscriber as they happen, before they are durable; the run's final
//! record is durable before `execute_run` returns.

use crate::cancel::CancelToken;
use crate::context::EventSink;
use crate::db::{Batch, Db, MemoEntry, Stream, Writer};
use crate::error::{Error, Result};
use crate::event::{Event, EventKind, StepError, StepErrorKind};
use crate::executor::Executor;
use crate::plan::{LockedPipeline, PlannedStep};
use crate::run::{RunId, RunRecord, RunStatus, StepStatus, now_micros};
use crate::sandbox::{Attempt, AttemptReport};
use crate::value::{Output, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinSet;

/// The run's event log as it is written: numbers events, buffers them for the next
/// commit, and forwards them to the live subscriber. Shared by the steps of a run, so
/// the log has one total order.
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

    /// Hands what is pending to the writer, for the next group commit.
    fn commit(&mut self, writer: &Writer) -> Result<()> {
        writer.submit(self.run_id, std::mem::take(&mut self.pending))
    }
}

type SharedLog = Arc<Mutex<RunLog>>;

fn lock(log: &SharedLog) -> std::sync::MutexGuard<'_, RunLog> {
    // A panic while holding the lock is a bug; the log itself stays consistent.
    log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a task of the run's task set reports.
enum Outcome {
    /// An attempt ended.
    Attempted { index: usize, attempt: u32, report: AttemptReport, took: Duration },
    /// A retry's wait is over (or the run stopped while it waited).
    RetryDue { index: usize, attempt: u32 },
}

/// Why the run stops starting steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Canceled,
    FailFast,
}

/// What a ready step turns out to need.
enum Readiness {
    /// Its inputs, and in a memoized run its version key (which hashes them).
    Run(Vec<(String, Value)>, Option<[u8; 32]>),
    Skip(String),
    /// An upstream step was canceled: so is this one.
    Cancel(String),
    Fail(StepError),
}

struct Scheduler<'a> {
    db: &'a Db,
    writer: &'a Writer,
    executor: Arc<dyn Executor>,
    plan: Arc<LockedPipeline>,
    log: SharedLog,
    run_id: RunId,
    status: Vec<StepStatus>,
    selected: Vec<bool>,
    /// Selected upstream steps not yet final, per step.
    waiting: Vec<usize>,
    downstream: Vec<Vec<usize>>,
    /// Outputs of succeeded steps (and reused ones), fed to dependents from memory.
    values: HashMap<(usize, String), Output>,
    ready: BTreeSet<usize>,
    tasks: JoinSet<Outcome>,
    /// Attempts executing now (a retry waiting takes no slot).
    active: usize,
    stop: Option<Stop>,
    /// Interrupts running attempts when the run stops.
    interrupt: CancelToken,
    /// Microseconds since the epoch: what deterministic steps' clocks read.
    run_started_at: i64,
    /// Each step's version key, once its inputs are known; only memoized runs need one.
    version_keys: Vec<Option<[u8; 32]>>,
}

/// Runs `plan` as the run `record` (already stored, QUEUED) and returns its final record.
///
/// # Errors
/// Only database faults and host bugs; step faults are recorded in the run and fail it.
pub(crate) async fn execute_run(
    db: &Db,
    writer: &Writer,
    executor: Arc<dyn Executor>,
    plan: Arc<LockedPipeline>,
    mut record: RunRecord,
    live: Option<UnboundedSender<Event>>,
    cancel: CancelToken,
) -> Result<RunRecord> {
    let n = plan.steps.len();
    let log: SharedLog =
        Arc::new(Mutex::new(RunLog { run_id: record.id, next_seq: 0, pending: Batch::default(), live }));
    let selected: Vec<bool> = match &plan.selection {
        Some(selection) => (0..n).map(|i| selection.steps.contains(&i)).collect(),
        None => vec![true; n],
    };
    let mut downstream = vec![Vec::new(); n];
    for (i, step) in plan.steps.iter().enumerate() {
        for &u in &step.upstream {
            downstream[u].push(i);
        }
    }
    let waiting: Vec<usize> = plan.steps.iter().map(|s| s.upstream.iter().filter(|&&u| selected[u]).count()).collect();
    let ready = (0..n).filter(|&i| selected[i] && waiting[i] == 0).collect();
    let values = match &plan.selection {
        Some(selection) => selection
            .reused
            .iter()
            .map(|((index, name), value)| ((*index, name.clone()), Output::new(name.clone(), value.clone())))
            .collect(),
        None => HashMap::new(),
    };
    let mut scheduler = Scheduler {
        db,
        writer,
        executor,
        plan: plan.clone(),
        log: log.clone(),
        run_id: record.id,
        status: vec![StepStatus::Pending; n],
        selected,
        waiting,
        downstream,
        values,
        ready,
        tasks: JoinSet::new(),
        active: 0,
        stop: None,
        interrupt: CancelToken::new(),
        run_started_at: 0,
        version_keys: vec![None; n],
    };

    let started = Instant::now();
    record.status = record.status.transition(RunStatus::Started);
    record.started_at = Some(now_micros());
    scheduler.run_started_at = record.started_at.unwrap_or_default();
    {
        let mut log = lock(&log);
        log.emit(None, EventKind::RunStarted { pipeline: plan.name.clone() });
        log.pending.run = Some(record.clone());
        // Unselected steps whose outputs this run reuses: recorded as this run's own, so
        // that a re-execution of this run finds every value it needs here.
        if let Some(selection) = &plan.selection {
            let mut by_step: BTreeMap<usize, Vec<&Output>> = BTreeMap::new();
            for ((index, _), output) in &scheduler.values {
                by_step.entry(*index).or_default().push(output);
            }
            for (index, reused) in by_step {
                let key = &plan.steps[index].key;
                scheduler.status[index] = scheduler.status[index].transition(StepStatus::Reused);
                let from_run = selection.parent.expect("reused values come from a parent run");
                let reason = format!("not selected; outputs reused from run {from_run}");
                log.emit(Some(key), EventKind::StepReused { from_run, reason });
                for output in reused {
                    log.pending.outputs.push((key.clone(), output.clone()));
                }
            }
        }
        log.commit(writer)?;
    }

    scheduler.run(&cancel).await?;

    let duration_us = started.elapsed().as_micros() as u64;
    let failed: Vec<&str> =
        (0..n).filter(|&i| scheduler.status[i] == StepStatus::Failed).map(|i| plan.steps[i].key.as_str()).collect();
    {
        let mut log = lock(&log);
        if scheduler.stop == Some(Stop::Canceled) {
            record.status = record.status.transition(RunStatus::Canceled);
            log.emit(None, EventKind::RunCanceled { duration_us });
        } else if failed.is_empty() {
            record.status = record.status.transition(RunStatus::Success);
            log.emit(None, EventKind::RunSucceeded { duration_us });
        } else {
            record.status = record.status.transition(RunStatus::Failure);
            let message = format!("step(s) failed: {}", failed.join(", "));
            log.emit(None, EventKind::RunFailed { duration_us, message });
        }
        record.ended_at = Some(now_micros());
        log.pending.run = Some(record.clone());
        log.commit(writer)?;
    }
    writer.flush().await?;
    Ok(record)
}

impl Scheduler<'_> {
    async fn run(&mut self, cancel: &CancelToken) -> Result<()> {
        loop {
            self.start_ready()?;
            if self.tasks.is_empty() {
                break;
            }
            let outcome = tokio::select! {
                biased;
                () = cancel.cancelled(), if self.stop.is_none() => {
                    self.stop(Stop::Canceled);
                    continue;
                }
                joined = self.tasks.join_next() => joined.expect("the task set is not empty"),
            };
            match outcome.map_err(|e| Error::Host(format!("a step task of run {} died: {e}", self.run_id)))? {
                Outcome::Attempted { index, attempt, report, took } => {
                    self.finish_attempt(index, attempt, report, took)?
                }
                Outcome::RetryDue { index, attempt } => self.retry_due(index, attempt)?,
            }
        }
        // Whatever never became ready (its upstream was interrupted) ends canceled.
        let reason = self.stop_reason();
        for index in 0..self.status.len() {
            if self.selected[index] && !self.status[index].is_final() {
                self.set(index, StepStatus::Canceled);
                lock(&self.log)
                    .emit(Some(&self.plan.steps[index].key), EventKind::StepCanceled { reason: reason.clone() });
            }
        }
        lock(&self.log).commit(self.writer)
    }

    fn stop(&mut self, why: Stop) {
        self.stop.get_or_insert(why);
        self.interrupt.cancel();
    }

    fn stop_reason(&self) -> String {
        match self.stop {
            Some(Stop::FailFast) => "the run failed fast after a step failed".into(),
            _ => "the run was canceled".into(),
        }
    }

    fn set(&mut self, index: usize, next: StepStatus) {
        self.status[index] = self.status[index].transition(next);
    }

    /// Starts ready steps while slots are free. Steps that cannot run are settled at
    /// once, even when the run is stopping, so that skips stay precise.
    fn start_ready(&mut self) -> Result<()> {
        let max = self.plan.execution.max_concurrent;
        let mut settled = false;
        while let Some(&index) = self.ready.first() {
            let readiness = self.readiness(index);
            if matches!(readiness, Readiness::Run(..)) && self.stop.is_none() && self.active >= max {
                break;
            }
            self.ready.pop_first();
            settled |= !matches!(readiness, Readiness::Run(..)) || self.stop.is_some();
            let key = self.plan.steps[index].key.clone();
            match readiness {
                Readiness::Skip(reason) => {
                    self.set(index, StepStatus::Skipped);
                    lock(&self.log).emit(Some(&key), EventKind::StepSkipped { reason });
                    self.settle(index)?;
                }
                Readiness::Fail(error) => {
                    self.set(index, StepStatus::Failed);
                    lock(&self.log).emit(Some(&key), EventKind::StepFailed { duration_us: 0, error });
                    self.settle(index)?;
                    if self.plan.execution.fail_fast {
                        self.stop(Stop::FailFast);
                    }
                }
                Readiness::Cancel(reason) => {
                    self.set(index, StepStatus::Canceled);
                    lock(&self.log).emit(Some(&key), EventKind::StepCanceled { reason });
                    self.settle(index)?;
                }
                Readiness::Run(..) if self.stop.is_some() => {
                    self.set(index, StepStatus::Canceled);
                    let reason = self.stop_reason();
                    lock(&self.log).emit(Some(&key), EventKind::StepCanceled { reason });
                    self.settle(index)?;
                }
                Readiness::Run(inputs, version) => {
                    self.version_keys[index] = version;
                    if let Some(key) = version
                        && self.reuse_memoized(index, &key)?
                    {
                        settled = true;
                        continue;
                    }
                    self.set(index, StepStatus::Running);
                    self.launch(index, 1, inputs);
                }
            }
        }
        // Steps settled without running are as durable as steps that ran.
        if settled { lock(&self.log).commit(self.writer) } else { Ok(()) }
    }

    /// Decides whether a step whose upstream steps are all final can run, and gathers
    /// its inputs, type-checked against the declared input types.
    fn readiness(&self, index: usize) -> Readiness {
        let step = &self.plan.steps[index];
        if let Some(&upstream) = step.upstream.iter().find(|&&u| self.selected[u] && !self.status[u].is_success()) {
            let name = &self.plan.steps[upstream].key;
            return match self.status[upstream] {
                StepStatus::Failed => Readiness::Skip(format!("upstream step `{name}` failed")),
                StepStatus::Canceled => Readiness::Cancel(format!("upstream step `{name}` was canceled")),
                _ => Readiness::Skip(format!("upstream step `{name}` was skipped")),
            };
        }
        let mut inputs = Vec::new();
        let mut version = self.plan.execution.memoize.then(|| version_hasher(step));
        for input in &step.inputs {
            let def = step.solid.def.input(&input.name).expect("planned inputs are declared");
            let mut fed = 0;
            for (upstream, output) in &input.sources {
                let Some(Output { value, digest, .. }) = self.values.get(&(*upstream, output.clone())) else {
                    continue;
                };
                fed += 1;
                if !def.ty.admits(value) {
                    return Readiness::Fail(StepError {
                        kind: StepErrorKind::InputType,
                        message: format!(
                            "input `{}` is declared {} but `{}.{output}` produced {}",
                            input.name,
                            def.ty,
                            self.plan.steps[*upstream].key,
                            value.kind()
                        ),
                        retryable: false,
                        metadata: Vec::new(),
                        backtrace: None,
                    });
                }
                if let Some(version) = &mut version {
                    version.update(input.name.as_bytes());
                    version.update(&[0]);
                    version.update(digest.as_bytes());
                }
                inputs.push((input.name.clone(), value.clone()));
            }
            if fed == 0 && !def.optional && !def.multiple {
                let (upstream, output) = &input.sources[0];
                return Readiness::Skip(format!(
                    "optional output `{}.{output}` was not produced",
                    self.plan.steps[*upstream].key
                ));
            }
        }
        Readiness::Run(inputs, version.map(|v| *v.finalize().as_bytes()))
    }

    fn launch(&mut self, index: usize, attempt: u32, inputs: Vec<(String, Value)>) {
        let step = &self.plan.steps[index];
        lock(&self.log).emit(Some(&step.key), EventKind::StepStarted { attempt });
        self.active += 1;
        let sink: EventSink = {
            let (log, key) = (self.log.clone(), step.key.clone());
            Arc::new(move |kind| lock(&log).emit(Some(&key), kind))
        };
        let request = Attempt {
            run_id: self.run_id.to_string(),
            step_key: step.key.clone(),
            attempt,
            partition_key: self.plan.partition.as_ref().map(|p| p.key.clone()),
            config: step.config.to_string(),
            inputs,
            limits: step.limits,
            grants: step.grants.clone(),
            run_started_at: self.run_started_at,
            interrupt: self.interrupt.clone(),
        };
        let (executor, plan) = (self.executor.clone(), self.plan.clone());
        self.tasks.spawn(async move {
            let started = Instant::now();
            let report = executor.execute(&plan.steps[index], request, sink).await;
            Outcome::Attempted { index, attempt, report, took: started.elapsed() }
        });
    }

    fn finish_attempt(&mut self, index: usize, attempt: u32, report: AttemptReport, took: Duration) -> Result<()> {
        self.active -= 1;
        let plan = self.plan.clone();
        let step = &plan.steps[index];
        let key = step.key.as_str();
        let duration_us = took.as_micros() as u64;
        let mut log = lock(&self.log);
        if !report.stdout.is_empty() || !report.stderr.is_empty() {
            log.emit(
                Some(key),
                EventKind::ComputeLogs {
                    attempt,
                    stdout_bytes: report.stdout.len() as u64,
                    stderr_bytes: report.stderr.len() as u64,
                },
            );
            log.pending.compute_logs.push((key.to_owned(), attempt, Stream::Stdout, report.stdout));
            log.pending.compute_logs.push((key.to_owned(), attempt, Stream::Stderr, report.stderr));
        }
        let succeeded = report.error.is_none();
        // Only memoized runs have version keys, and record them: a memo row is a
        // random-key insert, the dearest write a trivial step would otherwise make.
        if succeeded && let Some(version) = self.version_keys[index] {
            let outputs = report.outputs.iter().map(|o| (o.name.clone(), o.digest.to_hex().to_string()));
            let entry = MemoEntry { run: self.run_id, step: key.to_owned(), outputs: outputs.collect() };
            log.pending.memo.push((version, entry));
        }
        // Outputs of a failed attempt are kept for inspection but feed nothing.
        for output in report.outputs {
            if succeeded {
                self.values.insert((index, output.name.clone()), output.clone());
            }
            log.pending.outputs.push((key.to_owned(), output));
        }
        let mut retry_after = None;
        match report.error {
            None => {
                self.status[index] = self.status[index].transition(StepStatus::Succeeded);
                log.emit(Some(key), EventKind::StepSucceeded { duration_us });
            }
            Some(error) if error.kind == StepErrorKind::Canceled => {
                self.status[index] = self.status[index].transition(StepStatus::Canceled);
                log.emit(Some(key), EventKind::StepCanceled { reason: error.message });
            }
            Some(error) if self.stop.is_none() && step.retry.retries(attempt, &error) => {
                let seed = (self.run_id.0 as u64) ^ (index as u64).rotate_left(32);
                let delay = step.retry.delay_before(attempt + 1, seed);
                self.status[index] = self.status[index].transition(StepStatus::UpForRetry);
                log.emit(Some(key), EventKind::StepRetry { attempt, delay_us: delay.as_micros() as u64, error });
                retry_after = Some(delay);
            }
            Some(error) => {
                self.status[index] = self.status[index].transition(StepStatus::Failed);
                log.emit(Some(key), EventKind::StepFailed { duration_us, error });
            }
        }
        log.commit(self.writer)?;
        drop(log);
        if let Some(delay) = retry_after {
            let interrupt = self.interrupt.clone();
            self.tasks.spawn(async move {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    () = interrupt.cancelled() => {}
                }
                Outcome::RetryDue { index, attempt: attempt + 1 }
            });
            return Ok(());
        }
        if self.status[index] == StepStatus::Failed && self.plan.execution.fail_fast {
            self.stop(Stop::FailFast);
        }
        self.settle(index)
    }

    fn retry_due(&mut self, index: usize, attempt: u32) -> Result<()> {
        if self.stop.is_some() {
            self.set(index, StepStatus::Canceled);
            let reason = self.stop_reason();
            lock(&self.log).emit(Some(&self.plan.steps[index].key), EventKind::StepCanceled { reason });
            lock(&self.log).commit(self.writer)?;
            return self.settle(index);
        }
        match self.readiness(index) {
            Readiness::Run(inputs, _) => {
                self.set(index, StepStatus::Running);
                self.launch(index, attempt, inputs);
                Ok(())
            }
            // Inputs were checked before the first attempt and have not changed.
            _ => unreachable!("a step's inputs do not change between its attempts"),
        }
    }

    /// Reuses the outputs of an earlier success of the same step version, if the store
    /// has them all. Returns whether it did.
    fn reuse_memoized(&mut self, index: usize, version: &[u8; 32]) -> Result<bool> {
        let Some(entry) = self.db.memo(version)? else { return Ok(false) };
        let mut outputs = Vec::new();
        for (output, hex) in &entry.outputs {
            let Ok(digest) = blake3::Hash::from_hex(hex) else { return Ok(false) };
            // A blob collected since: run the step instead.
            let Some(value) = self.db.blob(digest.as_bytes())? else { return Ok(false) };
            outputs.push(Output { name: output.clone(), value, digest });
        }
        let key = self.plan.steps[index].key.clone();
        self.set(index, StepStatus::Reused);
        let mut log = lock(&self.log);
        let reason = format!(
            "memoized: `{}` of run {} had the same component, version, config and inputs",
            entry.step, entry.run
        );
        log.emit(Some(&key), EventKind::StepReused { from_run: entry.run, reason });
        for output in outputs {
            self.values.insert((index, output.name.clone()), output.clone());
            log.pending.outputs.push((key.clone(), output));
        }
        drop(log);
        self.settle(index)?;
        Ok(true)
    }

    /// A step is final: its dependents wait for one step fewer.
    fn settle(&mut self, index: usize) -> Result<()> {
        for &d in &self.downstream[index] {
            if self.selected[d] {
                self.waiting[d] -= 1;
                if self.waiting[d] == 0 {
                    self.ready.insert(d);
                }
            }
        }
        Ok(())
    }
}

/// A step's version key: what makes two runs of it interchangeable — the component, the
/// solid's declared version, the config, determinism, and the inputs (by digest, in
/// order, added by the caller).
fn version_hasher(step: &PlannedStep) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(step.solid.digest.as_bytes());
    hasher.update(&[0]);
    hasher.update(step.solid.def.version.as_bytes());
    hasher.update(&[0]);
    // serde_json keeps object keys sorted, so equal configs print equal.
    hasher.update(step.config.to_string().as_bytes());
    hasher.update(&[0, u8::from(step.grants.deterministic)]);
    // A step bound to another database or store is another computation. Secret values
    // are left out: only the names of the variables they come from count.
    for grant in &step.grants.resources {
        hasher.update(grant.name.as_bytes());
        hasher.update(&[0]);
        hasher.update(grant.backend.identity().as_bytes());
        hasher.update(&[0]);
    }
    hasher
}
