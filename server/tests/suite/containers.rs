//! Containers through the REST API against the private engines: run, inspect, actions, remove,
//! bad fields named, conflicts, the fleet-wide list with a dead host, recreate, and the role
//! matrix (viewer lists but cannot stop, operator stops but cannot remove, no grant sees 404).
//! Everything a test makes is named `h1r-<test>-<random>` and removed at the end.

use crate::common::*;
use axum::http::{Method, StatusCode};
use backend::auth::SubjectKind;
use backend::policy::Role;
use serde_json::{json, Value};

struct Cleanup(Vec<(char, String)>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        // `v` marks a volume on engine a; everything else is a container on the given engine.
        for (engine, name) in self.0.iter().filter(|(e, _)| *e != 'v') {
            let _ = docker_at(*engine, &["rm", "-f", "-v", name]);
        }
        for (_, name) in self.0.iter().filter(|(e, _)| *e == 'v') {
            let _ = docker_at('a', &["volume", "rm", "-f", name]);
        }
    }
}

struct Who {
    bearer: String,
}

impl Who {
    fn h(&self) -> [(&str, &str); 1] {
        [("authorization", self.bearer.as_str())]
    }
}

/// A user with the given role on `unix-engine` (or none), reached with a bearer token.
async fn person(app: &TestApp, username: &str, role: Option<Role>, admin: bool) -> Who {
    let user = app
        .accounts
        .create_user(username, PW, admin)
        .await
        .expect("user");
    if let Some(role) = role {
        app.accounts
            .set_grant("unix-engine", SubjectKind::User, user.id, role)
            .await
            .expect("grant");
    }
    let (_, secret) = app
        .accounts
        .create_token(user.id, "t", None)
        .await
        .expect("token");
    Who {
        bearer: format!("Bearer {secret}"),
    }
}

