//! The market, public to browse: services by category and department, a
//! service's competing apps side by side, an app's reviews, using an app and
//! rating it.
//!
//! Every rule lives in the API layer (`api::market::select`,
//! `api::public_apps::load`, `api::invoke::run_for_citizen`,
//! `api::ratings::{rate, reply_to, report_rating}`); these handlers turn its
//! answers and errors into pages: a client error beside its field or as a
//! page with the right status, an internal one as the opaque error page.

use std::collections::BTreeMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use domain::{Role, Verdict};
use sea_orm::EntityTrait;
use serde::Deserialize;
use store::market::Availability;

use super::forms::{Control, Form, Item};
use super::{FormErrors, Page, WebPath, WebQuery, csrf_form, internal_page, message_page};
use crate::api::PageQuery;
use crate::api::invoke::{InvokeError, check_input, run_for_citizen};
use crate::api::market::{MarketItem, MarketQuery, Sort, select};
use crate::api::public_apps::{PublicApp, load};
use crate::api::ratings::{
    MAX_REASON_CHARS, MAX_TEXT_CHARS, RatingRequest, rate, reply_to, report_rating,
};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::extract::ClientAddr;
use crate::extract::RequestId;
use crate::i18n::Catalog;
use crate::state::AppState;
use service::ratelimit::Action;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/market", get(market_page))
        .route("/market/services/{order_id}", get(service_page))
        .route("/market/apps/{app_id}", get(app_page))
        .route("/market/apps/{app_id}/use", get(use_page).post(use_submit))
        .route("/market/apps/{app_id}/rating", post(rate_submit))
        .route("/market/ratings/{rating_id}/reply", post(reply_submit))
        .route("/market/ratings/{rating_id}/report", post(report_submit))
}

/// Reviews per page on an app's page.
const REVIEWS_PER_PAGE: u64 = 10;
/// Market pages fetched for the service overview (100 apps each); beyond
/// that the citizen is asked to narrow the search.
const MAX_MARKET_PAGES: usize = 10;
/// Longest idempotency key a form may carry (as the API's header).
const MAX_KEY_LEN: usize = 128;

// ------------------------------------------------------------ helpers

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|q| q.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

pub(crate) fn login_redirect(next: &str) -> Response {
    Redirect::to(&format!("/login?next={}", urlencode(next))).into_response()
}

/// The signed-in citizen, or the page to answer with: sign in first (back
/// to `next` afterwards), or 403 for other roles.
#[allow(clippy::result_large_err, reason = "the error is the page to return")]
fn require_citizen<'p>(page: &'p Page, next: &str) -> Result<&'p CurrentUser, Response> {
    match &page.current {
        None => Err(login_redirect(next)),
        Some(c) if c.user.role == Role::Citizen => Ok(c),
        Some(_) => Err(message_page(
            page,
            StatusCode::FORBIDDEN,
            "forbidden.title",
            "market.citizens_only",
        )),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "market/error.html")]
struct ErrorPage<'a> {
    page: &'a Page,
    message: String,
    back: String,
}

/// A client error from the API layer as a page with its status and
/// message; a rate limit keeps its `Retry-After`; internal errors are
/// logged and shown opaquely.
fn error_page(page: &Page, e: ApiError, back: &str) -> Response {
    if e.status().is_server_error() {
        return internal_page(page, e);
    }
    if e.status() == StatusCode::NOT_FOUND {
        return message_page(
            page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "notfound.body",
        );
    }
    let message = match e.retry_after_secs() {
        Some(secs) => page
            .t("market.rate_limited")
            .replace("{secs}", &secs.to_string()),
        None => e.message().to_owned(),
    };
    let mut resp = (
        e.status(),
        ErrorPage {
            page,
            message,
            back: back.to_owned(),
        },
    )
        .into_response();
    if let Some(secs) = e.retry_after_secs()
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn local_date(state: &AppState, t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&state.config.timezone)
        .format("%Y-%m-%d")
        .to_string()
}

