//! The host side of `weft:solid/context`: what a solid may ask and tell the host while
//! `compute` runs, with its outputs checked against the declaration and its budgets.

use crate::event::{EventKind, LogLevel};
use crate::limits::StepLimits;
use crate::resource::secrets::Mask;
use crate::resource::{Connections, ResourceGrant, ResourceKind};
use crate::sandbox::bindings;
use crate::sandbox::wit;
use crate::sandbox::{StepState, Violation};
use crate::solid::{SolidDef, metadata_from_wit};
use crate::value::{Output, Value, ValueType};
use std::sync::Arc;

/// Receives the events a solid emits while it runs (logs, outputs, expectations...).
pub(crate) type EventSink = Arc<dyn Fn(EventKind) + Send + Sync>;

/// What one attempt is given and what it has produced so far.
pub(crate) struct StepIo {
    pub run_id: String,
    pub step_key: String,
    pub attempt: u32,
    pub partition_key: Option<String>,
    pub config: String,
    /// `None` while `describe` runs.
    pub def: Option<Arc<SolidDef>>,
    pub limits: StepLimits,
    pub produced: Vec<Output>,
    pub produced_bytes: u64,
    pub log_bytes: u64,
    pub sink: Option<EventSink>,
    /// The resources the step may use, and the run's open connections to them.
    pub resources: Vec<ResourceGrant>,
    pub connections: Arc<Connections>,
    /// Masks the step's secrets in what it logs.
    pub mask: Mask,
}

/// Why an output was not accepted.
pub(crate) enum Refusal {
    /// A breach of the contract the solid can be told about (and may recover from).
    Contract(String),
    /// A limit: the step ends.
    Limit(Violation),
}

impl StepIo {
    pub fn emit(&self, kind: EventKind) {
        if let Some(sink) = &self.sink {
            sink(kind);
        }
    }

    /// Accepts an output if it is declared, of its declared type, new, and within the
    /// size limits, and records its event.
    pub fn accept_output(&mut self, name: String, value: Value) -> Result<(), Refusal> {
        let def = self.def.as_ref().ok_or(Refusal::Contract("outputs cannot be produced during `describe`".into()))?;
        let Some(output) = def.output(&name) else {
            let declared: Vec<&str> = def.outputs.iter().map(|o| o.name.as_str()).collect();
            return Err(Refusal::Contract(format!(
                "`{name}` is not a declared output (declared: {})",
                declared.join(", ")
            )));
        };
        if !output.ty.admits(&value) {
            return Err(Refusal::Contract(format!(
                "output `{name}` is declared {} but got {}",
                output.ty,
                value.kind()
            )));
        }
        if self.produced.iter().any(|o| o.name == name) {
            return Err(Refusal::Contract(format!("output `{name}` was already produced")));
        }
        let size = value.encoded_len() as u64;
        if size > self.limits.output_size {
            return Err(Refusal::Limit(Violation::OutputTooLarge(format!(
                "output `{name}` is {size} bytes, over the limit of {} per output",
                self.limits.output_size
            ))));
        }
        if self.produced_bytes + size > self.limits.outputs_size {
            return Err(Refusal::Limit(Violation::OutputTooLarge(format!(
                "the step's outputs reach {} bytes with `{name}`, over the limit of {} per step",
                self.produced_bytes + size,
                self.limits.outputs_size
            ))));
        }
        self.produced_bytes += size;
        let output = Output::new(name, value);
        self.emit(EventKind::StepOutput {
            output: output.name.clone(),
            value_type: output.value.kind().to_owned(),
            digest: output.digest.to_hex().to_string(),
            size,
            preview: output.value.preview(80),
        });
        self.produced.push(output);
        Ok(())
    }

    /// The declared outputs that were not produced and are not optional.
    pub fn missing_outputs(&self) -> Vec<&str> {
        let Some(def) = &self.def else { return Vec::new() };
        def.outputs
            .iter()
            .filter(|o| !o.optional && !self.produced.iter().any(|p| p.name == o.name))
            .map(|o| o.name.as_str())
            .collect()
    }
}

impl bindings::weft::solid::types::Host for StepState {}

