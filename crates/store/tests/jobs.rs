//! The job queue: one claimer per job, leases that expire, retries, delays
//! and the sweep of jobs whose worker died. SQLite by default, PostgreSQL
//! when `TEST_DATABASE_URL` is set.

use std::collections::HashSet;
use std::time::Duration;

use store::StoreError;
use store::jobs::{self, JobStatus};
use store::testing::TestDb;

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
