//! Store tests. They run on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set; every test goes through `TestDb`.

use std::collections::HashSet;
use std::time::Duration;

use domain::Role;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, TransactionTrait};
use sea_orm_migration::SchemaManager;
use store::StoreError;
use store::audit::{self, AuditEntry};
use store::entity::{organisations, users as user_rows};
use store::jobs::{self, JobStatus};
use store::orgs::{self, OrgKind};
use store::testing::TestDb;
use store::users::{self, NewOrg, NewUser};

fn citizen(email: &str) -> NewUser {
    NewUser {
        email: email.to_owned(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        display_name: "张三".to_owned(),
        role: Role::Citizen,
        org_id: None,
        id_number: None,
    }
}

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
async fn migrations_run_down_and_up_again() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let manager = SchemaManager::new(conn);
    assert!(manager.has_table("invocations").await.unwrap());

    migration::Migrator::down(conn, None).await.unwrap();
    for table in [
        "users",
        "orders",
        "versions",
        "jobs",
        "invocations",
        "payouts",
    ] {
        assert!(
            !manager.has_table(table).await.unwrap(),
            "{table} survived down"
        );
    }

    migration::Migrator::up(conn, None).await.unwrap();
    assert!(manager.has_table("payouts").await.unwrap());
    let user = users::create(conn, citizen("again@example.cn"))
        .await
        .unwrap();
    assert_eq!(user.id, 1);
}

#[tokio::test]
async fn connect_creates_a_missing_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.db");
    let db = store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    store::migrate(&db).await.unwrap();
    assert!(path.exists());
    let fk = db
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA foreign_keys",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fk.try_get_by_index::<i32>(0).unwrap(), 1);
}

/// SQLite's own checkpoint would run inside a writer's commit once the WAL
/// passes 1,000 pages; here the pool's connections leave it to a background
/// checkpoint until 10,000, and that one copies the WAL back into the
/// database file soon after the writes, and stops with the last handle.
#[tokio::test]
async fn sqlite_checkpoints_in_the_background_and_stops_with_the_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wal.db");
    let wal = dir.path().join("wal.db-wal");
    let db = store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    let conn = db.conn();
    let pragma = |sql: &'static str| {
        conn.query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            sql,
        ))
    };
    let mark = pragma("PRAGMA wal_autocheckpoint").await.unwrap().unwrap();
    assert_eq!(mark.try_get_by_index::<i32>(0).unwrap(), 10_000);

    conn.execute_unprepared("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)")
        .await
        .unwrap();
    // About 2,000 pages in 40 commits, none of which crosses the backstop.
    for _ in 0..40 {
        conn.execute_unprepared(
            "INSERT INTO blobs (b) WITH RECURSIVE n(i) AS \
             (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
             SELECT randomblob(3500) FROM n",
        )
        .await
        .unwrap();
    }
    let written = 40 * 50 * 3500;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::fs::metadata(&path).unwrap().len() < written {
        assert!(
            std::time::Instant::now() < deadline,
            "the rows never reached the database file: {} bytes",
            std::fs::metadata(&path).unwrap().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The checkpoint's connection is the last to close once the pool is
    // gone, and the last connection removes the WAL file.
    assert!(wal.exists());
    db.close().await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while wal.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the background checkpoint kept its connection open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn created_user_is_found_by_email_and_id_with_its_role() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let org = orgs::create(conn, OrgKind::Department, "省人力资源和社会保障厅", None)
        .await
        .unwrap();
    let created = users::create(
        conn,
        NewUser {
            role: Role::Department,
            org_id: Some(org.id),
            ..citizen("hr@gov.example.cn")
        },
    )
    .await
    .unwrap();

    let by_email = users::find_by_email(conn, "hr@gov.example.cn")
        .await
        .unwrap()
        .unwrap();
    let by_id = users::find_by_id(conn, created.id).await.unwrap().unwrap();
    assert_eq!(by_email, created);
    assert_eq!(by_id, created);
    assert_eq!(by_id.role, Role::Department);
    assert_eq!(by_id.org_id, Some(org.id));
    assert!(!by_id.disabled);
    let creds = users::find_credentials(conn, "hr@gov.example.cn")
        .await
        .unwrap()
        .unwrap();
    assert!(creds.password_hash.starts_with("$argon2id$"));
    assert!(
        !format!("{creds:?}").contains("argon2id"),
        "hash leaked into Debug"
    );
    assert!(
        users::find_by_email(conn, "nobody@example.cn")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn duplicate_email_is_a_conflict_and_writes_nothing() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    users::create(conn, citizen("li@example.cn")).await.unwrap();

    let err = users::create(
        conn,
        NewUser {
            display_name: "李四".to_owned(),
            ..citizen("li@example.cn")
        },
    )
    .await
    .unwrap_err();

    assert!(
        matches!(err, StoreError::Conflict { what: "email" }),
        "{err:?}"
    );
    assert_eq!(user_rows::Entity::find().count(conn).await.unwrap(), 1);
    let kept = users::find_by_email(conn, "li@example.cn")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.display_name, "张三");
}

#[tokio::test]
async fn duplicate_resident_id_number_is_a_conflict() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let id_number = Some("11010519491231002X".to_owned());
    users::create(
        conn,
        NewUser {
            id_number: id_number.clone(),
            ..citizen("a@example.cn")
        },
    )
    .await
    .unwrap();
    let err = users::create(
        conn,
        NewUser {
            id_number,
            ..citizen("b@example.cn")
        },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { what: "id_number" }),
        "{err:?}"
    );
}

