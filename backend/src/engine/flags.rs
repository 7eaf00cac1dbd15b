//! The rarer words of `docker run` (`--mount`, `--health-*`, `--ulimit`, `--gpus`, extra
//! networks …): each parsed from the text a person writes into the engine's form, and written
//! back from the engine's form into that text, so a container's prefill reads like the command
//! that made it and an untouched line means the same setting.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bollard::models::{
    DeviceRequest, EndpointIpamConfig, EndpointSettings, HealthConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType, MountVolumeOptions,
    MountVolumeOptionsDriverConfig, ResourcesUlimits,
};

use crate::error::{Error, Result};

/// `a,b="c,d",e` → `["a", "b=c,d", "e"]`: comma-separated fields, double quotes keeping commas
/// in (as the docker CLI reads `--mount` and `--gpus`, with Go's CSV reader).
pub(super) fn csv_fields(field: &str, text: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = text.trim().chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(Error::invalid(
            field,
            format!("{text:?}: a double quote is not closed"),
        ));
    }
    out.push(cur);
    Ok(out.into_iter().map(|f| f.trim().to_string()).collect())
}

/// A field for [`csv_fields`]'s reader: quoted when it holds a comma or a quote.
fn csv_quote(field: &str) -> String {
    if field.contains([',', '"']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

const NANOS_PER: [(&str, i64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// A duration as Go writes it (`30s`, `1m30s`, `1.5s`, `500ms`; a bare number is seconds), in
/// nanoseconds; 0 means the engine's default. Anything else is at least 1 ms, as the engine
/// requires.
pub(super) fn parse_duration(field: &str, text: &str) -> Result<i64> {
    let bad = || {
        Error::invalid(
            field,
            format!("{text:?}: use a duration like 30s, 1m30s or 500ms"),
        )
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    if t.chars().all(|c| c.is_ascii_digit()) {
        let secs: i64 = t.parse().map_err(|_| bad())?;
        return secs.checked_mul(1_000_000_000).ok_or_else(bad);
    }
    let mut total: f64 = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let (number, after) = rest.split_at(split);
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let n: f64 = number.parse().map_err(|_| bad())?;
        let per = NANOS_PER
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, n)| *n)
            .ok_or_else(bad)?;
        #[allow(clippy::cast_precision_loss)]
        let add = n * per as f64;
        total += add;
        rest = next;
    }
    if !total.is_finite() || total > 9.0e18 {
        return Err(bad());
    }
    #[allow(clippy::cast_possible_truncation)]
    let nanos = total.round() as i64;
    if nanos != 0 && nanos < 1_000_000 {
        return Err(Error::invalid(field, "must be 0 or at least 1ms"));
    }
    Ok(nanos)
}

/// Nanoseconds as [`parse_duration`] reads them: `1h2m3s`, `1500ms`, `250us`.
pub(super) fn format_duration(nanos: i64) -> String {
    if nanos % 1_000_000_000 == 0 {
        let secs = nanos / 1_000_000_000;
        let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
        let mut out = String::new();
        if h > 0 {
            let _ = write!(out, "{h}h");
        }
        if m > 0 {
            let _ = write!(out, "{m}m");
        }
        if s > 0 || out.is_empty() {
            let _ = write!(out, "{s}s");
        }
        out
    } else if nanos % 1_000_000 == 0 {
        format!("{}ms", nanos / 1_000_000)
    } else if nanos % 1_000 == 0 {
        format!("{}us", nanos / 1_000)
    } else {
        format!("{nanos}ns")
    }
}

/// The `--health-*` words, as the spec has them.
pub(super) struct Health<'a> {
    pub cmd: Option<&'a str>,
    pub interval: Option<&'a str>,
    pub timeout: Option<&'a str>,
    pub start_period: Option<&'a str>,
    pub retries: Option<u32>,
    pub none: bool,
}

/// The healthcheck the words ask for; `None` when they ask nothing (the image's applies). A
/// check without a command keeps the image's test with the given timings, as the engine merges.
pub(super) fn health(h: &Health<'_>) -> Result<Option<HealthConfig>> {
    let any_timing = h.interval.is_some()
        || h.timeout.is_some()
        || h.start_period.is_some()
        || h.retries.is_some();
    if h.none {
        if h.cmd.is_some() || any_timing {
            return Err(Error::invalid(
                "no_healthcheck",
                "cannot be combined with a health command or health timings",
            ));
        }
        return Ok(Some(HealthConfig {
            test: Some(vec!["NONE".into()]),
            ..Default::default()
        }));
    }
    if h.cmd.is_none() && !any_timing {
        return Ok(None);
    }
    if let Some(cmd) = h.cmd {
        if cmd.contains('\0') {
            return Err(Error::invalid(
                "health_cmd",
                "may not contain NUL characters",
            ));
        }
    }
    let duration = |field: &str, v: Option<&str>| v.map(|t| parse_duration(field, t)).transpose();
    Ok(Some(HealthConfig {
        test: h.cmd.map(|c| vec!["CMD-SHELL".into(), c.to_string()]),
        interval: duration("health_interval", h.interval)?,
        timeout: duration("health_timeout", h.timeout)?,
        start_period: duration("health_start_period", h.start_period)?,
        retries: h.retries.map(i64::from),
        ..Default::default()
    }))
}

/// A healthcheck's test as `--health-cmd` text: the shell command, or an exec form's words.
pub(super) fn health_cmd_text(test: &[String]) -> Option<String> {
    match test.split_first() {
        Some((kind, rest)) if kind == "CMD-SHELL" => Some(rest.join(" ")),
        Some((kind, rest)) if kind == "CMD" => Some(wire::words::join_words(rest)),
        _ => None,
    }
}

/// `--ulimit name=soft[:hard]` (`-1` is unlimited).
pub(super) fn parse_ulimit(text: &str) -> Result<ResourcesUlimits> {
    let bad = || {
        Error::invalid(
            "ulimits",
            format!("{text:?}: use name=soft[:hard], like nofile=1024:2048"),
        )
    };
    let (name, limits) = text.trim().split_once('=').ok_or_else(bad)?;
    let name = name.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(bad());
    }
    let number = |s: &str| s.trim().parse::<i64>().ok().filter(|n| *n >= -1);
    let (soft, hard) = match limits.split_once(':') {
        Some((s, h)) => (number(s).ok_or_else(bad)?, number(h).ok_or_else(bad)?),
        None => {
            let n = number(limits).ok_or_else(bad)?;
            (n, n)
        }
    };
    if hard != -1 && (soft == -1 || soft > hard) {
        return Err(Error::invalid(
            "ulimits",
            format!("{text:?}: the soft limit may not exceed the hard limit"),
        ));
    }
    Ok(ResourcesUlimits {
        name: Some(name.to_string()),
        soft: Some(soft),
        hard: Some(hard),
    })
}

