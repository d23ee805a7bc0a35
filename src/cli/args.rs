//! The command line's shape: clap's types for every command and option, and how each
//! command's options become the library's typed input (`*Input`, then `*Settings`).
//! Nothing here prints or runs anything.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use wikitop::export::{ExportInput, Format};
use wikitop::model::{Access, Day, Named};
use wikitop::report::ReportInput;
use wikitop::settings::{
    DEFAULT_MAX_AGE, DEFAULT_PROJECT, DEFAULT_SINCE, DEFAULT_STATUS_RUNS, DEFAULT_TOP, SinkKind,
    StatusInput, StatusSettings, StoreInput, SyncInput,
};
use wikitop::{Error, Settings};

#[derive(Parser)]
#[command(
    name = "wikitop",
    version,
    about = "Daily top Wikipedia pages with their categories, stored exactly once in DuckDB or BigQuery."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// Only print errors.
    #[arg(long, short, global = true)]
    pub(crate) quiet: bool,
    /// Log format on stderr; `json` is one object per line, as Cloud Logging reads it.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "WIKITOP_LOG_FORMAT",
        default_value = "text"
    )]
    pub(crate) log_format: LogFormat,
    /// A file of `WIKITOP_NAME=value` lines: each sets the option of that environment
    /// variable where neither a flag nor the environment did.
    #[arg(long, global = true, env = "WIKITOP_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Log filter, e.g. `debug` or `wikitop=debug`.
    #[arg(long, global = true, env = "WIKITOP_LOG", hide = true)]
    pub(crate) log: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Fetch and store every day the store lacks, up to the latest published day.
    Sync(SyncArgs),
    /// Show stored and missing days per project, and the last runs.
    Status(StatusArgs),
    /// Run `sync` now and then on a cron schedule (UTC), in the foreground.
    Schedule(ScheduleArgs),
    /// Write the store's figures and charts as one self-contained HTML file.
    Report(ReportArgs),
    /// Write the store's tables as Parquet or CSV files for other tools.
    Export(ExportArgs),
}

#[derive(Args)]
pub(crate) struct ScheduleArgs {
    /// When to sync, as a cron expression in UTC (minute hour day month weekday).
    #[arg(long, default_value = wikitop::schedule::DEFAULT_CRON)]
    pub(crate) cron: String,
    /// When the newest day is not published yet, try again after this many minutes.
    #[arg(
        long,
        default_value_t = wikitop::schedule::DEFAULT_RETRY_UNPUBLISHED.as_secs() / 60,
        value_name = "MINUTES"
    )]
    pub(crate) retry_unpublished: u64,
    #[command(flatten)]
    pub(crate) sync: SyncArgs,
}

#[derive(Args, Clone)]
pub(crate) struct StoreArgs {
    /// Where to store: the embedded DuckDB file or BigQuery.
    #[arg(long, env = "WIKITOP_SINK", value_parser = one_of::<SinkKind>(), default_value = SinkKind::DuckDb.name())]
    sink: SinkKind,
    /// The DuckDB file.
    #[arg(long, env = "WIKITOP_DB", value_name = "PATH")]
    db: Option<PathBuf>,
    /// BigQuery dataset as PROJECT.DATASET.
    #[arg(long, env = "WIKITOP_BQ_DATASET", value_name = "PROJECT.DATASET")]
    bq_dataset: Option<String>,
    /// BigQuery location for a dataset wikitop creates (e.g. US, EU).
    #[arg(long, env = "WIKITOP_BQ_LOCATION")]
    bq_location: Option<String>,
    /// BigQuery API endpoint, for an emulator.
    #[arg(long, env = "WIKITOP_BQ_ENDPOINT", value_name = "URL", hide = true)]
    bq_endpoint: Option<String>,
    /// The deployment's time limit on one run (e.g. 3600s, as Cloud Run's task timeout):
    /// a run `running` longer than that (plus 10 min) is called abandoned [default: 24h].
    #[arg(long, env = "WIKITOP_TASK_TIMEOUT", value_name = "DURATION")]
    task_timeout: Option<String>,
}

impl StoreArgs {
    pub(crate) fn input(&self) -> StoreInput {
        StoreInput {
            sink: Some(self.sink),
            db: self.db.clone(),
            bq_dataset: self.bq_dataset.clone(),
            bq_location: self.bq_location.clone(),
            bq_endpoint: self.bq_endpoint.clone().filter(|s| !s.is_empty()),
            task_timeout: self.task_timeout.clone().filter(|s| !s.is_empty()),
        }
    }
}

