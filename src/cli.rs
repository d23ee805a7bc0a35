//! The command line: clap types, turning them into `Settings`, and every line the
//! user reads (progress bar, summaries, errors). The library never prints.

mod report;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use wikitop::WaitObserver;
use wikitop::model::{Access, Day, Project};
use wikitop::settings::{
    DEFAULT_PROJECT, DEFAULT_SINCE, DEFAULT_STATUS_RUNS, DEFAULT_TOP, SinkKind, StatusInput,
    StatusSettings, StoreInput, SyncInput,
};
use wikitop::{Error, Reporter, RunReport, Settings, StatusReport};

#[derive(Parser)]
#[command(
    name = "wikitop",
    version,
    about = "Daily top Wikipedia pages with their categories, stored exactly once in DuckDB or BigQuery."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Only print errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Log format on stderr; `json` is one object per line, as Cloud Logging reads it.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "WIKITOP_LOG_FORMAT",
        default_value = "text"
    )]
    log_format: LogFormat,
    /// A file of `WIKITOP_NAME=value` lines: each sets the option of that environment
    /// variable where neither a flag nor the environment did.
    #[arg(long, global = true, env = "WIKITOP_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log filter, e.g. `debug` or `wikitop=debug`.
    #[arg(long, global = true, env = "WIKITOP_LOG", hide = true)]
    log: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch and store every day the store lacks, up to the latest published day.
    Sync(SyncArgs),
    /// Show stored and missing days per project, and the last runs.
    Status(StatusArgs),
    /// Run `sync` now and then on a cron schedule (UTC), in the foreground.
    Schedule(ScheduleArgs),
    /// Write the store's figures and charts as one self-contained HTML file.
    Report(report::ReportArgs),
    /// Write the store's tables as Parquet or CSV files for other tools.
    Export(report::ExportArgs),
}

#[derive(Args)]
struct ScheduleArgs {
    /// When to sync, as a cron expression in UTC (minute hour day month weekday).
    #[arg(long, default_value = wikitop::schedule::DEFAULT_CRON)]
    cron: String,
    /// When the newest day is not published yet, try again after this many minutes.
    #[arg(
        long,
        default_value_t = wikitop::schedule::DEFAULT_RETRY_UNPUBLISHED.as_secs() / 60,
        value_name = "MINUTES"
    )]
    retry_unpublished: u64,
    #[command(flatten)]
    sync: SyncArgs,
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Where to store: the embedded DuckDB file or BigQuery.
    #[arg(long, env = "WIKITOP_SINK", value_enum, default_value_t = SinkKind::DuckDb)]
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
}

