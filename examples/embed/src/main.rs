//! Embedding weft in a Rust program: open a host on a store, plan a pipeline from a
//! manifest, follow its events live, and read its outputs back from the store.
//!
//! Run it from the repository root: `cargo run -p weft-embed-example`.

use std::path::Path;
use weft_host::{EventKind, Host, Manifest, RunConfig, RunStatus};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let manifest_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../hello/weft.toml");
    let store = tempfile_dir()?.join("embedded.redb");

    let host = Host::open(&store)?;
    let manifest = Manifest::load(&manifest_path)?;
    // Planning builds the solids if they are missing, then checks everything.
    let plan = host.plan(&manifest, "serial_pipeline", &RunConfig::default()).await?;
    let mut run = host.launch(plan)?;
    while let Some(event) = run.next_event().await {
        if let EventKind::StepOutput { output, preview, .. } = &event.kind {
            println!("{} produced {output} = {preview}", event.step.as_deref().unwrap_or("?"));
        }
    }
    let record = run.wait().await?;
    anyhow::ensure!(record.status == RunStatus::Success, "run {} ended {}", record.id, record.status);

    let greeting = host.output(record.id, "salutation", "result")?;
    println!("run {} {}: salutation.result = {greeting:?}", record.id, record.status);
    println!("{} events are in {}", host.events(record.id)?.len(), store.display());
    Ok(())
}

/// A fresh directory for this demo's store.
fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("weft-embed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
