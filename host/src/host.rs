//! The library API: everything the CLI does is a call here.

use crate::cancel::CancelToken;
use crate::config::RunConfig;
use crate::db::{Batch, Claim, Db, Stream, Writer, WriterStats};
use crate::db::{GcReport, Retention};
use crate::engine::{EngineOptions, SolidEngine};
use crate::error::{Error, Result};
use crate::event::Event;
use crate::event::EventKind;
use crate::execution::ExecutorKind;
use crate::executor::{Executor, InProcessExecutor};
use crate::manifest::Manifest;
use crate::owner::OwnerLock;
use crate::plan::LockedPipeline;
use crate::run::{RunId, RunRecord, RunStatus, now_micros};
use crate::solid::SolidDef;
use crate::value::Value;
use crate::worker::MultiprocessExecutor;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// The default store of a project: `.weft/weft.redb` beside its manifest.
pub fn default_db_path(manifest: &Path) -> PathBuf {
    let dir = if manifest.is_dir() { manifest } else { manifest.parent().unwrap_or(Path::new(".")) };
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    dir.join(".weft").join("weft.redb")
}

/// A weft host: one wasmtime engine and one store. Cheap to clone; clones share both.
///
/// ```no_run
/// # async fn demo() -> weft_host::Result<()> {
/// use weft_host::{Host, Manifest, RunConfig};
/// let host = Host::open(std::path::Path::new(".weft/weft.redb"))?;
/// let manifest = Manifest::load(std::path::Path::new("weft.toml"))?;
/// let plan = host.plan(&manifest, "serial_pipeline", &RunConfig::default()).await?;
/// let mut run = host.launch(plan)?;
/// while let Some(event) = run.next_event().await {
///     println!("{} {:?}", event.kind.name(), event.step);
/// }
/// let record = run.wait().await?;
/// println!("{}", record.status);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Host {
    engine: Arc<SolidEngine>,
    db: Arc<Db>,
    /// Group-commits the records of this host's runs.
    writer: Arc<Writer>,
    /// Held while this host lives; recorded with the runs it starts.
    owner: Arc<OwnerLock>,
    /// The `weft` binary the multiprocess executor starts, when not found by itself.
    worker_binary: Option<PathBuf>,
}

impl Host {
    /// Opens a host on the store at `db_path` (created if missing).
    ///
    /// # Errors
    /// [`Error::Db`] if the store cannot be opened; [`Error::Host`] if wasmtime cannot
    /// be set up.
    pub fn open(db_path: &Path) -> Result<Host> {
        Host::open_with(db_path, EngineOptions::default())
    }

    /// Opens a host whose engine instruments code as `options` say.
    ///
    /// # Errors
    /// As [`Host::open`].
    pub fn open_with(db_path: &Path, options: EngineOptions) -> Result<Host> {
        let db = Db::open(db_path)?;
        let owner = OwnerLock::acquire(db_path).map_err(|e| Error::Db {
            path: db_path.to_path_buf(),
            message: format!("cannot take an owner lock: {e}"),
        })?;
        let engine = Arc::new(SolidEngine::with_options(options)?);
        let db = Arc::new(db);
        let writer = Arc::new(Writer::start(db.clone())?);
        let host = Host { engine, db, writer, owner: Arc::new(owner), worker_binary: None };
        host.recover_interrupted()?;
        Ok(host)
    }

    /// Names the `weft` binary that the multiprocess executor starts for each step. By
    /// default it is found from `WEFT_WORKER_BIN`, or beside this program.
    pub fn with_worker_binary(mut self, path: PathBuf) -> Host {
        self.worker_binary = Some(path);
        self
    }

    /// Marks the runs whose host process died as INTERRUPTED (done on open, too).
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read or written.
    pub fn recover_interrupted(&self) -> Result<Vec<RunId>> {
        let db_path = self.db.path().to_path_buf();
        let own = self.owner.token().to_owned();
        self.db.recover_interrupted(|token| token == own || crate::owner::is_alive(&db_path, token))
    }

    /// The store.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// How many batches this host's runs wrote, in how many group commits.
    pub fn writer_stats(&self) -> &WriterStats {
        self.writer.stats()
    }

    /// Plans a pipeline: builds stale solids, loads and checks everything.
    ///
    /// # Errors
    /// [`Error::Invalid`] listing every problem with the manifest, the components and
    /// the run config.
    pub async fn plan(&self, manifest: &Manifest, pipeline: &str, run_config: &RunConfig) -> Result<LockedPipeline> {
        self.plan_with_notes(manifest, pipeline, run_config, &|note| tracing::info!("{note}")).await
    }

    /// [`Host::plan`], telling `note` what it builds.
    ///
    /// # Errors
    /// As [`Host::plan`].
    pub async fn plan_with_notes(
        &self,
        manifest: &Manifest,
        pipeline: &str,
        run_config: &RunConfig,
        note: &(dyn Fn(&str) + Sync),
    ) -> Result<LockedPipeline> {
        Ok(crate::plan::plan(&self.engine, manifest, pipeline, run_config, note).await?)
    }

