//! `bench invoke`: citizens' invocations of a published app over HTTP, the
//! full path (session token, rate limits, input validation against the
//! contract, the sandbox run with the order's datasets, the usage event
//! written to the database), against a bare authenticated JSON endpoint of
//! the same server (`GET /api/v1/me`: token check, user reload, JSON) in the
//! same run. Rounds alternate so both see the same machine.
//!
//! Options: `--seconds S` per round (default 4), `--concurrency C` (32),
//! `--rounds R` (3). 32 clients keep both cores of the reference machine
//! busy; with 16 the invoke path idles while it waits for the batched usage
//! writes, which measures latency rather than throughput.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::harness::{Harness, check, guest, read_json};

struct Options {
    seconds: u64,
    concurrency: usize,
    rounds: usize,
}

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let mut o = Options {
        seconds: 4,
        concurrency: 32,
        rounds: 3,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |what: &str| -> anyhow::Result<u64> {
            it.next()
                .with_context(|| format!("{what} needs a number"))?
                .parse()
                .with_context(|| format!("{what} needs a number"))
        };
        match a.as_str() {
            "--seconds" => o.seconds = num("--seconds")?.max(1),
            "--concurrency" => o.concurrency = usize::try_from(num("--concurrency")?)?.max(1),
            "--rounds" => o.rounds = usize::try_from(num("--rounds")?)?.max(1),
            other => bail!("unknown option {other}"),
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(bench(o))
}

/// What one round of one kind of request achieved.
struct Round {
    ok: u64,
    per_sec: f64,
    latencies_ms: Vec<f64>,
}

#[derive(Clone, Copy)]
enum Target {
    Bare,
    Invoke(i64),
}

async fn round(
    h: &Harness,
    tokens: &[String],
    target: Target,
    o: &Options,
) -> anyhow::Result<Round> {
    let deadline = Instant::now() + Duration::from_secs(o.seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..o.concurrency {
        let http = h.http.clone();
        let tokens = tokens.to_vec();
        let url = match target {
            Target::Bare => h.url("/api/v1/me"),
            Target::Invoke(app) => h.url(&format!("/api/v1/apps/{app}/invoke")),
        };
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = worker;
            while Instant::now() < deadline {
                let token = &tokens[i % tokens.len()];
                i += STEP;
                let t = Instant::now();
                let req = match target {
                    Target::Bare => http.get(&url),
                    Target::Invoke(_) => http.post(&url).json(&json!({"input": {"months": 12}})),
                };
                let resp = req.bearer_auth(token).send().await?;
                let status = resp.status();
                let body = resp.bytes().await?;
                if !status.is_success() {
                    bail!("{url}: {status} {}", String::from_utf8_lossy(&body));
                }
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut latencies_ms = Vec::new();
    for t in tasks {
        latencies_ms.extend(t.await??);
    }
    let elapsed = start.elapsed().as_secs_f64();
    let ok = latencies_ms.len() as u64;
    Ok(Round {
        ok,
        per_sec: ok as f64 / elapsed,
        latencies_ms,
    })
}

/// Workers step through the citizens (7 is prime to their number, 32) so
/// consecutive requests are other citizens'.
const STEP: usize = 7;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn percentile(xs: &mut [f64], p: f64) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let i = ((xs.len() as f64 - 1.0) * p).round() as usize;
    xs[i.min(xs.len() - 1)]
}

async fn bench(o: Options) -> anyhow::Result<()> {
    // The limits protect a public deployment from one client; a benchmark
    // from one address with a few citizens would only measure the 429s.
    let h = Harness::start(|s| {
        let wide = service::ratelimit::Rate {
            per_minute: 100_000_000,
            burst: 1_000_000,
        };
        s.rate_limits = service::ratelimit::RateLimits::new(wide, wide);
    })
    .await?;
    let dept = h
        .token("dept@bench.local", domain::Role::Department, None)
        .await?;
    let isv = h.token("isv@bench.local", domain::Role::Isv, None).await?;
    let cases = read_json("suites/social-insurance/cases.json")?;
    let cases = cases.as_array().context("cases.json is a list")?.clone();
    let order = h.open_si_order(&dept, &cases).await?;
    let wasm = std::fs::read(guest("wasm/si_lookup.wasm"))?;
    let workers = service::pipeline::spawn_workers(h.state.clone(), 1);
    let (app, vid) = h.upload(&isv, order, wasm).await?;
    let waited = Instant::now();
    loop {
        let p = check(
            h.http
                .get(h.url(&format!("/api/v1/versions/{vid}/progress")))
                .bearer_auth(&isv)
                .send()
                .await?,
            "progress",
        )
        .await?;
        if p["version_status"] == "passed" {
            break;
        }
        // The run's row may read finished a moment before the version's
        // status does: only a settled verdict other than passed is a failure.
        let settled = !matches!(p["version_status"].as_str(), Some("queued" | "testing"));
        if settled || waited.elapsed() > Duration::from_secs(120) {
            bail!("the example app should pass its suite: {p}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for w in workers {
        w.abort();
    }
    check(
        h.http
            .post(h.url(&format!("/api/v1/versions/{vid}/publish")))
            .bearer_auth(&isv)
            .send()
            .await?,
        "publish",
    )
    .await?;

    // Citizens: those the dataset knows (found: true) and others (found: false).
    let data = read_json("suites/social-insurance/datasets/social_insurance.json")?;
    let mut ids: Vec<String> = data
        .as_object()
        .context("dataset is an object")?
        .keys()
        .cloned()
        .collect();
    let birth = chrono::NaiveDate::from_ymd_opt(1985, 6, 1).context("date")?;
    for n in 0..26u16 {
        ids.push(
            domain::ResidentId::generate("330102", birth, n, n % 2 == 0)?
                .as_str()
                .to_owned(),
        );
    }
    let mut tokens = Vec::new();
    for (i, id) in ids.into_iter().enumerate() {
        tokens.push(
            h.token(
                &format!("citizen{i}@bench.local"),
                domain::Role::Citizen,
                Some(id),
            )
            .await?,
        );
    }

    // Warm both paths (compiled module cache, connection pool).
    let warm = Options {
        seconds: 1,
        concurrency: o.concurrency,
        rounds: 1,
    };
    let mut invoked = round(&h, &tokens, Target::Invoke(app), &warm).await?.ok;
    round(&h, &tokens, Target::Bare, &warm).await?;

    let mut bare = Vec::new();
    let mut invoke = Vec::new();
    for _ in 0..o.rounds {
        bare.push(round(&h, &tokens, Target::Bare, &o).await?);
        let r = round(&h, &tokens, Target::Invoke(app), &o).await?;
        invoked += r.ok;
        invoke.push(r);
    }

    // Every answered invocation is one usage event, already written.
    let events = store::entity::invocations::Entity::find()
        .count(h.state.db.conn())
        .await?;
    if events != invoked {
        bail!("{invoked} invocations answered but {events} usage events recorded");
    }

    let bare_rate = median(bare.iter().map(|r| r.per_sec).collect());
    let invoke_rate = median(invoke.iter().map(|r| r.per_sec).collect());
    let mut bare_lat: Vec<f64> = bare.into_iter().flat_map(|r| r.latencies_ms).collect();
    let mut invoke_lat: Vec<f64> = invoke.into_iter().flat_map(|r| r.latencies_ms).collect();
    let ratio = invoke_rate / bare_rate;
    let (b50, b95) = (
        percentile(&mut bare_lat, 0.5),
        percentile(&mut bare_lat, 0.95),
    );
    let (i50, i95) = (
        percentile(&mut invoke_lat, 0.5),
        percentile(&mut invoke_lat, 0.95),
    );
    println!(
        "bench invoke: {} concurrent clients, {} rounds of {} s each, {} citizens",
        o.concurrency,
        o.rounds,
        o.seconds,
        tokens.len()
    );
    println!(
        "  GET  /api/v1/me (baseline):  {bare_rate:>8.0} req/s  p50 {b50:.2} ms  p95 {b95:.2} ms"
    );
    println!(
        "  POST /api/v1/apps/{{id}}/invoke: {invoke_rate:>8.0} req/s  p50 {i50:.2} ms  p95 {i95:.2} ms"
    );
    println!("  usage events recorded: {events} (one per answered invocation)");
    println!("  invoke / bare: {ratio:.2} (goal >= 0.3)");
    println!(
        "{}",
        json!({
            "bench": "invoke",
            "concurrency": o.concurrency,
            "rounds": o.rounds,
            "seconds_per_round": o.seconds,
            "bare_per_sec": bare_rate,
            "invoke_per_sec": invoke_rate,
            "bare_p50_ms": b50,
            "bare_p95_ms": b95,
            "invoke_p50_ms": i50,
            "invoke_p95_ms": i95,
            "usage_events": events,
            "invoke_vs_bare": ratio,
        })
    );
    Ok(())
}
