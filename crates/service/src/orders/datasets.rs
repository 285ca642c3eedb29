//! An order's datasets: the department uploads (or replaces) each dataset
//! its contract grants, as JSON.

use std::collections::HashSet;

use domain::{OrderStatus, Role};
use serde::Deserialize;
use serde_json::Value;

use super::drafts::check_dataset_name;
use super::{owned_order, status_of};
use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult};
use crate::services::Services;

/// Largest dataset upload, in bytes of JSON.
pub const MAX_DATASET_BYTES: usize = 8 << 20;
/// Longest dataset key.
const MAX_KEY_LEN: usize = 256;

/// A dataset over [`MAX_DATASET_BYTES`] (adapters that read the upload
/// themselves refuse it with this before it is all read).
pub fn too_large() -> ServiceError {
    ServiceError::TooLarge(
        Msg::new("err.order.dataset_too_large").arg("mib", MAX_DATASET_BYTES >> 20),
    )
}

fn malformed(msg: Msg) -> ServiceError {
    ServiceError::bad_request("malformed_dataset", msg)
}

fn invalid(msg: Msg) -> ServiceError {
    ServiceError::unprocessable("invalid_dataset", msg)
}

/// Parses a dataset upload: a JSON object of key -> record, a JSON array of
/// `{"key", "record"}`, or JSON Lines of `{"key", "record"}`.
pub fn parse_dataset(body: &[u8]) -> ServiceResult<Vec<(String, Value)>> {
    let text =
        std::str::from_utf8(body).map_err(|_| malformed(Msg::new("err.order.dataset_not_utf8")))?;
    let keyed = |v: Value, at: String| -> ServiceResult<(String, Value)> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Line {
            key: String,
            record: Value,
        }
        let line: Line = serde_json::from_value(v).map_err(|e| {
            malformed(
                Msg::new("err.order.dataset_line_shape")
                    .arg("at", at)
                    .arg("detail", e),
            )
        })?;
        Ok((line.key, line.record))
    };
    let records: Vec<(String, Value)> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map.into_iter().collect(),
        Ok(Value::Array(items)) => items
            .into_iter()
            .enumerate()
            .map(|(i, v)| keyed(v, format!("[{i}]")))
            .collect::<ServiceResult<_>>()?,
        Ok(_) => return Err(malformed(Msg::new("err.order.dataset_not_object"))),
        Err(whole) => {
            let mut out = Vec::new();
            for (n, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(line).map_err(|e| {
                    let detail = if n == 0 {
                        whole.to_string()
                    } else {
                        e.to_string()
                    };
                    malformed(
                        Msg::new("err.order.dataset_line_not_json")
                            .arg("line", n + 1)
                            .arg("detail", detail),
                    )
                })?;
                out.push(keyed(v, format!("line {}", n + 1))?);
            }
            out
        }
    };
    let mut seen = HashSet::new();
    for (key, _) in &records {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(invalid(
                Msg::new("err.order.dataset_key_length").arg("max", MAX_KEY_LEN),
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(invalid(
                Msg::new("err.order.dataset_key_twice").arg("key", key),
            ));
        }
    }
    if records.is_empty() {
        return Err(invalid(Msg::new("err.order.dataset_empty")));
    }
    Ok(records)
}

/// The order's department uploads (or replaces) dataset `name`, which the
/// contract must grant; `sample` datasets go into the starter kit. On an
/// open order this re-tests every passed and published version.
pub async fn put_dataset(
    services: &Services,
    actor: &Actor,
    id: i64,
    name: &str,
    sample: bool,
    body: &[u8],
) -> ServiceResult<store::entity::datasets::Model> {
    actor.require(&[Role::Department])?;
    check_dataset_name("name", name)?;
    if body.len() > MAX_DATASET_BYTES {
        return Err(too_large());
    }
    let records = parse_dataset(body)?;
    let txn = services.db.begin_write().await?;
    let order = owned_order(&txn, actor, id).await?;
    let status = status_of(&order)?;
    if !matches!(status, OrderStatus::Draft | OrderStatus::Open) {
        return Err(ServiceError::conflict(
            "order_not_editable",
            Msg::new("err.order.not_editable"),
        ));
    }
    let contract = crate::appdata::contract_of(&order)?;
    if !contract.dataset_names().any(|d| d == name) {
        return Err(ServiceError::unprocessable(
            "dataset_not_granted",
            Msg::new("err.order.dataset_not_granted").arg("name", name),
        ));
    }
    let size = i64::try_from(body.len()).map_err(ServiceError::internal)?;
    let dataset = store::datasets::put(&txn, id, name, sample, records, size).await?;
    // A replaced dataset on an open order changes what the suite tests.
    let regression_runs = if status == OrderStatus::Open {
        super::retest_after_suite_change(&txn, id).await?
    } else {
        0
    };
    store::audit::append(
        &txn,
        actor.audit(
            "dataset.put",
            "order",
            id,
            format!(
                "上传数据集 {name} 第 {} 版，{} 条记录，回归测试 {regression_runs} 个版本",
                dataset.version, dataset.record_count
            ),
        ),
    )
    .await?;
    txn.commit().await?;
    services.datasets.invalidate(id);
    services.availability.invalidate();
    if regression_runs > 0 {
        services.jobs.queued();
    }
    Ok(dataset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(e: ServiceError) -> &'static str {
        match e {
            ServiceError::BadRequest { code, .. } | ServiceError::Unprocessable { code, .. } => {
                code
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_dataset_is_an_object_an_array_or_json_lines_of_keyed_records() {
        let object = parse_dataset(br#"{"a": 1, "b": {"x": 2}}"#).unwrap();
        assert_eq!(object.len(), 2);
        let array = parse_dataset(br#"[{"key": "a", "record": 1}]"#).unwrap();
        assert_eq!(array, vec![("a".to_owned(), Value::from(1))]);
        let lines =
            parse_dataset(b"{\"key\": \"a\", \"record\": 1}\n\n{\"key\": \"b\", \"record\": 2}\n")
                .unwrap();
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn malformed_datasets_are_bad_requests_and_bad_keys_unprocessable() {
        assert_eq!(
            code(parse_dataset(b"\xff").unwrap_err()),
            "malformed_dataset"
        );
        assert_eq!(code(parse_dataset(b"42").unwrap_err()), "malformed_dataset");
        assert_eq!(
            code(parse_dataset(b"{\"key\": 1}\nnot json").unwrap_err()),
            "malformed_dataset"
        );
        assert_eq!(code(parse_dataset(b"{}").unwrap_err()), "invalid_dataset");
        assert_eq!(
            code(
                parse_dataset(br#"[{"key": "a", "record": 1}, {"key": "a", "record": 2}]"#)
                    .unwrap_err()
            ),
            "invalid_dataset"
        );
        assert_eq!(
            code(parse_dataset(br#"{"": 1}"#).unwrap_err()),
            "invalid_dataset"
        );
    }
}
