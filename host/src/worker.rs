//! The multi-process executor: each step attempt runs in a child `weft worker` process,
//! so that even a fault of the host's own code in one step (or a kill from outside)
//! cannot take down the run.
//!
//! Protocol, one JSON document per line: the parent writes one [`WorkerRequest`] to the
//! child's stdin; the child writes [`WorkerMessage`]s to its stdout — the step's events as
//! they happen, then one report — and exits. A child that exits without a report fails
//! its step with a host error naming how it died.

use crate::capability::Grants;
use crate::context::EventSink;
use crate::engine::SolidEngine;
use crate::event::{EventKind, StepError, StepErrorKind};
use crate::executor::Executor;
use crate::limits::StepLimits;
use crate::plan::PlannedStep;
use crate::sandbox::{Attempt, AttemptReport};
use crate::solid::LoadedSolid;
use crate::value::{Output, Value};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// The environment variable naming the `weft` binary that workers run, for programs that
/// embed the host (whose own executable is not `weft`).
pub const WORKER_BIN_ENV: &str = "WEFT_WORKER_BIN";

/// What the parent asks of a worker.
#[derive(Debug, Serialize, Deserialize)]
pub struct WorkerRequest {
    pub component: PathBuf,
    /// The BLAKE3 digest the parent loaded; the worker refuses a file that changed since.
    pub digest: String,
    pub run_id: String,
    pub step_key: String,
    pub attempt: u32,
    pub partition_key: Option<String>,
    pub config: String,
    pub inputs: Vec<(String, Value)>,
    pub limits: StepLimits,
    pub grants: Grants,
    pub run_started_at: i64,
}

/// What a worker tells the parent.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerMessage {
    Event(EventKind),
    Report { outputs: Vec<(String, Value)>, error: Option<StepError>, stdout: Vec<u8>, stderr: Vec<u8> },
}

/// Runs each attempt in a child `weft worker` process.
#[derive(Debug)]
pub(crate) struct MultiprocessExecutor {
    binary: PathBuf,
}

impl MultiprocessExecutor {
    /// Uses `binary`, or finds the `weft` binary: `WEFT_WORKER_BIN`, this executable if it
    /// is `weft`, or a `weft` beside it (or one directory up, as from cargo's `deps/`).
    ///
    /// # Errors
    /// [`crate::Error::Host`] when no `weft` binary can be found.
    pub(crate) fn new(binary: Option<PathBuf>) -> crate::Result<MultiprocessExecutor> {
        if let Some(binary) = binary {
            return Ok(MultiprocessExecutor { binary });
        }
        if let Some(path) = std::env::var_os(WORKER_BIN_ENV) {
            return Ok(MultiprocessExecutor { binary: path.into() });
        }
        let exe =
            std::env::current_exe().map_err(|e| crate::Error::Host(format!("cannot find this executable: {e}")))?;
        let name = format!("weft{}", std::env::consts::EXE_SUFFIX);
        let candidates = [
            Some(exe.clone()),
            exe.parent().map(|d| d.join(&name)),
            exe.parent().and_then(Path::parent).map(|d| d.join(&name)),
        ];
        candidates
            .into_iter()
            .flatten()
            .find(|p| p.file_name().is_some_and(|f| f == name.as_str()) && p.is_file())
            .map(|binary| MultiprocessExecutor { binary })
            .ok_or_else(|| {
                crate::Error::Host(format!(
                    "the multiprocess executor needs the `weft` binary; none is beside {}: set {WORKER_BIN_ENV}",
                    exe.display()
                ))
            })
    }

