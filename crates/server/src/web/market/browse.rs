//! Browsing: `/market` (services by category, with facets) and a
//! service's page (its competing apps side by side).

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use service::ServiceError;
use service::market::{FacetCount, MarketItem, MarketQuery, Sort, select, service_overview};

use super::charts::{Comparison, Histogram, comparison, histogram};
use super::{MAX_MARKET_PAGES, error_page, local_date, percent_bp};
use crate::state::AppState;
use crate::web::{FormErrors, Page, WebPath, WebQuery, internal_page, message_page};

#[derive(Debug, Default, Deserialize)]
pub(super) struct MarketParams {
    q: Option<String>,
    category: Option<String>,
    department: Option<String>,
    min_rating: Option<String>,
    sort: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A service (an order with listed apps) as the overview shows it.
pub struct ServiceCard {
    pub order_id: i64,
    pub title: String,
    pub department: String,
    pub apps: usize,
    pub best_rating: String,
    pub ratings: u64,
    pub users: u64,
}

pub struct CategoryGroup {
    pub category: String,
    pub services: Vec<ServiceCard>,
}

pub struct FacetOption {
    pub value: String,
    pub count: u64,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "market/index.html")]
struct MarketPage {
    page: Page,
    errors: FormErrors,
    q: String,
    sort: String,
    categories: Vec<FacetOption>,
    departments: Vec<FacetOption>,
    ratings: Vec<FacetOption>,
    groups: Vec<CategoryGroup>,
    total_apps: u64,
    total_services: usize,
    truncated: bool,
    filtered: bool,
}

fn facet_options(facets: &[FacetCount], chosen: Option<&str>) -> Vec<FacetOption> {
    let mut out: Vec<FacetOption> = facets
        .iter()
        .map(|f| FacetOption {
            value: f.value.clone(),
            count: f.count,
            selected: chosen == Some(f.value.as_str()),
        })
        .collect();
    // A filter with no hits still shows as chosen, so it can be cleared.
    if let Some(c) = chosen
        && !out.iter().any(|o| o.value == c)
    {
        out.push(FacetOption {
            value: c.to_owned(),
            count: 0,
            selected: true,
        });
    }
    out
}

fn group_services(items: &[MarketItem]) -> Vec<CategoryGroup> {
    // Services keep the order of their best-placed app under the chosen
    // sort; categories are listed by name.
    let mut groups: BTreeMap<String, Vec<ServiceCard>> = BTreeMap::new();
    for i in items {
        let cards = groups.entry(i.category.clone()).or_default();
        match cards.iter_mut().find(|c| c.order_id == i.order_id) {
            Some(card) => {
                card.apps += 1;
                card.users += i.users_this_period;
                card.ratings += i.rating.count;
                let better: f64 = i.rating.bayesian.parse().unwrap_or(0.0);
                let best: f64 = card.best_rating.parse().unwrap_or(0.0);
                if better > best {
                    card.best_rating = i.rating.bayesian.clone();
                }
            }
            None => cards.push(ServiceCard {
                order_id: i.order_id,
                title: i.order_title.clone(),
                department: i.department.clone(),
                apps: 1,
                best_rating: i.rating.bayesian.clone(),
                ratings: i.rating.count,
                users: i.users_this_period,
            }),
        }
    }
    groups
        .into_iter()
        .map(|(category, services)| CategoryGroup { category, services })
        .collect()
}

