//! When reports are due: the data period each send covers and the moment inside the report's
//! time window, in the account's time zone. Pure functions of the clock, so they are tested
//! across DST changes, month ends and leap days without waiting for any of them.

use chrono::{Datelike, Days, LocalResult, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use super::model::{ReportKind, SendWindow};

/// Sends are placed no later than this before their window closes, so a tick (and a slow SMTP
/// server) still delivers inside the window.
pub const WINDOW_MARGIN_SECS: i64 = 15 * 60;

/// One scheduled send: the data period and when it goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// Unix seconds, inside [window start, window end − margin].
    pub due_at: i64,
    /// Unix seconds when the window closes; a send after it is late.
    pub window_end: i64,
}

/// Everything that decides a report's schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub kind: ReportKind,
    pub window: SendWindow,
    pub custom: Option<(NaiveDate, NaiveDate)>,
    pub tz: Tz,
    /// Spreads reports over their window instead of firing them together (the report id).
    pub spread_key: i64,
}


/// The period a send on local date `send_date` covers, or `None` when nothing is sent that day.
pub fn period_sent_on(kind: ReportKind, send_date: NaiveDate, custom: Option<(NaiveDate, NaiveDate)>) -> Option<(NaiveDate, NaiveDate)> {
    let yesterday = send_date.pred_opt()?;
    match kind {
        ReportKind::Daily => Some((yesterday, yesterday)),
        ReportKind::Weekly if send_date.weekday() == Weekday::Mon => Some((send_date.checked_sub_days(Days::new(7))?, yesterday)),
        ReportKind::Monthly if send_date.day() == 1 => Some((send_date.checked_sub_months(Months::new(1))?, yesterday)),
        ReportKind::Custom => custom.filter(|(_, end)| end.succ_opt() == Some(send_date)),
        _ => None,
    }
}

/// The period "Send now" covers on local date `today`: the last complete day, Monday–Sunday
/// week or calendar month; for a custom report its own period.
pub fn current_period(kind: ReportKind, today: NaiveDate, custom: Option<(NaiveDate, NaiveDate)>) -> Option<(NaiveDate, NaiveDate)> {
    let last_send_date = match kind {
        ReportKind::Daily => today,
        ReportKind::Weekly => today.checked_sub_days(Days::new(today.weekday().num_days_from_monday() as u64))?,
        ReportKind::Monthly => today.with_day(1)?,
        ReportKind::Custom => return custom,
    };
    period_sent_on(kind, last_send_date, custom)
}

/// The instant a local wall-clock time happens. In a DST gap the clock jumps over, the first
/// valid minute after it; when a time happens twice, the earlier.
pub fn local_instant(tz: Tz, date: NaiveDate, time: NaiveTime) -> i64 {
    let mut local = NaiveDateTime::new(date, time);
    for _ in 0..(24 * 4) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.timestamp(),
            LocalResult::Ambiguous(earliest, _) => return earliest.timestamp(),
            LocalResult::None => local += chrono::Duration::minutes(15),
        }
    }
    // No zone skips a whole day; fall back to reading the wall time as UTC.
    NaiveDateTime::new(date, time).and_utc().timestamp()
}

/// Start of a local day.
pub fn day_start(tz: Tz, date: NaiveDate) -> i64 {
    local_instant(tz, date, NaiveTime::MIN)
}

/// The local date of an instant.
pub fn local_date(tz: Tz, at: i64) -> NaiveDate {
    tz.timestamp_opt(at, 0).single().map(|t| t.date_naive()).unwrap_or_default()
}

/// The window on a local date as instants [start, end); 5 or 7 hours long across DST changes.
pub fn window_bounds(tz: Tz, date: NaiveDate, window: SendWindow) -> (i64, i64) {
    let hour = window.start_hour();
    let start = local_instant(tz, date, NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN));
    let end = if hour + 6 >= 24 {
        date.succ_opt().map(|next| day_start(tz, next)).unwrap_or(start + 6 * 3600)
    } else {
        local_instant(tz, date, NaiveTime::from_hms_opt(hour + 6, 0, 0).unwrap_or(NaiveTime::MIN))
    };
    (start, end.max(start + WINDOW_MARGIN_SECS + 60))
}

/// Where in the window this report goes out: a fixed offset derived from `spread_key`, so
/// many reports due in the same window spread over it and each keeps its own slot.
pub fn due_in_window(tz: Tz, date: NaiveDate, window: SendWindow, spread_key: i64) -> (i64, i64) {
    let (start, end) = window_bounds(tz, date, window);
    let usable = (end - start - WINDOW_MARGIN_SECS).max(1) as u64;
    // Fibonacci hashing scatters consecutive ids across the whole window.
    let offset = (spread_key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) % usable;
    (start + offset as i64, end)
}

impl Schedule {
    fn occurrence_on(&self, send_date: NaiveDate) -> Option<Occurrence> {
        let (period_start, period_end) = period_sent_on(self.kind, send_date, self.custom)?;
        let (due_at, window_end) = due_in_window(self.tz, send_date, self.window, self.spread_key);
        Some(Occurrence { period_start, period_end, due_at, window_end })
    }

