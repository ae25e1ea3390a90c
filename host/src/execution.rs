//! How a run executes: concurrency, fail-fast, the executor, and retry policies. Set in
//! the manifest (per pipeline, and a retry policy per step), overridden by the run
//! config's `execution`, then by the CLI.

use crate::event::{StepError, StepErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::time::Duration;

/// Where step attempts run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecutorKind {
    /// In this process, each attempt in a fresh wasmtime store.
    InProcess,
    /// Each attempt in a child `weft` process, for crash isolation.
    Multiprocess,
}

/// Run-wide execution settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionSettings {
    /// Steps running at once. Default: the number of cores.
    pub max_concurrent: usize,
    /// Stop at the first failed step: start nothing new, interrupt what runs.
    pub fail_fast: bool,
    pub executor: ExecutorKind,
    /// Reuse the outputs of an earlier success of a step with the same version key
    /// (component, version, config, inputs) instead of running it.
    #[serde(default)]
    pub memoize: bool,
    /// The policy of steps that declare none.
    pub retry: RetryPolicy,
}

impl Default for ExecutionSettings {
    fn default() -> ExecutionSettings {
        ExecutionSettings {
            max_concurrent: std::thread::available_parallelism().map_or(2, |n| n.get()),
            fail_fast: false,
            executor: ExecutorKind::InProcess,
            memoize: false,
            retry: RetryPolicy::default(),
        }
    }
}

/// When and how often a failed step is tried again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Attempts in all, the first included: 1 means no retry.
    pub max_attempts: u32,
    /// Wait before the first retry.
    #[serde(with = "duration_ms")]
    pub delay: Duration,
    /// Each further retry waits this many times longer.
    pub backoff: f64,
    /// No wait is longer than this.
    #[serde(with = "duration_ms")]
    pub max_delay: Duration,
    /// Up to this fraction of each wait is added at random (0 to 1), so that retries of
    /// many steps do not all fire at once.
    pub jitter: f64,
    /// Which failures are retried.
    pub on: Vec<RetryOn>,
}

/// A class of failure a retry policy may cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    /// A structured failure the solid marked retryable.
    Failure,
    /// The step ran out of time.
    Timeout,
    /// A trap or a panic.
    Trap,
    /// The host could not run the step (a worker process died, say).
    Host,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 1,
            delay: Duration::from_millis(100),
            backoff: 2.0,
            max_delay: Duration::from_secs(60),
            jitter: 0.0,
            on: vec![RetryOn::Failure, RetryOn::Timeout, RetryOn::Trap, RetryOn::Host],
        }
    }
}

impl RetryPolicy {
    /// Whether attempt `attempt`, which failed with `error`, is followed by another.
    pub fn retries(&self, attempt: u32, error: &StepError) -> bool {
        let class = match error.kind {
            StepErrorKind::SolidFailure if error.retryable => RetryOn::Failure,
            StepErrorKind::Timeout => RetryOn::Timeout,
            StepErrorKind::Trap | StepErrorKind::Panic => RetryOn::Trap,
            StepErrorKind::HostError => RetryOn::Host,
            _ => return false,
        };
        attempt < self.max_attempts && self.on.contains(&class)
    }

