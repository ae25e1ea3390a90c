//! A sensor for the daemon tests, and an example of writing one: it requests a run of
//! the `ingest` solid for each new `.csv` file in `/inbox`, the directory its
//! declaration grants. Its cursor is the JSON array of the file names already requested,
//! sorted; the run key is the file name, so a file is never ingested twice.

use std::collections::BTreeSet;

use serde_json::json;
use weft_sensor::{Evaluation, RunRequest, Sensor};

const INBOX: &str = "/inbox";

struct FileSensor;

impl Sensor for FileSensor {
    fn evaluate(cursor: Option<String>) -> Result<Evaluation, String> {
        let mut seen: BTreeSet<String> = match &cursor {
            Some(text) => serde_json::from_str(text)
                .map_err(|e| format!("the cursor {text:?} is not a JSON array of file names: {e}"))?,
            None => BTreeSet::new(),
        };

        let mut new = Vec::new();
        let entries = std::fs::read_dir(INBOX).map_err(|e| format!("cannot list {INBOX}: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot list {INBOX}: {e}"))?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            let is_file = entry.file_type().map_err(|e| format!("cannot stat {INBOX}/{name}: {e}"))?.is_file();
            if is_file && name.ends_with(".csv") && !seen.contains(&name) {
                new.push(name);
            }
        }
        new.sort();

        if new.is_empty() {
            return Ok(Evaluation::skip(format!("no new files in {INBOX}")));
        }
        let runs = new
            .iter()
            .map(|name| {
                RunRequest::new()
                    .run_key(name)
                    .tag("file", name)
                    .run_config(json!({ "solids": { "ingest": { "config": { "file": name } } } }))
            })
            .collect();
        seen.extend(new);
        let cursor = serde_json::to_string(&seen).map_err(|e| format!("cannot write the cursor: {e}"))?;
        Ok(Evaluation::runs(runs).cursor(cursor))
    }
}

weft_sensor::export_sensor!(FileSensor);
