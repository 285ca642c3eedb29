//! Usage events: idempotent recording, bulk loads, the rating condition.

use domain::Role;
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait, PaginatorTrait, TransactionTrait};
use serde_json::json;
use store::entity::{apps, invocation_queries, invocations, module_blobs, orders, versions};
use store::orgs::{self, OrgKind};
use store::testing::TestDb;
use store::usage::{self, DataQuery, NewInvocation, Recorded, UsageEvent};
use store::users::{self, NewUser};

struct Fixture {
    app_id: i64,
    version_id: i64,
    citizen_id: i64,
}

async fn fixture(test_db: &TestDb) -> Fixture {
    let conn = test_db.db().conn();
    let t = store::now();
    let dept = orgs::create(conn, OrgKind::Department, "市医保局", None)
        .await
        .unwrap();
    let isv = orgs::create(conn, OrgKind::Isv, "云栈科技", None)
        .await
        .unwrap();
    let citizen = users::create(
        conn,
        NewUser {
            email: "c@example.cn".into(),
            password_hash: "h".into(),
            display_name: "张三".into(),
            role: Role::Citizen,
            org_id: None,
            id_number: None,
        },
    )
    .await
    .unwrap();
    let order = orders::ActiveModel {
        department_org_id: Set(dept.id),
        created_by: Set(None),
        title: Set("医保报销进度查询".into()),
        description: Set(String::new()),
        category: Set("医保".into()),
        tags: Set(json!([])),
        budget_fen: Set(10_000_000),
        deadline: Set(None),
        status: Set("open".into()),
        contract: Set(json!({})),
        pass_threshold_bp: Set(10_000),
        created_at: Set(t),
        updated_at: Set(t),
        published_at: Set(Some(t)),
        closed_at: Set(None),
        suite_revision: Set(0),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let sha = "ef".repeat(32);
    module_blobs::ActiveModel {
        sha256: Set(sha.clone()),
        size_bytes: Set(8),
        bytes: Set(b"\0asm\x01\0\0\0".to_vec()),
        created_at: Set(t),
    }
    .insert(conn)
    .await
    .unwrap();
    let app = apps::ActiveModel {
        order_id: Set(order.id),
        isv_org_id: Set(isv.id),
        name: Set("报销通".into()),
        status: Set("active".into()),
        status_reason: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
        suspended_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let version = versions::ActiveModel {
        app_id: Set(app.id),
        number: Set(1),
        sha256: Set(sha),
        size_bytes: Set(8),
        release_notes: Set(String::new()),
        status: Set("published".into()),
        test_score_bp: Set(Some(10_000)),
        uploaded_by: Set(None),
        created_at: Set(t),
        published_at: Set(Some(t)),
        superseded_at: Set(None),
        withdrawn_at: Set(None),
        suspended_at: Set(None),
        status_reason: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    Fixture {
        app_id: app.id,
        version_id: version.id,
        citizen_id: citizen.id,
    }
}

fn event(f: &Fixture, key: Option<&str>, success: bool) -> NewInvocation {
    NewInvocation {
        app_id: f.app_id,
        version_id: f.version_id,
        citizen_id: f.citizen_id,
        occurred_at: store::now(),
        period: "2026Q4".into(),
        verdict: if success { "accepted" } else { "runtime_error" }.into(),
        success,
        instructions: 42_000,
        latency_us: 900,
        idempotency_key: key.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_retried_invocation_with_the_same_key_is_recorded_once() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();

    let first = usage::record(conn, event(&f, Some("req-1"), true))
        .await
        .unwrap();
    let again = usage::record(conn, event(&f, Some("req-1"), true))
        .await
        .unwrap();
    let other = usage::record(conn, event(&f, Some("req-2"), true))
        .await
        .unwrap();

    assert!(matches!(first, Recorded::New(_)));
    assert_eq!(again, Recorded::Duplicate(first.id()));
    assert!(matches!(other, Recorded::New(id) if id != first.id()));
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 2);
}

#[tokio::test]
async fn invocations_without_a_key_are_all_recorded() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    usage::record(conn, event(&f, None, true)).await.unwrap();
    usage::record(conn, event(&f, None, true)).await.unwrap();
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 2);
}

#[tokio::test]
async fn a_duplicate_inside_a_transaction_leaves_the_transaction_usable() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let txn = test_db.db().begin_write().await.unwrap();
    usage::record(&txn, event(&f, Some("k"), true))
        .await
        .unwrap();
    let dup = usage::record(&txn, event(&f, Some("k"), true))
        .await
        .unwrap();
    assert!(matches!(dup, Recorded::Duplicate(_)));
    usage::record(&txn, event(&f, Some("k2"), true))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let conn = test_db.db().conn();
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 2);
}

