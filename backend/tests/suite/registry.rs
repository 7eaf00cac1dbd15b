//! The host registry against the private engines: connection tests that explain failures,
//! sealed TLS keys, persistence across restarts, live add/replace/remove in the fleet, the
//! first-start `local` host, and grants removed with their host.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::env;
use backend::auth::{Accounts, SubjectKind};
use backend::engine::Timeouts;
use backend::fleet::{Fleet, Health};
use backend::hosts::{HostPatch, NewHost, Registry, TlsPem};
use backend::policy::Role;
use backend::store::Store;
use backend::Error;

fn pem(dir: &str, file: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(&env(dir)).join(file)).expect("pem readable")
}

fn client_tls() -> TlsPem {
    TlsPem {
        ca: pem("CAPSTAN_TEST_TLS_DIR", "ca.pem"),
        cert: pem("CAPSTAN_TEST_TLS_DIR", "cert.pem"),
        key: pem("CAPSTAN_TEST_TLS_DIR", "key.pem"),
    }
}

fn new_host(slug: &str, url: String, tls: Option<TlsPem>) -> NewHost {
    NewHost {
        slug: slug.into(),
        name: String::new(),
        url,
        labels: BTreeMap::new(),
        tls,
    }
}

async fn open(dir: &std::path::Path) -> (Store, Fleet, Registry) {
    let store = backend::store::open_for_test(dir).await.expect("store");
    let fleet = Fleet::new(
        vec![],
        Timeouts {
            call: Duration::from_secs(3),
        },
        Duration::from_secs(3),
    )
    .expect("fleet");
    let registry = Registry::open(store.clone(), fleet.clone(), dir).expect("registry");
    registry.load().await.expect("load");
    (store, fleet, registry)
}

