//! Capabilities: what a step may reach beyond computation. WASI is always linked (Rust
//! std guests import it even without I/O) but grants nothing unless the manifest says
//! so: directories preopened read-only or read-write, named host environment variables,
//! deterministic clocks and randomness on request, and the resources a mode binds (see
//! `resource/`). Sockets are never granted: a component that imports them is refused
//! when it is loaded. Outbound HTTP goes only through an `http` resource's allow-list.

use crate::resource::ResourceGrant;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A host directory made visible to a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preopen {
    /// The host directory (absolute).
    pub host: PathBuf,
    /// Where the guest sees it, such as `/data`.
    pub guest: String,
    /// Whether the step may create, change and delete files in it.
    pub writable: bool,
}

/// Everything a step is granted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grants {
    pub files: Vec<Preopen>,
    /// Host environment variables passed through, with their values read at plan time.
    pub env: Vec<(String, String)>,
    /// Clocks read the run's start time; randomness is seeded from the run id and the
    /// step key.
    pub deterministic: bool,
    /// The resources the step's solid declares, as the run's mode binds them.
    pub resources: Vec<ResourceGrant>,
}

/// Interface prefixes that would give a step raw network access. This host grants none
/// of them.
const NETWORK: &[&str] = &["wasi:sockets/"];

/// Checks a component's imports against what this host can grant: the contract, WASI
/// without sockets, and `wasi:http` (checked against the solid's resources when it is
/// loaded). Returns the first refused import with the reason.
pub fn refused_import<'a>(imports: impl IntoIterator<Item = &'a str>) -> Option<(String, &'static str)> {
    imports.into_iter().find_map(|name| {
        NETWORK.iter().any(|prefix| name.starts_with(prefix)).then(|| {
            (name.to_owned(), "sockets are not granted to solids; reach HTTP services through an `http` resource")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_imports_are_refused_and_the_rest_of_wasi_is_not() {
        let ordinary = ["wasi:cli/environment@0.2.6", "wasi:filesystem/types@0.2.6", "weft:solid/context@0.1.0"];
        assert_eq!(refused_import(ordinary), None);
        assert_eq!(refused_import(["wasi:http/outgoing-handler@0.2.6"]), None);
        let refused = refused_import(["wasi:io/streams@0.2.6", "wasi:sockets/tcp@0.2.6"]);
        assert_eq!(refused.map(|(name, _)| name).as_deref(), Some("wasi:sockets/tcp@0.2.6"));
    }
}
