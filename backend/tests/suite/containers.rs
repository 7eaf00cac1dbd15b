//! Containers on a real engine: run with everything, inspect, every action (and the idempotent
//! ones), rename, remove with volumes, a start that fails leaving nothing, pulls, recreate and
//! the run-spec prefill. Every container, volume and image is named `capstan-<test>-<random>` and
//! removed at the end; the engine's state is read back independently with the docker CLI.

use std::process::Command;

use crate::common::*;
use backend::engine::{ListQuery, RunSpec};
use backend::error::Error;

fn image() -> String {
    env("CAPSTAN_TEST_IMAGE")
}

/// The docker CLI against engine a, without failing on error: (success, stdout).
fn docker_try(args: &[&str]) -> (bool, String) {
    let out = Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .output()
        .expect("docker CLI");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
    )
}

/// Removes whatever a test made, even when it failed half-way.
struct Cleanup {
    containers: Vec<String>,
    volumes: Vec<String>,
    images: Vec<String>,
    networks: Vec<String>,
}

impl Cleanup {
    fn new() -> Self {
        Cleanup {
            containers: vec![],
            volumes: vec![],
            images: vec![],
            networks: vec![],
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker_try(&["rm", "-f", "-v", c]);
        }
        for v in &self.volumes {
            let _ = docker_try(&["volume", "rm", "-f", v]);
        }
        for n in &self.networks {
            let _ = docker_try(&["network", "rm", n]);
        }
        for i in &self.images {
            let _ = docker_try(&["rmi", "-f", i]);
        }
    }
}

/// Two consecutive free ports.
fn free_range() -> u16 {
    for _ in 0..50 {
        let p = free_port();
        if p < 65535 && std::net::TcpListener::bind(("0.0.0.0", p + 1)).is_ok() {
            return p;
        }
    }
    panic!("no two consecutive free ports")
}

fn sleeper(name: &str) -> RunSpec {
    RunSpec {
        image: image(),
        name: Some(name.into()),
        cmd: Some(vec!["sleep".into(), "600".into()]),
        start: true,
        ..Default::default()
    }
}

