//! The production store: a BigQuery dataset holding `top_pages` (partitioned by `date`,
//! clustered by `project, article`), `ingest_runs` and the view `top_page_categories`,
//! created from `schema/*.json` when missing and checked against it when present.
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
//! Every value reaches the SQL as a bound query parameter or inside the JSON
//! parameter; identifiers are validated by [`BigQueryConfig::new`] before any SQL is
//! built. This module knows SQL and the BigQuery API, nothing of Wikimedia.

mod jobs;
mod rows;
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use google_cloud_auth::credentials::{Credentials, anonymous};
use google_cloud_bigquery_v2::client::{DatasetService, JobService, TableService};
use google_cloud_bigquery_v2::model::{
    Clustering, Dataset, DatasetReference, QueryParameter, Table, TableReference, TimePartitioning,
    ViewDefinition,
};
use tracing::{info, warn};

use self::jobs::{Jobs, ResultRows, api_error, retrying};
use self::rows::{cells, string_param};
use self::schema::{Column, INGEST_RUNS_COLUMNS, TOP_PAGES_COLUMNS, quoted};
use super::{Sink, StoredDays};
use crate::error::{Error, Message, Result};
use crate::model::{Access, Day, DayBatch, Project, RunRecord, RunStatus};

/// Without a credentials file, ADC falls back to the metadata server, which answers in
/// milliseconds on Cloud Run and GCE; elsewhere the auth library would retry for about a
/// minute before giving up. So a machine without credentials fails after this long.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// With a credentials file, getting a token is one HTTPS exchange.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

/// Where to store: a validated `project.dataset`, an optional location for a dataset
/// created by wikitop, and an optional endpoint (an emulator, used without credentials).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigQueryConfig {
    project_id: String,
    dataset: String,
    location: Option<String>,
    endpoint: Option<String>,
}

fn invalid(what: &'static str, value: &str, why: &str) -> Error {
    Error::InvalidSetting {
        what,
        value: value.to_owned(),
        why: why.to_owned(),
    }
}

/// `my-project`, or a legacy domain-scoped `example.com:my-project`
/// (<https://cloud.google.com/resource-manager/docs/creating-managing-projects>).
fn valid_project_id(project: &str) -> bool {
    let (domain, id) = match project.rsplit_once(':') {
        Some((domain, id)) => (Some(domain), id),
        None => (None, project),
    };
    let domain_ok = domain.is_none_or(|d| {
        !d.is_empty()
            && d.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
    });
    domain_ok
        && (6..=30).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Letters, digits and underscores, at most 1024
/// (<https://cloud.google.com/bigquery/docs/datasets#dataset-naming>).
fn valid_dataset_name(dataset: &str) -> bool {
    (1..=1024).contains(&dataset.len())
        && dataset
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl BigQueryConfig {
    /// Validates `dataset` (`PROJECT.DATASET`, e.g. `my-project.wikitop`), `location`
    /// (e.g. `US`, `EU`, `europe-west1`) and `endpoint` (e.g. `http://127.0.0.1:9050`)
    /// before anything is sent or any SQL is built from them.
    pub fn new(dataset: &str, location: Option<&str>, endpoint: Option<&str>) -> Result<Self> {
        const WHAT: &str = "BigQuery dataset";
        let full = dataset.trim();
        let Some((project_id, dataset)) = full.rsplit_once('.') else {
            return Err(invalid(
                WHAT,
                full,
                "expected `PROJECT.DATASET`, e.g. `my-project.wikitop`",
            ));
        };
        if !valid_project_id(project_id) {
            return Err(invalid(
                WHAT,
                full,
                &format!(
                    "`{project_id}` is not a Google Cloud project id (6 to 30 lowercase letters, \
                     digits or hyphens, starting with a letter, not ending with a hyphen)"
                ),
            ));
        }
        if !valid_dataset_name(dataset) {
            return Err(invalid(
                WHAT,
                full,
                &format!(
                    "`{dataset}` is not a BigQuery dataset name (only letters, digits and \
                     underscores, at most 1024)"
                ),
            ));
        }
        let location = location.map(str::trim).filter(|l| !l.is_empty());
        if let Some(l) = location
            && (l.len() > 64 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(invalid(
                "BigQuery location",
                l,
                "expected a location such as `US`, `EU` or `europe-west1`",
            ));
        }
        let endpoint = endpoint.map(str::trim).filter(|e| !e.is_empty());
        if let Some(e) = endpoint {
            let ok = reqwest::Url::parse(e)
                .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
            if !ok {
                return Err(invalid(
                    "BigQuery endpoint",
                    e,
                    "expected an http:// or https:// URL such as `http://127.0.0.1:9050`",
                ));
            }
        }
        Ok(BigQueryConfig {
            project_id: project_id.to_owned(),
            dataset: dataset.to_owned(),
            location: location.map(str::to_owned),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
        })
    }

    pub fn project_id(&self) -> &str {
        &self.project_id
    }

    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The table's path for SQL, e.g. `` `my-project.wikitop.top_pages` ``.
    fn table_path(&self, table: &str) -> String {
        format!("`{}.{}.{table}`", self.project_id, self.dataset)
    }
}

impl fmt::Display for BigQueryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.project_id, self.dataset)
    }
}

