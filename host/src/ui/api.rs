//! The JSON API's handlers: pipelines, launching and validating, runs and their
//! summaries, events, compute logs, outputs, cancel, re-execution, assets.

use super::events::{self, EventFilter, PageStart};
use super::summary::RunSummary;
use super::{ApiError, Params, SUMMARY_CACHE, Ui};
use crate::config::RunConfig;
use crate::db::{RunFilter, Stream};
use crate::error::{Problem, Problems};
use crate::host::Reexecution;
use crate::manifest::Manifest;
use crate::plan::LockedPipeline;
use crate::run::{RunId, RunRecord, RunStatus};
use crate::value::Value;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value as JsonValue, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

type Result<T> = std::result::Result<T, ApiError>;
type Shared = State<Arc<Ui>>;

/// Stdout, stderr and output values past this size are cut (logs) or previewed (values).
const MAX_BODY: usize = 1 << 20;

impl Ui {
    /// The manifest, read again only when its file changed (a 10,000-step manifest takes
    /// tens of milliseconds to read).
    pub(super) fn manifest(&self) -> Result<Arc<Manifest>> {
        let stamp = stamp(&self.manifest);
        let mut cached = self.manifest_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, manifest)) = cached.as_ref()
            && *at == stamp
        {
            return Ok(manifest.clone());
        }
        let manifest = Arc::new(Manifest::load(&self.manifest)?);
        *cached = Some((stamp, manifest.clone()));
        Ok(manifest)
    }

    fn run_id(&self, text: &str) -> Result<RunId> {
        Ok(self.host.db().resolve_run(text)?)
    }

    /// Runs `work` on a blocking thread: folding a long log or scanning it must not hold
    /// up the server's other requests.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Ui) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let ui = self.clone();
        tokio::task::spawn_blocking(move || work(&ui))
            .await
            .map_err(|e| ApiError::from(crate::error::Error::Host(format!("a request's worker failed: {e}"))))?
    }

    /// The run's summary, brought up to date with the events stored since it was last
    /// asked for. Blocking: call it from [`Ui::blocking`].
    fn summary(&self, id: RunId) -> Result<Arc<Mutex<RunSummary>>> {
        let summary = {
            let mut cache = self.summaries.lock().unwrap_or_else(|e| e.into_inner());
            if cache.len() >= SUMMARY_CACHE && !cache.contains_key(&id) {
                cache.clear();
            }
            cache.entry(id).or_default().clone()
        };
        {
            let mut folded = summary.lock().unwrap_or_else(|e| e.into_inner());
            for event in self.host.db().events_from(id, folded.next_seq())? {
                folded.apply(&event);
            }
        }
        Ok(summary)
    }
}

/// When a file last changed, as far as a cache needs to know.
pub(super) type Stamp = Option<(std::time::SystemTime, u64)>;

fn stamp(path: &std::path::Path) -> Stamp {
    std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len())))
}

pub(super) async fn pipelines(State(ui): Shared) -> Result<Json<JsonValue>> {
    let manifest = ui.manifest()?;
    let pipelines: Vec<JsonValue> = manifest
        .pipelines
        .iter()
        .map(|p| {
            json!({
                "name": p.name, "description": p.description, "steps": p.steps.len(),
                "presets": p.presets.iter().map(|(name, _)| name).collect::<Vec<_>>(),
                "partition_set": p.partitions,
            })
        })
        .collect();
    Ok(Json(
        json!({ "manifest": ui.manifest.display().to_string(), "modes": modes(&manifest), "pipelines": pipelines }),
    ))
}

fn modes(manifest: &Manifest) -> Vec<JsonValue> {
    manifest
        .modes
        .iter()
        .map(|m| {
            json!({
                "name": m.name, "description": m.description, "default": m.default,
                "resources": m.resources.iter().map(|r| &r.name).collect::<Vec<_>>(),
            })
        })
        .collect()
}

