//! The configuration's layers, ranges and secrets.

use super::*;
use std::collections::HashMap;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k| map.get(k).cloned()
}

#[test]
fn defaults_need_no_setup() {
    let c = Config::resolve(FileConfig::default(), env_of(&[]), Overrides::default()).unwrap();
    assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.database_url, "sqlite://./data/govmarket.db?mode=rwc");
    assert_eq!(c.timezone, chrono_tz::Asia::Shanghai);
    assert!(!c.secure_cookies, "loopback demo runs over plain http");
    assert!(c.jwt_secret.is_none());
}

#[test]
fn environment_beats_file_and_flags_beat_environment() {
    let file: FileConfig =
        toml::from_str("addr = \"127.0.0.1:9000\"\ndata_dir = \"/srv/file\"\ntoken_ttl_hours = 2")
            .unwrap();
    let c = Config::resolve(
        file,
        env_of(&[
            ("GOVMARKET_DATA_DIR", "/srv/env"),
            ("DATABASE_URL", "postgres://u:pw@db/gm"),
        ]),
        Overrides {
            addr: Some("127.0.0.1:7000".parse().unwrap()),
            data_dir: None,
        },
    )
    .unwrap();
    assert_eq!(c.addr.port(), 7000);
    assert_eq!(c.data_dir, PathBuf::from("/srv/env"));
    assert_eq!(c.database_url, "postgres://u:pw@db/gm");
    assert_eq!(c.token_ttl, Duration::from_secs(7200));
}

#[test]
fn a_typo_in_the_file_is_refused() {
    let err = toml::from_str::<FileConfig>("adr = \"x\"").unwrap_err();
    assert!(err.to_string().contains("adr"), "{err}");
}

#[test]
fn bad_values_name_the_setting() {
    let err = Config::resolve(
        FileConfig::default(),
        env_of(&[("GOVMARKET_TIMEZONE", "Mars/Olympus")]),
        Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("GOVMARKET_TIMEZONE"), "{err}");
    let err = Config::resolve(
        FileConfig::default(),
        env_of(&[("GOVMARKET_JWT_SECRET", "short")]),
        Overrides::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("at least 32"), "{err}");
    let err = Config::resolve(
        FileConfig::default(),
        env_of(&[("DATABASE_URL", "mysql://root:hunter2@x/y")]),
        Overrides::default(),
    )
    .unwrap_err();
    assert!(
        !err.to_string().contains("hunter2"),
        "password leaked: {err}"
    );
}

#[test]
fn the_upload_limit_may_not_exceed_the_sandboxs_cap() {
    let c = Config::resolve(FileConfig::default(), env_of(&[]), Overrides::default()).unwrap();
    assert_eq!(c.upload_limit_bytes, 16 * 1024 * 1024);
    let file: FileConfig = toml::from_str("upload_limit_bytes = 1000").unwrap();
    let c = Config::resolve(file, env_of(&[]), Overrides::default()).unwrap();
    assert_eq!(c.upload_limit_bytes, 1000);
    let c = Config::resolve(
        FileConfig::default(),
        env_of(&[("GOVMARKET_UPLOAD_LIMIT_BYTES", "33554432")]),
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.upload_limit_bytes, MAX_UPLOAD_LIMIT_BYTES);
    for bad in ["33554433", "0"] {
        let err = Config::resolve(
            FileConfig::default(),
            env_of(&[("GOVMARKET_UPLOAD_LIMIT_BYTES", bad)]),
            Overrides::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("GOVMARKET_UPLOAD_LIMIT_BYTES"), "{msg}");
        assert!(msg.contains("33554432"), "{msg}");
    }
    let file: FileConfig = toml::from_str("upload_limit_bytes = 40000000").unwrap();
    let err = Config::resolve(file, env_of(&[]), Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("sandbox"), "{err}");
}

