//! `govmarket serve`: the demo listening, and clear failures at start.

use std::process::Command;

use crate::serve_demo;

#[tokio::test]
async fn serve_demo_listens_signs_the_demo_citizen_in_and_shows_the_chinese_home_page() {
    let dir = tempfile::tempdir().unwrap();
    let (server, base, said) = serve_demo(dir.path()).await;
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    // Before listening it told a person, in sentences, how to sign in.
    assert!(said.contains("The demo is ready"), "{said}");
    assert!(said.contains("citizen@demo.local"), "{said}");
    assert!(!said.contains("SeedReport"), "{said}");

    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap();
    let login = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "citizen@demo.local", "password": "demo-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let token = login.json::<serde_json::Value>().await.unwrap()["token"]
        .as_str()
        .expect("a token")
        .to_owned();
    let me = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let me: serde_json::Value = me.json().await.unwrap();
    assert_eq!(me["email"], "citizen@demo.local", "{me}");
    assert_eq!(me["role"], "citizen", "{me}");

    let home = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(home.status(), 200);
    let html = home.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">"), "{html}");
    assert!(html.contains("选择适合您的政务服务应用"), "{html}");

    drop(server);
}

#[test]
fn serve_stops_at_start_with_a_clear_message_when_meilisearch_does_not_answer() {
    // A port that nothing listens on: bound, read, closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .env_remove("GOVMARKET_DATABASE_URL")
        .env_remove("GOVMARKET_CONFIG")
        .env("MEILI_URL", format!("http://127.0.0.1:{port}"))
        .env("GOVMARKET_LOG", "warn")
        .output()
        .expect("run govmarket serve");
    assert!(
        !out.status.success(),
        "serve kept running without Meilisearch"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "Meilisearch at http://127.0.0.1:{port} does not answer"
        )),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("listening"), "{stdout}");
}

#[test]
fn logs_written_to_a_file_or_pipe_are_json_lines_without_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("migrate")
        .env_remove("DATABASE_URL")
        .env_remove("GOVMARKET_DATABASE_URL")
        .env_remove("GOVMARKET_CONFIG")
        .env("GOVMARKET_LOG", "info")
        .output()
        .expect("run govmarket migrate");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "migrate logged nothing at info");
    for line in lines {
        assert!(!line.contains('\u{1b}'), "colour code in {line:?}");
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        assert!(
            v["level"].is_string() && v["fields"]["message"].is_string(),
            "{v}"
        );
    }
}