pub(super) async fn market_page(
    State(state): State<AppState>,
    mut page: Page,
    WebQuery(params): WebQuery<MarketParams>,
) -> Response {
    let sort_text = non_empty(&params.sort).unwrap_or_else(|| "rating".into());
    let sort = match sort_text.as_str() {
        "users" => Sort::Users,
        "new" => Sort::New,
        _ => Sort::Rating,
    };
    let category = non_empty(&params.category);
    let department = non_empty(&params.department);
    let min_rating = non_empty(&params.min_rating)
        .and_then(|r| r.parse::<u8>().ok())
        .filter(|r| (1..=5).contains(r));
    let q = params.q.clone().unwrap_or_default();
    let mut query = MarketQuery {
        order: None,
        q: non_empty(&params.q),
        sort: Some(sort),
        category: category.clone(),
        department: department.clone(),
        min_rating,
        cursor: None,
        limit: Some(100),
    };
    let mut items = vec![];
    let mut facets = None;
    let mut total_apps = 0;
    let mut truncated = false;
    let mut errors = FormErrors::default();
    for _ in 0..MAX_MARKET_PAGES {
        match select(&state, &query).await {
            Ok(found) => {
                total_apps = found.total;
                items.extend(found.items);
                if facets.is_none() {
                    facets = Some(found.facets);
                }
                match found.next {
                    Some(n) => {
                        query.cursor = Some(n);
                        truncated = true;
                    }
                    None => {
                        truncated = false;
                        break;
                    }
                }
            }
            Err(e) if e.is_client_error() => {
                errors.push(e.field().unwrap_or("q"), page.lang.error_message(&e));
                break;
            }
            Err(e) => return internal_page(&page, e),
        }
    }
    let facets = facets.unwrap_or_default();
    let groups = group_services(&items);
    let total_services = groups.iter().map(|g| g.services.len()).sum();
    let status = page.show_errors(&errors);
    let rating_choice = min_rating.map(|r| r.to_string());
    (
        status,
        MarketPage {
            errors,
            q,
            sort: sort_text,
            categories: facet_options(&facets.category, category.as_deref()),
            departments: facet_options(&facets.department, department.as_deref()),
            ratings: facet_options(&facets.rating, rating_choice.as_deref()),
            groups,
            total_apps,
            total_services,
            truncated,
            filtered: query.q.is_some()
                || category.is_some()
                || department.is_some()
                || min_rating.is_some(),
            page,
        },
    )
        .into_response()
}

// ------------------------------------------------------------ service page

pub struct AppRow {
    pub rank: usize,
    pub app_id: i64,
    pub name: String,
    pub isv: String,
    pub rating: String,
    pub ratings: u64,
    pub histogram: Histogram,
    pub users: u64,
    pub test_score: String,
    pub version: i32,
    pub updated: String,
    pub rewards: Vec<(String, i32)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "market/service.html")]
struct ServicePage {
    page: Page,
    order_id: i64,
    title: String,
    description: String,
    category: String,
    department: String,
    period: String,
    apps: Vec<AppRow>,
    chart: Comparison,
}

pub(super) async fn service_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(order_id): WebPath<i64>,
) -> Response {
    let empty = |page: &Page| {
        message_page(
            page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "market.service_empty",
        )
    };
    let found = match service_overview(&state, order_id).await {
        Ok(f) => f,
        Err(ServiceError::NotFound(_)) => return empty(&page),
        Err(e) => return error_page(&page, e, "/market"),
    };
    let Some(first) = found.items.first() else {
        return empty(&page);
    };
    let apps = found
        .items
        .iter()
        .enumerate()
        .map(|(n, i)| AppRow {
            rank: n + 1,
            app_id: i.app_id,
            name: i.app_name.clone(),
            isv: i.isv.clone(),
            rating: i.rating.bayesian.clone(),
            ratings: i.rating.count,
            histogram: histogram(i.rating.histogram, page.lang.catalog()),
            users: i.users_this_period,
            test_score: percent_bp(i.test_score_bp),
            version: i.version_number,
            updated: local_date(&state, i.updated_at),
            rewards: i
                .rewards
                .iter()
                .map(|r| (r.period.clone(), r.rank))
                .collect(),
        })
        .collect();
    ServicePage {
        order_id,
        title: first.order_title.clone(),
        category: first.category.clone(),
        department: first.department.clone(),
        description: found.description,
        period: found.period,
        chart: comparison(&found.items),
        apps,
        page,
    }
    .into_response()
}
