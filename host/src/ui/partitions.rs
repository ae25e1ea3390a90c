//! The API of partitions, backfills, schedules and sensors: a partitioned pipeline's
//! status matrix, starting and canceling backfills, and each schedule's and sensor's
//! recent ticks.

use super::api::parse_body;
use super::{ApiError, Ui};
use crate::backfill::{self, BackfillRequest, KeySelection};
use crate::cancel::CancelToken;
use crate::config::RunConfig;
use crate::error::{Problem, Problems};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use std::sync::Arc;

type Result<T> = std::result::Result<T, ApiError>;
type Shared = State<Arc<Ui>>;

fn now() -> Result<jiff::Timestamp> {
    Ok(crate::daemon::clock_from_env().map_err(ApiError::bad_request)?.now())
}

/// `GET /api/pipelines/{name}/partitions`: every partition key with its state and latest run.
pub(super) async fn partitions(State(ui): Shared, Path(name): Path<String>) -> Result<Json<JsonValue>> {
    let manifest = ui.manifest()?;
    let now = now()?;
    let (set, status) = backfill::partition_status(&ui.host, &manifest, &name, now)?;
    let cadence = set.time_windows().map(|w| w.cadence.name());
    Ok(Json(json!({
        "pipeline": name,
        "partition_set": set.name,
        "description": set.describe(),
        "cadence": cadence,
        "partitions": status,
    })))
}

/// The body of `POST /api/pipelines/{name}/backfills`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackfillBody {
    from: Option<String>,
    to: Option<String>,
    partitions: Option<Vec<String>>,
    #[serde(default)]
    missing_only: bool,
    #[serde(default)]
    failed_only: bool,
    max_concurrent: Option<usize>,
    run_config: Option<JsonValue>,
}

/// `POST /api/pipelines/{name}/backfills`: starts a backfill in this process.
pub(super) async fn start(State(ui): Shared, Path(name): Path<String>, body: Bytes) -> Result<Response> {
    let body: BackfillBody = parse_body(&body)?;
    let manifest = ui.manifest()?;
    let run_config = match &body.run_config {
        // As for launches: a client may not point runs at files or servers the manifest's
        // modes do not name.
        Some(json) if json.get("resources").is_some() => {
            let message = "the UI runs with the resources its mode binds in the manifest; choose a mode instead";
            let source = std::path::Path::new("run config");
            return Err(Problems::one(Problem::new(source, Some("resources"), message)).into());
        }
        Some(json) => RunConfig::from_json(json, None)?,
        None => RunConfig::default(),
    };
    let keys = match body.partitions {
        Some(keys) => KeySelection::Keys(keys),
        None => KeySelection::Range { from: body.from, to: body.to },
    };
    let request = BackfillRequest {
        pipeline: name.clone(),
        keys,
        missing_only: body.missing_only,
        failed_only: body.failed_only,
        run_config,
        max_concurrent: body.max_concurrent.unwrap_or(4).clamp(1, 64),
    };
    let record = backfill::create_backfill(&ui.host, &manifest, &request, now()?).await?;
    ui.host.db().put_backfill(&record)?;
    let cancel = CancelToken::new();
    ui.backfills.lock().unwrap_or_else(|e| e.into_inner()).insert(record.id, cancel.clone());
    let (ui_, started) = (ui.clone(), record.clone());
    tokio::spawn(async move {
        let id = started.id;
        if let Err(e) = backfill::run_backfill(&ui_.host, &manifest, started, &|_| {}, cancel).await {
            tracing::error!("backfill {id}: {e}");
        }
        ui_.backfills.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    });
    Ok((StatusCode::CREATED, Json(json!({ "backfill": record }))).into_response())
}

/// `GET /api/backfills`: every backfill, newest first.
pub(super) async fn list(State(ui): Shared) -> Result<Json<JsonValue>> {
    Ok(Json(json!({ "backfills": backfill::backfills(&ui.host)? })))
}

/// `GET /api/backfills/{id}`: a backfill and the latest run of each of its partitions.
pub(super) async fn show(State(ui): Shared, Path(id): Path<String>) -> Result<Json<JsonValue>> {
    let record = backfill::backfill(&ui.host, &id)?;
    let partitions: Vec<JsonValue> = backfill::backfill_runs(&ui.host, &record)?
        .into_iter()
        .map(|(key, run)| json!({ "key": key, "run": run.as_ref().map(|r| r.id), "status": run.map(|r| r.status) }))
        .collect();
    Ok(Json(json!({ "backfill": record, "partitions": partitions })))
}

/// `POST /api/backfills/{id}/cancel`: cancels a backfill this server runs.
pub(super) async fn cancel(State(ui): Shared, Path(id): Path<String>) -> Result<Json<JsonValue>> {
    let record = backfill::backfill(&ui.host, &id)?;
    let token = ui.backfills.lock().unwrap_or_else(|e| e.into_inner()).get(&record.id).cloned();
    match token {
        Some(token) => {
            token.cancel();
            Ok(Json(json!({ "backfill": record.id, "canceling": true })))
        }
        None => {
            Err(ApiError::conflict(format!("backfill {} is {} and not run by this server", record.id, record.status)))
        }
    }
}

/// `GET /api/automation`: each schedule and sensor with its recent ticks.
pub(super) async fn automation(State(ui): Shared) -> Result<Json<JsonValue>> {
    let manifest = ui.manifest()?;
    let now = now()?;
    let db = ui.host.db();
    let mut schedules = Vec::new();
    for s in &manifest.schedules {
        let origin = format!("schedule/{}", s.name);
        let next = jiff::tz::TimeZone::get(&s.timezone)
            .ok()
            .and_then(|tz| s.cron.next_after(now, &tz).map(|t| t.to_zoned(tz).to_string()));
        schedules.push(json!({
            "name": s.name, "pipeline": s.pipeline, "cron": s.cron.to_string(), "timezone": s.timezone,
            "catch_up": s.catch_up, "next_tick": next, "ticks": db.ticks(&origin, 20)?,
        }));
    }
    let mut sensors = Vec::new();
    for s in &manifest.sensors {
        let origin = format!("sensor/{}", s.name);
        let kind = match &s.kind {
            crate::manifest::SensorKind::Component { .. } => "component",
            crate::manifest::SensorKind::Files { .. } => "files",
        };
        sensors.push(json!({
            "name": s.name, "pipeline": s.pipeline, "kind": kind, "interval_ms": s.interval.as_millis() as u64,
            "cursor": db.automation_state(&origin)?.cursor, "ticks": db.ticks(&origin, 20)?,
        }));
    }
    Ok(Json(json!({ "schedules": schedules, "sensors": sensors })))
}