    async fn run(&self, step: &PlannedStep, attempt: Attempt, sink: EventSink) -> AttemptReport {
        let request = WorkerRequest {
            component: step.solid.path.clone(),
            digest: step.solid.digest.clone(),
            run_id: attempt.run_id,
            step_key: attempt.step_key.clone(),
            attempt: attempt.attempt,
            partition_key: attempt.partition_key,
            config: attempt.config,
            inputs: attempt.inputs,
            limits: attempt.limits,
            grants: attempt.grants,
            run_started_at: attempt.run_started_at,
        };
        let key = attempt.step_key;
        let fail = |kind: StepErrorKind, message: String| AttemptReport {
            outputs: Vec::new(),
            error: Some(StepError::new(kind, message)),
            stdout: Vec::new(),
            stderr: Vec::new(),
        };
        let mut child = match Command::new(&self.binary)
            .arg("worker")
            // For people (and tests) looking at the process list.
            .arg("--label")
            .arg(format!("{}/{}", request.run_id, request.step_key))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                return fail(
                    StepErrorKind::HostError,
                    format!("cannot start a worker ({}): {e}", self.binary.display()),
                );
            }
        };
        let (Some(mut stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return fail(StepErrorKind::HostError, "the worker's pipes are missing".into());
        };
        let mut line = serde_json::to_vec(&request).expect("requests serialize");
        line.push(b'\n');
        if let Err(e) = stdin.write_all(&line).await {
            return fail(StepErrorKind::HostError, format!("cannot send step `{key}` to its worker: {e}"));
        }
        drop(stdin);

        let conversation = async {
            let mut lines = BufReader::new(stdout).lines();
            let mut report = None;
            while let Ok(Some(line)) = lines.next_line().await {
                match serde_json::from_str::<WorkerMessage>(&line) {
                    Ok(WorkerMessage::Event(kind)) => sink(kind),
                    Ok(WorkerMessage::Report { outputs, error, stdout, stderr }) => {
                        let outputs = outputs.into_iter().map(|(name, value)| Output::new(name, value)).collect();
                        report = Some(AttemptReport { outputs, error, stdout, stderr });
                    }
                    Err(e) => tracing::warn!("step `{key}`: unreadable line from its worker: {e}"),
                }
            }
            report
        };
        // The worker enforces the step's time limit itself; this margin only catches a
        // worker that hangs.
        let deadline = attempt.limits.timeout + Duration::from_secs(5);
        let report = tokio::select! {
            report = conversation => report,
            () = attempt.interrupt.cancelled() => {
                let _ = child.start_kill();
                return fail(StepErrorKind::Canceled, "the step's worker was stopped because the run stopped".into());
            }
            () = tokio::time::sleep(deadline) => {
                let _ = child.start_kill();
                return fail(StepErrorKind::Timeout, format!("the step's worker did not finish within {deadline:?}"));
            }
        };
        let status = child.wait().await;
        if let Some(report) = report {
            return report;
        }
        let mut diagnostics = String::new();
        let _ = stderr.read_to_string(&mut diagnostics).await;
        let how = match status {
            Ok(status) => describe_exit(status),
            Err(e) => format!("could not be waited for: {e}"),
        };
        let tail: Vec<&str> = diagnostics.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
        let mut message = format!("the worker process of step `{key}` {how} before reporting");
        if !tail.is_empty() {
            message.push_str(&format!(": {}", tail.join(" | ")));
        }
        fail(StepErrorKind::HostError, message)
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "exited".into(),
    }
}

impl Executor for MultiprocessExecutor {
    fn execute<'a>(
        &'a self,
        step: &'a PlannedStep,
        attempt: Attempt,
        sink: EventSink,
    ) -> Pin<Box<dyn Future<Output = AttemptReport> + Send + 'a>> {
        Box::pin(self.run(step, attempt, sink))
    }
}

/// The child side: reads one request from stdin, runs it, streams events and the report
/// to stdout. Used by the hidden `weft worker` command.
///
/// # Errors
/// A message when the request cannot be read or the component cannot be loaded; the
/// parent then fails the step with it.
pub async fn serve_worker() -> Result<(), String> {
    let mut line = String::new();
    BufReader::new(tokio::io::stdin())
        .read_line(&mut line)
        .await
        .map_err(|e| format!("cannot read the request: {e}"))?;
    let request: WorkerRequest = serde_json::from_str(&line).map_err(|e| format!("unreadable request: {e}"))?;
    let engine = SolidEngine::new().map_err(|e| e.to_string())?;
    let solid = LoadedSolid::load(&engine, &request.component).await.map_err(|e| e.to_string())?;
    if solid.digest != request.digest {
        return Err(format!("{} changed since the run was planned", request.component.display()));
    }
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<WorkerMessage>();
    let writer = tokio::spawn(async move {
        let mut stdout = tokio::io::stdout();
        while let Some(message) = receiver.recv().await {
            let mut line = serde_json::to_vec(&message).expect("messages serialize");
            line.push(b'\n');
            if stdout.write_all(&line).await.is_err() {
                break;
            }
        }
        let _ = stdout.flush().await;
    });
    let events = sender.clone();
    let sink: EventSink = Arc::new(move |kind| {
        let _ = events.send(WorkerMessage::Event(kind));
    });
    let attempt = Attempt {
        run_id: request.run_id,
        step_key: request.step_key,
        attempt: request.attempt,
        partition_key: request.partition_key,
        config: request.config,
        inputs: request.inputs,
        limits: request.limits,
        grants: request.grants,
        run_started_at: request.run_started_at,
        interrupt: crate::cancel::CancelToken::new(),
    };
    let connections = Arc::new(crate::resource::Connections::default());
    let report = crate::sandbox::run_attempt(&engine, &solid, attempt, sink, connections).await;
    let _ = sender.send(WorkerMessage::Report {
        outputs: report.outputs.into_iter().map(|o| (o.name, o.value)).collect(),
        error: report.error,
        stdout: report.stdout,
        stderr: report.stderr,
    });
    drop(sender);
    writer.await.map_err(|e| format!("the writer failed: {e}"))
}
