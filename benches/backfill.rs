//! The backfill benchmark: `wikitop sync` against the fake Wikimedia server, side by side
//! with a naive per-page client, and both measured against the request floor of the range.
//!
//! Since 2026 Wikimedia rations anonymous API clients to hundreds of requests an hour, so
//! a backfill is judged by its request count first and its wall time second. In one run
//! this bench starts `fakewiki` (realistic title mix, configurable latency and quota),
//! runs the real `wikitop` binary as a child process over the range (wall time, peak RSS
//! from `wait4(2)` in a small helper process: see `MEASURE`), computes the floor an ideal
//! client would need from the fake's own universe, runs a naive client (one Action API
//! request per page per day, sequential, a new connection each) over a few sample days,
//! and prints one table with the ratios the issue's targets are stated in. It is run by
//! hand, never by the test suite:
//!
//! ```text
//! cargo bench --bench backfill -- [--days N] [--since D] [--latency MS] [--quota N/SECS]
//!     [--token] [--project P] [--baseline-days N] [--compare-rss] [--seed N] [--wrap CMD]
//!     [--wikis largest:N|P,P,… [--paced-days N]]
//! ```
//!
//! `--wikis largest:20` (or a comma list) runs only wikitop, side by side: the first wiki
//! of the list alone and the whole list in one run over the range (0 ms latency unless
//! `--latency` says otherwise), each against the summed request floors of its wikis with
//! its peak RSS and wall time, then the whole list paced at wikitop's default budget
//! (200 a minute, the fake enforcing the same quota) over `--paced-days` days, from which
//! the paced time of the whole range is computed. `--wikis largest:60` is the simulated
//! backfill of many wikis (`--paced-days 0` skips the paced run).
//!
//! `--compare-rss` runs only wikitop, over 100 days, over the whole range and over the
//! whole range of three wikis in one run (`--project en.wikipedia,de.wikipedia,fr.wikipedia`),
//! and prints peak RSS against the unique titles each run met, with its requests against
//! the floor, to show whether memory is flat in days and titles while the run-wide page
//! cache forgets; `--wrap "heaptrack -o /tmp/wikitop"` (or
//! `perf record -g -o …`, `valgrind --tool=callgrind …`) profiles the child in exactly
//! these conditions.
//!
//! It knows wikitop only through its command line and the fake only through its public
//! handle (stats, request log, expected rows), so it measures what a user would see.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a report for a person at a terminal

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::Parser;
use fakewiki::{Config, Endpoint, FakeWiki, Quota, RequestRecord, Stats};
use jiff::civil::Date;
use jiff::{Span, ToSpan};

/// The newest day the fake publishes, and the default end of the range.
const LAST_PUBLISHED: Date = jiff::civil::date(2026, 11, 27);
const ACCESS: &str = "all-access";
/// wikitop's default `--top`; the floor and the naive client use the same list.
const TOP: u32 = 100;
/// MediaWiki's limits for a non-bot: titles per request and `cllimit=max` rows per response.
const TITLES_PER_BATCH: usize = 50;
const ROWS_PER_RESPONSE: usize = 500;
/// The all-access top list and the desktop one (for the desktop share) each day.
const LISTS_PER_DAY: u64 = 2;
/// wikitop's Pageviews concurrency: two top lists share one latency slot.
const TOP_LISTS_IN_FLIGHT: u64 = 2;
/// The range of `--compare-rss`'s short run.
const SHORT_RSS_DAYS: u32 = 100;
/// The wikis of `--compare-rss`'s largest run, synced in one run as a user would.
const RSS_PROJECTS: &str = "en.wikipedia,de.wikipedia,fr.wikipedia";
const CONTACT: &str = "bench@example.org";
/// Without a quota the bench measures throughput: a budget nothing reaches.
const UNPACED_RATE: &str = "1000000/1s";
const TOKEN: &str = "bench-token";
/// What Wikimedia grants an authenticated client over an anonymous one (and so does the fake).
const TOKEN_QUOTA_FACTOR: u32 = 10;

/// The issue's targets.
const MAX_FLOOR_RATIO: f64 = 1.10;
const MAX_LATENCY_FLOOR_RATIO: f64 = 1.25;
const MAX_QUOTA_FLOOR_RATIO: f64 = 1.15;
const MIN_BASELINE_RATIO: f64 = 30.0;
const MAX_RSS_MB: f64 = 100.0;
/// "Flat in the number of days": the full range may use at most this much more than 100 days.
const MAX_RSS_GROWTH: f64 = 1.25;
/// A page the cache forgot costs a share of a batch again when its title comes back: the
/// re-fetches may cost at most this much over the floor (issue 13).
const MAX_RSS_RUN_FLOOR_RATIO: f64 = 1.02;
const MAX_CPU_BOUND_SECS: f64 = 20.0;

