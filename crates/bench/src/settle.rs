//! `bench settle`: a full quarterly settlement (aggregation in the database,
//! the exact formula per order, rewards, statement lines stored) against its
//! own usage count alone, over the same data, on PostgreSQL and SQLite.
//!
//! The baseline is [`store::settlements::distinct_users`], the very query
//! the settlement runs for U: `SELECT app_id, COUNT(DISTINCT citizen_id) …
//! WHERE period = $1 AND success AND NOT invalid GROUP BY app_id`, with the
//! period bound as a parameter, so both read the same rows through the same
//! partial index (`idx_invocations_settle` on PostgreSQL, the covering
//! `idx_invocations_settle_cover` on SQLite). The ratio is what the rest of
//! a settlement costs on top of counting its users.
//!
//! Options: `--events N` (10 000 000), `--citizens N` (200 000), `--apps N`
//! (500), `--orders N` (50), `--repeat N` (3, best of). PostgreSQL runs when
//! `BENCH_DATABASE_URL` or `TEST_DATABASE_URL` names a server
//! (`postgres://…/postgres`; a fresh database is created and dropped).

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{DateTime, TimeZone, Utc};
use domain::{Period, SettlementParams};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait};
use store::entity::{
    apps, module_blobs, orders, organisations, rating_history, ratings, users, versions,
};
use store::usage::NewInvocation;

const PERIOD: &str = "2026Q3";
/// What the `GROUP BY` baseline does, printed with its numbers.
const BASELINE: &str = "the settlement's own U query (store::settlements::distinct_users): \
     COUNT(DISTINCT citizen_id) GROUP BY app_id WHERE period = $1 AND success AND NOT invalid, \
     bound parameter, same partial index as the settlement";
/// Events generated and loaded per batch: bounded memory at any size.
const BATCH: usize = 250_000;

struct Sizes {
    events: usize,
    citizens: usize,
    apps: usize,
    orders: usize,
    repeat: usize,
}

fn arg(args: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    match args.iter().position(|a| a == name) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .context("missing value")?
            .replace('_', "")
            .parse()
            .with_context(|| format!("{name} takes a number")),
    }
}

/// SplitMix64: deterministic data on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let sizes = Sizes {
        events: arg(args, "--events", 10_000_000)?,
        citizens: arg(args, "--citizens", 200_000)?,
        apps: arg(args, "--apps", 500)?,
        orders: arg(args, "--orders", 50)?,
        repeat: arg(args, "--repeat", 3)?.max(1),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        println!(
            "settle: {} events, {} citizens, {} apps, {} orders",
            sizes.events, sizes.citizens, sizes.apps, sizes.orders
        );
        let mut json = serde_json::json!({
            "benchmark": "settle",
            "groupby_baseline": BASELINE,
            "events": sizes.events,
            "citizens": sizes.citizens,
            "apps": sizes.apps,
            "orders": sizes.orders,
        });
        let pg_url = std::env::var("BENCH_DATABASE_URL")
            .or_else(|_| std::env::var("TEST_DATABASE_URL"))
            .ok();
        match pg_url {
            Some(url) => {
                let name = format!("bench_settle_{}", std::process::id());
                let admin = store::connect(&url).await?;
                admin
                    .conn()
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await?;
                let db_url = match url.rfind('/') {
                    Some(i) => format!("{}/{name}", &url[..i]),
                    None => anyhow::bail!("BENCH_DATABASE_URL has no database name"),
                };
                let result = bench_backend("PostgreSQL", &db_url, &sizes).await;
                let _ = admin
                    .conn()
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                let (settle, groupby) = result?;
                json["settle_pg_ms"] = ms(settle).into();
                json["groupby_pg_ms"] = ms(groupby).into();
                json["settle_vs_groupby_pg"] = ratio(settle, groupby).into();
            }
            None => {
                println!("PostgreSQL: skipped (set BENCH_DATABASE_URL=postgres://…/postgres)");
                json["settle_vs_groupby_pg"] = serde_json::Value::Null;
            }
        }
        let dir = tempfile::tempdir()?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        let (settle, groupby) = bench_backend("SQLite", &url, &sizes).await?;
        json["settle_sqlite_ms"] = ms(settle).into();
        json["groupby_sqlite_ms"] = ms(groupby).into();
        json["settle_vs_groupby_sqlite"] = ratio(settle, groupby).into();
        println!("{json}");
        Ok(())
    })
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

fn ratio(a: Duration, b: Duration) -> f64 {
    let r = a.as_secs_f64() / b.as_secs_f64().max(1e-9);
    (r * 100.0).round() / 100.0
}

