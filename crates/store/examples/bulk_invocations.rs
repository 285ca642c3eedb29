//! Measures `usage::load` throughput (COPY on PostgreSQL, multi-row INSERT on SQLite) on a fresh database.
//!
//! ```text
//! cargo run -p store --release --example bulk_invocations -- URL [ROWS]
//! URL: sqlite:///tmp/bulk.db?mode=rwc or postgres://…/db (migrated here)
//! ```

use std::time::Instant;

use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, EntityTrait};
use serde_json::json;
use store::entity::{apps, module_blobs, orders, users, versions};
use store::orgs::{self, OrgKind};
use store::usage::{self, NewInvocation};

/// Rows per `insert_bulk` call (one transaction each).
const BATCH: usize = 50_000;
const CITIZENS: i64 = 10_000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: bulk_invocations URL [ROWS]")?;
    let rows: usize = args
        .next()
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(200_000);

    let db = store::connect(&url).await?;
    store::migrate(&db).await?;
    let conn = db.conn();
    let t = store::now();
    let suffix = uuid_ish();
    let dept = orgs::create(conn, OrgKind::Department, &format!("dept-{suffix}"), None).await?;
    let isv = orgs::create(conn, OrgKind::Isv, &format!("isv-{suffix}"), None).await?;
    let order = orders::ActiveModel {
        department_org_id: Set(dept.id),
        created_by: Set(None),
        title: Set("bench".into()),
        description: Set(String::new()),
        category: Set("bench".into()),
        tags: Set(json!([])),
        budget_fen: Set(0),
        deadline: Set(None),
        status: Set("open".into()),
        contract: Set(json!({})),
        pass_threshold_bp: Set(10_000),
        created_at: Set(t),
        updated_at: Set(t),
        published_at: Set(None),
        closed_at: Set(None),
        suite_revision: Set(0),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let sha = format!("{suffix:0>64}");
    module_blobs::ActiveModel {
        sha256: Set(sha.clone()),
        size_bytes: Set(0),
        bytes: Set(vec![]),
        created_at: Set(t),
    }
    .insert(conn)
    .await?;
    let app = apps::ActiveModel {
        order_id: Set(order.id),
        isv_org_id: Set(isv.id),
        name: Set("bench".into()),
        status: Set("active".into()),
        status_reason: Set(None),
        created_at: Set(t),
        updated_at: Set(t),
        suspended_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let version = versions::ActiveModel {
        app_id: Set(app.id),
        number: Set(1),
        sha256: Set(sha),
        size_bytes: Set(0),
        release_notes: Set(String::new()),
        status: Set("published".into()),
        test_score_bp: Set(None),
        uploaded_by: Set(None),
        created_at: Set(t),
        published_at: Set(Some(t)),
        superseded_at: Set(None),
        withdrawn_at: Set(None),
        suspended_at: Set(None),
        status_reason: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let mut citizen_ids = Vec::new();
    for chunk in (0..CITIZENS).collect::<Vec<_>>().chunks(2_000) {
        let first = users::Entity::insert_many(chunk.iter().map(|n| users::ActiveModel {
            email: Set(format!("c{n}-{suffix}@bench.example")),
            password_hash: Set(String::new()),
            display_name: Set(format!("c{n}")),
            role: Set("citizen".into()),
            org_id: Set(None),
            id_number: Set(None),
            created_at: Set(t),
            disabled: Set(false),
            ..Default::default()
        }))
        .exec(conn)
        .await?;
        let last = first.last_insert_id.ok_or("no ids returned")?;
        citizen_ids.extend(last + 1 - chunk.len() as i64..=last);
    }

    let started = Instant::now();
    let mut written = 0;
    while written < rows as u64 {
        let n = BATCH.min(rows - written as usize);
        let events = (0..n)
            .map(|i| {
                let seq = written as usize + i;
                NewInvocation {
                    app_id: app.id,
                    version_id: version.id,
                    citizen_id: citizen_ids[seq % citizen_ids.len()],
                    occurred_at: t,
                    period: "2026Q4".into(),
                    verdict: "accepted".into(),
                    success: true,
                    instructions: 40_000 + seq as i64 % 997,
                    latency_us: 800,
                    idempotency_key: Some(format!("{suffix}-{seq}")),
                }
            })
            .collect();
        written += usage::load(&db, events).await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} rows in {secs:.2} s: {:.0} rows/s ({:?})",
        written,
        written as f64 / secs,
        db.backend()
    );
    Ok(())
}

/// Distinguishes runs against the same database without another dependency.
fn uuid_ish() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{nanos:x}")
}