#[derive(Parser, Debug, Clone)]
#[command(
    about = "Times `wikitop sync` against fakewiki, side by side with a naive per-page client."
)]
struct Args {
    /// First day of the range.
    #[arg(long, default_value = "2023-04-01", value_name = "YYYY-MM-DD")]
    since: Date,
    /// Days in the range [default: up to 2026-11-27, the last day the fake publishes].
    #[arg(long, value_name = "N")]
    days: Option<u32>,
    /// Latency the fake adds to every request, in milliseconds.
    #[arg(long, default_value_t = 50, value_name = "MS")]
    latency: u64,
    /// Requests per fixed window, answered 429 + Retry-After beyond it (×10 with --token).
    #[arg(long, value_name = "N/SECS", value_parser = parse_quota)]
    quota: Option<Quota>,
    /// Send a Bearer token (WIKITOP_ACCESS_TOKEN), as an authenticated client.
    #[arg(long)]
    token: bool,
    /// Wikimedia project (the fake serves en, de and fr.wikipedia).
    #[arg(long, default_value = "en.wikipedia")]
    project: String,
    /// Days of the range, evenly spread, that the naive client fetches.
    #[arg(long, default_value_t = 3, value_name = "N")]
    baseline_days: u32,
    /// Only compare wikitop's peak RSS and requests over 100 days, the whole range, and the
    /// whole range of three wikis in one run.
    #[arg(long)]
    compare_rss: bool,
    /// Run wikitop under this command, e.g. "heaptrack -o /tmp/wikitop" or "perf record -g
    /// -o /tmp/perf.data", to profile it in the bench's exact conditions (time and RSS then
    /// include the wrapper; give the profiler an absolute output path, the child runs in
    /// the package directory).
    #[arg(long, value_name = "CMD")]
    wrap: Option<String>,
    /// Run wikitop alone over these wikis (`largest:N`, as `--project` takes it, or a
    /// comma list) and over the first of them alone, against their summed floors.
    #[arg(long, value_name = "SPEC")]
    wikis: Option<String>,
    /// Days of the range the `--wikis` run is also paced over at the default budget.
    #[arg(long, default_value_t = 3, value_name = "N")]
    paced_days: u32,
    /// Seed of the fake's realistic universe.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Passed by `cargo bench` to every bench binary; without it (`cargo test
    /// --all-targets` runs bench targets too) the bench does nothing.
    #[arg(long, hide = true)]
    bench: bool,
}

fn parse_quota(s: &str) -> Result<Quota, String> {
    let (n, secs) = s.split_once('/').ok_or("expected N/SECS, e.g. 200/10")?;
    let requests: u32 = n.trim().parse().map_err(|e| format!("`{n}`: {e}"))?;
    let secs: u64 = secs
        .trim()
        .trim_end_matches('s')
        .parse()
        .map_err(|e| format!("`{secs}`: {e}"))?;
    if requests == 0 || secs == 0 {
        return Err("both N and SECS must be positive".into());
    }
    Ok(Quota {
        requests,
        window: Duration::from_secs(secs),
    })
}

/// Inclusive range of days.
#[derive(Debug, Clone, Copy)]
struct Range {
    since: Date,
    until: Date,
}

impl Range {
    fn new(since: Date, days: Option<u32>) -> Result<Self> {
        let until = match days {
            Some(0) => bail!("--days must be at least 1"),
            Some(n) => since.checked_add(Span::new().days(i64::from(n) - 1))?,
            None => LAST_PUBLISHED,
        };
        ensure!(
            since <= until && until <= LAST_PUBLISHED,
            "the range {since} → {until} must end by {LAST_PUBLISHED}, the fake's last published day"
        );
        Ok(Range { since, until })
    }

    fn len(&self) -> u32 {
        let days = self.until.since(self.since).map_or(0, |s| s.get_days());
        u32::try_from(days + 1).unwrap_or(0)
    }

