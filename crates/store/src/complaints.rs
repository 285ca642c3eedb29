//! Complaints: a citizen's complaint about an app or an order, answered by
//! whoever is responsible for it, then resolved (and the handling rated) or
//! reopened by the citizen. Moves are conditional updates on the status the
//! caller saw, so two answers racing cannot both land.

use chrono::{DateTime, Utc};
use domain::ComplaintStatus;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};

use crate::StoreError;
use std::collections::HashMap;

use crate::entity::{apps, complaints, orders};

/// What a citizen files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComplaint {
    pub citizen_id: i64,
    pub app_id: Option<i64>,
    pub order_id: Option<i64>,
    pub body: String,
    pub deadline: DateTime<Utc>,
    pub invocation_id: Option<i64>,
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    new: NewComplaint,
    now: DateTime<Utc>,
) -> Result<complaints::Model, StoreError> {
    Ok(complaints::ActiveModel {
        citizen_id: Set(new.citizen_id),
        app_id: Set(new.app_id),
        order_id: Set(new.order_id),
        body: Set(new.body),
        status: Set(ComplaintStatus::Open.as_str().to_owned()),
        deadline: Set(crate::truncate_to_micros(new.deadline)),
        created_at: Set(crate::truncate_to_micros(now)),
        invocation_id: Set(new.invocation_id),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

pub async fn find<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<complaints::Model>, StoreError> {
    Ok(complaints::Entity::find()
        .filter(complaints::Column::Id.eq(id))
        .all(conn)
        .await?
        .into_iter()
        .next())
}

/// Whose complaints a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Everyone's (supervisors).
    All,
    Citizen(i64),
    /// About these apps or these orders (an ISV's apps; a department's
    /// orders and the apps competing in them).
    Concerning {
        apps: Vec<i64>,
        orders: Vec<i64>,
    },
}

/// A page of complaints, newest first, after the cursor id when given.
/// `overdue_at`: only those still open past their deadline at that instant.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    scope: &Scope,
    status: Option<ComplaintStatus>,
    overdue_at: Option<DateTime<Utc>>,
    before_id: Option<i64>,
    limit: u64,
) -> Result<Vec<complaints::Model>, StoreError> {
    let mut q = complaints::Entity::find();
    match scope {
        Scope::All => {}
        Scope::Citizen(id) => q = q.filter(complaints::Column::CitizenId.eq(*id)),
        Scope::Concerning { apps, orders } => {
            if apps.is_empty() && orders.is_empty() {
                return Ok(Vec::new());
            }
            q = q.filter(
                Condition::any()
                    .add(complaints::Column::AppId.is_in(apps.iter().copied()))
                    .add(complaints::Column::OrderId.is_in(orders.iter().copied())),
            );
        }
    }
    if let Some(s) = status {
        q = q.filter(complaints::Column::Status.eq(s.as_str()));
    }
    if let Some(at) = overdue_at {
        q = q
            .filter(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
            .filter(complaints::Column::Deadline.lt(at));
    }
    if let Some(before) = before_id {
        q = q.filter(complaints::Column::Id.lt(before));
    }
    Ok(q.order_by_desc(complaints::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}

/// Moves the complaint from `from` to `to` with the given column changes,
/// only if it is still in `from`. `Conflict { what: "status" }` when it is
/// not (someone else moved it first), `NotFound` when there is no such
/// complaint.
async fn move_status<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    from: ComplaintStatus,
    to: ComplaintStatus,
    changes: Vec<(complaints::Column, sea_orm::Value)>,
) -> Result<complaints::Model, StoreError> {
    debug_assert!(from.can_move_to(to));
    let mut update = complaints::Entity::update_many()
        .col_expr(complaints::Column::Status, Expr::value(to.as_str()))
        .filter(complaints::Column::Id.eq(id))
        .filter(complaints::Column::Status.eq(from.as_str()));
    for (col, value) in changes {
        update = update.col_expr(col, Expr::value(value));
    }
    let done = update.exec(conn).await?;
    let model = find(conn, id).await?.ok_or(StoreError::NotFound)?;
    if done.rows_affected == 0 {
        return Err(StoreError::Conflict { what: "status" });
    }
    Ok(model)
}

/// The responsible party's answer: `open -> answered`.
pub async fn answer<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    by: i64,
    text: String,
    now: DateTime<Utc>,
) -> Result<complaints::Model, StoreError> {
    let now = crate::truncate_to_micros(now);
    move_status(
        conn,
        id,
        ComplaintStatus::Open,
        ComplaintStatus::Answered,
        vec![
            (complaints::Column::Answer, text.into()),
            (complaints::Column::AnsweredBy, by.into()),
            (complaints::Column::AnsweredAt, now.into()),
        ],
    )
    .await
}

/// The citizen accepts the answer and rates the handling (1–5):
/// `answered -> resolved`.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    stars: u8,
    now: DateTime<Utc>,
) -> Result<complaints::Model, StoreError> {
    let now = crate::truncate_to_micros(now);
    move_status(
        conn,
        id,
        ComplaintStatus::Answered,
        ComplaintStatus::Resolved,
        vec![
            (complaints::Column::ResolvedAt, now.into()),
            (complaints::Column::ResolutionStars, i32::from(stars).into()),
        ],
    )
    .await
}

/// The citizen is not satisfied with the answer: `answered -> open`, with a
/// new deadline for a better one (the first answer stays on record in the
/// audit log).
pub async fn reopen<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    deadline: DateTime<Utc>,
) -> Result<complaints::Model, StoreError> {
    move_status(
        conn,
        id,
        ComplaintStatus::Answered,
        ComplaintStatus::Open,
        vec![
            (
                complaints::Column::Deadline,
                crate::truncate_to_micros(deadline).into(),
            ),
            // A new deadline: passing it is news again.
            (
                complaints::Column::OverdueNotifiedAt,
                Option::<DateTime<Utc>>::None.into(),
            ),
        ],
    )
    .await
}

