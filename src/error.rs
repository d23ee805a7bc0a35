//! The library's one error type: each variant is one sentence naming what to fix,
//! with the offending value in backticks. The CLI prints it and picks the exit code.

use std::path::PathBuf;

use crate::model::Day;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- usage and configuration: exit code 2, nothing touched ----
    #[error("invalid date `{0}`: expected YYYY-MM-DD, e.g. 2023-04-01")]
    InvalidDate(String),
    #[error("`--until` {until} is before `--since` {since}")]
    RangeReversed { since: Day, until: Day },
    #[error("{0} is in the future: the Pageviews API only has days up to yesterday (UTC)")]
    FutureDate(Day),
    #[error("{0} is before 2015-07-01, the first day the Pageviews API has data for")]
    TooEarly(Day),
    #[error("`--top {0}` is out of range: the Pageviews API ranks 1 to 1000 articles a day")]
    TopOutOfRange(u32),
    #[error(transparent)]
    UnknownProject(#[from] crate::model::UnknownProject),
    #[error(
        "unknown project `{0}`: the Pageviews API has no top list for it on a day that is long published"
    )]
    ProjectNotFound(String),
    #[error(
        "a contact is required: pass `--contact` or set WIKITOP_CONTACT to your e-mail or URL, which Wikimedia's User-Agent policy asks of every operator (without it, all wikitop users would share one rate-limit counter)"
    )]
    ContactRequired,
    #[error("invalid {what} `{value}`: {why}")]
    InvalidSetting {
        what: &'static str,
        value: String,
        why: String,
    },

    // ---- the store ----
    #[error(
        "cannot open the DuckDB store `{path}`: check that the directory exists and is writable"
    )]
    StoreOpen {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("another wikitop run is using the store `{0}`: wait for it to finish and run again")]
    StoreBusy(String),
    #[error("table `{table}` exists with a different schema ({detail}): refusing to write into it")]
    SchemaMismatch { table: String, detail: String },
    #[error(
        "the store `{store}` is at schema version {found}, newer than the version {supported} this wikitop knows: upgrade wikitop to open it"
    )]
    StoreTooNew {
        store: String,
        found: u32,
        supported: u32,
    },
    #[error(
        "the store `{store}` is at schema version {found}; `wikitop report` needs version {needed}: run `wikitop sync` once to migrate it"
    )]
    StoreTooOld {
        store: String,
        found: u32,
        needed: u32,
    },
    #[error(
        "no day of {project} {access} is stored in {since}..{until}: run `wikitop sync` for it first, or choose another `--since`/`--until`"
    )]
    NothingToReport {
        project: String,
        access: &'static str,
        since: Day,
        until: Day,
    },
    #[error("the store failed while {doing}")]
    Store {
        doing: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "no Google Cloud credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service-account file, run `gcloud auth application-default login`, or set WIKITOP_BQ_ENDPOINT for an emulator"
    )]
    NoCredentials(#[source] Box<dyn std::error::Error + Send + Sync>),

    // ---- files wikitop writes (report, export) ----
    #[error("cannot write `{path}`: check that its directory exists and is writable")]
    Output {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not draw the {chart} chart: {detail}")]
    Chart { chart: &'static str, detail: String },
    #[error("could not fill the report template: {0}")]
    Template(String),
    #[error(
        "`wikitop export` reads a DuckDB store; for BigQuery use BigQuery's own export, e.g. `bq extract --destination_format PARQUET {dataset}.top_pages 'gs://BUCKET/top_pages-*.parquet'`"
    )]
    ExportFromBigQuery { dataset: String },

    // ---- the Wikimedia APIs ----
    #[error("{url} failed: gave up after {tries} tries in {secs:.1} s ({last})")]
    GaveUp {
        url: String,
        tries: u32,
        secs: f64,
        last: String,
    },
    #[error(
        "could not connect to {url}: gave up after {tries} tries in {secs:.1} s; check the network (or WIKITOP_PAGEVIEWS_API / WIKITOP_ACTION_API) and run again"
    )]
    Unreachable { url: String, tries: u32, secs: f64 },
    #[error("{url} answered HTTP {status}, which is not worth retrying")]
    HttpStatus { url: String, status: u16 },
    #[error("{url} answered without what was asked: {what}")]
    UnexpectedResponse { url: String, what: String },
    #[error("could not build the HTTP client")]
    HttpClient(#[source] reqwest::Error),
}

impl Error {
    /// Bad input or configuration, which gets exit code 2; a busy store, a failing
    /// store or network are runtime failures (exit code 1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::InvalidDate(_)
                | Error::RangeReversed { .. }
                | Error::FutureDate(_)
                | Error::TooEarly(_)
                | Error::TopOutOfRange(_)
                | Error::UnknownProject(_)
                | Error::ProjectNotFound(_)
                | Error::ContactRequired
                | Error::InvalidSetting { .. }
                | Error::StoreOpen { .. }
                | Error::SchemaMismatch { .. }
                | Error::StoreTooNew { .. }
                | Error::StoreTooOld { .. }
                | Error::NothingToReport { .. }
                | Error::Output { .. }
                | Error::ExportFromBigQuery { .. }
                | Error::NoCredentials(_)
        )
    }

    /// The server refused the request for its size (413 body, 414 URL, 431 headers) or
    /// its method (405, 501): a smaller request, which may go as a GET, can succeed.
    pub fn is_refused_for_its_form(&self) -> bool {
        matches!(
            self,
            Error::HttpStatus {
                status: 405 | 413 | 414 | 431 | 501,
                ..
            }
        )
    }

    /// A store failure; the cause keeps only its message (driver errors nest a
    /// meaningless "Error code 1" under the real one).
    pub(crate) fn store(doing: impl Into<String>, cause: impl std::fmt::Display) -> Self {
        Error::Store {
            doing: doing.into(),
            source: Box::new(Message(cause.to_string())),
        }
    }
}

/// An error cause that is just its message.
#[derive(Debug)]
pub struct Message(pub String);

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Message {}