fn with_queries(invocation: NewInvocation, keys: &[&str]) -> UsageEvent {
    UsageEvent {
        // Stands for the service's sealed bytes: the store keeps them as given.
        replay: Some(format!("sealed:{}", keys.join(",")).into_bytes()),
        invocation,
        queries: keys
            .iter()
            .map(|k| DataQuery {
                dataset: "social_insurance".into(),
                key: (*k).into(),
                code: if k.is_empty() { -2 } else { 120 },
                refused: false,
            })
            .collect(),
    }
}

/// The ways a batch is written: inside a caller's transaction, by
/// `write_batch` in one of its own (on SQLite by another code path), or by a
/// `Writer` on its own connection.
#[derive(Clone, Copy, Debug)]
enum Path {
    CallersTransaction,
    OwnTransaction,
    Writer,
}

const PATHS: [Path; 3] = [Path::CallersTransaction, Path::OwnTransaction, Path::Writer];

async fn write(test_db: &TestDb, path: Path, batch: &[UsageEvent]) -> Vec<Recorded> {
    match path {
        Path::CallersTransaction => {
            let txn = test_db.db().begin_write().await.unwrap();
            let answers = usage::record_batch(&txn, batch).await.unwrap();
            txn.commit().await.unwrap();
            answers
        }
        Path::OwnTransaction => usage::write_batch(test_db.db(), batch).await.unwrap(),
        Path::Writer => usage::Writer::new(test_db.db().clone())
            .write(batch)
            .await
            .unwrap(),
    }
}

#[tokio::test]
async fn a_batch_answers_each_event_in_order_and_keeps_its_queries() {
    for path in PATHS {
        batch_answers_in_order(path).await;
    }
}

async fn batch_answers_in_order(path: Path) {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    // Written before the batch: the batch's event with this key is a retry.
    let earlier = usage::record(conn, event(&f, Some("k0"), true))
        .await
        .unwrap();

    let mut slow = event(&f, None, true);
    slow.latency_us = 5_000;
    let batch = vec![
        with_queries(event(&f, Some("k1"), true), &["330106198806152174"]),
        with_queries(event(&f, None, true), &["a", "b"]),
        // Equal to the one before in every column: both are written.
        with_queries(event(&f, None, true), &["a", "b"]),
        with_queries(event(&f, Some("k0"), true), &["ignored"]),
        // The same key twice in one batch: the second is a retry of the first.
        with_queries(event(&f, Some("k1"), true), &["ignored"]),
        with_queries(slow, &[""]),
        with_queries(event(&f, Some("k2"), false), &[]),
    ];
    let answers = write(&test_db, path, &batch).await;

    assert_eq!(answers.len(), batch.len(), "{path:?}");
    assert!(matches!(answers[0], Recorded::New(_)));
    assert!(matches!(answers[1], Recorded::New(_)));
    assert!(matches!(answers[2], Recorded::New(_)));
    assert_ne!(answers[1].id(), answers[2].id());
    assert_eq!(answers[3], Recorded::Duplicate(earlier.id()));
    assert_eq!(answers[4], Recorded::Duplicate(answers[0].id()));
    assert!(matches!(answers[5], Recorded::New(_)));
    assert!(matches!(answers[6], Recorded::New(_)));
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 6);

    // Each new id is the row of its own event.
    let row = |id| invocations::Entity::find_by_id(id).one(conn);
    let first = row(answers[0].id()).await.unwrap().unwrap();
    assert_eq!(first.idempotency_key.as_deref(), Some("k1"));
    let slow_row = row(answers[5].id()).await.unwrap().unwrap();
    assert_eq!(slow_row.latency_us, 5_000);
    let failed = row(answers[6].id()).await.unwrap().unwrap();
    assert!(!failed.success);

    // Queries follow their invocation, in order; retries record none.
    let q = usage::queries_of(conn, answers[0].id()).await.unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].key, "330106198806152174");
    let q = usage::queries_of(conn, answers[2].id()).await.unwrap();
    assert_eq!(
        q.iter().map(|q| q.key.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(
        usage::queries_of(conn, answers[5].id()).await.unwrap()[0].code,
        -2
    );
    assert!(
        usage::queries_of(conn, earlier.id())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        invocation_queries::Entity::find()
            .count(conn)
            .await
            .unwrap(),
        6,
        "1 + 2 + 2 + 1 queries; the retries' are not kept"
    );
    // A replay record per new invocation, as given; none for the retries.
    assert_eq!(store::replays::count(conn).await.unwrap(), 5, "{path:?}");
    let kept = store::replays::get(conn, answers[2].id())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.sealed, b"sealed:a,b");
    assert!(
        store::replays::get(conn, earlier.id())
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn replay_records_past_the_cutoff_are_purged_and_the_rest_kept() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    let now = store::now();
    let mut old = event(&f, Some("old"), true);
    old.occurred_at = now - chrono::Duration::days(200);
    let batch = vec![
        with_queries(old, &["x"]),
        with_queries(event(&f, Some("new"), true), &["y"]),
    ];
    let answers = usage::write_batch(test_db.db(), &batch).await.unwrap();
    let cutoff = now - chrono::Duration::days(180);
    assert_eq!(store::replays::purge_before(conn, cutoff).await.unwrap(), 1);
    assert!(
        store::replays::get(conn, answers[0].id())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store::replays::get(conn, answers[1].id())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store::replays::purge_before(conn, cutoff).await.unwrap(),
        0,
        "idempotent"
    );
    // The invocation itself stays: usage and settlement do not depend on it.
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 2);
}