#[tokio::test]
async fn duplicate_organisation_name_is_a_conflict() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    orgs::create(conn, OrgKind::Isv, "云栈科技", None)
        .await
        .unwrap();
    let err = orgs::create(conn, OrgKind::Isv, "云栈科技", None)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                what: "organisation name"
            }
        ),
        "{err:?}"
    );
    let found = orgs::find_by_name(conn, "云栈科技").await.unwrap().unwrap();
    assert_eq!(found.kind, OrgKind::Isv);
    assert_eq!(orgs::find_by_id(conn, found.id).await.unwrap(), Some(found));
}

#[tokio::test]
async fn registration_creates_the_isv_user_with_its_organisation() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let (user, org) = users::register_with_org(
        conn,
        NewUser {
            role: Role::Isv,
            ..citizen("dev@isv.example.cn")
        },
        NewOrg {
            kind: OrgKind::Isv,
            name: "政通软件".to_owned(),
            credit_code: Some("91350100M000100Y43".to_owned()),
        },
    )
    .await
    .unwrap();
    assert_eq!(user.org_id, Some(org.id));
    assert_eq!(org.credit_code.as_deref(), Some("91350100M000100Y43"));
}

#[tokio::test]
async fn registration_rolls_back_the_organisation_when_the_user_insert_fails() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    users::create(conn, citizen("taken@example.cn"))
        .await
        .unwrap();

    let err = users::register_with_org(
        conn,
        NewUser {
            role: Role::Isv,
            ..citizen("taken@example.cn")
        },
        NewOrg {
            kind: OrgKind::Isv,
            name: "半途科技".to_owned(),
            credit_code: None,
        },
    )
    .await
    .unwrap_err();

    assert!(
        matches!(err, StoreError::Conflict { what: "email" }),
        "{err:?}"
    );
    assert!(
        orgs::find_by_name(conn, "半途科技")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(organisations::Entity::find().count(conn).await.unwrap(), 0);
}

