//! The embedded default: a tantivy index in the data directory, Chinese
//! text cut into words by jieba.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{AllQuery, BooleanQuery, BoostQuery, Occur, Query as TQuery, TermQuery};
use tantivy::schema::{
    FAST, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{LowerCaser, RemoveLongFilter, TextAnalyzer};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term, doc};
use tantivy_jieba::JiebaTokenizer;

use crate::{Document, Facets, Hit, Kind, Query, Results, Search, SearchError, doc_key};

const TOKENIZER: &str = "jieba";
/// Indexing memory of the one writer thread; tantivy's floor is 15 MB and
/// documents here are small, so more would only hold memory.
const WRITER_MEMORY: usize = 50_000_000;
/// Title words count more than description words.
const TITLE_BOOST: f32 = 2.0;
/// Words longer than this (in bytes) are noise, not vocabulary.
const MAX_TOKEN_BYTES: usize = 60;

#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    order_id: Field,
    title: Field,
    body: Field,
    category: Field,
    department: Field,
    rating: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        kind: b.add_text_field("kind", STRING),
        id: b.add_i64_field("id", STORED | FAST),
        order_id: b.add_i64_field("order_id", STORED | INDEXED),
        title: b.add_text_field("title", text.clone()),
        // Description, tags, category, department and ISV names: all words
        // a citizen might type, weighted alike.
        body: b.add_text_field("body", text),
        category: b.add_facet_field("category", FacetOptions::default()),
        department: b.add_facet_field("department", FacetOptions::default()),
        rating: b.add_facet_field("rating", FacetOptions::default()),
    };
    (b.build(), fields)
}

/// The tantivy implementation of [`Search`]. Cheap to clone.
#[derive(Clone)]
pub struct TantivySearch {
    inner: Arc<Inner>,
}

struct Inner {
    index: Index,
    reader: IndexReader,
    /// Opened on the first write: tantivy allows one writer per index
    /// directory, and commands that only read (or never search) must not
    /// fail because a server holds it.
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    analyzer: TextAnalyzer,
}

impl TantivySearch {
    /// Opens (or creates) the index in `dir`.
    pub fn open(dir: &Path) -> Result<TantivySearch, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| {
            SearchError::Index(tantivy::TantivyError::SystemError(format!(
                "cannot create {}: {e}",
                dir.display()
            )))
        })?;
        let (schema, fields) = schema();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        Self::with_index(index, fields)
    }

    /// A throw-away index in memory, for tests and benchmarks.
    pub fn in_memory() -> Result<TantivySearch, SearchError> {
        let (schema, fields) = schema();
        Self::with_index(Index::create_in_ram(schema), fields)
    }

    fn with_index(index: Index, fields: Fields) -> Result<TantivySearch, SearchError> {
        let analyzer = TextAnalyzer::builder(JiebaTokenizer::new())
            .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
            .filter(LowerCaser)
            .build();
        index.tokenizers().register(TOKENIZER, analyzer.clone());
        // Reloaded explicitly after each commit, so a change is visible to
        // the very next query (the web page after a publish shows it).
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(TantivySearch {
            inner: Arc::new(Inner {
                index,
                reader,
                writer: Mutex::new(None),
                fields,
                analyzer,
            }),
        })
    }

    /// Runs `f` with the writer on a blocking thread, then commits and
    /// makes the change visible.
    async fn write<F>(&self, f: F) -> Result<(), SearchError>
    where
        F: FnOnce(&IndexWriter, &Fields) -> Result<(), SearchError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock leaves a writer whose pending
            // operations we discard below; the index itself stays valid.
            let mut guard = inner
                .writer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let writer = match guard.as_mut() {
                Some(w) => w,
                None => guard.insert(inner.index.writer_with_num_threads(1, WRITER_MEMORY)?),
            };
            if let Err(e) = f(writer, &inner.fields) {
                writer.rollback()?;
                return Err(e);
            }
            writer.commit()?;
            inner.reader.reload()?;
            Ok(())
        })
        .await?
    }

    /// Words of `text` as the index cut them, without blanks and punctuation.
    fn words(&self, text: &str) -> BTreeSet<String> {
        let mut analyzer = self.inner.analyzer.clone();
        let mut stream = analyzer.token_stream(text);
        let mut out = BTreeSet::new();
        while stream.advance() {
            let t = &stream.token().text;
            if t.chars().any(char::is_alphanumeric) {
                out.insert(t.clone());
            }
        }
        out
    }

    fn build_query(&self, q: &Query) -> Box<dyn TQuery> {
        let f = &self.inner.fields;
        let mut must: Vec<(Occur, Box<dyn TQuery>)> = vec![];
        // Every word must appear somewhere; a title match scores higher.
        for word in self.words(&q.text) {
            let in_title: Box<dyn TQuery> = Box::new(BoostQuery::new(
                Box::new(TermQuery::new(
                    Term::from_field_text(f.title, &word),
                    IndexRecordOption::WithFreqs,
                )),
                TITLE_BOOST,
            ));
            let in_body: Box<dyn TQuery> = Box::new(TermQuery::new(
                Term::from_field_text(f.body, &word),
                IndexRecordOption::WithFreqs,
            ));
            must.push((
                Occur::Must,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, in_title),
                    (Occur::Should, in_body),
                ])),
            ));
        }
        let exact = |term: Term| -> (Occur, Box<dyn TQuery>) {
            (
                Occur::Must,
                Box::new(TermQuery::new(term, IndexRecordOption::Basic)),
            )
        };
        if let Some(kind) = q.kind {
            must.push(exact(Term::from_field_text(f.kind, kind.as_str())));
        }
        if let Some(order_id) = q.order_id {
            must.push(exact(Term::from_field_i64(f.order_id, order_id)));
        }
        if let Some(c) = &q.category {
            must.push(exact(Term::from_facet(f.category, &facet(c))));
        }
        if let Some(d) = &q.department {
            must.push(exact(Term::from_facet(f.department, &facet(d))));
        }
        if let Some(min) = q.min_rating {
            let any_of: Vec<(Occur, Box<dyn TQuery>)> = (min.max(1)..=5)
                .map(|stars| {
                    let t: Box<dyn TQuery> = Box::new(TermQuery::new(
                        Term::from_facet(f.rating, &facet(&stars.to_string())),
                        IndexRecordOption::Basic,
                    ));
                    (Occur::Should, t)
                })
                .collect();
            // min > 5 matches nothing: an empty Should list matches nothing.
            must.push((Occur::Must, Box::new(BooleanQuery::new(any_of))));
        }
        if must.is_empty() {
            return Box::new(AllQuery);
        }
        if q.text.trim().is_empty() || self.words(&q.text).is_empty() {
            // Filters alone: every document they allow, unranked.
            must.push((Occur::Must, Box::new(AllQuery)));
        }
        Box::new(BooleanQuery::new(must))
    }
}

