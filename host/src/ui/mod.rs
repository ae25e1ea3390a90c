//! `weft ui`: the web UI and the JSON API it runs on, served from this binary. The
//! front end is three files embedded here (`assets/`), so `cargo build` is the only
//! build. The API is documented in `docs/api.md` and served as OpenAPI at
//! `/api/openapi.json`.
//!
//! Requests pass [`guard`] first: it checks the token when one is set (always, when
//! the server listens beyond loopback), refuses requests whose `Host` is not the server
//! itself on loopback (DNS rebinding), and wants JSON bodies on writes (a cross-site
//! form cannot send one).

mod api;
mod events;
mod partitions;
mod summary;

use crate::cancel::CancelToken;
use crate::error::{Error, Problem, Problems};
use crate::host::Host;
use crate::run::RunId;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use summary::{Attempt, RunSummary, StepSummary};

const INDEX_HTML: &str = include_str!("assets/index.html");
/// The front end's modules and style sheet, served under `/static/NAME`.
const STATIC: &[(&str, &str)] = &[
    ("app.js", include_str!("assets/app.js")),
    ("lib.js", include_str!("assets/lib.js")),
    ("dag.js", include_str!("assets/dag.js")),
    ("pipelines.js", include_str!("assets/pipelines.js")),
    ("runs.js", include_str!("assets/runs.js")),
    ("run-panels.js", include_str!("assets/run-panels.js")),
    ("assets.js", include_str!("assets/assets.js")),
    ("partitions.js", include_str!("assets/partitions.js")),
    ("app.css", include_str!("assets/app.css")),
];
const OPENAPI: &str = include_str!("openapi.json");
/// Serves the front end from this directory instead of the embedded copies.
pub const ASSETS_ENV: &str = "WEFT_UI_ASSETS";

/// The cookie the browser carries the token in, once `/?token=` set it.
const TOKEN_COOKIE: &str = "weft_token";
/// Run summaries kept in memory; past this many, the cache starts over.
const SUMMARY_CACHE: usize = 64;

/// How a UI server is set up.
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// The manifest whose pipelines the UI shows and launches; runs name no other files.
    pub manifest: PathBuf,
    pub addr: SocketAddr,
    /// Required on every request when set; must be set to listen beyond loopback.
    pub token: Option<String>,
}

/// A cached answer, with the stamps of the files it was made from.
type StampedBody = (Vec<api::Stamp>, axum::body::Bytes);

/// What the handlers share.
#[derive(Debug)]
struct Ui {
    host: Host,
    /// Canonical: runs are launched and re-executed from this manifest only.
    manifest: PathBuf,
    token: Option<String>,
    /// The addresses the server answers to on loopback (`Host` header check).
    loopback_port: Option<u16>,
    /// Runs this process launched and can cancel.
    launched: Mutex<HashMap<RunId, CancelToken>>,
    /// Backfills this process runs and can cancel.
    backfills: Mutex<HashMap<RunId, CancelToken>>,
    summaries: Mutex<HashMap<RunId, Arc<Mutex<RunSummary>>>>,
    /// The manifest as last read, with the stamp of its file then.
    manifest_cache: Mutex<Option<(api::Stamp, Arc<crate::manifest::Manifest>)>>,
    /// Each pipeline's graph JSON, with the stamps of the manifest and components then.
    graphs: Mutex<HashMap<String, StampedBody>>,
}

/// The UI's routes over `host`, for `options.manifest`, to mount in another axum
/// program (`options.addr` is where that program listens); [`bind`] serves it alone.
///
/// # Errors
/// [`Error::Invalid`] when the manifest does not exist, or the address is not loopback
/// and no token is given.
pub fn router(host: Host, options: &UiOptions) -> crate::Result<Router> {
    Ok(build(host, options)?.0)
}

