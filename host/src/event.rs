//! Events: everything that happens in a run. The event log is the source of truth for
//! the CLI, the API and the UI.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One entry of a run's event log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the run's log, from 0, without gaps.
    pub seq: u64,
    /// Microseconds since the Unix epoch.
    pub timestamp: i64,
    /// The step the event belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(flatten)]
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    RunStarted {
        pipeline: String,
    },
    RunSucceeded {
        duration_us: u64,
    },
    RunFailed {
        duration_us: u64,
        message: String,
    },
    /// The run was canceled (Ctrl-C, or a call on the API).
    RunCanceled {
        duration_us: u64,
    },
    /// The process running the run died; another process found the run and closed it.
    RunInterrupted {
        message: String,
    },
    StepStarted {
        attempt: u32,
    },
    /// A step produced an output; the value is in the blob table under `digest`.
    StepOutput {
        output: String,
        value_type: String,
        digest: String,
        size: u64,
        preview: String,
    },
    StepSucceeded {
        duration_us: u64,
    },
    StepFailed {
        duration_us: u64,
        error: StepError,
    },
    /// Attempt `attempt` failed and the step's retry policy tries again after `delay_us`.
    StepRetry {
        attempt: u32,
        delay_us: u64,
        error: StepError,
    },
    StepSkipped {
        reason: String,
    },
    /// The step was interrupted, or never started, because the run stopped.
    StepCanceled {
        reason: String,
    },
    /// The step did not run: its outputs were reused from run `from_run`.
    StepReused {
        from_run: crate::run::RunId,
        reason: String,
    },
    Log {
        level: LogLevel,
        message: String,
    },
    Expectation {
        success: bool,
        label: String,
        description: Option<String>,
        metadata: Vec<MetadataEntry>,
    },
    Materialization {
        asset_key: String,
        description: Option<String>,
        metadata: Vec<MetadataEntry>,
    },
    /// An attempt's stdout and stderr were captured; the bytes are in the compute log table.
    ComputeLogs {
        attempt: u32,
        stdout_bytes: u64,
        stderr_bytes: u64,
    },
}

impl EventKind {
    /// A short name for the event type, as shown by the CLI.
    pub fn name(&self) -> &'static str {
        match self {
            EventKind::RunStarted { .. } => "RUN_STARTED",
            EventKind::RunSucceeded { .. } => "RUN_SUCCESS",
            EventKind::RunFailed { .. } => "RUN_FAILURE",
            EventKind::RunCanceled { .. } => "RUN_CANCELED",
            EventKind::RunInterrupted { .. } => "RUN_INTERRUPTED",
            EventKind::StepStarted { .. } => "STEP_START",
            EventKind::StepOutput { .. } => "STEP_OUTPUT",
            EventKind::StepSucceeded { .. } => "STEP_SUCCESS",
            EventKind::StepFailed { .. } => "STEP_FAILURE",
            EventKind::StepRetry { .. } => "STEP_RETRY",
            EventKind::StepSkipped { .. } => "STEP_SKIPPED",
            EventKind::StepCanceled { .. } => "STEP_CANCELED",
            EventKind::StepReused { .. } => "STEP_REUSED",
            EventKind::Log { .. } => "LOG",
            EventKind::Expectation { .. } => "EXPECTATION",
            EventKind::Materialization { .. } => "MATERIALIZATION",
            EventKind::ComputeLogs { .. } => "COMPUTE_LOGS",
        }
    }
}

/// Why a step attempt failed. `kind` separates faults of the guest from faults of the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepError {
    pub kind: StepErrorKind,
    pub message: String,
    /// Whether trying again might succeed.
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
    /// The WebAssembly backtrace of a trap, with function names where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backtrace: Option<String>,
}

/// The kinds of step failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepErrorKind {
    /// The solid returned a structured failure.
    SolidFailure,
    /// The solid panicked (its message is taken from stderr).
    Panic,
    /// The WebAssembly code trapped.
    Trap,
    /// The step ran past its time limit.
    Timeout,
    /// The step was interrupted because the run was canceled or failed fast.
    Canceled,
    /// The step tried to grow its memory or tables past its limit.
    MemoryLimit,
    /// The step used up its fuel (its CPU budget).
    OutOfFuel,
    /// An output, or all outputs together, exceeded the size limit.
    OutputTooLarge,
    /// The step logged, or wrote to stdout or stderr, more than its limit.
    LogLimit,
    /// An input value did not match the input's declared type.
    InputType,
    /// The solid produced an undeclared output, a value of the wrong type, an output
    /// twice, or left a required output unproduced.
    InvalidOutput,
    /// The host failed to run the step (not the solid's fault).
    HostError,
}

impl StepError {
    /// An error of `kind` with no metadata or backtrace, retryable only if it is a host
    /// error (the host may do better next time).
    pub fn new(kind: StepErrorKind, message: impl Into<String>) -> StepError {
        StepError {
            kind,
            message: message.into(),
            retryable: kind == StepErrorKind::HostError,
            metadata: Vec::new(),
            backtrace: None,
        }
    }
}

impl StepErrorKind {
    /// Whether the fault lies with the guest (the solid) rather than the host.
    pub fn is_guest_fault(self) -> bool {
        !matches!(self, StepErrorKind::HostError)
    }
}

impl fmt::Display for StepErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StepErrorKind::SolidFailure => "solid failure",
            StepErrorKind::Panic => "panic",
            StepErrorKind::Trap => "trap",
            StepErrorKind::Timeout => "time-out",
            StepErrorKind::Canceled => "canceled",
            StepErrorKind::MemoryLimit => "memory limit",
            StepErrorKind::OutOfFuel => "out of fuel",
            StepErrorKind::OutputTooLarge => "output too large",
            StepErrorKind::LogLimit => "log limit",
            StepErrorKind::InputType => "input type mismatch",
            StepErrorKind::InvalidOutput => "invalid output",
            StepErrorKind::HostError => "host error",
        })
    }
}

/// The severity of a log message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        })
    }
}

/// A labelled metadata value on failures, expectations and materializations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetadataEntry {
    pub label: String,
    pub value: MetadataValue,
}

/// A metadata value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum MetadataValue {
    Text(String),
    Markdown(String),
    Url(String),
    Path(String),
    Json(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
}

impl fmt::Display for MetadataValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataValue::Text(s)
            | MetadataValue::Markdown(s)
            | MetadataValue::Url(s)
            | MetadataValue::Path(s)
            | MetadataValue::Json(s) => f.write_str(s),
            MetadataValue::Integer(i) => write!(f, "{i}"),
            MetadataValue::Float(x) => write!(f, "{x}"),
            MetadataValue::Boolean(b) => write!(f, "{b}"),
        }
    }
}