#[derive(Args, Clone)]
pub(crate) struct SyncArgs {
    /// First day to store (YYYY-MM-DD).
    #[arg(
        long,
        value_name = "YYYY-MM-DD",
        default_value_t = DEFAULT_SINCE.to_string(),
        conflicts_with = "date"
    )]
    since: String,
    /// Last day to store [default: the latest day the Pageviews API has published].
    #[arg(long, value_name = "YYYY-MM-DD", conflicts_with = "date")]
    until: Option<String>,
    /// Store just this day: shorthand for `--since D --until D`.
    #[arg(long, value_name = "YYYY-MM-DD")]
    date: Option<String>,
    /// Wikimedia project(s), e.g. en.wikipedia; repeat or separate with commas.
    #[arg(long = "project", value_name = "PROJECT", default_value = DEFAULT_PROJECT)]
    projects: Vec<String>,
    /// Pageviews access method.
    #[arg(long, value_parser = one_of::<Access>(), default_value = Access::AllAccess.name())]
    access: Access,
    /// Keep every article ranked this high or better (ties included).
    #[arg(long, default_value_t = DEFAULT_TOP, value_name = "N")]
    top: u32,
    #[command(flatten)]
    store: StoreArgs,
    /// Re-fetch and replace days that are already stored.
    #[arg(long)]
    force: bool,
    /// Judge the stored days of the range again (suspect_automated, is_article,
    /// article_rank, mostread_rank) from what the store holds, after a deny-list update
    /// or new --desktop-share bounds; sends no request.
    #[arg(long, conflicts_with_all = ["force", "dry_run"])]
    rejudge: bool,
    /// Read the Wikidata items (wikidata_id) of the stored days of the range that lack
    /// them, days stored before version 5: page properties only, one request per 50
    /// distinct pages; every other column stays as stored.
    #[arg(long, conflicts_with_all = ["force", "dry_run", "rejudge"])]
    fill_wikidata: bool,
    /// Print the days that would be fetched and the requests it would take; fetch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Sync only this share of the days: `i/n` (defaults from CLOUD_RUN_TASK_INDEX/COUNT).
    #[arg(long, value_name = "i/n")]
    shard: Option<String>,
    /// Request budget that requests are paced to, and `--dry-run` estimates with, e.g.
    /// `200/1min` [default: Wikimedia's limit, 200/1min, with or without
    /// WIKITOP_ACCESS_TOKEN: raise it to your token's tier, e.g. 600/1min].
    #[arg(long, env = "WIKITOP_RATE", value_name = "N/WINDOW")]
    rate: Option<String>,
    /// Your e-mail or URL, sent in the User-Agent as Wikimedia's policy asks (required
    /// to fetch; each operator then has a rate-limit counter of their own).
    #[arg(long, env = "WIKITOP_CONTACT")]
    contact: Option<String>,
    /// Wikimedia OAuth 2 access token, sent as a Bearer token.
    #[arg(
        long,
        env = "WIKITOP_ACCESS_TOKEN",
        hide = true,
        hide_env_values = true
    )]
    access_token: Option<String>,
    /// Skip each day's desktop top list (one request a day): no desktop share, so only
    /// the deny list flags suspect rows.
    #[arg(long, env = "WIKITOP_NO_DESKTOP")]
    no_desktop: bool,
    /// Desktop share of views, in percent, outside which a row is flagged as likely
    /// automated [default: 10-90, the bounds Wikimedia's feed used from 2016 to 2020].
    #[arg(long, env = "WIKITOP_DESKTOP_SHARE", value_name = "LOW-HIGH")]
    desktop_share: Option<String>,
    /// A file of `scope<TAB>title<TAB>kind<TAB>source` lines (scope `*`, a language or a
    /// project; kind automated, editorial or unexplained) added to the shipped deny list.
    #[arg(long, env = "WIKITOP_DENY_LIST", value_name = "FILE")]
    deny_list: Option<PathBuf>,
    /// Pageviews API base URL.
    #[arg(long, env = "WIKITOP_PAGEVIEWS_API", value_name = "URL")]
    pageviews_api: Option<String>,
    /// Action API URL; `{host}` becomes the project's host.
    #[arg(long, env = "WIKITOP_ACTION_API", value_name = "URL")]
    action_api: Option<String>,
    /// Pageviews requests in flight (1 or 2; the Action API always has one).
    #[arg(long, value_name = "N")]
    pageviews_concurrency: Option<usize>,
    /// Seconds before a request is abandoned and retried.
    #[arg(long, env = "WIKITOP_HTTP_TIMEOUT", value_name = "SECS", hide = true)]
    http_timeout: Option<f64>,
    /// Tries per request for errors other than 429.
    #[arg(long, env = "WIKITOP_MAX_TRIES", value_name = "N", hide = true)]
    max_tries: Option<u32>,
    /// First backoff step in milliseconds (doubles per try).
    #[arg(long, env = "WIKITOP_RETRY_BASE_MS", value_name = "MS", hide = true)]
    retry_base_ms: Option<u64>,
}

