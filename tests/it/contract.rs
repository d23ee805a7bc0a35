//! The sink contract, one suite run against both implementations: DuckDB on a temporary
//! file, and BigQuery on the emulator at `WIKITOP_TEST_BQ_ENDPOINT` (started by the
//! README's test command through `scripts/bqemu.sh`; without it these tests fail, never
//! pass silently), each BigQuery test in a dataset of its own so they run in parallel.
//!
//! What is written is built here from simple deterministic data with hostile titles
//! (quotes and SQL, right-to-left scripts, emoji, 255-byte titles, `%00`, ties), and what
//! is read back is compared value by value: from DuckDB through the sink's `read_rows`,
//! from BigQuery by an independent query over the REST API, not through the sink.
//!
//! The BigQuery-only cases go through `bq_shim`: a job that fails mid-chunk, a chunk
//! whose submission is retried after its answer was lost, and one refused once for
//! BigQuery's rate limit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jiff::Timestamp;
use jiff::civil::{Date, date};
use serde_json::{Value, json};
use wikitop::BigQuerySettings;
use wikitop::error::Error;
use wikitop::model::{
    Access, Assessment, DayBatch, DesktopViews, PageInfo, PageStatus, Project, RunRecord,
    RunStatus, TopRow,
};
use wikitop::sinks::bigquery::{BigQuerySink, VERSION_LABEL};
use wikitop::sinks::duckdb::DuckDbSink;
use wikitop::sinks::schema::SCHEMA_VERSION;
use wikitop::sinks::{Sink, StoredDays};

use crate::bq_shim::BqShim;

// ---------------------------------------------------------------- test data

/// Titles that break naive SQL, JSON or encodings, mixed with ordinary ones.
const HOSTILE: &[&str] = &[
    "Robert'); DROP TABLE top_pages;--",
    "עברית_(שפה)",
    "اللغة_العربية",
    "😀",
    "👩‍👩‍👧‍👦_Family",
    "%00",
    "100%_Wolf",
    "AC/DC",
    "Pokémon",
    "Tom_&_Jerry",
    "C++",
    "Ocean's_Eleven",
    "Question?",
    "\"Quoted\"",
    "Back\\slash",
    "$.date",
    "@rows",
    "Special:Search",
    "-",
    "Main_Page",
];

/// A 255-byte title, MediaWiki's maximum (multi-byte characters included).
fn long_title(n: usize) -> String {
    let mut t = format!("Long_{n}_");
    while t.len() + 'Ω'.len_utf8() <= 255 {
        t.push('Ω');
    }
    while t.len() < 255 {
        t.push('x');
    }
    t
}

fn ts(micros: i64) -> Timestamp {
    Timestamp::from_microsecond(micros).expect("a valid timestamp")
}

/// Every shape of judgement: desktop views absent, unknown and present (shares that
/// no decimal writes exactly), suspect reasons built to break SQL, ranks and none.
fn assessment(n: usize, i: usize) -> Assessment {
    let desktop = match n % 4 {
        0 => None,
        1 => Some(DesktopViews {
            views: None,
            min_views: 1_234,
        }),
        _ => Some(DesktopViews {
            views: Some(1_000_000 / 3 + n as u64),
            min_views: 7,
        }),
    };
    let suspect = n
        .is_multiple_of(5)
        .then(|| format!("deny list: it's \"{}\" \\ {n}", HOSTILE[n % HOSTILE.len()]));
    Assessment {
        desktop,
        is_article: !n.is_multiple_of(3),
        article_rank: (!n.is_multiple_of(3) && suspect.is_none()).then_some(i as u32 + 1),
        mostread_rank: (n % 4 == 1).then_some(i as u32 + 1),
        suspect,
    }
}

/// The page behind an article, with every status and shape of category list.
fn page(article: &str, i: usize, fetched_at: Timestamp) -> PageInfo {
    let status = match i % 7 {
        0 => PageStatus::Redirect,
        1 => PageStatus::Missing,
        2 if article.starts_with("Special:") => PageStatus::Special,
        2 if article == "-" => PageStatus::NoTitle,
        3 if article.contains('[') => PageStatus::Invalid,
        _ => PageStatus::Ok,
    };
    let (page_id, namespace) = match status {
        PageStatus::Ok | PageStatus::Redirect => (Some(1_000_000 + i as i64), Some(0)),
        PageStatus::Missing => (None, Some(0)),
        PageStatus::Special => (None, Some(-1)),
        PageStatus::Invalid | PageStatus::NoTitle => (None, None),
    };
    let title = match status {
        PageStatus::Redirect => format!("{} (target)", article.replace('_', " ")),
        _ => article.replace('_', " "),
    };
    let mut categories: Vec<String> = match i % 4 {
        0 => vec![],
        1 => vec![format!("Category {i}")],
        2 => vec![
            "Living people".into(),
            "Ünïcödé's \"best\"".into(),
            "עברית".into(),
        ],
        _ => (0..12)
            .map(|k| format!("Topic {k} of {}", i % 10))
            .collect(),
    };
    categories.sort();
    let hidden = if i.is_multiple_of(3) {
        vec!["All stub articles".into(), "CS1 maint: url-status".into()]
    } else {
        vec![]
    };
    PageInfo {
        title,
        page_id,
        namespace,
        status,
        // Every shape: none, small, and past 2^53 (exact only as text).
        wikidata_id: page_id
            .and_then(|id| match i % 5 {
                0 => None,
                4 => Some(format!("Q{}", u64::MAX - id as u64)),
                _ => Some(format!("Q{}", i + 1)),
            })
            .map(|q| q.parse().unwrap()),
        categories,
        hidden_categories: hidden,
        fetched_at,
    }
}

