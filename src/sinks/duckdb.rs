//! The embedded default store: one DuckDB file.
//!
//! Rows go through DuckDB's appender into a temporary staging table (primitive
//! columns only), then one transaction deletes the staged days from `top_pages` and
//! inserts them from the stage: a day is all or nothing, and a rerun replaces rather
//! than duplicates. The transaction rolls back on drop (the crate's default), so an
//! error or a kill mid-write leaves the previous state. A lock file beside the
//! database keeps a second wikitop process out with a clear message.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use duckdb::{Connection, params};
use jiff::Timestamp;
use jiff::civil::Date;

use super::{Sink, StoredDays};
use crate::error::{Error, Result};
use crate::model::{Access, Day, DayBatch, PageStatus, Project, RunRecord, RunStatus};

/// Joins list values in the stage; never part of a MediaWiki title (control character).
const LIST_SEP: char = '\u{1f}';

const TOP_PAGES_COLUMNS: &[(&str, &str)] = &[
    ("date", "DATE"),
    ("project", "VARCHAR"),
    ("access", "VARCHAR"),
    ("rank", "INTEGER"),
    ("article", "VARCHAR"),
    ("views", "BIGINT"),
    ("title", "VARCHAR"),
    ("page_id", "BIGINT"),
    ("namespace", "INTEGER"),
    ("page_status", "VARCHAR"),
    ("categories", "VARCHAR[]"),
    ("hidden_categories", "VARCHAR[]"),
    ("categories_fetched_at", "TIMESTAMP"),
    ("ingested_at", "TIMESTAMP"),
    ("run_id", "VARCHAR"),
];

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS top_pages (
    date DATE NOT NULL,
    project VARCHAR NOT NULL,
    access VARCHAR NOT NULL,
    rank INTEGER NOT NULL,
    article VARCHAR NOT NULL,
    views BIGINT NOT NULL,
    title VARCHAR NOT NULL,
    page_id BIGINT,
    namespace INTEGER,
    page_status VARCHAR NOT NULL,
    categories VARCHAR[] NOT NULL,
    hidden_categories VARCHAR[] NOT NULL,
    categories_fetched_at TIMESTAMP NOT NULL,
    ingested_at TIMESTAMP NOT NULL,
    run_id VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS ingest_runs (
    run_id VARCHAR NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    arguments VARCHAR NOT NULL,
    days_written BIGINT NOT NULL,
    rows_written BIGINT NOT NULL,
    http_requests BIGINT NOT NULL,
    http_retries BIGINT NOT NULL,
    error VARCHAR
);
"#;

/// Descriptions and the view, made once the table is known to have our schema.
const DESCRIPTIONS_AND_VIEW: &str = r#"
COMMENT ON TABLE top_pages IS 'Daily top pages of a Wikimedia project with their categories; one row per (date, project, access, article).';
COMMENT ON COLUMN top_pages.rank IS 'Rank as the Pageviews API served it; tied views share a rank.';
COMMENT ON COLUMN top_pages.article IS 'Article name exactly as the Pageviews API returned it.';
COMMENT ON COLUMN top_pages.title IS 'Page whose categories are stored: normalised, every redirect followed; the article itself when no page was found.';
COMMENT ON COLUMN top_pages.page_status IS 'ok, redirect, missing, special, invalid or no_title (the Pageviews API''s - row).';
COMMENT ON COLUMN top_pages.categories IS 'Visible categories without the Category: prefix, sorted.';
COMMENT ON COLUMN top_pages.hidden_categories IS 'Hidden (maintenance) categories, same form.';
CREATE OR REPLACE VIEW top_page_categories AS
    SELECT date, project, access, rank, article, views, title, unnest(categories) AS category
    FROM top_pages;
"#;

/// Recreated for every write: deleted rows of a temporary table are never reclaimed, so
/// emptying it with DELETE would grow memory with every day of a backfill.
const STAGE: &str = r#"
CREATE OR REPLACE TEMP TABLE stage_top_pages (
    date VARCHAR, project VARCHAR, access VARCHAR, rank INTEGER, article VARCHAR,
    views BIGINT, title VARCHAR, page_id BIGINT, namespace INTEGER, page_status VARCHAR,
    categories VARCHAR, hidden_categories VARCHAR, categories_fetched_at BIGINT,
    ingested_at BIGINT, run_id VARCHAR
);
CREATE OR REPLACE TEMP TABLE stage_days (date VARCHAR, project VARCHAR, access VARCHAR);
"#;

/// Deletes the staged days. The constant date bounds let DuckDB skip, by their zone
/// maps, the row groups of other days (rows arrive roughly in date order), so a write
/// costs the same on day 10 as on day 1,300 instead of scanning the whole table.
const DELETE_DAYS: &str = r#"
DELETE FROM top_pages t
    USING (SELECT DISTINCT CAST(date AS DATE) AS date, project, access FROM temp.main.stage_days) s
    WHERE t.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND t.date = s.date AND t.project = s.project AND t.access = s.access
"#;

const INSERT_DAYS: &str = r#"
INSERT INTO top_pages
    SELECT CAST(date AS DATE), project, access, rank, article, views, title, page_id, namespace,
        page_status,
        CASE WHEN categories = '' THEN []::VARCHAR[] ELSE string_split(categories, chr(31)) END,
        CASE WHEN hidden_categories = '' THEN []::VARCHAR[] ELSE string_split(hidden_categories, chr(31)) END,
        make_timestamp(categories_fetched_at), make_timestamp(ingested_at), run_id
    FROM temp.main.stage_top_pages
"#;

pub struct DuckDbSink {
    conn: Connection,
    /// Held for the sink's lifetime: the OS releases it if the process dies.
    _lock: Option<File>,
}

/// A stored row read back, for tests and tools comparing the store with what was served.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    pub date: Day,
    pub project: String,
    pub access: String,
    pub rank: u32,
    pub article: String,
    pub views: u64,
    pub title: String,
    pub page_id: Option<i64>,
    pub namespace: Option<i32>,
    pub page_status: PageStatus,
    pub categories: Vec<String>,
    pub hidden_categories: Vec<String>,
    pub categories_fetched_at: Timestamp,
    pub ingested_at: Timestamp,
    pub run_id: String,
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl DuckDbSink {
    /// Opens (creating if needed) the store for writing, taking its lock.
    pub fn open(path: &Path) -> Result<Self> {
        let open_err = |e: Box<dyn std::error::Error + Send + Sync>| Error::StoreOpen {
            path: path.to_owned(),
            source: e,
        };
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(path))
            .map_err(|e| open_err(Box::new(e)))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::StoreBusy(path.display().to_string()));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(open_err(Box::new(e))),
        }
        let conn = attach(path, false)?;
        conn.execute_batch(SCHEMA)
            .map_err(|e| open_err(Box::new(e)))?;
        let sink = DuckDbSink {
            conn,
            _lock: Some(lock),
        };
        sink.check_schema()?;
        sink.conn
            .execute_batch(DESCRIPTIONS_AND_VIEW)
            .map_err(|e| Error::store("describing the tables", e))?;
        sink.conn
            .execute_batch(STAGE)
            .map_err(|e| Error::store("creating the staging table", e))?;
        Ok(sink)
    }

    /// An empty store in memory: what `--dry-run` plans against when the file does
    /// not exist yet, so a dry run creates nothing.
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()
            .map_err(|e| Error::store("opening an in-memory store", e))?;
        conn.execute_batch(SCHEMA)
            .and_then(|()| conn.execute_batch(DESCRIPTIONS_AND_VIEW))
            .map_err(|e| Error::store("creating the schema", e))?;
        conn.execute_batch(STAGE)
            .map_err(|e| Error::store("creating the staging table", e))?;
        Ok(DuckDbSink { conn, _lock: None })
    }

    /// Opens an existing store read-only, for `status`: creates nothing.
    pub fn open_read_only(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::StoreOpen {
                path: path.to_owned(),
                source: "no such file: run `wikitop sync` first".into(),
            });
        }
        let conn = attach(path, true)?;
        let sink = DuckDbSink { conn, _lock: None };
        match sink.check_schema() {
            // A store created by a run killed before its first statement: nothing in it.
            Err(Error::SchemaMismatch { detail, .. }) if detail.starts_with("found []") => {
                Err(Error::StoreOpen {
                    path: path.to_owned(),
                    source: "it holds no wikitop tables yet: run `wikitop sync` first".into(),
                })
            }
            other => other.map(|()| sink),
        }
    }

    fn check_schema(&self) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT column_name, data_type FROM information_schema.columns \
                 WHERE table_name = 'top_pages' AND table_schema = 'main' ORDER BY ordinal_position",
            )
            .map_err(|e| Error::store("reading the schema", e))?;
        let found: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store("reading the schema", e))?;
        let expected: Vec<(String, String)> = TOP_PAGES_COLUMNS
            .iter()
            .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
            .collect();
        if found != expected {
            let describe = |cols: &[(String, String)]| {
                cols.iter()
                    .map(|(n, t)| format!("{n} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Err(Error::SchemaMismatch {
                table: "top_pages".into(),
                detail: format!(
                    "found [{}], expected [{}]",
                    describe(&found),
                    describe(&expected)
                ),
            });
        }
        Ok(())
    }

    /// Stages the days' keys (a day may have no rows and must still be replaced) and rows.
    fn stage(&self, days: &[DayBatch]) -> duckdb::Result<()> {
        self.conn.execute_batch(STAGE)?;
        let mut keys = self
            .conn
            .appender_to_catalog_and_db("stage_days", "temp", "main")?;
        for day in days {
            keys.append_row((
                day.date.to_string(),
                day.project.as_str(),
                day.access.as_str(),
            ))?;
        }
        keys.flush()?;
        drop(keys);
        let mut app = self
            .conn
            .appender_to_catalog_and_db("stage_top_pages", "temp", "main")?;
        let mut cats = String::new();
        let mut hidden = String::new();
        for day in days {
            let date = day.date.to_string();
            let ingested = day.ingested_at.as_microsecond();
            for row in &day.rows {
                join_into(&mut cats, &row.page.categories);
                join_into(&mut hidden, &row.page.hidden_categories);
                app.append_row((
                    date.as_str(),
                    day.project.as_str(),
                    day.access.as_str(),
                    row.rank,
                    row.article.as_str(),
                    i64::try_from(row.views).unwrap_or(i64::MAX),
                    row.page.title.as_str(),
                    row.page.page_id,
                    row.page.namespace,
                    row.page.status.as_str(),
                    cats.as_str(),
                    hidden.as_str(),
                    row.page.fetched_at.as_microsecond(),
                    ingested,
                    day.run_id.as_str(),
                ))?;
            }
        }
        app.flush()
    }

    /// Every stored row of a project between two days, in (date, rank, article) order.
    #[doc(hidden)]
    pub fn read_rows(&self, project: &str, from: Day, to: Day) -> Result<Vec<StoredRow>> {
        let sql = "SELECT CAST(date AS VARCHAR), project, access, rank, article, views, title, page_id, namespace, \
                   page_status, array_to_string(categories, chr(31)), array_to_string(hidden_categories, chr(31)), \
                   epoch_us(categories_fetched_at), epoch_us(ingested_at), run_id \
                   FROM top_pages WHERE project = ? AND date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE) \
                   ORDER BY date, rank, article";
        let doing = "reading rows back";
        let mut stmt = self.conn.prepare(sql).map_err(|e| Error::store(doing, e))?;
        let rows = stmt
            .query_map(params![project, from.to_string(), to.to_string()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, u32>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Option<i64>>(7)?,
                    r.get::<_, Option<i32>>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, String>(10)?,
                    r.get::<_, String>(11)?,
                    r.get::<_, i64>(12)?,
                    r.get::<_, i64>(13)?,
                    r.get::<_, String>(14)?,
                ))
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(|e| Error::store(doing, e))?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredRow {
                    date: parse_date(&r.0)?,
                    project: r.1,
                    access: r.2,
                    rank: r.3,
                    article: r.4,
                    views: r.5.max(0) as u64,
                    title: r.6,
                    page_id: r.7,
                    namespace: r.8,
                    page_status: r.9.parse().map_err(|e: String| Error::store(doing, e))?,
                    categories: split_list(&r.10),
                    hidden_categories: split_list(&r.11),
                    categories_fetched_at: micros(r.12)?,
                    ingested_at: micros(r.13)?,
                    run_id: r.14,
                })
            })
            .collect()
    }

    /// Number of rows per (date, project, access, article) seen more than once: always 0.
    #[doc(hidden)]
    pub fn duplicate_rows(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT count(*) FROM (SELECT 1 FROM top_pages GROUP BY date, project, access, article HAVING count(*) > 1)",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| Error::store("counting duplicates", e))
    }
}

