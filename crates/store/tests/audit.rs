//! The audit log's hash chain: appended entries verify, and editing,
//! deleting or reordering rows is detected. SQLite by default, PostgreSQL
//! when `TEST_DATABASE_URL` is set.

use std::collections::HashSet;

use domain::Role;
use sea_orm::{ConnectionTrait, TransactionTrait};
use store::audit::{self, AuditEntry};
use store::testing::TestDb;

fn entry(n: usize) -> AuditEntry {
    AuditEntry {
        actor_id: Some(n as i64),
        actor_role: Some(Role::Department),
        action: "order.publish".to_owned(),
        object_type: "order".to_owned(),
        object_id: Some(n as i64),
        summary: format!("published order {n} — 发布需求订单"),
        request_id: Some(format!("req-{n}")),
    }
}

async fn append_entries(test_db: &TestDb, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 1..=count {
        ids.push(audit::append(test_db.db().conn(), entry(n)).await.unwrap());
    }
    ids
}

#[tokio::test]
async fn audit_chain_of_appended_entries_verifies() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let empty = audit::verify(conn).await.unwrap();
    assert!(empty.ok);
    assert_eq!(empty.entries, 0);

    append_entries(&test_db, 5).await;
    let result = audit::verify(conn).await.unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.entries, 5);
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        serde_json::json!({"ok": true, "entries": 5})
    );

    let page = audit::list(conn, None, 10).await.unwrap();
    let first = page.items.last().unwrap();
    assert_eq!(first.prev_hash, audit::GENESIS_HASH);
    assert_eq!(page.items[0].prev_hash, page.items[1].hash);
    assert_eq!(first.actor_role.as_deref(), Some("department"));
    let head = audit::head(conn).await.unwrap().unwrap();
    assert_eq!(head, (5, page.items[0].hash.clone()));
}

#[tokio::test]
async fn audit_canonical_form_is_the_documented_json_array() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    append_entries(&test_db, 1).await;
    let event = audit::list(conn, None, 1).await.unwrap().items.remove(0);
    let canonical = audit::canonical_form(&event);
    let parsed: serde_json::Value = serde_json::from_str(&canonical).unwrap();
    assert_eq!(parsed[0], "govmarket-audit-v1");
    assert_eq!(parsed[1], 1);
    assert_eq!(parsed[2], audit::GENESIS_HASH);
    assert!(parsed[3].as_str().unwrap().ends_with('Z'));
    assert_eq!(parsed[9], "published order 1 — 发布需求订单");
    use sha2::Digest;
    assert_eq!(
        event.hash,
        hex::encode(sha2::Sha256::digest(canonical.as_bytes()))
    );
}

#[tokio::test]
async fn audit_verify_detects_an_edited_summary() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let ids = append_entries(&test_db, 4).await;
    conn.execute_unprepared("UPDATE audit_events SET summary = 'nothing happened' WHERE seq = 3")
        .await
        .unwrap();

    let result = audit::verify(conn).await.unwrap();
    assert!(!result.ok);
    assert_eq!(result.first_bad, Some(ids[2]));
    assert_eq!(result.entries, 2);
    assert!(result.reason.unwrap().contains("edited"));
}

#[tokio::test]
async fn audit_verify_detects_a_deleted_middle_entry() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let ids = append_entries(&test_db, 5).await;
    conn.execute_unprepared("DELETE FROM audit_events WHERE seq = 3")
        .await
        .unwrap();

    let result = audit::verify(conn).await.unwrap();
    assert!(!result.ok);
    assert_eq!(result.first_bad, Some(ids[3]));
    assert!(result.reason.unwrap().contains("missing"));
}

