//! 社保缴费记录查询: a citizen's social insurance contribution summary.
//!
//! The record format, schemas and rule are fixed by the platform's example
//! C app, so they must not drift:
//! dataset `social_insurance`, key = the citizen's resident ID number
//! (`context.subject`), record `{name, id_number, city, records: [{month,
//! employer, base_fen, personal_fen, employer_fen}]}` sorted by month,
//! possibly with gaps.

use std::collections::BTreeMap;

use domain::Fen;
use serde::Serialize;
use serde_json::{Value, json};

use super::{CaseList, Month};
use crate::people::{self, Citizen};
use crate::rng::Rng;
use crate::{Contract, Dataset, DemoService};

pub const DATASET: &str = "social_insurance";
/// Months looked at when the input names none.
pub const DEFAULT_MONTHS: i64 = 12;

/// The latest month with data in the demo (the month before the reference date).
pub fn latest_data_month() -> Month {
    Month::new(2026, 10)
}

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub name: String,
    pub id_number: String,
    pub city: String,
    pub records: Vec<MonthRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthRecord {
    pub month: String,
    pub employer: String,
    pub base_fen: i64,
    pub personal_fen: i64,
    pub employer_fen: i64,
}

pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "title": "社保缴费记录查询",
        "properties": {
            "months": {"type": "integer", "minimum": 1, "maximum": 36, "title": "查询月数"}
        },
        "additionalProperties": false
    })
}

pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "title": "社保缴费记录",
        "properties": {
            "found": {"type": "boolean", "title": "是否查到参保记录"},
            "name": {"type": ["string", "null"], "title": "姓名"},
            "months_paid": {"type": "integer", "minimum": 0, "title": "缴费月数"},
            "total_personal_fen": {"type": "integer", "minimum": 0, "title": "个人缴费合计（分）"},
            "total_employer_fen": {"type": "integer", "minimum": 0, "title": "单位缴费合计（分）"},
            "latest_month": {"type": ["string", "null"], "title": "最近缴费月份"},
            "continuous_months": {"type": "integer", "minimum": 0, "title": "连续缴费月数"}
        },
        "required": ["found", "name", "months_paid", "total_personal_fen", "total_employer_fen", "latest_month", "continuous_months"],
        "additionalProperties": false
    })
}

