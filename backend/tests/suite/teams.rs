//! Teams against a real SQLite file: role resolution through teams, grants naming teams,
//! deleting a team or a user cleans up after itself.

use crate::common::PW;
use backend::auth::{Accounts, SessionStamp, SubjectKind};
use backend::error::Error;
use backend::policy::{authorize, HostAction, Principal, Role};
use backend::teams::Teams;

async fn fresh() -> (tempfile::TempDir, Accounts, Teams) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = backend::store::open_for_test(dir.path())
        .await
        .expect("store opens");
    let accounts = Accounts::new(store.clone());
    let teams = Teams::new(&accounts);
    (dir, accounts, teams)
}

async fn principal(accounts: &Accounts, user_id: i64) -> Principal {
    let stamp: SessionStamp = accounts.session_stamp(user_id).await.expect("stamp");
    accounts
        .principal_for_session(stamp)
        .await
        .expect("principal")
        .expect("valid session")
}

#[tokio::test]
async fn effective_role_is_the_highest_of_own_and_team_grants() {
    let (_dir, accounts, teams) = fresh().await;
    let ann = accounts.create_user("ann", PW, false).await.expect("user");
    let ops = teams.create("ops").await.expect("team");
    teams.add_member(ops.id, ann.id).await.expect("member");
    accounts
        .set_grant("h1", SubjectKind::User, ann.id, Role::Viewer)
        .await
        .expect("own grant");
    accounts
        .set_grant("h1", SubjectKind::Team, ops.id, Role::Manager)
        .await
        .expect("team grant");
    accounts
        .set_grant("h2", SubjectKind::Team, ops.id, Role::Operator)
        .await
        .expect("team grant");
    accounts
        .set_grant("h3", SubjectKind::User, ann.id, Role::Manager)
        .await
        .expect("own grant");
    accounts
        .set_grant("h3", SubjectKind::Team, ops.id, Role::Viewer)
        .await
        .expect("team grant");

    let who = principal(&accounts, ann.id).await;
    assert_eq!(
        who.role_on("h1"),
        Some(Role::Manager),
        "own viewer + team manager → manager"
    );
    assert_eq!(
        who.role_on("h2"),
        Some(Role::Operator),
        "team grant alone counts"
    );
    assert_eq!(
        who.role_on("h3"),
        Some(Role::Manager),
        "own manager beats team viewer"
    );
    assert!(authorize(&who, "h1", HostAction::ManageContainers).is_ok());
    assert!(matches!(
        authorize(&who, "h4", HostAction::View),
        Err(Error::NotFound(_))
    ));

    // Leaving the team takes the team's roles away at the next request.
    teams.remove_member(ops.id, ann.id).await.expect("leave");
    let who = principal(&accounts, ann.id).await;
    assert_eq!(who.role_on("h1"), Some(Role::Viewer));
    assert_eq!(who.role_on("h2"), None);
}

#[tokio::test]
async fn grants_list_names_teams_and_deleting_a_team_removes_its_grants() {
    let (_dir, accounts, teams) = fresh().await;
    let bob = accounts.create_user("bob", PW, false).await.expect("user");
    let web = teams.create("web").await.expect("team");
    teams.add_member(web.id, bob.id).await.expect("member");
    accounts
        .set_grant("h1", SubjectKind::Team, web.id, Role::Operator)
        .await
        .expect("grant");

    let grants = accounts.grants_on("h1").await.expect("grants");
    assert_eq!(grants.len(), 1);
    assert_eq!(
        (
            grants[0].subject,
            grants[0].subject_name.as_str(),
            grants[0].role
        ),
        (SubjectKind::Team, "web", Role::Operator)
    );

    teams.delete(web.id).await.expect("delete");
    assert!(
        accounts.grants_on("h1").await.expect("grants").is_empty(),
        "the team's grants went with it"
    );
    assert_eq!(principal(&accounts, bob.id).await.role_on("h1"), None);
    assert!(matches!(teams.get(web.id).await, Err(Error::NotFound(_))));
    assert!(matches!(
        teams.delete(web.id).await,
        Err(Error::NotFound(_))
    ));
    // A grant to a team that does not exist is refused, naming the field.
    match accounts
        .set_grant("h1", SubjectKind::Team, web.id, Role::Viewer)
        .await
    {
        Err(Error::Invalid { field, .. }) => assert_eq!(field, "team"),
        other => panic!("expected invalid team, got {other:?}"),
    }
}

#[tokio::test]
async fn teams_are_named_uniquely_renamed_and_forget_deleted_users() {
    let (_dir, accounts, teams) = fresh().await;
    let a = teams.create("Platform").await.expect("team");
    assert!(
        matches!(teams.create("platform").await, Err(Error::Conflict(_))),
        "names are case-insensitive unique"
    );
    assert!(matches!(
        teams.create("  ").await,
        Err(Error::Invalid { .. })
    ));
    assert!(matches!(
        teams.create("bad/name").await,
        Err(Error::Invalid { .. })
    ));
    let b = teams.create("data").await.expect("team");
    assert!(matches!(
        teams.rename(b.id, "platform").await,
        Err(Error::Conflict(_))
    ));
    assert_eq!(
        teams.rename(b.id, "data-eng").await.expect("rename").name,
        "data-eng"
    );
    assert!(matches!(
        teams.rename(999, "x").await,
        Err(Error::NotFound(_))
    ));

    let carl = accounts.create_user("carl", PW, false).await.expect("user");
    assert!(teams.add_member(a.id, carl.id).await.expect("add"));
    assert!(!teams
        .add_member(a.id, carl.id)
        .await
        .expect("add twice is fine"));
    assert!(matches!(
        teams.add_member(a.id, 999).await,
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        teams.add_member(999, carl.id).await,
        Err(Error::NotFound(_))
    ));
    assert_eq!(teams.get(a.id).await.expect("get").members.len(), 1);

    accounts.delete_user(carl.id).await.expect("delete user");
    assert!(
        teams.get(a.id).await.expect("get").members.is_empty(),
        "memberships go with the user"
    );
    let names: Vec<String> = teams
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["data-eng", "Platform"]);
}