/// Whether ADC would read a credentials file (`GOOGLE_APPLICATION_CREDENTIALS`, or the
/// file `gcloud auth application-default login` writes) rather than ask the metadata
/// server: the lookup order of AIP-4110, as `google-cloud-auth` implements it.
fn adc_file_present() -> bool {
    if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some() {
        return true;
    }
    let root = if cfg!(windows) {
        std::env::var_os("APPDATA").map(|r| std::path::PathBuf::from(r).join("gcloud"))
    } else {
        std::env::var_os("HOME").map(|r| std::path::PathBuf::from(r).join(".config/gcloud"))
    };
    root.is_some_and(|r| r.join("application_default_credentials.json").is_file())
}

/// Anonymous credentials for an emulator; otherwise Application Default Credentials,
/// checked here by fetching one token, so that a machine without any fails now, in
/// one sentence, instead of at the first request after a minute of retries.
async fn credentials(endpoint: Option<&str>) -> Result<Credentials> {
    if endpoint.is_some() {
        return Ok(anonymous::Builder::new().build());
    }
    let adc = google_cloud_auth::credentials::Builder::default()
        .build_access_token_credentials()
        .map_err(|e| Error::NoCredentials(Box::new(e)))?;
    let file = adc_file_present();
    let timeout = if file {
        TOKEN_TIMEOUT
    } else {
        METADATA_TIMEOUT
    };
    // Without a file the only question is whether a metadata server answered; the
    // auth library's ten-line chain for "it did not" helps no one, its last cause does.
    let no_metadata_server = |detail: String| {
        Error::NoCredentials(Box::new(Message(format!(
            "GOOGLE_APPLICATION_CREDENTIALS is unset, there is no gcloud application-default \
             credentials file, and no metadata server answered ({detail})"
        ))))
    };
    match tokio::time::timeout(timeout, adc.access_token()).await {
        Ok(Ok(_)) => Ok(adc.into()),
        Ok(Err(e)) if file => Err(Error::NoCredentials(Box::new(e))),
        Ok(Err(e)) => Err(no_metadata_server(root_cause(&e))),
        Err(_) if file => Err(Error::NoCredentials(
            format!("no access token within {} s", timeout.as_secs()).into(),
        )),
        Err(_) => Err(no_metadata_server(format!(
            "no answer within {} s",
            timeout.as_secs()
        ))),
    }
}

/// The innermost cause of an error chain, e.g. "Name or service not known".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut e = e;
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}

/// The production sink; see the module documentation.
pub struct BigQuerySink {
    config: BigQueryConfig,
    jobs: Jobs,
    merge_top_pages: String,
    merge_run: String,
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

    /// Connects, creates the dataset (in `location`, if given) and the tables and view
    /// when missing, and refuses existing tables whose schema differs.
    pub async fn open(config: &BigQueryConfig) -> Result<Self> {
        Self::connect(config, true).await
    }

    /// Connects and checks the schema but creates nothing, for `status`: a dataset or
    /// table that does not exist is an error that says to run `sync` first.
    pub async fn open_read_only(config: &BigQueryConfig) -> Result<Self> {
        Self::connect(config, false).await
    }