/// The reference rule, over a record exactly as stored in the dataset.
///
/// The window is the last `months` calendar months (default 12) ending at
/// the latest record month. `months_paid` and the totals count the records
/// in the window; `continuous_months` is the length of the run of
/// consecutive months ending at the latest month, within the window.
/// No record: found false, nulls and zeros.
pub fn answer(record: Option<&Value>, input: &Value) -> Value {
    let not_found = json!({
        "found": false, "name": null, "months_paid": 0, "total_personal_fen": 0,
        "total_employer_fen": 0, "latest_month": null, "continuous_months": 0
    });
    let Some(record) = record else {
        return not_found;
    };
    let window = input
        .get("months")
        .and_then(Value::as_i64)
        .unwrap_or(DEFAULT_MONTHS);
    let name = record.get("name").cloned().unwrap_or(Value::Null);
    let months: Vec<(Month, i64, i64)> = record
        .get("records")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter_map(|r| {
                    Some((
                        Month::parse(r.get("month")?.as_str()?)?,
                        r.get("personal_fen")?.as_i64()?,
                        r.get("employer_fen")?.as_i64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(latest) = months.iter().map(|m| m.0).max() else {
        return json!({
            "found": true, "name": name, "months_paid": 0, "total_personal_fen": 0,
            "total_employer_fen": 0, "latest_month": null, "continuous_months": 0
        });
    };
    let first = latest.plus(-(window as i32) + 1);
    let in_window: Vec<&(Month, i64, i64)> = months
        .iter()
        .filter(|m| m.0 >= first && m.0 <= latest)
        .collect();
    let mut continuous = 0;
    while latest.plus(-continuous) >= first
        && in_window.iter().any(|m| m.0 == latest.plus(-continuous))
    {
        continuous += 1;
    }
    json!({
        "found": true,
        "name": name,
        "months_paid": in_window.len(),
        "total_personal_fen": in_window.iter().map(|m| m.1).sum::<i64>(),
        "total_employer_fen": in_window.iter().map(|m| m.2).sum::<i64>(),
        "latest_month": latest.to_string(),
        "continuous_months": continuous,
    })
}

/// A contribution history: starts some years back, may stop early, has
/// occasional gaps and job changes, and the base rises each January.
fn history(rng: &mut Rng, citizen: &Citizen, seq: u32) -> Vec<MonthRecord> {
    let region = citizen.region();
    let latest = if rng.chance(80) {
        latest_data_month()
    } else {
        latest_data_month().plus(-(rng.range(1, 30) as i32))
    };
    let start = latest.plus(-(rng.range(0, 59) as i32));
    let mut employer = people::employer(rng, region, seq * 16);
    let mut base: i64 = rng.range(45, 200) * 10_000;
    let mut out = Vec::new();
    let mut month = start;
    let mut job = 0;
    loop {
        if month.month() == 1 && month != start {
            // Bases are adjusted each year, in whole yuan, capped at the
            // provincial maximum (about three times the average wage).
            base = (base + base * rng.range(0, 8) / 100) / 100 * 100;
            base = base.min(2_500_000);
        }
        if rng.chance(3) {
            job += 1;
            employer = people::employer(rng, region, seq * 16 + job);
        }
        out.push(MonthRecord {
            month: month.to_string(),
            employer: employer.name.clone(),
            base_fen: base,
            // Pension insurance: 8% personal, 16% employer.
            personal_fen: base * 8 / 100,
            employer_fen: base * 16 / 100,
        });
        if month >= latest {
            break;
        }
        // Between jobs: skip 1 to 4 months, but always end at `latest`.
        let step = if rng.chance(4) {
            1 + rng.range(1, 4) as i32
        } else {
            1
        };
        month = month.plus(step).min(latest);
    }
    out
}

pub fn dataset(population: &[Citizen]) -> Dataset {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x5151);
    population
        .iter()
        .enumerate()
        // About one citizen in eight has never been insured here.
        .filter(|(i, _)| i % 8 != 7)
        .map(|(i, c)| {
            let record = Record {
                name: c.name.clone(),
                id_number: c.id_number.as_str().to_owned(),
                city: c.city.clone(),
                records: history(&mut rng, c, i as u32),
            };
            let value = serde_json::to_value(&record).expect("a Record always serialises");
            (c.id_number.as_str().to_owned(), value)
        })
        .collect()
}

/// A scripted case: description, which citizen it needs, and the input.
type Scripted<'a> = (&'static str, &'a dyn Fn(&Citizen) -> bool, Value);

fn cases(population: &[Citizen], data: &Dataset) -> Vec<crate::TestCase> {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x5152);
    let mut list = CaseList::new("si", 6, rule_of);
    let add = |list: &mut CaseList, description: String, subject: String, input: Value| {
        let expected = answer(data.get(&subject), &input);
        list.push(description, input, Some(subject), expected);
    };
    let insured: Vec<&Citizen> = population
        .iter()
        .filter(|c| data.contains_key(c.id_number.as_str()))
        .collect();
    let uninsured: Vec<&Citizen> = population
        .iter()
        .filter(|c| !data.contains_key(c.id_number.as_str()))
        .collect();
    let records_of = |c: &Citizen| -> Vec<Month> {
        data.get(c.id_number.as_str())
            .and_then(|r| r.get("records"))
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| Month::parse(r.get("month")?.as_str()?))
                    .collect()
            })
            .unwrap_or_default()
    };
    let has_gap_in_last = |c: &Citizen, n: i32| {
        let ms = records_of(c);
        let Some(&latest) = ms.last() else {
            return false;
        };
        let inside = ms.iter().filter(|m| **m > latest.plus(-n)).count();
        inside < n as usize && ms.first().is_some_and(|f| *f <= latest.plus(-n))
    };
    let stopped = |c: &Citizen| {
        records_of(c)
            .last()
            .is_some_and(|m| *m < latest_data_month())
    };
    let short = |c: &Citizen| records_of(c).len() < 12;

    let current = |c: &Citizen| !stopped(c) && !short(c) && !has_gap_in_last(c, 12);
    let gap6 = |c: &Citizen| has_gap_in_last(c, 6);
    let gap12 = |c: &Citizen| has_gap_in_last(c, 12);
    let gap36 = |c: &Citizen| has_gap_in_last(c, 36);
    // Each scripted case takes a citizen no earlier case used, so the
    // samples show different situations rather than one person thrice.
    let mut used: Vec<&str> = Vec::new();
    let mut scripted: Vec<Scripted<'_>> = vec![
        // Samples: the common cases an ISV must see.
        ("默认查询最近 12 个月", &current, json!({})),
        ("查询最近 6 个月", &current, json!({"months": 6})),
        (
            "最近 12 个月内有断缴，连续月数从最近月份往前数",
            &gap12,
            json!({"months": 12}),
        ),
        (
            "已停缴：窗口以最后一次缴费月份为终点",
            &stopped,
            json!({"months": 12}),
        ),
        ("查询 36 个月（上限）", &gap36, json!({"months": 36})),
    ];
    // Hidden: edge cases.
    scripted.extend::<Vec<Scripted<'_>>>(vec![
        ("参保不足 12 个月", &short, json!({})),
        (
            "参保不足 12 个月，查询 36 个月",
            &short,
            json!({"months": 36}),
        ),
        ("36 个月内有断缴", &gap36, json!({"months": 36})),
        ("6 个月内有断缴", &gap6, json!({"months": 6})),
        ("只查询 1 个月", &current, json!({"months": 1})),
        ("已停缴，查询 24 个月", &stopped, json!({"months": 24})),
        ("已停缴，默认 12 个月", &stopped, json!({})),
    ]);
    for (i, (description, pred, input)) in scripted.into_iter().enumerate() {
        let c = insured
            .iter()
            .find(|c| pred(c) && !used.contains(&c.id_number.as_str()));
        if let Some(c) = c {
            used.push(c.id_number.as_str());
            add(
                &mut list,
                description.into(),
                c.id_number.as_str().into(),
                input,
            );
        }
        if i == 3 {
            // The fourth sample: someone the insurer has never heard of.
            if let Some(c) = uninsured.first() {
                add(
                    &mut list,
                    "无参保记录的居民".into(),
                    c.id_number.as_str().into(),
                    json!({}),
                );
            }
        }
    }
    for k in 0..3u16 {
        let stranger = people::stranger_id(&mut rng, k);
        add(
            &mut list,
            "身份证号有效但不在参保库中".into(),
            stranger.as_str().into(),
            json!({"months": 12}),
        );
    }
    if let Some(c) = uninsured.get(1) {
        add(
            &mut list,
            "无参保记录，查询 3 个月".into(),
            c.id_number.as_str().into(),
            json!({"months": 3}),
        );
    }
    let windows = [1, 2, 3, 5, 6, 11, 12, 13, 18, 24, 35, 36];
    for k in 0..12 {
        let Some(c) = rng.pick(&insured) else { break };
        let input = if k % 4 == 0 {
            json!({})
        } else {
            json!({"months": rng.pick(&windows).copied().unwrap_or(12)})
        };
        add(
            &mut list,
            format!("随机抽查第 {} 例", k + 1),
            c.id_number.as_str().into(),
            input,
        );
    }
    // Last, so the ids above stay put: a whole year missing across a year
    // boundary (the demo citizen paid nothing in 2025). The run of
    // continuous months stops at 2026-01; counting December -> January as
    // consecutive without looking at the year reaches back over the gap.
    for months in [24, 36] {
        add(
            &mut list,
            format!("整年断缴（2024-12 之后直到 2026-01 才恢复），查询 {months} 个月"),
            crate::demo_citizen::ID_NUMBER.into(),
            json!({ "months": months }),
        );
    }
    list.into_cases()
}

