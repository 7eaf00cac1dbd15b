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

#[cfg(test)]
mod tests {
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
    fn plurals() {
        assert_eq!(plural(1, "host", "hosts"), "1 host");
        assert_eq!(plural(0, "host", "hosts"), "0 hosts");
    }
}
