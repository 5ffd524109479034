//! Display helpers for times and enums.

use chrono::DateTime;

/// `2026-11-26 18:45 UTC`, or an em dash for no time.
pub fn date_time(seconds: Option<i64>) -> String {
    seconds
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "—".to_string())
}

/// `2026-11-26`.
pub fn date(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// A `datetime-local` value (`2026-12-01T09:30`, seconds allowed) as a wall-clock time.
pub fn parse_local_minute(value: &str) -> Option<chrono::NaiveDateTime> {
    let value = value.trim();
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .ok()
}

/// Percent-encodes a query value (RFC 3986 unreserved characters pass through).
pub fn url_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// A list page's address: `base` with its search and page in the query, leaving out an empty
/// search and page 1 (`/assets?q=web&page=2`). `extra` pairs go between them.
pub fn list_href(base: &str, search: &str, extra: &[(&str, String)], page: i64) -> String {
    let mut params = Vec::new();
    if !search.is_empty() {
        params.push(format!("q={}", url_encode(search)));
    }
    params.extend(extra.iter().map(|(name, value)| format!("{name}={}", url_encode(value))));
    if page > 1 {
        params.push(format!("page={page}"));
    }
    if params.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", params.join("&"))
    }
}

/// 1234567 as "1,234,567".
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped_by_three() {
        use super::thousands;
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(-1_234_567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn list_hrefs_keep_only_what_narrows() {
        use super::list_href;
        assert_eq!(list_href("/assets", "", &[], 1), "/assets");
        assert_eq!(list_href("/assets", "web 1", &[("group", "3".into())], 2), "/assets?q=web%201&group=3&page=2");
        assert_eq!(list_href("/x", "", &[], 4), "/x?page=4");
    }

    #[test]
    fn times_render_in_utc() {
        assert_eq!(super::date_time(Some(0)), "1970-01-01 00:00 UTC");
        assert_eq!(super::date_time(None), "—");
        assert_eq!(super::url_encode("/assets?q=web 1"), "%2Fassets%3Fq%3Dweb%201");
        assert_eq!(super::parse_local_minute("2026-12-01T09:30").map(|t| t.to_string()).as_deref(), Some("2026-12-01 09:30:00"));
        assert!(super::parse_local_minute("2026-12-01").is_none());
    }
}
