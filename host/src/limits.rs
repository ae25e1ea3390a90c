//! Resource limits of a step attempt, their safe defaults, and how they are read. A
//! pipeline sets defaults for its steps (`[pipelines.p.limits]`), the run config for the
//! run (`limits`), and both per step (`limits` of a step, `solids.<alias>.limits`); the
//! most specific wins, and at the same level the run config wins over the manifest.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::time::Duration;

/// What one step attempt may use. Every field has a safe default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepLimits {
    /// Wall-clock time for the attempt, instantiation included.
    #[serde(with = "crate::execution::duration_ms")]
    pub timeout: Duration,
    /// Linear memory, in bytes, all memories of the instance together.
    pub memory: u64,
    /// Elements of all tables of the instance together.
    pub table_elements: u64,
    /// Fuel (about one unit per WebAssembly instruction); `None` for no fuel limit, in
    /// which case the time limit bounds the CPU a step can take.
    pub fuel: Option<u64>,
    /// Bytes of one output value.
    pub output_size: u64,
    /// Bytes of all output values of the attempt together.
    pub outputs_size: u64,
    /// Bytes of log messages (`context.log`) of the attempt.
    pub log_bytes: u64,
    /// Bytes of stdout, and separately of stderr, kept as the compute log.
    pub compute_log: u64,
}

impl Default for StepLimits {
    fn default() -> StepLimits {
        StepLimits {
            timeout: Duration::from_secs(300),
            memory: 256 << 20,
            table_elements: 100_000,
            fuel: None,
            output_size: 64 << 20,
            outputs_size: 256 << 20,
            log_bytes: 1 << 20,
            compute_log: 16 << 20,
        }
    }
}

/// Reads `"256MiB"`, `"1GB"`, `"64KiB"`, `"512B"`, or a number of bytes.
pub fn parse_size(value: &Json) -> Result<u64, String> {
    if let Some(bytes) = value.as_u64() {
        return Ok(bytes);
    }
    let text = value.as_str().ok_or_else(|| format!("expected a size such as \"256MiB\", found {value}"))?;
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| format!("`{text}` is not a size such as \"256MiB\""))?;
    let scale: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        _ => return Err(format!("`{text}` has an unknown unit; use B, KiB, MiB, GiB, KB, MB or GB")),
    };
    Ok((number * scale as f64) as u64)
}

/// Applies the keys of a `limits` table to `limits`, reporting each bad key by name.
pub fn apply_limits(limits: &mut StepLimits, json: &Json, at: &str, problems: &mut Vec<(String, String)>) {
    let Some(object) = json.as_object() else {
        problems.push((at.to_owned(), "expected a table of limits".into()));
        return;
    };
    for (key, value) in object {
        let size =
            || parse_size(value).and_then(|n| if n == 0 { Err("a limit of 0 allows nothing".into()) } else { Ok(n) });
        let result: Result<(), String> = match key.as_str() {
            "timeout" => crate::execution::parse_duration(value).map(|d| limits.timeout = d),
            "memory" => size().map(|n| limits.memory = n),
            "table_elements" => value
                .as_u64()
                .filter(|n| *n > 0)
                .map(|n| limits.table_elements = n)
                .ok_or_else(|| format!("expected a positive whole number, found {value}")),
            "fuel" => match value {
                Json::String(s) if s == "none" => {
                    limits.fuel = None;
                    Ok(())
                }
                _ => value
                    .as_u64()
                    .filter(|n| *n > 0)
                    .map(|n| limits.fuel = Some(n))
                    .ok_or_else(|| format!("expected a positive whole number or \"none\", found {value}")),
            },
            "output_size" => size().map(|n| limits.output_size = n),
            "outputs_size" => size().map(|n| limits.outputs_size = n),
            "log_bytes" => size().map(|n| limits.log_bytes = n),
            "compute_log" => size().map(|n| limits.compute_log = n),
            _ => Err("unknown key; expected one of `timeout`, `memory`, `table_elements`, `fuel`, `output_size`, \
                      `outputs_size`, `log_bytes`, `compute_log`"
                .into()),
        };
        if let Err(message) = result {
            problems.push((format!("{at}.{key}"), message));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes_read_in_binary_and_decimal_units() {
        assert_eq!(parse_size(&json!("256MiB")), Ok(256 << 20));
        assert_eq!(parse_size(&json!("1.5KiB")), Ok(1536));
        assert_eq!(parse_size(&json!("2GB")), Ok(2_000_000_000));
        assert_eq!(parse_size(&json!(4096)), Ok(4096));
        assert!(parse_size(&json!("lots")).is_err());
        assert!(parse_size(&json!("3 parsecs")).is_err());
    }

    #[test]
    fn limits_apply_key_by_key_and_bad_ones_are_named() {
        let mut limits = StepLimits::default();
        let mut problems = Vec::new();
        apply_limits(
            &mut limits,
            &json!({"memory": "64MiB", "fuel": 1000, "timeout": "2s", "output_size": 0, "cpu": 1}),
            "limits",
            &mut problems,
        );
        assert_eq!(limits.memory, 64 << 20);
        assert_eq!(limits.fuel, Some(1000));
        assert_eq!(limits.timeout, Duration::from_secs(2));
        let keys: Vec<&str> = problems.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["limits.cpu", "limits.output_size"]);
    }
}
