//! 公积金提取资格核验: may this citizen withdraw from their housing fund
//! account for the stated purpose, and up to how much?

use std::collections::BTreeMap;

use domain::Fen;
use serde::Serialize;
use serde_json::{Value, json};

use super::CaseList;
use crate::people::{self, Citizen};
use crate::rng::Rng;
use crate::{Contract, Dataset, DemoService};

pub const DATASET: &str = "housing_fund";
/// Rent withdrawals are limited to three months of the city's rent
/// allowance (¥1,500 a month) per application.
pub const RENT_LIMIT_FEN: i64 = 450_000;
pub const RENT_MIN_CONTINUOUS_MONTHS: i64 = 3;
pub const PURCHASE_MIN_CONTINUOUS_MONTHS: i64 = 6;

/// Reasons in the order the rule checks them; the output lists every
/// reason that applies, in this order.
pub const REASONS: &[&str] = &[
    "not_found",
    "account_frozen",
    "account_not_normal",
    "insufficient_contribution",
    "has_loan",
    "not_retired",
    "amount_exceeds_limit",
];

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub name: String,
    pub id_number: String,
    pub city: String,
    pub employer: String,
    pub employer_credit_code: String,
    /// `normal` (缴存), `sealed` (封存, no current employer) or `frozen` (冻结).
    pub account_status: String,
    pub balance_fen: i64,
    pub monthly_deposit_fen: i64,
    /// Months of uninterrupted deposits up to the reference date.
    pub continuous_months: i64,
    pub has_loan: bool,
    pub retired: bool,
}

pub fn input_schema() -> Value {
    json!({
        "type": "object",
        "title": "公积金提取资格核验",
        "properties": {
            "purpose": {
                "type": "string",
                "title": "提取原因",
                "enum": ["rent", "purchase", "retirement"],
                "enumNames": ["租房提取", "购房提取", "退休提取"]
            },
            "amount_fen": {
                "type": "integer", "minimum": 1, "maximum": 1_000_000_000,
                "title": "申请提取金额（分）"
            }
        },
        "required": ["purpose", "amount_fen"],
        "additionalProperties": false
    })
}

pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "title": "提取资格核验结果",
        "properties": {
            "found": {"type": "boolean", "title": "是否查到公积金账户"},
            "eligible": {"type": "boolean", "title": "是否符合提取条件"},
            "max_amount_fen": {"type": "integer", "minimum": 0, "title": "可提取上限（分）"},
            "reasons": {
                "type": "array",
                "title": "不符合的原因",
                "items": {"type": "string", "enum": REASONS}
            }
        },
        "required": ["found", "eligible", "max_amount_fen", "reasons"],
        "additionalProperties": false
    })
}

/// The reference rule, over a record as stored in the dataset.
///
/// - rent: account `normal`, at least 3 continuous months, no housing
///   loan; up to min(balance, ¥4,500).
/// - purchase: account not frozen, at least 6 continuous months; up to
///   the balance.
/// - retirement: retired; up to the balance (a sealed account is fine).
/// - A frozen account can never withdraw.
///
/// `max_amount_fen` is the limit when every condition but the amount
/// holds, else 0; `amount_exceeds_limit` is reported only when it is the
/// sole obstacle. Reasons come in [`REASONS`] order.
pub fn answer(record: Option<&Value>, input: &Value) -> Value {
    let Some(r) = record else {
        return json!({"found": false, "eligible": false, "max_amount_fen": 0, "reasons": ["not_found"]});
    };
    let purpose = input.get("purpose").and_then(Value::as_str).unwrap_or("");
    let amount = input.get("amount_fen").and_then(Value::as_i64).unwrap_or(0);
    let status = r
        .get("account_status")
        .and_then(Value::as_str)
        .unwrap_or("");
    let balance = r.get("balance_fen").and_then(Value::as_i64).unwrap_or(0);
    let continuous = r
        .get("continuous_months")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    let has_loan = r.get("has_loan").and_then(Value::as_bool).unwrap_or(false);
    let retired = r.get("retired").and_then(Value::as_bool).unwrap_or(false);

    let mut reasons: Vec<&str> = Vec::new();
    if status == "frozen" {
        reasons.push("account_frozen");
    }
    let limit = match purpose {
        "rent" => {
            if status == "sealed" {
                reasons.push("account_not_normal");
            }
            if continuous < RENT_MIN_CONTINUOUS_MONTHS {
                reasons.push("insufficient_contribution");
            }
            if has_loan {
                reasons.push("has_loan");
            }
            balance.min(RENT_LIMIT_FEN)
        }
        "purchase" => {
            if continuous < PURCHASE_MIN_CONTINUOUS_MONTHS {
                reasons.push("insufficient_contribution");
            }
            balance
        }
        _ => {
            if !retired {
                reasons.push("not_retired");
            }
            balance
        }
    };
    let max_amount = if reasons.is_empty() { limit.max(0) } else { 0 };
    if reasons.is_empty() && amount > max_amount {
        reasons.push("amount_exceeds_limit");
    }
    json!({
        "found": true,
        "eligible": reasons.is_empty(),
        "max_amount_fen": max_amount,
        "reasons": reasons,
    })
}