fn invalid_field(err: Error) -> (String, String) {
    match err {
        Error::Invalid { field, message } => (field, message),
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_are_tested_saved_sealed_and_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, fleet, registry) = open(dir.path()).await;

    let unix = registry
        .create(new_host("a-unix", env("CAPSTAN_TEST_UNIX_URL"), None))
        .await
        .expect("unix host added");
    assert_eq!(
        (unix.name.as_str(), unix.tls.is_none()),
        ("a-unix", true),
        "the name defaults to the slug"
    );
    let tls = registry
        .create(NewHost {
            name: "Build box".into(),
            labels: BTreeMap::from([("env".into(), "ci".into())]),
            ..new_host("b-tls", env("CAPSTAN_TEST_TLS_URL"), Some(client_tls()))
        })
        .await
        .expect("TLS host added");
    let public = tls.tls.expect("tls part");
    assert!(public.cert_fingerprint.expect("fingerprint").contains(':'));
    assert_eq!(crate::common::all_hosts(&fleet).len(), 2);
    for slug in ["a-unix", "b-tls"] {
        let status = fleet
            .status_of(&crate::common::host_of(&fleet, slug).expect("in fleet"))
            .await;
        assert!(
            matches!(status.health, Health::Up { .. }),
            "{slug} is up: {:?}",
            status.health
        );
    }

    // The database alone does not reveal the key.
    let key_body = client_tls()
        .key
        .lines()
        .nth(1)
        .expect("key has a body line")
        .to_string();
    let db = if store.database().is_postgres() {
        // Every byte the hosts table holds, as the database returns it.
        let rows: Vec<(String, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT COALESCE(tls_ca, '') || COALESCE(tls_cert, ''), tls_key_sealed FROM hosts",
        )
        .fetch_all(store.pool())
        .await
        .expect("rows");
        let mut all = Vec::new();
        for (pem, key) in rows {
            all.extend(pem.into_bytes());
            all.extend(key.unwrap_or_default());
        }
        all
    } else {
        store.pool().close().await;
        let mut db = std::fs::read(dir.path().join("capstan.db")).expect("db");
        if let Ok(wal) = std::fs::read(dir.path().join("capstan.db-wal")) {
            db.extend(wal);
        }
        db
    };
    let db = String::from_utf8_lossy(&db);
    assert!(
        db.contains("BEGIN CERTIFICATE"),
        "certificates are stored as PEM"
    );
    assert!(
        !db.contains("PRIVATE KEY") && !db.contains(&key_body),
        "the private key is not stored in the clear"
    );

    // A restart (new store, fleet and registry over the same data directory) brings both back.
    drop(registry);
    let (_store, fleet, registry) = open(dir.path()).await;
    let slugs: Vec<String> = crate::common::all_hosts(&fleet)
        .into_iter()
        .map(|h| h.slug)
        .collect();
    assert_eq!(slugs, ["a-unix", "b-tls"]);
    let b = crate::common::host_of(&fleet, "b-tls").expect("b");
    assert_eq!(b.name, "Build box");
    assert_eq!(b.labels.get("env").map(String::as_str), Some("ci"));
    let status = fleet.status_of(&b).await;
    assert!(
        matches!(status.health, Health::Up { .. }),
        "the unsealed key still works: {:?}",
        status.health
    );
    // The unsealed key stays in memory: no file in the temporary directory or the data
    // directory holds it in the clear while the host is connected.
    let leaked = files_holding(&std::env::temp_dir(), &key_body)
        .into_iter()
        .chain(files_holding(dir.path(), &key_body))
        .collect::<Vec<_>>();
    assert!(leaked.is_empty(), "plaintext key files: {leaked:?}");

    // Without the data directory's key the sealed key cannot be opened: the host is down
    // with a message that says what to fix, and nothing else breaks.
    std::fs::remove_file(dir.path().join(backend::hosts::KEY_FILE)).expect("remove key");
    drop(registry);
    let (_store, fleet, _registry) = open(dir.path()).await;
    let status = fleet
        .status_of(&crate::common::host_of(&fleet, "b-tls").expect("b"))
        .await;
    match status.health {
        Health::Down { error } => assert!(error.contains("paste the client key again"), "{error}"),
        up => panic!("b-tls cannot be up without its key: {up:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_connection_tests_say_what_to_fix_and_save_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, fleet, registry) = open(dir.path()).await;
    let good = client_tls();
    let rogue = |f: &str| pem("CAPSTAN_TEST_ROGUE_TLS_DIR", f);

    let cases: Vec<(&str, NewHost, &str, &str)> = vec![
        (
            "refused",
            new_host("x1", env("CAPSTAN_TEST_REFUSED_URL"), None),
            "url",
            "connection refused",
        ),
        (
            "no socket",
            new_host("x2", env("CAPSTAN_TEST_MISSING_URL"), None),
            "url",
            "no Docker socket",
        ),
        (
            "unknown CA",
            new_host(
                "x3",
                env("CAPSTAN_TEST_TLS_URL"),
                Some(TlsPem {
                    ca: rogue("ca.pem"),
                    ..good.clone()
                }),
            ),
            "tls",
            "not signed by the configured CA",
        ),
        (
            "bad client certificate",
            new_host(
                "x4",
                env("CAPSTAN_TEST_TLS_URL"),
                Some(TlsPem {
                    ca: good.ca.clone(),
                    cert: rogue("cert.pem"),
                    key: rogue("key.pem"),
                }),
            ),
            "tls",
            "rejected the client certificate",
        ),
        (
            "plain http to the TLS port",
            new_host("x5", env("CAPSTAN_TEST_TLS_URL"), None),
            "url",
            "TLS",
        ),
        (
            "not a URL",
            new_host("x6", "docker.example:2376".into(), None),
            "url",
            "tcp://",
        ),
        (
            "CA is not PEM",
            new_host(
                "x7",
                env("CAPSTAN_TEST_TLS_URL"),
                Some(TlsPem {
                    ca: "hello".into(),
                    ..good.clone()
                }),
            ),
            "tls.ca",
            "PEM",
        ),
        (
            "key is not PEM",
            new_host(
                "x8",
                env("CAPSTAN_TEST_TLS_URL"),
                Some(TlsPem {
                    key: "nope".into(),
                    ..good.clone()
                }),
            ),
            "tls.key",
            "PEM",
        ),
        (
            "TLS on a socket",
            new_host("x9", env("CAPSTAN_TEST_UNIX_URL"), Some(good.clone())),
            "tls",
            "tcp://",
        ),
        (
            "bad slug",
            new_host("Not OK", env("CAPSTAN_TEST_UNIX_URL"), None),
            "slug",
            "lowercase",
        ),
        (
            "bad label",
            NewHost {
                labels: BTreeMap::from([("bad key".into(), "v".into())]),
                ..new_host("x10", env("CAPSTAN_TEST_UNIX_URL"), None)
            },
            "labels",
            "label key",
        ),
    ];
    for (what, host, field, words) in cases {
        let (f, message) = invalid_field(registry.create(host).await.expect_err(what));
        assert_eq!(f, field, "{what}: {message}");
        assert!(
            message.contains(words),
            "{what}: {message:?} should mention {words:?}"
        );
    }
    let hanging = crate::common::hanging_engine().await;
    let (f, message) = invalid_field(
        registry
            .create(new_host("x11", format!("tcp://{hanging}"), None))
            .await
            .expect_err("hangs"),
    );
    assert_eq!(f, "url");
    assert!(message.contains("did not answer within"), "{message}");
    assert!(
        crate::common::all_hosts(&fleet).is_empty(),
        "nothing was saved"
    );

    registry
        .create(new_host("dup", env("CAPSTAN_TEST_UNIX_URL"), None))
        .await
        .expect("first");
    let err = registry
        .create(new_host("dup", env("CAPSTAN_TEST_UNIX_URL"), None))
        .await
        .expect_err("second");
    assert!(
        matches!(err, Error::Conflict(ref m) if m.contains("already exists")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_tested_live_and_removal_takes_the_grants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, fleet, registry) = open(dir.path()).await;
    fleet.spawn_monitor(
        Duration::from_millis(200),
        tokio_util::sync::CancellationToken::new(),
    );
    registry
        .create(new_host("edit-me", env("CAPSTAN_TEST_UNIX_URL"), None))
        .await
        .expect("added");

    // The monitor picks a new host up without a restart.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while fleet.snapshot_of("edit-me").is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the monitor never probed the new host"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Name and labels change without a connection test; a bad address is refused and the
    // host stays as it was.
    let patch = HostPatch {
        name: Some("Edited".into()),
        labels: Some(BTreeMap::from([("site".into(), "fra".into())])),
        ..HostPatch::default()
    };
    let record = registry.update("edit-me", patch).await.expect("renamed");
    assert_eq!(record.name, "Edited");
    let err = registry
        .update(
            "edit-me",
            HostPatch {
                url: Some(env("CAPSTAN_TEST_REFUSED_URL")),
                ..HostPatch::default()
            },
        )
        .await
        .expect_err("refused");
    assert_eq!(invalid_field(err).0, "url");
    assert_eq!(
        crate::common::host_of(&fleet, "edit-me")
            .expect("still there")
            .engine_url()
            .to_owned(),
        env("CAPSTAN_TEST_UNIX_URL")
    );

    // Moving the host to the TLS engine: tested, then the fleet probes the new engine.
    let record = registry
        .update(
            "edit-me",
            HostPatch {
                url: Some(env("CAPSTAN_TEST_TLS_URL")),
                tls: Some(Some(client_tls())),
                ..HostPatch::default()
            },
        )
        .await
        .expect("moved to TLS");
    assert!(record.tls.is_some());
    let status = fleet
        .status_of(&crate::common::host_of(&fleet, "edit-me").expect("host"))
        .await;
    assert!(
        matches!(status.health, Health::Up { .. }),
        "{:?}",
        status.health
    );
    // Replacing only the name keeps the sealed key working.
    registry
        .update(
            "edit-me",
            HostPatch {
                name: Some("Again".into()),
                ..HostPatch::default()
            },
        )
        .await
        .expect("renamed");
    let status = fleet
        .status_of(&crate::common::host_of(&fleet, "edit-me").expect("host"))
        .await;
    assert!(
        matches!(status.health, Health::Up { .. }),
        "{:?}",
        status.health
    );

    // Removing the host removes its grants and its guardrails.
    let accounts = Accounts::new(store.clone());
    let user = accounts
        .create_user("grantee", "a long enough password", false)
        .await
        .expect("user");
    accounts
        .set_grant("edit-me", SubjectKind::User, user.id, Role::Operator)
        .await
        .expect("grant");
    assert_eq!(
        accounts.grants_on("edit-me").await.expect("grants").len(),
        1
    );
    let guardrails = backend::guardrails::GuardrailStore::new(store.pool().clone());
    let open_rails = backend::guardrails::Guardrails {
        privileged: true,
        cap_add: vec!["NET_ADMIN".into()],
        ..Default::default()
    };
    guardrails
        .set("edit-me", open_rails.clone())
        .await
        .expect("guardrails set");
    assert_eq!(guardrails.get("edit-me").await.expect("read"), open_rails);
    registry.remove("edit-me").await.expect("removed");
    assert!(
        accounts
            .grants_on("edit-me")
            .await
            .expect("grants")
            .is_empty(),
        "grants went with the host"
    );
    assert_eq!(
        guardrails.get("edit-me").await.expect("read"),
        backend::guardrails::Guardrails::default(),
        "a host added later under the same name starts with everything refused"
    );
    assert!(crate::common::host_of(&fleet, "edit-me").is_err());
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        fleet.snapshot_of("edit-me").is_none(),
        "the removed host's probe stopped"
    );
    assert!(matches!(
        registry.remove("edit-me").await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_local_engine_is_registered_on_the_first_start_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_store, fleet, registry) = open(dir.path()).await;
    let url = env("CAPSTAN_TEST_UNIX_URL");
    assert_eq!(
        registry
            .register_local_once(Some((url.clone(), None)))
            .await
            .expect("first"),
        Some(url.clone())
    );
    registry.load().await.expect("load");
    assert_eq!(
        crate::common::host_of(&fleet, "local")
            .expect("local")
            .engine_url()
            .to_owned(),
        url
    );
    // An admin removes it; the next start does not bring it back.
    registry.remove("local").await.expect("removed");
    assert_eq!(
        registry
            .register_local_once(Some((url, None)))
            .await
            .expect("second"),
        None
    );
    registry.load().await.expect("load");
    assert!(crate::common::host_of(&fleet, "local").is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_line_hosts_are_read_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = backend::store::open_for_test(dir.path())
        .await
        .expect("store");
    let fleet = Fleet::new(
        vec![backend::fleet::HostConfig::new(
            "pinned",
            "pinned",
            crate::common::unix_spec(),
        )],
        Timeouts::default(),
        Duration::from_secs(3),
    )
    .expect("fleet");
    let registry = Registry::open(store, fleet.clone(), dir.path()).expect("registry");
    let err = registry
        .create(new_host("pinned", env("CAPSTAN_TEST_UNIX_URL"), None))
        .await
        .expect_err("taken");
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    let err = registry.remove("pinned").await.expect_err("read-only");
    assert!(
        matches!(err, Error::Conflict(ref m) if m.contains("--engine")),
        "{err:?}"
    );
    let err = registry
        .update(
            "pinned",
            HostPatch {
                name: Some("x".into()),
                ..HostPatch::default()
            },
        )
        .await
        .expect_err("read-only");
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(
        registry.get("pinned").await.expect("get").source,
        backend::fleet::HostSource::Config
    );
}

/// Regular files under `root` (not following symlinks, at most 1 MiB each) whose bytes contain
/// `needle`; directories that cannot be read (other users') are skipped.
fn files_holding(root: &std::path::Path, needle: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                todo.push(path);
            } else if kind.is_file()
                && entry.metadata().is_ok_and(|m| m.len() <= 1 << 20)
                && std::fs::read(&path)
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}
