//! Every entity matches its table: a row with every column filled (and the
//! nullable ones set) is written and read back unchanged, on both backends.
//! This catches a column renamed in one place, or a type the backend
//! stores differently (JSON, booleans, blobs, instants).

use sea_orm::ActiveValue::NotSet;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde_json::json;
use store::entity::*;
// The one entity of `settlement_lines`, with every column.
use store::settlements::line as settlement_lines;
use store::testing::TestDb;

macro_rules! round_trip {
    ($conn:expr, $table:ident, $model:expr) => {{
        let model: $table::Model = $model;
        let mut active: $table::ActiveModel = model.clone().into();
        active = active.reset_all();
        active.id = NotSet;
        let inserted = active.insert($conn).await.unwrap();
        let read = $table::Entity::find_by_id(inserted.id)
            .one($conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            read,
            $table::Model {
                id: inserted.id,
                ..model
            },
            "{} did not round-trip",
            stringify!($table)
        );
        inserted.id
    }};
}

#[tokio::test]
async fn every_entity_round_trips_through_its_table() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let t = store::now();
    let s = |v: &str| Some(v.to_owned());

    let org = round_trip!(
        conn,
        organisations,
        organisations::Model {
            id: 0,
            kind: "isv".into(),
            name: "云栈科技".into(),
            credit_code: s("91350100M000100Y43"),
            payout_account: s("acct_1Nv0FGQ9RKHgCVdK"),
            created_at: t,
        }
    );
    let user = round_trip!(
        conn,
        users,
        users::Model {
            id: 0,
            email: "dev@example.cn".into(),
            password_hash: "$argon2id$x".into(),
            display_name: "开发者".into(),
            role: "isv".into(),
            org_id: Some(org),
            id_number: s("11010519491231002X"),
            created_at: t,
            disabled: true,
        }
    );
    round_trip!(
        conn,
        audit_events,
        audit_events::Model {
            id: 0,
            seq: 1,
            occurred_at: t,
            actor_id: Some(user),
            actor_role: s("isv"),
            action: "a".into(),
            object_type: "user".into(),
            object_id: Some(user),
            summary: "s".into(),
            request_id: s("r"),
            prev_hash: "0".repeat(64),
            hash: "f".repeat(64),
        }
    );
    let order = round_trip!(
        conn,
        orders,
        orders::Model {
            id: 0,
            department_org_id: org,
            created_by: Some(user),
            title: "公积金提取资格预审".into(),
            description: "d".into(),
            category: "住房".into(),
            tags: json!(["公积金", "住房"]),
            budget_fen: 1_200_000_000,
            deadline: Some(t),
            status: "open".into(),
            contract: json!({"input_schema": {"type": "object"}, "grants": ["hf"], "limits": {"fuel": 1_000_000}}),
            pass_threshold_bp: 10_000,
            created_at: t,
            updated_at: t,
            published_at: Some(t),
            closed_at: Some(t),
            suite_revision: 3,
        }
    );
    let dataset = round_trip!(
        conn,
        datasets,
        datasets::Model {
            id: 0,
            order_id: order,
            name: "housing_fund".into(),
            version: 2,
            sample: true,
            record_count: 3,
            size_bytes: 420,
            created_at: t,
            updated_at: t,
        }
    );
    round_trip!(
        conn,
        dataset_records,
        dataset_records::Model {
            id: 0,
            dataset_id: dataset,
            key: "11010519491231002X".into(),
            record: json!({"balance_fen": 1234500, "months": 36, "name": "张三"}),
        }
    );
    round_trip!(
        conn,
        test_cases,
        test_cases::Model {
            id: 0,
            order_id: order,
            case_id: "hidden-017".into(),
            description: "d".into(),
            input: json!({"id_number": "11010519491231002X"}),
            subject: s("citizen-1"),
            expect: json!({"contains": {"eligible": true}}),
            visibility: "hidden".into(),
            weight: 3,
            added_at: t,
            rule: s("拒绝他人申请"),
        }
    );
    let question = round_trip!(
        conn,
        questions,
        questions::Model {
            id: 0,
            order_id: order,
            asked_by: user,
            body: "q".into(),
            created_at: t,
        }
    );
    round_trip!(
        conn,
        answers,
        answers::Model {
            id: 0,
            question_id: question,
            answered_by: user,
            body: "a".into(),
            created_at: t,
        }
    );

    let blob = module_blobs::Model {
        sha256: "ab".repeat(32),
        size_bytes: 4,
        bytes: vec![0, 0x61, 0x73, 0x6d],
        created_at: t,
    };
    module_blobs::ActiveModel::from(blob.clone())
        .reset_all()
        .insert(conn)
        .await
        .unwrap();
    let read_blob = module_blobs::Entity::find_by_id(blob.sha256.clone())
        .one(conn)
        .await
        .unwrap();
    assert_eq!(read_blob, Some(blob.clone()));

    let app = round_trip!(
        conn,
        apps,
        apps::Model {
            id: 0,
            order_id: order,
            isv_org_id: org,
            name: "公积金助手".into(),
            status: "active".into(),
            status_reason: s("r"),
            created_at: t,
            updated_at: t,
            suspended_at: Some(t),
        }
    );
    let version = round_trip!(
        conn,
        versions,
        versions::Model {
            id: 0,
            app_id: app,
            number: 1,
            sha256: blob.sha256.clone(),
            size_bytes: 4,
            release_notes: "first".into(),
            status: "published".into(),
            test_score_bp: Some(9_500),
            uploaded_by: Some(user),
            created_at: t,
            published_at: Some(t),
            superseded_at: Some(t),
            withdrawn_at: Some(t),
            suspended_at: Some(t),
            status_reason: s("r"),
        }
    );
    let run = round_trip!(
        conn,
        test_runs,
        test_runs::Model {
            id: 0,
            version_id: version,
            status: "finished".into(),
            reason: "upload".into(),
            total_cases: 10,
            accepted_cases: 9,
            score_bp: Some(9_000),
            passed: Some(false),
            created_at: t,
            started_at: Some(t),
            finished_at: Some(t),
            report: Some(json!({"cases": 10})),
            suite_revision: Some(3),
        }
    );
    round_trip!(
        conn,
        case_results,
        case_results::Model {
            id: 0,
            test_run_id: run,
            case_id: "sample-1".into(),
            verdict: "wrong_answer".into(),
            instructions: 1_234_567,
            peak_memory_bytes: 1 << 20,
            wall_time_us: 812,
            queries: 2,
            stdout: "{}".into(),
            stderr: "log".into(),
            actual_output: Some(json!({"eligible": false})),
            message: s("m"),
        }
    );
    round_trip!(
        conn,
        jobs,
        jobs::Model {
            id: 0,
            kind: "test_run".into(),
            payload: json!({"test_run_id": run}),
            status: "running".into(),
            attempts: 1,
            max_attempts: 5,
            lease_owner: s("w"),
            lease_until: Some(t),
            run_after: t,
            last_error: s("e"),
            created_at: t,
            updated_at: t,
        }
    );
    round_trip!(
        conn,
        invocations,
        invocations::Model {
            id: 0,
            app_id: app,
            version_id: version,
            citizen_id: user,
            occurred_at: t,
            period: "2026Q4".into(),
            verdict: "accepted".into(),
            success: true,
            instructions: 99,
            latency_us: 1500,
            idempotency_key: s("k"),
            invalid: true,
            invalid_signal_id: None,
        }
    );
    let rating = round_trip!(
        conn,
        ratings,
        ratings::Model {
            id: 0,
            app_id: app,
            citizen_id: user,
            stars: 5,
            comment: s("很好用"),
            suggestion: s("s"),
            hidden: true,
            created_at: t,
            updated_at: t,
        }
    );
    round_trip!(
        conn,
        rating_history,
        rating_history::Model {
            id: 0,
            rating_id: rating,
            app_id: app,
            citizen_id: user,
            stars: 4,
            comment: s("c"),
            suggestion: s("s"),
            hidden: false,
            recorded_at: t,
        }
    );
    round_trip!(
        conn,
        rating_replies,
        rating_replies::Model {
            id: 0,
            rating_id: rating,
            author_id: user,
            body: "谢谢".into(),
            created_at: t,
            updated_at: t,
        }
    );
    round_trip!(
        conn,
        rating_reports,
        rating_reports::Model {
            id: 0,
            rating_id: rating,
            reporter_id: Some(user),
            reason: "spam".into(),
            status: "upheld".into(),
            created_at: t,
            resolved_by: Some(user),
            resolved_at: Some(t),
        }
    );
    round_trip!(
        conn,
        complaints,
        complaints::Model {
            id: 0,
            citizen_id: user,
            app_id: Some(app),
            order_id: Some(order),
            body: "b".into(),
            status: "resolved".into(),
            deadline: t,
            answer: s("a"),
            answered_by: Some(user),
            answered_at: Some(t),
            resolved_at: Some(t),
            resolution_stars: Some(4),
            created_at: t,
            invocation_id: Some(77),
            overdue_notified_at: Some(t),
        }
    );
    let settlement = round_trip!(
        conn,
        settlement_runs,
        settlement_runs::Model {
            id: 0,
            period: "2026Q4".into(),
            status: "approved".into(),
            params: json!({"c": 10, "m": "3", "r_min": "5/2"}),
            budget_total_fen: 100,
            paid_total_fen: 99,
            unspent_fen: 1,
            reward_pool_fen: 0,
            line_count: 1,
            created_by: user,
            created_at: t,
            approved_by: Some(user),
            approved_at: Some(t),
            paid_at: Some(t),
        }
    );
    let line = round_trip!(
        conn,
        settlement_lines,
        settlement_lines::Model {
            id: 0,
            run_id: settlement,
            order_id: Some(order),
            app_id: app,
            isv_org_id: org,
            kind: "payment".into(),
            users_u: 3,
            ratings_n: 2,
            stars_sum: 9,
            r_num: "39".into(),
            r_den: "12".into(),
            q_num: "13".into(),
            q_den: "20".into(),
            // Wider than BIGINT: the reason these are text.
            w_num: "170141183460469231731687303715884105727".into(),
            w_den: "20".into(),
            sum_w_num: "39".into(),
            sum_w_den: "20".into(),
            budget_fen: 100,
            amount_fen: 99,
            rank: Some(1),
            explanation: "e".into(),
            eligibility: "eligible".into(),
            capped: false,
            correction_id: None,
            adjusts_run_id: None,
            adjusts_line_id: None,
            reason: None,
        }
    );
    round_trip!(
        conn,
        payouts,
        payouts::Model {
            id: 0,
            line_id: line,
            run_id: settlement,
            provider: "ledger".into(),
            status: "sent".into(),
            amount_fen: 99,
            destination: s("acct_1"),
            idempotency_key: format!("payout-{settlement}-{line}"),
            external_id: s("tr_1"),
            attempts: 1,
            last_error: s("e"),
            created_at: t,
            updated_at: t,
            sent_at: Some(t),
            confirmed_at: Some(t),
            failed_at: Some(t),
            offset_fen: 0,
        }
    );
}

