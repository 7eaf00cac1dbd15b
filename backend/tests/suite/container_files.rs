//! top, diff, commit, export and the file browser against the private test engines. Every
//! container and image here has a unique `capstan-h3-` name and is removed when the test ends.

use std::io::Read;
use std::process::Command;

use crate::common::{env, tls_spec, unix_spec};
use backend::engine::{
    spool, ChangeKind, CommitOptions, Engine, EngineSpec, FileKind, Spooled, SpooledBody, Timeouts,
    UploadContent,
};
use backend::Error;
use bytes::Bytes;
use futures::StreamExt;

/// The docker CLI against one of the test engines.
fn docker(spec: &EngineSpec, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("docker");
    cmd.arg("-H").arg(&spec.url);
    if let Some(backend::engine::Tls::Files(tls)) = &spec.tls {
        cmd.arg("--tlsverify")
            .arg("--tlscacert")
            .arg(&tls.ca)
            .arg("--tlscert")
            .arg(&tls.cert)
            .arg("--tlskey")
            .arg(&tls.key);
    }
    let out = cmd.args(args).output().expect("docker CLI runs");
    let text = if out.status.success() {
        &out.stdout
    } else {
        &out.stderr
    };
    (
        out.status.success(),
        String::from_utf8_lossy(text).trim().to_string(),
    )
}

fn must(spec: &EngineSpec, args: &[&str]) -> String {
    let (ok, text) = docker(spec, args);
    assert!(ok, "docker {args:?}: {text}");
    text
}

/// A busybox container running `sleep 600`, removed (with any images listed) on drop.
struct Scratch {
    spec: EngineSpec,
    name: String,
    images: Vec<String>,
}

impl Scratch {
    fn start(spec: EngineSpec, test: &str) -> Scratch {
        let name = format!("capstan-h3-{test}-{:08x}", rand::random::<u32>());
        must(
            &spec,
            &[
                "run",
                "-d",
                "--name",
                &name,
                &env("CAPSTAN_TEST_IMAGE"),
                "sleep",
                "600",
            ],
        );
        Scratch {
            spec,
            name,
            images: Vec::new(),
        }
    }

    fn engine(&self) -> Engine {
        Engine::new(self.spec.clone(), Timeouts::default())
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = docker(&self.spec, &["rm", "-f", &self.name]);
        for image in &self.images {
            let _ = docker(&self.spec, &["rmi", "-f", image]);
        }
    }
}

async fn spooled(data: Vec<u8>, limit: u64) -> Spooled {
    let dir = tempfile::tempdir().expect("tempdir");
    // Several chunks, as a request body arrives.
    let chunks: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(1000)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    spool(futures::stream::iter(chunks), limit, dir.path())
        .await
        .expect("spool")
}

async fn ready(data: Vec<u8>) -> SpooledBody {
    match spooled(data, 1 << 20).await {
        Spooled::Ready(body) => body,
        Spooled::TooLarge => panic!("within the limit"),
    }
}

async fn upload_file(engine: &Engine, container: &str, dir: &str, name: &str, data: &[u8]) {
    let target = engine.upload_target(container, dir).await.expect("target");
    engine
        .archive_upload(
            &target,
            UploadContent::File { name: name.into() },
            ready(data.to_vec()).await,
        )
        .await
        .expect("upload");
}

async fn collect(mut stream: backend::engine::ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    out
}

/// (path, contents) of every regular file in a tar.
fn tar_files(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = tar::Archive::new(tar);
    let mut files = Vec::new();
    for entry in archive.entries().expect("a tar") {
        let mut entry = entry.expect("an entry");
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let mut data = Vec::new();
        if entry.header().entry_type().is_file() {
            entry.read_to_end(&mut data).expect("read");
        }
        files.push((path, data));
    }
    files
}

