//! Who a dashboard request is: the session cookie, and the CSRF token that
//! every state-changing request must carry.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use gatehouse_core::approval::Channel;
use gatehouse_store::daemon_store::Role;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::Dash;
use crate::auth::Caller;
use crate::clock;
use crate::error::ApiError;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "gh_session";
/// Name of the cookie that pairs with the login form's CSRF token.
pub const LOGIN_COOKIE: &str = "gh_login";
/// Header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a login lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;

/// A logged-in user (any method).
#[derive(Debug, Clone)]
pub struct Session {
    /// The user's name: the identity on everything they do.
    pub user: String,
    /// What they may do.
    pub role: Role,
    /// This session's CSRF token (handed to the page).
    pub csrf: String,
    /// Hash of the cookie secret (to log out).
    pub id_hash: String,
}

impl Session {
    /// The caller the daemon's operations record: this user, via the dashboard.
    pub fn caller(&self) -> Caller {
        Caller {
            name: self.user.clone(),
            role: self.role,
            channel: Channel::Dashboard,
        }
    }

    /// `Ok` if the user has at least `role`, else 403.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        self.caller().require(role).map_err(|_| {
            ApiError::Forbidden(format!(
                "user {:?} is {}; this needs {}",
                self.user,
                self.role.as_str(),
                role.as_str()
            ))
        })
    }
}

/// A logged-in user whose request carried the right CSRF token: the only way
/// into a state-changing handler.
#[derive(Debug, Clone)]
pub struct CsrfSession(pub Session);

/// Hex SHA-256 of a cookie secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// 256 random bits as hex.
pub fn random_hex() -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| ApiError::Unavailable(format!("no randomness available: {e}")))?;
    Ok(hex::encode(bytes))
}

/// The value of cookie `name` in the request, if present.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// Constant-time comparison of the request's CSRF header with `expected`.
pub fn csrf_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(got) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    !expected.is_empty() && bool::from(got.as_bytes().ct_eq(expected.as_bytes()))
}

/// Whether cookies may go without `Secure`: only when the browser talks to a
/// loopback address over plain HTTP (anything else must be behind TLS).
pub fn secure_cookies(headers: &HeaderMap) -> bool {
    if headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"))
    {
        return true;
    }
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    !(name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback()))
}

/// A `Set-Cookie` value with the dashboard's attributes.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    )
}

impl FromRequestParts<Dash> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, dash: &Dash) -> Result<Self, ApiError> {
        let secret = cookie(&parts.headers, SESSION_COOKIE)
            .ok_or_else(|| ApiError::Unauthorized("log in first".into()))?;
        let id_hash = hash_secret(&secret);
        let now = clock::now();
        let guard = dash.users.lock().unwrap_or_else(|p| p.into_inner());
        let store = guard.as_ref().ok_or_else(|| {
            ApiError::Unavailable("the dashboard's user table is unavailable".into())
        })?;
        let session = store
            .session(&id_hash, now)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .ok_or_else(|| ApiError::Unauthorized("session expired; log in again".into()))?;
        // The user may have been removed or changed since logging in.
        let user = store
            .user(&session.user)
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .filter(|u| u.role >= Role::Approver)
            .ok_or_else(|| ApiError::Unauthorized("this user no longer exists".into()))?;
        Ok(Session {
            user: user.name,
            role: user.role,
            csrf: session.csrf,
            id_hash,
        })
    }
}

impl FromRequestParts<Dash> for CsrfSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, dash: &Dash) -> Result<Self, ApiError> {
        let session = Session::from_request_parts(parts, dash).await?;
        if !csrf_matches(&parts.headers, &session.csrf) {
            return Err(ApiError::Forbidden(
                "missing or wrong CSRF token; reload the page".into(),
            ));
        }
        Ok(CsrfSession(session))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    #[test]
    fn cookies_are_found_among_several() {
        let h = headers(&[("cookie", "a=1; gh_session=abc; b=2"), ("cookie", "c=3")]);
        assert_eq!(cookie(&h, "gh_session").as_deref(), Some("abc"));
        assert_eq!(cookie(&h, "c").as_deref(), Some("3"));
        assert_eq!(cookie(&h, "gh"), None);
    }

    #[test]
    fn csrf_needs_the_exact_token() {
        assert!(csrf_matches(&headers(&[("x-csrf-token", "t0k")]), "t0k"));
        assert!(!csrf_matches(&headers(&[("x-csrf-token", "t0K")]), "t0k"));
        assert!(!csrf_matches(&headers(&[]), "t0k"));
        assert!(!csrf_matches(&headers(&[("x-csrf-token", "")]), ""));
    }

    #[test]
    fn cookies_are_secure_except_on_loopback() {
        for host in ["127.0.0.1:9090", "localhost:1", "[::1]:80", "127.1.2.3"] {
            assert!(!secure_cookies(&headers(&[("host", host)])), "{host}");
        }
        for host in ["gate.example.com", "10.0.0.2:9090", "[fe80::1]:1", ""] {
            assert!(secure_cookies(&headers(&[("host", host)])), "{host}");
        }
        assert!(secure_cookies(&headers(&[
            ("host", "127.0.0.1:9090"),
            ("x-forwarded-proto", "https")
        ])));
    }
}
