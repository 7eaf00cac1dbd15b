//! The site's static bundle (`/pkg/*`: the wasm, its JS glue, the CSS) served precompressed.
//!
//! `CompressionLayer` compresses every response on the fly at a default quality: for the 4.9 MB
//! wasm that is ~110 ms of CPU per first load and a bigger download. Here each file is
//! compressed once per version (brotli quality 11 with the largest standard window, gzip 9) in
//! `spawn_blocking`, kept in memory, and answered with `Content-Encoding`, a strong `ETag` (a hash
//! of the raw file plus the encoding) and revalidation (`304` on `If-None-Match` or
//! `If-Modified-Since`). `CompressionLayer` leaves responses that already carry
//! `Content-Encoding` alone.
//!
//! A version is the file's (path, length, mtime), checked on every request, so a rebuilt bundle
//! is never served stale. One compression job runs per version (and one at a time overall, to
//! leave the other cores to requests); while it runs, requests fall through to the ordinary
//! handler. A file is compressed when it is first asked for, not at start: the wasm takes
//! ~10 s of a core and ~80 MB at its peak, which an idle server should not spend. Anything unusual falls through as well: other methods, `Range` requests, clients
//! that accept neither `br` nor `gzip`, names that are not a plain file name directly under the
//! pkg dir (no `..`, no `%`-encoding, no dot files), symlinks and other non-regular files, files
//! over [`MAX_FILE`], and types that do not compress (images, fonts).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Instant, SystemTime};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use leptos::config::LeptosOptions;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Files bigger than this are left to the ordinary handler.
pub const MAX_FILE: u64 = 32 * 1024 * 1024;

/// The bundle's names are not content-hashed: browsers may keep a copy but must revalidate it
/// (a cheap `304`) before use, so a new build is picked up at once.
const CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=0, must-revalidate");

/// Precompressed serving of the files directly under the site's pkg dir.
pub struct Assets {
    /// `/<pkg>/`, the URL prefix handled here.
    prefix: String,
    /// `<site root>/<pkg>`.
    dir: PathBuf,
}

impl Assets {
    pub fn new(options: &LeptosOptions) -> Arc<Assets> {
        let pkg = options.site_pkg_dir.trim_matches('/');
        Arc::new(Assets {
            prefix: format!("/{pkg}/"),
            dir: Path::new(&*options.site_root).join(pkg),
        })
    }

    /// The file a request path names, when it is a plain name directly under the pkg dir.
    fn file(&self, path: &str) -> Option<(PathBuf, Kind)> {
        let name = path.strip_prefix(&self.prefix)?;
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !plain {
            return None;
        }
        Some((self.dir.join(name), Kind::of(name)?))
    }
}

/// Middleware over the page router: answers `/pkg/*` from the precompressed cache when it can,
/// otherwise passes the request on (and marks the ordinary `/pkg/*` answers for revalidation).
pub async fn serve(State(assets): State<Arc<Assets>>, req: Request, next: Next) -> Response {
    if !req.uri().path().starts_with(&assets.prefix) {
        return next.run(req).await;
    }
    // Only `Sync` parts of the request are borrowed across the awaits (the body is not `Sync`).
    if let Some(res) = precompressed(&assets, req.method(), req.uri().path(), req.headers()).await {
        return res;
    }
    let mut res = next.run(req).await;
    if res.status() == StatusCode::OK && !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, CACHE_CONTROL);
    }
    res
}