    /// The wait before attempt `next` (2 for the first retry). `seed` makes the jitter
    /// reproducible for one step of one run.
    pub fn delay_before(&self, next: u32, seed: u64) -> Duration {
        let exponent = next.saturating_sub(2).min(64) as i32;
        let base = self.delay.as_secs_f64() * self.backoff.max(1.0).powi(exponent);
        let base = base.min(self.max_delay.as_secs_f64());
        let unit = (splitmix64(seed ^ u64::from(next)) >> 11) as f64 / (1u64 << 53) as f64;
        let jittered = base * (1.0 + self.jitter.clamp(0.0, 1.0) * unit);
        Duration::from_secs_f64(jittered.min(self.max_delay.as_secs_f64()))
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Durations in records are milliseconds.
pub(crate) mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// Reads `"250ms"`, `"2s"`, `"1.5s"`, `"3m"`, `"1h"`, or a number of milliseconds.
pub fn parse_duration(value: &Json) -> Result<Duration, String> {
    if let Some(ms) = value.as_u64() {
        return Ok(Duration::from_millis(ms));
    }
    let text =
        value.as_str().ok_or_else(|| format!("expected a duration such as \"500ms\" or \"2s\", found {value}"))?;
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("`{text}` is not a duration such as \"500ms\" or \"2s\""))?;
    let seconds = match unit.trim() {
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(format!("`{text}` has an unknown unit; use ms, s, m or h")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// Applies the keys of a JSON object to `policy`, reporting each bad key by name
/// (relative to `at`).
pub fn apply_retry(policy: &mut RetryPolicy, json: &Json, at: &str, problems: &mut Vec<(String, String)>) {
    let Some(object) = json.as_object() else {
        problems.push((at.to_owned(), "expected a table of retry settings".into()));
        return;
    };
    for (key, value) in object {
        let path = format!("{at}.{key}");
        let result: Result<(), String> = match key.as_str() {
            "max_attempts" => value
                .as_u64()
                .filter(|n| (1..=1000).contains(n))
                .map(|n| policy.max_attempts = n as u32)
                .ok_or_else(|| format!("expected a whole number from 1 to 1000, found {value}")),
            "delay" => parse_duration(value).map(|d| policy.delay = d),
            "max_delay" => parse_duration(value).map(|d| policy.max_delay = d),
            "backoff" => value
                .as_f64()
                .filter(|b| (1.0..=100.0).contains(b))
                .map(|b| policy.backoff = b)
                .ok_or_else(|| format!("expected a number from 1 to 100, found {value}")),
            "jitter" => value
                .as_f64()
                .filter(|j| (0.0..=1.0).contains(j))
                .map(|j| policy.jitter = j)
                .ok_or_else(|| format!("expected a number from 0 to 1, found {value}")),
            "on" => serde_json::from_value::<Vec<RetryOn>>(value.clone())
                .map(|on| policy.on = on)
                .map_err(|_| format!("expected a list of \"failure\", \"timeout\", \"trap\", \"host\"; found {value}")),
            _ => {
                Err("unknown key; expected one of `max_attempts`, `delay`, `backoff`, `max_delay`, `jitter`, `on`"
                    .into())
            }
        };
        if let Err(message) = result {
            problems.push((path, message));
        }
    }
}

/// Applies the keys of an `execution` object to `settings`, reporting each bad key.
pub fn apply_execution(settings: &mut ExecutionSettings, json: &Json, at: &str, problems: &mut Vec<(String, String)>) {
    let Some(object) = json.as_object() else {
        problems.push((at.to_owned(), "expected a table of execution settings".into()));
        return;
    };
    for (key, value) in object {
        let path = format!("{at}.{key}");
        let result: Result<(), String> = match key.as_str() {
            "max_concurrent" => value
                .as_u64()
                .filter(|n| (1..=4096).contains(n))
                .map(|n| settings.max_concurrent = n as usize)
                .ok_or_else(|| format!("expected a whole number from 1 to 4096, found {value}")),
            "memoize" => value
                .as_bool()
                .map(|b| settings.memoize = b)
                .ok_or_else(|| format!("expected true or false, found {value}")),
            "fail_fast" => value
                .as_bool()
                .map(|b| settings.fail_fast = b)
                .ok_or_else(|| format!("expected true or false, found {value}")),
            "executor" => serde_json::from_value::<ExecutorKind>(value.clone())
                .map(|e| settings.executor = e)
                .map_err(|_| format!("expected \"in_process\" or \"multiprocess\", found {value}")),
            "retry" => {
                apply_retry(&mut settings.retry, value, &path, problems);
                Ok(())
            }
            _ => {
                Err("unknown key; expected one of `max_concurrent`, `fail_fast`, `executor`, `memoize`, `retry`".into())
            }
        };
        if let Err(message) = result {
            problems.push((path, message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(kind: StepErrorKind, retryable: bool) -> StepError {
        StepError { kind, message: String::new(), retryable, metadata: Vec::new(), backtrace: None }
    }

    #[test]
    fn durations_read_in_every_unit() {
        assert_eq!(parse_duration(&json!("250ms")), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration(&json!("1.5s")), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration(&json!("2m")), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration(&json!(40)), Ok(Duration::from_millis(40)));
        assert!(parse_duration(&json!("2 weeks")).is_err());
        assert!(parse_duration(&json!(true)).is_err());
    }

    #[test]
    fn only_the_covered_failures_retry_and_only_up_to_the_limit() {
        let policy =
            RetryPolicy { max_attempts: 3, on: vec![RetryOn::Failure, RetryOn::Timeout], ..RetryPolicy::default() };
        assert!(policy.retries(1, &error(StepErrorKind::SolidFailure, true)));
        assert!(!policy.retries(1, &error(StepErrorKind::SolidFailure, false)), "not marked retryable");
        assert!(policy.retries(2, &error(StepErrorKind::Timeout, false)));
        assert!(!policy.retries(3, &error(StepErrorKind::Timeout, false)), "the third attempt is the last");
        assert!(!policy.retries(1, &error(StepErrorKind::Trap, false)), "traps are not covered");
        assert!(!policy.retries(1, &error(StepErrorKind::InvalidOutput, false)), "contract breaches never retry");
    }

    #[test]
    fn delays_grow_by_the_backoff_stay_under_the_cap_and_jitter_within_bounds() {
        let policy = RetryPolicy {
            delay: Duration::from_millis(100),
            backoff: 2.0,
            max_delay: Duration::from_millis(350),
            jitter: 0.5,
            ..RetryPolicy::default()
        };
        for seed in 0..200 {
            let first = policy.delay_before(2, seed);
            let second = policy.delay_before(3, seed);
            assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(150), "{first:?}");
            assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(300), "{second:?}");
            assert!(policy.delay_before(9, seed) <= Duration::from_millis(350));
        }
        assert_eq!(policy.delay_before(2, 7), policy.delay_before(2, 7), "the same seed gives the same wait");
    }

    #[test]
    fn bad_settings_are_named_key_by_key() {
        let mut settings = ExecutionSettings::default();
        let mut problems = Vec::new();
        apply_execution(
            &mut settings,
            &json!({"max_concurrent": 0, "fail_fast": true, "retry": {"max_attempts": 3, "delay": "soon"}, "speed": 9}),
            "execution",
            &mut problems,
        );
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["execution.max_concurrent", "execution.retry.delay", "execution.speed"]);
        assert!(settings.fail_fast);
        assert_eq!(settings.retry.max_attempts, 3);
    }
}