fn percent_bp(bp: Option<i32>) -> String {
    bp.map(|b| format!("{:.1}%", f64::from(b) / 100.0))
        .unwrap_or_else(|| "—".into())
}

/// "★★★★☆": the picture; the number is always written beside it.
fn star_picture(stars: i32) -> String {
    let s = usize::try_from(stars.clamp(0, 5)).unwrap_or(0);
    format!("{}{}", "★".repeat(s), "☆".repeat(5 - s))
}

pub(crate) fn level_key(stars: i32) -> &'static str {
    match stars {
        1 => "market.level.1",
        2 => "market.level.2",
        3 => "market.level.3",
        4 => "market.level.4",
        _ => "market.level.5",
    }
}

// ------------------------------------------------------------ charts

/// One bar of a star histogram.
pub struct HistBar {
    pub stars: u8,
    pub count: u64,
    pub y: u32,
    pub text_y: u32,
    pub width: String,
}

/// A five-bar histogram of stars, drawn as inline SVG; `summary` is its
/// text alternative.
pub struct Histogram {
    pub bars: Vec<HistBar>,
    pub summary: String,
}

fn histogram(counts: [u64; 5], c: &Catalog) -> Histogram {
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let unit = c.t("market.stars_unit");
    let mut parts = vec![];
    let bars = (1..=5u8)
        .rev()
        .enumerate()
        .map(|(row, stars)| {
            let count = counts[usize::from(stars - 1)];
            parts.push(format!("{stars}{unit} {count}"));
            // Drawing only: 120 units is the longest bar.
            let width = count as f64 / max as f64 * 120.0;
            let y = u32::try_from(row).unwrap_or(0) * 16 + 2;
            HistBar {
                stars,
                count,
                y,
                text_y: y + 11,
                width: format!("{width:.1}"),
            }
        })
        .collect();
    Histogram {
        bars,
        summary: parts.join(" · "),
    }
}

/// One app in the comparison chart: users this period against rating.
pub struct CompareRow {
    pub name: String,
    pub users: u64,
    pub rating: String,
    pub y: u32,
    pub users_width: String,
    pub rating_width: String,
}

pub struct Comparison {
    pub rows: Vec<CompareRow>,
    pub height: u32,
}

fn comparison(items: &[MarketItem]) -> Comparison {
    let max_users = items
        .iter()
        .map(|i| i.users_this_period)
        .max()
        .unwrap_or(0)
        .max(1);
    let rows: Vec<CompareRow> = items
        .iter()
        .enumerate()
        .map(|(n, i)| {
            let rating: f64 = i.rating.bayesian.parse().unwrap_or(0.0);
            CompareRow {
                name: i.app_name.clone(),
                users: i.users_this_period,
                rating: i.rating.bayesian.clone(),
                y: u32::try_from(n).unwrap_or(0) * 64 + 8,
                users_width: format!(
                    "{:.1}",
                    i.users_this_period as f64 / max_users as f64 * 300.0
                ),
                rating_width: format!("{:.1}", (rating / 5.0).clamp(0.0, 1.0) * 300.0),
            }
        })
        .collect();
    let height = u32::try_from(rows.len()).unwrap_or(0) * 64 + 16;
    Comparison { rows, height }
}

// ------------------------------------------------------------ /market

