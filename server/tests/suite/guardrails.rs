//! Guardrails through the REST API against engine a: a non-admin manager is refused privileged
//! containers, bind mounts outside the allowed prefixes (also through a `local` volume with
//! `o=bind`), the host's network, added capabilities and devices, until an admin allows them;
//! admins are never limited. Then the ways around them (issue 18): volumes with mount options,
//! namespaces joined through another container, `volumes_from`, writable prefixes and the
//! symlink planted in one, allow-lists, network drivers and confinement-lifting settings.
//! Containers are named `grd-<test>-<random>` and removed.

use std::process::Command;

use crate::common::*;
use axum::http::{Method, StatusCode};
use backend::auth::SubjectKind;
use backend::policy::Role;
use serde_json::{json, Value};

fn docker(args: &[&str]) -> bool {
    Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Removes every container and volume the test named.
struct Cleanup(Vec<String>, Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = docker(&["rm", "-f", "-v", c]);
        }
        for v in &self.1 {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
    }
}

fn same(cookie: &str) -> [(&str, &str); 2] {
    [("cookie", cookie), ("sec-fetch-site", "same-origin")]
}

async fn run(app: &TestApp, cookie: &str, spec: Value) -> (StatusCode, Value) {
    let res = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/containers",
            &same(cookie),
            Some(spec),
        )
        .await;
    let body = if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    };
    (res.status, body)
}

