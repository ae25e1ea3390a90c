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
    /// Shared, not copied, as it passes from a step to its dependents and the store.
    Bytes(bytes::Bytes),
    /// A JSON document, kept as the text the solid produced (checked to parse).
    Json(String),
}

/// An output a step produced: its name, its value, and the value's digest, computed once
/// when the output is accepted and used by the store, memoization and version keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    pub name: String,
    pub value: Value,
    pub digest: blake3::Hash,
}

impl Output {
    pub fn new(name: String, value: Value) -> Output {
        let digest = value.digest();
        Output { name, value, digest }
    }
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

    /// The size of the value's payload in bytes.
    pub fn size(&self) -> usize {
        match self {
            Value::Null => 0,
            Value::Boolean(_) => 1,
            Value::Integer(_) | Value::Float(_) => 8,
            Value::Text(s) | Value::Json(s) => s.len(),
            Value::Bytes(b) => b.len(),
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

    /// The encoding for the blob table, in two parts: one tag byte, then the payload.
    fn encoding(&self) -> (u8, std::borrow::Cow<'_, [u8]>) {
        use std::borrow::Cow::{Borrowed, Owned};
        match self {
            Value::Null => (0, Borrowed(&[])),
            Value::Boolean(b) => (1, Borrowed(if *b { &[1] } else { &[0] })),
            Value::Integer(i) => (2, Owned(i.to_le_bytes().to_vec())),
            Value::Float(x) => (3, Owned(x.to_le_bytes().to_vec())),
            Value::Text(s) => (4, Borrowed(s.as_bytes())),
            Value::Bytes(b) => (5, Borrowed(b)),
            Value::Json(j) => (6, Borrowed(j.as_bytes())),
        }
    }

    /// Encodes the value for the blob table: one tag byte, then the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![0; self.encoded_len()];
        self.encode_into(&mut out);
        out
    }

    /// The length of [`Value::encode`]'s result.
    pub fn encoded_len(&self) -> usize {
        1 + self.size()
    }

    /// Writes the encoding into `out`, which is [`Value::encoded_len`] bytes long: into
    /// the store's page, say, without an intermediate copy.
    pub fn encode_into(&self, out: &mut [u8]) {
        let (tag, payload) = self.encoding();
        out[0] = tag;
        out[1..].copy_from_slice(&payload);
    }

    /// The BLAKE3 of the encoding: the value's key in the blob table.
    pub fn digest(&self) -> blake3::Hash {
        let (tag, payload) = self.encoding();
        let mut hasher = blake3::Hasher::new();
        hasher.update(&[tag]);
        // Large values hash on every core: this is most of what a big output costs.
        if payload.len() >= 1 << 20 {
            hasher.update_rayon(&payload);
        } else {
            hasher.update(&payload);
        }
        hasher.finalize()
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
            5 => Value::Bytes(bytes::Bytes::copy_from_slice(payload)),
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
            Value::Bytes(vec![0, 255, 7].into()),
            Value::Json(r#"{"a":[1,2]}"#.into()),
        ];
        for value in values {
            let encoded = value.encode();
            assert_eq!(encoded.len(), value.encoded_len());
            assert_eq!(value.digest(), blake3::hash(&encoded));
            assert_eq!(Value::decode(&encoded), Some(value));
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