/// One day of a top list: ranked like SQL `rank()` (ties share a rank, the next is
/// skipped), with `variant` changing views, order and membership.
fn day_batch(project: &str, access: Access, day: Date, variant: u64, run_id: &str) -> DayBatch {
    let offset = (day - date(2023, 1, 1)).get_days() as usize;
    let count = 95 + offset % 10;
    let fetched_at = ts(1_680_000_000_000_000 + offset as i64 * 86_400_000_000 + 123_457);
    let mut rows = Vec::with_capacity(count);
    let mut rank = 0;
    let mut previous_views = u64::MAX;
    for i in 0..count {
        let n = (i + offset * 3 + variant as usize * 7) % 400;
        let article = if n < HOSTILE.len() {
            HOSTILE[n].to_owned()
        } else if n.is_multiple_of(17) {
            long_title(n)
        } else {
            format!("Article_{n}")
        };
        // Pairs of equal views make ties.
        let views = 5_000_000 - (i as u64 / 2) * 1_000 + variant * 11;
        if views != previous_views {
            rank = i as u32 + 1;
            previous_views = views;
        }
        rows.push(TopRow {
            rank,
            article: article.clone(),
            views,
            page: Arc::new(page(&article, n, fetched_at)),
            assessment: assessment(n, i),
        });
    }
    DayBatch {
        date: day,
        project: project.parse().expect("a valid project"),
        access,
        rows,
        run_id: run_id.to_owned(),
        ingested_at: ts(1_690_000_000_000_000 + offset as i64 * 1_000_001 + variant as i64),
    }
}

fn month(project: &str, access: Access, variant: u64, run_id: &str) -> Vec<DayBatch> {
    let first = date(2023, 4, 1);
    (0..30)
        .map(|d| {
            day_batch(
                project,
                access,
                first + jiff::Span::new().days(d),
                variant,
                run_id,
            )
        })
        .collect()
}

// ---------------------------------------------------------------- stored rows

/// One stored row, every column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Row {
    date: String,
    project: String,
    access: String,
    article: String,
    rank: i64,
    views: i64,
    title: String,
    page_id: Option<i64>,
    namespace: Option<i64>,
    page_status: String,
    categories: Vec<String>,
    hidden_categories: Vec<String>,
    wikidata_id: Option<String>,
    categories_fetched_at: i64,
    ingested_at: i64,
    run_id: String,
    judged: Judged,
}

/// The judged columns, the share by its bits: equal only when exactly equal.
type Judged = (
    Option<i64>,
    Option<u64>,
    Option<i64>,
    Option<bool>,
    Option<String>,
    Option<bool>,
    Option<i64>,
);

/// What the store must hold after writing `batches` (later batches of a day win).
fn expected(batches: &[&[DayBatch]]) -> Vec<Row> {
    let mut by_day = std::collections::BTreeMap::new();
    for batch in batches.iter().flat_map(|b| b.iter()) {
        by_day.insert((batch.date, batch.project.clone(), batch.access), batch);
    }
    let mut rows: Vec<Row> = by_day
        .values()
        .flat_map(|b| {
            b.rows.iter().map(|r| Row {
                date: b.date.to_string(),
                project: b.project.to_string(),
                access: b.access.to_string(),
                article: r.article.clone(),
                rank: i64::from(r.rank),
                views: r.views as i64,
                title: r.page.title.clone(),
                page_id: r.page.page_id,
                namespace: r.page.namespace.map(i64::from),
                page_status: r.page.status.as_str().to_owned(),
                categories: r.page.categories.clone(),
                hidden_categories: r.page.hidden_categories.clone(),
                wikidata_id: r.page.wikidata_id.map(|q| q.to_string()),
                categories_fetched_at: r.page.fetched_at.as_microsecond(),
                ingested_at: b.ingested_at.as_microsecond(),
                run_id: b.run_id.clone(),
                judged: (
                    r.assessment.desktop.and_then(|d| d.views).map(|v| v as i64),
                    r.desktop_share().map(f64::to_bits),
                    r.assessment.desktop.map(|d| d.min_views as i64),
                    Some(r.assessment.suspect.is_some()),
                    r.assessment.suspect.clone(),
                    Some(r.assessment.is_article),
                    r.assessment.article_rank.map(i64::from),
                ),
            })
        })
        .collect();
    rows.sort();
    rows
}

fn assert_rows(found: &[Row], wanted: &[Row]) {
    assert_eq!(found.len(), wanted.len(), "row count");
    for (f, w) in found.iter().zip(wanted) {
        assert_eq!(f, w);
    }
}

fn run(run_id: &str, started: i64, status: RunStatus, finished: Option<i64>) -> RunRecord {
    RunRecord {
        run_id: run_id.to_owned(),
        started_at: ts(started),
        finished_at: finished.map(ts),
        status,
        arguments: "sync --since 2023-04-01 --project en.wikipedia 'quoted' \"x\"".to_owned(),
        days_written: 30,
        rows_written: 2_999,
        http_requests: 61,
        http_retries: 2,
        error: (status == RunStatus::Partial)
            .then(|| "2023-04-02: gave up after 6 tries".to_owned()),
    }
}

// ---------------------------------------------------------------- the two stores

/// A store under test: how to open its sink and read back what it holds.
trait Store {
    type Sink: Sink;
    async fn open(&self) -> wikitop::error::Result<Self::Sink>;
    /// Every row of `top_pages`, sorted.
    async fn rows(&self, sink: &mut Self::Sink) -> Vec<Row>;
    /// Creates `top_pages` with a wrong schema before the first `open`.
    async fn create_wrong_top_pages(&self);
    /// The view `top_articles` as (date, project, access, article_rank, title, views,
    /// served names joined by `|`), in the view's order; the sink is closed first (a
    /// DuckDB file has one writer).
    async fn top_articles(&self, sink: Self::Sink) -> Vec<ArticleRow>;
}

type ArticleRow = (String, String, String, i64, String, i64, String);

