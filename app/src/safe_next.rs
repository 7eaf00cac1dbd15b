//! The `next` parameter of the login page: only paths on this site are followed, so a link
//! like `/login?next=https://evil.example` cannot send a person elsewhere after they sign in.

pub const DEFAULT: &str = "/hosts";

/// `next` if it is a local path, else the default page.
pub fn sanitize(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.contains('\\')
                && !n.chars().any(|c| c.is_control())
                && !n.starts_with("/login")
                && !n.starts_with("/setup")
                && n.len() <= 2048 =>
        {
            n.to_string()
        }
        _ => DEFAULT.to_string(),
    }
}

/// Percent-encodes a path for use as a query value.
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(sanitize(Some("/hosts?x=1")), "/hosts?x=1");
        assert_eq!(sanitize(Some("/containers/abc")), "/containers/abc");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "evil",
            "",
            "/a\\b",
            "/x\nSet-Cookie: a",
            "/login?next=/x",
        ] {
            assert_eq!(sanitize(Some(bad)), DEFAULT, "{bad:?}");
        }
        assert_eq!(sanitize(None), DEFAULT);
    }

    #[test]
    fn encoding_round_trips_through_a_query() {
        assert_eq!(encode("/hosts?a=1&b=2"), "/hosts%3Fa%3D1%26b%3D2");
    }
}
