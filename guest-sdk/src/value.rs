//! Values that flow between solids, and how Rust types map onto them.

use crate::bindings::weft::solid::types::{self as wit};
use serde::{Serialize, de::DeserializeOwned};

/// The declared type of an input or output.
pub use wit::ValueType;

/// A value of any weft type, for solids that accept anything (`any`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// A JSON document.
    Json(serde_json::Value),
}

impl Value {
    pub(crate) fn from_wit(value: wit::Value) -> Result<Value, String> {
        Ok(match value {
            wit::Value::Null => Value::Null,
            wit::Value::Boolean(b) => Value::Boolean(b),
            wit::Value::Integer(i) => Value::Integer(i),
            wit::Value::Float(f) => Value::Float(f),
            wit::Value::Text(s) => Value::Text(s),
            wit::Value::Bytes(b) => Value::Bytes(b),
            wit::Value::Json(s) => {
                Value::Json(serde_json::from_str(&s).map_err(|e| format!("invalid JSON value: {e}"))?)
            }
        })
    }

    pub(crate) fn into_wit(self) -> wit::Value {
        match self {
            Value::Null => wit::Value::Null,
            Value::Boolean(b) => wit::Value::Boolean(b),
            Value::Integer(i) => wit::Value::Integer(i),
            Value::Float(f) => wit::Value::Float(f),
            Value::Text(s) => wit::Value::Text(s),
            Value::Bytes(b) => wit::Value::Bytes(b),
            Value::Json(j) => wit::Value::Json(j.to_string()),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Boolean(_) => "boolean",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytes",
            Value::Json(_) => "json",
        }
    }
}

/// A Rust type that travels as one weft value.
pub trait SolidType: Sized {
    /// The weft type this Rust type declares.
    const TYPE: ValueType;
    /// Converts into a weft value.
    fn into_value(self) -> Value;
    /// Converts from a weft value; the error says what was expected and what came.
    fn from_value(value: Value) -> Result<Self, String>;
}

fn mismatch<T>(expected: &str, got: &Value) -> Result<T, String> {
    Err(format!("expected {expected}, got {}", got.kind()))
}

impl SolidType for Value {
    const TYPE: ValueType = ValueType::Any;
    fn into_value(self) -> Value {
        self
    }
    fn from_value(value: Value) -> Result<Self, String> {
        Ok(value)
    }
}

impl SolidType for () {
    const TYPE: ValueType = ValueType::Nothing;
    fn into_value(self) -> Value {
        Value::Null
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(()),
            other => mismatch("null", &other),
        }
    }
}

impl SolidType for bool {
    const TYPE: ValueType = ValueType::Boolean;
    fn into_value(self) -> Value {
        Value::Boolean(self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Boolean(b) => Ok(b),
            other => mismatch("boolean", &other),
        }
    }
}

macro_rules! integer_types {
    ($($t:ty),*) => {$(
        impl SolidType for $t {
            const TYPE: ValueType = ValueType::Integer;
            fn into_value(self) -> Value {
                Value::Integer(i64::try_from(self).expect(concat!(stringify!($t), " value out of the range of a weft integer (i64)")))
            }
            fn from_value(value: Value) -> Result<Self, String> {
                match value {
                    Value::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| format!("integer {i} does not fit in {}", stringify!($t))),
                    other => mismatch("integer", &other),
                }
            }
        }
    )*};
}
integer_types!(i8, i16, i32, i64, u8, u16, u32, u64, isize, usize);

impl SolidType for f64 {
    const TYPE: ValueType = ValueType::Float;
    fn into_value(self) -> Value {
        Value::Float(self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Float(f) => Ok(f),
            Value::Integer(i) => Ok(i as f64),
            other => mismatch("float", &other),
        }
    }
}

impl SolidType for f32 {
    const TYPE: ValueType = ValueType::Float;
    fn into_value(self) -> Value {
        Value::Float(self.into())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        f64::from_value(value).map(|f| f as f32)
    }
}

