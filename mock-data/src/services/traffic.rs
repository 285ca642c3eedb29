//! 交通违法查询: traffic violations of a vehicle the citizen owns.

use std::collections::BTreeMap;

use domain::Fen;
use serde::Serialize;
use serde_json::{Value, json};

use super::CaseList;
use crate::people::Citizen;
use crate::rng::Rng;
use crate::{Contract, Dataset, DemoService};

pub const DATASET: &str = "traffic_violations";

/// Plate prefixes of every province, then a letter, then 5 (or 6 for new
/// energy vehicles) characters without I and O.
pub const PLATE_PATTERN: &str =
    "^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][A-HJ-NP-Z0-9]{5,6}$";

/// Violation kinds: code, description, fine in fen, points.
const KINDS: &[(&str, &str, i64, i64)] = &[
    (
        "1039",
        "机动车违反规定停放、临时停车，驾驶人不在现场",
        15_000,
        0,
    ),
    ("1625", "驾驶机动车违反道路交通信号灯通行", 20_000, 6),
    (
        "1303",
        "驾驶机动车在城市道路上超过规定时速10%以上未达20%",
        5_000,
        1,
    ),
    ("1352", "驾驶机动车超过规定时速20%以上未达50%", 20_000, 6),
    ("1345", "机动车违反禁止标线指示", 10_000, 1),
    ("1223", "驾驶机动车时拨打、接听手持电话", 5_000, 3),
    ("1240", "驾驶人未按规定使用安全带", 5_000, 1),
    (
        "1357",
        "机动车行经人行横道未按规定减速、停车、避让行人",
        10_000,
        3,
    ),
];

const LOCATIONS: &[&str] = &[
    "文三路与学院路交叉口",
    "天目山路古荡段",
    "延安路解放路口",
    "莫干山路大关路口",
    "江南大道滨盛路口",
    "沪杭甬高速K121+300",
    "绕城高速西线K45",
    "中山东路与解放南路交叉口",
    "钱湖北路",
    "人民路车站大道口",
];

const PLATE_CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub plate: String,
    pub vehicle_type: String,
    pub owner_name: String,
    pub owner_id_number: String,
    pub violations: Vec<Violation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    pub id: String,
    /// RFC 3339 in China Standard Time.
    pub time: String,
    pub location: String,
    pub code: String,
    pub description: String,
    pub fine_fen: i64,
    pub points: i64,
    /// `unpaid` (未处理) or `paid` (已处理).
    pub status: String,
}

pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "title": "交通违法查询",
        "properties": {
            "plate": {"type": "string", "pattern": PLATE_PATTERN, "title": "车牌号码", "examples": ["浙A12345"]},
            "only_unpaid": {"type": "boolean", "default": false, "title": "只看未处理的违法"}
        },
        "required": ["plate"],
        "additionalProperties": false
    })
}

pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "title": "交通违法记录",
        "properties": {
            "found": {"type": "boolean", "title": "是否查到本人名下车辆"},
            "plate": {"type": "string", "title": "车牌号码"},
            "count": {"type": "integer", "minimum": 0, "title": "违法条数"},
            "total_fine_fen": {"type": "integer", "minimum": 0, "title": "罚款合计（分）"},
            "total_points": {"type": "integer", "minimum": 0, "title": "记分合计"},
            "violations": {
                "type": "array",
                "title": "违法记录",
                "items": {
                    "type": "object",
                    "properties": {
                        "time": {"type": "string", "title": "违法时间"},
                        "location": {"type": "string", "title": "违法地点"},
                        "code": {"type": "string", "title": "违法代码"},
                        "description": {"type": "string", "title": "违法行为"},
                        "fine_fen": {"type": "integer", "minimum": 0, "title": "罚款（分）"},
                        "points": {"type": "integer", "minimum": 0, "title": "记分"},
                        "status": {"type": "string", "enum": ["unpaid", "paid"], "enumNames": ["未处理", "已处理"], "title": "处理状态"}
                    },
                    "required": ["time", "location", "code", "description", "fine_fen", "points", "status"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["found", "plate", "count", "total_fine_fen", "total_points", "violations"],
        "additionalProperties": false
    })
}

/// The reference rule. A vehicle is found only if it is registered to the
/// citizen (`subject`): plates are not secret, but a stranger's
/// violations are. Violations are listed newest first (ties by id),
/// filtered to unpaid ones when asked; counts and totals cover the list.
pub fn answer(record: Option<&Value>, subject: &str, input: &Value) -> Value {
    let plate = input.get("plate").cloned().unwrap_or(Value::Null);
    let only_unpaid = input
        .get("only_unpaid")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let owned =
        record.filter(|r| r.get("owner_id_number").and_then(Value::as_str) == Some(subject));
    let Some(r) = owned else {
        return json!({"found": false, "plate": plate, "count": 0, "total_fine_fen": 0, "total_points": 0, "violations": []});
    };
    let mut list: Vec<&Value> = r
        .get("violations")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter(|v| {
                    !only_unpaid || v.get("status").and_then(Value::as_str) == Some("unpaid")
                })
                .collect()
        })
        .unwrap_or_default();
    let key = |v: &Value, f: &str| v.get(f).and_then(Value::as_str).unwrap_or("").to_owned();
    list.sort_by(|a, b| {
        key(b, "time")
            .cmp(&key(a, "time"))
            .then_with(|| key(a, "id").cmp(&key(b, "id")))
    });
    let int = |v: &Value, f: &str| v.get(f).and_then(Value::as_i64).unwrap_or(0);
    let violations: Vec<Value> = list
        .iter()
        .map(|v| {
            json!({
                "time": key(v, "time"), "location": key(v, "location"), "code": key(v, "code"),
                "description": key(v, "description"), "fine_fen": int(v, "fine_fen"),
                "points": int(v, "points"), "status": key(v, "status"),
            })
        })
        .collect();
    json!({
        "found": true,
        "plate": plate,
        "count": violations.len(),
        "total_fine_fen": list.iter().map(|v| int(v, "fine_fen")).sum::<i64>(),
        "total_points": list.iter().map(|v| int(v, "points")).sum::<i64>(),
        "violations": violations,
    })
}

fn plate(rng: &mut Rng, prefix: &str) -> String {
    let mut p = prefix.to_owned();
    for _ in 0..5 {
        // Mostly digits, as real plates are.
        let c = if rng.chance(70) {
            PLATE_CHARS[rng.below(10) as usize]
        } else {
            PLATE_CHARS[rng.below(PLATE_CHARS.len() as u64) as usize]
        };
        p.push(char::from(c));
    }
    p
}

pub fn dataset(population: &[Citizen]) -> Dataset {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x7472);
    let mut data = Dataset::new();
    let mut serial = 0u32;
    for c in population {
        let vehicles = match rng.below(10) {
            0..=4 => 0,
            5..=8 => 1,
            _ => 2,
        };
        for _ in 0..vehicles {
            let mut p = plate(&mut rng, c.region().plate_prefix);
            while data.contains_key(&p) {
                p = plate(&mut rng, c.region().plate_prefix);
            }
            let count = rng.below(7);
            let violations = (0..count)
                .map(|_| {
                    serial += 1;
                    let (code, description, fine, points) = *rng.pick(KINDS).unwrap_or(&KINDS[0]);
                    let day = rng.range(0, 660);
                    let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date")
                        + chrono::Days::new(day as u64);
                    let time = format!(
                        "{}T{:02}:{:02}:00+08:00",
                        date.format("%Y-%m-%d"),
                        rng.range(6, 22),
                        rng.range(0, 59)
                    );
                    Violation {
                        id: format!("V{:08}", 33_000_000 + serial),
                        time,
                        location: (*rng.pick(LOCATIONS).unwrap_or(&LOCATIONS[0])).to_owned(),
                        code: code.to_owned(),
                        description: description.to_owned(),
                        fine_fen: fine,
                        points,
                        status: if rng.chance(55) { "paid" } else { "unpaid" }.to_owned(),
                    }
                })
                .collect();
            let record = Record {
                plate: p.clone(),
                vehicle_type: if rng.chance(85) {
                    "小型汽车"
                } else {
                    "新能源小型汽车"
                }
                .to_owned(),
                owner_name: c.name.clone(),
                owner_id_number: c.id_number.as_str().to_owned(),
                violations,
            };
            data.insert(
                p,
                serde_json::to_value(&record).expect("a Record always serialises"),
            );
        }
    }
    data
}

