//! The demo market, after the orders seeder: competing apps by a second
//! demo ISV for three services, used and rated by the demo citizen, so the
//! market shows users this period and ratings on first start.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use store::market::ListingFilter;

use crate::actor::Actor;
use crate::error::{ServiceError, ServiceResult};
use crate::market::current_period;
use crate::services::Services;

/// One competing app of the demo market, besides the guest kit's
/// reference social-insurance app that the orders seeder publishes. Each
/// demo service with apps gets a careful one and a basic one (same
/// answers, several times the instructions; see their C sources), from
/// different ISVs, so citizens have something to compare.
struct DemoApp {
    /// The mock-data service (and so the demo order) it answers.
    slug: &'static str,
    name: &'static str,
    wasm: &'static [u8],
    release_notes: &'static str,
    /// The demo ISV that uploads it.
    isv: &'static str,
    /// The demo citizen's rating of it, and comment.
    stars: i64,
    comment: &'static str,
}

const SECOND_ISV: &str = "isv2@demo.local";
const FIRST_ISV: &str = "isv@demo.local";
const SI_SLUG: &str = "social-insurance-records";
const TRAFFIC_SLUG: &str = "traffic-violations";
const HOUSING_FUND_SLUG: &str = "housing-fund-withdrawal";

const DEMO_APPS: &[DemoApp] = &[
    DemoApp {
        slug: SI_SLUG,
        name: "社保缴费查询便民版",
        wasm: include_bytes!(
            "../../../../sandbox/guest/examples/si_lookup_basic/si_lookup_basic.wasm"
        ),
        release_notes: "便民版：界面简洁，查询较慢。",
        isv: SECOND_ISV,
        stars: 3,
        comment: "结果准确，但要等好几秒。",
    },
    DemoApp {
        slug: TRAFFIC_SLUG,
        name: "交通违法随手查",
        wasm: include_bytes!(
            "../../../../sandbox/guest/examples/traffic_lookup/traffic_lookup.wasm"
        ),
        release_notes: "按时间倒序列出本人车辆的违法记录，可只看未处理的，罚款与记分自动合计。",
        isv: SECOND_ISV,
        stars: 5,
        comment: "未处理的两条一眼就看到了，罚款和记分都算好了。",
    },
    DemoApp {
        slug: TRAFFIC_SLUG,
        name: "违章查询简易版",
        wasm: include_bytes!(
            "../../../../sandbox/guest/examples/traffic_lookup_basic/traffic_lookup_basic.wasm"
        ),
        release_notes: "简易版：逐条比对排序，违法记录越多查询越慢。",
        isv: FIRST_ISV,
        stars: 3,
        comment: "能查到，就是有点慢。",
    },
    DemoApp {
        slug: HOUSING_FUND_SLUG,
        name: "公积金提取一点通",
        wasm: include_bytes!("../../../../sandbox/guest/examples/hf_check/hf_check.wasm"),
        release_notes: "租房、购房、退休提取一次核验，列出全部不符合的原因和可提取上限。",
        isv: FIRST_ISV,
        stars: 4,
        comment: "可提取上限写得很清楚。",
    },
    DemoApp {
        slug: HOUSING_FUND_SLUG,
        name: "公积金资格自助查",
        wasm: include_bytes!(
            "../../../../sandbox/guest/examples/hf_check_basic/hf_check_basic.wasm"
        ),
        release_notes: "自助版：先确认账户再读取明细，查询次数较多。",
        isv: SECOND_ISV,
        stars: 3,
        comment: "结果对，但反应慢。",
    },
    // Written in AssemblyScript with the kit's template: a vendor need not
    // write C.
    DemoApp {
        slug: HOUSING_FUND_SLUG,
        name: "公积金提取速核",
        wasm: include_bytes!("../../../../sandbox/guest/assemblyscript/wasm/hf_check_as.wasm"),
        release_notes: "用 AssemblyScript 编写：一次查询，列出全部不符合的原因和可提取上限。",
        isv: SECOND_ISV,
        stars: 4,
        comment: "很快，原因列得清楚。",
    },
];

/// The orders seeder's name for the guest kit's reference app, and the
/// demo citizen's rating of it.
const REFERENCE_APP_NAME: &str = "社保缴费记录速查";
const REFERENCE_REVIEW: (i64, &str) = (5, "查询很快，结果清楚。");

/// What the demo citizen asks each service: their own records.
fn demo_input(slug: &str) -> Option<serde_json::Value> {
    use mock_data::demo_citizen;
    match slug {
        // Two years: the window reaches back over their gap year.
        SI_SLUG => Some(serde_json::json!({"months": 24})),
        TRAFFIC_SLUG => Some(serde_json::json!({"plate": demo_citizen::PLATE})),
        HOUSING_FUND_SLUG => Some(serde_json::json!({"purpose": "rent", "amount_fen": 300_000})),
        _ => None,
    }
}

