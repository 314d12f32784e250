//! The daemon's own state beside the audit log: held approvals, session grants,
//! API tokens and the lockdown switch, in the same SQLite file.
//!
//! Rows keep the domain value as JSON (`body`) plus the few columns queries
//! filter on; the domain types in `gatehouse-core` stay the single definition.

use std::path::Path;

use gatehouse_core::Timestamp;
use gatehouse_core::approval::{Approval, ApprovalStatus, Grant};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// A failure of the daemon's storage; the message says which operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DaemonStoreError {
    #[error("daemon store: {context}: {source}")]
    Sqlite {
        context: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error("daemon store: stored {what} is corrupt: {source}")]
    Corrupt {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("daemon store: cannot encode {what}: {source}")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
}

type Result<T> = std::result::Result<T, DaemonStoreError>;

fn sql(context: &'static str) -> impl FnOnce(rusqlite::Error) -> DaemonStoreError {
    move |source| DaemonStoreError::Sqlite { context, source }
}

/// What a token may do. Ordered: each role can do everything the previous can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Hooks and SDKs: submit calls, wait on and cancel their own approvals.
    Agent,
    /// People: list, show, approve, deny.
    Approver,
    /// Lockdown, grants, tokens, policy reload.
    Admin,
}

impl Role {
    /// The lowercase wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    /// The role a wire name denotes.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "agent" => Some(Role::Agent),
            "approver" => Some(Role::Approver),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// An API token as stored: never the secret itself, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Unique name: the identity recorded on every action taken with it.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Hex SHA-256 of the secret.
    #[serde(skip_serializing)]
    pub hash: String,
    /// When it was made.
    pub created_at: Timestamp,
    /// Set once revoked; a revoked token authenticates nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<Timestamp>,
}

/// The daemon's tables on one SQLite connection.
pub struct DaemonStore {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals(status, created_at);
CREATE TABLE IF NOT EXISTS grants (
    id TEXT PRIMARY KEY,
    session TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS daemon_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
";

impl DaemonStore {
    /// Open (creating if needed) the daemon tables in the SQLite file at `path`.
    /// WAL with `synchronous=NORMAL`: a commit survives a process kill; the
    /// daemon groups writes into few transactions for throughput.
    pub fn open(path: &Path) -> Result<DaemonStore> {
        let mut conn = Connection::open(path).map_err(sql("open database"))?;
        conn.busy_handler(Some(crate::sqlite::wait_for_lock))
            .map_err(sql("set busy handler"))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sql("enable WAL"))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(sql("set synchronous"))?;
        DaemonStore::with_connection(conn)
    }

    /// Use an already open connection (in-memory databases in tests).
    pub fn with_connection(conn: Connection) -> Result<DaemonStore> {
        conn.execute_batch(SCHEMA).map_err(sql("create tables"))?;
        Ok(DaemonStore { conn })
    }

    /// Run `f` in one transaction: every write inside commits together or not at all.
    pub fn transaction<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let tx = self.conn.transaction().map_err(sql("begin transaction"))?;
        let out = f(&Tx { tx: &tx })?;
        tx.commit().map_err(sql("commit"))?;
        Ok(out)
    }