pub(super) async fn pipeline_graph(State(ui): Shared, Path(name): Path<String>) -> Result<Response> {
    let manifest = ui.manifest()?;
    let Some(decl) = manifest.pipeline(&name) else {
        return Err(ApiError::not_found(format!("no pipeline `{name}` in {}", ui.manifest.display())));
    };
    // The graph changes only with the manifest or a component.
    let used: std::collections::BTreeSet<&str> = decl.steps.iter().map(|s| s.solid.as_str()).collect();
    let stamps: Vec<Stamp> = std::iter::once(stamp(&ui.manifest))
        .chain(used.iter().filter_map(|name| manifest.solid(name)).map(|s| stamp(&s.wasm)))
        .collect();
    if let Some((at, body)) = ui.graphs.lock().unwrap_or_else(|e| e.into_inner()).get(&name)
        && *at == stamps
    {
        return Ok(json_body(body.clone()));
    }
    let steps = ui.host.pipeline_graph(&manifest, &name).await?;
    let (name_, manifest_) = (name.clone(), manifest.clone());
    let body = ui.blocking(move |_| Ok(Bytes::from(graph_json(&manifest_, &name_, &steps)))).await?;
    ui.graphs.lock().unwrap_or_else(|e| e.into_inner()).insert(name, (stamps, body.clone()));
    Ok(json_body(body))
}

/// A JSON body already rendered; `Bytes` clones share it, so a cached answer of a
/// megabyte is not copied per request.
fn json_body(body: Bytes) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A pipeline's graph: each solid's definition once, and each step's wiring and config.
fn graph_json(manifest: &Manifest, name: &str, steps: &[crate::plan::PlannedStep]) -> String {
    let decl = manifest.pipeline(name).expect("the caller found the pipeline");
    let mut solids = serde_json::Map::new();
    let mut steps_json = Vec::with_capacity(steps.len());
    for (step, declared) in steps.iter().zip(&decl.steps) {
        let def = &step.solid.def;
        if !solids.contains_key(&declared.solid) {
            let language = manifest
                .solid(&declared.solid)
                .and_then(|s| s.source.as_ref())
                .map_or("component", |s| s.language.name());
            solids.insert(
                declared.solid.clone(),
                json!({
                    "name": def.name, "description": def.description, "version": def.version, "language": language,
                    "inputs": def.inputs.iter().map(|i| json!({
                        "name": i.name, "type": i.ty, "description": i.description,
                        "optional": i.optional, "multiple": i.multiple,
                    })).collect::<Vec<_>>(),
                    "outputs": def.outputs.iter().map(|o| json!({
                        "name": o.name, "type": o.ty, "description": o.description, "optional": o.optional,
                    })).collect::<Vec<_>>(),
                    "config_schema": def.config_schema,
                    "resources": def.resources.iter().map(|r| json!({ "name": r.name, "kind": r.kind })).collect::<Vec<_>>(),
                    "tags": def.tags.iter().cloned().collect::<BTreeMap<_, _>>(),
                }),
            );
        }
        // A step's config is sent when the manifest gives one or the schema requires
        // something: the rest run on their defaults, and a 10,000-step graph is not
        // 10,000 copies of them.
        let required = def.config_schema.as_ref().and_then(|s| s.get("required")).and_then(|r| r.as_array());
        let has_config = declared.config.is_some() || required.is_some_and(|r| !r.is_empty());
        let mut sources = serde_json::Map::new();
        for input in &step.inputs {
            let from: Vec<JsonValue> =
                input.sources.iter().map(|(s, output)| json!({ "step": steps[*s].key, "output": output })).collect();
            sources.insert(input.name.clone(), JsonValue::Array(from));
        }
        let mut entry = json!({ "key": step.key, "solid": declared.solid });
        if !sources.is_empty() {
            entry["sources"] = JsonValue::Object(sources);
        }
        if has_config {
            entry["config"] = step.config.clone();
        }
        steps_json.push(entry);
    }
    json!({
        "name": decl.name, "description": decl.description, "modes": modes(manifest),
        "presets": decl.presets.iter().map(|(name, config)| json!({ "name": name, "config": config })).collect::<Vec<_>>(),
        "solids": solids,
        "steps": steps_json,
    })
    .to_string()
}

/// What the launchpad sends: a pipeline and how to run it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LaunchRequest {
    pipeline: Option<String>,
    mode: Option<String>,
    preset: Option<String>,
    config: Option<JsonValue>,
    selection: Option<String>,
    tags: Option<BTreeMap<String, String>>,
}

pub(super) fn parse_body<T: serde::de::DeserializeOwned + Default>(body: &Bytes) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("the request body: {e}")))
}

