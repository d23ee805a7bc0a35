//! The embedded default store: one DuckDB file.
//!
//! Rows go through DuckDB's appender into a temporary staging table (primitive
//! columns only), then one transaction deletes the staged days from `top_pages` and
//! inserts them from the stage: a day is all or nothing, and a rerun replaces rather
//! than duplicates. The transaction rolls back on drop (the crate's default), so an
//! error or a kill mid-write leaves the previous state. A lock file beside the
//! database keeps a second wikitop process out with a clear message.

mod migrate;
pub(crate) mod query;
pub(crate) mod sql;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use duckdb::{Connection, appender_params_from_iter, params, params_from_iter};
use jiff::civil::Date;

use super::schema::migrations::{MIGRATIONS, added_in};
use super::schema::{INGEST_RUNS, IngestRunRow, Row, TOP_PAGES, TopPageRow};
use super::{ASSESSED_COLUMN, Mode, RANKED_COLUMN, Sink, StoredDays, StoredDaysOf};
use crate::error::{Error, Message, Result};
use crate::model::{Access, Day, DayBatch, Project, RunRecord, RunStatus};

/// A stored row read back, for tests and tools comparing the store with what was served.
pub type StoredRow = TopPageRow;

const STAGE_ROWS: &str = "stage_top_pages";

/// The staged days' keys: a day may have no rows and must still be replaced.
/// Recreated for every write, as the rows' stage is: deleted rows of a temporary table
/// are never reclaimed, so emptying it with DELETE would grow memory with every day of
/// a backfill.
const STAGE_DAYS: &str =
    "CREATE OR REPLACE TEMP TABLE stage_days (date VARCHAR, project VARCHAR, access VARCHAR);";

fn create_stage() -> String {
    format!("{}{STAGE_DAYS}", sql::create_stage(&TOP_PAGES, STAGE_ROWS))
}

/// Deletes the staged days. The constant bounds let DuckDB skip, by their zone maps,
/// the row groups of other days (rows arrive roughly in date order) and of other wikis
/// (a backfill writes one wiki after another), so a write costs the same on day 10 as
/// on day 1,300, and in the twentieth wiki of a store as in the first, instead of
/// scanning every wiki's rows of those dates.
const DELETE_DAYS: &str = r#"
DELETE FROM top_pages t
    USING (SELECT DISTINCT CAST(date AS DATE) AS date, project, access FROM temp.main.stage_days) s
    WHERE t.date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)
      AND t.project BETWEEN ? AND ?
      AND t.date = s.date AND t.project = s.project AND t.access = s.access
"#;

pub struct DuckDbSink {
    conn: Connection,
    /// Held for the sink's lifetime: the OS releases it if the process dies.
    _lock: Option<File>,
    /// Set when opened to write.
    writer: Option<Writer>,
}

/// What a writer keeps to measure its disk before each write and to reopen its
/// connection (see [`REOPEN_AFTER_ROWS`]).
struct Writer {
    path: PathBuf,
    /// The pool `with_pool` set, in MB, which a reopened connection gets again.
    pool_mb: Option<u64>,
    rows_since_open: u64,
}

/// DuckDB 1.5.6 holds on to memory for what a connection has written until it closes:
/// in one run backfilling 20 wikis (1,337 days each) into one store, anonymous memory
/// grew from 28 MB in the first wiki to 67 MB in the twentieth (peak RSS 113 MB), while a
/// fresh process backfilling a 21st wiki into that store peaked at 40 MB (83 MB RSS).
/// So a writer closes and reopens its connection once it has written this many rows,
/// about one wiki's backfill; a daily run never gets there. The same 20-wiki run then
/// peaked at 87.6 MB, anonymous memory at most 40 MB.
const REOPEN_AFTER_ROWS: u64 = 100_000;

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

impl DuckDbSink {
    /// Opens the file at `path` as `mode` says.
    pub fn open(path: &Path, mode: Mode) -> Result<Self> {
        match mode {
            Mode::Write => Self::writer(path),
            Mode::Rewrite => Self::writer(path)?.with_pool(
                ANALYSIS_POOL_MB,
                "sizing the pool for rewriting stored days",
            ),
            Mode::DryRun if path.exists() => Self::reader(path),
            Mode::DryRun => Self::in_memory(),
            Mode::Read => Self::reader(path),
            Mode::Analysis => Self::analyst(path),
        }
    }