fn state_of(name: &str) -> String {
    docker_a(&["inspect", "-f", "{{.State.Status}}", name])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_with_everything_then_inspect_what_the_engine_has() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let name = unique("full");
    let source = unique("src");
    let volume = unique("vol");
    clean.containers.extend([name.clone(), source.clone()]);
    clean.volumes.push(volume.clone());
    let bind_dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(bind_dir.path().join("hello.txt"), "from the host").expect("write");

    let src = e
        .run_container(&RunSpec {
            volumes: vec!["/shared".into()],
            ..sleeper(&source)
        })
        .await
        .expect("source container");
    let port = free_port();
    let range = free_range();
    let spec = RunSpec {
        env: vec!["GREETING=hi there".into(), "DB_PASSWORD=hunter2".into()],
        ports: vec![
            format!("127.0.0.1:{port}:80"),
            format!("{range}-{}:7000-7001/udp", range + 1),
            "9000".into(),
        ],
        volumes: vec![
            format!("{volume}:/data"),
            format!("{}:/site:ro", bind_dir.path().display()),
        ],
        volumes_from: vec![format!("{source}:ro")],
        restart: Some("on-failure:2".into()),
        labels: [("team".to_string(), "web".to_string())].into(),
        memory: Some("64m".into()),
        cpus: Some(0.5),
        workdir: Some("/data".into()),
        hostname: Some("box-one".into()),
        tty: true,
        stdin: true,
        ..sleeper(&name)
    };
    let created = e.run_container(&spec).await.expect("run");
    assert_eq!(created.name, name);
    assert_ne!(created.id, src.id);

    // Read back independently.
    assert_eq!(state_of(&name), "running");
    let fmt = |f: &str| docker_a(&["inspect", "-f", f, &name]);
    assert_eq!(
        fmt("{{.HostConfig.Memory}}"),
        (64 * 1024 * 1024).to_string()
    );
    assert_eq!(fmt("{{.HostConfig.NanoCpus}}"), "500000000");
    assert_eq!(
        fmt("{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}"),
        "on-failure:2"
    );
    assert_eq!(
        fmt("{{.Config.Hostname}} {{.Config.WorkingDir}} {{.Config.Tty}} {{.Config.OpenStdin}}"),
        "box-one /data true true"
    );
    assert_eq!(fmt("{{index .Config.Labels \"team\"}}"), "web");
    assert_eq!(
        fmt("{{(index (index .HostConfig.PortBindings \"80/tcp\") 0).HostPort}}"),
        port.to_string()
    );
    assert_eq!(
        fmt("{{(index (index .HostConfig.PortBindings \"7001/udp\") 0).HostPort}}"),
        (range + 1).to_string()
    );
    assert_eq!(
        docker_a(&["exec", &name, "cat", "/site/hello.txt"]),
        "from the host"
    );
    assert!(docker_a(&[
        "exec",
        &name,
        "sh",
        "-c",
        "echo x > /site/no 2>&1 || echo read-only"
    ])
    .contains("read-only"));
    assert_eq!(
        docker_a(&["exec", &name, "sh", "-c", "test -d /shared && echo shared"]),
        "shared",
        "--volumes-from"
    );
    assert_eq!(
        docker_a(&["volume", "inspect", "-f", "{{.Name}}", &volume]),
        volume
    );

    // Our inspect says the same.
    let d = e.inspect_container(&name).await.expect("inspect");
    assert_eq!(d.id, created.id);
    assert_eq!(d.name, name);
    assert!(d.running && d.state == "running");
    assert_eq!(d.image, image());
    assert_eq!(d.cmd, vec!["sleep", "600"]);
    assert_eq!(d.restart_policy, "on-failure:2");
    assert_eq!(d.memory, 64 * 1024 * 1024);
    assert_eq!(d.nano_cpus, 500_000_000);
    assert!(d.tty && d.stdin);
    assert_eq!(
        (d.workdir.as_str(), d.hostname.as_str()),
        ("/data", "box-one")
    );
    assert_eq!(d.labels.get("team").map(String::as_str), Some("web"));
    let pw = d.env.iter().find(|v| v.key == "DB_PASSWORD").expect("env");
    assert!(pw.secret && pw.value == "hunter2");
    assert!(
        !d.env
            .iter()
            .find(|v| v.key == "GREETING")
            .expect("env")
            .secret
    );
    assert!(d.ports.iter().any(|p| p.private == 80
        && p.public == Some(port)
        && p.ip.as_deref() == Some("127.0.0.1")));
    assert!(d
        .ports
        .iter()
        .any(|p| p.private == 7000 && p.proto == "udp" && p.public == Some(range)));
    assert!(d.mounts.iter().any(|m| m.kind == "volume"
        && m.name.as_deref() == Some(volume.as_str())
        && m.destination == "/data"));
    assert!(d
        .mounts
        .iter()
        .any(|m| m.kind == "bind" && m.destination == "/site" && !m.rw));
    assert!(d
        .networks
        .iter()
        .any(|n| n.name == "bridge" && n.ip_address.is_some()));
    assert!(d.started_at.is_some() && d.finished_at.is_none());
    assert_eq!(d.raw["Id"], serde_json::json!(created.id));

    // The list: one call, our filters.
    let query =
        ListQuery::parse(Some("true"), None, Some(&name), Some("team=web"), None).expect("query");
    let list = e.list_containers(&query).await.expect("list");
    assert_eq!(list.len(), 1, "{list:?}");
    let c = &list[0];
    assert_eq!(
        (c.name.as_str(), c.state.as_str(), c.image.as_str()),
        (name.as_str(), "running", image().as_str())
    );
    assert!(c.ports.iter().any(|p| p.public == Some(port)));
    assert!(c.networks.contains(&"bridge".to_string()));
    assert_eq!(c.mounts, 3);
    let exited = ListQuery::parse(None, Some("exited"), Some(&name), None, None).expect("query");
    assert!(e.list_containers(&exited).await.expect("list").is_empty());

    // The prefill for duplicate/edit turns back into a valid spec with the same choices.
    let again = e.run_spec_of(&name).await.expect("spec");
    assert_eq!(again.image, image());
    assert!(again.env.contains(&"DB_PASSWORD=hunter2".to_string()));
    assert!(again.ports.contains(&format!("127.0.0.1:{port}:80")));
    assert!(again.volumes.contains(&format!("{volume}:/data")));
    assert_eq!(again.restart.as_deref(), Some("on-failure:2"));
    assert_eq!(again.memory, Some((64 * 1024 * 1024).to_string()));
    assert_eq!(again.cpus, Some(0.5));
    assert_eq!(again.hostname.as_deref(), Some("box-one"));
    let dup = e
        .run_container(&RunSpec {
            name: Some(unique("dup")),
            ports: vec![],
            start: false,
            ..again
        })
        .await
        .expect("dup");
    clean.containers.push(dup.name.clone());
    assert_eq!(state_of(&dup.name), "created");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_and_the_idempotent_ones() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let name = unique("act");
    let renamed = unique("renamed");
    clean.containers.extend([name.clone(), renamed.clone()]);
    let c = e
        .run_container(&RunSpec {
            volumes: vec!["/anon".into()],
            ..sleeper(&name)
        })
        .await
        .expect("run");
    let anon = docker_a(&["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", &name]);
    assert!(!anon.is_empty());

    e.start_container(&name)
        .await
        .expect("start a running container is fine");
    e.pause_container(&name).await.expect("pause");
    assert_eq!(state_of(&name), "paused");
    e.pause_container(&name).await.expect("pause again is fine");
    e.unpause_container(&name).await.expect("unpause");
    e.unpause_container(&name)
        .await
        .expect("unpause again is fine");
    assert_eq!(state_of(&name), "running");
    e.restart_container(&name, Some(1)).await.expect("restart");
    assert_eq!(state_of(&name), "running");
    e.kill_container(&name, Some("SIGKILL"))
        .await
        .expect("kill");
    assert_eq!(state_of(&name), "exited");
    match e.kill_container(&name, None).await {
        Err(Error::Conflict(m)) => assert!(m.contains("not running"), "{m}"),
        other => panic!("kill a stopped container: {other:?}"),
    }
    assert!(matches!(
        e.pause_container(&name).await,
        Err(Error::Conflict(_))
    ));
    e.stop_container(&name, Some(1))
        .await
        .expect("stop a stopped container is fine");
    e.start_container(&name).await.expect("start");
    e.stop_container(&name, Some(1)).await.expect("stop");
    assert_eq!(state_of(&name), "exited");
    assert!(
        matches!(e.kill_container(&name, Some("NOT A SIGNAL")).await, Err(Error::Invalid { field, .. }) if field == "signal")
    );
    assert!(
        matches!(e.stop_container(&name, Some(99_999)).await, Err(Error::Invalid { field, .. }) if field == "t")
    );

    e.rename_container(&c.id, &renamed).await.expect("rename");
    assert_eq!(
        docker_a(&["inspect", "-f", "{{.Name}}", &c.id]),
        format!("/{renamed}")
    );
    assert!(
        matches!(e.rename_container(&c.id, "bad name").await, Err(Error::Invalid { field, .. }) if field == "name")
    );

    e.start_container(&renamed).await.expect("start");
    match e.remove_container(&renamed, false, true).await {
        Err(Error::Conflict(m)) => assert!(m.contains("running"), "{m}"),
        other => panic!("remove a running container without force: {other:?}"),
    }
    e.remove_container(&renamed, true, true)
        .await
        .expect("remove with force and volumes");
    assert!(!docker_try(&["inspect", &renamed]).0, "container gone");
    assert!(
        !docker_try(&["volume", "inspect", &anon]).0,
        "anonymous volume gone"
    );

    for missing in [
        e.start_container("h1c-no-such").await,
        e.stop_container("h1c-no-such", None).await,
        e.remove_container("h1c-no-such", true, false).await,
    ] {
        match missing {
            Err(Error::NotFound(what)) => assert_eq!(what, "container"),
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(
        e.inspect_container("../../images/json").await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_fails_leaves_no_container() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let first = unique("porta");
    let second = unique("portb");
    let bad_cmd = unique("badcmd");
    clean
        .containers
        .extend([first.clone(), second.clone(), bad_cmd.clone()]);
    let port = free_port();
    e.run_container(&RunSpec {
        ports: vec![format!("{port}:80")],
        ..sleeper(&first)
    })
    .await
    .expect("first");
    match e
        .run_container(&RunSpec {
            ports: vec![format!("{port}:80")],
            ..sleeper(&second)
        })
        .await
    {
        Err(Error::Conflict(m)) => assert!(m.starts_with("ports"), "{m}"),
        other => panic!("port in use: {other:?}"),
    }
    assert!(
        !docker_try(&["inspect", &second]).0,
        "the failed container was removed"
    );

    match e
        .run_container(&RunSpec {
            cmd: Some(vec!["/no/such/binary".into()]),
            ..sleeper(&bad_cmd)
        })
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "cmd"),
        other => panic!("bad command: {other:?}"),
    }
    assert!(
        !docker_try(&["inspect", &bad_cmd]).0,
        "the failed container was removed"
    );

    match e.run_container(&sleeper(&first)).await {
        Err(Error::Conflict(m)) => assert!(m.starts_with("name"), "{m}"),
        other => panic!("name in use: {other:?}"),
    }
    match e
        .run_container(&RunSpec {
            volumes_from: vec!["h1c-no-such-source".into()],
            ..sleeper(&unique("vf"))
        })
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "volumes_from"),
        other => panic!("volumes_from a missing container: {other:?}"),
    }
    match e
        .run_container(&RunSpec {
            network: Some("h1c-no-such-net".into()),
            ..sleeper(&unique("net"))
        })
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "network"),
        other => panic!("missing network: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_is_pulled_from_its_registry_and_recreate_keeps_name_and_volumes() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let registry = env("CAPSTAN_TEST_REGISTRY");
    let tag = unique("img");
    let remote = format!("{registry}/h1c/busybox:{tag}");
    clean.images.push(remote.clone());
    docker_a(&["tag", &image(), &remote]);
    docker_a(&["push", &remote]);
    docker_a(&["rmi", &remote]);

    let name = unique("pulled");
    let volume = unique("keep");
    clean.containers.push(name.clone());
    clean.volumes.push(volume.clone());
    let spec = RunSpec {
        image: remote.clone(),
        volumes: vec![format!("{volume}:/data"), "/anon".into()],
        ..sleeper(&name)
    };
    let first = e.run_container(&spec).await.expect("run pulls the image");
    assert_eq!(state_of(&name), "running");
    docker_a(&[
        "exec",
        &name,
        "sh",
        "-c",
        "echo kept > /data/f && echo anon > /anon/f",
    ]);

    let second = e.recreate_container(&name).await.expect("recreate");
    assert_eq!(second.name, name);
    assert_ne!(second.id, first.id);
    assert_eq!(
        docker_a(&["inspect", "-f", "{{.Id}} {{.State.Status}}", &name]),
        format!("{} running", second.id)
    );
    assert!(
        !docker_try(&["inspect", &first.id]).0,
        "the old container is gone"
    );
    assert_eq!(docker_a(&["exec", &name, "cat", "/data/f"]), "kept");
    assert_eq!(
        docker_a(&["exec", &name, "cat", "/anon/f"]),
        "anon",
        "the anonymous volume came along"
    );
    let leftovers = docker_a(&[
        "ps",
        "-a",
        "--filter",
        &format!("name={name}-recreating"),
        "-q",
    ]);
    assert!(leftovers.is_empty(), "{leftovers}");

    let missing = format!("{registry}/h1c/nothing-here:{tag}");
    match e
        .run_container(&RunSpec {
            image: missing,
            ..sleeper(&unique("missing"))
        })
        .await
    {
        Err(Error::NotFound(what)) => assert!(what.starts_with("image"), "{what}"),
        other => panic!("a missing image: {other:?}"),
    }
    match e
        .run_container(&RunSpec {
            image: "127.0.0.1:1/h1c/x:1".into(),
            ..sleeper(&unique("noreg"))
        })
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "image"),
        other => panic!("an unreachable registry: {other:?}"),
    }
}