/// Plans a launch request exactly as a launch would.
async fn plan_request(ui: &Ui, pipeline: &str, request: &LaunchRequest) -> Result<LockedPipeline> {
    let manifest = ui.manifest()?;
    if manifest.pipeline(pipeline).is_none() {
        return Err(ApiError::not_found(format!("no pipeline `{pipeline}` in {}", ui.manifest.display())));
    }
    let source = std::path::Path::new("run config");
    let base = match request.preset.as_deref().filter(|p| !p.is_empty()) {
        Some(preset) => manifest.preset(pipeline, preset)?,
        None => RunConfig::default(),
    };
    let mut config = match &request.config {
        Some(json) if json.get("resources").is_some() => {
            return Err(Problems::one(Problem::new(
                source,
                Some("resources"),
                "the UI runs with the resources its mode binds in the manifest; choose a mode instead",
            ))
            .into());
        }
        Some(json) if !json.is_null() => RunConfig::from_json(json, Some(source))?.over(&base)?,
        _ => base,
    };
    if let Some(mode) = request.mode.as_deref().filter(|m| !m.is_empty()) {
        config.mode = Some(mode.to_owned());
    }
    config.tags.extend(request.tags.clone().unwrap_or_default());
    let mut plan = ui.host.plan(&manifest, pipeline, &config).await?;
    if let Some(selection) = request.selection.as_deref().filter(|s| !s.trim().is_empty()) {
        plan.select(selection, None)?;
    }
    Ok(plan)
}

fn planned_steps(plan: &LockedPipeline) -> Vec<&str> {
    (0..plan.steps.len())
        .filter(|i| plan.selection.as_ref().is_none_or(|s| s.steps.contains(i)))
        .map(|i| plan.steps[i].key.as_str())
        .collect()
}

pub(super) async fn validate(State(ui): Shared, Path(name): Path<String>, body: Bytes) -> Result<Json<JsonValue>> {
    let request: LaunchRequest = parse_body(&body)?;
    match plan_request(&ui, &name, &request).await {
        Ok(plan) => Ok(Json(json!({ "ok": true, "steps": planned_steps(&plan), "problems": [] }))),
        Err(error) if error.kind == "invalid" => {
            Ok(Json(json!({ "ok": false, "problems": super::problems_json(&error.problems) })))
        }
        Err(error) => Err(error),
    }
}

pub(super) async fn launch(State(ui): Shared, body: Bytes) -> Result<Response> {
    let request: LaunchRequest = parse_body(&body)?;
    let Some(pipeline) = request.pipeline.clone() else {
        return Err(ApiError::bad_request("the request body names no `pipeline`".into()));
    };
    let plan = plan_request(&ui, &pipeline, &request).await?;
    start(&ui, plan)
}

/// Launches a planned run, keeping a way to cancel it while it runs.
fn start(ui: &Arc<Ui>, plan: LockedPipeline) -> Result<Response> {
    let handle = ui.host.launch(plan)?;
    let id = handle.id;
    ui.launched.lock().unwrap_or_else(|e| e.into_inner()).insert(id, handle.cancel_token());
    let record = ui.host.db().run(id)?;
    let ui_ = ui.clone();
    tokio::spawn(async move {
        if let Err(e) = handle.wait().await {
            tracing::error!("run {id}: {e}");
        }
        ui_.launched.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    });
    Ok((StatusCode::CREATED, Json(json!({ "run": record }))).into_response())
}

pub(super) async fn runs(State(ui): Shared, RawQuery(query): RawQuery) -> Result<Json<JsonValue>> {
    let params = Params::parse(query.as_deref())?;
    let status = params.get("status").filter(|s| !s.is_empty()).map(str::parse::<RunStatus>).transpose();
    let status = status.map_err(|e| ApiError::bad_request(format!("query parameter `status`: {e}")))?;
    let tags = params
        .all("tag")
        .filter(|t| !t.is_empty())
        .map(RunFilter::parse_tag)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| ApiError::bad_request(format!("query parameter `tag`: {e}")))?;
    let before = match params.get("before").filter(|b| !b.is_empty()) {
        Some(text) => {
            Some(text.parse::<RunId>().map_err(|e| ApiError::bad_request(format!("query parameter `before`: {e}")))?)
        }
        None => None,
    };
    let limit = params.number::<usize>("limit")?.unwrap_or(50).clamp(1, 1000);
    let filter = RunFilter {
        pipeline: params.get("pipeline").filter(|p| !p.is_empty()).map(str::to_owned),
        status,
        tags,
        since: params.number("since")?,
        until: params.number("until")?,
        before,
        limit: Some(limit + 1),
    };
    let mut runs = ui.host.db().runs_matching(&filter)?;
    let next = (runs.len() > limit).then(|| runs[limit - 1].id.to_string());
    runs.truncate(limit);
    Ok(Json(json!({ "runs": runs, "next": next })))
}

/// The body of `GET /api/runs/{id}`.
#[derive(serde::Serialize)]
struct RunView<'a> {
    run: &'a RunRecord,
    last_seq: Option<u64>,
    events: u64,
    log_lines: u64,
    steps: &'a [super::StepSummary],
}

