//! Backends opened on first use and shared by the steps of one run (or of one worker
//! process): a redb file once per process, one multiplexed Redis connection per server,
//! and SQLite and PostgreSQL connections kept idle between calls. A connection that
//! failed is dropped rather than returned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// Open connections to resource backends.
#[derive(Default)]
pub struct Connections {
    redb: Mutex<HashMap<PathBuf, Arc<redb::Database>>>,
    redis: tokio::sync::Mutex<HashMap<String, redis::aio::MultiplexedConnection>>,
    sqlite: Mutex<HashMap<PathBuf, Vec<rusqlite::Connection>>>,
    postgres: Mutex<HashMap<String, Vec<tokio_postgres::Client>>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Creates the directory a database file lives in.
fn create_parent(path: &Path) -> Result<(), String> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display())),
        None => Ok(()),
    }
}

impl Connections {
    /// The redb database at `path`, opened (and created) once per process. Other
    /// processes (workers, other runs) may have it open too.
    pub(crate) fn redb(&self, path: &Path) -> Result<Arc<redb::Database>, String> {
        let mut open = lock(&self.redb);
        if let Some(db) = open.get(path) {
            return Ok(db.clone());
        }
        create_parent(path)?;
        let db = redb::Database::builder()
            .set_concurrency_mode(redb::ConcurrencyMode::MultiWriter)
            .create(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let db = Arc::new(db);
        open.insert(path.to_path_buf(), db.clone());
        Ok(db)
    }

    /// A connection to the Redis server at `url`; clones share one socket.
    pub(crate) async fn redis(&self, url: &str) -> Result<redis::aio::MultiplexedConnection, String> {
        let mut open = self.redis.lock().await;
        if let Some(connection) = open.get(url) {
            return Ok(connection.clone());
        }
        let client = redis::Client::open(url).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let connection =
            client.get_multiplexed_async_connection().await.map_err(|e| format!("cannot connect to Redis: {e}"))?;
        open.insert(url.to_owned(), connection.clone());
        Ok(connection)
    }

    /// Forgets the Redis connection to `url` (after it failed), so the next call reconnects.
    pub(crate) async fn drop_redis(&self, url: &str) {
        self.redis.lock().await.remove(url);
    }

    /// An idle SQLite connection to `path`, or a new one. Give it back with
    /// [`Connections::put_sqlite`].
    pub(crate) fn take_sqlite(&self, path: &Path) -> Result<rusqlite::Connection, String> {
        if let Some(connection) = lock(&self.sqlite).get_mut(path).and_then(Vec::pop) {
            return Ok(connection);
        }
        create_parent(path)?;
        let connection =
            rusqlite::Connection::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        // Steps of one run, and other runs, write the same file: wait for a lock rather
        // than fail at once.
        connection
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| format!("cannot configure {}: {e}", path.display()))?;
        Ok(connection)
    }

    pub(crate) fn put_sqlite(&self, path: &Path, connection: rusqlite::Connection) {
        lock(&self.sqlite).entry(path.to_path_buf()).or_default().push(connection);
    }

    /// An idle PostgreSQL connection to `url`, or a new one. Give it back with
    /// [`Connections::put_postgres`].
    pub(crate) async fn take_postgres(&self, url: &str) -> Result<tokio_postgres::Client, String> {
        let idle = lock(&self.postgres).get_mut(url).and_then(Vec::pop);
        if let Some(client) = idle.filter(|c| !c.is_closed()) {
            return Ok(client);
        }
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
        // The connection object does the I/O; it ends when the client is dropped.
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("a PostgreSQL connection ended: {e}");
            }
        });
        Ok(client)
    }

    pub(crate) fn put_postgres(&self, url: &str, client: tokio_postgres::Client) {
        if !client.is_closed() {
            lock(&self.postgres).entry(url.to_owned()).or_default().push(client);
        }
    }
}