#[test]
fn search_question_and_rate_settings_default_then_layer_file_then_environment() {
    let c = Config::resolve(FileConfig::default(), env_of(&[]), Overrides::default()).unwrap();
    assert_eq!(c.meili_url, None);
    assert!(c.meili_api_key.is_none());
    assert_eq!(c.meili_index, "govmarket");
    assert_eq!(c.question_answer_limit, Duration::from_secs(72 * 3600));
    assert_eq!(c.invoke_rate, DEFAULT_INVOKE_RATE);
    assert_eq!(c.rating_rate, DEFAULT_RATING_RATE);

    let file = || -> FileConfig {
        toml::from_str(
            "meili_url = \"http://file:7700\"\nmeili_api_key = \"file-key\"\n\
             meili_index = \"from_file\"\nquestion_answer_hours = 24\n\
             invoke_per_minute = 600\ninvoke_burst = 200\n\
             rate_per_minute = 100\nrate_burst = 50",
        )
        .unwrap()
    };
    let c = Config::resolve(file(), env_of(&[]), Overrides::default()).unwrap();
    assert_eq!(c.meili_url.as_deref(), Some("http://file:7700"));
    assert_eq!(
        c.meili_api_key.as_ref().map(Secret::expose),
        Some("file-key")
    );
    assert_eq!(c.meili_index, "from_file");
    assert_eq!(c.question_answer_limit, Duration::from_secs(24 * 3600));
    assert_eq!(
        c.invoke_rate,
        Rate {
            per_minute: 600,
            burst: 200
        }
    );
    assert_eq!(
        c.rating_rate,
        Rate {
            per_minute: 100,
            burst: 50
        }
    );

    let c = Config::resolve(
        file(),
        env_of(&[
            ("MEILI_URL", " https://env:7700 "),
            ("MEILI_API_KEY", "env-key"),
            ("MEILI_INDEX", "from-env"),
            ("GOVMARKET_QUESTION_ANSWER_HOURS", "1"),
            ("GOVMARKET_INVOKE_PER_MINUTE", "6000"),
            ("GOVMARKET_INVOKE_BURST", "2000"),
            ("GOVMARKET_RATE_PER_MINUTE", "1"),
            ("GOVMARKET_RATE_BURST", "2"),
        ]),
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.meili_url.as_deref(), Some("https://env:7700"));
    assert_eq!(
        c.meili_api_key.as_ref().map(Secret::expose),
        Some("env-key")
    );
    assert_eq!(c.meili_index, "from-env");
    assert_eq!(c.question_answer_limit, Duration::from_secs(3600));
    assert_eq!(
        c.invoke_rate,
        Rate {
            per_minute: 6000,
            burst: 2000
        }
    );
    assert_eq!(
        c.rating_rate,
        Rate {
            per_minute: 1,
            burst: 2
        }
    );
    assert!(
        !format!("{c:?}").contains("env-key"),
        "the Meilisearch key never prints"
    );
}

#[test]
fn bad_search_question_and_rate_settings_name_the_setting() {
    let cases: &[(&str, &str, &str)] = &[
        ("MEILI_URL", "localhost:7700", "http://"),
        ("MEILI_INDEX", "gov market", "a-z"),
        ("GOVMARKET_QUESTION_ANSWER_HOURS", "0", "between 1 and"),
        ("GOVMARKET_QUESTION_ANSWER_HOURS", "9000", "between 1 and"),
        (
            "GOVMARKET_QUESTION_ANSWER_HOURS",
            "three days",
            "invalid digit",
        ),
        ("GOVMARKET_INVOKE_PER_MINUTE", "0", "at least 1"),
        ("GOVMARKET_INVOKE_BURST", "-5", "invalid digit"),
        ("GOVMARKET_RATE_PER_MINUTE", "ten", "invalid digit"),
        ("GOVMARKET_RATE_BURST", "0", "at least 1"),
    ];
    for (name, value, reason) in cases {
        let err = Config::resolve(
            FileConfig::default(),
            env_of(&[(name, value)]),
            Overrides::default(),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(name) && msg.contains(reason),
            "{name}={value}: {msg}"
        );
    }
    // A bad value in the file is refused the same way.
    let file: FileConfig = toml::from_str("rate_burst = 0").unwrap();
    let err = Config::resolve(file, env_of(&[]), Overrides::default()).unwrap_err();
    assert!(err.to_string().contains("GOVMARKET_RATE_BURST"), "{err}");
    let err = toml::from_str::<FileConfig>("invoke_burst = -1").unwrap_err();
    assert!(err.to_string().contains("invoke_burst"), "{err}");
}