/// `top_articles` holds one row per page among the rows with an `article_rank`: its
/// views summed, its served names in rank order, ordered by rank per day.
async fn top_articles_are_the_ranked_pages_in_order(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    let mut days = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    // A redirect beside its target: one page, two served names.
    let day = &mut days[0];
    let (first, second) = (day.rows[1].clone(), day.rows[4].clone());
    day.rows[4].page = first.page.clone();
    day.rows[4].assessment.article_rank = first.assessment.article_rank.or(Some(1));
    day.rows[1].assessment.article_rank = day.rows[4].assessment.article_rank;
    day.rows[1].assessment.is_article = true;
    assert_ne!(first.article, second.article);
    write_all(&mut sink, &days).await;
    /// (date, project, access, article_rank, title) → (views, served names by rank).
    type Pages = BTreeMap<(String, String, String, i64, String), (i64, Vec<(u32, String)>)>;
    let mut pages = Pages::new();
    for b in &days {
        for r in &b.rows {
            let Some(rank) = r.assessment.article_rank else {
                continue;
            };
            let key = (
                b.date.to_string(),
                b.project.to_string(),
                b.access.to_string(),
                i64::from(rank),
                r.page.title.clone(),
            );
            let page = pages.entry(key).or_default();
            page.0 += r.views as i64;
            page.1.push((r.rank, r.article.clone()));
        }
    }
    let want: Vec<ArticleRow> = pages
        .into_iter()
        .map(|((d, p, a, rank, title), (views, mut names))| {
            names.sort();
            let names: Vec<String> = names.into_iter().map(|(_, n)| n).collect();
            (d, p, a, rank, title, views, names.join("|"))
        })
        .collect();
    assert!(
        want.iter().any(|w| w.6.contains('|')),
        "a page of two names"
    );
    assert_eq!(store.top_articles(sink).await, want);
}

const PROJECTS: [&str; 2] = ["en.wikipedia", "de.wikipedia"];

struct Duck {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Duck {
    fn new() -> Duck {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("x.duckdb");
        Duck { _dir: dir, path }
    }
}

impl Store for Duck {
    type Sink = DuckDbSink;

    async fn open(&self) -> wikitop::error::Result<DuckDbSink> {
        DuckDbSink::open(&self.path, wikitop::sinks::Mode::Write)
    }

    async fn rows(&self, sink: &mut DuckDbSink) -> Vec<Row> {
        let mut rows = Vec::new();
        for project in PROJECTS {
            let stored = sink
                .read_rows(project, date(2015, 7, 1), date(2030, 1, 1))
                .expect("read rows back");
            rows.extend(stored.into_iter().map(|r| Row {
                date: r.date.to_string(),
                project: r.project,
                access: r.access,
                article: r.article,
                rank: i64::from(r.rank),
                views: r.views as i64,
                title: r.title,
                page_id: r.page_id,
                namespace: r.namespace.map(i64::from),
                page_status: r.page_status.as_str().to_owned(),
                categories: r.categories,
                hidden_categories: r.hidden_categories,
                wikidata_id: r.wikidata_id.map(|q| q.to_string()),
                categories_fetched_at: r.categories_fetched_at.as_microsecond(),
                ingested_at: r.ingested_at.as_microsecond(),
                run_id: r.run_id,
                judged: (
                    r.desktop_views.map(|v| v as i64),
                    r.desktop_share.map(f64::to_bits),
                    r.desktop_min_views.map(|v| v as i64),
                    r.suspect_automated,
                    r.suspect_reason,
                    r.is_article,
                    r.article_rank.map(i64::from),
                ),
            }));
        }
        rows.sort();
        rows
    }

    async fn top_articles(&self, sink: DuckDbSink) -> Vec<ArticleRow> {
        drop(sink);
        let conn = duckdb::Connection::open(&self.path).expect("open a DuckDB file");
        let mut stmt = conn
            .prepare(
                "SELECT CAST(date AS VARCHAR), project, access, article_rank, title, views, \
                 array_to_string(articles, '|') FROM top_articles",
            )
            .expect("the view exists");
        stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .expect("read the view")
    }

    async fn create_wrong_top_pages(&self) {
        let conn = duckdb::Connection::open(&self.path).expect("open a DuckDB file");
        conn.execute_batch("CREATE TABLE top_pages (date DATE, article VARCHAR, views VARCHAR)")
            .expect("create a wrong table");
    }
}

/// The emulator, reached directly by the sink or through a shim.
struct Bq {
    upstream: String,
    project: String,
    dataset: String,
    shim: Option<BqShim>,
    http: reqwest::Client,
}

fn emulator() -> (String, String) {
    let endpoint = std::env::var("WIKITOP_TEST_BQ_ENDPOINT").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "WIKITOP_TEST_BQ_ENDPOINT is not set: the BigQuery contract tests need the emulator. \
         Run the README's test command, `make test` (scripts/test), which starts it and sets \
         the variable; or wrap cargo: `bash scripts/bqemu.sh run -- cargo test`."
    );
    let project =
        std::env::var("WIKITOP_TEST_BQ_PROJECT").unwrap_or_else(|_| "test-project".to_owned());
    (endpoint, project)
}

static DATASETS: AtomicUsize = AtomicUsize::new(0);

impl Bq {
    async fn new(test: &str) -> Bq {
        let (upstream, project) = emulator();
        let n = DATASETS.fetch_add(1, Ordering::Relaxed);
        Bq {
            upstream,
            project,
            dataset: format!("wikitop_{test}_{}_{n}", std::process::id()),
            shim: None,
            http: reqwest::Client::new(),
        }
    }

    /// The same store, with the sink talking to the emulator through a shim.
    async fn with_shim(test: &str) -> Bq {
        let mut bq = Bq::new(test).await;
        bq.shim = Some(BqShim::start(&bq.upstream).await);
        bq
    }

    fn shim(&self) -> &BqShim {
        self.shim.as_ref().expect("started with a shim")
    }

    fn settings(&self) -> BigQuerySettings {
        let endpoint = self
            .shim
            .as_ref()
            .map_or(self.upstream.as_str(), |s| &s.endpoint);
        BigQuerySettings::new(
            &format!("{}.{}", self.project, self.dataset),
            None,
            Some(endpoint),
        )
        .expect("a valid test configuration")
    }