/// DuckDB's buffer pool for the writer: a day's rows are small, and a bounded pool keeps
/// a years-long backfill's memory flat (DuckDB would otherwise take 80% of RAM).
const MEMORY_LIMIT: &str = "32MB";
/// Rows per row group. DuckDB's default (122,880) keeps a growing group of list columns
/// in memory for over a thousand days; small groups are checkpointed as they fill.
const ROW_GROUP_SIZE: u32 = 8192;

/// Opens the file as the connection's default database, with the memory settings above.
fn attach(path: &Path, read_only: bool) -> Result<Connection> {
    let conn = Connection::open_in_memory().map_err(|e| classify_open(path, e))?;
    // A path is not a bindable parameter in ATTACH: quote it as an SQL string literal.
    let literal = path.display().to_string().replace('\'', "''");
    let mode = if read_only { ", READ_ONLY" } else { "" };
    conn.execute_batch(&format!(
        "SET memory_limit = '{MEMORY_LIMIT}'; SET threads = 1; \
         ATTACH '{literal}' AS store (ROW_GROUP_SIZE {ROW_GROUP_SIZE}{mode}); USE store;"
    ))
    .map_err(|e| classify_open(path, e))?;
    Ok(conn)
}

fn classify_open(path: &Path, e: duckdb::Error) -> Error {
    let text = e.to_string();
    if text.contains("lock") {
        Error::StoreBusy(path.display().to_string())
    } else {
        Error::StoreOpen {
            path: path.to_owned(),
            source: Box::new(e),
        }
    }
}