fn build(host: Host, options: &UiOptions) -> crate::Result<(Router, Arc<Ui>)> {
    let manifest = options.manifest.canonicalize().map_err(|e| {
        Error::Invalid(Problems::one(Problem::new(&options.manifest, None, format!("cannot open the manifest: {e}"))))
    })?;
    if !options.addr.ip().is_loopback() && options.token.as_deref().is_none_or(str::is_empty) {
        return Err(Error::Invalid(Problems::one(Problem::new(
            &options.manifest,
            None,
            format!(
                "listening on {} reaches beyond this machine: give an auth token (--token or WEFT_UI_TOKEN)",
                options.addr
            ),
        ))));
    }
    let ui = Arc::new(Ui {
        host,
        manifest,
        token: options.token.clone().filter(|t| !t.is_empty()),
        loopback_port: options.addr.ip().is_loopback().then_some(options.addr.port()),
        launched: Mutex::default(),
        backfills: Mutex::default(),
        summaries: Mutex::default(),
        manifest_cache: Mutex::default(),
        graphs: Mutex::default(),
    });
    let api = Router::new()
        .route("/api/openapi.json", get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }))
        .route("/api/pipelines", get(api::pipelines))
        .route("/api/pipelines/{name}", get(api::pipeline_graph))
        .route("/api/pipelines/{name}/validate", post(api::validate))
        .route("/api/pipelines/{name}/partitions", get(partitions::partitions))
        .route("/api/pipelines/{name}/backfills", post(partitions::start))
        .route("/api/backfills", get(partitions::list))
        .route("/api/backfills/{id}", get(partitions::show))
        .route("/api/backfills/{id}/cancel", post(partitions::cancel))
        .route("/api/automation", get(partitions::automation))
        .route("/api/runs", get(api::runs).post(api::launch))
        .route("/api/runs/{id}", get(api::run))
        .route("/api/runs/{id}/graph", get(api::run_graph))
        .route("/api/runs/{id}/events", get(api::events))
        .route("/api/runs/{id}/events/stream", get(api::stream))
        .route("/api/runs/{id}/steps/{step}/logs", get(api::logs))
        .route("/api/runs/{id}/outputs", get(api::outputs))
        .route("/api/runs/{id}/outputs/{step}/{output}", get(api::output))
        .route("/api/runs/{id}/cancel", post(api::cancel))
        .route("/api/runs/{id}/reexecute", post(api::reexecute))
        .route("/api/assets", get(api::assets))
        .route("/api/assets/history", get(api::asset_history))
        .fallback(|| async { ApiError::not_found("no such API route (see /api/openapi.json)".into()) });
    let app = Router::new()
        .merge(api)
        .route("/static/{name}", get(static_file))
        .fallback(get(|| async { asset("index.html", "text/html; charset=utf-8", INDEX_HTML) }))
        .layer(middleware::from_fn_with_state(ui.clone(), guard))
        .with_state(ui.clone());
    Ok((app, ui))
}

/// A UI server bound to its address, not yet serving.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    app: Router,
    ui: Arc<Ui>,
}

/// Binds `options.addr` (port 0 picks a free port) and sets up the UI on it.
///
/// # Errors
/// As [`router`]; [`Error::Host`] when the address cannot be bound.
pub async fn bind(host: Host, options: &UiOptions) -> crate::Result<Server> {
    let listener = tokio::net::TcpListener::bind(options.addr)
        .await
        .map_err(|e| Error::Host(format!("cannot listen on {}: {e}", options.addr)))?;
    let addr = listener.local_addr().map_err(|e| Error::Host(format!("cannot listen on {}: {e}", options.addr)))?;
    let (app, ui) = build(host, &UiOptions { addr, ..options.clone() })?;
    Ok(Server { listener, app, ui })
}

impl Server {
    /// Where it listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves; then cancels the runs it launched and waits
    /// for them to record their end.
    ///
    /// # Errors
    /// [`Error::Host`] when the server fails.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> crate::Result<()> {
        let served = axum::serve(self.listener, self.app).with_graceful_shutdown(shutdown).await;
        let running: Vec<CancelToken> =
            self.ui.launched.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for token in &running {
            token.cancel();
        }
        for _ in 0..200 {
            if self.ui.launched.lock().unwrap_or_else(|e| e.into_inner()).is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        served.map_err(|e| Error::Host(format!("the UI server stopped: {e}")))
    }
}

/// An embedded asset, or with `WEFT_UI_ASSETS` set (front-end work), the file of that
/// name in that directory, read on every request.
/// `/static/NAME`: an embedded module or style sheet. With `WEFT_UI_ASSETS` set, any
/// `.js` or `.css` file of that directory, so that a new module can be tried before it is
/// embedded.
async fn static_file(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let content_type = match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        _ => return ApiError::not_found(format!("no static file `{name}`")).into_response(),
    };
    let embedded = STATIC.iter().find(|(file, _)| *file == name).map(|(_, text)| *text);
    let plain = !name.contains(['/', '\\']) && !name.starts_with('.');
    match embedded {
        Some(text) => asset(&name, content_type, text),
        None if plain && std::env::var_os(ASSETS_ENV).is_some() => asset(&name, content_type, ""),
        None => ApiError::not_found(format!("no static file `{name}`")).into_response(),
    }
}