    fn api(&self, path: &str) -> String {
        format!(
            "{}/bigquery/v2/projects/{}{path}",
            self.upstream, self.project
        )
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response = self
            .http
            .post(self.api(path))
            .json(&body)
            .send()
            .await
            .expect("reach the emulator");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    /// Runs a query over REST, independently of the sink, and returns every row.
    async fn query(&self, sql: &str) -> Vec<Vec<Value>> {
        let mut page = self
            .post(
                "/queries",
                json!({"query": sql, "useLegacySql": false, "timeoutMs": 60_000,
                       "formatOptions": {"useInt64Timestamp": true}}),
            )
            .await;
        assert_eq!(page["jobComplete"], true, "{page}");
        let job_id = page["jobReference"]["jobId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut rows = Vec::new();
        loop {
            for row in page["rows"].as_array().into_iter().flatten() {
                let cells = row["f"]
                    .as_array()
                    .expect("cells")
                    .iter()
                    .map(|c| c["v"].clone());
                rows.push(cells.collect());
            }
            let Some(token) = page["pageToken"].as_str().filter(|t| !t.is_empty()) else {
                return rows;
            };
            page = self
                .http
                .get(self.api(&format!("/queries/{job_id}")))
                .query(&[
                    ("pageToken", token),
                    ("formatOptions.useInt64Timestamp", "true"),
                ])
                .send()
                .await
                .expect("reach the emulator")
                .json()
                .await
                .expect("a JSON answer");
        }
    }

    /// Sends `method` with a JSON body (or none) and returns the JSON answer.
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method.clone(), self.api(path));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("reach the emulator");
        let status = response.status();
        let body: Value = response.json().await.expect("a JSON answer");
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    fn table_api(&self, table: &str) -> String {
        format!("/datasets/{}/tables/{table}", self.dataset)
    }

    /// The labels of a table, read over REST.
    async fn labels(&self, table: &str) -> Value {
        let found = self
            .call(reqwest::Method::GET, &self.table_api(table), None)
            .await;
        found["labels"].clone()
    }

    /// Replaces a table's labels, as `tables.update` does: the resource as it is, with
    /// these labels (none when `labels` is null).
    async fn set_labels(&self, table: &str, labels: Value) {
        let path = self.table_api(table);
        let mut resource = self.call(reqwest::Method::GET, &path, None).await;
        resource["labels"] = labels;
        if resource["labels"].is_null() {
            resource.as_object_mut().expect("a table").remove("labels");
        }
        self.call(reqwest::Method::PUT, &path, Some(resource)).await;
    }

    async fn count(&self, table: &str) -> i64 {
        let rows = self
            .query(&format!(
                "SELECT COUNT(*) FROM `{}.{}.{table}`",
                self.project, self.dataset
            ))
            .await;
        int(&rows[0][0]).expect("a count")
    }
}

fn string(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
        .to_owned()
}

fn int(v: &Value) -> Option<i64> {
    v.as_str().map(|s| {
        s.parse()
            .unwrap_or_else(|_| panic!("expected an integer, got {s}"))
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected an array, got {v}"))
        .iter()
        .map(|c| string(&c["v"]))
        .collect()
}

impl Store for Bq {
    type Sink = BigQuerySink;

    async fn open(&self) -> wikitop::error::Result<BigQuerySink> {
        BigQuerySink::open(&self.settings(), wikitop::sinks::Mode::Write).await
    }

    async fn rows(&self, _sink: &mut BigQuerySink) -> Vec<Row> {
        let sql = format!(
            "SELECT date, project, access, article, rank, views, title, page_id, namespace, \
             page_status, categories, hidden_categories, categories_fetched_at, ingested_at, \
             run_id, desktop_views, desktop_share, desktop_min_views, suspect_automated, \
             suspect_reason, is_article, article_rank, wikidata_id FROM `{}.{}.top_pages`",
            self.project, self.dataset
        );
        let mut rows: Vec<Row> = self
            .query(&sql)
            .await
            .iter()
            .map(|c| Row {
                date: string(&c[0]),
                project: string(&c[1]),
                access: string(&c[2]),
                article: string(&c[3]),
                rank: int(&c[4]).expect("rank"),
                views: int(&c[5]).expect("views"),
                title: string(&c[6]),
                page_id: int(&c[7]),
                namespace: int(&c[8]),
                page_status: string(&c[9]),
                categories: strings(&c[10]),
                hidden_categories: strings(&c[11]),
                wikidata_id: c[22].as_str().map(str::to_owned),
                categories_fetched_at: int(&c[12]).expect("categories_fetched_at"),
                ingested_at: int(&c[13]).expect("ingested_at"),
                run_id: string(&c[14]),
                judged: (
                    int(&c[15]),
                    c[16]
                        .as_str()
                        .map(|s| s.parse::<f64>().expect("a float").to_bits()),
                    int(&c[17]),
                    c[18].as_str().map(|s| s == "true"),
                    c[19].as_str().map(str::to_owned),
                    c[20].as_str().map(|s| s == "true"),
                    int(&c[21]),
                ),
            })
            .collect();
        rows.sort();
        rows
    }

    async fn top_articles(&self, _sink: BigQuerySink) -> Vec<ArticleRow> {
        // A view's ORDER BY orders its own rows; the outer query keeps it explicit.
        let sql = format!(
            "SELECT CAST(date AS STRING), project, access, article_rank, title, views, \
             ARRAY_TO_STRING(articles, '|') \
             FROM `{}.{}.top_articles` ORDER BY date, project, access, article_rank, title",
            self.project, self.dataset
        );
        self.query(&sql)
            .await
            .iter()
            .map(|c| {
                (
                    string(&c[0]),
                    string(&c[1]),
                    string(&c[2]),
                    int(&c[3]).expect("article_rank"),
                    string(&c[4]),
                    int(&c[5]).expect("views"),
                    string(&c[6]),
                )
            })
            .collect()
    }

    async fn create_wrong_top_pages(&self) {
        self.post(
            "/datasets",
            json!({"datasetReference": {"projectId": self.project, "datasetId": self.dataset}}),
        )
        .await;
        self.post(
            &format!("/datasets/{}/tables", self.dataset),
            json!({
                "tableReference": {"projectId": self.project, "datasetId": self.dataset, "tableId": "top_pages"},
                "schema": {"fields": [
                    {"name": "date", "type": "DATE", "mode": "REQUIRED"},
                    {"name": "article", "type": "STRING", "mode": "REQUIRED"},
                    {"name": "views", "type": "STRING", "mode": "NULLABLE"},
                ]},
            }),
        )
        .await;
    }
}

// ---------------------------------------------------------------- the contract

async fn write_all<S: Sink>(sink: &mut S, days: &[DayBatch]) {
    for chunk in days.chunks(BigQuerySink::MAX_DAYS_PER_WRITE) {
        sink.write_days(chunk).await.expect("write days");
    }
}

/// A month of two projects (one of them with another access) is stored exactly.
async fn exact_rows_for_a_month(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    // The first write holds both projects: one MERGE per (project, access).
    let mut both: Vec<DayBatch> = month("de.wikipedia", Access::MobileWeb, 1, "run-1")
        .into_iter()
        .take(3)
        .collect();
    both.extend(month("en.wikipedia", Access::AllAccess, 0, "run-1"));
    write_all(&mut sink, &both).await;
    assert_rows(&store.rows(&mut sink).await, &expected(&[&both]));
}

/// Writing the same days again, in the same run or a later one, adds no row.
async fn a_rerun_adds_nothing(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    let first = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    write_all(&mut sink, &first).await;
    write_all(&mut sink, &first).await;
    assert_rows(&store.rows(&mut sink).await, &expected(&[&first]));

    // A later run re-fetches the same top lists (`--force`): same rows, its own run id.
    let again = month("en.wikipedia", Access::AllAccess, 0, "run-2");
    drop(sink);
    let mut sink = store.open().await.expect("reopen");
    write_all(&mut sink, &again).await;
    let rows = store.rows(&mut sink).await;
    assert_rows(&rows, &expected(&[&again]));
    assert!(rows.iter().all(|r| r.run_id == "run-2"));
}

/// Rewriting a day with other rows replaces exactly that day: rows gone from the new
/// list are deleted, changed ones updated, new ones inserted, other days untouched.
async fn rewriting_a_day_replaces_it_exactly(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    let first = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    // The same day for another access must not be touched by the rewrite.
    let desktop = vec![day_batch(
        "en.wikipedia",
        Access::Desktop,
        date(2023, 4, 15),
        0,
        "run-1",
    )];
    write_all(&mut sink, &first).await;
    write_all(&mut sink, &desktop).await;

    let mut rewrite = day_batch(
        "en.wikipedia",
        Access::AllAccess,
        date(2023, 4, 15),
        10,
        "run-2",
    );
    rewrite.rows.truncate(40);
    let old_articles: BTreeSet<&str> = first[14].rows.iter().map(|r| r.article.as_str()).collect();
    let new_articles: BTreeSet<&str> = rewrite.rows.iter().map(|r| r.article.as_str()).collect();
    assert!(
        old_articles.difference(&new_articles).count() > 0,
        "some rows must go"
    );
    assert!(
        new_articles.difference(&old_articles).count() > 0,
        "some rows must come"
    );
    assert!(
        old_articles.intersection(&new_articles).count() > 0,
        "some rows must change"
    );
    sink.write_days(std::slice::from_ref(&rewrite))
        .await
        .expect("rewrite a day");

    let rewrite = [rewrite];
    assert_rows(
        &store.rows(&mut sink).await,
        &expected(&[&first, &desktop, &rewrite]),
    );

    // An empty top list for a day leaves no row for it.
    let mut empty = rewrite[0].clone();
    empty.rows.clear();
    sink.write_days(std::slice::from_ref(&empty))
        .await
        .expect("write an empty day");
    let rows = store.rows(&mut sink).await;
    let wanted: Vec<Row> = expected(&[&first, &desktop])
        .into_iter()
        .filter(|r| !(r.date == "2023-04-15" && r.access == "all-access"))
        .collect();
    assert_rows(&rows, &wanted);
}

/// `stored_days` answers for any range, project and access; `all_stored_days` groups.
async fn stored_days_for_ranges(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    let en: Vec<DayBatch> = month("en.wikipedia", Access::AllAccess, 0, "run-1")
        .into_iter()
        .filter(|d| d.date.day() % 3 != 0) // gaps: the 3rd, 6th, ...
        .collect();
    let de = vec![day_batch(
        "de.wikipedia",
        Access::MobileWeb,
        date(2023, 4, 2),
        0,
        "run-1",
    )];
    write_all(&mut sink, &en).await;
    write_all(&mut sink, &de).await;

    let en_wiki: Project = "en.wikipedia".parse().expect("project");
    let de_wiki: Project = "de.wikipedia".parse().expect("project");
    let all: BTreeSet<Date> = en.iter().map(|d| d.date).collect();
    let cases = [
        (date(2023, 4, 1), date(2023, 4, 30)),
        (date(2023, 4, 3), date(2023, 4, 3)),
        (date(2023, 4, 4), date(2023, 4, 4)),
        (date(2023, 4, 10), date(2023, 4, 20)),
        (date(2023, 3, 1), date(2023, 4, 2)),
        (date(2023, 5, 1), date(2023, 6, 1)),
    ];
    for (from, to) in cases {
        let wanted: BTreeSet<Date> = all
            .iter()
            .copied()
            .filter(|d| (from..=to).contains(d))
            .collect();
        let found = sink
            .stored_days(&en_wiki, Access::AllAccess, from, to)
            .await
            .expect("stored days");
        assert_eq!(found, wanted, "{from}..{to}");
    }
    let month_range = (date(2023, 4, 1), date(2023, 4, 30));
    for (project, access, wanted) in [
        (&en_wiki, Access::Desktop, BTreeSet::new()),
        (&de_wiki, Access::AllAccess, BTreeSet::new()),
        (
            &de_wiki,
            Access::MobileWeb,
            BTreeSet::from([date(2023, 4, 2)]),
        ),
    ] {
        let found = sink
            .stored_days(project, access, month_range.0, month_range.1)
            .await
            .expect("stored days");
        assert_eq!(found, wanted, "{project} {access}");
    }

    let mut grouped = sink.all_stored_days().await.expect("all stored days");
    grouped.sort_by(|a, b| (&a.project, a.access).cmp(&(&b.project, b.access)));
    assert_eq!(
        grouped,
        vec![
            StoredDays {
                project: de_wiki,
                access: Access::MobileWeb,
                days: BTreeSet::from([date(2023, 4, 2)]),
                unassessed: BTreeSet::new(),
                unranked: BTreeSet::new(),
            },
            StoredDays {
                project: en_wiki,
                access: Access::AllAccess,
                days: all,
                unassessed: BTreeSet::new(),
                unranked: BTreeSet::new(),
            },
        ]
    );
}

/// `record_run` inserts then updates a run; `recent_runs` lists the newest first.
async fn runs_are_upserted(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    assert_eq!(sink.recent_runs(5).await.expect("no runs yet"), vec![]);
    let base = 1_700_000_000_000_000;
    let older = run("run-1", base, RunStatus::Ok, Some(base + 61_000_001));
    sink.record_run(&older).await.expect("record run-1");
    let started = run("run-2", base + 86_400_000_000, RunStatus::Running, None);
    sink.record_run(&started).await.expect("record run-2");
    let finished = RunRecord {
        days_written: 29,
        rows_written: 2_901,
        ..run(
            "run-2",
            base + 86_400_000_000,
            RunStatus::Partial,
            Some(base + 86_500_000_007),
        )
    };
    sink.record_run(&finished).await.expect("update run-2");

    assert_eq!(
        sink.recent_runs(10).await.expect("recent runs"),
        vec![finished.clone(), older]
    );
    assert_eq!(
        sink.recent_runs(1).await.expect("recent runs"),
        vec![finished]
    );
}

/// A run left `running` (its process killed a day before) is marked abandoned when the
/// next run starts; the new run stays `running`.
async fn a_run_left_running_is_abandoned_by_the_next(store: impl Store) {
    let mut sink = store.open().await.expect("open");
    let base = 1_700_000_000_000_000;
    let killed = run("run-killed", base, RunStatus::Running, None);
    sink.record_run(&killed)
        .await
        .expect("record the killed run");
    drop(sink); // the process dies; the next run opens the store anew
    let mut sink = store.open().await.expect("reopen");
    let next = run(
        "run-next",
        base + 2 * 86_400_000_000,
        RunStatus::Running,
        None,
    );
    sink.record_run(&next).await.expect("record the next run");
    let statuses: Vec<(String, RunStatus)> = sink
        .recent_runs(10)
        .await
        .expect("recent runs")
        .into_iter()
        .map(|r| (r.run_id, r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("run-next".to_owned(), RunStatus::Running),
            ("run-killed".to_owned(), RunStatus::Abandoned)
        ]
    );
}

/// An existing `top_pages` with another schema is refused, never written into.
async fn a_wrong_schema_is_refused(store: impl Store) {
    store.create_wrong_top_pages().await;
    match store.open().await {
        Err(Error::SchemaMismatch { table, detail }) => {
            assert_eq!(table, "top_pages");
            assert!(detail.contains("views"), "{detail}");
        }
        Err(other) => panic!("expected a schema mismatch, got: {other}"),
        Ok(_) => panic!("a wrong schema was accepted"),
    }
}

macro_rules! contract {
    ($($case:ident),* $(,)?) => {
        mod on_duckdb {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Duck::new()).await;
                }
            )*
        }
        mod on_bigquery {
            $(
                #[tokio::test]
                async fn $case() {
                    super::$case(super::Bq::new(stringify!($case)).await).await;
                }
            )*
        }
    };
}

