//! Bearer tokens: generation, hashing, and who a request is.
//!
//! A token is 256 random bits, shown once; only its SHA-256 is stored. Lookup
//! is by hash, and the stored hash is compared again in constant time.

use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use gatehouse_core::approval::Channel;
use gatehouse_store::daemon_store::{Role, TokenRecord};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::ApiError;
use crate::state::AppState;

/// Prefix of every gatehouse token, so secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "gh_";

/// A token the binary wants to exist at start (the local credentials).
#[derive(Debug, Clone)]
pub struct LocalToken {
    /// Its identity.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Hex SHA-256 of the secret ([`hash_token`]).
    pub hash: String,
}

/// A new random token secret: `gh_` + 64 hex digits (256 bits).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// Hex SHA-256 of a token secret: what is stored and looked up.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Random hex id of `bytes` bytes for approvals and grants.
pub fn new_id(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    // Ids need uniqueness, not secrecy; on the (theoretical) failure of the OS
    // generator, fall back to the clock and a counter rather than fail a request.
    if getrandom::fill(&mut buf).is_err() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        return format!("{:x}{n:x}", crate::clock::now().millis());
    }
    hex::encode(buf)
}

/// The live tokens, by hash.
#[derive(Debug, Default)]
pub struct TokenTable {
    by_hash: HashMap<String, (String, Role)>,
}

impl TokenTable {
    /// A table of the live (not revoked) tokens among `records`.
    pub fn from_records(records: &[TokenRecord]) -> TokenTable {
        let by_hash = records
            .iter()
            .filter(|t| t.revoked_at.is_none())
            .map(|t| (t.hash.clone(), (t.name.clone(), t.role)))
            .collect();
        TokenTable { by_hash }
    }

    /// Who `secret` belongs to, if anyone.
    pub fn identify(&self, secret: &str) -> Option<(String, Role)> {
        let hash = hash_token(secret);
        let (stored_hash, who) = self.by_hash.get_key_value(&hash)?;
        bool::from(stored_hash.as_bytes().ct_eq(hash.as_bytes())).then(|| who.clone())
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The token's name: the identity recorded on everything it does.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// The channel the client says it is (`X-Gatehouse-Channel: cli`); `api` otherwise.
    pub channel: Channel,
}

impl Caller {
    /// `Ok` if the caller has at least `role`, else 403.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "token {:?} has role {}; this needs {}",
                self.name,
                self.role.as_str(),
                role.as_str()
            )))
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
            })?;
        let secret = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| ApiError::Unauthorized("expected a Bearer token".into()))?;
        let (name, role) = state
            .identify(secret.trim())
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?;
        // People choose their channel among the ones a token can honestly be;
        // the dashboard, Slack and links authenticate through their own paths.
        let channel = match parts
            .headers
            .get("x-gatehouse-channel")
            .and_then(|v| v.to_str().ok())
        {
            Some("cli") => Channel::Cli,
            _ => Channel::Api,
        };
        Ok(Caller {
            name,
            role,
            channel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::Timestamp;

    #[test]
    fn tokens_are_random_and_identify_only_live_ones() {
        let a = new_token().expect("random");
        let b = new_token().expect("random");
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 3 + 64);
        let table = TokenTable::from_records(&[
            TokenRecord {
                name: "hook".into(),
                role: Role::Agent,
                hash: hash_token(&a),
                created_at: Timestamp(0),
                revoked_at: None,
            },
            TokenRecord {
                name: "old".into(),
                role: Role::Admin,
                hash: hash_token(&b),
                created_at: Timestamp(0),
                revoked_at: Some(Timestamp(1)),
            },
        ]);
        assert_eq!(table.identify(&a), Some(("hook".into(), Role::Agent)));
        assert_eq!(table.identify(&b), None);
        assert_eq!(table.identify("gh_nope"), None);
    }
}
