//! `weft test`: runs the manifest's `[tests.*]` and compares what came out with what
//! each test expects. Tests run real components in the real sandbox, recorded like any
//! run, so a failed test can be inspected with `weft show`.

use crate::manifest::{Manifest, TestDecl};
use crate::{Host, RunConfig, RunId, RunStatus, Value};

/// What one test found.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub name: String,
    /// The run it made.
    pub run: RunId,
    pub status: RunStatus,
    /// Each way the run differed from the test's expectations; empty when it passed.
    pub mismatches: Vec<String>,
    pub elapsed: std::time::Duration,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// Runs `test` of `manifest` on `host`.
///
/// # Errors
/// [`Error::Invalid`] when the test's pipeline, preset, mode or config is wrong or a
/// solid cannot be built or loaded; store faults.
pub async fn run_test(
    host: &Host,
    manifest: &Manifest,
    test: &TestDecl,
    note: &(dyn Fn(&str) + Sync),
) -> crate::Result<TestOutcome> {
    let started = std::time::Instant::now();
    let pipeline = match &test.pipeline {
        Some(name) => name.clone(),
        None => match manifest.pipelines.as_slice() {
            [only] => only.name.clone(),
            _ => {
                let message = "the manifest has several pipelines: name one with `pipeline`";
                let problem = crate::Problem::keyed(&manifest.path, Some(test.at.line), &test.at.key, message);
                return Err(crate::Problems::one(problem).into());
            }
        },
    };
    let base = match &test.preset {
        Some(preset) => manifest.preset(&pipeline, preset)?,
        None => RunConfig::default(),
    };
    let mut config = match &test.config {
        Some(json) => RunConfig::from_json(json, Some(&manifest.path))?.over(&base)?,
        None => base,
    };
    if let Some(mode) = &test.mode {
        config.mode = Some(mode.clone());
    }
    config.tags.insert("weft/test".into(), test.name.clone());
    let plan = host.plan_with_notes(manifest, &pipeline, &config, note).await?;
    // An expectation of a step or output the pipeline lacks is a typo: refuse it before running.
    for (step, output, _) in &test.expect {
        let problem = match plan.steps.iter().find(|s| &s.key == step) {
            None => format!("pipeline `{pipeline}` has no step `{step}`"),
            Some(planned) if planned.solid.def.output(output).is_none() => {
                format!("step `{step}` has no output `{output}`")
            }
            Some(_) => continue,
        };
        let key = format!("{}.expect", test.at.key);
        return Err(
            crate::Problems::one(crate::Problem::keyed(&manifest.path, Some(test.at.line), &key, problem)).into()
        );
    }
    let record = host.run(plan).await?;
    let mut mismatches = Vec::new();
    let succeeded = record.status == RunStatus::Success;
    if succeeded != test.expect_success {
        let wanted = if test.expect_success { "succeed" } else { "fail" };
        mismatches.push(format!("the run should {wanted}, but ended {}", record.status));
    }
    for (step, output, expected) in &test.expect {
        match host.output(record.id, step, output)? {
            Some(value) if matches(&value, expected) => {}
            Some(value) => {
                mismatches.push(format!("{step}.{output} is {}, expected {expected}", value.preview(200)));
            }
            None => mismatches.push(format!("{step}.{output} was not produced, expected {expected}")),
        }
    }
    Ok(TestOutcome {
        name: test.name.clone(),
        run: record.id,
        status: record.status,
        mismatches,
        elapsed: started.elapsed(),
    })
}

/// Whether an output equals what a test expects, written in TOML: text, numbers and
/// booleans as themselves, a `json` output as the document it holds, `bytes` as a UTF-8
/// string or a list of byte values.
pub fn matches(value: &Value, expected: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (value, expected) {
        (Value::Null, J::Null) => true,
        (Value::Boolean(b), J::Bool(e)) => b == e,
        (Value::Integer(i), J::Number(n)) => n.as_i64() == Some(*i),
        (Value::Float(f), J::Number(n)) => n.as_f64().is_some_and(|e| (f - e).abs() <= 1e-9 * e.abs().max(1.0)),
        (Value::Text(t), J::String(e)) => t == e,
        (Value::Bytes(b), J::String(e)) => b == e.as_bytes(),
        (Value::Bytes(b), J::Array(items)) => {
            b.len() == items.len() && b.iter().zip(items).all(|(b, e)| e.as_u64() == Some(u64::from(*b)))
        }
        (Value::Json(text), e) => serde_json::from_str::<J>(text).is_ok_and(|doc| &doc == e),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outputs_match_the_values_a_test_writes_in_toml() {
        assert!(matches(&Value::Text("hi".into()), &json!("hi")));
        assert!(!matches(&Value::Text("hi".into()), &json!("ho")));
        assert!(matches(&Value::Integer(3), &json!(3)));
        assert!(!matches(&Value::Integer(3), &json!(3.5)));
        assert!(matches(&Value::Float(0.1 + 0.2), &json!(0.3)));
        assert!(matches(&Value::Bytes(b"ab".as_slice().into()), &json!("ab")));
        assert!(matches(&Value::Bytes(vec![0, 255].into()), &json!([0, 255])));
        assert!(matches(&Value::Json(r#"{"b": 1, "a": [true]}"#.into()), &json!({"a": [true], "b": 1})));
        assert!(!matches(&Value::Json("[1]".into()), &json!([2])));
        assert!(!matches(&Value::Text("3".into()), &json!(3)), "no conversion between kinds");
    }
}