#[derive(Debug, Default, Deserialize)]
struct MarketParams {
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

fn facet_options(
    facets: &[crate::api::market::FacetCount],
    chosen: Option<&str>,
) -> Vec<FacetOption> {
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

async fn market_page(
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
            Err(e) if e.status().is_client_error() => {
                errors.push(e.field().unwrap_or("q"), e.message());
                break;
            }
            Err(e) => return internal_page(&page, e),
        }
    }
    let facets = facets.unwrap_or_default();
    let groups = group_services(&items);
    let total_services = groups.iter().map(|g| g.services.len()).sum();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page.has_errors = !errors.is_empty();
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

async fn service_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(order_id): WebPath<i64>,
) -> Response {
    let query = MarketQuery {
        order: Some(order_id),
        q: None,
        sort: Some(Sort::Rating),
        category: None,
        department: None,
        min_rating: None,
        cursor: None,
        limit: Some(100),
    };
    let found = match select(&state, &query).await {
        Ok(f) => f,
        Err(e) => return error_page(&page, e, "/market"),
    };
    let Some(first) = found.items.first().cloned() else {
        return message_page(
            &page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "market.service_empty",
        );
    };
    let description = match store::entity::orders::Entity::find_by_id(order_id)
        .one(state.db.conn())
        .await
    {
        Ok(o) => o.map(|o| o.description).unwrap_or_default(),
        Err(e) => return internal_page(&page, e),
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
        description,
        category: first.category.clone(),
        department: first.department.clone(),
        period: service::market::current_period(state.config.timezone),
        chart: comparison(&found.items),
        apps,
        page,
    }
    .into_response()
}

// ------------------------------------------------------------ app page

pub struct ReviewItem {
    pub id: i64,
    pub stars: i32,
    pub picture: String,
    pub level_key: &'static str,
    pub comment: String,
    pub suggestion: String,
    pub date: String,
    pub edited: bool,
    pub reply: Option<(String, String)>,
}

/// What the rating form shows: the posted values, or the citizen's
/// current rating, or nothing yet.
#[derive(Default)]
pub struct RatingDraft {
    pub stars: String,
    pub comment: String,
    pub suggestion: String,
}

/// A reply or report being written, shown again with its error.
#[derive(Default)]
struct Drafts {
    rating: Option<RatingDraft>,
    reply: Option<(i64, String)>,
    report: Option<(i64, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "market/app.html")]