#[tokio::test]
async fn a_batch_larger_than_one_statement_is_written_whole() {
    for path in PATHS {
        large_batch_written_whole(path).await;
    }
}

async fn large_batch_written_whole(path: Path) {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    let batch: Vec<UsageEvent> = (0..2_500)
        .map(|i| with_queries(event(&f, Some(&format!("bulk-{i}")), true), &["x"]))
        .collect();
    let answers = write(&test_db, path, &batch).await;
    assert_eq!(answers.len(), 2_500, "{path:?}");
    let mut ids: Vec<i64> = answers.iter().map(|a| a.id()).collect();
    assert!(answers.iter().all(|a| matches!(a, Recorded::New(_))));
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2_500);
    assert_eq!(
        invocations::Entity::find().count(conn).await.unwrap(),
        2_500
    );
    assert_eq!(
        invocation_queries::Entity::find()
            .count(conn)
            .await
            .unwrap(),
        2_500
    );
    let row = invocations::Entity::find_by_id(answers[1_234].id())
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.idempotency_key.as_deref(), Some("bulk-1234"));
    assert_eq!(
        store::replays::count(conn).await.unwrap(),
        2_500,
        "{path:?}"
    );
}

#[tokio::test]
async fn a_failed_batch_in_its_own_transaction_writes_nothing_and_leaves_no_lock() {
    for path in [Path::OwnTransaction, Path::Writer] {
        failed_batch_writes_nothing(path).await;
    }
}

async fn failed_batch_writes_nothing(path: Path) {
    let test_db = TestDb::new().await;
    // The writer path keeps one writer throughout: after the failure it
    // must go on writing on its connection (or a fresh one).
    let mut writer = usage::Writer::new(test_db.db().clone());
    let mut write = async |batch: &[UsageEvent]| match path {
        Path::Writer => writer.write(batch).await,
        _ => usage::write_batch(test_db.db(), batch).await,
    };
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    // The invalid event comes after a good one with queries, and in a
    // second statement chunk, so part of the batch has been inserted when
    // the failure comes.
    let mut batch: Vec<UsageEvent> = (0..1_200)
        .map(|i| with_queries(event(&f, Some(&format!("ok-{i}")), true), &["x"]))
        .collect();
    let mut bad = event(&f, Some("bad"), true);
    if test_db.db().backend() == sea_orm::DbBackend::Postgres {
        // PostgreSQL keeps no foreign keys on invocations (bulk loads go
        // faster without), but it refuses a NUL in text.
        bad.period = "2026\0Q4".into();
    } else {
        bad.app_id = f.app_id + 1_000;
    }
    batch.push(with_queries(bad, &["y"]));
    let err = write(&batch).await;
    assert!(
        err.is_err(),
        "{path:?}: an event the database refuses must fail its batch"
    );
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 0);
    assert_eq!(
        invocation_queries::Entity::find()
            .count(conn)
            .await
            .unwrap(),
        0
    );

    // No connection was left inside the transaction: every pooled
    // connection can take the write lock again at once (a leaked one
    // would hold it and these would wait out the busy timeout).
    let started = std::time::Instant::now();
    for i in 0..20 {
        let good = [with_queries(
            event(&f, Some(&format!("after-{i}")), true),
            &["z"],
        )];
        let answers = write(&good).await.unwrap();
        assert!(matches!(answers[0], Recorded::New(_)));
    }
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let txn = test_db.db().begin_write().await.unwrap();
    usage::record(&txn, event(&f, Some("last"), true))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 21);
    assert_eq!(
        invocation_queries::Entity::find()
            .count(conn)
            .await
            .unwrap(),
        20
    );
}