pub(super) fn format_ulimit(u: &ResourcesUlimits) -> Option<String> {
    let name = u.name.as_deref()?;
    let (soft, hard) = (u.soft.unwrap_or(0), u.hard.unwrap_or(0));
    Some(if soft == hard {
        format!("{name}={soft}")
    } else {
        format!("{name}={soft}:{hard}")
    })
}

/// `--add-host name:address` (or `name=address`; the address may be `host-gateway`).
pub(super) fn parse_add_host(text: &str) -> Result<String> {
    let bad = || {
        Error::invalid(
            "add_host",
            format!(
                "{text:?}: use name:address, like db:10.0.0.2 or host.docker.internal:host-gateway"
            ),
        )
    };
    let t = text.trim();
    let (name, address) = match (t.split_once('='), t.split_once(':')) {
        (Some((n, a)), _) if !n.contains(':') => (n, a),
        (_, Some((n, a))) => (n, a),
        _ => return Err(bad()),
    };
    let address = address.trim_start_matches('[').trim_end_matches(']');
    if !crate::names::is_dns_name(name) {
        return Err(bad());
    }
    if address != "host-gateway" && address.parse::<IpAddr>().is_err() {
        return Err(bad());
    }
    Ok(format!("{name}:{address}"))
}

pub(super) fn parse_dns(text: &str) -> Result<String> {
    let t = text.trim();
    t.parse::<IpAddr>().map(|_| t.to_string()).map_err(|_| {
        Error::invalid(
            "dns",
            format!("{text:?} is not an IP address of a name server"),
        )
    })
}