/// The department's rules document, as the order states it to vendors.
pub const RULES_ZH: &str = r#"# 社保缴费记录查询规则

参保人查询自己最近若干个月的社会保险缴费情况。

## 输入与记录字段

- `months`：统计的月数，可省略，默认 12。
- 以 `context.subject`（本人的匿名令牌，平台凭它找到本人的记录；应用看不到身份证号）查询数据集 `social_insurance`；记录有 `name` 与按月的 `records`（`month` 为 `YYYY-MM`，`personal_fen` 与 `employer_fen` 为个人与单位缴费，单位为分）。

## 规则

1. **无记录**：`found` 为 false，`name` 与 `latest_month` 为 null，其余数值为 0。
2. **有档案但没有任何缴费月**：`found` 为 true，给出 `name`，`latest_month` 为 null，数值为 0。
3. **统计窗口**是截至最近一个缴费月（`latest_month`）的连续 `months` 个自然月，而不是截至今天。
4. `months_paid`、`total_personal_fen`、`total_employer_fen` 只统计窗口内的月份。
5. `continuous_months` 是从最近一个缴费月往前、在窗口内连续不断的月数；中间断缴一个月就停止计数。

## 边界情况

- 月份跨年按自然月计算（2025-12 之后是 2026-01）。
- 窗口之外的记录不计入任何数值。
"#;

