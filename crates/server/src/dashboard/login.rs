//! Logging in (password + TOTP), out, and who am I.
//!
//! The login form is itself CSRF-protected (a token paired with a
//! short-lived cookie, so another site cannot log a browser into an account
//! of its choosing) and rate-limited per (user, address).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gatehouse_core::approval::Channel;
use gatehouse_core::audit::{AuditKind, AuditRecord};
use gatehouse_store::daemon_store::Role;
use gatehouse_store::users::SessionRecord;
use serde::Deserialize;
use serde_json::json;

use super::Dash;
use super::credentials::{check_totp, verify_password};
use super::session::{
    CsrfSession, LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL_MS, Session, cookie, csrf_matches,
    hash_secret, random_hex, secure_cookies, set_cookie,
};
use crate::clock;
use crate::error::ApiError;

/// Failed logins allowed per (user, address) within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The rate limiter's window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Recent failed logins per (user, address).
#[derive(Default)]
pub struct RateLimiter {
    failures: Mutex<HashMap<(String, IpAddr), Vec<Instant>>>,
}

impl RateLimiter {
    /// Seconds to wait before `key` may try again, if it is locked out at `now`.
    pub fn retry_after(&self, user: &str, ip: IpAddr, now: Instant) -> Option<u64> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get_mut(&(user.to_owned(), ip))?;
        list.retain(|t| now.duration_since(*t) < WINDOW);
        if list.len() < MAX_FAILURES {
            return None;
        }
        let oldest = list.iter().min().copied()?;
        Some(
            (WINDOW.saturating_sub(now.duration_since(oldest)))
                .as_secs()
                .max(1),
        )
    }

    /// Count a failure; returns the failures in the window, this one included.
    pub fn fail(&self, user: &str, ip: IpAddr, now: Instant) -> usize {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a spray of names: forget idle entries first.
        if map.len() > 10_000 {
            map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < WINDOW));
        }
        let list = map.entry((user.to_owned(), ip)).or_default();
        list.retain(|t| now.duration_since(*t) < WINDOW);
        list.push(now);
        list.len()
    }

    /// Forget failures after a success.
    pub fn clear(&self, user: &str, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&(user.to_owned(), ip));
    }
}

/// `GET /ui/api/login`: a fresh login CSRF token, paired with a cookie.
pub async fn start(headers: HeaderMap) -> Result<Response, ApiError> {
    let token = random_hex()?;
    let cookie = set_cookie(
        LOGIN_COOKIE,
        &token,
        "/ui/api/login",
        600,
        secure_cookies(&headers),
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(json!({ "csrf": token })),
    )
        .into_response())
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginBody {
    user: String,
    password: String,
    code: String,
}

/// One answer for every wrong factor, so the form tells an attacker nothing.
const BAD_LOGIN: &str = "wrong user name, password or code";