/// The names of the containers whose name starts with `prefix`, sorted.
fn names_with_prefix(prefix: &str) -> Vec<String> {
    let out = docker_a(&[
        "ps",
        "-a",
        "--filter",
        &format!("name={prefix}"),
        "--format",
        "{{.Names}}",
    ]);
    let mut names: Vec<String> = out
        .lines()
        .map(str::trim)
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_replaces_the_container_under_its_name_and_keeps_its_volumes() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let name = unique("edit");
    let volume = unique("editvol");
    clean.containers.push(name.clone());
    clean.volumes.push(volume.clone());
    let first = e
        .run_container(&RunSpec {
            env: vec!["COLOUR=blue".into()],
            volumes: vec![format!("{volume}:/data"), "/anon".into()],
            ..sleeper(&name)
        })
        .await
        .expect("run");
    docker_a(&[
        "exec",
        &name,
        "sh",
        "-c",
        "echo kept > /data/f && echo anon > /anon/f",
    ]);
    let anon_volume = docker_a(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{if eq .Destination \"/anon\"}}{{.Name}}{{end}}{{end}}",
        &name,
    ]);
    assert!(!anon_volume.is_empty());

    // The form's prefill, changed: another value, a published port.
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    assert_eq!(spec.env, ["COLOUR=blue"]);
    assert!(
        spec.volumes.contains(&"/anon".to_string()),
        "{:?}",
        spec.volumes
    );
    let port = free_port();
    spec.env = vec!["COLOUR=green".into()];
    spec.ports = vec![format!("{port}:80")];
    spec.start = false;
    let edited = e
        .replace_container_within(&name, &spec, false, None)
        .await
        .expect("edit");
    assert_eq!(edited.name, name);
    assert_ne!(edited.id, first.id);
    assert_eq!(
        docker_a(&["inspect", "-f", "{{.Id}} {{.State.Status}}", &name]),
        format!("{} running", edited.id),
        "started because the old one ran"
    );
    assert!(docker_a(&["inspect", "-f", "{{json .Config.Env}}", &name]).contains("COLOUR=green"));
    assert_eq!(
        docker_a(&["port", &name, "80/tcp"])
            .lines()
            .next()
            .and_then(|l| l.rsplit(':').next())
            .map(str::to_string),
        Some(port.to_string())
    );
    assert!(
        !docker_try(&["inspect", &first.id]).0,
        "the old container is gone"
    );
    assert_eq!(docker_a(&["exec", &name, "cat", "/data/f"]), "kept");
    assert_eq!(
        docker_a(&["exec", &name, "cat", "/anon/f"]),
        "anon",
        "the anonymous volume came along"
    );
    assert!(
        docker_try(&["volume", "inspect", &anon_volume]).0,
        "the reused anonymous volume survived the old container's removal"
    );
    assert_eq!(
        names_with_prefix(&name),
        std::slice::from_ref(&name),
        "nothing left aside"
    );

    // A stopped container stays stopped unless the spec says start.
    docker_a(&["stop", "-t", "0", &name]);
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.start = false;
    spec.env = vec!["COLOUR=red".into()];
    let stopped = e
        .replace_container_within(&name, &spec, false, None)
        .await
        .expect("edit a stopped one");
    assert_eq!(state_of(&name), "created");
    assert_eq!(docker_a(&["inspect", "-f", "{{.Id}}", &name]), stopped.id);
    let _ = docker_try(&["volume", "rm", "-f", &anon_volume]);
}

