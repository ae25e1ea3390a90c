//! Time-window partitions (Dagster's hourly, daily, weekly and monthly partitions):
//! consecutive windows of civil time in one time zone, each named by its start.
//!
//! Windows are computed in civil time and only then converted to instants, so a daily
//! window on a DST-change day lasts 23 or 25 hours and always runs midnight to midnight.
//! A boundary that falls in a spring-forward gap maps to the instant the gap ends and one
//! that occurs twice (fall-back) to its first occurrence, as cron ticks do: the hourly
//! window of a skipped hour is empty and left out, and the hourly window of a repeated
//! hour lasts two hours.

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, Zoned};

/// How long each window of a set is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// From each hour (minute 0) to the next.
    Hourly,
    /// From each midnight to the next.
    Daily,
    /// From each Monday midnight to the next.
    Weekly,
    /// From midnight on each 1st to the next.
    Monthly,
}

impl Cadence {
    /// The cadence named `text`: `hourly`, `daily`, `weekly` or `monthly`.
    pub fn parse(text: &str) -> Result<Cadence, String> {
        match text {
            "hourly" => Ok(Cadence::Hourly),
            "daily" => Ok(Cadence::Daily),
            "weekly" => Ok(Cadence::Weekly),
            "monthly" => Ok(Cadence::Monthly),
            _ => Err(format!("`{text}` is not a partition cadence (hourly, daily, weekly or monthly)")),
        }
    }

    /// Its name, as [`Cadence::parse`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Cadence::Hourly => "hourly",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
            Cadence::Monthly => "monthly",
        }
    }

    /// The format of its keys, for error messages.
    fn key_format(self) -> &'static str {
        match self {
            Cadence::Hourly => "YYYY-MM-DD-HH:MM",
            Cadence::Daily | Cadence::Weekly | Cadence::Monthly => "YYYY-MM-DD",
        }
    }

    /// Where its windows start, for error messages.
    fn alignment(self) -> &'static str {
        match self {
            Cadence::Hourly => "hourly windows start on the hour (minute 00)",
            Cadence::Daily => "daily windows start at midnight",
            Cadence::Weekly => "weekly windows start at midnight on a Monday",
            Cadence::Monthly => "monthly windows start at midnight on the 1st",
        }
    }

    /// Whether a window starts at `local`.
    fn is_aligned(self, local: DateTime) -> bool {
        let on_the_hour = local.minute() == 0 && local.second() == 0 && local.subsec_nanosecond() == 0;
        let midnight = on_the_hour && local.hour() == 0;
        match self {
            Cadence::Hourly => on_the_hour,
            Cadence::Daily => midnight,
            Cadence::Weekly => midnight && local.weekday() == Weekday::Monday,
            Cadence::Monthly => midnight && local.day() == 1,
        }
    }

    /// The start of the window after the one starting at (aligned) `local`; `None` past
    /// jiff's last year. Civil datetimes have no DST, so an hour is always 60 minutes and
    /// a day 24 hours here.
    fn next(self, local: DateTime) -> Option<DateTime> {
        match self {
            Cadence::Hourly => local.checked_add(SignedDuration::from_hours(1)).ok(),
            Cadence::Daily => local.checked_add(SignedDuration::from_hours(24)).ok(),
            Cadence::Weekly => local.checked_add(SignedDuration::from_hours(7 * 24)).ok(),
            Cadence::Monthly => {
                let (year, month) = match local.month() {
                    12 => (local.year().checked_add(1)?, 1),
                    month => (local.year(), month + 1),
                };
                Some(Date::new(year, month, 1).ok()?.to_datetime(Time::midnight()))
            }
        }
    }

    /// The start of the window before the one starting at (aligned) `local`.
    fn previous(self, local: DateTime) -> Option<DateTime> {
        match self {
            Cadence::Hourly => local.checked_sub(SignedDuration::from_hours(1)).ok(),
            Cadence::Daily => local.checked_sub(SignedDuration::from_hours(24)).ok(),
            Cadence::Weekly => local.checked_sub(SignedDuration::from_hours(7 * 24)).ok(),
            Cadence::Monthly => {
                let (year, month) = match local.month() {
                    1 => (local.year().checked_sub(1)?, 12),
                    month => (local.year(), month - 1),
                };
                Some(Date::new(year, month, 1).ok()?.to_datetime(Time::midnight()))
            }
        }
    }

    /// The start of the window that contains `local`.
    fn floor(self, local: DateTime) -> Option<DateTime> {
        let midnight = local.date().to_datetime(Time::midnight());
        match self {
            Cadence::Hourly => Some(local.date().at(local.hour(), 0, 0, 0)),
            Cadence::Daily => Some(midnight),
            Cadence::Weekly => {
                let days = i64::from(local.weekday().to_monday_zero_offset());
                midnight.checked_sub(SignedDuration::from_hours(24 * days)).ok()
            }
            Cadence::Monthly => Some(local.date().first_of_month().to_datetime(Time::midnight())),
        }
    }

    /// The key of the window starting at `local`: Dagster's formats, `YYYY-MM-DD` (the
    /// window's first day) or, hourly, `YYYY-MM-DD-HH:MM`.
    fn key(self, local: DateTime) -> String {
        let (year, month, day) = (local.year(), local.month(), local.day());
        match self {
            Cadence::Hourly => format!("{year:04}-{month:02}-{day:02}-{:02}:{:02}", local.hour(), local.minute()),
            Cadence::Daily | Cadence::Weekly | Cadence::Monthly => format!("{year:04}-{month:02}-{day:02}"),
        }
    }

    /// The start of the window named `key`, if `key` is in this cadence's format (its
    /// alignment is checked separately).
    fn parse_key(self, key: &str) -> Option<DateTime> {
        let bytes = key.as_bytes();
        match self {
            Cadence::Hourly if bytes.len() == 16 && bytes[10] == b'-' => {
                parse_time(parse_date(&bytes[..10])?, &bytes[11..])
            }
            Cadence::Hourly => None,
            Cadence::Daily | Cadence::Weekly | Cadence::Monthly => {
                Some(parse_date(bytes)?.to_datetime(Time::midnight()))
            }
        }
    }
}

