//! Backups, restores and copies between databases, on a real SQLite file and the test
//! environment's PostgreSQL (`CAPSTAN_TEST_PG_URL`): every kind of record comes back as it was,
//! a target that holds records is refused, and a restore replaces what changed since.

use std::path::Path;

use crate::common::PW;
use backend::audit::{Audit, Filter, Outcome, Record};
use backend::auth::{Accounts, SubjectKind};
use backend::guardrails::{GuardrailStore, Guardrails};
use backend::policy::Role;
use backend::registries::{NewRegistry, Registries};
use backend::store::transfer;
use backend::store::{Database, Store};
use backend::teams::Teams;

/// Everything the stores hold, read back through their own APIs.
async fn contents(store: &Store, dir: &Path) -> String {
    let accounts = Accounts::new(store.clone());
    let teams = Teams::new(&accounts);
    let mut out = Vec::new();
    for u in accounts.list_users().await.expect("users") {
        out.push(format!("{u:?}"));
        out.push(format!(
            "{:?}",
            accounts.list_tokens(u.id).await.expect("tokens")
        ));
    }
    for t in teams.list().await.expect("teams") {
        out.push(format!("{t:?}"));
    }
    out.push(format!(
        "{:?}",
        accounts.grants_on("h1").await.expect("grants")
    ));
    let registries = Registries::open(store.pool().clone(), dir).expect("registries");
    out.push(format!(
        "{:?}",
        registries.list().await.expect("registries")
    ));
    out.push(format!(
        "{:?}",
        registries
            .auth_for("registry.example.com/app:1")
            .await
            .expect("auth")
    ));
    out.push(format!(
        "{:?}",
        GuardrailStore::new(store.pool().clone())
            .get("h1")
            .await
            .expect("rails")
    ));
    let audit = backend::audit::query_in(store.pool(), &Filter::default())
        .await
        .expect("audit");
    out.push(format!("{audit:?}"));
    out.join("\n")
}

/// A store with one of everything.
async fn fill(store: &Store, dir: &Path) {
    let accounts = Accounts::new(store.clone());
    let ann = accounts.create_user("Ann", PW, true).await.expect("ann");
    let bob = accounts.create_user("bob", PW, false).await.expect("bob");
    accounts
        .create_token(ann.id, "ci", Some(30))
        .await
        .expect("token");
    let teams = Teams::new(&accounts);
    let web = teams.create("Web").await.expect("team");
    teams.add_member(web.id, bob.id).await.expect("member");
    accounts
        .set_grant("h1", SubjectKind::Team, web.id, Role::Operator)
        .await
        .expect("grant");
    accounts
        .set_grant("h1", SubjectKind::User, bob.id, Role::Viewer)
        .await
        .expect("grant");
    Registries::open(store.pool().clone(), dir)
        .expect("registries")
        .add(&NewRegistry {
            server: "registry.example.com".into(),
            username: "puller".into(),
            password: "s3cret".into(),
        })
        .await
        .expect("credential");
    GuardrailStore::new(store.pool().clone())
        .set(
            "h1",
            Guardrails {
                privileged: true,
                cap_add: vec!["NET_ADMIN".into()],
                ..Guardrails::default()
            },
        )
        .await
        .expect("rails");
    let shutdown = tokio_util::sync::CancellationToken::new();
    let audit = Audit::start(store.pool().clone(), shutdown.clone());
    audit
        .record(Record {
            // Recent: the retention task, which runs at start, keeps it.
            at: backend::store::now(),
            user_id: Some(ann.id),
            username: Some("Ann".into()),
            client: Some("10.0.0.1".into()),
            host: Some("h1".into()),
            object: Some("web-1".into()),
            action: "container.stop".into(),
            params: serde_json::json!({"t": 0}),
            status: 204,
            outcome: Outcome::Ok,
        })
        .await;
    audit.flush().await;
    shutdown.cancel();
}

/// A fresh, empty PostgreSQL database of the test cluster (`None`, said on stderr, without one).
async fn postgres() -> Option<Database> {
    let Ok(admin) = std::env::var("CAPSTAN_TEST_PG_URL") else {
        eprintln!("CAPSTAN_TEST_PG_URL is not set (scripts/testenv.sh up): skipped");
        return None;
    };
    Some(
        backend::store::scratch_postgres(&admin)
            .await
            .expect("database"),
    )
}

