//! A fraud detector window is claimed once, whoever asks first.

#[tokio::test]
async fn a_detector_window_is_claimed_once() {
    let db = store::testing::TestDb::new().await;
    let conn = db.db().conn();
    let start = store::now();
    let end = start + chrono::TimeDelta::hours(1);
    assert!(store::fraud::claim_window(conn, start, end).await.unwrap());
    assert!(!store::fraud::claim_window(conn, start, end).await.unwrap());
    let next = end + chrono::TimeDelta::hours(1);
    assert!(store::fraud::claim_window(conn, end, next).await.unwrap());
}
