//! One step attempt in its own sandbox: a fresh wasmtime `Store` whose WASI context grants
//! only what the step was granted, stdout and stderr captured, and every limit enforced —
//! memory and tables by a store limiter, CPU by fuel, wall time by epochs and a timer,
//! outputs and logs by the context. Every way an attempt can end becomes a typed
//! [`StepError`].

use crate::cancel::CancelToken;
use crate::capability::Grants;
use crate::context::{EventSink, Refusal, StepIo, kind_from_wit, type_from_wit, value_from_wit, value_to_wit};
use crate::engine::SolidEngine;
use crate::event::{StepError, StepErrorKind};
use crate::limits::StepLimits;
use crate::resource::http::HttpHooks;
use crate::resource::secrets::Mask;
use crate::resource::{Backend, Connections};
use crate::solid::{InputDef, LoadedSolid, OutputDef, ResourceNeed, SolidDef, metadata_from_wit};
use crate::value::{Output, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, Trap, UpdateDeadline, WasmBacktrace};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        world: "solid",
        path: "../wit",
        // Resource calls wait on the network or the disk: they are async on the host
        // (the guest still sees a blocking call).
        imports: {
            "weft:solid/key-value": async | trappable,
            "weft:solid/sql": async | trappable,
            default: trappable,
        },
        exports: { default: async },
    });
}

/// The generated contract types, for the rest of the host.
pub(crate) mod wit {
    pub use super::bindings::weft::solid::context::add_to_linker as context_add_to_linker;
    pub use super::bindings::weft::solid::key_value::add_to_linker as key_value_add_to_linker;
    pub use super::bindings::weft::solid::secrets::add_to_linker as secrets_add_to_linker;
    pub use super::bindings::weft::solid::sql::add_to_linker as sql_add_to_linker;
    pub use super::bindings::weft::solid::types::*;
}

/// A solid's component with its imports resolved.
pub(crate) type SolidPre = bindings::SolidPre<StepState>;

/// The data of one `Store`: WASI, the limiter, and what the step's context needs.
pub struct StepState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    http_hooks: HttpHooks,
    limiter: Limiter,
    pub(crate) io: StepIo,
}

impl WasiView for StepState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for StepState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.http_hooks }
    }
}

/// A limit a step broke, or an interruption from outside. Raised as the error of a trap
/// so that the step ends at once, and read back by [`classify`].
#[derive(Debug)]
pub(crate) enum Violation {
    TimedOut(Duration),
    Interrupted,
    Memory(String),
    OutputTooLarge(String),
    LogLimit(String),
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Violation::TimedOut(limit) => write!(f, "the step exceeded its time limit of {limit:?}"),
            Violation::Interrupted => f.write_str("the step was interrupted because the run stopped"),
            Violation::Memory(m) | Violation::OutputTooLarge(m) | Violation::LogLimit(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Violation {}

/// Bounds linear memory and tables; growing past a bound ends the step with a memory
/// limit failure rather than a failed allocation the guest would turn into a trap.
struct Limiter {
    memory: u64,
    table_elements: u64,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory {
            return Err(wasmtime::Error::new(Violation::Memory(format!(
                "the step tried to grow its memory from {current} to {desired} bytes, over its limit of {}",
                self.memory
            ))));
        }
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.table_elements {
            return Err(wasmtime::Error::new(Violation::Memory(format!(
                "the step tried to grow a table from {current} to {desired} elements, over its limit of {}",
                self.table_elements
            ))));
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        // Components of weft solids instantiate a handful of core instances.
        64
    }
}

/// The wall clock of a deterministic step: always the run's start.
struct FixedWallClock(Duration);

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }
    fn now(&self) -> Duration {
        self.0
    }
}

/// The monotonic clock of a deterministic step: it does not move.
struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }
    fn now(&self) -> u64 {
        0
    }
}