pub(super) fn parse_dns_search(text: &str) -> Result<String> {
    let t = text.trim();
    if t == "." || crate::names::is_dns_name(t) {
        Ok(t.to_string())
    } else {
        Err(Error::invalid(
            "dns_search",
            format!("{text:?} is not a domain name"),
        ))
    }
}

pub(super) fn parse_dns_option(text: &str) -> Result<String> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.len() <= 128
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.'));
    if ok {
        Ok(t.to_string())
    } else {
        Err(Error::invalid(
            "dns_option",
            format!("{text:?}: use a resolver option like ndots:2 or edns0"),
        ))
    }
}

/// `--tmpfs /path[:options]`.
pub(super) fn parse_tmpfs(text: &str) -> Result<(String, String)> {
    let t = text.trim();
    let (path, opts) = t.split_once(':').unwrap_or((t, ""));
    let opts_ok = opts
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ',' | '=' | '-' | '_' | '.'));
    if !path.starts_with('/') || path == "/" || path.contains('\0') || !opts_ok {
        return Err(Error::invalid(
            "tmpfs",
            format!("{text:?}: use /path or /path:options, like /run:rw,size=64m"),
        ));
    }
    Ok((path.to_string(), opts.to_string()))
}

/// `--mount type=…,source=…,target=…[,…]`, as the docker CLI reads it.
pub(super) fn parse_mount(text: &str, size: impl Fn(&str, &str) -> Result<i64>) -> Result<Mount> {
    let bad = |why: &str| Error::invalid("mounts", format!("{text:?}: {why}"));
    let mut m = Mount::default();
    let mut bind = MountBindOptions::default();
    let mut volume = MountVolumeOptions::default();
    let mut driver = MountVolumeOptionsDriverConfig::default();
    let mut tmpfs = MountTmpfsOptions::default();
    let mut typ: Option<MountType> = None;
    let flag = |v: Option<&str>| -> Result<bool> {
        match v.map(str::to_ascii_lowercase).as_deref() {
            None | Some("1" | "true") => Ok(true),
            Some("0" | "false") => Ok(false),
            Some(_) => Err(bad("a flag's value is true or false")),
        }
    };
    for f in csv_fields("mounts", text)? {
        if f.is_empty() {
            continue;
        }
        if f.contains('\0') {
            return Err(bad("may not contain NUL characters"));
        }
        let (key, value) = match f.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), Some(v.trim())),
            None => (f.trim().to_ascii_lowercase(), None),
        };
        let need = |v: Option<&'_ str>| -> Result<String> {
            v.filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("{key} needs a value")))
        };
        match key.as_str() {
            "type" => {
                typ = Some(match need(value)?.as_str() {
                    "bind" => MountType::BIND,
                    "volume" => MountType::VOLUME,
                    "tmpfs" => MountType::TMPFS,
                    other => {
                        return Err(bad(&format!("type {other} is not bind, volume or tmpfs")))
                    }
                });
            }
            "source" | "src" => m.source = Some(need(value)?),
            "target" | "destination" | "dst" => m.target = Some(need(value)?),
            "readonly" | "ro" => m.read_only = Some(flag(value)?),
            "consistency" => m.consistency = Some(need(value)?),
            "bind-propagation" => {
                bind.propagation = Some(match need(value)?.as_str() {
                    "private" => MountBindOptionsPropagationEnum::PRIVATE,
                    "rprivate" => MountBindOptionsPropagationEnum::RPRIVATE,
                    "shared" => MountBindOptionsPropagationEnum::SHARED,
                    "rshared" => MountBindOptionsPropagationEnum::RSHARED,
                    "slave" => MountBindOptionsPropagationEnum::SLAVE,
                    "rslave" => MountBindOptionsPropagationEnum::RSLAVE,
                    _ => return Err(bad(
                        "bind-propagation is private, rprivate, shared, rshared, slave or rslave",
                    )),
                });
            }
            "bind-nonrecursive" => bind.non_recursive = Some(flag(value)?),
            "bind-create-mountpoint" => bind.create_mountpoint = Some(flag(value)?),
            "volume-nocopy" => volume.no_copy = Some(flag(value)?),
            "volume-subpath" => volume.subpath = Some(need(value)?),
            "volume-driver" => driver.name = Some(need(value)?),
            "volume-opt" | "volume-label" => {
                let kv = need(value)?;
                let (k, v) = kv
                    .split_once('=')
                    .ok_or_else(|| bad(&format!("{key} is key=value")))?;
                let map = if key == "volume-opt" {
                    driver.options.get_or_insert_with(HashMap::new)
                } else {
                    volume.labels.get_or_insert_with(HashMap::new)
                };
                map.insert(k.to_string(), v.to_string());
            }
            "tmpfs-size" => tmpfs.size_bytes = Some(size("mounts", &need(value)?)?),
            "tmpfs-mode" => {
                tmpfs.mode = Some(
                    i64::from_str_radix(&need(value)?, 8)
                        .ok()
                        .filter(|m| (0..=0o7777).contains(m))
                        .ok_or_else(|| bad("tmpfs-mode is an octal mode like 1777"))?,
                );
            }
            other => return Err(bad(&format!("{other} is not a mount option"))),
        }
    }
    let typ = typ.unwrap_or(MountType::VOLUME);
    let target = m.target.as_deref().unwrap_or_default();
    if !target.starts_with('/') || target == "/" {
        return Err(bad("target= is the absolute path inside the container"));
    }
    match typ {
        MountType::BIND => {
            if !m.source.as_deref().is_some_and(|s| s.starts_with('/')) {
                return Err(bad("a bind needs source= with an absolute host path"));
            }
        }
        MountType::VOLUME => {
            if let Some(s) = m.source.as_deref() {
                if !crate::names::is_object_name(s, 1..=255) {
                    return Err(bad(
                        "source= of a volume is its name: letters, digits, '_', '.' and '-'",
                    ));
                }
            }
        }
        _ => {
            if m.source.is_some() {
                return Err(bad("a tmpfs mount has no source"));
            }
        }
    }
    let wrong_kind = |opts: bool, kind: &str| {
        if opts {
            Err(bad(&format!("{kind} options need type={kind}")))
        } else {
            Ok(())
        }
    };
    wrong_kind(
        bind != MountBindOptions::default() && typ != MountType::BIND,
        "bind",
    )?;
    wrong_kind(
        (volume != MountVolumeOptions::default()
            || driver != MountVolumeOptionsDriverConfig::default())
            && typ != MountType::VOLUME,
        "volume",
    )?;
    wrong_kind(
        tmpfs != MountTmpfsOptions::default() && typ != MountType::TMPFS,
        "tmpfs",
    )?;
    if driver != MountVolumeOptionsDriverConfig::default() {
        volume.driver_config = Some(driver);
    }
    m.typ = Some(typ);
    m.bind_options = (bind != MountBindOptions::default()).then_some(bind);
    m.volume_options = (volume != MountVolumeOptions::default()).then_some(volume);
    m.tmpfs_options = (tmpfs != MountTmpfsOptions::default()).then_some(tmpfs);
    Ok(m)
}

