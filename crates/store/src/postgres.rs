//! The shared backend: the audit log in PostgreSQL, for deployments where
//! several daemon replicas append to one chain.
//!
//! The chain stays linear across connections and replicas because every
//! append locks the single head row (`SELECT … FOR UPDATE`) for the length of
//! its transaction; durability is PostgreSQL's commit (`synchronous_commit`).
//! The client is the synchronous `postgres` crate: it runs its own small
//! runtime, so async callers must call it from `spawn_blocking`, never
//! directly on a runtime thread.

use std::sync::{Mutex, MutexGuard};

use gatehouse_core::audit::{
    AuditRecord, ChainFault, ChainHead, ChainVerifier, Hash, chain_hash, encode,
};
use postgres::types::ToSql;
use postgres::{Client, IsolationLevel, NoTls, Row, Statement, Transaction};

use crate::query::{self, Dialect, Param, seq_param};
use crate::row::{COLUMNS, RawRow};
use crate::{AuditEntry, AuditQuery, AuditStore, StoreError, Verification};

/// Migrations in order; `MIGRATIONS[i]` takes the audit schema from version `i` to `i + 1`.
/// Append only. Same columns as the SQLite schema (see `row::COLUMNS`).
const MIGRATIONS: &[&str] = &["
    CREATE TABLE audit_log (
        seq          BIGINT PRIMARY KEY,
        v            BIGINT NOT NULL,
        time         BIGINT NOT NULL,
        kind         TEXT NOT NULL,
        host         TEXT,
        session      TEXT,
        host_session TEXT,
        agent        TEXT,
        cwd          TEXT,
        tool         TEXT NOT NULL,
        class        TEXT,
        input        TEXT NOT NULL,   -- canonical JSON verbatim (jsonb would re-normalise it)
        decision     TEXT,
        rules        TEXT NOT NULL,
        severity     TEXT,
        message      TEXT,
        approval_id  TEXT,
        actor        TEXT,
        channel      TEXT,
        reason       TEXT,
        outcome      TEXT,
        prev         BYTEA NOT NULL,
        hash         BYTEA NOT NULL
    );
    CREATE INDEX audit_log_time ON audit_log(time);
    CREATE INDEX audit_log_session ON audit_log(session);
    -- One row, always present: appends lock it to stay linear. seq 0 = empty log.
    CREATE TABLE audit_head (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        seq  BIGINT NOT NULL,
        hash BYTEA NOT NULL
    );
    INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '\\x0000000000000000000000000000000000000000000000000000000000000000');
"];

/// Serialises schema changes across every connection to the database.
const MIGRATION_LOCK: i64 = 0x6761_7465_6175_6469; // "gateaudi"

/// PostgreSQL's spelling of the shared query SQL.
const DIALECT: Dialect = Dialect {
    placeholder: |n| format!("${n}"),
    rule_contains: |p| format!("(rules::jsonb ? {p})"),
};

/// The audit log in a PostgreSQL database (optionally in its own schema).
pub struct PostgresStore {
    client: Mutex<Connected>,
    shown: String,
}

struct Connected {
    client: Client,
    insert: Statement,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("database", &self.shown)
            .finish()
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgresql://user@host:port/db` or `host=… user=…`),
    /// migrating the audit tables in the default schema.
    pub fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with_schema(url, None)
    }

    /// Connects with the audit tables in `schema` (created if missing): one
    /// database can then hold several independent logs (tenants, tests).
    /// `schema` is lowercase ASCII letters, digits and `_`.
    pub fn connect_in_schema(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with_schema(url, Some(schema))
    }

    fn connect_with_schema(url: &str, schema: Option<&str>) -> Result<PostgresStore, StoreError> {
        let shown = redact_url(url);
        let open = |e: postgres::Error| StoreError::Open {
            path: shown.clone(),
            source: Box::new(e),
        };
        if let Some(s) = schema
            && (s.is_empty()
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        {
            return Err(StoreError::Open {
                path: shown,
                source: format!("schema name {s:?} must be lowercase letters, digits and _").into(),
            });
        }
        let mut client = Client::connect(url, NoTls).map_err(open)?;
        migrate(&mut client, schema, &shown)?;
        let insert = client.prepare(&insert_sql(1)).map_err(open)?;
        Ok(PostgresStore {
            client: Mutex::new(Connected { client, insert }),
            shown,
        })
    }

    /// Which database this is, without any password: for messages.
    pub fn location(&self) -> &str {
        &self.shown
    }

    fn lock(&self) -> MutexGuard<'_, Connected> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn migrate(client: &mut Client, schema: Option<&str>, shown: &str) -> Result<(), StoreError> {
    let open = |e: postgres::Error| StoreError::Open {
        path: shown.to_owned(),
        source: Box::new(e),
    };
    let mut tx = client.transaction().map_err(open)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .map_err(open)?;
    if let Some(schema) = schema {
        // `schema` was checked to be [a-z0-9_]+: safe to splice.
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
        ))
        .map_err(open)?;
    }
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS gatehouse_schema (
            component TEXT PRIMARY KEY,
            version   BIGINT NOT NULL
        )",
    )
    .map_err(open)?;
    let version: i64 = tx
        .query_opt(
            "SELECT version FROM gatehouse_schema WHERE component = 'audit'",
            &[],
        )
        .map_err(open)?
        .map(|r| r.get(0))
        .unwrap_or(0);
    let current = MIGRATIONS.len() as i64;
    if version > current {
        return Err(StoreError::SchemaTooNew {
            path: shown.to_owned(),
            found: version,
            supported: current,
        });
    }
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.batch_execute(migration).map_err(open)?;
    }
    tx.execute(
        "INSERT INTO gatehouse_schema (component, version) VALUES ('audit', $1)
         ON CONFLICT (component) DO UPDATE SET version = excluded.version",
        &[&current],
    )
    .map_err(open)?;
    tx.commit().map_err(open)?;
    if let Some(schema) = schema {
        // The transaction's SET ended with it; keep the schema for the session.
        client
            .batch_execute(&format!("SET search_path TO {schema}"))
            .map_err(open)?;
    }
    Ok(())
}

