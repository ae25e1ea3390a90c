//! Resources: services a mode binds under names — a key-value store, a SQL database,
//! secrets — that a solid declares with `#[solid(resources(name = kind))]` and reaches
//! through a handle of that name. Outbound HTTP is in [`crate::http`].
//!
//! ```ignore
//! #[solid(resources(database = sql, cache = key_value))]
//! fn count_users() -> Result<i64, Failure> {
//!     let rows = Sql::new("database").query("select count(*) from users where active = $1", &[true.into()])?;
//!     let n = rows.rows[0][0].as_i64().unwrap_or(0);
//!     KeyValue::new("cache").set("users", n.to_string())?;
//!     Ok(n)
//! }
//! ```

use crate::Failure;
use crate::bindings::weft::solid::{key_value, secrets, sql, types};

/// Why a resource call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceError {
    /// The step may not use this resource: the solid does not declare it under this name
    /// and kind.
    Denied(String),
    /// The call was wrong: bad SQL, a parameter of the wrong type, an unknown secret.
    Invalid(String),
    /// The backend failed or could not be reached; trying the step again may succeed.
    Unavailable(String),
}

impl std::fmt::Display for ResourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResourceError::Denied(m) => write!(f, "denied: {m}"),
            ResourceError::Invalid(m) => f.write_str(m),
            ResourceError::Unavailable(m) => write!(f, "unavailable: {m}"),
        }
    }
}

impl From<types::ResourceError> for ResourceError {
    fn from(error: types::ResourceError) -> ResourceError {
        match error {
            types::ResourceError::Denied(m) => ResourceError::Denied(m),
            types::ResourceError::Invalid(m) => ResourceError::Invalid(m),
            types::ResourceError::Unavailable(m) => ResourceError::Unavailable(m),
        }
    }
}

/// A failed resource call fails the step; an unavailable backend makes it retryable.
impl From<ResourceError> for Failure {
    fn from(error: ResourceError) -> Failure {
        let retryable = matches!(error, ResourceError::Unavailable(_));
        let failure = Failure::new(error.to_string());
        if retryable { failure.retryable() } else { failure }
    }
}

/// A key-value store resource: text keys, byte values.
#[derive(Debug, Clone)]
pub struct KeyValue {
    name: String,
}

impl KeyValue {
    /// The key-value store the mode binds under `name`.
    pub fn new(name: &str) -> KeyValue {
        KeyValue { name: name.to_owned() }
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ResourceError> {
        Ok(key_value::get(&self.name, key)?)
    }

    /// The value of `key` as UTF-8 text, if any.
    pub fn get_text(&self, key: &str) -> Result<Option<String>, ResourceError> {
        match self.get(key)? {
            None => Ok(None),
            Some(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| ResourceError::Invalid(format!("the value of `{key}` is not UTF-8 text"))),
        }
    }

    /// Sets `key` to `value`.
    pub fn set(&self, key: &str, value: impl AsRef<[u8]>) -> Result<(), ResourceError> {
        Ok(key_value::set(&self.name, key, value.as_ref())?)
    }

    /// Removes `key`; true when it existed.
    pub fn delete(&self, key: &str) -> Result<bool, ResourceError> {
        Ok(key_value::delete(&self.name, key)?)
    }

    /// The keys starting with `prefix`, in order.
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>, ResourceError> {
        Ok(key_value::keys(&self.name, prefix)?)
    }

    /// Adds `delta` to the counter at `key` (0 when absent) atomically; the new value.
    pub fn increment(&self, key: &str, delta: i64) -> Result<i64, ResourceError> {
        Ok(key_value::increment(&self.name, key, delta)?)
    }
}

/// A SQL parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

impl SqlValue {
    pub fn is_null(&self) -> bool {
        matches!(self, SqlValue::Null)
    }

    /// The integer, if this is one (or a boolean, as SQLite stores them).
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            SqlValue::Integer(n) => Some(*n),
            SqlValue::Boolean(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            SqlValue::Float(x) => Some(*x),
            SqlValue::Integer(n) => Some(*n as f64),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            SqlValue::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            SqlValue::Bytes(b) => Some(b),
            _ => None,
        }
    }