/// Demo market, after the orders seeder: the demo ISVs publish competing
/// apps for the social-insurance, traffic and housing-fund services, the
/// demo citizen uses and rates every listed app of those services (so the
/// market shows users this period and ratings on first start), and the
/// search index is rebuilt. Idempotent, and it finishes what an
/// interrupted run left (an uploaded app not yet published is published).
/// Returns the number of apps it published.
pub async fn seed_market(state: &Services) -> ServiceResult<usize> {
    use crate::accounts::{Registration, create_by_admin};
    use domain::VersionStatus;

    let conn = state.db.conn();
    let Some(department) = store::users::find_by_email(conn, "department@demo.local").await? else {
        return Ok(0);
    };
    // The demo orders, by service.
    let mut orders = std::collections::BTreeMap::new();
    for service in mock_data::demo_services() {
        let found: Option<i64> = store::entity::orders::Entity::find()
            .select_only()
            .column(store::entity::orders::Column::Id)
            .filter(store::entity::orders::Column::DepartmentOrgId.eq(department.org_id))
            .filter(store::entity::orders::Column::Title.eq(service.title_zh.as_str()))
            .filter(store::entity::orders::Column::Status.eq("open"))
            .into_tuple()
            .one(conn)
            .await?;
        if let Some(id) = found {
            orders.insert(service.slug, id);
        }
    }
    if orders.is_empty() {
        return Ok(0);
    }
    let second = match store::users::find_by_email(conn, SECOND_ISV).await? {
        Some(user) => user,
        None => create_by_admin(
            &state.db,
            Registration {
                email: SECOND_ISV.into(),
                password: super::DEMO_PASSWORD.into(),
                display_name: "便民软件演示账号".into(),
                role: "isv".into(),
                org_name: Some("杭州便民软件有限公司".into()),
                ..Default::default()
            },
            &Actor::system(),
        )
        .await
        .map_err(|e| ServiceError::internal(anyhow::anyhow!("demo ISV 2: {e:?}")))?,
    };
    let Some(first) = store::users::find_by_email(conn, FIRST_ISV).await? else {
        return Ok(0);
    };
    let isv_of = |email: &str| {
        let user = if email == SECOND_ISV {
            second.clone()
        } else {
            first.clone()
        };
        Actor::user(user, Some(super::REQUEST_ID.into()))
    };

    // Upload what is missing; collect every demo version still to publish.
    let mut to_publish = Vec::new();
    for app in DEMO_APPS {
        let Some(&order_id) = orders.get(app.slug) else {
            continue;
        };
        let isv = isv_of(app.isv);
        match store::apps::find_by_name(conn, order_id, app.name).await? {
            None => {
                let (_, version) = crate::apps::upload(
                    state,
                    &isv,
                    order_id,
                    crate::apps::Upload {
                        name: app.name.into(),
                        release_notes: app.release_notes.into(),
                        wasm: app.wasm.to_vec(),
                    },
                    crate::apps::OnRejection::Keep,
                )
                .await?;
                to_publish.push((app.isv, version.id));
            }
            Some(existing) => {
                let versions = store::apps::versions_of(conn, existing.id).await?;
                let listed = versions.iter().any(|v| v.is(VersionStatus::Published));
                // A withdrawn or failed app stays as its ISV left it.
                let unfinished = versions.iter().max_by_key(|v| v.number).filter(|v| {
                    [
                        VersionStatus::Queued,
                        VersionStatus::Testing,
                        VersionStatus::Passed,
                    ]
                    .iter()
                    .any(|s| v.is(*s))
                });
                if let (false, Some(v)) = (listed, unfinished) {
                    to_publish.push((app.isv, v.id));
                }
            }
        }
    }
    let mut published = 0;
    if !to_publish.is_empty() {
        // Test them here so that the demo starts with the apps listed,
        // whether or not workers are running yet.
        let config = crate::pipeline::WorkerConfig::default();
        while crate::pipeline::run_one(state, "demo-seed", &config).await? {}
        for (isv, version_id) in to_publish {
            let passed = store::apps::version(conn, version_id)
                .await?
                .is_some_and(|v| v.is(VersionStatus::Passed));
            if passed {
                crate::apps::publish(state, &isv_of(isv), version_id).await?;
                published += 1;
            } else {
                tracing::warn!(version_id, "demo: a competing app did not pass its tests");
            }
        }
    }

    // The demo citizen has used every listed app of these services this
    // period and rated each.
    if let Some(citizen) = store::users::find_by_email(conn, "citizen@demo.local").await? {
        let citizen_id = citizen.id;
        let citizen = Actor::user(citizen, Some(super::REQUEST_ID.into()));
        for (slug, &order_id) in &orders {
            let Some(input) = demo_input(slug) else {
                continue;
            };
            let listed = store::market::listings(
                conn,
                &ListingFilter {
                    order_id: Some(order_id),
                    app_ids: None,
                },
                &current_period(state.config.timezone),
            )
            .await?;
            for l in &listed {
                let key = format!("demo-seed-{}", l.app_id);
                let used = crate::invoke::run_for_citizen(
                    state,
                    &citizen,
                    l.app_id,
                    input.clone(),
                    Some(key),
                )
                .await;
                if used.is_err() {
                    tracing::warn!(app_id = l.app_id, "demo: could not use the app");
                    continue;
                }
                let review = DEMO_APPS
                    .iter()
                    .find(|a| a.name == l.app_name)
                    .map(|a| (a.stars, a.comment))
                    .or((l.app_name == REFERENCE_APP_NAME).then_some(REFERENCE_REVIEW));
                let Some((stars, comment)) = review else {
                    continue;
                };
                if store::ratings::find_by_citizen(conn, l.app_id, citizen_id)
                    .await?
                    .is_none()
                {
                    crate::ratings::rate(
                        state,
                        &citizen,
                        l.app_id,
                        crate::ratings::RatingRequest {
                            stars,
                            comment: Some(comment.into()),
                            suggestion: None,
                        },
                    )
                    .await?;
                }
            }
        }
    }
    crate::search_index::reindex(state)
        .await
        .map_err(ServiceError::internal)?;
    Ok(published)
}
