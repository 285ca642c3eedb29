//! Requirement orders, their test cases and clarification Q&A.
//!
//! Rules (who may do what, which status allows it) are the server's; these
//! functions only read and write, inside whatever transaction the caller holds.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::StoreError;
use crate::entity::{answers, orders, questions, test_cases};

/// What a department fills in for a new draft.
#[derive(Debug, Clone)]
pub struct NewOrder {
    pub department_org_id: i64,
    pub created_by: i64,
    pub title: String,
    pub description: String,
    pub category: String,
    pub tags: Vec<String>,
    pub budget_fen: i64,
    pub deadline: Option<DateTime<Utc>>,
    /// The contract as `contract.json` holds it (schemas, datasets, limits).
    pub contract: serde_json::Value,
    pub pass_threshold_bp: i32,
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    new: NewOrder,
) -> Result<orders::Model, StoreError> {
    let now = crate::now();
    Ok(orders::ActiveModel {
        department_org_id: Set(new.department_org_id),
        created_by: Set(Some(new.created_by)),
        title: Set(new.title),
        description: Set(new.description),
        category: Set(new.category),
        tags: Set(serde_json::json!(new.tags)),
        budget_fen: Set(new.budget_fen),
        deadline: Set(new.deadline.map(crate::truncate_to_micros)),
        status: Set(domain::OrderStatus::Draft.as_str().to_owned()),
        contract: Set(new.contract),
        pass_threshold_bp: Set(new.pass_threshold_bp),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        closed_at: Set(None),
        suite_revision: Set(0),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

pub async fn get<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<orders::Model>, StoreError> {
    Ok(orders::Entity::find_by_id(id).one(conn).await?)
}

/// An order anyone may see: any status but a draft (a draft is its
/// department's alone).
pub async fn published<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<orders::Model>, StoreError> {
    Ok(get(conn, id)
        .await?
        .filter(|o| !o.is(domain::OrderStatus::Draft)))
}

/// Reads an order for update: on PostgreSQL the row stays locked until the
/// caller's transaction ends, so two status changes cannot interleave.
pub async fn get_for_update<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<orders::Model>, StoreError> {
    let mut q = orders::Entity::find_by_id(id);
    if conn.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    Ok(q.one(conn).await?)
}

/// Which orders a listing shows.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    pub statuses: Vec<String>,
    /// Case-insensitive substring of the title, description or category.
    pub q: Option<String>,
    pub department_org_id: Option<i64>,
    /// Exactly this category.
    pub category: Option<String>,
    /// Orders with an id below this (the `next` of the previous page).
    pub before_id: Option<i64>,
    pub limit: u64,
}

/// Newest first; returns the page and the cursor of the next one.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &OrderFilter,
) -> Result<(Vec<orders::Model>, Option<i64>), StoreError> {
    let mut q = orders::Entity::find();
    if !filter.statuses.is_empty() {
        q = q.filter(orders::Column::Status.is_in(filter.statuses.clone()));
    }
    if let Some(org) = filter.department_org_id {
        q = q.filter(orders::Column::DepartmentOrgId.eq(org));
    }
    if let Some(category) = filter.category.as_deref().filter(|c| !c.is_empty()) {
        q = q.filter(orders::Column::Category.eq(category));
    }
    if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let pattern = format!("%{}%", escape_like(&text.to_lowercase()));
        let like = |col: orders::Column| {
            Expr::expr(Func::lower(Expr::col(col)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
        };
        q = q.filter(
            Condition::any()
                .add(like(orders::Column::Title))
                .add(like(orders::Column::Description))
                .add(like(orders::Column::Category)),
        );
    }
    if let Some(before) = filter.before_id {
        q = q.filter(orders::Column::Id.lt(before));
    }
    let limit = filter.limit.clamp(1, 200);
    let mut rows = q
        .order_by_desc(orders::Column::Id)
        .limit(limit + 1)
        .all(conn)
        .await?;
    let next = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|o| o.id)
    } else {
        None
    };
    Ok((rows, next))
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// A test case as the server stores it.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub case_id: String,
    pub description: String,
    pub input: serde_json::Value,
    pub subject: Option<String>,
    pub expect: serde_json::Value,
    pub visibility: String,
    pub weight: i32,
    /// The rule the case checks (a short label vendors see).
    pub rule: Option<String>,
}

