//! One step attempt in its own sandbox: a fresh wasmtime `Store` with a WASI context that
//! grants nothing, stdout and stderr captured, a wall-clock deadline, a memory limit, and
//! the host side of `weft:solid/context`.

use crate::cancel::CancelToken;
use crate::engine::SolidEngine;
use crate::event::{EventKind, LogLevel, StepError, StepErrorKind};
use crate::solid::{InputDef, LoadedSolid, OutputDef, SolidDef, metadata_from_wit};
use crate::value::{Value, ValueType};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{Store, StoreLimits, StoreLimitsBuilder, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

mod bindings {
    wasmtime::component::bindgen!({
        world: "solid",
        path: "../wit",
        imports: { default: trappable },
        exports: { default: async },
    });
}

/// The generated contract types, for the rest of the host.
pub(crate) mod wit {
    pub use super::bindings::weft::solid::context::add_to_linker as context_add_to_linker;
    pub use super::bindings::weft::solid::types::*;
}

/// A solid's component with its imports resolved.
pub(crate) type SolidPre = bindings::SolidPre<StepState>;

/// Limits on one step attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepLimits {
    /// Wall-clock time for the attempt, instantiation included.
    pub timeout: Duration,
    /// Linear memory, in bytes.
    pub memory: usize,
    /// Bytes of stdout and of stderr kept; writing more traps the step.
    pub compute_log: usize,
}

impl Default for StepLimits {
    fn default() -> StepLimits {
        StepLimits { timeout: Duration::from_secs(300), memory: 1 << 30, compute_log: 16 << 20 }
    }
}

/// Receives the events a solid emits while it runs (logs, outputs, expectations...).
pub(crate) type EventSink = Arc<dyn Fn(EventKind) + Send + Sync>;

/// The data of one `Store`: WASI, limits, and what the step's context needs.
pub struct StepState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: StoreLimits,
    io: StepIo,
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// What one attempt is given and what it has produced so far.
struct StepIo {
    run_id: String,
    step_key: String,
    attempt: u32,
    partition_key: Option<String>,
    config: String,
    def: Option<Arc<SolidDef>>,
    produced: Vec<(String, Value)>,
    sink: Option<EventSink>,
}

impl StepIo {
    fn emit(&self, kind: EventKind) {
        if let Some(sink) = &self.sink {
            sink(kind);
        }
    }

    /// Accepts an output if it is declared, of its declared type, and new.
    fn accept_output(&mut self, name: String, value: Value) -> Result<(), String> {
        let def = self.def.as_ref().ok_or("outputs cannot be produced during `describe`")?;
        let Some(output) = def.output(&name) else {
            let declared: Vec<&str> = def.outputs.iter().map(|o| o.name.as_str()).collect();
            return Err(format!("`{name}` is not a declared output (declared: {})", declared.join(", ")));
        };
        if !output.ty.admits(&value) {
            return Err(format!("output `{name}` is declared {} but got {}", output.ty, value.kind()));
        }
        if self.produced.iter().any(|(n, _)| *n == name) {
            return Err(format!("output `{name}` was already produced"));
        }
        self.produced.push((name, value));
        Ok(())
    }
}

impl bindings::weft::solid::types::Host for StepState {}

impl bindings::weft::solid::context::Host for StepState {
    fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            wit::LogLevel::Trace => LogLevel::Trace,
            wit::LogLevel::Debug => LogLevel::Debug,
            wit::LogLevel::Info => LogLevel::Info,
            wit::LogLevel::Warn => LogLevel::Warn,
            wit::LogLevel::Error => LogLevel::Error,
        };
        self.io.emit(EventKind::Log { level, message });
        Ok(())
    }

    fn run_id(&mut self) -> wasmtime::Result<String> {
        Ok(self.io.run_id.clone())
    }

    fn step_key(&mut self) -> wasmtime::Result<String> {
        Ok(self.io.step_key.clone())
    }

    fn attempt(&mut self) -> wasmtime::Result<u32> {
        Ok(self.io.attempt)
    }

    fn partition_key(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.io.partition_key.clone())
    }

    fn config(&mut self) -> wasmtime::Result<String> {
        Ok(self.io.config.clone())
    }

    fn yield_output(&mut self, name: String, value: wit::Value) -> wasmtime::Result<Result<(), String>> {
        let value = match value_from_wit(value) {
            Ok(value) => value,
            Err(message) => return Ok(Err(message)),
        };
        let preview = output_event(&name, &value);
        Ok(self.io.accept_output(name, value).map(|()| self.io.emit(preview)))
    }

    fn report_expectation(&mut self, result: wit::ExpectationResult) -> wasmtime::Result<()> {
        self.io.emit(EventKind::Expectation {
            success: result.success,
            label: result.label,
            description: result.description,
            metadata: metadata_from_wit(result.metadata),
        });
        Ok(())
    }

    fn report_materialization(&mut self, m: wit::Materialization) -> wasmtime::Result<()> {
        self.io.emit(EventKind::Materialization {
            asset_key: m.asset_key,
            description: m.description,
            metadata: metadata_from_wit(m.metadata),
        });
        Ok(())
    }
}

