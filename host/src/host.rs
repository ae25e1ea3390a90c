//! The library API: everything the CLI does is a call here.

use crate::config::RunConfig;
use crate::db::{Batch, Db, Stream};
use crate::engine::SolidEngine;
use crate::error::{Error, Result};
use crate::event::Event;
use crate::executor::InProcessExecutor;
use crate::manifest::Manifest;
use crate::plan::LockedPipeline;
use crate::run::{RunId, RunRecord, RunStatus, now_micros};
use crate::value::Value;
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
}

impl Host {
    /// Opens a host on the store at `db_path` (created if missing).
    ///
    /// # Errors
    /// [`Error::Db`] if the store cannot be opened; [`Error::Host`] if wasmtime cannot
    /// be set up.
    pub fn open(db_path: &Path) -> Result<Host> {
        let db = Db::open(db_path)?;
        Ok(Host { engine: Arc::new(SolidEngine::new()?), db: Arc::new(db) })
    }

    /// The store.
    pub fn db(&self) -> &Db {
        &self.db
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
        note: &dyn Fn(&str),
    ) -> Result<LockedPipeline> {
        Ok(crate::plan::plan(&self.engine, manifest, pipeline, run_config, note).await?)
    }

    /// Records a new run of `plan` and starts it on the tokio runtime.
    ///
    /// # Errors
    /// [`Error::Db`] if the run cannot be recorded.
    pub fn launch(&self, plan: LockedPipeline) -> Result<RunHandle> {
        let record = RunRecord {
            id: RunId::generate(),
            pipeline: plan.name.clone(),
            manifest: plan.manifest.display().to_string(),
            status: RunStatus::Queued,
            created_at: now_micros(),
            started_at: None,
            ended_at: None,
            run_config: plan.run_config.to_json(),
            tags: plan.run_config.tags.clone(),
        };
        self.db.commit(record.id, &Batch { run: Some(record.clone()), ..Batch::default() })?;
        let (sender, events) = mpsc::unbounded_channel();
        let (db, engine, id) = (self.db.clone(), self.engine.clone(), record.id);
        let task = tokio::spawn(async move {
            let executor = InProcessExecutor::new(engine);
            crate::scheduler::execute_run(&db, &executor, &plan, record, Some(sender)).await
        });
        Ok(RunHandle { id, events, task })
    }

    /// Runs `plan` to the end.
    ///
    /// # Errors
    /// [`Error::Db`] if the run cannot be recorded. A failed step is not an error: the
    /// record's status says FAILURE.
    pub async fn run(&self, plan: LockedPipeline) -> Result<RunRecord> {
        self.launch(plan)?.wait().await
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

/// A launched run: its id, its live events, and its outcome.
#[derive(Debug)]
pub struct RunHandle {
    pub id: RunId,
    events: mpsc::UnboundedReceiver<Event>,
    task: JoinHandle<Result<RunRecord>>,
}

impl RunHandle {
    /// The next event of the run, as it happens; `None` once the run has ended and
    /// every event was received.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Waits for the run to end and returns its final record.
    ///
    /// # Errors
    /// [`Error::Db`] if recording failed; [`Error::Host`] if the run's task panicked.
    pub async fn wait(self) -> Result<RunRecord> {
        match self.task.await {
            Ok(result) => result,
            Err(e) => Err(Error::Host(format!("run {} crashed: {e}", self.id))),
        }
    }
}