    /// Each step of a pipeline with its solid's definition, without checking wiring or
    /// config: what `weft config` needs to describe the run config a pipeline takes.
    ///
    /// # Errors
    /// [`Error::Invalid`] when there is no such pipeline or a solid cannot be loaded.
    pub async fn describe_pipeline(&self, manifest: &Manifest, pipeline: &str) -> Result<Vec<(String, Arc<SolidDef>)>> {
        let (decl, loaded) = crate::plan::load_solids(&self.engine, manifest, pipeline, &|_| {}).await?;
        Ok(decl.steps.iter().map(|s| (s.alias.clone(), loaded[s.solid.as_str()].def.clone())).collect())
    }

    /// A pipeline's steps, built, loaded and wired, without a run config: what a UI
    /// draws (see [`crate::plan::graph`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] when there is no such pipeline, a solid cannot be loaded or an
    /// input cannot be wired.
    pub async fn pipeline_graph(&self, manifest: &Manifest, pipeline: &str) -> Result<Vec<crate::plan::PlannedStep>> {
        Ok(crate::plan::graph(&self.engine, manifest, pipeline, &|note| tracing::info!("{note}")).await?)
    }

    /// Records a new run of `plan` and starts it on the tokio runtime.
    ///
    /// # Errors
    /// [`Error::Db`] if the run cannot be recorded.
    pub fn launch(&self, plan: LockedPipeline) -> Result<RunHandle> {
        let launched = self.launch_as(plan, RunId::generate(), None)?;
        Ok(launched.expect("a launch without a claim always starts"))
    }

    /// Records run `id` of `plan` together with `claim` (the tick that launched it, the
    /// run key it claims) in one transaction, and starts it; `None`, launching nothing,
    /// when the claim was already taken: a schedule's tick or a sensor's run key launches
    /// one run, ever, whatever crashes in between.
    ///
    /// # Errors
    /// [`Error::Db`] if the run cannot be recorded.
    pub fn launch_claimed(&self, plan: LockedPipeline, id: RunId, claim: &Claim) -> Result<Option<RunHandle>> {
        self.launch_as(plan, id, Some(claim))
    }

    fn launch_as(&self, plan: LockedPipeline, id: RunId, claim: Option<&Claim>) -> Result<Option<RunHandle>> {
        let record = RunRecord {
            id,
            pipeline: plan.name.clone(),
            manifest: plan.manifest.display().to_string(),
            status: RunStatus::Queued,
            created_at: now_micros(),
            started_at: None,
            ended_at: None,
            run_config: recorded_config(&plan),
            tags: plan.run_config.tags.clone(),
            parent_run: plan.selection.as_ref().and_then(|s| s.parent),
            root_run: self.root_of(plan.selection.as_ref().and_then(|s| s.parent))?,
            step_selection: plan.selection.as_ref().map(|s| s.expression.clone()),
            owner: Some(self.owner.token().to_owned()),
        };
        // The executor first: a run (and its claim) is recorded only if it can start.
        let executor: Arc<dyn Executor> = match plan.execution.executor {
            ExecutorKind::InProcess => Arc::new(InProcessExecutor::new(self.engine.clone())),
            ExecutorKind::Multiprocess => Arc::new(MultiprocessExecutor::new(self.worker_binary.clone())?),
        };
        let batch = Batch { run: Some(record.clone()), ..Batch::default() };
        match claim {
            Some(claim) => {
                if !self.db.commit_claimed(record.id, &batch, claim)? {
                    return Ok(None);
                }
            }
            None => self.db.commit(record.id, &batch)?,
        }
        let (sender, events) = mpsc::unbounded_channel();
        let (db, writer, id, cancel) = (self.db.clone(), self.writer.clone(), record.id, CancelToken::new());
        let task = tokio::spawn({
            let cancel = cancel.clone();
            async move {
                let plan = Arc::new(plan);
                crate::scheduler::execute_run(&db, &writer, executor, plan, record, Some(sender), cancel).await
            }
        });
        Ok(Some(RunHandle { id, events, task, cancel }))
    }

    /// This host's owner token: recorded with its runs and backfills.
    pub(crate) fn owner_token(&self) -> &str {
        self.owner.token()
    }

    /// Whether the process that holds owner token `token` on this store still lives.
    pub(crate) fn owner_alive(&self, token: &str) -> bool {
        token == self.owner.token() || crate::owner::is_alive(self.db.path(), token)
    }

    /// The engine, for sensors evaluated in the same sandbox as solids.
    pub(crate) fn engine(&self) -> &Arc<SolidEngine> {
        &self.engine
    }

    /// Runs `plan` to the end.
    ///
    /// # Errors
    /// [`Error::Db`] if the run cannot be recorded. A failed step is not an error: the
    /// record's status says FAILURE.
    pub async fn run(&self, plan: LockedPipeline) -> Result<RunRecord> {
        self.launch(plan)?.wait().await
    }

    /// The root of the re-execution chain a run with this parent belongs to.
    fn root_of(&self, parent: Option<RunId>) -> Result<Option<RunId>> {
        match parent {
            None => Ok(None),
            Some(parent) => Ok(Some(self.db.run(parent)?.root_run.unwrap_or(parent))),
        }
    }

