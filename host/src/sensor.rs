//! Sensor components: components that target the `sensor` world of the contract
//! (`wit/sensor.wit`), loaded once and evaluated in a fresh sandbox per evaluation, with
//! the limits and file grants of a step — and weft's built-in file sensor.

use crate::capability::{Grants, Preopen};
use crate::engine::SolidEngine;
use crate::limits::StepLimits;
use crate::sandbox::{SandboxSpec, StepState, blank_io, classify, new_store};
use std::path::{Path, PathBuf};

mod bindings {
    wasmtime::component::bindgen!({
        world: "sensor",
        path: "../wit",
        exports: { default: async },
    });
}

/// The export every sensor component has.
pub const SENSOR_EXPORT: &str = "weft:solid/sensor-guest@0.1.0";

/// A run a sensor asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunRequest {
    /// The daemon launches one run per key for each sensor, ever.
    pub run_key: Option<String>,
    pub partition_key: Option<String>,
    /// Run config over the sensor's declared one.
    pub run_config: Option<serde_json::Value>,
    pub tags: Vec<(String, String)>,
}

/// What one evaluation of a sensor decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Evaluation {
    pub runs: Vec<RunRequest>,
    /// `None` keeps the cursor as it was.
    pub cursor: Option<String>,
    pub skip_reason: Option<String>,
}

/// A sensor component, compiled, with its imports resolved.
pub struct LoadedSensor {
    pub path: PathBuf,
    pre: bindings::SensorPre<StepState>,
}

impl std::fmt::Debug for LoadedSensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedSensor").field("path", &self.path).finish()
    }
}

impl LoadedSensor {
    /// Compiles (or loads from the compiled-component cache) the sensor at `path`.
    ///
    /// # Errors
    /// A message naming the file: unreadable, not a component, or not a sensor.
    pub fn load(engine: &SolidEngine, path: &Path) -> Result<LoadedSensor, String> {
        let fail = |m: String| format!("{}: {m}", path.display());
        // Hashed from a mapping of the file, as solids are: a cached sensor is not read.
        let mut hasher = blake3::Hasher::new();
        hasher.update_mmap_rayon(path).map_err(|e| fail(format!("cannot read the sensor: {e}")))?;
        let (component, _, _) = engine
            .compile_file(path, hasher.finalize())
            .map_err(|e| fail(format!("invalid component: {}", crate::solid::root_message(&e))))?;
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(engine.wasmtime()).map(|(name, _)| name.to_owned()).collect();
        if !exports.iter().any(|e| e == SENSOR_EXPORT) {
            let found = if exports.is_empty() { "nothing".to_owned() } else { exports.join(", ") };
            return Err(fail(format!("does not export `{SENSOR_EXPORT}`, so it is not a sensor (it exports {found})")));
        }
        let pre = engine.linker().instantiate_pre(&component).map_err(|e| {
            fail(format!("imports something this host does not offer: {}", crate::solid::root_message(&e)))
        })?;
        let pre = bindings::SensorPre::new(pre).map_err(|e| fail(format!("is not a weft sensor: {e}")))?;
        Ok(LoadedSensor { path: path.to_path_buf(), pre })
    }

    /// Evaluates the sensor once in a fresh store with `files` preopened and `limits`
    /// enforced. Its wall clock reads `now` (microseconds since the epoch): the daemon's
    /// time, so that a sensor sees the same time as the schedules (`WEFT_CLOCK` in tests).
    /// Returns the evaluation and what it wrote to stdout and stderr.
    ///
    /// # Errors
    /// The sensor's own error, or how it broke a limit or trapped, with the end of its
    /// stderr.
    pub async fn evaluate(
        &self,
        engine: &SolidEngine,
        files: &[Preopen],
        limits: StepLimits,
        cursor: Option<String>,
        now: i64,
    ) -> Result<(Evaluation, Vec<u8>), String> {
        let grants = Grants { files: files.to_vec(), deterministic: true, ..Grants::default() };
        let interrupt = crate::cancel::CancelToken::new();
        let spec = SandboxSpec { limits, grants: &grants, interrupt, run_started_at: now, seed: now as u64 };
        let (mut store, stdout, stderr) = new_store(engine, blank_io(limits), spec)?;
        let call = async {
            let sensor = self.pre.instantiate_async(&mut store).await?;
            sensor.weft_solid_sensor_guest().call_evaluate(&mut store, cursor.as_deref()).await
        };
        let outcome = tokio::select! {
            outcome = call => outcome,
            () = tokio::time::sleep(limits.timeout) => {
                Err(wasmtime::Error::new(crate::sandbox::Violation::TimedOut(limits.timeout)))
            }
        };
        let mut logs = stdout.contents().to_vec();
        logs.extend_from_slice(&stderr.contents());
        let with_stderr = |message: String| {
            let text = String::from_utf8_lossy(&stderr.contents()).into_owned();
            let tail: Vec<&str> = text.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
            if tail.is_empty() { message } else { format!("{message} (stderr: {})", tail.join(" | ")) }
        };
        let evaluation = match outcome {
            Err(trap) => {
                return Err(with_stderr(classify(trap, &stdout.contents(), &stderr.contents(), &limits).message));
            }
            Ok(Err(message)) => return Err(with_stderr(message)),
            Ok(Ok(evaluation)) => evaluation,
        };
        let mut runs = Vec::new();
        for (i, request) in evaluation.runs.into_iter().enumerate() {
            let run_config = match request.run_config {
                None => None,
                Some(text) => Some(
                    serde_json::from_str(&text)
                        .map_err(|e| format!("run request {} has a run config that is not JSON: {e}", i + 1))?,
                ),
            };
            runs.push(RunRequest {
                run_key: request.run_key,
                partition_key: request.partition_key,
                run_config,
                tags: request.tags,
            });
        }
        Ok((Evaluation { runs, cursor: evaluation.cursor, skip_reason: evaluation.skip_reason }, logs))
    }
}

/// weft's file sensor: one run request per regular file in `directory` whose name
/// matches `pattern` (`*` and `?` wildcards; every file without one), keyed by the
/// file's name, so that each file launches one run, ever. Files are taken in name
/// order. Write files elsewhere and rename them in, so that none is seen half written.
///
/// # Errors
/// A message naming the directory when it cannot be read.
pub fn evaluate_files(directory: &Path, pattern: Option<&str>) -> Result<Vec<(String, PathBuf)>, String> {
    let entries = std::fs::read_dir(directory).map_err(|e| format!("cannot list {}: {e}", directory.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", directory.display()))?;
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else { continue };
        if is_file && !name.starts_with('.') && pattern.is_none_or(|p| wildcard(p, &name)) {
            files.push((name, entry.path()));
        }
    }
    files.sort();
    Ok(files)
}

/// Whether `name` matches `pattern`, where `*` is any run of characters and `?` one.
fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Classic two-pointer glob match with backtracking to the last `*`.
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards_match_as_shells_do() {
        assert!(wildcard("*.csv", "orders.csv"));
        assert!(!wildcard("*.csv", "orders.csv.tmp"));
        assert!(wildcard("day-??.csv", "day-05.csv"));
        assert!(!wildcard("day-??.csv", "day-5.csv"));
        assert!(wildcard("*", "anything"));
        assert!(wildcard("a*b*c", "a-x-b-y-c"));
        assert!(!wildcard("a*b*c", "a-x-c"));
    }
}
