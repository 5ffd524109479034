//! The console's clock. Real time, except when `BULWARK_TEST_NOW` (an RFC 3339 instant) is set:
//! then the clock starts at that instant and runs on from there, so a whole test suite (and the
//! console processes it starts) can be run "on" a chosen date: a Sunday, the last day of a
//! month, a DST night, 29 February. And the IANA time zones accounts keep their days in.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::OnceLock;

use chrono_tz::Tz;

/// The environment variable that starts the clock at a chosen instant (tests only).
pub const START_VAR: &str = "BULWARK_TEST_NOW";

/// Seconds added to the real time; set once, from the environment or by `start_at`.
static OFFSET: AtomicI64 = AtomicI64::new(0);
static INIT: OnceLock<()> = OnceLock::new();

fn real_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The instant `BULWARK_TEST_NOW` names, if it names one (a value that does not parse is said so
/// once, and ignored).
fn start_from_env() -> Option<i64> {
    let value = std::env::var(START_VAR).ok()?;
    let start = parse_instant(&value);
    if start.is_none() {
        eprintln!("{START_VAR}={value:?} is not an RFC 3339 instant; it is ignored");
    }
    start
}

/// Sets the offset once: from the environment, else from `fallback` (the real time when none).
fn init_with(fallback: Option<i64>) {
    INIT.get_or_init(|| {
        if let Some(start) = start_from_env().or(fallback) {
            OFFSET.store(start - real_now(), Ordering::Relaxed);
        }
    });
}

fn init() {
    init_with(None);
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    init();
    real_now() + OFFSET.load(Ordering::Relaxed)
}

/// The machine's real time in Unix milliseconds, never shifted: for timestamps that another party
/// checks against its own clock (DingTalk refuses a signature more than an hour off).
pub fn wall_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Now, as a chrono instant (whole seconds).
pub fn now_utc() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(now(), 0).unwrap_or_default()
}

/// Starts the clock at `instant` (Unix seconds) unless the environment already chose one.
/// Returns the instant the clock shows now.
pub fn start_at(instant: i64) -> i64 {
    init_with(Some(instant));
    now()
}

/// The current instant as an RFC 3339 value for `BULWARK_TEST_NOW`, for a child process that
/// must share this clock.
pub fn now_rfc3339() -> String {
    now_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Parses an IANA zone name ("Europe/Berlin", "UTC").
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.trim().parse::<Tz>().ok()
}

fn parse_instant(value: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(value.trim()).ok().map(|t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_parse_in_any_offset() {
        assert_eq!(parse_instant("2028-02-29T23:30:00Z"), Some(1_835_479_800));
        assert_eq!(parse_instant("2028-03-01T08:30:00+09:00"), Some(1_835_479_800));
        assert_eq!(parse_instant("29 Feb 2028"), None);
    }
}
