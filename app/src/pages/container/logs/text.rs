//! Log timestamps and search text: the gutter's short time, ordering keys, and the filter's
//! regular-expression escape.

/// `2026-11-28T07:44:53.123456789Z` → `07:44:53.123` for the gutter.
pub fn short_time(ts: &str) -> String {
    match (ts.get(11..19), ts.get(19..)) {
        (Some(hms), Some(rest)) => {
            let frac: String = rest
                .strip_prefix('.')
                .map(|f| f.chars().take_while(char::is_ascii_digit).take(3).collect())
                .unwrap_or_default();
            if frac.is_empty() {
                hms.to_string()
            } else {
                format!("{hms}.{frac:0<3}")
            }
        }
        _ => ts.to_string(),
    }
}

/// An engine timestamp as a sortable key: (seconds part, nanoseconds).
pub fn ts_key(ts: &str) -> Option<(String, u32)> {
    let secs = ts.get(..19)?.to_string();
    let rest = ts.get(19..)?;
    let nanos = rest
        .strip_prefix('.')
        .map(|f| {
            let digits: String = f.chars().take_while(char::is_ascii_digit).take(9).collect();
            format!("{digits:0<9}").parse().unwrap_or(0)
        })
        .unwrap_or(0);
    Some((secs, nanos))
}

/// Unix seconds of an RFC 3339 UTC timestamp (for `since=` when resuming).
pub fn unix_seconds(ts: &str) -> Option<i64> {
    let num = |a: usize, b: usize| ts.get(a..b)?.parse::<i64>().ok();
    let (y, m, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hh, mm, ss) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    // Days from civil (Howard Hinnant).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// A RegExp source that matches `q` literally.
pub fn regex_escape(q: &str) -> String {
    let mut out = String::with_capacity(q.len() * 2);
    for c in q.chars() {
        if "\\^$.*+?()[]{}|/-".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_keys() {
        assert_eq!(short_time("2026-11-28T07:44:53.123456789Z"), "07:44:53.123");
        assert_eq!(short_time("2026-11-28T07:44:53Z"), "07:44:53");
        assert_eq!(short_time("2026-11-28T07:44:53.5Z"), "07:44:53.500");
        assert!(ts_key("2026-11-28T07:44:53.5Z") > ts_key("2026-11-28T07:44:53.123456789Z"));
        assert_eq!(unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(unix_seconds("2026-11-28T05:27:00.1Z"), Some(1_795_843_620));
        assert_eq!(unix_seconds("nonsense"), None);
        assert_eq!(regex_escape("a.b(c)"), "a\\.b\\(c\\)");
    }
}