pub(super) async fn run(State(ui): Shared, Path(id): Path<String>) -> Result<Response> {
    let id = ui.run_id(&id)?;
    let body = ui
        .blocking(move |ui| {
            // The record first: if it says the run ended, the events read after it are all.
            let record = ui.host.db().run(id)?;
            let summary = ui.summary(id)?;
            let mut summary = summary.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, body)) = &summary.rendered
                && *at == summary.next_seq()
            {
                return Ok(body.clone());
            }
            let view = RunView {
                run: &record,
                last_seq: summary.next_seq().checked_sub(1),
                events: summary.events,
                log_lines: summary.log_lines,
                steps: &summary.steps,
            };
            let body = Bytes::from(serde_json::to_vec(&view).map_err(|e| crate::error::Error::Host(e.to_string()))?);
            if record.status.is_finished() {
                summary.rendered = Some((summary.next_seq(), body.clone()));
            }
            Ok(body)
        })
        .await?;
    Ok(json_body(body))
}

/// The graph of the run's pipeline, as `GET /api/pipelines/{name}` gives it: the run
/// page asks for it at once, without waiting to learn the pipeline's name.
pub(super) async fn run_graph(state: Shared, Path(id): Path<String>) -> Result<Response> {
    let id = state.run_id(&id)?;
    let pipeline = state.host.db().run(id)?.pipeline;
    pipeline_graph(state, Path(pipeline)).await
}

pub(super) async fn events(State(ui): Shared, Path(id): Path<String>, RawQuery(query): RawQuery) -> Result<Response> {
    let id = ui.run_id(&id)?;
    let params = Params::parse(query.as_deref())?;
    let filter = EventFilter::from_params(&params)?;
    let start = if params.get("tail").is_some_and(|t| t == "1" || t == "true") {
        PageStart::Tail
    } else if let Some(before) = params.number("before")? {
        PageStart::Before(before)
    } else {
        PageStart::After(params.number("after")?)
    };
    let limit = params.number("limit")?.unwrap_or(200);
    let body = ui.blocking(move |ui| events::page(ui, id, start, limit, &filter)).await?;
    Ok(json_body(Bytes::from(body)))
}

pub(super) async fn stream(
    State(ui): Shared,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response> {
    let id = ui.run_id(&id)?;
    let params = Params::parse(query.as_deref())?;
    let filter = EventFilter::from_params(&params)?;
    // A reconnecting EventSource says where it was.
    let resumed = headers.get("last-event-id").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let after = resumed.or(params.number("after")?);
    Ok(events::stream(ui.clone(), id, after, filter).into_response())
}

pub(super) async fn logs(State(ui): Shared, Path((id, step)): Path<(String, String)>) -> Result<Json<JsonValue>> {
    let id = ui.run_id(&id)?;
    let logs = ui.host.db().compute_logs(id, &step)?;
    if logs.is_empty() {
        let wanted = step.clone();
        let known =
            ui.blocking(move |ui| Ok(ui.summary(id)?.lock().unwrap_or_else(|e| e.into_inner()).has_step(&wanted)));
        if !known.await? {
            return Err(ApiError::not_found(format!("run {id} has no step `{step}`")));
        }
    }
    let mut attempts: BTreeMap<u32, serde_json::Map<String, JsonValue>> = BTreeMap::new();
    for (attempt, stream, bytes) in logs {
        let entry = attempts.entry(attempt).or_insert_with(|| {
            let mut empty = serde_json::Map::new();
            empty.insert("attempt".into(), json!(attempt));
            for name in ["stdout", "stderr"] {
                empty.insert(name.into(), json!(""));
                empty.insert(format!("{name}_bytes"), json!(0));
            }
            empty.insert("truncated".into(), json!(false));
            empty
        });
        let name = if stream == Stream::Stdout { "stdout" } else { "stderr" };
        let cut = bytes.len() > MAX_BODY;
        entry.insert(format!("{name}_bytes"), json!(bytes.len()));
        entry.insert(name.into(), json!(String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY)])));
        if cut {
            entry.insert("truncated".into(), json!(true));
        }
    }
    Ok(Json(json!({ "attempts": attempts.into_values().collect::<Vec<_>>() })))
}

