//! Solids as the host knows them: a component loaded, checked against the contract,
//! described once, and ready to instantiate.

use crate::engine::{CONTRACT_EXPORT, CONTRACT_PACKAGE, CONTRACT_VERSION, SolidEngine};
use crate::error::Problem;
use crate::event::{MetadataEntry, MetadataValue};
use crate::resource::ResourceKind;
use crate::sandbox;
use crate::value::ValueType;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wasmtime::component::Component;

/// A solid's definition, as its `describe` returned it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SolidDef {
    pub name: String,
    pub description: String,
    pub version: String,
    pub inputs: Vec<InputDef>,
    pub outputs: Vec<OutputDef>,
    pub config_schema: Option<serde_json::Value>,
    pub resources: Vec<ResourceNeed>,
    pub tags: Vec<(String, String)>,
}

/// A resource a solid uses, by the name modes bind it under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceNeed {
    pub name: String,
    pub kind: ResourceKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputDef {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub ty: ValueType,
    pub optional: bool,
    pub multiple: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputDef {
    pub name: String,
    pub description: String,
    #[serde(rename = "type")]
    pub ty: ValueType,
    pub optional: bool,
}

impl SolidDef {
    pub fn input(&self, name: &str) -> Option<&InputDef> {
        self.inputs.iter().find(|i| i.name == name)
    }

    pub fn output(&self, name: &str) -> Option<&OutputDef> {
        self.outputs.iter().find(|o| o.name == name)
    }
}

/// A loaded solid: the compiled component, its digest, its definition, and its imports
/// resolved ahead of time. Cheap to clone.
#[derive(Clone)]
pub struct LoadedSolid {
    pub path: PathBuf,
    /// BLAKE3 of the component file: the solid's identity in the db.
    pub digest: String,
    pub def: Arc<SolidDef>,
    /// The config schema, compiled once: every step of the solid is validated with it.
    pub(crate) config_validator: Option<Arc<jsonschema::Validator>>,
    pub(crate) pre: sandbox::SolidPre,
}

impl std::fmt::Debug for LoadedSolid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedSolid").field("path", &self.path).field("digest", &self.digest).finish()
    }
}

/// Why a component could not be loaded. The message names what is wrong with the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: PathBuf,
    pub message: String,
}

impl LoadError {
    fn new(path: &Path, message: impl Into<String>) -> LoadError {
        LoadError { path: path.to_path_buf(), message: message.into() }
    }