async fn precompressed(
    assets: &Assets,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Option<Response> {
    let head = match *method {
        Method::GET => false,
        Method::HEAD => true,
        _ => return None,
    };
    if headers.contains_key(header::RANGE) {
        return None;
    }
    let encoding = Encoding::preferred(headers)?;
    let (path, kind) = assets.file(path)?;
    let version = Version::of_path(&path).await?;
    let variants = match lookup(&path, version) {
        Lookup::Ready(variants) => variants,
        Lookup::Pending => return None,
        Lookup::Missing => {
            start(path, version, kind);
            return None;
        }
    };
    let (body, etag) = match encoding {
        Encoding::Brotli => (variants.br.clone()?, &variants.etag_br),
        Encoding::Gzip => (variants.gz.clone()?, &variants.etag_gz),
    };
    Some(respond(headers, head, encoding, &variants, body, etag))
}

fn respond(
    request: &HeaderMap,
    head: bool,
    encoding: Encoding,
    variants: &Variants,
    body: Bytes,
    etag: &HeaderValue,
) -> Response {
    let not_modified = match request.get(header::IF_NONE_MATCH) {
        Some(tags) => etag_matches(tags, etag),
        None => request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .is_some_and(|since| variants.modified_secs <= since),
    };
    let mut res = Response::new(Body::empty());
    let h = res.headers_mut();
    h.insert(header::ETAG, etag.clone());
    h.insert(header::CACHE_CONTROL, CACHE_CONTROL);
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Some(modified) = &variants.last_modified {
        h.insert(header::LAST_MODIFIED, modified.clone());
    }
    if not_modified {
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        return res;
    }
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(variants.kind.content_type()),
    );
    h.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if !head {
        *res.body_mut() = Body::from(body);
    }
    res
}

/// `If-None-Match` (weak comparison, as RFC 9110 asks for it): `*` or any listed tag.
fn etag_matches(tags: &HeaderValue, etag: &HeaderValue) -> bool {
    let Ok(tags) = tags.to_str() else {
        return false;
    };
    let etag = etag.as_bytes();
    tags.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag).as_bytes() == etag)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }

    /// The client's preferred encoding among `br` and `gzip` by q-value (brotli on a tie);
    /// `None` when it accepts neither.
    fn preferred(headers: &HeaderMap) -> Option<Encoding> {
        let (mut br, mut gzip, mut any) = (None::<f32>, None::<f32>, None::<f32>);
        for value in headers.get_all(header::ACCEPT_ENCODING) {
            let Ok(value) = value.to_str() else { continue };
            for item in value.split(',') {
                let mut parts = item.split(';');
                let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                let mut q = 1.0_f32;
                for param in parts {
                    if let Some((k, v)) = param.split_once('=') {
                        if k.trim().eq_ignore_ascii_case("q") {
                            q = v.trim().parse().unwrap_or(0.0);
                        }
                    }
                }
                let slot = match coding.as_str() {
                    "br" => &mut br,
                    "gzip" | "x-gzip" => &mut gzip,
                    "*" => &mut any,
                    _ => continue,
                };
                *slot = Some(slot.map_or(q, |old| old.max(q)));
            }
        }
        let br = br.or(any).unwrap_or(0.0);
        let gzip = gzip.or(any).unwrap_or(0.0);
        if br <= 0.0 && gzip <= 0.0 {
            None
        } else if br >= gzip {
            Some(Encoding::Brotli)
        } else {
            Some(Encoding::Gzip)
        }
    }
}

/// The compressible types the bundle holds; anything else is left to the ordinary handler.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Wasm,
    Js,
    Css,
    Json,
    Html,
    Svg,
    Text,
}

impl Kind {
    fn of(name: &str) -> Option<Kind> {
        let (_, ext) = name.rsplit_once('.')?;
        Some(match ext.to_ascii_lowercase().as_str() {
            "wasm" => Kind::Wasm,
            "js" | "mjs" => Kind::Js,
            "css" => Kind::Css,
            "json" | "map" => Kind::Json,
            "html" => Kind::Html,
            "svg" => Kind::Svg,
            "txt" => Kind::Text,
            _ => return None,
        })
    }

    fn content_type(self) -> &'static str {
        match self {
            Kind::Wasm => "application/wasm",
            Kind::Js => "text/javascript",
            Kind::Css => "text/css",
            Kind::Json => "application/json",
            Kind::Html => "text/html; charset=utf-8",
            Kind::Svg => "image/svg+xml",
            Kind::Text => "text/plain; charset=utf-8",
        }
    }
}

/// One version of a file: what a rebuild changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    len: u64,
    modified: SystemTime,
}

impl Version {
    /// A regular file (not a symlink) within the size cap.
    fn of(meta: &std::fs::Metadata) -> Option<Version> {
        if !meta.file_type().is_file() || meta.len() > MAX_FILE {
            return None;
        }
        Some(Version {
            len: meta.len(),
            modified: meta.modified().ok()?,
        })
    }

    async fn of_path(path: &Path) -> Option<Version> {
        Version::of(&tokio::fs::symlink_metadata(path).await.ok()?)
    }
}