pub fn dataset(population: &[Citizen]) -> Dataset {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x4846);
    let today = crate::reference_date();
    population
        .iter()
        .enumerate()
        // About one citizen in six has no housing fund account.
        .filter(|(i, _)| i % 6 != 5)
        .map(|(i, c)| {
            let employer = people::employer(&mut rng, c.region(), 50_000 + i as u32);
            let age = today.years_since(c.birth).unwrap_or(0);
            let retired = age >= if c.male { 60 } else { 55 };
            let status = if rng.chance(4) {
                "frozen"
            } else if retired || rng.chance(12) {
                "sealed"
            } else {
                "normal"
            };
            // Deposits are 12% of the wage each from citizen and employer.
            let monthly = rng.range(40, 500) * 100 * 2;
            let continuous = if status == "normal" {
                rng.range(0, 120)
            } else {
                0
            };
            let balance = monthly * rng.range(0, 150) + rng.range(0, 99) * 100;
            let record = Record {
                name: c.name.clone(),
                id_number: c.id_number.as_str().to_owned(),
                city: c.city.clone(),
                employer: employer.name,
                employer_credit_code: employer.credit_code.as_str().to_owned(),
                account_status: status.to_owned(),
                balance_fen: balance,
                monthly_deposit_fen: monthly,
                continuous_months: continuous,
                has_loan: rng.chance(25),
                retired,
            };
            let value = serde_json::to_value(&record).expect("a Record always serialises");
            (c.id_number.as_str().to_owned(), value)
        })
        .collect()
}

