//! The market: which quarter "this period" is, the rating a listing
//! shows, the listings a market query selects (sorted, with facets), and an
//! app's public page (its listing and reviews).

use chrono::{DateTime, Utc};
use domain::{Period, RatingParams, StarHistogram};
use serde::{Deserialize, Serialize};
use store::market::{Listing, ListingFilter};
use utoipa::{IntoParams, ToSchema};

use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::services::Services;

/// The period now in `tz`, the configured platform time zone
/// (`state.config.timezone`), e.g. `2026Q3`: "users this period" must
/// count the same quarter that settlement pays for.
pub fn current_period(tz: chrono_tz::Tz) -> String {
    period_at(&Utc::now(), tz)
}

/// The period containing `instant` in `tz`.
pub fn period_at(instant: &DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    Period::containing(instant, tz)
        .map(|p| p.to_string())
        // Only years outside the supported range fail; not reachable from the clock.
        .unwrap_or_default()
}

pub fn bayesian(counts: [u64; 5]) -> domain::Ratio {
    StarHistogram::from_counts(counts).bayesian(&RatingParams::default())
}

/// Whole stars of the Bayesian rating (1–5), the search rating facet.
pub fn rating_floor(counts: [u64; 5]) -> u8 {
    let floor = bayesian(counts).floor();
    u8::try_from(floor).unwrap_or(1).clamp(1, 5)
}

/// Longest free-text market query, in characters.
const MAX_QUERY_CHARS: usize = 200;

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

#[derive(Debug, Default, Deserialize, IntoParams)]
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

/// The apps a market query selects, sorted, one page of them, with facets
/// (public).
pub async fn select(services: &Services, q: &MarketQuery) -> ServiceResult<MarketPage> {
    let text = q.q.as_deref().map(str::trim).unwrap_or("");
    if text.chars().count() > MAX_QUERY_CHARS {
        return Err(ServiceError::invalid(
            "q",
            Msg::new("err.market.query_too_long"),
        ));
    }
    let searched = !text.is_empty()
        || q.category.is_some()
        || q.department.is_some()
        || q.min_rating.is_some();
    let mut facets = MarketFacets::default();
    let filter = if searched {
        let found = services
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
            .map_err(ServiceError::internal)?;
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
        services.db.conn(),
        &filter,
        &current_period(services.config.timezone),
    )
    .await?;
    if !searched {
        facets = facets_of(&listings);
    }
    sort(&mut listings, q.sort.unwrap_or_default());
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

/// A service (an order with listed apps) as its market page shows it.
#[derive(Debug, Clone)]
pub struct ServiceOverview {
    /// Its listed apps, best rated first (at most 100).
    pub items: Vec<MarketItem>,
    /// The order's description.
    pub description: String,
    /// The period "users this period" counts.
    pub period: String,
}

/// Order `order_id`'s listed apps side by side (public): `NotFound` when
/// it has none.
pub async fn service_overview(
    services: &Services,
    order_id: i64,
) -> ServiceResult<ServiceOverview> {
    let found = select(
        services,
        &MarketQuery {
            order: Some(order_id),
            sort: Some(Sort::Rating),
            limit: Some(100),
            ..Default::default()
        },
    )
    .await?;
    if found.items.is_empty() {
        return Err(ServiceError::NotFound(Thing::Order));
    }
    let description = store::orders::get(services.db.conn(), order_id)
        .await?
        .map(|o| o.description)
        .unwrap_or_default();
    Ok(ServiceOverview {
        items: found.items,
        description,
        period: current_period(services.config.timezone),
    })
}

fn sort(listings: &mut [Listing], by: Sort) {
    match by {
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

// ------------------------------------------------------------ an app's public page

#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyPublic {
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewPublic {
    pub rating_id: i64,
    pub stars: i32,
    pub label: String,
    pub comment: Option<String>,
    pub suggestion: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub edited: bool,
    pub reply: Option<ReplyPublic>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PublicApp {
    /// The listing with its numbers (rating, users this period, test score, rewards).
    pub app: MarketItem,
    /// The period "users this period" counts, e.g. `2026Q3`.
    pub period: String,
    /// Reviews, newest first.
    pub reviews: Vec<ReviewPublic>,
    /// Cursor for the next page of reviews.
    pub next: Option<i64>,
}

/// The level's label of a star count, e.g. 满意 (stored data of the API,
/// empty for a count outside 1–5).
pub fn label(stars: i32) -> String {
    u8::try_from(stars)
        .ok()
        .and_then(|s| domain::Stars::new(s).ok())
        .map(|s| s.label_zh().to_owned())
        .unwrap_or_default()
}

/// The listing of one app, when it is in the market.
pub async fn listing(services: &Services, app_id: i64) -> ServiceResult<MarketItem> {
    let period = current_period(services.config.timezone);
    listed(services, app_id, &period)
        .await
        .map(|l| MarketItem::from(&l))
}

async fn listed(services: &Services, app_id: i64, period: &str) -> ServiceResult<Listing> {
    store::market::listings(
        services.db.conn(),
        &ListingFilter {
            order_id: None,
            app_ids: Some(vec![app_id]),
        },
        period,
    )
    .await?
    .into_iter()
    .next()
    .ok_or(ServiceError::NotFound(Thing::App))
}

/// An app's listing and one page of its reviews (public): `NotFound` when
/// it is not in the market. `limit` is clamped to 1–100 (default 20).
pub async fn public_app(
    services: &Services,
    app_id: i64,
    cursor: Option<i64>,
    limit: Option<u64>,
) -> ServiceResult<PublicApp> {
    let period = current_period(services.config.timezone);
    let listing = listed(services, app_id, &period).await?;
    let limit = limit.unwrap_or(20).clamp(1, 100);
    let (reviews, next) =
        store::ratings::reviews(services.db.conn(), app_id, cursor, limit).await?;
    Ok(PublicApp {
        app: MarketItem::from(&listing),
        period,
        reviews: reviews
            .into_iter()
            .map(|r| ReviewPublic {
                rating_id: r.id,
                label: label(r.stars),
                stars: r.stars,
                comment: r.comment,
                suggestion: r.suggestion,
                created_at: r.created_at,
                updated_at: r.updated_at,
                edited: r.edited,
                reply: r
                    .reply
                    .map(|(body, created_at)| ReplyPublic { body, created_at }),
            })
            .collect(),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_zone_decides_the_current_period() {
        // 18:00 UTC on 30 September is already 1 October in Shanghai.
        let instant: DateTime<Utc> = "2026-09-30T18:00:00Z".parse().expect("timestamp");
        assert_eq!(
            period_at(&instant, crate::config::DEFAULT_TIMEZONE),
            "2026Q4"
        );
        assert_eq!(period_at(&instant, chrono_tz::UTC), "2026Q3");
        assert_eq!(period_at(&instant, chrono_tz::America::New_York), "2026Q3");
        // and a zone ahead of UTC moves the boundary the other way
        let instant: DateTime<Utc> = "2026-06-30T13:00:00Z".parse().expect("timestamp");
        assert_eq!(
            period_at(&instant, chrono_tz::Pacific::Kiritimati),
            "2026Q3"
        );
        assert_eq!(
            period_at(&instant, crate::config::DEFAULT_TIMEZONE),
            "2026Q2"
        );
    }
}
