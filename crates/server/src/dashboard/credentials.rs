//! Dashboard credentials: the password (Argon2id) and the TOTP second factor.
//!
//! `gatehouse user add` enrols a user through [`enrol`]; the login route
//! checks both factors through [`verify_password`] and [`check_totp`].

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use gatehouse_core::Timestamp;
use gatehouse_store::daemon_store::Role;
use gatehouse_store::users::UserRecord;
use totp_rs::{Builder, Secret, Totp};

/// Who issues the TOTP codes, as authenticator apps show it.
pub const TOTP_ISSUER: &str = "gatehouse";

/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 12;

/// Why a user cannot be enrolled.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("user name must be 1-64 characters of letters, digits, '.', '_', '-' or '@'")]
    BadName,
    #[error("role {0} cannot log into the dashboard; use approver or admin")]
    BadRole(&'static str),
    #[error("the password must be at least {MIN_PASSWORD_LEN} characters")]
    WeakPassword,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error("no randomness for the TOTP secret: {0}")]
    Random(String),
    #[error("cannot build the TOTP enrolment: {0}")]
    Totp(String),
}

/// A new user ready to store, plus what to show them once.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// The row to store.
    pub user: UserRecord,
    /// `otpauth://totp/...` for authenticator apps (also rendered as a QR code).
    pub otpauth_uri: String,
}

/// Check a name, hash the password and create a TOTP secret for a new user.
pub fn enrol(
    name: &str,
    role: Role,
    password: &str,
    now: Timestamp,
) -> Result<Enrolment, CredentialError> {
    let name_ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !name_ok {
        return Err(CredentialError::BadName);
    }
    if role == Role::Agent {
        return Err(CredentialError::BadRole(role.as_str()));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(CredentialError::WeakPassword);
    }
    let password_hash = hash_password(password)?;
    let mut secret = [0u8; 20];
    getrandom::fill(&mut secret).map_err(|e| CredentialError::Random(e.to_string()))?;
    let totp_secret = Secret::from(secret.to_vec()).to_base32();
    let totp =
        totp(&totp_secret, name).ok_or_else(|| CredentialError::Totp("bad secret".into()))?;
    let otpauth_uri = totp
        .to_url()
        .map_err(|e| CredentialError::Totp(e.to_string()))?;
    Ok(Enrolment {
        user: UserRecord {
            name: name.to_owned(),
            role,
            password_hash,
            totp_secret,
            totp_last_step: 0,
            created_at: now,
        },
        otpauth_uri,
    })
}

/// Argon2id (the crate's defaults: 19 MiB, 2 passes) PHC string of `password`.
pub fn hash_password(password: &str) -> Result<String, CredentialError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CredentialError::Hash(e.to_string()))
}

/// Whether `password` matches the stored PHC string (constant-time inside argon2).
/// A corrupt stored hash matches nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// The time step `code` is valid for at `now` (one step of clock skew either
/// way), or `None`. The caller must accept each step once per user.
pub fn check_totp(secret_base32: &str, account: &str, code: &str, now: Timestamp) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs = u64::try_from(now.millis() / 1000).ok()?;
    totp(secret_base32, account)?.check(code, secs)
}

/// The current code for a secret (tests and the enrolment check).
pub fn totp_code(secret_base32: &str, account: &str, now: Timestamp) -> Option<String> {
    let secs = u64::try_from(now.millis() / 1000).ok()?;
    Some(totp(secret_base32, account)?.generate(secs).to_string())
}

fn totp(secret_base32: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(TOTP_ISSUER))
        .build()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enrolment_hashes_the_password_and_issues_a_working_totp() {
        let now = Timestamp(1_700_000_000_000);
        let e = enrol("alice", Role::Approver, "correct horse battery", now).expect("enrol");
        assert!(e.user.password_hash.starts_with("$argon2id$"));
        assert!(!e.user.password_hash.contains("correct horse"));
        assert!(verify_password(
            "correct horse battery",
            &e.user.password_hash
        ));
        assert!(!verify_password(
            "correct horse batterY",
            &e.user.password_hash
        ));
        assert!(e.otpauth_uri.starts_with("otpauth://totp/"));
        assert!(
            e.otpauth_uri
                .contains(&format!("secret={}", e.user.totp_secret))
        );
        let code = totp_code(&e.user.totp_secret, "alice", now).expect("code");
        assert!(check_totp(&e.user.totp_secret, "alice", &code, now).is_some());
        // Two steps later the code is stale.
        let later = now.plus_millis(90_000);
        assert!(check_totp(&e.user.totp_secret, "alice", &code, later).is_none());
    }

    #[test]
    fn bad_enrolments_are_refused_with_a_reason() {
        let now = Timestamp(0);
        assert!(matches!(
            enrol("", Role::Admin, "long enough pass", now),
            Err(CredentialError::BadName)
        ));
        assert!(matches!(
            enrol("a b", Role::Admin, "long enough pass", now),
            Err(CredentialError::BadName)
        ));
        assert!(matches!(
            enrol("bot", Role::Agent, "long enough pass", now),
            Err(CredentialError::BadRole(_))
        ));
        assert!(matches!(
            enrol("bob", Role::Admin, "short", now),
            Err(CredentialError::WeakPassword)
        ));
    }

    #[test]
    fn malformed_codes_and_hashes_match_nothing() {
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let now = Timestamp(1_700_000_000_000);
        for code in ["", "12345", "1234567", "abcdef", "12 456"] {
            assert!(check_totp(secret, "a", code, now).is_none(), "{code:?}");
        }
        assert!(check_totp("not base32!", "a", "123456", now).is_none());
        assert!(!verify_password("x", "not a phc string"));
    }
}
