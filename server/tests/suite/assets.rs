//! `/pkg/*` served precompressed: brotli and gzip from the in-memory cache, identity raw, a
//! rebuilt file never stale, revalidation with `ETag`/`304`, and nothing outside the pkg dir.

use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::common::TestApp;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use server::http::auth::{session_layer, SessionOptions};
use tower::ServiceExt;

/// A Capstan router whose site root is a temporary directory holding `pkg/`.
struct Site {
    _app: TestApp,
    site: tempfile::TempDir,
    router: Router,
}

impl Site {
    async fn new() -> Site {
        let app = TestApp::empty().await;
        let site = tempfile::tempdir().expect("site dir");
        std::fs::create_dir(site.path().join("pkg")).expect("pkg dir");
        let mut shared = (*app.state).clone();
        shared.leptos_options.site_root = site.path().to_string_lossy().into();
        let state = server::AppState::new(shared);
        let store = backend::store::open_for_test(app.dir.path())
            .await
            .expect("store");
        let sessions = session_layer(
            store.native(),
            app.dir.path(),
            SessionOptions {
                idle: Duration::from_secs(3600),
                secure: false,
            },
            state.shutdown.clone(),
        )
        .await
        .expect("sessions");
        let router = server::router(state, sessions)
            .layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 3], 4000))));
        Site {
            _app: app,
            site,
            router,
        }
    }

    fn pkg(&self, name: &str) -> PathBuf {
        self.site.path().join("pkg").join(name)
    }

    async fn request(&self, method: Method, uri: &str, headers: &[(&str, &str)]) -> Got {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let (parts, body) = res.into_parts();
        Got {
            status: parts.status,
            headers: parts.headers,
            body: body.collect().await.expect("body").to_bytes().to_vec(),
        }
    }

    async fn get(&self, uri: &str, headers: &[(&str, &str)]) -> Got {
        self.request(Method::GET, uri, headers).await
    }

    /// Asks for `uri` with `accept` until the precompressed answer (it carries an `ETag`)
    /// comes; every answer meanwhile must decode to `raw` too.
    async fn precompressed(&self, uri: &str, accept: &str, raw: &[u8]) -> Got {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let got = self.get(uri, &[("accept-encoding", accept)]).await;
            assert_eq!(got.status, StatusCode::OK, "{uri}");
            assert!(
                got.decoded() == raw,
                "{uri} with {accept}: other bytes than the file"
            );
            if got.headers.contains_key(header::ETAG) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "{uri} never served precompressed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

struct Got {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(&name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body with its `Content-Encoding` undone.
    fn decoded(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self.header(header::CONTENT_ENCODING) {
            "" => out.clone_from(&self.body),
            "br" => {
                brotli::Decompressor::new(self.body.as_slice(), 4096)
                    .read_to_end(&mut out)
                    .expect("valid brotli");
            }
            "gzip" => {
                flate2::read::GzDecoder::new(self.body.as_slice())
                    .read_to_end(&mut out)
                    .expect("valid gzip");
            }
            other => panic!("unexpected content-encoding {other}"),
        }
        out
    }
}

/// Something shaped like a bundle: compressible, but not trivially.
fn bundle(tag: &str, lines: usize) -> Vec<u8> {
    (0..lines)
        .map(|i| {
            format!(
                "function {tag}_{i}(x) {{ return x * {} + {}; }}\n",
                i % 97,
                i * 7919 % 1013
            )
        })
        .collect::<String>()
        .into_bytes()
}

fn write(path: &Path, bytes: &[u8], modified: SystemTime) {
    std::fs::write(path, bytes).expect("write");
    std::fs::File::options()
        .write(true)
        .open(path)
        .and_then(|f| f.set_modified(modified))
        .expect("set mtime");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn brotli_and_gzip_come_precompressed_and_identity_raw() {
    let site = Site::new().await;
    let wasm = bundle("wasm", 6000);
    let js = bundle("js", 500);
    std::fs::write(site.pkg("capstan.wasm"), &wasm).expect("wasm");
    std::fs::write(site.pkg("capstan.js"), &js).expect("js");

    let br = site
        .precompressed("/pkg/capstan.wasm", "gzip, deflate, br", &wasm)
        .await;
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    assert_eq!(br.header(header::CONTENT_TYPE), "application/wasm");
    assert_eq!(br.header(header::CONTENT_LENGTH), br.body.len().to_string());
    assert!(br
        .header(header::VARY)
        .to_ascii_lowercase()
        .contains("accept-encoding"));
    assert!(br.header(header::CACHE_CONTROL).contains("must-revalidate"));
    assert!(!br.header(header::CACHE_CONTROL).contains("immutable"));
    assert!(!br.header(header::LAST_MODIFIED).is_empty());
    assert!(
        br.body.len() * 5 < wasm.len(),
        "brotli 11 shrinks it: {} of {}",
        br.body.len(),
        wasm.len()
    );

    let gz = site.precompressed("/pkg/capstan.wasm", "gzip", &wasm).await;
    assert_eq!(gz.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(gz.header(header::CONTENT_LENGTH), gz.body.len().to_string());
    assert_ne!(
        gz.header(header::ETAG),
        br.header(header::ETAG),
        "one ETag per representation"
    );
    // Same tags for the same file: the hash of its bytes.
    assert!(
        gz.header(header::ETAG).trim_end_matches("-gz\"")
            == br.header(header::ETAG).trim_end_matches("-br\"")
    );

    let refused = site
        .get(
            "/pkg/capstan.wasm",
            &[("accept-encoding", "br;q=0, gzip;q=0")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::OK);
    assert_eq!(refused.header(header::CONTENT_ENCODING), "");
    assert!(refused.body == wasm);

    let identity = site.get("/pkg/capstan.wasm", &[]).await;
    assert_eq!(identity.status, StatusCode::OK);
    assert_eq!(identity.header(header::CONTENT_ENCODING), "");
    assert!(identity.body == wasm);
    assert!(identity
        .header(header::CACHE_CONTROL)
        .contains("must-revalidate"));

    let head = site
        .request(
            Method::HEAD,
            "/pkg/capstan.wasm",
            &[("accept-encoding", "br")],
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(
        head.header(header::CONTENT_LENGTH),
        br.body.len().to_string()
    );
    assert!(head.body.is_empty());

    let js_br = site.precompressed("/pkg/capstan.js", "br", &js).await;
    assert_eq!(js_br.header(header::CONTENT_ENCODING), "br");
    assert_eq!(js_br.header(header::CONTENT_TYPE), "text/javascript");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etag_and_last_modified_revalidate_with_304() {
    let site = Site::new().await;
    let js = bundle("etag", 800);
    std::fs::write(site.pkg("capstan.js"), &js).expect("js");
    let first = site.precompressed("/pkg/capstan.js", "br", &js).await;
    let etag = first.header(header::ETAG).to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong ETag: {etag}"
    );

    let same = site
        .get(
            "/pkg/capstan.js",
            &[("accept-encoding", "br"), ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert!(same.body.is_empty());
    assert_eq!(same.header(header::ETAG), etag);

    let listed = format!("\"other\", W/{etag}");
    let weak = site
        .get(
            "/pkg/capstan.js",
            &[("accept-encoding", "br"), ("if-none-match", &listed)],
        )
        .await;
    assert_eq!(weak.status, StatusCode::NOT_MODIFIED);

    let other = site
        .get(
            "/pkg/capstan.js",
            &[("accept-encoding", "br"), ("if-none-match", "\"stale\"")],
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(other.decoded() == js);

    let since = first.header(header::LAST_MODIFIED).to_owned();
    let unchanged = site
        .get(
            "/pkg/capstan.js",
            &[("accept-encoding", "br"), ("if-modified-since", &since)],
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_file_is_never_served_stale() {
    let site = Site::new().await;
    let path = site.pkg("capstan.wasm");
    let t0 = SystemTime::now() - Duration::from_secs(3600);
    let v1 = bundle("one", 3000);
    write(&path, &v1, t0);
    let first = site.precompressed("/pkg/capstan.wasm", "br", &v1).await;

    // Another length.
    let v2 = bundle("second", 3500);
    write(&path, &v2, t0);
    let got = site
        .get("/pkg/capstan.wasm", &[("accept-encoding", "br")])
        .await;
    assert!(
        got.decoded() == v2,
        "the old build was served after a rebuild"
    );
    let second = site.precompressed("/pkg/capstan.wasm", "br", &v2).await;
    assert_ne!(second.header(header::ETAG), first.header(header::ETAG));
    let old_tag = site
        .get(
            "/pkg/capstan.wasm",
            &[
                ("accept-encoding", "br"),
                ("if-none-match", first.header(header::ETAG)),
            ],
        )
        .await;
    assert_eq!(old_tag.status, StatusCode::OK);
    assert!(old_tag.decoded() == v2);

    // The same length, only the mtime tells.
    let v3 = bundle("third_", 3500);
    assert_eq!(v3.len(), v2.len());
    write(&path, &v3, t0 + Duration::from_secs(60));
    let got = site
        .get("/pkg/capstan.wasm", &[("accept-encoding", "br")])
        .await;
    assert!(
        got.decoded() == v3,
        "the old build was served after a same-size rebuild"
    );
    let third = site.precompressed("/pkg/capstan.wasm", "br", &v3).await;
    assert_ne!(third.header(header::ETAG), second.header(header::ETAG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_outside_the_pkg_dir_and_no_images_are_served_precompressed() {
    let site = Site::new().await;
    let secret = bundle("secret", 200);
    std::fs::write(site.site.path().join("secret.js"), &secret).expect("secret");
    std::fs::create_dir(site.pkg("sub")).expect("sub");
    std::fs::write(site.pkg("sub").join("x.js"), &secret).expect("nested");
    let body_has_secret = |got: &Got| {
        let text = String::from_utf8_lossy(&got.decoded()).into_owned();
        text.contains("secret_1(")
    };
    for uri in [
        "/pkg/../secret.js",
        "/pkg/..%2fsecret.js",
        "/pkg/%2e%2e/secret.js",
        "/pkg/%2e%2e%2fsecret.js",
        "/pkg/..%5csecret.js",
    ] {
        for _ in 0..2 {
            let got = site.get(uri, &[("accept-encoding", "br")]).await;
            assert_eq!(got.status, StatusCode::NOT_FOUND, "{uri}");
            assert!(!body_has_secret(&got), "{uri} served a file outside pkg");
        }
    }
    // Nested files are the ordinary handler's business: never from the cache.
    for _ in 0..3 {
        let nested = site
            .get("/pkg/sub/x.js", &[("accept-encoding", "br")])
            .await;
        assert!(!nested.headers.contains_key(header::ETAG));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Images do not compress: they go out as they are.
    let png: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(site.pkg("logo.png"), &png).expect("png");
    for _ in 0..3 {
        let got = site
            .get("/pkg/logo.png", &[("accept-encoding", "br")])
            .await;
        assert_eq!(got.status, StatusCode::OK);
        assert_eq!(got.header(header::CONTENT_ENCODING), "");
        assert!(!got.headers.contains_key(header::ETAG));
        assert!(got.body == png);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let missing = site
        .get("/pkg/nope.wasm", &[("accept-encoding", "br")])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
