//! The production store: a BigQuery dataset holding `top_pages` (partitioned by `date`,
//! clustered by `project, article`), `ingest_runs` and the view `top_page_categories`,
//! created from the definition in `sinks/schema.rs` when missing and checked against it
//! when present.
//!
//! Each chunk of days is written by **one `MERGE` statement** whose source is the
//! chunk's rows passed as one JSON STRING query parameter: rows of those days that
//! match are updated, new ones inserted, and rows of those days that the chunk no
//! longer has are deleted. A DML statement is atomic, so a chunk is all or nothing,
//! and there is no staging table or streaming insert (BigQuery refuses DML on rows
//! still in the streaming buffer). The job id is derived from the run id and the
//! chunk's content, so a retried submission waits for the job already running
//! instead of running the MERGE twice (see `jobs.rs`). Chunks go one after another:
//! BigQuery runs at most 2 mutating DML statements per table at once and 25 per 10 s.
//!
//! The folder is split by job, as vector's `src/sinks/gcp/bigquery/` is: `client.rs`
//! connects (credentials, API clients), `provision.rs` gets or creates the dataset,
//! tables and view and checks them, `migrate.rs` keeps the schema version (`lock.rs`: one migrator at a time), `sql.rs`
//! holds the statement text, `jobs.rs` runs statements exactly once, `rows.rs` and
//! `schema.rs` encode and decode. This file is the sink. Every value reaches the SQL as
//! a bound query parameter or inside the JSON parameter; the project and dataset are
//! validated by [`BigQuerySettings::new`] before any SQL is built. Nothing here knows
//! Wikimedia.

mod client;
mod jobs;
mod lock;
mod migrate;
mod provision;
mod query;
mod rows;
pub(crate) mod schema;
mod sql;

use std::collections::{BTreeMap, BTreeSet};

use google_cloud_bigquery_v2::model::QueryParameter;
use tracing::{info, warn};

pub use self::lock::LOCK_TABLE;
pub use self::migrate::VERSION_LABEL;

use self::client::Clients;
use self::jobs::{Jobs, ResultRows};
use self::rows::{cells, scalar_param, string_param};
use super::schema::{INGEST_RUNS, IngestRunRow, TOP_PAGES, TopPageRow};
use super::{Mode, Sink, StoredDays, StoredDaysOf};
use crate::error::{Error, Message, Result};
use crate::model::{Access, Day, DayBatch, Project, RunRecord, RunStatus};
use crate::settings::BigQuerySettings;

/// The production sink; see the module documentation.
pub struct BigQuerySink {
    settings: BigQuerySettings,
    jobs: Jobs,
    /// The dataset's schema version as found (after any migration `open` made).
    schema_version: u32,
    merge_top_pages: String,
    merge_run: String,
    abandon_stale_runs: String,
}

impl BigQuerySink {
    /// The most days the pipeline passes to one `write_days` call. At the usual ~100 KB
    /// of JSON per day (100 rows with their categories) they make one chunk of ~3 MB,
    /// so a 1,337-day backfill takes 45 MERGE jobs; a run killed mid-way loses at most
    /// the days not yet merged, never part of a day.
    pub const MAX_DAYS_PER_WRITE: usize = 30;
    /// The most bytes of rows (as escaped in the request) in one MERGE job: well under
    /// BigQuery's 10 MB request limit, with room for the statement and parameters.
    /// A call whose days are larger is split into several jobs, by whole days.
    pub const MAX_CHUNK_BYTES: usize = 6 * 1024 * 1024;

    /// Connects and checks the schema. To write (`Write`, and `DryRun`, which plans
    /// against the dataset it would write to) it creates the dataset (in `location`, if
    /// given) and the tables and views when missing and migrates an older dataset to
    /// the current schema version; to read it creates and migrates nothing, and a
    /// dataset or table that does not exist is an error that says to run `sync` first.
    /// Either way it refuses a newer dataset or tables whose schema differs.
    pub async fn open(settings: &BigQuerySettings, mode: Mode) -> Result<Self> {
        let create = matches!(mode, Mode::Write | Mode::Rewrite | Mode::DryRun);
        let mut clients = Clients::connect(settings).await?;
        let location = provision::dataset(&clients.datasets, settings, create).await?;
        clients.jobs.set_location(Some(location));
        let schema_version = provision::tables(&clients, settings, create).await?;
        info!(dataset = %settings, schema_version, "Opened the BigQuery dataset.");
        Ok(BigQuerySink {
            merge_top_pages: sql::merge_top_pages(&sql::table_path(settings, TOP_PAGES.name)),
            merge_run: sql::merge_run(&sql::table_path(settings, INGEST_RUNS.name)),
            abandon_stale_runs: sql::abandon_stale_runs(&sql::table_path(
                settings,
                INGEST_RUNS.name,
            )),
            settings: settings.clone(),
            jobs: clients.jobs,
            schema_version,
        })
    }