/// Open complaints past their deadline whose supervisors have not been told.
pub async fn overdue_untold<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> Result<Vec<complaints::Model>, StoreError> {
    Ok(complaints::Entity::find()
        .filter(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
        .filter(complaints::Column::Deadline.lt(now))
        .filter(complaints::Column::OverdueNotifiedAt.is_null())
        .order_by_asc(complaints::Column::Id)
        .all(conn)
        .await?)
}

/// Claims the telling of complaint `id`'s overdue: true for exactly one
/// caller however many nodes race, false once it is claimed (or answered).
pub async fn claim_overdue_notice<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = complaints::Entity::update_many()
        .col_expr(
            complaints::Column::OverdueNotifiedAt,
            sea_orm::sea_query::Expr::value(crate::truncate_to_micros(now)),
        )
        .filter(complaints::Column::Id.eq(id))
        .filter(complaints::Column::Status.eq(ComplaintStatus::Open.as_str()))
        .filter(complaints::Column::OverdueNotifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(done.rows_affected == 1)
}

// ------------------------------------------------------------ subjects

/// The app a complaint is about.
pub async fn app<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<apps::Model>, StoreError> {
    Ok(apps::Entity::find_by_id(id).one(conn).await?)
}

/// The order a complaint is about (any status: the caller decides what a
/// draft means to its viewer).
pub async fn order<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<orders::Model>, StoreError> {
    Ok(orders::Entity::find_by_id(id).one(conn).await?)
}

/// The names of these apps, by id.
pub async fn app_names<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    labels_by_id::<_, apps::Entity>(conn, apps::Column::Id, apps::Column::Name, ids).await
}

/// The titles of these orders, by id (the titles only: an order row also
/// carries its contract).
pub async fn order_titles<C: ConnectionTrait>(
    conn: &C,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    labels_by_id::<_, orders::Entity>(conn, orders::Column::Id, orders::Column::Title, ids).await
}

/// One text column of these rows, by id: a list page's labels without
/// loading whole rows.
async fn labels_by_id<C: ConnectionTrait, E: EntityTrait>(
    conn: &C,
    id: E::Column,
    label: E::Column,
    ids: Vec<i64>,
) -> Result<HashMap<i64, String>, StoreError> {
    Ok(E::find()
        .select_only()
        .columns([id, label])
        .filter(id.is_in(ids))
        .into_tuple::<(i64, String)>()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// The ids of an ISV's apps: the complaints it answers.
pub async fn apps_of_isv<C: ConnectionTrait>(conn: &C, org: i64) -> Result<Vec<i64>, StoreError> {
    Ok(apps::Entity::find()
        .select_only()
        .column(apps::Column::Id)
        .filter(apps::Column::IsvOrgId.eq(org))
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}

/// The ids of a department's orders: the complaints it answers (and so
/// those about every app competing in them).
pub async fn orders_of_department<C: ConnectionTrait>(
    conn: &C,
    org: i64,
) -> Result<Vec<i64>, StoreError> {
    Ok(orders::Entity::find()
        .select_only()
        .column(orders::Column::Id)
        .filter(orders::Column::DepartmentOrgId.eq(org))
        .into_tuple::<i64>()
        .all(conn)
        .await?)
}
