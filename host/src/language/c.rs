//! (being written)
use std::path::Path;

pub(super) const SDK: &[(&str, &[u8])] = &[];

pub(super) fn build(_source: &Path, _work: &Path, _wasm: &Path) -> Result<(), String> {
    Err("not yet".into())
}
