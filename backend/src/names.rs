//! The name rules checked before a name reaches an engine, a URL or the store, each written
//! once: Docker's object names, image tags, DNS names and registry addresses.

use std::ops::RangeInclusive;

/// Docker's object names (containers, volumes, networks, and container references in engine
/// URLs): `[a-zA-Z0-9][a-zA-Z0-9_.-]*`, its length in bytes within `len`. Capstan's user
/// names follow the same rule.
pub fn is_object_name(name: &str, len: RangeInclusive<usize>) -> bool {
    let mut chars = name.chars();
    len.contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// An image tag: up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
pub fn is_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    tag.len() <= 128
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// A volume or network driver: `local`, or a plugin's `name[:tag]` (letters, digits and
/// `_ . - : /`, starting with a letter or digit), at most 255 bytes.
pub fn is_driver(driver: &str) -> bool {
    let mut chars = driver.chars();
    driver.len() <= 255
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | ':' | '/'))
}

/// One path component of an image repository: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
pub fn is_repo_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &part[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// A DNS name: labels of 1 to 63 letters, digits and `-` (not first or last), joined by dots.
pub fn is_dns_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

/// A registry address: a DNS name (or an IPv4 address, which reads as one), optionally
/// followed by `:port` (1 to 65535).
pub fn is_registry(address: &str) -> bool {
    let (host, port) = match address.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (address, None),
    };
    let port_ok = port.is_none_or(|p| {
        p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|p| p > 0)
    });
    port_ok && is_dns_name(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names() {
        assert!(is_object_name("web-1.a_b", 2..=128));
        assert!(!is_object_name("w", 2..=128));
        assert!(is_object_name("w", 1..=255));
        for bad in ["", "-web", ".web", "_web", "a/b", "a b", "../x", "é"] {
            assert!(!is_object_name(bad, 1..=255), "{bad:?}");
        }
        assert!(!is_object_name(&"a".repeat(129), 2..=128));
    }

    #[test]
    fn repository_components() {
        assert!(is_repo_component("busybox") && is_repo_component("a.b_c__d--e"));
        for bad in ["", "Busy", "a..b", "a___b", "-a", "a-", "a/b"] {
            assert!(!is_repo_component(bad), "{bad:?}");
        }
    }

    #[test]
    fn drivers() {
        assert!(is_driver("local") && is_driver("vieux/sshfs:latest"));
        assert!(!is_driver("") && !is_driver("-x") && !is_driver("a b"));
    }

    #[test]
    fn tags() {
        assert!(is_tag("1.25-alpine") && is_tag("_x"));
        assert!(
            !is_tag("")
                && !is_tag(".x")
                && !is_tag("-x")
                && !is_tag("a:b")
                && !is_tag(&"a".repeat(129))
        );
    }

    #[test]
    fn dns_names_and_registries() {
        assert!(is_dns_name("registry.example.org") && is_dns_name("localhost"));
        assert!(!is_dns_name("") && !is_dns_name("-a.b") && !is_dns_name("a..b"));
        assert!(!is_dns_name(&format!("{}.org", "a".repeat(64))));
        assert!(is_registry("localhost:5000") && is_registry("10.0.0.5") && is_registry("ghcr.io"));
        for bad in [
            "localhost:0",
            "localhost:65536",
            "host:+5",
            "a_b:5000",
            ":5000",
            "host:",
        ] {
            assert!(!is_registry(bad), "{bad:?}");
        }
    }
}
