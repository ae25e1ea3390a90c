//! Executors: where a step attempt runs. The scheduler decides what runs when; an
//! executor only runs what it is handed. In-process is the first; child processes and
//! remote workers implement the same trait.

use crate::context::EventSink;
use crate::engine::SolidEngine;
use crate::plan::PlannedStep;
use crate::resource::Connections;
use crate::sandbox::{self, Attempt, AttemptReport};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Runs step attempts.
pub(crate) trait Executor: Send + Sync {
    /// Runs one attempt of `step`. Faults of the step are in the report, never an `Err`:
    /// an executor that cannot run a step reports a host error for it.
    fn execute<'a>(
        &'a self,
        step: &'a PlannedStep,
        attempt: Attempt,
        sink: EventSink,
    ) -> Pin<Box<dyn Future<Output = AttemptReport> + Send + 'a>>;
}

/// Runs each attempt in this process, in a fresh wasmtime store. One per run: the run's
/// steps share its connections to resources.
pub(crate) struct InProcessExecutor {
    engine: Arc<SolidEngine>,
    connections: Arc<Connections>,
}

impl InProcessExecutor {
    pub(crate) fn new(engine: Arc<SolidEngine>) -> InProcessExecutor {
        InProcessExecutor { engine, connections: Arc::new(Connections::default()) }
    }
}

impl Executor for InProcessExecutor {
    fn execute<'a>(
        &'a self,
        step: &'a PlannedStep,
        attempt: Attempt,
        sink: EventSink,
    ) -> Pin<Box<dyn Future<Output = AttemptReport> + Send + 'a>> {
        Box::pin(sandbox::run_attempt(&self.engine, &step.solid, attempt, sink, self.connections.clone()))
    }
}