/// A file's compressed forms; an encoding that does not make the file smaller is left out.
struct Variants {
    kind: Kind,
    br: Option<Bytes>,
    gz: Option<Bytes>,
    etag_br: HeaderValue,
    etag_gz: HeaderValue,
    last_modified: Option<HeaderValue>,
    /// `Last-Modified` as it was sent (whole seconds), for `If-Modified-Since`.
    modified_secs: SystemTime,
}

enum Slot {
    Pending(Version),
    Ready(Version, Arc<Variants>),
}

/// The cache, shared by every router of the process (it is keyed by the file's path, and a
/// path's content is the same whoever serves it). It holds one entry per file of the pkg dirs
/// served: a new version replaces the old one.
static CACHE: LazyLock<Mutex<HashMap<PathBuf, Slot>>> = LazyLock::new(Mutex::default);

/// One compression at a time: brotli at quality 11 takes a core for seconds on the wasm.
static COMPRESSING: Semaphore = Semaphore::const_new(1);

enum Lookup {
    Ready(Arc<Variants>),
    Pending,
    /// Not cached at this version; the caller starts the job (the slot is marked pending).
    Missing,
}

fn lookup(path: &Path, version: Version) -> Lookup {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    match cache.get(path) {
        Some(Slot::Ready(v, variants)) if *v == version => return Lookup::Ready(variants.clone()),
        Some(Slot::Pending(v)) if *v == version => return Lookup::Pending,
        _ => {}
    }
    cache.insert(path.to_path_buf(), Slot::Pending(version));
    Lookup::Missing
}

/// Clears a pending slot that its job leaves without a result (failure, a file that changed
/// meanwhile, a runtime shut down mid-job), so a later request tries again.
struct PendingGuard {
    path: PathBuf,
    version: Version,
    done: bool,
}

impl PendingGuard {
    fn finish(mut self, variants: Option<Variants>) {
        self.done = true;
        let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
        let ours = matches!(cache.get(&self.path), Some(Slot::Pending(v)) if *v == self.version);
        if !ours {
            return;
        }
        match variants {
            Some(variants) => {
                cache.insert(
                    self.path.clone(),
                    Slot::Ready(self.version, Arc::new(variants)),
                );
            }
            None => {
                cache.remove(&self.path);
            }
        }
    }
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        if !self.done {
            let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
            if matches!(cache.get(&self.path), Some(Slot::Pending(v)) if *v == self.version) {
                cache.remove(&self.path);
            }
        }
    }
}

/// Compresses `path` at `version` in the background (its slot is already marked pending).
fn start(path: PathBuf, version: Version, kind: Kind) {
    let guard = PendingGuard {
        path: path.clone(),
        version,
        done: false,
    };
    tokio::spawn(async move {
        let Ok(_permit) = COMPRESSING.acquire().await else {
            return;
        };
        let started = Instant::now();
        let built = tokio::task::spawn_blocking(move || build(&path, version, kind)).await;
        let variants = match built {
            Ok(Ok(Some(variants))) => {
                tracing::debug!(
                    path = %guard.path.display(),
                    raw = version.len,
                    br = variants.br.as_ref().map(Bytes::len),
                    gzip = variants.gz.as_ref().map(Bytes::len),
                    ms = started.elapsed().as_millis() as u64,
                    "static file precompressed"
                );
                Some(variants)
            }
            Ok(Ok(None)) => None,
            Ok(Err(error)) => {
                tracing::warn!(path = %guard.path.display(), %error, "static file not precompressed");
                None
            }
            Err(error) => {
                tracing::warn!(path = %guard.path.display(), %error, "static file compression failed");
                None
            }
        };
        guard.finish(variants);
    });
}

