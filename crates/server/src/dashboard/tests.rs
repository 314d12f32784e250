//! The dashboard's routes over a real daemon state (SQLite in a temp dir):
//! login with both factors and its CSRF pair, session cookies, CSRF on every
//! write, roles, and that a dashboard resolution is audited with the user.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, StatusCode, header};
use gatehouse_core::approval::{ApprovalStatus, Channel};
use gatehouse_core::{CallContext, ToolCall};
use gatehouse_policy::Policy;
use gatehouse_store::users::UserStore;
use gatehouse_store::{AuditQuery, SqliteStore};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::credentials::{enrol, totp_code};
use crate::auth::Caller;
use crate::clock;
use crate::{AppState, Role, ServerConfig};

const POLICY: &str = "version: 1\ndefault: allow\nrules:\n  - name: deploys\n    match: { tool: exec, command: [\"kubectl apply *\"] }\n    action: ask\n    message: Production deployment requires approval\n";

struct Fixture {
    _dir: tempfile::TempDir,
    state: AppState,
    app: Router,
    secrets: Vec<(String, String)>,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("gatehouse.db");
        let audit = Arc::new(SqliteStore::open(&db).expect("audit store"));
        let state = crate::start(ServerConfig {
            db_path: db.clone(),
            audit,
            policy: Policy::load(POLICY, "test.yaml").expect("policy"),
            reload: None,
            local_tokens: Vec::new(),
            disconnect_grace_secs: 1,
        })
        .expect("start");
        let users = UserStore::open(&db).expect("users");
        let mut secrets = Vec::new();
        for (name, role) in [("alice", Role::Admin), ("bob", Role::Approver)] {
            let e = enrol(name, role, "a long enough password", clock::now()).expect("enrol");
            secrets.push((name.to_owned(), e.user.totp_secret.clone()));
            users.add_user(&e.user).expect("add");
        }
        let app = super::router(state.clone())
            .layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        Fixture {
            _dir: dir,
            state,
            app,
            secrets,
        }
    }

    fn code(&self, user: &str) -> String {
        let secret = self
            .secrets
            .iter()
            .find(|(n, _)| n == user)
            .map(|(_, s)| s.clone())
            .expect("user");
        totp_code(&secret, user, clock::now()).expect("code")
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Vec<String>, Value) {
        let resp = self.app.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let cookies = resp
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, cookies, body)
    }

    /// GET /ui/api/login: (cookie pair, token).
    async fn login_pair(&self) -> (String, String) {
        let req = Request::get("/ui/api/login")
            .header(header::HOST, "127.0.0.1:9090")
            .body(Body::empty())
            .expect("req");
        let (status, cookies, body) = self.send(req).await;
        assert_eq!(status, StatusCode::OK);
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with("gh_login="))
            .and_then(|c| c.split(';').next())
            .expect("login cookie")
            .to_owned();
        (cookie, body["csrf"].as_str().expect("csrf").to_owned())
    }

    async fn try_login(
        &self,
        user: &str,
        password: &str,
        code: &str,
        csrf: Option<&str>,
    ) -> (StatusCode, Vec<String>, Value) {
        let (cookie, token) = self.login_pair().await;
        let mut req = Request::post("/ui/api/login")
            .header(header::HOST, "127.0.0.1:9090")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie);
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", if t.is_empty() { &token } else { t });
        }
        let body = json!({ "user": user, "password": password, "code": code }).to_string();
        self.send(req.body(Body::from(body)).expect("req")).await
    }

    /// Log in; returns (session cookie, session CSRF token).
    async fn login(&self, user: &str) -> (String, String) {
        let (status, cookies, body) = self
            .try_login(user, "a long enough password", &self.code(user), Some(""))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = cookies
            .iter()
            .find(|c| c.starts_with("gh_session="))
            .expect("session cookie");
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
        assert!(!session.contains("Secure"), "plain HTTP on loopback");
        let cookie = session.split(';').next().expect("pair").to_owned();
        (cookie, body["csrf"].as_str().expect("csrf").to_owned())
    }

    async fn post(
        &self,
        path: &str,
        cookie: &str,
        csrf: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value) {
        let mut req = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie);
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        let (status, _, body) = self
            .send(req.body(Body::from(body.to_string())).expect("req"))
            .await;
        (status, body)
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> (StatusCode, Value) {
        let mut req = Request::get(path);
        if let Some(c) = cookie {
            req = req.header(header::COOKIE, c);
        }
        let (status, _, body) = self.send(req.body(Body::empty()).expect("req")).await;
        (status, body)
    }

    /// A held call, as a hook would submit it.
    async fn held(&self, command: &str) -> String {
        let agent = Caller {
            name: "local-agent".into(),
            role: Role::Agent,
            channel: Channel::Api,
        };
        let ctx = CallContext {
            session: Some("app/main".into()),
            ..CallContext::default()
        };
        let submitted = self
            .state
            .decide(ToolCall::exec(command), ctx, &agent, false)
            .await
            .expect("decide");
        submitted.approval.expect("held").approval.id
    }
}

