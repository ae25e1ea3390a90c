//! A partition set: the keys a partitioned pipeline runs for, as time windows or a fixed
//! list, and what one key means to a run (the template values of its config).

use super::window::{TimeWindows, Window};

/// A named set of partitions (`[partitions.NAME]` in the manifest).
#[derive(Debug, Clone)]
pub struct PartitionSet {
    pub name: String,
    pub kind: PartitionKind,
}

/// How a set's keys are made.
#[derive(Debug, Clone)]
pub enum PartitionKind {
    /// One key per complete time window (hourly, daily, weekly, monthly).
    Time(TimeWindows),
    /// A fixed list of keys, in declaration order.
    Static(Vec<String>),
}

/// One partition a run computes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// The set it belongs to.
    pub set: String,
    pub key: String,
    /// Its time window, for a time-window set.
    pub window: Option<Window>,
}

impl PartitionSet {
    /// Every key at `now`, oldest first: the complete windows of a time set, or the list.
    pub fn keys(&self, now: jiff::Timestamp) -> Vec<String> {
        match &self.kind {
            PartitionKind::Time(windows) => windows.windows(now).into_iter().map(|w| w.key).collect(),
            PartitionKind::Static(keys) => keys.clone(),
        }
    }

    /// The partition of `key`.
    ///
    /// # Errors
    /// A message naming the key and what the set's keys look like.
    pub fn partition(&self, key: &str) -> Result<Partition, String> {
        let window = match &self.kind {
            PartitionKind::Time(windows) => Some(windows.window(key)?),
            PartitionKind::Static(keys) if keys.iter().any(|k| k == key) => None,
            PartitionKind::Static(keys) => {
                let shown: Vec<&str> = keys.iter().take(8).map(String::as_str).collect();
                let more = if keys.len() > 8 { format!(", ... ({} in all)", keys.len()) } else { String::new() };
                return Err(format!(
                    "`{key}` is not a key of partition set `{}`: {}{more}",
                    self.name,
                    shown.join(", ")
                ));
            }
        };
        Ok(Partition { set: self.name.clone(), key: key.to_owned(), window })
    }

    /// The time windows, for a time-window set.
    pub fn time_windows(&self) -> Option<&TimeWindows> {
        match &self.kind {
            PartitionKind::Time(windows) => Some(windows),
            PartitionKind::Static(_) => None,
        }
    }

    /// One line for people: `daily from 2024-01-01 (UTC)`, `3 keys: us, eu, asia`.
    pub fn describe(&self) -> String {
        match &self.kind {
            PartitionKind::Time(w) => {
                let end = w.end_text().map(|e| format!(" until {e}")).unwrap_or_default();
                format!("{} from {}{end} ({})", w.cadence.name(), w.start_text(), w.timezone_name())
            }
            PartitionKind::Static(keys) => format!("{} keys: {}", keys.len(), keys.join(", ")),
        }
    }
}

impl Partition {
    /// The values its run config's templates take: `{partition_key}`, and for a window
    /// `{partition_start}` and `{partition_end}` (RFC 3339 with the zone's offset) and
    /// `{partition_date}` (the window's first day, `YYYY-MM-DD`).
    pub fn template_vars(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![("partition_key", self.key.clone()), ("partition_set", self.set.clone())];
        if let Some(window) = &self.window {
            vars.push(("partition_start", window.start.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()));
            vars.push(("partition_end", window.end.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()));
            vars.push(("partition_date", window.start.strftime("%Y-%m-%d").to_string()));
        }
        vars
    }
}

/// The tag that names a run's partition, and the one that names its set.
pub const PARTITION_TAG: &str = "weft/partition";
pub const PARTITION_SET_TAG: &str = "weft/partition_set";
