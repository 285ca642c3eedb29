//! Store tests. They run on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set; every test goes through `TestDb`.

use std::time::Duration;

use domain::Role;
use migration::MigratorTrait;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, TransactionTrait};
use sea_orm_migration::SchemaManager;
use store::StoreError;
use store::audit::{self, AuditEntry};
use store::entity::{organisations, users as user_rows};
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