#[test]
fn the_subject_key_has_its_own_setting_checked_at_startup() {
    let c = Config::resolve(FileConfig::default(), env_of(&[]), Overrides::default()).unwrap();
    assert!(
        c.subject_key.is_none(),
        "demo default: derived from the JWT secret"
    );
    let file: FileConfig =
        toml::from_str("subject_key = \"file-subject-key-0123456789abcdef0123\"").unwrap();
    let c = Config::resolve(file, env_of(&[]), Overrides::default()).unwrap();
    assert_eq!(
        c.subject_key.as_ref().map(Secret::expose),
        Some("file-subject-key-0123456789abcdef0123")
    );
    let c = Config::resolve(
        FileConfig::default(),
        env_of(&[(
            "GOVMARKET_SUBJECT_KEY",
            "env-subject-key-0123456789abcdef01234",
        )]),
        Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        c.subject_key.as_ref().map(Secret::expose),
        Some("env-subject-key-0123456789abcdef01234")
    );
    assert!(!format!("{c:?}").contains("env-subject-key"));
    let err = Config::resolve(
        FileConfig::default(),
        env_of(&[("GOVMARKET_SUBJECT_KEY", "short")]),
        Overrides::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("GOVMARKET_SUBJECT_KEY") && msg.contains("32"),
        "{msg}"
    );
    assert!(!msg.contains("short"), "the key never prints: {msg}");
}

#[test]
fn secrets_never_print() {
    let s = Secret::new("sk_live_very_secret");
    assert_eq!(format!("{s:?}"), "Secret(***)");
}

#[test]
fn binding_beyond_loopback_turns_secure_cookies_on() {
    let c = Config::resolve(
        FileConfig::default(),
        env_of(&[("GOVMARKET_ADDR", "0.0.0.0:8080")]),
        Overrides::default(),
    )
    .unwrap();
    assert!(c.secure_cookies);
}

#[test]
fn the_2026_calendar_is_the_default_and_later_holidays_are_configured() {
    use chrono::{NaiveDate, TimeZone};
    let c = Config::resolve(FileConfig::default(), env_of(&[]), Overrides::default()).unwrap();
    let national_day = NaiveDate::from_ymd_opt(2026, 10, 5).unwrap();
    assert!(!c.calendar.is_working_day(national_day));
    assert!(
        c.calendar
            .is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap())
    );

    let c = Config::resolve(
        FileConfig::default(),
        env_of(&[
            ("GOVMARKET_HOLIDAYS", "2027-01-01, 2027-02-06..2027-02-14"),
            ("GOVMARKET_MAKE_UP_DAYS", "2027-02-20"),
        ]),
        Overrides::default(),
    )
    .unwrap();
    for d in [(1, 1), (2, 6), (2, 10), (2, 14)] {
        let day = NaiveDate::from_ymd_opt(2027, d.0, d.1).unwrap();
        assert!(!c.calendar.is_working_day(day), "{day}");
    }
    assert!(
        c.calendar
            .is_working_day(NaiveDate::from_ymd_opt(2027, 2, 20).unwrap())
    );
    assert!(!c.calendar.is_working_day(national_day), "2026 stays");
    let start = chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, 31, 9, 0, 0)
        .unwrap();
    assert_eq!(
        c.calendar.deadline_after(&start, 1).date_naive(),
        NaiveDate::from_ymd_opt(2027, 1, 4).unwrap()
    );

    let file: FileConfig =
        toml::from_str("holidays = [\"2028-01-01\"]\nmake_up_days = [\"2028-01-08\"]").unwrap();
    let c = Config::resolve(file, env_of(&[]), Overrides::default()).unwrap();
    assert!(
        !c.calendar
            .is_working_day(NaiveDate::from_ymd_opt(2028, 1, 1).unwrap())
    );
    assert!(
        c.calendar
            .is_working_day(NaiveDate::from_ymd_opt(2028, 1, 8).unwrap())
    );

    for bad in [
        "2027-13-01",
        "tomorrow",
        "2027-02-14..2027-02-01",
        "2027-01-01..2027-03-01",
    ] {
        let err = Config::resolve(
            FileConfig::default(),
            env_of(&[("GOVMARKET_HOLIDAYS", bad)]),
            Overrides::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("GOVMARKET_HOLIDAYS"),
            "{bad}: {err}"
        );
    }
}