/// A tar with `passwd`, `nested/deep/file` and `nested-link -> nested/deep`, built in memory for the test.
fn etc_tar() -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("passwd", &b"root:x:0:0:root:/root:/bin/sh\n"[..]),
        ("nested/deep/file", &b"deep\n"[..]),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o640);
        header.set_mtime(1_700_000_000);
        builder
            .append_data(&mut header, path, data)
            .expect("append");
    }
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_mode(0o777);
    link.set_size(0);
    builder
        .append_link(&mut link, "nested-link", "nested/deep")
        .expect("link");
    builder.into_inner().expect("tar")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_lists_the_sleep_and_a_stopped_container_is_a_conflict() {
    let c = Scratch::start(unix_spec(), "top");
    let engine = c.engine();
    let top = engine.container_top(&c.name, None).await.expect("top");
    assert!(
        top.titles.iter().any(|t| t == "CMD" || t == "COMMAND"),
        "{:?}",
        top.titles
    );
    assert!(
        top.rows.iter().any(|r| r.join(" ").contains("sleep 600")),
        "{:?}",
        top.rows
    );
    let custom = engine
        .container_top(&c.name, Some("-o pid,comm"))
        .await
        .expect("top with ps_args");
    assert_eq!(custom.titles, ["PID", "COMMAND"]);

    assert!(
        matches!(engine.container_top(&c.name, Some("aux; id")).await, Err(Error::Invalid { ref field, .. }) if field == "ps_args")
    );
    assert!(
        matches!(engine.container_top("capstan-h3-no-such-container", None).await, Err(Error::NotFound(ref w)) if w == "container")
    );
    must(&c.spec, &["stop", "-t", "0", &c.name]);
    match engine.container_top(&c.name, None).await {
        Err(Error::Conflict(m)) => assert_eq!(m, "container is not running"),
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_shows_in_changes_and_commit_keeps_it() {
    let c = Scratch::start(unix_spec(), "commit");
    let engine = c.engine();
    upload_file(
        &engine,
        &c.name,
        "/etc",
        "hello.txt",
        b"hello from capstan\n",
    )
    .await;

    let changes = engine.container_changes(&c.name).await.expect("changes");
    assert!(
        changes
            .iter()
            .any(|ch| ch.path == "/etc/hello.txt" && ch.kind == ChangeKind::Added),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|ch| ch.path == "/etc" && ch.kind == ChangeKind::Changed),
        "{changes:?}"
    );

    let repo = format!("capstan-h3/commit-{:08x}", rand::random::<u32>());
    let reference = format!("{repo}:v1");
    let options = CommitOptions {
        repo: repo.clone(),
        tag: Some("v1".into()),
        author: Some("Capstan Test <test@example.org>".into()),
        message: Some("adds hello.txt".into()),
        pause: true,
    };
    let mut c = c;
    c.images.push(reference.clone());
    let image_id = engine
        .commit_container(&c.name, &options)
        .await
        .expect("commit");
    assert!(image_id.starts_with("sha256:"), "{image_id}");
    let inspected = must(
        &c.spec,
        &[
            "image",
            "inspect",
            "--format",
            "{{.Id}}|{{.Author}}|{{.Comment}}|{{json .Config.Cmd}}",
            &reference,
        ],
    );
    assert_eq!(
        inspected,
        format!("{image_id}|Capstan Test <test@example.org>|adds hello.txt|[\"sleep\",\"600\"]")
    );
    // The image runs and has the file.
    let out = must(
        &c.spec,
        &["run", "--rm", &reference, "cat", "/etc/hello.txt"],
    );
    assert_eq!(out, "hello from capstan");

    // Invalid names are refused before the engine is asked.
    let bad = CommitOptions {
        repo: "Not/Valid".into(),
        ..options.clone()
    };
    assert!(
        matches!(engine.commit_container(&c.name, &bad).await, Err(Error::Invalid { ref field, .. }) if field == "repo")
    );
    let bad = CommitOptions {
        tag: Some("-x".into()),
        ..options
    };
    assert!(
        matches!(engine.commit_container(&c.name, &bad).await, Err(Error::Invalid { ref field, .. }) if field == "tag")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_is_a_tar_with_busybox() {
    let c = Scratch::start(unix_spec(), "export");
    let engine = c.engine();
    let download = engine.export_container(&c.name).await.expect("export");
    assert_eq!(download.filename, format!("{}.tar", c.name));
    let tar = collect(download.stream).await;
    let files = tar_files(&tar);
    let busybox = files
        .iter()
        .find(|(p, _)| p == "bin/busybox")
        .expect("bin/busybox in the export");
    assert!(
        busybox.1.len() > 100_000,
        "busybox is {} bytes",
        busybox.1.len()
    );

    assert!(
        matches!(engine.export_container("capstan-h3-no-such-container").await, Err(Error::NotFound(ref w)) if w == "container")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_shows_files_dirs_and_links_on_a_stopped_container_too() {
    let c = Scratch::start(unix_spec(), "list");
    let engine = c.engine();
    let target = engine.upload_target(&c.name, "/etc").await.expect("target");
    engine
        .archive_upload(&target, UploadContent::Tar, ready(etc_tar()).await)
        .await
        .expect("upload tar");

    for round in ["running", "stopped"] {
        let listing = engine
            .list_container_dir(&c.name, "/etc/")
            .await
            .expect("listing");
        assert_eq!(listing.path, "/etc");
        assert!(!listing.truncated);
        let passwd = listing
            .entries
            .iter()
            .find(|e| e.name == "passwd")
            .unwrap_or_else(|| panic!("{round}: {listing:?}"));
        assert_eq!(
            (passwd.kind, passwd.size, passwd.mode, passwd.modified),
            (FileKind::File, 30, 0o640, 1_700_000_000)
        );
        let nested = listing
            .entries
            .iter()
            .find(|e| e.name == "nested")
            .expect("nested");
        assert_eq!(nested.kind, FileKind::Dir);
        // Only direct children: nothing from inside nested/.
        assert!(listing
            .entries
            .iter()
            .all(|e| !e.name.contains('/') && e.name != "deep" && e.name != "file"));
        let mtab = listing
            .entries
            .iter()
            .find(|e| e.name == "mtab")
            .expect("mtab");
        assert_eq!(
            (mtab.kind, mtab.link_target.as_deref()),
            (FileKind::Symlink, Some("/proc/mounts"))
        );
        // Folders first.
        assert_eq!(listing.entries[0].kind, FileKind::Dir);
        must(&c.spec, &["stop", "-t", "0", &c.name]);
    }

    // A file may not replace a folder.
    let target = engine.upload_target(&c.name, "/etc").await.expect("target");
    let clash = engine
        .archive_upload(
            &target,
            UploadContent::File {
                name: "nested".into(),
            },
            ready(b"x".to_vec()).await,
        )
        .await;
    assert!(matches!(clash, Err(Error::Conflict(_))), "{clash:?}");

    let bin = engine
        .list_container_dir(&c.name, "/bin")
        .await
        .expect("/bin");
    assert!(bin
        .entries
        .iter()
        .any(|e| e.name == "busybox" && e.kind == FileKind::File && e.size > 100_000));

    // A link to a folder lists the folder.
    let linked = engine
        .list_container_dir(&c.name, "/etc/nested-link")
        .await
        .expect("link");
    assert_eq!(linked.path, "/etc/nested-link");
    assert!(
        linked
            .entries
            .iter()
            .any(|e| e.name == "file" && e.kind == FileKind::File),
        "{linked:?}"
    );
    let root = engine.list_container_dir(&c.name, "/").await.expect("/");
    assert!(
        root.entries
            .iter()
            .any(|e| e.name == "etc" && e.kind == FileKind::Dir),
        "{root:?}"
    );

    assert!(
        matches!(engine.list_container_dir(&c.name, "/no/such/dir").await, Err(Error::NotFound(ref w)) if w == "path")
    );
    assert!(
        matches!(engine.list_container_dir(&c.name, "/etc/passwd").await, Err(Error::Invalid { ref field, .. }) if field == "path")
    );
    assert!(
        matches!(engine.list_container_dir(&c.name, "/etc/../root").await, Err(Error::Invalid { ref field, .. }) if field == "path")
    );
    assert!(
        matches!(engine.list_container_dir(&c.name, "etc").await, Err(Error::Invalid { ref field, .. }) if field == "path")
    );
    assert!(
        matches!(engine.list_container_dir("capstan-h3-no-such-container", "/").await, Err(Error::NotFound(ref w)) if w == "container")
    );
    assert!(
        matches!(engine.list_container_dir("../../images/json", "/").await, Err(Error::NotFound(ref w)) if w == "container")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_round_trips_over_tls_and_bad_uploads_write_nothing() {
    let c = Scratch::start(tls_spec(), "roundtrip");
    let engine = c.engine();
    // A name long enough to need the GNU long-name entry; binary content across chunks.
    let name = format!("{}.bin", "long-name-".repeat(12));
    let data: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    upload_file(&engine, &c.name, "/etc/", &name, &data).await;

    let download = engine
        .archive_download(&c.name, &format!("/etc/{name}"))
        .await
        .expect("download");
    // The download's name is the file's, cut to 100 characters for the header.
    assert_eq!(download.filename, format!("{}.tar", &name[..100]));
    let files = tar_files(&collect(download.stream).await);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].0, name);
    assert!(files[0].1 == data, "content differs");

    // A folder downloads as a tar of the folder.
    let folder = tar_files(
        &collect(
            engine
                .archive_download(&c.name, "/etc")
                .await
                .expect("folder")
                .stream,
        )
        .await,
    );
    assert!(
        folder.iter().any(|(p, _)| p == &format!("etc/{name}")),
        "{:?}",
        folder.iter().map(|f| &f.0).collect::<Vec<_>>()
    );

    // Over the limit: the spool stops and nothing reaches the engine.
    assert!(matches!(
        spooled(vec![7u8; 5000], 4096).await,
        Spooled::TooLarge
    ));
    // A tar that climbs out of the folder is refused before the engine sees it.
    let mut evil = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(4);
    header.set_mode(0o644);
    // `append_data` refuses `..`; write the name into the header directly.
    header.as_gnu_mut().expect("gnu").name[..16].copy_from_slice(b"../capstan-evil\0");
    header.set_cksum();
    evil.append(&header, &b"evil"[..]).expect("append");
    let target = engine.upload_target(&c.name, "/etc").await.expect("target");
    let refused = engine
        .archive_upload(
            &target,
            UploadContent::Tar,
            ready(evil.into_inner().expect("tar")).await,
        )
        .await;
    assert!(
        matches!(refused, Err(Error::Invalid { ref field, .. }) if field == "body"),
        "{refused:?}"
    );
    let garbage = engine
        .archive_upload(
            &target,
            UploadContent::Tar,
            ready(b"not a tar at all".repeat(100)).await,
        )
        .await;
    assert!(
        matches!(garbage, Err(Error::Invalid { ref field, .. }) if field == "body"),
        "{garbage:?}"
    );
    let changes = engine.container_changes(&c.name).await.expect("changes");
    assert!(
        changes.iter().all(|ch| !ch.path.contains("capstan-evil")),
        "{changes:?}"
    );

    assert!(
        matches!(engine.upload_target(&c.name, "/no/such/dir").await, Err(Error::NotFound(ref w)) if w == "path")
    );
    assert!(
        matches!(engine.upload_target(&c.name, "/etc/..").await, Err(Error::Invalid { ref field, .. }) if field == "path")
    );
    assert!(
        matches!(engine.upload_target(&c.name, &format!("/etc/{name}")).await, Err(Error::Invalid { ref field, .. }) if field == "path")
    );
    let bad_name = engine
        .archive_upload(
            &target,
            UploadContent::File { name: "a/b".into() },
            ready(b"x".to_vec()).await,
        )
        .await;
    assert!(matches!(bad_name, Err(Error::Invalid { ref field, .. }) if field == "name"));
    assert!(
        matches!(engine.archive_download(&c.name, "/etc/missing").await, Err(Error::NotFound(ref w)) if w == "path")
    );
}