impl bindings::weft::solid::context::Host for StepState {
    fn log(&mut self, level: wit::LogLevel, message: String) -> wasmtime::Result<()> {
        let io = &mut self.io;
        io.log_bytes += message.len() as u64;
        if io.log_bytes > io.limits.log_bytes {
            let limit = io.limits.log_bytes;
            return Err(wasmtime::Error::new(Violation::LogLimit(format!(
                "the step logged more than its limit of {limit} bytes of messages"
            ))));
        }
        let level = match level {
            wit::LogLevel::Trace => LogLevel::Trace,
            wit::LogLevel::Debug => LogLevel::Debug,
            wit::LogLevel::Info => LogLevel::Info,
            wit::LogLevel::Warn => LogLevel::Warn,
            wit::LogLevel::Error => LogLevel::Error,
        };
        let message = io.mask.text(message);
        io.emit(EventKind::Log { level, message });
        Ok(())
    }

    fn run_id(&mut self) -> wasmtime::Result<String> {
        Ok(self.io.run_id.clone())
    }

    fn step_key(&mut self) -> wasmtime::Result<String> {
        Ok(self.io.step_key.clone())
    }

    fn attempt(&mut self) -> wasmtime::Result<u32> {
        Ok(self.io.attempt)
    }

    fn partition_key(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.io.partition_key.clone())
    }

    fn config(&mut self) -> wasmtime::Result<String> {
        Ok(self.io.config.clone())
    }

    fn yield_output(&mut self, name: String, value: wit::Value) -> wasmtime::Result<Result<(), String>> {
        let value = match value_from_wit(value) {
            Ok(value) => value,
            Err(message) => return Ok(Err(message)),
        };
        match self.io.accept_output(name, value) {
            Ok(()) => Ok(Ok(())),
            Err(Refusal::Contract(message)) => Ok(Err(message)),
            Err(Refusal::Limit(violation)) => Err(wasmtime::Error::new(violation)),
        }
    }

    fn report_expectation(&mut self, result: wit::ExpectationResult) -> wasmtime::Result<()> {
        self.io.emit(EventKind::Expectation {
            success: result.success,
            label: result.label,
            description: result.description,
            metadata: metadata_from_wit(result.metadata),
        });
        Ok(())
    }

    fn report_materialization(&mut self, m: wit::Materialization) -> wasmtime::Result<()> {
        self.io.emit(EventKind::Materialization {
            asset_key: m.asset_key,
            description: m.description,
            metadata: metadata_from_wit(m.metadata),
        });
        Ok(())
    }
}

pub(crate) fn value_from_wit(value: wit::Value) -> Result<Value, String> {
    Ok(match value {
        wit::Value::Null => Value::Null,
        wit::Value::Boolean(b) => Value::Boolean(b),
        wit::Value::Integer(i) => Value::Integer(i),
        wit::Value::Float(x) => Value::Float(x),
        wit::Value::Text(s) => Value::Text(s),
        wit::Value::Bytes(b) => Value::Bytes(b.into()),
        wit::Value::Json(s) => {
            serde_json::from_str::<serde::de::IgnoredAny>(&s).map_err(|e| format!("invalid JSON: {e}"))?;
            Value::Json(s)
        }
    })
}

pub(crate) fn value_to_wit(value: &Value) -> wit::Value {
    match value {
        Value::Null => wit::Value::Null,
        Value::Boolean(b) => wit::Value::Boolean(*b),
        Value::Integer(i) => wit::Value::Integer(*i),
        Value::Float(x) => wit::Value::Float(*x),
        Value::Text(s) => wit::Value::Text(s.clone()),
        // The one copy the host makes of an input: the generated binding owns its list.
        Value::Bytes(b) => wit::Value::Bytes(b.to_vec()),
        Value::Json(s) => wit::Value::Json(s.clone()),
    }
}

pub(crate) fn type_from_wit(ty: wit::ValueType) -> ValueType {
    match ty {
        wit::ValueType::Any => ValueType::Any,
        wit::ValueType::Nothing => ValueType::Nothing,
        wit::ValueType::Boolean => ValueType::Boolean,
        wit::ValueType::Integer => ValueType::Integer,
        wit::ValueType::Float => ValueType::Float,
        wit::ValueType::Text => ValueType::Text,
        wit::ValueType::Bytes => ValueType::Bytes,
        wit::ValueType::Json => ValueType::Json,
    }
}

pub(crate) fn kind_from_wit(kind: wit::ResourceKind) -> ResourceKind {
    match kind {
        wit::ResourceKind::KeyValue => ResourceKind::KeyValue,
        wit::ResourceKind::Sql => ResourceKind::Sql,
        wit::ResourceKind::Http => ResourceKind::Http,
        wit::ResourceKind::Secrets => ResourceKind::Secrets,
    }
}
