//! The SQL interface on its two backends: SQLite (a file on the host) and PostgreSQL.
//! Statements take parameters as `$1`, `$2`, ... on both (rewritten to SQLite's `?1`),
//! bound apart from the text. Values convert to the column's type where that loses
//! nothing (an integer into `int4`, text into `json`); anything else is refused with the
//! parameter's position and both types.

use super::{Backend, CallError, Connections};
use bytes::BytesMut;
use std::path::Path;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

impl SqlValue {
    fn kind(&self) -> &'static str {
        match self {
            SqlValue::Null => "null",
            SqlValue::Integer(_) => "integer",
            SqlValue::Float(_) => "float",
            SqlValue::Text(_) => "text",
            SqlValue::Bytes(_) => "bytes",
            SqlValue::Boolean(_) => "boolean",
        }
    }
}

/// Column names and rows of values.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
}

/// A statement and its parameters.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub sql: String,
    pub params: Vec<SqlValue>,
}

pub(crate) async fn query(
    connections: &Connections,
    backend: &Backend,
    statement: Statement,
) -> Result<Rows, CallError> {
    match backend {
        Backend::Sqlite { path } => with_sqlite(connections, path, move |c| sqlite_query(c, &statement)).await,
        Backend::Postgres { url } => {
            let client = connections.take_postgres(&url.0).await.map_err(CallError::Unavailable)?;
            let result = pg_query(&client, &statement).await;
            connections.put_postgres(&url.0, client);
            result
        }
        _ => unreachable!("the grant's kind was checked"),
    }
}

pub(crate) async fn execute(
    connections: &Connections,
    backend: &Backend,
    statement: Statement,
) -> Result<u64, CallError> {
    Ok(transaction(connections, backend, vec![statement]).await?[0])
}

/// Runs `statements` in one transaction; a failure names the statement (from 1) and
/// undoes the others.
pub(crate) async fn transaction(
    connections: &Connections,
    backend: &Backend,
    statements: Vec<Statement>,
) -> Result<Vec<u64>, CallError> {
    let single = statements.len() == 1;
    let numbered = move |i: usize, e: CallError| match e {
        CallError::Invalid(m) if !single => CallError::Invalid(format!("statement {}: {m}", i + 1)),
        other => other,
    };
    match backend {
        Backend::Sqlite { path } => {
            with_sqlite(connections, path, move |c| {
                let tx = c.transaction().map_err(sqlite_error)?;
                let mut changed = Vec::with_capacity(statements.len());
                for (i, statement) in statements.iter().enumerate() {
                    changed.push(sqlite_execute(&tx, statement).map_err(|e| numbered(i, e))?);
                }
                tx.commit().map_err(sqlite_error)?;
                Ok(changed)
            })
            .await
        }
        Backend::Postgres { url } => {
            let mut client = connections.take_postgres(&url.0).await.map_err(CallError::Unavailable)?;
            let result = async {
                let tx = client.transaction().await.map_err(pg_error)?;
                let mut changed = Vec::with_capacity(statements.len());
                for (i, statement) in statements.iter().enumerate() {
                    changed.push(pg_execute(&tx, statement).await.map_err(|e| numbered(i, e))?);
                }
                tx.commit().await.map_err(pg_error)?;
                Ok(changed)
            }
            .await;
            connections.put_postgres(&url.0, client);
            result
        }
        _ => unreachable!("the grant's kind was checked"),
    }
}

fn wrong_count(expected: usize, given: usize) -> CallError {
    CallError::Invalid(format!("the statement takes {expected} parameter(s) but {given} were given"))
}

// --- SQLite ---

/// Runs `work` on an idle connection to `path`, off the async threads.
async fn with_sqlite<T: Send + 'static>(
    connections: &Connections,
    path: &Path,
    work: impl FnOnce(&mut rusqlite::Connection) -> Result<T, CallError> + Send + 'static,
) -> Result<T, CallError> {
    let mut connection = connections.take_sqlite(path).map_err(CallError::Unavailable)?;
    let (connection, result) = tokio::task::spawn_blocking(move || {
        let result = work(&mut connection);
        (connection, result)
    })
    .await
    .map_err(|e| CallError::Unavailable(format!("the SQLite call failed: {e}")))?;
    connections.put_sqlite(path, connection);
    result
}

