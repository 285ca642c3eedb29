//! Record-level access (ABI v2): hostile apps written in WAT query keys their access rule does
//! not reach; the host refuses each one with its own code, records it (redacting keys that may
//! be another person's identity), and the run still answers.

use std::sync::Arc;

use sandbox::host::{QUERY_REFUSED, REDACTED_KEY};
use sandbox::{
    Access, Limits, MemoryDatasets, ModuleRef, QueryStatus, RunContext, RunOutcome, RunRequest,
    Sandbox, SandboxConfig, Verdict, pseudonym,
};
use serde_json::{Value, json};

const ME: &str = "330106199001011237";
const OTHERS: [&str; 3] = [
    "330102196401284481",
    "33020319881215456X",
    "330521198509172641",
];

fn token() -> String {
    pseudonym(b"test key", "app:1", "citizen:1")
}

/// A command that queries `dataset` with each of `keys` in turn and prints `{}` when the last
/// query found its record: the citizen's answer depends only on that one.
fn querying(dataset: &str, keys: &[&str]) -> Vec<u8> {
    let mut data = format!(r#"(data (i32.const 1024) "{{}}") (data (i32.const 2048) "{dataset}")"#);
    let mut calls = String::new();
    let mut offset = 4096;
    for key in keys {
        data.push_str(&format!(r#" (data (i32.const {offset}) "{key}")"#));
        calls.push_str(&format!(
            "(local.set $r (call $query (i32.const 2048) (i32.const {ds}) (i32.const {offset}) \
             (i32.const {len}) (i32.const 32768) (i32.const 16384)))\n",
            ds = dataset.len(),
            len = key.len(),
        ));
        offset += 512;
    }
    let text = format!(
        r#"(module
          (import "wasi_snapshot_preview1" "fd_write"
            (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "gov" "query" (func $query (param i32 i32 i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 2)
          {data}
          (func $print
            (i32.store (i32.const 0) (i32.const 1024))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "_start") (local $r i32)
            {calls}
            (if (i32.ge_s (local.get $r) (i32.const 0)) (then (call $print)))))"#
    );
    wat::parse_str(text).expect("test WAT parses")
}

fn run(wasm: &[u8], input: Value, data: MemoryDatasets) -> RunOutcome {
    let sandbox = Sandbox::new(SandboxConfig::default()).expect("sandbox");
    let request = RunRequest {
        input,
        context: RunContext {
            subject: token(),
            locale: "zh-CN".into(),
            now: "2026-07-01T09:00:00+08:00".into(),
        },
        seed: 1,
        identity: Some(ME.into()),
    };
    let limits = Limits {
        queries: Some(32),
        ..Limits::default()
    };
    sandbox.run(ModuleRef::Wasm(wasm), &request, Arc::new(data), &limits)
}

fn people() -> MemoryDatasets {
    let mut sets = MemoryDatasets::new();
    sets.insert_dataset(
        "social_insurance",
        OTHERS
            .iter()
            .chain([&ME])
            .map(|id| ((*id).to_owned(), json!({"id_number": id, "months": 12}))),
    );
    sets.grant("social_insurance", Access::Subject);
    sets
}

#[test]
fn an_app_looping_over_id_numbers_in_a_subject_dataset_gets_only_its_own_record() {
    let mut keys: Vec<&str> = OTHERS.to_vec();
    // The real ID number of the citizen is no key either: only the token is.
    keys.push(ME);
    let token = token();
    keys.push(&token);
    let outcome = run(&querying("social_insurance", &keys), json!({}), people());

    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(
        outcome.output,
        Some(json!({})),
        "the citizen still gets the answer"
    );
    assert_eq!(outcome.queries.len(), keys.len());
    let (own, refused) = outcome.queries.split_last().expect("queries");
    for q in refused {
        assert_eq!(q.status, QueryStatus::Refused, "{q:?}");
        assert_eq!(q.code, QUERY_REFUSED);
        assert_eq!(
            q.key, REDACTED_KEY,
            "another person's ID never reaches the log"
        );
    }
    assert_eq!(own.status, QueryStatus::Found, "{own:?}");
    assert_eq!(own.key, token, "the log holds the token, not the ID number");
    let log = serde_json::to_string(&outcome).expect("json");
    for id in OTHERS.iter().chain([&ME]) {
        assert!(!log.contains(id), "{id} in {log}");
    }
}

fn certificates() -> MemoryDatasets {
    let mut sets = MemoryDatasets::new();
    sets.insert_dataset(
        "property",
        [
            (
                "C-MINE".to_owned(),
                json!({"owner_id_number": OTHERS[0], "co_owners": [{"id_number": ME}]}),
            ),
            (
                "C-THEIRS".to_owned(),
                json!({"owner_id_number": OTHERS[1], "co_owners": []}),
            ),
        ],
    );
    sets.grant(
        "property",
        Access::Input {
            key: "/certificate_no".into(),
            owner: vec!["/owner_id_number".into(), "/co_owners".into()],
        },
    );
    sets
}

#[test]
fn an_input_dataset_queried_with_another_key_than_the_inputs_is_refused() {
    let outcome = run(
        &querying("property", &["C-THEIRS", "C-MINE"]),
        json!({"certificate_no": "C-MINE"}),
        certificates(),
    );
    assert_eq!(outcome.verdict, Verdict::Accepted, "{outcome:#?}");
    assert_eq!(outcome.queries[0].status, QueryStatus::Refused);
    assert_eq!(outcome.queries[0].key, REDACTED_KEY);
    assert_eq!(
        outcome.queries[1].status,
        QueryStatus::Found,
        "a co-owner's own record"
    );
    assert_eq!(outcome.queries[1].key, "C-MINE");
}

#[test]
fn a_record_whose_owner_fields_lack_the_subject_is_refused() {
    let outcome = run(
        &querying("property", &["C-THEIRS"]),
        json!({"certificate_no": "C-THEIRS"}),
        certificates(),
    );
    // The app gets -5, prints nothing and exits 0: its answer is its own business, the record
    // stayed in the host.
    assert_eq!(outcome.queries.len(), 1);
    assert_eq!(outcome.queries[0].status, QueryStatus::Refused);
    assert_eq!(outcome.queries[0].code, QUERY_REFUSED);
    // The key came from the citizen's own input, so it is kept for their "my data" page.
    assert_eq!(outcome.queries[0].key, "C-THEIRS");
}

#[test]
fn a_reference_dataset_answers_any_key_and_an_ungranted_rule_answers_not_permitted() {
    let mut sets = MemoryDatasets::new();
    sets.insert_dataset("holidays", [("2026".to_owned(), json!(["10-01"]))]);
    sets.grant("holidays", Access::Reference);
    let outcome = run(&querying("holidays", &["2026"]), json!({}), sets.clone());
    assert_eq!(outcome.output, Some(json!({})), "{outcome:#?}");
    assert_eq!(outcome.queries[0].status, QueryStatus::Found);

    sets.set_grants(&[sandbox::DatasetGrant {
        name: "holidays".into(),
        access: None,
        fields: None,
    }]);
    let outcome = run(&querying("holidays", &["2026"]), json!({}), sets);
    assert_eq!(outcome.queries[0].status, QueryStatus::NotPermitted);
}
