//! Cron expressions: the five standard fields (minute hour day-of-month month day-of-week)
//! and the `@daily`-style macros, parsed into bitsets so that finding the next tick is a
//! walk over civil dates rather than a search over instants.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::{AmbiguousOffset, TimeZone};

/// How many calendar years past the current one `next_after` searches before it gives
/// up. Eight rather than five because February 29th can be eight years from the last
/// one (2096 to 2104): with less, `0 0 29 2 *` would stop ticking around 2100.
const SEARCH_YEARS: i16 = 8;

/// A parsed cron expression.
///
/// Each field is a bitset: bit `n` is set when value `n` matches (minutes 0-59, hours
/// 0-23, days of month 1-31, months 1-12, days of week 0-6 with Sunday 0; a 7 in the
/// text is folded into 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u64,
    days_of_month: u64,
    months: u64,
    days_of_week: u64,
    /// The day-of-month field starts with `*` (`*` or `*/n`): Vixie cron then requires
    /// both day fields to match instead of either.
    dom_star: bool,
    /// The day-of-week field starts with `*`, as for `dom_star`.
    dow_star: bool,
    /// The expression as written (trimmed), shown back to the user.
    text: String,
}

impl FromStr for Cron {
    type Err = String;

    fn from_str(text: &str) -> Result<Cron, String> {
        let text = text.trim();
        let expression = match text.strip_prefix('@') {
            Some(name) => macro_expansion(name).ok_or_else(|| format!("`{text}` is not a cron macro ({MACROS})"))?,
            None => text,
        };
        let fields: Vec<&str> = expression.split_whitespace().collect();
        let &[minute, hour, day_of_month, month, day_of_week] = fields.as_slice() else {
            let count = fields.len();
            let plural = if count == 1 { "" } else { "s" };
            return Err(format!(
                "cron `{text}` has {count} field{plural}; expected 5: minute hour day-of-month month day-of-week"
            ));
        };
        let in_text = |err: String| format!("{err} in cron `{text}`");
        let minutes = MINUTE.parse(minute).map_err(in_text)?;
        let hours = HOUR.parse(hour).map_err(in_text)?;
        let days_of_month = DAY_OF_MONTH.parse(day_of_month).map_err(in_text)?;
        let months = MONTH.parse(month).map_err(in_text)?;
        let mut days_of_week = DAY_OF_WEEK.parse(day_of_week).map_err(in_text)?;
        // 7 is a second name for Sunday: fold it into bit 0, where `weekday()` puts Sunday.
        if (days_of_week & (1u64 << 7)) != 0 {
            days_of_week = (days_of_week & !(1u64 << 7)) | 1;
        }
        Ok(Cron {
            minutes,
            hours,
            days_of_month,
            months,
            days_of_week,
            dom_star: day_of_month.starts_with('*'),
            dow_star: day_of_week.starts_with('*'),
            text: text.to_owned(),
        })
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Cron {
    /// The first tick strictly after `after`, in time zone `tz`; `None` if there is none
    /// within the next eight calendar years (e.g. `0 0 30 2 *`, which never matches).
    ///
    /// Ticks are civil times in `tz` (second 0 of each matching minute) converted to
    /// instants, so a daily `0 2 * * *` stays at 02:00 local across DST changes. Where a
    /// DST change makes that conversion ambiguous:
    ///
    /// - a local time that does not exist (in the spring-forward gap) fires once, at the
    ///   instant the gap ends (02:30 on a day that jumps from 02:00 to 03:00 fires at
    ///   03:00), so a daily job is never skipped;
    /// - a local time that occurs twice (in the fall-back fold) fires once, at its first
    ///   occurrence, so no job runs twice: an hourly cron does not fire again during the
    ///   repeated hour (its next tick after 01:00 first occurrence is 02:00).
    ///
    /// Several gap times map to the same instant (every minute of `* * * * *` in the gap
    /// maps to its end); because each result must be strictly after `after`, that instant
    /// is returned once and the following calls move past it.
    pub fn next_after(&self, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        // Local times up to and including `from` map to instants at or before `after`
        // (the conversion is monotonic, and `from` maps to `after` or, in a fold, to its
        // earlier occurrence), so the walk starts at `from`'s day and skips them cheaply.
        let from = tz.to_datetime(after);
        let last_year = from.year().checked_add(SEARCH_YEARS)?;
        let mut day = from.date();
        while day.year() <= last_year {
            if (self.months & (1u64 << day.month())) == 0 {
                day = first_of_next_month(day)?;
                continue;
            }
            if self.day_matches(day)
                && let Some(tick) = self.first_tick_on(day, from, after, tz)
            {
                return Some(tick);
            }
            day = day.tomorrow().ok()?;
        }
        None
    }

    /// Whether `day` matches the day fields. Vixie cron's rule: when both day fields are
    /// restricted (neither starts with `*`), either may match (`0 0 13 * FRI` is every
    /// 13th and every Friday); otherwise both must (`*` matches everything anyway).
    fn day_matches(&self, day: Date) -> bool {
        let dom = (self.days_of_month & (1u64 << day.day())) != 0;
        let dow = (self.days_of_week & (1u64 << day.weekday().to_sunday_zero_offset())) != 0;
        if self.dom_star || self.dow_star { dom && dow } else { dom || dow }
    }

    /// The first tick on (matching) `day` whose local time is after `from` and whose
    /// instant is after `after`, in order of local time.
    fn first_tick_on(&self, day: Date, from: DateTime, after: Timestamp, tz: &TimeZone) -> Option<Timestamp> {
        for hour in 0..24i8 {
            if (self.hours & (1u64 << hour)) == 0 {
                continue;
            }
            for minute in 0..60i8 {
                if (self.minutes & (1u64 << minute)) == 0 {
                    continue;
                }
                let local = day.at(hour, minute, 0, 0);
                if local <= from {
                    continue;
                }
                // An instant at or before `after` here is a fold's first occurrence seen
                // from its second one, or a gap's end already returned: skip it.
                match local_instant(local, tz) {
                    Some(tick) if tick > after => return Some(tick),
                    Some(_) => {}
                    // Only at the very end of jiff's range, where no later time converts either.
                    None => return None,
                }
            }
        }
        None
    }
}

/// The instant of local time `local` in `tz` under the DST policy of
/// [`Cron::next_after`]: a time in a gap maps to the instant the gap ends, a time in a
/// fold to its first occurrence. (jiff's "compatible" disambiguation agrees on folds,
/// but maps a gap time to the same wall-clock distance past the gap: 02:30 to 03:30.)
fn local_instant(local: DateTime, tz: &TimeZone) -> Option<Timestamp> {
    let ambiguous = tz.to_ambiguous_timestamp(local);
    if let AmbiguousOffset::Gap { after, .. } = ambiguous.offset() {
        // Read with the offset after the gap, `local` falls before the transition (and
        // after the previous one), so the next transition from there is the gap's end.
        let inside_gap = after.to_timestamp(local).ok()?;
        if let Some(transition) = tz.following(inside_gap).next() {
            return Some(transition.timestamp());
        }
    }
    ambiguous.compatible().ok()
}

/// The first day of the month after `day`'s; `None` past jiff's last year.
fn first_of_next_month(day: Date) -> Option<Date> {
    let (year, month) = if day.month() == 12 { (day.year().checked_add(1)?, 1) } else { (day.year(), day.month() + 1) };
    Date::new(year, month, 1).ok()
}

/// The macros, for error messages.
const MACROS: &str = "@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly";

/// The five fields that a macro stands for; `name` is without its `@`.
fn macro_expansion(name: &str) -> Option<&'static str> {
    match name.to_ascii_lowercase().as_str() {
        "yearly" | "annually" => Some("0 0 1 1 *"),
        "monthly" => Some("0 0 1 * *"),
        "weekly" => Some("0 0 * * 0"),
        "daily" | "midnight" => Some("0 0 * * *"),
        "hourly" => Some("0 * * * *"),
        _ => None,
    }
}

/// What one of the five fields accepts, for parsing and for error messages.
struct Field {
    /// The field's name, as in "the hour field".
    name: &'static str,
    /// One value of the field with its article, as in "is not an hour".
    noun: &'static str,
    min: u32,
    max: u32,
    /// Names of the values from `min` on (JAN is 1, SUN is 0), matched ignoring case.
    names: &'static [&'static str],
    /// What the field accepts, for error messages.
    accepts: &'static str,
}