fn join_into(buf: &mut String, items: &[String]) {
    buf.clear();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            buf.push(LIST_SEP);
        }
        buf.push_str(item);
    }
}

fn split_list(s: &str) -> Vec<String> {
    if s.is_empty() {
        Vec::new()
    } else {
        s.split(LIST_SEP).map(str::to_owned).collect()
    }
}

fn parse_date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e: jiff::Error| Error::store("reading a date", e))
}

fn micros(us: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|e| Error::store("reading a timestamp", e))
}

fn opt_micros(us: Option<i64>) -> Result<Option<Timestamp>> {
    us.map(micros).transpose()
}

impl Sink for DuckDbSink {
    /// Days ready at the same moment share one transaction: a daily run commits its
    /// day at once, a fast backfill commits in groups instead of paying a commit a day.
    fn max_days_per_write(&self) -> usize {
        32
    }

    async fn stored_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<BTreeSet<Day>> {
        let doing = "listing stored days";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT DISTINCT CAST(date AS VARCHAR) FROM top_pages \
                 WHERE project = ? AND access = ? AND date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            )
            .map_err(|e| Error::store(doing, e))?;
        let days: Vec<String> = stmt
            .query_map(
                params![
                    project.as_str(),
                    access.as_str(),
                    from.to_string(),
                    to.to_string()
                ],
                |r| r.get(0),
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store(doing, e))?;
        days.iter().map(|d| parse_date(d)).collect()
    }

    async fn write_days(&mut self, days: &[DayBatch]) -> Result<()> {
        if days.is_empty() {
            return Ok(());
        }
        self.stage(days)
            .map_err(|e| Error::store("staging rows", e))?;
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::store("starting a transaction", e))?;
        let first = days.iter().map(|d| d.date).min().unwrap_or_default();
        let last = days.iter().map(|d| d.date).max().unwrap_or_default();
        tx.execute(DELETE_DAYS, params![first.to_string(), last.to_string()])
            .and_then(|_| tx.execute(INSERT_DAYS, []))
            .map_err(|e| Error::store("replacing days", e))?;
        tx.commit()
            .map_err(|e| Error::store("committing days", e))?;
        Ok(())
    }

    async fn record_run(&mut self, run: &RunRecord) -> Result<()> {
        let doing = "recording the run";
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::store(doing, e))?;
        tx.execute("DELETE FROM ingest_runs WHERE run_id = ?", [&run.run_id])
            .map_err(|e| Error::store(doing, e))?;
        tx.execute(
            "INSERT INTO ingest_runs VALUES (?, make_timestamp(?), make_timestamp(?), ?, ?, ?, ?, ?, ?, ?)",
            params![
                run.run_id,
                run.started_at.as_microsecond(),
                run.finished_at.map(|t| t.as_microsecond()),
                run.status.as_str(),
                run.arguments,
                run.days_written as i64,
                run.rows_written as i64,
                run.http_requests as i64,
                run.http_retries as i64,
                run.error,
            ],
        )
        .map_err(|e| Error::store(doing, e))?;
        tx.commit().map_err(|e| Error::store(doing, e))
    }

    async fn all_stored_days(&mut self) -> Result<Vec<StoredDays>> {
        let doing = "listing stored days";
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT project, access, CAST(date AS VARCHAR) FROM top_pages")
            .map_err(|e| Error::store(doing, e))?;
        let rows: Vec<(String, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store(doing, e))?;
        let mut grouped: BTreeMap<(String, String), BTreeSet<Day>> = BTreeMap::new();
        for (project, access, date) in rows {
            grouped
                .entry((project, access))
                .or_default()
                .insert(parse_date(&date)?);
        }
        grouped
            .into_iter()
            .map(|((project, access), days)| {
                Ok(StoredDays {
                    project: project.parse().map_err(|e| Error::store(doing, e))?,
                    access: access.parse().map_err(|e: String| Error::store(doing, e))?,
                    days,
                })
            })
            .collect()
    }

    async fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        let doing = "reading the run ledger";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT run_id, epoch_us(started_at), epoch_us(finished_at), status, arguments, days_written, \
                 rows_written, http_requests, http_retries, error FROM ingest_runs \
                 ORDER BY started_at DESC LIMIT ?",
            )
            .map_err(|e| Error::store(doing, e))?;
        type Raw = (
            String,
            i64,
            Option<i64>,
            String,
            String,
            i64,
            i64,
            i64,
            i64,
            Option<String>,
        );
        let rows: Vec<Raw> = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store(doing, e))?;
        rows.into_iter()
            .map(|r| {
                Ok(RunRecord {
                    run_id: r.0,
                    started_at: micros(r.1)?,
                    finished_at: opt_micros(r.2)?,
                    status: r
                        .3
                        .parse::<RunStatus>()
                        .map_err(|e| Error::store(doing, e))?,
                    arguments: r.4,
                    days_written: r.5.max(0) as u64,
                    rows_written: r.6.max(0) as u64,
                    http_requests: r.7.max(0) as u64,
                    http_retries: r.8.max(0) as u64,
                    error: r.9,
                })
            })
            .collect()
    }
}