/// One partition of a time-window set: its key and its [start, end) in the set's zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub key: String,
    pub start: Zoned,
    pub end: Zoned,
}

/// A time-window partition set: every window of one cadence from `start` on, up to an
/// optional end, in one time zone.
#[derive(Debug, Clone)]
pub struct TimeWindows {
    pub cadence: Cadence,
    /// The first window's start, local time (aligned to the cadence).
    start: DateTime,
    /// Where the last window ends (exclusive, aligned), local time; `None` for no end.
    end: Option<DateTime>,
    tz: TimeZone,
    /// The zone's name as given, e.g. `Europe/Paris`.
    tz_name: String,
}

impl TimeWindows {
    /// `start`/`end` are "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" (local time in `timezone`, an
    /// IANA name such as "UTC" or "Europe/Paris").
    ///
    /// Errors name the value: start must be aligned to the cadence (daily/weekly/monthly:
    /// midnight; weekly: a Monday; monthly: the 1st; hourly: minute 0), end (exclusive)
    /// after start and aligned too; an unknown time zone names the zone.
    pub fn new(cadence: Cadence, start: &str, end: Option<&str>, timezone: &str) -> Result<TimeWindows, String> {
        let tz = TimeZone::get(timezone).map_err(|_| {
            format!("`{timezone}` is not a known time zone (expected an IANA name such as `UTC` or `Europe/Paris`)")
        })?;
        let start_text = start;
        let start = parse_bound("start", start, cadence)?;
        let end = match end {
            None => None,
            Some(text) => {
                let end = parse_bound("end", text, cadence)?;
                if end <= start {
                    return Err(format!("partition end `{text}` must be after the start `{start_text}`"));
                }
                Some(end)
            }
        };
        Ok(TimeWindows { cadence, start, end, tz, tz_name: timezone.to_owned() })
    }