    /// Opens (creating if needed) the store for writing, taking its lock, and brings
    /// its schema to the current version (see `migrate.rs`).
    fn writer(path: &Path) -> Result<Self> {
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
        ensure_free_space(path, "opening the store")?;
        let mut conn = attach(path, false)?;
        migrate::open_for_writing(&mut conn, &path.display().to_string(), MIGRATIONS)?;
        conn.execute_batch(&create_stage())
            .map_err(|e| Error::store("creating the staging table", e))?;
        // This process holds the store's only write lock: a run still `running` is one
        // whose process is gone (killed, crashed).
        conn.execute(
            "UPDATE ingest_runs SET status = ? WHERE status = ?",
            [RunStatus::Abandoned.as_str(), RunStatus::Running.as_str()],
        )
        .map_err(|e| Error::store("marking runs whose process is gone as abandoned", e))?;
        Ok(DuckDbSink {
            conn,
            _lock: Some(lock),
            writer: Some(Writer {
                path: path.to_owned(),
                pool_mb: None,
                rows_since_open: 0,
            }),
        })
    }

    /// An empty store in memory: what `--dry-run` plans against when the file does
    /// not exist yet, so a dry run creates nothing.
    fn in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()
            .map_err(|e| Error::store("opening an in-memory store", e))?;
        migrate::open_for_writing(&mut conn, ":memory:", MIGRATIONS)?;
        conn.execute_batch(&create_stage())
            .map_err(|e| Error::store("creating the staging table", e))?;
        Ok(DuckDbSink {
            conn,
            _lock: None,
            writer: None,
        })
    }

    /// Opens an existing store read-only for `report` and `export`, whose queries
    /// aggregate or copy whole ranges at once: they get a pool sized for that (their
    /// memory is not a backfill's) and every core.
    fn analyst(path: &Path) -> Result<Self> {
        Self::reader(path)?.with_pool(
            ANALYSIS_POOL_MB,
            "sizing the pool for a report or an export",
        )
    }

    /// The same store with a pool of `limit` MB and every core.
    fn with_pool(mut self, limit: u64, doing: &str) -> Result<Self> {
        set_pool(&self.conn, limit).map_err(|e| Error::store(doing, e))?;
        if let Some(writer) = &mut self.writer {
            writer.pool_mb = Some(limit);
        }
        Ok(self)
    }

    /// A writer that has written [`REOPEN_AFTER_ROWS`] rows closes its connection and
    /// opens the store again, as it was opened; others keep theirs.
    fn reopen_if_due(&mut self) -> Result<()> {
        let Some(writer) = &mut self.writer else {
            return Ok(());
        };
        if writer.rows_since_open < REOPEN_AFTER_ROWS {
            return Ok(());
        }
        // Two DuckDB instances must never hold one file: the old one closes first (and
        // checkpoints as it does), an empty in-memory one standing in meanwhile.
        let stand_in =
            Connection::open_in_memory().map_err(|e| Error::store("reopening the store", e))?;
        drop(std::mem::replace(&mut self.conn, stand_in));
        let conn = attach(&writer.path, false)?;
        if let Some(limit) = writer.pool_mb {
            set_pool(&conn, limit).map_err(|e| Error::store("reopening the store", e))?;
        }
        self.conn = conn;
        writer.rows_since_open = 0;
        Ok(())
    }

    /// Opens an existing store read-only, for `status`: creates and migrates nothing.
    /// A wikitop run writing to it (holding the lock file) makes it busy.
    fn reader(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::StoreOpen {
                path: path.to_owned(),
                source: "no such file: run `wikitop sync` first".into(),
            });
        }
        // A writer holds the lock exclusively; DuckDB would refuse this reader too,
        // but only with a message to parse. No lock file: no wikitop writer.
        let lock = File::open(lock_path(path)).ok();
        if let Some(lock) = &lock {
            match lock.try_lock_shared() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(Error::StoreBusy(path.display().to_string()));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(Error::StoreOpen {
                        path: path.to_owned(),
                        source: Box::new(e),
                    });
                }
            }
        }
        let conn = attach(path, true)?;
        migrate::check_read_only(&conn, &path.display().to_string())?;
        Ok(DuckDbSink {
            conn,
            _lock: lock,
            writer: None,
        })
    }

    /// The schema version recorded in the store (1 for a store of the first release).
    #[doc(hidden)]
    pub fn schema_version(&self) -> Result<u32> {
        match migrate::inspect(&self.conn, "")? {
            migrate::Found::Version(v) => Ok(v),
            migrate::Found::Unstamped | migrate::Found::Nothing => Ok(1),
        }
    }

    /// Stages the days' keys (a day may have no rows and must still be replaced) and rows.
    fn stage(&self, days: &[DayBatch]) -> duckdb::Result<()> {
        self.conn.execute_batch(&create_stage())?;
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
            .appender_to_catalog_and_db(STAGE_ROWS, "temp", "main")?;
        for day in days {
            for row in &day.rows {
                let values = TopPageRow::new(day, row).to_values();
                app.append_row(appender_params_from_iter(values.iter().map(sql::to_param)))?;
            }
        }
        app.flush()
    }

    /// Reads every row of `R`'s table that `filter` (an SQL condition with `params`)
    /// selects, ordered by `order`.
    fn read<R: Row>(
        &self,
        doing: &str,
        filter: &str,
        order: &str,
        params: impl duckdb::Params,
    ) -> Result<Vec<R>> {
        // A store opened read-only before its migration lacks the newer columns: they
        // read as NULL, which is what the migration will put in them.
        let version = self.schema_version()?;
        let sql = format!(
            "SELECT {} FROM {} WHERE {filter} ORDER BY {order}",
            sql::select_list(R::TABLE, |column| added_in(R::TABLE, column) <= version),
            sql::ident(R::TABLE.name)
        );
        let mut stmt = self
            .conn
            .prepare(&sql)
            .map_err(|e| Error::store(doing, e))?;
        let decoded: Vec<std::result::Result<Vec<_>, String>> = stmt
            .query_map(params, |r| sql::read(R::TABLE, r))
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store(doing, e))?;
        decoded
            .into_iter()
            .map(|values| {
                values
                    .and_then(R::from_values)
                    .map_err(|e| Error::store(doing, e))
            })
            .collect()
    }

    /// Every stored row of a project between two days, in (date, rank, article) order,
    /// whatever its access.
    #[doc(hidden)]
    pub fn read_rows(&self, project: &str, from: Day, to: Day) -> Result<Vec<StoredRow>> {
        self.read(
            "reading rows back",
            "project = ? AND date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            "date, rank, article",
            params![project, from.to_string(), to.to_string()],
        )
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
/// a years-long backfill's memory flat (DuckDB would otherwise take 80% of RAM). The
/// pool fills to its cap, so it is most of a backfill's memory: 32 MB put a three-wiki
/// backfill (3 × 1,337 days) at 106 MB peak RSS in the bench, 16 MB at 95 MB but could
/// not commit a rewrite (`--force`) of 30 days of the wider schema-3 rows ("failed to
/// pin block"); 24 MB does both. It stays 24 MB however large the store: without merges
/// ([`NO_ROW_GROUP_MERGES`]) a wiki's whole range synced into a 1 GB store of 76 wikis
/// with it.
const WRITE_POOL_MB: u64 = 24;
/// DuckDB's checkpoint merges a table's partly filled row groups ("vacuum"), and in a
/// large store a merge took memory the pool does not bound (DuckDB 1.5.6): syncing one
/// wiki's 1,337 days into a store of 19 wikis (276 MB) peaked at 102 MB RSS with merges
/// and 86 MB without; into one of 76 wikis (1 GB), 164 MB against 89 MB, and 159 MB with
/// only two merges as it closed. In 24 MB the checkpoint of a 20-wiki store could not
/// merge at all ("failed to pin block"). So a writer never merges: each checkpoint leaves
/// its rows as a row group of their own (about 5,600 rows per automatic checkpoint in a
/// backfill, one small group per daily run), which costs some compression and nothing
/// in correctness; days that are replaced still free their rows, as DuckDB drops a row
/// group whose rows are all deleted.
const NO_ROW_GROUP_MERGES: &str = "SET max_vacuum_tasks = 0;";
/// A reader (`status`, reading rows back) sorts and scans whole ranges of list columns:
/// 16 MB runs out of memory there when the disk is too full to spill, 32 MB does not.
const READ_POOL_MB: u64 = 32;
/// A report's or an export's pool: a years-long, several-wiki store's aggregations ran
/// out of memory in the 32 MB a reader gets; with 1 GB an export of 402k rows took it
/// all, with 256 MB the same export and report run as fast. `sync --rejudge` gets it
/// too: rewriting 61 stored days a transaction each, the writer's 24 MB pool could not
/// pin a block for the automatic checkpoint ("failed to pin block of size 256.0 KiB").
const ANALYSIS_POOL_MB: u64 = 256;
/// Rows per row group. DuckDB's default (122,880) keeps a growing group of list columns
/// in memory for over a thousand days; small groups are checkpointed as they fill.
const ROW_GROUP_SIZE: u32 = 8192;

/// Gives the connection a pool of `limit` MB and every core.
fn set_pool(conn: &Connection, limit: u64) -> duckdb::Result<()> {
    conn.execute_batch(&format!("SET memory_limit = '{limit}MB'; RESET threads;"))
}

/// Opens the file as the connection's default database, with the memory settings above.
fn attach(path: &Path, read_only: bool) -> Result<Connection> {
    let conn = Connection::open_in_memory().map_err(|e| classify_open(path, e))?;
    // A path is not a bindable parameter in ATTACH: quote it as an SQL string literal.
    let literal = path.display().to_string().replace('\'', "''");
    let (mode, limit, vacuum) = if read_only {
        (", READ_ONLY", READ_POOL_MB, "")
    } else {
        ("", WRITE_POOL_MB, NO_ROW_GROUP_MERGES)
    };
    let spill = spill_directory(path)
        .display()
        .to_string()
        .replace('\'', "''");
    conn.execute_batch(&format!(
        "SET memory_limit = '{limit}MB'; SET threads = 1; SET temp_directory = '{spill}'; {vacuum} \
         ATTACH '{literal}' AS store (ROW_GROUP_SIZE {ROW_GROUP_SIZE}{mode}); USE store;"
    ))
    .map_err(|e| classify_open(path, e))?;
    Ok(conn)
}

/// Where this process's DuckDB spills what its pool cannot hold: beside the store, one
/// directory per process. DuckDB's default for a store ATTACHed to an in-memory
/// database is `.tmp` in the working directory, where two wikitop processes (a
/// scheduled run and a `status`, or parallel tests) wrote spill files of the same names
/// over each other: DuckDB 1.5.6 then crashed (SIGSEGV in its string storage) or read
/// back corrupt blocks, silently storing NULLs.
fn spill_directory(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(name)
}

/// A file DuckDB cannot open. A wikitop run holding it was recognised by the lock file
/// before; another program's lock ends here too, with DuckDB's message as the cause.
/// A full disk is said as such: DuckDB reports the OS's error in its message, and that
/// is all it gives (its C API has no errno), so the disk is measured too.
fn classify_open(path: &Path, e: duckdb::Error) -> Error {
    let text = e.to_string();
    // strerror(ENOSPC), as DuckDB's file system quotes it ("Could not write file …").
    if text.contains(NO_SPACE) || free_bytes(path).is_some_and(|free| free < MIN_FREE_BYTES) {
        return disk_full(path, "opening the store", free_bytes(path));
    }
    Error::StoreOpen {
        path: path.to_owned(),
        source: Box::new(e),
    }
}

/// The OS's words for ENOSPC (glibc's and musl's `strerror`).
const NO_SPACE: &str = "No space left on device";

/// The least free space on the store's disk before wikitop opens it to write or writes
/// days: a write appends to the WAL until DuckDB checkpoints it (at 16 MB, DuckDB's
/// `checkpoint_threshold`), and the checkpoint then writes about as much into the file.
/// DuckDB 1.5.6 running out of disk mid-write failed with "No space left on device" or,
/// while pool sizes were being tried for issue 20, crashed; stopping before that point
/// loses nothing.
const MIN_FREE_BYTES: u64 = 32 * 1024 * 1024;

/// Free bytes for an unprivileged writer on the disk holding `path` (`statvfs`'s
/// `f_bavail` blocks of `f_frsize`); `None` where that cannot be measured.
fn free_bytes(path: &Path) -> Option<u64> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    #[cfg(unix)]
    {
        let stat = rustix::fs::statvfs(dir).ok()?;
        Some(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        None
    }
}

/// Refuses to go on when the store's disk is (nearly) full, before DuckDB writes.
fn ensure_free_space(path: &Path, doing: &str) -> Result<()> {
    match free_bytes(path) {
        Some(free) if free < MIN_FREE_BYTES => Err(disk_full(path, doing, Some(free))),
        _ => Ok(()),
    }
}

fn disk_full(path: &Path, doing: &str, free: Option<u64>) -> Error {
    let mb = |b: u64| b / (1024 * 1024);
    let free = free.map_or_else(|| "no space".to_owned(), |f| format!("{} MB", mb(f)));
    Error::store(
        format!("{doing} `{}`", path.display()),
        Message(format!(
            "the disk holding it is full ({free} free, wikitop needs {} MB): free some space \
             and run again; nothing stored was lost",
            mb(MIN_FREE_BYTES)
        )),
    )
}

fn parse_date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|e: jiff::Error| Error::store("reading a date", e))
}