/// The output event for a value; the digest is the key of its blob in the db.
fn output_event(name: &str, value: &Value) -> EventKind {
    let encoded = value.encode();
    EventKind::StepOutput {
        output: name.to_owned(),
        value_type: value.kind().to_owned(),
        digest: blake3::hash(&encoded).to_hex().to_string(),
        size: encoded.len() as u64,
        preview: value.preview(80),
    }
}

pub(crate) fn value_from_wit(value: wit::Value) -> Result<Value, String> {
    Ok(match value {
        wit::Value::Null => Value::Null,
        wit::Value::Boolean(b) => Value::Boolean(b),
        wit::Value::Integer(i) => Value::Integer(i),
        wit::Value::Float(x) => Value::Float(x),
        wit::Value::Text(s) => Value::Text(s),
        wit::Value::Bytes(b) => Value::Bytes(b),
        wit::Value::Json(s) => {
            serde_json::from_str::<serde::de::IgnoredAny>(&s).map_err(|e| format!("invalid JSON: {e}"))?;
            Value::Json(s)
        }
    })
}

fn value_to_wit(value: &Value) -> wit::Value {
    match value {
        Value::Null => wit::Value::Null,
        Value::Boolean(b) => wit::Value::Boolean(*b),
        Value::Integer(i) => wit::Value::Integer(*i),
        Value::Float(x) => wit::Value::Float(*x),
        Value::Text(s) => wit::Value::Text(s.clone()),
        Value::Bytes(b) => wit::Value::Bytes(b.clone()),
        Value::Json(s) => wit::Value::Json(s.clone()),
    }
}

fn type_from_wit(ty: wit::ValueType) -> ValueType {
    match ty {
        wit::ValueType::Any => ValueType::Any,
        wit::ValueType::Nothing => ValueType::Nothing,
        wit::ValueType::Boolean => ValueType::Boolean,
        wit::ValueType::Integer => ValueType::Integer,
        wit::ValueType::Float => ValueType::Float,
        wit::ValueType::Text => ValueType::Text,
        wit::ValueType::Bytes => ValueType::Bytes,
        wit::ValueType::Json => ValueType::Json,
    }
}

/// A step ran past its time limit.
#[derive(Debug)]
struct TimedOut(Duration);

impl std::fmt::Display for TimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the step exceeded its time limit of {:?}", self.0)
    }
}

impl std::error::Error for TimedOut {}

/// A step was interrupted because its run stopped.
#[derive(Debug)]
struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the step was interrupted because the run stopped")
    }
}

impl std::error::Error for Interrupted {}