    /// The first window's start, as a key-like local time (`2024-01-01`, `2024-01-01 06:00`).
    pub fn start_text(&self) -> String {
        bound_text(self.start)
    }

    /// Where the last window ends (exclusive), if the set has an end.
    pub fn end_text(&self) -> Option<String> {
        self.end.map(bound_text)
    }

    /// The time zone's name as given to [`TimeWindows::new`].
    pub fn timezone_name(&self) -> &str {
        &self.tz_name
    }

    /// Keys: daily, weekly, monthly "YYYY-MM-DD" (the window's first day); hourly
    /// "YYYY-MM-DD-HH:MM" (Dagster's formats).
    ///
    /// Every complete window: start <= window.start and window.end <= min(end, now), in
    /// order (oldest first). Steps the civil boundaries one by one and converts each once,
    /// so ten years of hourly windows (about 90,000) is cheap.
    pub fn windows(&self, now: Timestamp) -> Vec<Window> {
        let mut windows = Vec::new();
        let mut start_local = self.start;
        let Some(mut start_at) = self.instant(start_local) else {
            return windows;
        };
        while let Some(end_local) = self.cadence.next(start_local) {
            if self.end.is_some_and(|end| end_local > end) {
                break;
            }
            // Instants grow with civil time (see `instant`), so the first window that
            // has not ended by `now` is followed only by more of them.
            let Some(end_at) = self.instant(end_local).filter(|end_at| *end_at <= now) else {
                break;
            };
            if start_at < end_at {
                windows.push(self.make_window(start_local, start_at, end_at));
            }
            (start_local, start_at) = (end_local, end_at);
        }
        windows
    }

    /// The window of `key`. Errors (naming the key and the expected format/range) when it
    /// does not parse, is not aligned, or is outside [start, end), or names an hour that a
    /// DST change skips. A key in the future (window not complete at `now`) is allowed
    /// only if before `end`; callers decide.
    pub fn window(&self, key: &str) -> Result<Window, String> {
        let cadence = self.cadence;
        let name = cadence.name();
        let local = cadence.parse_key(key).ok_or_else(|| {
            format!("partition key `{key}` is not a key of {name} windows ({})", cadence.key_format())
        })?;
        if !cadence.is_aligned(local) {
            return Err(format!("partition key `{key}` does not start a window: {}", cadence.alignment()));
        }
        if local < self.start {
            return Err(format!(
                "partition key `{key}` is before the first {name} window, `{}`",
                cadence.key(self.start)
            ));
        }
        if let Some(end) = self.end
            && local >= end
        {
            return Err(format!(
                "partition key `{key}` is not before the end of the {name} windows, `{}`",
                cadence.key(end)
            ));
        }
        let out_of_range = || format!("partition key `{key}` is too far in the future");
        let end_local = cadence.next(local).ok_or_else(out_of_range)?;
        let start_at = self.instant(local).ok_or_else(out_of_range)?;
        let end_at = self.instant(end_local).ok_or_else(out_of_range)?;
        if start_at >= end_at {
            return Err(format!(
                "partition key `{key}` names a window that does not exist in {}: a DST change skips it",
                self.tz_name
            ));
        }
        Ok(self.make_window(local, start_at, end_at))
    }

    /// The latest window that has ended at or before `at` (and at or after start, and
    /// within end): what a schedule firing at `at` computes ("yesterday's partition").
    pub fn last_complete(&self, at: Timestamp) -> Option<Window> {
        // The window containing `at`'s local time starts at or before `at` (conversion is
        // monotonic); only a long repeated (fall-back) stretch could put a later boundary
        // at or before `at` too, so step past any such.
        let mut boundary = self.cadence.floor(self.tz.to_datetime(at))?;
        while let Some(next) = self.cadence.next(boundary) {
            match self.instant(next) {
                Some(next_at) if next_at <= at => boundary = next,
                _ => break,
            }
        }
        if let Some(end) = self.end {
            boundary = boundary.min(end);
        }
        // `boundary` is now the latest end candidate: walk back past a window that has
        // not ended (defensive) or is empty (an hour a DST change skips).
        loop {
            if boundary <= self.start {
                return None;
            }
            let start_local = self.cadence.previous(boundary)?;
            let (start_at, end_at) = (self.instant(start_local)?, self.instant(boundary)?);
            if end_at <= at && start_at < end_at {
                return Some(self.make_window(start_local, start_at, end_at));
            }
            boundary = start_local;
        }
    }

