//! Accounts against a real SQLite file: setup, login, sessions, tokens, last-admin protection,
//! grants, and that everything survives reopening the store.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::common::PW;
use backend::auth::{Accounts, SubjectKind, UserPatch, SETUP_TOKEN_FILE};
use backend::error::Error;
use backend::policy::Role;
use backend::store::Store;

async fn fresh() -> (tempfile::TempDir, Store, Accounts) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = backend::store::open_for_test(dir.path())
        .await
        .expect("store opens");
    let accounts = Accounts::new(store.clone());
    (dir, store, accounts)
}

async fn with_admin() -> (tempfile::TempDir, Store, Accounts, i64) {
    let (dir, store, accounts) = fresh().await;
    let token = accounts
        .prepare_setup(dir.path())
        .await
        .expect("prepare")
        .expect("token");
    let admin = accounts
        .complete_setup(dir.path(), &token, "root", PW, None)
        .await
        .expect("setup");
    (dir, store, accounts, admin.id)
}

fn ip(n: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)))
}

#[tokio::test]
async fn setup_token_is_private_single_use_and_then_setup_is_closed() {
    let (dir, _store, accounts) = fresh().await;
    let token = accounts
        .prepare_setup(dir.path())
        .await
        .expect("prepare")
        .expect("a token on first start");
    let file = dir.path().join(SETUP_TOKEN_FILE);
    assert_eq!(std::fs::read_to_string(&file).expect("file").trim(), token);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }

    let wrong = accounts
        .complete_setup(dir.path(), "not-the-token", "root", PW, None)
        .await;
    assert!(matches!(wrong, Err(Error::Unauthenticated(_))), "{wrong:?}");
    let short = accounts
        .complete_setup(dir.path(), &token, "root", "short", None)
        .await;
    assert!(matches!(short, Err(Error::Invalid { ref field, .. }) if field == "password"));

    let admin = accounts
        .complete_setup(dir.path(), &token, "root", PW, None)
        .await
        .expect("setup");
    assert!(admin.admin && !admin.disabled);
    assert!(!file.exists(), "the token file is gone once used");
    let again = accounts
        .complete_setup(dir.path(), &token, "other", PW, None)
        .await;
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
    // A restart with users mints no new token.
    assert_eq!(
        accounts.prepare_setup(dir.path()).await.expect("prepare"),
        None
    );
}

#[tokio::test]
async fn wrong_username_and_wrong_password_look_the_same() {
    let (_dir, _store, accounts, _) = with_admin().await;
    let a = accounts
        .login("nobody", PW, ip(1))
        .await
        .expect_err("unknown user");
    let b = accounts
        .login("root", "not the password", ip(1))
        .await
        .expect_err("wrong password");
    assert_eq!(a.public_message(), b.public_message());
    assert!(matches!(a, Error::Unauthenticated(_)) && matches!(b, Error::Unauthenticated(_)));
    assert_eq!(
        accounts.login_failures("root").await.expect("count"),
        1,
        "failed logins are recorded"
    );
    assert_eq!(
        accounts.prune_login_failures(30).await.expect("prune"),
        0,
        "recent failures are kept"
    );
    let user = accounts
        .login("ROOT", PW, ip(1))
        .await
        .expect("usernames are case-insensitive");
    assert_eq!(user.username, "root");
    assert!(user.last_login_at.is_some());
}

#[tokio::test]
async fn an_address_is_locked_after_five_failures_for_every_username() {
    let (_dir, _store, accounts, _) = with_admin().await;
    for i in 0..5 {
        // Different usernames: the address's count is what locks.
        let r = accounts
            .login(&format!("guess{i}"), "not the password", ip(2))
            .await;
        assert!(matches!(r, Err(Error::Unauthenticated(_))), "{r:?}");
    }
    match accounts.login("root", PW, ip(2)).await {
        Err(Error::Throttled { retry_after }) => {
            assert!((1..=60).contains(&retry_after.as_secs()), "{retry_after:?}")
        }
        other => panic!("expected the address locked even with the right password, got {other:?}"),
    }
    // Another address is not affected.
    accounts
        .login("root", PW, ip(3))
        .await
        .expect("another address signs in");
}