fn sleeper(name: &str) -> Value {
    json!({"image": env("CAPSTAN_TEST_IMAGE"), "name": name, "cmd": ["sleep", "600"], "start": true})
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    base
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_inspect_act_and_remove_with_the_role_matrix() {
    let app = TestApp::new().await;
    let admin = person(&app, "boss", None, true).await;
    let viewer = person(&app, "viewer", Some(Role::Viewer), false).await;
    let operator = person(&app, "operator", Some(Role::Operator), false).await;
    let manager = person(&app, "manager", Some(Role::Manager), false).await;
    let stranger = person(&app, "stranger", None, false).await;
    let name = unique("roles");
    let renamed = unique("renamed");
    let _clean = Cleanup(vec![('a', name.clone()), ('a', renamed.clone())]);
    let base = "/api/v1/hosts/unix-engine/containers";
    let port = free_port();

    let body = with(
        sleeper(&name),
        json!({"ports": [format!("127.0.0.1:{port}:80")], "env": ["API_TOKEN=abc", "MODE=x"], "volumes": ["/anon"], "labels": {"h1r": "yes"}}),
    );
    assert_eq!(
        app.send(Method::POST, base, &viewer.h(), Some(body.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(Method::POST, base, &operator.h(), Some(body.clone()))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(Method::POST, base, &stranger.h(), Some(body.clone()))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let made = app
        .send(Method::POST, base, &manager.h(), Some(body.clone()))
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let id = made.json()["id"].as_str().expect("id").to_string();
    assert_eq!(made.json()["name"], json!(name));
    assert!(made.json()["warnings"].is_array());
    assert_eq!(
        docker_at('a', &["inspect", "-f", "{{.State.Status}}", &name]).1,
        "running"
    );

    let again = app.send(Method::POST, base, &manager.h(), Some(body)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text());
    assert!(
        again.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("name"),
        "{}",
        again.text()
    );

    // Everyone with a grant lists and inspects.
    for who in [&viewer, &operator, &manager, &admin] {
        let list = app
            .get(&format!("{base}?all=true&q={name}"), &who.h())
            .await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        let items = list.json();
        assert_eq!(items.as_array().map(Vec::len), Some(1), "{items}");
        assert_eq!(items[0]["host"], "unix-engine");
        assert_eq!(items[0]["state"], "running");
        assert_eq!(
            items[0]["ports"][0],
            json!({"ip": "127.0.0.1", "private": 80, "public": port, "proto": "tcp"})
        );
        let detail = app.get(&format!("{base}/{name}"), &who.h()).await;
        assert_eq!(detail.status, StatusCode::OK, "{}", detail.text());
    }
    let detail = app.get(&format!("{base}/{id}"), &viewer.h()).await.json();
    assert_eq!(detail["name"], json!(name));
    assert_eq!(detail["host"], "unix-engine");
    let env_of = |k: &str| {
        detail["env"]
            .as_array()
            .and_then(|e| e.iter().find(|v| v["key"] == k).cloned())
            .expect("env var")
    };
    assert_eq!(env_of("API_TOKEN")["secret"], true);
    assert_eq!(env_of("MODE")["secret"], false);
    assert_eq!(detail["raw"]["Id"], json!(id));
    assert_eq!(
        app.get(&format!("{base}/{id}/spec"), &viewer.h())
            .await
            .json()["image"],
        json!(env("CAPSTAN_TEST_IMAGE"))
    );

    // No grant: the host and its containers do not exist.
    assert_eq!(
        app.get(base, &stranger.h()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&format!("{base}/{id}"), &stranger.h()).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(
            Method::POST,
            &format!("{base}/{id}/stop"),
            &stranger.h(),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let fleet = app
        .get("/api/v1/containers?all=true", &stranger.h())
        .await
        .json();
    assert_eq!(fleet, json!([]));

    // A viewer cannot operate; an operator can, but cannot remove or rename.
    assert_eq!(
        app.send(
            Method::POST,
            &format!("{base}/{id}/stop"),
            &viewer.h(),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        docker_at('a', &["inspect", "-f", "{{.State.Status}}", &name]).1,
        "running"
    );
    let ops = [
        ("pause", "paused"),
        ("pause", "paused"),
        ("unpause", "running"),
        ("unpause", "running"),
        ("restart?t=1", "running"),
        ("stop?t=1", "exited"),
        ("stop?t=1", "exited"),
        ("start", "running"),
        ("start", "running"),
        ("kill?signal=SIGKILL", "exited"),
    ];
    for (action, state) in ops {
        let r = app
            .send(
                Method::POST,
                &format!("{base}/{id}/{action}"),
                &operator.h(),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{action}: {}", r.text());
        assert_eq!(
            docker_at('a', &["inspect", "-f", "{{.State.Status}}", &name]).1,
            state,
            "after {action}"
        );
    }
    let kill = app
        .send(
            Method::POST,
            &format!("{base}/{id}/kill"),
            &operator.h(),
            None,
        )
        .await;
    assert_eq!(kill.status, StatusCode::CONFLICT, "{}", kill.text());
    assert_eq!(
        kill.json()["error"]["message"],
        "the container is not running"
    );
    let bad_t = app
        .send(
            Method::POST,
            &format!("{base}/{id}/stop?t=soon"),
            &operator.h(),
            None,
        )
        .await;
    assert_eq!(bad_t.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.send(Method::DELETE, &format!("{base}/{id}"), &operator.h(), None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let rename = Some(json!({"name": renamed}));
    assert_eq!(
        app.send(
            Method::POST,
            &format!("{base}/{id}/rename"),
            &operator.h(),
            rename.clone()
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(
            Method::POST,
            &format!("{base}/{id}/recreate"),
            &operator.h(),
            None
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // A manager renames and removes, with the anonymous volume.
    let r = app
        .send(
            Method::POST,
            &format!("{base}/{id}/rename"),
            &manager.h(),
            rename,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    assert_eq!(
        docker_at('a', &["inspect", "-f", "{{.Name}}", &id]).1,
        format!("/{renamed}")
    );
    let volume = docker_at(
        'a',
        &["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", &id],
    )
    .1;
    let bad = app
        .send(
            Method::DELETE,
            &format!("{base}/{id}?force=maybe"),
            &manager.h(),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("force"));
    let gone = app
        .send(
            Method::DELETE,
            &format!("{base}/{id}?force=true&volumes=true"),
            &manager.h(),
            None,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{}", gone.text());
    assert!(!docker_at('a', &["inspect", &id]).0);
    assert!(
        !docker_at('a', &["volume", "inspect", &volume]).0,
        "the anonymous volume went with it"
    );
    let missing = app.get(&format!("{base}/{id}"), &manager.h()).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["message"], "container not found");
    let missing = app
        .send(
            Method::POST,
            &format!("{base}/{id}/start"),
            &manager.h(),
            None,
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_field_is_a_422_that_names_it() {
    let app = TestApp::new().await;
    let admin = person(&app, "boss", None, true).await;
    let base = "/api/v1/hosts/unix-engine/containers";
    let image = env("CAPSTAN_TEST_IMAGE");
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "image"),
        (json!({"image": ""}), "image"),
        (json!({"image": "Not/Valid"}), "image"),
        (json!({"image": "a b"}), "image"),
        (json!({"image": image, "name": "-bad"}), "name"),
        (json!({"image": image, "name": "has space"}), "name"),
        (json!({"image": image, "env": ["NOVALUE"]}), "env"),
        (json!({"image": image, "env": ["=x"]}), "env"),
        (json!({"image": image, "ports": ["70000:80"]}), "ports"),
        (json!({"image": image, "ports": ["0:80"]}), "ports"),
        (json!({"image": image, "ports": ["8080:80/icmp"]}), "ports"),
        (
            json!({"image": image, "ports": ["2000-2002:3000-3001"]}),
            "ports",
        ),
        (
            json!({"image": image, "ports": ["999.1.1.1:80:80"]}),
            "ports",
        ),
        (json!({"image": image, "ports": "80"}), "ports"),
        (json!({"image": image, "volumes": ["data"]}), "volumes"),
        (
            json!({"image": image, "volumes": ["data:relative"]}),
            "volumes",
        ),
        (json!({"image": image, "volumes": ["/a:/b:xx"]}), "volumes"),
        (
            json!({"image": image, "volumes_from": ["x:rx"]}),
            "volumes_from",
        ),
        (json!({"image": image, "restart": "sometimes"}), "restart"),
        (
            json!({"image": image, "restart": "on-failure:x"}),
            "restart",
        ),
        (
            json!({"image": image, "restart": "always", "auto_remove": true}),
            "restart",
        ),
        (json!({"image": image, "memory": "lots"}), "memory"),
        (json!({"image": image, "memory": "1k"}), "memory"),
        (json!({"image": image, "cpus": 0}), "cpus"),
        (json!({"image": image, "cpus": -1}), "cpus"),
        (json!({"image": image, "cpus": 5000}), "cpus"),
        (json!({"image": image, "workdir": "relative"}), "workdir"),
        (json!({"image": image, "network": "no such/net"}), "network"),
        (json!({"image": image, "user": "a b"}), "user"),
        (json!({"image": image, "hostname": "-x"}), "hostname"),
        (json!({"image": image, "labels": {"": "v"}}), "labels"),
        (json!({"image": image, "tty": "yes"}), "tty"),
        (json!({"image": image, "port": ["80"]}), "port"),
    ];
    for (body, field) in cases {
        let r = app
            .send(Method::POST, base, &admin.h(), Some(body.clone()))
            .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            r.text()
        );
        let message = r.json()["error"]["message"]
            .as_str()
            .expect("message")
            .to_string();
        assert!(
            message.contains(field),
            "{body}: {message:?} should name {field}"
        );
    }
    let listed = app.get(&format!("{base}?state=sleeping"), &admin.h()).await;
    assert_eq!(listed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(listed.text().contains("state"));
    let listed = app.get("/api/v1/containers?sort=size", &admin.h()).await;
    assert_eq!(listed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(listed.text().contains("sort"));
    assert_eq!(
        app.get("/api/v1/hosts/nope/containers", &admin.h())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_list_spans_both_engines_and_notes_the_dead_one() {
    let app = TestApp::new().await;
    let admin = person(&app, "boss", None, true).await;
    let tag = unique("fleet");
    let on_a = format!("{tag}-a");
    let on_b = format!("{tag}-b");
    let stopped = format!("{tag}-c");
    let _clean = Cleanup(vec![
        ('a', on_a.clone()),
        ('b', on_b.clone()),
        ('a', stopped.clone()),
    ]);
    for (host, name, start) in [
        ("unix-engine", &on_a, true),
        ("tls-engine", &on_b, true),
        ("unix-engine", &stopped, false),
    ] {
        let body = with(
            sleeper(name),
            json!({"start": start, "labels": {"h1r-fleet": tag}}),
        );
        let r = app
            .send(
                Method::POST,
                &format!("/api/v1/hosts/{host}/containers"),
                &admin.h(),
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{host}: {}", r.text());
    }

    let r = app
        .get(
            &format!("/api/v1/containers?all=true&q={tag}&sort=name"),
            &admin.h(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let body = r.json();
    let names: Vec<(String, String)> = body
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| {
            (
                c["host"].as_str().unwrap_or_default().to_string(),
                c["name"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        names,
        vec![
            ("unix-engine".to_string(), on_a.clone()),
            ("tls-engine".to_string(), on_b.clone()),
            ("unix-engine".to_string(), stopped.clone())
        ]
    );
    // The dead host is named in a header; the body stays the array api.md promises.
    assert_eq!(
        r.headers
            .get("x-capstan-unreachable")
            .and_then(|v| v.to_str().ok()),
        Some("stopped-engine")
    );

    // Running only by default; engine-side state and label filters; our text filter.
    let running = app
        .get(&format!("/api/v1/containers?q={tag}"), &admin.h())
        .await
        .json();
    assert_eq!(running.as_array().map(Vec::len), Some(2), "{running}");
    let created = app
        .get(
            &format!("/api/v1/containers?state=created&label=h1r-fleet={tag}"),
            &admin.h(),
        )
        .await
        .json();
    let created: Vec<&Value> = created.as_array().expect("list").iter().collect();
    assert_eq!(created.len(), 1);
    assert_eq!(created[0]["name"], json!(stopped));
    let none = app
        .get(
            &format!("/api/v1/containers?all=true&label=h1r-fleet=other-{tag}"),
            &admin.h(),
        )
        .await
        .json();
    assert_eq!(none, json!([]));

    // A user who sees only one host gets only that host, and no notice about the others.
    let viewer = person(&app, "viewer", Some(Role::Viewer), false).await;
    let r = app
        .get(&format!("/api/v1/containers?all=true&q={tag}"), &viewer.h())
        .await;
    assert!(
        r.headers.get("x-capstan-unreachable").is_none(),
        "no notice about hosts the viewer cannot see"
    );
    let mine = r.json();
    assert!(
        mine.as_array()
            .expect("list")
            .iter()
            .all(|c| c["host"] == "unix-engine"),
        "{mine}"
    );
    assert_eq!(mine.as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_keeps_name_and_volumes_and_a_port_in_use_leaves_nothing() {
    let app = TestApp::new().await;
    let admin = person(&app, "boss", None, true).await;
    let base = "/api/v1/hosts/unix-engine/containers";
    let name = unique("recreate");
    let other = unique("portclash");
    let volume = unique("vol");
    let _clean = Cleanup(vec![
        ('a', name.clone()),
        ('a', other.clone()),
        ('v', volume.clone()),
    ]);
    let port = free_port();
    let body = with(
        sleeper(&name),
        json!({"ports": [format!("{port}:80")], "volumes": [format!("{volume}:/data")]}),
    );
    let first = app.send(Method::POST, base, &admin.h(), Some(body)).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let first_id = first.json()["id"].as_str().expect("id").to_string();
    docker_at('a', &["exec", &name, "sh", "-c", "echo kept > /data/f"]);

    let clash = app
        .send(
            Method::POST,
            base,
            &admin.h(),
            Some(with(
                sleeper(&other),
                json!({"ports": [format!("{port}:80")]}),
            )),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.text());
    assert!(clash.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .starts_with("ports"));
    assert!(
        !docker_at('a', &["inspect", &other]).0,
        "nothing left behind"
    );

    let second = app
        .send(
            Method::POST,
            &format!("{base}/{name}/recreate"),
            &admin.h(),
            None,
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
    let second = second.json();
    assert_eq!(second["name"], json!(name));
    assert_ne!(second["id"], json!(first_id));
    assert_eq!(docker_at('a', &["exec", &name, "cat", "/data/f"]).1, "kept");
    assert_eq!(
        docker_at('a', &["inspect", "-f", "{{.State.Status}}", &name]).1,
        "running"
    );
    assert!(!docker_at('a', &["inspect", &first_id]).0);
}

/// Audit entries whose action is `action`, as `GET /api/v1/audit` gives them to an admin.
async fn audit_entries(app: &TestApp, admin: &Who, action: &str) -> Vec<Value> {
    app.state.audit.flush().await;
    let res = app
        .get(&format!("/api/v1/audit?action={action}"), &admin.h())
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_with_a_spec_edits_under_the_same_name_and_a_failure_puts_the_old_one_back() {
    let app = TestApp::new().await;
    let admin = person(&app, "boss", None, true).await;
    let manager = person(&app, "manager", Some(Role::Manager), false).await;
    let operator = person(&app, "operator", Some(Role::Operator), false).await;
    let prefix = unique("edit");
    let name = format!("{prefix}-web");
    let blocker = format!("{prefix}-blocker");
    let _clean = Cleanup(vec![('a', name.clone()), ('a', blocker.clone())]);
    let base = "/api/v1/hosts/unix-engine/containers";
    let made = app
        .send(
            Method::POST,
            base,
            &manager.h(),
            Some(with(sleeper(&name), json!({"env": ["COLOUR=blue"]}))),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let first_id = made.json()["id"].as_str().expect("id").to_string();
    let url = format!("{base}/{name}/recreate");
    let state_of = |n: &str| docker_at('a', &["inspect", "-f", "{{.Id}} {{.State.Status}}", n]).1;

    // The form's prefill, with a changed variable.
    let mut spec = app
        .get(&format!("{base}/{name}/spec"), &manager.h())
        .await
        .json();
    spec["env"] = json!(["COLOUR=green"]);
    assert_eq!(
        app.send(
            Method::POST,
            &url,
            &operator.h(),
            Some(json!({"spec": spec}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Refused up front, nothing touched: a bad field, an unknown one, a guardrail, pull=false without a spec.
    let bad = app
        .send(
            Method::POST,
            &url,
            &manager.h(),
            Some(json!({"spec": with(spec.clone(), json!({"memory": "lots"}))})),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert!(
        bad.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("memory"),
        "{}",
        bad.text()
    );
    let unknown = app
        .send(
            Method::POST,
            &url,
            &manager.h(),
            Some(json!({"spec": spec, "pul": true})),
        )
        .await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.text()
    );
    assert!(unknown.text().contains("pul"), "{}", unknown.text());
    let privileged = app
        .send(
            Method::POST,
            &url,
            &manager.h(),
            Some(json!({"spec": with(spec.clone(), json!({"privileged": true}))})),
        )
        .await;
    assert_eq!(
        privileged.status,
        StatusCode::FORBIDDEN,
        "{}",
        privileged.text()
    );
    assert!(
        privileged.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("privileged"),
        "{}",
        privileged.text()
    );
    let no_pull = app
        .send(
            Method::POST,
            &url,
            &manager.h(),
            Some(json!({"pull": false})),
        )
        .await;
    assert_eq!(
        no_pull.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        no_pull.text()
    );
    assert_eq!(state_of(&name), format!("{first_id} running"));

    // A failure after the old one was stopped and renamed: the port is taken; it comes back.
    let made = app
        .send(
            Method::POST,
            base,
            &manager.h(),
            Some(with(sleeper(&blocker), json!({"ports": ["80"]}))),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let taken = docker_at('a', &["port", &blocker, "80/tcp"]).1;
    let taken = taken
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .expect("published port")
        .to_string();
    let clash = app
        .send(
            Method::POST,
            &url,
            &manager.h(),
            Some(json!({"spec": with(spec.clone(), json!({"ports": [format!("{taken}:80")]}))})),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT, "{}", clash.text());
    assert!(
        clash.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .starts_with("ports"),
        "{}",
        clash.text()
    );
    assert_eq!(
        state_of(&name),
        format!("{first_id} running"),
        "the old container is back, named and running"
    );
    let mine = docker_at(
        'a',
        &[
            "ps",
            "-a",
            "--filter",
            &format!("name={prefix}"),
            "--format",
            "{{.Names}}",
        ],
    )
    .1;
    let mut mine: Vec<&str> = mine.lines().collect();
    mine.sort_unstable();
    assert_eq!(
        mine,
        [blocker.as_str(), name.as_str()],
        "nothing else remains"
    );

    // The edit itself: same name, new settings, running like the old one.
    let edited = app
        .send(
            Method::POST,
            &url,
            &manager.h(),
            Some(json!({"spec": spec, "pull": false})),
        )
        .await;
    assert_eq!(edited.status, StatusCode::CREATED, "{}", edited.text());
    let edited = edited.json();
    assert_eq!(edited["name"], json!(name));
    assert!(edited["warnings"].is_array());
    let new_id = edited["id"].as_str().expect("id");
    assert_ne!(new_id, first_id);
    assert_eq!(state_of(&name), format!("{new_id} running"));
    let detail = app
        .get(&format!("{base}/{name}"), &manager.h())
        .await
        .json();
    assert!(
        detail["env"]
            .as_array()
            .expect("env")
            .iter()
            .any(|v| v["key"] == "COLOUR" && v["value"] == "green"),
        "{detail}"
    );
    assert!(
        !docker_at('a', &["inspect", &first_id]).0,
        "the old container is gone"
    );

    // No body at all is still the plain recreate.
    let plain = app.send(Method::POST, &url, &manager.h(), None).await;
    assert_eq!(plain.status, StatusCode::CREATED, "{}", plain.text());
    assert_eq!(plain.json()["name"], json!(name));

    // The audit log tells who recreated and edited it.
    let audited = audit_entries(&app, &admin, "container.recreate").await;
    let ok: Vec<&Value> = audited
        .iter()
        .filter(|e| e["object"] == json!(name) && e["status"] == 201)
        .collect();
    assert_eq!(ok.len(), 2, "{audited:?}");
    assert!(ok.iter().all(|e| e["username"] == "manager"), "{ok:?}");
    assert!(
        ok.iter()
            .any(|e| e["params"]["spec"]["env"] == json!(["COLOUR=green"])),
        "the edit's settings are recorded: {ok:?}"
    );
}
