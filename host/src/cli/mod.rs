//! The commands of the `weft` binary, on top of the `weft_host` library.

pub mod daemon;
pub mod history;
pub mod new;
pub mod partitions;
pub mod render;
pub mod run;
pub mod scaffold;
pub mod test;
pub mod ui;

use anyhow::Context as _;
use std::path::PathBuf;
use weft_host::{Error, Host};

/// Where the user pointed: a store (`--db`), a manifest (`-m`), or neither.
#[derive(Debug, Clone)]
pub struct Place {
    pub db: Option<PathBuf>,
    pub manifest: Option<PathBuf>,
}

impl Place {
    /// The store: `--db`, else `.weft/weft.redb` beside the manifest (`-m`, or the
    /// nearest `weft.toml`).
    pub fn db_path(&self) -> anyhow::Result<PathBuf> {
        match &self.db {
            Some(db) => Ok(db.clone()),
            None => {
                let manifest = self.manifest.clone().map_or_else(find_manifest, Ok)?;
                Ok(weft_host::default_db_path(&manifest))
            }
        }
    }

    /// A host on an existing store (the history commands never create one).
    pub fn open_existing(&self) -> anyhow::Result<Host> {
        let db_path = self.db_path()?;
        if !db_path.exists() {
            let message = format!("no store at {}: no run was recorded there yet", db_path.display());
            return Err(Error::NotFound(message).into());
        }
        Ok(Host::open(&db_path)?)
    }
}

/// The nearest `weft.toml`, in this directory or above.
pub fn find_manifest() -> anyhow::Result<PathBuf> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    for dir in cwd.ancestors() {
        let candidate = dir.join("weft.toml");
        if candidate.is_file() {
            return Ok(candidate);
        }
    }
    Err(Error::NotFound(format!("no weft.toml in {} or above; name a manifest", cwd.display())).into())
}

/// Reads `30s`, `15m`, `12h`, `7d` as a duration.
pub fn parse_age(text: &str) -> anyhow::Result<std::time::Duration> {
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 =
        number.parse().map_err(|_| Error::NotFound(format!("`{text}` is not an age such as 30m, 12h or 7d")))?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(Error::NotFound(format!("`{text}` is not an age such as 30m, 12h or 7d")).into()),
    };
    Ok(std::time::Duration::from_secs(seconds))
}
