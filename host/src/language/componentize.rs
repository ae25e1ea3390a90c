//! Core WebAssembly modules made into solids inside weft, so a C, Zig or Go toolchain is
//! all a user needs: those compilers emit a `wasm32-wasip1` reactor module, and this
//! turns it into a component of the contract's `solid` world with `wit-component`,
//! adapting its WASI preview 1 calls to preview 2 with the reactor adapter that matches
//! this host's wasmtime.

use super::CONTRACT_WIT;
use std::path::Path;

/// How a core module becomes a component.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Componentize {
    /// Embed the contract's `solid` world into the module first: for modules whose
    /// bindings were written by hand (Go) and so carry no `component-type` section.
    pub embed_contract: bool,
}

impl Componentize {
    /// Reads the core module at `core`, makes it a component and writes it to `wasm`.
    ///
    /// # Errors
    /// A message naming the module and what `wit-component` refused (a missing export,
    /// an import the contract does not offer).
    pub(super) fn run(self, core: &Path, wasm: &Path) -> Result<(), String> {
        let mut module = std::fs::read(core).map_err(|e| format!("cannot read {}: {e}", core.display()))?;
        if self.embed_contract {
            let mut resolve = wit_parser::Resolve::default();
            let package = resolve.push_str("solid.wit", CONTRACT_WIT).map_err(|e| format!("the contract: {e:#}"))?;
            let world = resolve.select_world(&[package], Some("solid")).map_err(|e| format!("the contract: {e:#}"))?;
            wit_component::embed_component_metadata(
                &mut module,
                &resolve,
                world,
                wit_component::StringEncoding::UTF8,
                false,
            )
            .map_err(|e| format!("cannot embed the contract into {}: {e:#}", core.display()))?;
        }
        let component = wit_component::ComponentEncoder::default()
            .validate(true)
            // The adapter allocates through the module: `cabi_realloc_adapter` if it
            // exports one (Go does: its runtime owns memory growth, so the adapter must not
            // grow memory behind its back), else `cabi_realloc`.
            .module(&module)
            .and_then(|encoder| {
                encoder.adapter(
                    "wasi_snapshot_preview1",
                    wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
                )
            })
            .and_then(|encoder| encoder.encode())
            .map_err(|e| format!("cannot make {} a component: {e:#}", core.display()))?;
        std::fs::write(wasm, component).map_err(|e| format!("cannot write {}: {e}", wasm.display()))
    }
}