contract!(
    exact_rows_for_a_month,
    top_articles_are_the_ranked_pages_in_order,
    a_rerun_adds_nothing,
    rewriting_a_day_replaces_it_exactly,
    stored_days_for_ranges,
    runs_are_upserted,
    a_run_left_running_is_abandoned_by_the_next,
    a_wrong_schema_is_refused,
);

// ---------------------------------------------------------------- BigQuery only

/// A MERGE that fails part-way through its chunk leaves the table as it was, and the
/// next write of the same days completes it.
#[tokio::test]
async fn bigquery_failed_job_leaves_target_untouched() {
    let store = Bq::with_shim("failed_job").await;
    let mut sink = store.open().await.expect("open");
    let before = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    write_all(&mut sink, &before).await;

    let after = month("en.wikipedia", Access::AllAccess, 3, "run-2");
    store.shim().fail_next_merge();
    let err = sink
        .write_days(&after)
        .await
        .expect_err("the corrupted job must fail");
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert_rows(&store.rows(&mut sink).await, &expected(&[&before]));

    // The same run writes the same days again: the failed job's id is taken, so the
    // statement runs under the next one, once.
    sink.write_days(&after).await.expect("write again");
    assert_rows(&store.rows(&mut sink).await, &expected(&[&after]));
    let merges = store.shim().merges();
    assert_eq!(merges.len(), 3, "{merges:?}");
    assert_eq!(
        store.shim().conflicts(&merges[1]),
        1,
        "the failed id was tried again"
    );
    assert!(merges[2].ends_with("_2"), "{merges:?}");
    assert_eq!(store.shim().forwarded_twice(), Vec::<String>::new());
}

