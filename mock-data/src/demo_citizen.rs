//! The demo's own citizen, the one `citizen@demo.local` signs in as: a
//! fixed person added to the datasets after the generated population, so
//! that using an app in the demo finds records of the person signed in.
//!
//! Their contribution history has a whole year missing (2025: studying
//! abroad), from December straight to the January thirteen months later.
//! The generated histories only skip a few months between jobs, so this is
//! the suite's one case of a year-long gap across a year boundary, the
//! mistake `si_lookup_buggy.c` makes.
//!
//! Added after generation, with its own PRNG, so that every generated
//! record stays as it was.

use serde_json::{Value, json};

use crate::people::{self, REGIONS};
use crate::rng::Rng;
use crate::services::Month;

/// The resident ID number (西湖区, born 1988-06-15, male; checksum-valid,
/// and no generated citizen's).
pub const ID_NUMBER: &str = "330106198806152174";
pub const NAME: &str = "张小明";
/// The plate of the one vehicle registered to them.
pub const PLATE: &str = "浙A7D2M8";

fn employers() -> (people::Employer, people::Employer) {
    let mut rng = Rng::new(crate::DEMO_SEED ^ 0xde30);
    let region = &REGIONS[0];
    (
        people::employer(&mut rng, region, 90_001),
        people::employer(&mut rng, region, 90_002),
    )
}

/// The social-insurance record: 2022-03 to 2024-12 at one employer,
/// nothing in 2025, 2026-01 to the latest data month at another.
pub fn social_insurance() -> Value {
    let (first, second) = employers();
    let latest = crate::services::social_insurance::latest_data_month();
    let mut records = Vec::new();
    let mut base: i64 = 1_150_000;
    let mut month = Month::new(2022, 3);
    while month <= latest {
        if month.year() == 2025 {
            month = month.plus(1);
            continue;
        }
        if month.month() == 1 {
            base += 50_000;
        }
        let employer = if month.year() < 2025 { &first } else { &second };
        records.push(json!({
            "month": month.to_string(),
            "employer": employer.name,
            "base_fen": base,
            "personal_fen": base * 8 / 100,
            "employer_fen": base * 16 / 100,
        }));
        month = month.plus(1);
    }
    json!({"name": NAME, "id_number": ID_NUMBER, "city": "杭州市", "records": records})
}

/// The housing-fund account: deposits resumed ten months ago, no loan, so
/// a rent withdrawal is allowed and a purchase one is too.
pub fn housing_fund() -> Value {
    let (_, employer) = employers();
    json!({
        "name": NAME,
        "id_number": ID_NUMBER,
        "city": "杭州市",
        "employer": employer.name,
        "employer_credit_code": employer.credit_code.as_str(),
        "account_status": "normal",
        "balance_fen": 8_642_300,
        "monthly_deposit_fen": 312_000,
        "continuous_months": 10,
        "has_loan": false,
        "retired": false,
    })
}

/// The vehicle and its violations: two unpaid, two paid.
pub fn traffic() -> Value {
    let violation =
        |id: &str, time: &str, location: &str, kind: (&str, &str, i64, i64), status: &str| {
            json!({"id": id, "time": time, "location": location, "code": kind.0,
               "description": kind.1, "fine_fen": kind.2, "points": kind.3, "status": status})
        };
    json!({
        "plate": PLATE,
        "vehicle_type": "新能源小型汽车",
        "owner_name": NAME,
        "owner_id_number": ID_NUMBER,
        "violations": [
            violation("V39000001", "2026-09-18T08:42:00+08:00", "文三路与学院路交叉口",
                ("1625", "驾驶机动车违反道路交通信号灯通行", 20_000, 6), "unpaid"),
            violation("V39000002", "2026-06-03T18:15:00+08:00", "天目山路古荡段",
                ("1039", "机动车违反规定停放、临时停车，驾驶人不在现场", 15_000, 0), "unpaid"),
            violation("V39000003", "2025-11-27T07:58:00+08:00", "绕城高速西线K45",
                ("1303", "驾驶机动车在城市道路上超过规定时速10%以上未达20%", 5_000, 1), "paid"),
            violation("V39000004", "2026-02-11T12:30:00+08:00", "延安路解放路口",
                ("1357", "机动车行经人行横道未按规定减速、停车、避让行人", 10_000, 3), "paid"),
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_citizen_is_valid_and_not_one_of_the_generated_population() {
        let id = domain::ResidentId::parse(ID_NUMBER).expect("checksum-valid");
        assert_eq!(id.as_str(), ID_NUMBER);
        assert!(
            crate::demo_citizens()
                .iter()
                .all(|c| c.id_number.as_str() != ID_NUMBER)
        );
        let plates = crate::services::traffic::dataset(&crate::demo_citizens());
        assert!(
            !plates.contains_key(PLATE),
            "the demo plate is nobody else's"
        );
    }

    #[test]
    fn the_contribution_history_skips_exactly_the_year_2025() {
        let record = social_insurance();
        let months: Vec<&str> = record["records"]
            .as_array()
            .expect("records")
            .iter()
            .map(|r| r["month"].as_str().expect("month"))
            .collect();
        let at = months
            .iter()
            .position(|m| *m == "2024-12")
            .expect("2024-12");
        assert_eq!(months[at + 1], "2026-01");
        assert!(!months.iter().any(|m| m.starts_with("2025")));
        assert_eq!(months.last().copied(), Some("2026-10"));
    }
}