    fn days(&self) -> impl Iterator<Item = Date> + '_ {
        self.since.series(1.day()).take_while(|d| *d <= self.until)
    }

    /// `n` days spread evenly from the first to the last, so the naive client sees both
    /// ends of the range (the title mix does not drift, but the bench should not assume it).
    fn sample(&self, n: u32) -> Vec<Date> {
        let len = i64::from(self.len());
        let n = i64::from(n.max(1)).min(len);
        (0..n)
            .map(|i| {
                if n == 1 {
                    len / 2
                } else {
                    i * (len - 1) / (n - 1)
                }
            })
            .filter_map(|offset| self.since.checked_add(offset.days()).ok())
            .collect()
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} → {} ({} days)",
            self.since,
            self.until,
            thousands(u64::from(self.len()))
        )
    }
}

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == MEASURE) {
        return measure(&argv[2..]);
    }
    let args = Args::parse();
    if !args.bench {
        eprintln!("backfill: skipped; run it with `cargo bench --bench backfill -- [options]`.");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<()> {
    let range = Range::new(args.since, args.days)?;
    let wikis = args.wikis.as_deref().map(wiki_list).transpose()?;
    let mut config = Config::realistic(args.seed)
        .published_until(LAST_PUBLISHED)
        .latency(Duration::from_millis(args.latency));
    if let Some(wikis) = &wikis {
        config = config.known_projects(wikis.iter().cloned());
    }
    let fake = FakeWiki::start_blocking(config).context("starting fakewiki")?;
    if let Some(wikis) = wikis {
        return many_wikis(&fake, args, range, &wikis);
    }
    if args.compare_rss {
        return compare_rss(&fake, args, range);
    }
    eprintln!("Computing the request floor of {range} …");
    let floor = request_floor(&fake, &args.project, range)?;
    eprintln!("Running wikitop sync over {range} …");
    let sync = run_wikitop(&fake, args, range, &args.project)?;
    let sample = range.sample(args.baseline_days);
    eprintln!(
        "Running the naive per-page client over {} day(s) …",
        sample.len()
    );
    let naive = run_naive(&fake, args, &sample)?;
    print_report(args, range, &floor, &sync, &naive);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The request floor

/// What an ideal client needs for the range: two lists a day (the top list and the
/// desktop top list that gives the desktop share, wikitop's default), and the categories of
/// every unique article of the range exactly once, 50 titles a request, as few `continue`
/// rounds as the 500-rows-per-response limit allows.
#[derive(Debug, Default)]
struct Floor {
    top_lists: u64,
    batches: u64,
    categories: u64,
    /// Every article of the range and what the fake resolves it to.
    pages: HashMap<String, PageRows>,
}

/// The page an article resolves to and its category rows (visible + hidden).
#[derive(Debug)]
struct PageRows {
    page: String,
    rows: usize,
}

/// Walks the range in day order, as a client would meet the articles, and packs each
/// article the first time it appears into 50-title batches.
fn request_floor(fake: &FakeWiki, project: &str, range: Range) -> Result<Floor> {
    let mut floor = Floor::default();
    let mut batch: Vec<String> = Vec::with_capacity(TITLES_PER_BATCH);
    for day in range.days() {
        let rows = fake
            .expected_day(project, ACCESS, day, TOP)
            .with_context(|| format!("the fake has no top list for {project} {day}"))?;
        floor.top_lists += LISTS_PER_DAY;
        for row in rows {
            if floor.pages.contains_key(&row.article) {
                continue;
            }
            let rows = row.categories.len() + row.hidden_categories.len();
            floor.pages.insert(
                row.article.clone(),
                PageRows {
                    page: row.title,
                    rows,
                },
            );
            batch.push(row.article);
            if batch.len() == TITLES_PER_BATCH {
                floor.add_batch(&batch);
                batch.clear();
            }
        }
    }
    if !batch.is_empty() {
        floor.add_batch(&batch);
    }
    Ok(floor)
}

impl Floor {
    fn total(&self) -> u64 {
        self.top_lists + self.categories
    }

    fn add_batch(&mut self, batch: &[String]) {
        self.batches += 1;
        self.categories += self.requests_for(batch);
    }

    /// A batch costs one request per 500 category rows of its distinct pages (at least
    /// one): the API pages rows across the whole batch, and two articles that resolve to
    /// the same page (a redirect, a lowercase first letter) return its rows once.
    fn requests_for(&self, articles: &[String]) -> u64 {
        let mut pages = HashSet::new();
        let rows: usize = articles
            .iter()
            .filter_map(|a| self.pages.get(a))
            .filter(|p| pages.insert(p.page.as_str()))
            .map(|p| p.rows)
            .sum();
        rows.div_ceil(ROWS_PER_RESPONSE).max(1) as u64
    }
}

/// How wikitop packed its category requests: tells a packing problem (more or emptier
/// batches, titles asked twice) from a continuation problem (more rounds than the rows of
/// the batch need).
#[derive(Debug, Default)]
struct BatchAudit {
    batches: u64,
    titles: u64,
    repeated_titles: u64,
    requests: u64,
    /// What the same batches need at least.
    needed: u64,
}

/// Reads the fake's log: a successful category request without `clcontinue` opens a batch.
fn audit_batches(records: &[RequestRecord], floor: &Floor) -> BatchAudit {
    let mut audit = BatchAudit::default();
    let mut sent: HashSet<&str> = HashSet::new();
    let answered = records
        .iter()
        .filter(|r| r.endpoint == Endpoint::Categories && r.status == Some(200));
    for record in answered {
        audit.requests += 1;
        if record.path_and_query.contains("clcontinue=") {
            continue;
        }
        audit.batches += 1;
        audit.titles += record.titles.len() as u64;
        audit.repeated_titles += record
            .titles
            .iter()
            .filter(|t| !sent.insert(t.as_str()))
            .count() as u64;
        audit.needed += floor.requests_for(&record.titles);
    }
    audit
}

// ---------------------------------------------------------------------------------------
// wikitop as a child process

/// What one `wikitop sync` child did, as the fake and the kernel saw it.
struct SyncRun {
    range: Range,
    wall: Duration,
    peak_rss_mb: f64,
    stats: Stats,
    records: Vec<RequestRecord>,
    /// wikitop's own closing line (stdout).
    summary: String,
    /// Log lines in which wikitop says it pauses until a given time.
    pause_lines: Vec<String>,
}

/// `project` is wikitop's `--project`: one wiki, or several separated by commas.
fn run_wikitop(fake: &FakeWiki, args: &Args, range: Range, project: &str) -> Result<SyncRun> {
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    // A fresh window and log: the phase is measured alone.
    fake.set_quota(args.quota);
    fake.reset_log();
    let (stdout, stderr) = (dir.path().join("stdout.txt"), dir.path().join("stderr.txt"));
    let peak_file = dir.path().join("peak-rss-kib.txt");
    let mut command = measured(
        &wikitop_command(fake, args, range, project, dir.path()),
        &peak_file,
    )?;
    command
        .stdin(Stdio::null())
        .stdout(File::create(&stdout)?)
        .stderr(File::create(&stderr)?);
    let started = Instant::now();
    let status = command.status().context("starting wikitop")?;
    let wall = started.elapsed();
    let out = std::fs::read_to_string(&stdout).unwrap_or_default();
    let err = std::fs::read_to_string(&stderr).unwrap_or_default();
    if !status.success() {
        let lines: Vec<&str> = err.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        bail!("wikitop sync exited with {status}:\n{out}{tail}");
    }
    let peak_rss_kb: u64 = std::fs::read_to_string(&peak_file)
        .ok()
        .and_then(|kib| kib.trim().parse().ok())
        .context("wikitop's peak RSS was not measured")?;
    Ok(SyncRun {
        range,
        wall,
        peak_rss_mb: peak_rss_kb as f64 / 1024.0,
        stats: fake.stats(),
        records: fake.requests(),
        summary: out.trim().to_owned(),
        pause_lines: err
            .lines()
            .filter(|l| l.contains("resum"))
            .map(str::to_owned)
            .collect(),
    })
}

/// The command a user would type, pointed at the fake, with `--rate` set to the fake's
/// quota (what the user would set to their published limit), or out of the way without one.
fn wikitop_command(
    fake: &FakeWiki,
    args: &Args,
    range: Range,
    project: &str,
    dir: &Path,
) -> Command {
    let wikitop = env!("CARGO_BIN_EXE_wikitop");
    let mut wrapper = args.wrap.iter().flat_map(|w| w.split_whitespace());
    let mut command = match wrapper.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(wrapper).arg(wikitop);
            command
        }
        None => Command::new(wikitop),
    };
    command
        .arg("sync")
        .args([
            "--since",
            &range.since.to_string(),
            "--until",
            &range.until.to_string(),
        ])
        .args(["--project", project])
        .arg("--db")
        .arg(dir.join("bench.duckdb"))
        .args([
            "--pageviews-api",
            &fake.pageviews_api(),
            "--action-api",
            &fake.action_api(),
        ])
        .args(["--contact", CONTACT])
        .args(["--rate", &rate_arg(args)]);
    // The caller's WIKITOP_* settings (a token, a JSON log format, …) must not leak in.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WIKITOP_") {
            command.env_remove(name);
        }
    }
    if args.token {
        command.env("WIKITOP_ACCESS_TOKEN", TOKEN);
    }
    command
}

