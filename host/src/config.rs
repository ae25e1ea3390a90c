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
    /// Limits for every step (`limits`), over the pipeline's.
    pub limits: Option<Json>,
    /// Limits per step alias (`solids.<alias>.limits`), over all others.
    pub step_limits: BTreeMap<String, Json>,
    /// Tags recorded with the run.
    pub tags: BTreeMap<String, String>,
    /// The mode to run in (`mode`); the manifest's default when absent.
    pub mode: Option<String>,
    /// Settings per resource (`resources.<name>.config`), over the mode's.
    pub resources: BTreeMap<String, Json>,
    /// The partition the run computes (`partition`), a key of the pipeline's partition
    /// set; its key and window fill the `{partition_key}` templates of the config.
    pub partition: Option<String>,
    /// The file it was read from, for error messages.
    pub source: Option<PathBuf>,
}

impl RunConfig {
    /// Reads a run config file: TOML (`.toml`), YAML (`.yaml`, `.yml`) or JSON (anything
    /// else).
    ///
    /// # Errors
    /// [`Problems`] naming the file and every bad key.
    pub fn load(path: &Path) -> Result<RunConfig, Problems> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Problems::one(Problem::new(path, None, format!("cannot read the run config: {e}"))))?;
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let json = if matches!(extension, "yaml" | "yml") {
            serde_norway::from_str::<Json>(&text).map_err(|e| {
                let line = e.location().map(|l| l.line());
                Problems::one(Problem::at_line(path, line, format!("invalid YAML: {e}")))
            })?
        } else if extension == "toml" {
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

    /// Reads run config from its JSON form: `{"solids": {"<alias>": {"config": {...},
    /// "retry": {...}, "limits": {...}}}, "execution": {...}, "limits": {...}, "tags": {...}}`.
    ///
    /// # Errors
    /// [`Problems`] for every key that does not fit that shape.
    pub fn from_json(json: &Json, source: Option<&Path>) -> Result<RunConfig, Problems> {
        let file = source.unwrap_or(Path::new("<run config>"));
        let mut config = RunConfig { source: source.map(Path::to_path_buf), ..RunConfig::default() };
        let Some(top) = json.as_object() else {
            return Err(Problems::one(Problem::new(file, None, "run config must be a table")));
        };
        let mut found: Vec<(String, String)> = Vec::new();
        for (key, value) in top {
            match key.as_str() {
                "solids" => config.read_solids(value, &mut found),
                "tags" => config.read_tags(value, &mut found),
                "execution" => {
                    crate::execution::apply_execution(&mut Default::default(), value, "execution", &mut found);
                    config.execution = Some(value.clone());
                }
                "limits" => {
                    crate::limits::apply_limits(&mut Default::default(), value, "limits", &mut found);
                    config.limits = Some(value.clone());
                }
                "mode" => match value.as_str() {
                    Some(mode) if crate::manifest::is_valid_name(mode) => config.mode = Some(mode.to_owned()),
                    _ => found.push(("mode".into(), format!("expected a mode name, found {value}"))),
                },
                "resources" => config.read_resources(value, &mut found),
                "partition" => match value.as_str() {
                    Some(key) if !key.is_empty() => config.partition = Some(key.to_owned()),
                    _ => found.push(("partition".into(), format!("expected a partition key, found {value}"))),
                },
                other => found.push((
                    other.to_owned(),
                    "unknown key; expected `solids`, `resources`, `execution`, `limits`, `mode`, `partition` or `tags`"
                        .into(),
                )),
            }
        }
        if found.is_empty() {
            Ok(config)
        } else {
            Err(Problems(found.into_iter().map(|(key, message)| Problem::new(file, Some(&key), message)).collect()))
        }
    }

    fn read_solids(&mut self, value: &Json, found: &mut Vec<(String, String)>) {
        let Some(solids) = value.as_object() else {
            found.push(("solids".into(), "expected a table of step aliases".into()));
            return;
        };
        for (alias, entry) in solids {
            let at = format!("solids.{alias}");
            let Some(entry) = entry.as_object() else {
                found.push((at, "expected a table with `config`, `retry` or `limits`".into()));
                continue;
            };
            for (k, v) in entry {
                let key = format!("{at}.{k}");
                match k.as_str() {
                    "config" => {
                        self.solids.insert(alias.clone(), v.clone());
                    }
                    "retry" => {
                        crate::execution::apply_retry(&mut Default::default(), v, &key, found);
                        self.retries.insert(alias.clone(), v.clone());
                    }
                    "limits" => {
                        crate::limits::apply_limits(&mut Default::default(), v, &key, found);
                        self.step_limits.insert(alias.clone(), v.clone());
                    }
                    _ => found.push((key, "unknown key; expected `config`, `retry` or `limits`".into())),
                }
            }
        }
    }

    fn read_resources(&mut self, value: &Json, found: &mut Vec<(String, String)>) {
        let Some(resources) = value.as_object() else {
            found.push(("resources".into(), "expected a table of resource names".into()));
            return;
        };
        for (name, entry) in resources {
            let at = format!("resources.{name}");
            let settings = entry.as_object().and_then(|e| e.get("config").filter(|_| e.len() == 1));
            match settings {
                Some(settings @ Json::Object(keys)) => {
                    if keys.contains_key("type") {
                        found.push((format!("{at}.config.type"), "a resource's type is set by the mode".into()));
                    }
                    self.resources.insert(name.clone(), settings.clone());
                }
                _ => found.push((at, "expected `{ config = { ... } }`: settings over the mode's".into())),
            }
        }
    }

    fn read_tags(&mut self, value: &Json, found: &mut Vec<(String, String)>) {
        let Some(tags) = value.as_object() else {
            found.push(("tags".into(), "expected a table of strings".into()));
            return;
        };
        for (k, v) in tags {
            match v.as_str() {
                Some(s) => {
                    self.tags.insert(k.clone(), s.to_owned());
                }
                None => found.push((format!("tags.{k}"), "tag values are strings".into())),
            }
        }
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

    /// Sets one value by its dotted path, as `--set solids.a.config.iterations=3` does.
    /// The value is read as JSON when it parses (`3`, `true`, `[1,2]`, `"x"`), else as
    /// text.
    ///
    /// # Errors
    /// [`Problems`] when the assignment has no `=`, or the result is not valid run config.
    pub fn set(&mut self, assignment: &str) -> Result<(), Problems> {
        let at = Path::new("--set");
        let Some((path, raw)) = assignment.split_once('=') else {
            return Err(Problems::one(Problem::new(at, None, format!("`{assignment}` is not PATH=VALUE"))));
        };
        let value = serde_json::from_str(raw).unwrap_or_else(|_| Json::String(raw.to_owned()));
        let mut patch = value;
        for segment in path.rsplit('.') {
            if segment.is_empty() {
                return Err(Problems::one(Problem::new(at, Some(path), "an empty segment in the path")));
            }
            patch = serde_json::json!({ segment: patch });
        }
        let mut json = self.to_json();
        merge(&mut json, &patch);
        let source = self.source.clone();
        *self = RunConfig::from_json(&json, Some(at))?;
        self.source = source;
        Ok(())
    }

    /// This run config over `base` (a preset): tables merged key by key, this one's
    /// values winning.
    ///
    /// # Errors
    /// [`Problems`] when the merged config is not valid run config.
    pub fn over(&self, base: &RunConfig) -> Result<RunConfig, Problems> {
        let mut json = base.to_json();
        merge(&mut json, &self.to_json());
        let mut merged = RunConfig::from_json(&json, self.source.as_deref())?;
        merged.source = self.source.clone().or_else(|| base.source.clone());
        Ok(merged)
    }

    /// The JSON form recorded with the run.
    pub fn to_json(&self) -> Json {
        let mut solids = Map::new();
        let per_step = [("config", &self.solids), ("retry", &self.retries), ("limits", &self.step_limits)];
        for (key, values) in per_step {
            for (alias, value) in values {
                let entry = solids.entry(alias.clone()).or_insert_with(|| serde_json::json!({}));
                entry[key] = value.clone();
            }
        }
        let mut json = serde_json::json!({ "solids": solids, "tags": self.tags });
        if let Some(mode) = &self.mode {
            json["mode"] = Json::String(mode.clone());
        }
        if let Some(partition) = &self.partition {
            json["partition"] = Json::String(partition.clone());
        }
        if !self.resources.is_empty() {
            let resources: Map<String, Json> = self
                .resources
                .iter()
                .map(|(name, settings)| (name.clone(), serde_json::json!({ "config": settings })))
                .collect();
            json["resources"] = Json::Object(resources);
        }
        if let Some(execution) = &self.execution {
            json["execution"] = execution.clone();
        }
        if let Some(limits) = &self.limits {
            json["limits"] = limits.clone();
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

/// Validates `config` against a solid's compiled config schema, each error as
/// `(dotted path, message)`.
pub(crate) fn validate(validator: &jsonschema::Validator, config: &Json) -> Vec<(String, String)> {
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
        assert!(validate(&jsonschema::validator_for(&schema()).unwrap(), &config).is_empty());
    }

    #[test]
    fn every_violation_is_listed_with_its_path() {
        let validator = jsonschema::validator_for(&schema()).unwrap();
        let errors = validate(&validator, &json!({"iterations": "three", "colour": 1}));
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
    fn set_assigns_by_path_and_reads_json_or_text() {
        let mut config = RunConfig::default();
        config.set("solids.a.config.iterations=3").unwrap();
        config.set("solids.a.config.word=weft").unwrap();
        config.set("tags.team=data").unwrap();
        config.set("execution.max_concurrent=2").unwrap();
        assert_eq!(config.solids["a"], json!({"iterations": 3, "word": "weft"}));
        assert_eq!(config.tags["team"], "data");
        assert!(config.set("nonsense").is_err());
        let err = config.set("solids.a.confg.x=1").unwrap_err().to_string();
        assert!(err.contains("`solids.a.confg`: unknown key"), "{err}");
    }

    #[test]
    fn mode_and_resource_settings_round_trip_and_a_type_cannot_be_overridden() {
        let json = json!({"mode": "prod", "resources": {"db": {"config": {"url": "postgres://x"}}}});
        let config = RunConfig::from_json(&json, None).unwrap();
        assert_eq!(config.mode.as_deref(), Some("prod"));
        assert_eq!(config.resources["db"], json!({"url": "postgres://x"}));
        assert_eq!(RunConfig::from_json(&config.to_json(), None).unwrap(), config);
        let err = RunConfig::from_json(&json!({"resources": {"db": {"config": {"type": "sqlite"}}}}), None);
        assert!(
            err.unwrap_err().to_string().contains("`resources.db.config.type`: a resource's type is set by the mode")
        );
        let err = RunConfig::from_json(&json!({"mode": "not a name"}), None).unwrap_err().to_string();
        assert!(err.contains("`mode`: expected a mode name"), "{err}");
    }

    #[test]
    fn a_run_config_goes_over_a_preset_key_by_key() {
        let preset = RunConfig::from_json(&json!({"solids": {"a": {"config": {"x": 1, "y": 2}}}}), None).unwrap();
        let mine = RunConfig::from_json(&json!({"solids": {"a": {"config": {"y": 5}}}}), None).unwrap();
        assert_eq!(mine.over(&preset).unwrap().solids["a"], json!({"x": 1, "y": 5}));
    }

    #[test]
    fn merging_replaces_leaves_and_keeps_siblings() {
        let mut base = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge(&mut base, &json!({"b": {"c": 5}}));
        assert_eq!(base, json!({"a": 1, "b": {"c": 5, "d": 3}}));
    }
}