/// A chunk whose submission is retried after the answer was lost runs once: the retry
/// meets BigQuery's 409 for its own job id and waits for that job.
#[tokio::test]
async fn bigquery_retried_chunk_runs_once() {
    let store = Bq::with_shim("retried_chunk").await;
    let mut sink = store.open().await.expect("open");
    let days = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    store.shim().drop_next_merge_response();
    sink.write_days(&days)
        .await
        .expect("write despite the lost answer");

    let merges = store.shim().merges();
    assert_eq!(
        merges.len(),
        1,
        "the MERGE reached BigQuery once: {merges:?}"
    );
    assert_eq!(store.shim().forwarded(&merges[0]), 1);
    assert_eq!(
        store.shim().conflicts(&merges[0]),
        1,
        "the retry met the 409"
    );
    assert_rows(&store.rows(&mut sink).await, &expected(&[&days]));
    assert_eq!(
        store.count("top_pages").await,
        expected(&[&days]).len() as i64
    );

    // Writing the same chunk again in the same run is recognised as done, too.
    sink.write_days(&days)
        .await
        .expect("write the same chunk again");
    assert_eq!(store.shim().merges().len(), 1);
    assert_eq!(store.shim().forwarded_twice(), Vec::<String>::new());
}

/// A MERGE refused with BigQuery's 403 `rateLimitExceeded` is tried again, under the
/// same job id, and runs once; submitting and polling ask for the job's status only.
#[tokio::test]
async fn bigquery_rate_limited_chunk_is_retried() {
    let store = Bq::with_shim("rate_limited").await;
    let mut sink = store.open().await.expect("open");
    let days = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    store.shim().rate_limit_next_merge();
    sink.write_days(&days)
        .await
        .expect("write despite the rate limit");

    assert_eq!(store.shim().rate_limited(), 1, "the shim refused one MERGE");
    let merges = store.shim().merges();
    assert_eq!(merges.len(), 1, "{merges:?}");
    assert!(merges[0].ends_with("_1"), "the same job id: {merges:?}");
    assert_eq!(store.shim().forwarded(&merges[0]), 1);
    assert_eq!(store.shim().conflicts(&merges[0]), 0);
    assert_rows(&store.rows(&mut sink).await, &expected(&[&days]));

    let masks = store.shim().job_field_masks();
    assert!(!masks.is_empty());
    assert!(
        masks.iter().all(|m| m == "jobReference,status"),
        "{masks:?}"
    );
}

