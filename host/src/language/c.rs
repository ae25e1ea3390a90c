//! C solids, compiled by Debian's clang with wasi-libc into a `wasm32-wasi` reactor
//! module, with the wit-bindgen C bindings of the contract and the `weft.h` layer (both
//! built into this binary), then made a component inside weft. The bindings' object
//! file carries the world, and the module's own `cabi_realloc` serves the adapter.

use super::componentize::Componentize;
use super::{Language, run};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The C SDK: the generated bindings (`solid.*`) and the hand-written layer (`weft.*`).
pub(super) const SDK: &[(&str, &[u8])] = &[
    ("solid.h", include_bytes!("../../../guest-sdk/c/solid.h")),
    ("solid.c", include_bytes!("../../../guest-sdk/c/solid.c")),
    ("solid_component_type.o", include_bytes!("../../../guest-sdk/c/solid_component_type.o")),
    ("weft.h", include_bytes!("../../../guest-sdk/c/weft.h")),
    ("weft.c", include_bytes!("../../../guest-sdk/c/weft.c")),
];

/// `WEFT_CLANG`, else Debian's `/usr/bin/clang` (with wasi-libc in its default sysroot).
fn clang() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("WEFT_CLANG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let system = Path::new("/usr/bin/clang");
    if system.is_file() {
        return Ok(system.to_path_buf());
    }
    Err("clang is not installed (looked for /usr/bin/clang): run `scripts/toolchains c` (Debian's clang, lld, \
         wasi-libc and the wasm32 compiler runtime), or set WEFT_CLANG"
        .into())
}

pub(super) fn build(source: &Path, work: &Path, wasm: &Path) -> Result<(), String> {
    let clang = clang()?;
    let sdk = work.join("sdk");
    super::write_sdk(Language::C, &sdk)?;
    let core = work.join("core.wasm");
    let source_dir = source.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut command = Command::new(clang);
    command
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2", "-Wl,--strip-debug", "-I"])
        .arg(&sdk)
        .arg("-I")
        .arg(source_dir)
        .arg("-o")
        .arg(&core)
        .arg(source)
        .arg(sdk.join("weft.c"))
        .arg(sdk.join("solid.c"))
        .arg(sdk.join("solid_component_type.o"));
    run(&mut command, "clang")?;
    Componentize::default().run(&core, wasm)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The package `weft:solid` of `resolve` as WIT text, without its doc comments (the
    /// bindings' object keeps none), printed by wit-component.
    fn printed(resolve: &wit_parser::Resolve) -> String {
        let (package, _) = resolve
            .packages
            .iter()
            .find(|(_, p)| p.name.namespace == "weft" && p.name.name == "solid")
            .expect("the package weft:solid");
        let mut printer = wit_component::WitPrinter::default();
        printer.emit_docs(false);
        printer.print(resolve, package, &[]).expect("the package prints");
        printer.output.to_string()
    }

    /// The checked-in bindings were generated from this binary's contract: the package
    /// their component-type object carries is the contract's, item for item. When the
    /// contract changes, regenerate them (guest-sdk/c/README.md).
    #[test]
    fn the_c_bindings_were_generated_from_the_contract() {
        let object = SDK.iter().find(|(name, _)| *name == "solid_component_type.o").expect("the object").1;
        let (_, bindgen) = wit_component::metadata::decode(object).expect("the object carries a component type");
        let mut resolve = wit_parser::Resolve::default();
        resolve.push_str("solid.wit", super::super::CONTRACT_WIT).expect("the contract parses");
        assert_eq!(printed(&bindgen.resolve), printed(&resolve));
    }
}
