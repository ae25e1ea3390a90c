//! Zig solids, compiled by zig (the `ziglang` package from PyPI) into a `wasm32-wasi`
//! reactor module over the same wit-bindgen C bindings as C solids (translated for Zig as
//! `solid_c.zig`, since Zig 0.17 has no `@cImport`) and the `weft.zig` layer, then made a
//! component inside weft.

use super::componentize::Componentize;
use super::{Language, Tool, run, toolchains_dir};
use std::path::Path;
use std::process::Command;

/// The Zig SDK: `weft.zig`, the C bindings and their Zig translation.
pub(super) const SDK: &[(&str, &[u8])] = &[
    ("weft.zig", include_bytes!("../../../guest-sdk/zig/weft.zig")),
    ("solid_c.zig", include_bytes!("../../../guest-sdk/zig/solid_c.zig")),
    ("solid.h", include_bytes!("../../../guest-sdk/c/solid.h")),
    ("solid.c", include_bytes!("../../../guest-sdk/c/solid.c")),
    ("solid_component_type.o", include_bytes!("../../../guest-sdk/c/solid_component_type.o")),
];

/// The ziglang version `scripts/toolchains` installs.
pub const ZIGLANG_VERSION: &str = "0.17.0";

/// The Python of the venv `ziglang` is installed in: `python -m ziglang` runs zig.
const TOOL: Tool = Tool {
    name: "ziglang",
    version: ZIGLANG_VERSION,
    env: "WEFT_ZIG_PYTHON",
    cached: "zig/bin/python",
    install: "zig",
};

pub(super) fn build(source: &Path, work: &Path, wasm: &Path) -> Result<(), String> {
    let python = TOOL.find()?;
    let sdk = work.join("sdk");
    super::write_sdk(Language::Zig, &sdk)?;
    let core = work.join("core.wasm");
    // zig keeps compiled code by content: one cache beside the toolchain serves every build.
    let cache = toolchains_dir().join("zig/cache");
    let mut command = Command::new(python);
    command
        .args(["-m", "ziglang", "build-exe", "-target", "wasm32-wasi", "-mexec-model=reactor", "-fno-entry", "-lc"])
        .args(["-O", "ReleaseSmall", "--cache-dir"])
        .arg(&cache)
        .arg("--global-cache-dir")
        .arg(&cache)
        .arg(format!("-femit-bin={}", core.display()))
        .args(["--dep", "weft"])
        .arg(format!("-Mroot={}", source.display()))
        .args(["--dep", "solid_c"])
        .arg(format!("-Mweft={}", sdk.join("weft.zig").display()))
        .arg(sdk.join("solid.c"))
        .arg(sdk.join("solid_component_type.o"))
        .arg(format!("-Msolid_c={}", sdk.join("solid_c.zig").display()));
    run(&mut command, "zig")?;
    Componentize::default().run(&core, wasm)
}
