//! Complaints: a citizen complains about an app or an order; the app's ISV
//! or the order's department answers before the deadline (5 working days);
//! the citizen resolves it, rating the handling, or reopens it. Supervisors
//! see every complaint and those past their deadline.
//!
//! Filing is rate limited here, after the complaint is checked: a slip on
//! the form is answered before the limit counts the attempt.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use domain::{ComplaintStatus, OrderStatus, Role};
use serde::{Deserialize, Serialize};
use store::entity::{apps, complaints, orders};
use store::users::User;
use utoipa::{IntoParams, ToSchema};

use crate::actor::Actor;
use crate::error::{Msg, ServiceError, ServiceResult, Thing};
use crate::ratelimit::Action;
use crate::services::Services;
use crate::validate::{optional_text, stars_field};

/// Longest complaint or answer, in characters.
pub const MAX_COMPLAINT_CHARS: usize = 2000;
/// Longest page of a list.
const MAX_LIMIT: u64 = 200;
const DEFAULT_LIMIT: u64 = 50;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintRequest {
    /// The app complained about; its order is implied.
    pub app_id: Option<i64>,
    /// The order (service) complained about, when not one app.
    pub order_id: Option<i64>,
    pub body: String,
    /// One of the citizen's own invocations of `app_id` that the complaint
    /// is about: whoever handles the complaint may then replay it.
    #[serde(default)]
    pub invocation_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintView {
    pub id: i64,
    pub app_id: Option<i64>,
    pub order_id: Option<i64>,
    pub body: String,
    /// open | answered | resolved
    pub status: String,
    /// The answer is due by then (end of the 5th working day).
    pub deadline: DateTime<Utc>,
    /// Open past its deadline.
    pub overdue: bool,
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The citizen's 1–5 rating of the handling.
    pub resolution_stars: Option<i32>,
    pub created_at: DateTime<Utc>,
    /// The invocation it is about, which its handlers may replay.
    pub invocation_id: Option<i64>,
}

impl ComplaintView {
    pub fn of(c: complaints::Model, now: DateTime<Utc>) -> ComplaintView {
        ComplaintView {
            overdue: c.is(ComplaintStatus::Open) && c.deadline < now,
            id: c.id,
            app_id: c.app_id,
            order_id: c.order_id,
            body: c.body,
            status: c.status,
            deadline: c.deadline,
            answer: c.answer,
            answered_at: c.answered_at,
            resolved_at: c.resolved_at,
            resolution_stars: c.resolution_stars,
            created_at: c.created_at,
            invocation_id: c.invocation_id,
        }
    }

    /// Its status as the enum; a value the store would never write reads
    /// as open, which shows it to those who answer rather than hiding it.
    pub fn status(&self) -> ComplaintStatus {
        self.status.parse().unwrap_or(ComplaintStatus::Open)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplaintList {
    pub items: Vec<ComplaintView>,
    pub next: Option<i64>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ComplaintQuery {
    /// open | answered | resolved
    pub status: Option<String>,
    /// Only those still open past their deadline.
    pub overdue: Option<bool>,
    /// The `next` cursor of the previous page.
    pub cursor: Option<i64>,
    /// At most 200; default 50.
    pub limit: Option<u64>,
}

/// One complaint with what its viewer may do with it.
#[derive(Debug)]
pub struct ComplaintDetail {
    pub complaint: ComplaintView,
    /// An ISV or department it concerns, while it is open.
    pub can_answer: bool,
    /// Its citizen, once it is answered.
    pub can_resolve: bool,
    /// It names an invocation, and the actor handles or supervises it.
    pub can_replay: bool,
}

/// What a complaint is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    App { id: i64, name: String },
    Order { id: i64, title: String },
}

impl Subject {
    pub fn name(&self) -> &str {
        match self {
            Subject::App { name, .. } => name,
            Subject::Order { title, .. } => title,
        }
    }
}

fn deadline_from(services: &Services, now: DateTime<Utc>) -> DateTime<Utc> {
    services
        .config
        .calendar
        .deadline_after(
            &now.with_timezone(&services.config.timezone),
            domain::working_days::COMPLAINT_WORKING_DAYS,
        )
        .with_timezone(&Utc)
}

fn required_text(
    field: &'static str,
    text: String,
    empty_key: &'static str,
) -> ServiceResult<String> {
    optional_text(field, Some(text), MAX_COMPLAINT_CHARS)?
        .ok_or_else(|| ServiceError::invalid(field, Msg::new(empty_key)))
}

/// A change the complaint's status no longer allows (it moved meanwhile).
fn moved(e: store::StoreError, key: &'static str) -> ServiceError {
    match e {
        store::StoreError::Conflict { .. } => {
            ServiceError::conflict("invalid_transition", Msg::new(key))
        }
        other => other.into(),
    }
}

/// What a complaint about `app_id` or `order_id` is about, as anyone but
/// the department sees it: a draft order does not exist to the public.
pub async fn subject(
    services: &Services,
    app_id: Option<i64>,
    order_id: Option<i64>,
) -> ServiceResult<Option<Subject>> {
    let conn = services.db.conn();
    if let Some(id) = app_id {
        return Ok(store::complaints::app(conn, id)
            .await?
            .map(|a| Subject::App {
                id: a.id,
                name: a.name,
            }));
    }
    if let Some(id) = order_id {
        return Ok(store::orders::published(conn, id)
            .await?
            .map(|o| Subject::Order {
                id: o.id,
                title: o.title,
            }));
    }
    Ok(None)
}

/// The names of the apps and the titles of the orders some complaints are
/// about: two queries for a page, not two per row.
pub struct Subjects {
    apps: HashMap<i64, String>,
    orders: HashMap<i64, String>,
}

impl Subjects {
    pub fn name_of(&self, c: &ComplaintView) -> Option<&str> {
        c.app_id
            .and_then(|a| self.apps.get(&a))
            .or_else(|| c.order_id.and_then(|o| self.orders.get(&o)))
            .map(String::as_str)
    }
}

pub async fn subjects(services: &Services, items: &[ComplaintView]) -> ServiceResult<Subjects> {
    let conn = services.db.conn();
    let app_ids: Vec<i64> = items.iter().filter_map(|c| c.app_id).collect();
    let order_ids: Vec<i64> = items.iter().filter_map(|c| c.order_id).collect();
    Ok(Subjects {
        apps: store::complaints::app_names(conn, app_ids).await?,
        orders: store::complaints::order_titles(conn, order_ids).await?,
    })
}

/// File a complaint about an app or an order (citizen), from `address`.
/// Those who answer it hear of it, with its deadline.
pub async fn file(
    services: &Services,
    actor: &Actor,
    address: Option<IpAddr>,
    req: ComplaintRequest,
) -> ServiceResult<ComplaintView> {
    let citizen = actor.require(&[Role::Citizen])?;
    let body = required_text("body", req.body, "err.complaint.body_required")?;
    let conn = services.db.conn();
    let (app, order_id) = match (req.app_id, req.order_id) {
        (None, None) => {
            return Err(ServiceError::invalid(
                "app_id",
                Msg::new("err.complaint.subject_required"),
            ));
        }
        (Some(app_id), order_id) => {
            let app = store::complaints::app(conn, app_id)
                .await?
                .ok_or(ServiceError::NotFound(Thing::App))?;
            if order_id.is_some_and(|o| o != app.order_id) {
                return Err(ServiceError::invalid(
                    "order_id",
                    Msg::new("err.complaint.app_not_of_order"),
                ));
            }
            // A complaint about an app speaks of a use of it; one about a
            // service the citizen could not get to names the order.
            if !store::usage::has_used(conn, citizen.id, app.id).await? {
                return Err(ServiceError::invalid(
                    "app_id",
                    Msg::new("err.complaint.app_not_used"),
                ));
            }
            let order_id = app.order_id;
            (Some(app), order_id)
        }
        (None, Some(order_id)) => (None, order_id),
    };
    if let Some(id) = req.invocation_id {
        // Only the citizen's own use of this very app: an id that is not
        // reads the same as one that does not exist.
        let own = match (&app, store::usage::invocation(conn, id).await?) {
            (Some(app), Some(i)) => i.citizen_id == citizen.id && i.app_id == app.id,
            _ => false,
        };
        if !own {
            return Err(ServiceError::invalid(
                "invocation_id",
                Msg::new("err.complaint.invocation_not_own"),
            ));
        }
    }
    let order = store::complaints::order(conn, order_id)
        .await?
        // A draft is the department's alone: to anyone else it does not exist.
        .filter(|o| o.status != OrderStatus::Draft.as_str())
        .ok_or(ServiceError::NotFound(Thing::Order))?;
    services
        .rate_limits
        .check(Action::Rate, Some(citizen.id), address)?;
    let now = store::now();
    let txn = services.db.begin_write().await?;
    let saved = store::complaints::create(
        &txn,
        store::complaints::NewComplaint {
            citizen_id: citizen.id,
            app_id: app.as_ref().map(|a| a.id),
            order_id: Some(order.id),
            body,
            deadline: deadline_from(services, now),
            invocation_id: req.invocation_id,
        },
        now,
    )
    .await?;
    let about = match &app {
        Some(a) => format!("应用 {}", a.id),
        None => format!("服务 {}", order.id),
    };
    tell_answerers(services, &txn, &saved, &order, app.as_ref(), Waiting::Filed).await?;
    store::audit::append(
        &txn,
        actor.audit(
            "complaint.file",
            "complaint",
            saved.id,
            format!("投诉{about}"),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ComplaintView::of(saved, now))
}

/// Why a complaint waits for an answer.
#[derive(Clone, Copy)]
enum Waiting {
    Filed,
    /// Its citizen was not satisfied with the answer.
    Reopened,
}

/// Tells those who answer a complaint (the order's department and, for an
/// app, its ISV; by organisation, so whoever of them is on duty sees it)
/// that it waits for them, with its deadline. Notifications are stored in
/// both languages, as every notification is.
async fn tell_answerers(
    services: &Services,
    txn: &impl sea_orm::ConnectionTrait,
    saved: &complaints::Model,
    order: &orders::Model,
    app: Option<&apps::Model>,
    why: Waiting,
) -> ServiceResult<()> {
    let due = saved
        .deadline
        .with_timezone(&services.config.timezone)
        .format("%Y-%m-%d %H:%M");
    let subject = app.map_or(order.title.as_str(), |a| a.name.as_str());
    let (kind, message) = match why {
        Waiting::Filed => (
            "complaint.filed",
            format!(
                "收到关于《{subject}》的投诉，请在 {due} 前答复。 / A complaint about \"{subject}\" was filed; answer it by {due}."
            ),
        ),
        Waiting::Reopened => (
            "complaint.reopened",
            format!(
                "关于《{subject}》的投诉未获解决，已重新打开，请在 {due} 前再次答复。 / A complaint about \"{subject}\" was reopened as not resolved; answer it again by {due}."
            ),
        ),
    };
    let recipients = std::iter::once(order.department_org_id)
        .chain(app.map(|a| a.isv_org_id))
        .map(store::notifications::Recipient::Org);
    for recipient in recipients {
        store::notifications::notify(
            txn,
            recipient,
            kind,
            message.clone(),
            Some(format!("/complaints/{}", saved.id)),
        )
        .await?;
    }
    Ok(())
}

/// Whose complaints `user` may read.
async fn scope_of(services: &Services, user: &User) -> ServiceResult<store::complaints::Scope> {
    use store::complaints::Scope;
    let conn = services.db.conn();
    let org = user.org_id;
    Ok(match user.role {
        Role::Citizen => Scope::Citizen(user.id),
        Role::Supervisor | Role::Admin => Scope::All,
        Role::Isv => Scope::Concerning {
            apps: match org {
                Some(org) => store::complaints::apps_of_isv(conn, org).await?,
                None => Vec::new(),
            },
            orders: Vec::new(),
        },
        Role::Department => Scope::Concerning {
            apps: Vec::new(),
            orders: match org {
                Some(org) => store::complaints::orders_of_department(conn, org).await?,
                None => Vec::new(),
            },
        },
        Role::Finance => return Err(ServiceError::forbidden("err.complaint.staff_only")),
    })
}

fn in_scope(scope: &store::complaints::Scope, c: &complaints::Model) -> bool {
    use store::complaints::Scope;
    match scope {
        Scope::All => true,
        Scope::Citizen(id) => c.citizen_id == *id,
        Scope::Concerning { apps, orders } => {
            c.app_id.is_some_and(|a| apps.contains(&a))
                || c.order_id.is_some_and(|o| orders.contains(&o))
        }
    }
}

/// Complaints the actor may see, newest first: a citizen's own; those about
/// an ISV's apps or a department's orders; all of them for supervisors.
pub async fn list(
    services: &Services,
    actor: &Actor,
    q: &ComplaintQuery,
) -> ServiceResult<ComplaintList> {
    let scope = scope_of(services, actor.require(&Role::ALL)?).await?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            s.parse::<ComplaintStatus>().map_err(|_| {
                ServiceError::bad_request("invalid_query", Msg::new("err.complaint.status_query"))
            })
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let now = store::now();
    let rows = store::complaints::list(
        services.db.conn(),
        &scope,
        status,
        q.overdue.unwrap_or(false).then_some(now),
        q.cursor,
        limit + 1,
    )
    .await?;
    let more = rows.len() as u64 > limit;
    let items: Vec<ComplaintView> = rows
        .into_iter()
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|c| ComplaintView::of(c, now))
        .collect();
    let next = if more {
        items.last().map(|c| c.id)
    } else {
        None
    };
    Ok(ComplaintList { items, next })
}

/// A complaint the user may see; another's is not found, not forbidden, so
/// ids reveal nothing.
async fn visible(services: &Services, user: &User, id: i64) -> ServiceResult<complaints::Model> {
    let scope = scope_of(services, user).await?;
    store::complaints::find(services.db.conn(), id)
        .await?
        .filter(|c| in_scope(&scope, c))
        .ok_or(ServiceError::NotFound(Thing::Complaint))
}

/// Tells every supervisor, once, of each open complaint past its deadline;
/// answers how many complaints were told. Safe on several nodes at once:
/// each complaint's telling is claimed in the same transaction as its
/// notifications, so exactly one node writes them.
pub async fn notify_overdue(services: &Services, now: DateTime<Utc>) -> ServiceResult<u64> {
    let conn = services.db.conn();
    let overdue = store::complaints::overdue_untold(conn, now).await?;
    if overdue.is_empty() {
        return Ok(0);
    }
    let supervisors = store::users::ids_with_role(conn, Role::Supervisor).await?;
    let mut told = 0;
    for c in overdue {
        let txn = services.db.begin_write().await?;
        if !store::complaints::claim_overdue_notice(&txn, c.id, now).await? {
            continue;
        }
        let due = c
            .deadline
            .with_timezone(&services.config.timezone)
            .format("%Y-%m-%d %H:%M");
        for &user in &supervisors {
            store::notifications::notify(
                &txn,
                store::notifications::Recipient::User(user),
                "complaint.overdue",
                format!(
                    "投诉 #{} 已超过答复期限（{due}）仍未答复。 / Complaint #{} is past its deadline ({due}) without an answer.",
                    c.id, c.id
                ),
                Some(format!("/complaints/{}", c.id)),
            )
            .await?;
        }
        txn.commit().await?;
        told += 1;
    }
    if told > 0 {
        tracing::info!(told, "supervisors told of overdue complaints");
    }
    Ok(told)
}

/// Replays the invocation a complaint names, for those who handle or
/// supervise it (the app's ISV, the order's department, supervisors): not
/// the citizen, who has their answer, and not an admin. Audited.
pub async fn replay(
    services: &Services,
    actor: &Actor,
    id: i64,
) -> ServiceResult<crate::replay::ReplayReport> {
    let user = actor.require(&[Role::Isv, Role::Department, Role::Supervisor])?;
    let c = visible(services, user, id).await?;
    let invocation = c
        .invocation_id
        .ok_or(ServiceError::NotFound(Thing::Invocation))?;
    crate::replay::replay_for_complaint(services, actor, id, invocation).await
}

/// One complaint the actor may see, with what they may do with it.
pub async fn detail(services: &Services, actor: &Actor, id: i64) -> ServiceResult<ComplaintDetail> {
    let user = actor.require(&Role::ALL)?;
    let c = visible(services, user, id).await?;
    let status = c.status.parse::<ComplaintStatus>().ok();
    // `visible` already limited an ISV or department to what concerns it.
    let can_answer =
        status == Some(ComplaintStatus::Open) && matches!(user.role, Role::Isv | Role::Department);
    let can_resolve = status == Some(ComplaintStatus::Answered)
        && user.role == Role::Citizen
        && c.citizen_id == user.id;
    let can_replay = c.invocation_id.is_some()
        && matches!(user.role, Role::Isv | Role::Department | Role::Supervisor);
    Ok(ComplaintDetail {
        complaint: ComplaintView::of(c, store::now()),
        can_answer,
        can_resolve,
        can_replay,
    })
}

/// Answer a complaint about the actor's app (ISV) or order (department).
pub async fn answer(
    services: &Services,
    actor: &Actor,
    id: i64,
    text: String,
) -> ServiceResult<ComplaintView> {
    let user = actor.require(&[Role::Isv, Role::Department])?;
    let c = visible(services, user, id).await?;
    let text = required_text("answer", text, "err.complaint.answer_required")?;
    if c.status != ComplaintStatus::Open.as_str() {
        return Err(ServiceError::conflict(
            "invalid_transition",
            Msg::new("err.complaint.not_open"),
        ));
    }
    let now = store::now();
    let txn = services.db.begin_write().await?;
    // A reopened complaint's next answer replaces this one: the audit log
    // keeps each (the start of it, enough to tell them apart).
    let gist: String = text.chars().take(200).collect();
    let saved = store::complaints::answer(&txn, c.id, user.id, text, now)
        .await
        .map_err(|e| moved(e, "err.complaint.answered_meanwhile"))?;
    store::notifications::notify(
        &txn,
        store::notifications::Recipient::User(saved.citizen_id),
        "complaint.answered",
        "您的投诉已收到答复，请确认是否解决。 / Your complaint was answered; tell us whether it is resolved."
            .into(),
        Some(format!("/complaints/{}", saved.id)),
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            "complaint.answer",
            "complaint",
            c.id,
            format!("答复投诉 {}：{gist}", c.id),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ComplaintView::of(saved, now))
}

/// The citizen accepts the answer to their complaint, rating its handling.
pub async fn resolve(
    services: &Services,
    actor: &Actor,
    id: i64,
    stars: i64,
) -> ServiceResult<ComplaintView> {
    let user = actor.require(&[Role::Citizen])?;
    let c = visible(services, user, id).await?;
    let stars = stars_field(stars)?;
    let now = store::now();
    let txn = services.db.begin_write().await?;
    let saved = store::complaints::resolve(&txn, c.id, stars.get(), now)
        .await
        .map_err(|e| moved(e, "err.complaint.resolve_needs_answer"))?;
    store::audit::append(
        &txn,
        actor.audit(
            "complaint.resolve",
            "complaint",
            c.id,
            format!("投诉 {} 办结，评 {} 星", c.id, stars.get()),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ComplaintView::of(saved, now))
}

/// Not satisfied with the answer, the citizen reopens their complaint, with
/// a new deadline; those who answered hear that it is back.
pub async fn reopen(services: &Services, actor: &Actor, id: i64) -> ServiceResult<ComplaintView> {
    let user = actor.require(&[Role::Citizen])?;
    let c = visible(services, user, id).await?;
    let now = store::now();
    let txn = services.db.begin_write().await?;
    let saved = store::complaints::reopen(&txn, c.id, deadline_from(services, now))
        .await
        .map_err(|e| moved(e, "err.complaint.reopen_needs_answer"))?;
    let order = match saved.order_id {
        Some(o) => store::complaints::order(&txn, o).await?,
        None => None,
    }
    .ok_or_else(|| {
        ServiceError::internal(anyhow::anyhow!("complaint {} has no order", saved.id))
    })?;
    let app = match saved.app_id {
        Some(a) => store::complaints::app(&txn, a).await?,
        None => None,
    };
    tell_answerers(
        services,
        &txn,
        &saved,
        &order,
        app.as_ref(),
        Waiting::Reopened,
    )
    .await?;
    store::audit::append(
        &txn,
        actor.audit(
            "complaint.reopen",
            "complaint",
            c.id,
            format!("投诉 {} 重新打开", c.id),
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(ComplaintView::of(saved, now))
}