const MINUTE: Field = Field { name: "minute", noun: "a minute", min: 0, max: 59, names: &[], accepts: "0-59" };
const HOUR: Field = Field { name: "hour", noun: "an hour", min: 0, max: 23, names: &[], accepts: "0-23" };
const DAY_OF_MONTH: Field =
    Field { name: "day-of-month", noun: "a day of month", min: 1, max: 31, names: &[], accepts: "1-31" };
const MONTH: Field = Field {
    name: "month",
    noun: "a month",
    min: 1,
    max: 12,
    names: &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"],
    accepts: "1-12 or JAN-DEC",
};
/// 0 and 7 are both Sunday; the caller folds 7 into 0.
const DAY_OF_WEEK: Field = Field {
    name: "day-of-week",
    noun: "a day of week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    accepts: "0-7 or SUN-SAT",
};

impl Field {
    /// The bitset of the values that `text`, this field of an expression, selects: a
    /// comma list of `*`, `a`, `a-b`, each optionally with a step `/n`.
    fn parse(&self, text: &str) -> Result<u64, String> {
        let mut bits = 0;
        for item in text.split(',') {
            bits |= self.parse_item(item)?;
        }
        Ok(bits)
    }

    fn parse_item(&self, item: &str) -> Result<u64, String> {
        if item.is_empty() {
            return Err(format!("the {} field has an empty list entry", self.name));
        }
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => (range, Some(self.parse_step(item, step)?)),
            None => (item, None),
        };
        let (low, high) = if range == "*" {
            (self.min, self.max)
        } else if let Some((low, high)) = range.split_once('-') {
            let (low, high) = (self.parse_value(item, low)?, self.parse_value(item, high)?);
            if low > high {
                return Err(format!(
                    "`{item}` is a backwards range in the {} field (write the low end first)",
                    self.name
                ));
            }
            (low, high)
        } else {
            let value = self.parse_value(item, range)?;
            // `a/n` is Vixie cron's shorthand for `a-max/n`.
            (value, if step.is_some() { self.max } else { value })
        };
        Ok((low..=high).step_by(step.unwrap_or(1)).fold(0, |bits, value| bits | (1u64 << value)))
    }

    /// The step `text` of `item`: from 1 up to the number of values in the field.
    fn parse_step(&self, item: &str, text: &str) -> Result<usize, String> {
        let values = (self.max - self.min + 1) as usize;
        let step = if text.bytes().all(|b| b.is_ascii_digit()) { text.parse::<usize>().ok() } else { None };
        match step {
            Some(step) if (1..=values).contains(&step) => Ok(step),
            _ => Err(format!("`{item}` has step `{text}`; a step in the {} field is from 1 to {values}", self.name)),
        }
    }

    /// One value, `text` (a number or a name), of `item`.
    fn parse_value(&self, item: &str, text: &str) -> Result<u32, String> {
        if text.is_empty() {
            return Err(format!("`{item}` is missing {} ({})", self.noun, self.accepts));
        }
        let value = if text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse::<u32>().ok()
        } else {
            self.names.iter().position(|name| name.eq_ignore_ascii_case(text)).map(|index| self.min + index as u32)
        };
        match value {
            Some(value) if (self.min..=self.max).contains(&value) => Ok(value),
            _ => Err(format!("`{text}` is not {} ({})", self.noun, self.accepts)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cron(text: &str) -> Cron {
        text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn error(text: &str) -> String {
        text.parse::<Cron>().expect_err(text)
    }

    fn bits(values: &[u32]) -> u64 {
        values.iter().fold(0, |bits, value| bits | (1u64 << value))
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap_or_else(|err| panic!("{text}: {err}"))
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap_or_else(|err| panic!("{name}: {err}"))
    }

    /// The next tick of `expression` after `after`, as an RFC 3339 string.
    fn next(expression: &str, after: &str, tz: &TimeZone) -> Option<String> {
        cron(expression).next_after(at(after), tz).map(|tick| tick.to_string())
    }

    /// The same schedule, whatever the text.
    fn same_fields(a: &Cron, b: &Cron) -> bool {
        Cron { text: String::new(), ..a.clone() } == Cron { text: String::new(), ..b.clone() }
    }

    #[test]
    fn parses_every_syntax() {
        let c = cron("5,10-20/5,*/30 0-23/6 1,15 * *");
        assert_eq!(c.minutes, bits(&[0, 5, 10, 15, 20, 30]));
        assert_eq!(c.hours, bits(&[0, 6, 12, 18]));
        assert_eq!(c.days_of_month, bits(&[1, 15]));
        assert_eq!(c.months, bits(&(1..=12).collect::<Vec<u32>>()));
        assert_eq!(c.days_of_week, bits(&(0..=6).collect::<Vec<u32>>()));
        assert!(!c.dom_star && c.dow_star);

        assert_eq!(cron("10/20 * * * *").minutes, bits(&[10, 30, 50]));
        assert_eq!(cron("* * * * *").minutes, u64::MAX >> 4);
        assert_eq!(cron("0 9-17 * * MON-FRI").days_of_week, bits(&[1, 2, 3, 4, 5]));
        assert_eq!(cron("0 0 1 jan,Jul *").months, bits(&[1, 7]));
        assert_eq!(cron("0 0 1 JAN-MAR/2 *").months, bits(&[1, 3]));
        assert_eq!(cron("0 0 * * 5-7").days_of_week, bits(&[0, 5, 6]));
        assert_eq!(cron("0 0 * * sun").days_of_week, bits(&[0]));
        assert!(same_fields(&cron("0 0 * * 7"), &cron("0 0 * * 0")));
        assert!(cron("0 0 */2 * *").dom_star);

        assert_eq!(cron("  0 2 * * *\n").to_string(), "0 2 * * *");
    }

    #[test]
    fn parses_macros() {
        let cases = [
            ("@yearly", "0 0 1 1 *"),
            ("@annually", "0 0 1 1 *"),
            ("@monthly", "0 0 1 * *"),
            ("@weekly", "0 0 * * 0"),
            ("@daily", "0 0 * * *"),
            ("@midnight", "0 0 * * *"),
            ("@hourly", "0 * * * *"),
            ("@Daily", "0 0 * * *"),
        ];
        for (name, fields) in cases {
            assert!(same_fields(&cron(name), &cron(fields)), "{name}");
            assert_eq!(cron(name).to_string(), name);
        }
    }

    #[test]
    fn errors_name_the_bad_value() {
        assert_eq!(error("61 * * * *"), "`61` is not a minute (0-59) in cron `61 * * * *`");
        assert_eq!(error("* 24 * * *"), "`24` is not an hour (0-23) in cron `* 24 * * *`");
        assert_eq!(error("* * 0 * *"), "`0` is not a day of month (1-31) in cron `* * 0 * *`");
        assert_eq!(error("* * * FOO *"), "`FOO` is not a month (1-12 or JAN-DEC) in cron `* * * FOO *`");
        assert_eq!(error("* * * * 8"), "`8` is not a day of week (0-7 or SUN-SAT) in cron `* * * * 8`");
        assert_eq!(
            error("* * * *"),
            "cron `* * * *` has 4 fields; expected 5: minute hour day-of-month month day-of-week"
        );
        assert!(error("* * * * * *").contains("has 6 fields"));
        assert!(error("").contains("has 0 fields"));
        assert!(error("*/0 * * * *").contains("`*/0` has step `0`"));
        assert!(error("*/61 * * * *").contains("`*/61`"));
        assert!(error("*/x * * * *").contains("`*/x`"));
        assert!(error("5-3 * * * *").contains("`5-3` is a backwards range in the minute field"));
        assert!(error("1- * * * *").contains("`1-` is missing a minute"));
        assert!(error("1,,2 * * * *").contains("empty list entry"));
        assert!(error("99999999999 * * * *").contains("`99999999999` is not a minute"));
        assert!(error("@reboot").contains("`@reboot` is not a cron macro"));
        assert!(error("* * * * MON-SUN").contains("`MON-SUN`"));
    }

    #[test]
    fn daily_in_utc_and_new_york() {
        let utc = TimeZone::UTC;
        assert_eq!(next("0 2 * * *", "2024-01-01T00:00:00Z", &utc).as_deref(), Some("2024-01-01T02:00:00Z"));
        assert_eq!(next("0 2 * * *", "2024-01-01T02:00:00Z", &utc).as_deref(), Some("2024-01-02T02:00:00Z"));
        assert_eq!(next("0 2 * * *", "2024-12-31T03:00:00Z", &utc).as_deref(), Some("2025-01-01T02:00:00Z"));

        let new_york = zone("America/New_York");
        // EST (-05) in winter, EDT (-04) in summer.
        assert_eq!(next("0 2 * * *", "2024-01-01T00:00:00Z", &new_york).as_deref(), Some("2024-01-01T07:00:00Z"));
        assert_eq!(next("0 2 * * *", "2024-07-01T00:00:00Z", &new_york).as_deref(), Some("2024-07-01T06:00:00Z"));
    }

    #[test]
    fn every_fifteen_minutes() {
        let utc = TimeZone::UTC;
        assert_eq!(next("*/15 * * * *", "2024-01-01T00:07:30Z", &utc).as_deref(), Some("2024-01-01T00:15:00Z"));
        assert_eq!(next("*/15 * * * *", "2024-01-01T00:15:00Z", &utc).as_deref(), Some("2024-01-01T00:30:00Z"));
        assert_eq!(next("*/15 * * * *", "2024-01-01T23:45:00Z", &utc).as_deref(), Some("2024-01-02T00:00:00Z"));
    }

    #[test]
    fn monthly() {
        let utc = TimeZone::UTC;
        assert_eq!(next("0 0 1 * *", "2024-01-15T00:00:00Z", &utc).as_deref(), Some("2024-02-01T00:00:00Z"));
        assert_eq!(next("0 0 1 * *", "2024-12-01T00:00:00Z", &utc).as_deref(), Some("2025-01-01T00:00:00Z"));
        assert_eq!(next("@yearly", "2024-01-01T00:00:00Z", &utc).as_deref(), Some("2025-01-01T00:00:00Z"));
    }

    #[test]
    fn day_of_month_or_day_of_week() {
        let utc = TimeZone::UTC;
        // October 2024: Fridays are the 4th, 11th, 18th, 25th; the 13th is a Sunday.
        assert_eq!(next("0 0 13 * FRI", "2024-10-01T00:00:00Z", &utc).as_deref(), Some("2024-10-04T00:00:00Z"));
        assert_eq!(next("0 0 13 * FRI", "2024-10-11T00:00:00Z", &utc).as_deref(), Some("2024-10-13T00:00:00Z"));
        assert_eq!(next("0 0 13 * FRI", "2024-10-13T00:00:00Z", &utc).as_deref(), Some("2024-10-18T00:00:00Z"));
        // With one day field unrestricted, both must match.
        assert_eq!(next("0 0 13 * *", "2024-10-01T00:00:00Z", &utc).as_deref(), Some("2024-10-13T00:00:00Z"));
        assert_eq!(next("0 0 * * FRI", "2024-10-05T00:00:00Z", &utc).as_deref(), Some("2024-10-11T00:00:00Z"));
        // `*/2` starts with `*`, so (as in Vixie cron) it is ANDed: odd days that are Fridays.
        assert_eq!(next("0 0 */2 * FRI", "2024-10-01T00:00:00Z", &utc).as_deref(), Some("2024-10-11T00:00:00Z"));
    }

    #[test]
    fn spring_forward_fires_at_the_end_of_the_gap() {
        let new_york = zone("America/New_York");
        // 2024-03-10: 02:00 EST jumps to 03:00 EDT (07:00Z), so 02:30 does not exist.
        assert_eq!(next("30 2 * * *", "2024-03-09T12:00:00Z", &new_york).as_deref(), Some("2024-03-10T07:00:00Z"));
        assert_eq!(next("30 2 * * *", "2024-03-10T07:00:00Z", &new_york).as_deref(), Some("2024-03-11T06:30:00Z"));
        // Every gap minute maps to 07:00Z: it is returned once, then 03:15 EDT.
        assert_eq!(next("*/15 * * * *", "2024-03-10T06:50:00Z", &new_york).as_deref(), Some("2024-03-10T07:00:00Z"));
        assert_eq!(next("*/15 * * * *", "2024-03-10T07:00:00Z", &new_york).as_deref(), Some("2024-03-10T07:15:00Z"));
    }

    #[test]
    fn fall_back_fires_once_at_the_first_occurrence() {
        let new_york = zone("America/New_York");
        // 2024-11-03: 01:00-01:59 happens twice, first EDT (05:00Z-05:59Z), then EST (06:00Z-06:59Z).
        assert_eq!(next("30 1 * * *", "2024-11-02T12:00:00Z", &new_york).as_deref(), Some("2024-11-03T05:30:00Z"));
        assert_eq!(next("30 1 * * *", "2024-11-03T05:30:00Z", &new_york).as_deref(), Some("2024-11-04T06:30:00Z"));
        // From inside the repeated hour (01:00 EST), 01:30 has already fired.
        assert_eq!(next("30 1 * * *", "2024-11-03T06:00:00Z", &new_york).as_deref(), Some("2024-11-04T06:30:00Z"));
        // An hourly cron does not fire again for the repeated 01:00.
        assert_eq!(next("0 * * * *", "2024-11-03T05:00:00Z", &new_york).as_deref(), Some("2024-11-03T07:00:00Z"));
        assert_eq!(next("0 * * * *", "2024-11-03T06:00:00Z", &new_york).as_deref(), Some("2024-11-03T07:00:00Z"));
        assert_eq!(next("0 * * * *", "2024-11-03T04:30:00Z", &new_york).as_deref(), Some("2024-11-03T05:00:00Z"));
    }

    #[test]
    fn never_matching_gives_none() {
        assert_eq!(next("0 0 30 2 *", "2024-01-01T00:00:00Z", &TimeZone::UTC), None);
        assert_eq!(next("0 0 31 4,6,9,11 *", "2024-01-01T00:00:00Z", &TimeZone::UTC), None);
        // February 29th is found even eight years away.
        assert_eq!(next("0 0 29 2 *", "2097-01-01T00:00:00Z", &TimeZone::UTC).as_deref(), Some("2104-02-29T00:00:00Z"));
    }
}