#[tokio::test]
async fn an_account_under_attack_slows_down_but_never_locks_its_owner_out() {
    let (_dir, _store, accounts, _) = with_admin().await;
    // Guesses from many addresses (one each, so no address locks).
    let mut paused = None;
    for n in 10..40 {
        match accounts.login("root", "not the password", ip(n)).await {
            Err(Error::Unauthenticated(_)) => {}
            Err(Error::Throttled { retry_after }) => {
                paused = Some(retry_after);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    let paused = paused.expect("guesses at one account are paused");
    assert!(
        paused <= std::time::Duration::from_secs(5),
        "a pause of seconds, not a lock: {paused:?}"
    );
    // The owner, after the pause, gets in from their own address.
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    let user = accounts
        .login("root", PW, ip(200))
        .await
        .expect("the owner signs in after seconds");
    assert_eq!(user.username, "root");
    // And the success cleared the account's record: free attempts again.
    for n in 41..46 {
        assert!(matches!(
            accounts.login("root", "still not it", ip(n)).await,
            Err(Error::Unauthenticated(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_are_counted_before_they_are_hashed() {
    let (_dir, _store, accounts, _) = with_admin().await;
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let accounts = accounts.clone();
            tokio::spawn(async move {
                accounts
                    .login("root", &format!("parallel guess {i}"), ip(7))
                    .await
            })
        })
        .collect();
    let mut wrong = 0;
    let mut throttled = 0;
    for g in guesses {
        match g.await.expect("task") {
            Err(Error::Unauthenticated(_)) => wrong += 1,
            Err(Error::Throttled { .. }) => throttled += 1,
            other => panic!("{other:?}"),
        }
    }
    // Counted after the hash, all forty would have been judged; counted before, only the five
    // the address (and the account) allow are.
    assert_eq!((wrong, throttled), (5, 35));
    assert_eq!(
        accounts.login_failures("root").await.expect("count"),
        5,
        "only judged guesses are recorded"
    );
}

#[tokio::test]
async fn sessions_end_when_the_password_changes_or_the_user_is_disabled() {
    let (_dir, _store, accounts, admin) = with_admin().await;
    let dev = accounts.create_user("dev", PW, false).await.expect("user");
    let stamp = accounts.session_stamp(dev.id).await.expect("stamp");
    assert!(accounts
        .principal_for_session(stamp)
        .await
        .expect("lookup")
        .is_some());

    accounts
        .change_own_password(dev.id, PW, "another long password", false)
        .await
        .expect("change");
    assert!(
        accounts
            .principal_for_session(stamp)
            .await
            .expect("lookup")
            .is_none(),
        "old session ended"
    );
    let wrong = accounts
        .change_own_password(dev.id, "not it at all", "yet another password", false)
        .await;
    assert!(matches!(wrong, Err(Error::Invalid { ref field, .. }) if field == "current"));

    let stamp = accounts.session_stamp(dev.id).await.expect("stamp");
    let (_, secret) = accounts
        .create_token(dev.id, "ci", None)
        .await
        .expect("token");
    assert!(accounts
        .principal_for_token(&secret)
        .await
        .expect("lookup")
        .is_some());
    accounts
        .update_user(
            dev.id,
            UserPatch {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("disable");
    assert!(
        accounts
            .principal_for_session(stamp)
            .await
            .expect("lookup")
            .is_none(),
        "disabled: session stops"
    );
    assert!(
        accounts
            .principal_for_token(&secret)
            .await
            .expect("lookup")
            .is_none(),
        "disabled: token stops"
    );
    assert!(matches!(
        accounts.login("dev", "another long password", ip(4)).await,
        Err(Error::Unauthenticated(_))
    ));
    let _ = admin;
}

#[tokio::test]
async fn tokens_are_shown_once_stored_hashed_listed_revoked_and_expire() {
    let (_dir, store, accounts, admin) = with_admin().await;
    let (info, secret) = accounts
        .create_token(admin, "laptop", Some(30))
        .await
        .expect("token");
    assert!(secret.starts_with("cap_") && secret.len() > 40);
    assert!(info.expires_at.is_some());
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM api_tokens WHERE id = $1")
        .bind(info.id)
        .fetch_one(store.pool())
        .await
        .expect("row");
    assert_eq!(stored.len(), 32, "only a SHA-256 of the secret is kept");
    assert!(!String::from_utf8_lossy(&stored).contains(&secret[4..]));

    let who = accounts
        .principal_for_token(&secret)
        .await
        .expect("lookup")
        .expect("valid");
    assert_eq!(who.username, "root");
    let listed = accounts.list_tokens(admin).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert!(listed[0].last_used_at.is_some(), "use is recorded");

    assert!(accounts
        .principal_for_token("cap_not-a-token")
        .await
        .expect("lookup")
        .is_none());
    assert!(matches!(
        accounts.create_token(admin, " ", None).await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        accounts.create_token(admin, "x", Some(0)).await,
        Err(Error::Invalid { .. })
    ));

    // Expiry: a token whose expiry is in the past. (Aged by editing the database, which the
    // running service cannot hear of: the token is aged before its first use, not after.)
    let (old, old_secret) = accounts
        .create_token(admin, "old", Some(1))
        .await
        .expect("token");
    sqlx::query("UPDATE api_tokens SET expires_at = 1 WHERE id = $1")
        .bind(old.id)
        .execute(store.pool())
        .await
        .expect("age");
    assert!(
        accounts
            .principal_for_token(&old_secret)
            .await
            .expect("lookup")
            .is_none(),
        "expired"
    );

    let (other, other_secret) = accounts
        .create_token(admin, "second", None)
        .await
        .expect("token");
    let dev = accounts.create_user("dev", PW, false).await.expect("user");
    assert!(
        matches!(
            accounts.revoke_token(dev.id, other.id).await,
            Err(Error::NotFound(_))
        ),
        "not theirs"
    );
    accounts
        .revoke_token(admin, other.id)
        .await
        .expect("revoke");
    assert!(
        accounts
            .principal_for_token(&other_secret)
            .await
            .expect("lookup")
            .is_none(),
        "revoked"
    );
}

#[tokio::test]
async fn the_last_enabled_admin_stays() {
    let (_dir, _store, accounts, root) = with_admin().await;
    for patch in [
        UserPatch {
            admin: Some(false),
            ..Default::default()
        },
        UserPatch {
            disabled: Some(true),
            ..Default::default()
        },
    ] {
        assert!(matches!(
            accounts.update_user(root, patch).await,
            Err(Error::Conflict(_))
        ));
    }
    assert!(matches!(
        accounts.delete_user(root).await,
        Err(Error::Conflict(_))
    ));

    let second = accounts
        .create_user("second", PW, true)
        .await
        .expect("second admin");
    accounts
        .update_user(
            root,
            UserPatch {
                admin: Some(false),
                ..Default::default()
            },
        )
        .await
        .expect("demote root");
    assert!(matches!(
        accounts
            .update_user(
                second.id,
                UserPatch {
                    admin: Some(false),
                    ..Default::default()
                }
            )
            .await,
        Err(Error::Conflict(_))
    ));
    // A disabled admin does not count as the one that keeps the door open.
    accounts
        .update_user(
            root,
            UserPatch {
                admin: Some(true),
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("root disabled admin");
    assert!(matches!(
        accounts.delete_user(second.id).await,
        Err(Error::Conflict(_))
    ));
    assert!(matches!(
        accounts.delete_user(9999).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn grants_make_roles_and_go_with_the_user() {
    let (_dir, _store, accounts, _root) = with_admin().await;
    let dev = accounts.create_user("dev", PW, false).await.expect("user");
    accounts
        .set_grant("build-01", SubjectKind::User, dev.id, Role::Viewer)
        .await
        .expect("grant");
    accounts
        .set_grant("build-01", SubjectKind::User, dev.id, Role::Operator)
        .await
        .expect("upgrade");
    accounts
        .set_grant("edge", SubjectKind::User, dev.id, Role::Manager)
        .await
        .expect("grant");
    let stamp = accounts.session_stamp(dev.id).await.expect("stamp");
    let p = accounts
        .principal_for_session(stamp)
        .await
        .expect("lookup")
        .expect("valid");
    assert_eq!(p.role_on("build-01"), Some(Role::Operator));
    assert_eq!(p.role_on("edge"), Some(Role::Manager));
    assert_eq!(p.role_on("other"), None);

    let grants = accounts.grants_on("build-01").await.expect("grants");
    assert_eq!(grants.len(), 1);
    assert_eq!(
        (grants[0].subject_name.as_str(), grants[0].role),
        ("dev", Role::Operator)
    );
    assert!(matches!(
        accounts
            .set_grant("x", SubjectKind::User, 4242, Role::Viewer)
            .await,
        Err(Error::Invalid { .. })
    ));

    accounts
        .remove_grant("edge", SubjectKind::User, dev.id)
        .await
        .expect("revoke");
    assert!(matches!(
        accounts
            .remove_grant("edge", SubjectKind::User, dev.id)
            .await,
        Err(Error::NotFound(_))
    ));
    accounts.delete_user(dev.id).await.expect("delete");
    assert!(
        accounts
            .grants_on("build-01")
            .await
            .expect("grants")
            .is_empty(),
        "grants go with the user"
    );
}

#[tokio::test]
async fn usernames_are_validated_and_unique() {
    let (_dir, _store, accounts, _) = with_admin().await;
    for bad in ["", "-x", "a b", "é", &"x".repeat(65)] {
        assert!(
            matches!(accounts.create_user(bad, PW, false).await, Err(Error::Invalid { ref field, .. }) if field == "username"),
            "{bad:?}"
        );
    }
    assert!(matches!(
        accounts.create_user("Root", PW, false).await,
        Err(Error::Conflict(_))
    ));
}

#[tokio::test]
async fn everything_survives_reopening_the_store() {
    let (dir, store, accounts, admin) = with_admin().await;
    let (_, secret) = accounts
        .create_token(admin, "t", None)
        .await
        .expect("token");
    drop(accounts);
    store.pool().close().await;
    let store = backend::store::open_for_test(dir.path())
        .await
        .expect("reopen");
    let accounts = Accounts::new(store);
    assert_eq!(accounts.user_count().await.expect("count"), 1);
    accounts
        .login("root", PW, ip(9))
        .await
        .expect("login after reopen");
    assert!(accounts
        .principal_for_token(&secret)
        .await
        .expect("lookup")
        .is_some());
}

#[test]
fn passwords_never_show_in_debug_output() {
    let patch = UserPatch {
        password: Some("hunter2 hunter2".into()),
        ..Default::default()
    };
    let text = format!("{patch:?}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn users_carry_no_password_hash() {
    let (_dir, _store, accounts, admin) = with_admin().await;
    let user = accounts.user(admin).await.expect("user");
    let text = format!("{user:?} {}", serde_json::to_string(&user).expect("json"));
    assert!(!text.contains("argon2"), "{text}");
}

/// Token principals are kept between requests (auth's token cache): every change the service
/// makes must show on the very next request, whoever asked before it.
#[tokio::test]
async fn a_tokens_access_follows_every_change_at_once() {
    let (_dir, _store, accounts, _root) = with_admin().await;
    let teams = backend::teams::Teams::new(&accounts);
    let dev = accounts.create_user("dev", PW, false).await.expect("user");
    let (token, secret) = accounts
        .create_token(dev.id, "ci", None)
        .await
        .expect("token");
    let looked = || async {
        let first = accounts.principal_for_token(&secret).await.expect("lookup");
        let again = accounts.principal_for_token(&secret).await.expect("lookup");
        assert_eq!(
            first.as_ref().map(|p| (&p.roles, p.admin)),
            again.as_ref().map(|p| (&p.roles, p.admin))
        );
        again
    };
    let role = |p: &Option<backend::policy::Principal>, host: &str| {
        p.as_ref().and_then(|p| p.role_on(host))
    };

    assert_eq!(role(&looked().await, "build-01"), None);
    accounts
        .set_grant("build-01", SubjectKind::User, dev.id, Role::Viewer)
        .await
        .expect("grant");
    assert_eq!(role(&looked().await, "build-01"), Some(Role::Viewer));
    accounts
        .set_grant("build-01", SubjectKind::User, dev.id, Role::Operator)
        .await
        .expect("raise");
    assert_eq!(role(&looked().await, "build-01"), Some(Role::Operator));

    let team = teams.create("web").await.expect("team");
    accounts
        .set_grant("edge", SubjectKind::Team, team.id, Role::Manager)
        .await
        .expect("team grant");
    assert_eq!(role(&looked().await, "edge"), None, "not a member yet");
    teams.add_member(team.id, dev.id).await.expect("join");
    assert_eq!(role(&looked().await, "edge"), Some(Role::Manager));
    teams.remove_member(team.id, dev.id).await.expect("leave");
    assert_eq!(role(&looked().await, "edge"), None);
    teams.add_member(team.id, dev.id).await.expect("join again");
    assert_eq!(role(&looked().await, "edge"), Some(Role::Manager));
    teams.delete(team.id).await.expect("team gone");
    assert_eq!(role(&looked().await, "edge"), None);

    accounts
        .remove_grant("build-01", SubjectKind::User, dev.id)
        .await
        .expect("ungrant");
    assert_eq!(role(&looked().await, "build-01"), None);
    accounts
        .update_user(
            dev.id,
            UserPatch {
                admin: Some(true),
                ..Default::default()
            },
        )
        .await
        .expect("promote");
    assert!(looked().await.is_some_and(|p| p.admin));
    accounts
        .update_user(
            dev.id,
            UserPatch {
                admin: Some(false),
                ..Default::default()
            },
        )
        .await
        .expect("demote");
    assert!(looked().await.is_some_and(|p| !p.admin));
    accounts
        .revoke_token(dev.id, token.id)
        .await
        .expect("revoke");
    assert!(looked().await.is_none(), "revoked");

    let (_, secret) = accounts
        .create_token(dev.id, "second", None)
        .await
        .expect("token");
    assert!(accounts
        .principal_for_token(&secret)
        .await
        .expect("lookup")
        .is_some());
    accounts.delete_user(dev.id).await.expect("delete");
    assert!(
        accounts
            .principal_for_token(&secret)
            .await
            .expect("lookup")
            .is_none(),
        "user gone"
    );
}

#[tokio::test]
async fn a_password_change_revokes_the_users_tokens_unless_they_keep_them() {
    let (_dir, store, accounts, admin) = with_admin().await;
    let dev = accounts.create_user("dev", PW, false).await.expect("user");
    let (_, first) = accounts
        .create_token(dev.id, "ci", None)
        .await
        .expect("token");
    let (_, admins) = accounts
        .create_token(admin, "admin's", None)
        .await
        .expect("token");
    // Looked up once, so the token cache holds it: the change must beat the cache.
    assert!(accounts
        .principal_for_token(&first)
        .await
        .expect("lookup")
        .is_some());

    let kept = accounts
        .change_own_password(dev.id, PW, "another long password", true)
        .await
        .expect("change, keeping");
    assert_eq!(kept, 0);
    assert!(
        accounts
            .principal_for_token(&first)
            .await
            .expect("lookup")
            .is_some(),
        "kept on purpose"
    );

    let (_, second) = accounts
        .create_token(dev.id, "laptop", None)
        .await
        .expect("token");
    let revoked = accounts
        .change_own_password(
            dev.id,
            "another long password",
            "a third long password",
            false,
        )
        .await
        .expect("change");
    assert_eq!(revoked, 2);
    assert!(
        accounts
            .principal_for_token(&first)
            .await
            .expect("lookup")
            .is_none(),
        "revoked with the change"
    );
    assert!(
        accounts
            .principal_for_token(&second)
            .await
            .expect("lookup")
            .is_none(),
        "revoked with the change"
    );
    assert!(accounts.list_tokens(dev.id).await.expect("list").is_empty());
    assert!(
        accounts
            .principal_for_token(&admins)
            .await
            .expect("lookup")
            .is_some(),
        "another user's token stays"
    );

    // A wrong current password changes nothing, tokens included.
    let (_, third) = accounts
        .create_token(dev.id, "third", None)
        .await
        .expect("token");
    let wrong = accounts
        .change_own_password(dev.id, "not the password", "a fourth long password", false)
        .await;
    assert!(
        matches!(wrong, Err(Error::Invalid { ref field, .. }) if field == "current"),
        "{wrong:?}"
    );
    assert!(accounts
        .principal_for_token(&third)
        .await
        .expect("lookup")
        .is_some());

    // An admin's reset (the users page, `capstan admin reset-password`) revokes them too.
    accounts
        .update_user(
            dev.id,
            UserPatch {
                password: Some("reset by the admin".into()),
                ..Default::default()
            },
        )
        .await
        .expect("reset");
    assert!(
        accounts
            .principal_for_token(&third)
            .await
            .expect("lookup")
            .is_none(),
        "an admin's reset revokes"
    );
    let (_, fourth) = accounts
        .create_token(dev.id, "fourth", None)
        .await
        .expect("token");
    accounts
        .set_password(dev.id, "reset from the command line".into())
        .await
        .expect("reset");
    assert!(
        accounts
            .principal_for_token(&fourth)
            .await
            .expect("lookup")
            .is_none(),
        "the CLI's reset revokes"
    );
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM api_tokens WHERE user_id = $1")
        .bind(dev.id)
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(count, 0);
    accounts
        .login("dev", "reset from the command line", ip(9))
        .await
        .expect("the new password works");
}

#[tokio::test]
async fn guessing_the_current_password_is_throttled() {
    let (_dir, _store, accounts, _) = with_admin().await;
    let dev = accounts.create_user("dev", PW, false).await.expect("user");
    for _ in 0..5 {
        let r = accounts
            .change_own_password(dev.id, "a wrong guess here", "another long password", false)
            .await;
        assert!(matches!(r, Err(Error::Invalid { .. })), "{r:?}");
    }
    let r = accounts
        .change_own_password(dev.id, PW, "another long password", false)
        .await;
    assert!(
        matches!(r, Err(Error::Throttled { retry_after }) if retry_after.as_secs() >= 1),
        "{r:?}"
    );
    // Another user's change is not affected.
    let other = accounts
        .create_user("other", PW, false)
        .await
        .expect("user");
    accounts
        .change_own_password(other.id, PW, "another long password", false)
        .await
        .expect("change");
}

/// Two replicas on one PostgreSQL database (the PostgreSQL pass): a client's failed sign-ins
/// on both count together, though neither replica's own limiter saw enough to stop it.
#[tokio::test]
async fn replicas_count_a_clients_failed_sign_ins_together() {
    let (dir, store, first) = fresh().await;
    if !store.database().is_postgres() {
        eprintln!("SQLite: one process serves it; this test runs in the PostgreSQL pass");
        return;
    }
    let second = Accounts::new(
        backend::store::open_for_test(dir.path())
            .await
            .expect("second replica"),
    );
    first.create_user("ann", PW, false).await.expect("ann");
    // One client: addresses of one IPv6 /64 (a subscriber's), a new one for each guess.
    let guesser = |i: u16| Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 2, i, 0, 0, 1)));
    for i in 0..5 {
        let replica = if i % 2 == 0 { &first } else { &second };
        let r = replica.login("ann", "not the password", guesser(i)).await;
        assert!(
            matches!(r, Err(Error::Unauthenticated(_))),
            "guess {i}: {r:?}"
        );
    }
    let sixth = second.login("ann", PW, guesser(9)).await;
    assert!(
        matches!(sixth, Err(Error::Throttled { .. })),
        "the sixth attempt within a minute waits, on either replica: {sixth:?}"
    );
    let next_door = Some(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1)));
    assert!(
        second.login("ann", PW, next_door).await.is_ok(),
        "another network signs in"
    );

    // An account's failures from many addresses count on every replica together too: after
    // the free ones each asks for a growing pause, though each replica saw only half.
    first.create_user("bob", PW, false).await.expect("bob");
    let from = |i: u8| Some(IpAddr::V4(Ipv4Addr::new(10, 7, 0, i)));
    for i in 0..6 {
        let replica = if i % 2 == 0 { &first } else { &second };
        let r = replica.login("BOB", "not the password", from(i)).await;
        assert!(
            matches!(r, Err(Error::Unauthenticated(_))),
            "guess {i}: {r:?}"
        );
    }
    // The sixth failure asks for a second; the seventh for two.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = first.login("bob", "not the password", from(6)).await;
    assert!(matches!(r, Err(Error::Unauthenticated(_))), "{r:?}");
    let paused = second.login("bob", PW, from(7)).await;
    assert!(
        matches!(paused, Err(Error::Throttled { .. })),
        "the account pauses on the other replica too: {paused:?}"
    );
}

/// Replicas on one database each write a setup token into their own data directory: any one
/// sets up, and then every token is spent (one first admin, not one per replica).
#[tokio::test]
async fn each_replica_has_a_setup_token_and_the_first_setup_spends_them_all() {
    let (dir, _store, accounts) = fresh().await;
    let other_dir = tempfile::tempdir().expect("second data directory");
    let first = accounts
        .prepare_setup(dir.path())
        .await
        .expect("prepare")
        .expect("token");
    let second = accounts
        .prepare_setup(other_dir.path())
        .await
        .expect("prepare")
        .expect("token");
    assert_ne!(first, second);
    // A restart of the first replica replaces its own token only.
    let first_again = accounts
        .prepare_setup(dir.path())
        .await
        .expect("prepare")
        .expect("token");
    let stale = accounts
        .complete_setup(dir.path(), &first, "early", PW, None)
        .await;
    assert!(matches!(stale, Err(Error::Unauthenticated(_))), "{stale:?}");
    let admin = accounts
        .complete_setup(other_dir.path(), &second, "root", PW, None)
        .await
        .expect("the second replica's token sets up");
    assert!(admin.admin);
    let late = accounts
        .complete_setup(dir.path(), &first_again, "root2", PW, None)
        .await;
    assert!(
        matches!(late, Err(Error::Conflict(_))),
        "setup is done: {late:?}"
    );
}
