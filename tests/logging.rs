//! Logging as a production node writes it to a file: JSON lines, no ANSI
//! colour codes, each request's id in its lines and in `x-request-id`. A
//! test binary of its own, so that it owns the process's subscriber.

use e2e::spawn_app;

#[tokio::test]
async fn request_ids_are_in_the_header_and_in_json_log_lines_without_colour() {
    use std::io::Read;
    let file = tempfile::NamedTempFile::new().unwrap();
    let writer = std::sync::Mutex::new(file.reopen().unwrap());
    let subscriber = server::logging::subscriber(
        writer,
        false,
        tracing_subscriber::EnvFilter::new("info,tower_http=debug"),
    );
    // The only test of this binary, so the process-wide subscriber is its
    // own: a thread-local one raced the interest other tests' threads cached
    // for the request span (no subscriber there) and lost lines.
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
    let app = spawn_app().await;
    let resp = app.client.get(app.url("/market")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(!id.is_empty());
    // A client's own id is kept.
    let resp = app
        .client
        .get(app.url("/api/v1/public/audit/head"))
        .header("x-request-id", "test-req-42")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-request-id"], "test-req-42");

    let mut text = String::new();
    file.reopen().unwrap().read_to_string(&mut text).unwrap();
    assert!(!text.contains('\u{1b}'), "no ANSI escape in a log file");
    let mine: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .filter(|v: &serde_json::Value| v["span"]["request_id"] == id.as_str())
        .collect();
    assert!(!mine.is_empty(), "a log line carries {id}: {text}");
    assert_eq!(mine[0]["span"]["path"], "/market");
    assert!(
        text.lines()
            .any(|l| l.contains("\"request_id\":\"test-req-42\""))
    );
}
