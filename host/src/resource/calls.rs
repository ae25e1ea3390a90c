//! The host side of the resource interfaces: each call's resource name checked against
//! the step's grants, values converted between the contract and the backends.

use super::sql::{Rows, SqlValue, Statement};
use super::{CallError, ResourceGrant, ResourceKind, granted};
use crate::sandbox::StepState;
use crate::sandbox::bindings::weft::solid::{key_value, secrets, sql};
use crate::sandbox::wit::ResourceError;

impl From<CallError> for ResourceError {
    fn from(error: CallError) -> ResourceError {
        match error {
            CallError::Denied(m) => ResourceError::Denied(m),
            CallError::Invalid(m) => ResourceError::Invalid(m),
            CallError::Unavailable(m) => ResourceError::Unavailable(m),
        }
    }
}

type Reply<T> = wasmtime::Result<Result<T, ResourceError>>;

impl StepState {
    /// The grant named `name` if it is of `kind`, cloned so that the call can await
    /// without borrowing the store's data.
    fn grant(&self, name: &str, kind: ResourceKind) -> Result<ResourceGrant, CallError> {
        granted(&self.io.resources, name, kind).cloned().map_err(CallError::Denied)
    }
}

/// Wraps a backend's result for the guest: its errors are values, not traps.
fn reply<T>(result: Result<T, CallError>) -> Reply<T> {
    Ok(result.map_err(ResourceError::from))
}

impl key_value::Host for StepState {
    async fn get(&mut self, store: String, key: String) -> Reply<Option<Vec<u8>>> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&store, ResourceKind::KeyValue);
        reply(async { super::kv::get(&connections, &grant?.backend, key).await }.await)
    }

    async fn set(&mut self, store: String, key: String, value: Vec<u8>) -> Reply<()> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&store, ResourceKind::KeyValue);
        reply(async { super::kv::set(&connections, &grant?.backend, key, value).await }.await)
    }

    async fn delete(&mut self, store: String, key: String) -> Reply<bool> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&store, ResourceKind::KeyValue);
        reply(async { super::kv::delete(&connections, &grant?.backend, key).await }.await)
    }

    async fn keys(&mut self, store: String, prefix: String) -> Reply<Vec<String>> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&store, ResourceKind::KeyValue);
        reply(async { super::kv::keys(&connections, &grant?.backend, prefix).await }.await)
    }

    async fn increment(&mut self, store: String, key: String, delta: i64) -> Reply<i64> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&store, ResourceKind::KeyValue);
        reply(async { super::kv::increment(&connections, &grant?.backend, key, delta).await }.await)
    }
}

fn sql_from_wit(value: sql::SqlValue) -> SqlValue {
    match value {
        sql::SqlValue::Null => SqlValue::Null,
        sql::SqlValue::Integer(n) => SqlValue::Integer(n),
        sql::SqlValue::Float(x) => SqlValue::Float(x),
        sql::SqlValue::Text(s) => SqlValue::Text(s),
        sql::SqlValue::Bytes(b) => SqlValue::Bytes(b),
        sql::SqlValue::Boolean(b) => SqlValue::Boolean(b),
    }
}

fn sql_to_wit(value: SqlValue) -> sql::SqlValue {
    match value {
        SqlValue::Null => sql::SqlValue::Null,
        SqlValue::Integer(n) => sql::SqlValue::Integer(n),
        SqlValue::Float(x) => sql::SqlValue::Float(x),
        SqlValue::Text(s) => sql::SqlValue::Text(s),
        SqlValue::Bytes(b) => sql::SqlValue::Bytes(b),
        SqlValue::Boolean(b) => sql::SqlValue::Boolean(b),
    }
}

fn statement(sql: String, params: Vec<sql::SqlValue>) -> Statement {
    Statement { sql, params: params.into_iter().map(sql_from_wit).collect() }
}

impl sql::Host for StepState {
    async fn query(&mut self, database: String, text: String, params: Vec<sql::SqlValue>) -> Reply<sql::Rows> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&database, ResourceKind::Sql);
        let rows = async { super::sql::query(&connections, &grant?.backend, statement(text, params)).await }.await;
        reply(rows.map(|Rows { columns, rows }| sql::Rows {
            columns,
            rows: rows.into_iter().map(|row| row.into_iter().map(sql_to_wit).collect()).collect(),
        }))
    }

    async fn execute(&mut self, database: String, text: String, params: Vec<sql::SqlValue>) -> Reply<u64> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&database, ResourceKind::Sql);
        reply(async { super::sql::execute(&connections, &grant?.backend, statement(text, params)).await }.await)
    }

    async fn transaction(&mut self, database: String, statements: Vec<sql::Statement>) -> Reply<Vec<u64>> {
        let connections = self.io.connections.clone();
        let grant = self.grant(&database, ResourceKind::Sql);
        let statements = statements.into_iter().map(|s| statement(s.sql, s.params)).collect();
        reply(async { super::sql::transaction(&connections, &grant?.backend, statements).await }.await)
    }
}

impl secrets::Host for StepState {
    fn get(&mut self, resource: String, name: String) -> Reply<String> {
        let grant = self.grant(&resource, ResourceKind::Secrets);
        reply(grant.and_then(|grant| super::secrets::get(&grant.backend, &resource, &name)))
    }
}
