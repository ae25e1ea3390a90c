//! Outbound HTTP. `wasi:http` is linked for every step, but a request leaves the host
//! only when its host (and port) matches the allow-list of an `http` resource granted to
//! the step; any other request fails with `HTTP-request-denied` and a warning in the
//! run's event log. Only a solid that declares an `http` resource may import `wasi:http`
//! at all (see `solid.rs`).

use crate::context::EventSink;
use crate::event::{EventKind, LogLevel};
use std::future::Future;
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks};

/// Checks one allow-list entry: `host`, `host:port`, or `*.domain` (any subdomain).
pub(crate) fn check_pattern(pattern: &str) -> Result<(), String> {
    let wrong = |why: &str| Err(format!("`{pattern}` {why}; write `host`, `host:port` or `*.domain`"));
    if pattern.contains("://") {
        return wrong("has a scheme");
    }
    if pattern.contains('/') {
        return wrong("has a path");
    }
    let (host, port) = split_port(pattern);
    if let Some(port) = port
        && port.parse::<u16>().is_err()
    {
        return wrong("has a port that is not a number up to 65535");
    }
    let host = host.strip_prefix("*.").unwrap_or(host);
    let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
    if host.is_empty() || !host.chars().all(valid) {
        return wrong("is not a host name");
    }
    Ok(())
}

/// `host:port` -> (`host`, Some(`port`)); IPv6 literals keep their brackets.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') && (!host.contains(':') || host.ends_with(']')) => (host, Some(port)),
        _ => (authority, None),
    }
}

/// Whether `patterns` let a request reach `host` on `port`.
pub(crate) fn allows(patterns: &[String], host: &str, port: u16) -> bool {
    let host = host.to_ascii_lowercase();
    patterns.iter().any(|pattern| {
        let (pattern_host, pattern_port) = split_port(pattern);
        let pattern_host = pattern_host.to_ascii_lowercase();
        let host_matches = match pattern_host.strip_prefix("*.") {
            Some(domain) => host.strip_suffix(domain).is_some_and(|sub| sub.len() > 1 && sub.ends_with('.')),
            None => host == pattern_host,
        };
        host_matches && pattern_port.is_none_or(|p| p.parse() == Ok(port))
    })
}

/// The hooks of one step's `wasi:http`: its allow-list, and where denials are reported.
pub(crate) struct HttpHooks {
    pub allow: Vec<String>,
    pub sink: Option<EventSink>,
}

type SendFuture = Box<
    dyn Future<
            Output = wasmtime_wasi_http::Result<(
                http::Response<WasiBody>,
                Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
            )>,
        > + Send,
>;

impl WasiHttpHooks for HttpHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> SendFuture {
        let uri = request.uri();
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let bracketed = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        if allows(&self.allow, &host, port) || allows(&self.allow, &bracketed, port) {
            return wasmtime_wasi_http::WasiHttpHooks::send_request(&mut DefaultHooks, request, options, fut);
        }
        if let Some(sink) = &self.sink {
            let allowed = if self.allow.is_empty() { "nothing".to_owned() } else { self.allow.join(", ") };
            sink(EventKind::Log {
                level: LogLevel::Warn,
                message: format!(
                    "HTTP request to {bracketed}:{port} denied: the step's http resources allow {allowed}"
                ),
            });
        }
        Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) })
    }
}

/// wasmtime's own sender, for requests that are allowed.
struct DefaultHooks;

impl WasiHttpHooks for DefaultHooks {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_hosts_ports_and_subdomains() {
        let allow = vec!["api.example.com".to_owned(), "127.0.0.1:8080".to_owned(), "*.data.org".to_owned()];
        assert!(allows(&allow, "api.example.com", 443));
        assert!(allows(&allow, "API.example.com", 80));
        assert!(!allows(&allow, "evil-api.example.com", 443));
        assert!(allows(&allow, "127.0.0.1", 8080));
        assert!(!allows(&allow, "127.0.0.1", 8081));
        assert!(allows(&allow, "eu.data.org", 443));
        assert!(!allows(&allow, "data.org", 443));
        assert!(!allows(&allow, "baddata.org", 443));
        assert!(allows(&["[::1]:9000".to_owned()], "[::1]", 9000));
    }

    #[test]
    fn malformed_patterns_are_refused() {
        assert!(check_pattern("example.com").is_ok());
        assert!(check_pattern("*.example.com:8443").is_ok());
        assert!(check_pattern("https://example.com").is_err());
        assert!(check_pattern("example.com/path").is_err());
        assert!(check_pattern("example.com:http").is_err());
        assert!(check_pattern("").is_err());
    }
}