    /// The error as a problem of the manifest key that named the file.
    pub fn into_problem(self, manifest: &Path, line: Option<usize>, key: &str) -> Problem {
        Problem::keyed(manifest, line, key, format!("{}: {}", self.path.display(), self.message))
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for LoadError {}

const WASM_MAGIC: &[u8] = b"\0asm";

impl LoadedSolid {
    /// Loads the component at `path`, checks that it targets the `weft:solid` world of
    /// this host's contract version, and calls its `describe`.
    ///
    /// # Errors
    /// A [`LoadError`] naming the file: unreadable, not WebAssembly, a core module rather
    /// than a component, another contract version, missing or mistyped exports, imports
    /// the host does not offer, a trapping or invalid `describe`.
    pub async fn load(engine: &SolidEngine, path: &Path) -> Result<LoadedSolid, LoadError> {
        use std::io::Read;
        let unreadable = |e: std::io::Error| LoadError::new(path, format!("cannot read the component: {e}"));
        // The header, then the digest from a mapping of the file, on every core: a
        // cached component's bytes need not be read (Python's are 18 MB).
        let mut header = Vec::with_capacity(8);
        std::fs::File::open(path).and_then(|file| file.take(8).read_to_end(&mut header)).map_err(unreadable)?;
        if !header.starts_with(WASM_MAGIC) || header.len() < 8 {
            return Err(LoadError::new(path, "not a WebAssembly file (no `\\0asm` header)"));
        }
        // Bytes 4..8 are the version and layer: 1 0 0 0 for a core module, 0x0d 0 1 0
        // for a component.
        if header[4..8] == [1, 0, 0, 0] {
            return Err(LoadError::new(
                path,
                "a core WebAssembly module, not a component: build it for wasm32-wasip2 \
                 or componentize it (wasm-tools component new)",
            ));
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update_mmap_rayon(path).map_err(unreadable)?;
        let (component, digest, outcome) =
            engine.compile_file(path, hasher.finalize()).map_err(|e| match e.downcast_ref::<std::io::Error>() {
                // Read again to be compiled, and gone or unreadable since it was hashed.
                Some(io) => LoadError::new(path, format!("cannot read the component: {io}")),
                None => LoadError::new(path, format!("invalid component: {}", root_message(&e))),
            })?;
        tracing::debug!("{}: compiled code {outcome:?}", path.display());
        let digest = digest.to_hex().to_string();
        check_contract(engine, &component).map_err(|m| LoadError::new(path, m))?;
        let pre = engine.instantiate_pre(&component).map_err(|m| LoadError::new(path, m))?;
        let def = sandbox::describe(engine, &pre)
            .await
            .map_err(|m| LoadError::new(path, format!("`describe` failed: {m}")))?;
        let config_validator = validate_def(&def).map_err(|m| LoadError::new(path, m))?.map(Arc::new);
        Ok(LoadedSolid { path: path.to_path_buf(), digest, def: Arc::new(def), config_validator, pre })
    }
}

/// Checks the component's exports and its `weft:solid` imports against this host's
/// contract version, so that a component built against another version gets a clear
/// message rather than a linker error.
fn check_contract(engine: &SolidEngine, component: &Component) -> Result<(), String> {
    let ty = component.component_type();
    let exports: Vec<String> = ty.exports(engine.wasmtime()).map(|(name, _)| name.to_owned()).collect();
    let imports: Vec<String> = ty.imports(engine.wasmtime()).map(|(name, _)| name.to_owned()).collect();
    let prefix = format!("{CONTRACT_PACKAGE}/");
    let other_version = exports
        .iter()
        .chain(&imports)
        .filter_map(|name| name.strip_prefix(&prefix))
        .filter_map(|rest| rest.split_once('@').map(|(_, v)| v))
        .find(|version| *version != CONTRACT_VERSION);
    if let Some(version) = other_version {
        return Err(format!(
            "built against {CONTRACT_PACKAGE}@{version}, but this host supports \
             {CONTRACT_PACKAGE}@{CONTRACT_VERSION}; rebuild the solid with a matching SDK"
        ));
    }
    if !exports.iter().any(|e| e == CONTRACT_EXPORT) {
        let found = if exports.is_empty() { "nothing".to_owned() } else { exports.join(", ") };
        return Err(format!("does not export `{CONTRACT_EXPORT}`, so it is not a weft solid (it exports {found})"));
    }
    Ok(())
}

/// The innermost message of a wasmtime error, without the chain of contexts.
pub(crate) fn root_message(error: &wasmtime::Error) -> String {
    error.chain().last().map(|e| e.to_string()).unwrap_or_else(|| error.to_string())
}

/// Checks a definition, and compiles its config schema.
fn validate_def(def: &SolidDef) -> Result<Option<jsonschema::Validator>, String> {
    let mut problems = Vec::new();
    if !crate::manifest::is_valid_name(&def.name) {
        problems.push(format!("its name `{}` is not a valid solid name", def.name));
    }
    let mut seen = BTreeSet::new();
    for name in def.inputs.iter().map(|i| &i.name) {
        if !seen.insert(name) {
            problems.push(format!("input `{name}` is declared twice"));
        }
    }
    let mut seen = BTreeSet::new();
    for need in &def.resources {
        if !crate::manifest::is_valid_name(&need.name) {
            problems.push(format!("resource name `{}` is not a valid name", need.name));
        }
        if !seen.insert(&need.name) {
            problems.push(format!("resource `{}` is declared twice", need.name));
        }
    }
    let mut seen = BTreeSet::new();
    for name in def.outputs.iter().map(|o| &o.name) {
        if !seen.insert(name) {
            problems.push(format!("output `{name}` is declared twice"));
        }
    }
    let validator = match def.config_schema.as_ref().map(jsonschema::validator_for) {
        None => None,
        Some(Ok(validator)) => Some(validator),
        Some(Err(e)) => {
            problems.push(format!("its config schema is not a valid JSON Schema: {e}"));
            None
        }
    };
    if problems.is_empty() { Ok(validator) } else { Err(format!("its definition is invalid: {}", problems.join("; "))) }
}

/// Converts metadata from the contract's form.
pub(crate) fn metadata_from_wit(entries: Vec<sandbox::wit::MetadataEntry>) -> Vec<MetadataEntry> {
    use sandbox::wit::MetadataValue as W;
    entries
        .into_iter()
        .map(|e| MetadataEntry {
            label: e.label,
            value: match e.value {
                W::Text(s) => MetadataValue::Text(s),
                W::Markdown(s) => MetadataValue::Markdown(s),
                W::Url(s) => MetadataValue::Url(s),
                W::Path(s) => MetadataValue::Path(s),
                W::Json(s) => MetadataValue::Json(s),
                W::Integer(i) => MetadataValue::Integer(i),
                W::Float(x) => MetadataValue::Float(x),
                W::Boolean(b) => MetadataValue::Boolean(b),
            },
        })
        .collect()
}

/// What one call of a solid outside any pipeline did.
#[derive(Debug)]
pub struct Invocation {
    /// Every output produced, in order.
    pub outputs: Vec<crate::value::Output>,
    /// What the solid reported while it ran: logs, outputs, expectations,
    /// materializations.
    pub events: Vec<crate::event::EventKind>,
    /// Why the call failed, if it did.
    pub error: Option<crate::event::StepError>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl LoadedSolid {
    /// Calls the solid once, in its own sandbox with `limits` and no grants, outside any
    /// pipeline or store: for testing one solid, and for programs that embed weft and
    /// want a solid as a function. `config` is checked against the solid's schema, with
    /// defaults filled in, as a pipeline step's would be.
    ///
    /// # Errors
    /// A message naming the config key at fault when `config` does not fit the schema.
    pub async fn invoke(
        &self,
        engine: &SolidEngine,
        config: &serde_json::Value,
        inputs: Vec<(String, crate::value::Value)>,
        limits: crate::limits::StepLimits,
    ) -> Result<Invocation, String> {
        let mut config = config.clone();
        match (&self.def.config_schema, &self.config_validator) {
            (Some(schema), Some(validator)) => {
                crate::config::fill_defaults(schema, &mut config);
                let errors = crate::config::validate(validator, &config);
                if !errors.is_empty() {
                    let errors: Vec<String> = errors.into_iter().map(|(key, m)| format!("config.{key}: {m}")).collect();
                    return Err(format!("solid `{}`: {}", self.def.name, errors.join("; ")));
                }
            }
            _ if config.as_object().is_some_and(|o| !o.is_empty()) => {
                return Err(format!("solid `{}` takes no config", self.def.name));
            }
            _ => {}
        }
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink: crate::context::EventSink = {
            let events = events.clone();
            Arc::new(move |kind| events.lock().unwrap_or_else(|p| p.into_inner()).push(kind))
        };
        let attempt = sandbox::Attempt {
            run_id: String::new(),
            step_key: self.def.name.clone(),
            attempt: 1,
            partition_key: None,
            config: config.to_string(),
            inputs,
            limits,
            grants: crate::capability::Grants::default(),
            run_started_at: crate::run::now_micros(),
            interrupt: crate::cancel::CancelToken::new(),
        };
        let connections = Arc::new(crate::resource::Connections::default());
        let report = sandbox::run_attempt(engine, self, attempt, sink, connections).await;
        let events = std::mem::take(&mut *events.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(Invocation {
            outputs: report.outputs,
            events,
            error: report.error,
            stdout: report.stdout,
            stderr: report.stderr,
        })
    }
}
