//! The compiled-component cache: a component is compiled once per machine, engine
//! settings and wasmtime version, and every later load (each `weft run`, each worker
//! process) reads the artifact instead: a millisecond against seconds for a Python or
//! JavaScript solid.
//!
//! An entry is `<key>.cwasm`, what `Engine::precompile_component` wrote, with its
//! BLAKE3 in `<key>.sum` beside it. The key hashes the component's digest with the
//! engine's compatibility hash (target, compiler flags, tunables, features and wasmtime's
//! version), so another wasmtime or other settings never find a stale artifact. The sum
//! is checked before wasmtime sees the bytes, because deserializing is only memory-safe
//! on an artifact wasmtime wrote: a torn, truncated or tampered entry is compiled again
//! and replaced, never trusted.

use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::component::Component;

/// Entries past this many bytes in all are deleted, oldest first, when a new one is
/// written. `WEFT_CACHE_MAX_BYTES` overrides it.
const DEFAULT_MAX_BYTES: u64 = 4 << 30;

/// Bumped when the entry layout changes, so that old entries are ignored.
const LAYOUT: &[u8] = b"weft-compiled-1";

/// Where a load found its compiled code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from the cache.
    Hit,
    /// Compiled, and written to the cache.
    Compiled,
    /// An entry was there but failed its check; compiled again and replaced.
    Replaced(String),
    /// No cache directory: compiled in memory.
    Uncached,
}

/// The cache directory, if any.
#[derive(Debug, Clone)]
pub struct CompileCache {
    dir: Option<PathBuf>,
    max_bytes: u64,
}

impl CompileCache {
    /// The cache in `dir`, or none.
    pub fn new(dir: Option<PathBuf>) -> CompileCache {
        let max_bytes = std::env::var("WEFT_CACHE_MAX_BYTES").ok().and_then(|v| v.parse().ok());
        CompileCache { dir, max_bytes: max_bytes.unwrap_or(DEFAULT_MAX_BYTES) }
    }

