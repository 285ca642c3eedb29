//! Organisations: departments and ISVs.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use serde::Serialize;

use crate::StoreError;
use crate::entity::organisations;

/// The two kinds of organisation a user can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    Department,
    Isv,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Department => "department",
            OrgKind::Isv => "isv",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown organisation kind `{0}`")]
pub struct UnknownOrgKind(pub String);

impl FromStr for OrgKind {
    type Err = UnknownOrgKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "department" => Ok(OrgKind::Department),
            "isv" => Ok(OrgKind::Isv),
            other => Err(UnknownOrgKind(other.to_owned())),
        }
    }
}

/// An organisation as the rest of the product sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Org {
    pub id: i64,
    pub kind: OrgKind,
    pub name: String,
    /// Unified social credit code (统一社会信用代码), when known.
    pub credit_code: Option<String>,
    /// Payout destination, e.g. a Stripe connected account `acct_…`.
    pub payout_account: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<organisations::Model> for Org {
    type Error = StoreError;
    fn try_from(m: organisations::Model) -> Result<Self, StoreError> {
        Ok(Org {
            id: m.id,
            kind: m
                .kind
                .parse()
                .map_err(|e: UnknownOrgKind| StoreError::Corrupt(e.to_string()))?,
            name: m.name,
            credit_code: m.credit_code,
            payout_account: m.payout_account,
            created_at: m.created_at,
        })
    }
}

/// Unique rules of `organisations`, for [`StoreError::from_insert`].
const UNIQUE_RULES: &[(&str, &str)] = &[
    ("credit_code", "credit_code"),
    ("name", "organisation name"),
];

/// Creates an organisation. A name or credit code already taken is
/// `Conflict { what: "organisation name" | "credit_code" }`.
pub async fn create<C: ConnectionTrait>(
    conn: &C,
    kind: OrgKind,
    name: &str,
    credit_code: Option<String>,
) -> Result<Org, StoreError> {
    let model = organisations::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        name: Set(name.to_owned()),
        credit_code: Set(credit_code),
        payout_account: Set(None),
        created_at: Set(crate::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| StoreError::from_insert(e, UNIQUE_RULES))?;
    model.try_into()
}

pub async fn find_by_id<C: ConnectionTrait>(conn: &C, id: i64) -> Result<Option<Org>, StoreError> {
    organisations::Entity::find_by_id(id)
        .one(conn)
        .await?
        .map(Org::try_from)
        .transpose()
}

pub async fn find_by_name<C: ConnectionTrait>(
    conn: &C,
    name: &str,
) -> Result<Option<Org>, StoreError> {
    organisations::Entity::find()
        .filter(organisations::Column::Name.eq(name))
        .one(conn)
        .await?
        .map(Org::try_from)
        .transpose()
}

/// Records where an ISV is paid (`None` clears it).
pub async fn set_payout_account<C: ConnectionTrait>(
    conn: &C,
    id: i64,
    account: Option<String>,
) -> Result<(), StoreError> {
    let result = organisations::Entity::update_many()
        .col_expr(
            organisations::Column::PayoutAccount,
            sea_orm::sea_query::Expr::value(account),
        )
        .filter(organisations::Column::Id.eq(id))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