impl Sink for DuckDbSink {
    /// Days ready at the same moment share one transaction: a daily run commits its
    /// day at once, a fast backfill commits in groups instead of paying a commit a day.
    fn batching(&self) -> super::Batching {
        super::Batching {
            max_days: 32,
            flush_partial: true,
            max_age: super::Batching::DEFAULT_MAX_AGE,
        }
    }

    async fn read_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<Vec<TopPageRow>> {
        self.read(
            "reading stored days",
            "project = ? AND access = ? AND date BETWEEN CAST(? AS DATE) AND CAST(? AS DATE)",
            "date, rank, article",
            params![
                project.as_str(),
                access.as_str(),
                from.to_string(),
                to.to_string()
            ],
        )
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
        self.reopen_if_due()?;
        if let Some(writer) = &self.writer {
            ensure_free_space(&writer.path, "writing days into")?;
        }
        self.stage(days)
            .map_err(|e| Error::store("staging rows", e))?;
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::store("starting a transaction", e))?;
        let first = days.iter().map(|d| d.date).min().unwrap_or_default();
        let last = days.iter().map(|d| d.date).max().unwrap_or_default();
        let projects = days.iter().map(|d| d.project.as_str());
        let low = projects.clone().min().unwrap_or_default();
        let high = projects.max().unwrap_or_default();
        tx.execute(
            DELETE_DAYS,
            params![first.to_string(), last.to_string(), low, high],
        )
        .and_then(|_| tx.execute(&sql::insert_from_stage(&TOP_PAGES, STAGE_ROWS), []))
        .map_err(|e| Error::store("replacing days", e))?;
        tx.commit()
            .map_err(|e| Error::store("committing days", e))?;
        if let Some(writer) = &mut self.writer {
            writer.rows_since_open += days.iter().map(|d| d.rows.len() as u64).sum::<u64>();
        }
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
        let values = IngestRunRow::new(run).to_values();
        tx.execute(
            &sql::insert_values(&INGEST_RUNS),
            params_from_iter(values.iter().map(sql::to_param)),
        )
        .map_err(|e| Error::store(doing, e))?;
        tx.commit().map_err(|e| Error::store(doing, e))
    }

    async fn all_stored_days(&mut self) -> Result<Vec<StoredDays>> {
        let doing = "listing stored days";
        // A store opened read-only before its migration has no such column yet.
        let version = self.schema_version()?;
        let has = |column: &str, aggregate: &str| {
            if version >= added_in(&TOP_PAGES, column) {
                format!("{aggregate}({} IS NOT NULL)", sql::ident(column))
            } else {
                "false".to_owned()
            }
        };
        let (assessed, ranked) = (
            has(ASSESSED_COLUMN, "bool_and"),
            has(RANKED_COLUMN, "bool_or"),
        );
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT project, access, CAST(date AS VARCHAR), {assessed}, {ranked} \
                 FROM top_pages GROUP BY ALL"
            ))
            .map_err(|e| Error::store(doing, e))?;
        let rows: Vec<(String, String, String, bool, bool)> = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store(doing, e))?;
        let mut grouped: BTreeMap<(String, String), StoredDaysOf> = BTreeMap::new();
        for (project, access, date, assessed, ranked) in rows {
            grouped
                .entry((project, access))
                .or_default()
                .add(parse_date(&date)?, assessed, ranked);
        }
        grouped
            .into_iter()
            .map(|((project, access), days)| {
                Ok(days.finish(
                    project.parse().map_err(|e| Error::store(doing, e))?,
                    access.parse().map_err(|e: String| Error::store(doing, e))?,
                ))
            })
            .collect()
    }

    async fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        let rows: Vec<IngestRunRow> = self.read(
            "reading the run ledger",
            "true",
            "started_at DESC LIMIT ?",
            [limit as i64],
        )?;
        Ok(rows.into_iter().map(RunRecord::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each process spills beside its store, never into a working directory that
    /// another wikitop process may share.
    #[test]
    fn a_process_spills_beside_its_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.duckdb");
        for mode in [Mode::Write, Mode::Read] {
            let sink = DuckDbSink::open(&path, mode).unwrap();
            let spill: String = sink
                .conn
                .query_row("SELECT current_setting('temp_directory')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(spill, spill_directory(&path).display().to_string());
            assert!(spill.starts_with(&path.display().to_string()), "{spill}");
        }
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        // DuckDB makes the directory only to spill, and removes it on close.
        assert!(!left.iter().any(|f| f.ends_with(".tmp")), "{left:?}");
    }
    /// Reopening a store at the current version writes nothing to its WAL: tables are
    /// commented and views made only when the store is created or migrated (on a full
    /// disk every open grew the WAL).
    #[test]
    fn reopening_a_current_store_writes_no_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.duckdb");
        drop(DuckDbSink::open(&path, Mode::Write).unwrap());
        let wal = dir.path().join("w.duckdb.wal");
        let sink = DuckDbSink::open(&path, Mode::Write).unwrap();
        let logged = std::fs::metadata(&wal).map_or(0, |m| m.len());
        assert_eq!(logged, 0, "reopening wrote {logged} bytes of WAL");
        drop(sink);
    }

    /// A day of one missing page, as the pipeline would hand it over.
    fn one_row_day(date: Date) -> DayBatch {
        use crate::model::{Assessment, PageInfo, PageStatus, TopRow};
        let fetched_at = jiff::Timestamp::UNIX_EPOCH;
        DayBatch {
            date,
            project: "en.wikipedia".parse().unwrap(),
            access: Access::AllAccess,
            rows: vec![TopRow {
                rank: 1,
                article: "Nothing_here".into(),
                views: 7,
                page: std::sync::Arc::new(PageInfo::without_page(
                    "Nothing here",
                    PageStatus::Missing,
                    fetched_at,
                )),
                assessment: Assessment {
                    desktop: None,
                    suspect: None,
                    is_article: false,
                    article_rank: None,
                    mostread_rank: None,
                },
            }],
            run_id: "run".into(),
            ingested_at: fetched_at,
        }
    }

    /// A writer past [`REOPEN_AFTER_ROWS`] closes and reopens its connection before its
    /// next write: what it wrote stays, the next write lands, the store stays locked to
    /// other writers and a rewrite keeps its pool.
    #[tokio::test]
    async fn a_writer_reopening_its_connection_keeps_rows_lock_and_pool() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.duckdb");
        let pool = |sink: &DuckDbSink| -> String {
            let sql = "SELECT current_setting('memory_limit')";
            sink.conn.query_row(sql, [], |r| r.get(0)).unwrap()
        };
        let mut sink = DuckDbSink::open(&path, Mode::Rewrite).unwrap();
        let rewrite_pool = pool(&sink);
        let (first, second) = (jiff::civil::date(2023, 4, 1), jiff::civil::date(2023, 4, 2));
        sink.write_days(&[one_row_day(first)]).await.unwrap();
        sink.writer.as_mut().unwrap().rows_since_open = REOPEN_AFTER_ROWS;
        sink.write_days(&[one_row_day(second)]).await.unwrap();

        assert_eq!(
            sink.writer.as_ref().unwrap().rows_since_open,
            1,
            "not reopened"
        );
        let dates: Vec<Date> = sink
            .read_rows("en.wikipedia", first, second)
            .unwrap()
            .iter()
            .map(|r| r.date)
            .collect();
        assert_eq!(dates, [first, second]);
        assert_eq!(pool(&sink), rewrite_pool);
        assert!(matches!(
            DuckDbSink::open(&path, Mode::Write),
            Err(Error::StoreBusy(_))
        ));
    }

    /// A full disk is one sentence that says so, names the file and the space
    /// needed, and says nothing stored was lost.
    #[test]
    fn a_full_disk_is_said_in_one_sentence() {
        let path = Path::new("/data/w.duckdb");
        let text = disk_full(path, "writing days into", Some(3 * 1024 * 1024)).to_string();
        assert_eq!(
            text,
            "the store failed while writing days into `/data/w.duckdb`"
        );
        let err = disk_full(path, "writing days into", Some(3 * 1024 * 1024));
        let cause = std::error::Error::source(&err).unwrap().to_string();
        assert!(
            cause.contains("disk holding it is full (3 MB free, wikitop needs 32 MB)")
                && cause.contains("nothing stored was lost")
                && !cause.contains('\n'),
            "{cause}"
        );
        assert!(!err.is_usage());
        // Here the disk has room: the check passes and measures something.
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path().join("w.duckdb");
        assert!(free_bytes(&here).is_some_and(|f| f >= MIN_FREE_BYTES));
        ensure_free_space(&here, "writing days into").unwrap();
    }
}
