use super::*;
use crate::Timestamp;
use crate::audit::AuditKind;

/// A well-formed chain of `n` records.
fn chain(n: u64) -> (Vec<ChainLink>, Option<ChainHead>) {
    let mut prev = Hash::GENESIS;
    let mut links = Vec::new();
    for seq in 1..=n {
        let mut rec = AuditRecord::new(Timestamp(1000 + seq as i64), AuditKind::Decision);
        rec.tool = format!("tool{seq}");
        let hash = chain_hash(&prev, seq, &encode(&rec));
        links.push(ChainLink {
            seq,
            prev,
            hash,
            record: Ok(rec),
        });
        prev = hash;
    }
    let head = links.last().map(|l| ChainHead {
        seq: l.seq,
        hash: l.hash,
    });
    (links, head)
}

fn fault(links: &[ChainLink], head: Option<ChainHead>) -> ChainFault {
    match verify_chain(links, head) {
        Ok(s) => panic!("expected a fault, chain verified: {s:?}"),
        Err(f) => f,
    }
}

#[test]
fn intact_chain_verifies() {
    let (links, head) = chain(5);
    let summary = verify_chain(&links, head).ok();
    assert_eq!(summary.map(|s| s.records), Some(5));
}

#[test]
fn empty_log_without_head_verifies() {
    assert_eq!(verify_chain(&[], None).ok().map(|s| s.records), Some(0));
}

#[test]
fn modified_field_is_named() {
    let (mut links, head) = chain(5);
    if let Ok(rec) = links[2].record.as_mut() {
        rec.decision = Some(crate::Action::Allow);
    }
    let f = fault(&links, head);
    assert_eq!(f.kind(), "modified");
    assert_eq!(f.seq(), 3);
    assert_eq!(
        f.to_string(),
        "record #3: modified (its contents no longer match its hash)"
    );
}

#[test]
fn unreadable_field_is_a_modification() {
    let (mut links, head) = chain(3);
    links[1].record = Err("decision holds \"bogus\"".into());
    let f = fault(&links, head);
    assert_eq!(
        f.to_string(),
        "record #2: modified (decision holds \"bogus\")"
    );
}

#[test]
fn modified_hash_is_named() {
    let (mut links, head) = chain(5);
    links[3].hash.0[0] ^= 1;
    assert_eq!(
        fault(&links, head).to_string(),
        "record #4: modified (its contents no longer match its hash)"
    );
}

#[test]
fn deleted_record_is_named() {
    let (mut links, head) = chain(5);
    links.remove(1);
    let f = fault(&links, head);
    assert_eq!(f, ChainFault::Missing { seq: 2, through: 2 });
    assert_eq!(f.to_string(), "record #2: missing (deleted)");
}

#[test]
fn deleted_range_is_named() {
    let (mut links, head) = chain(6);
    links.drain(1..4);
    assert_eq!(
        fault(&links, head).to_string(),
        "record #2: missing (deleted; #2..#4 are gone)"
    );
}

#[test]
fn swapped_records_are_named_reordered() {
    let (mut links, head) = chain(5);
    // Physically swap rows 2 and 4, keeping each row's position number.
    let (a, b) = (links[1].clone(), links[3].clone());
    links[1] = ChainLink { seq: 2, ..b };
    links[3] = ChainLink { seq: 4, ..a };
    let f = fault(&links, head);
    assert_eq!(
        f,
        ChainFault::Reordered {
            seq: 2,
            written_as: 4
        }
    );
    assert_eq!(
        f.to_string(),
        "record #2: reordered (it was written as record #4)"
    );
}

#[test]
fn out_of_order_sequence_is_named() {
    let (mut links, head) = chain(4);
    links.swap(1, 2);
    let f = fault(&links, head);
    assert_eq!(f, ChainFault::Missing { seq: 2, through: 2 });
    let (mut links, head) = chain(4);
    let dup = links[1].clone();
    links.insert(2, dup);
    assert_eq!(fault(&links, head).kind(), "inserted");
}

#[test]
fn forged_record_with_valid_self_hash_is_named_inserted() {
    let (mut links, _) = chain(4);
    // A forger who knows the algorithm but not the real predecessor hash.
    let mut rec = AuditRecord::new(Timestamp(9), AuditKind::Decision);
    rec.tool = "forged".into();
    let prev = Hash([7; 32]);
    let hash = chain_hash(&prev, 3, &encode(&rec));
    links[2] = ChainLink {
        seq: 3,
        prev,
        hash,
        record: Ok(rec),
    };
    // Re-chain record 4 onto the forgery so only #3 is wrong.
    let rec4 = links[3]
        .record
        .clone()
        .unwrap_or_else(|_| AuditRecord::new(Timestamp(0), AuditKind::Admin));
    links[3].prev = hash;
    links[3].hash = chain_hash(&hash, 4, &encode(&rec4));
    let head = Some(ChainHead {
        seq: 4,
        hash: links[3].hash,
    });
    let f = fault(&links, head);
    assert_eq!(f.kind(), "inserted");
    assert_eq!(f.seq(), 3);
    assert_eq!(
        f.to_string(),
        "record #3: inserted (it does not chain to record #2, or #2 was rewritten)"
    );
}

#[test]
fn record_appended_beyond_the_head_is_named_inserted() {
    let (mut links, head) = chain(3);
    let (more, _) = chain(4);
    links.push(more[3].clone());
    assert_eq!(
        fault(&links, head).to_string(),
        "record #4: inserted (it lies beyond the head, which ends at #3)"
    );
}

#[test]
fn truncated_tail_is_named() {
    let (mut links, head) = chain(5);
    links.truncate(3);
    let f = fault(&links, head);
    assert_eq!(f, ChainFault::Truncated { last: 3, head: 5 });
    assert_eq!(f.seq(), 4);
    assert_eq!(
        f.to_string(),
        "record #4: missing (truncated: the log ends at #3 but its head records #5)"
    );
}

#[test]
fn everything_deleted_but_head_is_truncation() {
    let (_, head) = chain(2);
    assert_eq!(fault(&[], head), ChainFault::Truncated { last: 0, head: 2 });
}

#[test]
fn head_hash_mismatch_is_named() {
    let (links, head) = chain(3);
    let head = head.map(|h| ChainHead {
        hash: Hash([1; 32]),
        ..h
    });
    let f = fault(&links, head);
    assert_eq!(f.kind(), "head-mismatch");
    assert_eq!(f.seq(), 3);
}

#[test]
fn missing_head_is_named() {
    let (links, _) = chain(2);
    assert_eq!(
        fault(&links, None).to_string(),
        "record #2: head mismatch (the head is missing)"
    );
}

#[test]
fn only_the_first_fault_is_reported() {
    let (mut links, head) = chain(6);
    links[4].hash.0[0] ^= 1;
    links.remove(1);
    assert_eq!(fault(&links, head).seq(), 2);
}

#[test]
fn hash_hex_round_trips() {
    let h = Hash([0xab; 32]);
    assert_eq!(Hash::from_hex(&h.to_hex()), Some(h));
    assert_eq!(Hash::from_hex("abc"), None);
    assert_eq!(Hash::from_slice(&[0; 31]), None);
}
