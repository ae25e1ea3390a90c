//! From a mode's resource table (with the run config's `resources.<name>.config` over
//! it) to a [`Backend`]: the type known, every key known and of the right type, paths
//! resolved against the project, `{ env = "VAR" }` read from the host's environment.

use super::{Backend, Secret};
use serde_json::{Map, Value as Json};
use std::path::Path;

/// Each backend type and the keys it takes (besides `type` and `description`).
const TYPES: &[(&str, &[&str])] = &[
    ("sqlite", &["path"]),
    ("postgres", &["url"]),
    ("redb", &["path"]),
    ("redis", &["url", "prefix"]),
    ("http", &["allow"]),
    ("env", &["vars"]),
];

/// Reads the settings of resource `name` (a table with `type` and that type's keys).
/// Problems are pushed as (dotted key under `prefix`, message). With `read_env` false the
/// host's environment is not read: the manifest is checked for shape before any run is
/// planned, and an unset variable matters only to a run that uses the resource.
pub(crate) fn backend(
    name: &str,
    settings: &Json,
    dir: &Path,
    prefix: &str,
    read_env: bool,
    problems: &mut Vec<(String, String)>,
) -> Option<Backend> {
    let types: Vec<String> = TYPES.iter().map(|(t, _)| format!("`{t}`")).collect();
    let Some(table) = settings.as_object() else {
        problems.push((prefix.to_owned(), format!("expected a table with `type` ({})", types.join(", "))));
        return None;
    };
    let ty = match table.get("type") {
        Some(Json::String(ty)) => ty.as_str(),
        Some(other) => {
            problems.push((format!("{prefix}.type"), format!("expected a string, found {}", json_type(other))));
            return None;
        }
        None => {
            problems.push((prefix.to_owned(), format!("missing key `type`: one of {}", types.join(", "))));
            return None;
        }
    };
    let Some((_, keys)) = TYPES.iter().find(|(t, _)| *t == ty) else {
        problems.push((
            format!("{prefix}.type"),
            format!("unknown resource type `{ty}`; expected one of {}", types.join(", ")),
        ));
        return None;
    };
    let before = problems.len();
    for key in table.keys().filter(|k| !matches!(k.as_str(), "type" | "description") && !keys.contains(&k.as_str())) {
        let expected: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
        problems.push((
            format!("{prefix}.{key}"),
            format!("unknown key for a `{ty}` resource; expected {}", expected.join(", ")),
        ));
    }
    if let Some(description) = table.get("description").filter(|d| !d.is_string()) {
        problems
            .push((format!("{prefix}.description"), format!("expected a string, found {}", json_type(description))));
    }
    let mut settings = Settings { table, prefix, read_env, problems };
    let backend = match ty {
        "sqlite" => settings.required("path").map(|path| Backend::Sqlite { path: dir.join(path) }),
        "redb" => {
            let path = settings.string("path").unwrap_or_else(|| format!(".weft/resources/{name}.redb"));
            Some(Backend::Redb { path: dir.join(path) })
        }
        "postgres" => settings.required_source("url").map(|url| Backend::Postgres { url: Secret(url) }),
        "redis" => {
            let url = settings.required_source("url");
            let key_prefix = settings.string("prefix").unwrap_or_else(|| format!("{name}:"));
            url.map(|url| Backend::Redis { url: Secret(url), prefix: key_prefix })
        }
        "http" => settings.allow_list().map(|allow| Backend::Http { allow }),
        "env" => settings.env_vars().map(|values| Backend::Env { values }),
        _ => unreachable!("every type in TYPES is handled"),
    };
    if problems.len() > before { None } else { backend }
}

/// Reads the keys of one resource table, pushing problems as it goes.
struct Settings<'a> {
    table: &'a Map<String, Json>,
    prefix: &'a str,
    read_env: bool,
    problems: &'a mut Vec<(String, String)>,
}