impl AuditStore for PostgresStore {
    fn append_batch(&self, records: &[AuditRecord]) -> Result<Vec<AuditEntry>, StoreError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut guard = self.lock();
        let Connected { client, insert } = &mut *guard;
        let mut tx = client.transaction().map_err(pg("begin append"))?;
        let (mut seq, mut prev) = lock_head(&mut tx)?;
        let mut entries = Vec::with_capacity(records.len());
        let mut rows = Vec::with_capacity(records.len());
        for record in records {
            seq += 1;
            let hash = chain_hash(&prev, seq, &encode(record));
            rows.push((seq_param(seq), RawRow::from_record(record, &prev, &hash)));
            entries.push(AuditEntry {
                seq,
                hash,
                prev,
                record: record.clone(),
            });
            prev = hash;
        }
        // Many rows per INSERT: one round trip per chunk instead of per row.
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let params: Vec<&(dyn ToSql + Sync)> = chunk
                .iter()
                .flat_map(|(seq, row)| row_params(seq, row))
                .collect();
            if chunk.len() == 1 {
                tx.execute(&*insert, &params)
            } else {
                tx.execute(insert_sql(chunk.len()).as_str(), &params)
            }
            .map_err(pg("insert records"))?;
        }
        let seq_i = seq_param(seq);
        tx.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&seq_i, &prev.0.as_slice()],
        )
        .map_err(pg("update head"))?;
        tx.commit().map_err(pg("commit append"))?;
        Ok(entries)
    }

    fn head(&self) -> Result<Option<ChainHead>, StoreError> {
        let mut guard = self.lock();
        match read_head(&mut guard.client)? {
            Some(Err(detail)) => Err(StoreError::Corrupt { seq: 0, detail }),
            Some(Ok(head)) if head.seq > 0 => Ok(Some(head)),
            _ => Ok(None),
        }
    }

    fn query(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let (sql, params) = query::select(q, &DIALECT);
        let params: Vec<Box<dyn ToSql + Sync>> = params
            .into_iter()
            .map(|p| -> Box<dyn ToSql + Sync> {
                match p {
                    Param::Int(n) => Box::new(n),
                    Param::Text(s) => Box::new(s),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|b| &**b).collect();
        let mut guard = self.lock();
        let rows = guard.client.query(&sql, &refs).map_err(pg("run query"))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let (seq, raw) = read_row(row)?;
            out.push(raw.entry(seq)?);
        }
        if q.newest {
            out.reverse();
        }
        Ok(out)
    }

    fn verify(&self) -> Result<Verification, StoreError> {
        let mut guard = self.lock();
        // One snapshot for head and records, however many appends happen meanwhile.
        let mut tx = guard
            .client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(pg("begin verify"))?;
        let head = match read_head(&mut tx)? {
            None => None,
            Some(Ok(head)) if head.seq == 0 => None,
            Some(Ok(head)) => Some(head),
            Some(Err(detail)) => return Ok(Err(ChainFault::HeadMismatch { seq: 0, detail })),
        };
        let mut verifier = ChainVerifier::new(head);
        let select = format!(
            "SELECT seq, {} FROM audit_log ORDER BY seq",
            COLUMNS.join(", ")
        );
        let portal = tx.bind(select.as_str(), &[]).map_err(pg("read records"))?;
        loop {
            let rows = tx.query_portal(&portal, 2000).map_err(pg("read records"))?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let (seq, raw) = read_row(row)?;
                if let Err(fault) = verifier.push(&raw.link(seq)) {
                    return Ok(Err(fault));
                }
            }
        }
        tx.commit().map_err(pg("end verify"))?;
        Ok(verifier.finish())
    }
}

fn pg(context: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |e| StoreError::Database {
        context,
        source: Box::new(e),
    }
}

