//! [`AuditQuery`] as SQL, shared by the backends: same filters, same order;
//! only the placeholder syntax and the rule-membership test differ.

use crate::AuditQuery;
use crate::row::COLUMNS;

/// A query parameter, mapped onto each backend's own type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    Int(i64),
    Text(String),
}

/// How one backend spells what differs between SQL dialects.
pub(crate) struct Dialect {
    /// The placeholder for the `n`th parameter (1-based): `?n`, `$n`.
    pub placeholder: fn(usize) -> String,
    /// A condition that the JSON array in column `rules` holds the text in
    /// the given placeholder.
    pub rule_contains: fn(&str) -> String,
}

/// The `SELECT` for `q` and its parameters, in placeholder order.
pub(crate) fn select(q: &AuditQuery, d: &Dialect) -> (String, Vec<Param>) {
    let mut params = vec![Param::Int(seq_param(q.after))];
    let mut sql = format!(
        "SELECT seq, {} FROM audit_log WHERE seq > {}",
        COLUMNS.join(", "),
        (d.placeholder)(1)
    );
    let mut add = |column_test: &dyn Fn(&str) -> String, value: Param| {
        params.push(value);
        let p = (d.placeholder)(params.len());
        sql.push_str(" AND ");
        sql.push_str(&column_test(&p));
    };
    if let Some(t) = q.since {
        add(&|p| format!("time >= {p}"), Param::Int(t.millis()));
    }
    if let Some(t) = q.until {
        add(&|p| format!("time < {p}"), Param::Int(t.millis()));
    }
    if let Some(k) = q.kind {
        add(&|p| format!("kind = {p}"), Param::Text(k.as_str().into()));
    }
    if let Some(a) = q.decision {
        add(
            &|p| format!("decision = {p}"),
            Param::Text(a.as_str().into()),
        );
    }
    if let Some(s) = &q.session {
        add(
            &|p| format!("(session = {p} OR host_session = {p})"),
            Param::Text(s.clone()),
        );
    }
    if let Some(t) = &q.tool {
        add(&|p| format!("tool = {p}"), Param::Text(t.clone()));
    }
    if let Some(r) = &q.rule {
        add(&|p| (d.rule_contains)(p), Param::Text(r.clone()));
    }
    if let Some(a) = &q.approval_id {
        add(&|p| format!("approval_id = {p}"), Param::Text(a.clone()));
    }
    sql.push_str(if q.newest {
        " ORDER BY seq DESC"
    } else {
        " ORDER BY seq ASC"
    });
    if let Some(limit) = q.limit {
        params.push(Param::Int(i64::try_from(limit).unwrap_or(i64::MAX)));
        sql.push_str(&format!(" LIMIT {}", (d.placeholder)(params.len())));
    }
    (sql, params)
}

/// Sequence numbers are u64 in the domain and signed 64-bit in SQL; a log
/// never gets near 2^63 records, so saturate rather than wrap if it did.
pub(crate) fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::Action;

    const DOLLAR: Dialect = Dialect {
        placeholder: |n| format!("${n}"),
        rule_contains: |p| format!("rules::jsonb ? {p}"),
    };

    #[test]
    fn filters_number_their_placeholders_in_order() {
        let q = AuditQuery {
            after: 7,
            limit: Some(5),
            newest: true,
            decision: Some(Action::Deny),
            session: Some("s".into()),
            rule: Some("R".into()),
            ..AuditQuery::default()
        };
        let (sql, params) = select(&q, &DOLLAR);
        assert!(
            sql.ends_with(
                "WHERE seq > $1 AND decision = $2 AND (session = $3 OR host_session = $3) \
             AND rules::jsonb ? $4 ORDER BY seq DESC LIMIT $5"
            ),
            "{sql}"
        );
        assert_eq!(
            params,
            vec![
                Param::Int(7),
                Param::Text("deny".into()),
                Param::Text("s".into()),
                Param::Text("R".into()),
                Param::Int(5)
            ]
        );
    }
}
