//! Dashboard users and their login sessions, in the daemon's SQLite file.
//!
//! A user row keeps the password only as an Argon2 PHC string and the TOTP
//! secret (needed to check codes) in base32; the data dir is owner-only. A
//! session row keeps only the SHA-256 of the cookie's secret, so a copy of
//! the database does not let anyone log in.

use std::path::Path;

use gatehouse_core::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::daemon_store::{DaemonStoreError, Role};

type Result<T> = std::result::Result<T, DaemonStoreError>;

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> DaemonStoreError {
    move |source| DaemonStoreError::Sqlite { context, source }
}

/// A person who may log into the dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRecord {
    /// Login name: the identity recorded on everything they approve or deny.
    pub name: String,
    /// What they may do (approver or admin; agents never log in).
    pub role: Role,
    /// Argon2 PHC string of the password (never the password).
    #[serde(skip_serializing)]
    pub password_hash: String,
    /// Base32 TOTP secret: the second factor.
    #[serde(skip_serializing)]
    pub totp_secret: String,
    /// The last TOTP time step accepted, so a code is used at most once.
    #[serde(skip_serializing)]
    pub totp_last_step: u64,
    /// When the user was added.
    pub created_at: Timestamp,
}

/// A logged-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Hex SHA-256 of the cookie's secret: what is looked up.
    pub id_hash: String,
    /// Whose session it is.
    pub user: String,
    /// The anti-CSRF token every state-changing request of this session carries.
    pub csrf: String,
    /// When the user logged in.
    pub created_at: Timestamp,
    /// After this the session is refused and the user logs in again.
    pub expires_at: Timestamp,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS dashboard_users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    totp_secret TEXT NOT NULL,
    totp_last_step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    id_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
";

/// The dashboard's tables on one SQLite connection.
pub struct UserStore {
    conn: Connection,
}

