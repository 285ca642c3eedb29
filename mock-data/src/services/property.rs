//! 不动产登记预审: before a transfer or mortgage registration appointment,
//! check the property certificate for obstacles.

use std::collections::BTreeMap;

use domain::Fen;
use serde::Serialize;
use serde_json::{Value, json};

use super::CaseList;
use crate::people::{self, Citizen};
use crate::rng::Rng;
use crate::{Contract, Dataset, DemoService};

pub const DATASET: &str = "property_certificates";

/// Issues in the order the rule checks them.
pub const ISSUES: &[&str] = &[
    "certificate_not_found",
    "applicant_not_owner",
    "property_sealed",
    "mortgage_not_released",
    "already_mortgaged",
];

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    /// 不动产权证书号, e.g. `浙（2021）杭州市不动产权第0123456号`.
    pub certificate_no: String,
    pub owner_name: String,
    pub owner_id_number: String,
    pub co_owners: Vec<CoOwner>,
    pub address: String,
    /// Floor area in square metres as an exact decimal string (`89.50`).
    pub area_m2: String,
    pub usage: String,
    pub registered_on: String,
    pub mortgaged: bool,
    /// 查封: seized by a court; no registration is possible.
    pub sealed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CoOwner {
    pub name: String,
    pub id_number: String,
}

pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "title": "不动产登记预审",
        "properties": {
            "certificate_no": {
                "type": "string", "minLength": 1, "maxLength": 64,
                "title": "不动产权证书号", "examples": ["浙（2021）杭州市不动产权第0123456号"]
            },
            "transaction": {
                "type": "string",
                "enum": ["transfer", "mortgage"],
                "enumNames": ["转移登记（买卖）", "抵押登记"],
                "title": "登记类型"
            }
        },
        "required": ["certificate_no", "transaction"],
        "additionalProperties": false
    })
}

pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "title": "预审结果",
        "properties": {
            "found": {"type": "boolean", "title": "是否查到证书"},
            "passed": {"type": "boolean", "title": "预审是否通过"},
            "issues": {"type": "array", "title": "存在的问题", "items": {"type": "string", "enum": ISSUES}},
            "address": {"type": ["string", "null"], "title": "坐落"},
            "area_m2": {"type": ["string", "null"], "title": "建筑面积（平方米）"},
            "usage": {"type": ["string", "null"], "title": "用途"}
        },
        "required": ["found", "passed", "issues", "address", "area_m2", "usage"],
        "additionalProperties": false
    })
}

/// The reference rule. The applicant (`subject`) must be the owner or a
/// co-owner; a sealed property cannot be registered; a transfer needs the
/// mortgage released first; a second mortgage is not pre-approved online.
/// The property's details are shown only to its owners.
pub fn answer(record: Option<&Value>, subject: &str, input: &Value) -> Value {
    let Some(r) = record else {
        return json!({"found": false, "passed": false, "issues": ["certificate_not_found"],
                      "address": null, "area_m2": null, "usage": null});
    };
    let transaction = input
        .get("transaction")
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_owner = r.get("owner_id_number").and_then(Value::as_str) == Some(subject)
        || r.get("co_owners")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.get("id_number").and_then(Value::as_str) == Some(subject))
            });
    // Another person's certificate says nothing more: the platform does not
    // hand its record to the app (the grant's owner rule answers "refused"),
    // and whether someone else's home is sealed or mortgaged is theirs.
    if !is_owner {
        return json!({"found": true, "passed": false, "issues": ["applicant_not_owner"],
                      "address": null, "area_m2": null, "usage": null});
    }
    let flag = |f: &str| r.get(f).and_then(Value::as_bool).unwrap_or(false);
    let mut issues: Vec<&str> = Vec::new();
    if flag("sealed") {
        issues.push("property_sealed");
    }
    if flag("mortgaged") {
        issues.push(if transaction == "transfer" {
            "mortgage_not_released"
        } else {
            "already_mortgaged"
        });
    }
    let detail = |f: &str| r.get(f).cloned().unwrap_or(Value::Null);
    json!({
        "found": true,
        "passed": issues.is_empty(),
        "issues": issues,
        "address": detail("address"),
        "area_m2": detail("area_m2"),
        "usage": detail("usage"),
    })
}