    async fn connect(config: &BigQueryConfig, create: bool) -> Result<Self> {
        let credentials = credentials(config.endpoint()).await?;
        let connecting = |e| Error::store(format!("connecting to BigQuery for `{config}`"), e);
        macro_rules! client {
            ($service:ty $(, $default_headers:expr)?) => {{
                let mut builder = <$service>::builder().with_credentials(credentials.clone());
                if let Some(endpoint) = config.endpoint() {
                    builder = builder.with_endpoint(endpoint);
                }
                $(builder = builder.with_extension($default_headers);)?
                builder.build().await.map_err(connecting)?
            }};
        }
        let datasets = client!(DatasetService);
        let tables = client!(TableService);
        let mut jobs = Jobs::new(
            client!(JobService, jobs::job_status_headers()),
            client!(JobService),
            config.project_id(),
        );

        let location = ensure_dataset(&datasets, config, create).await?;
        jobs.set_location(Some(location));
        let top_pages = Table::new()
            .set_description(schema::TOP_PAGES_DESCRIPTION)
            .set_schema(schema::table_schema(&TOP_PAGES_COLUMNS))
            .set_time_partitioning(
                TimePartitioning::new()
                    .set_type("DAY")
                    .set_field(schema::PARTITION_COLUMN),
            )
            .set_clustering(Clustering::new().set_fields(schema::CLUSTERING));
        ensure_table(&tables, config, schema::TOP_PAGES, top_pages, create).await?;
        let ingest_runs = Table::new()
            .set_description(schema::INGEST_RUNS_DESCRIPTION)
            .set_schema(schema::table_schema(&INGEST_RUNS_COLUMNS));
        ensure_table(&tables, config, schema::INGEST_RUNS, ingest_runs, create).await?;
        let view = Table::new()
            .set_description(schema::TOP_PAGE_CATEGORIES_DESCRIPTION)
            .set_view(
                ViewDefinition::new()
                    .set_query(view_sql(config))
                    .set_use_legacy_sql(false),
            );
        ensure_table(&tables, config, schema::TOP_PAGE_CATEGORIES, view, create).await?;

        info!(dataset = %config, "Opened the BigQuery dataset.");
        Ok(BigQuerySink {
            merge_top_pages: merge_top_pages_sql(&config.table_path(schema::TOP_PAGES)),
            merge_run: merge_run_sql(&config.table_path(schema::INGEST_RUNS)),
            config: config.clone(),
            jobs,
        })
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
        let mut fingerprint = rows::Fingerprint::new()
            .add(&self.config.table_path(schema::TOP_PAGES))
            .add(project)
            .add(access);
        for date in &dates {
            fingerprint = fingerprint.add(&date.to_string());
        }
        let fingerprint = fingerprint.add(&rows_json).hex();
        // Same run, same chunk, same rows: same id. A retried submission then meets
        // the job it already created (409) and waits for it.
        let base_id = format!(
            "wikitop_{}_{index:03}_{fingerprint}",
            rows::job_id_part(&first.run_id)
        );
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
                        self.config.table_path(schema::TOP_PAGES).trim_matches('`'),
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

/// Gets the dataset (creating it if allowed) and returns its location.
async fn ensure_dataset(
    datasets: &DatasetService,
    config: &BigQueryConfig,
    create: bool,
) -> Result<String> {
    let project = config.project_id();
    let doing = format!("opening the BigQuery dataset `{config}`");
    let get = || async {
        retrying(|| {
            datasets
                .get_dataset()
                .set_project_id(project)
                .set_dataset_id(config.dataset())
                .send()
        })
        .await
    };
    let dataset = match get().await {
        Ok(dataset) => dataset,
        Err(e) if e.http_status_code() == Some(404) && !create => {
            return Err(invalid(
                "BigQuery dataset",
                &config.to_string(),
                "it does not exist: run `wikitop sync --sink bigquery` first, or check the name",
            ));
        }
        Err(e) if e.http_status_code() == Some(404) => {
            let mut new = Dataset::new()
                .set_dataset_reference(
                    DatasetReference::new()
                        .set_project_id(project)
                        .set_dataset_id(config.dataset()),
                )
                .set_description("Daily top Wikipedia pages with their categories (wikitop).");
            if let Some(location) = config.location() {
                new = new.set_location(location);
            }
            let inserted = retrying(|| {
                datasets
                    .insert_dataset()
                    .set_project_id(project)
                    .set_dataset(new.clone())
                    .send()
            })
            .await;
            match inserted {
                Ok(dataset) => {
                    info!(dataset = %config, location = %dataset.location, "Created the BigQuery dataset.");
                    dataset
                }
                // Created meanwhile by another run.
                Err(e) if e.http_status_code() == Some(409) => get().await.map_err(|e| {
                    Error::store(&doing, api_error(project, "reading the dataset", e))
                })?,
                Err(e) => {
                    return Err(Error::store(
                        &doing,
                        api_error(
                            project,
                            &format!(
                                "creating the dataset (create it yourself with `bq mk --dataset \
                                 {project}:{}`, or grant bigquery.datasets.create)",
                                config.dataset()
                            ),
                            e,
                        ),
                    ));
                }
            }
        }
        Err(e) => {
            return Err(Error::store(
                &doing,
                api_error(project, "reading the dataset", e),
            ));
        }
    };
    if let Some(wanted) = config.location()
        && !dataset.location.is_empty()
        && !dataset.location.eq_ignore_ascii_case(wanted)
    {
        return Err(invalid(
            "BigQuery location",
            wanted,
            &format!(
                "the dataset `{config}` already exists in `{}`: use that location or leave it unset",
                dataset.location
            ),
        ));
    }
    Ok(dataset.location)
}

/// Gets a table or view (creating it from `wanted` if allowed) and checks that it has
/// the expected kind, columns and partitioning.
async fn ensure_table(
    tables: &TableService,
    config: &BigQueryConfig,
    name: &str,
    wanted: Table,
    create: bool,
) -> Result<()> {
    let project = config.project_id();
    let doing = format!("opening the BigQuery table `{config}.{name}`");
    let get = || async {
        retrying(|| {
            tables
                .get_table()
                .set_project_id(project)
                .set_dataset_id(config.dataset())
                .set_table_id(name)
                .send()
        })
        .await
    };
    let found = match get().await {
        Ok(table) => table,
        Err(e) if e.http_status_code() == Some(404) && !create => {
            return Err(invalid(
                "BigQuery dataset",
                &config.to_string(),
                &format!("it has no `{name}` yet: run `wikitop sync --sink bigquery` first"),
            ));
        }
        Err(e) if e.http_status_code() == Some(404) => {
            let new = wanted.clone().set_table_reference(
                TableReference::new()
                    .set_project_id(project)
                    .set_dataset_id(config.dataset())
                    .set_table_id(name),
            );
            let inserted = retrying(|| {
                tables
                    .insert_table()
                    .set_project_id(project)
                    .set_dataset_id(config.dataset())
                    .set_table(new.clone())
                    .send()
            })
            .await;
            match inserted {
                Ok(_) => {
                    info!(table = %format!("{config}.{name}"), "Created the BigQuery table.");
                    return Ok(());
                }
                Err(e) if e.http_status_code() == Some(409) => get().await.map_err(|e| {
                    Error::store(&doing, api_error(project, "reading the table", e))
                })?,
                Err(e) => {
                    return Err(Error::store(
                        &doing,
                        api_error(project, "creating the table", e),
                    ));
                }
            }
        }
        Err(e) => {
            return Err(Error::store(
                &doing,
                api_error(project, "reading the table", e),
            ));
        }
    };
    check_table(name, &wanted, &found)
}

fn kind(table: &Table) -> &'static str {
    if table.view.is_some() || table.r#type == "VIEW" {
        "VIEW"
    } else {
        "TABLE"
    }
}