/// Rows per multi-row INSERT: 23 parameters a row stays far below
/// PostgreSQL's 65,535-parameter limit.
const ROWS_PER_INSERT: usize = 200;

/// `INSERT` of `rows` rows, parameters numbered row after row.
fn insert_sql(rows: usize) -> String {
    let width = COLUMNS.len() + 1;
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let ps: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", ps.join(", "))
        })
        .collect();
    format!(
        "INSERT INTO audit_log (seq, {}) VALUES {}",
        COLUMNS.join(", "),
        tuples.join(", ")
    )
}

/// One row's parameters in `insert_sql` column order.
fn row_params<'a>(seq: &'a i64, row: &'a RawRow) -> [&'a (dyn ToSql + Sync); 23] {
    [
        seq,
        &row.v,
        &row.time,
        &row.kind,
        &row.host,
        &row.session,
        &row.host_session,
        &row.agent,
        &row.cwd,
        &row.tool,
        &row.class,
        &row.input,
        &row.decision,
        &row.rules,
        &row.severity,
        &row.message,
        &row.approval_id,
        &row.actor,
        &row.channel,
        &row.reason,
        &row.outcome,
        &row.prev,
        &row.hash,
    ]
}

/// Locks the head row for this transaction and returns where to continue.
fn lock_head(tx: &mut Transaction<'_>) -> Result<(u64, Hash), StoreError> {
    let row = tx
        .query_opt(
            "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
            &[],
        )
        .map_err(pg("lock head"))?;
    let Some(row) = row else {
        return Err(StoreError::HeadMissing);
    };
    let seq: i64 = row.get(0);
    let hash: Vec<u8> = row.get(1);
    match (u64::try_from(seq), Hash::from_slice(&hash)) {
        (Ok(seq), Some(hash)) => Ok((seq, hash)),
        _ => Err(StoreError::HeadMissing),
    }
}

/// The stored head: `None` if the row is gone, `Some(Err)` if unreadable.
fn read_head(
    client: &mut impl postgres::GenericClient,
) -> Result<Option<Result<ChainHead, String>>, StoreError> {
    let row = client
        .query_opt("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
        .map_err(pg("read head"))?;
    Ok(row.map(|row| {
        let seq: i64 = row.get(0);
        let hash: Vec<u8> = row.get(1);
        let seq = u64::try_from(seq).map_err(|_| format!("the head's seq is {seq}"))?;
        let hash = Hash::from_slice(&hash)
            .ok_or_else(|| format!("the head's hash holds {} bytes, not 32", hash.len()))?;
        Ok(ChainHead { seq, hash })
    }))
}

/// One row's seq and columns. The columns are typed, so a value of the wrong
/// type cannot be stored; what can be wrong is found by the verifier.
fn read_row(row: &Row) -> Result<(u64, RawRow), StoreError> {
    let get_err = |e: postgres::Error| StoreError::Database {
        context: "read record",
        source: Box::new(e),
    };
    let seq: i64 = row.try_get(0).map_err(get_err)?;
    let seq = u64::try_from(seq).unwrap_or(0);
    let raw = (|| -> Result<RawRow, postgres::Error> {
        Ok(RawRow {
            v: row.try_get(1)?,
            time: row.try_get(2)?,
            kind: row.try_get(3)?,
            host: row.try_get(4)?,
            session: row.try_get(5)?,
            host_session: row.try_get(6)?,
            agent: row.try_get(7)?,
            cwd: row.try_get(8)?,
            tool: row.try_get(9)?,
            class: row.try_get(10)?,
            input: row.try_get(11)?,
            decision: row.try_get(12)?,
            rules: row.try_get(13)?,
            severity: row.try_get(14)?,
            message: row.try_get(15)?,
            approval_id: row.try_get(16)?,
            actor: row.try_get(17)?,
            channel: row.try_get(18)?,
            reason: row.try_get(19)?,
            outcome: row.try_get(20)?,
            prev: row.try_get(21)?,
            hash: row.try_get(22)?,
        })
    })()
    .map_err(get_err)?;
    Ok((seq, raw))
}

/// `url` without a password, for error messages.
fn redact_url(url: &str) -> String {
    // URL form: scheme://user:password@host/…
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
    {
        let user = userinfo.split(':').next().unwrap_or_default();
        return format!("{scheme}://{user}@{host}");
    }
    // key=value form: drop password=….
    url.split_whitespace()
        .filter(|kv| !kv.starts_with("password="))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_row_insert_numbers_parameters_row_after_row() {
        let sql = insert_sql(2);
        assert!(sql.contains("VALUES ($1, $2, "), "{sql}");
        assert!(sql.contains("$23), ($24, "), "{sql}");
        assert!(sql.ends_with("$46)"), "{sql}");
    }

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgresql://gh:s3cret@db:5432/audit"),
            "postgresql://gh@db:5432/audit"
        );
        assert_eq!(
            redact_url("host=db user=gh password=s3cret dbname=audit"),
            "host=db user=gh dbname=audit"
        );
    }
}