    /// Every approval still pending, oldest first (restored after a restart).
    pub fn pending_approvals(&self) -> Result<Vec<Approval>> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM approvals WHERE status = 'pending' ORDER BY created_at")
            .map_err(sql("query pending approvals"))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(sql("query pending approvals"))?;
        let mut out = Vec::new();
        for row in rows {
            let body = row.map_err(sql("read approval"))?;
            out.push(decode(&body, "approval")?);
        }
        Ok(out)
    }

    /// One approval by id, whatever its state.
    pub fn approval(&self, id: &str) -> Result<Option<Approval>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM approvals WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(sql("read approval"))?;
        body.map(|b| decode(&b, "approval")).transpose()
    }

    /// The most recent approvals, newest first, optionally of one status.
    pub fn recent_approvals(
        &self,
        status: Option<ApprovalStatus>,
        limit: u32,
    ) -> Result<Vec<Approval>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT body FROM approvals WHERE (?1 IS NULL OR status = ?1)
                 ORDER BY created_at DESC LIMIT ?2",
            )
            .map_err(sql("query approvals"))?;
        let rows = stmt
            .query_map(params![status.map(ApprovalStatus::as_str), limit], |r| {
                r.get::<_, String>(0)
            })
            .map_err(sql("query approvals"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(decode(&row.map_err(sql("read approval"))?, "approval")?);
        }
        Ok(out)
    }

    /// Every grant not yet revoked and not past its TTL at `now`.
    pub fn active_grants(&self, now: Timestamp) -> Result<Vec<Grant>> {
        let mut stmt = self
            .conn
            .prepare("SELECT body FROM grants WHERE revoked_at IS NULL AND expires_at > ?1")
            .map_err(sql("query grants"))?;
        let rows = stmt
            .query_map([now.millis()], |r| r.get::<_, String>(0))
            .map_err(sql("query grants"))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(decode(&row.map_err(sql("read grant"))?, "grant")?);
        }
        Ok(out)
    }

    /// Every token, revoked ones included (for `token list`).
    pub fn tokens(&self) -> Result<Vec<TokenRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, role, hash, created_at, revoked_at FROM tokens ORDER BY name")
            .map_err(sql("query tokens"))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })
            .map_err(sql("query tokens"))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, role, hash, created_at, revoked_at) = row.map_err(sql("read token"))?;
            // A role this version does not know authenticates as nothing.
            let Some(role) = Role::parse(&role) else {
                continue;
            };
            out.push(TokenRecord {
                name,
                role,
                hash,
                created_at: Timestamp(created_at),
                revoked_at: revoked_at.map(Timestamp),
            });
        }
        Ok(out)
    }

    /// Whether lockdown is on (persisted across restarts).
    pub fn lockdown(&self) -> Result<bool> {
        let v: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM daemon_settings WHERE key = 'lockdown'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(sql("read lockdown"))?;
        Ok(v.as_deref() == Some("on"))
    }
}

/// Writes inside one [`DaemonStore::transaction`].
pub struct Tx<'a> {
    tx: &'a rusqlite::Transaction<'a>,
}

impl Tx<'_> {
    /// Insert or replace an approval (every transition rewrites the row).
    pub fn put_approval(&self, a: &Approval) -> Result<()> {
        let body = encode(a, "approval")?;
        self.tx
            .prepare_cached(
                "INSERT INTO approvals (id, status, created_at, expires_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO UPDATE SET status = ?2, body = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.id,
                    a.status.as_str(),
                    a.created_at.millis(),
                    a.expires_at.millis(),
                    body
                ])
            })
            .map_err(sql("write approval"))?;
        Ok(())
    }

    /// Insert or replace a grant (revocation rewrites it).
    pub fn put_grant(&self, g: &Grant) -> Result<()> {
        let body = encode(g, "grant")?;
        self.tx
            .prepare_cached(
                "INSERT INTO grants (id, session, expires_at, revoked_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(id) DO UPDATE SET revoked_at = ?4, body = ?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    g.id,
                    g.session,
                    g.expires_at.millis(),
                    g.revoked_at.map(Timestamp::millis),
                    body
                ])
            })
            .map_err(sql("write grant"))?;
        Ok(())
    }

    /// Store a new token; `false` if the name is taken.
    pub fn insert_token(&self, t: &TokenRecord) -> Result<bool> {
        let n = self
            .tx
            .execute(
                "INSERT OR IGNORE INTO tokens (name, role, hash, created_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    t.name,
                    t.role.as_str(),
                    t.hash,
                    t.created_at.millis(),
                    t.revoked_at.map(Timestamp::millis)
                ],
            )
            .map_err(sql("write token"))?;
        Ok(n == 1)
    }

    /// Insert a token, or give an existing one of that name this role and
    /// hash and make it live again (the local credentials, rewritten at start).
    pub fn upsert_token(&self, t: &TokenRecord) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO tokens (name, role, hash, created_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, NULL)
                 ON CONFLICT(name) DO UPDATE SET role = ?2, hash = ?3, revoked_at = NULL",
                params![t.name, t.role.as_str(), t.hash, t.created_at.millis()],
            )
            .map_err(sql("write token"))?;
        Ok(())
    }

    /// Revoke a token by name; `false` if there is no such live token.
    pub fn revoke_token(&self, name: &str, now: Timestamp) -> Result<bool> {
        let n = self
            .tx
            .execute(
                "UPDATE tokens SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now.millis()],
            )
            .map_err(sql("revoke token"))?;
        Ok(n == 1)
    }

    /// Turn lockdown on or off.
    pub fn set_lockdown(&self, on: bool) -> Result<()> {
        self.tx
            .execute(
                "INSERT INTO daemon_settings (key, value) VALUES ('lockdown', ?1)
                 ON CONFLICT(key) DO UPDATE SET value = ?1",
                [if on { "on" } else { "off" }],
            )
            .map_err(sql("write lockdown"))?;
        Ok(())
    }
}