pub(super) async fn outputs(
    State(ui): Shared,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Json<JsonValue>> {
    let id = ui.run_id(&id)?;
    let params = Params::parse(query.as_deref())?;
    let only = params.get("step").filter(|s| !s.is_empty());
    let db = ui.host.db();
    let mut out = Vec::new();
    for (step, output, digest) in db.outputs_of(id)? {
        if only.is_some_and(|s| s != step) {
            continue;
        }
        let Some(value) = db.blob(&digest)? else { continue };
        out.push(json!({
            "step": step, "output": output, "type": value.kind(), "size": value.size(),
            "digest": blake3::Hash::from_bytes(digest).to_hex().to_string(), "preview": value.preview(200),
        }));
    }
    Ok(Json(json!({ "outputs": out })))
}

pub(super) async fn output(
    State(ui): Shared,
    Path((id, step, output)): Path<(String, String, String)>,
) -> Result<Json<JsonValue>> {
    let id = ui.run_id(&id)?;
    let Some(value) = ui.host.db().output(id, &step, &output)? else {
        return Err(ApiError::not_found(format!("run {id} has no output `{step}.{output}`")));
    };
    let mut body = json!({
        "type": value.kind(), "size": value.size(), "digest": value.digest().to_hex().to_string(),
    });
    if value.size() > MAX_BODY {
        body["value"] = json!(value.preview(4096));
        body["truncated"] = json!(true);
    } else {
        body["value"] = value_json(&value);
    }
    Ok(Json(body))
}

/// A value as JSON: JSON documents as themselves, bytes as base64.
fn value_json(value: &Value) -> JsonValue {
    match value {
        Value::Null => JsonValue::Null,
        Value::Boolean(b) => json!(b),
        Value::Integer(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::Text(t) => json!(t),
        Value::Bytes(b) => json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) }),
        Value::Json(text) => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
    }
}

pub(super) async fn cancel(State(ui): Shared, Path(id): Path<String>) -> Result<Response> {
    let id = ui.run_id(&id)?;
    let token = ui.launched.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
    let record = ui.host.db().run(id)?;
    match token {
        Some(token) => token.cancel(),
        None if record.status.is_finished() => {
            return Err(ApiError::conflict(format!("run {id} has already ended: {}", record.status)));
        }
        None => {
            // Owner tokens start with the owner's process id (`owner.rs`).
            let process = record.owner.as_deref().and_then(|t| t.split('-').next()).unwrap_or("unknown");
            return Err(ApiError::conflict(format!(
                "run {id} is run by another weft process (pid {process}); cancel it there (Ctrl-C, or kill -INT {process})"
            )));
        }
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "run": record }))).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReexecuteRequest {
    how: Option<String>,
    steps: Option<String>,
}

pub(super) async fn reexecute(State(ui): Shared, Path(id): Path<String>, body: Bytes) -> Result<Response> {
    let id = ui.run_id(&id)?;
    let request: ReexecuteRequest = parse_body(&body)?;
    let how = match (request.how.as_deref().unwrap_or("all"), request.steps) {
        ("all", _) => Reexecution::All,
        ("from_failure", _) => Reexecution::FromFailure,
        ("steps", Some(steps)) if !steps.trim().is_empty() => Reexecution::Steps(steps),
        ("steps", _) => return Err(ApiError::bad_request("`how: steps` needs `steps`, a step selection".into())),
        (other, _) => {
            return Err(ApiError::bad_request(format!("`how`: `{other}` is not all, from_failure or steps")));
        }
    };
    let record = ui.host.db().run(id)?;
    ensure_same_manifest(&ui, &record)?;
    let plan = ui.host.reexecute(id, &how, None).await?;
    start(&ui, plan)
}

/// Runs launched here name only the manifest the server was started with.
fn ensure_same_manifest(ui: &Ui, record: &RunRecord) -> Result<()> {
    let recorded = std::path::Path::new(&record.manifest);
    if recorded.canonicalize().is_ok_and(|p| p == ui.manifest) {
        return Ok(());
    }
    Err(ApiError::conflict(format!(
        "run {} was launched from {}; this UI runs {} only",
        record.id,
        record.manifest,
        ui.manifest.display()
    )))
}

pub(super) async fn assets(State(ui): Shared) -> Result<Json<JsonValue>> {
    Ok(Json(json!({ "assets": ui.host.db().assets()? })))
}

pub(super) async fn asset_history(State(ui): Shared, RawQuery(query): RawQuery) -> Result<Json<JsonValue>> {
    let params = Params::parse(query.as_deref())?;
    let Some(key) = params.get("key").filter(|k| !k.is_empty()) else {
        return Err(ApiError::bad_request("query parameter `key` is missing".into()));
    };
    Ok(Json(json!({ "key": key, "history": ui.host.db().asset_history(key)? })))
}
