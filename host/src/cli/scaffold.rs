//! `weft config`: a commented run config with every field a pipeline's solids take, its
//! type, default and description (Dagster's config playground, as a file).

use serde_json::Value as Json;
use std::fmt::Write as _;
use weft_host::SolidDef;
use weft_host::manifest::ModeDecl;

/// The scaffold for `steps` (alias and definition) of `pipeline`, with the resources
/// they use as `modes` bind them.
pub fn render(
    pipeline: &str,
    manifest: &str,
    steps: &[(String, std::sync::Arc<SolidDef>)],
    modes: &[ModeDecl],
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Run config for pipeline `{pipeline}` ({manifest}).");
    let _ = writeln!(out, "# Use it with: weft run {manifest} -p {pipeline} --config FILE");
    let _ = writeln!(out, "# Required fields have a placeholder to fill in; the others show their default.");
    for (alias, def) in steps {
        let _ = writeln!(out);
        match &def.config_schema {
            None => {
                let _ = writeln!(out, "# solids.{alias} ({}) takes no config.", def.name);
            }
            Some(schema) => {
                if !def.description.is_empty() {
                    let _ = writeln!(out, "# {alias}: {}", first_line(&def.description));
                }
                table(&mut out, &format!("solids.{alias}.config"), schema);
            }
        }
    }
    resources(&mut out, steps, modes);
    let _ = writeln!(out);
    let _ = writeln!(out, "# How the run executes (the pipeline's settings apply where this is silent).");
    let _ = writeln!(out, "# [execution]");
    let _ = writeln!(out, "# max_concurrent = 2      # steps at once");
    let _ = writeln!(out, "# fail_fast = false       # stop at the first failure");
    let _ = writeln!(out, "# executor = \"in_process\" # or \"multiprocess\"");
    let _ = writeln!(out, "# memoize = false         # reuse earlier results of identical steps");
    let _ = writeln!(out, "# retry = {{ max_attempts = 1, delay = \"100ms\", backoff = 2.0 }}");
    let _ = writeln!(out);
    let _ = writeln!(out, "# [limits]               # see docs/threat-model.md");
    let _ = writeln!(out, "# timeout = \"5m\"");
    let _ = writeln!(out, "# memory = \"256MiB\"");
    out
}

/// The modes to choose from, and each resource the steps use with its settings in each
/// mode, ready to override under `[resources.<name>.config]`.
fn resources(out: &mut String, steps: &[(String, std::sync::Arc<SolidDef>)], modes: &[ModeDecl]) {
    let mut needed: Vec<(&str, weft_host::ResourceKind, Vec<&str>)> = Vec::new();
    for (alias, def) in steps {
        for need in &def.resources {
            match needed.iter_mut().find(|(name, _, _)| *name == need.name) {
                Some(entry) => entry.2.push(alias),
                None => needed.push((&need.name, need.kind, vec![alias])),
            }
        }
    }
    if modes.is_empty() && needed.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let names: Vec<String> =
        modes.iter().map(|m| if m.default { format!("{} (default)", m.name) } else { m.name.clone() }).collect();
    let _ = writeln!(out, "# The mode binds the resources and gives defaults: {}", names.join(", "));
    let chosen = modes.iter().find(|m| m.default).or(modes.first());
    let _ = writeln!(out, "# mode = \"{}\"", chosen.map_or("<mode>", |m| m.name.as_str()));
    for (name, kind, users) in needed {
        let _ = writeln!(out);
        let _ = writeln!(out, "# Resource `{name}`: {kind}, used by {}.", users.join(", "));
        for mode in modes {
            let bound = mode.resources.iter().find(|r| r.name == name);
            let settings = bound.map_or_else(|| "not bound".to_owned(), |r| r.settings.to_string());
            let _ = writeln!(out, "#   {}: {settings}", mode.name);
        }
        let _ = writeln!(out, "# [resources.{name}.config]");
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// A TOML table for an object schema: scalar fields first, then nested objects.
fn table(out: &mut String, path: &str, schema: &Json) {
    let _ = writeln!(out, "[{path}]");
    let properties = schema.get("properties").and_then(Json::as_object);
    let Some(properties) = properties else {
        let _ = writeln!(out, "# (free-form: any keys)");
        return;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Json::as_array)
        .map(|r| r.iter().filter_map(Json::as_str).collect())
        .unwrap_or_default();
    let mut nested = Vec::new();
    for (name, property) in properties {
        let ty = property.get("type").and_then(Json::as_str).unwrap_or("any");
        if ty == "object" && property.get("properties").is_some() {
            nested.push((name, property));
            continue;
        }
        let is_required = required.contains(&name.as_str());
        let mut facts = vec![ty.to_owned()];
        if let Some(options) = property.get("enum").and_then(Json::as_array) {
            let options: Vec<String> = options.iter().map(Json::to_string).collect();
            facts.push(format!("one of {}", options.join(", ")));
        }
        if let Some(min) = property.get("minimum") {
            facts.push(format!("at least {min}"));
        }
        match property.get("default") {
            Some(default) => facts.push(format!("default {default}")),
            None if is_required => facts.push("required".into()),
            None => facts.push("optional".into()),
        }
        let description =
            property.get("description").and_then(Json::as_str).map(|d| format!("{d} ")).unwrap_or_default();
        let _ = writeln!(out, "# {description}({})", facts.join(", "));
        match property.get("default") {
            Some(default) => {
                let _ = writeln!(out, "# {name} = {}", toml_value(default));
            }
            None if is_required => {
                let _ = writeln!(out, "{name} = {}", placeholder(ty));
            }
            None => {
                let _ = writeln!(out, "# {name} = {}", placeholder(ty));
            }
        }
    }
    for (name, property) in nested {
        let _ = writeln!(out);
        table(out, &format!("{path}.{name}"), property);
    }
}

fn placeholder(ty: &str) -> &'static str {
    match ty {
        "integer" | "number" => "0",
        "boolean" => "false",
        "array" => "[]",
        _ => "\"\"",
    }
}

/// A JSON value written as TOML (strings, numbers, booleans, arrays, inline tables).
fn toml_value(value: &Json) -> String {
    match value {
        Json::Array(items) => format!("[{}]", items.iter().map(toml_value).collect::<Vec<_>>().join(", ")),
        Json::Object(map) => {
            let entries: Vec<String> = map.iter().map(|(k, v)| format!("{k} = {}", toml_value(v))).collect();
            format!("{{ {} }}", entries.join(", "))
        }
        Json::Null => "\"\"".into(),
        other => other.to_string(),
    }
}