/// `docker inspect` of a container, as JSON.
fn inspect_json(name: &str) -> serde_json::Value {
    let text = docker_a(&["inspect", name]);
    let mut all: Vec<serde_json::Value> = serde_json::from_str(&text).expect("inspect JSON");
    all.remove(0)
}

/// The fields of `section` that differ between two inspect outputs, by name.
fn differences(
    before: &serde_json::Value,
    after: &serde_json::Value,
    section: &str,
) -> Vec<String> {
    let empty = serde_json::Map::new();
    let a = before[section].as_object().unwrap_or(&empty);
    let b = after[section].as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| format!("{section}.{k}: {:?} → {:?}", a.get(k), b.get(k)))
        .collect()
}

/// Whether two inspect values mean the same to the engine: a missing field, `null`, `[]`, `{}`,
/// `""`, `0` and `false` all mean "not set", in objects at any depth.
fn same_meaning(a: Option<&serde_json::Value>, b: Option<&serde_json::Value>) -> bool {
    use serde_json::Value;
    let unset = |v: Option<&Value>| match v {
        None | Some(Value::Null) => true,
        Some(Value::Array(x)) => x.is_empty(),
        Some(Value::Object(x)) => x.values().all(|v| matches!(v, Value::Null)) || x.is_empty(),
        Some(Value::String(x)) => x.is_empty(),
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(Value::Bool(x)) => !x,
    };
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => x
            .keys()
            .chain(y.keys())
            .all(|k| same_meaning(x.get(k), y.get(k))),
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            x.iter().zip(y).all(|(p, q)| same_meaning(Some(p), Some(q)))
        }
        _ => a == b || unset(a) && unset(b),
    }
}