/// The first argument that makes this binary the parent that measures one command:
/// `backfill --peak-rss-into FILE PROGRAM ARGS…` runs it with this process's stdio and
/// environment, writes its peak RSS in KiB into FILE and exits as it did.
///
/// The bench cannot measure its children itself: Linux folds the peak RSS of the process
/// that spawns a child into the child's `ru_maxrss` (at `execve`, `exec_mmap()` in the
/// kernel's `fs/exec.c` calls `setmax_mm_hiwater_rss()` on the address space the child
/// leaves, which after `fork` or `posix_spawn` is the parent's or a copy of it), so every run reported at least the bench's own peak,
/// grown by the fake's request log of the runs before: the paced 20-wiki run's "197 MB"
/// (`/bin/true` spawned from a 300 MB Python process reports 313 MB). A freshly started
/// helper is a few MB, below any wikitop run.
const MEASURE: &str = "--peak-rss-into";

/// `command` run under this binary as [`MEASURE`] says, writing its peak into `file`.
fn measured(command: &Command, file: &Path) -> Result<Command> {
    let mut outer = Command::new(std::env::current_exe().context("finding the bench binary")?);
    outer
        .arg(MEASURE)
        .arg(file)
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => outer.env(name, value),
            None => outer.env_remove(name),
        };
    }
    Ok(outer)
}