/// Reads and compresses one version of a file; `None` when the file is no longer that version.
fn build(path: &Path, version: Version, kind: Kind) -> std::io::Result<Option<Variants>> {
    let file = std::fs::File::open(path)?;
    if Version::of(&file.metadata()?) != Some(version) {
        return Ok(None);
    }
    let mut raw = Vec::with_capacity(usize::try_from(version.len).unwrap_or(0));
    file.take(MAX_FILE + 1).read_to_end(&mut raw)?;
    // Changed while being read (a build writing it): the next request tries again.
    if raw.len() as u64 != version.len
        || Version::of(&std::fs::symlink_metadata(path)?) != Some(version)
    {
        return Ok(None);
    }

    let hash = Sha256::digest(&raw);
    let hash: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    let etag = |suffix: &str| HeaderValue::from_str(&format!("\"{hash}-{suffix}\""));

    // Quality 11, with a window that holds the file up to 2^21 (2 MiB): quality 11 keeps a
    // tree of 8 bytes per window byte, so a 2^24 window costs ~130 MB for seconds, and glibc
    // keeps much of it afterwards; beyond 2 MiB the wasm compresses only a few percent better.
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: window_bits(raw.len()),
        size_hint: raw.len(),
        ..Default::default()
    };
    let mut br = Vec::with_capacity(raw.len() / 3);
    brotli::BrotliCompress(&mut raw.as_slice(), &mut br, &params)?;

    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 3),
        flate2::Compression::best(),
    );
    gz.write_all(&raw)?;
    let gz = gz.finish()?;

    let smaller = |v: Vec<u8>| (v.len() < raw.len()).then(|| Bytes::from(v));
    let modified_secs = httpdate::HttpDate::from(version.modified);
    Ok(Some(Variants {
        kind,
        br: smaller(br),
        gz: smaller(gz),
        etag_br: etag("br").map_err(std::io::Error::other)?,
        etag_gz: etag("gz").map_err(std::io::Error::other)?,
        last_modified: HeaderValue::from_str(&modified_secs.to_string()).ok(),
        modified_secs: SystemTime::from(modified_secs),
    }))
}

/// The smallest brotli window (`lgwin`, 16..=21) that covers `len` bytes.
fn window_bits(len: usize) -> i32 {
    let mut bits = 16;
    // A window of 2^bits holds 2^bits - 16 bytes.
    while bits < 21 && (1_usize << bits) - 16 < len {
        bits += 1;
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Option<Encoding> {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).expect("header"),
        );
        Encoding::preferred(&h)
    }

    #[test]
    fn accept_encoding_picks_by_q_value_and_prefers_brotli() {
        assert_eq!(accept("gzip, deflate, br, zstd"), Some(Encoding::Brotli));
        assert_eq!(accept("gzip"), Some(Encoding::Gzip));
        assert_eq!(accept("br;q=0, gzip"), Some(Encoding::Gzip));
        assert_eq!(accept("br;q=0.5, gzip;q=0.8"), Some(Encoding::Gzip));
        assert_eq!(accept("*"), Some(Encoding::Brotli));
        assert_eq!(accept("*;q=0"), None);
        assert_eq!(accept("identity"), None);
        assert_eq!(accept("deflate, zstd"), None);
        assert_eq!(Encoding::preferred(&HeaderMap::new()), None);
    }

    #[test]
    fn only_plain_names_directly_under_pkg_are_served() {
        let assets = Assets {
            prefix: "/pkg/".into(),
            dir: PathBuf::from("/site/pkg"),
        };
        assert!(assets.file("/pkg/capstan.wasm").is_some());
        assert!(assets.file("/pkg/capstan_bg-1.js").is_some());
        for bad in [
            "/pkg/",
            "/pkg/..",
            "/pkg/../x.js",
            "/pkg/a/b.js",
            "/pkg/..%2fx.js",
            "/pkg/%2e%2e",
            "/pkg/.env.js",
            "/pkg/a\\b.js",
            "/pkg/logo.png",
            "/pkg/noext",
            "/other/x.js",
        ] {
            assert!(assets.file(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_brotli_window_covers_the_file_up_to_the_maximum() {
        assert_eq!(window_bits(0), 16);
        assert_eq!(window_bits(65_520), 16);
        assert_eq!(window_bits(65_521), 17);
        assert_eq!(window_bits(1_500_000), 21);
        assert_eq!(window_bits(100 << 20), 21);
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_star() {
        let etag = HeaderValue::from_static("\"abc-br\"");
        let m = |v: &'static str| etag_matches(&HeaderValue::from_static(v), &etag);
        assert!(m("\"abc-br\""));
        assert!(m("W/\"abc-br\""));
        assert!(m("\"x\", \"abc-br\""));
        assert!(m("*"));
        assert!(!m("\"abc-gz\""));
        assert!(!m("\"abc\""));
    }
}