/// The fields of `section` whose meaning differs between two inspect outputs ([`same_meaning`]).
fn meaning_differences(
    before: &serde_json::Value,
    after: &serde_json::Value,
    section: &str,
) -> Vec<String> {
    differences(before, after, section)
        .into_iter()
        .filter(|d| {
            let key = d
                .trim_start_matches(&format!("{section}."))
                .split(':')
                .next()
                .unwrap_or_default()
                .to_string();
            !same_meaning(before[section].get(&key), after[section].get(&key))
        })
        .collect()
}

/// A container made by the docker CLI with every flag of `docker run` the issue names (on a
/// network of its own with an alias, and on a second one), registered with `clean`.
fn cli_container_with_every_flag(clean: &mut Cleanup, prefix: &str) -> String {
    let name = unique(prefix);
    let volume = unique("fullvol");
    let (main_net, side_net) = (unique("fullnet"), unique("fullside"));
    clean.containers.push(name.clone());
    clean.volumes.push(volume.clone());
    clean.networks.extend([main_net.clone(), side_net.clone()]);
    docker_a(&["network", "create", &main_net]);
    docker_a(&["network", "create", &side_net]);
    let mount = format!("type=volume,source={volume},target=/data,volume-nocopy");
    docker_a(&[
        "run",
        "-d",
        "--name",
        &name,
        "--network",
        &main_net,
        "--network-alias",
        "web1",
        "--cap-drop",
        "NET_RAW",
        "--cap-add",
        "SYS_TIME",
        "--health-cmd",
        "true",
        "--health-interval",
        "5s",
        "--health-retries",
        "2",
        "--health-timeout",
        "2s",
        "--health-start-period",
        "1s",
        "--dns",
        "10.0.0.53",
        "--dns-search",
        "example.test",
        "--add-host",
        "db:10.0.0.2",
        "--mount",
        &mount,
        "--mount",
        "type=tmpfs,target=/scratch,tmpfs-size=1048576",
        "--tmpfs",
        "/run2:size=1m",
        "--log-driver",
        "json-file",
        "--log-opt",
        "max-size=1m",
        "--ulimit",
        "nofile=1024:2048",
        "--shm-size",
        "8m",
        "--sysctl",
        "net.ipv4.ip_forward=1",
        "--init",
        "--stop-signal",
        "SIGUSR1",
        "--stop-timeout",
        "7",
        "--read-only",
        "--security-opt",
        "no-new-privileges",
        "--pids-limit",
        "50",
        "--memory",
        "64m",
        "--restart",
        "on-failure:2",
        "--label",
        "team=blue",
        "-e",
        "A=1",
        "-e",
        "B=2",
        &image(),
        "sleep",
        "600",
    ]);
    docker_a(&["network", "connect", "--alias", "side", &side_net, &name]);
    name
}

