//! Values that flow between solids, their declared types, and their stored encoding.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value produced by one solid's output and fed to another's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Value {
    Null,
    Boolean(bool),
    Integer(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    /// A JSON document, kept as the text the solid produced (checked to parse).
    Json(String),
}

/// The declared type of an input or output (the contract's `value-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Any,
    Nothing,
    Boolean,
    Integer,
    Float,
    Text,
    Bytes,
    Json,
}

impl ValueType {
    /// Whether a value of type `self` may feed an input declared as `input`. `any` on
    /// either side is accepted here and checked value by value at run time.
    pub fn can_feed(self, input: ValueType) -> bool {
        use ValueType::*;
        self == input || self == Any || input == Any || (self == Integer && input == Float)
    }

    /// Whether `value` has this type.
    pub fn admits(self, value: &Value) -> bool {
        matches!(
            (self, value),
            (ValueType::Any, _)
                | (ValueType::Nothing, Value::Null)
                | (ValueType::Boolean, Value::Boolean(_))
                | (ValueType::Integer, Value::Integer(_))
                | (ValueType::Float, Value::Float(_) | Value::Integer(_))
                | (ValueType::Text, Value::Text(_))
                | (ValueType::Bytes, Value::Bytes(_))
                | (ValueType::Json, Value::Json(_))
        )
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ValueType::Any => "any",
            ValueType::Nothing => "nothing",
            ValueType::Boolean => "boolean",
            ValueType::Integer => "integer",
            ValueType::Float => "float",
            ValueType::Text => "text",
            ValueType::Bytes => "bytes",
            ValueType::Json => "json",
        };
        f.write_str(name)
    }
}

impl Value {
    /// The name of the value's kind, as used in messages.
    pub fn kind(&self) -> &'static str {
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

    /// A short, printable preview of the value (at most about `max` characters).
    pub fn preview(&self, max: usize) -> String {
        let full = match self {
            Value::Null => "null".to_owned(),
            Value::Boolean(b) => b.to_string(),
            Value::Integer(i) => i.to_string(),
            Value::Float(x) => x.to_string(),
            Value::Text(s) => format!("{s:?}"),
            Value::Bytes(b) => format!("<{} bytes>", b.len()),
            Value::Json(j) => j.clone(),
        };
        if full.chars().count() <= max {
            full
        } else {
            let cut: String = full.chars().take(max).collect();
            format!("{cut}…")
        }
    }

    /// Encodes the value for the blob table: one tag byte, then the payload.
    pub fn encode(&self) -> Vec<u8> {
        let (tag, payload): (u8, &[u8]) = match self {
            Value::Null => (0, &[]),
            Value::Boolean(b) => (1, if *b { &[1] } else { &[0] }),
            Value::Integer(i) => return [&[2u8][..], &i.to_le_bytes()].concat(),
            Value::Float(x) => return [&[3u8][..], &x.to_le_bytes()].concat(),
            Value::Text(s) => (4, s.as_bytes()),
            Value::Bytes(b) => (5, b),
            Value::Json(j) => (6, j.as_bytes()),
        };
        let mut out = Vec::with_capacity(1 + payload.len());
        out.push(tag);
        out.extend_from_slice(payload);
        out
    }

    /// Decodes what [`Value::encode`] wrote; `None` when the bytes are not such an encoding.
    pub fn decode(bytes: &[u8]) -> Option<Value> {
        let (&tag, payload) = bytes.split_first()?;
        Some(match tag {
            0 if payload.is_empty() => Value::Null,
            1 if payload.len() == 1 => Value::Boolean(payload[0] != 0),
            2 => Value::Integer(i64::from_le_bytes(payload.try_into().ok()?)),
            3 => Value::Float(f64::from_le_bytes(payload.try_into().ok()?)),
            4 => Value::Text(String::from_utf8(payload.to_vec()).ok()?),
            5 => Value::Bytes(payload.to_vec()),
            6 => Value::Json(String::from_utf8(payload.to_vec()).ok()?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_value_survives_encoding() {
        let values = [
            Value::Null,
            Value::Boolean(true),
            Value::Integer(-42),
            Value::Float(2.5),
            Value::Text("héllo".into()),
            Value::Bytes(vec![0, 255, 7]),
            Value::Json(r#"{"a":[1,2]}"#.into()),
        ];
        for value in values {
            assert_eq!(Value::decode(&value.encode()), Some(value));
        }
    }

    #[test]
    fn garbage_does_not_decode() {
        assert_eq!(Value::decode(&[]), None);
        assert_eq!(Value::decode(&[9, 1]), None);
        assert_eq!(Value::decode(&[2, 1, 2]), None);
    }

    #[test]
    fn integers_widen_to_floats_but_not_back() {
        assert!(ValueType::Integer.can_feed(ValueType::Float));
        assert!(!ValueType::Float.can_feed(ValueType::Integer));
        assert!(ValueType::Float.admits(&Value::Integer(3)));
        assert!(!ValueType::Integer.admits(&Value::Float(3.0)));
    }
}