fn cases(population: &[Citizen], data: &Dataset) -> Vec<crate::TestCase> {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0x4847);
    let mut list = CaseList::new("hf", 6, rule_of);
    let get = |c: &Citizen| data.get(c.id_number.as_str());
    let field = |c: &Citizen, f: &str| {
        get(c)
            .and_then(|r| r.get(f))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let find = |pred: &dyn Fn(&Citizen) -> bool, skip: usize| {
        population
            .iter()
            .filter(|c| get(c).is_some() && pred(c))
            .nth(skip)
    };
    let add = |list: &mut CaseList,
               description: &str,
               c: Option<&Citizen>,
               purpose: &str,
               amount: i64| {
        let Some(c) = c else { return };
        let input = json!({"purpose": purpose, "amount_fen": amount.max(1)});
        let expected = answer(get(c), &input);
        list.push(
            description.to_owned(),
            input,
            Some(c.id_number.as_str().to_owned()),
            expected,
        );
    };
    let balance = |c: &Citizen| field(c, "balance_fen").as_i64().unwrap_or(0);
    let normal = |c: &Citizen| field(c, "account_status") == "normal";
    let good_renter = |c: &Citizen| {
        normal(c)
            && field(c, "continuous_months").as_i64().unwrap_or(0) >= RENT_MIN_CONTINUOUS_MONTHS
            && field(c, "has_loan") == false
            && balance(c) > 100_000
    };

    // Samples.
    let c = find(&good_renter, 0);
    add(
        &mut list,
        "租房提取：条件满足，金额在上限内",
        c,
        "rent",
        150_000,
    );
    let c = find(&good_renter, 1);
    add(
        &mut list,
        "租房提取：金额超过上限",
        c,
        "rent",
        RENT_LIMIT_FEN + 100,
    );
    let c = find(&|c| field(c, "account_status") == "frozen", 0);
    add(&mut list, "账户冻结，不能提取", c, "purchase", 100_000);
    let c = find(
        &|c| normal(c) && field(c, "continuous_months").as_i64().unwrap_or(0) >= 6,
        2,
    );
    add(
        &mut list,
        "购房提取：提取全部余额",
        c,
        "purchase",
        c.map(balance).unwrap_or(1),
    );
    let retired_ok =
        |c: &Citizen| field(c, "retired") == true && field(c, "account_status") != "frozen";
    let c = find(&retired_ok, 0);
    add(
        &mut list,
        "退休提取",
        c,
        "retirement",
        c.map(balance).unwrap_or(1),
    );
    let stranger = people::stranger_id(&mut rng, 7);
    let input = json!({"purpose": "rent", "amount_fen": 100_000});
    list.push(
        "没有公积金账户".into(),
        input.clone(),
        Some(stranger.as_str().into()),
        answer(None, &input),
    );

    // Hidden.
    let c = find(&|c| good_renter(c) && field(c, "has_loan") == false, 2);
    add(
        &mut list,
        "租房提取：金额恰好等于上限",
        c,
        "rent",
        c.map(|c| balance(c).min(RENT_LIMIT_FEN)).unwrap_or(1),
    );
    let c = find(&|c| normal(c) && field(c, "has_loan") == true, 0);
    add(&mut list, "租房提取：有公积金贷款", c, "rent", 50_000);
    let c = find(
        &|c| field(c, "account_status") == "sealed" && field(c, "retired") == false,
        0,
    );
    add(&mut list, "租房提取：账户封存", c, "rent", 50_000);
    let c = find(
        &|c| normal(c) && field(c, "continuous_months").as_i64().unwrap_or(0) < 3,
        0,
    );
    add(
        &mut list,
        "租房提取：连续缴存不足 3 个月",
        c,
        "rent",
        10_000,
    );
    let c = find(
        &|c| normal(c) && (3..6).contains(&field(c, "continuous_months").as_i64().unwrap_or(0)),
        0,
    );
    add(
        &mut list,
        "购房提取：连续缴存不足 6 个月",
        c,
        "purchase",
        10_000,
    );
    let c = find(&|c| field(c, "retired") == false, 3);
    add(&mut list, "退休提取：未退休", c, "retirement", 10_000);
    let c = find(&|c| field(c, "account_status") == "frozen", 1);
    add(&mut list, "账户冻结时租房提取", c, "rent", 10_000);
    let c = find(&retired_ok, 1);
    add(
        &mut list,
        "退休提取：超过余额",
        c,
        "retirement",
        c.map(|c| balance(c) + 1).unwrap_or(1),
    );
    let c = find(&|c| balance(c) < RENT_LIMIT_FEN && good_renter(c), 0);
    add(
        &mut list,
        "租房提取：余额低于上限时以余额为限",
        c,
        "rent",
        c.map(balance).unwrap_or(1),
    );
    let stranger = people::stranger_id(&mut rng, 8);
    let input = json!({"purpose": "retirement", "amount_fen": 1});
    list.push(
        "没有公积金账户（退休提取）".into(),
        input.clone(),
        Some(stranger.as_str().into()),
        answer(None, &input),
    );
    let with_account: Vec<&Citizen> = population.iter().filter(|c| get(c).is_some()).collect();
    for k in 0..10 {
        let Some(&c) = rng.pick(&with_account) else {
            break;
        };
        let purpose = *rng
            .pick(&["rent", "purchase", "retirement"])
            .unwrap_or(&"rent");
        let amount = rng.range(1, 600_000);
        add(
            &mut list,
            &format!("随机抽查第 {} 例", k + 1),
            Some(c),
            purpose,
            amount,
        );
    }
    list.into_cases()
}

/// The department's rules document, as the order states it to vendors.
pub const RULES_ZH: &str = r#"# 公积金提取资格核验规则

缴存人申请提取住房公积金前，核验是否符合条件、最多可提取多少。

## 输入与记录字段

- `purpose`：`rent`（租房）、`purchase`（购房）或 `retirement`（退休）。
- `amount_fen`：申请提取的金额，单位为分。
- 以 `context.subject`（申请人的匿名令牌，平台凭它找到本人的记录；应用看不到身份证号）查询数据集 `housing_fund`；记录的 `account_status` 为 `normal`、`sealed`（封存）或 `frozen`（冻结），`balance_fen` 为余额（分），`continuous_months` 为连续缴存月数，`has_loan` 为有无公积金贷款，`retired` 为是否退休。

## 规则（不符合的原因按此顺序列在 `reasons` 中）