#[derive(Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// First day of the range checked for gaps.
    #[arg(long, value_name = "YYYY-MM-DD", default_value_t = DEFAULT_SINCE.to_string())]
    since: String,
    /// Last day of the range checked for gaps [default: yesterday].
    #[arg(long, value_name = "YYYY-MM-DD")]
    until: Option<String>,
    /// How many recent runs to show.
    #[arg(long, default_value_t = DEFAULT_STATUS_RUNS)]
    runs: usize,
    /// Exit 1 with one sentence when a published day is missing, the last run failed or
    /// was partial, or no run succeeded within --max-age: for cron, systemd and probes.
    #[arg(long)]
    pub(crate) check: bool,
    /// With --check: how old the last successful run may be, e.g. 36h, 90m, 2d.
    #[arg(long, value_name = "AGE", requires = "check", default_value = DEFAULT_MAX_AGE)]
    max_age: String,
}

impl StatusArgs {
    pub(crate) fn settings(&self, today: Day) -> Result<StatusSettings, Error> {
        StatusSettings::resolve(
            StatusInput {
                since: Some(self.since.clone()),
                until: self.until.clone(),
                runs: Some(self.runs),
                store: self.store.input(),
                check: self.check,
                max_age: Some(self.max_age.clone()),
            },
            today,
        )
    }
}

impl SyncArgs {
    pub(crate) fn settings(&self, today: Day) -> Result<Settings, Error> {
        let shard = self.shard.clone().or_else(cloud_run_shard);
        Settings::resolve(
            SyncInput {
                since: if self.date.is_some() {
                    None
                } else {
                    Some(self.since.clone())
                },
                until: self.until.clone(),
                date: self.date.clone(),
                projects: self.projects.clone(),
                access: Some(self.access),
                top: Some(self.top),
                store: self.store.input(),
                force: self.force,
                rejudge: self.rejudge,
                fill_wikidata: self.fill_wikidata,
                dry_run: self.dry_run,
                shard,
                pageviews_api: self.pageviews_api.clone(),
                action_api: self.action_api.clone(),
                contact: self.contact.clone(),
                access_token: self.access_token.clone(),
                pageviews_concurrency: self.pageviews_concurrency,
                rate: self.rate.clone(),
                http_timeout_secs: self.http_timeout,
                max_tries: self.max_tries,
                retry_base_ms: self.retry_base_ms,
                no_desktop: self.no_desktop,
                desktop_share: self.desktop_share.clone(),
                deny_list: self.deny_list.clone(),
                arguments: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
            },
            today,
        )
    }
}

/// Cloud Run Jobs number their tasks; each task then syncs its own share of the days.
pub(crate) fn cloud_run_shard() -> Option<String> {
    let index = std::env::var("CLOUD_RUN_TASK_INDEX").ok()?;
    let count = std::env::var("CLOUD_RUN_TASK_COUNT").ok()?;
    Some(format!("{index}/{count}"))
}

#[derive(Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Wikimedia project, e.g. en.wikipedia.
    #[arg(long, value_name = "PROJECT", default_value = DEFAULT_PROJECT)]
    project: String,
    /// Pageviews access method.
    #[arg(long, value_parser = one_of::<Access>(), default_value = Access::AllAccess.name())]
    access: Access,
    /// First day of the report [default: the first day stored].
    #[arg(long, value_name = "YYYY-MM-DD")]
    since: Option<String>,
    /// Last day of the report [default: yesterday].
    #[arg(long, value_name = "YYYY-MM-DD")]
    until: Option<String>,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE", default_value = wikitop::report::DEFAULT_OUT)]
    out: PathBuf,
    /// Count every row: also pages that are no articles and flagged traffic.
    #[arg(long)]
    all_rows: bool,
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// File format: Parquet keeps the category lists as lists; CSV writes them as JSON arrays.
    #[arg(long, value_parser = one_of::<Format>(), default_value = Format::Parquet.name())]
    format: Format,
    /// The directory to write `top_pages.*` and `ingest_runs.*` into (created if missing).
    #[arg(long, value_name = "DIR", default_value = wikitop::export::DEFAULT_OUT)]
    out: PathBuf,
}

impl ReportArgs {
    pub(crate) fn input(&self) -> ReportInput {
        ReportInput {
            since: self.since.clone(),
            until: self.until.clone(),
            project: Some(self.project.clone()),
            access: Some(self.access),
            out: Some(self.out.clone()),
            all_rows: self.all_rows,
            store: self.store.input(),
        }
    }
}

impl ExportArgs {
    pub(crate) fn input(&self) -> ExportInput {
        ExportInput {
            format: Some(self.format),
            out: Some(self.out.clone()),
            store: self.store.input(),
        }
    }
}

/// Parses one of a library option's names ([`Named`]), offering them in `--help`.
fn one_of<T: Named + Send + Sync>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::ALL.iter().map(|v| v.name()))
        .try_map(|name| T::named(&name).ok_or_else(|| format!("unknown value `{name}`")))
}