    fn make_window(&self, start_local: DateTime, start_at: Timestamp, end_at: Timestamp) -> Window {
        Window {
            key: self.cadence.key(start_local),
            start: Zoned::new(start_at, self.tz.clone()),
            end: Zoned::new(end_at, self.tz.clone()),
        }
    }

    /// The instant of boundary `local` in the set's zone: in a spring-forward gap, the
    /// instant the gap ends; occurring twice (fall-back), the first occurrence. (The same
    /// policy as cron ticks; jiff's "compatible" disambiguation agrees on folds but maps
    /// a gap time past the gap's end by its distance into the gap.) The mapping never
    /// decreases as `local` grows, which `windows` and `last_complete` rely on.
    fn instant(&self, local: DateTime) -> Option<Timestamp> {
        let ambiguous = self.tz.to_ambiguous_timestamp(local);
        if let AmbiguousOffset::Gap { after, .. } = ambiguous.offset() {
            // Read with the offset after the gap, `local` falls before the transition
            // (and after the previous one), so the next transition is the gap's end.
            let inside_gap = after.to_timestamp(local).ok()?;
            if let Some(transition) = self.tz.following(inside_gap).next() {
                return Some(transition.timestamp());
            }
        }
        ambiguous.compatible().ok()
    }
}

/// A start or end bound (`which`), `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, aligned to `cadence`.
fn parse_bound(which: &str, text: &str, cadence: Cadence) -> Result<DateTime, String> {
    let bytes = text.as_bytes();
    let local = match bytes.len() {
        10 => parse_date(bytes).map(|date| date.to_datetime(Time::midnight())),
        16 if bytes[10] == b'T' => parse_date(&bytes[..10]).and_then(|date| parse_time(date, &bytes[11..])),
        _ => None,
    }
    .ok_or_else(|| {
        format!("partition {which} `{text}` is not a date (YYYY-MM-DD) or a date and time (YYYY-MM-DDTHH:MM)")
    })?;
    if !cadence.is_aligned(local) {
        return Err(format!("partition {which} `{text}` does not start a window: {}", cadence.alignment()));
    }
    Ok(local)
}

/// `YYYY-MM-DD`, fixed width, a real date.
fn parse_date(text: &[u8]) -> Option<Date> {
    if text.len() != 10 || text[4] != b'-' || text[7] != b'-' {
        return None;
    }
    Date::new(number(&text[..4])?, number(&text[5..7])?, number(&text[8..])?).ok()
}

/// `HH:MM`, fixed width, on `date`.
fn parse_time(date: Date, text: &[u8]) -> Option<DateTime> {
    if text.len() != 5 || text[2] != b':' {
        return None;
    }
    DateTime::new(date.year(), date.month(), date.day(), number(&text[..2])?, number(&text[3..])?, 0, 0).ok()
}

