//! `bench search`: query latency of the embedded search index over 100,000
//! generated orders and apps (Chinese and English text), against a SQL
//! `LIKE '%word%'` scan over the same rows in SQLite, in the same run.
//!
//! Options: `--docs N` (default 100000), `--queries N` (default 300).

use std::time::{Duration, Instant};

use anyhow::Context;
use search::{Document, Kind, Query, Search, TantivySearch};
use store::sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Words of Chinese government services, and their English counterparts.
const ZH: &[&str] = &[
    "社保",
    "公积金",
    "缴费",
    "证明",
    "查询",
    "交通",
    "违法",
    "罚款",
    "医保",
    "报销",
    "户籍",
    "迁移",
    "不动产",
    "登记",
    "营业执照",
    "企业",
    "税务",
    "发票",
    "养老",
    "退休",
    "生育",
    "津贴",
    "婚姻",
    "出生",
    "入学",
    "教育",
    "补贴",
    "失业",
    "就业",
    "培训",
    "驾驶证",
    "车辆",
    "年检",
    "护照",
    "签证",
    "居住证",
    "低保",
    "救助",
    "残疾",
    "住房",
    "贷款",
    "额度",
    "测算",
    "电子",
    "证照",
    "办理",
    "进度",
    "预约",
    "窗口",
    "材料",
];
const EN: &[&str] = &[
    "social",
    "insurance",
    "housing",
    "fund",
    "certificate",
    "traffic",
    "fine",
    "medical",
    "claim",
    "household",
    "property",
    "registration",
    "business",
    "licence",
    "tax",
    "invoice",
    "pension",
    "retirement",
    "maternity",
    "allowance",
    "marriage",
    "birth",
    "school",
    "subsidy",
    "unemployment",
    "training",
    "driving",
    "vehicle",
    "inspection",
    "passport",
    "residence",
    "welfare",
    "disability",
    "loan",
    "quota",
    "estimate",
    "appointment",
    "progress",
    "online",
    "service",
];
const CATEGORIES: &[&str] = &[
    "社会保障",
    "住房",
    "交通",
    "医疗",
    "户政",
    "市场监管",
    "税务",
    "教育",
];

/// A small deterministic generator (xorshift), so every run indexes the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
    fn words(&mut self, n: usize) -> String {
        let mut s = String::new();
        for i in 0..n {
            // Two thirds Chinese (no spaces between words, as written), one third English.
            if self.next().is_multiple_of(3) {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(self.pick(EN));
                s.push(' ');
            } else {
                s.push_str(self.pick(ZH));
            }
        }
        s
    }
}

fn generate(n: usize) -> Vec<Document> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let id = i as i64 + 1;
            let kind = if i % 2 == 0 { Kind::Order } else { Kind::App };
            Document {
                kind,
                id,
                order_id: if kind == Kind::Order { id } else { id - 1 },
                title: rng.words(3),
                description: rng.words(14),
                category: rng.pick(CATEGORIES).to_owned(),
                department: format!("市{}局", rng.pick(ZH)),
                isv: (kind == Kind::App).then(|| format!("{}科技有限公司", rng.pick(ZH))),
                tags: vec![rng.pick(ZH).to_owned(), rng.pick(EN).to_owned()],
                rating_floor: (kind == Kind::App).then(|| (rng.next() % 5 + 1) as u8),
            }
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn arg(rest: &[String], name: &str, default: usize) -> anyhow::Result<usize> {
    match rest.iter().position(|a| a == name) {
        Some(i) => rest
            .get(i + 1)
            .with_context(|| format!("{name} needs a value"))?
            .parse()
            .with_context(|| format!("{name} must be a number")),
        None => Ok(default),
    }
}

pub fn run(rest: &[String]) -> anyhow::Result<()> {
    let docs_n = arg(rest, "--docs", 100_000)?;
    let queries_n = arg(rest, "--queries", 300)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run_async(docs_n, queries_n))
}