/// Rewrites `$1` placeholders to SQLite's `?1`, leaving quoted text and comments alone.
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => {
                    quote = Some(c);
                    out.push(c);
                }
                '-' if chars.peek() == Some(&'-') => {
                    out.push(c);
                    while let Some(&next) = chars.peek().filter(|n| **n != '\n') {
                        out.push(next);
                        chars.next();
                    }
                }
                '$' if chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
                _ => out.push(c),
            },
        }
    }
    out
}

fn sqlite_prepare<'c>(
    connection: &'c rusqlite::Connection,
    statement: &Statement,
) -> Result<rusqlite::Statement<'c>, CallError> {
    let mut prepared = connection.prepare(&sqlite_placeholders(&statement.sql)).map_err(sqlite_error)?;
    if prepared.parameter_count() != statement.params.len() {
        return Err(wrong_count(prepared.parameter_count(), statement.params.len()));
    }
    for (i, param) in statement.params.iter().enumerate() {
        let value = match param {
            SqlValue::Null => rusqlite::types::Value::Null,
            SqlValue::Integer(n) => rusqlite::types::Value::Integer(*n),
            SqlValue::Float(x) => rusqlite::types::Value::Real(*x),
            SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
            SqlValue::Bytes(b) => rusqlite::types::Value::Blob(b.clone()),
            SqlValue::Boolean(b) => rusqlite::types::Value::Integer(i64::from(*b)),
        };
        prepared.raw_bind_parameter(i + 1, value).map_err(sqlite_error)?;
    }
    Ok(prepared)
}

fn sqlite_query(connection: &mut rusqlite::Connection, statement: &Statement) -> Result<Rows, CallError> {
    let mut prepared = sqlite_prepare(connection, statement)?;
    let columns: Vec<String> = prepared.column_names().into_iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    let mut cursor = prepared.raw_query();
    while let Some(row) = cursor.next().map_err(sqlite_error)? {
        let mut values = Vec::with_capacity(columns.len());
        for (i, column) in columns.iter().enumerate() {
            use rusqlite::types::ValueRef;
            values.push(match row.get_ref(i).map_err(sqlite_error)? {
                ValueRef::Null => SqlValue::Null,
                ValueRef::Integer(n) => SqlValue::Integer(n),
                ValueRef::Real(x) => SqlValue::Float(x),
                ValueRef::Text(bytes) => SqlValue::Text(
                    String::from_utf8(bytes.to_vec())
                        .map_err(|_| CallError::Invalid(format!("column `{column}` holds text that is not UTF-8")))?,
                ),
                ValueRef::Blob(bytes) => SqlValue::Bytes(bytes.to_vec()),
            });
        }
        rows.push(values);
    }
    Ok(Rows { columns, rows })
}

fn sqlite_execute(connection: &rusqlite::Connection, statement: &Statement) -> Result<u64, CallError> {
    let mut prepared = sqlite_prepare(connection, statement)?;
    let changed = prepared.raw_execute().map_err(sqlite_error)?;
    Ok(changed as u64)
}

fn sqlite_error(error: rusqlite::Error) -> CallError {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseBusy, DatabaseLocked, DiskFull, SystemIoFailure};
    match error.sqlite_error_code() {
        Some(DatabaseBusy | DatabaseLocked | CannotOpen | DiskFull | SystemIoFailure) => {
            CallError::Unavailable(format!("SQLite: {error}"))
        }
        _ => CallError::Invalid(format!("SQLite: {error}")),
    }
}

// --- PostgreSQL ---

/// A parameter converted to whatever type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
struct PgParam<'a>(&'a SqlValue);

/// A parameter that does not fit its placeholder's type: the caller's mistake.
#[derive(Debug)]
struct ParamError(String);

