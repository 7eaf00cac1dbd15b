//! The engine's address (a socket path, an internal host name) is shown to admins only.

use crate::common::TestApp;
use axum::http::StatusCode;
use backend::policy::Role;

const HOST: &str = "unix-engine";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_admins_see_the_engine_url() {
    let app = TestApp::new().await;
    let viewer = app.user_with_role("url-viewer", HOST, Role::Viewer).await;
    let admin = app.admin_user("url-admin").await;

    for (who, admin_sees) in [(&viewer, false), (&admin, true)] {
        let auth = who.bearer();
        let headers = [("authorization", auth.as_str())];
        let list = app.get("/api/v1/hosts", &headers).await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text());
        let hosts = list.json();
        let mine = hosts
            .as_array()
            .expect("array")
            .iter()
            .find(|h| h["slug"] == HOST)
            .expect("the host is listed")
            .clone();
        let one = app.get(&format!("/api/v1/hosts/{HOST}"), &headers).await;
        assert_eq!(one.status, StatusCode::OK, "{}", one.text());
        for view in [mine, one.json()] {
            if admin_sees {
                assert!(
                    view["url"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("unix://")),
                    "{view}"
                );
            } else {
                assert!(view["url"].is_null(), "a viewer sees no address: {view}");
            }
        }
    }
}