/// Days larger than one request allows are split into several MERGE jobs by whole
/// days, and still stored exactly.
#[tokio::test]
async fn bigquery_large_writes_are_chunked_by_size() {
    let store = Bq::with_shim("chunked").await;
    let mut sink = store.open().await.expect("open");
    // About 1 MB per day: long titles and many categories, a thousand rows.
    let mut days = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    days.truncate(12);
    for day in &mut days {
        let template = day.rows.clone();
        day.rows = (0..1000)
            .map(|i| {
                let mut row = template[i % template.len()].clone();
                row.article = format!("{}_{i}", long_title(i));
                row.rank = i as u32 + 1;
                let mut page = (*row.page).clone();
                page.categories = (0..2).map(|k| format!("{} {k}", long_title(k))).collect();
                row.page = Arc::new(page);
                row
            })
            .collect();
    }
    sink.write_days(&days).await.expect("write large days");
    let merges = store.shim().merges();
    assert!(merges.len() >= 2, "expected several chunks: {merges:?}");
    assert_eq!(store.count("top_pages").await, 12_000);
    assert_rows(&store.rows(&mut sink).await, &expected(&[&days]));
}

/// A dataset whose `top_pages` is labelled with a newer schema version is refused in
/// one sentence (exit 2), opened to write and to read alike, and left as it was.
#[tokio::test]
async fn bigquery_a_newer_dataset_is_refused() {
    let store = Bq::new("newer").await;
    let mut sink = store.open().await.expect("open");
    assert_eq!(sink.schema_version(), SCHEMA_VERSION);
    let days = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    write_all(&mut sink, &days[..3]).await;
    drop(sink);
    let newer = (SCHEMA_VERSION + 1).to_string();
    store
        .set_labels(
            "top_pages",
            json!({ VERSION_LABEL: newer, "app": "wikitop" }),
        )
        .await;

    for read_only in [false, true] {
        let opened = if read_only {
            BigQuerySink::open(&store.settings(), wikitop::sinks::Mode::Read).await
        } else {
            store.open().await
        };
        let Err(err) = opened else {
            panic!("a newer dataset was opened (read-only: {read_only})");
        };
        assert!(
            matches!(err, Error::StoreTooNew { found, supported, .. }
                if found == SCHEMA_VERSION + 1 && supported == SCHEMA_VERSION),
            "{err}"
        );
        assert!(err.is_usage(), "exit 2");
        let text = err.to_string();
        assert!(
            text.contains(&format!("`{}`", store.settings())) && !text.contains('\n'),
            "{text}"
        );
    }
    assert_eq!(store.labels("top_pages").await[VERSION_LABEL], newer);
    assert_eq!(
        store.count("top_pages").await,
        expected(&[&days[..3]]).len() as i64
    );
}

/// A run knows its deadline: with the deployment's task timeout at 48 h, a run started
/// 30 h before the next is alive (a long task), not abandoned; past 48 h and the margin,
/// it is.
#[tokio::test]
async fn bigquery_the_stale_run_cutoff_is_the_task_timeout() {
    let store = Bq::new("deadline").await;
    let settings = store
        .settings()
        .with_task_timeout(std::time::Duration::from_secs(48 * 3600));
    let hour = 3_600_000_000;
    let base = 1_700_000_000_000_000;
    let mut sink = BigQuerySink::open(&settings, wikitop::sinks::Mode::Write)
        .await
        .expect("open");
    for (id, started) in [("run-long", base), ("run-killed", base - 20 * hour)] {
        sink.record_run(&run(id, started, RunStatus::Running, None))
            .await
            .expect("record a run");
    }
    let next = run("run-next", base + 30 * hour, RunStatus::Running, None);
    sink.record_run(&next).await.expect("record the next run");
    let mut statuses: Vec<(String, RunStatus)> = sink
        .recent_runs(10)
        .await
        .expect("recent runs")
        .into_iter()
        .map(|r| (r.run_id, r.status))
        .collect();
    statuses.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        statuses,
        [
            ("run-killed".to_owned(), RunStatus::Abandoned),
            ("run-long".to_owned(), RunStatus::Running),
            ("run-next".to_owned(), RunStatus::Running),
        ]
    );
}