/// A mount as `--mount` text that [`parse_mount`] reads back to the same mount.
pub(super) fn format_mount(m: &Mount) -> Option<String> {
    let typ = m.typ?;
    let mut f: Vec<String> = vec![format!("type={typ}")];
    if let Some(s) = m.source.as_deref().filter(|s| !s.is_empty()) {
        f.push(format!("source={s}"));
    }
    f.push(format!("target={}", m.target.as_deref()?));
    if m.read_only == Some(true) {
        f.push("readonly".into());
    }
    if let Some(c) = m
        .consistency
        .as_deref()
        .filter(|c| !c.is_empty() && *c != "default")
    {
        f.push(format!("consistency={c}"));
    }
    let on = |v: Option<bool>, name: &str, f: &mut Vec<String>| {
        if v == Some(true) {
            f.push(name.to_string());
        }
    };
    if let Some(b) = &m.bind_options {
        if let Some(p) = b
            .propagation
            .filter(|p| *p != MountBindOptionsPropagationEnum::EMPTY)
        {
            f.push(format!("bind-propagation={p}"));
        }
        on(b.non_recursive, "bind-nonrecursive", &mut f);
        on(b.create_mountpoint, "bind-create-mountpoint", &mut f);
    }
    if let Some(v) = &m.volume_options {
        on(v.no_copy, "volume-nocopy", &mut f);
        if let Some(s) = v.subpath.as_deref().filter(|s| !s.is_empty()) {
            f.push(format!("volume-subpath={s}"));
        }
        if let Some(d) = &v.driver_config {
            if let Some(n) = d.name.as_deref().filter(|n| !n.is_empty()) {
                f.push(format!("volume-driver={n}"));
            }
            let mut opts: Vec<_> = d.options.iter().flatten().collect();
            opts.sort();
            f.extend(
                opts.into_iter()
                    .map(|(k, v)| csv_quote(&format!("volume-opt={k}={v}"))),
            );
        }
        let mut labels: Vec<_> = v.labels.iter().flatten().collect();
        labels.sort();
        f.extend(
            labels
                .into_iter()
                .map(|(k, v)| csv_quote(&format!("volume-label={k}={v}"))),
        );
    }
    if let Some(t) = &m.tmpfs_options {
        if let Some(s) = t.size_bytes.filter(|s| *s > 0) {
            f.push(format!("tmpfs-size={s}"));
        }
        if let Some(mode) = t.mode.filter(|m| *m != 0) {
            f.push(format!("tmpfs-mode={mode:o}"));
        }
    }
    Some(f.join(","))
}

