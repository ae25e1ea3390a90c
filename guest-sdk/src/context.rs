//! The step's context: logging, identity, config, yielded outputs and events.

use crate::bindings::weft::solid::{context as host, types as wit};
use crate::value::SolidType;
use serde::de::DeserializeOwned;

/// The severity of a log message.
pub use wit::LogLevel;

/// What the host offers a solid while it computes. `#[solid]` passes it to the function
/// when the function takes a `&Context` parameter.
#[derive(Debug, Default)]
pub struct Context {
    _private: (),
}

impl Context {
    #[doc(hidden)]
    pub fn new() -> Context {
        Context { _private: () }
    }

    /// Records a log message in the run's event log.
    pub fn log(&self, level: LogLevel, message: &str) {
        host::log(level, message);
    }

    /// Logs at debug level.
    pub fn debug(&self, message: &str) {
        self.log(LogLevel::Debug, message);
    }

    /// Logs at info level.
    pub fn info(&self, message: &str) {
        self.log(LogLevel::Info, message);
    }

    /// Logs at warn level.
    pub fn warn(&self, message: &str) {
        self.log(LogLevel::Warn, message);
    }

    /// Logs at error level.
    pub fn error(&self, message: &str) {
        self.log(LogLevel::Error, message);
    }

    /// The id of the run this step belongs to.
    pub fn run_id(&self) -> String {
        host::run_id()
    }

    /// The step's key (the solid instance's alias in the pipeline).
    pub fn step_key(&self) -> String {
        host::step_key()
    }

    /// Which attempt of the step this is: 1 for the first, 2 for the first retry, ...
    pub fn attempt(&self) -> u32 {
        host::attempt()
    }

    /// The partition this run computes, if any.
    pub fn partition_key(&self) -> Option<String> {
        host::partition_key()
    }

    /// The validated config (defaults filled in) as JSON.
    pub fn config_json(&self) -> serde_json::Value {
        serde_json::from_str(&host::config()).expect("the host passes config as valid JSON")
    }

    /// The validated config, deserialized into `T`.
    ///
    /// # Errors
    /// A [`Failure`] naming the mismatch when the config does not fit `T`.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T, Failure> {
        serde_json::from_str(&host::config())
            .map_err(|e| Failure::new(format!("config does not fit the solid's type: {e}")))
    }

    /// Produces an output now, before the function returns.
    ///
    /// # Errors
    /// A [`Failure`] when `name` is not a declared output, the value has the wrong type,
    /// or the output was already produced.
    pub fn yield_output(&self, name: &str, value: impl SolidType) -> Result<(), Failure> {
        host::yield_output(name, &value.into_value().into_wit())
            .map_err(|message| Failure::new(format!("yield of output `{name}` refused: {message}")))
    }

    /// Records the result of a data-quality check. A failed expectation does not fail the
    /// step; return a [`Failure`] for that.
    pub fn report_expectation(&self, expectation: ExpectationResult) {
        host::report_expectation(&expectation.into_wit());
    }

    /// Records that the solid materialized an asset.
    pub fn report_materialization(&self, materialization: Materialization) {
        host::report_materialization(&materialization.into_wit());
    }
}

/// A metadata value attached to failures, expectations and materializations.
#[derive(Debug, Clone, PartialEq)]
pub enum Metadata {
    Text(String),
    Markdown(String),
    Url(String),
    Path(String),
    Json(serde_json::Value),
    Integer(i64),
    Float(f64),
    Boolean(bool),
}

impl Metadata {
    fn into_wit(self) -> wit::MetadataValue {
        match self {
            Metadata::Text(s) => wit::MetadataValue::Text(s),
            Metadata::Markdown(s) => wit::MetadataValue::Markdown(s),
            Metadata::Url(s) => wit::MetadataValue::Url(s),
            Metadata::Path(s) => wit::MetadataValue::Path(s),
            Metadata::Json(j) => wit::MetadataValue::Json(j.to_string()),
            Metadata::Integer(i) => wit::MetadataValue::Integer(i),
            Metadata::Float(f) => wit::MetadataValue::Float(f),
            Metadata::Boolean(b) => wit::MetadataValue::Boolean(b),
        }
    }
}