#[tokio::test]
async fn a_sqlite_backup_restores_every_record_and_undoes_what_came_after() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).await.expect("store");
    fill(&store, dir.path()).await;
    let before = contents(&store, dir.path()).await;

    let file = dir.path().join("backup.db");
    transfer::backup(&store, &file)
        .await
        .expect("backup while open");
    let again = transfer::backup(&store, &file).await;
    assert!(again.is_err(), "an existing file is never overwritten");

    Accounts::new(store.clone())
        .create_user("later", PW, false)
        .await
        .expect("later");
    store.pool().close().await;
    let database = store.database().clone();
    drop(store);
    transfer::restore(&database, &file).await.expect("restore");
    let restored = Store::open(dir.path()).await.expect("reopen");
    assert_eq!(contents(&restored, dir.path()).await, before);

    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, b"not a database").expect("junk");
    let refused = transfer::restore(&database, &junk).await;
    assert!(
        refused.is_err(),
        "a file that is not a Capstan database is refused"
    );
    assert_eq!(
        contents(&restored, dir.path()).await,
        before,
        "and changes nothing"
    );
}

#[tokio::test]
async fn records_move_from_sqlite_to_postgresql_and_back() {
    let Some(pg) = postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = Store::open(dir.path()).await.expect("store");
    fill(&sqlite, dir.path()).await;
    let before = contents(&sqlite, dir.path()).await;

    let target = Store::connect(&pg).await.expect("postgres");
    let copied = transfer::copy(&sqlite, &target).await.expect("copy");
    assert!(
        copied.contains(&("users", 2)) && copied.contains(&("audit_log", 1)),
        "{copied:?}"
    );
    assert_eq!(
        contents(&target, dir.path()).await,
        before,
        "every record, on PostgreSQL"
    );
    let again = transfer::copy(&sqlite, &target).await;
    assert!(
        matches!(again, Err(backend::Error::Conflict(_))),
        "a target with records is refused: {again:?}"
    );
    // The database's numbering goes on after the copied rows.
    let carl = Accounts::new(target.clone())
        .create_user("carl", PW, false)
        .await
        .expect("carl");
    assert_eq!(carl.id, 3);

    // And back, into a new SQLite file; the sealed secrets still open with the same key.
    let back_dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join(backend::secret::KEY_FILE),
        back_dir.path().join(backend::secret::KEY_FILE),
    )
    .expect("key file");
    let back = Store::open(back_dir.path()).await.expect("sqlite");
    transfer::copy(&target, &back).await.expect("copy back");
    assert_eq!(
        contents(&back, back_dir.path()).await,
        contents(&target, dir.path()).await,
        "every record, back on SQLite"
    );
}

#[tokio::test]
async fn a_postgresql_backup_restores_with_pg_restore() {
    let Some(pg) = postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::connect(&pg).await.expect("postgres");
    fill(&store, dir.path()).await;
    let before = contents(&store, dir.path()).await;
    let file = dir.path().join("capstan.dump");
    transfer::backup(&store, &file).await.expect("pg_dump");
    Accounts::new(store.clone())
        .create_user("later", PW, false)
        .await
        .expect("later");
    store.pool().close().await;
    transfer::restore(&pg, &file).await.expect("pg_restore");
    let restored = Store::connect(&pg).await.expect("reopen");
    assert_eq!(contents(&restored, dir.path()).await, before);
}

/// Each table's columns, as the database reports them.
async fn schema(store: &Store) -> Vec<String> {
    let sql = if store.database().is_postgres() {
        "SELECT table_name || '.' || column_name FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1"
    } else {
        "SELECT m.name || '.' || c.name FROM sqlite_master m, pragma_table_info(m.name) c \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
         AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\' ORDER BY 1"
    };
    sqlx::query_scalar(sql)
        .fetch_all(store.pool())
        .await
        .expect("schema")
}

/// The two databases' migrations make the same tables and columns (a migration written for one
/// and forgotten for the other fails here).
#[tokio::test]
async fn both_databases_have_the_same_schema() {
    let Some(pg) = postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = Store::open(dir.path()).await.expect("sqlite");
    let postgres = Store::connect(&pg).await.expect("postgres");
    let (a, mut b) = (schema(&sqlite).await, schema(&postgres).await);
    assert!(a.contains(&"users.username".to_string()), "{a:?}");
    // Only replicas share work by leases (fleet::sharing), and only PostgreSQL has replicas.
    b.retain(|column| !column.starts_with("leases."));
    assert_eq!(a, b);
}