/// The order's cases in the order they were added.
pub async fn cases<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Vec<test_cases::Model>, StoreError> {
    Ok(test_cases::Entity::find()
        .filter(test_cases::Column::OrderId.eq(order_id))
        .order_by_asc(test_cases::Column::Id)
        .all(conn)
        .await?)
}

pub async fn delete_cases<C: ConnectionTrait>(conn: &C, order_id: i64) -> Result<u64, StoreError> {
    Ok(test_cases::Entity::delete_many()
        .filter(test_cases::Column::OrderId.eq(order_id))
        .exec(conn)
        .await?
        .rows_affected)
}

pub async fn insert_cases<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    cases: Vec<NewCase>,
) -> Result<(), StoreError> {
    let now = crate::now();
    // Bounded batches: SQLite caps bound parameters per statement.
    let models: Vec<test_cases::ActiveModel> = cases
        .into_iter()
        .map(|c| test_cases::ActiveModel {
            order_id: Set(order_id),
            case_id: Set(c.case_id),
            description: Set(c.description),
            input: Set(c.input),
            subject: Set(c.subject),
            expect: Set(c.expect),
            visibility: Set(c.visibility),
            weight: Set(c.weight),
            rule: Set(c.rule),
            added_at: Set(now),
            ..Default::default()
        })
        .collect();
    for chunk in models.chunks(200) {
        test_cases::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await
            .map_err(|e| StoreError::from_insert(e, &[("case_id", "test case id")]))?;
    }
    Ok(())
}

/// A question with its answer, if any.
#[derive(Debug, Clone)]
pub struct QuestionWithAnswer {
    pub question: questions::Model,
    pub answer: Option<answers::Model>,
}

pub async fn ask<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
    asked_by: i64,
    body: String,
) -> Result<questions::Model, StoreError> {
    Ok(questions::ActiveModel {
        order_id: Set(order_id),
        asked_by: Set(asked_by),
        body: Set(body),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

pub async fn question<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<QuestionWithAnswer>, StoreError> {
    let Some(question) = questions::Entity::find_by_id(id).one(conn).await? else {
        return Ok(None);
    };
    let answer = answers::Entity::find()
        .filter(answers::Column::QuestionId.eq(id))
        .one(conn)
        .await?;
    Ok(Some(QuestionWithAnswer { question, answer }))
}

pub async fn answer<C: ConnectionTrait>(
    conn: &C,
    question_id: i64,
    answered_by: i64,
    body: String,
) -> Result<answers::Model, StoreError> {
    Ok(answers::ActiveModel {
        question_id: Set(question_id),
        answered_by: Set(answered_by),
        body: Set(body),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// The order's questions, oldest first, with their answers.
pub async fn questions<C: ConnectionTrait>(
    conn: &C,
    order_id: i64,
) -> Result<Vec<QuestionWithAnswer>, StoreError> {
    let qs = questions::Entity::find()
        .filter(questions::Column::OrderId.eq(order_id))
        .order_by_asc(questions::Column::Id)
        .all(conn)
        .await?;
    let ids: Vec<i64> = qs.iter().map(|q| q.id).collect();
    let mut answers = if ids.is_empty() {
        vec![]
    } else {
        answers::Entity::find()
            .filter(answers::Column::QuestionId.is_in(ids))
            .all(conn)
            .await?
    };
    Ok(qs
        .into_iter()
        .map(|question| {
            let answer = answers
                .iter()
                .position(|a| a.question_id == question.id)
                .map(|i| answers.swap_remove(i));
            QuestionWithAnswer { question, answer }
        })
        .collect())
}

/// Bumps an order's suite revision (a case added or a dataset replaced on
/// an open order) and returns the new one.
pub async fn bump_suite_revision<C: ConnectionTrait>(conn: &C, id: i64) -> Result<i32, StoreError> {
    orders::Entity::update_many()
        .filter(orders::Column::Id.eq(id))
        .col_expr(
            orders::Column::SuiteRevision,
            Expr::col(orders::Column::SuiteRevision).add(1),
        )
        .exec(conn)
        .await?;
    let order = orders::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(order.suite_revision)
}