impl StoreArgs {
    fn input(&self) -> StoreInput {
        StoreInput {
            sink: Some(self.sink),
            db: self.db.clone(),
            bq_dataset: self.bq_dataset.clone(),
            bq_location: self.bq_location.clone(),
            bq_endpoint: self.bq_endpoint.clone().filter(|s| !s.is_empty()),
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
    #[arg(long, value_enum, default_value_t = Access::AllAccess)]
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
    /// Print the days that would be fetched and the requests it would take; fetch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Sync only this share of the days: `i/n` (defaults from CLOUD_RUN_TASK_INDEX/COUNT).
    #[arg(long, value_name = "i/n")]
    shard: Option<String>,
    /// Request budget that requests are paced to, and `--dry-run` estimates with, e.g.
    /// `200/1min` [default: Wikimedia's limit, 200/1min; 600/1min with WIKITOP_ACCESS_TOKEN].
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
struct StatusArgs {
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
}

impl StatusArgs {
    fn settings(&self, today: Day) -> Result<StatusSettings, Error> {
        StatusSettings::resolve(
            StatusInput {
                since: Some(self.since.clone()),
                until: self.until.clone(),
                runs: Some(self.runs),
                store: self.store.input(),
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

/// Reads `--config FILE` (or `WIKITOP_CONFIG`): lines of `WIKITOP_NAME=value`, `#`
/// comments. Each value becomes the command-line option whose environment variable is
/// `WIKITOP_NAME`, unless a flag or the environment set it: flags beat the environment,
/// which beats the file. The process environment is never changed.
fn with_config_file(args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let from_args = args.iter().enumerate().find_map(|(i, a)| {
        let a = a.to_str()?;
        a.strip_prefix("--config=").map(str::to_owned).or_else(|| {
            (a == "--config").then(|| {
                args.get(i + 1)
                    .and_then(|v| v.to_str())
                    .unwrap_or_default()
                    .to_owned()
            })
        })
    });
    let Some(path) = from_args.or_else(|| std::env::var("WIKITOP_CONFIG").ok()) else {
        return Ok(args);
    };
    let settings = read_config_file(&path)?;
    // Options are only known once the subcommand is: let clap report bad arguments.
    let Ok(matches) = Cli::command().try_get_matches_from(&args) else {
        return Ok(args);
    };
    let Some((name, sub)) = matches.subcommand() else {
        return Ok(args);
    };
    let command = Cli::command();
    let Some(subcommand) = command.find_subcommand(name) else {
        return Ok(args);
    };
    let mut args = args;
    for (line, key, value) in settings {
        let arg = subcommand
            .get_arguments()
            .chain(command.get_arguments())
            .find(|a| a.get_env().is_some_and(|e| e == key.as_str()))
            .ok_or_else(|| {
                format!(
                    "config file `{path}` line {line}: `{key}` is not a setting of `wikitop {name}`"
                )
            })?;
        let given = sub
            .value_source(arg.get_id().as_str())
            .is_some_and(|source| {
                matches!(
                    source,
                    clap::parser::ValueSource::CommandLine | clap::parser::ValueSource::EnvVariable
                )
            });
        match (given, arg.get_long()) {
            (false, Some(long)) if arg.get_action().takes_values() => {
                args.push(format!("--{long}={value}").into());
            }
            // A switch such as `--no-desktop`: set by a true value, as clap reads its
            // environment variable.
            (false, Some(long)) if !matches!(value.as_str(), "" | "0" | "false" | "no" | "off") => {
                args.push(format!("--{long}").into());
            }
            _ => {}
        }
    }
    Ok(args)
}

/// The `(line number, WIKITOP_NAME, value)` settings of a config file.
fn read_config_file(path: &str) -> Result<Vec<(usize, String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file `{path}`: {e}"))?;
    let mut settings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "config file `{path}` line {}: expected `WIKITOP_NAME=value`",
                n + 1
            )
        };
        let (key, value) = line.split_once('=').ok_or_else(bad)?;
        let (key, value) = (key.trim(), value.trim().trim_matches('"'));
        if !key.starts_with("WIKITOP_") || key == "WIKITOP_CONFIG" {
            return Err(bad());
        }
        settings.push((n + 1, key.to_owned(), value.to_owned()));
    }
    Ok(settings)
}

/// Cloud Run Jobs number their tasks; each task then syncs its own share of the days.
fn cloud_run_shard() -> Option<String> {
    let index = std::env::var("CLOUD_RUN_TASK_INDEX").ok()?;
    let count = std::env::var("CLOUD_RUN_TASK_COUNT").ok()?;
    Some(format!("{index}/{count}"))
}

pub(crate) fn main() -> ExitCode {
    let args = match with_config_file(std::env::args_os().collect()) {
        Ok(args) => args,
        Err(e) => return fail(&format!("error: {e}"), 2),
    };
    let cli = Cli::parse_from(args);
    let interactive =
        std::io::stderr().is_terminal() && cli.log_format == LogFormat::Text && !cli.quiet;
    init_logging(&cli, interactive);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("could not start the async runtime: {e}"), 1),
    };
    let today = wikitop::today_utc();
    let outcome = match &cli.command {
        Command::Sync(args) => runtime.block_on(run_sync(args, today, interactive, cli.quiet)),
        Command::Status(args) => runtime.block_on(run_status(args, today)),
        Command::Schedule(args) => runtime.block_on(run_schedule(args, today)),
        Command::Report(args) => runtime.block_on(report::run_report(args, today, cli.quiet)),
        Command::Export(args) => report::run_export(args, cli.quiet),
    };
    match outcome {
        Ok(code) => code,
        // `wikitop status | head -1`: the reader has what it wanted.
        Err(Failure::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Output(e)) => fail(&format!("error: cannot write the output: {e}"), 1),
        Err(Failure::Wikitop(e)) => report_error(&e),
    }
}

/// Why a command did not finish.
enum Failure {
    Wikitop(Error),
    /// Writing to stdout failed, e.g. because the reader closed the pipe.
    Output(io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Wikitop(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

fn init_logging(cli: &Cli, interactive: bool) {
    use tracing_subscriber::EnvFilter;
    // With a progress bar, per-day lines would fight it: show warnings and up only.
    let default = if cli.quiet {
        "error"
    } else if interactive {
        "warn"
    } else {
        "info"
    };
    let filter = cli
        .log
        .as_deref()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match cli.log_format {
        LogFormat::Json => builder.event_format(crate::logging::CloudJson).init(),
        LogFormat::Text => builder.with_target(false).compact().init(),
    }
}

fn report_error(e: &Error) -> ExitCode {
    let mut text = format!("error: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!("\n  caused by: {cause}"));
        source = cause.source();
    }
    fail(&text, if e.is_usage() { 2 } else { 1 })
}

#[allow(clippy::print_stderr)] // the CLI's one sentence to the user
fn fail(text: &str, code: u8) -> ExitCode {
    eprintln!("{text}");
    ExitCode::from(code)
}

async fn run_sync(
    args: &SyncArgs,
    today: Day,
    interactive: bool,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let settings = args.settings(today)?;
    let reporter = Arc::new(Progress::new(interactive));
    let report = wikitop::sync(&settings, reporter.clone()).await?;
    reporter.finish();
    if !quiet {
        print_report(&mut io::stdout().lock(), &settings, &report)?;
    }
    Ok(if report.days_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn print_report(out: &mut impl Write, settings: &Settings, report: &RunReport) -> io::Result<()> {
    if let Some(plan) = &report.dry_run {
        for (project, days) in &plan.days {
            writeln!(
                out,
                "{project}: would fetch {} day(s): {}",
                days.len(),
                ranges(days)
            )?;
        }
        let rate = settings.http.rate;
        writeln!(
            out,
            "Estimated requests: {} (about {} at {} requests per {}).",
            plan.estimated_requests,
            human_duration(plan.estimated_time),
            rate.requests,
            human_duration(rate.window)
        )?;
        writeln!(
            out,
            "{} day(s) already stored would be skipped.",
            report.days_skipped
        )?;
        return Ok(());
    }
    if settings.rejudge {
        return print_rejudged(out, report);
    }
    if report.days_planned == 0 {
        writeln!(
            out,
            "Nothing to do: all {} day(s) in the range are stored.",
            report.days_skipped
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "Stored {} day(s) ({} rows); {} already stored; {} failed. {} requests ({} top lists, {} categories), {} retried, {} throttled.",
        report.days_written,
        report.rows_written,
        report.days_skipped,
        report.days_failed.len(),
        report.http_requests,
        report.top_requests,
        report.category_requests,
        report.http_retries,
        report.throttled,
    )?;
    for t in &report.projects {
        writeln!(
            out,
            "  {}: {} day(s), {} rows, {} flagged as likely automated traffic.",
            t.project, t.days_written, t.rows_written, t.suspect_rows
        )?;
    }
    for (project, day) in &report.not_published {
        writeln!(
            out,
            "{project}: {day} is not published yet by the Pageviews API; the next run will fetch it."
        )?;
    }
    for f in &report.days_failed {
        writeln!(out, "{} {} failed: {}", f.project, f.day, f.error)?;
    }
    Ok(())
}

async fn run_schedule(args: &ScheduleArgs, today: Day) -> Result<ExitCode, Failure> {
    // Bad options fail now, with exit 2, not at the first tick.
    args.sync.settings(today)?;
    let schedule = wikitop::schedule::Schedule::new(
        &args.cron,
        std::time::Duration::from_secs(args.retry_unpublished.saturating_mul(60)),
    )?;
    wikitop::schedule::run(
        &schedule,
        |today| args.sync.settings(today),
        |settings, reporter| async move { wikitop::sync(&settings, reporter).await },
        Arc::new(Progress::new(false)),
        shutdown_signal(),
    )
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM (how Cloud Run, systemd and Docker stop a process) or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn run_status(args: &StatusArgs, today: Day) -> Result<ExitCode, Failure> {
    let settings = args.settings(today)?;
    let report = wikitop::status(
        &settings.store,
        settings.since,
        settings.until,
        settings.runs,
    )
    .await?;
    print_status(&mut io::stdout().lock(), &report)?;
    Ok(ExitCode::SUCCESS)
}

/// Up to 20 day ranges, then how many more.
fn ranges_text(ranges: &[(Day, Day)]) -> String {
    let shown: Vec<String> = ranges.iter().take(20).map(|(a, b)| span(*a, *b)).collect();
    let more = ranges.len().saturating_sub(20);
    if more > 0 {
        format!("{} and {more} more range(s)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn print_status(out: &mut impl Write, report: &StatusReport) -> io::Result<()> {
    if report.projects.is_empty() {
        writeln!(out, "No days stored yet.")?;
    }
    for p in &report.projects {
        writeln!(
            out,
            "{} {}: {} day(s) stored, {} → {}; {} missing in {} → {}",
            p.project,
            p.access,
            p.stored,
            p.first,
            p.last,
            p.missing_days,
            report.since,
            report.until
        )?;
        if !p.missing.is_empty() {
            writeln!(out, "  missing: {}", ranges_text(&p.missing))?;
        }
        if p.unassessed_days > 0 {
            writeln!(
                out,
                "  {} day(s) stored before wikitop flagged rows (is_article, suspect_automated, article_rank are NULL): {}; `sync --force --since … --until …` fills them",
                p.unassessed_days,
                ranges_text(&p.unassessed)
            )?;
        }
        if p.unranked_days > 0 {
            writeln!(
                out,
                "  {} day(s) judged before mostread_rank existed: {}; `sync --rejudge --since … --until …` fills it, with no request",
                p.unranked_days,
                ranges_text(&p.unranked)
            )?;
        }
    }
    if !report.runs.is_empty() {
        writeln!(out, "Last runs:")?;
    }
    for r in &report.runs {
        writeln!(
            out,
            "  {}  {:<8} {} day(s), {} rows, {} requests ({} retried){}",
            r.run_id,
            r.status.as_str(),
            r.days_written,
            r.rows_written,
            r.http_requests,
            r.http_retries,
            r.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        )?;
    }
    Ok(())
}

fn span(a: Day, b: Day) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}..{b}")
    }
}

/// Days as compressed ranges: `2023-04-01..2023-04-30, 2023-05-02`.
fn print_rejudged(out: &mut impl Write, report: &RunReport) -> io::Result<()> {
    writeln!(
        out,
        "Judged {} stored day(s) again ({} rows) from the store; {} requests.",
        report.days_written, report.rows_written, report.http_requests
    )?;
    for t in &report.projects {
        writeln!(
            out,
            "  {}: {} day(s), {} rows, {} flagged as likely automated traffic.",
            t.project, t.days_written, t.rows_written, t.suspect_rows
        )?;
    }
    let mut left: Vec<(&Project, Vec<Day>)> = Vec::new();
    for (project, day) in &report.not_rejudged {
        match left.last_mut() {
            Some((p, days)) if *p == project => days.push(*day),
            _ => left.push((project, vec![*day])),
        }
    }
    for (project, days) in left {
        writeln!(
            out,
            "{project}: {} day(s) stored before wikitop judged rows were left as they are: {}; `sync --force --since … --until …` fetches them again",
            days.len(),
            ranges(&days)
        )?;
    }
    Ok(())
}

fn ranges(days: &[Day]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = days.iter().copied();
    let Some(mut start) = iter.next() else {
        return "none".into();
    };
    let mut end = start;
    for d in iter {
        if end.tomorrow().ok() == Some(d) {
            end = d;
        } else {
            out.push(span(start, end));
            start = d;
            end = d;
        }
    }
    out.push(span(start, end));
    out.join(", ")
}

fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{:.1} h", secs as f64 / 3600.0),
    }
}

/// Progress on a terminal; silent otherwise (the per-day log lines say it all).
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(interactive: bool) -> Self {
        let bar = interactive.then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix} [{bar:30}] {pos}/{len} days {msg} ({eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Progress { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl WaitObserver for Progress {
    fn throttled(&self, until: Timestamp, reason: &str) {
        if let Some(bar) = &self.bar {
            let at = until.round(jiff::Unit::Second).unwrap_or(until);
            bar.set_message(format!("throttled ({reason}); resuming at {at}"));
        }
    }
}

impl Reporter for Progress {
    fn planned(&self, project: &Project, days: usize) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(project.to_string());
            bar.set_length(days as u64);
            bar.set_position(0);
        }
    }

    fn day_written(&self, _project: &Project, day: Day, _rows: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(day.to_string());
            bar.inc(1);
        }
    }

    fn day_failed(&self, project: &Project, day: Day, error: &str) {
        if let Some(bar) = &self.bar {
            bar.println(format!("{project} {day} failed: {error}"));
            bar.inc(1);
        }
    }
}
