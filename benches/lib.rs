//! Shared set-up for weft's benchmarks: pipelines of trivial `add_one` steps, and chains
//! of `bytes_relay` steps passing large values.

/// The benchmarks allocate as the `weft` binary does (see host/src/main.rs), so that
/// their in-process figures are what `weft run` costs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The shape of a generated pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// s0 -> s1 -> ... -> s(n-1).
    Chain,
    /// s0 -> each of s1 .. s(n-1).
    FanOut,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Chain => "chain",
            Shape::FanOut => "fan-out",
        }
    }
}

/// A manifest of `n` trivial `add_one` steps in `shape` (the Dagster comparison's ops),
/// run by `executor` with the default concurrency.
pub fn trivial_manifest(n: usize, shape: Shape, executor: &str) -> String {
    let mut toml = format!(
        "[solids.add_one]\nwasm = \"{{guests}}/add_one.wasm\"\n\n[pipelines.p.execution]\nexecutor = \"{executor}\"\n"
    );
    for i in 0..n {
        toml.push_str(&format!("\n[pipelines.p.solids.s{i}]\nsolid = \"add_one\"\n"));
        let upstream = match (shape, i) {
            (_, 0) => None,
            (Shape::Chain, i) => Some(i - 1),
            (Shape::FanOut, _) => Some(0),
        };
        if let Some(u) = upstream {
            toml.push_str(&format!("inputs = {{ x = \"s{u}.result\" }}\n"));
        }
    }
    toml
}

/// A chain of `steps` `bytes_relay` steps passing `size`-byte values.
pub fn bytes_chain_manifest(steps: usize, size: usize) -> String {
    let mut toml = String::from("[solids.bytes_relay]\nwasm = \"{guests}/bytes_relay.wasm\"\n");
    for i in 0..steps {
        toml.push_str(&format!("\n[pipelines.p.solids.s{i}]\nsolid = \"bytes_relay\"\n"));
        match i {
            0 => toml.push_str(&format!("config = {{ size = {size} }}\n")),
            i => toml.push_str(&format!("inputs = {{ input = \"s{}.data\" }}\n", i - 1)),
        }
    }
    toml
}

/// Builds the release `weft` binary (the benchmarks time what users run) and returns its
/// path.
///
/// # Panics
/// When the build fails.
pub fn release_weft() -> std::path::PathBuf {
    let root = weft_tests::root();
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--quiet", "-p", "weft-host", "--bin", "weft"])
        .current_dir(&root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building the weft binary failed");
    root.join("target/release/weft")
}
