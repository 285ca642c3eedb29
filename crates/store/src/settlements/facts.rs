//! Facts: every input of a period's formula, counted in the database.

use chrono::{DateTime, Utc};
use domain::Period;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::StoreError;

/// An order settled in P: open at some point during it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub id: i64,
    pub title: String,
    pub budget_fen: i64,
}

/// One app's inputs for P, as counted by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppFacts {
    pub app_id: i64,
    pub order_id: i64,
    pub isv_org_id: i64,
    pub name: String,
    /// U
    pub users: u64,
    /// n, as the ratings stood at the end of P.
    pub ratings: u64,
    pub sum_stars: u64,
    /// First publication of any version; `None` if never published.
    pub first_published_at: Option<DateTime<Utc>>,
    pub published_in_period: bool,
    /// Suspended by a supervisor from the start of P to its end (read from
    /// the suspension intervals; U already leaves out usage while suspended).
    pub suspended_for_fraud: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub orders: Vec<OrderFacts>,
    /// Apps of those orders that were published in P or used in P,
    /// sorted by app id.
    pub apps: Vec<AppFacts>,
}

/// Binds `$1, $2 …` placeholders for either backend (SQLite spells them
/// `?1, ?2 …`).
fn stmt(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        sql.to_owned()
    } else {
        sql.replace('$', "?")
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// Distinct citizens per app with a successful, valid invocation in the
/// period: the U of the formula, and the benchmark's baseline shape.
pub async fn distinct_users<C: ConnectionTrait>(
    conn: &C,
    period: Period,
) -> Result<Vec<(i64, i64)>, StoreError> {
    // The predicate matches idx_invocations_settle's exactly, so both
    // planners can use the partial index.
    let rows = conn
        .query_all_raw(stmt(
            conn.get_database_backend(),
            "SELECT app_id, CAST(COUNT(DISTINCT citizen_id) AS BIGINT) AS users \
             FROM invocations WHERE period = $1 AND success AND NOT invalid GROUP BY app_id",
            vec![period.to_string().into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "app_id")?,
                r.try_get::<i64>("", "users")?,
            ))
        })
        .collect()
}

/// Ratings per app as they stood at `end`: the latest history entry of
/// each rating recorded before `end` (ties on the instant go to the later
/// entry), unless that state was hidden by a supervisor. A rating with no
/// history at all counts with its current state if it was created before
/// `end`.
///
/// "Latest" is `LEAD(id) … IS NULL` over the ascending order of
/// `idx_rating_history_latest`, so both planners read that covering index
/// once, in order, with no sort (a `ROW_NUMBER() … DESC` sorted every
/// history row and cost more than counting the users on SQLite).
pub async fn ratings_at<C: ConnectionTrait>(
    conn: &C,
    end: DateTime<Utc>,
) -> Result<Vec<(i64, i64, i64)>, StoreError> {
    let sql = "SELECT app_id, CAST(COUNT(*) AS BIGINT) AS n, \
                      CAST(COALESCE(SUM(stars), 0) AS BIGINT) AS sum_stars FROM ( \
                 SELECT app_id, stars, hidden, \
                        LEAD(id) OVER (PARTITION BY rating_id ORDER BY recorded_at, id) AS later \
                   FROM rating_history WHERE recorded_at < $1 \
                 UNION ALL \
                 SELECT r.app_id, r.stars, r.hidden, NULL \
                   FROM ratings r WHERE r.created_at < $1 AND NOT EXISTS \
                     (SELECT 1 FROM rating_history h WHERE h.rating_id = r.id) \
               ) t WHERE later IS NULL AND NOT hidden GROUP BY app_id";
    let rows = conn
        .query_all_raw(stmt(conn.get_database_backend(), sql, vec![end.into()]))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get::<i64>("", "app_id")?,
                r.try_get::<i64>("", "n")?,
                r.try_get::<i64>("", "sum_stars")?,
            ))
        })
        .collect()
}

/// U of the apps that were suspended during P, counting only invocations
/// made outside their suspension intervals: an app earns nothing for the
/// time it was suspended (a use recorded then, e.g. by a node that had not
/// yet seen the suspension, does not count). Scoped to these apps so the
/// common case keeps the covering-index count of [`distinct_users`].
async fn users_outside_suspensions<C: ConnectionTrait>(
    conn: &C,
    period: Period,
    app_ids: &[i64],
) -> Result<Vec<(i64, i64)>, StoreError> {
    let mut out = Vec::with_capacity(app_ids.len());
    for &app_id in app_ids {
        let row = conn
            .query_one_raw(stmt(
                conn.get_database_backend(),
                "SELECT CAST(COUNT(DISTINCT i.citizen_id) AS BIGINT) AS users \
                 FROM invocations i WHERE i.app_id = $1 AND i.period = $2 \
                   AND i.success AND NOT i.invalid AND NOT EXISTS ( \
                     SELECT 1 FROM app_suspensions s WHERE s.app_id = i.app_id \
                        AND i.occurred_at >= s.suspended_at \
                        AND (s.reinstated_at IS NULL OR i.occurred_at < s.reinstated_at))",
                vec![app_id.into(), period.to_string().into()],
            ))
            .await?;
        let users = match row {
            Some(r) => r.try_get::<i64>("", "users")?,
            None => 0,
        };
        out.push((app_id, users));
    }
    Ok(out)
}

