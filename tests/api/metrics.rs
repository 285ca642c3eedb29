//! `GET /metrics`: Prometheus text that a scraper can read, labelled by
//! route template (never by a raw path, so ids do not become series).

use e2e::spawn_app;

/// The value of the first sample of `name` whose labels contain every one
/// of `labels` (`key="value"` strings).
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_report_the_test_queue() {
    let app = spawn_app().await;
    for _ in 0..3 {
        let (status, _) = app.get_json("/api/v1/market", None).await;
        assert_eq!(status, 200);
    }
    let (status, _) = app.get_json("/api/v1/complaints/987654", None).await;
    assert_eq!(status, 401);

    let resp = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = resp.text().await.unwrap();

    // The recorder is shared by every app this test process builds, so
    // other tests' requests may add to the same series: at least ours.
    let market = sample(
        &text,
        "govmarket_http_requests_total",
        &[
            r#"route="/api/v1/market""#,
            r#"method="GET""#,
            r#"status="200""#,
        ],
    )
    .unwrap_or_else(|| panic!("no market request counter in\n{text}"));
    assert!(market >= 3.0, "{market}");
    assert!(
        text.contains(r#"route="/api/v1/complaints/{id}""#),
        "the template, not the path: {text}"
    );
    assert!(!text.contains("987654"), "an id became a label: {text}");
    assert!(
        sample(
            &text,
            "govmarket_http_request_duration_seconds_count",
            &[r#"route="/api/v1/market""#],
        )
        .is_some_and(|n| n >= 3.0),
        "latency histogram: {text}"
    );
    assert!(
        text.contains("govmarket_http_request_duration_seconds_bucket{"),
        "buckets, not a summary: {text}"
    );
    assert_eq!(
        sample(&text, "govmarket_test_queue_waiting", &[]),
        Some(0.0),
        "{text}"
    );
    assert!(sample(&text, "govmarket_test_queue_oldest_age_seconds", &[]).is_some());
}