#[tokio::test]
async fn audit_verify_detects_a_deleted_middle_entry_even_with_renumbered_seq() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let ids = append_entries(&test_db, 4).await;
    conn.execute_unprepared("DELETE FROM audit_events WHERE seq = 2")
        .await
        .unwrap();
    // Close the gap, as a careful forger would.
    for seq in 3..=4 {
        conn.execute_unprepared(&format!(
            "UPDATE audit_events SET seq = {} WHERE seq = {seq}",
            seq - 1
        ))
        .await
        .unwrap();
    }
    let result = audit::verify(conn).await.unwrap();
    assert!(!result.ok);
    assert_eq!(result.first_bad, Some(ids[2]));
}

#[tokio::test]
async fn audit_verify_detects_a_swapped_pair() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let ids = append_entries(&test_db, 4).await;
    // Swap the positions of entries 2 and 3 (through a free value: seq is unique).
    for sql in [
        "UPDATE audit_events SET seq = -1 WHERE seq = 2",
        "UPDATE audit_events SET seq = 2 WHERE seq = 3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -1",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }

    let result = audit::verify(conn).await.unwrap();
    assert!(!result.ok);
    assert_eq!(result.first_bad, Some(ids[2]), "{result:?}");
    assert_eq!(result.entries, 1);
}

#[tokio::test]
async fn audit_list_pages_newest_first_with_a_cursor() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    append_entries(&test_db, 5).await;
    let first = audit::list(conn, None, 2).await.unwrap();
    assert_eq!(
        first.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [5, 4]
    );
    let second = audit::list(conn, first.next, 2).await.unwrap();
    assert_eq!(
        second.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [3, 2]
    );
    let last = audit::list(conn, second.next, 2).await.unwrap();
    assert_eq!(last.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [1]);
    assert_eq!(last.next, None);
}

#[tokio::test]
async fn audit_entry_appended_in_a_rolled_back_transaction_is_gone() {
    let test_db = TestDb::new().await;
    append_entries(&test_db, 1).await;
    let txn = test_db.db().conn().begin().await.unwrap();
    audit::append(&txn, entry(2)).await.unwrap();
    txn.rollback().await.unwrap();
    append_entries(&test_db, 1).await;
    let result = audit::verify(test_db.db().conn()).await.unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.entries, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_one_valid_chain() {
    let test_db = TestDb::new().await;
    let tasks: Vec<_> = (1..=20)
        .map(|n| {
            let db = test_db.db().clone();
            tokio::spawn(async move { audit::append(db.conn(), entry(n)).await })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        ids.insert(task.await.unwrap().unwrap());
    }
    assert_eq!(ids.len(), 20);

    let result = audit::verify(test_db.db().conn()).await.unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.entries, 20);
}

#[tokio::test]
async fn audit_truncation_is_caught_against_a_published_head() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    append_entries(&test_db, 5).await;
    let (seq, hash) = audit::head(conn).await.unwrap().unwrap();
    assert_eq!(seq, 5);
    assert!(audit::verify_extends(conn, seq, &hash).await.unwrap().ok);
    // The log grows on: it still extends the published head.
    append_entries(&test_db, 1).await;
    assert!(audit::verify_extends(conn, seq, &hash).await.unwrap().ok);

    // Removing the newest entries leaves a chain that verifies on its own…
    conn.execute_unprepared("DELETE FROM audit_events WHERE seq >= 4")
        .await
        .unwrap();
    assert!(audit::verify(conn).await.unwrap().ok);
    // …but not against the head published earlier, which names the first
    // entry that is gone.
    let result = audit::verify_extends(conn, seq, &hash).await.unwrap();
    assert!(!result.ok);
    assert_eq!(result.first_bad, Some(4), "the first removed entry's seq");
    assert!(result.reason.unwrap().contains("removed"));

    // Rewriting the tail after a truncation: the head's seq is back, with
    // another hash.
    append_entries(&test_db, 3).await;
    let result = audit::verify_extends(conn, seq, &hash).await.unwrap();
    assert!(audit::verify(conn).await.unwrap().ok);
    assert!(!result.ok);
    assert!(result.first_bad.is_some());
    assert!(result.reason.unwrap().contains("rewritten"));
}
