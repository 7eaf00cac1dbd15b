//! Guardrails through the REST API against engine a: a non-admin manager is refused privileged
//! containers, bind mounts outside the allowed prefixes (also through a `local` volume with
//! `o=bind`), the host's network, added capabilities and devices, until an admin allows them;
//! admins are never limited. Containers are created but not started, named `grd-<test>-<random>`.

mod common;

use std::process::Command;

use axum::http::{Method, StatusCode};
use backend::auth::SubjectKind;
use backend::policy::Role;
use common::*;
use serde_json::{json, Value};

fn unique(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("grd-{test}-{:08x}", nanos ^ std::process::id().rotate_left(16))
}

fn docker(args: &[&str]) -> bool {
    Command::new("docker").arg("-H").arg(env("CAPSTAN_TEST_UNIX_URL")).args(args).output().is_ok_and(|o| o.status.success())
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
    let res = app.send(Method::POST, "/api/v1/hosts/unix-engine/containers", &same(cookie), Some(spec)).await;
    let body = if res.body.is_empty() { Value::Null } else { res.json() };
    (res.status, body)
}

fn refused(res: &(StatusCode, Value), word: &str) {
    assert_eq!(res.0, StatusCode::FORBIDDEN, "{}", res.1);
    let message = res.1["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(word) && message.contains("guardrails"), "{message:?} should name {word}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_admins_are_held_by_the_hosts_guardrails_and_admins_are_not() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let mia = app.accounts.create_user("mia", PW, false).await.expect("user");
    app.accounts.set_grant("unix-engine", SubjectKind::User, mia.id, Role::Manager).await.expect("grant");
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
    let g = app.get("/api/v1/hosts/unix-engine/guardrails", &same(&root)).await;
    assert_eq!(g.status, StatusCode::OK);
    assert_eq!(g.json()["privileged"], false);
    assert_eq!(g.json()["bind_mounts"], "never");
    refused(&run(&app, &mia, spec(&names[0], json!({"privileged": true}))).await, "privileged");
    refused(&run(&app, &mia, spec(&names[0], json!({"volumes": ["/tmp:/mnt"]}))).await, "bind mount");
    refused(&run(&app, &mia, spec(&names[0], json!({"network": "host"}))).await, "network");
    refused(&run(&app, &mia, spec(&names[0], json!({"cap_add": ["NET_ADMIN"]}))).await, "capabilities");
    refused(&run(&app, &mia, spec(&names[0], json!({"devices": ["/dev/null:/dev/x"]}))).await, "devices");
    refused(&run(&app, &mia, spec(&names[0], json!({"pid": "host"}))).await, "PID");
    assert!(!docker(&["inspect", &names[0]]), "nothing was created");
    // A local volume whose options bind-mount a host path counts as a bind mount.
    assert!(docker(&["volume", "create", "-o", "type=none", "-o", "o=bind", "-o", "device=/tmp", &bind_volume]));
    refused(&run(&app, &mia, spec(&names[0], json!({"volumes": [format!("{bind_volume}:/data")]}))).await, "host path /tmp");
    // Plain named volumes are fine.
    let plain = run(&app, &mia, spec(&names[1], json!({"volumes": [format!("{}-data:/data", names[1])]}))).await;
    assert_eq!(plain.0, StatusCode::CREATED, "{}", plain.1);
    let _ = docker(&["rm", "-f", "-v", &names[1]]);
    let _ = docker(&["volume", "rm", "-f", &format!("{}-data", names[1])]);

    // Admins are never limited.
    let admin = run(&app, &root, spec(&names[2], json!({"privileged": true, "network": "host", "volumes": ["/tmp:/mnt"], "cap_add": ["NET_ADMIN"]}))).await;
    assert_eq!(admin.0, StatusCode::CREATED, "{}", admin.1);
    let inspect = app.get(&format!("/api/v1/hosts/unix-engine/containers/{}/spec", names[2]), &same(&root)).await.json();
    assert_eq!(inspect["privileged"], true);
    assert_eq!(inspect["cap_add"], json!(["NET_ADMIN"]));
    // A non-admin may not recreate it either: it would repeat what the guardrails refuse.
    let recreate = app.send(Method::POST, &format!("/api/v1/hosts/unix-engine/containers/{}/recreate", names[2]), &same(&mia), None).await;
    assert_eq!(recreate.status, StatusCode::FORBIDDEN, "{}", recreate.text());

    // Only admins set guardrails; bad input names its field.
    let by_mia = app.send(Method::PUT, "/api/v1/hosts/unix-engine/guardrails", &same(&mia), Some(json!({"privileged": true}))).await;
    assert_eq!(by_mia.status, StatusCode::FORBIDDEN);
    let bad = app.send(Method::PUT, "/api/v1/hosts/unix-engine/guardrails", &same(&root), Some(json!({"bind_mounts": "prefixes"}))).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("bind_prefixes"), "{}", bad.text());
    assert_eq!(app.get("/api/v1/hosts/nowhere/guardrails", &same(&root)).await.status, StatusCode::NOT_FOUND);
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
    let ok = run(&app, &mia, spec(&names[3], json!({"privileged": true, "network": "host", "volumes": ["/tmp/x:/mnt"]}))).await;
    assert_eq!(ok.0, StatusCode::CREATED, "{}", ok.1);
    refused(&run(&app, &mia, spec(&names[4], json!({"volumes": ["/etc:/mnt"]}))).await, "only under /tmp");
    refused(&run(&app, &mia, spec(&names[4], json!({"volumes": ["/tmp/../etc:/mnt"]}))).await, "bind mount");
    refused(&run(&app, &mia, spec(&names[4], json!({"cap_add": ["SYS_ADMIN"]}))).await, "capabilities");
    // The other host keeps its own (default) guardrails.
    let other = app.get("/api/v1/hosts/tls-engine/guardrails", &same(&root)).await.json();
    assert_eq!(other["privileged"], false);

    // Refusals are denials in the audit log.
    app.state.audit.flush().await;
    let rows = app.get("/api/v1/audit?user=mia&action=container.create&outcome=denied", &same(&root)).await.json();
    assert!(rows["entries"].as_array().is_some_and(|e| e.len() >= 8), "{rows}");
}