/// A dataset as the first release left it (today's tables, no version label) is read as
/// it is when opened to read, then stamped with the current version by `open`, keeping
/// every row and its other labels.
#[tokio::test]
async fn bigquery_an_unversioned_dataset_is_stamped_and_keeps_its_rows() {
    let store = Bq::new("unversioned").await;
    let mut sink = store.open().await.expect("open");
    let days = month("en.wikipedia", Access::AllAccess, 0, "run-1");
    write_all(&mut sink, &days).await;
    sink.record_run(&run("run-1", 1_700_000_000_000_000, RunStatus::Ok, None))
        .await
        .expect("record a run");
    drop(sink);
    store
        .set_labels("top_pages", json!({ "app": "wikitop" }))
        .await;
    assert!(store.labels("top_pages").await.get(VERSION_LABEL).is_none());

    let read_only = BigQuerySink::open(&store.settings(), wikitop::sinks::Mode::Read)
        .await
        .expect("an unversioned dataset is read as it is");
    assert_eq!(read_only.schema_version(), 1);
    assert!(
        store.labels("top_pages").await.get(VERSION_LABEL).is_none(),
        "a read-only open stamps nothing"
    );

    let mut sink = store.open().await.expect("open and migrate");
    assert_eq!(sink.schema_version(), SCHEMA_VERSION);
    assert_eq!(
        store.labels("top_pages").await,
        json!({ VERSION_LABEL: SCHEMA_VERSION.to_string(), "app": "wikitop" })
    );
    assert_rows(&store.rows(&mut sink).await, &expected(&[&days]));
    assert_eq!(store.count("ingest_runs").await, 1);
    // Opening the stamped dataset again changes nothing.
    let sink = store.open().await.expect("reopen");
    assert_eq!(sink.schema_version(), SCHEMA_VERSION);
}

/// The emulator endpoint comes from the README's test command; its absence fails.
#[test]
fn bigquery_emulator_is_configured() {
    emulator();
}

/// The whole pipeline into BigQuery: a month synced from the fake Wikimedia server, with
/// the warehouse going away after the first chunk. The run fails with a clear error, the
/// table holds only whole days exactly as served, and the next run completes the range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bigquery_sync_survives_the_warehouse_going_away_mid_run() {
    use crate::support;
    use fakewiki::{Config, FakeWiki};

    let store = Bq::with_shim("warehouse_down").await;
    let fake = FakeWiki::start(Config::realistic(31))
        .await
        .expect("fake wiki");
    let range = support::days(jiff::civil::date(2024, 7, 1), jiff::civil::date(2024, 8, 9));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = support::settings(
        &fake,
        &dir.path().join("unused.duckdb"),
        range[0],
        range[39],
    );
    settings.store = wikitop::StoreSettings::BigQuery(store.settings());
    let mut sink = store.open().await.expect("open");

    // Down as soon as the first chunk's MERGE has gone through (the first MERGE is
    // the run's row in ingest_runs).
    let control = store.shim().control();
    let watcher = tokio::spawn(async move {
        while control.merges_forwarded() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        control.set_down(true);
    });
    let err = support::sync(&settings)
        .await
        .expect_err("the warehouse went away");
    watcher.await.expect("watcher");
    assert!(matches!(err, Error::Store { .. }), "{err}");
    assert!(
        err.to_string().starts_with("the store failed while "),
        "{err}"
    );

    let stored = store.rows(&mut sink).await;
    let days: std::collections::BTreeSet<String> = stored.iter().map(|r| r.date.clone()).collect();
    assert!(
        !days.is_empty() && days.len() < 40,
        "{} days stored before the outage",
        days.len()
    );
    assert_matches_fake(&stored, &fake, &days);

    store.shim().set_down(false);
    let report = support::sync(&settings)
        .await
        .expect("the next run recovers");
    assert_eq!(report.days_written as usize, 40 - days.len());
    let stored = store.rows(&mut sink).await;
    let all: std::collections::BTreeSet<String> = range.iter().map(|d| d.to_string()).collect();
    assert_matches_fake(&stored, &fake, &all);
}

/// Every stored row equals what the fake served for exactly `days`, no row missing or extra.
fn assert_matches_fake(
    stored: &[Row],
    fake: &fakewiki::FakeWiki,
    days: &std::collections::BTreeSet<String>,
) {
    use crate::support::{Comparable, comparable_expected};
    let mut want: Vec<(String, String, Comparable)> = Vec::new();
    for day in days {
        let date: Date = day.parse().expect("a date");
        for r in fake
            .expected_day("en.wikipedia", "all-access", date, 100)
            .expect("served")
        {
            want.push((day.clone(), r.article.clone(), comparable_expected(&r)));
        }
    }
    let mut got: Vec<(String, String, Comparable)> = stored
        .iter()
        .map(|r| {
            let comparable = (
                u32::try_from(r.rank).expect("a rank"),
                u64::try_from(r.views).expect("views"),
                r.title.clone(),
                r.page_id,
                r.namespace.map(|n| i32::try_from(n).expect("a namespace")),
                r.page_status.clone(),
                r.categories.clone(),
                r.hidden_categories.clone(),
                r.wikidata_id.clone(),
            );
            (r.date.clone(), r.article.clone(), comparable)
        })
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
}