    /// Plans a re-execution of run `parent`: the same manifest and pipeline, with the run
    /// config it ran with (or `run_config`), running only the steps `how` picks and
    /// reusing the parent's outputs for the rest. Works for failed, canceled and
    /// interrupted runs.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the run does not exist or nothing is left to run;
    /// [`Error::Invalid`] when its manifest no longer plans, or a needed output is gone.
    pub async fn reexecute(
        &self,
        parent: RunId,
        how: &Reexecution,
        run_config: Option<RunConfig>,
    ) -> Result<LockedPipeline> {
        let record = self.db.run(parent)?;
        let manifest = Manifest::load(Path::new(&record.manifest))?;
        let run_config = match run_config {
            Some(config) => config,
            None => RunConfig::from_json(&record.run_config, None)?,
        };
        let mut plan = self.plan(&manifest, &record.pipeline, &run_config).await?;
        let (selected, label) = match how {
            Reexecution::All => ((0..plan.steps.len()).collect(), "*".to_owned()),
            Reexecution::Steps(expression) => (plan.resolve_selection(expression)?, expression.clone()),
            Reexecution::FromFailure => {
                let succeeded = succeeded_steps(&self.db.events(parent)?);
                let selected: BTreeSet<usize> =
                    (0..plan.steps.len()).filter(|&i| !succeeded.contains(&plan.steps[i].key)).collect();
                if selected.is_empty() {
                    return Err(Error::NotFound(format!(
                        "run {parent} has nothing to re-execute from failure: every step succeeded"
                    )));
                }
                (selected, "from failure".to_owned())
            }
        };
        plan.select_steps(selected, &label, Some((parent, &self.db)))?;
        Ok(plan)
    }

    /// Deletes a finished run (its blobs stay until [`Host::gc`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the run does not exist or has not finished.
    pub fn delete_run(&self, id: RunId) -> Result<()> {
        self.db.delete_run(id)
    }

    /// Deletes finished runs outside `retention` and frees unreferenced blobs.
    ///
    /// # Errors
    /// [`Error::Db`] when the store cannot be read or written.
    pub fn gc(&self, retention: Retention) -> Result<GcReport> {
        self.db.gc(retention, now_micros())
    }

    /// Every run, newest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        self.db.runs()
    }

    /// One run, by id or unique id prefix.
    pub fn run_record(&self, id_or_prefix: &str) -> Result<RunRecord> {
        self.db.run(self.db.resolve_run(id_or_prefix)?)
    }

    /// A run's events, in order.
    pub fn events(&self, id: RunId) -> Result<Vec<Event>> {
        self.db.events(id)
    }

    /// The value a step of a run produced for an output.
    pub fn output(&self, id: RunId, step: &str, output: &str) -> Result<Option<Value>> {
        self.db.output(id, step, output)
    }

    /// A step's captured stdout or stderr.
    pub fn compute_log(&self, id: RunId, step: &str, stream: Stream) -> Result<Vec<u8>> {
        self.db.compute_log(id, step, stream)
    }
}

/// What is recorded as a run's config: the run config, with the execution settings in
/// effect (pipeline's, run config's and the caller's, resolved).
fn recorded_config(plan: &LockedPipeline) -> serde_json::Value {
    let mut json = plan.run_config.to_json();
    json["execution"] = serde_json::to_value(&plan.execution).unwrap_or_default();
    json
}

/// A launched run: its id, its live events, its outcome, and a way to cancel it.
#[derive(Debug)]
pub struct RunHandle {
    pub id: RunId,
    events: mpsc::UnboundedReceiver<Event>,
    task: JoinHandle<Result<RunRecord>>,
    cancel: CancelToken,
}

impl RunHandle {
    /// Cancels the run: running steps are interrupted, pending ones marked canceled, and
    /// the run ends CANCELED with every event recorded. `wait` still returns its record.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A token that cancels this run, for a signal handler or another task.
    pub fn cancel_token(&self) -> CancelToken {
        self.cancel.clone()
    }

    /// The next event of the run, as it happens; `None` once the run has ended and
    /// every event was received.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// The next event if one is already there, without waiting.
    pub fn try_next_event(&mut self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    /// Waits for the run to end and returns its final record.
    ///
    /// # Errors
    /// [`Error::Db`] if recording failed; [`Error::Host`] if the run's task panicked.
    pub async fn wait(self) -> Result<RunRecord> {
        // Events not received by now never will be: stop buffering them.
        drop(self.events);
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Host(format!("run {} crashed: {e}", self.id))),
        }
    }
}

/// Which steps a re-execution runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reexecution {
    /// Every step.
    All,
    /// The steps that did not succeed (failed, skipped, canceled, interrupted, never run).
    FromFailure,
    /// A step selection (`name`, `*name`, `name+`, ...).
    Steps(String),
}

/// The steps an event log shows as succeeded or reused.
fn succeeded_steps(events: &[Event]) -> BTreeSet<String> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::StepSucceeded { .. } | EventKind::StepReused { .. }))
        .filter_map(|e| e.step.clone())
        .collect()
}
