//! The server through its router (`oneshot`), against the private test engines: the API, the
//! server-rendered Hosts page, and the layers every response passes.

use crate::common::*;
use axum::http::{header, Method, StatusCode};

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_without_touching_engines() {
    let res = TestApp::new().await.get("/healthz", &[]).await;
    let (status, body) = (res.status, res.body);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["status"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_api_lists_every_engine_with_status() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let res = app.get("/api/v1/hosts", &[("cookie", &cookie)]).await;
    let (status, headers, body) = (res.status, res.headers, res.body);
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .starts_with("application/json"));
    let hosts = json(&body);
    let hosts = hosts.as_array().expect("array");
    assert_eq!(hosts.len(), 3);
    for (i, slug) in ["unix-engine", "tls-engine"].iter().enumerate() {
        let h = &hosts[i];
        assert_eq!(h["slug"], *slug);
        assert_eq!(h["status"], "up");
        assert!(h["error"].is_null());
        let e = &h["engine"];
        assert!(e["api_version"].as_str().expect("api").starts_with("1."));
        assert!(!e["engine_version"].as_str().expect("version").is_empty());
        assert_eq!(e["os_type"], "linux");
        assert!(e["containers_total"].is_u64() && e["containers_running"].is_u64());
    }
    assert_eq!(hosts[1]["tls"], true);
    let down = &hosts[2];
    assert_eq!(down["status"], "down");
    assert!(down["engine"].is_null());
    let error = down["error"].as_str().expect("error text");
    assert!(error.contains("connection refused"), "{error}");
    assert!(
        !error.contains("127.0.0.1"),
        "the reason is in words, without transport detail: {error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_api_paths_are_json_404s() {
    let res = TestApp::new().await.get("/api/v1/no-such-thing", &[]).await;
    let (status, body) = (res.status, res.body);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json(&body)["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_is_served_and_complete() {
    let app = TestApp::new().await;
    let res = app.get("/api/v1/openapi.json", &[]).await;
    assert_eq!(res.status, StatusCode::OK);
    let doc = json(&res.body);
    // What is served is what the router is built from.
    assert_eq!(doc, server::http::openapi::document());
    assert_eq!(doc["openapi"], "3.1.0");
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    let mut ids = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            let name = format!("{} {path}", method.to_uppercase());
            let id = op["operationId"].as_str().unwrap_or_default();
            if !ids.insert(id.to_string()) {
                problems.push(format!("{name}: operationId {id:?} is not unique"));
            }
            if op["summary"].as_str().is_none_or(str::is_empty) {
                problems.push(format!("{name}: no summary"));
            }
            let responses = op["responses"].as_object().expect("responses");
            if !responses.keys().any(|s| s.starts_with('2') || s == "101") {
                problems.push(format!("{name}: no success answer"));
            }
            // Every `{param}` of the path is declared as a path parameter.
            for param in path.split('{').skip(1).filter_map(|p| p.split('}').next()) {
                let declared = op["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["in"] == "path" && p["name"] == param));
                if !declared {
                    problems.push(format!("{name}: path parameter {param} undeclared"));
                }
            }
        }
    }
    // Every reference resolves to a schema of the document.
    let text = doc.to_string();
    for (i, _) in text.match_indices("#/components/schemas/") {
        let rest = &text[i + "#/components/schemas/".len()..];
        let name = &rest[..rest.find('"').unwrap_or(rest.len())];
        if !schemas.contains_key(name) {
            problems.push(format!("dangling reference to {name}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // The routes answer: each documented path reaches a handler, not the API's fallback.
    for (path, method) in api_routes() {
        let uri = format!(
            "/api/v1{}",
            path.replace("{host}", "h")
                .replace("{id}", "1")
                .replace("{user_id}", "1")
                .replace("{name}", "n")
        );
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let res = app.send(method.clone(), &uri, &[], None).await;
        assert!(
            !String::from_utf8_lossy(&res.body).contains("no such API endpoint"),
            "{method} {uri} is not routed"
        );
    }
}

fn api_routes() -> Vec<(String, &'static str)> {
    crate::common::api_routes()
}

/// docs/design/api.md lists every route the router serves, and nothing it does not: a line
/// `GET|POST /api/v1/hosts/{host}/{volumes|networks}` stands for each method and each choice,
/// and `·` puts two entries on one line.
#[test]
fn api_md_lists_exactly_the_routes() {
    let md = include_str!("../../../docs/design/api.md");
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    let mut listed = std::collections::BTreeSet::new();
    for line in md.lines() {
        for entry in line.split(" · ") {
            let mut words = entry.split_whitespace();
            let (Some(verbs), Some(path)) = (words.next(), words.next()) else {
                continue;
            };
            let verbs: Vec<&str> = verbs.split('|').collect();
            if !verbs.iter().all(|v| methods.contains(v)) || !path.starts_with("/api/v1/") {
                continue;
            }
            let path = path.split('?').next().unwrap_or(path);
            for path in expand(path) {
                for verb in &verbs {
                    listed.insert((
                        verb.to_string(),
                        path.trim_start_matches("/api/v1").to_string(),
                    ));
                }
            }
        }
    }
    let served: std::collections::BTreeSet<(String, String)> = api_routes()
        .into_iter()
        .map(|(path, method)| (method.to_uppercase(), path))
        .collect();
    let unlisted: Vec<_> = served.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&served).collect();
    assert!(
        unlisted.is_empty(),
        "served but not in api.md: {unlisted:#?}"
    );
    assert!(stale.is_empty(), "in api.md but not served: {stale:#?}");
}

/// `/a/{x|y}/b` → `/a/x/b`, `/a/y/b`; a `{name}` without `|` is a parameter and stays.
fn expand(path: &str) -> Vec<String> {
    let Some(start) = path.find('{') else {
        return vec![path.to_string()];
    };
    let end = path[start..].find('}').map_or(path.len(), |e| start + e);
    let (head, inner, tail) = (
        &path[..start],
        &path[start + 1..end],
        &path[(end + 1).min(path.len())..],
    );
    let choices: Vec<String> = if inner.contains('|') {
        inner.split('|').map(str::to_string).collect()
    } else {
        vec![format!("{{{inner}}}")]
    };
    choices
        .into_iter()
        .flat_map(|c| {
            expand(tail)
                .into_iter()
                .map(move |t| format!("{head}{c}{t}"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_page_is_rendered_on_the_server() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let res = app.get("/hosts", &[("cookie", &cookie)]).await;
    let (status, headers, body) = (res.status, res.headers, res.body);
    assert_eq!(status, StatusCode::OK);
    let html = String::from_utf8(body).expect("utf-8");
    assert!(html.contains("<title>Hosts · Capstan</title>"), "title");
    for slug in ["unix-engine", "tls-engine", "stopped-engine"] {
        assert!(
            html.contains(&format!("data-host=\"{slug}\"")),
            "{slug} row rendered"
        );
    }
    assert!(
        html.contains("connection refused"),
        "the down engine shows its reason"
    );
    assert!(html.contains("API 1."), "the API version is shown");

    // The hydration script runs under the CSP thanks to the nonce the header names.
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_string();
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP");
    assert!(nonce.len() >= 16);
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")),
        "inline script carries the nonce"
    );
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"));
    assert!(!csp.contains("unsafe-inline"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_has_security_headers_and_a_request_id() {
    let app = TestApp::new().await;
    for uri in ["/hosts", "/api/v1/hosts", "/healthz", "/nope", "/login"] {
        let headers = app.get(uri, &[]).await.headers;
        assert_eq!(headers["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(headers["referrer-policy"], "no-referrer", "{uri}");
        assert_eq!(headers["x-frame-options"], "DENY", "{uri}");
        assert!(
            headers.contains_key(header::CONTENT_SECURITY_POLICY),
            "{uri}"
        );
        assert!(headers.contains_key("x-request-id"), "{uri}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_pages_are_404_html() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let res = app.get("/no/such/page", &[("cookie", &cookie)]).await;
    let (status, headers, body) = (res.status, res.headers, res.body);
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .expect("ascii")
        .starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("There is no page at this address"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_redirects_to_hosts() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let res = app
        .get("/", &[("accept", "text/html"), ("cookie", &cookie)])
        .await;
    let (status, headers) = (res.status, res.headers);
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/hosts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_compressed() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let res = app
        .get(
            "/hosts",
            &[("accept-encoding", "gzip"), ("cookie", &cookie)],
        )
        .await;
    let (status, headers) = (res.status, res.headers);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_bodies_are_refused_with_413() {
    let app = TestApp::new().await;
    let big = "x".repeat(1024 * 1024);
    let res = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(serde_json::json!({"username": big, "password": "p"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text());
}
