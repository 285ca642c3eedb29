//! The fake population every demo dataset draws from: citizens with
//! checksum-valid resident ID numbers, addresses, employers with credit
//! codes, so that one demo citizen has records in every service.

use chrono::NaiveDate;
use domain::{CreditCode, ResidentId};
use serde::Serialize;

use crate::rng::Rng;

/// An administrative region the population lives in (Zhejiang, since the
/// example record is from Hangzhou).
#[derive(Debug, Clone, Copy)]
pub struct Region {
    pub code: &'static str,
    pub city: &'static str,
    pub district: &'static str,
    /// Licence plate prefix of the city.
    pub plate_prefix: &'static str,
    pub streets: &'static [&'static str],
}

pub const REGIONS: &[Region] = &[
    Region {
        code: "330106",
        city: "杭州市",
        district: "西湖区",
        plate_prefix: "浙A",
        streets: &["文三路", "天目山路", "教工路", "学院路", "文一西路"],
    },
    Region {
        code: "330102",
        city: "杭州市",
        district: "上城区",
        plate_prefix: "浙A",
        streets: &["延安路", "解放路", "清泰街", "望江路"],
    },
    Region {
        code: "330105",
        city: "杭州市",
        district: "拱墅区",
        plate_prefix: "浙A",
        streets: &["莫干山路", "湖墅南路", "大关路", "登云路"],
    },
    Region {
        code: "330108",
        city: "杭州市",
        district: "滨江区",
        plate_prefix: "浙A",
        streets: &["江南大道", "滨盛路", "江陵路", "长河路"],
    },
    Region {
        code: "330110",
        city: "杭州市",
        district: "余杭区",
        plate_prefix: "浙A",
        streets: &["文一西路", "五常大道", "良睦路", "临平大道"],
    },
    Region {
        code: "330203",
        city: "宁波市",
        district: "海曙区",
        plate_prefix: "浙B",
        streets: &["中山西路", "解放南路", "镇明路"],
    },
    Region {
        code: "330212",
        city: "宁波市",
        district: "鄞州区",
        plate_prefix: "浙B",
        streets: &["天童南路", "钱湖北路", "四明中路"],
    },
    Region {
        code: "330302",
        city: "温州市",
        district: "鹿城区",
        plate_prefix: "浙C",
        streets: &["人民路", "车站大道", "学院中路"],
    },
    Region {
        code: "330402",
        city: "嘉兴市",
        district: "南湖区",
        plate_prefix: "浙F",
        streets: &["中山东路", "南湖路", "广益路"],
    },
    Region {
        code: "330602",
        city: "绍兴市",
        district: "越城区",
        plate_prefix: "浙D",
        streets: &["解放北路", "中兴中路", "胜利东路"],
    },
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "沈",
    "姚", "卢", "钟", "陆", "汪", "金", "方", "邵", "钱", "严", "欧阳", "诸葛",
];
const MALE_CHARS: &[&str] = &[
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "浩", "宇", "俊", "斌", "鹏", "建",
    "国", "志", "文", "辉", "峰", "晨", "博", "哲", "轩", "睿", "天", "子", "一", "航",
];
const FEMALE_CHARS: &[&str] = &[
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "婷", "雪", "琳", "颖", "欣", "怡", "佳", "梅",
    "慧", "晓", "雨", "思", "诗", "涵", "悦", "璐", "倩", "萱", "一", "子", "文", "月",
];
const FIRM_WORDS: &[&str] = &[
    "云帆", "恒信", "华越", "正泰", "海创", "之江", "博远", "明德", "新禾", "星河", "启航", "金桥",
    "同舟", "嘉禾", "东信", "瑞丰",
];
const FIRM_TRADES: &[&str] = &[
    "科技",
    "贸易",
    "建设工程",
    "餐饮管理",
    "物流",
    "网络",
    "医疗器械",
    "教育咨询",
    "文化传媒",
    "电子商务",
    "物业管理",
];