/// Refuses an existing object that would not hold what wikitop writes.
fn check_table(name: &str, wanted: &Table, found: &Table) -> Result<()> {
    let mismatch = |detail: String| {
        Err(Error::SchemaMismatch {
            table: name.to_owned(),
            detail,
        })
    };
    // `type` may be empty in a minimal answer; a table answers with a schema.
    let found_kind = if found.r#type.is_empty() && found.schema.is_some() {
        "TABLE"
    } else if found.r#type.is_empty() {
        kind(wanted)
    } else {
        found.r#type.as_str()
    };
    if found_kind != kind(wanted) {
        return mismatch(format!("it is a {found_kind}, expected a {}", kind(wanted)));
    }
    let Some(expected) = &wanted.schema else {
        return Ok(()); // a view: its columns follow top_pages
    };
    let columns: Vec<Column> = if name == schema::TOP_PAGES {
        TOP_PAGES_COLUMNS.clone()
    } else {
        INGEST_RUNS_COLUMNS.clone()
    };
    debug_assert_eq!(expected.fields.len(), columns.len());
    let fields = found
        .schema
        .as_ref()
        .map(|s| s.fields.as_slice())
        .unwrap_or_default();
    if let Some(detail) = schema::differences(&columns, fields) {
        return mismatch(detail);
    }
    if let Some(partitioning) = &wanted.time_partitioning {
        let found_field = found
            .time_partitioning
            .as_ref()
            .and_then(|p| p.field.as_deref());
        if found_field != partitioning.field.as_deref() {
            return mismatch(format!(
                "it is not partitioned by `{}`",
                partitioning.field.as_deref().unwrap_or_default()
            ));
        }
    }
    Ok(())
}

