//! `[tests.<name>]`: a pipeline run with a run config and the outputs it must produce,
//! which `weft test` checks. A test runs real components in the real sandbox, so one
//! test format serves solids in every language.
//!
//! ```toml
//! [tests.greets_dagster]
//! pipeline = "hello"                              # optional when there is one pipeline
//! preset = "loud"                                 # optional
//! mode = "local_dev"                              # optional
//! config = { solids.hello.config.name = "Dagster" }
//! status = "success"                              # or "failure"; default "success"
//! expect = { "hello.result" = "Hello, Dagster!" }
//! ```

use super::{Location, Reader, join, toml_to_json};
use toml_edit::TableLike;

/// A test of a pipeline: what to run, and what must come out.
#[derive(Debug, Clone)]
pub struct TestDecl {
    pub name: String,
    /// `None`: the manifest's only pipeline.
    pub pipeline: Option<String>,
    pub preset: Option<String>,
    pub mode: Option<String>,
    /// Run config over the preset (checked when read).
    pub config: Option<serde_json::Value>,
    /// Whether the run must succeed (`status = "success"`, the default) or fail.
    pub expect_success: bool,
    /// `step.output` and the value it must have, in declaration order.
    pub expect: Vec<(String, String, serde_json::Value)>,
    pub at: Location,
}

impl Reader<'_> {
    /// Reads `[tests.*]`; `pipelines` names the declared pipelines.
    pub(super) fn tests(&mut self, root: &dyn TableLike, pipelines: &[String]) -> Vec<TestDecl> {
        let Some(table) = self.sub_table(root, "tests", "") else { return Vec::new() };
        let mut tests = Vec::new();
        for (name, item) in table.iter() {
            let key = join("tests", name);
            let at = self.location(table, name, &key);
            self.check_name(&at, "test", name);
            let Some(decl) = item.as_table_like() else {
                self.problem(&at, format!("expected a table, found {}", item.type_name()));
                continue;
            };
            self.check_keys(decl, &key, &["pipeline", "preset", "mode", "config", "status", "expect"]);
            let pipeline = self.string(decl, "pipeline", &key);
            if let Some(pipeline) = &pipeline
                && !pipelines.contains(pipeline)
            {
                let at = self.location(decl, "pipeline", &join(&key, "pipeline"));
                self.problem(&at, format!("no pipeline `{pipeline}` in this manifest"));
            }
            let preset = self.string(decl, "preset", &key);
            let mode = self.string(decl, "mode", &key);
            let config = self.test_config(decl, &key);
            let expect_success = match self.string(decl, "status", &key).as_deref() {
                None | Some("success") => true,
                Some("failure") => false,
                Some(other) => {
                    let at = self.location(decl, "status", &join(&key, "status"));
                    self.problem(&at, format!("`{other}` is not a status a test can expect: `success` or `failure`"));
                    true
                }
            };
            let expect = self.expectations(decl, &key);
            tests.push(TestDecl { name: name.to_owned(), pipeline, preset, mode, config, expect_success, expect, at });
        }
        tests
    }

    fn test_config(&mut self, decl: &dyn TableLike, key: &str) -> Option<serde_json::Value> {
        let item = decl.get("config")?;
        let at = self.location(decl, "config", &join(key, "config"));
        let json = toml_to_json(item).filter(serde_json::Value::is_object);
        let Some(json) = json else {
            self.problem(&at, "expected a table of run config (`solids`, `execution`, `limits`, `tags`)");
            return None;
        };
        if let Err(problems) = crate::config::RunConfig::from_json(&json, None) {
            for problem in problems.0 {
                let inner = problem.key.unwrap_or_default();
                self.problem(&Location { line: at.line, key: join(&at.key, &inner) }, problem.message);
            }
            return None;
        }
        Some(json)
    }

    /// Reads `expect = { "step.output" = value, ... }`.
    fn expectations(&mut self, decl: &dyn TableLike, key: &str) -> Vec<(String, String, serde_json::Value)> {
        let Some(table) = self.sub_table(decl, "expect", key) else { return Vec::new() };
        let expect_key = join(key, "expect");
        let mut expect = Vec::new();
        for (target, item) in table.iter() {
            let at = self.location(table, target, &join(&expect_key, target));
            let Some((step, output)) = target.split_once('.').filter(|(s, o)| !s.is_empty() && !o.is_empty()) else {
                self.problem(&at, format!("`{target}` is not `step.output`"));
                continue;
            };
            match toml_to_json(item) {
                Some(value) => expect.push((step.to_owned(), output.to_owned(), value)),
                None => self.problem(&at, "expected a value: text, a number, a boolean, an array or a table"),
            }
        }
        expect
    }
}