/// The helper's side of [`MEASURE`].
fn measure(argv: &[OsString]) -> ExitCode {
    let [file, program, args @ ..] = argv else {
        eprintln!("usage: backfill {MEASURE} FILE PROGRAM [ARGS…]");
        return ExitCode::from(2);
    };
    let run = || -> Result<ExitStatus> {
        let child = Command::new(program)
            .args(args)
            .spawn()
            .with_context(|| format!("starting {}", program.to_string_lossy()))?;
        let (status, peak_kib) = wait_with_peak_rss(child.id())?;
        std::fs::write(file, peak_kib.to_string())?;
        Ok(status)
    };
    match run() {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
            None => ExitCode::from(128 + u8::try_from(status.signal().unwrap_or(0)).unwrap_or(0)),
        },
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Reaps the child with `wait4(2)`, whose `rusage` is that child's own (RUSAGE_CHILDREN
/// would fold in every child reaped before, so a second run could not look smaller).
#[allow(unsafe_code)] // the one FFI call the standard library does not wrap
fn wait_with_peak_rss(pid: u32) -> io::Result<(ExitStatus, u64)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, valid when zeroed.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not reaped yet (std's `Child` is never waited
        // on); both pointers are valid for writes for the duration of the call.
        let reaped = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
        if reaped == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    // Linux reports ru_maxrss in KiB.
    Ok((
        ExitStatus::from_raw(status),
        u64::try_from(usage.ru_maxrss).unwrap_or(0),
    ))
}

// ---------------------------------------------------------------------------------------
// The naive per-page client

/// What the naive client did over its sample days, as the fake counted it.
struct NaiveRun {
    days: u32,
    wall: Duration,
    stats: Stats,
}

fn run_naive(fake: &FakeWiki, args: &Args, days: &[Date]) -> Result<NaiveRun> {
    fake.set_quota(args.quota);
    fake.reset_log();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let client = Naive::new(fake, args)?;
    let started = Instant::now();
    for &day in days {
        runtime.block_on(client.day(day))?;
    }
    Ok(NaiveRun {
        days: u32::try_from(days.len()).unwrap_or(u32::MAX),
        wall: started.elapsed(),
        stats: fake.stats(),
    })
}

/// The seed approach the issue measures against: for each day its top list, then one
/// Action API request per article (following `continue`), one at a time, each on a new
/// connection, honouring Retry-After.
struct Naive {
    /// Keeps no idle connection, so every request opens its own, as a script calling
    /// `requests.get` per page does; one client still, so the baseline pays for
    /// connections, not for rebuilding a TLS configuration it never uses.
    client: reqwest::Client,
    pageviews_api: String,
    action_api: String,
    project: String,
    token: Option<&'static str>,
}

impl Naive {
    fn new(fake: &FakeWiki, args: &Args) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(format!("naive-bench/0 ({CONTACT})"))
            .pool_max_idle_per_host(0)
            .build()?;
        Ok(Naive {
            client,
            pageviews_api: fake.pageviews_api(),
            action_api: fake
                .action_api()
                .replace("{host}", &format!("{}.org", args.project)),
            project: args.project.clone(),
            token: args.token.then_some(TOKEN),
        })
    }

    async fn day(&self, day: Date) -> Result<()> {
        let url = format!(
            "{}/metrics/pageviews/top/{}/{ACCESS}/{}",
            self.pageviews_api,
            self.project,
            day.strftime("%Y/%m/%d")
        );
        let top = self.get(&url, &[]).await?;
        let articles = top["items"][0]["articles"]
            .as_array()
            .with_context(|| format!("no top list for {day}"))?;
        for article in articles {
            if article["rank"]
                .as_u64()
                .is_some_and(|r| r <= u64::from(TOP))
                && let Some(title) = article["article"].as_str()
            {
                self.categories(title).await?;
            }
        }
        Ok(())
    }

    /// One page's categories, following `continue` until the batch is complete.
    async fn categories(&self, article: &str) -> Result<()> {
        // MediaWiki's escape for a value containing the `|` separator.
        let title = if article.contains('|') {
            format!("\u{1f}{article}")
        } else {
            article.to_owned()
        };
        let mut query: Vec<(String, String)> = [
            ("action", "query"),
            ("prop", "categories"),
            ("clprop", "hidden"),
            ("cllimit", "max"),
            ("redirects", "1"),
            ("format", "json"),
            ("formatversion", "2"),
            ("continue", ""),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        query.push(("titles".into(), title));
        loop {
            let body = self.get(&self.action_api, &query).await?;
            if let Some(error) = body.get("error") {
                bail!("the Action API refused {article}: {error}");
            }
            let Some(next) = body.get("continue").and_then(|c| c.as_object()) else {
                return Ok(());
            };
            for (name, value) in next {
                let value = value.as_str().unwrap_or_default().to_owned();
                match query.iter_mut().find(|(k, _)| k == name) {
                    Some(slot) => slot.1 = value,
                    None => query.push((name.clone(), value)),
                }
            }
        }
    }

    /// A GET on a new connection; a 429 waits its Retry-After and tries again.
    async fn get(&self, url: &str, query: &[(String, String)]) -> Result<serde_json::Value> {
        loop {
            let mut request = self
                .client
                .get(url)
                .query(query)
                .header(reqwest::header::CONNECTION, "close");
            if let Some(token) = self.token {
                request = request.bearer_auth(token);
            }
            let response = request.send().await?;
            if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
                let secs = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok()?.parse().ok())
                    .unwrap_or(1);
                tokio::time::sleep(Duration::from_secs(secs)).await;
                continue;
            }
            return Ok(response.error_for_status()?.json().await?);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Quota accounting

/// How a run spent a quota, from the fake's request log.
#[derive(Debug, Default)]
struct QuotaUse {
    windows: u64,
    throttled_windows: u64,
    rejections: u64,
    /// 429s after the first of their window: what the issue counts as wasted.
    beyond_first: u64,
    /// Of those, the requests sent after the window's first 429 had been answered (the
    /// client already knew); the others were already in flight when it came back.
    after_revealed: u64,
    /// How long after a throttled window's end the next request arrived: Retry-After is
    /// whole seconds, so a client that waits exactly as told lands within a second.
    resume_lag: Vec<Duration>,
}

/// Rebuilds the fake's fixed windows from the log. The fake checks the quota after its
/// latency, so a request is counted at `received_at + latency`; a window opens with the
/// first request counted after the previous one ended.
fn quota_use(records: &[RequestRecord], quota: Quota, latency: Duration) -> QuotaUse {
    let mut used = QuotaUse::default();
    let mut windows: Vec<Vec<&RequestRecord>> = Vec::new();
    let mut window_end: Option<Duration> = None;
    for record in records {
        let counted = record.received_at + latency;
        if window_end.is_none_or(|end| counted >= end) {
            window_end = Some(counted + quota.window);
            windows.push(Vec::new());
        }
        if let Some(window) = windows.last_mut() {
            window.push(record);
        }
    }
    used.windows = windows.len() as u64;
    for (i, window) in windows.iter().enumerate() {
        let throttled: Vec<&&RequestRecord> = window.iter().filter(|r| r.throttled).collect();
        let Some(revealed) = throttled.iter().filter_map(|r| r.finished_at).min() else {
            continue;
        };
        used.throttled_windows += 1;
        used.rejections += throttled.len() as u64;
        used.beyond_first += throttled.len() as u64 - 1;
        used.after_revealed += throttled
            .iter()
            .filter(|r| r.received_at > revealed)
            .count() as u64;
        let end = window[0].received_at + latency + quota.window;
        if let Some(next) = windows.get(i + 1).and_then(|w| w.first()) {
            used.resume_lag.push(next.received_at.saturating_sub(end));
        }
    }
    used
}

// ---------------------------------------------------------------------------------------
// Reports

fn print_report(args: &Args, range: Range, floor: &Floor, sync: &SyncRun, naive: &NaiveRun) {
    let latency = Duration::from_millis(args.latency);
    println!();
    println!("wikitop backfill benchmark: {}, {range}", args.project);
    println!(
        "fakewiki: realistic universe (seed {}), latency {} ms, {}, {}",
        args.seed,
        args.latency,
        args.quota.map_or("no quota".to_owned(), |q| format!(
            "quota {}/{} s",
            q.requests,
            q.window.as_secs()
        )),
        if args.token {
            "Bearer token (quota ×10)"
        } else {
            "anonymous"
        },
    );
    println!("wikitop: {}", sync.summary);
    println!();
    let days = f64::from(range.len());
    let naive_days = f64::from(naive.days.max(1));
    let (s, n) = (&sync.stats, &naive.stats);
    let sync_per_day = s.requests as f64 / days;
    let naive_per_day = n.requests as f64 / naive_days;
    let sync_secs_day = sync.wall.as_secs_f64() / days;
    let naive_secs_day = naive.wall.as_secs_f64() / naive_days;
    let request_ratio = naive_per_day / sync_per_day;
    let time_ratio = naive_secs_day / sync_secs_day;
    println!(
        "{:<28}{:>16}{:>20}",
        "",
        "wikitop sync",
        format!(
            "naive ({} day{})",
            naive.days,
            if naive.days == 1 { "" } else { "s" }
        )
    );
    row(
        "days",
        thousands(u64::from(range.len())),
        naive.days.to_string(),
    );
    row(
        "HTTP requests",
        thousands(s.requests),
        thousands(n.requests),
    );
    row(
        "  top lists",
        thousands(s.top_requests),
        thousands(n.top_requests),
    );
    row(
        "  categories",
        thousands(s.category_requests),
        thousands(n.category_requests),
    );
    row(
        "429s received",
        thousands(s.served_429),
        thousands(n.served_429),
    );
    row(
        "max in flight",
        s.max_in_flight.to_string(),
        n.max_in_flight.to_string(),
    );
    row("wall time", secs(sync.wall), secs(naive.wall));
    row(
        "requests/s",
        rate(s.requests, sync.wall),
        rate(n.requests, naive.wall),
    );
    row_ratio(
        "requests/day",
        format!("{sync_per_day:.2}"),
        format!("{naive_per_day:.1}"),
        request_ratio,
    );
    row_ratio(
        "seconds/day",
        format!("{sync_secs_day:.4}"),
        format!("{naive_secs_day:.3}"),
        time_ratio,
    );
    row(
        "peak RSS",
        format!("{:.1} MB", sync.peak_rss_mb),
        "-".into(),
    );
    println!();

    let floor_ratio = s.requests as f64 / floor.total() as f64;
    println!(
        "{:<28}{:>16}   ({} top lists + {} categories: {} unique titles in {} batches of 50)",
        "request floor",
        thousands(floor.total()),
        thousands(floor.top_lists),
        thousands(floor.categories),
        thousands(floor.pages.len() as u64),
        thousands(floor.batches),
    );
    println!("{:<28}{:>16.3}", "requests / floor", floor_ratio);
    print_batch_audit(&audit_batches(&sync.records, floor), floor);
    let critical = s
        .category_requests
        .max(s.top_requests.div_ceil(TOP_LISTS_IN_FLIGHT));
    let latency_floor = latency * u32::try_from(critical).unwrap_or(u32::MAX);
    let latency_ratio = sync.wall.as_secs_f64() / latency_floor.as_secs_f64();
    if !latency.is_zero() {
        println!(
            "{:<28}{:>16}   ({} requests on the critical path × {} ms)",
            "latency floor",
            secs(latency_floor),
            thousands(critical),
            args.latency
        );
        println!("{:<28}{:>16.3}", "wall / latency floor", latency_ratio);
        // The same at the request floor: what an ideal client would wait for.
        let ideal = floor
            .categories
            .max(floor.top_lists.div_ceil(TOP_LISTS_IN_FLIGHT));
        let ideal_floor = latency * u32::try_from(ideal).unwrap_or(u32::MAX);
        println!(
            "{:<28}{:>16.3}   (at the request floor: {} × {} ms = {})",
            "wall / ideal latency floor",
            sync.wall.as_secs_f64() / ideal_floor.as_secs_f64(),
            thousands(ideal),
            args.latency,
            secs(ideal_floor),
        );
    }
    let quota_report = args.quota.map(|q| print_quota(args, q, sync));

    println!();
    println!("targets");
    target(
        floor_ratio <= MAX_FLOOR_RATIO,
        "requests ≤ 1.10 × floor",
        format!("{floor_ratio:.3}"),
    );
    if !latency.is_zero() && args.quota.is_none() {
        target(
            latency_ratio <= MAX_LATENCY_FLOOR_RATIO,
            "wall ≤ 1.25 × latency floor",
            format!("{latency_ratio:.3}"),
        );
    }
    if let Some((quota_ratio, used)) = quota_report {
        target(
            used.rejections == 0,
            "paced to the quota: no 429 at all",
            used.rejections.to_string(),
        );
        target(
            quota_ratio <= MAX_QUOTA_FLOOR_RATIO,
            "paced wall ≤ 1.15 × requests ÷ rate",
            format!("{quota_ratio:.3}"),
        );
    }
    target(
        request_ratio >= MIN_BASELINE_RATIO,
        "≥ 30× fewer requests/day than naive",
        format!("{request_ratio:.1}×"),
    );
    // With no latency there is nothing to wait for: both clients are CPU-bound on
    // localhost, and the CPU-bound target below applies instead.
    if !latency.is_zero() {
        target(
            time_ratio >= MIN_BASELINE_RATIO,
            "≥ 30× less wall time/day than naive",
            format!("{time_ratio:.1}×"),
        );
    }
    target(
        sync.peak_rss_mb <= MAX_RSS_MB,
        "peak RSS ≤ 100 MB",
        format!("{:.1} MB", sync.peak_rss_mb),
    );
    if latency.is_zero() && args.quota.is_none() {
        let label = format!(
            "0 ms latency: wall < 20 s ({})",
            if range.len() >= 1337 {
                "full range"
            } else {
                "partial range"
            }
        );
        target(
            sync.wall.as_secs_f64() < MAX_CPU_BOUND_SECS,
            &label,
            secs(sync.wall),
        );
    }
}

/// wikitop's category batches beside the floor's, so a miss says where it comes from.
fn print_batch_audit(audit: &BatchAudit, floor: &Floor) {
    let per = |n: u64, d: u64| n as f64 / d.max(1) as f64;
    println!(
        "{:<28}{:>16}   (floor {}; {:.1} titles each; {} titles asked again)",
        "category batches",
        thousands(audit.batches),
        thousands(floor.batches),
        per(audit.titles, audit.batches),
        thousands(audit.repeated_titles),
    );
    println!(
        "{:<28}{:>16.2}   (these batches need {:.2}; the floor's {:.2})",
        "requests per batch",
        per(audit.requests, audit.batches),
        per(audit.needed, audit.batches),
        per(floor.categories, floor.batches),
    );
}

/// The budget wikitop paces to: the quota the fake enforces on this client.
fn rate_arg(args: &Args) -> String {
    match args.quota {
        Some(q) => {
            let factor = if args.token { TOKEN_QUOTA_FACTOR } else { 1 };
            format!("{}/{}s", q.requests * factor, q.window.as_secs())
        }
        None => UNPACED_RATE.to_owned(),
    }
}

/// The quota lines; returns the wall-time ratio and the accounting for the targets.
fn print_quota(args: &Args, quota: Quota, sync: &SyncRun) -> (f64, QuotaUse) {
    let factor = if args.token { TOKEN_QUOTA_FACTOR } else { 1 };
    let effective = Quota {
        requests: quota.requests * factor,
        window: quota.window,
    };
    let used = quota_use(
        &sync.records,
        effective,
        Duration::from_millis(args.latency),
    );
    let accepted = sync.stats.requests - sync.stats.quota_rejections;
    let floor = effective
        .window
        .mul_f64(accepted as f64 / f64::from(effective.requests));
    let ratio = sync.wall.as_secs_f64() / floor.as_secs_f64();
    println!(
        "{:<28}{:>16}   ({} accepted requests / {} per {} s, the --rate wikitop paced to)",
        "requests ÷ rate",
        secs(floor),
        thousands(accepted),
        effective.requests,
        effective.window.as_secs()
    );
    println!("{:<28}{:>16.3}", "paced wall / (requests ÷ rate)", ratio);
    println!(
        "{:<28}{:>16}   (in {} of {} windows)",
        "429s received", used.rejections, used.throttled_windows, used.windows,
    );
    println!(
        "{:<28}{:>16}   (beyond the first per window: {} in flight when it came back, {} sent after)",
        "wasted 429s",
        used.beyond_first,
        used.beyond_first - used.after_revealed,
        used.after_revealed
    );
    if let Some(max) = used.resume_lag.iter().max() {
        let mean = used.resume_lag.iter().sum::<Duration>()
            / u32::try_from(used.resume_lag.len()).unwrap_or(1);
        let mean = format!("{:.2} s", mean.as_secs_f64());
        println!(
            "{:<28}{mean:>16}   (max {:.2} s; Retry-After is whole seconds)",
            "resumed after window end",
            max.as_secs_f64()
        );
    }
    println!("{:<28}{:>16}", "pause lines logged", sync.pause_lines.len());
    if let Some(line) = sync.pause_lines.first() {
        println!("  e.g. {line}");
    }
    (ratio, used)
}

/// One run of `--compare-rss`: wikitop's peak RSS beside the titles it met and its
/// requests beside the floor of the same days and wikis.
struct RssRun<'a> {
    projects: &'a str,
    sync: SyncRun,
    floor_requests: u64,
    unique_titles: u64,
}

fn compare_rss(fake: &FakeWiki, args: &Args, range: Range) -> Result<()> {
    let short = Range::new(range.since, Some(SHORT_RSS_DAYS.min(range.len())))?;
    let one = args.project.as_str();
    let mut runs = Vec::new();
    for (r, projects) in [(short, one), (range, one), (range, RSS_PROJECTS)] {
        eprintln!("Computing the request floor of {projects}, {r} …");
        let (mut floor_requests, mut unique_titles) = (0, 0);
        for p in projects.split(',') {
            let floor = request_floor(fake, p, r)?;
            floor_requests += floor.total();
            unique_titles += floor.pages.len() as u64;
        }
        eprintln!("Running wikitop sync over {projects}, {r} …");
        runs.push(RssRun {
            projects,
            sync: run_wikitop(fake, args, r, projects)?,
            floor_requests,
            unique_titles,
        });
    }
    println!();
    println!(
        "peak RSS of wikitop sync against unique titles, latency {} ms:",
        args.latency
    );
    println!(
        "  {:<44}{:>7}{:>12}{:>14}{:>10}{:>10}{:>10}{:>11}",
        "range", "wikis", "peak RSS", "unique titles", "requests", "floor", "/ floor", "wall"
    );
    for run in &runs {
        println!(
            "  {:<44}{:>7}{:>9.1} MB{:>14}{:>10}{:>10}{:>10.3}{:>11}",
            run.sync.range.to_string(),
            run.projects.split(',').count(),
            run.sync.peak_rss_mb,
            thousands(run.unique_titles),
            thousands(run.sync.stats.requests),
            thousands(run.floor_requests),
            run.sync.stats.requests as f64 / run.floor_requests as f64,
            secs(run.sync.wall),
        );
    }
    let peak = runs.iter().map(|r| r.sync.peak_rss_mb).fold(0.0, f64::max);
    let worst_ratio = runs
        .iter()
        .map(|r| r.sync.stats.requests as f64 / r.floor_requests as f64)
        .fold(0.0, f64::max);
    let growth = peak / runs[0].sync.peak_rss_mb;
    println!();
    target(
        peak <= MAX_RSS_MB,
        "peak RSS ≤ 100 MB in every run",
        format!("{peak:.1} MB"),
    );
    target(
        growth <= MAX_RSS_GROWTH,
        "flat: largest RSS ≤ 1.25 × 100-day RSS",
        format!("{growth:.2}×"),
    );
    target(
        worst_ratio <= MAX_RSS_RUN_FLOOR_RATIO,
        "requests ≤ 1.02 × floor in every run",
        format!("{worst_ratio:.3}"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Many wikis in one run

/// `largest:N` through wikitop's own list (what `--project` expands it to), or a comma list.
fn wiki_list(spec: &str) -> Result<Vec<String>> {
    if spec.trim().starts_with(wikitop::settings::LARGEST_PREFIX) {
        let wikis = wikitop::settings::largest_wikipedias(spec)?;
        return Ok(wikis.iter().map(ToString::to_string).collect());
    }
    Ok(spec.split(',').map(|p| p.trim().to_owned()).collect())
}

/// One `--wikis` run: what it was, and its floor.
struct WikisRun {
    label: String,
    wikis: usize,
    sync: SyncRun,
    floor_requests: u64,
    unique_titles: u64,
}

/// The summed floors of `wikis` over `range`, and their unique titles.
fn summed_floor(fake: &FakeWiki, wikis: &[String], range: Range) -> Result<(u64, u64)> {
    let (mut requests, mut titles) = (0, 0);
    for wiki in wikis {
        let floor = request_floor(fake, wiki, range)?;
        requests += floor.total();
        titles += floor.pages.len() as u64;
    }
    Ok((requests, titles))
}

fn wikis_run(
    fake: &FakeWiki,
    args: &Args,
    range: Range,
    wikis: &[String],
    label: String,
) -> Result<WikisRun> {
    eprintln!("Computing the floors of {label}, {range} …");
    let (floor_requests, unique_titles) = summed_floor(fake, wikis, range)?;
    eprintln!("Running wikitop sync over {label}, {range} …");
    Ok(WikisRun {
        label,
        wikis: wikis.len(),
        sync: run_wikitop(fake, args, range, &wikis.join(","))?,
        floor_requests,
        unique_titles,
    })
}

/// The first wiki alone and all of them in one run, unpaced; then all of them paced
/// at the default budget over the first `--paced-days` days.
fn many_wikis(fake: &FakeWiki, args: &Args, range: Range, wikis: &[String]) -> Result<()> {
    let spec = args.wikis.clone().unwrap_or_default();
    let unpaced = Args {
        quota: None,
        ..args.clone()
    };
    let mut runs = vec![
        wikis_run(fake, &unpaced, range, &wikis[..1], wikis[0].clone())?,
        wikis_run(fake, &unpaced, range, wikis, spec.clone())?,
    ];
    if args.paced_days > 0 {
        let paced = Args {
            quota: Some(DEFAULT_BUDGET),
            ..args.clone()
        };
        let short = Range::new(range.since, Some(args.paced_days.min(range.len())))?;
        runs.push(wikis_run(
            fake,
            &paced,
            short,
            wikis,
            format!("{spec}, paced"),
        )?);
    }
    print_many_wikis(args, &runs);
    Ok(())
}

/// wikitop's default budget, which the paced run leaves in place and the fake enforces.
const DEFAULT_BUDGET: Quota = Quota {
    requests: 200,
    window: Duration::from_secs(60),
};

fn print_many_wikis(args: &Args, runs: &[WikisRun]) {
    println!();
    println!(
        "wikitop sync over many wikis in one run, fakewiki realistic (seed {}), latency {} ms:",
        args.seed, args.latency
    );
    println!(
        "  {:<22}{:>6}{:>34}{:>11}{:>11}{:>9}{:>10}{:>12}{:>11}{:>7}",
        "run",
        "wikis",
        "range",
        "titles",
        "requests",
        "floor",
        "/ floor",
        "peak RSS",
        "wall",
        "429s"
    );
    for run in runs {
        println!(
            "  {:<22}{:>6}{:>34}{:>11}{:>11}{:>9}{:>10.3}{:>9.1} MB{:>11}{:>7}",
            run.label,
            run.wikis,
            run.sync.range.to_string(),
            thousands(run.unique_titles),
            thousands(run.sync.stats.requests),
            thousands(run.floor_requests),
            run.sync.stats.requests as f64 / run.floor_requests as f64,
            run.sync.peak_rss_mb,
            secs(run.sync.wall),
            run.sync.stats.served_429,
        );
    }
    let [one, all, rest @ ..] = runs else { return };
    if let Some(paced) = rest.first() {
        let rate = f64::from(DEFAULT_BUDGET.requests) / DEFAULT_BUDGET.window.as_secs_f64();
        let ideal = paced.sync.stats.requests as f64 / rate;
        let ratio = paced.sync.wall.as_secs_f64() / ideal;
        let full = all.sync.stats.requests as f64 / rate * ratio;
        println!(
            "  paced: {:.1} s for {} requests = {ratio:.3} × requests ÷ 200/min; the whole range's {} requests at that pace: {:.1} h",
            paced.sync.wall.as_secs_f64(),
            thousands(paced.sync.stats.requests),
            thousands(all.sync.stats.requests),
            full / 3600.0
        );
    }
    println!();
    // The target is the range's. Over the paced run's few days a wiki's floor is a dozen
    // requests that wikitop meets within one or two either way (3 days unpaced, 2026-12-04:
    // uk 15 against 16, fa 16 against 14), so its ratio is printed above, not judged.
    let worst = [one, all]
        .iter()
        .map(|r| r.sync.stats.requests as f64 / r.floor_requests as f64)
        .fold(0.0, f64::max);
    let peak = runs.iter().map(|r| r.sync.peak_rss_mb).fold(0.0, f64::max);
    target(
        worst <= MAX_RSS_RUN_FLOOR_RATIO,
        "requests ≤ 1.02 × the summed floors over the range",
        format!("{worst:.3}"),
    );
    target(
        peak <= MAX_RSS_MB,
        "peak RSS ≤ 100 MB in every run",
        format!("{peak:.1} MB"),
    );
    let growth = all.sync.peak_rss_mb / one.sync.peak_rss_mb;
    target(
        growth <= MAX_RSS_GROWTH,
        "flat: all wikis' RSS ≤ 1.25 × one wiki's",
        format!("{growth:.2}×"),
    );
    if let Some(paced) = rest.first() {
        target(
            paced.sync.stats.served_429 == 0,
            "paced at the default budget: no 429",
            paced.sync.stats.served_429.to_string(),
        );
    }
}

fn row(label: &str, sync: String, naive: String) {
    println!("{label:<28}{sync:>16}{naive:>20}");
}

fn row_ratio(label: &str, sync: String, naive: String, ratio: f64) {
    println!("{label:<28}{sync:>16}{naive:>20}   naive / wikitop {ratio:.1}×");
}

fn target(pass: bool, what: &str, measured: String) {
    println!(
        "  {} {what:<44} {measured}",
        if pass { "PASS" } else { "FAIL" }
    );
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn rate(requests: u64, wall: Duration) -> String {
    format!(
        "{:.1}",
        requests as f64 / wall.as_secs_f64().max(f64::EPSILON)
    )
}

/// `3512` → `3,512`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