/// An employer: a company name and its unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Employer {
    pub name: String,
    pub credit_code: CreditCode,
}

/// One fake citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citizen {
    pub name: String,
    pub id_number: ResidentId,
    pub male: bool,
    pub birth: NaiveDate,
    /// Index into [`REGIONS`].
    #[serde(skip)]
    pub region: usize,
    pub city: String,
    pub address: String,
    pub phone: String,
}

impl Citizen {
    pub fn region(&self) -> &'static Region {
        &REGIONS[self.region % REGIONS.len()]
    }
}

fn pick<'a>(rng: &mut Rng, items: &'a [&'a str]) -> &'a str {
    rng.pick(items).copied().unwrap_or_default()
}

/// A Chinese personal name: a surname and one or two given characters.
pub fn chinese_name(rng: &mut Rng, male: bool) -> String {
    let surname = pick(rng, SURNAMES);
    let chars = if male { MALE_CHARS } else { FEMALE_CHARS };
    let first = pick(rng, chars);
    if rng.chance(70) {
        let second = pick(rng, chars);
        format!("{surname}{first}{second}")
    } else {
        format!("{surname}{first}")
    }
}

/// A street address in `region`, e.g. `杭州市西湖区文三路128号3幢2单元501室`.
pub fn address(rng: &mut Rng, region: &Region) -> String {
    let street = pick(rng, region.streets);
    format!(
        "{}{}{}{}号{}幢{}单元{}{:02}室",
        region.city,
        region.district,
        street,
        rng.range(1, 588),
        rng.range(1, 24),
        rng.range(1, 4),
        rng.range(1, 28),
        rng.range(1, 4),
    )
}

/// A company with a valid credit code registered in `region`.
pub fn employer(rng: &mut Rng, region: &Region, seq: u32) -> Employer {
    let city_short = region.city.trim_end_matches('市');
    let name = format!(
        "{city_short}{}{}有限公司",
        pick(rng, FIRM_WORDS),
        pick(rng, FIRM_TRADES)
    );
    let credit_code =
        CreditCode::generate(region.code, seq.wrapping_mul(7919).wrapping_add(1_000_003))
            .expect("region codes in REGIONS are six digits");
    Employer { name, credit_code }
}

/// `count` citizens, deterministic in `seed`. Index `i` gets sequence
/// number `i` in its ID number, so every ID is distinct.
pub fn population(seed: u64, count: usize) -> Vec<Citizen> {
    let mut rng = Rng::new(seed);
    let earliest = NaiveDate::from_ymd_opt(1962, 1, 1).expect("valid date");
    (0..count)
        .map(|i| {
            let male = rng.chance(52);
            let region_idx = rng.below(REGIONS.len() as u64) as usize;
            let region = &REGIONS[region_idx];
            let birth = earliest + chrono::Days::new(rng.below(365 * 42));
            let seq = u16::try_from(i % 500).unwrap_or_default();
            let id_number = ResidentId::generate(region.code, birth, seq, male)
                .expect("region codes are six digits and births are after 1900");
            Citizen {
                name: chinese_name(&mut rng, male),
                id_number,
                male,
                birth,
                region: region_idx,
                city: region.city.to_owned(),
                address: address(&mut rng, region),
                phone: format!(
                    "1{}{:09}",
                    pick(&mut rng, &["3", "5", "7", "8", "9"]),
                    rng.below(1_000_000_000)
                ),
            }
        })
        .collect()
}

/// A valid resident ID number of someone outside the population (region
/// 330881 is not in [`REGIONS`]), for "not found" cases.
pub fn stranger_id(rng: &mut Rng, seq: u16) -> ResidentId {
    let birth = NaiveDate::from_ymd_opt(1985, 1, 1).expect("valid date")
        + chrono::Days::new(rng.below(3650));
    // 330881 (Jiangshan) is not in REGIONS, so no citizen has this prefix.
    ResidentId::generate("330881", birth, seq, rng.chance(50))
        .expect("a six-digit region and a post-1900 birth date")
}
