//! Numbers people compare, formatted the same way on every page.

/// `1536` → `"1.5 KB"`; binary multiples, as `docker` itself prints sizes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if value >= 100.0 {
        format!("{value:.0} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A round-trip time: `"4 ms"`, `"<1 ms"`, `"1.2 s"`.
pub fn latency_ms(ms: u64) -> String {
    match ms {
        0 => "<1 ms".into(),
        1..=999 => format!("{ms} ms"),
        _ => format!("{:.1} s", ms as f64 / 1000.0),
    }
}

/// `"3 hosts"`, `"1 host"`.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Unix seconds as `2026-11-28 05:27 UTC`: absolute, so the server and the browser render the
/// same text (a relative "3 min ago" would differ between the two and break hydration).
pub fn datetime(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// `12.3 %`.
pub fn percent(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} %")
    } else {
        format!("{v:.1} %")
    }
}

/// A rate in bytes per second: `1.2 MB/s`.
pub fn rate(v: f64) -> String {
    // Rates are non-negative and far below u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = v.max(0.0).round() as u64;
    format!("{}/s", bytes(n))
}

/// An id as `docker ps` and `docker images` show it: 12 characters, without `sha256:`.
pub fn short_id(id: &str) -> String {
    id.strip_prefix("sha256:")
        .unwrap_or(id)
        .chars()
        .take(12)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn datetimes_are_utc_and_absolute() {
        assert_eq!(datetime(0), "1970-01-01 00:00 UTC");
        assert_eq!(datetime(1_795_843_620), "2026-11-28 05:27 UTC");
        assert_eq!(datetime(951_782_400), "2000-02-29 00:00 UTC");
    }

    use super::*;

    #[test]
    fn sizes_read_like_docker() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(8 * 1024 * 1024 * 1024), "8.0 GB");
        assert_eq!(bytes(250 * 1024 * 1024), "250 MB");
    }

    #[test]
    fn latency_is_short() {
        assert_eq!(latency_ms(0), "<1 ms");
        assert_eq!(latency_ms(42), "42 ms");
        assert_eq!(latency_ms(1250), "1.2 s");
    }

    #[test]
    fn percents_rates_and_ids() {
        assert_eq!(percent(3.06), "3.1 %");
        assert_eq!(percent(150.0), "150 %");
        assert_eq!(rate(1536.0), "1.5 KB/s");
        assert_eq!(rate(-1.0), "0 B/s");
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(short_id("fedcba9876543210"), "fedcba987654");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "host", "hosts"), "1 host");
        assert_eq!(plural(0, "host", "hosts"), "0 hosts");
    }
}
