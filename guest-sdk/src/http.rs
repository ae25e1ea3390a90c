//! Outbound HTTP through `wasi:http`. A solid that uses it declares an `http` resource
//! (`#[solid(resources(api = http))]`); the host sends a request only to the hosts the
//! run's mode allows for it, and refuses any other with [`HttpError::Denied`].
//!
//! ```ignore
//! let response = weft_guest::http::get("https://api.example.com/v1/rates")?;
//! let rates: serde_json::Value = serde_json::from_slice(&response.body)?;
//! ```

use crate::Failure;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, Scheme};
use wasip2::io::streams::StreamError;

/// A response, read whole.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case), as text.
    pub fn header(&self, name: &str) -> Option<String> {
        let (_, value) = self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        String::from_utf8(value.clone()).ok()
    }

    /// The body as UTF-8 text (invalid bytes replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL could not be read.
    InvalidUrl(String),
    /// The host is not on the allow-list of the step's http resources.
    Denied(String),
    /// The request failed on the way (connection, TLS, protocol).
    Failed(String),
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpError::InvalidUrl(m) => write!(f, "invalid URL: {m}"),
            HttpError::Denied(url) => write!(f, "HTTP request to {url} denied by the host"),
            HttpError::Failed(m) => write!(f, "HTTP request failed: {m}"),
        }
    }
}

/// A failed request fails the step; one that failed on the way may be retried.
impl From<HttpError> for Failure {
    fn from(error: HttpError) -> Failure {
        let retryable = matches!(error, HttpError::Failed(_));
        let failure = Failure::new(error.to_string());
        if retryable { failure.retryable() } else { failure }
    }
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, HttpError> {
    request("GET", url, &[], None)
}

/// `POST url` with `body`.
pub fn post(url: &str, content_type: &str, body: &[u8]) -> Result<Response, HttpError> {
    request("POST", url, &[("content-type", content_type.as_bytes())], Some(body))
}

/// Sends a request and reads the whole response.
pub fn request(method: &str, url: &str, headers: &[(&str, &[u8])], body: Option<&[u8]>) -> Result<Response, HttpError> {
    let failed = |what: &str| HttpError::Failed(what.to_owned());
    let (scheme, authority, path) = split_url(url)?;
    let list: Vec<(String, Vec<u8>)> = headers.iter().map(|(n, v)| ((*n).to_owned(), v.to_vec())).collect();
    let fields = Fields::from_list(&list).map_err(|e| HttpError::Failed(format!("bad header: {e:?}")))?;
    let outgoing = OutgoingRequest::new(fields);
    let method = match method {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "HEAD" => Method::Head,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    };
    outgoing.set_method(&method).map_err(|()| failed("bad method"))?;
    outgoing.set_scheme(Some(&scheme)).map_err(|()| failed("bad scheme"))?;
    outgoing.set_authority(Some(authority)).map_err(|()| HttpError::InvalidUrl(url.to_owned()))?;
    outgoing.set_path_with_query(Some(&path)).map_err(|()| HttpError::InvalidUrl(url.to_owned()))?;
    let outgoing_body = outgoing.body().map_err(|()| failed("the request body was taken"))?;
    if let Some(bytes) = body {
        let stream = outgoing_body.write().map_err(|()| failed("the request body stream was taken"))?;
        // wasi:io lets one call write at most 4096 bytes.
        for chunk in bytes.chunks(4096) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| HttpError::Failed(format!("sending the body: {e:?}")))?;
        }
    }
    OutgoingBody::finish(outgoing_body, None).map_err(|e| error(url, e))?;
    let pending = outgoing_handler::handle(outgoing, None).map_err(|e| error(url, e))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(code))) => return Err(error(url, code)),
        Some(Err(())) | None => return Err(failed("the response was lost")),
    };
    let status = response.status();
    let headers = response.headers().entries();
    let incoming = response.consume().map_err(|()| failed("the response body was taken"))?;
    let stream = incoming.stream().map_err(|()| failed("the response body stream was taken"))?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(e)) => {
                return Err(HttpError::Failed(format!("reading the body: {}", e.to_debug_string())));
            }
        }
    }
    Ok(Response { status, headers, body })
}

fn error(url: &str, code: ErrorCode) -> HttpError {
    match code {
        ErrorCode::HttpRequestDenied => HttpError::Denied(url.to_owned()),
        other => HttpError::Failed(format!("{other:?}")),
    }
}

/// `http://host:port/path?query` -> (scheme, authority, path with query).
fn split_url(url: &str) -> Result<(Scheme, &str, String), HttpError> {
    let invalid = || HttpError::InvalidUrl(format!("`{url}`: expected http:// or https:// with a host"));
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(invalid()),
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.is_empty() {
        return Err(invalid());
    }
    Ok((scheme, authority, if path.starts_with('/') { path.to_owned() } else { format!("/{path}") }))
}
