//! The one wasmtime `Engine` of a host, its `Linker`, and the clock that bounds steps.

use crate::compiled::{CacheOutcome, CompileCache};
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
    /// The pooling instance allocator: each step's memories, tables and stack come from
    /// slots reserved once, rather than from fresh mappings (about 20 µs a step against
    /// 35). It reserves virtual address space up front (a few TiB, of which nothing is
    /// resident until used); turn it off where that is not to be had. When the pool cannot
    /// be reserved the engine falls back to allocating on demand.
    pub pooling: bool,
}

impl Default for EngineOptions {
    fn default() -> EngineOptions {
        EngineOptions { epochs: true, fuel: true, pooling: true }
    }
}

/// A wasmtime engine configured for solids, and a linker that offers WASI (granting
/// nothing) and the `weft:solid/context` interface. One per host; cheap to share.
pub struct SolidEngine {
    engine: wasmtime::Engine,
    options: EngineOptions,
    linker: Linker<StepState>,
    cache: CompileCache,
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
        // Names in trap backtraces.
        config.wasm_backtrace_details(wasmtime::WasmBacktraceDetails::Enable);
        let engine = if options.pooling {
            config.allocation_strategy(pooling_config());
            wasmtime::Engine::new(&config).or_else(|e| {
                // A machine that will not reserve the pool's address space still runs
                // steps, a little slower.
                tracing::warn!("the pooling allocator is not available ({e}); allocating each step on demand");
                config.allocation_strategy(wasmtime::InstanceAllocationStrategy::OnDemand);
                wasmtime::Engine::new(&config)
            })
        } else {
            wasmtime::Engine::new(&config)
        }
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
        Ok(SolidEngine { engine, options, linker, cache: CompileCache::from_env(), ticker_stop })
    }

    /// How this engine instruments code.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// The wasmtime engine.
    pub fn wasmtime(&self) -> &wasmtime::Engine {
        &self.engine
    }

    /// Where compiled components are cached.
    pub fn compile_cache(&self) -> &CompileCache {
        &self.cache
    }

    /// The compiled form of the component file at `path` (whose BLAKE3 was `digest`),
    /// from the cache or compiled now, with the digest of what it is.
    pub(crate) fn compile_file(
        &self,
        path: &std::path::Path,
        digest: blake3::Hash,
    ) -> wasmtime::Result<(Component, blake3::Hash, CacheOutcome)> {
        self.cache.load_file(&self.engine, path, digest)
    }

    /// The linker: WASI (granting nothing by itself), the contract's imports, wasi:http.
    pub(crate) fn linker(&self) -> &Linker<StepState> {
        &self.linker
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

/// The pool steps are allocated from. Sized for solids in every language (a Python
/// component has several core instances and tables of tens of thousands of entries) and
/// for up to 1000 stores at once: steps running, and `describe` calls while planning. Each
/// memory slot reserves 4 GiB of address space (so that compiled code needs no bounds
/// checks): about 4 TiB for the pool, of the 128 TiB a process has.
fn pooling_config() -> wasmtime::InstanceAllocationStrategy {
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_component_instances(1000)
        .total_core_instances(2000)
        .total_memories(1000)
        .total_tables(2000)
        .total_stacks(1000)
        .max_core_instances_per_component(64)
        .max_memories_per_component(8)
        .max_tables_per_component(32)
        .max_tables_per_module(4)
        .max_memories_per_module(1)
        .table_elements(100_000)
        .max_core_instance_size(4 << 20)
        .max_component_instance_size(4 << 20)
        // Limits are enforced by the store's limiter (limits.rs), up to the 4 GiB a
        // 32-bit memory can address.
        .max_memory_size(4 << 30)
        // Reset the first 2 MiB of a freed memory in place (a copy of the initial image)
        // rather than with `madvise`: a Rust solid's whole memory (1 MiB of stack, its
        // data and a small heap) fits, so the slot's next step takes no page faults, and
        // no page-table change that makes every other core of the process flush its TLB.
        // Those shootdowns were half of a trivial step's time on a 2-core VM (10,000
        // steps: 1.0 s with 64 KiB kept, 0.57 s with 2 MiB). Memory past 2 MiB still goes
        // back to the kernel at once (wasmtime's default decommit batch of 1: batching
        // the `madvise` calls kept up to a batch of dead steps' memories resident, so that
        // eight 64 MiB memory bombs in a row peaked at 480 MiB); each slot in use keeps at
        // most 2 MiB resident.
        .linear_memory_keep_resident(2 << 20)
        .table_keep_resident(16 << 10);
    wasmtime::InstanceAllocationStrategy::Pooling(pool)
}

impl Drop for SolidEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