/// A network name that a container can be connected to (not `host`, `none` or `container:…`).
fn joinable_network(field: &str, name: &str) -> Result<()> {
    if matches!(name, "host" | "none")
        || name.starts_with("container:")
        || !crate::names::is_object_name(name, 1..=128)
    {
        return Err(Error::invalid(
            field,
            format!("{name:?} is not a network a container can join besides its main one"),
        ));
    }
    Ok(())
}

pub(super) fn parse_alias(field: &str, text: &str) -> Result<String> {
    let t = text.trim();
    if crate::names::is_dns_name(t) || crate::names::is_object_name(t, 1..=128) {
        Ok(t.to_string())
    } else {
        Err(Error::invalid(
            field,
            format!("{text:?} is not a name: letters, digits, '-', '_' and '.'"),
        ))
    }
}

pub(super) fn parse_ipv4(field: &str, text: &str) -> Result<String> {
    text.trim()
        .parse::<Ipv4Addr>()
        .map(|a| a.to_string())
        .map_err(|_| Error::invalid(field, format!("{text:?} is not an IPv4 address")))
}

pub(super) fn parse_ipv6(field: &str, text: &str) -> Result<String> {
    text.trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<Ipv6Addr>()
        .map(|a| a.to_string())
        .map_err(|_| Error::invalid(field, format!("{text:?} is not an IPv6 address")))
}

