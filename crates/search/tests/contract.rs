//! One suite for every implementation of `Search`: the tantivy index always,
//! Meilisearch too when `MEILI_URL` names a running server.

use search::{Document, Kind, MeiliSearch, Query, Search, TantivySearch};

fn app(id: i64, order_id: i64, title: &str, description: &str, rating: u8) -> Document {
    Document {
        kind: Kind::App,
        id,
        order_id,
        title: title.into(),
        description: description.into(),
        category: "社会保障".into(),
        department: "市人力资源和社会保障局".into(),
        isv: Some("杭州某科技有限公司".into()),
        tags: vec!["社保".into()],
        rating_floor: Some(rating),
    }
}

fn order(id: i64, title: &str, description: &str, category: &str, department: &str) -> Document {
    Document {
        kind: Kind::Order,
        id,
        order_id: id,
        title: title.into(),
        description: description.into(),
        category: category.into(),
        department: department.into(),
        isv: None,
        tags: vec![],
        rating_floor: None,
    }
}

fn corpus() -> Vec<Document> {
    vec![
        order(
            1,
            "社保缴费证明开具",
            "为参保人开具社会保险缴费证明 social insurance certificate",
            "社会保障",
            "市人力资源和社会保障局",
        ),
        order(
            2,
            "公积金贷款额度测算",
            "根据住房公积金缴存记录测算可贷额度 housing fund loan",
            "住房",
            "市住房公积金管理中心",
        ),
        order(
            3,
            "交通违法查询",
            "查询机动车交通违法记录和罚款 traffic fines",
            "交通",
            "市公安局交通警察支队",
        ),
        app(10, 1, "社保证明快办", "一键开具社保缴费证明", 4),
        app(11, 1, "参保证明助手", "开具参保缴费证明，支持打印", 2),
        app(12, 2, "公积金计算器", "公积金贷款额度计算", 5),
    ]
}

fn ids(r: &search::Results) -> Vec<(Kind, i64)> {
    r.hits.iter().map(|h| (h.kind, h.id)).collect()
}

async fn contract(engine: &dyn Search) {
    engine.replace_all(corpus()).await.unwrap();

    // Chinese words inside longer text are found.
    let r = engine.query(&Query::text("公积金")).await.unwrap();
    let found = ids(&r);
    assert!(found.contains(&(Kind::Order, 2)), "{found:?}");
    assert!(found.contains(&(Kind::App, 12)), "{found:?}");
    assert!(!found.contains(&(Kind::Order, 3)), "{found:?}");
    assert_eq!(r.total, 2);

    // English, case-insensitively.
    let r = engine.query(&Query::text("Traffic")).await.unwrap();
    assert_eq!(ids(&r), vec![(Kind::Order, 3)]);

    // Filters by kind and order.
    let r = engine
        .query(&Query {
            text: "证明".into(),
            kind: Some(Kind::App),
            order_id: Some(1),
            ..Query::default()
        })
        .await
        .unwrap();
    let mut got = ids(&r);
    got.sort_by_key(|(_, id)| *id);
    assert_eq!(got, vec![(Kind::App, 10), (Kind::App, 11)]);

    // Rating facet and filter.
    assert_eq!(r.facets.rating, vec![(4, 1), (2, 1)]);
    let r = engine
        .query(&Query {
            kind: Some(Kind::App),
            min_rating: Some(4),
            ..Query::default()
        })
        .await
        .unwrap();
    let mut got = ids(&r);
    got.sort_by_key(|(_, id)| *id);
    assert_eq!(got, vec![(Kind::App, 10), (Kind::App, 12)]);

    // Category and department facets over everything.
    let r = engine.query(&Query::default()).await.unwrap();
    assert_eq!(r.total, 6);
    assert_eq!(r.facets.category[0], ("社会保障".to_owned(), 4));
    assert!(
        r.facets
            .department
            .contains(&("市公安局交通警察支队".to_owned(), 1))
    );
    let r = engine
        .query(&Query {
            department: Some("市住房公积金管理中心".into()),
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&r), vec![(Kind::Order, 2)]);

    // Upsert replaces; remove removes; both visible at once.
    let mut renamed = corpus()[5].clone();
    renamed.title = "住房贷款测算".into();
    renamed.description = "测算贷款".into();
    renamed.tags = vec![];
    engine.upsert(vec![renamed]).await.unwrap();
    let r = engine
        .query(&Query {
            text: "公积金".into(),
            kind: Some(Kind::App),
            ..Query::default()
        })
        .await
        .unwrap();
    assert!(r.hits.is_empty(), "{:?}", ids(&r));
    engine.remove(Kind::Order, 3).await.unwrap();
    assert_eq!(
        engine.query(&Query::text("traffic")).await.unwrap().total,
        0
    );
    // Removing what is not there is fine.
    engine.remove(Kind::Order, 999).await.unwrap();

    // Paging.
    let page = engine
        .query(&Query {
            limit: 2,
            offset: 4,
            ..Query::default()
        })
        .await
        .unwrap();
    assert_eq!(page.total, 5);
    assert_eq!(page.hits.len(), 1);

    // Nonsense and punctuation-only queries are not errors.
    assert_eq!(
        engine
            .query(&Query::text("量子纠缠引擎"))
            .await
            .unwrap()
            .total,
        0
    );
    engine.query(&Query::text("\"(*:^~")).await.unwrap();
}

#[tokio::test]
async fn the_tantivy_index_keeps_the_search_contract() {
    let engine = TantivySearch::in_memory().unwrap();
    contract(&engine).await;
}

#[tokio::test]
async fn the_tantivy_index_survives_a_restart_in_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = TantivySearch::open(dir.path()).unwrap();
        engine.replace_all(corpus()).await.unwrap();
    }
    let engine = TantivySearch::open(dir.path()).unwrap();
    assert_eq!(engine.len(), 6);
    let r = engine.query(&Query::text("交通违法")).await.unwrap();
    assert_eq!(ids(&r), vec![(Kind::Order, 3)]);
}

#[tokio::test]
async fn meilisearch_keeps_the_search_contract_when_configured() {
    let Ok(url) = std::env::var("MEILI_URL") else {
        eprintln!(
            "MEILI_URL not set: Meilisearch half of the contract suite skipped \
             (run scripts/test.sh with MEILI_BIN=/path/to/meilisearch, or set MEILI_URL and MEILI_API_KEY)"
        );
        return;
    };
    let key = std::env::var("MEILI_API_KEY").ok();
    let uid = format!("govmarket-test-{}", std::process::id());
    let engine = MeiliSearch::new(&url, key.as_deref(), &uid).unwrap();
    contract(&engine).await;
}
