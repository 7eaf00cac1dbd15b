//! What the container list and the container pages show the same way: the state badge and the
//! published ports.

use leptos::prelude::*;

use crate::components::badge::{Badge, Tone};
use crate::model::containers::PortMapping;

/// The container's state as a badge; health wins when it is bad or starting.
pub fn state_badge(state: &str, health: Option<&str>) -> impl IntoView {
    let (tone, label) = match (state, health) {
        ("running", Some("unhealthy")) => (Tone::Bad, "unhealthy".to_string()),
        ("running", Some("starting")) => (Tone::Info, "starting".to_string()),
        ("running", Some("healthy")) => (Tone::Good, "healthy".to_string()),
        ("running", _) => (Tone::Good, "running".to_string()),
        ("paused", _) => (Tone::Warn, "paused".to_string()),
        ("restarting", _) => (Tone::Info, "restarting".to_string()),
        ("created", _) => (Tone::Idle, "created".to_string()),
        ("dead", _) => (Tone::Bad, "dead".to_string()),
        (other, _) => (Tone::Idle, other.to_string()),
    };
    view! { <Badge tone label /> }
}

/// `0.0.0.0:8080→80/tcp` as a link to the host's address when it is published.
/// The ports as the list and the detail page show them. The engine reports a port published on
/// every address once per address family (`0.0.0.0` and `::`); they read the same, so each is
/// shown once.
pub fn port_views(ports: &[PortMapping], address: Option<&str>) -> impl IntoView {
    distinct_ports(ports)
        .into_iter()
        .map(|p| port_view(p, address))
        .collect_view()
}

/// Each port once: the engine lists a port published on every address once per address family.
pub fn distinct_ports(ports: &[PortMapping]) -> Vec<&PortMapping> {
    let wildcard = |ip: &Option<String>| {
        ip.as_deref()
            .is_none_or(|ip| matches!(ip, "0.0.0.0" | "::" | ""))
    };
    let mut shown: Vec<&PortMapping> = Vec::new();
    for p in ports {
        let same = |q: &&PortMapping| {
            q.public == p.public
                && q.private == p.private
                && q.proto == p.proto
                && (q.ip == p.ip || (wildcard(&q.ip) && wildcard(&p.ip)))
        };
        if !shown.iter().any(same) {
            shown.push(p);
        }
    }
    shown
}

fn port_view(p: &PortMapping, address: Option<&str>) -> AnyView {
    let text = match p.public {
        Some(public) => {
            let ip =
                p.ip.as_deref()
                    .filter(|ip| !matches!(*ip, "0.0.0.0" | "::" | ""));
            match ip {
                Some(ip) => format!("{ip}:{public}→{}/{}", p.private, p.proto),
                None => format!("{public}→{}/{}", p.private, p.proto),
            }
        }
        None => format!("{}/{}", p.private, p.proto),
    };
    let loopback =
        p.ip.as_deref()
            .is_some_and(|ip| ip.starts_with("127.") || ip == "::1");
    match (p.public, address) {
        (Some(public), Some(addr)) if p.proto == "tcp" && !loopback => {
            let href = format!("http://{addr}:{public}");
            view! { <a class="port mono" href=href.clone() title=format!("Open {href}") target="_blank" rel="noopener noreferrer">{text}</a> }
                .into_any()
        }
        _ => view! { <span class="port mono">{text}</span> }.into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(ip: Option<&str>, public: Option<u16>, private: u16, proto: &str) -> PortMapping {
        PortMapping {
            ip: ip.map(str::to_owned),
            public,
            private,
            proto: proto.to_owned(),
        }
    }

    #[test]
    fn a_port_published_on_both_address_families_is_shown_once() {
        let ports = vec![
            port(Some("0.0.0.0"), Some(8080), 80, "tcp"),
            port(Some("::"), Some(8080), 80, "tcp"),
            port(Some("0.0.0.0"), Some(8080), 80, "udp"),
            port(Some("127.0.0.1"), Some(8080), 80, "tcp"),
            port(None, None, 443, "tcp"),
        ];
        let shown = distinct_ports(&ports);
        assert_eq!(shown.len(), 4);
        assert_eq!(shown[0].ip.as_deref(), Some("0.0.0.0"));
        assert!(shown.iter().any(|p| p.proto == "udp"));
        assert!(shown.iter().any(|p| p.ip.as_deref() == Some("127.0.0.1")));
    }
}