impl std::fmt::Display for ParamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParamError {}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let refuse = || -> BoxError { Box::new(ParamError(format!("a {} cannot be sent as {ty}", self.0.kind()))) };
        let range = |n: &i64| -> BoxError { Box::new(ParamError(format!("{n} does not fit in {ty}"))) };
        match (self.0, ty) {
            (SqlValue::Null, _) => Ok(IsNull::Yes),
            (SqlValue::Integer(n), &Type::INT2) => i16::try_from(*n).map_err(|_| range(n))?.to_sql(ty, out),
            (SqlValue::Integer(n), &Type::INT4) => i32::try_from(*n).map_err(|_| range(n))?.to_sql(ty, out),
            (SqlValue::Integer(n), &Type::INT8) => n.to_sql(ty, out),
            (SqlValue::Integer(n), &Type::FLOAT8) => (*n as f64).to_sql(ty, out),
            (SqlValue::Float(x), &Type::FLOAT8) => x.to_sql(ty, out),
            (SqlValue::Float(x), &Type::FLOAT4) => (*x as f32).to_sql(ty, out),
            (SqlValue::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME | &Type::UNKNOWN) => {
                s.as_str().to_sql(&Type::TEXT, out)
            }
            (SqlValue::Text(s), &Type::JSON | &Type::JSONB) => {
                let json: serde_json::Value = serde_json::from_str(s)
                    .map_err(|e| -> BoxError { Box::new(ParamError(format!("text for {ty} is not JSON: {e}"))) })?;
                json.to_sql(ty, out)
            }
            (SqlValue::Bytes(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            (SqlValue::Boolean(b), &Type::BOOL) => b.to_sql(ty, out),
            _ => Err(refuse()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

async fn pg_prepare(
    client: &impl tokio_postgres::GenericClient,
    statement: &Statement,
) -> Result<tokio_postgres::Statement, CallError> {
    let prepared = client.prepare(&statement.sql).await.map_err(pg_error)?;
    if prepared.params().len() != statement.params.len() {
        return Err(wrong_count(prepared.params().len(), statement.params.len()));
    }
    Ok(prepared)
}

async fn pg_query(client: &tokio_postgres::Client, statement: &Statement) -> Result<Rows, CallError> {
    let prepared = pg_prepare(client, statement).await?;
    let params: Vec<PgParam> = statement.params.iter().map(PgParam).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    let found = client.query(&prepared, &refs).await.map_err(pg_error)?;
    let columns: Vec<String> = prepared.columns().iter().map(|c| c.name().to_owned()).collect();
    let mut rows = Vec::with_capacity(found.len());
    for row in &found {
        rows.push((0..columns.len()).map(|i| pg_value(row, i)).collect::<Result<Vec<_>, _>>()?);
    }
    Ok(Rows { columns, rows })
}

async fn pg_execute(client: &impl tokio_postgres::GenericClient, statement: &Statement) -> Result<u64, CallError> {
    let prepared = pg_prepare(client, statement).await?;
    let params: Vec<PgParam> = statement.params.iter().map(PgParam).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    client.execute(&prepared, &refs).await.map_err(pg_error)
}

/// Reads column `i` as the contract's value for its PostgreSQL type.
fn pg_value(row: &tokio_postgres::Row, i: usize) -> Result<SqlValue, CallError> {
    let column = &row.columns()[i];
    let read_error = |e: tokio_postgres::Error| CallError::Invalid(format!("column `{}`: {e}", column.name()));
    fn or_null<T>(value: Option<T>, wrap: impl FnOnce(T) -> SqlValue) -> SqlValue {
        value.map_or(SqlValue::Null, wrap)
    }
    Ok(match *column.type_() {
        Type::BOOL => or_null(row.try_get::<_, Option<bool>>(i).map_err(read_error)?, SqlValue::Boolean),
        Type::INT2 => or_null(row.try_get::<_, Option<i16>>(i).map_err(read_error)?, |n| SqlValue::Integer(n.into())),
        Type::INT4 => or_null(row.try_get::<_, Option<i32>>(i).map_err(read_error)?, |n| SqlValue::Integer(n.into())),
        Type::INT8 => or_null(row.try_get::<_, Option<i64>>(i).map_err(read_error)?, SqlValue::Integer),
        Type::OID => or_null(row.try_get::<_, Option<u32>>(i).map_err(read_error)?, |n| SqlValue::Integer(n.into())),
        Type::FLOAT4 => or_null(row.try_get::<_, Option<f32>>(i).map_err(read_error)?, |x| SqlValue::Float(x.into())),
        Type::FLOAT8 => or_null(row.try_get::<_, Option<f64>>(i).map_err(read_error)?, SqlValue::Float),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
            or_null(row.try_get::<_, Option<String>>(i).map_err(read_error)?, SqlValue::Text)
        }
        Type::JSON | Type::JSONB => or_null(row.try_get::<_, Option<serde_json::Value>>(i).map_err(read_error)?, |j| {
            SqlValue::Text(j.to_string())
        }),
        Type::BYTEA => or_null(row.try_get::<_, Option<Vec<u8>>>(i).map_err(read_error)?, SqlValue::Bytes),
        ref other => {
            return Err(CallError::Invalid(format!(
                "column `{}` has type {other}, which weft does not read: cast it in the query \
                 (`::bigint`, `::float8` or `::text`)",
                column.name()
            )));
        }
    })
}

fn pg_error(error: tokio_postgres::Error) -> CallError {
    use std::error::Error as _;
    if let Some(db) = error.as_db_error() {
        let mut message = format!("PostgreSQL: {}", db.message());
        if let Some(detail) = db.detail() {
            message.push_str(&format!(" ({detail})"));
        }
        return CallError::Invalid(message);
    }
    if let Some(param) = error.source().and_then(|s| s.downcast_ref::<ParamError>()) {
        return CallError::Invalid(format!("PostgreSQL: {error}: {param}"));
    }
    CallError::Unavailable(format!("PostgreSQL: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_rewritten_outside_quotes_and_comments() {
        assert_eq!(
            sqlite_placeholders("select $1, '$2', \"$3\" -- $4\n, $10 where x = 'it''s $5'"),
            "select ?1, '$2', \"$3\" -- $4\n, ?10 where x = 'it''s $5'"
        );
    }

    #[tokio::test]
    async fn sqlite_binds_parameters_returns_typed_rows_and_rolls_back_a_failed_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Backend::Sqlite { path: dir.path().join("db/test.sqlite") };
        let c = Connections::default();
        let st = |sql: &str, params: Vec<SqlValue>| Statement { sql: sql.into(), params };
        execute(&c, &backend, st("create table t (id integer, name text, score real, raw blob)", vec![]))
            .await
            .unwrap();
        let insert = "insert into t values ($1, $2, $3, $4)";
        let row =
            vec![SqlValue::Integer(1), SqlValue::Text("ada".into()), SqlValue::Float(2.5), SqlValue::Bytes(vec![0, 1])];
        assert_eq!(execute(&c, &backend, st(insert, row)).await.unwrap(), 1);
        let failed = transaction(
            &c,
            &backend,
            vec![
                st(insert, vec![SqlValue::Integer(2), SqlValue::Null, SqlValue::Null, SqlValue::Null]),
                st("insert into nowhere values (1)", vec![]),
            ],
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&failed, CallError::Invalid(m) if m.starts_with("statement 2: ") && m.contains("nowhere")),
            "{failed:?}"
        );
        let rows = query(&c, &backend, st("select * from t where id >= $1", vec![SqlValue::Integer(0)])).await.unwrap();
        assert_eq!(rows.columns, ["id", "name", "score", "raw"]);
        assert_eq!(
            rows.rows,
            [vec![
                SqlValue::Integer(1),
                SqlValue::Text("ada".into()),
                SqlValue::Float(2.5),
                SqlValue::Bytes(vec![0, 1])
            ]]
        );
        let miscounted = query(&c, &backend, st("select $1", vec![])).await.unwrap_err();
        assert_eq!(miscounted, CallError::Invalid("the statement takes 1 parameter(s) but 0 were given".into()));
    }

    /// Against the real PostgreSQL server (`WEFT_TEST_POSTGRES_URL`, else the local one):
    /// fails, rather than skips, when it is down.
    #[tokio::test]
    async fn postgres_converts_parameters_to_column_types_and_reads_typed_rows() {
        let url = std::env::var("WEFT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let backend = Backend::Postgres { url: super::super::Secret(url) };
        let c = Connections::default();
        let table = format!("weft_sql_test_{}", std::process::id());
        let st = |sql: String, params: Vec<SqlValue>| Statement { sql, params };
        execute(&c, &backend, st(format!("drop table if exists {table}"), vec![])).await.unwrap();
        let create = format!(
            "create table {table} (id int4, small int2, score float8, name text, doc jsonb, raw bytea, ok bool, price numeric)"
        );
        execute(&c, &backend, st(create, vec![])).await.unwrap();
        let insert = format!("insert into {table} values ($1, $2, $3, $4, $5, $6, $7, 1.5)");
        let row = vec![
            SqlValue::Integer(1),
            SqlValue::Integer(2),
            SqlValue::Integer(3),
            SqlValue::Text("ada".into()),
            SqlValue::Text(r#"{"a": [1, 2]}"#.into()),
            SqlValue::Bytes(vec![0, 255]),
            SqlValue::Boolean(true),
        ];
        assert_eq!(execute(&c, &backend, st(insert.clone(), row.clone())).await.unwrap(), 1);

        let select = format!("select id, small, score, name, doc, raw, ok from {table} where name = $1");
        let rows = query(&c, &backend, st(select, vec![SqlValue::Text("ada".into())])).await.unwrap();
        assert_eq!(rows.columns, ["id", "small", "score", "name", "doc", "raw", "ok"]);
        let expected = vec![
            SqlValue::Integer(1),
            SqlValue::Integer(2),
            SqlValue::Float(3.0),
            SqlValue::Text("ada".into()),
            SqlValue::Text(r#"{"a":[1,2]}"#.into()),
            SqlValue::Bytes(vec![0, 255]),
            SqlValue::Boolean(true),
        ];
        assert_eq!(rows.rows, [expected]);

        let numeric = query(&c, &backend, st(format!("select price from {table}"), vec![])).await.unwrap_err();
        assert!(
            matches!(&numeric, CallError::Invalid(m) if m.contains("type numeric") && m.contains("::float8")),
            "{numeric:?}"
        );
        let mut too_big = row.clone();
        too_big[1] = SqlValue::Integer(70_000);
        let error = execute(&c, &backend, st(insert.clone(), too_big)).await.unwrap_err();
        assert!(matches!(&error, CallError::Invalid(m) if m.contains("70000 does not fit in int2")), "{error:?}");
        let mut mistyped = row.clone();
        mistyped[0] = SqlValue::Text("one".into());
        let error = execute(&c, &backend, st(insert.clone(), mistyped)).await.unwrap_err();
        assert!(matches!(&error, CallError::Invalid(m) if m.contains("a text cannot be sent as int4")), "{error:?}");

        let failed = transaction(
            &c,
            &backend,
            vec![st(insert, row), st(format!("insert into {table} (id) values ('x')"), vec![])],
        )
        .await
        .unwrap_err();
        assert!(matches!(&failed, CallError::Invalid(m) if m.starts_with("statement 2: PostgreSQL:")), "{failed:?}");
        let count = query(&c, &backend, st(format!("select count(*) as n from {table}"), vec![])).await.unwrap();
        assert_eq!(count.rows, [vec![SqlValue::Integer(1)]], "the failed transaction left nothing");
        execute(&c, &backend, st(format!("drop table {table}"), vec![])).await.unwrap();
    }
}
