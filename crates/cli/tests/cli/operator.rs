//! Accounts, the audit chain, the demo seed and settings, from the command line.

use std::process::Command;

use crate::{govmarket, text};

#[test]
fn an_admin_creates_staff_accounts_and_the_audit_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let out = govmarket(dir.path(), &["migrate"]);
    assert!(out.status.success(), "{}", text(&out));

    let out = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "admin",
            "create-user",
            "--role",
            "department",
            "--email",
            "Head@Dept.gov.cn",
            "--display-name",
            "人社局",
            "--org-name",
            "杭州市人力资源和社会保障局",
        ])
        .env("GOVMARKET_NEW_PASSWORD", "a strong password")
        .env("GOVMARKET_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("created department account head@dept.gov.cn"),
        "{}",
        text(&out)
    );

    // the same email again is refused, naming the flag
    let out = govmarket(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--role",
            "finance",
            "--email",
            "head@dept.gov.cn",
            "--display-name",
            "x",
            "--password",
            "a strong password",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--email"), "{}", text(&out));

    // a role that does not exist is refused
    let out = govmarket(
        dir.path(),
        &[
            "admin",
            "create-user",
            "--role",
            "root",
            "--email",
            "r@x.cn",
            "--display-name",
            "x",
            "--password",
            "a strong password",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--role"), "{}", text(&out));

    let out = govmarket(dir.path(), &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["entries"], 1);
}

#[test]
fn the_demo_seed_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let out = govmarket(dir.path(), &["demo", "seed"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("7 accounts created"), "{}", text(&out));
    let out = govmarket(dir.path(), &["demo", "seed"]);
    assert!(text(&out).contains("0 accounts created"), "{}", text(&out));
}

#[test]
fn with_no_settings_the_data_dir_is_data_under_the_working_directory() {
    // What README's first command does on a fresh machine: no flags, no
    // environment, the default `./data`.
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .current_dir(cwd.path())
        .args(["demo", "seed"])
        .env_remove("DATABASE_URL")
        .env_remove("GOVMARKET_DATABASE_URL")
        .env_remove("GOVMARKET_DATA_DIR")
        .env_remove("GOVMARKET_CONFIG")
        .env("GOVMARKET_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert!(cwd.path().join("data/govmarket.db").is_file());
    assert!(cwd.path().join("data/module-cache/compiled").is_dir());
}

#[test]
fn a_bad_setting_is_a_clear_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_govmarket"))
        .arg("--data-dir")
        .arg(dir.path())
        .arg("migrate")
        .env("GOVMARKET_TIMEZONE", "Mars/Olympus")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("GOVMARKET_TIMEZONE"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}