#[tokio::test]
async fn a_second_published_version_of_one_app_is_refused() {
    let test_db = TestDb::new().await;
    let conn = test_db.db().conn();
    let t = store::now();
    let org = store::orgs::create(conn, store::orgs::OrgKind::Isv, "o", None)
        .await
        .unwrap();
    let order = round_trip!(
        conn,
        orders,
        orders::Model {
            id: 0,
            department_org_id: org.id,
            created_by: None,
            title: "t".into(),
            description: "d".into(),
            category: "c".into(),
            tags: json!([]),
            budget_fen: 0,
            deadline: None,
            status: "open".into(),
            contract: json!({}),
            pass_threshold_bp: 10_000,
            created_at: t,
            updated_at: t,
            published_at: None,
            closed_at: None,
            suite_revision: 0,
        }
    );
    module_blobs::ActiveModel::from(module_blobs::Model {
        sha256: "cd".repeat(32),
        size_bytes: 0,
        bytes: vec![],
        created_at: t,
    })
    .reset_all()
    .insert(conn)
    .await
    .unwrap();
    let app = round_trip!(
        conn,
        apps,
        apps::Model {
            id: 0,
            order_id: order,
            isv_org_id: org.id,
            name: "a".into(),
            status: "active".into(),
            status_reason: None,
            created_at: t,
            updated_at: t,
            suspended_at: None,
        }
    );
    let version = |number, status: &str| versions::Model {
        id: 0,
        app_id: app,
        number,
        sha256: "cd".repeat(32),
        size_bytes: 0,
        release_notes: String::new(),
        status: status.into(),
        test_score_bp: None,
        uploaded_by: None,
        created_at: t,
        published_at: None,
        superseded_at: None,
        withdrawn_at: None,
        suspended_at: None,
        status_reason: None,
    };
    round_trip!(conn, versions, version(1, "published"));
    round_trip!(conn, versions, version(2, "superseded"));
    let mut second: versions::ActiveModel = version(3, "published").into();
    second = second.reset_all();
    second.id = NotSet;
    let err = second.insert(conn).await.unwrap_err();
    assert!(
        matches!(
            err.sql_err(),
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
        ),
        "{err:?}"
    );
}
