//! The market: listings of published apps, compared side by side, found by
//! search; and the glue that keeps the search index in step with the
//! database (`index_app`, `index_order`, `reindex`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use domain::{RatingParams, StarHistogram};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use store::market::{Listing, ListingFilter};
use utoipa::{IntoParams, ToSchema};

use super::ApiQuery;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use service::market::{bayesian, current_period, rating_floor};
use service::search_index::reindex;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(market),
    tags((name = "market", description = "Published apps, compared; search; public statistics"))
)]
pub struct MarketApi;

pub fn router() -> Router<AppState> {
    Router::new().route("/market", get(market))
}

/// Ratings of a listing: histogram, count, Bayesian rating.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingSummary {
    /// Bayesian rating `(C*m + sum) / (C + n)`, two decimals, e.g. "3.85".
    pub bayesian: String,
    /// Plain mean, two decimals; absent without ratings.
    pub mean: Option<String>,
    pub count: u64,
    /// Ratings per star, one star first.
    pub histogram: [u64; 5],
}

impl RatingSummary {
    pub fn of(counts: [u64; 5]) -> RatingSummary {
        let h = StarHistogram::from_counts(counts);
        RatingSummary {
            bayesian: h.bayesian(&RatingParams::default()).to_decimal_string(2),
            mean: h.mean().map(|m| m.to_decimal_string(2)),
            count: h.n(),
            histogram: counts,
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reward {
    pub period: String,
    /// 1, 2 or 3.
    pub rank: i32,
}

/// One app in the market.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarketItem {
    pub app_id: i64,
    pub order_id: i64,
    pub version_id: i64,
    pub app_name: String,
    pub isv: String,
    pub order_title: String,
    pub category: String,
    pub department: String,
    pub version_number: i32,
    /// Share of test cases passed by the published version, basis points.
    pub test_score_bp: Option<i32>,
    pub published_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub rating: RatingSummary,
    /// Distinct citizens who used it successfully this period.
    pub users_this_period: u64,
    pub rewards: Vec<Reward>,
}

impl From<&Listing> for MarketItem {
    fn from(l: &Listing) -> Self {
        MarketItem {
            app_id: l.app_id,
            order_id: l.order_id,
            version_id: l.version_id,
            app_name: l.app_name.clone(),
            isv: l.isv_name.clone(),
            order_title: l.order_title.clone(),
            category: l.category.clone(),
            department: l.department_name.clone(),
            version_number: l.version_number,
            test_score_bp: l.test_score_bp,
            published_at: l.published_at,
            updated_at: l.updated_at,
            rating: RatingSummary::of(l.star_counts),
            users_this_period: l.users_this_period,
            rewards: l
                .rewards
                .iter()
                .map(|(period, rank)| Reward {
                    period: period.clone(),
                    rank: *rank,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sort {
    /// Bayesian rating, best first (the default).
    #[default]
    Rating,
    /// Users this period, most first.
    Users,
    /// Newest publication first.
    New,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MarketQuery {
    /// Only apps of this order (one service's competing apps).
    pub order: Option<i64>,
    /// Free text (Chinese or English) over app, order, ISV and department.
    pub q: Option<String>,
    pub sort: Option<Sort>,
    pub category: Option<String>,
    pub department: Option<String>,
    /// Only apps rated at least this many whole stars (Bayesian).
    pub min_rating: Option<u8>,
    /// The `next` of the previous page.
    pub cursor: Option<u64>,
    /// At most 100; default 50.
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct MarketFacets {
    pub category: Vec<FacetCount>,
    pub department: Vec<FacetCount>,
    /// Whole stars ("5", "4", …) and how many apps have that rating.
    pub rating: Vec<FacetCount>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MarketPage {
    pub items: Vec<MarketItem>,
    pub next: Option<u64>,
    pub total: u64,
    pub facets: MarketFacets,
}

/// Apps a market query selects, sorted, with facets: shared by the API and
/// the web pages.
pub async fn select(state: &AppState, q: &MarketQuery) -> ApiResult<MarketPage> {
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    if text.chars().count() > 200 {
        return Err(ApiError::invalid_field("q", "搜索词过长 / query too long"));
    }
    let searched = !text.is_empty()
        || q.category.is_some()
        || q.department.is_some()
        || q.min_rating.is_some();
    let mut facets = MarketFacets::default();
    let filter = if searched {
        let found = state
            .search
            .query(&search::Query {
                text: text.to_owned(),
                kind: Some(search::Kind::App),
                order_id: q.order,
                category: q.category.clone(),
                department: q.department.clone(),
                min_rating: q.min_rating,
                offset: 0,
                limit: search::MAX_LIMIT,
            })
            .await
            .map_err(ApiError::internal)?;
        let to_counts = |v: Vec<(String, u64)>| {
            v.into_iter()
                .map(|(value, count)| FacetCount { value, count })
                .collect()
        };
        facets.category = to_counts(found.facets.category);
        facets.department = to_counts(found.facets.department);
        facets.rating = found
            .facets
            .rating
            .into_iter()
            .map(|(r, count)| FacetCount {
                value: r.to_string(),
                count,
            })
            .collect();
        ListingFilter {
            order_id: q.order,
            app_ids: Some(found.hits.iter().map(|h| h.id).collect()),
        }
    } else {
        ListingFilter {
            order_id: q.order,
            app_ids: None,
        }
    };
    let mut listings = store::market::listings(
        state.db.conn(),
        &filter,
        &current_period(state.config.timezone),
    )
    .await?;
    if !searched {
        facets = facets_of(&listings);
    }
    match q.sort.unwrap_or_default() {
        Sort::Rating => listings.sort_by(|a, b| {
            bayesian(b.star_counts)
                .cmp(&bayesian(a.star_counts))
                .then(b.users_this_period.cmp(&a.users_this_period))
                .then(a.app_id.cmp(&b.app_id))
        }),
        Sort::Users => listings.sort_by(|a, b| {
            b.users_this_period
                .cmp(&a.users_this_period)
                .then(a.app_id.cmp(&b.app_id))
        }),
        Sort::New => listings.sort_by(|a, b| {
            b.published_at
                .cmp(&a.published_at)
                .then(b.app_id.cmp(&a.app_id))
        }),
    }
    let total = listings.len() as u64;
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let start = q.cursor.unwrap_or(0).min(total);
    let end = start.saturating_add(limit).min(total);
    let items = listings[start as usize..end as usize]
        .iter()
        .map(MarketItem::from)
        .collect();
    Ok(MarketPage {
        items,
        next: (end < total).then_some(end),
        total,
        facets,
    })
}

fn facets_of(listings: &[Listing]) -> MarketFacets {
    use std::collections::BTreeMap;
    let mut cat: BTreeMap<&str, u64> = BTreeMap::new();
    let mut dep: BTreeMap<&str, u64> = BTreeMap::new();
    let mut rating: BTreeMap<u8, u64> = BTreeMap::new();
    for l in listings {
        *cat.entry(&l.category).or_default() += 1;
        *dep.entry(&l.department_name).or_default() += 1;
        *rating.entry(rating_floor(l.star_counts)).or_default() += 1;
    }
    let sorted = |m: BTreeMap<&str, u64>| {
        let mut v: Vec<FacetCount> = m
            .into_iter()
            .map(|(k, count)| FacetCount {
                value: k.to_owned(),
                count,
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        v
    };
    MarketFacets {
        category: sorted(cat),
        department: sorted(dep),
        rating: rating
            .into_iter()
            .rev()
            .map(|(r, count)| FacetCount {
                value: r.to_string(),
                count,
            })
            .collect(),
    }
}

/// The market: published apps with their public numbers (public).
#[utoipa::path(get, path = "/api/v1/market", tag = "market",
    params(MarketQuery),
    responses((status = 200, body = MarketPage), (status = 422, body = ErrorBody)))]
pub async fn market(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<MarketQuery>,
) -> ApiResult<Json<MarketPage>> {
    Ok(Json(select(&state, &q).await?))
}

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
pub async fn seed_market(state: &AppState) -> ApiResult<usize> {
    use crate::auth::CurrentUser;
    use domain::VersionStatus;
    use service::Actor;
    use service::accounts::{Registration, create_by_admin};

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
    let rid = crate::extract::RequestId(Some("demo-seed".into()));
    let second = match store::users::find_by_email(conn, SECOND_ISV).await? {
        Some(user) => user,
        None => create_by_admin(
            &state.db,
            Registration {
                email: SECOND_ISV.into(),
                password: crate::demo::DEMO_PASSWORD.into(),
                display_name: "便民软件演示账号".into(),
                role: "isv".into(),
                org_name: Some("杭州便民软件有限公司".into()),
                ..Default::default()
            },
            &Actor::system(),
        )
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!("demo ISV 2: {e:?}")))?,
    };
    let Some(first) = store::users::find_by_email(conn, FIRST_ISV).await? else {
        return Ok(0);
    };
    let isv_of = |email: &str| CurrentUser {
        user: if email == SECOND_ISV {
            second.clone()
        } else {
            first.clone()
        },
        via_cookie: false,
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
                let (_, version) = super::apps::upload_version(
                    state,
                    &isv,
                    order_id,
                    super::apps::Upload {
                        name: app.name.into(),
                        release_notes: app.release_notes.into(),
                        wasm: app.wasm.to_vec(),
                    },
                    &rid,
                )
                .await?;
                to_publish.push((app.isv, version.id));
            }
            Some(existing) => {
                let versions = store::apps::versions_of(conn, existing.id).await?;
                let listed = versions
                    .iter()
                    .any(|v| v.status == VersionStatus::Published.as_str());
                // A withdrawn or failed app stays as its ISV left it.
                let unfinished = versions.iter().max_by_key(|v| v.number).filter(|v| {
                    [
                        VersionStatus::Queued,
                        VersionStatus::Testing,
                        VersionStatus::Passed,
                    ]
                    .iter()
                    .any(|s| v.status == s.as_str())
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
        let config = service::pipeline::WorkerConfig::default();
        while service::pipeline::run_one(state, "demo-seed", &config).await? {}
        for (isv, version_id) in to_publish {
            let passed = store::apps::version(conn, version_id)
                .await?
                .is_some_and(|v| v.status == VersionStatus::Passed.as_str());
            if passed {
                super::apps::publish(state, &isv_of(isv), version_id, &rid).await?;
                published += 1;
            } else {
                tracing::warn!(version_id, "demo: a competing app did not pass its tests");
            }
        }
    }

    // The demo citizen has used every listed app of these services this
    // period and rated each.
    if let Some(citizen) = store::users::find_by_email(conn, "citizen@demo.local").await? {
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
                let used = super::invoke::run_for_citizen(
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
                if store::ratings::find_by_citizen(conn, l.app_id, citizen.id)
                    .await?
                    .is_none()
                {
                    super::ratings::rate(
                        state,
                        &citizen,
                        l.app_id,
                        super::ratings::RatingRequest {
                            stars,
                            comment: Some(comment.into()),
                            suggestion: None,
                        },
                        rid.0.clone(),
                    )
                    .await?;
                }
            }
        }
    }
    reindex(state).await.map_err(ApiError::internal)?;
    Ok(published)
}