    fn into_wit(self) -> sql::SqlValue {
        match self {
            SqlValue::Null => sql::SqlValue::Null,
            SqlValue::Integer(n) => sql::SqlValue::Integer(n),
            SqlValue::Float(x) => sql::SqlValue::Float(x),
            SqlValue::Text(s) => sql::SqlValue::Text(s),
            SqlValue::Bytes(b) => sql::SqlValue::Bytes(b),
            SqlValue::Boolean(b) => sql::SqlValue::Boolean(b),
        }
    }

    fn from_wit(value: sql::SqlValue) -> SqlValue {
        match value {
            sql::SqlValue::Null => SqlValue::Null,
            sql::SqlValue::Integer(n) => SqlValue::Integer(n),
            sql::SqlValue::Float(x) => SqlValue::Float(x),
            sql::SqlValue::Text(s) => SqlValue::Text(s),
            sql::SqlValue::Bytes(b) => SqlValue::Bytes(b),
            sql::SqlValue::Boolean(b) => SqlValue::Boolean(b),
        }
    }
}

macro_rules! sql_value_from {
    ($($ty:ty => $variant:ident($convert:expr)),* $(,)?) => {
        $(impl From<$ty> for SqlValue {
            fn from(value: $ty) -> SqlValue {
                SqlValue::$variant($convert(value))
            }
        })*
    };
}

sql_value_from! {
    i64 => Integer(|v| v),
    i32 => Integer(i64::from),
    u32 => Integer(i64::from),
    f64 => Float(|v| v),
    bool => Boolean(|v| v),
    String => Text(|v| v),
    &str => Text(str::to_owned),
    Vec<u8> => Bytes(|v| v),
    &[u8] => Bytes(<[u8]>::to_vec),
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(value: Option<T>) -> SqlValue {
        value.map_or(SqlValue::Null, Into::into)
    }
}

/// The rows a query returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
}

impl Rows {
    /// The value in column `column` of row `row`.
    pub fn get(&self, row: usize, column: &str) -> Option<&SqlValue> {
        let index = self.columns.iter().position(|c| c == column)?;
        self.rows.get(row)?.get(index)
    }
}

/// A SQL database resource. Parameters are `$1`, `$2`, ... on every backend.
#[derive(Debug, Clone)]
pub struct Sql {
    name: String,
}

fn params(values: &[SqlValue]) -> Vec<sql::SqlValue> {
    values.iter().cloned().map(SqlValue::into_wit).collect()
}

impl Sql {
    /// The SQL database the mode binds under `name`.
    pub fn new(name: &str) -> Sql {
        Sql { name: name.to_owned() }
    }

    /// Runs a statement that returns rows.
    pub fn query(&self, statement: &str, values: &[SqlValue]) -> Result<Rows, ResourceError> {
        let found = sql::query(&self.name, statement, &params(values))?;
        Ok(Rows {
            columns: found.columns,
            rows: found.rows.into_iter().map(|row| row.into_iter().map(SqlValue::from_wit).collect()).collect(),
        })
    }

    /// Runs a statement; how many rows it changed.
    pub fn execute(&self, statement: &str, values: &[SqlValue]) -> Result<u64, ResourceError> {
        Ok(sql::execute(&self.name, statement, &params(values))?)
    }

    /// Runs statements in one transaction, all or none; how many rows each changed.
    pub fn transaction(&self, statements: &[(&str, &[SqlValue])]) -> Result<Vec<u64>, ResourceError> {
        let statements: Vec<sql::Statement> = statements
            .iter()
            .map(|(text, values)| sql::Statement { sql: (*text).to_owned(), params: params(values) })
            .collect();
        Ok(sql::transaction(&self.name, &statements)?)
    }
}

/// A secrets resource: values the mode reads from the host's environment.
#[derive(Debug, Clone)]
pub struct Secrets {
    name: String,
}

impl Secrets {
    /// The secrets the mode binds under `name`.
    pub fn new(name: &str) -> Secrets {
        Secrets { name: name.to_owned() }
    }

    /// The secret `key`. The host masks its value in logs and failures; do not put it in
    /// an output, which is stored as is.
    pub fn get(&self, key: &str) -> Result<String, ResourceError> {
        Ok(secrets::get(&self.name, key)?)
    }
}
