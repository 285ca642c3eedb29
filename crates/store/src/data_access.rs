//! Reading the data access log (`invocation_queries`) for the people it is
//! about: a citizen's own invocations ("my data"), and an app's for the
//! supervisors.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::StoreError;
use crate::entity::{apps, invocation_queries, invocations};

/// One invocation with the app's name and its queries, in query order.
#[derive(Debug, Clone)]
pub struct AccessRow {
    pub invocation: invocations::Model,
    pub app_name: String,
    pub queries: Vec<invocation_queries::Model>,
}

/// The latest `limit` invocations made by citizen `citizen_id`, newest first,
/// each with its data accesses.
pub async fn for_citizen<C: ConnectionTrait>(
    conn: &C,
    citizen_id: i64,
    limit: u64,
) -> Result<Vec<AccessRow>, StoreError> {
    let invocations = invocations::Entity::find()
        .filter(invocations::Column::CitizenId.eq(citizen_id))
        .order_by_desc(invocations::Column::OccurredAt)
        .order_by_desc(invocations::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let ids: Vec<i64> = invocations.iter().map(|i| i.id).collect();
    let mut app_ids: Vec<i64> = invocations.iter().map(|i| i.app_id).collect();
    app_ids.sort_unstable();
    app_ids.dedup();
    let names: std::collections::HashMap<i64, String> = apps::Entity::find()
        .filter(apps::Column::Id.is_in(app_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    let mut queries: std::collections::HashMap<i64, Vec<invocation_queries::Model>> =
        std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        for q in invocation_queries::Entity::find()
            .filter(invocation_queries::Column::InvocationId.is_in(chunk.to_vec()))
            .order_by_asc(invocation_queries::Column::InvocationId)
            .order_by_asc(invocation_queries::Column::Seq)
            .all(conn)
            .await?
        {
            queries.entry(q.invocation_id).or_default().push(q);
        }
    }
    Ok(invocations
        .into_iter()
        .map(|invocation| AccessRow {
            app_name: names.get(&invocation.app_id).cloned().unwrap_or_default(),
            queries: queries.remove(&invocation.id).unwrap_or_default(),
            invocation,
        })
        .collect())
}

/// Queries of one dataset made by an app's invocations.
#[derive(Debug, Clone, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct DatasetCount {
    pub dataset: String,
    pub queries: i64,
    pub refused: i64,
}

fn of_app(app_id: i64) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(invocations::Column::Id)
        .from(invocations::Entity)
        .and_where(invocations::Column::AppId.eq(app_id))
        .to_owned()
}

/// Query counts by dataset over every invocation of app `app_id`, by name.
pub async fn counts_for_app<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
) -> Result<Vec<DatasetCount>, StoreError> {
    use sea_orm::sea_query::Expr;
    Ok(invocation_queries::Entity::find()
        .select_only()
        .column(invocation_queries::Column::Dataset)
        .column_as(invocation_queries::Column::Id.count(), "queries")
        .column_as(
            Expr::cust("SUM(CASE WHEN refused THEN 1 ELSE 0 END)"),
            "refused",
        )
        .filter(invocation_queries::Column::InvocationId.in_subquery(of_app(app_id)))
        .group_by(invocation_queries::Column::Dataset)
        .order_by_asc(invocation_queries::Column::Dataset)
        .into_model::<DatasetCount>()
        .all(conn)
        .await?)
}

/// The latest `limit` refused queries of app `app_id`, newest first.
pub async fn refused_for_app<C: ConnectionTrait>(
    conn: &C,
    app_id: i64,
    limit: u64,
) -> Result<Vec<invocation_queries::Model>, StoreError> {
    Ok(invocation_queries::Entity::find()
        .filter(invocation_queries::Column::Refused.eq(true))
        .filter(invocation_queries::Column::InvocationId.in_subquery(of_app(app_id)))
        .order_by_desc(invocation_queries::Column::Id)
        .limit(limit)
        .all(conn)
        .await?)
}