    /// The first send due strictly after `after`; `None` when none is left (a custom report
    /// whose send day has passed).
    pub fn next_after(&self, after: i64) -> Option<Occurrence> {
        if self.kind == ReportKind::Custom {
            let send_date = self.custom?.1.succ_opt()?;
            return self.occurrence_on(send_date).filter(|o| o.due_at > after);
        }
        let mut date = local_date(self.tz, after).pred_opt()?;
        // A month and a bit always holds the next monthly send.
        for _ in 0..40 {
            if let Some(occurrence) = self.occurrence_on(date).filter(|o| o.due_at > after) {
                return Some(occurrence);
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// The latest send due at or before `now`, starting from the one due at `first_due`: what
    /// goes out (once) after the console was down through one or more windows.
    pub fn latest_due(&self, first_due: i64, now: i64) -> Option<Occurrence> {
        let mut current = self.next_after(first_due - 1).filter(|o| o.due_at <= now)?;
        while let Some(next) = self.next_after(current.due_at).filter(|o| o.due_at <= now) {
            current = next;
        }
        Some(current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::clock::parse_time_zone;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(tz: Tz, text: &str) -> i64 {
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap();
        tz.from_local_datetime(&local).earliest().unwrap().timestamp()
    }

    fn schedule(kind: ReportKind, window: SendWindow, tz: &str) -> Schedule {
        Schedule { kind, window, custom: None, tz: parse_time_zone(tz).unwrap(), spread_key: 7 }
    }

    #[test]
    fn periods_cover_the_previous_day_week_and_month() {
        assert_eq!(period_sent_on(ReportKind::Daily, d("2026-03-01"), None), Some((d("2026-02-28"), d("2026-02-28"))));
        // 2026-11-30 is a Monday.
        assert_eq!(period_sent_on(ReportKind::Weekly, d("2026-11-30"), None), Some((d("2026-11-23"), d("2026-11-29"))));
        assert_eq!(period_sent_on(ReportKind::Weekly, d("2026-11-29"), None), None);
        assert_eq!(period_sent_on(ReportKind::Monthly, d("2026-03-01"), None), Some((d("2026-02-01"), d("2026-02-28"))));
        assert_eq!(period_sent_on(ReportKind::Monthly, d("2028-03-01"), None), Some((d("2028-02-01"), d("2028-02-29"))), "leap year");
        assert_eq!(period_sent_on(ReportKind::Monthly, d("2027-01-01"), None), Some((d("2026-12-01"), d("2026-12-31"))), "year end");
        assert_eq!(period_sent_on(ReportKind::Monthly, d("2026-05-31"), None), None);
        let custom = Some((d("2026-11-01"), d("2026-11-15")));
        assert_eq!(period_sent_on(ReportKind::Custom, d("2026-11-16"), custom), custom);
        assert_eq!(period_sent_on(ReportKind::Custom, d("2026-11-17"), custom), None);
    }

    #[test]
    fn send_now_covers_the_last_complete_period() {
        // Thursday 2026-11-26.
        let today = d("2026-11-26");
        assert_eq!(current_period(ReportKind::Daily, today, None), Some((d("2026-11-25"), d("2026-11-25"))));
        assert_eq!(current_period(ReportKind::Weekly, today, None), Some((d("2026-11-16"), d("2026-11-22"))));
        assert_eq!(current_period(ReportKind::Monthly, today, None), Some((d("2026-10-01"), d("2026-10-31"))));
        assert_eq!(current_period(ReportKind::Weekly, d("2026-11-30"), None), Some((d("2026-11-23"), d("2026-11-29"))));
        assert_eq!(current_period(ReportKind::Monthly, d("2028-03-15"), None), Some((d("2028-02-01"), d("2028-02-29"))));
    }

    #[test]
    fn every_window_places_sends_inside_it() {
        let tz = parse_time_zone("Asia/Shanghai").unwrap();
        for window in SendWindow::ALL {
            for key in 0..500 {
                let (due, end) = due_in_window(tz, d("2026-11-26"), window, key);
                let (start, _) = window_bounds(tz, d("2026-11-26"), window);
                assert!(due >= start && due <= end - WINDOW_MARGIN_SECS, "{window:?} key {key}");
                assert_eq!(end - start, 6 * 3600);
                assert_eq!(start, at(tz, &format!("2026-11-26 {:02}:00", window.start_hour())));
            }
        }
    }

    #[test]
    fn sends_spread_over_the_window() {
        let tz = parse_time_zone("UTC").unwrap();
        let dues: Vec<i64> = (1..=100).map(|key| due_in_window(tz, d("2026-11-26"), SendWindow::Morning, key).0).collect();
        let (start, end) = window_bounds(tz, d("2026-11-26"), SendWindow::Morning);
        // Every hour of the six gets some of them.
        for hour in 0..5 {
            let lo = start + hour * 3600;
            assert!(dues.iter().any(|t| (lo..lo + 3600).contains(t)), "hour {hour} empty");
        }
        assert!(dues.iter().all(|t| *t < end));
    }

    #[test]
    fn dst_changes_shorten_and_lengthen_windows_but_keep_sends_inside() {
        let ny = parse_time_zone("America/New_York").unwrap();
        // Spring forward: 02:00 → 03:00 on 2026-03-08, the night window has five hours.
        let (start, end) = window_bounds(ny, d("2026-03-08"), SendWindow::Night);
        assert_eq!(end - start, 5 * 3600);
        // Fall back: 02:00 happens twice on 2026-11-01, the night window has seven hours.
        let (start, end) = window_bounds(ny, d("2026-11-01"), SendWindow::Night);
        assert_eq!(end - start, 7 * 3600);
        for key in 0..200 {
            let (due, end) = due_in_window(ny, d("2026-03-08"), SendWindow::Night, key);
            assert!(due < end && local_date(ny, due) == d("2026-03-08"));
        }
        // Santiago skips midnight itself (00:00 → 01:00 on 2026-09-06): the window starts at 01:00.
        let santiago = parse_time_zone("America/Santiago").unwrap();
        let (start, end) = window_bounds(santiago, d("2026-09-06"), SendWindow::Night);
        assert_eq!(start, at(santiago, "2026-09-06 01:00"));
        assert_eq!(end - start, 5 * 3600);
        // And the evening window before it ends at the day's real start.
        let (_, evening_end) = window_bounds(santiago, d("2026-09-05"), SendWindow::Evening);
        assert_eq!(evening_end, start);
    }

    #[test]
    fn the_daily_schedule_runs_every_day_in_local_time() {
        let s = schedule(ReportKind::Daily, SendWindow::Morning, "Europe/Berlin");
        let tz = s.tz;
        let first = s.next_after(at(tz, "2026-03-28 12:00")).unwrap();
        assert_eq!((first.period_start, first.period_end), (d("2026-03-28"), d("2026-03-28")));
        let second = s.next_after(first.due_at).unwrap();
        // Across the spring-forward night of 2026-03-29 the send stays in 06:00–12:00 local.
        assert_eq!(second.period_end, d("2026-03-29"));
        let local = tz.timestamp_opt(second.due_at, 0).unwrap();
        assert_eq!(local.date_naive(), d("2026-03-30"));
        assert!((6..12).contains(&chrono::Timelike::hour(&local)));
        // The same local slot on consecutive days; the jump happened before 06:00 on the 29th.
        assert_eq!(second.due_at - first.due_at, 24 * 3600);
    }

    #[test]
    fn weekly_and_monthly_schedules_pick_mondays_and_firsts() {
        let weekly = schedule(ReportKind::Weekly, SendWindow::Night, "UTC");
        let next = weekly.next_after(at(weekly.tz, "2026-11-26 10:00")).unwrap();
        assert_eq!((next.period_start, next.period_end), (d("2026-11-23"), d("2026-11-29")));
        assert_eq!(local_date(weekly.tz, next.due_at), d("2026-11-30"));
        let monthly = schedule(ReportKind::Monthly, SendWindow::Evening, "Australia/Sydney");
        let next = monthly.next_after(at(monthly.tz, "2028-02-10 10:00")).unwrap();
        assert_eq!((next.period_start, next.period_end), (d("2028-02-01"), d("2028-02-29")));
        let after = monthly.next_after(next.due_at).unwrap();
        assert_eq!((after.period_start, after.period_end), (d("2028-03-01"), d("2028-03-31")));
    }

    #[test]
    fn a_send_due_later_today_comes_before_tomorrows() {
        let s = schedule(ReportKind::Daily, SendWindow::Evening, "UTC");
        let now = at(s.tz, "2026-11-26 05:00");
        let next = s.next_after(now).unwrap();
        assert_eq!(local_date(s.tz, next.due_at), d("2026-11-26"));
        assert_eq!(next.period_end, d("2026-11-25"));
    }

    #[test]
    fn custom_reports_go_out_once_the_day_after_their_period() {
        let mut s = schedule(ReportKind::Custom, SendWindow::Afternoon, "UTC");
        s.custom = Some((d("2026-11-01"), d("2026-11-15")));
        let next = s.next_after(at(s.tz, "2026-11-10 00:00")).unwrap();
        assert_eq!(local_date(s.tz, next.due_at), d("2026-11-16"));
        assert_eq!(s.next_after(next.due_at), None);
    }

    #[test]
    fn after_downtime_only_the_latest_missed_send_is_due() {
        let s = schedule(ReportKind::Daily, SendWindow::Night, "UTC");
        let first = s.next_after(at(s.tz, "2026-11-20 12:00")).unwrap();
        let now = at(s.tz, "2026-11-26 12:00");
        let latest = s.latest_due(first.due_at, now).unwrap();
        assert_eq!(latest.period_end, d("2026-11-25"));
        assert!(latest.window_end < now, "it is late");
        assert_eq!(s.latest_due(first.due_at, first.due_at - 1), None);
    }

    #[test]
    fn unknown_zones_are_rejected() {
        assert!(parse_time_zone("Mars/Olympus").is_none());
        assert!(parse_time_zone("Europe/Berlin").is_some());
    }
}