    /// The cache where the environment says: `WEFT_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/weft/compiled`, else `~/.cache/weft/compiled`; none when none of
    /// these is known.
    pub fn from_env() -> CompileCache {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let dir = var("WEFT_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("weft/compiled")))
            .or_else(|| var("HOME").map(|d| d.join(".cache/weft/compiled")));
        CompileCache::new(dir)
    }

    /// The directory entries live in.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The compiled form of the component `bytes` (whose BLAKE3 is `digest`), from the
    /// cache when a sound entry is there, else compiled and stored.
    ///
    /// # Errors
    /// wasmtime's, when the bytes are not a valid component. A cache that cannot be
    /// written is no error: the component is still returned.
    pub fn load(
        &self,
        engine: &wasmtime::Engine,
        bytes: &[u8],
        digest: &blake3::Hash,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let replaced = match self.hit(engine, digest) {
            Ok(Some(component)) => return Ok((component, CacheOutcome::Hit)),
            Ok(None) => None,
            Err(why) => Some(why),
        };
        self.compile(engine, bytes, digest, replaced)
    }

    /// The compiled form of the component in the file at `path`, whose BLAKE3 was
    /// found to be `digest`: on a hit the component's bytes are never read. On a miss
    /// they are read and hashed again, since the file may have changed meanwhile, and
    /// the digest of what was compiled is returned.
    ///
    /// # Errors
    /// As [`CompileCache::load`], and when the file cannot be read.
    pub fn load_file(
        &self,
        engine: &wasmtime::Engine,
        path: &Path,
        digest: blake3::Hash,
    ) -> wasmtime::Result<(Component, blake3::Hash, CacheOutcome)> {
        let replaced = match self.hit(engine, &digest) {
            Ok(Some(component)) => return Ok((component, digest, CacheOutcome::Hit)),
            Ok(None) => None,
            Err(why) => Some(why),
        };
        let bytes = std::fs::read(path)?;
        let digest = blake3::hash(&bytes);
        let (component, outcome) = self.compile(engine, &bytes, &digest, replaced)?;
        Ok((component, digest, outcome))
    }

    /// The cached entry of `digest`, if a sound one is there; `Err` with why when an
    /// entry is there but unsound.
    // The one place weft deserializes compiled code: only files wasmtime wrote, checked.
    #[allow(unsafe_code)]
    fn hit(&self, engine: &wasmtime::Engine, digest: &blake3::Hash) -> Result<Option<Component>, String> {
        let Some(dir) = &self.dir else { return Ok(None) };
        let (artifact_path, sum_path) = entry_paths(dir, engine, digest);
        if !check_sum(&artifact_path, &sum_path)? {
            return Ok(None);
        }
        // SAFETY: the file holds exactly what `precompile_component` wrote for this
        // engine's settings: its BLAKE3 matches the sum written with it. Entries are
        // only ever replaced whole (by rename), never written in place, so the file
        // wasmtime maps now is one whose sum matches. Mapping it, rather than reading it,
        // lets wasmtime map the initial memory images straight from the file: a Python
        // solid's 40 MB are neither read nor copied.
        match unsafe { Component::deserialize_file(engine, &artifact_path) } {
            Ok(component) => Ok(Some(component)),
            Err(e) => Err(format!("wasmtime refused it: {}", crate::solid::root_message(&e))),
        }
    }

    /// Compiles `bytes` and stores the entry; `replaced` says why an entry there was
    /// unsound, if one was.
    #[allow(unsafe_code)]
    fn compile(
        &self,
        engine: &wasmtime::Engine,
        bytes: &[u8],
        digest: &blake3::Hash,
        replaced: Option<String>,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let Some(dir) = &self.dir else {
            return Ok((Component::new(engine, bytes)?, CacheOutcome::Uncached));
        };
        let (artifact_path, sum_path) = entry_paths(dir, engine, digest);
        if let Some(why) = &replaced {
            tracing::warn!(
                "compiled-component cache entry {} is unsound ({why}); compiling again",
                artifact_path.display()
            );
        }
        let artifact = engine.precompile_component(bytes)?;
        // SAFETY: wasmtime just wrote these bytes, for this engine.
        let component = unsafe { Component::deserialize(engine, &artifact)? };
        if let Err(e) = self.store(dir, &artifact_path, &sum_path, &artifact) {
            tracing::warn!("cannot write the compiled-component cache in {}: {e}", dir.display());
        }
        Ok((component, replaced.map_or(CacheOutcome::Compiled, CacheOutcome::Replaced)))
    }

    /// Writes an entry: each file to a unique temporary name, then renamed into place, so
    /// that a reader sees a whole file or none (and a sum that does not match, between
    /// the two renames, only costs it a compile).
    fn store(&self, dir: &Path, artifact_path: &Path, sum_path: &Path, artifact: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        write_atomically(artifact_path, artifact)?;
        write_atomically(sum_path, blake3::hash(artifact).as_bytes())?;
        self.prune(dir)
    }

    /// Deletes the oldest entries while the cache holds more than its limit.
    fn prune(&self, dir: &Path) -> std::io::Result<()> {
        let mut entries = Vec::new();
        let mut total = 0;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "cwasm") {
                let meta = entry.metadata()?;
                total += meta.len();
                entries.push((meta.modified()?, meta.len(), path));
            }
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            // Another process may have just deleted it.
            let _ = std::fs::remove_file(path.with_extension("sum"));
            let _ = std::fs::remove_file(&path);
            total -= len;
        }
        Ok(())
    }
}

/// The hex key of a component's entry under this engine.
fn entry_key(engine: &wasmtime::Engine, digest: &blake3::Hash) -> String {
    let mut hasher = Blake3Hasher(blake3::Hasher::new());
    hasher.0.update(LAYOUT);
    hasher.0.update(digest.as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().to_hex().to_string()
}

/// Feeds `std::hash::Hash` into BLAKE3, which is stable across processes (std's
/// `DefaultHasher` promises nothing of the sort).
struct Blake3Hasher(blake3::Hasher);

impl std::hash::Hasher for Blake3Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        unreachable!("only written to; the key is the whole BLAKE3")
    }
}

/// Whether both files of an entry are there and agree; `Err` with why when an entry is
/// there but unsound. The artifact is hashed from a mapping of the file, on every core.
fn check_sum(artifact_path: &Path, sum_path: &Path) -> Result<bool, String> {
    let mut hasher = blake3::Hasher::new();
    match hasher.update_mmap_rayon(artifact_path) {
        Ok(_) => {}
        Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
            return Ok(false);
        }
        Err(e) => return Err(format!("cannot read it: {e}")),
    }
    let sum = std::fs::read(sum_path).map_err(|e| format!("cannot read its checksum: {e}"))?;
    if sum.as_slice() != hasher.finalize().as_bytes() {
        return Err("its checksum does not match".into());
    }
    Ok(true)
}

/// The artifact and checksum files of a component's entry under this engine.
fn entry_paths(dir: &Path, engine: &wasmtime::Engine, digest: &blake3::Hash) -> (PathBuf, PathBuf) {
    let key = entry_key(engine, digest);
    (dir.join(format!("{key}.cwasm")), dir.join(format!("{key}.sum")))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