impl Settings<'_> {
    fn problem(&mut self, key: &str, message: impl Into<String>) {
        self.problems.push((format!("{}.{key}", self.prefix), message.into()));
    }

    fn string(&mut self, key: &str) -> Option<String> {
        match self.table.get(key)? {
            Json::String(s) => Some(s.clone()),
            other => {
                let message = format!("expected a string, found {}", json_type(other));
                self.problem(key, message);
                None
            }
        }
    }

    fn required(&mut self, key: &str) -> Option<String> {
        if !self.table.contains_key(key) {
            self.problems.push((self.prefix.to_owned(), format!("missing key `{key}`")));
        }
        self.string(key)
    }

    /// A string given as is, or `{ env = "VAR" }`: read from the host's environment, so
    /// that credentials stay out of the manifest.
    fn required_source(&mut self, key: &str) -> Option<String> {
        match self.table.get(key) {
            None => {
                let message = format!("missing key `{key}` (a string, or {{ env = \"VARIABLE\" }})");
                self.problems.push((self.prefix.to_owned(), message));
                None
            }
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Object(o)) if o.len() == 1 && o.get("env").is_some_and(Json::is_string) => {
                let var = o["env"].as_str().unwrap_or_default();
                self.env(key, var)
            }
            Some(other) => {
                let message = format!("expected a string or {{ env = \"VARIABLE\" }}, found {}", json_type(other));
                self.problem(key, message);
                None
            }
        }
    }

    fn env(&mut self, key: &str, var: &str) -> Option<String> {
        if !self.read_env {
            return Some(String::new());
        }
        match std::env::var(var) {
            Ok(value) => Some(value),
            Err(_) => {
                self.problem(key, format!("the host environment variable `{var}` is not set"));
                None
            }
        }
    }

    fn string_list(&mut self, key: &str) -> Option<Vec<String>> {
        let Some(value) = self.table.get(key) else {
            self.problems.push((self.prefix.to_owned(), format!("missing key `{key}` (a list of strings)")));
            return None;
        };
        let list = value.as_array().and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
        if list.is_none() {
            self.problem(key, format!("expected a list of strings, found {}", json_type(value)));
        }
        list
    }

    fn allow_list(&mut self) -> Option<Vec<String>> {
        let allow = self.string_list("allow")?;
        for (i, pattern) in allow.iter().enumerate() {
            if let Err(message) = super::http::check_pattern(pattern) {
                self.problem(&format!("allow[{i}]"), message);
            }
        }
        Some(allow)
    }

    fn env_vars(&mut self) -> Option<Vec<(String, Secret)>> {
        let vars = self.string_list("vars")?;
        let mut values = Vec::new();
        for var in vars {
            let value = self.env("vars", &var)?;
            values.push((var, Secret(value)));
        }
        Some(values)
    }
}

fn json_type(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(settings: Json, read_env: bool) -> Result<Backend, Vec<(String, String)>> {
        let mut problems = Vec::new();
        let backend = backend("db", &settings, Path::new("project"), "modes.dev.resources.db", read_env, &mut problems);
        backend.ok_or(problems)
    }

    #[test]
    fn each_type_reads_its_keys_with_defaults() {
        assert_eq!(
            read(json!({"type": "sqlite", "path": "dev.sqlite"}), true),
            Ok(Backend::Sqlite { path: "project/dev.sqlite".into() })
        );
        assert_eq!(
            read(json!({"type": "redb"}), true),
            Ok(Backend::Redb { path: "project/.weft/resources/db.redb".into() })
        );
        assert_eq!(
            read(json!({"type": "redis", "url": "redis://127.0.0.1"}), true),
            Ok(Backend::Redis { url: Secret("redis://127.0.0.1".into()), prefix: "db:".into() })
        );
        assert_eq!(
            read(json!({"type": "http", "allow": ["api.example.com", "127.0.0.1:8080"]}), true),
            Ok(Backend::Http { allow: vec!["api.example.com".into(), "127.0.0.1:8080".into()] })
        );
    }

    #[test]
    fn a_url_may_come_from_the_environment_and_an_unset_variable_is_named() {
        let settings = json!({"type": "postgres", "url": {"env": "WEFT_SURELY_UNSET_VARIABLE"}});
        assert_eq!(read(settings.clone(), false), Ok(Backend::Postgres { url: Secret(String::new()) }));
        let problems = read(settings, true).unwrap_err();
        assert_eq!(problems[0].0, "modes.dev.resources.db.url");
        assert!(problems[0].1.contains("`WEFT_SURELY_UNSET_VARIABLE` is not set"), "{problems:?}");
    }

    #[test]
    fn every_problem_is_named_by_its_key() {
        let problems = read(json!({"type": "sqlite", "file": "x", "description": 3}), true).unwrap_err();
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["modes.dev.resources.db.file", "modes.dev.resources.db.description", "modes.dev.resources.db"]
        );
        let unknown = read(json!({"type": "mysql"}), true).unwrap_err();
        assert!(unknown[0].1.contains("unknown resource type `mysql`"), "{unknown:?}");
        let bad_host = read(json!({"type": "http", "allow": ["https://x.com/a"]}), true).unwrap_err();
        assert_eq!(bad_host[0].0, "modes.dev.resources.db.allow[0]");
    }
}