/// Decimal digits only (no sign or space, which `parse` alone would let through).
fn number<T: std::str::FromStr>(digits: &[u8]) -> Option<T> {
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// A window boundary for people: the date alone at midnight, else date and time.
fn bound_text(at: DateTime) -> String {
    if at.hour() == 0 && at.minute() == 0 { at.date().to_string() } else { at.strftime("%Y-%m-%d %H:%M").to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn set(cadence: Cadence, start: &str, end: Option<&str>, timezone: &str) -> TimeWindows {
        TimeWindows::new(cadence, start, end, timezone).unwrap_or_else(|err| panic!("{start}: {err}"))
    }

    fn keys(windows: &[Window]) -> Vec<&str> {
        windows.iter().map(|window| window.key.as_str()).collect()
    }

    fn seconds(window: &Window) -> i64 {
        window.end.timestamp().as_second() - window.start.timestamp().as_second()
    }

    #[test]
    fn cadence_names_round_trip() {
        for cadence in [Cadence::Hourly, Cadence::Daily, Cadence::Weekly, Cadence::Monthly] {
            assert_eq!(Cadence::parse(cadence.name()), Ok(cadence));
        }
        assert!(Cadence::parse("yearly").expect_err("yearly").contains("`yearly`"));
    }

    #[test]
    fn daily_keys_for_january() {
        let windows = set(Cadence::Daily, "2024-01-01", None, "UTC").windows(at("2024-02-01T00:00:00Z"));
        let expected: Vec<String> = (1..=31).map(|day| format!("2024-01-{day:02}")).collect();
        assert_eq!(keys(&windows), expected);
        assert_eq!(windows[0].start.timestamp(), at("2024-01-01T00:00:00Z"));
        assert_eq!(windows[30].end.timestamp(), at("2024-02-01T00:00:00Z"));
    }

    #[test]
    fn the_incomplete_window_is_left_out() {
        let windows = set(Cadence::Daily, "2024-01-01", None, "UTC").windows(at("2024-01-31T12:00:00Z"));
        assert_eq!(windows.len(), 30);
        assert_eq!(windows[29].key, "2024-01-30");
        assert!(set(Cadence::Daily, "2024-01-01", None, "UTC").windows(at("2023-06-01T00:00:00Z")).is_empty());
    }

    #[test]
    fn end_bounds_the_windows() {
        let windows = set(Cadence::Daily, "2024-01-01", Some("2024-01-11"), "UTC").windows(at("2025-01-01T00:00:00Z"));
        assert_eq!(windows.len(), 10);
        assert_eq!(windows[9].key, "2024-01-10");

        let err = TimeWindows::new(Cadence::Daily, "2024-01-05", Some("2024-01-05"), "UTC").expect_err("end");
        assert!(err.contains("`2024-01-05` must be after the start"), "{err}");
        let err = TimeWindows::new(Cadence::Daily, "2024-01-05", Some("2024-01-06T12:00"), "UTC").expect_err("end");
        assert!(err.contains("`2024-01-06T12:00`") && err.contains("midnight"), "{err}");
    }

    #[test]
    fn bad_bounds_and_zones_are_named() {
        let err = TimeWindows::new(Cadence::Daily, "2024-1-1", None, "UTC").expect_err("start");
        assert!(err.contains("`2024-1-1` is not a date"), "{err}");
        let err = TimeWindows::new(Cadence::Daily, "2024-02-30", None, "UTC").expect_err("start");
        assert!(err.contains("`2024-02-30`"), "{err}");
        let err = TimeWindows::new(Cadence::Daily, "2024-01-01", None, "Mars/Olympus").expect_err("zone");
        assert!(err.contains("`Mars/Olympus` is not a known time zone"), "{err}");
        assert_eq!(set(Cadence::Daily, "2024-01-01", None, "Europe/Paris").timezone_name(), "Europe/Paris");
    }

    #[test]
    fn weekly_starts_on_a_monday() {
        let err = TimeWindows::new(Cadence::Weekly, "2024-01-03", None, "UTC").expect_err("a Wednesday");
        assert!(err.contains("`2024-01-03`") && err.contains("Monday"), "{err}");

        let weekly = set(Cadence::Weekly, "2024-01-01", None, "UTC");
        let windows = weekly.windows(at("2024-02-01T00:00:00Z"));
        assert_eq!(keys(&windows), ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]);
        assert_eq!(seconds(&windows[0]), 7 * 86_400);
        assert!(weekly.window("2024-01-03").expect_err("a Wednesday").contains("`2024-01-03`"));
        assert_eq!(weekly.last_complete(at("2024-01-17T09:00:00Z")).map(|w| w.key).as_deref(), Some("2024-01-08"));
    }

    #[test]
    fn monthly_keys() {
        let monthly = set(Cadence::Monthly, "2024-01-01", None, "UTC");
        let windows = monthly.windows(at("2024-06-15T00:00:00Z"));
        assert_eq!(keys(&windows), ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]);
        assert_eq!(seconds(&windows[1]), 29 * 86_400);
        let across_the_year = monthly.window("2024-12-01").expect("December");
        assert_eq!(across_the_year.end.timestamp(), at("2025-01-01T00:00:00Z"));

        let err = TimeWindows::new(Cadence::Monthly, "2024-01-15", None, "UTC").expect_err("the 15th");
        assert!(err.contains("`2024-01-15`") && err.contains("1st"), "{err}");
    }

    #[test]
    fn hourly_keys() {
        let hourly = set(Cadence::Hourly, "2024-01-01", None, "UTC");
        let windows = hourly.windows(at("2024-01-01T03:30:00Z"));
        assert_eq!(keys(&windows), ["2024-01-01-00:00", "2024-01-01-01:00", "2024-01-01-02:00"]);
        let window = hourly.window("2024-01-01-05:00").expect("05:00");
        assert_eq!(window.start.timestamp(), at("2024-01-01T05:00:00Z"));
        assert_eq!(window.end.timestamp(), at("2024-01-01T06:00:00Z"));
        assert!(hourly.window("2024-01-01-05:30").expect_err("05:30").contains("`2024-01-01-05:30`"));

        assert!(TimeWindows::new(Cadence::Hourly, "2024-01-01T05:00", None, "UTC").is_ok());
        let err = TimeWindows::new(Cadence::Hourly, "2024-01-01T05:30", None, "UTC").expect_err("05:30");
        assert!(err.contains("`2024-01-01T05:30`") && err.contains("on the hour"), "{err}");
    }

    #[test]
    fn hourly_on_dst_days_in_paris() {
        // 2024-03-31: 02:00 CET jumps to 03:00 CEST (01:00Z); the 02:00 hour does not exist.
        let spring = set(Cadence::Hourly, "2024-03-31", Some("2024-04-01"), "Europe/Paris");
        let windows = spring.windows(at("2024-05-01T00:00:00Z"));
        assert_eq!(windows.len(), 23);
        assert!(!keys(&windows).contains(&"2024-03-31-02:00"));
        assert!(windows.iter().all(|window| seconds(window) == 3600));
        assert_eq!(windows[1].key, "2024-03-31-01:00");
        assert_eq!(windows[1].end.timestamp(), at("2024-03-31T01:00:00Z"));
        assert_eq!(windows[2].key, "2024-03-31-03:00");
        assert_eq!(windows[2].start.timestamp(), at("2024-03-31T01:00:00Z"));
        let err = spring.window("2024-03-31-02:00").expect_err("skipped hour");
        assert!(err.contains("`2024-03-31-02:00`") && err.contains("Europe/Paris"), "{err}");
        // At 03:30 CEST the last complete window is 01:00, the empty 02:00 passed over.
        assert_eq!(
            spring.last_complete(at("2024-03-31T01:30:00Z")).map(|w| w.key).as_deref(),
            Some("2024-03-31-01:00")
        );

        // 2024-10-27: 02:00-02:59 happens twice; its window runs from the first 02:00 to 03:00.
        let autumn = set(Cadence::Hourly, "2024-10-27", Some("2024-10-28"), "Europe/Paris");
        let windows = autumn.windows(at("2024-11-01T00:00:00Z"));
        assert_eq!(windows.len(), 24);
        let repeated = autumn.window("2024-10-27-02:00").expect("repeated hour");
        assert_eq!(repeated.start.timestamp(), at("2024-10-27T00:00:00Z"));
        assert_eq!(seconds(&repeated), 7200);
    }

    #[test]
    fn daily_on_dst_days_lasts_23_or_25_hours() {
        let daily = set(Cadence::Daily, "2024-01-01", None, "Europe/Paris");
        assert_eq!(seconds(&daily.window("2024-03-31").expect("spring")), 23 * 3600);
        assert_eq!(seconds(&daily.window("2024-10-27").expect("autumn")), 25 * 3600);
        let window = daily.window("2024-03-31").expect("spring");
        assert_eq!(window.start.timestamp(), at("2024-03-30T23:00:00Z"));
        assert_eq!(window.end.timestamp(), at("2024-03-31T22:00:00Z"));
    }

    #[test]
    fn ten_years_of_hourly_windows() {
        let hourly = set(Cadence::Hourly, "2015-01-01", None, "Europe/Paris");
        // 3,653 days of 24 hours, less the ten skipped spring-forward hours; 2025-01-01
        // 00:00 in Paris is 2024-12-31T23:00Z.
        let windows = hourly.windows(at("2024-12-31T23:00:00Z"));
        assert_eq!(windows.len(), 3653 * 24 - 10);
        assert_eq!(windows[0].key, "2015-01-01-00:00");
        assert_eq!(windows.last().map(|w| w.key.as_str()), Some("2024-12-31-23:00"));
        assert!(windows.windows(2).all(|pair| pair[0].end == pair[1].start && pair[0].key < pair[1].key));
    }

    #[test]
    fn window_of_a_key() {
        let daily = set(Cadence::Daily, "2024-01-01", None, "UTC");
        let window = daily.window("2024-01-05").expect("2024-01-05");
        assert_eq!(window.key, "2024-01-05");
        assert_eq!(window.start.timestamp(), at("2024-01-05T00:00:00Z"));
        assert_eq!(window.end.timestamp(), at("2024-01-06T00:00:00Z"));
        // A future window is the caller's business.
        assert!(daily.window("2030-01-01").is_ok());
    }

    #[test]
    fn bad_keys_are_named() {
        let daily = set(Cadence::Daily, "2024-01-01", Some("2024-02-01"), "UTC");
        for key in ["2024-13-01", "2023-12-31", "2024-01-05-03:00", "2024-1-5", "", "2024-01-05T00:00", "2024-02-01"] {
            let err = daily.window(key).expect_err(key);
            assert!(err.contains(&format!("`{key}`")), "{key}: {err}");
        }
        assert!(daily.window("2024-13-01").expect_err("month 13").contains("YYYY-MM-DD"));
        assert!(daily.window("2023-12-31").expect_err("before").contains("before the first daily window"));
        assert!(daily.window("2024-02-01").expect_err("end").contains("not before the end"));
        let hourly = set(Cadence::Hourly, "2024-01-01", None, "UTC");
        assert!(hourly.window("2024-01-05").expect_err("a daily key").contains("YYYY-MM-DD-HH:MM"));
    }

    #[test]
    fn last_complete_is_the_latest_ended_window() {
        let daily = set(Cadence::Daily, "2024-01-01", None, "UTC");
        let key = |at_text: &str| daily.last_complete(at(at_text)).map(|window| window.key);
        assert_eq!(key("2024-01-10T02:00:00Z").as_deref(), Some("2024-01-09"));
        assert_eq!(key("2024-01-10T00:00:00Z").as_deref(), Some("2024-01-09"));
        assert_eq!(key("2024-01-09T23:59:59Z").as_deref(), Some("2024-01-08"));
        assert_eq!(key("2024-01-02T00:00:00Z").as_deref(), Some("2024-01-01"));
        assert_eq!(key("2024-01-01T12:00:00Z"), None);
        assert_eq!(key("2023-06-01T00:00:00Z"), None);

        let bounded = set(Cadence::Daily, "2024-01-01", Some("2024-01-05"), "UTC");
        assert_eq!(bounded.last_complete(at("2024-02-01T00:00:00Z")).map(|w| w.key).as_deref(), Some("2024-01-04"));

        // In New York's repeated 01:00 hour (01:30 EST), the 01:00 window has not ended.
        let hourly = set(Cadence::Hourly, "2024-11-01", None, "America/New_York");
        assert_eq!(
            hourly.last_complete(at("2024-11-03T06:30:00Z")).map(|w| w.key).as_deref(),
            Some("2024-11-03-00:00")
        );
        assert_eq!(
            hourly.last_complete(at("2024-11-03T07:00:00Z")).map(|w| w.key).as_deref(),
            Some("2024-11-03-01:00")
        );
    }
}