#[tokio::test]
async fn a_writer_dropped_mid_batch_leaves_no_lock_and_writes_on() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    let mut writer = usage::Writer::new(test_db.db().clone());
    let warm = [with_queries(event(&f, Some("warm"), true), &["a"])];
    writer.write(&warm).await.unwrap();

    // Polled once and dropped: the batch's first statement is on its way
    // when its future goes.
    let batch: Vec<UsageEvent> = (0..2_000)
        .map(|i| with_queries(event(&f, Some(&format!("cut-{i}")), true), &["x"]))
        .collect();
    let cut = tokio::time::timeout(std::time::Duration::ZERO, writer.write(&batch)).await;
    assert!(
        cut.is_err(),
        "the batch should still be running when dropped"
    );

    // Whatever it got to, nothing holds the write lock and the writer goes on.
    let started = std::time::Instant::now();
    let txn = test_db.db().begin_write().await.unwrap();
    usage::record(&txn, event(&f, Some("pool"), true))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    let answers = writer
        .write(&[with_queries(event(&f, Some("after"), true), &["z"])])
        .await
        .unwrap();
    assert!(matches!(answers[0], Recorded::New(_)));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The cut batch was written whole or not at all.
    let cut_rows = invocations::Entity::find().count(conn).await.unwrap() - 3;
    assert!(
        cut_rows == 0 || cut_rows == 2_000,
        "{cut_rows} rows of the cut batch"
    );
}

#[tokio::test]
async fn only_a_successful_use_lets_a_citizen_rate() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    assert!(
        !usage::has_successful_use(conn, f.citizen_id, f.app_id)
            .await
            .unwrap()
    );
    usage::record(conn, event(&f, Some("fail"), false))
        .await
        .unwrap();
    assert!(
        !usage::has_successful_use(conn, f.citizen_id, f.app_id)
            .await
            .unwrap()
    );
    usage::record(conn, event(&f, Some("ok"), true))
        .await
        .unwrap();
    assert!(
        usage::has_successful_use(conn, f.citizen_id, f.app_id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn bulk_insert_writes_every_row_across_chunks() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    let events: Vec<_> = (0..4_500)
        .map(|n| event(&f, Some(&format!("bulk-{n}")), n % 3 != 0))
        .collect();
    assert_eq!(usage::insert_bulk(conn, events).await.unwrap(), 4_500);
    assert_eq!(
        invocations::Entity::find().count(conn).await.unwrap(),
        4_500
    );
}

#[tokio::test]
async fn bulk_insert_with_a_duplicate_key_writes_nothing() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    let mut events: Vec<_> = (0..2_500)
        .map(|n| event(&f, Some(&format!("bulk-{n}")), true))
        .collect();
    events.push(event(&f, Some("bulk-7"), true));
    let err = usage::insert_bulk(conn, events).await.unwrap_err();
    assert!(
        matches!(
            err,
            store::StoreError::Conflict {
                what: "idempotency_key"
            }
        ),
        "{err:?}"
    );
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 0);
}

#[tokio::test]
async fn bulk_insert_inside_a_rolled_back_transaction_leaves_nothing() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let txn = test_db.db().conn().begin().await.unwrap();
    usage::insert_bulk(&txn, vec![event(&f, None, true)])
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    let conn = test_db.db().conn();
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 0);
}

#[tokio::test]
async fn load_writes_every_row_with_awkward_keys_intact() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let conn = test_db.db().conn();
    let mut events: Vec<_> = (0..3_000)
        .map(|n| event(&f, Some(&format!("load-{n}")), n % 2 == 0))
        .collect();
    events.push(event(
        &f,
        Some("with \"quotes\", commas\nand a newline"),
        true,
    ));
    events.push(event(&f, Some(""), true));
    events.push(event(&f, None, false));
    assert_eq!(usage::load(test_db.db(), events).await.unwrap(), 3_003);
    assert_eq!(
        invocations::Entity::find().count(conn).await.unwrap(),
        3_003
    );

    let again = usage::record(
        conn,
        event(&f, Some("with \"quotes\", commas\nand a newline"), true),
    )
    .await
    .unwrap();
    assert!(matches!(again, Recorded::Duplicate(_)));
    let empty_key = usage::record(conn, event(&f, Some(""), true))
        .await
        .unwrap();
    assert!(
        matches!(empty_key, Recorded::Duplicate(_)),
        "empty key was stored as NULL"
    );
    let stored = invocations::Entity::find_by_id(again.id())
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.period, "2026Q4");
    assert!(stored.success);
    assert!(!stored.invalid);
}

#[tokio::test]
async fn load_with_a_duplicate_key_writes_nothing() {
    let test_db = TestDb::new().await;
    let f = fixture(&test_db).await;
    let mut events: Vec<_> = (0..100)
        .map(|n| event(&f, Some(&format!("k-{n}")), true))
        .collect();
    events.push(event(&f, Some("k-3"), true));
    let err = usage::load(test_db.db(), events).await.unwrap_err();
    assert!(
        matches!(
            err,
            store::StoreError::Conflict {
                what: "idempotency_key"
            }
        ),
        "{err:?}"
    );
    let conn = test_db.db().conn();
    assert_eq!(invocations::Entity::find().count(conn).await.unwrap(), 0);
}