/// An endpoint with `aliases` and static addresses (`None` when it has neither).
pub(super) fn endpoint(
    aliases: Vec<String>,
    ip: Option<String>,
    ip6: Option<String>,
) -> EndpointSettings {
    EndpointSettings {
        aliases: (!aliases.is_empty()).then_some(aliases),
        ipam_config: (ip.is_some() || ip6.is_some()).then(|| EndpointIpamConfig {
            ipv4_address: ip,
            ipv6_address: ip6,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One line of `networks`: `name[,alias=a][,ip=…][,ip6=…]`.
pub(super) fn parse_network_line(text: &str) -> Result<(String, EndpointSettings)> {
    let fields = csv_fields("networks", text)?;
    let (name, options) = fields
        .split_first()
        .ok_or_else(|| Error::invalid("networks", "a line starts with the network's name"))?;
    joinable_network("networks", name)?;
    let (mut aliases, mut ip, mut ip6) = (Vec::new(), None, None);
    for o in options.iter().filter(|o| !o.is_empty()) {
        match o.split_once('=') {
            Some(("alias", a)) => aliases.push(parse_alias("networks", a)?),
            Some(("ip", a)) => ip = Some(parse_ipv4("networks", a)?),
            Some(("ip6", a)) => ip6 = Some(parse_ipv6("networks", a)?),
            _ => {
                return Err(Error::invalid(
                    "networks",
                    format!("{o:?}: use name,alias=web,ip=10.1.0.5,ip6=fd00::5"),
                ))
            }
        }
    }
    Ok((name.clone(), endpoint(aliases, ip, ip6)))
}

/// An endpoint as a `networks` line; `ids` are the container's ids, whose aliases the engine
/// adds by itself and are left out.
pub(super) fn format_network_line(name: &str, e: &EndpointSettings, ids: &[&str]) -> String {
    let mut out = vec![name.to_string()];
    let (aliases, ip, ip6) = endpoint_words(e, ids);
    out.extend(aliases.into_iter().map(|a| format!("alias={a}")));
    out.extend(ip.map(|a| format!("ip={a}")));
    out.extend(ip6.map(|a| format!("ip6={a}")));
    out.join(",")
}

/// An endpoint's aliases (without the ones the engine makes from the container's ids) and
/// static addresses.
pub(super) fn endpoint_words(
    e: &EndpointSettings,
    ids: &[&str],
) -> (Vec<String>, Option<String>, Option<String>) {
    let aliases = e
        .aliases
        .iter()
        .flatten()
        .filter(|a| {
            !a.is_empty()
                && !ids
                    .iter()
                    .any(|id| !id.is_empty() && id.starts_with(a.as_str()))
        })
        .cloned()
        .collect();
    let ipam = e.ipam_config.as_ref();
    let nonempty = |v: Option<&String>| v.filter(|s| !s.is_empty()).cloned();
    (
        aliases,
        nonempty(ipam.and_then(|i| i.ipv4_address.as_ref())),
        nonempty(ipam.and_then(|i| i.ipv6_address.as_ref())),
    )
}

/// `--gpus`: `all`, a count, or `count=…,driver=…,device=…,capabilities=…,options=…` (quote a
/// value with commas: `"device=0,1"`), as the docker CLI builds its device request.
pub(super) fn parse_gpus(text: &str) -> Result<DeviceRequest> {
    let bad = |why: String| Error::invalid("gpus", format!("{text:?}: {why}"));
    let count = |v: &str| -> Result<i64> {
        if v == "all" {
            return Ok(-1);
        }
        v.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad("the count is all or a number of GPUs".into()))
    };
    let mut req = DeviceRequest::default();
    let mut seen: Vec<String> = Vec::new();
    for field in csv_fields("gpus", text)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), Some(v.trim())),
            None => ("count".to_string(), None),
        };
        if seen.contains(&key) {
            return Err(bad(format!("{key} may be given only once")));
        }
        seen.push(key.clone());
        match (key.as_str(), value) {
            ("count", None) => req.count = Some(count(field.trim())?),
            ("count", Some(v)) => req.count = Some(count(v)?),
            ("driver", Some(v)) if crate::names::is_object_name(v, 1..=64) => {
                req.driver = Some(v.to_string());
            }
            ("device", Some(v)) if !v.is_empty() => {
                req.device_ids = Some(v.split(',').map(|d| d.trim().to_string()).collect());
            }
            ("capabilities", Some(v)) if !v.is_empty() => {
                let mut caps: Vec<String> = v.split(',').map(|c| c.trim().to_string()).collect();
                caps.push("gpu".into());
                req.capabilities = Some(vec![caps]);
            }
            ("options", Some(v)) => {
                let mut map = HashMap::new();
                for kv in csv_fields("gpus", v)? {
                    let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
                    map.insert(k.to_string(), v.to_string());
                }
                req.options = Some(map);
            }
            _ => {
                return Err(bad(
                    "use all, a number, or count=…,driver=…,device=…,capabilities=…".into(),
                ))
            }
        }
    }
    if req.count.is_none() && req.device_ids.is_none() {
        req.count = Some(1);
    }
    if req.capabilities.is_none() {
        req.capabilities = Some(vec![vec!["gpu".into()]]);
    }
    req.options.get_or_insert_with(HashMap::new);
    Ok(req)
}