fn shanghai(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(y, m, d, 0, 0, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Loads the data set, then times both queries (best of `repeat`).
async fn bench_backend(
    name: &str,
    url: &str,
    sizes: &Sizes,
) -> anyhow::Result<(Duration, Duration)> {
    let db = store::connect(url).await?;
    store::migrate(&db).await?;
    let t = Instant::now();
    let finance = load(&db, sizes).await?;
    println!("{name}: loaded in {:.1} s", t.elapsed().as_secs_f64());
    if db.backend() == sea_orm::DbBackend::Postgres {
        // Index-only scans need the visibility map; a production database
        // has autovacuum for that.
        db.conn().execute_unprepared("VACUUM ANALYZE").await?;
    } else {
        db.conn().execute_unprepared("ANALYZE").await?;
    }
    let period = Period::parse(PERIOD)?;
    let params = SettlementParams {
        reward_pool_fen: domain::Fen::from_fen(10_000_000),
        ..Default::default()
    };
    let finance = store::users::find_by_id(db.conn(), finance)
        .await?
        .context("the finance user just loaded")?;
    let actor = service::Actor::user(finance, None);
    let mut best_settle = Duration::MAX;
    let mut best_groupby = Duration::MAX;
    let mut lines = 0;
    println!("{name}: baseline: {BASELINE}");
    for _ in 0..sizes.repeat {
        let t = Instant::now();
        let rows = store::settlements::distinct_users(db.conn(), period).await?;
        best_groupby = best_groupby.min(t.elapsed());
        anyhow::ensure!(!rows.is_empty(), "the baseline found no usage");

        let t = Instant::now();
        let run =
            service::settlement::draft(&db, period, &params, Duration::ZERO, Utc::now(), &actor)
                .await
                .map_err(service::ServiceError::into_anyhow)?;
        best_settle = best_settle.min(t.elapsed());
        lines = run.line_count;
    }
    println!(
        "{name}: settlement {:.1} ms ({lines} lines) vs GROUP BY {:.1} ms: ratio {:.2}",
        ms(best_settle),
        ms(best_groupby),
        ratio(best_settle, best_groupby)
    );
    db.close().await?;
    Ok((best_settle, best_groupby))
}

/// The market: orders open through Q3, apps with published versions,
/// citizens, usage spread over Q2 and Q3, ratings with history. Returns
/// the finance user's id.
async fn load(db: &store::Db, sizes: &Sizes) -> anyhow::Result<i64> {
    let conn = db.conn();
    let t0 = shanghai(2026, 3, 1);
    let org = |kind: &str, name: String| organisations::ActiveModel {
        kind: Set(kind.into()),
        name: Set(name),
        credit_code: Set(None),
        payout_account: Set(None),
        created_at: Set(t0),
        ..Default::default()
    };
    let dept = org("department", "bench department".into())
        .insert(conn)
        .await?
        .id;
    let finance = users::ActiveModel {
        email: Set("bench-finance@bench.local".into()),
        password_hash: Set("!".into()),
        display_name: Set("finance".into()),
        role: Set("finance".into()),
        org_id: Set(None),
        id_number: Set(None),
        created_at: Set(t0),
        disabled: Set(false),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id;
    module_blobs::ActiveModel {
        sha256: Set("0".repeat(64)),
        size_bytes: Set(8),
        bytes: Set(b"\0asm\x01\0\0\0".to_vec()),
        created_at: Set(t0),
    }
    .insert(conn)
    .await?;
    let mut order_ids = Vec::new();
    for o in 0..sizes.orders {
        order_ids.push(
            orders::ActiveModel {
                department_org_id: Set(dept),
                created_by: Set(None),
                title: Set(format!("order {o}")),
                description: Set(String::new()),
                category: Set("bench".into()),
                tags: Set(serde_json::json!([])),
                budget_fen: Set(100_000_000 + o as i64),
                deadline: Set(None),
                status: Set("open".into()),
                contract: Set(serde_json::json!({})),
                pass_threshold_bp: Set(10_000),
                created_at: Set(t0),
                updated_at: Set(t0),
                published_at: Set(Some(t0)),
                closed_at: Set(None),
                suite_revision: Set(0),
                ..Default::default()
            }
            .insert(conn)
            .await?
            .id,
        );
    }
    let mut app_ids = Vec::new();
    let mut version_ids = Vec::new();
    for a in 0..sizes.apps {
        let isv = org("isv", format!("isv {a}")).insert(conn).await?.id;
        let app = apps::ActiveModel {
            order_id: Set(order_ids[a % order_ids.len().max(1)]),
            isv_org_id: Set(isv),
            name: Set(format!("app {a}")),
            status: Set("active".into()),
            status_reason: Set(None),
            created_at: Set(t0),
            updated_at: Set(t0),
            suspended_at: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .id;
        let version = versions::ActiveModel {
            app_id: Set(app),
            number: Set(1),
            sha256: Set("0".repeat(64)),
            size_bytes: Set(8),
            release_notes: Set(String::new()),
            status: Set("published".into()),
            test_score_bp: Set(Some(10_000)),
            uploaded_by: Set(None),
            created_at: Set(t0),
            published_at: Set(Some(t0)),
            superseded_at: Set(None),
            withdrawn_at: Set(None),
            suspended_at: Set(None),
            status_reason: Set(None),
            ..Default::default()
        }
        .insert(conn)
        .await?
        .id;
        app_ids.push(app);
        version_ids.push(version);
    }
    let mut citizen_ids = Vec::with_capacity(sizes.citizens);
    let mut pending = Vec::new();
    for c in 0..sizes.citizens {
        pending.push(users::ActiveModel {
            email: Set(format!("c{c}@bench.local")),
            password_hash: Set("!".into()),
            display_name: Set(format!("c{c}")),
            role: Set("citizen".into()),
            org_id: Set(None),
            id_number: Set(None),
            created_at: Set(t0),
            disabled: Set(false),
            ..Default::default()
        });
        if pending.len() == 1000 || c + 1 == sizes.citizens {
            users::Entity::insert_many(std::mem::take(&mut pending))
                .exec_without_returning(conn)
                .await?;
        }
    }
    // Ids are assigned in insertion order after the finance user.
    for c in 0..sizes.citizens {
        citizen_ids.push(finance + 1 + c as i64);
    }

    let q2 = shanghai(2026, 4, 1);
    let q3 = shanghai(2026, 7, 1);
    let q3_secs = (shanghai(2026, 10, 1) - q3).num_seconds() as u64;
    let q2_secs = (q3 - q2).num_seconds() as u64;
    let mut rng = Rng(0x5e77_1e00);
    let mut written = 0usize;
    while written < sizes.events {
        let n = BATCH.min(sizes.events - written);
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            // Skewed popularity: a few apps take much of the usage.
            let app_idx = {
                let a = rng.below(sizes.apps as u64);
                let b = rng.below(sizes.apps as u64);
                a.min(b) as usize
            };
            let in_q3 = rng.below(10) != 0;
            let at = if in_q3 {
                q3 + chrono::Duration::seconds(rng.below(q3_secs) as i64)
            } else {
                q2 + chrono::Duration::seconds(rng.below(q2_secs) as i64)
            };
            let success = rng.below(20) != 0;
            batch.push(NewInvocation {
                app_id: app_ids[app_idx],
                version_id: version_ids[app_idx],
                citizen_id: citizen_ids[rng.below(sizes.citizens as u64) as usize],
                occurred_at: at,
                period: if in_q3 { "2026Q3" } else { "2026Q2" }.into(),
                verdict: if success { "accepted" } else { "runtime_error" }.into(),
                success,
                instructions: 100_000,
                latency_us: 3_000,
                idempotency_key: None,
            });
        }
        written += store::usage::load(db, batch).await? as usize;
    }
    // Ratings: one per citizen for a random app, with one history entry.
    let mut pending = Vec::new();
    for (i, &c) in citizen_ids.iter().enumerate() {
        let app_idx = rng.below(sizes.apps as u64) as usize;
        let at = q3 + chrono::Duration::seconds(rng.below(q3_secs) as i64);
        pending.push(ratings::ActiveModel {
            app_id: Set(app_ids[app_idx]),
            citizen_id: Set(c),
            stars: Set(1 + rng.below(5) as i32),
            comment: Set(None),
            suggestion: Set(None),
            hidden: Set(false),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        });
        if pending.len() == 1000 || i + 1 == citizen_ids.len() {
            ratings::Entity::insert_many(std::mem::take(&mut pending))
                .exec_without_returning(conn)
                .await?;
        }
    }
    db.conn()
        .execute_unprepared(
            "INSERT INTO rating_history (rating_id, app_id, citizen_id, stars, comment, suggestion, hidden, recorded_at) \
             SELECT id, app_id, citizen_id, stars, comment, suggestion, hidden, created_at FROM ratings",
        )
        .await?;
    let _ = rating_history::Entity::find();
    Ok(finance)
}