/// A fresh store for one call into a component.
fn new_store(
    engine: &SolidEngine,
    io: StepIo,
    limits: StepLimits,
    interrupt: CancelToken,
) -> (Store<StepState>, MemoryOutputPipe, MemoryOutputPipe) {
    let stdout = MemoryOutputPipe::new(limits.compute_log);
    let stderr = MemoryOutputPipe::new(limits.compute_log);
    // Nothing is inherited: no env, no args, no preopened dirs; sockets deny every
    // address by default.
    let wasi = WasiCtx::builder().stdout(stdout.clone()).stderr(stderr.clone()).build();
    let state = StepState {
        wasi,
        table: ResourceTable::new(),
        limits: StoreLimitsBuilder::new().memory_size(limits.memory).instances(16).build(),
        io,
    };
    let mut store = Store::new(engine.wasmtime(), state);
    store.limiter(|state| &mut state.limits);
    let deadline = Instant::now() + limits.timeout;
    let timeout = limits.timeout;
    store.set_epoch_deadline(1);
    // Every tick a running step yields to the other tasks, and stops if its run stopped
    // or its time is up.
    store.epoch_deadline_callback(move |_| {
        if interrupt.is_canceled() {
            Err(wasmtime::Error::new(Interrupted))
        } else if Instant::now() >= deadline {
            Err(wasmtime::Error::new(TimedOut(timeout)))
        } else {
            // tokio's yield_now wakes the task only after the runtime has polled its
            // timers and I/O; wasmtime's own yield wakes at once, and a spinning step would
            // then delay every timer of the runtime by up to 61 ticks.
            Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
        }
    });
    (store, stdout, stderr)
}

/// Calls `describe` in a throwaway instance.
pub(crate) async fn describe(engine: &SolidEngine, pre: &SolidPre) -> Result<SolidDef, String> {
    let io = StepIo {
        run_id: String::new(),
        step_key: String::new(),
        attempt: 0,
        partition_key: None,
        config: "{}".into(),
        def: None,
        produced: Vec::new(),
        sink: None,
    };
    let limits = StepLimits { timeout: Duration::from_secs(10), ..StepLimits::default() };
    let (mut store, _, stderr) = new_store(engine, io, limits, CancelToken::new());
    let outcome = async {
        let solid = pre.instantiate_async(&mut store).await?;
        solid.weft_solid_guest().call_describe(&mut store).await
    }
    .await;
    let def = outcome.map_err(|e| classify(e, &stderr.contents()).message)?;
    let config_schema = match def.config_schema {
        None => None,
        Some(text) => Some(serde_json::from_str(&text).map_err(|e| format!("its config schema is not JSON: {e}"))?),
    };
    Ok(SolidDef {
        name: def.name,
        description: def.description,
        version: def.version,
        inputs: def
            .inputs
            .into_iter()
            .map(|i| InputDef {
                name: i.name,
                description: i.description,
                ty: type_from_wit(i.type_),
                optional: i.optional,
                multiple: i.multiple,
            })
            .collect(),
        outputs: def
            .outputs
            .into_iter()
            .map(|o| OutputDef {
                name: o.name,
                description: o.description,
                ty: type_from_wit(o.type_),
                optional: o.optional,
            })
            .collect(),
        config_schema,
        capabilities: def.capabilities,
        tags: def.tags,
    })
}

/// What one attempt is asked to do.
#[derive(Debug, Clone)]
pub(crate) struct Attempt {
    pub run_id: String,
    pub step_key: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    pub partition_key: Option<String>,
    /// The validated config, as JSON text.
    pub config: String,
    /// One entry per value fed, in order (several for a fan-in input).
    pub inputs: Vec<(String, Value)>,
    pub limits: StepLimits,
    /// Canceled when the run stops: the attempt is interrupted.
    pub interrupt: CancelToken,
}