#[tokio::test]
async fn registration_inside_a_callers_transaction_rolls_back_with_it() {
    let test_db = TestDb::new().await;
    let txn = test_db.db().conn().begin().await.unwrap();
    users::register_with_org(
        &txn,
        NewUser {
            role: Role::Isv,
            ..citizen("t@isv.example.cn")
        },
        NewOrg {
            kind: OrgKind::Isv,
            name: "回滚科技".to_owned(),
            credit_code: None,
        },
    )
    .await
    .unwrap();
    txn.rollback().await.unwrap();
    let conn = test_db.db().conn();
    assert!(
        orgs::find_by_name(conn, "回滚科技")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        users::find_by_email(conn, "t@isv.example.cn")
            .await
            .unwrap()
            .is_none()
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_claimers_never_get_the_same_job() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    for n in 0..30 {
        jobs::enqueue(conn, "test_run", serde_json::json!({ "version_id": n }))
            .await
            .unwrap();
    }
    jobs::enqueue(conn, "reindex", serde_json::json!({}))
        .await
        .unwrap();

    let workers: Vec<_> = (0..4)
        .map(|w| {
            let db = test_db.db().clone();
            tokio::spawn(async move {
                let worker = format!("worker-{w}");
                let mut claimed = Vec::new();
                while let Some(job) =
                    jobs::claim(db.conn(), &worker, &["test_run"], Duration::from_secs(60))
                        .await
                        .unwrap()
                {
                    assert_eq!(job.lease_owner.as_deref(), Some(worker.as_str()));
                    claimed.push(job.id);
                    jobs::complete(db.conn(), job.id, &worker).await.unwrap();
                }
                claimed
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    let distinct: HashSet<_> = all.iter().copied().collect();
    assert_eq!(all.len(), 30, "every test_run job claimed exactly once");
    assert_eq!(distinct.len(), 30);
    // The other kind was left alone.
    let left = jobs::claim(conn, "w", &[], Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left.kind, "reindex");
}

#[tokio::test]
async fn a_job_with_an_expired_lease_is_claimed_again() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let queued = jobs::enqueue(conn, "test_run", serde_json::json!({"version_id": 7}))
        .await
        .unwrap();
    let first = jobs::claim(conn, "crashed", &["test_run"], Duration::from_millis(50))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.id, queued.id);
    assert_eq!(first.attempts, 1);
    // Still leased: nobody else gets it.
    assert!(
        jobs::claim(conn, "other", &["test_run"], Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );

    tokio::time::sleep(Duration::from_millis(120)).await;
    let again = jobs::claim(conn, "rescuer", &["test_run"], Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, queued.id);
    assert_eq!(again.attempts, 2);
    assert_eq!(again.payload, serde_json::json!({"version_id": 7}));

    // The presumed-dead worker comes back: it no longer owns the job.
    let late = jobs::complete(conn, queued.id, "crashed")
        .await
        .unwrap_err();
    assert!(
        matches!(late, StoreError::Conflict { what: "job lease" }),
        "{late:?}"
    );
    let beat = jobs::heartbeat(conn, queued.id, "crashed", Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(matches!(beat, StoreError::Conflict { .. }));
    jobs::heartbeat(conn, queued.id, "rescuer", Duration::from_secs(60))
        .await
        .unwrap();
    jobs::complete(conn, queued.id, "rescuer").await.unwrap();
    let done = jobs::get(conn, queued.id).await.unwrap().unwrap();
    assert_eq!(done.status, JobStatus::Done);
    assert_eq!(done.lease_owner, None);
}

#[tokio::test]
async fn a_failed_job_is_retried_until_its_attempts_run_out() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let job = jobs::enqueue_at(conn, "payout", serde_json::json!({}), store::now(), 2)
        .await
        .unwrap();

    let claimed = jobs::claim(conn, "w1", &["payout"], Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let status = jobs::fail(conn, claimed.id, "w1", "bank timeout", Some(Duration::ZERO))
        .await
        .unwrap();
    assert_eq!(status, JobStatus::Queued);

    let claimed = jobs::claim(conn, "w2", &["payout"], Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.attempts, 2);
    assert_eq!(claimed.last_error.as_deref(), Some("bank timeout"));
    let status = jobs::fail(
        conn,
        claimed.id,
        "w2",
        "bank timeout again",
        Some(Duration::ZERO),
    )
    .await
    .unwrap();
    assert_eq!(status, JobStatus::Failed);
    assert!(
        jobs::claim(conn, "w3", &[], Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        jobs::get(conn, job.id).await.unwrap().unwrap().status,
        JobStatus::Failed
    );
}

#[tokio::test]
async fn a_delayed_job_is_not_claimed_before_its_time() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let later = store::now() + chrono::TimeDelta::hours(1);
    jobs::enqueue_at(conn, "reindex", serde_json::json!({}), later, 3)
        .await
        .unwrap();
    assert!(
        jobs::claim(conn, "w", &[], Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_job_whose_worker_crashed_on_every_attempt_is_failed_by_the_sweep() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let job = jobs::enqueue_at(conn, "test_run", serde_json::json!({}), store::now(), 1)
        .await
        .unwrap();
    jobs::claim(conn, "w", &[], Duration::from_millis(10))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        jobs::claim(conn, "w2", &[], Duration::from_secs(60))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(jobs::fail_exhausted(conn).await.unwrap(), 1);
    assert_eq!(
        jobs::get(conn, job.id).await.unwrap().unwrap().status,
        JobStatus::Failed
    );
}

#[tokio::test]
async fn completing_an_unknown_job_is_not_found() {
    let test_db = TestDb::new().await;
    let err = jobs::complete(test_db.db().conn(), 999, "w")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound), "{err:?}");
}

/// The shape of a registration: read (is the name taken?), then write.
async fn read_then_write(txn: &sea_orm::DatabaseTransaction, n: usize) -> Result<(), StoreError> {
    let name = format!("单位{n}");
    if orgs::find_by_name(txn, &name).await?.is_none() {
        orgs::create(txn, OrgKind::Isv, &name, None).await?;
    }
    audit::append(txn, entry(n)).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_write_transactions_that_read_first_all_commit() {
    let test_db = TestDb::new().await;
    let tasks: Vec<_> = (1..=20)
        .map(|n| {
            let db = test_db.db().clone();
            tokio::spawn(async move {
                let txn = db.begin_write().await?;
                read_then_write(&txn, n).await?;
                txn.commit().await?;
                Ok::<_, StoreError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let conn = test_db.db().conn();
    assert_eq!(organisations::Entity::find().count(conn).await.unwrap(), 20);
    let result = audit::verify(conn).await.unwrap();
    assert!(result.ok && result.entries == 20, "{result:?}");
}

#[tokio::test]
async fn each_test_database_is_fresh_separate_and_gone_when_dropped() {
    let a = TestDb::new().await;
    let b = TestDb::new().await;
    assert_ne!(a.url(), b.url());
    users::create(a.db().conn(), citizen("only-in-a@example.cn"))
        .await
        .unwrap();
    assert!(
        users::find_by_email(b.db().conn(), "only-in-a@example.cn")
            .await
            .unwrap()
            .is_none()
    );

    // The URL is what a server under test connects to: the same database.
    let via_url = store::connect(a.url()).await.unwrap();
    assert!(
        users::find_by_email(via_url.conn(), "only-in-a@example.cn")
            .await
            .unwrap()
            .is_some()
    );
    via_url.close().await.unwrap();

    let url = a.url().to_owned();
    drop(a);
    assert!(
        store::connect(&url).await.is_err(),
        "{url} outlived its TestDb"
    );
}