/// A GPU device request as `--gpus` text; `None` for a device request of another kind.
pub(super) fn format_gpus(r: &DeviceRequest) -> Option<String> {
    let caps = r.capabilities.as_ref()?;
    let [caps] = caps.as_slice() else { return None };
    if !caps.iter().any(|c| c == "gpu") {
        return None;
    }
    let mut f = Vec::new();
    match r.count {
        Some(-1) => f.push("count=all".to_string()),
        Some(n) if n > 0 && !(n == 1 && r.device_ids.is_some()) => f.push(format!("count={n}")),
        _ => {}
    }
    if let Some(d) = r.driver.as_deref().filter(|d| !d.is_empty()) {
        f.push(format!("driver={d}"));
    }
    if let Some(ids) = r.device_ids.as_ref().filter(|i| !i.is_empty()) {
        f.push(csv_quote(&format!("device={}", ids.join(","))));
    }
    let extra: Vec<&String> = caps.iter().filter(|c| *c != "gpu").collect();
    if !extra.is_empty() {
        let joined: Vec<&str> = extra.iter().map(|c| c.as_str()).collect();
        f.push(csv_quote(&format!("capabilities={}", joined.join(","))));
    }
    if let Some(o) = r.options.as_ref().filter(|o| !o.is_empty()) {
        let mut kv: Vec<String> = o
            .iter()
            .map(|(k, v)| csv_quote(&format!("{k}={v}")))
            .collect();
        kv.sort();
        f.push(csv_quote(&format!("options={}", kv.join(","))));
    }
    Some(match f.as_slice() {
        [only] if only == "count=all" => "all".into(),
        [only] if only.starts_with("count=") => only.trim_start_matches("count=").to_string(),
        _ => f.join(","),
    })
}

/// `--platform os[/arch[/variant]]`.
pub(super) fn parse_platform(text: &str) -> Result<String> {
    let t = text.trim();
    let parts: Vec<&str> = t.split('/').collect();
    let ok = (1..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        });
    if ok {
        Ok(t.to_string())
    } else {
        Err(Error::invalid(
            "platform",
            format!("{text:?}: use os[/arch[/variant]], like linux/amd64 or linux/arm64/v8"),
        ))
    }
}

/// `--stop-signal`: a signal's name (`SIGTERM`, `TERM`) or number.
pub(super) fn parse_signal(text: &str) -> Result<String> {
    let t = text.trim();
    let name = t.strip_prefix("SIG").unwrap_or(t);
    let ok = (!t.is_empty() && t.len() <= 16)
        && (t.chars().all(|c| c.is_ascii_digit())
            && t.parse::<u8>().is_ok_and(|n| (1..=64).contains(&n))
            || name.starts_with(|c: char| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '+' || c == '-'));
    if ok {
        Ok(t.to_string())
    } else {
        Err(Error::invalid(
            "stop_signal",
            format!("{text:?}: use a signal such as SIGTERM, SIGINT or 15"),
        ))
    }
}

/// `--sysctl key=value`: a dotted kernel parameter name.
pub(super) fn check_sysctl(key: &str, value: &str) -> Result<()> {
    let key_ok = !key.is_empty()
        && key.len() <= 256
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    if !key_ok || value.contains('\0') || value.contains('\n') {
        return Err(Error::invalid(
            "sysctls",
            format!("{key:?}: use a kernel parameter like net.ipv4.ip_forward with a value"),
        ));
    }
    Ok(())
}