/// What one attempt did.
#[derive(Debug)]
pub(crate) struct AttemptReport {
    /// Every output produced, yielded or returned, in the order produced.
    pub outputs: Vec<(String, Value)>,
    pub error: Option<StepError>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `compute` once in a fresh instance. Never fails: every fault of the guest or the
/// host ends up in the report's `error`.
pub(crate) async fn run_attempt(
    engine: &SolidEngine,
    solid: &LoadedSolid,
    attempt: Attempt,
    sink: EventSink,
) -> AttemptReport {
    let io = StepIo {
        run_id: attempt.run_id,
        step_key: attempt.step_key,
        attempt: attempt.attempt,
        partition_key: attempt.partition_key,
        config: attempt.config,
        def: Some(solid.def.clone()),
        produced: Vec::new(),
        sink: Some(sink.clone()),
    };
    let (mut store, stdout, stderr) = new_store(engine, io, attempt.limits, attempt.interrupt.clone());
    let inputs: Vec<wit::NamedValue> = attempt
        .inputs
        .iter()
        .map(|(name, value)| wit::NamedValue { name: name.clone(), value: value_to_wit(value) })
        .collect();
    let call = async {
        let instance = solid.pre.instantiate_async(&mut store).await?;
        instance.weft_solid_guest().call_compute(&mut store, &inputs).await
    };
    // The epoch callback stops running wasm; these stop a step waiting in the host (a
    // WASI sleep, say). Dropping the call drops its instance, which no one reuses.
    let timeout = attempt.limits.timeout;
    let outcome = tokio::select! {
        outcome = call => outcome,
        () = attempt.interrupt.cancelled() => Err(wasmtime::Error::new(Interrupted)),
        () = tokio::time::sleep(timeout) => Err(wasmtime::Error::new(TimedOut(timeout))),
    };
    let stderr_bytes = stderr.contents().to_vec();
    let error = match outcome {
        Err(trap) => Some(classify(trap, &stderr_bytes)),
        Ok(Err(failure)) => Some(StepError {
            kind: StepErrorKind::SolidFailure,
            message: failure.message,
            retryable: failure.retryable,
            metadata: metadata_from_wit(failure.metadata),
            backtrace: None,
        }),
        Ok(Ok(returned)) => accept_returned(store.data_mut(), returned, &sink).err(),
    };
    let outputs = std::mem::take(&mut store.data_mut().io.produced);
    drop(store);
    AttemptReport { outputs, error, stdout: stdout.contents().to_vec(), stderr: stderr_bytes }
}

/// Takes the outputs `compute` returned and checks that every required output exists.
fn accept_returned(state: &mut StepState, returned: Vec<wit::NamedValue>, sink: &EventSink) -> Result<(), StepError> {
    let invalid = |message: String| StepError {
        kind: StepErrorKind::InvalidOutput,
        message,
        retryable: false,
        metadata: Vec::new(),
        backtrace: None,
    };
    for wit::NamedValue { name, value } in returned {
        let value = value_from_wit(value).map_err(|m| invalid(format!("output `{name}`: {m}")))?;
        let event = output_event(&name, &value);
        state.io.accept_output(name, value).map_err(invalid)?;
        sink(event);
    }
    let def = state.io.def.as_ref().expect("compute runs with a definition");
    let missing: Vec<&str> = def
        .outputs
        .iter()
        .filter(|o| !o.optional && !state.io.produced.iter().any(|(n, _)| *n == o.name))
        .map(|o| o.name.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(invalid(format!("the solid returned without producing its required output(s): {}", missing.join(", "))))
    }
}

/// Turns a wasmtime error from a guest call into a step error of the right kind.
fn classify(error: wasmtime::Error, stderr: &[u8]) -> StepError {
    let backtrace = error.downcast_ref::<WasmBacktrace>().map(|bt| bt.to_string());
    let (kind, message) = if let Some(timeout) = error.downcast_ref::<TimedOut>() {
        (StepErrorKind::Timeout, timeout.to_string())
    } else if let Some(interrupted) = error.downcast_ref::<Interrupted>() {
        (StepErrorKind::Canceled, interrupted.to_string())
    } else if let Some(panic) = panic_message(stderr) {
        (StepErrorKind::Panic, panic)
    } else if let Some(trap) = error.downcast_ref::<Trap>() {
        (StepErrorKind::Trap, format!("wasm trap: {trap}"))
    } else {
        (StepErrorKind::Trap, crate::solid::root_message(&error))
    };
    StepError { kind, message, retryable: false, metadata: Vec::new(), backtrace }
}

/// The message of a Rust panic, as the guest's panic hook printed it to stderr:
/// `thread '...' panicked at src/lib.rs:1:2:\nmessage\nnote: ...`.
fn panic_message(stderr: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(stderr);
    let start = text.find("panicked at ")?;
    let rest = &text[start + "panicked at ".len()..];
    let (location, body) = rest.split_once('\n').unwrap_or((rest, ""));
    let message: Vec<&str> = body.lines().take_while(|l| !l.starts_with("note: ")).collect();
    Some(format!("panicked at {}: {}", location.trim_end_matches(':'), message.join("\n").trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_panic_message_is_read_from_stderr() {
        let stderr = b"\nthread '<unnamed>' panicked at src/lib.rs:27:20:\nfaulty solid panicked on purpose\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("panicked at src/lib.rs:27:20: faulty solid panicked on purpose")
        );
        assert_eq!(panic_message(b"all fine"), None);
    }
}
