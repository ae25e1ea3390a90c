//! A run's event log over HTTP: filtered pages (forwards, backwards, or the tail) and a
//! live stream. Events go out as the JSON they are stored as; a page of a log of 100,000
//! lines reads only what it returns plus what the filters pass over.

use super::{ApiError, Params, Ui};
use crate::event::LogLevel;
use crate::run::RunId;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// At most this many events in one page.
const MAX_PAGE: usize = 1000;
/// How often a stream looks for new events. Runs launched by a `weft run` in another
/// process reach this one only through the store, so a stream polls it.
const POLL_INTERVAL: Duration = Duration::from_millis(150);

/// Which events pass: all of the given conditions.
#[derive(Debug, Default)]
pub(super) struct EventFilter {
    step: Option<String>,
    min_level: Option<LogLevel>,
    types: Option<Vec<String>>,
    /// Lower case; matched against the event's JSON, ASCII case-insensitively.
    search: Option<String>,
}

/// The fields of a stored event the filters look at; serde skips the rest unparsed.
#[derive(Deserialize)]
struct Head {
    step: Option<String>,
    event: String,
    level: Option<LogLevel>,
}

impl EventFilter {
    pub(super) fn from_params(params: &Params) -> Result<EventFilter, ApiError> {
        let min_level = match params.get("level") {
            None | Some("") | Some("all") => None,
            Some("warning") => Some(LogLevel::Warn),
            Some(text) => Some(serde_json::from_value(serde_json::json!(text)).map_err(|_| {
                ApiError::bad_request(format!(
                    "query parameter `level`: `{text}` is not a log level (trace, debug, info, warn, error)"
                ))
            })?),
        };
        let nonempty = |name: &str| params.get(name).filter(|v| !v.is_empty()).map(str::to_owned);
        Ok(EventFilter {
            step: nonempty("step"),
            min_level,
            types: nonempty("type").map(|t| t.split(',').map(|s| s.trim().to_owned()).collect()),
            search: nonempty("q").map(|q| q.to_lowercase()),
        })
    }

    fn passes(&self, raw: &[u8]) -> bool {
        if let Some(search) = &self.search
            && !contains_ignoring_case(raw, search.as_bytes())
        {
            return false;
        }
        if self.step.is_none() && self.min_level.is_none() && self.types.is_none() {
            return true;
        }
        let Ok(head) = serde_json::from_slice::<Head>(raw) else { return false };
        self.step.as_ref().is_none_or(|s| head.step.as_ref() == Some(s))
            && self.types.as_ref().is_none_or(|t| t.contains(&head.event))
            && self.min_level.is_none_or(|min| head.level.is_none_or(|level| level >= min))
    }
}

fn contains_ignoring_case(haystack: &[u8], lower_needle: &[u8]) -> bool {
    lower_needle.is_empty() || haystack.windows(lower_needle.len()).any(|w| w.eq_ignore_ascii_case(lower_needle))
}

/// Where a page starts.
#[derive(Debug, Clone, Copy)]
pub(super) enum PageStart {
    /// The events after this one (from the start when `None`).
    After(Option<u64>),
    /// The last events before this one.
    Before(u64),
    /// The last events of the log.
    Tail,
}

/// A page of matching events, as one JSON document built from the stored bytes.
pub(super) fn page(
    ui: &Ui,
    id: RunId,
    start: PageStart,
    limit: usize,
    filter: &EventFilter,
) -> Result<String, ApiError> {
    let limit = limit.clamp(1, MAX_PAGE);
    let db = ui.host.db();
    // Read before the page: a stream that resumes after `last_seq` then sees again what
    // was stored meanwhile (clients drop duplicates by `seq`), never less.
    let last_seq = db.last_event_seq(id)?;
    let mut found: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut collect = |seq: u64, raw: &[u8]| {
        if filter.passes(raw) {
            found.push((seq, raw.to_vec()));
        }
        found.len() < limit
    };
    let backwards = match start {
        PageStart::After(after) => {
            db.scan_events(id, after, None, false, &mut collect)?;
            false
        }
        PageStart::Before(before) => {
            db.scan_events(id, None, Some(before), true, &mut collect)?;
            true
        }
        PageStart::Tail => {
            db.scan_events(id, None, None, true, &mut collect)?;
            true
        }
    };
    if backwards {
        found.reverse();
    }
    let full = found.len() == limit;
    let next = if !backwards && full { found.last().map(|(seq, _)| *seq) } else { None };
    let prev = if backwards && full { found.first().map(|(seq, _)| *seq) } else { None };
    let mut body = String::with_capacity(found.iter().map(|(_, raw)| raw.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"events\":[");
    for (i, (_, raw)) in found.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&String::from_utf8_lossy(raw));
    }
    let tail = serde_json::json!({ "next": next, "prev": prev, "last_seq": last_seq });
    body.push_str("],");
    // `tail` is an object: splice its members in after the events.
    let tail = tail.to_string();
    body.push_str(&tail[1..]);
    Ok(body)
}