fn asset(name: &str, content_type: &'static str, embedded: &'static str) -> Response {
    let body = match std::env::var_os(ASSETS_ENV) {
        Some(dir) => match std::fs::read_to_string(Path::new(&dir).join(name)) {
            Ok(text) => std::borrow::Cow::Owned(text),
            Err(e) => {
                let message = format!("{ASSETS_ENV}: cannot read {name} in {}: {e}", Path::new(&dir).display());
                return ApiError::not_found(message).into_response();
            }
        },
        None => std::borrow::Cow::Borrowed(embedded),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            // A rebuilt binary serves new assets: let the browser revalidate.
            (header::CACHE_CONTROL, "no-cache"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

/// Checks every request: the `Host` it was sent to, its token, and its body's type.
async fn guard(State(ui): State<Arc<Ui>>, request: Request, next: Next) -> Response {
    if let Some(port) = ui.loopback_port
        && !is_loopback_host(request.headers(), port)
    {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "this server answers to 127.0.0.1 and localhost only",
        )
        .into_response();
    }
    if let Some(token) = &ui.token {
        let query_token = query_param(request.uri().query(), "token");
        let given = bearer(request.headers()).or_else(|| cookie(request.headers())).or(query_token.clone());
        if !given.as_deref().is_some_and(|g| same_secret(g, token)) {
            return ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "this server needs its auth token")
                .into_response();
        }
        // `/?token=` in a browser: keep the token in a cookie, and out of the address bar.
        if query_token.is_some() && !request.uri().path().starts_with("/api/") {
            let mut response = Redirect::to("/").into_response();
            let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            return response;
        }
    }
    if request.method() == Method::POST {
        let json = request.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        if !json.is_some_and(|v| v.starts_with("application/json")) {
            return ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "bad_request",
                "send the body as JSON, with Content-Type: application/json",
            )
            .into_response();
        }
    }
    next.run(request).await
}

fn is_loopback_host(headers: &HeaderMap, port: u16) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else { return false };
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| host == format!("{name}:{port}") || (port == 80 && host == *name))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value.strip_prefix("Bearer ").map(str::to_owned)
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == TOKEN_COOKIE).then(|| value.to_owned())
    })
}

fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Compares in time that does not depend on where the strings differ.
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A request's query parameters, in order, repeated keys kept (`tag=a=1&tag=b=2`).
#[derive(Debug, Default)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: Option<&str>) -> Result<Params, ApiError> {
        match query {
            None => Ok(Params::default()),
            Some(q) => serde_urlencoded::from_str(q)
                .map(Params)
                .map_err(|e| ApiError::bad_request(format!("the query string cannot be read: {e}"))),
        }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A parameter parsed as `T`, with an error that names it.
    fn number<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, ApiError> {
        match self.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("query parameter `{name}`: `{text}` is not a number"))),
        }
    }
}

/// An API error: its status, a kind scripts can match, and a message (with every
/// problem, for bad input).
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    problems: Vec<Problem>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, kind, message: message.into(), problems: Vec::new() }
    }

    fn bad_request(message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn not_found(message: String) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    fn conflict(message: String) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        let message = error.to_string();
        match error {
            Error::Invalid(problems) => ApiError::from(problems),
            Error::NotFound(_) => ApiError::not_found(message),
            Error::Db { .. } => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "db", message),
            Error::Host(_) => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "host", message),
        }
    }
}

impl From<Problems> for ApiError {
    fn from(problems: Problems) -> ApiError {
        ApiError {
            problems: problems.0.clone(),
            ..ApiError::new(StatusCode::BAD_REQUEST, "invalid", problems.to_string())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "kind": self.kind, "message": self.message, "problems": problems_json(&self.problems) } });
        (self.status, axum::Json(body)).into_response()
    }
}

/// Problems as the API shows them.
fn problems_json(problems: &[Problem]) -> serde_json::Value {
    problems
        .iter()
        .map(|p| json!({ "file": p.file.display().to_string(), "line": p.line, "key": p.key, "message": p.message }))
        .collect()
}
