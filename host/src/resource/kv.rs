//! The key-value interface on its two backends: a redb file (a table `kv` of text keys
//! and byte values, each call one transaction) and Redis (every key under the
//! resource's prefix). Both store counters as decimal text, so that a pipeline gives the
//! same results on either.

use super::{Backend, CallError, Connections};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use std::sync::Arc;

const TABLE: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");

pub(crate) async fn get(
    connections: &Connections,
    backend: &Backend,
    key: String,
) -> Result<Option<Vec<u8>>, CallError> {
    match backend {
        Backend::Redis { url, prefix } => {
            redis_call(connections, &url.0, redis::cmd("GET").arg(format!("{prefix}{key}"))).await
        }
        _ => {
            redb_call(connections, backend, move |db| {
                let tx = db.begin_read()?;
                let table = match tx.open_table(TABLE) {
                    Ok(table) => table,
                    Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
                    Err(e) => return Err(e.into()),
                };
                Ok(table.get(key.as_str())?.map(|v| v.value().to_vec()))
            })
            .await
        }
    }
}

pub(crate) async fn set(
    connections: &Connections,
    backend: &Backend,
    key: String,
    value: Vec<u8>,
) -> Result<(), CallError> {
    match backend {
        Backend::Redis { url, prefix } => {
            redis_call(connections, &url.0, redis::cmd("SET").arg(format!("{prefix}{key}")).arg(value)).await
        }
        _ => {
            redb_write(connections, backend, move |table| {
                table.insert(key.as_str(), value.as_slice())?;
                Ok(())
            })
            .await
        }
    }
}

pub(crate) async fn delete(connections: &Connections, backend: &Backend, key: String) -> Result<bool, CallError> {
    match backend {
        Backend::Redis { url, prefix } => {
            let removed: i64 = redis_call(connections, &url.0, redis::cmd("DEL").arg(format!("{prefix}{key}"))).await?;
            Ok(removed > 0)
        }
        _ => redb_write(connections, backend, move |table| Ok(table.remove(key.as_str())?.is_some())).await,
    }
}

pub(crate) async fn keys(
    connections: &Connections,
    backend: &Backend,
    start: String,
) -> Result<Vec<String>, CallError> {
    match backend {
        Backend::Redis { url, prefix } => {
            let pattern = format!("{}*", glob_escape(&format!("{prefix}{start}")));
            let mut cursor = 0u64;
            let mut found = Vec::new();
            loop {
                let scan = redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(1000).clone();
                let (next, batch): (u64, Vec<String>) = redis_call(connections, &url.0, &scan).await?;
                found.extend(batch.into_iter().filter_map(|k| k.strip_prefix(prefix.as_str()).map(str::to_owned)));
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            // SCAN may return a key twice, in any order.
            found.sort();
            found.dedup();
            Ok(found)
        }
        _ => {
            redb_call(connections, backend, move |db| {
                let tx = db.begin_read()?;
                let table = match tx.open_table(TABLE) {
                    Ok(table) => table,
                    Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
                    Err(e) => return Err(e.into()),
                };
                let mut found = Vec::new();
                for entry in table.range(start.as_str()..)? {
                    let key = entry?.0.value().to_owned();
                    if !key.starts_with(start.as_str()) {
                        break;
                    }
                    found.push(key);
                }
                Ok(found)
            })
            .await
        }
    }
}

pub(crate) async fn increment(
    connections: &Connections,
    backend: &Backend,
    key: String,
    delta: i64,
) -> Result<i64, CallError> {
    match backend {
        Backend::Redis { url, prefix } => {
            redis_call(connections, &url.0, redis::cmd("INCRBY").arg(format!("{prefix}{key}")).arg(delta)).await
        }
        _ => {
            redb_write(connections, backend, move |table| {
                let current = match table.get(key.as_str())? {
                    None => 0,
                    Some(bytes) => std::str::from_utf8(bytes.value())
                        .ok()
                        .and_then(|text| text.parse::<i64>().ok())
                        .ok_or_else(|| KvFault::Invalid(format!("the value of `{key}` is not an integer")))?,
                };
                let next = current
                    .checked_add(delta)
                    .ok_or_else(|| KvFault::Invalid(format!("incrementing `{key}` overflows a 64-bit integer")))?;
                table.insert(key.as_str(), next.to_string().as_bytes())?;
                Ok(next)
            })
            .await
        }
    }
}

/// Why a redb call failed: the store itself, or what the call asked.
enum KvFault {
    Store(String),
    Invalid(String),
}

impl<E: Into<redb::Error>> From<E> for KvFault {
    fn from(error: E) -> KvFault {
        KvFault::Store(error.into().to_string())
    }
}

/// Runs `work` on the redb file of `backend`, off the async threads (commits fsync).
async fn redb_call<T: Send + 'static>(
    connections: &Connections,
    backend: &Backend,
    work: impl FnOnce(&redb::Database) -> Result<T, KvFault> + Send + 'static,
) -> Result<T, CallError> {
    let Backend::Redb { path } = backend else { unreachable!("the grant's kind was checked") };
    let db: Arc<redb::Database> = connections.redb(path).map_err(CallError::Unavailable)?;
    let shown = path.display().to_string();
    match tokio::task::spawn_blocking(move || work(&db)).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(KvFault::Invalid(message))) => Err(CallError::Invalid(message)),
        Ok(Err(KvFault::Store(message))) => Err(CallError::Unavailable(format!("{shown}: {message}"))),
        Err(e) => Err(CallError::Unavailable(format!("{shown}: the call failed: {e}"))),
    }
}

