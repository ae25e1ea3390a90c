//! `weft ui`: the web UI and its JSON API for one manifest, on one address.

use super::Place;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;
use weft_host::ui::UiOptions;
use weft_host::{Error, Host, Manifest};

pub async fn ui(
    place: &Place,
    manifest: &Path,
    ip: IpAddr,
    port: u16,
    token: Option<String>,
    daemon: bool,
) -> anyhow::Result<ExitCode> {
    // Read now, so that a broken manifest is reported here rather than on every page.
    let manifest = Manifest::load(manifest).map_err(Error::from)?;
    let db_path = place.db.clone().unwrap_or_else(|| weft_host::default_db_path(&manifest.path));
    let host = Host::open(&db_path)?;
    let stop = weft_host::CancelToken::new();
    let daemon_task = if daemon {
        let clock = weft_host::daemon::clock_from_env().map_err(Error::NotFound)?;
        let daemon = weft_host::daemon::Daemon::new(host.clone(), manifest.clone(), clock);
        let stop = stop.clone();
        eprintln!(
            "weft ui: running the daemon for {} schedule(s), {} sensor(s)",
            manifest.schedules.len(),
            manifest.sensors.len()
        );
        Some(tokio::spawn(async move {
            let tell = |tick: &weft_host::db::Tick| eprintln!("{}", super::daemon::describe(tick));
            // The UI stops at once: runs still going are canceled.
            daemon.run(std::time::Duration::from_secs(1), stop.clone(), stop, &tell).await
        }))
    } else {
        None
    };
    let options = UiOptions { manifest: manifest.path.clone(), addr: SocketAddr::new(ip, port), token };
    let server = weft_host::ui::bind(host, &options).await?;
    let addr = server.local_addr();
    let login = if options.token.is_some() { "?token=<your token>" } else { "" };
    eprintln!("weft ui: http://{addr}/{login} ({}, store {})", manifest.path.display(), db_path.display());
    server
        .run(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    stop.cancel();
    if let Some(task) = daemon_task {
        task.await.map_err(|e| Error::Host(format!("the daemon crashed: {e}")))??;
    }
    Ok(ExitCode::SUCCESS)
}