fn refused(res: &(StatusCode, Value), word: &str) {
    assert_eq!(res.0, StatusCode::FORBIDDEN, "{}", res.1);
    let message = res.1["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(word) && message.contains("guardrails"),
        "{message:?} should name {word}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_admins_are_held_by_the_hosts_guardrails_and_admins_are_not() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let mia = app
        .accounts
        .create_user("mia", PW, false)
        .await
        .expect("user");
    app.accounts
        .set_grant("unix-engine", SubjectKind::User, mia.id, Role::Manager)
        .await
        .expect("grant");
    let mia = app.login("mia", PW).await;
    let image = env("CAPSTAN_TEST_IMAGE");
    let names: Vec<String> = (0..8).map(|i| unique(&format!("c{i}"))).collect();
    let bind_volume = unique("vol");
    let _cleanup = Cleanup(names.clone(), vec![bind_volume.clone()]);
    let spec = |name: &str, extra: Value| {
        let mut s = json!({"image": image, "name": name, "cmd": ["true"], "start": false});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(extra.clone());
        }
        s
    };

    // Off by default: each one refused, naming its guardrail.
    let g = app
        .get("/api/v1/hosts/unix-engine/guardrails", &same(&root))
        .await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(
        g.headers
            .get(axum::http::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some("no-store"),
        "API answers are not cached"
    );
    assert_eq!(g.json()["privileged"], false);
    assert_eq!(g.json()["bind_mounts"], "never");
    refused(
        &run(&app, &mia, spec(&names[0], json!({"privileged": true}))).await,
        "privileged",
    );
    refused(
        &run(
            &app,
            &mia,
            spec(&names[0], json!({"volumes": ["/tmp:/mnt"]})),
        )
        .await,
        "bind mount",
    );
    refused(
        &run(&app, &mia, spec(&names[0], json!({"network": "host"}))).await,
        "network",
    );
    refused(
        &run(
            &app,
            &mia,
            spec(&names[0], json!({"cap_add": ["NET_ADMIN"]})),
        )
        .await,
        "capabilities",
    );
    refused(
        &run(
            &app,
            &mia,
            spec(&names[0], json!({"devices": ["/dev/null:/dev/x"]})),
        )
        .await,
        "devices",
    );
    refused(
        &run(&app, &mia, spec(&names[0], json!({"pid": "host"}))).await,
        "PID",
    );
    assert!(!docker(&["inspect", &names[0]]), "nothing was created");
    // A local volume whose options bind-mount a host path counts as a bind mount.
    assert!(docker(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        "device=/tmp",
        &bind_volume
    ]));
    refused(
        &run(
            &app,
            &mia,
            spec(
                &names[0],
                json!({"volumes": [format!("{bind_volume}:/data")]}),
            ),
        )
        .await,
        "host mount of /tmp",
    );
    // Plain named volumes are fine.
    let plain = run(
        &app,
        &mia,
        spec(
            &names[1],
            json!({"volumes": [format!("{}-data:/data", names[1])]}),
        ),
    )
    .await;
    assert_eq!(plain.0, StatusCode::CREATED, "{}", plain.1);
    let _ = docker(&["rm", "-f", "-v", &names[1]]);
    let _ = docker(&["volume", "rm", "-f", &format!("{}-data", names[1])]);

    // Admins are never limited.
    let admin = run(&app, &root, spec(&names[2], json!({"privileged": true, "network": "host", "volumes": ["/tmp:/mnt"], "cap_add": ["NET_ADMIN"]}))).await;
    assert_eq!(admin.0, StatusCode::CREATED, "{}", admin.1);
    let inspect = app
        .get(
            &format!("/api/v1/hosts/unix-engine/containers/{}/spec", names[2]),
            &same(&root),
        )
        .await
        .json();
    assert_eq!(inspect["privileged"], true);
    assert_eq!(inspect["cap_add"], json!(["NET_ADMIN"]));
    // A non-admin may not recreate it either: it would repeat what the guardrails refuse.
    let recreate = app
        .send(
            Method::POST,
            &format!("/api/v1/hosts/unix-engine/containers/{}/recreate", names[2]),
            &same(&mia),
            None,
        )
        .await;
    assert_eq!(
        recreate.status,
        StatusCode::FORBIDDEN,
        "{}",
        recreate.text()
    );

    // Only admins set guardrails; bad input names its field.
    let by_mia = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/guardrails",
            &same(&mia),
            Some(json!({"privileged": true})),
        )
        .await;
    assert_eq!(by_mia.status, StatusCode::FORBIDDEN);
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/guardrails",
            &same(&root),
            Some(json!({"bind_mounts": "prefixes"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("bind_prefixes"), "{}", bad.text());
    assert_eq!(
        app.get("/api/v1/hosts/nowhere/guardrails", &same(&root))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let set = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/guardrails",
            &same(&root),
            Some(json!({"privileged": true, "host_network": true, "bind_mounts": "prefixes", "bind_prefixes": ["/tmp/"]})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["bind_prefixes"], json!(["/tmp"]));

    // Allowed now; what stays off is still refused.
    let ok = run(
        &app,
        &mia,
        spec(
            &names[3],
            json!({"privileged": true, "network": "host", "volumes": ["/tmp/x:/mnt"]}),
        ),
    )
    .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    refused(
        &run(
            &app,
            &mia,
            spec(&names[4], json!({"volumes": ["/etc:/mnt"]})),
        )
        .await,
        "only under /tmp",
    );
    refused(
        &run(
            &app,
            &mia,
            spec(&names[4], json!({"volumes": ["/tmp/../etc:/mnt"]})),
        )
        .await,
        "bind mount",
    );
    refused(
        &run(
            &app,
            &mia,
            spec(&names[4], json!({"cap_add": ["SYS_ADMIN"]})),
        )
        .await,
        "capabilities",
    );
    // The other host keeps its own (default) guardrails.
    let other = app
        .get("/api/v1/hosts/tls-engine/guardrails", &same(&root))
        .await
        .json();
    assert_eq!(other["privileged"], false);

    // Refusals are denials in the audit log.
    app.state.audit.flush().await;
    let rows = app
        .get(
            "/api/v1/audit?user=mia&action=container.create&outcome=denied",
            &same(&root),
        )
        .await
        .json();
    assert!(
        rows["entries"].as_array().is_some_and(|e| e.len() >= 8),
        "{rows}"
    );
}

async fn status(
    app: &TestApp,
    method: Method,
    cookie: &str,
    uri: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let res = app.send(method, uri, &same(cookie), body).await;
    let body = if res.body.is_empty() {
        Value::Null
    } else {
        res.json()
    };
    (res.status, body)
}

/// Refused with 403, naming `field` and `word`.
fn refused_field(res: &(StatusCode, Value), field: &str, word: &str) {
    refused(res, word);
    assert_eq!(res.1["error"]["field"], field, "{}", res.1);
}

fn docker_out(args: &[&str]) -> String {
    Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ways_around_the_guardrails_are_closed() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let ben = app
        .accounts
        .create_user("ben", PW, false)
        .await
        .expect("user");
    app.accounts
        .set_grant("unix-engine", SubjectKind::User, ben.id, Role::Manager)
        .await
        .expect("grant");
    let ben = app.login("ben", PW).await;
    let image = env("CAPSTAN_TEST_IMAGE");
    let n: Vec<String> = (0..12).map(|i| unique(&format!("w{i}"))).collect();
    let v: Vec<String> = (0..5).map(|i| unique(&format!("v{i}"))).collect();
    let _cleanup = Cleanup(n.clone(), v.clone());
    let spec = |name: &str, extra: Value| {
        let mut s = json!({"image": image, "name": name, "cmd": ["true"], "start": false});
        if let (Some(s), Some(extra)) = (s.as_object_mut(), extra.as_object()) {
            s.extend(extra.clone());
        }
        s
    };
    let volumes = "/api/v1/hosts/unix-engine/volumes";

    // 1. A local volume with mount options is a host mount: refused at volume create…
    for opts in [
        json!({"type": "ext4", "device": "/dev/vda"}),
        json!({"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}),
        json!({"o": "bind", "device": "/etc"}),
    ] {
        let r = status(
            &app,
            Method::POST,
            &ben,
            volumes,
            Some(json!({"name": v[0], "driver_opts": opts})),
        )
        .await;
        refused_field(&r, "driver_opts", "host mount");
        assert_eq!(
            docker_out(&["volume", "ls", "-q", "--filter", &format!("name={}", v[0])]),
            "",
            "no volume was made"
        );
    }
    // …and a driver other than local needs the allow-list.
    let r = status(
        &app,
        Method::POST,
        &ben,
        volumes,
        Some(json!({"name": v[0], "driver": "rexray"})),
    )
    .await;
    refused_field(&r, "driver", "volume driver rexray");
    // tmpfs is not the host's: allowed.
    let r = status(&app, Method::POST, &ben, volumes, Some(json!({"name": v[0], "driver_opts": {"type": "tmpfs", "device": "tmpfs", "o": "size=1m"}}))).await;
    assert_eq!(r.0, StatusCode::CREATED, "{}", r.1);
    // …and again at container create, for a volume someone else made with such options.
    assert!(docker(&[
        "volume",
        "create",
        "-o",
        "type=ext4",
        "-o",
        "device=/dev/null",
        &v[1]
    ]));
    refused_field(
        &run(
            &app,
            &ben,
            spec(&n[0], json!({"volumes": [format!("{}:/data", v[1])]})),
        )
        .await,
        "volumes",
        "host mount of /dev/null",
    );
    assert!(!docker(&["inspect", &n[0]]), "nothing was created");
    // A named volume that does not exist is made plain by Capstan; a failed create takes it away.
    assert!(docker(&["create", "--name", &n[1], &image, "true"]));
    let clash = run(
        &app,
        &ben,
        spec(&n[1], json!({"volumes": [format!("{}:/data", v[2])]})),
    )
    .await;
    assert_eq!(clash.0, StatusCode::CONFLICT, "{}", clash.1);
    assert_eq!(
        docker_out(&["volume", "ls", "-q", "--filter", &format!("name={}", v[2])]),
        "",
        "the failed create left no volume"
    );
    let made = run(
        &app,
        &ben,
        spec(&n[2], json!({"volumes": [format!("{}:/data", v[2])]})),
    )
    .await;
    assert_eq!(made.0, StatusCode::CREATED, "{}", made.1);
    assert_eq!(
        docker_out(&[
            "volume",
            "inspect",
            "-f",
            "{{.Driver}} {{len .Options}}",
            &v[2]
        ]),
        "local 0"
    );

    // 2. Joined namespaces are judged by the joined container's own.
    assert!(docker(&[
        "create",
        "--name",
        &n[3],
        "--network",
        "host",
        "--pid",
        "host",
        "--ipc",
        "host",
        &image,
        "true"
    ]));
    refused_field(
        &run(
            &app,
            &ben,
            spec(&n[4], json!({"network": format!("container:{}", n[3])})),
        )
        .await,
        "network",
        "which uses the host's",
    );
    refused_field(
        &run(
            &app,
            &ben,
            spec(&n[4], json!({"pid": format!("container:{}", n[3])})),
        )
        .await,
        "pid",
        "PID",
    );
    refused_field(
        &run(
            &app,
            &ben,
            spec(&n[4], json!({"ipc": format!("container:{}", n[3])})),
        )
        .await,
        "ipc",
        "IPC",
    );
    let unknown = run(
        &app,
        &ben,
        spec(&n[4], json!({"network": "container:grd-nobody-here"})),
    )
    .await;
    assert_eq!(unknown.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.1);
    assert_eq!(unknown.1["error"]["field"], "network");
    assert!(!docker(&["inspect", &n[4]]), "nothing was created");
    let joined = run(
        &app,
        &ben,
        spec(&n[4], json!({"network": format!("container:{}", n[1])})),
    )
    .await;
    assert_eq!(
        joined.0,
        StatusCode::CREATED,
        "joining a plain container is fine: {}",
        joined.1
    );

    // 6. volumes_from a container with a bind mount is judged like that bind.
    assert!(docker(&[
        "create",
        "--name",
        &n[5],
        "-v",
        "/etc:/hostetc",
        &image,
        "true"
    ]));
    refused_field(
        &run(&app, &ben, spec(&n[6], json!({"volumes_from": [n[5]]}))).await,
        "volumes_from",
        "/etc",
    );
    assert!(!docker(&["inspect", &n[6]]), "nothing was created");

    // Confinement lifted by a container made with the CLI is not repeated by a recreate.
    assert!(docker(&[
        "create",
        "--name",
        &n[7],
        "--security-opt",
        "seccomp=unconfined",
        &image,
        "true"
    ]));
    let r = status(
        &app,
        Method::POST,
        &ben,
        &format!("/api/v1/hosts/unix-engine/containers/{}/recreate", n[7]),
        None,
    )
    .await;
    refused_field(&r, "security_opt", "seccomp=unconfined");

    // The rarer words of docker run are judged too: GPUs, security options, --mount binds.
    let w: Vec<String> = (0..3).map(|i| unique(&format!("x{i}"))).collect();
    let _more = Cleanup(w.clone(), Vec::new());
    for (extra, field, word) in [
        (json!({"gpus": "all"}), "gpus", "all GPUs"),
        (
            json!({"security_opt": ["apparmor=unconfined"]}),
            "security_opt",
            "apparmor=unconfined",
        ),
        (
            json!({"mounts": ["type=bind,source=/etc,target=/hostetc,readonly"]}),
            "mounts",
            "/etc",
        ),
    ] {
        refused_field(&run(&app, &ben, spec(&w[0], extra)).await, field, word);
        assert!(!docker(&["inspect", &w[0]]), "nothing was created");
    }
    let r = run(&app, &ben, spec(&w[1], json!({"health_interval": "soon"}))).await;
    assert_eq!(r.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.1);
    assert_eq!(r.1["error"]["field"], "health_interval", "{}", r.1);
    let r = run(
        &app,
        &ben,
        spec(
            &w[2],
            json!({"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"], "read_only": true,
                   "init": true, "tmpfs": ["/run:size=1m"], "ulimits": ["nofile=512:1024"]}),
        ),
    )
    .await;
    assert_eq!(
        r.0,
        StatusCode::CREATED,
        "what stays inside the container is allowed: {}",
        r.1
    );

    // 4. Allow-lists, and network drivers beyond bridge and overlay.
    let networks = "/api/v1/hosts/unix-engine/networks";
    refused_field(
        &status(
            &app,
            Method::POST,
            &ben,
            networks,
            Some(json!({"name": v[3], "driver": "macvlan"})),
        )
        .await,
        "driver",
        "network driver macvlan",
    );
    let prefix = std::env::temp_dir().join(unique("prefix"));
    std::fs::create_dir_all(prefix.join("shared")).expect("prefix");
    let prefix_s = prefix.to_string_lossy().to_string();
    let set = status(
        &app,
        Method::PUT,
        &root,
        "/api/v1/hosts/unix-engine/guardrails",
        Some(json!({"cap_add": ["net_admin"], "devices": ["/dev/null"], "network_drivers": ["macvlan"], "bind_mounts": "prefixes", "bind_prefixes": [prefix_s]})),
    )
    .await;
    assert_eq!(set.0, StatusCode::OK, "{}", set.1);
    assert_eq!(set.1["cap_add"], json!(["NET_ADMIN"]));
    assert_eq!(set.1["bind_writable"], false);
    let ok = run(
        &app,
        &ben,
        spec(
            &n[8],
            json!({"cap_add": ["NET_ADMIN"], "devices": ["/dev/null:/dev/x"]}),
        ),
    )
    .await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    refused_field(
        &run(&app, &ben, spec(&n[9], json!({"cap_add": ["SYS_ADMIN"]}))).await,
        "cap_add",
        "SYS_ADMIN",
    );
    refused_field(
        &run(&app, &ben, spec(&n[9], json!({"cap_add": ["ALL"]}))).await,
        "cap_add",
        "ALL",
    );
    refused_field(
        &run(
            &app,
            &ben,
            spec(&n[9], json!({"devices": ["/dev/zero:/dev/x"]})),
        )
        .await,
        "devices",
        "/dev/zero",
    );
    let listed = status(
        &app,
        Method::POST,
        &ben,
        networks,
        Some(json!({"name": v[3], "driver": "macvlan"})),
    )
    .await;
    assert_ne!(
        listed.0,
        StatusCode::FORBIDDEN,
        "macvlan is listed now: {}",
        listed.1
    );
    let _ = docker(&["network", "rm", &v[3]]);
    // The old boolean still reads: true is the common set, which never holds SYS_ADMIN.
    let old = status(
        &app,
        Method::PUT,
        &root,
        "/api/v1/hosts/tls-engine/guardrails",
        Some(json!({"cap_add": true, "devices": false})),
    )
    .await;
    assert_eq!(old.0, StatusCode::OK, "{}", old.1);
    let caps = old.1["cap_add"].as_array().cloned().unwrap_or_default();
    assert!(
        caps.contains(&json!("NET_ADMIN")) && !caps.contains(&json!("SYS_ADMIN")),
        "{caps:?}"
    );
    let _ = status(
        &app,
        Method::PUT,
        &root,
        "/api/v1/hosts/tls-engine/guardrails",
        Some(json!({})),
    )
    .await;

    // 3. Binds under a prefix are read-only, so no container plants `escape -> /` there.
    let plant = spec(
        &n[10],
        json!({"volumes": [format!("{prefix_s}/shared:/mnt")], "cmd": ["sh", "-c", "ln -s / /mnt/escape"], "start": true}),
    );
    let planted = run(&app, &ben, plant).await;
    assert_eq!(planted.0, StatusCode::CREATED, "{}", planted.1);
    assert_eq!(
        docker_out(&["wait", &n[10]]),
        "1",
        "ln fails on the read-only bind"
    );
    assert!(
        std::fs::symlink_metadata(prefix.join("shared/escape")).is_err(),
        "no symlink was planted"
    );
    assert_eq!(
        docker_out(&["inspect", "-f", "{{range .Mounts}}{{.RW}}{{end}}", &n[10]]),
        "false"
    );
    // Through a local volume that binds under the prefix, too.
    assert!(docker(&[
        "volume",
        "create",
        "-o",
        "type=none",
        "-o",
        "o=bind",
        "-o",
        &format!("device={prefix_s}/shared"),
        &v[4]
    ]));
    let via_volume = run(
        &app,
        &ben,
        spec(&n[11], json!({"volumes": [format!("{}:/data", v[4])]})),
    )
    .await;
    assert_eq!(via_volume.0, StatusCode::CREATED, "{}", via_volume.1);
    assert_eq!(
        docker_out(&["inspect", "-f", "{{range .Mounts}}{{.RW}}{{end}}", &n[11]]),
        "false"
    );
    let _ = std::fs::remove_dir_all(&prefix);
}

/// Environment values are for admins and the host's managers; viewers and operators see the
/// names only (also in the raw inspect answer and the run spec), unless the host shows them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_values_are_hidden_from_viewers_unless_the_host_shows_them() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = unique("env");
    let _cleanup = Cleanup(vec![name.clone()], vec![]);
    let image = env("CAPSTAN_TEST_IMAGE");
    assert!(docker(&[
        "create",
        "--name",
        &name,
        "-e",
        "DB_PASSWORD=hunter2",
        "-e",
        "MODE=plain-value",
        &image,
        "true"
    ]));
    let viewer = app
        .user_with_role("env-viewer", "unix-engine", Role::Viewer)
        .await;
    let operator = app
        .user_with_role("env-operator", "unix-engine", Role::Operator)
        .await;
    let manager = app
        .user_with_role("env-manager", "unix-engine", Role::Manager)
        .await;
    let inspect = format!("/api/v1/hosts/unix-engine/containers/{name}");
    let spec = format!("{inspect}/spec");

    for who in [&viewer, &operator] {
        let res = app.get(&inspect, &[("authorization", &who.bearer())]).await;
        assert_eq!(res.status, StatusCode::OK);
        let text = res.text();
        assert!(
            !text.contains("hunter2") && !text.contains("plain-value"),
            "values leak to {}: {text}",
            who.username
        );
        let d = res.json();
        assert_eq!(d["env_hidden"], true);
        let keys: Vec<&str> = d["env"]
            .as_array()
            .expect("env")
            .iter()
            .filter_map(|v| v["key"].as_str())
            .collect();
        assert!(
            keys.contains(&"DB_PASSWORD") && keys.contains(&"MODE"),
            "the names still show: {keys:?}"
        );
        assert!(d["raw"]["Config"]["Env"]
            .as_array()
            .expect("raw env")
            .iter()
            .any(|l| l == "MODE=********"));
        let s = app.get(&spec, &[("authorization", &who.bearer())]).await;
        assert_eq!(s.status, StatusCode::OK);
        assert!(
            !s.text().contains("hunter2"),
            "the run spec leaks: {}",
            s.text()
        );
        assert!(s.json()["env"]
            .as_array()
            .expect("spec env")
            .iter()
            .any(|l| l == "DB_PASSWORD=********"));
    }
    for who in [&manager] {
        let d = app
            .get(&inspect, &[("authorization", &who.bearer())])
            .await
            .json();
        assert_eq!(d["env_hidden"], false);
        assert!(d["env"]
            .as_array()
            .expect("env")
            .iter()
            .any(|v| v["key"] == "DB_PASSWORD" && v["value"] == "hunter2"));
    }
    let d = app.get(&inspect, &same(&root)).await.json();
    assert!(
        d["env"]
            .as_array()
            .expect("env")
            .iter()
            .any(|v| v["value"] == "plain-value"),
        "admins see values"
    );

    // The host's setting shows them to everyone with a role.
    let set = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/guardrails",
            &same(&root),
            Some(json!({"env_visible": true})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine/guardrails", &same(&root))
            .await
            .json()["env_visible"],
        true
    );
    let d = app
        .get(&inspect, &[("authorization", &viewer.bearer())])
        .await
        .json();
    assert_eq!(d["env_hidden"], false);
    assert!(d["env"]
        .as_array()
        .expect("env")
        .iter()
        .any(|v| v["value"] == "hunter2"));
    let s = app
        .get(&spec, &[("authorization", &viewer.bearer())])
        .await
        .json();
    assert!(s["env"]
        .as_array()
        .expect("spec env")
        .iter()
        .any(|l| l == "DB_PASSWORD=hunter2"));
}
