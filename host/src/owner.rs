//! Who runs a run: each host holds an exclusive lock on a file of its own, named by a
//! token recorded with the runs it starts. The lock dies with the process, so another
//! process can tell a run that is running from one whose host was killed.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The lock of one host, held while it lives.
#[derive(Debug)]
pub(crate) struct OwnerLock {
    token: String,
    path: PathBuf,
    _file: File,
}

/// The directory of owner locks beside a store.
fn owners_dir(db_path: &Path) -> PathBuf {
    db_path.parent().unwrap_or(Path::new(".")).join("owners")
}

impl OwnerLock {
    /// Takes a new owner token and locks its file.
    ///
    /// # Errors
    /// When the lock file cannot be created or locked.
    pub(crate) fn acquire(db_path: &Path) -> std::io::Result<OwnerLock> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let dir = owners_dir(db_path);
        std::fs::create_dir_all(&dir)?;
        let token =
            format!("{}-{}-{}", std::process::id(), crate::run::now_micros(), SEQUENCE.fetch_add(1, Ordering::Relaxed));
        let path = dir.join(format!("{token}.lock"));
        let file = File::create(&path)?;
        file.lock()?;
        Ok(OwnerLock { token, path, _file: file })
    }

    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for OwnerLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the host that holds `token` is still alive: its lock file exists and is
/// locked. A file that can be locked belonged to a dead process and is removed.
pub(crate) fn is_alive(db_path: &Path, token: &str) -> bool {
    if token.is_empty() {
        return false;
    }
    let path = owners_dir(db_path).join(format!("{token}.lock"));
    let Ok(file) = File::options().write(true).open(&path) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => {
            let _ = std::fs::remove_file(&path);
            false
        }
        Err(TryLockError::WouldBlock) => true,
        // Cannot tell: do not declare a run dead on a doubt.
        Err(TryLockError::Error(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_alive_and_a_dropped_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("weft.redb");
        let lock = OwnerLock::acquire(&db).unwrap();
        let token = lock.token().to_owned();
        assert!(is_alive(&db, &token));
        drop(lock);
        assert!(!is_alive(&db, &token));
        assert!(!is_alive(&db, "no-such-owner"));
    }
}