    /// The dataset, as `project.dataset`.
    pub(crate) fn dataset(&self) -> String {
        self.settings.to_string()
    }

    /// The dataset's schema version: the current one when opened to write; possibly
    /// older when opened to read, which reads an older dataset as it is.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The MERGE job's id: same run, same chunk, same rows, same id. A retried
    /// submission then meets the job it already created (409) and waits for it.
    fn chunk_job_id(
        &self,
        index: usize,
        project: &str,
        access: &str,
        dates: &[Day],
        run_id: &str,
        rows_json: &str,
    ) -> String {
        let mut fingerprint = rows::Fingerprint::new()
            .add(&sql::table_path(&self.settings, TOP_PAGES.name))
            .add(project)
            .add(access);
        for date in dates {
            fingerprint = fingerprint.add(&date.to_string());
        }
        let fingerprint = fingerprint.add(rows_json).hex();
        format!(
            "wikitop_{}_{index:03}_{fingerprint}",
            rows::job_id_part(run_id)
        )
    }

    /// Writes one chunk of days of one (project, access) with one MERGE job.
    async fn merge_chunk(
        &self,
        index: usize,
        project: &str,
        access: &str,
        days: &[&DayBatch],
        fragments: &[String],
    ) -> Result<()> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(());
        };
        let rows_json = rows::rows_array(fragments.iter().map(String::as_str));
        let dates: Vec<Day> = days.iter().map(|d| d.date).collect();
        let base_id = self.chunk_job_id(index, project, access, &dates, &first.run_id, &rows_json);
        let row_count: usize = days.iter().map(|d| d.rows.len()).sum();
        let bytes = rows::escaped_len(&rows_json);
        let params = vec![
            string_param("rows", &rows_json),
            string_param("project", project),
            string_param("access", access),
            rows::dates_param("days", &dates),
        ];
        let job = self
            .jobs
            .run(&base_id, &self.merge_top_pages, params)
            .await
            .map_err(|e| {
                Error::store(
                    format!(
                        "writing {} day(s) {}..{} of {project} {access} into `{}`",
                        days.len(),
                        first.date,
                        last.date,
                        sql::table_path(&self.settings, TOP_PAGES.name).trim_matches('`'),
                    ),
                    e,
                )
            })?;
        let job_id = job.job_reference.map(|r| r.job_id).unwrap_or_default();
        info!(
            job_id,
            project,
            access,
            from = %first.date,
            to = %last.date,
            days = days.len(),
            rows = row_count,
            bytes,
            "Merged days into BigQuery."
        );
        Ok(())
    }

    async fn query(
        &self,
        what: &str,
        sql: &str,
        params: Vec<QueryParameter>,
    ) -> Result<ResultRows> {
        self.jobs
            .query(what, sql, params)
            .await
            .map_err(|e| Error::store(what, e))
    }
}

/// `@project`, `@access`, `@from` and `@to`: the days of one (project, access) that
/// `stored_days` and `read_days` select.
fn range_params(project: &Project, access: Access, from: Day, to: Day) -> Vec<QueryParameter> {
    vec![
        string_param("project", project.as_str()),
        string_param("access", access.as_str()),
        rows::scalar_param("from", "DATE", &from.to_string()),
        rows::scalar_param("to", "DATE", &to.to_string()),
    ]
}

fn decode<T>(what: &str, result: std::result::Result<T, String>) -> Result<T> {
    result.map_err(|detail| {
        Error::store(
            what,
            Message(format!("unexpected answer from BigQuery: {detail}")),
        )
    })
}

impl Sink for BigQuerySink {
    /// Every write is a MERGE job: the pipeline gathers up to `MAX_DAYS_PER_WRITE`
    /// days first, one job per chunk rather than per day (a daily run still writes
    /// its one day), and what is ready at least every `DEFAULT_MAX_AGE`. `write_days`
    /// still splits a call by `MAX_CHUNK_BYTES`, which only this sink can measure.
    fn batching(&self) -> super::Batching {
        super::Batching {
            max_days: Self::MAX_DAYS_PER_WRITE,
            flush_partial: false,
            max_age: super::Batching::DEFAULT_MAX_AGE,
        }
    }

    async fn stored_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<BTreeSet<Day>> {
        let what = "listing the days stored in BigQuery";
        let sql = sql::stored_days(&sql::table_path(&self.settings, TOP_PAGES.name));
        let params = range_params(project, access, from, to);
        let result = self.query(what, &sql, params).await?;
        result
            .iter()
            .map(|row| decode(what, cells(row, 1).and_then(|c| rows::date(c[0], "date"))))
            .collect()
    }

