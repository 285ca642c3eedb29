//! The demo quarter: simulated usage and ratings of 2026Q3 over the demo
//! apps, drawn from mock-data's deterministic generator.

use domain::Period;
use mock_data::rng::Rng;

use crate::error::ServiceResult;
use crate::services::Services;

/// The demo quarter: `serve --demo` settles 2026Q3 on first start.
pub const DEMO_PERIOD: &str = "2026Q3";
/// Citizens of the simulated quarter; each uses a few apps.
const DEMO_CITIZENS: u64 = 3000;

/// Seeds 2026Q3 of simulated usage and ratings over the demo apps (those
/// the orders and market seeders published), so finance can preview,
/// approve and pay a real settlement on first start. Deterministic and
/// idempotent: nothing happens if 2026Q3 already has usage or there are no
/// published apps. The demo orders and versions were published "now", so
/// their publication is moved to before the quarter (demo history only).
/// Returns the number of usage events written.
pub async fn seed_quarter(state: &Services) -> ServiceResult<u64> {
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use store::entity::{
        apps, invocations, orders, organisations, rating_history, ratings, users, versions,
    };

    let db = &state.db;
    let conn = db.conn();
    let already = invocations::Entity::find()
        .filter(invocations::Column::Period.eq(DEMO_PERIOD))
        .count(conn)
        .await?;
    if already > 0 {
        return Ok(0);
    }
    let published = versions::Entity::find()
        .filter(versions::Column::Status.eq("published"))
        .all(conn)
        .await?;
    if published.is_empty() {
        return Ok(0);
    }
    let tz = state.config.timezone;
    let period = Period::parse(DEMO_PERIOD).expect("the demo period is well formed");
    let start = period.start(tz);
    let before = start - chrono::Duration::days(7);
    let app_ids: Vec<i64> = published.iter().map(|v| v.app_id).collect();
    let app_rows = apps::Entity::find()
        .filter(apps::Column::Id.is_in(app_ids.clone()))
        .all(conn)
        .await?;
    let order_ids: Vec<i64> = app_rows.iter().map(|a| a.order_id).collect();
    let isv_ids: Vec<i64> = app_rows.iter().map(|a| a.isv_org_id).collect();

    let txn = db.begin_write().await?;
    // Demo history: the services were open and the apps listed before Q3.
    orders::Entity::update_many()
        .col_expr(
            orders::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(Some(before)),
        )
        .filter(orders::Column::Id.is_in(order_ids))
        .filter(orders::Column::PublishedAt.gt(before))
        .exec(&txn)
        .await?;
    versions::Entity::update_many()
        .col_expr(
            versions::Column::PublishedAt,
            sea_orm::sea_query::Expr::value(Some(before)),
        )
        .filter(versions::Column::Status.eq("published"))
        .filter(versions::Column::PublishedAt.gt(before))
        .exec(&txn)
        .await?;
    // Every demo ISV can be paid, except none: the settlement page shows a
    // held line only when an ISV really has no account.
    for isv in &isv_ids {
        organisations::Entity::update_many()
            .col_expr(
                organisations::Column::PayoutAccount,
                sea_orm::sea_query::Expr::value(Some(format!("acct_demo{isv}"))),
            )
            .filter(organisations::Column::Id.eq(*isv))
            .filter(organisations::Column::PayoutAccount.is_null())
            .exec(&txn)
            .await?;
    }
    // Citizens: bulk rows, no password (they cannot sign in; they exist to
    // have used the apps).
    let first_email = "quarter-citizen-0@demo.local";
    if users::Entity::find()
        .filter(users::Column::Email.eq(first_email))
        .count(&txn)
        .await?
        == 0
    {
        let rows: Vec<users::ActiveModel> = (0..DEMO_CITIZENS)
            .map(|i| users::ActiveModel {
                email: sea_orm::Set(format!("quarter-citizen-{i}@demo.local")),
                // Not a valid hash: the account cannot sign in.
                password_hash: sea_orm::Set("!demo-quarter".into()),
                display_name: sea_orm::Set(format!("演示市民{i}")),
                role: sea_orm::Set("citizen".into()),
                org_id: sea_orm::Set(None),
                id_number: sea_orm::Set(None),
                created_at: sea_orm::Set(before),
                disabled: sea_orm::Set(false),
                ..Default::default()
            })
            .collect();
        for chunk in rows.chunks(500) {
            users::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&txn)
                .await?;
        }
    }
    let citizens: Vec<i64> = users::Entity::find()
        .filter(users::Column::Email.like("quarter-citizen-%@demo.local"))
        .all(&txn)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    txn.commit().await?;

    // Each app has a popularity and a quality; each citizen uses 1 to 4
    // apps a few times over the quarter and rates some of them.
    let mut rng = Rng::new(0x5eed_2026_0003);
    let versions_by_app: std::collections::HashMap<i64, i64> =
        published.iter().map(|v| (v.app_id, v.id)).collect();
    let mut apps_sorted: Vec<i64> = versions_by_app.keys().copied().collect();
    apps_sorted.sort_unstable();
    let popularity: Vec<u64> = apps_sorted.iter().map(|_| 1 + rng.below(10)).collect();
    // An app's quality follows what the demo citizen already said of it
    // (the market seeder rates the careful apps above the basic ones), so
    // that the quarter's ratings tell the same story; an unrated app draws.
    let mut seeded: std::collections::HashMap<i64, (i64, i64)> = Default::default();
    for r in ratings::Entity::find()
        .filter(ratings::Column::AppId.is_in(apps_sorted.clone()))
        .all(conn)
        .await?
    {
        let e = seeded.entry(r.app_id).or_default();
        *e = (e.0 + i64::from(r.stars), e.1 + 1);
    }
    let quality: Vec<u64> = apps_sorted
        .iter()
        .map(|app_id| {
            let drawn = rng.below(3);
            match seeded.get(app_id) {
                Some(&(sum, n)) if sum >= 4 * n => 2,
                Some(&(sum, n)) if sum >= 3 * n => 1,
                Some(_) => 0,
                None => drawn,
            }
        })
        .collect();
    let total_pop: u64 = popularity.iter().sum();
    let quarter_secs = (period.end(tz) - start).num_seconds().max(1) as u64;
    let mut events = Vec::new();
    let mut rating_rows = Vec::new();
    for &citizen in &citizens {
        let mut used = std::collections::BTreeSet::new();
        for _ in 0..(1 + rng.below(4)) {
            let mut pick = rng.below(total_pop);
            let mut idx = 0;
            while pick >= popularity[idx] {
                pick -= popularity[idx];
                idx += 1;
            }
            used.insert(idx);
        }
        for idx in used {
            let app_id = apps_sorted[idx];
            for _ in 0..(1 + rng.below(3)) {
                let at = start + chrono::Duration::seconds(rng.below(quarter_secs) as i64);
                let success = rng.below(20) != 0;
                events.push(store::usage::NewInvocation {
                    app_id,
                    version_id: versions_by_app[&app_id],
                    citizen_id: citizen,
                    occurred_at: at,
                    period: DEMO_PERIOD.to_owned(),
                    verdict: if success { "accepted" } else { "runtime_error" }.into(),
                    success,
                    instructions: 50_000 + rng.below(50_000) as i64,
                    latency_us: 2_000 + rng.below(5_000) as i64,
                    idempotency_key: None,
                });
            }
            if rng.below(3) == 0 {
                // Quality 0 apps hover around 2 stars, 2 around 4.5.
                let stars = (1 + quality[idx] + rng.below(3)).min(5) as i32;
                let at = start + chrono::Duration::seconds(rng.below(quarter_secs) as i64);
                rating_rows.push((app_id, citizen, stars, at));
            }
        }
    }
    let written = store::usage::load(db, events).await?;
    let txn = db.begin_write().await?;
    for chunk in rating_rows.chunks(500) {
        let rows: Vec<ratings::ActiveModel> = chunk
            .iter()
            .map(|&(app_id, citizen, stars, at)| ratings::ActiveModel {
                app_id: sea_orm::Set(app_id),
                citizen_id: sea_orm::Set(citizen),
                stars: sea_orm::Set(stars),
                comment: sea_orm::Set(None),
                suggestion: sea_orm::Set(None),
                hidden: sea_orm::Set(false),
                created_at: sea_orm::Set(at),
                updated_at: sea_orm::Set(at),
                ..Default::default()
            })
            .collect();
        ratings::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    // History rows mirror the ratings (one state each), so settlement
    // reads the ratings "as they stood at the end of Q3".
    let stored = ratings::Entity::find()
        .filter(ratings::Column::CitizenId.is_in(citizens.clone()))
        .all(&txn)
        .await?;
    for chunk in stored.chunks(500) {
        let rows: Vec<rating_history::ActiveModel> = chunk
            .iter()
            .map(|r| rating_history::ActiveModel {
                rating_id: sea_orm::Set(r.id),
                app_id: sea_orm::Set(r.app_id),
                citizen_id: sea_orm::Set(r.citizen_id),
                stars: sea_orm::Set(r.stars),
                comment: sea_orm::Set(None),
                suggestion: sea_orm::Set(None),
                hidden: sea_orm::Set(false),
                recorded_at: sea_orm::Set(r.created_at),
                ..Default::default()
            })
            .collect();
        rating_history::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(written)
}