impl From<&str> for Metadata {
    fn from(s: &str) -> Metadata {
        Metadata::Text(s.to_owned())
    }
}
impl From<String> for Metadata {
    fn from(s: String) -> Metadata {
        Metadata::Text(s)
    }
}
impl From<i64> for Metadata {
    fn from(i: i64) -> Metadata {
        Metadata::Integer(i)
    }
}
impl From<f64> for Metadata {
    fn from(f: f64) -> Metadata {
        Metadata::Float(f)
    }
}
impl From<bool> for Metadata {
    fn from(b: bool) -> Metadata {
        Metadata::Boolean(b)
    }
}

fn entries(metadata: Vec<(String, Metadata)>) -> Vec<wit::MetadataEntry> {
    metadata.into_iter().map(|(label, value)| wit::MetadataEntry { label, value: value.into_wit() }).collect()
}

/// A structured failure: the step fails with this message and metadata.
///
/// Any error type converts into a `Failure`, so `?` works inside a solid.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub retryable: bool,
    pub metadata: Vec<(String, Metadata)>,
}

impl Failure {
    /// A failure that is not worth retrying.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure { message: message.into(), retryable: false, metadata: Vec::new() }
    }

    /// Marks the failure as one that trying again might fix.
    pub fn retryable(mut self) -> Failure {
        self.retryable = true;
        self
    }

    /// Attaches a metadata entry.
    pub fn with(mut self, label: impl Into<String>, value: impl Into<Metadata>) -> Failure {
        self.metadata.push((label.into(), value.into()));
        self
    }

    #[doc(hidden)]
    pub fn into_wit(self) -> wit::Failure {
        wit::Failure { message: self.message, retryable: self.retryable, metadata: entries(self.metadata) }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Failure {
        Failure::new(error.to_string())
    }
}

/// The result of a data-quality check (Dagster's ExpectationResult).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectationResult {
    pub success: bool,
    pub label: String,
    pub description: Option<String>,
    pub metadata: Vec<(String, Metadata)>,
}

impl ExpectationResult {
    /// A check named `label` that held (`success`) or not.
    pub fn new(label: impl Into<String>, success: bool) -> ExpectationResult {
        ExpectationResult { success, label: label.into(), description: None, metadata: Vec::new() }
    }

    /// Says what was checked.
    pub fn description(mut self, description: impl Into<String>) -> ExpectationResult {
        self.description = Some(description.into());
        self
    }

    /// Attaches a metadata entry.
    pub fn with(mut self, label: impl Into<String>, value: impl Into<Metadata>) -> Self {
        self.metadata.push((label.into(), value.into()));
        self
    }

    fn into_wit(self) -> wit::ExpectationResult {
        wit::ExpectationResult {
            success: self.success,
            label: self.label,
            description: self.description,
            metadata: entries(self.metadata),
        }
    }
}

/// A record that the solid produced an asset (Dagster's AssetMaterialization).
#[derive(Debug, Clone, PartialEq)]
pub struct Materialization {
    pub asset_key: String,
    pub description: Option<String>,
    pub metadata: Vec<(String, Metadata)>,
}

impl Materialization {
    /// A materialization of the asset `asset_key` (segments joined by `/`).
    pub fn new(asset_key: impl Into<String>) -> Materialization {
        Materialization { asset_key: asset_key.into(), description: None, metadata: Vec::new() }
    }

    /// Says what was materialized.
    pub fn description(mut self, description: impl Into<String>) -> Materialization {
        self.description = Some(description.into());
        self
    }

    /// Attaches a metadata entry.
    pub fn with(mut self, label: impl Into<String>, value: impl Into<Metadata>) -> Self {
        self.metadata.push((label.into(), value.into()));
        self
    }

    fn into_wit(self) -> wit::Materialization {
        wit::Materialization {
            asset_key: self.asset_key,
            description: self.description,
            metadata: entries(self.metadata),
        }
    }
}