#[tokio::test]
async fn login_needs_its_csrf_pair_and_both_factors() {
    let f = Fixture::new();
    let right = f.code("bob");
    let wrong = if right == "123456" {
        "654321"
    } else {
        "123456"
    };
    let pw = "a long enough password";
    let (status, _, _) = f.try_login("bob", pw, &right, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _, _) = f.try_login("bob", pw, &right, Some("f00")).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "token not paired with the cookie"
    );
    let (status, cookies, _) = f.try_login("bob", pw, wrong, Some("")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "wrong TOTP");
    assert!(cookies.iter().all(|c| !c.starts_with("gh_session=")));
    let (status, _, _) = f
        .try_login("bob", "wrong password!!", &right, Some(""))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "wrong password");
    let (status, _, _) = f.try_login("nobody", pw, &right, Some("")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "unknown user");
    let (cookie, _) = f.login("bob").await;
    let (status, me) = f.get("/ui/api/me", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"], "bob");
    assert_eq!(me["role"], "approver");
    // The same code cannot log in twice.
    let (status, _, body) = f.try_login("bob", pw, &right, Some("")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn reads_need_a_session_and_writes_need_its_csrf_token() {
    let f = Fixture::new();
    let (status, _) = f.get("/ui/api/pending", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = f.get("/ui/api/pending", Some("gh_session=forged")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (cookie, csrf) = f.login("alice").await;
    let (status, _) = f
        .post("/ui/api/lockdown", &cookie, None, json!({ "on": true }))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "no CSRF token");
    let (status, _) = f
        .post(
            "/ui/api/lockdown",
            &cookie,
            Some(&"0".repeat(64)),
            json!({ "on": true }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "wrong CSRF token");
    assert!(!f.state.is_locked_down());
    let (status, _) = f
        .post(
            "/ui/api/lockdown",
            &cookie,
            Some(&csrf),
            json!({ "on": true }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(f.state.is_locked_down());
    // Logging out ends the session.
    let (status, _) = f
        .post("/ui/api/logout", &cookie, Some(&csrf), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = f.get("/ui/api/me", Some(&cookie)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Regression: the policy page showed a summary but not the policy's source.
#[tokio::test]
async fn the_policy_page_shows_the_source_in_force() {
    let f = Fixture::new();
    let (cookie, _csrf) = f.login("bob").await;
    let (status, body) = f.get("/ui/api/policy", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["source"], "test.yaml");
    assert_eq!(body["text"], POLICY);
    assert_eq!(body["default"], "allow");
}

#[tokio::test]
async fn approvers_cannot_use_admin_switches() {
    let f = Fixture::new();
    let (cookie, csrf) = f.login("bob").await;
    let (status, _) = f
        .post(
            "/ui/api/lockdown",
            &cookie,
            Some(&csrf),
            json!({ "on": true }),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!f.state.is_locked_down());
}

#[tokio::test]
async fn a_dashboard_denial_carries_the_reason_and_is_audited_with_the_user() {
    let f = Fixture::new();
    let id = f.held("kubectl apply -f prod.yaml").await;
    let (cookie, csrf) = f.login("bob").await;
    let (status, queue) = f.get("/ui/api/pending", Some(&cookie)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue["items"][0]["id"], id.as_str());
    let path = format!("/ui/api/approvals/{id}/deny");
    let (status, _) = f
        .post(&path, &cookie, Some(&csrf), json!({ "reason": "  " }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a denial needs a reason");
    let (status, view) = f
        .post(
            &path,
            &cookie,
            Some(&csrf),
            json!({ "reason": "use staging" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    let a = f.state.approval(&id).expect("approval");
    assert_eq!(a.status, ApprovalStatus::Denied);
    let r = a.resolution.as_ref().expect("resolution");
    assert_eq!(r.by.as_deref(), Some("bob"));
    assert_eq!(r.channel, Channel::Dashboard);
    assert!(
        view["outcome"]
            .as_str()
            .unwrap_or("")
            .contains("use staging")
    );
    let records = f
        .state
        .audit()
        .query(&AuditQuery {
            approval_id: Some(id.clone()),
            ..AuditQuery::default()
        })
        .expect("audit");
    assert!(
        records
            .iter()
            .any(|e| e.record.actor.as_deref() == Some("bob")
                && e.record.channel.as_deref() == Some("dashboard")
                && e.record.reason.as_deref() == Some("use staging"))
    );
    // The context view finds this denial as a similar past decision.
    let next = f.held("kubectl apply -f other.yaml").await;
    let (status, ctx) = f
        .get(&format!("/ui/api/approvals/{next}"), Some(&cookie))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctx["similar"][0]["id"], id.as_str());
    assert_eq!(ctx["commands"][0][0], "kubectl");
}

#[tokio::test]
async fn cookies_are_secure_off_loopback_and_the_page_has_a_strict_csp() {
    let f = Fixture::new();
    let req = Request::get("/ui/api/login")
        .header(header::HOST, "gate.example.com")
        .body(Body::empty())
        .expect("req");
    let (_, cookies, _) = f.send(req).await;
    assert!(cookies.iter().all(|c| c.contains("; Secure")));
    let resp = f
        .app
        .clone()
        .oneshot(Request::get("/").body(Body::empty()).expect("req"))
        .await
        .expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let csp = resp
        .headers()
        .get(header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'sha256-"));
    assert_eq!(
        resp.headers()
            .get(header::X_FRAME_OPTIONS)
            .map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );
}

#[tokio::test]
async fn logins_logouts_and_lockouts_are_audited() {
    let f = Fixture::new();
    let (cookie, csrf) = f.login("alice").await;
    let (status, _) = f
        .post("/ui/api/logout", &cookie, Some(&csrf), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    for _ in 0..super::login::MAX_FAILURES {
        let (status, _, _) = f
            .try_login("bob", "wrong password!!", "000000", Some(""))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = f
        .try_login("bob", "a long enough password", &f.code("bob"), Some(""))
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked out");
    let records = f
        .state
        .audit()
        .query(&AuditQuery::default())
        .expect("audit");
    let outcomes: Vec<(Option<String>, Option<String>)> = records
        .iter()
        .map(|e| (e.record.actor.clone(), e.record.outcome.clone()))
        .collect();
    for (who, what) in [
        ("alice", "login"),
        ("alice", "logout"),
        ("bob", "login-locked"),
    ] {
        assert!(
            outcomes.contains(&(Some(who.into()), Some(what.into()))),
            "{who} {what} in {outcomes:?}"
        );
    }
    assert!(
        records
            .iter()
            .all(|e| e.record.channel.as_deref() == Some("dashboard"))
    );
}