/// `POST /ui/api/login`: check password and TOTP, start a session.
pub async fn login(
    State(dash): State<Dash>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginBody>,
) -> Result<Response, ApiError> {
    let paired = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !csrf_matches(&headers, &paired) {
        return Err(ApiError::Forbidden(
            "missing or wrong CSRF token; reload the page".into(),
        ));
    }
    // Longer than any enrolled name or sane password: refuse before hashing or counting.
    if body.user.len() > 64 || body.password.len() > 1024 || body.code.len() > 16 {
        return Err(ApiError::Unauthorized(BAD_LOGIN.into()));
    }
    let ip = peer.ip();
    if let Some(secs) = dash.limiter.retry_after(&body.user, ip, Instant::now()) {
        return Ok(too_many(secs));
    }
    let now = clock::now();
    let user = {
        let guard = dash.users.lock().unwrap_or_else(|p| p.into_inner());
        let store = guard.as_ref().ok_or_else(|| {
            ApiError::Unavailable("the dashboard's user table is unavailable".into())
        })?;
        store
            .user(&body.user)
            .map_err(|e| ApiError::Internal(e.to_string()))?
    };
    // Hash even for an unknown user, so timing does not reveal which names exist.
    let phc = user
        .as_ref()
        .map_or_else(dummy_hash, |u| u.password_hash.clone());
    let password = body.password.clone();
    let password_ok = tokio::task::spawn_blocking(move || verify_password(&password, &phc))
        .await
        .unwrap_or(false);
    let step = user
        .as_ref()
        .filter(|u| password_ok && u.role >= Role::Approver)
        .and_then(|u| check_totp(&u.totp_secret, &u.name, &body.code, now));
    let (Some(user), Some(step)) = (user, step) else {
        failed(&dash, &body.user, ip).await;
        return Err(ApiError::Unauthorized(BAD_LOGIN.into()));
    };
    let session_secret = random_hex()?;
    let csrf = random_hex()?;
    // Accept the code's time step once, then store the session (no await while locked).
    let fresh = {
        let guard = dash.users.lock().unwrap_or_else(|p| p.into_inner());
        let store = guard.as_ref().ok_or_else(|| {
            ApiError::Unavailable("the dashboard's user table is unavailable".into())
        })?;
        let fresh = store
            .consume_totp_step(&user.name, step)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        if fresh {
            let _ = store.prune_sessions(now);
            store
                .put_session(&SessionRecord {
                    id_hash: hash_secret(&session_secret),
                    user: user.name.clone(),
                    csrf: csrf.clone(),
                    created_at: now,
                    expires_at: now.plus_millis(SESSION_TTL_MS),
                })
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        }
        fresh
    };
    if !fresh {
        failed(&dash, &body.user, ip).await;
        return Err(ApiError::Unauthorized(
            "this code was used already; wait for the next one".into(),
        ));
    }
    dash.limiter.clear(&body.user, ip);
    // Who could approve from where is part of the trail; no audit, no session.
    dash.app
        .audit_admin(admin_record(
            &user.name,
            "login",
            format!("dashboard login from {ip}"),
        ))
        .await?;
    tracing::info!("dashboard login: {:?} from {ip}", user.name);
    let secure = secure_cookies(&headers);
    let session_cookie = set_cookie(
        SESSION_COOKIE,
        &session_secret,
        "/",
        SESSION_TTL_MS / 1000,
        secure,
    );
    let clear_login = set_cookie(LOGIN_COOKIE, "", "/ui/api/login", 0, secure);
    let mut response = Json(json!({
        "user": user.name,
        "role": user.role.as_str(),
        "csrf": csrf,
    }))
    .into_response();
    let h = response.headers_mut();
    for c in [session_cookie, clear_login] {
        if let Ok(v) = c.parse() {
            h.append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

/// `POST /ui/api/logout`.
pub async fn logout(
    State(dash): State<Dash>,
    headers: HeaderMap,
    CsrfSession(session): CsrfSession,
) -> Result<Response, ApiError> {
    {
        let guard = dash.users.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = guard.as_ref() {
            store
                .delete_session(&session.id_hash)
                .map_err(|e| ApiError::Internal(e.to_string()))?;
        }
    }
    let rec = admin_record(&session.user, "logout", "dashboard logout".into());
    if let Err(e) = dash.app.audit_admin(rec).await {
        tracing::error!("could not audit a dashboard logout: {e}");
    }
    let cookie = set_cookie(SESSION_COOKIE, "", "/", 0, secure_cookies(&headers));
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({ "ok": true }))).into_response())
}

/// `GET /ui/api/me`: the user, their role and the session's CSRF token.
pub async fn me(
    State(dash): State<Dash>,
    session: Session,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({
        "user": session.user,
        "role": session.role.as_str(),
        "csrf": session.csrf,
        "lockdown": dash.app.is_locked_down(),
    })))
}

/// An admin audit record of a dashboard session event.
fn admin_record(user: &str, outcome: &str, message: String) -> AuditRecord {
    let mut rec = AuditRecord::new(clock::now(), AuditKind::Admin);
    rec.actor = Some(user.to_owned());
    rec.channel = Some(Channel::Dashboard.as_str().into());
    rec.outcome = Some(outcome.into());
    rec.message = Some(message);
    rec
}

/// Count a failed login; the one that starts a lockout is audited (the
/// others are only logged, so a spray of names cannot flood the chain).
async fn failed(dash: &Dash, user: &str, ip: IpAddr) {
    tracing::warn!("dashboard login failed for {user:?} from {ip}");
    if dash.limiter.fail(user, ip, Instant::now()) == MAX_FAILURES {
        let rec = admin_record(
            user,
            "login-locked",
            format!(
                "{MAX_FAILURES} failed dashboard logins from {ip}; locked for {} s",
                WINDOW.as_secs()
            ),
        );
        if let Err(e) = dash.app.audit_admin(rec).await {
            tracing::error!("could not audit a dashboard lockout: {e}");
        }
    }
}

fn too_many(secs: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, secs.to_string())],
        Json(json!({
            "error": format!("too many failed logins; try again in {secs} s")
        })),
    )
        .into_response()
}

/// A valid hash of nothing anyone can type, computed once.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| {
            super::credentials::hash_password("\u{0}not a password\u{0}").unwrap_or_default()
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_out_that_user_from_that_address_for_a_minute() {
        let limiter = RateLimiter::default();
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        let t0 = Instant::now();
        for i in 0..MAX_FAILURES {
            assert_eq!(limiter.retry_after("alice", ip, t0), None, "attempt {i}");
            limiter.fail("alice", ip, t0);
        }
        assert!(limiter.retry_after("alice", ip, t0).is_some());
        assert_eq!(limiter.retry_after("alice", other, t0), None);
        assert_eq!(limiter.retry_after("bob", ip, t0), None);
        assert_eq!(limiter.retry_after("alice", ip, t0 + WINDOW), None);
        limiter.fail("alice", ip, t0);
        limiter.clear("alice", ip);
        assert_eq!(limiter.retry_after("alice", ip, t0), None);
    }
}