struct AppPage {
    page: Page,
    errors: FormErrors,
    app: MarketItem,
    period: String,
    test_score: String,
    updated: String,
    published: String,
    histogram: Histogram,
    reviews: Vec<ReviewItem>,
    next: Option<i64>,
    paged: bool,
    is_citizen: bool,
    has_used: bool,
    editing: bool,
    draft: RatingDraft,
    can_reply: bool,
    reply_draft: (i64, String),
    report_draft: (i64, String),
    levels: Vec<(i32, &'static str)>,
    max_text: usize,
    max_reason: usize,
}

#[derive(Debug, Default, Deserialize)]
struct AppParams {
    cursor: Option<i64>,
    done: Option<String>,
}

async fn app_page(
    State(state): State<AppState>,
    mut page: Page,
    WebPath(app_id): WebPath<i64>,
    WebQuery(params): WebQuery<AppParams>,
) -> Response {
    page.flash = match params.done.as_deref() {
        Some("rated") => page.t("market.flash.rated").to_owned(),
        Some("replied") => page.t("market.flash.replied").to_owned(),
        Some("reported") => page.t("market.flash.reported").to_owned(),
        _ => page.flash,
    };
    app_view(
        &state,
        page,
        app_id,
        params.cursor,
        FormErrors::default(),
        Drafts::default(),
    )
    .await
}

async fn app_view(
    state: &AppState,
    mut page: Page,
    app_id: i64,
    cursor: Option<i64>,
    errors: FormErrors,
    drafts: Drafts,
) -> Response {
    let listed: PublicApp = match load(
        state,
        app_id,
        &PageQuery {
            cursor,
            limit: Some(REVIEWS_PER_PAGE),
        },
    )
    .await
    {
        Ok(a) => a,
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            return message_page(
                &page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "market.app_not_listed",
            );
        }
        Err(e) => return internal_page(&page, e),
    };
    let viewer = page.current.as_ref().map(|c| c.user.clone());
    let is_citizen = viewer.as_ref().is_some_and(|u| u.role == Role::Citizen);
    let mut has_used = false;
    let mut current: Option<RatingDraft> = None;
    let mut can_reply = false;
    if let Some(u) = &viewer {
        let conn = state.db.conn();
        if is_citizen {
            has_used = match store::usage::has_successful_use(conn, u.id, app_id).await {
                Ok(b) => b,
                Err(e) => return internal_page(&page, e),
            };
            current = match store::ratings::find_by_citizen(conn, app_id, u.id).await {
                Ok(r) => r.map(|r| RatingDraft {
                    stars: r.stars.to_string(),
                    comment: r.comment.unwrap_or_default(),
                    suggestion: r.suggestion.unwrap_or_default(),
                }),
                Err(e) => return internal_page(&page, e),
            };
        } else if u.role == Role::Isv {
            let owner = match store::entity::apps::Entity::find_by_id(app_id)
                .one(conn)
                .await
            {
                Ok(a) => a.map(|a| a.isv_org_id),
                Err(e) => return internal_page(&page, e),
            };
            can_reply = owner.is_some() && u.org_id == owner;
        }
    }
    let editing = current.is_some();
    let draft = drafts.rating.or(current).unwrap_or_default();
    let reviews = listed
        .reviews
        .into_iter()
        .map(|r| ReviewItem {
            id: r.rating_id,
            stars: r.stars,
            picture: star_picture(r.stars),
            level_key: level_key(r.stars),
            comment: r.comment.unwrap_or_default(),
            suggestion: r.suggestion.unwrap_or_default(),
            date: local_date(state, r.updated_at),
            edited: r.edited,
            reply: r
                .reply
                .map(|rep| (rep.body, local_date(state, rep.created_at))),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page.has_errors = !errors.is_empty();
    let app = listed.app;
    (
        status,
        AppPage {
            errors,
            period: listed.period,
            test_score: percent_bp(app.test_score_bp),
            updated: local_date(state, app.updated_at),
            published: app
                .published_at
                .map(|t| local_date(state, t))
                .unwrap_or_default(),
            histogram: histogram(app.rating.histogram, page.lang.catalog()),
            app,
            reviews,
            next: listed.next,
            paged: cursor.is_some(),
            is_citizen,
            has_used,
            editing,
            draft,
            can_reply,
            reply_draft: drafts.reply.unwrap_or_default(),
            report_draft: drafts.report.unwrap_or_default(),
            levels: (1..=5).rev().map(|s| (s, level_key(s))).collect(),
            max_text: MAX_TEXT_CHARS,
            max_reason: MAX_REASON_CHARS,
            page,
        },
    )
        .into_response()
}

// ------------------------------------------------------------ rating

#[derive(Deserialize)]
struct RatingForm {
    #[serde(default)]
    stars: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    suggestion: String,
}

async fn rate_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(addr): ClientAddr,
    RequestId(request_id): RequestId,
    WebPath(app_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let back = format!("/market/apps/{app_id}");
    let citizen = match require_citizen(&page, &back) {
        Ok(c) => c.user.clone(),
        Err(r) => return r,
    };
    let form: RatingForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let draft = RatingDraft {
        stars: form.stars.clone(),
        comment: form.comment.clone(),
        suggestion: form.suggestion.clone(),
    };
    let Some(stars) = form
        .stars
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=5).contains(s))
    else {
        let mut errors = FormErrors::default();
        errors.push("stars", page.t("market.rate.choose"));
        let drafts = Drafts {
            rating: Some(draft),
            ..Default::default()
        };
        return app_view(&state, page, app_id, None, errors, drafts).await;
    };
    // A slip on the form is answered before the limit counts the attempt.
    if let Err(e) = state
        .rate_limits
        .check(Action::Rate, Some(citizen.id), addr)
    {
        return error_page(&page, e.into(), &back);
    }
    let req = RatingRequest {
        stars,
        comment: Some(form.comment),
        suggestion: Some(form.suggestion),
    };
    match rate(&state, &citizen, app_id, req, request_id).await {
        Ok(_) => {
            Redirect::to(&format!("/market/apps/{app_id}?done=rated#your-rating")).into_response()
        }
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let mut errors = FormErrors::default();
            let field = e.field().unwrap_or("stars").to_owned();
            let message = match field.as_str() {
                "comment" | "suggestion" => page
                    .t("market.rate.too_long")
                    .replace("{max}", &MAX_TEXT_CHARS.to_string()),
                _ => e.message().to_owned(),
            };
            errors.push(&field, message);
            let drafts = Drafts {
                rating: Some(draft),
                ..Default::default()
            };
            app_view(&state, page, app_id, None, errors, drafts).await
        }
        Err(e) if e.status() == StatusCode::FORBIDDEN => {
            let body = ErrorPage {
                message: page.t("market.rate.use_first").to_owned(),
                back,
                page: &page,
            };
            (StatusCode::FORBIDDEN, body).into_response()
        }
        Err(e) => error_page(&page, e, &back),
    }
}

