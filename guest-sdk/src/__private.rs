//! Support code for the expansion of `#[solid]`. Not a stable API.

use crate::bindings::weft::solid::types as wit;
use crate::context::Failure;
use crate::value::{Input, OutputValue, Value};

pub use crate::bindings::exports::weft::solid::guest::Guest;
pub use wit::{Failure as WitFailure, NamedValue, ResourceKind, SolidDef};

/// The raw inputs of one `compute` call, taken parameter by parameter.
pub struct Inputs {
    values: Vec<(String, Option<Value>)>,
}

impl Inputs {
    pub fn new(raw: Vec<NamedValue>) -> Result<Inputs, wit::Failure> {
        let mut values = Vec::with_capacity(raw.len());
        for NamedValue { name, value } in raw {
            let value = Value::from_wit(value).map_err(|e| Failure::new(format!("input `{name}`: {e}")).into_wit())?;
            values.push((name, Some(value)));
        }
        Ok(Inputs { values })
    }

    /// Every value fed to `name`, in order, converted to the parameter's type.
    pub fn take<T: Input>(&mut self, name: &str) -> Result<T, wit::Failure> {
        let fed = self.values.iter_mut().filter(|(n, _)| n == name).filter_map(|(_, v)| v.take()).collect();
        T::from_values(fed).map_err(|e| Failure::new(format!("input `{name}`: {e}")).into_wit())
    }
}

pub fn input_def<T: Input>(name: &str, description: &str) -> wit::InputDef {
    wit::InputDef {
        name: name.to_owned(),
        description: description.to_owned(),
        type_: T::TYPE,
        optional: T::OPTIONAL,
        multiple: T::MULTIPLE,
    }
}

pub fn output_def<T: OutputValue>(name: &str, description: &str) -> wit::OutputDef {
    wit::OutputDef { name: name.to_owned(), description: description.to_owned(), type_: T::TYPE, optional: T::OPTIONAL }
}

/// Appends a returned output unless it is an optional one left empty.
pub fn push_output<T: OutputValue>(outputs: &mut Vec<NamedValue>, name: &str, value: T) {
    if let Some(value) = value.into_output() {
        outputs.push(NamedValue { name: name.to_owned(), value: value.into_wit() });
    }
}

pub fn failure(error: impl Into<Failure>) -> wit::Failure {
    error.into().into_wit()
}

#[allow(clippy::too_many_arguments)]
pub fn solid_def(
    name: &str,
    description: &str,
    version: &str,
    inputs: Vec<wit::InputDef>,
    outputs: Vec<wit::OutputDef>,
    config_schema: Option<String>,
    resources: &[(&str, wit::ResourceKind)],
    tags: &[(&str, &str)],
) -> SolidDef {
    SolidDef {
        name: name.to_owned(),
        description: description.to_owned(),
        version: version.to_owned(),
        inputs,
        outputs,
        config_schema,
        resources: resources
            .iter()
            .map(|(name, kind)| wit::ResourceNeed { name: (*name).to_owned(), kind: *kind })
            .collect(),
        tags: tags.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
    }
}

/// The JSON Schema of a config type, with every subschema inlined (the host fills in
/// defaults by walking `properties`).
pub fn config_schema<T: schemars::JsonSchema>() -> String {
    let settings = schemars::generate::SchemaSettings::draft2020_12().with(|s| s.inline_subschemas = true);
    let schema = settings.into_generator().into_root_schema_for::<T>();
    serde_json::to_string(&schema).expect("a schema serializes")
}

/// The step's config, deserialized into the solid's config type.
pub fn config<T: serde::de::DeserializeOwned>() -> Result<T, wit::Failure> {
    crate::Context::new().config::<T>().map_err(Failure::into_wit)
}
