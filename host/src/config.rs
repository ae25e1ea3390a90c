//! Run config: the per-run values, in Dagster's shape (`solids.<alias>.config`), from a
//! TOML or JSON file or built in code; and each solid's config, validated against its
//! JSON Schema with defaults filled in.

use crate::error::{Problem, Problems};
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The values one run is launched with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunConfig {
    /// Config per step alias (`solids.<alias>.config`).
    pub solids: BTreeMap<String, Json>,
    /// Retry policy keys per step alias (`solids.<alias>.retry`), over all others.
    pub retries: BTreeMap<String, Json>,
    /// Execution settings (`execution`): over the pipeline's, under the CLI's.
    pub execution: Option<Json>,
    /// Tags recorded with the run.
    pub tags: BTreeMap<String, String>,
    /// The file it was read from, for error messages.
    pub source: Option<PathBuf>,
}

impl RunConfig {
    /// Reads a run config file: TOML (`.toml`) or JSON (anything else that parses).
    ///
    /// # Errors
    /// [`Problems`] naming the file and every bad key.
    pub fn load(path: &Path) -> Result<RunConfig, Problems> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problems::one(Problem::new(path, None, format!("cannot read the run config: {e}"))))?;
        let json = if path.extension().is_some_and(|e| e == "toml") {
            let doc = toml_edit::Document::parse(text.as_str())
                .map_err(|e| Problems::one(Problem::new(path, None, e.message().trim().to_owned())))?;
            crate::manifest::toml_to_json(doc.as_item()).ok_or_else(|| {
                Problems::one(Problem::new(path, None, "dates and times are not supported in run config"))
            })?
        } else {
            serde_json::from_str(&text)
                .map_err(|e| Problems::one(Problem::at_line(path, Some(e.line()), format!("invalid JSON: {e}"))))?
        };
        RunConfig::from_json(&json, Some(path))
    }

    /// Reads run config from its JSON form, `{"solids": {"<alias>": {"config": {...}}}, "tags": {...}}`.
    ///
    /// # Errors
    /// [`Problems`] for every key that does not fit that shape.
    pub fn from_json(json: &Json, source: Option<&Path>) -> Result<RunConfig, Problems> {
        let file = source.unwrap_or(Path::new("<run config>"));
        let mut problems = Vec::new();
        let mut config = RunConfig { source: source.map(Path::to_path_buf), ..RunConfig::default() };
        let Some(top) = json.as_object() else {
            return Err(Problems::one(Problem::new(file, None, "run config must be a table")));
        };
        for (key, value) in top {
            match key.as_str() {
                "solids" => match value.as_object() {
                    Some(solids) => {
                        for (alias, entry) in solids {
                            let at = format!("solids.{alias}");
                            match entry.as_object() {
                                Some(entry) => {
                                    for (k, v) in entry {
                                        let key = format!("{at}.{k}");
                                        match k.as_str() {
                                            "config" => {
                                                config.solids.insert(alias.clone(), v.clone());
                                            }
                                            "retry" => {
                                                let mut found = Vec::new();
                                                crate::execution::apply_retry(
                                                    &mut Default::default(),
                                                    v,
                                                    &key,
                                                    &mut found,
                                                );
                                                problems.extend(
                                                    found.into_iter().map(|(k, m)| Problem::new(file, Some(&k), m)),
                                                );
                                                config.retries.insert(alias.clone(), v.clone());
                                            }
                                            _ => problems.push(Problem::new(
                                                file,
                                                Some(&key),
                                                "unknown key; expected `config` or `retry`",
                                            )),
                                        }
                                    }
                                }
                                None => problems.push(Problem::new(file, Some(&at), "expected a table with `config`")),
                            }
                        }
                    }
                    None => problems.push(Problem::new(file, Some("solids"), "expected a table of step aliases")),
                },
                "tags" => match value.as_object() {
                    Some(tags) => {
                        for (k, v) in tags {
                            match v.as_str() {
                                Some(s) => {
                                    config.tags.insert(k.clone(), s.to_owned());
                                }
                                None => problems.push(Problem::new(
                                    file,
                                    Some(&format!("tags.{k}")),
                                    "tag values are strings",
                                )),
                            }
                        }
                    }
                    None => problems.push(Problem::new(file, Some("tags"), "expected a table of strings")),
                },
                "execution" => {
                    let mut found = Vec::new();
                    crate::execution::apply_execution(&mut Default::default(), value, "execution", &mut found);
                    problems.extend(found.into_iter().map(|(k, m)| Problem::new(file, Some(&k), m)));
                    config.execution = Some(value.clone());
                }
                other => problems.push(Problem::new(
                    file,
                    Some(other),
                    "unknown key; expected `solids`, `execution` or `tags`",
                )),
            }
        }
        if problems.is_empty() { Ok(config) } else { Err(Problems(problems)) }
    }

    /// Sets one execution setting over what the file said (for command-line flags).
    ///
    /// # Errors
    /// [`Problems`] when the key or value is not a valid execution setting.
    pub fn override_execution(&mut self, key: &str, value: Json) -> Result<(), Problems> {
        let mut problems = Vec::new();
        let single = serde_json::json!({ key: value });
        crate::execution::apply_execution(&mut Default::default(), &single, "execution", &mut problems);
        if let Some((key, message)) = problems.into_iter().next() {
            return Err(Problems::one(Problem::new(Path::new("<command line>"), Some(&key), message)));
        }
        let execution = self.execution.get_or_insert_with(|| serde_json::json!({}));
        merge(execution, &single);
        Ok(())
    }

    /// The JSON form recorded with the run.
    pub fn to_json(&self) -> Json {
        let solids: Map<String, Json> =
            self.solids.iter().map(|(alias, c)| (alias.clone(), serde_json::json!({ "config": c }))).collect();
        let mut solids = solids;
        for (alias, retry) in &self.retries {
            let entry = solids.entry(alias.clone()).or_insert_with(|| serde_json::json!({}));
            entry["retry"] = retry.clone();
        }
        let mut json = serde_json::json!({ "solids": solids, "tags": self.tags });
        if let Some(execution) = &self.execution {
            json["execution"] = execution.clone();
        }
        json
    }
}