fn cases(population: &[Citizen], data: &Dataset) -> Vec<crate::TestCase> {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x7473);
    let mut list = CaseList::new("tv", 6, rule_of);
    let add = |list: &mut CaseList, description: String, subject: &str, input: Value| {
        let plate = input.get("plate").and_then(Value::as_str).unwrap_or("");
        let expected = answer(data.get(plate), subject, &input);
        list.push(description, input, Some(subject.to_owned()), expected);
    };
    let owner = |r: &Value| {
        r.get("owner_id_number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let n_violations = |r: &Value| {
        r.get("violations")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    let has_both = |r: &Value| {
        let vs = r
            .get("violations")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        vs.iter().any(|v| v["status"] == "paid") && vs.iter().any(|v| v["status"] == "unpaid")
    };
    let records: Vec<(&String, &Value)> = data.iter().collect();
    let find = |pred: &dyn Fn(&Value) -> bool, skip: usize| {
        records.iter().filter(|(_, r)| pred(r)).nth(skip).copied()
    };

    // Samples.
    if let Some((p, r)) = find(&|r| n_violations(r) >= 3, 0) {
        add(
            &mut list,
            "查询本人车辆的全部违法记录".into(),
            &owner(r),
            json!({"plate": p}),
        );
    }
    if let Some((p, r)) = find(&has_both, 0) {
        add(
            &mut list,
            "只看未处理的违法".into(),
            &owner(r),
            json!({"plate": p, "only_unpaid": true}),
        );
    }
    if let Some((p, r)) = find(&|r| n_violations(r) == 0, 0) {
        add(
            &mut list,
            "本人车辆没有违法记录".into(),
            &owner(r),
            json!({"plate": p}),
        );
    }
    if let Some(c) = population.first() {
        add(
            &mut list,
            "车牌不存在".into(),
            c.id_number.as_str(),
            json!({"plate": "浙A0000Z"}),
        );
    }
    if let Some((p, r)) = find(&|r| n_violations(r) >= 2, 1) {
        let other = population.iter().find(|c| c.id_number.as_str() != owner(r));
        if let Some(other) = other {
            add(
                &mut list,
                "他人名下车辆：不显示其违法记录".into(),
                other.id_number.as_str(),
                json!({"plate": p}),
            );
        }
    }
    if let Some((p, r)) = find(&has_both, 1) {
        add(
            &mut list,
            "明确指定 only_unpaid 为 false".into(),
            &owner(r),
            json!({"plate": p, "only_unpaid": false}),
        );
    }

    // Hidden.
    if let Some((p, r)) = find(&|r| n_violations(r) >= 5, 0) {
        add(
            &mut list,
            "违法较多的车辆，按时间倒序".into(),
            &owner(r),
            json!({"plate": p}),
        );
    }
    if let Some((p, r)) = find(
        &|r| {
            n_violations(r) > 0
                && r["violations"]
                    .as_array()
                    .is_some_and(|vs| vs.iter().all(|v| v["status"] == "paid"))
        },
        0,
    ) {
        add(
            &mut list,
            "违法均已处理，只看未处理时为空".into(),
            &owner(r),
            json!({"plate": p, "only_unpaid": true}),
        );
    }
    if let Some((p, r)) = find(&|r| r["vehicle_type"] == "新能源小型汽车", 0) {
        add(
            &mut list,
            "新能源车辆".into(),
            &owner(r),
            json!({"plate": p}),
        );
    }
    if let Some((p, r)) = find(&has_both, 2) {
        let other = population
            .iter()
            .rev()
            .find(|c| c.id_number.as_str() != owner(r));
        if let Some(other) = other {
            add(
                &mut list,
                "他人名下车辆，只看未处理".into(),
                other.id_number.as_str(),
                json!({"plate": p, "only_unpaid": true}),
            );
        }
    }
    if let Some(c) = population.get(1) {
        add(
            &mut list,
            "外省车牌不存在".into(),
            c.id_number.as_str(),
            json!({"plate": "粤B12345", "only_unpaid": true}),
        );
    }
    for k in 0..11 {
        let Some((p, r)) = rng.pick(&records).copied() else {
            break;
        };
        let input = if rng.chance(40) {
            json!({"plate": p, "only_unpaid": true})
        } else {
            json!({"plate": p})
        };
        add(
            &mut list,
            format!("随机抽查第 {} 例", k + 1),
            &owner(r),
            input,
        );
    }
    list.into_cases()
}

/// The department's rules document, as the order states it to vendors.
pub const RULES_ZH: &str = r#"# 交通违法查询规则

机动车所有人查询本人车辆的交通违法记录。

## 输入与记录字段

- `plate`：号牌号码，按原样查询数据集 `traffic_violations`。
- `only_unpaid`：可省略，为 true 时只列出未缴款（`status` 为 `unpaid`）的记录。
- 记录的 `owner_id_number` 是车辆所有人的身份证号；`violations` 是违法记录（时间、地点、代码、描述、罚款 `fine_fen`（分）、记分 `points`、状态）。

## 规则

1. **只有车辆登记在申请人（`context.subject`）名下才算查到**。号牌不存在或不是本人车辆时，`found` 为 false，原样返回 `plate`，数量与合计为 0，列表为空——不透露他人的违法记录，也不区分这两种情况。
2. 违法记录按时间**从新到旧**排列；时间相同时按记录 `id` 升序。
3. `count`、`total_fine_fen`、`total_points` 只统计列出的记录（`only_unpaid` 时只算未缴款的）。
4. 每条记录只输出输出模式列出的字段。

## 边界情况

- 本人车辆没有违法记录时 `found` 为 true，列表为空。
"#;

/// The rule a case checks, from its expected output (the case's label).
fn rule_of(input: &Value, expected: &Value) -> String {
    let unpaid = input["only_unpaid"] == true;
    let count = expected["count"].as_i64().unwrap_or(0);
    if expected["found"] == false {
        "非本人车辆或号牌不存在：不透露记录".into()
    } else if count == 0 {
        "本人车辆无记录：found 为 true，列表为空".into()
    } else if unpaid {
        "只列未缴款：合计只算列出的记录".into()
    } else if count > 1 {
        "按时间从新到旧排列，合计全部记录".into()
    } else {
        "本人车辆：列出记录与合计".into()
    }
}

pub fn service(population: &[Citizen]) -> DemoService {
    let mut data = dataset(population);
    data.insert(
        crate::demo_citizen::PLATE.into(),
        crate::demo_citizen::traffic(),
    );
    let cases = cases(population, &data);
    DemoService {
        slug: "traffic-violations".into(),
        title_zh: "交通违法查询".into(),
        title_en: "Traffic violation lookup".into(),
        description_zh: "车主查询本人名下机动车的交通违法记录：违法时间、地点、行为、罚款和记分，可只看未处理的记录。".into(),
        description_en: "Vehicle owners look up the traffic violations of their own vehicles: time, place, offence, fine and points, optionally only the unpaid ones.".into(),
        rules_zh: RULES_ZH.into(),
        category: "交通出行".into(),
        department: "杭州市公安局交通警察支队".into(),
        budget: Fen::from_fen(15_000_000),
        contract: Contract {
            input_schema: input_schema(),
            output_schema: output_schema(),
            datasets: vec![format!("{DATASET}:input/plate:owner/owner_id_number")],
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

    fn record() -> Value {
        json!({"plate": "浙A12345", "vehicle_type": "小型汽车", "owner_name": "王五", "owner_id_number": "OWNER",
        "violations": [
            {"id": "V1", "time": "2026-01-02T08:00:00+08:00", "location": "a", "code": "1039", "description": "d", "fine_fen": 15000, "points": 0, "status": "paid"},
            {"id": "V2", "time": "2026-03-02T08:00:00+08:00", "location": "b", "code": "1625", "description": "d", "fine_fen": 20000, "points": 6, "status": "unpaid"}
        ]})
    }

    #[test]
    fn the_owner_sees_violations_newest_first_with_totals() {
        let out = answer(Some(&record()), "OWNER", &json!({"plate": "浙A12345"}));
        assert_eq!(out["count"], 2);
        assert_eq!(out["total_fine_fen"], 35_000);
        assert_eq!(out["total_points"], 6);
        assert_eq!(out["violations"][0]["code"], "1625");
    }

    #[test]
    fn only_unpaid_filters_the_list_and_the_totals() {
        let out = answer(
            Some(&record()),
            "OWNER",
            &json!({"plate": "浙A12345", "only_unpaid": true}),
        );
        assert_eq!(
            (out["count"].as_i64(), out["total_fine_fen"].as_i64()),
            (Some(1), Some(20_000))
        );
    }

    #[test]
    fn someone_elses_vehicle_is_not_found() {
        let out = answer(Some(&record()), "SOMEONE", &json!({"plate": "浙A12345"}));
        assert_eq!(out["found"], false);
        assert_eq!(out["violations"], json!([]));
        assert_eq!(out["plate"], "浙A12345");
    }
}