// ------------------------------------------------------------ reply, report

#[derive(Deserialize)]
struct ReplyForm {
    #[serde(default)]
    body: String,
}

async fn rating_app(state: &AppState, page: &Page, rating_id: i64) -> Result<i64, Response> {
    match store::ratings::find(state.db.conn(), rating_id).await {
        Ok(Some(r)) => Ok(r.app_id),
        Ok(None) => Err(message_page(
            page,
            StatusCode::NOT_FOUND,
            "notfound.title",
            "notfound.body",
        )),
        Err(e) => Err(internal_page(page, e)),
    }
}

async fn reply_submit(
    State(state): State<AppState>,
    page: Page,
    RequestId(request_id): RequestId,
    WebPath(rating_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let app_id = match rating_app(&state, &page, rating_id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = format!("/market/apps/{app_id}");
    let isv = match &page.current {
        None => return login_redirect(&back),
        Some(c) if c.user.role == Role::Isv => c.user.clone(),
        Some(_) => {
            return message_page(
                &page,
                StatusCode::FORBIDDEN,
                "forbidden.title",
                "market.reply.isv_only",
            );
        }
    };
    let form: ReplyForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let text = form.body.clone();
    match reply_to(&state, &isv, rating_id, form.body, request_id).await {
        Ok(_) => Redirect::to(&format!(
            "/market/apps/{app_id}?done=replied#review-{rating_id}"
        ))
        .into_response(),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let mut errors = FormErrors::default();
            let message = if text.trim().is_empty() {
                page.t("market.reply.empty").to_owned()
            } else {
                page.t("market.rate.too_long")
                    .replace("{max}", &MAX_TEXT_CHARS.to_string())
            };
            errors.push(&format!("reply-{rating_id}"), message);
            let drafts = Drafts {
                reply: Some((rating_id, text)),
                ..Default::default()
            };
            app_view(&state, page, app_id, None, errors, drafts).await
        }
        Err(e) => error_page(&page, e, &back),
    }
}

#[derive(Deserialize)]
struct ReportForm {
    #[serde(default)]
    reason: String,
}

async fn report_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(addr): ClientAddr,
    RequestId(request_id): RequestId,
    WebPath(rating_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let app_id = match rating_app(&state, &page, rating_id).await {
        Ok(a) => a,
        Err(r) => return r,
    };
    let back = format!("/market/apps/{app_id}");
    let form: ReportForm = match csrf_form(&state, &page, &body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let reporter = page.current.as_ref().map(|c| c.user.id);
    if let Err(e) = state.rate_limits.check(Action::Rate, reporter, addr) {
        return error_page(&page, e.into(), &back);
    }
    let text = form.reason.clone();
    match report_rating(
        &state,
        page.current.as_ref(),
        rating_id,
        form.reason,
        request_id,
    )
    .await
    {
        Ok(_) => Redirect::to(&format!(
            "/market/apps/{app_id}?done=reported#review-{rating_id}"
        ))
        .into_response(),
        Err(e) if e.status() == StatusCode::UNPROCESSABLE_ENTITY => {
            let mut errors = FormErrors::default();
            let message = if text.trim().is_empty() {
                page.t("market.report.empty").to_owned()
            } else {
                page.t("market.rate.too_long")
                    .replace("{max}", &MAX_REASON_CHARS.to_string())
            };
            errors.push(&format!("report-{rating_id}"), message);
            let drafts = Drafts {
                report: Some((rating_id, text)),
                ..Default::default()
            };
            app_view(&state, page, app_id, None, errors, drafts).await
        }
        Err(e) => error_page(&page, e, &back),
    }
}

// ------------------------------------------------------------ using an app

#[derive(Template, WebTemplate)]
#[template(path = "market/use.html")]
struct UsePage {
    page: Page,
    errors: FormErrors,
    app: MarketItem,
    form: Form,
    idempotency_key: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "market/result.html")]
struct ResultPage {
    page: Page,
    app: MarketItem,
    /// Escaped by `forms::render_output`.
    output_html: String,
    failed: Option<&'static str>,
    invocation_id: i64,
    latency_ms: u64,
}

/// The listed app with its order's contract, or the page that says why it
/// cannot be used.
async fn usable(
    state: &AppState,
    page: &Page,
    app_id: i64,
) -> Result<(MarketItem, sandbox::Contract), Response> {
    let back = format!("/market/apps/{app_id}");
    let order_id = match store::market::availability(state.db.conn(), app_id).await {
        Ok(Availability::Listed { order_id, .. }) => order_id,
        Ok(Availability::NoSuchApp) => {
            return Err(message_page(
                page,
                StatusCode::NOT_FOUND,
                "notfound.title",
                "market.app_not_listed",
            ));
        }
        Ok(Availability::Suspended) => {
            let html = ErrorPage {
                page,
                message: page.t("market.use.suspended").to_owned(),
                back: "/market".into(),
            };
            return Err((StatusCode::CONFLICT, html).into_response());
        }
        Ok(Availability::NotPublished) => {
            let html = ErrorPage {
                page,
                message: page.t("market.use.not_published").to_owned(),
                back: "/market".into(),
            };
            return Err((StatusCode::CONFLICT, html).into_response());
        }
        Err(e) => return Err(internal_page(page, e)),
    };
    let listed = load(
        state,
        app_id,
        &PageQuery {
            cursor: None,
            limit: Some(1),
        },
    )
    .await
    .map_err(|e| error_page(page, e, &back))?;
    let contract = service::appdata::contract_for_order(&state.db, order_id)
        .await
        .map_err(|e| error_page(page, e.into(), &back))?;
    Ok((listed.app, contract))
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn use_page(
    State(state): State<AppState>,
    page: Page,
    WebPath(app_id): WebPath<i64>,
) -> Response {
    if let Err(r) = require_citizen(&page, &format!("/market/apps/{app_id}/use")) {
        return r;
    }
    let (app, contract) = match usable(&state, &page, app_id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let form = Form::from_schema(&contract.input_schema, page.lang.catalog());
    UsePage {
        page,
        errors: FormErrors::default(),
        app,
        form,
        idempotency_key: new_key(),
    }
    .into_response()
}

fn use_form_again(
    mut page: Page,
    app: MarketItem,
    mut form: Form,
    posted: &[(String, String)],
    errors: FormErrors,
    key: String,
) -> Response {
    form.fill(posted);
    page.has_errors = true;
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        UsePage {
            page,
            errors,
            app,
            form,
            idempotency_key: key,
        },
    )
        .into_response()
}

async fn use_submit(
    State(state): State<AppState>,
    page: Page,
    ClientAddr(addr): ClientAddr,
    WebPath(app_id): WebPath<i64>,
    body: Bytes,
) -> Response {
    let citizen = match require_citizen(&page, &format!("/market/apps/{app_id}/use")) {
        Ok(c) => c.user.clone(),
        Err(r) => return r,
    };
    let posted: Vec<(String, String)> = match csrf_form(&state, &page, &body) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let back = format!("/market/apps/{app_id}");
    if let Err(e) = state
        .rate_limits
        .check(Action::Invoke, Some(citizen.id), addr)
    {
        return error_page(&page, e.into(), &back);
    }
    let (app, contract) = match usable(&state, &page, app_id).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // The key was made when the form was drawn: submitting the same form
    // twice records one use. A missing or mangled key gets a fresh one.
    let key = posted
        .iter()
        .find(|(k, _)| k == "idempotency_key")
        .map(|(_, v)| v.trim().to_owned())
        .filter(|k| {
            !k.is_empty() && k.len() <= MAX_KEY_LEN && k.bytes().all(|b| b.is_ascii_graphic())
        })
        .unwrap_or_else(new_key);
    let catalog = page.lang.catalog();
    let form = Form::from_schema(&contract.input_schema, catalog);
    let (input, mut errors) = form.parse(&posted, catalog);
    if !errors.is_empty() {
        // Say everything that is wrong at once, not one round trip each.
        if let Ok(schemas) = contract.schemas()
            && let Err(more) = check_input(&schemas, &input)
        {
            form.schema_errors(&more.0, catalog, &mut errors);
        }
        return use_form_again(page, app, form, &posted, errors, key);
    }
    match run_for_citizen(&state, &citizen, app_id, input, Some(key.clone())).await {
        Ok(done) => {
            let (output_html, failed) = match &done.output {
                Some(out) => (
                    super::forms::render_output(&contract.output_schema, out, catalog),
                    None,
                ),
                None => (
                    String::new(),
                    Some(if done.verdict == Verdict::TimeLimitExceeded {
                        "market.use.too_slow"
                    } else {
                        "market.use.failed"
                    }),
                ),
            };
            ResultPage {
                page,
                app,
                output_html,
                failed,
                invocation_id: done.invocation_id,
                latency_ms: done.latency_us / 1000,
            }
            .into_response()
        }
        Err(InvokeError::Input(errs)) => {
            let mut errors = FormErrors::default();
            form.schema_errors(&errs.0, catalog, &mut errors);
            use_form_again(page, app, form, &posted, errors, key)
        }
        Err(InvokeError::Api(e)) => error_page(&page, e, &back),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn the_histogram_scales_to_the_largest_bar_and_reads_as_text() {
        let h = histogram([1, 0, 0, 2, 4], Lang::ZhCn.catalog());
        let widths: Vec<(u8, &str)> = h.bars.iter().map(|b| (b.stars, b.width.as_str())).collect();
        assert_eq!(
            widths,
            [
                (5, "120.0"),
                (4, "60.0"),
                (3, "0.0"),
                (2, "0.0"),
                (1, "30.0")
            ]
        );
        assert_eq!(h.summary, "5星 4 · 4星 2 · 3星 0 · 2星 0 · 1星 1");
        let empty = histogram([0; 5], Lang::ZhCn.catalog());
        assert!(empty.bars.iter().all(|b| b.width == "0.0"));
        assert_eq!(star_picture(4), "★★★★☆");
        assert_eq!(level_key(1), "market.level.1");
        assert_eq!(percent_bp(Some(9_550)), "95.5%");
        assert_eq!(percent_bp(None), "—");
    }

    #[test]
    fn a_language_has_its_levels() {
        for lang in [Lang::ZhCn, Lang::En] {
            for s in 1..=5 {
                assert_ne!(lang.catalog().t(level_key(s)), level_key(s));
            }
        }
    }
}