/// Runs `work` on the `kv` table in one write transaction.
async fn redb_write<T: Send + 'static>(
    connections: &Connections,
    backend: &Backend,
    work: impl FnOnce(&mut redb::Table<&str, &[u8]>) -> Result<T, KvFault> + Send + 'static,
) -> Result<T, CallError> {
    redb_call(connections, backend, move |db| {
        let tx = db.begin_write()?;
        let value = {
            let mut table = tx.open_table(TABLE)?;
            work(&mut table)?
        };
        tx.commit()?;
        Ok(value)
    })
    .await
}

/// Sends one command; a broken connection is forgotten so that the next call reconnects.
async fn redis_call<T: redis::FromRedisValue>(
    connections: &Connections,
    url: &str,
    command: &redis::Cmd,
) -> Result<T, CallError> {
    let mut connection = connections.redis(url).await.map_err(CallError::Unavailable)?;
    match command.query_async::<T>(&mut connection).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_io_error() || e.is_connection_dropped() || e.is_timeout() => {
            connections.drop_redis(url).await;
            Err(CallError::Unavailable(format!("Redis: {e}")))
        }
        Err(e) => Err(CallError::Invalid(format!("Redis: {e}"))),
    }
}

/// Escapes Redis glob characters, so that a prefix matches only itself.
fn glob_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_characters_in_a_prefix_match_only_themselves() {
        assert_eq!(glob_escape("app:a*b?[c]\\"), "app:a\\*b\\?\\[c\\]\\\\");
    }

    #[tokio::test]
    async fn the_redb_backend_stores_lists_counts_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let backend = Backend::Redb { path: dir.path().join("kv/store.redb") };
        let c = Connections::default();
        assert_eq!(get(&c, &backend, "a".into()).await.unwrap(), None);
        set(&c, &backend, "user:1".into(), b"ada".to_vec()).await.unwrap();
        set(&c, &backend, "user:2".into(), b"grace".to_vec()).await.unwrap();
        set(&c, &backend, "other".into(), b"x".to_vec()).await.unwrap();
        assert_eq!(get(&c, &backend, "user:1".into()).await.unwrap().as_deref(), Some(&b"ada"[..]));
        assert_eq!(keys(&c, &backend, "user:".into()).await.unwrap(), ["user:1", "user:2"]);
        assert_eq!(increment(&c, &backend, "n".into(), 5).await.unwrap(), 5);
        assert_eq!(increment(&c, &backend, "n".into(), -2).await.unwrap(), 3);
        assert!(matches!(increment(&c, &backend, "user:1".into(), 1).await, Err(CallError::Invalid(_))));
        assert!(delete(&c, &backend, "user:1".into()).await.unwrap());
        assert!(!delete(&c, &backend, "user:1".into()).await.unwrap());
    }
}
