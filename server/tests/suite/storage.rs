//! REST for volumes and networks over the router and the private test engines, checked against
//! the engine's own view. Everything made here is named `capstan-h7-…` and removed at the end.

use crate::common::{docker, env, must, people, unique, TestApp, SAME_ORIGIN};
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    volumes: Vec<String>,
    networks: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker(&["rm", "-f", c]);
        }
        for v in &self.volumes {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
        for n in &self.networks {
            let _ = docker(&["network", "rm", n]);
        }
    }
}

fn message(res: &crate::common::Resp) -> String {
    res.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn names(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|v| v[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_create_inspect_refuse_in_use_remove_and_prune() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let mut cleanup = Cleanup::default();
    let name = unique("vol");
    cleanup.volumes.push(name.clone());
    let base = "/api/v1/hosts/unix-engine/volumes";

    let res = app
        .send(
            Method::POST,
            base,
            &w,
            Some(json!({"name": name, "labels": {"capstan-h7": "yes"}})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    assert_eq!(created["driver"], "local");
    assert_eq!(created["labels"]["capstan-h7"], "yes");
    assert!(must(&["volume", "inspect", "--format", "{{.Name}}", &name]).contains(&name));

    let res = app
        .send(Method::POST, base, &w, Some(json!({"name": name})))
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    for (body, field) in [
        (json!({"name": "a"}), "name"),
        (json!({"name": "bad name"}), "name"),
        (
            json!({"name": unique("x"), "driver": "no such driver"}),
            "driver",
        ),
        (json!({"name": unique("x"), "labels": {"": "v"}}), "labels"),
    ] {
        let res = app.send(Method::POST, base, &w, Some(body.clone())).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            res.text()
        );
        assert!(message(&res).starts_with(field), "{body}: {}", res.text());
    }
    let missing_driver = unique("x");
    let res = app
        .send(
            Method::POST,
            base,
            &w,
            Some(json!({"name": missing_driver, "driver": "capstan-h7-nodriver"})),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(
        !docker(&["volume", "inspect", &missing_driver]).0,
        "nothing half-created"
    );

    // A container mounting it: listed, named in the refusal.
    let container = unique("user");
    cleanup.containers.push(container.clone());
    must(&[
        "create",
        "--name",
        &container,
        "-v",
        &format!("{name}:/data"),
        &env("CAPSTAN_TEST_IMAGE"),
        "true",
    ]);
    let res = app.get(&format!("{base}/{name}"), &[w[0]]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["containers"], json!([container]));
    let list = app.get(base, &[w[0]]).await.json();
    let ours = list
        .as_array()
        .expect("list")
        .iter()
        .find(|v| v["name"] == name.as_str())
        .expect("listed")
        .clone();
    assert_eq!(ours["containers"], json!([container]));
    assert_eq!(ours["host"], "unix-engine");
    let fleet = app.get("/api/v1/volumes", &[w[0]]).await.json();
    assert!(fleet
        .as_array()
        .expect("volumes")
        .iter()
        .any(|v| v["name"] == name.as_str()));

    let res = app
        .send(Method::DELETE, &format!("{base}/{name}"), &w, None)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    assert!(message(&res).contains(&container), "{}", res.text());
    must(&["rm", &container]);
    let res = app
        .send(Method::DELETE, &format!("{base}/{name}"), &w, None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert!(!docker(&["volume", "inspect", &name]).0);
    assert_eq!(
        app.get(&format!("{base}/{name}"), &[w[0]]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(Method::DELETE, &format!("{base}/{name}"), &w, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Prune, limited to a label of ours.
    let label = format!("capstan-h7-prune={:08x}", rand::random::<u32>());
    let (k, v) = label.split_once('=').expect("k=v");
    let doomed = unique("prune");
    cleanup.volumes.push(doomed.clone());
    let res = app
        .send(
            Method::POST,
            base,
            &w,
            Some(json!({"name": doomed, "labels": {k: v}})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let res = app
        .send(
            Method::POST,
            &format!("{base}/prune?label={label}"),
            &w,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["deleted"], json!([doomed]));
    assert!(!docker(&["volume", "inspect", &doomed]).0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_create_checks_connect_disconnect_and_remove() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let mut cleanup = Cleanup::default();
    let base = "/api/v1/hosts/unix-engine/networks";
    let name = unique("net");
    cleanup.networks.push(name.clone());
    let r = rand::random::<u16>();
    let (a, b) = (200 + (r % 50), (r >> 8) % 256);
    let subnet = format!("10.{a}.{b}.0/24");
    let gateway = format!("10.{a}.{b}.1");

    let res = app
        .send(Method::POST, base, &w, Some(json!({"name": name, "subnet": subnet, "gateway": gateway, "labels": {"capstan-h7": "yes"}})))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    assert_eq!(created["driver"], "bridge");
    assert_eq!(
        created["subnets"],
        json!([{"subnet": subnet, "gateway": gateway}])
    );
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(
        must(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
            &name
        ]),
        subnet
    );

    // Taken name, overlapping subnet, bad fields: nothing made.
    let res = app
        .send(Method::POST, base, &w, Some(json!({"name": name})))
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    let other = unique("net2");
    cleanup.networks.push(other.clone());
    let res = app
        .send(
            Method::POST,
            base,
            &w,
            Some(json!({"name": other, "subnet": format!("10.{a}.{b}.128/25")})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    assert!(message(&res).starts_with("subnet"), "{}", res.text());
    for (body, field) in [
        (json!({"name": other, "subnet": "10.1.2.0"}), "subnet"),
        (json!({"name": other, "subnet": "10.1.2.7/24"}), "subnet"),
        (
            json!({"name": other, "subnet": "10.251.0.0/24", "gateway": "10.252.0.1"}),
            "gateway",
        ),
        (json!({"name": other, "gateway": "10.251.0.1"}), "gateway"),
        (json!({"name": "bad name"}), "name"),
    ] {
        let res = app.send(Method::POST, base, &w, Some(body.clone())).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            res.text()
        );
        assert!(message(&res).starts_with(field), "{body}: {}", res.text());
    }
    assert!(
        !docker(&["network", "inspect", &other]).0,
        "nothing half-created"
    );

    // Connect a container (with an alias), see it on both sides, then disconnect.
    let container = unique("c");
    cleanup.containers.push(container.clone());
    must(&[
        "run",
        "-d",
        "--name",
        &container,
        &env("CAPSTAN_TEST_IMAGE"),
        "sleep",
        "600",
    ]);
    let res = app
        .send(
            Method::POST,
            &format!("{base}/{name}/connect"),
            &w,
            Some(json!({"container": container, "aliases": ["db"]})),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    let attached = must(&[
        "inspect",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &container,
    ]);
    assert!(attached.split_whitespace().any(|n| n == name), "{attached}");
    let res = app
        .send(
            Method::POST,
            &format!("{base}/{name}/connect"),
            &w,
            Some(json!({"container": container})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    let res = app.get(&format!("{base}/{id}"), &[w[0]]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let inspected = res.json();
    assert_eq!(
        names(&inspected["containers"], "name"),
        vec![container.clone()]
    );
    assert!(inspected["containers"][0]["ipv4"]
        .as_str()
        .is_some_and(|ip| ip.starts_with(&format!("10.{a}.{b}."))));
    let list = app.get(base, &[w[0]]).await.json();
    let ours = list
        .as_array()
        .expect("list")
        .iter()
        .find(|n| n["id"] == id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(names(&ours["containers"], "name"), vec![container.clone()]);
    let fleet = app.get("/api/v1/networks", &[w[0]]).await.json();
    assert!(fleet
        .as_array()
        .expect("networks")
        .iter()
        .any(|n| n["id"] == id.as_str()));

    let res = app
        .send(Method::DELETE, &format!("{base}/{name}"), &w, None)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    assert!(message(&res).contains(&container), "{}", res.text());
    for (uri, body, status) in [
        (
            format!("{base}/{name}/connect"),
            json!({"container": unique("nobody")}),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{base}/{}/connect", unique("nonet")),
            json!({"container": container}),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("{base}/{name}/connect"),
            json!({"container": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            format!("{base}/{name}/connect"),
            json!({"container": container, "aliases": ["no spaces"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let res = app.send(Method::POST, &uri, &w, Some(body.clone())).await;
        assert_eq!(res.status, status, "{uri} {body}: {}", res.text());
    }
    let res = app
        .send(
            Method::POST,
            &format!("{base}/{name}/disconnect"),
            &w,
            Some(json!({"container": container})),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    let attached = must(&[
        "inspect",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
        &container,
    ]);
    assert!(
        !attached.split_whitespace().any(|n| n == name),
        "{attached}"
    );
    let res = app
        .send(
            Method::POST,
            &format!("{base}/{name}/disconnect"),
            &w,
            Some(json!({"container": container})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());

    let res = app
        .send(Method::DELETE, &format!("{base}/{name}"), &w, None)
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
    assert!(!docker(&["network", "inspect", &name]).0);
    for builtin in ["bridge", "host", "none"] {
        let res = app
            .send(Method::DELETE, &format!("{base}/{builtin}"), &w, None)
            .await;
        assert_eq!(
            res.status,
            StatusCode::CONFLICT,
            "{builtin}: {}",
            res.text()
        );
    }

    // Prune, limited to a label of ours.
    let label = format!("capstan-h7-prune={:08x}", rand::random::<u32>());
    let (k, v) = label.split_once('=').expect("k=v");
    let doomed = unique("prune");
    cleanup.networks.push(doomed.clone());
    let res = app
        .send(
            Method::POST,
            base,
            &w,
            Some(json!({"name": doomed, "labels": {k: v}})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let res = app
        .send(
            Method::POST,
            &format!("{base}/prune?label={label}"),
            &w,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["deleted"], json!([doomed]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_look_strangers_see_nothing() {
    let app = TestApp::new().await;
    let (_root, viewer, stranger) = people(&app).await;
    let v = [("cookie", viewer.as_str()), SAME_ORIGIN];
    let s = [("cookie", stranger.as_str()), SAME_ORIGIN];

    for uri in [
        "/api/v1/hosts/unix-engine/volumes",
        "/api/v1/hosts/unix-engine/networks",
        "/api/v1/hosts/unix-engine/networks/bridge",
    ] {
        assert_eq!(app.get(uri, &[v[0]]).await.status, StatusCode::OK, "{uri}");
        assert_eq!(
            app.get(uri, &[s[0]]).await.status,
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    let name = unique("denied");
    for (method, uri, body) in [
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/volumes".to_owned(),
            Some(json!({"name": name})),
        ),
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/networks".to_owned(),
            Some(json!({"name": name})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/hosts/unix-engine/volumes/{name}"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/hosts/unix-engine/networks/{name}"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/networks/bridge/connect".to_owned(),
            Some(json!({"container": name})),
        ),
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/volumes/prune".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/networks/prune".to_owned(),
            None,
        ),
    ] {
        let res = app.send(method.clone(), &uri, &v, body.clone()).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "viewer {method} {uri}: {}",
            res.text()
        );
        let res = app.send(method.clone(), &uri, &s, body).await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "stranger {method} {uri}: {}",
            res.text()
        );
    }
    assert!(!docker(&["volume", "inspect", &name]).0 && !docker(&["network", "inspect", &name]).0);
    let fleet = app.get("/api/v1/networks", &[s[0]]).await.json();
    assert!(fleet.as_array().expect("networks").is_empty());
}