/// A container's networks and their aliases (the container's own short id aside).
fn networks_of(v: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    let id = v["Id"].as_str().unwrap_or_default().to_string();
    let mut all: Vec<(String, Vec<String>)> = v["NetworkSettings"]["Networks"]
        .as_object()
        .expect("networks")
        .iter()
        .map(|(net, e)| {
            let mut aliases: Vec<String> = e["Aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str())
                .filter(|a| !id.starts_with(a))
                .map(str::to_string)
                .collect();
            aliases.sort();
            (net.clone(), aliases)
        })
        .collect();
    all.sort();
    all
}

/// The prefill of a container made by the docker CLI says every flag in the words of the run
/// form, and a duplicate made from it (name aside) is the same container: every field of its
/// configuration, host configuration and networks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicate_of_a_cli_container_is_the_same_container() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let name = cli_container_with_every_flag(&mut clean, "fulldup");
    let copy = format!("{name}-copy");
    clean.containers.push(copy.clone());
    let spec = e.run_spec_of(&name).await.expect("spec");
    // The engine keeps capabilities as the CLI wrote them (CAP_NET_RAW).
    assert!(
        matches!(spec.cap_drop.as_slice(), [c] if c.ends_with("NET_RAW")),
        "{:?}",
        spec.cap_drop
    );
    assert_eq!(spec.health_cmd.as_deref(), Some("true"));
    assert_eq!(
        (
            spec.health_interval.as_deref(),
            spec.health_timeout.as_deref(),
            spec.health_start_period.as_deref(),
            spec.health_retries
        ),
        (Some("5s"), Some("2s"), Some("1s"), Some(2))
    );
    assert_eq!(spec.dns, ["10.0.0.53"]);
    assert_eq!(spec.dns_search, ["example.test"]);
    assert_eq!(spec.add_host, ["db:10.0.0.2"]);
    assert!(
        spec.mounts
            .iter()
            .any(|m| m.ends_with("target=/data,volume-nocopy")),
        "{:?}",
        spec.mounts
    );
    assert!(
        spec.mounts
            .contains(&"type=tmpfs,target=/scratch,tmpfs-size=1048576".to_string()),
        "{:?}",
        spec.mounts
    );
    assert_eq!(spec.tmpfs, ["/run2:size=1m"]);
    assert_eq!(spec.network_alias, ["web1"]);
    assert_eq!(spec.networks.len(), 1);
    assert!(
        spec.networks[0].ends_with(",alias=side"),
        "{:?}",
        spec.networks
    );
    assert_eq!(spec.log_driver.as_deref(), Some("json-file"));
    assert_eq!(
        spec.log_opts.get("max-size").map(String::as_str),
        Some("1m")
    );
    assert_eq!(spec.ulimits, ["nofile=1024:2048"]);
    assert_eq!(spec.shm_size.as_deref(), Some("8388608"));
    assert_eq!(
        spec.sysctls.get("net.ipv4.ip_forward").map(String::as_str),
        Some("1")
    );
    assert!(spec.init && spec.read_only);
    assert_eq!(spec.stop_signal.as_deref(), Some("SIGUSR1"));
    assert_eq!(spec.stop_timeout, Some(7));
    assert_eq!(spec.security_opt, ["no-new-privileges"]);
    assert_eq!(spec.pids_limit, Some(50));

    let mut dup = spec.clone();
    dup.name = Some(copy.clone());
    e.run_container(&dup).await.expect("duplicate");
    let (a, b) = (inspect_json(&name), inspect_json(&copy));
    let mut changed = meaning_differences(&a, &b, "HostConfig");
    changed.extend(
        meaning_differences(&a, &b, "Config")
            .into_iter()
            .filter(|d| !d.starts_with("Config.Hostname:")),
    );
    assert!(changed.is_empty(), "the duplicate differs: {changed:#?}");
    assert_eq!(networks_of(&a), networks_of(&b));
    assert_eq!(state_of(&copy), "running");
}