impl UserStore {
    /// Open (creating if needed) the dashboard tables in the SQLite file at `path`.
    pub fn open(path: &Path) -> Result<UserStore> {
        let mut conn = Connection::open(path).map_err(sql("open database"))?;
        conn.busy_handler(Some(crate::sqlite::wait_for_lock))
            .map_err(sql("set busy handler"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("enable WAL"))?;
        UserStore::with_connection(conn)
    }

    /// Use an already open connection (in-memory databases in tests).
    pub fn with_connection(conn: Connection) -> Result<UserStore> {
        conn.execute_batch(SCHEMA)
            .map_err(sql("create dashboard tables"))?;
        Ok(UserStore { conn })
    }

    /// Add a user; `false` if the name is taken (nothing changes then).
    pub fn add_user(&self, u: &UserRecord) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO dashboard_users
                 (name, role, password_hash, totp_secret, totp_last_step, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    u.name,
                    u.role.as_str(),
                    u.password_hash,
                    u.totp_secret,
                    i64::try_from(u.totp_last_step).unwrap_or(i64::MAX),
                    u.created_at.millis()
                ],
            )
            .map_err(sql("add user"))?;
        Ok(n == 1)
    }

    /// The user called `name`, if any.
    pub fn user(&self, name: &str) -> Result<Option<UserRecord>> {
        self.conn
            .query_row(
                "SELECT name, role, password_hash, totp_secret, totp_last_step, created_at
                 FROM dashboard_users WHERE name = ?1",
                params![name],
                user_row,
            )
            .optional()
            .map_err(sql("read user"))
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<UserRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT name, role, password_hash, totp_secret, totp_last_step, created_at
                 FROM dashboard_users ORDER BY name",
            )
            .map_err(sql("list users"))?;
        let rows = stmt.query_map([], user_row).map_err(sql("list users"))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(sql("list users"))
    }

    /// Remove a user and end their sessions; `false` if there was no such user.
    pub fn remove_user(&self, name: &str) -> Result<bool> {
        self.conn
            .execute(
                "DELETE FROM dashboard_sessions WHERE user = ?1",
                params![name],
            )
            .map_err(sql("end sessions"))?;
        let n = self
            .conn
            .execute("DELETE FROM dashboard_users WHERE name = ?1", params![name])
            .map_err(sql("remove user"))?;
        Ok(n == 1)
    }

    /// Record that TOTP step `step` was used by `name`, only if it is newer
    /// than the last one; `false` means the code was already used (a replay).
    pub fn consume_totp_step(&self, name: &str, step: u64) -> Result<bool> {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        let n = self
            .conn
            .execute(
                "UPDATE dashboard_users SET totp_last_step = ?2
                 WHERE name = ?1 AND totp_last_step < ?2",
                params![name, step],
            )
            .map_err(sql("record TOTP use"))?;
        Ok(n == 1)
    }

    /// Store a new session.
    pub fn put_session(&self, s: &SessionRecord) -> Result<()> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO dashboard_sessions (id_hash, user, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    s.id_hash,
                    s.user,
                    s.csrf,
                    s.created_at.millis(),
                    s.expires_at.millis()
                ],
            )
            .map_err(sql("store session"))?;
        Ok(())
    }

    /// The live session whose secret hashes to `id_hash` at `now`, if any.
    pub fn session(&self, id_hash: &str, now: Timestamp) -> Result<Option<SessionRecord>> {
        self.conn
            .query_row(
                "SELECT id_hash, user, csrf, created_at, expires_at FROM dashboard_sessions
                 WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, now.millis()],
                |r| {
                    Ok(SessionRecord {
                        id_hash: r.get(0)?,
                        user: r.get(1)?,
                        csrf: r.get(2)?,
                        created_at: Timestamp(r.get(3)?),
                        expires_at: Timestamp(r.get(4)?),
                    })
                },
            )
            .optional()
            .map_err(sql("read session"))
    }

    /// End one session (logout).
    pub fn delete_session(&self, id_hash: &str) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM dashboard_sessions WHERE id_hash = ?1",
                params![id_hash],
            )
            .map_err(sql("end session"))?;
        Ok(())
    }

    /// Forget sessions that expired before `now`.
    pub fn prune_sessions(&self, now: Timestamp) -> Result<usize> {
        self.conn
            .execute(
                "DELETE FROM dashboard_sessions WHERE expires_at <= ?1",
                params![now.millis()],
            )
            .map_err(sql("prune sessions"))
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = r.get(1)?;
    let last: i64 = r.get(4)?;
    Ok(UserRecord {
        name: r.get(0)?,
        // An unknown role in the file grants the least: agent, which cannot log in.
        role: Role::parse(&role).unwrap_or(Role::Agent),
        password_hash: r.get(2)?,
        totp_secret: r.get(3)?,
        totp_last_step: u64::try_from(last).unwrap_or(0),
        created_at: Timestamp(r.get(5)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> UserStore {
        UserStore::with_connection(Connection::open_in_memory().expect("memory db"))
            .expect("schema")
    }

    fn alice() -> UserRecord {
        UserRecord {
            name: "alice".into(),
            role: Role::Approver,
            password_hash: "$argon2id$x".into(),
            totp_secret: "JBSWY3DPEHPK3PXP".into(),
            totp_last_step: 0,
            created_at: Timestamp(1),
        }
    }

    #[test]
    fn users_are_added_once_and_removed_with_their_sessions() {
        let s = store();
        assert!(s.add_user(&alice()).expect("add"));
        assert!(!s.add_user(&alice()).expect("add twice"), "name taken");
        assert_eq!(s.user("alice").expect("read"), Some(alice()));
        assert_eq!(s.users().expect("list").len(), 1);
        let session = SessionRecord {
            id_hash: "h".into(),
            user: "alice".into(),
            csrf: "c".into(),
            created_at: Timestamp(10),
            expires_at: Timestamp(100),
        };
        s.put_session(&session).expect("put");
        assert_eq!(s.session("h", Timestamp(50)).expect("read"), Some(session));
        assert!(s.remove_user("alice").expect("remove"));
        assert_eq!(s.session("h", Timestamp(50)).expect("read"), None);
        assert!(!s.remove_user("alice").expect("remove twice"));
    }

    #[test]
    fn expired_sessions_are_refused_and_pruned() {
        let s = store();
        s.add_user(&alice()).expect("add");
        s.put_session(&SessionRecord {
            id_hash: "h".into(),
            user: "alice".into(),
            csrf: "c".into(),
            created_at: Timestamp(10),
            expires_at: Timestamp(100),
        })
        .expect("put");
        assert_eq!(s.session("h", Timestamp(100)).expect("read"), None);
        assert_eq!(s.prune_sessions(Timestamp(100)).expect("prune"), 1);
    }

    #[test]
    fn a_totp_step_is_accepted_once_and_never_an_older_one() {
        let s = store();
        s.add_user(&alice()).expect("add");
        assert!(s.consume_totp_step("alice", 5).expect("first"));
        assert!(!s.consume_totp_step("alice", 5).expect("replay"));
        assert!(!s.consume_totp_step("alice", 4).expect("older"));
        assert!(s.consume_totp_step("alice", 6).expect("newer"));
    }
}
