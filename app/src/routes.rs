//! Where things are: the addresses of pages and of the API paths the browser calls, built the
//! same way in the server's render and in the browser (hrefs must match for hydration), and
//! where a host's published ports are reachable from.

#[cfg(feature = "ssr")]
use leptos::prelude::*;

/// Where a host's published ports are reachable from the browser.
#[cfg(feature = "ssr")]
pub(crate) fn list_address(engine_url: &str) -> Option<String> {
    url_host(engine_url).or_else(browser_hostname)
}

/// The host part of an engine URL (`tcp://10.0.0.5:2376` → `10.0.0.5`); `None` for sockets.
#[cfg(feature = "ssr")]
fn url_host(url: &str) -> Option<String> {
    let rest = ["tcp://", "http://", "https://"]
        .iter()
        .find_map(|p| url.strip_prefix(p))?;
    let authority = rest.split('/').next().unwrap_or_default();
    strip_port(authority)
}

/// `example.org:3000` → `example.org`; `[::1]:3000` → `[::1]`.
#[cfg(feature = "ssr")]
fn strip_port(authority: &str) -> Option<String> {
    let host = if authority.starts_with('[') {
        authority.split_once(']').map(|(h, _)| format!("{h}]"))?
    } else {
        authority.split(':').next().unwrap_or_default().to_string()
    };
    let ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c));
    ok.then_some(host)
}

/// The host name the browser used to reach Capstan (its `Host` header), for local engines'
/// ports: they are published on the machine Capstan runs on.
#[cfg(feature = "ssr")]
fn browser_hostname() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    strip_port(host)
}

/// `encodeURIComponent`, the same on the server and in the browser (hrefs must match for
/// hydration).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn container_href(host: &str, id: &str) -> String {
    format!("/hosts/{}/containers/{}", encode(host), encode(id))
}

pub fn image_href(host: &str, id: &str) -> String {
    format!("/images/{}/{}", encode(host), encode(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_encoded_as_the_browser_does() {
        assert_eq!(encode("sha256:ab/c"), "sha256%3Aab%2Fc");
        assert_eq!(encode("web-1_x.y~(z)"), "web-1_x.y~(z)");
        assert_eq!(container_href("a b", "c1"), "/hosts/a%20b/containers/c1");
    }
}