/// The rule a case checks, from its expected output (the case's label).
fn rule_of(input: &Value, expected: &Value) -> String {
    let window = if input.get("months").is_some() {
        "按指定月数统计"
    } else {
        "默认统计 12 个月"
    };
    if expected["found"] == false {
        "无记录：found 为 false，数值为 0".into()
    } else if expected["latest_month"].is_null() {
        "有档案无缴费：给出姓名，数值为 0".into()
    } else if expected["continuous_months"] != expected["months_paid"] {
        format!("{window}：断缴后只计最近一段连续月数")
    } else {
        format!("{window}：窗口截至最近缴费月")
    }
}

pub fn service(population: &[Citizen]) -> DemoService {
    let mut data = dataset(population);
    data.insert(
        crate::demo_citizen::ID_NUMBER.into(),
        crate::demo_citizen::social_insurance(),
    );
    let cases = cases(population, &data);
    DemoService {
        slug: "social-insurance-records".into(),
        title_zh: "社保缴费记录查询".into(),
        title_en: "Social insurance contribution records".into(),
        description_zh: "居民查询本人最近若干个月的社会保险缴费情况：缴费月数、个人与单位缴费合计、最近缴费月份和连续缴费月数。".into(),
        description_en: "Citizens look up their own social insurance contributions over recent months: months paid, personal and employer totals, the latest month and the current continuous run.".into(),
        rules_zh: RULES_ZH.into(),
        category: "社会保障".into(),
        department: "杭州市人力资源和社会保障局".into(),
        budget: Fen::from_fen(30_000_000),
        contract: Contract {
            input_schema: input_schema(),
            output_schema: output_schema(),
            datasets: vec![format!("{DATASET}:subject")],
            limits: json!({}),
            threshold_percent: 100,
        },
        datasets: BTreeMap::from([(DATASET.to_owned(), data)]),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(months: &[&str]) -> Value {
        let records: Vec<Value> = months
            .iter()
            .map(|m| json!({"month": m, "employer": "杭州某某科技有限公司", "base_fen": 800000, "personal_fen": 64000, "employer_fen": 128000}))
            .collect();
        json!({"name": "张三", "id_number": "330106199001011234", "city": "杭州市", "records": records})
    }

    #[test]
    fn the_run_of_continuous_months_ends_at_the_latest_month() {
        let r = record(&["2025-11", "2025-12", "2026-02", "2026-03", "2026-04"]);
        let out = answer(Some(&r), &json!({}));
        assert_eq!(
            out,
            json!({"found": true, "name": "张三", "months_paid": 5, "total_personal_fen": 320000,
                   "total_employer_fen": 640000, "latest_month": "2026-04", "continuous_months": 3})
        );
    }

    #[test]
    fn the_window_counts_calendar_months_back_from_the_latest_record() {
        let r = record(&["2025-01", "2025-02", "2026-01", "2026-02", "2026-03"]);
        // months = 3: 2026-01..=2026-03.
        let out = answer(Some(&r), &json!({"months": 3}));
        assert_eq!(out["months_paid"], 3);
        assert_eq!(out["continuous_months"], 3);
        // months = 2 caps the run at the window.
        let out = answer(Some(&r), &json!({"months": 2}));
        assert_eq!(
            (
                out["months_paid"].as_i64(),
                out["continuous_months"].as_i64()
            ),
            (Some(2), Some(2))
        );
        // months = 14: 2025-02..=2026-03 holds 2025-02 but not 2025-01.
        let out = answer(Some(&r), &json!({"months": 14}));
        assert_eq!(out["months_paid"], 4);
    }

    #[test]
    fn an_unknown_citizen_gets_nulls_and_zeros() {
        let out = answer(None, &json!({"months": 3}));
        assert_eq!(out["found"], false);
        assert_eq!(out["name"], Value::Null);
        assert_eq!(out["latest_month"], Value::Null);
        assert_eq!(out["months_paid"], 0);
    }

    #[test]
    fn generated_histories_are_sorted_unique_and_end_by_the_latest_data_month() {
        let population = crate::demo_citizens();
        let data = dataset(&population);
        assert!(data.len() > 150);
        for record in data.values() {
            let months: Vec<Month> = record["records"]
                .as_array()
                .expect("records")
                .iter()
                .map(|r| Month::parse(r["month"].as_str().expect("month")).expect("valid month"))
                .collect();
            assert!(!months.is_empty());
            assert!(months.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
            assert!(months.last().is_some_and(|m| *m <= latest_data_month()));
        }
    }
}
