//! Resources: the services a mode binds under names — a SQL database, a key-value store,
//! outbound HTTP, secrets — that solids reach through the contract's capability
//! interfaces (Dagster's resources, with the sandbox deciding who may use what).
//!
//! A solid declares what it needs (`database: sql`); a mode binds names to backends
//! (`database` is this SQLite file); the plan checks that every need is bound to a
//! backend of its kind and grants each step exactly its solid's needs. At run time each
//! call names its resource, and the host checks the name against the step's grants.
//!
//! - [`binding`]: a mode's resource table (and run config over it) to a [`Backend`];
//! - [`connections`]: backends opened on first use and shared by a run's steps;
//! - [`kv`], [`sql`], [`secrets`], [`http`]: the host side of each interface.

pub(crate) mod binding;
mod calls;
pub(crate) mod connections;
pub(crate) mod http;
pub(crate) mod kv;
pub(crate) mod secrets;
pub(crate) mod sql;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use connections::Connections;

/// What a resource offers; which interface a solid reaches it through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    KeyValue,
    Sql,
    Http,
    Secrets,
}

impl ResourceKind {
    /// The name a solid declares it by (`#[solid(resources(db = sql))]`).
    pub fn name(self) -> &'static str {
        match self {
            ResourceKind::KeyValue => "key_value",
            ResourceKind::Sql => "sql",
            ResourceKind::Http => "http",
            ResourceKind::Secrets => "secrets",
        }
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ResourceKind::KeyValue => "a key-value store",
            ResourceKind::Sql => "a SQL database",
            ResourceKind::Http => "outbound HTTP",
            ResourceKind::Secrets => "secrets",
        })
    }
}

/// Text that must not be shown: a secret, or a URL that may carry a password. Its
/// `Debug` prints `***`; it is never written to the store.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What a mode binds a resource to, with its settings resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Backend {
    /// A redb file on the host.
    Redb { path: PathBuf },
    /// A Redis server; every key is stored under `prefix`.
    Redis { url: Secret, prefix: String },
    /// A SQLite file on the host.
    Sqlite { path: PathBuf },
    /// A PostgreSQL server.
    Postgres { url: Secret },
    /// Outbound HTTP to the listed hosts (`host`, `host:port`, `*.domain`).
    Http { allow: Vec<String> },
    /// Secrets read from the host's environment: (name, value).
    Env { values: Vec<(String, Secret)> },
}

impl Backend {
    pub fn kind(&self) -> ResourceKind {
        match self {
            Backend::Redb { .. } | Backend::Redis { .. } => ResourceKind::KeyValue,
            Backend::Sqlite { .. } | Backend::Postgres { .. } => ResourceKind::Sql,
            Backend::Http { .. } => ResourceKind::Http,
            Backend::Env { .. } => ResourceKind::Secrets,
        }
    }

    /// What the backend is, for telling bindings apart (the memoization key): its type
    /// and settings, with secret values replaced by their variables' names.
    pub fn identity(&self) -> String {
        match self {
            Backend::Env { values } => {
                let names: Vec<&str> = values.iter().map(|(name, _)| name.as_str()).collect();
                format!("env {}", names.join(","))
            }
            other => serde_json::to_string(other).unwrap_or_default(),
        }
    }

    /// The backend's type as a mode names it (`type = "sqlite"`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Backend::Redb { .. } => "redb",
            Backend::Redis { .. } => "redis",
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
            Backend::Http { .. } => "http",
            Backend::Env { .. } => "env",
        }
    }
}

/// A resource granted to a step: its name and what the mode bound it to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceGrant {
    pub name: String,
    pub backend: Backend,
}

/// Why a resource call failed; the guest receives it as the contract's `resource-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CallError {
    /// The step may not use the resource it named.
    Denied(String),
    /// The call was wrong (bad SQL, a mistyped parameter, an unknown secret).
    Invalid(String),
    /// The backend failed or could not be reached.
    Unavailable(String),
}

/// Finds the grant a call names, or says why the step may not use it.
pub(crate) fn granted<'a>(
    grants: &'a [ResourceGrant],
    name: &str,
    kind: ResourceKind,
) -> Result<&'a ResourceGrant, String> {
    match grants.iter().find(|g| g.name == name) {
        Some(grant) if grant.backend.kind() == kind => Ok(grant),
        Some(grant) => Err(format!("resource `{name}` is {}, not {kind}", grant.backend.kind())),
        None => {
            let mine: Vec<String> =
                grants.iter().filter(|g| g.backend.kind() == kind).map(|g| format!("`{}`", g.name)).collect();
            let known = if mine.is_empty() { "none".to_owned() } else { mine.join(", ") };
            Err(format!(
                "the step may not use resource `{name}`: its solid does not declare it as {kind} \
                 (granted {}: {known})",
                kind.name()
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_reaches_only_a_granted_resource_of_its_kind() {
        let grants = vec![
            ResourceGrant { name: "db".into(), backend: Backend::Sqlite { path: "x.sqlite".into() } },
            ResourceGrant { name: "cache".into(), backend: Backend::Redb { path: "c.redb".into() } },
        ];
        assert!(granted(&grants, "db", ResourceKind::Sql).is_ok());
        let wrong = granted(&grants, "cache", ResourceKind::Sql).unwrap_err();
        assert!(wrong.contains("is a key-value store, not a SQL database"), "{wrong}");
        let unknown = granted(&grants, "other", ResourceKind::Sql).unwrap_err();
        assert!(unknown.contains("may not use resource `other`") && unknown.contains("`db`"), "{unknown}");
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let backend = Backend::Env { values: vec![("TOKEN".into(), Secret("hunter2".into()))] };
        assert!(!format!("{backend:?}").contains("hunter2"));
        assert_eq!(backend.identity(), "env TOKEN", "the memo key names the variable, not its value");
        let sqlite = Backend::Sqlite { path: "a.sqlite".into() };
        assert_ne!(sqlite.identity(), Backend::Sqlite { path: "b.sqlite".into() }.identity());
    }
}
