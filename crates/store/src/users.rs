//! Users: accounts of every role, and atomic self-registration.

use chrono::{DateTime, Utc};
use domain::Role;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionSession, TransactionTrait,
};
use serde::Serialize;

use crate::StoreError;
use crate::entity::users;
use crate::orgs::{self, Org, OrgKind};

/// What it takes to create a user. `email` should already be normalised
/// (trimmed, lower-cased: `domain::Email`); uniqueness is exact.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    /// A PHC string (argon2); the store never sees a password.
    pub password_hash: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: Option<i64>,
    /// A citizen's resident ID number (居民身份证号码).
    pub id_number: Option<String>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("password_hash", &"<redacted>")
            .field("display_name", &self.display_name)
            .field("role", &self.role)
            .field("org_id", &self.org_id)
            .field("id_number", &self.id_number.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A user without credentials: safe to log and to hand to templates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: Option<i64>,
    pub id_number: Option<String>,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
}

/// A user with the password hash, for login only.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

fn split(m: users::Model) -> Result<Credentials, StoreError> {
    let role = m
        .role
        .parse::<Role>()
        .map_err(|e| StoreError::Corrupt(format!("user {}: {e}", m.id)))?;
    Ok(Credentials {
        user: User {
            id: m.id,
            email: m.email,
            display_name: m.display_name,
            role,
            org_id: m.org_id,
            id_number: m.id_number,
            created_at: m.created_at,
            disabled: m.disabled,
        },
        password_hash: m.password_hash,
    })
}

const UNIQUE_RULES: &[(&str, &str)] = &[("id_number", "id_number"), ("email", "email")];

/// Creates a user. A taken email is `Conflict { what: "email" }` and a taken
/// resident ID number `Conflict { what: "id_number" }`, detected by the
/// unique indexes (no racy pre-check); nothing is written then.
pub async fn create<C: ConnectionTrait>(conn: &C, new: NewUser) -> Result<User, StoreError> {
    let model = users::ActiveModel {
        email: Set(new.email),
        password_hash: Set(new.password_hash),
        display_name: Set(new.display_name),
        role: Set(new.role.as_str().to_owned()),
        org_id: Set(new.org_id),
        id_number: Set(new.id_number),
        created_at: Set(crate::now()),
        disabled: Set(false),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| StoreError::from_insert(e, UNIQUE_RULES))?;
    Ok(split(model)?.user)
}

/// The organisation to create with a registering user.
#[derive(Debug, Clone)]
pub struct NewOrg {
    pub kind: OrgKind,
    pub name: String,
    pub credit_code: Option<String>,
}

/// Creates an organisation and its first user in one transaction (a
/// savepoint when `conn` is already a transaction): if the user cannot be
/// created (e.g. `Conflict { what: "email" }`), the organisation is not
/// created either. `new.org_id` is ignored and set to the new organisation.
pub async fn register_with_org<C>(
    conn: &C,
    new: NewUser,
    org: NewOrg,
) -> Result<(User, Org), StoreError>
where
    C: ConnectionTrait + TransactionTrait,
{
    let txn = conn.begin().await?;
    let org = orgs::create(&txn, org.kind, &org.name, org.credit_code).await?;
    let user = create(
        &txn,
        NewUser {
            org_id: Some(org.id),
            ..new
        },
    )
    .await?;
    // An early return above drops `txn`, which rolls it back.
    txn.commit().await?;
    Ok((user, org))
}

pub async fn find_by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<User>, StoreError> {
    // Not `.one()`: that binds `LIMIT ?`, and SQLite recompiles a statement
    // whose bound LIMIT changes the plan on every run. This lookup runs on
    // every signed-in request, and a primary key finds one row anyway.
    users::Entity::find_by_id(id)
        .all(conn)
        .await?
        .into_iter()
        .next()
        .map(|m| split(m).map(|c| c.user))
        .transpose()
}

/// The ids of the enabled users of `role`.
pub async fn ids_with_role<C: ConnectionTrait>(
    conn: &C,
    role: Role,
) -> Result<Vec<i64>, StoreError> {
    use sea_orm::{QueryOrder, QuerySelect};
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Role.eq(role.as_str()))
        .filter(users::Column::Disabled.eq(false))
        .order_by_asc(users::Column::Id)
        .into_tuple()
        .all(conn)
        .await?)
}

pub async fn find_by_email<C: ConnectionTrait>(
    conn: &C,
    email: &str,
) -> Result<Option<User>, StoreError> {
    Ok(find_credentials(conn, email).await?.map(|c| c.user))
}

/// The user and password hash for `email`, for the login check.
pub async fn find_credentials<C: ConnectionTrait>(
    conn: &C,
    email: &str,
) -> Result<Option<Credentials>, StoreError> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email))
        .one(conn)
        .await?
        .map(split)
        .transpose()
}

pub async fn set_password_hash<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    password_hash: &str,
) -> Result<(), StoreError> {
    update_one(
        conn,
        id,
        users::Column::PasswordHash,
        Expr::value(password_hash),
    )
    .await
}

/// Disables (or re-enables) an account; disabled users cannot sign in.
pub async fn set_disabled<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    disabled: bool,
) -> Result<(), StoreError> {
    update_one(conn, id, users::Column::Disabled, Expr::value(disabled)).await
}

async fn update_one<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    column: users::Column,
    value: Expr,
) -> Result<(), StoreError> {
    let result = users::Entity::update_many()
        .col_expr(column, value)
        .filter(users::Column::Id.eq(id))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