1. **无账户**：`found` 为 false，`eligible` 为 false，`max_amount_fen` 为 0，`reasons` 只有 `not_found`。
2. **冻结账户**一律不能提取：`account_frozen`。
3. **租房**：账户封存报 `account_not_normal`；连续缴存不足 3 个月报 `insufficient_contribution`；有公积金贷款报 `has_loan`。上限为余额与 4500 元（450000 分）中的较小者。
4. **购房**：连续缴存不足 6 个月报 `insufficient_contribution`（封存账户可以购房提取）。上限为余额。
5. **退休**：未退休报 `not_retired`。上限为余额（封存账户可以提取）。
6. 有任何上述原因时 `max_amount_fen` 为 0；否则为上限。
7. 只有在其他条件都满足时，申请金额超过上限才报 `amount_exceeds_limit`（此时 `eligible` 为 false，`max_amount_fen` 仍为上限）。

## 边界情况

- 金额等于上限时符合条件。
- 原因不重复，按上面的顺序排列。
"#;

/// The rule a case checks, from its expected output (the case's label).
fn rule_of(input: &Value, expected: &Value) -> String {
    let reasons: Vec<&str> = expected["reasons"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let purpose = match input["purpose"].as_str() {
        Some("rent") => "租房提取",
        Some("purchase") => "购房提取",
        _ => "退休提取",
    };
    match reasons.as_slice() {
        ["not_found"] => "无账户：只报 not_found".into(),
        [] => format!("{purpose}：符合条件，给出可提取上限"),
        ["amount_exceeds_limit"] => format!("{purpose}：金额超过上限"),
        r if r.contains(&"account_frozen") => "冻结账户一律不能提取".into(),
        [_] => format!("{purpose}：不符合的条件"),
        _ => format!("{purpose}：按顺序列出全部不符合的条件"),
    }
}

pub fn service(population: &[Citizen]) -> DemoService {
    let mut data = dataset(population);
    data.insert(
        crate::demo_citizen::ID_NUMBER.into(),
        crate::demo_citizen::housing_fund(),
    );
    let cases = cases(population, &data);
    DemoService {
        slug: "housing-fund-withdrawal".into(),
        title_zh: "公积金提取资格核验".into(),
        title_en: "Housing fund withdrawal eligibility".into(),
        description_zh: "居民按提取原因（租房、购房、退休）核验本人住房公积金是否可以提取，以及可提取的最高金额和不符合条件的原因。".into(),
        description_en: "Citizens check whether they may withdraw from their housing provident fund for rent, a purchase or retirement, the most they may withdraw, and why not if they may not.".into(),
        rules_zh: RULES_ZH.into(),
        category: "住房保障".into(),
        department: "杭州住房公积金管理中心".into(),
        budget: Fen::from_fen(20_000_000),
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

    fn account(
        status: &str,
        balance: i64,
        continuous: i64,
        has_loan: bool,
        retired: bool,
    ) -> Value {
        json!({"name": "李四", "id_number": "x", "city": "杭州市", "employer": "e", "employer_credit_code": "c",
               "account_status": status, "balance_fen": balance, "monthly_deposit_fen": 200000,
               "continuous_months": continuous, "has_loan": has_loan, "retired": retired})
    }

    #[test]
    fn rent_is_capped_at_three_months_of_allowance() {
        let r = account("normal", 1_000_000, 24, false, false);
        let ok = answer(Some(&r), &json!({"purpose": "rent", "amount_fen": 450_000}));
        assert_eq!(
            ok,
            json!({"found": true, "eligible": true, "max_amount_fen": 450_000, "reasons": []})
        );
        let over = answer(Some(&r), &json!({"purpose": "rent", "amount_fen": 450_001}));
        assert_eq!(over["reasons"], json!(["amount_exceeds_limit"]));
        assert_eq!(over["max_amount_fen"], 450_000);
    }

    #[test]
    fn every_failing_condition_is_reported_in_a_fixed_order() {
        let r = account("sealed", 1_000, 0, true, false);
        let out = answer(Some(&r), &json!({"purpose": "rent", "amount_fen": 1}));
        assert_eq!(
            out,
            json!({"found": true, "eligible": false, "max_amount_fen": 0,
                   "reasons": ["account_not_normal", "insufficient_contribution", "has_loan"]})
        );
        let frozen = account("frozen", 1_000, 0, false, true);
        let out = answer(
            Some(&frozen),
            &json!({"purpose": "retirement", "amount_fen": 1}),
        );
        assert_eq!(out["reasons"], json!(["account_frozen"]));
    }

    #[test]
    fn a_missing_account_is_not_found() {
        let out = answer(None, &json!({"purpose": "purchase", "amount_fen": 1}));
        assert_eq!(out["reasons"], json!(["not_found"]));
        assert_eq!(out["found"], false);
    }
}