fn view_sql(config: &BigQueryConfig) -> String {
    format!(
        "SELECT date, project, access, rank, article, views, title, category\n\
         FROM {}, UNNEST(categories) AS category",
        config.table_path(schema::TOP_PAGES)
    )
}

fn select_list(columns: &[Column], src: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{} AS {}", schema::from_json(c, src), quoted(&c.name)))
        .collect::<Vec<_>>()
        .join(",\n    ")
}

fn insert_and_update(columns: &[Column], key: &[&str]) -> (String, String, String) {
    let names = columns.iter().map(|c| quoted(&c.name)).collect::<Vec<_>>();
    let values = columns
        .iter()
        .map(|c| format!("S.{}", quoted(&c.name)))
        .collect::<Vec<_>>();
    let updates = columns
        .iter()
        .filter(|c| !key.contains(&c.name.as_str()))
        .map(|c| format!("{0} = S.{0}", quoted(&c.name)))
        .collect::<Vec<_>>();
    (names.join(", "), values.join(", "), updates.join(", "))
}

/// Replaces exactly the days in `@days` of `@project`/`@access` with the rows in
/// `@rows`. The source is read from one JSON STRING parameter: the emulator ignores an
/// ARRAY<STRUCT> parameter as a MERGE source, and a STRING works the same everywhere.
/// The day filter sits in the DELETE clause (not in ON) because the emulator cannot
/// run an outer join on a subquery condition; BigQuery then scans the key columns of
/// the whole table, a few MB for years of days.
fn merge_top_pages_sql(table: &str) -> String {
    let columns = &*TOP_PAGES_COLUMNS;
    let on = schema::TOP_PAGES_KEY
        .iter()
        .map(|k| format!("T.{0} = S.{0}", quoted(k)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let (names, values, updates) = insert_and_update(columns, &schema::TOP_PAGES_KEY);
    format!(
        "MERGE {table} AS T\n\
         USING (\n  SELECT\n    {select}\n  FROM UNNEST(JSON_QUERY_ARRAY(@rows)) AS x\n) AS S\n\
         ON {on}\n\
         WHEN MATCHED THEN UPDATE SET {updates}\n\
         WHEN NOT MATCHED BY TARGET THEN INSERT ({names}) VALUES ({values})\n\
         WHEN NOT MATCHED BY SOURCE AND T.`project` = @project AND T.`access` = @access \
         AND T.`date` IN UNNEST(@days) THEN DELETE",
        select = select_list(columns, "x"),
    )
}

/// Inserts or updates one run, read from the JSON STRING parameter `@run`.
fn merge_run_sql(table: &str) -> String {
    let columns = &*INGEST_RUNS_COLUMNS;
    let (names, values, updates) = insert_and_update(columns, &["run_id"]);
    format!(
        "MERGE {table} AS T\n\
         USING (\n  SELECT\n    {select}\n) AS S\n\
         ON T.`run_id` = S.`run_id`\n\
         WHEN MATCHED THEN UPDATE SET {updates}\n\
         WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})",
        select = select_list(columns, "@run"),
    )
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
    /// Every write is a MERGE job: the pipeline gathers up to this many days first.
    fn max_days_per_write(&self) -> usize {
        Self::MAX_DAYS_PER_WRITE
    }

    /// One job per chunk rather than per day (a daily run still writes its one day).
    fn flush_partial(&self) -> bool {
        false
    }

    async fn stored_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<BTreeSet<Day>> {
        let what = "listing the days stored in BigQuery";
        // On the partitioning column: BigQuery reads only the partitions of the range.
        let sql = format!(
            "SELECT DISTINCT `date` FROM {} \
             WHERE `project` = @project AND `access` = @access AND `date` BETWEEN @from AND @to",
            self.config.table_path(schema::TOP_PAGES)
        );
        let params = vec![
            string_param("project", project.as_str()),
            string_param("access", access.as_str()),
            rows::scalar_param("from", "DATE", &from.to_string()),
            rows::scalar_param("to", "DATE", &to.to_string()),
        ];
        let result = self.query(what, &sql, params).await?;
        result
            .iter()
            .map(|row| decode(what, cells(row, 1).and_then(|c| rows::date(c[0], "date"))))
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
        self.jobs
            .run(&base_id, &self.merge_run, params)
            .await
            .map_err(|e| {
                Error::store(
                    format!(
                        "recording run `{}` in `{}`",
                        run.run_id,
                        self.config
                            .table_path(schema::INGEST_RUNS)
                            .trim_matches('`')
                    ),
                    e,
                )
            })?;
        Ok(())
    }

    async fn all_stored_days(&mut self) -> Result<Vec<StoredDays>> {
        let what = "listing the days stored in BigQuery";
        let sql = format!(
            "SELECT DISTINCT `project`, `access`, `date` FROM {}",
            self.config.table_path(schema::TOP_PAGES)
        );
        let result = self.query(what, &sql, Vec::new()).await?;
        let mut grouped: BTreeMap<(String, String), BTreeSet<Day>> = BTreeMap::new();
        for row in &result {
            let (project, access, date) = decode(
                what,
                cells(row, 3).and_then(|c| {
                    Ok((
                        rows::req_str(c[0], "project")?.to_owned(),
                        rows::req_str(c[1], "access")?.to_owned(),
                        rows::date(c[2], "date")?,
                    ))
                }),
            )?;
            grouped.entry((project, access)).or_default().insert(date);
        }
        grouped
            .into_iter()
            .map(|((project, access), days)| {
                Ok(StoredDays {
                    project: decode(
                        what,
                        project
                            .parse()
                            .map_err(|e: crate::model::UnknownProject| e.to_string()),
                    )?,
                    access: decode(what, access.parse())?,
                    days,
                })
            })
            .collect()
    }

    async fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        let what = "reading the run ledger in BigQuery";
        let names = INGEST_RUNS_COLUMNS
            .iter()
            .map(|c| quoted(&c.name))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {names} FROM {} ORDER BY `started_at` DESC, `run_id` DESC LIMIT @limit",
            self.config.table_path(schema::INGEST_RUNS)
        );
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
            .map(|row| decode(what, run_record(row)))
            .collect()
    }
}