/// A container made by the docker CLI with flags the run form does not have, edited in
/// Capstan with one environment value changed, comes back identical in every other field of
/// its configuration, host configuration and networks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_keeps_every_setting_the_form_does_not_show() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let name = cli_container_with_every_flag(&mut clean, "fulledit");
    let before = inspect_json(&name);

    let mut spec = e.run_spec_of(&name).await.expect("spec");
    // The docker CLI (28) does not keep the order of its -e flags: compare as a set.
    let mut env = spec.env.clone();
    env.sort();
    assert_eq!(env, ["A=1", "B=2"]);
    spec.env = vec!["A=1".into(), "B=3".into()];
    let edited = e
        .replace_container_within(&name, &spec, false, None)
        .await
        .expect("edit");
    let after = inspect_json(&name);
    assert_eq!(after["Id"], edited.id.as_str());

    let mut changed = differences(&before, &after, "HostConfig");
    changed.extend(
        differences(&before, &after, "Config")
            .into_iter()
            .filter(|d| !d.starts_with("Config.Env:") && !d.starts_with("Config.Hostname:")),
    );
    assert!(changed.is_empty(), "the edit changed: {changed:#?}");
    let env = after["Config"]["Env"].as_array().expect("env");
    assert!(
        env.contains(&"B=3".into()) && env.contains(&"A=1".into()),
        "{env:?}"
    );
    assert!(!env.contains(&"B=2".into()), "{env:?}");
    // The same networks, with the same aliases (the container's own short id aside).
    assert_eq!(networks_of(&after), networks_of(&before));
    assert_eq!(state_of(&name), "running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_edit_puts_the_old_container_back_named_and_running() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let prefix = unique("rollback");
    let blocker = format!("{prefix}-blocker");
    let name = format!("{prefix}-web");
    clean.containers.extend([blocker.clone(), name.clone()]);
    let port = free_port();
    e.run_container(&RunSpec {
        ports: vec![format!("{port}:80")],
        ..sleeper(&blocker)
    })
    .await
    .expect("blocker");
    let old = e
        .run_container(&RunSpec {
            env: vec!["COLOUR=blue".into()],
            volumes: vec!["/anon".into()],
            ..sleeper(&name)
        })
        .await
        .expect("run");
    docker_a(&[
        "exec",
        &name,
        "sh",
        "-c",
        "echo anon > /anon/f; echo x > /written",
    ]);
    // What an edit cannot take along is named first: the file written outside a volume, the
    // address the engine gave it, its id and logs.
    let notes = e.carry_over(&name).await.expect("carry-over").not_carried;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("changed path") && n.contains("outside its volumes")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("on bridge, which the engine assigned")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("its id, its logs")),
        "{notes:?}"
    );
    let expect_back = |why: &str| {
        assert_eq!(
            docker_a(&["inspect", "-f", "{{.Id}} {{.State.Status}}", &name]),
            format!("{} running", old.id),
            "{why}: the old container is back, named and running"
        );
        assert!(
            docker_a(&["inspect", "-f", "{{json .Config.Env}}", &name]).contains("COLOUR=blue"),
            "{why}"
        );
        assert_eq!(
            names_with_prefix(&prefix),
            [blocker.clone(), name.clone()],
            "{why}: nothing else remains"
        );
        assert_eq!(
            docker_a(&["exec", &name, "cat", "/anon/f"]),
            "anon",
            "{why}"
        );
    };

    // Fails at start, after the old one was stopped and renamed: the port is taken.
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.env = vec!["COLOUR=green".into()];
    spec.ports = vec![format!("{port}:80")];
    match e.replace_container_within(&name, &spec, false, None).await {
        Err(Error::Conflict(m)) => assert!(m.starts_with("ports"), "{m}"),
        other => panic!("port in use: {other:?}"),
    }
    expect_back("a port in use");

    // Fails at create: --volumes-from a container that does not exist.
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.volumes_from = vec![format!("{prefix}-no-such-source")];
    match e.replace_container_within(&name, &spec, false, None).await {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "volumes_from"),
        other => panic!("volumes_from a missing container: {other:?}"),
    }
    expect_back("a create that fails");

    // Refused before anything is touched: an image that cannot be pulled, a bad field, another
    // name, and a guardrail.
    let registry = env("CAPSTAN_TEST_REGISTRY");
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.image = format!("{registry}/h1c/nothing-here:{prefix}");
    match e.replace_container_within(&name, &spec, false, None).await {
        Err(Error::NotFound(what)) => assert!(what.starts_with("image"), "{what}"),
        other => panic!("an image that cannot be pulled: {other:?}"),
    }
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.memory = Some("lots".into());
    match e.replace_container_within(&name, &spec, false, None).await {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "memory"),
        other => panic!("bad memory: {other:?}"),
    }
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.name = Some(format!("{prefix}-other"));
    match e.replace_container_within(&name, &spec, false, None).await {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "name"),
        other => panic!("another name: {other:?}"),
    }
    let mut spec = e.run_spec_of(&name).await.expect("spec");
    spec.privileged = true;
    let none_allowed = backend::guardrails::Guardrails::default();
    match e
        .replace_container_within(&name, &spec, false, Some(&none_allowed))
        .await
    {
        Err(Error::Denied { field, message }) => {
            assert_eq!(field, "privileged");
            assert!(message.contains("privileged"), "{message}");
        }
        other => panic!("a guardrail: {other:?}"),
    }
    expect_back("refused up front");
    match e
        .replace_container_within(&format!("{prefix}-missing"), &spec, false, None)
        .await
    {
        Err(Error::NotFound(_)) => {}
        other => panic!("a missing container: {other:?}"),
    }
}

/// `-p 20000-21000:20000-21000` is published whole, with a warning about its cost; `--gpus`
/// makes the device request the docker CLI makes, and is a guardrail for non-admins;
/// `--platform` picks the image of that platform. The containers are created, not started:
/// the engine keeps a GPU request at create and looks for a device driver only at start, and
/// this machine has no GPU.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_ranges_gpus_and_platform() {
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let prefix = unique("gpus");
    let (cli, ours, refused) = (
        format!("{prefix}-cli"),
        format!("{prefix}-ours"),
        format!("{prefix}-refused"),
    );
    clean
        .containers
        .extend([cli.clone(), ours.clone(), refused.clone()]);
    docker_a(&[
        "create",
        "--name",
        &cli,
        "--gpus",
        "\"device=0,1\",capabilities=compute",
        &image(),
    ]);
    let spec = RunSpec {
        image: image(),
        name: Some(ours.clone()),
        gpus: Some("\"device=0,1\",capabilities=compute".into()),
        platform: Some("linux/amd64".into()),
        ports: vec!["20000-21000:20000-21000".into()],
        start: false,
        ..Default::default()
    };
    let created = e.run_container(&spec).await.expect("create");
    assert!(
        created.warnings.iter().any(|w| w.contains("1001 ports")),
        "{:?}",
        created.warnings
    );
    let (a, b) = (inspect_json(&cli), inspect_json(&ours));
    assert_eq!(
        a["HostConfig"]["DeviceRequests"],
        b["HostConfig"]["DeviceRequests"]
    );
    assert_eq!(
        b["HostConfig"]["PortBindings"]
            .as_object()
            .map(serde_json::Map::len),
        Some(1001)
    );
    let again = e.run_spec_of(&ours).await.expect("spec");
    assert_eq!(again.gpus, spec.gpus);

    let none_allowed = backend::guardrails::Guardrails::default();
    let asked = RunSpec {
        name: Some(refused.clone()),
        ports: Vec::new(),
        ..spec.clone()
    };
    match e.run_container_within(&asked, Some(&none_allowed)).await {
        Err(Error::Denied { field, message }) => {
            assert_eq!(field, "gpus");
            assert!(message.contains("devices 0,1"), "{message}");
        }
        other => panic!("GPUs without the guardrail: {other:?}"),
    }
    assert!(!docker_try(&["inspect", &refused]).0, "nothing was created");
    let gpus_allowed = backend::guardrails::Guardrails {
        devices: vec![backend::guardrails::GPUS.into()],
        ..Default::default()
    };
    e.run_container_within(&asked, Some(&gpus_allowed))
        .await
        .expect("GPUs with the guardrail");
}

