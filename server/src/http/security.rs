//! Security headers on every response. The CSP allows scripts only from this origin plus the one
//! inline hydration script, which carries a nonce minted here per response. The same nonce lets
//! `<style>` elements that the page's own scripts create apply (xterm.js writes its cell sizes and
//! colours that way; the Terminal tab gives them the nonce); style attributes stay refused.
//!
//! Also who the client is: the peer, or behind a trusted proxy the address it forwarded.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::connect_info::{ConnectInfo, MockConnectInfo};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;

use app::ssr::CspNonce;

pub async fn headers(mut req: Request, next: Next) -> Response {
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 16]>());
    req.extensions_mut().insert(CspNonce(nonce.as_str().into()));
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    res
}

/// A network given to `--trusted-proxy`: `10.0.0.0/8`, `fd00::/8`, or one address (`/32` or
/// `/128` implied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_eq(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_eq(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let bits = usize::from(prefix);
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("{s:?} is not an address or a network like 10.0.0.0/8 or fd00::/8");
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let net = net.to_canonical();
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.net, self.prefix)
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
pub type TrustedProxies = Arc<[Cidr]>;

/// The client of a request: the peer, unless the peer is a trusted proxy — then the rightmost
/// address of `X-Forwarded-For` that is not itself a trusted proxy (each proxy appends the
/// address it heard from; only what trusted proxies appended can be believed, so the walk goes
/// right to left and stops at the first stranger). A chain of only trusted addresses gives its
/// leftmost; an entry that is not an address ends the walk at the hop to its right.
pub fn client_of(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if trusted.is_empty() || !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(ip) = parse_hop(hop) else { break };
        client = ip.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// Puts the request's real client (see [`client_of`]) where everything after reads the
/// client's address (`ConnectInfo`: sign-in throttling, setup, the audit log, exec), so no
/// handler looks at `X-Forwarded-For` itself. Behind a trusted proxy the port is unknown (0).
pub async fn client_address(
    State(trusted): State<TrustedProxies>,
    mut req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| {
            req.extensions()
                .get::<MockConnectInfo<SocketAddr>>()
                .map(|c| c.0)
        });
    if let Some(peer) = peer {
        let client = client_of(peer.ip(), req.headers(), &trusted);
        let addr = if client == peer.ip() {
            peer
        } else {
            SocketAddr::new(client, 0)
        };
        req.extensions_mut().insert(ConnectInfo(addr));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| c.parse().expect("cidr")).collect()
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("value"));
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn networks_parse_and_match() {
        let c: Cidr = "10.0.0.0/8".parse().expect("v4");
        assert!(c.contains(ip("10.200.3.4")) && !c.contains(ip("11.0.0.1")));
        assert!(
            c.contains(ip("::ffff:10.1.1.1")),
            "mapped addresses are their IPv4 address"
        );
        let c: Cidr = "fd00::/8".parse().expect("v6");
        assert!(
            c.contains(ip("fd12::1")) && !c.contains(ip("fe80::1")) && !c.contains(ip("10.0.0.1"))
        );
        let one: Cidr = "192.0.2.1".parse().expect("one address");
        assert!(one.contains(ip("192.0.2.1")) && !one.contains(ip("192.0.2.2")));
        assert!("192.0.2.0/20"
            .parse::<Cidr>()
            .expect("odd prefix")
            .contains(ip("192.0.15.255")));
        assert!("0.0.0.0/0"
            .parse::<Cidr>()
            .expect("all")
            .contains(ip("8.8.8.8")));
        for bad in ["", "10.0.0.0/33", "::/129", "nope", "10.0.0.0/x"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop_behind_a_trusted_peer() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.5");
        // A client's own header is kept at the left; what the proxies added is at the right.
        assert_eq!(
            client_of(peer, &xff(&["1.1.1.1, 203.0.113.9"]), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_of(peer, &xff(&["1.1.1.1", "203.0.113.9, 10.0.0.7"]), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_of(peer, &xff(&["[2001:db8::7]:443"]), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_of(peer, &xff(&["203.0.113.9:5555"]), &trusted),
            ip("203.0.113.9")
        );
        // Only proxies in the chain: the leftmost; garbage: the hop to its right.
        assert_eq!(
            client_of(peer, &xff(&["10.1.1.1, 10.2.2.2"]), &trusted),
            ip("10.1.1.1")
        );
        assert_eq!(
            client_of(peer, &xff(&["203.0.113.9, junk, 10.2.2.2"]), &trusted),
            ip("10.2.2.2")
        );
        assert_eq!(
            client_of(peer, &HeaderMap::new(), &trusted),
            peer,
            "no header: the proxy itself"
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let headers = xff(&["203.0.113.9"]);
        assert_eq!(
            client_of(ip("198.51.100.1"), &headers, &cidrs(&["10.0.0.0/8"])),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_of(ip("10.0.0.5"), &headers, &[]),
            ip("10.0.0.5"),
            "no trusted proxies: never"
        );
    }
}
