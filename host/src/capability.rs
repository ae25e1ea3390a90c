//! Capabilities: what a step may reach beyond computation. WASI is always linked (Rust
//! std guests import it even without I/O) but grants nothing unless the manifest says
//! so: directories preopened read-only or read-write, named host environment variables,
//! deterministic clocks and randomness on request, and the resources a mode binds (see
//! `resource/`). Sockets are linked (CPython's libc imports them unconditionally) with a
//! context that refuses every address and name lookup; outbound HTTP goes only through an
//! `http` resource's allow-list.

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