/// Merges `over` into `base`: objects key by key, anything else replaced.
pub(crate) fn merge(base: &mut Json, over: &Json) {
    match (base, over) {
        (Json::Object(base), Json::Object(over)) => {
            for (k, v) in over {
                match base.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        base.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (base, over) => *base = over.clone(),
    }
}

/// Fills in the `default` of every property the schema declares and the config lacks,
/// recursing into nested objects.
pub(crate) fn fill_defaults(schema: &Json, config: &mut Json) {
    let (Some(properties), Some(object)) = (schema.get("properties").and_then(Json::as_object), config.as_object_mut())
    else {
        return;
    };
    for (name, property) in properties {
        match object.get_mut(name) {
            Some(value) => fill_defaults(property, value),
            None => {
                if let Some(default) = property.get("default") {
                    object.insert(name.clone(), default.clone());
                } else if property.get("type").and_then(Json::as_str) == Some("object")
                    && property.get("properties").is_some()
                {
                    // A nested object whose fields all have defaults needs no entry.
                    let mut nested = Json::Object(Map::new());
                    fill_defaults(property, &mut nested);
                    if nested.as_object().is_some_and(|o| !o.is_empty()) {
                        object.insert(name.clone(), nested);
                    }
                }
            }
        }
    }
}

/// Validates `config` against `schema`, each error as `(dotted path, message)`.
pub(crate) fn validate(schema: &Json, config: &Json) -> Vec<(String, String)> {
    let validator = match jsonschema::validator_for(schema) {
        Ok(v) => v,
        Err(e) => {
            return vec![(String::new(), format!("the solid's config schema is invalid: {e}"))];
        }
    };
    validator
        .iter_errors(config)
        .map(|e| {
            let pointer = e.instance_path().as_str().trim_start_matches('/').replace('/', ".");
            (pointer, e.to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Json {
        json!({
            "type": "object",
            "properties": {
                "iterations": {"type": "integer"},
                "word": {"type": "string", "default": "hello"},
                "nested": {"type": "object", "properties": {"depth": {"type": "integer", "default": 2}}}
            },
            "required": ["iterations"],
            "additionalProperties": false
        })
    }

    #[test]
    fn defaults_are_filled_in_nested_objects_too() {
        let mut config = json!({"iterations": 1});
        fill_defaults(&schema(), &mut config);
        assert_eq!(config, json!({"iterations": 1, "word": "hello", "nested": {"depth": 2}}));
        assert!(validate(&schema(), &config).is_empty());
    }

    #[test]
    fn every_violation_is_listed_with_its_path() {
        let errors = validate(&schema(), &json!({"iterations": "three", "colour": 1}));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors.iter().any(|(path, m)| path == "iterations" && m.contains("integer")), "{errors:?}");
    }

    #[test]
    fn run_config_of_the_wrong_shape_is_refused_key_by_key() {
        let err = RunConfig::from_json(&json!({"solids": {"a": {"confg": {}}}, "executor": 1}), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`solids.a.confg`: unknown key"), "{text}");
        assert!(text.contains("`executor`: unknown key"), "{text}");
    }

    #[test]
    fn merging_replaces_leaves_and_keeps_siblings() {
        let mut base = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge(&mut base, &json!({"b": {"c": 5}}));
        assert_eq!(base, json!({"a": 1, "b": {"c": 5, "d": 3}}));
    }
}