/// One `ingest_runs` row, in the column order of `schema/ingest_runs.json`.
fn run_record(
    row: &serde_json::Map<String, serde_json::Value>,
) -> std::result::Result<RunRecord, String> {
    let c = cells(row, INGEST_RUNS_COLUMNS.len())?;
    let count = |i: usize, name: &str| -> std::result::Result<u64, String> {
        Ok(u64::try_from(rows::req_int(c[i], name)?).unwrap_or(0))
    };
    Ok(RunRecord {
        run_id: rows::req_str(c[0], "run_id")?.to_owned(),
        started_at: rows::timestamp(c[1], "started_at")?,
        finished_at: rows::opt_timestamp(c[2], "finished_at")?,
        status: rows::req_str(c[3], "status")?.parse::<RunStatus>()?,
        arguments: rows::req_str(c[4], "arguments")?.to_owned(),
        days_written: count(5, "days_written")?,
        rows_written: count(6, "rows_written")?,
        http_requests: count(7, "http_requests")?,
        http_retries: count(8, "http_retries")?,
        error: rows::opt_str(c[9], "error")?.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(dataset: &str) -> Result<BigQueryConfig> {
        BigQueryConfig::new(dataset, None, None)
    }

    #[test]
    fn datasets_are_validated_before_any_sql() {
        let ok = config(" my-project.wikitop ").unwrap();
        assert_eq!((ok.project_id(), ok.dataset()), ("my-project", "wikitop"));
        assert_eq!(ok.to_string(), "my-project.wikitop");
        let scoped = config("example.com:my-project.Wiki_Top_2").unwrap();
        assert_eq!(scoped.project_id(), "example.com:my-project");
        for (bad, why) in [
            ("wikitop", "expected `PROJECT.DATASET`"),
            ("my-project.", "is not a BigQuery dataset name"),
            ("my-project.wiki-top", "is not a BigQuery dataset name"),
            ("my-project.wiki`top", "is not a BigQuery dataset name"),
            (
                "my-project.top; DROP TABLE x",
                "is not a BigQuery dataset name",
            ),
            ("My-Project.wikitop", "is not a Google Cloud project id"),
            ("proj.wikitop", "is not a Google Cloud project id"),
            ("my-project-.wikitop", "is not a Google Cloud project id"),
            ("1project.wikitop", "is not a Google Cloud project id"),
            ("my`project.wikitop", "is not a Google Cloud project id"),
            (".wikitop", "is not a Google Cloud project id"),
        ] {
            let err = config(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidSetting { .. }), "{bad}");
            assert!(err.to_string().contains(why), "{bad}: {err}");
            assert!(err.is_usage());
        }
    }

    #[test]
    fn location_and_endpoint_are_validated() {
        let c = BigQueryConfig::new(
            "my-project.wikitop",
            Some("europe-west1"),
            Some("http://127.0.0.1:9050/"),
        )
        .unwrap();
        assert_eq!(c.location(), Some("europe-west1"));
        assert_eq!(c.endpoint(), Some("http://127.0.0.1:9050"));
        assert_eq!(
            BigQueryConfig::new("my-project.wikitop", Some(""), None)
                .unwrap()
                .location(),
            None
        );
        for location in ["US'", "eu west", "x".repeat(65).as_str()] {
            let err = BigQueryConfig::new("my-project.wikitop", Some(location), None).unwrap_err();
            assert!(
                err.to_string().contains("invalid BigQuery location"),
                "{err}"
            );
        }
        for endpoint in ["127.0.0.1:9050", "ftp://x", "http://"] {
            let err = BigQueryConfig::new("my-project.wikitop", None, Some(endpoint)).unwrap_err();
            assert!(
                err.to_string().contains("invalid BigQuery endpoint"),
                "{endpoint}: {err}"
            );
        }
    }

    #[test]
    fn statements_bind_every_value() {
        let merge = merge_top_pages_sql("`p.d.top_pages`");
        for needle in [
            "MERGE `p.d.top_pages` AS T",
            "FROM UNNEST(JSON_QUERY_ARRAY(@rows)) AS x",
            "CAST(JSON_VALUE(x, '$.date') AS DATE) AS `date`",
            "JSON_VALUE_ARRAY(x, '$.categories') AS `categories`",
            "TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.ingested_at') AS INT64)) AS `ingested_at`",
            "ON T.`date` = S.`date` AND T.`project` = S.`project` AND T.`access` = S.`access` AND T.`article` = S.`article`",
            "WHEN MATCHED THEN UPDATE SET `rank` = S.`rank`",
            "WHEN NOT MATCHED BY TARGET THEN INSERT (`date`, `project`",
            "T.`date` IN UNNEST(@days) THEN DELETE",
        ] {
            assert!(merge.contains(needle), "{needle}\n{merge}");
        }
        assert!(
            !merge.contains("`article` = S.`article`,"),
            "keys are not updated"
        );
        let run = merge_run_sql("`p.d.ingest_runs`");
        assert!(
            run.contains("JSON_VALUE(@run, '$.status') AS `status`"),
            "{run}"
        );
        assert!(
            run.contains("WHEN NOT MATCHED THEN INSERT (`run_id`, `started_at`"),
            "{run}"
        );
    }

    #[test]
    fn existing_tables_are_checked() {
        let wanted = Table::new()
            .set_schema(schema::table_schema(&TOP_PAGES_COLUMNS))
            .set_time_partitioning(TimePartitioning::new().set_type("DAY").set_field("date"));
        let good = wanted.clone().set_type("TABLE");
        assert!(check_table("top_pages", &wanted, &good).is_ok());
        let unpartitioned = good.clone().set_time_partitioning(TimePartitioning::new());
        let err = check_table("top_pages", &wanted, &unpartitioned).unwrap_err();
        assert!(
            err.to_string().contains("not partitioned by `date`"),
            "{err}"
        );
        let view = Table::new().set_type("VIEW");
        assert!(matches!(
            check_table("top_pages", &wanted, &view),
            Err(Error::SchemaMismatch { .. })
        ));
        let wanted_view = Table::new().set_view(ViewDefinition::new().set_query("SELECT 1"));
        assert!(check_table("top_page_categories", &wanted_view, &view).is_ok());
        assert!(check_table("top_page_categories", &wanted_view, &good).is_err());
    }
}