/// What the sandbox of one attempt needs beyond the context.
pub(crate) struct SandboxSpec<'a> {
    pub limits: StepLimits,
    pub grants: &'a Grants,
    pub interrupt: CancelToken,
    /// Microseconds since the epoch; what deterministic clocks read.
    pub run_started_at: i64,
    /// Seeds deterministic randomness.
    pub seed: u64,
}

/// A fresh store for one call into a component.
pub(crate) fn new_store(
    engine: &SolidEngine,
    io: StepIo,
    spec: SandboxSpec,
) -> Result<(Store<StepState>, MemoryOutputPipe, MemoryOutputPipe), String> {
    let limits = spec.limits;
    let stdout = MemoryOutputPipe::new(limits.compute_log as usize);
    let stderr = MemoryOutputPipe::new(limits.compute_log as usize);
    // Nothing is inherited: no env, no args, no preopened dirs beyond the grants, and no
    // sockets: TCP, UDP and name lookup are off, and every address is refused.
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdout.clone()).stderr(stderr.clone());
    wasi.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
    wasi.socket_addr_check(|_, _| Box::pin(async { false }));
    for preopen in &spec.grants.files {
        let perms = if preopen.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
        wasi.preopened_dir(&preopen.host, &preopen.guest, perms)
            .map_err(|e| format!("cannot open {} for the step: {e}", preopen.host.display()))?;
    }
    wasi.envs(&spec.grants.env);
    if spec.grants.deterministic {
        use rand::SeedableRng;
        let since_epoch = Duration::from_micros(spec.run_started_at.max(0) as u64);
        wasi.wall_clock(FixedWallClock(since_epoch))
            .monotonic_clock(FixedMonotonicClock)
            .secure_random(rand::rngs::StdRng::seed_from_u64(spec.seed))
            .insecure_random(rand::rngs::StdRng::seed_from_u64(spec.seed ^ 0x5eed))
            .insecure_random_seed(u128::from(spec.seed));
    }
    // The step's HTTP reaches the hosts its http resources allow, and nothing else.
    let allow = spec
        .grants
        .resources
        .iter()
        .filter_map(|g| match &g.backend {
            Backend::Http { allow } => Some(allow.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect();
    let http_hooks = HttpHooks { allow, sink: io.sink.clone() };
    let state = StepState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        http: WasiHttpCtx::new(),
        http_hooks,
        limiter: Limiter { memory: limits.memory, table_elements: limits.table_elements },
        io,
    };
    let mut store = Store::new(engine.wasmtime(), state);
    store.limiter(|state| &mut state.limiter);
    if engine.options().fuel {
        store.set_fuel(limits.fuel.unwrap_or(u64::MAX)).map_err(|e| format!("cannot set the step's fuel: {e}"))?;
    }
    let deadline = Instant::now() + limits.timeout;
    let (timeout, interrupt) = (limits.timeout, spec.interrupt);
    store.set_epoch_deadline(1);
    // Every tick a running step yields to the other tasks, and stops if its run stopped
    // or its time is up.
    store.epoch_deadline_callback(move |_| {
        if interrupt.is_canceled() {
            Err(wasmtime::Error::new(Violation::Interrupted))
        } else if Instant::now() >= deadline {
            Err(wasmtime::Error::new(Violation::TimedOut(timeout)))
        } else {
            // tokio's yield_now wakes the task only after the runtime has polled its
            // timers and I/O; wasmtime's own yield wakes at once, and a spinning step would
            // then delay every timer of the runtime by up to 61 ticks.
            Ok(UpdateDeadline::YieldCustom(1, Box::pin(tokio::task::yield_now())))
        }
    });
    Ok((store, stdout, stderr))
}

/// The context of a call that belongs to no step (`describe`, a sensor): no run, no
/// config, no resources, no event sink.
pub(crate) fn blank_io(limits: StepLimits) -> StepIo {
    StepIo {
        run_id: String::new(),
        step_key: String::new(),
        attempt: 0,
        partition_key: None,
        config: "{}".into(),
        def: None,
        limits,
        produced: Vec::new(),
        produced_bytes: 0,
        log_bytes: 0,
        sink: None,
        resources: Vec::new(),
        connections: Arc::new(Connections::default()),
        mask: Mask::default(),
    }
}

/// Calls `describe` in a throwaway instance.
pub(crate) async fn describe(engine: &SolidEngine, pre: &SolidPre) -> Result<SolidDef, String> {
    let limits = StepLimits { timeout: Duration::from_secs(10), ..StepLimits::default() };
    let io = blank_io(limits);
    let grants = Grants::default();
    let spec = SandboxSpec { limits, grants: &grants, interrupt: CancelToken::new(), run_started_at: 0, seed: 0 };
    let (mut store, stdout, stderr) = new_store(engine, io, spec)?;
    let outcome = async {
        let solid = pre.instantiate_async(&mut store).await?;
        solid.weft_solid_guest().call_describe(&mut store).await
    }
    .await;
    let def = outcome.map_err(|e| classify(e, &stdout.contents(), &stderr.contents(), &limits).message)?;
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
        resources: def
            .resources
            .into_iter()
            .map(|need| ResourceNeed { name: need.name, kind: kind_from_wit(need.kind) })
            .collect(),
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
    pub grants: Grants,
    /// Microseconds since the epoch: what a deterministic step's clocks read.
    pub run_started_at: i64,
    /// Canceled when the run stops: the attempt is interrupted.
    pub interrupt: CancelToken,
}

/// What one attempt did.
#[derive(Debug)]
pub(crate) struct AttemptReport {
    /// Every output produced, yielded or returned, in the order produced.
    pub outputs: Vec<Output>,
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
    connections: Arc<Connections>,
) -> AttemptReport {
    let limits = attempt.limits;
    let seed = u64::from_le_bytes(
        blake3::hash(format!("{}/{}", attempt.run_id, attempt.step_key).as_bytes()).as_bytes()[..8]
            .try_into()
            .expect("8 bytes"),
    );
    let io = StepIo {
        run_id: attempt.run_id,
        step_key: attempt.step_key,
        attempt: attempt.attempt,
        partition_key: attempt.partition_key,
        config: attempt.config,
        def: Some(solid.def.clone()),
        limits,
        produced: Vec::new(),
        produced_bytes: 0,
        log_bytes: 0,
        sink: Some(sink),
        mask: Mask::for_grants(&attempt.grants.resources),
        resources: attempt.grants.resources.clone(),
        connections,
    };
    let spec = SandboxSpec {
        limits,
        grants: &attempt.grants,
        interrupt: attempt.interrupt.clone(),
        run_started_at: attempt.run_started_at,
        seed,
    };
    let (mut store, stdout, stderr) = match new_store(engine, io, spec) {
        Ok(parts) => parts,
        Err(message) => return AttemptReport::host_error(message),
    };
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
    let outcome = tokio::select! {
        outcome = call => outcome,
        () = attempt.interrupt.cancelled() => Err(wasmtime::Error::new(Violation::Interrupted)),
        () = tokio::time::sleep(limits.timeout) => Err(wasmtime::Error::new(Violation::TimedOut(limits.timeout))),
    };
    let (stdout_bytes, stderr_bytes) = (stdout.contents().to_vec(), stderr.contents().to_vec());
    let error = match outcome {
        Err(trap) => Some(classify(trap, &stdout_bytes, &stderr_bytes, &limits)),
        Ok(Err(failure)) => Some(StepError {
            kind: StepErrorKind::SolidFailure,
            message: failure.message,
            retryable: failure.retryable,
            metadata: metadata_from_wit(failure.metadata),
            backtrace: None,
        }),
        Ok(Ok(returned)) => accept_returned(&mut store.data_mut().io, returned).err(),
    };
    let io = &mut store.data_mut().io;
    let outputs = std::mem::take(&mut io.produced);
    let report = AttemptReport { outputs, error, stdout: stdout_bytes, stderr: stderr_bytes };
    let report = report.masked(&io.mask);
    // Dropping the store resets its memory for the next step in its pool slot: a copy of
    // the initial image over the memory it used, about 1 MiB for a Rust solid, and on a
    // chain of short steps a third of each step's time. A task of its own does it, so
    // that the report reaches the scheduler first and the reset runs beside the next
    // step (on another core, when one is idle).
    tokio::spawn(async move { drop(store) });
    report
}

impl AttemptReport {
    /// The report with the step's secrets masked in what is recorded as text.
    fn masked(mut self, mask: &Mask) -> AttemptReport {
        if mask.is_empty() {
            return self;
        }
        self.stdout = mask.bytes(self.stdout);
        self.stderr = mask.bytes(self.stderr);
        if let Some(error) = &mut self.error {
            error.message = mask.text(std::mem::take(&mut error.message));
            error.backtrace = error.backtrace.take().map(|b| mask.text(b));
        }
        self
    }

    /// A report of an attempt the host could not run.
    pub(crate) fn host_error(message: String) -> AttemptReport {
        AttemptReport {
            outputs: Vec::new(),
            error: Some(StepError::new(StepErrorKind::HostError, message)),
            stdout: Vec::new(),
            stderr: Vec::new(),
        }
    }
}

/// Takes the outputs `compute` returned and checks that every required output exists.
fn accept_returned(io: &mut StepIo, returned: Vec<wit::NamedValue>) -> Result<(), StepError> {
    for wit::NamedValue { name, value } in returned {
        let value = value_from_wit(value)
            .map_err(|m| StepError::new(StepErrorKind::InvalidOutput, format!("output `{name}`: {m}")))?;
        match io.accept_output(name, value) {
            Ok(()) => {}
            Err(Refusal::Contract(message)) => return Err(StepError::new(StepErrorKind::InvalidOutput, message)),
            Err(Refusal::Limit(violation)) => {
                return Err(StepError::new(StepErrorKind::OutputTooLarge, violation.to_string()));
            }
        }
    }
    let missing = io.missing_outputs();
    if missing.is_empty() {
        Ok(())
    } else {
        let message = format!("the solid returned without producing its required output(s): {}", missing.join(", "));
        Err(StepError::new(StepErrorKind::InvalidOutput, message))
    }
}

/// Turns a wasmtime error from a guest call into a step error of the right kind.
pub(crate) fn classify(error: wasmtime::Error, stdout: &[u8], stderr: &[u8], limits: &StepLimits) -> StepError {
    let backtrace = error.downcast_ref::<WasmBacktrace>().map(|bt| bt.to_string());
    let (kind, message) = if let Some(violation) = error.downcast_ref::<Violation>() {
        let kind = match violation {
            Violation::TimedOut(_) => StepErrorKind::Timeout,
            Violation::Interrupted => StepErrorKind::Canceled,
            Violation::Memory(_) => StepErrorKind::MemoryLimit,
            Violation::OutputTooLarge(_) => StepErrorKind::OutputTooLarge,
            Violation::LogLimit(_) => StepErrorKind::LogLimit,
        };
        (kind, violation.to_string())
    } else if error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        (StepErrorKind::OutOfFuel, format!("the step used up its fuel ({} units)", limits.fuel.unwrap_or(u64::MAX)))
    } else if let Some(stream) =
        [("stdout", stdout), ("stderr", stderr)].into_iter().find(|(_, bytes)| bytes.len() as u64 >= limits.compute_log)
    {
        let message = format!("the step wrote more than its limit of {} bytes to {}", limits.compute_log, stream.0);
        (StepErrorKind::LogLimit, message)
    } else if let Some(panic) = panic_message(stderr) {
        (StepErrorKind::Panic, panic)
    } else if let Some(trap) = error.downcast_ref::<Trap>() {
        (StepErrorKind::Trap, format!("wasm trap: {trap}"))
    } else {
        (StepErrorKind::Trap, crate::solid::root_message(&error))
    };
    StepError { backtrace, ..StepError::new(kind, message) }
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