async fn run_async(docs_n: usize, queries_n: usize) -> anyhow::Result<()> {
    let docs = generate(docs_n);
    let mut rng = Rng(42);
    // One- and two-word queries, Chinese and English, as citizens type them.
    let queries: Vec<String> = (0..queries_n)
        .map(|i| match i % 4 {
            0 => rng.pick(ZH).to_owned(),
            1 => rng.pick(EN).to_owned(),
            2 => format!("{}{}", rng.pick(ZH), rng.pick(ZH)),
            _ => format!("{} {}", rng.pick(ZH), rng.pick(EN)),
        })
        .collect();

    // The index.
    let dir = tempfile::tempdir()?;
    let index = TantivySearch::open(dir.path())?;
    let started = Instant::now();
    index.replace_all(docs.clone()).await?;
    println!(
        "indexed {docs_n} documents in {:.1} s (tantivy + jieba)",
        started.elapsed().as_secs_f64()
    );
    let mut index_times = Vec::with_capacity(queries.len());
    let mut hits_total = 0u64;
    for q in &queries {
        let t = Instant::now();
        let r = index.query_blocking(&Query {
            text: q.clone(),
            limit: 20,
            ..Query::default()
        })?;
        index_times.push(t.elapsed());
        hits_total += r.total;
    }
    index_times.sort();

    // The baseline: the same rows in SQLite, found with LIKE.
    let db = store::connect("sqlite::memory:").await?;
    let conn = db.conn();
    conn.execute_unprepared(
        "CREATE TABLE docs (id INTEGER PRIMARY KEY, kind TEXT, title TEXT, description TEXT, \
         category TEXT, department TEXT, isv TEXT, tags TEXT)",
    )
    .await?;
    let started = Instant::now();
    conn.execute_unprepared("BEGIN").await?;
    for chunk in docs.chunks(500) {
        let mut sql = String::from(
            "INSERT INTO docs (kind, title, description, category, department, isv, tags) VALUES ",
        );
        let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 7);
        for (i, d) in chunk.iter().enumerate() {
            sql.push_str(if i == 0 {
                "(?,?,?,?,?,?,?)"
            } else {
                ",(?,?,?,?,?,?,?)"
            });
            values.extend([
                d.kind.as_str().into(),
                d.title.clone().into(),
                d.description.clone().into(),
                d.category.clone().into(),
                d.department.clone().into(),
                d.isv.clone().unwrap_or_default().into(),
                d.tags.join(" ").into(),
            ]);
        }
        conn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
        .await?;
    }
    conn.execute_unprepared("COMMIT").await?;
    println!(
        "loaded the same rows into SQLite in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut like_times = Vec::with_capacity(queries.len());
    let mut like_hits = 0u64;
    for q in &queries {
        // Every word somewhere, as the index requires; case-insensitive for ASCII.
        let words: Vec<&str> = q.split_whitespace().collect();
        let mut sql = String::from("SELECT count(*) FROM docs WHERE 1=1");
        let mut values: Vec<Value> = vec![];
        for w in &words {
            sql.push_str(
                " AND (title LIKE ? OR description LIKE ? OR category LIKE ? OR department LIKE ? \
                 OR isv LIKE ? OR tags LIKE ?)",
            );
            for _ in 0..6 {
                values.push(format!("%{w}%").into());
            }
        }
        let t = Instant::now();
        let row = conn
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                sql,
                values,
            ))
            .await?;
        like_times.push(t.elapsed());
        if let Some(row) = row {
            like_hits += row.try_get_by_index::<i64>(0).unwrap_or(0) as u64;
        }
    }
    like_times.sort();

    let (p50, p95) = (
        percentile(&index_times, 0.5),
        percentile(&index_times, 0.95),
    );
    let (l50, l95) = (percentile(&like_times, 0.5), percentile(&like_times, 0.95));
    let ratio = ms(l95) / ms(p95).max(1e-9);
    println!(
        "search index: p50 {:.2} ms, p95 {:.2} ms over {queries_n} queries ({hits_total} matches)",
        ms(p50),
        ms(p95)
    );
    println!(
        "SQL LIKE scan: p50 {:.2} ms, p95 {:.2} ms ({like_hits} matches; substring matching finds more)",
        ms(l50),
        ms(l95)
    );
    println!(
        "index is {ratio:.0}x faster at p95 (goal: p95 <= 10 ms and >= 10x): {}",
        if ms(p95) <= 10.0 && ratio >= 10.0 {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "{}",
        serde_json::json!({
            "bench": "search",
            "docs": docs_n,
            "queries": queries_n,
            "search_p50_ms": (ms(p50) * 1000.0).round() / 1000.0,
            "search_p95_ms": (ms(p95) * 1000.0).round() / 1000.0,
            "like_p50_ms": (ms(l50) * 1000.0).round() / 1000.0,
            "like_p95_ms": (ms(l95) * 1000.0).round() / 1000.0,
            "search_vs_like": (ratio * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