/// Every input of period P's settlement. `start`/`end` bound P (end
/// exclusive) in UTC.
pub async fn aggregate<C: ConnectionTrait>(
    conn: &C,
    period: Period,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Facts, StoreError> {
    let backend = conn.get_database_backend();
    let order_rows = conn
        .query_all_raw(stmt(
            backend,
            "SELECT id, title, budget_fen FROM orders \
             WHERE status IN ('open', 'closed') AND published_at IS NOT NULL \
               AND published_at < $2 AND (closed_at IS NULL OR closed_at >= $1) \
             ORDER BY id",
            vec![start.into(), end.into()],
        ))
        .await?;
    let mut orders = Vec::with_capacity(order_rows.len());
    for r in &order_rows {
        orders.push(OrderFacts {
            id: r.try_get("", "id")?,
            title: r.try_get("", "title")?,
            budget_fen: r.try_get("", "budget_fen")?,
        });
    }
    let order_ids: std::collections::BTreeSet<i64> = orders.iter().map(|o| o.id).collect();

    // Per app: first publication and whether a version was live during P
    // (a version delisted by a regression run stops being live; that is no
    // suspension of the app).
    let app_rows = conn
        .query_all_raw(stmt(
            backend,
            "SELECT a.id, a.order_id, a.isv_org_id, a.name, \
                    MIN(v.published_at) AS first_published, \
                    CAST(MAX(CASE WHEN v.published_at IS NOT NULL AND v.published_at < $2 \
                          AND (v.superseded_at IS NULL OR v.superseded_at >= $1) \
                          AND (v.withdrawn_at IS NULL OR v.withdrawn_at >= $1) \
                          AND (v.suspended_at IS NULL OR v.suspended_at >= $1) \
                         THEN 1 ELSE 0 END) AS BIGINT) AS live \
             FROM apps a LEFT JOIN versions v ON v.app_id = a.id \
             GROUP BY a.id, a.order_id, a.isv_org_id, a.name \
             ORDER BY a.id",
            vec![start.into(), end.into()],
        ))
        .await?;
    let mut users: std::collections::HashMap<i64, i64> =
        distinct_users(conn, period).await?.into_iter().collect();
    // Suspensions by a supervisor (the app's own status, never words in a
    // reason): usage while suspended is not counted, and an app suspended
    // for the whole of P is ineligible as such.
    let suspensions = crate::suspensions::overlapping(conn, start, end).await?;
    let mut suspended_apps: Vec<i64> = suspensions.iter().map(|s| s.0).collect();
    suspended_apps.dedup();
    for (app_id, u) in users_outside_suspensions(conn, period, &suspended_apps).await? {
        users.insert(app_id, u);
    }
    let suspended_throughout: std::collections::HashSet<i64> = suspensions
        .iter()
        .filter(|(_, from, until)| *from <= start && until.is_none_or(|t| t >= end))
        .map(|s| s.0)
        .collect();
    let ratings: std::collections::HashMap<i64, (i64, i64)> = ratings_at(conn, end)
        .await?
        .into_iter()
        .map(|(app, n, s)| (app, (n, s)))
        .collect();

    let mut apps = Vec::new();
    for r in &app_rows {
        let app_id: i64 = r.try_get("", "id")?;
        let order_id: i64 = r.try_get("", "order_id")?;
        if !order_ids.contains(&order_id) {
            continue;
        }
        let u = users.get(&app_id).copied().unwrap_or(0);
        let live = r.try_get::<Option<i64>>("", "live")?.unwrap_or(0) == 1;
        if u == 0 && !live {
            continue;
        }
        let (n, sum) = ratings.get(&app_id).copied().unwrap_or((0, 0));
        apps.push(AppFacts {
            app_id,
            order_id,
            isv_org_id: r.try_get("", "isv_org_id")?,
            name: r.try_get("", "name")?,
            users: u64::try_from(u).unwrap_or(0),
            ratings: u64::try_from(n).unwrap_or(0),
            sum_stars: u64::try_from(sum).unwrap_or(0),
            first_published_at: r.try_get("", "first_published")?,
            published_in_period: live,
            suspended_for_fraud: suspended_throughout.contains(&app_id),
        });
    }
    Ok(Facts { orders, apps })
}