    async fn read_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<Vec<TopPageRow>> {
        let what = "reading stored days from BigQuery";
        let sql = sql::read_days(&sql::table_path(&self.settings, TOP_PAGES.name));
        let params = range_params(project, access, from, to);
        let result = self.query(what, &sql, params).await?;
        result
            .iter()
            .map(|row| decode(what, rows::decode_row::<TopPageRow>(row)))
            .collect()
    }

    async fn write_days(&mut self, days: &[DayBatch]) -> Result<()> {
        // One MERGE replaces whole days of one (project, access); a day given twice
        // is written as its last version.
        let mut groups: BTreeMap<(&str, &str), BTreeMap<Day, &DayBatch>> = BTreeMap::new();
        for day in days {
            groups
                .entry((day.project.as_str(), day.access.as_str()))
                .or_default()
                .insert(day.date, day);
        }
        let mut index = 0;
        for ((project, access), by_date) in groups {
            let days: Vec<&DayBatch> = by_date.into_values().collect();
            let mut fragments = Vec::with_capacity(days.len());
            for day in &days {
                let (fragment, duplicates) = rows::day_fragment(day);
                if duplicates > 0 {
                    warn!(day = %day.date, project, access, duplicates,
                        "The top list names an article more than once; kept its first row.");
                }
                fragments.push(fragment);
            }
            // +1 for the comma joining two days.
            let sizes: Vec<usize> = fragments.iter().map(|f| rows::escaped_len(f) + 1).collect();
            for range in rows::chunks(&sizes, Self::MAX_CHUNK_BYTES) {
                self.merge_chunk(
                    index,
                    project,
                    access,
                    &days[range.clone()],
                    &fragments[range],
                )
                .await?;
                index += 1;
            }
        }
        Ok(())
    }

    async fn record_run(&mut self, run: &RunRecord) -> Result<()> {
        // A fresh id per call; retries of this one submission reuse it.
        let base_id = format!(
            "wikitop_{}_ledger_{:016x}",
            rows::job_id_part(&run.run_id),
            fastrand::u64(..)
        );
        let params = vec![string_param("run", &rows::run_json(run))];
        let mut statements = vec![(base_id.clone(), self.merge_run.as_str(), params)];
        if run.status == RunStatus::Running {
            let stale = i64::try_from(self.settings.stale_after().as_micros()).unwrap_or(i64::MAX);
            let cutoff = run.started_at.as_microsecond().saturating_sub(stale);
            let params = vec![scalar_param("cutoff", "INT64", &cutoff.to_string())];
            statements.push((
                format!("{base_id}_abandon"),
                &self.abandon_stale_runs,
                params,
            ));
        }
        for (id, statement, params) in statements {
            self.jobs.run(&id, statement, params).await.map_err(|e| {
                Error::store(
                    format!(
                        "recording run `{}` in `{}`",
                        run.run_id,
                        sql::table_path(&self.settings, INGEST_RUNS.name).trim_matches('`')
                    ),
                    e,
                )
            })?;
        }
        Ok(())
    }

    async fn all_stored_days(&mut self) -> Result<Vec<StoredDays>> {
        let what = "listing the days stored in BigQuery";
        // A dataset opened read-only before its migration lacks the newer columns.
        let sql = sql::all_stored_days(
            &sql::table_path(&self.settings, TOP_PAGES.name),
            self.schema_version,
        );
        let result = self.query(what, &sql, Vec::new()).await?;
        let mut grouped: BTreeMap<(String, String), StoredDaysOf> = BTreeMap::new();
        for row in &result {
            let (project, access, date, assessed, ranked) = decode(
                what,
                cells(row, 5).and_then(|c| {
                    Ok((
                        rows::req_str(c[0], "project")?.to_owned(),
                        rows::req_str(c[1], "access")?.to_owned(),
                        rows::date(c[2], "date")?,
                        rows::req_str(c[3], "assessed")? == "true",
                        rows::req_str(c[4], "ranked")? == "true",
                    ))
                }),
            )?;
            grouped
                .entry((project, access))
                .or_default()
                .add(date, assessed, ranked);
        }
        grouped
            .into_iter()
            .map(|((project, access), days)| {
                Ok(days.finish(
                    decode(
                        what,
                        project
                            .parse()
                            .map_err(|e: crate::model::UnknownProject| e.to_string()),
                    )?,
                    decode(what, access.parse())?,
                ))
            })
            .collect()
    }

    async fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        let what = "reading the run ledger in BigQuery";
        let sql = sql::recent_runs(&sql::table_path(&self.settings, INGEST_RUNS.name));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX).to_string();
        let result = self
            .query(
                what,
                &sql,
                vec![rows::scalar_param("limit", "INT64", &limit)],
            )
            .await?;
        result
            .iter()
            .map(|row| decode(what, rows::decode_row::<IngestRunRow>(row)).map(RunRecord::from))
            .collect()
    }
}
