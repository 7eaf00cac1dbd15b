//! Images on the private test engines and the local registry through `backend::engine`, and the
//! stored registry credentials. Everything made here is named `capstan-<test>-…` and removed.

use std::collections::BTreeMap;

use crate::common::{docker_a, env, tls_spec, unique, unix_spec};
use backend::engine::{Engine, Timeouts};
use backend::registries::{NewRegistry, Registries};
use backend::Error;
use futures::StreamExt;

struct Images(Vec<String>);

impl Drop for Images {
    fn drop(&mut self) {
        for i in &self.0 {
            let _ = std::process::Command::new("docker")
                .arg("-H")
                .arg(env("CAPSTAN_TEST_UNIX_URL"))
                .args(["rmi", "-f", i])
                .output();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_reports_layers_then_ends_and_the_image_is_there() {
    let engine = Engine::new(unix_spec(), Timeouts::default());
    let image = format!("{}/{}:v1", env("CAPSTAN_TEST_REGISTRY"), unique("bpull"));
    let _cleanup = Images(vec![image.clone()]);
    docker_a(&["tag", &env("CAPSTAN_TEST_IMAGE"), &image]);
    docker_a(&["push", &image]);
    docker_a(&["rmi", &image]);

    let mut stream = engine
        .pull_image_progress(&image, None)
        .await
        .expect("pull starts");
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.expect("no error mid-pull"));
    }
    assert!(
        events.iter().any(|e| e.id.is_some()),
        "layer events: {events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.status.starts_with("Status:") || e.status.starts_with("Digest:")),
        "{events:?}"
    );
    let detail = engine.inspect_image(&image).await.expect("pulled");
    assert!(detail.repo_tags.contains(&image));

    let missing = format!("{}/{}:v1", env("CAPSTAN_TEST_REGISTRY"), unique("none"));
    assert!(matches!(
        engine.pull_image_progress(&missing, None).await.err(),
        Some(Error::NotFound(_))
    ));
    assert!(
        matches!(engine.pull_image_progress("UPPER/case", None).await.err(), Some(Error::Invalid { field, .. }) if field == "image")
    );
}

/// A container of the test image writes `kib` KiB of random bytes into `file` and is committed
/// as `to`: one new layer that does not compress away.
fn add_layer(from: &str, file: &str, kib: u32, to: &str) {
    let work = unique("blayer-work");
    let script = format!("dd if=/dev/urandom of=/{file} bs=1024 count={kib} 2>/dev/null");
    docker_a(&["run", "--name", &work, from, "sh", "-c", &script]);
    docker_a(&["commit", &work, to]);
    docker_a(&["rm", &work]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_of_new_layers_reports_each_with_bytes() {
    // The engine speaks API 1.41: its progress must still carry layer ids and byte counts, the
    // UI's rows and bars are made of them.
    let engine = Engine::new(unix_spec(), Timeouts::default());
    let repo = format!("{}/{}", env("CAPSTAN_TEST_REGISTRY"), unique("blayers"));
    let (step, image) = (format!("{repo}:step"), format!("{repo}:v1"));
    let _cleanup = Images(vec![image.clone(), step.clone()]);
    add_layer(&env("CAPSTAN_TEST_IMAGE"), "one", 3072, &step);
    add_layer(&step, "two", 2048, &image);
    docker_a(&["push", &image]);
    docker_a(&["rmi", &image, &step]);

    let mut stream = engine
        .pull_image_progress(&image, None)
        .await
        .expect("pull starts");
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.expect("no error mid-pull"));
    }
    let layer_id = |id: &str| id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let completed: Vec<&str> = events
        .iter()
        .filter(|e| e.status == "Pull complete")
        .filter_map(|e| e.id.as_deref())
        .filter(|id| layer_id(id))
        .collect();
    assert_eq!(completed.len(), 2, "two new layers: {events:?}");
    for id in &completed {
        let sized = events.iter().any(|e| {
            e.id.as_deref() == Some(*id)
                && e.status == "Downloading"
                && e.current.is_some()
                && e.total.is_some_and(|t| t > 1024 * 1024)
        });
        assert!(
            sized,
            "layer {id} reports its bytes while downloading: {events:?}"
        );
        let first = events.iter().position(|e| e.id.as_deref() == Some(*id));
        let done = events
            .iter()
            .position(|e| e.id.as_deref() == Some(*id) && e.status == "Pull complete");
        assert!(first < done, "{id}: progress comes before the end");
    }
    assert!(engine.inspect_image(&image).await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tag_history_and_remove_on_both_engines() {
    for (slug, spec) in [("unix", unix_spec()), ("tls", tls_spec())] {
        let engine = Engine::new(spec, Timeouts::default());
        let repo = unique(&format!("btag-{slug}"));
        let tagged = format!("{repo}:v1");
        engine
            .tag_image(&env("CAPSTAN_TEST_IMAGE"), &repo, Some("v1"))
            .await
            .expect("tag");
        let list = engine.list_images(Some(false)).await.expect("list");
        let ours = list
            .iter()
            .find(|i| i.repo_tags.contains(&tagged))
            .expect("listed");
        assert!(!ours.dangling && ours.size > 0 && ours.created > 0);
        let history = engine.image_history(&tagged).await.expect("history");
        assert!(!history.is_empty());
        assert!(
            matches!(engine.tag_image(&tagged, "Bad", None).await, Err(Error::Invalid { field, .. }) if field == "repo")
        );
        let removed = engine.remove_image(&tagged, false).await.expect("untag");
        assert_eq!(removed.untagged, vec![tagged.clone()]);
        assert!(matches!(
            engine.inspect_image(&tagged).await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            engine.remove_image("../containers/json", false).await,
            Err(Error::NotFound(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_sealed_matched_by_registry_and_never_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = backend::store::open_for_test(dir.path())
        .await
        .expect("store");
    let registries = Registries::open(store.pool().clone(), dir.path()).expect("registries");
    let stored = registries
        .add(&NewRegistry {
            server: "https://Reg.Example.com:5000/".into(),
            username: "ci".into(),
            password: "tok3n".into(),
        })
        .await
        .expect("add");
    assert_eq!(stored.server, "reg.example.com:5000");
    assert!(matches!(
        registries
            .add(&NewRegistry {
                server: "reg.example.com:5000".into(),
                username: "x".into(),
                password: "y".into()
            })
            .await,
        Err(Error::Conflict(_))
    ));
    registries
        .add(&NewRegistry {
            server: "index.docker.io".into(),
            username: "hub".into(),
            password: "hubpw".into(),
        })
        .await
        .expect("hub");
    let auth = registries
        .auth_for("reg.example.com:5000/team/app:1")
        .await
        .expect("lookup")
        .expect("matched");
    assert_eq!(
        (auth.username.as_str(), auth.password.as_str()),
        ("ci", "tok3n")
    );
    let hub = registries
        .auth_for("library/busybox")
        .await
        .expect("lookup")
        .expect("hub matched");
    assert_eq!(
        (hub.server.as_str(), hub.password.as_str()),
        ("https://index.docker.io/v1/", "hubpw")
    );
    assert!(registries
        .auth_for("other.example.com/app")
        .await
        .expect("lookup")
        .is_none());
    let list = registries.list().await.expect("list");
    let servers: BTreeMap<String, String> = list
        .iter()
        .map(|r| (r.server.clone(), r.username.clone()))
        .collect();
    assert_eq!(servers.get("docker.io").map(String::as_str), Some("hub"));
    assert!(!format!("{auth:?}").contains("tok3n"));
    registries.remove(stored.id).await.expect("remove");
    assert!(matches!(
        registries.remove(stored.id).await,
        Err(Error::NotFound(_))
    ));
    assert!(registries
        .auth_for("reg.example.com:5000/team/app:1")
        .await
        .expect("lookup")
        .is_none());
}