impl SolidType for String {
    const TYPE: ValueType = ValueType::Text;
    fn into_value(self) -> Value {
        Value::Text(self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s),
            other => mismatch("text", &other),
        }
    }
}

impl SolidType for Vec<u8> {
    const TYPE: ValueType = ValueType::Bytes;
    fn into_value(self) -> Value {
        Value::Bytes(self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Bytes(b) => Ok(b),
            other => mismatch("bytes", &other),
        }
    }
}

impl SolidType for serde_json::Value {
    const TYPE: ValueType = ValueType::Json;
    fn into_value(self) -> Value {
        Value::Json(self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Json(j) => Ok(j),
            other => mismatch("json", &other),
        }
    }
}

/// Any serde type, travelling as a `json` value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize + DeserializeOwned> SolidType for Json<T> {
    const TYPE: ValueType = ValueType::Json;
    fn into_value(self) -> Value {
        Value::Json(serde_json::to_value(self.0).expect("value serializes to JSON"))
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Json(j) => {
                serde_json::from_value(j).map(Json).map_err(|e| format!("json does not match the expected shape: {e}"))
            }
            other => mismatch("json", &other),
        }
    }
}

/// A fan-in input: every value wired to it, in manifest order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Many<T>(pub Vec<T>);

/// How a parameter of a `#[solid]` function is declared and filled.
pub trait Input: Sized {
    /// The weft type of each value.
    const TYPE: ValueType;
    /// True when the step may run without the input.
    const OPTIONAL: bool;
    /// True when the input takes several values.
    const MULTIPLE: bool;
    /// Builds the parameter from the values fed to the input.
    fn from_values(values: Vec<Value>) -> Result<Self, String>;
}

impl<T: SolidType> Input for T {
    const TYPE: ValueType = T::TYPE;
    const OPTIONAL: bool = false;
    const MULTIPLE: bool = false;
    fn from_values(mut values: Vec<Value>) -> Result<Self, String> {
        match values.len() {
            1 => T::from_value(values.pop().expect("one value")),
            0 => Err("no value was fed to this required input".into()),
            n => Err(format!("{n} values were fed to an input that takes one")),
        }
    }
}

impl<T: SolidType> Input for Option<T> {
    const TYPE: ValueType = T::TYPE;
    const OPTIONAL: bool = true;
    const MULTIPLE: bool = false;
    fn from_values(mut values: Vec<Value>) -> Result<Self, String> {
        match values.len() {
            0 => Ok(None),
            1 => T::from_value(values.pop().expect("one value")).map(Some),
            n => Err(format!("{n} values were fed to an input that takes one")),
        }
    }
}

impl<T: SolidType> Input for Many<T> {
    const TYPE: ValueType = T::TYPE;
    const OPTIONAL: bool = true;
    const MULTIPLE: bool = true;
    fn from_values(values: Vec<Value>) -> Result<Self, String> {
        values.into_iter().map(T::from_value).collect::<Result<_, _>>().map(Many)
    }
}

/// One output of a `#[solid]` function: a value, or an optional value.
pub trait OutputValue {
    /// The declared type.
    const TYPE: ValueType;
    /// True when the solid may leave the output unproduced.
    const OPTIONAL: bool;
    /// The produced value, `None` for an optional output left unproduced.
    fn into_output(self) -> Option<Value>;
}

impl<T: SolidType> OutputValue for T {
    const TYPE: ValueType = T::TYPE;
    const OPTIONAL: bool = false;
    fn into_output(self) -> Option<Value> {
        Some(self.into_value())
    }
}

impl<T: SolidType> OutputValue for Option<T> {
    const TYPE: ValueType = T::TYPE;
    const OPTIONAL: bool = true;
    fn into_output(self) -> Option<Value> {
        self.map(SolidType::into_value)
    }
}