fn encode<T: Serialize>(v: &T, what: &'static str) -> Result<String> {
    serde_json::to_string(v).map_err(|source| DaemonStoreError::Encode { what, source })
}

fn decode<T: for<'de> Deserialize<'de>>(text: &str, what: &'static str) -> Result<T> {
    serde_json::from_str(text).map_err(|source| DaemonStoreError::Corrupt { what, source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::approval::{Channel, Event};
    use gatehouse_core::{Action, CallContext, Decision, ToolCall};

    fn store() -> DaemonStore {
        let conn = Connection::open_in_memory().expect("in-memory sqlite");
        DaemonStore::with_connection(conn).expect("schema")
    }

    fn approval(id: &str, at: i64) -> Approval {
        let ctx = CallContext {
            session: Some("s".into()),
            ..CallContext::default()
        };
        Approval::new(
            id.into(),
            ToolCall::exec("make deploy"),
            ctx,
            Decision::bare(Action::Ask, "x"),
            "agent".into(),
            Timestamp(at),
            60,
        )
    }

    #[test]
    fn pending_approvals_survive_and_resolved_ones_leave_the_queue() {
        let mut s = store();
        let mut a = approval("a", 1);
        let b = approval("b", 2);
        s.transaction(|tx| {
            tx.put_approval(&a)?;
            tx.put_approval(&b)
        })
        .expect("write");
        let ids: Vec<String> = s
            .pending_approvals()
            .expect("read")
            .into_iter()
            .map(|a| a.id)
            .collect();
        assert_eq!(ids, vec!["a", "b"]);

        let ev = Event::Approve {
            approver: "alice".into(),
            channel: Channel::Cli,
            reason: None,
            grant_ttl_secs: Some(60),
        };
        a.apply(ev, Timestamp(10)).expect("approve");
        let grant = a.grant("g".into()).expect("grant");
        s.transaction(|tx| {
            tx.put_approval(&a)?;
            tx.put_grant(&grant)
        })
        .expect("write");
        let pending = s.pending_approvals().expect("read");
        assert_eq!(pending.len(), 1);
        assert_eq!(
            s.approval("a").expect("read").map(|a| a.status),
            Some(ApprovalStatus::Approved)
        );
        assert_eq!(
            s.recent_approvals(Some(ApprovalStatus::Approved), 10)
                .expect("read")
                .len(),
            1
        );
        assert_eq!(s.active_grants(Timestamp(20)).expect("read"), vec![grant]);
        assert!(s.active_grants(Timestamp(60_010)).expect("read").is_empty());
    }

    #[test]
    fn tokens_have_unique_names_and_revoke_once() {
        let mut s = store();
        let t = TokenRecord {
            name: "ci".into(),
            role: Role::Agent,
            hash: "00".into(),
            created_at: Timestamp(1),
            revoked_at: None,
        };
        assert!(s.transaction(|tx| tx.insert_token(&t)).expect("insert"));
        let dup = TokenRecord {
            hash: "11".into(),
            ..t.clone()
        };
        assert!(!s.transaction(|tx| tx.insert_token(&dup)).expect("insert"));
        assert!(
            s.transaction(|tx| tx.revoke_token("ci", Timestamp(5)))
                .expect("revoke")
        );
        assert!(
            !s.transaction(|tx| tx.revoke_token("ci", Timestamp(6)))
                .expect("revoke")
        );
        assert_eq!(s.tokens().expect("list")[0].revoked_at, Some(Timestamp(5)));
    }

    #[test]
    fn lockdown_is_persisted() {
        let mut s = store();
        assert!(!s.lockdown().expect("read"));
        s.transaction(|tx| tx.set_lockdown(true)).expect("write");
        assert!(s.lockdown().expect("read"));
        s.transaction(|tx| tx.set_lockdown(false)).expect("write");
        assert!(!s.lockdown().expect("read"));
    }
}