/// Where a stream is: the last event it looked at, and whether it has ended.
struct Cursor {
    ui: Arc<Ui>,
    id: RunId,
    filter: EventFilter,
    after: Option<u64>,
    pending: std::collections::VecDeque<SseEvent>,
    ended: bool,
}

/// The run's events after `after` as server-sent events, then `end` with the final run
/// record once the run has ended and every event was sent.
pub(super) fn stream(
    ui: Arc<Ui>,
    id: RunId,
    after: Option<u64>,
    filter: EventFilter,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let cursor = Cursor { ui, id, filter, after, pending: Default::default(), ended: false };
    let events = stream::unfold(cursor, |mut cursor| async move {
        loop {
            if let Some(event) = cursor.pending.pop_front() {
                return Some((Ok(event), cursor));
            }
            if cursor.ended {
                return None;
            }
            match cursor.poll() {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(POLL_INTERVAL).await,
                Err(message) => {
                    cursor.ended = true;
                    cursor.pending.push_back(SseEvent::default().event("error").data(message));
                }
            }
        }
    });
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

impl Cursor {
    /// Queues what is new; false when there was nothing.
    fn poll(&mut self) -> Result<bool, String> {
        let db = self.ui.host.db();
        // Read the record before the events: a run's final record is written after its
        // last event, so an ended run read first has all its events already stored.
        let record = db.run(self.id).map_err(|e| e.to_string())?;
        let mut scanned = 0;
        let mut last = self.after;
        let (filter, pending) = (&self.filter, &mut self.pending);
        db.scan_events(self.id, self.after, None, false, |seq, raw| {
            scanned += 1;
            last = Some(seq);
            if filter.passes(raw) {
                pending.push_back(
                    SseEvent::default().event("event").id(seq.to_string()).data(String::from_utf8_lossy(raw)),
                );
            }
            scanned < MAX_PAGE
        })
        .map_err(|e| e.to_string())?;
        self.after = last;
        if scanned == 0 && record.status.is_finished() {
            let json = serde_json::to_string(&record).map_err(|e| e.to_string())?;
            self.pending.push_back(SseEvent::default().event("end").data(json));
            self.ended = true;
            return Ok(true);
        }
        Ok(scanned > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_step_type_level_and_text() {
        let log = br#"{"seq":3,"timestamp":1,"step":"load","event":"log","level":"warn","message":"Disk FULL"}"#;
        let started = br#"{"seq":4,"timestamp":1,"step":"load","event":"step_started","attempt":1}"#;
        let params =
            |pairs: &[(&str, &str)]| Params(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let filter = |pairs: &[(&str, &str)]| EventFilter::from_params(&params(pairs)).unwrap();
        assert!(filter(&[]).passes(log));
        assert!(filter(&[("q", "disk full")]).passes(log));
        assert!(!filter(&[("q", "disk empty")]).passes(log));
        assert!(filter(&[("step", "load"), ("type", "log,step_failed")]).passes(log));
        assert!(!filter(&[("step", "other")]).passes(log));
        assert!(!filter(&[("type", "step_failed")]).passes(log));
        assert!(filter(&[("level", "warning")]).passes(log));
        assert!(!filter(&[("level", "error")]).passes(log));
        // A minimum level lets through events that are not logs.
        assert!(filter(&[("level", "error")]).passes(started));
        let bad = EventFilter::from_params(&params(&[("level", "loud")])).unwrap_err();
        assert!(bad.message.contains("`loud` is not a log level"), "{}", bad.message);
    }
}