/// `--log-opt` keys and values: plain words (values may hold what a log address needs).
pub(super) fn check_log_opt(key: &str, value: &str) -> Result<()> {
    let key_ok = !key.is_empty()
        && key.len() <= 128
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !key_ok || value.contains(['\0', '\n']) {
        return Err(Error::invalid(
            "log_opts",
            format!("{key:?}: use a log option like max-size with a value like 10m"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(_: &str, t: &str) -> Result<i64> {
        t.parse().map_err(|_| Error::invalid("mounts", "size"))
    }

    #[test]
    fn durations_read_and_write_back() {
        for (text, nanos) in [
            ("30s", 30_000_000_000),
            ("1m30s", 90_000_000_000),
            ("1.5s", 1_500_000_000),
            ("500ms", 500_000_000),
            ("2h", 7_200_000_000_000),
            ("10", 10_000_000_000),
            ("0s", 0),
        ] {
            assert_eq!(parse_duration("d", text).ok(), Some(nanos), "{text}");
            assert_eq!(
                parse_duration("d", &format_duration(nanos)).ok(),
                Some(nanos)
            );
        }
        for bad in ["", "s", "5x", "1..2s", "10us", "-5s"] {
            assert!(parse_duration("d", bad).is_err(), "{bad}");
        }
        assert_eq!(format_duration(3_723_000_000_000), "1h2m3s");
    }

    #[test]
    fn mounts_read_and_write_back() {
        for text in [
            "type=volume,source=data,target=/data,volume-nocopy",
            "type=bind,source=/srv,target=/site,readonly,bind-propagation=rslave",
            "type=tmpfs,target=/scratch,tmpfs-size=1048576,tmpfs-mode=1777",
            "type=volume,source=nfs,target=/n,volume-driver=local,\"volume-opt=o=addr=10.0.0.1,rw\",volume-opt=type=nfs",
            "type=volume,target=/anon",
        ] {
            let m = parse_mount(text, size).expect(text);
            let back = format_mount(&m).expect("formats");
            assert_eq!(parse_mount(&back, size).expect(&back), m, "{text} → {back}");
        }
        let m = parse_mount("src=data,dst=/d,ro", size).expect("short words");
        assert_eq!(m.typ, Some(MountType::VOLUME));
        assert_eq!(m.read_only, Some(true));
        for bad in [
            "type=bind,target=/x",
            "type=volume,source=data",
            "type=tmpfs,source=x,target=/t",
            "type=nfs,target=/t",
            "type=volume,target=/t,bind-propagation=shared",
            "type=bind,source=/a,target=/b,tmpfs-size=1",
            "type=volume,target=/t,colour=red",
            "type=volume,target=/t,\"volume-opt=a",
        ] {
            assert!(
                matches!(parse_mount(bad, size), Err(Error::Invalid { field, .. }) if field == "mounts"),
                "{bad}"
            );
        }
    }

    #[test]
    fn gpus_as_the_cli_builds_them() {
        let all = parse_gpus("all").expect("all");
        assert_eq!(all.count, Some(-1));
        assert_eq!(all.capabilities, Some(vec![vec!["gpu".to_string()]]));
        assert_eq!(format_gpus(&all).as_deref(), Some("all"));
        assert_eq!(parse_gpus("2").expect("2").count, Some(2));
        let some = parse_gpus("\"device=0,1\",driver=nvidia,\"capabilities=compute,utility\"")
            .expect("devices");
        assert_eq!(some.device_ids, Some(vec!["0".into(), "1".into()]));
        assert_eq!(some.count, None);
        assert_eq!(
            some.capabilities,
            Some(vec![vec!["compute".into(), "utility".into(), "gpu".into()]])
        );
        let back = format_gpus(&some).expect("formats");
        assert_eq!(parse_gpus(&back).expect(&back), some);
        for bad in ["none", "0", "count=1,count=2", "colour=red", "driver=a b"] {
            assert!(parse_gpus(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn small_words() {
        assert_eq!(
            parse_ulimit("nofile=1024:2048")
                .ok()
                .and_then(|u| format_ulimit(&u))
                .as_deref(),
            Some("nofile=1024:2048")
        );
        assert_eq!(parse_ulimit("nproc=64").ok().and_then(|u| u.hard), Some(64));
        for bad in ["nofile", "nofile=2:1", "NOFILE=1", "nofile=a"] {
            assert!(parse_ulimit(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_add_host("db:10.0.0.2").ok().as_deref(),
            Some("db:10.0.0.2")
        );
        assert_eq!(
            parse_add_host("db=10.0.0.2").ok().as_deref(),
            Some("db:10.0.0.2")
        );
        assert_eq!(parse_add_host("v6:::1").ok().as_deref(), Some("v6:::1"));
        assert!(parse_add_host("gw:host-gateway").is_ok());
        for bad in ["db", "db:nowhere", "-x:1.2.3.4"] {
            assert!(parse_add_host(bad).is_err(), "{bad}");
        }
        assert!(parse_tmpfs("/run:rw,size=64m").is_ok());
        assert!(parse_tmpfs("run").is_err());
        let (name, e) = parse_network_line("back,alias=db,alias=pg,ip=10.5.0.9").expect("line");
        assert_eq!(name, "back");
        assert_eq!(
            format_network_line(&name, &e, &[]),
            "back,alias=db,alias=pg,ip=10.5.0.9"
        );
        for bad in ["host", "back,colour=red", "back,ip=300.1.1.1", ""] {
            assert!(parse_network_line(bad).is_err(), "{bad}");
        }
        assert!(parse_platform("linux/arm64/v8").is_ok());
        assert!(parse_platform("Linux").is_err());
        assert!(parse_signal("SIGUSR1").is_ok() && parse_signal("9").is_ok());
        assert!(parse_signal("sigterm").is_err() && parse_signal("99").is_err());
    }
}
