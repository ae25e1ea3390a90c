//! The one wasmtime `Engine` of a host, its `Linker`, and the clock that bounds steps.

use crate::error::Error;
use crate::sandbox::{SolidPre, StepState};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::component::{Component, HasSelf, Linker};

/// The contract package every solid targets.
pub const CONTRACT_PACKAGE: &str = "weft:solid";
/// The contract version this host speaks.
pub const CONTRACT_VERSION: &str = "0.1.0";
/// The interface a solid must export.
pub const CONTRACT_EXPORT: &str = "weft:solid/guest@0.1.0";

/// How often the epoch advances. A running step notices its deadline (and yields to
/// other tasks) at most this long after the fact.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How the engine instruments compiled code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// Epoch checks: bound wall time and let CPU-bound steps yield. Without them a
    /// spinning step cannot be interrupted; turn them off only to measure their cost.
    pub epochs: bool,
    /// Fuel metering: enforces `fuel` limits. Without it a `fuel` limit is ignored.
    pub fuel: bool,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions { epochs: true, fuel: true }
    }
}

/// A wasmtime engine configured for solids, and a linker that offers WASI (granting
/// nothing) and the `weft:solid/context` interface. One per host; cheap to share.
pub struct SolidEngine {
    engine: wasmtime::Engine,
    options: EngineOptions,
    linker: Linker<StepState>,
    ticker_stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for SolidEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SolidEngine").finish_non_exhaustive()
    }
}

impl SolidEngine {
    /// Creates the engine and starts its epoch clock.
    ///
    /// # Errors
    /// [`Error::Host`] when wasmtime cannot be configured on this machine.
    pub fn new() -> Result<SolidEngine, Error> {
        SolidEngine::with_options(EngineOptions::default())
    }

    /// Creates an engine with the given instrumentation.
    ///
    /// # Errors
    /// As [`SolidEngine::new`].
    pub fn with_options(options: EngineOptions) -> Result<SolidEngine, Error> {
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        // Epochs bound a step's wall time and let long steps yield to others.
        config.epoch_interruption(options.epochs);
        // Fuel bounds a step's CPU when its limits ask for it (see limits.rs).
        config.consume_fuel(options.fuel);
        // Compiled code is cached on disk by wasmtime, keyed by the component's bytes, the
        // engine settings and wasmtime's version, and checked when loaded: a component is
        // compiled once per machine, and `weft run` and every worker process load it.
        if let Some(dir) = cache_dir() {
            let mut cache_config = wasmtime::CacheConfig::new();
            cache_config.with_directory(dir);
            match wasmtime::Cache::new(cache_config) {
                Ok(cache) => {
                    config.cache(Some(cache));
                }
                Err(e) => tracing::warn!("compiling without a cache: {e}"),
            }
        }
        // Names in trap backtraces.
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
        let engine = wasmtime::Engine::new(&config)
            .map_err(|e| Error::Host(format!("cannot create the wasmtime engine: {e}")))?;

        let mut linker = Linker::<StepState>::new(&engine);
        // Rust std guests import a dozen WASI interfaces even without I/O; link them all,
        // with a WASI context that grants nothing (see sandbox.rs).
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|e| Error::Host(format!("cannot link WASI: {e}")))?;
        crate::sandbox::wit::context_add_to_linker::<StepState, HasSelf<StepState>>(&mut linker, |s| s)
            .map_err(|e| Error::Host(format!("cannot link weft:solid/context: {e}")))?;
        // The resource interfaces are linked for every component (Python and JavaScript
        // components import every interface of the world); each call is checked against
        // the step's grants, so a step reaches only what its solid declares and its mode
        // binds (see resource/).
        let link = |what: &str, e: wasmtime::Error| Error::Host(format!("cannot link {what}: {e}"));
        crate::sandbox::wit::key_value_add_to_linker::<StepState, HasSelf<StepState>>(&mut linker, |s| s)
            .map_err(|e| link("weft:solid/key-value", e))?;
        crate::sandbox::wit::sql_add_to_linker::<StepState, HasSelf<StepState>>(&mut linker, |s| s)
            .map_err(|e| link("weft:solid/sql", e))?;
        crate::sandbox::wit::secrets_add_to_linker::<StepState, HasSelf<StepState>>(&mut linker, |s| s)
            .map_err(|e| link("weft:solid/secrets", e))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(|e| link("wasi:http", e))?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking_engine, stop) = (engine.clone(), ticker_stop.clone());
        std::thread::Builder::new()
            .name("weft-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    ticking_engine.increment_epoch();
                }
            })
            .map_err(|e| Error::Host(format!("cannot start the epoch thread: {e}")))?;
        Ok(SolidEngine { engine, options, linker, ticker_stop })
    }

    /// How this engine instruments code.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// The wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// Resolves the component's imports against the linker, once, so that each step
    /// only has to instantiate.
    pub(crate) fn instantiate_pre(&self, component: &Component) -> Result<SolidPre, String> {
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| format!("imports something this host does not offer: {}", crate::solid::root_message(&e)))?;
        SolidPre::new(pre).map_err(|e| {
            format!("does not match the weft:solid@{CONTRACT_VERSION} contract: {}", crate::solid::root_message(&e))
        })
    }
}

/// Where compiled components are cached: `WEFT_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/weft/compiled`, else `~/.cache/weft/compiled`; none when none of these
/// is known. A directory of its own: wasmtime's cache worker deletes the oldest files in
/// it past a size limit, so nothing else (the guest toolchains beside it) may live there.
fn cache_dir() -> Option<std::path::PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(std::path::PathBuf::from);
    var("WEFT_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("weft/compiled")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/weft/compiled")))
}

impl Drop for SolidEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