/// The words of `docker ps`: `--filter exited=/ancestor=/volume=/network=/health=`, the
/// further states, `-n` and `-l` (newest first), each checked with its name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_ps_words() {
    use backend::engine::PsWords;
    let e = engine(unix_spec());
    let mut clean = Cleanup::new();
    let prefix = unique("ps");
    let (failed, vol_user, last) = (
        format!("{prefix}-failed"),
        format!("{prefix}-vol"),
        format!("{prefix}-last"),
    );
    let volume = format!("{prefix}-data");
    let label = format!("capstan.ps={prefix}");
    let net = format!("{prefix}-net");
    clean
        .containers
        .extend([failed.clone(), vol_user.clone(), last.clone()]);
    clean.volumes.push(volume.clone());
    clean.networks.push(net.clone());
    docker_a(&["network", "create", &net]);
    let (ok, _) = docker_try(&[
        "run",
        "--name",
        &failed,
        "--label",
        &label,
        &image(),
        "sh",
        "-c",
        "exit 3",
    ]);
    assert!(!ok, "the container exits with 3");
    docker_a(&[
        "create",
        "--name",
        &vol_user,
        "-v",
        &format!("{volume}:/d"),
        "--network",
        &net,
        "--label",
        &label,
        &image(),
    ]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    docker_a(&["create", "--name", &last, "--label", &label, &image()]);
    assert_eq!(
        ps_names(
            &e,
            &prefix,
            PsWords {
                exited: Some("3"),
                ..Default::default()
            }
        )
        .await,
        [failed.as_str()]
    );
    assert_eq!(
        ps_names(
            &e,
            &prefix,
            PsWords {
                volume: Some(&volume),
                ..Default::default()
            }
        )
        .await,
        [vol_user.as_str()]
    );
    assert_eq!(
        ps_names(
            &e,
            &prefix,
            PsWords {
                network: Some(&net),
                ..Default::default()
            }
        )
        .await,
        [vol_user.as_str()]
    );
    assert_eq!(
        ps_names(
            &e,
            &prefix,
            PsWords {
                ancestor: Some(&image()),
                ..Default::default()
            }
        )
        .await
        .len(),
        3
    );
    assert_eq!(
        ps_names(
            &e,
            &prefix,
            PsWords {
                health: Some("none"),
                ..Default::default()
            }
        )
        .await
        .len(),
        3
    );
    // -l: the one created last; the engine filters by the label before it counts.
    let q = ListQuery::parse(None, None, None, Some(&label), None)
        .expect("query")
        .with_ps(&PsWords {
            latest: Some("true"),
            ..Default::default()
        })
        .expect("latest");
    let latest = e.list_containers(&q).await.expect("list");
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].name, last);
    let q = ListQuery::parse(None, Some("created"), Some(&prefix), None, None)
        .expect("query")
        .with_ps(&PsWords::default())
        .expect("created");
    let created = e.list_containers(&q).await.expect("list");
    assert_eq!(created.len(), 2, "{created:?}");
    for (words, field) in [
        (
            PsWords {
                exited: Some("300"),
                ..Default::default()
            },
            "exited",
        ),
        (
            PsWords {
                health: Some("fine"),
                ..Default::default()
            },
            "health",
        ),
        (
            PsWords {
                n: Some("0"),
                ..Default::default()
            },
            "n",
        ),
        (
            PsWords {
                n: Some("2"),
                latest: Some("true"),
                ..Default::default()
            },
            "latest",
        ),
        (
            PsWords {
                volume: Some("a b"),
                ..Default::default()
            },
            "volume",
        ),
        (
            PsWords {
                ancestor: Some("a b"),
                ..Default::default()
            },
            "ancestor",
        ),
    ] {
        match ListQuery::default().with_ps(&words) {
            Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    assert!(matches!(
        ListQuery::parse(None, Some("dead"), None, None, None),
        Ok(q) if q.all
    ));
}

/// The names of the containers starting with `prefix` that `docker ps -a` with `words` lists.
async fn ps_names(
    e: &backend::engine::Engine,
    prefix: &str,
    words: backend::engine::PsWords<'_>,
) -> Vec<String> {
    let q = ListQuery::parse(Some("true"), None, None, None, None)
        .expect("query")
        .with_ps(&words)
        .expect("words");
    let list = e.list_containers(&q).await.expect("list");
    list.into_iter()
        .map(|c| c.name)
        .filter(|n| n.starts_with(prefix))
        .collect()
}