fn facet(value: &str) -> tantivy::schema::Facet {
    tantivy::schema::Facet::from_path([value])
}

fn to_tantivy(d: &Document, f: &Fields) -> TantivyDocument {
    let mut body = String::with_capacity(d.description.len() + 64);
    body.push_str(&d.description);
    for extra in d
        .tags
        .iter()
        .chain([&d.category, &d.department])
        .chain(d.isv.as_ref())
    {
        body.push('\n');
        body.push_str(extra);
    }
    let mut doc = doc!(
        f.key => d.key(),
        f.kind => d.kind.as_str(),
        f.id => d.id,
        f.order_id => d.order_id,
        f.title => d.title.as_str(),
        f.body => body,
    );
    if !d.category.is_empty() {
        doc.add_facet(f.category, facet(&d.category));
    }
    if !d.department.is_empty() {
        doc.add_facet(f.department, facet(&d.department));
    }
    if let Some(r) = d.rating_floor {
        doc.add_facet(f.rating, facet(&r.to_string()));
    }
    doc
}

fn counts(fc: &tantivy::collector::FacetCounts) -> Vec<(String, u64)> {
    crate::sorted_counts(
        fc.get("/")
            .filter_map(|(facet, n)| facet.to_path().last().map(|s| ((*s).to_owned(), n)))
            .collect(),
    )
}

#[async_trait]
impl Search for TantivySearch {
    async fn upsert(&self, docs: Vec<Document>) -> Result<(), SearchError> {
        self.write(move |w, f| {
            for d in &docs {
                w.delete_term(Term::from_field_text(f.key, &d.key()));
                w.add_document(to_tantivy(d, f))?;
            }
            Ok(())
        })
        .await
    }

    async fn remove(&self, kind: Kind, id: i64) -> Result<(), SearchError> {
        self.write(move |w, f| {
            w.delete_term(Term::from_field_text(f.key, &doc_key(kind, id)));
            Ok(())
        })
        .await
    }

    async fn replace_all(&self, docs: Vec<Document>) -> Result<(), SearchError> {
        // Deletion and additions land in one commit: readers see the old
        // index or the new one, never an empty one in between.
        self.write(move |w, f| {
            w.delete_all_documents()?;
            for d in &docs {
                w.add_document(to_tantivy(d, f))?;
            }
            Ok(())
        })
        .await
    }

    async fn query(&self, q: &Query) -> Result<Results, SearchError> {
        let this = self.clone();
        let q = q.clone();
        tokio::task::spawn_blocking(move || this.query_blocking(&q)).await?
    }

    fn backend(&self) -> &'static str {
        "tantivy"
    }
}

impl TantivySearch {
    /// The query on the calling thread (benchmarks call it directly).
    pub fn query_blocking(&self, q: &Query) -> Result<Results, SearchError> {
        let f = self.inner.fields;
        let query = self.build_query(q);
        let searcher = self.inner.reader.searcher();
        let facet_collector = |name: &str| {
            let mut c = FacetCollector::for_field(name);
            c.add_facet("/");
            c
        };
        let (top, total, (cats, deps, ratings)) = searcher.search(
            &query,
            &(
                TopDocs::with_limit(q.effective_limit())
                    .and_offset(q.offset)
                    .order_by_score(),
                Count,
                (
                    facet_collector("category"),
                    facet_collector("department"),
                    facet_collector("rating"),
                ),
            ),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        for (_score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let key = doc.get_first(f.key).and_then(|v| v.as_str()).unwrap_or("");
            let id = doc.get_first(f.id).and_then(|v| v.as_i64());
            let order_id = doc.get_first(f.order_id).and_then(|v| v.as_i64());
            let kind = key.split_once('-').and_then(|(k, _)| Kind::parse(k));
            if let (Some(kind), Some(id), Some(order_id)) = (kind, id, order_id) {
                hits.push(Hit { kind, id, order_id });
            }
        }
        let mut rating: Vec<(u8, u64)> = counts(&ratings)
            .into_iter()
            .filter_map(|(s, n)| s.parse().ok().map(|r| (r, n)))
            .collect();
        rating.sort_by_key(|r| std::cmp::Reverse(r.0));
        Ok(Results {
            hits,
            total: total as u64,
            facets: Facets {
                category: counts(&cats),
                department: counts(&deps),
                rating,
            },
        })
    }

    /// Documents in the index (after the last commit).
    pub fn len(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index handle, for diagnostics.
    pub fn index(&self) -> &Index {
        &self.inner.index
    }
}