pub fn dataset(population: &[Citizen]) -> Dataset {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x5052);
    let mut data = Dataset::new();
    for (i, c) in population.iter().enumerate() {
        if !rng.chance(40) {
            continue;
        }
        // Spouses often co-own: pick another adult of the population.
        let co_owners = if rng.chance(40) {
            let j = (i + 1 + rng.below(population.len() as u64 - 1) as usize) % population.len();
            population
                .get(j)
                .map(|o| {
                    vec![CoOwner {
                        name: o.name.clone(),
                        id_number: o.id_number.as_str().to_owned(),
                    }]
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let year = rng.range(2016, 2025);
        let mut number = format!(
            "浙（{year}）{}不动产权第{:07}号",
            c.city,
            rng.below(10_000_000)
        );
        while data.contains_key(&number) {
            number = format!(
                "浙（{year}）{}不动产权第{:07}号",
                c.city,
                rng.below(10_000_000)
            );
        }
        let centi = rng.range(3_500, 18_000);
        let registered = chrono::NaiveDate::from_ymd_opt(year as i32, 1, 1).expect("valid date")
            + chrono::Days::new(rng.below(360));
        let usage = if rng.chance(90) {
            "住宅"
        } else {
            "商业服务"
        };
        let record = Record {
            certificate_no: number.clone(),
            owner_name: c.name.clone(),
            owner_id_number: c.id_number.as_str().to_owned(),
            co_owners,
            address: people::address(&mut rng, c.region()),
            area_m2: format!("{}.{:02}", centi / 100, centi % 100),
            usage: usage.to_owned(),
            registered_on: registered.format("%Y-%m-%d").to_string(),
            mortgaged: rng.chance(45),
            sealed: rng.chance(6),
        };
        data.insert(
            number,
            serde_json::to_value(&record).expect("a Record always serialises"),
        );
    }
    data
}

fn cases(population: &[Citizen], data: &Dataset) -> Vec<crate::TestCase> {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x5053);
    let mut list = CaseList::new("pr", 6, rule_of);
    let add =
        |list: &mut CaseList, description: String, subject: &str, no: &str, transaction: &str| {
            let input = json!({"certificate_no": no, "transaction": transaction});
            let expected = answer(data.get(no), subject, &input);
            list.push(description, input, Some(subject.to_owned()), expected);
        };
    let owner = |r: &Value| {
        r.get("owner_id_number")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let co_owner = |r: &Value| r["co_owners"][0]["id_number"].as_str().map(str::to_owned);
    let records: Vec<(&String, &Value)> = data.iter().collect();
    let find = |pred: &dyn Fn(&Value) -> bool, skip: usize| {
        records.iter().filter(|(_, r)| pred(r)).nth(skip).copied()
    };
    let clean = |r: &Value| r["mortgaged"] == false && r["sealed"] == false;
    let stranger = |r: &Value| {
        population
            .iter()
            .map(|c| c.id_number.as_str().to_owned())
            .find(|id| *id != owner(r) && Some(id.clone()) != co_owner(r))
            .unwrap_or_default()
    };

    // Samples.
    if let Some((no, r)) = find(&clean, 0) {
        add(
            &mut list,
            "产权清晰，买卖转移预审通过".into(),
            &owner(r),
            no,
            "transfer",
        );
    }
    if let Some((no, r)) = find(&|r| r["mortgaged"] == true && r["sealed"] == false, 0) {
        add(
            &mut list,
            "有抵押未解除，不能转移".into(),
            &owner(r),
            no,
            "transfer",
        );
    }
    if let Some((no, r)) = find(&clean, 1) {
        add(
            &mut list,
            "申请人不是权利人".into(),
            &stranger(r),
            no,
            "mortgage",
        );
    }
    if let Some(c) = population.first() {
        add(
            &mut list,
            "证书号不存在".into(),
            c.id_number.as_str(),
            "浙（2020）杭州市不动产权第9999999号",
            "transfer",
        );
    }
    if let Some((no, r)) = find(&|r| clean(r) && co_owner(r).is_some(), 0) {
        add(
            &mut list,
            "共有人申请抵押登记".into(),
            &co_owner(r).unwrap_or_default(),
            no,
            "mortgage",
        );
    }
    if let Some((no, r)) = find(&clean, 2) {
        add(
            &mut list,
            "无抵押，抵押登记预审通过".into(),
            &owner(r),
            no,
            "mortgage",
        );
    }

    // Hidden.
    if let Some((no, r)) = find(&|r| r["sealed"] == true, 0) {
        add(&mut list, "房产已被查封".into(), &owner(r), no, "transfer");
    }
    if let Some((no, r)) = find(&|r| r["sealed"] == true && r["mortgaged"] == true, 0) {
        add(&mut list, "查封且有抵押".into(), &owner(r), no, "mortgage");
    }
    if let Some((no, r)) = find(&|r| r["mortgaged"] == true && r["sealed"] == false, 1) {
        add(
            &mut list,
            "已有抵押，再次抵押".into(),
            &owner(r),
            no,
            "mortgage",
        );
    }
    if let Some((no, r)) = find(&|r| r["mortgaged"] == true, 2) {
        add(
            &mut list,
            "他人申请且有抵押".into(),
            &stranger(r),
            no,
            "transfer",
        );
    }
    if let Some((no, r)) = find(&|r| r["usage"] == "商业服务", 0) {
        add(&mut list, "商业用途房产".into(), &owner(r), no, "transfer");
    }
    if let Some(c) = population.get(5) {
        add(
            &mut list,
            "证书号格式随意的输入".into(),
            c.id_number.as_str(),
            "不动产权第123号",
            "mortgage",
        );
    }
    if let Some((no, r)) = find(&|r| co_owner(r).is_some() && r["mortgaged"] == true, 0) {
        add(
            &mut list,
            "共有人申请转移但有抵押".into(),
            &co_owner(r).unwrap_or_default(),
            no,
            "transfer",
        );
    }
    for k in 0..11 {
        let Some((no, r)) = rng.pick(&records).copied() else {
            break;
        };
        let subject = if rng.chance(75) {
            owner(r)
        } else {
            stranger(r)
        };
        let transaction = if rng.chance(50) {
            "transfer"
        } else {
            "mortgage"
        };
        add(
            &mut list,
            format!("随机抽查第 {} 例", k + 1),
            &subject,
            no,
            transaction,
        );
    }
    list.into_cases()
}

/// The department's rules document, as the order states it to vendors.
pub const RULES_ZH: &str = r#"# 不动产登记预审规则

权利人在预约不动产**转移**（买卖）或**抵押**登记前，凭不动产权证书号预先核查障碍。

## 输入与记录字段

- `certificate_no`：不动产权证书号，按原样查询数据集 `property_certificates`（不做格式校正）。
- `transaction`：`transfer`（转移）或 `mortgage`（抵押）。
- `context.subject`：申请人的匿名令牌（不是身份证号）。数据集的访问规则只在记录的 `owner_id_number` 或 `co_owners[].id_number` 是申请人本人时返回该证书（否则查询结果为 -5，拒绝）；返回给应用的记录不含身份证号字段。
- 记录的 `sealed` 为已被法院查封，`mortgaged` 为有未解除的抵押。

## 规则（按顺序检查，问题按此顺序列在 `issues` 中）

1. **证书不存在**：`found` 为 false，`passed` 为 false，`issues` 只有 `certificate_not_found`，坐落、面积、用途为 null。
2. **申请人不是权利人**（既非所有权人也非共有人；平台对此查询答复 -5 拒绝）：`found` 为 true，`passed` 为 false，`issues` 只有 `applicant_not_owner`，坐落、面积、用途为 null——不向他人透露房产信息，也不透露是否查封或抵押。
3. **已查封**：报 `property_sealed`，转移与抵押都不能办理。
4. **有抵押**：转移报 `mortgage_not_released`（须先解除抵押）；抵押报 `already_mortgaged`（不在线预审第二次抵押）。
5. 没有任何问题时 `passed` 为 true。

## 边界情况

- 共有人与所有权人同等对待，可申请转移与抵押，也能看到房产信息。
- 权利人看到的坐落、面积（原样的十进制字符串，如 `89.50`）和用途，无论是否通过。
- 用途（住宅、商业服务等）不影响预审结果。
"#;

/// The rule a case checks, from its expected output (the case's label).
fn rule_of(_input: &Value, expected: &Value) -> String {
    let issues: Vec<&str> = expected["issues"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let has = |i: &str| issues.contains(&i);
    let obstacles =
        has("property_sealed") || has("mortgage_not_released") || has("already_mortgaged");
    if expected["found"] == false {
        "证书不存在：只报 certificate_not_found".into()
    } else if has("applicant_not_owner") {
        "拒绝他人申请：不透露房产信息".into()
    } else if issues.is_empty() {
        "权利人无障碍：通过并给出坐落、面积、用途".into()
    } else if has("property_sealed") && obstacles && issues.len() > 1 {
        "查封与抵押并存：按顺序全部列出".into()
    } else if has("property_sealed") {
        "已查封：不能登记".into()
    } else if has("mortgage_not_released") {
        "转移前须解除抵押".into()
    } else {
        "已有抵押：不能再次抵押".into()
    }
}

pub fn service(population: &[Citizen]) -> DemoService {
    let data = dataset(population);
    let cases = cases(population, &data);
    DemoService {
        slug: "property-registration-precheck".into(),
        title_zh: "不动产登记预审".into(),
        title_en: "Property registration pre-check".into(),
        description_zh: "权利人在预约不动产转移或抵押登记前，凭不动产权证书号预先核查是否存在查封、未解除抵押或申请人非权利人等问题。".into(),
        description_en: "Before booking a transfer or mortgage registration, owners check their property certificate for obstacles: a court seizure, an unreleased mortgage, or an applicant who is not an owner.".into(),
        rules_zh: RULES_ZH.into(),
        category: "不动产登记".into(),
        department: "杭州市规划和自然资源局".into(),
        budget: Fen::from_fen(25_000_000),
        contract: Contract {
            input_schema: input_schema(),
            output_schema: output_schema(),
            datasets: vec![format!("{DATASET}:input/certificate_no:owner/owner_id_number:owner/co_owners")],
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

    fn record(mortgaged: bool, sealed: bool) -> Value {
        json!({"certificate_no": "N", "owner_name": "赵六", "owner_id_number": "OWNER",
               "co_owners": [{"name": "钱七", "id_number": "SPOUSE"}], "address": "杭州市西湖区文三路1号",
               "area_m2": "89.50", "usage": "住宅", "registered_on": "2020-01-01",
               "mortgaged": mortgaged, "sealed": sealed})
    }

    #[test]
    fn a_clean_certificate_passes_for_its_owners_with_details() {
        for who in ["OWNER", "SPOUSE"] {
            let out = answer(
                Some(&record(false, false)),
                who,
                &json!({"transaction": "transfer"}),
            );
            assert_eq!(out["passed"], true);
            assert_eq!(out["area_m2"], "89.50");
        }
    }

    #[test]
    fn a_stranger_learns_nothing_about_the_property() {
        let out = answer(
            Some(&record(true, false)),
            "STRANGER",
            &json!({"transaction": "transfer"}),
        );
        // Not even whether it is mortgaged: that is its owner's business.
        assert_eq!(out["issues"], json!(["applicant_not_owner"]));
        assert_eq!(out["found"], true);
        assert_eq!(out["passed"], false);
        assert_eq!(out["address"], Value::Null);
    }

    #[test]
    fn a_mortgage_blocks_transfer_and_a_second_mortgage() {
        let r = record(true, true);
        let t = answer(Some(&r), "OWNER", &json!({"transaction": "transfer"}));
        assert_eq!(
            t["issues"],
            json!(["property_sealed", "mortgage_not_released"])
        );
        let m = answer(Some(&r), "OWNER", &json!({"transaction": "mortgage"}));
        assert_eq!(m["issues"], json!(["property_sealed", "already_mortgaged"]));
    }
}
