//! Validated settings: every option a user can give is checked here, before the store
//! is opened or a request sent, so bad input fails fast with one sentence and exit 2.

use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::http::{DEFAULT_RATE, DEFAULT_RATE_WITH_TOKEN, HttpPolicy, Rate};
use crate::judge::{DenyList, Judging, ShareBounds};
use crate::model::{Access, Day, FIRST_PAGEVIEWS_DAY, Project};

pub mod wikipedias;

/// The first day of the default backfill.
pub const DEFAULT_SINCE: Day = jiff::civil::date(2023, 4, 1);
pub const DEFAULT_TOP: u32 = 100;
pub const DEFAULT_PROJECT: &str = "en.wikipedia";
/// Pageviews requests in flight; with the Action API's one, Wikimedia's cap of 3.
pub const DEFAULT_PAGEVIEWS_CONCURRENCY: usize = 2;
/// Runs `status` lists.
pub const DEFAULT_STATUS_RUNS: usize = 5;
pub const DEFAULT_PAGEVIEWS_API: &str = "https://wikimedia.org/api/rest_v1";
pub const DEFAULT_ACTION_API: &str = "https://{host}/w/api.php";
pub const DEFAULT_DB: &str = "wikitop.duckdb";

/// Which warehouse, as `--sink` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SinkKind {
    /// The embedded DuckDB file.
    #[default]
    DuckDb,
    /// Google BigQuery (production).
    BigQuery,
}

impl crate::model::Named for SinkKind {
    const ALL: &'static [SinkKind] = &[SinkKind::DuckDb, SinkKind::BigQuery];
    fn name(self) -> &'static str {
        match self {
            SinkKind::DuckDb => "duckdb",
            SinkKind::BigQuery => "bigquery",
        }
    }
}

/// Without a task timeout, a run `running` for a day has lost its process: a daily run
/// takes minutes and a backfill hours. A deployment whose tasks may run longer (Cloud Run
/// allows up to 168 h) says so with `WIKITOP_TASK_TIMEOUT`, as the Terraform here does.
pub const DEFAULT_STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
/// Past its task timeout a run gets this long to have its end recorded.
const STALE_MARGIN: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// Where the days go.
#[derive(Debug, Clone)]
pub enum StoreSettings {
    DuckDb { path: PathBuf },
    BigQuery(BigQuerySettings),
}

/// Where to store in BigQuery: a validated `project.dataset`, an optional location for a
/// dataset created by wikitop, and an optional endpoint (an emulator, used without
/// credentials). Every part is checked here, before anything is sent or any SQL is
/// built from it: the sink quotes the project and dataset into statements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BigQuerySettings {
    project_id: String,
    dataset: String,
    location: Option<String>,
    endpoint: Option<String>,
    /// How long a run may be `running` before a later run calls it abandoned: the task
    /// timeout the deployment gives it (`WIKITOP_TASK_TIMEOUT`) plus a margin, else a day.
    stale_after: std::time::Duration,
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

impl BigQuerySettings {
    /// Validates `dataset` (`PROJECT.DATASET`, e.g. `my-project.wikitop`), `location`
    /// (e.g. `US`, `EU`, `europe-west1`) and `endpoint` (e.g. `http://127.0.0.1:9050`).
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
        Ok(BigQuerySettings {
            project_id: project_id.to_owned(),
            dataset: dataset.to_owned(),
            location: location.map(str::to_owned),
            endpoint: endpoint.map(|e| e.trim_end_matches('/').to_owned()),
            stale_after: DEFAULT_STALE_AFTER,
        })
    }

    /// A run's deadline: a task stopped by its timeout leaves its run `running`, which a
    /// later run may call abandoned once the timeout and a margin have passed.
    pub fn with_task_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.stale_after = timeout + STALE_MARGIN;
        self
    }

    /// How long a run may stay `running` before a later run calls it abandoned.
    pub fn stale_after(&self) -> std::time::Duration {
        self.stale_after
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
}

/// The store in words, as the report names it: `DuckDB file …`, `BigQuery dataset …`.
impl std::fmt::Display for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreSettings::DuckDb { path } => write!(f, "DuckDB file {}", path.display()),
            StoreSettings::BigQuery(bigquery) => write!(f, "BigQuery dataset {bigquery}"),
        }
    }
}

impl std::fmt::Display for BigQuerySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.project_id, self.dataset)
    }
}

/// This process's share of a run, `index` of `count` processes started with the same
/// options. With at least as many wikis as shards, a shard takes whole wikis, those at
/// positions `index`, `index + count`, … of `--project`, every day: one process then
/// deduplicates a wiki's titles over all its days, so each wiki stays on its request
/// floor, and a daily run of many wikis is split `count` ways too. With fewer wikis
/// than shards (one wiki, say) it takes day number `k` (counted from 2015-07-01) of
/// every wiki when `k % count == index`. Either way shards never overlap, whatever
/// `--since` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether the shards of a run of `wikis` wikis split it by wiki (else by day).
    pub fn by_wiki(self, wikis: usize) -> bool {
        wikis >= self.count as usize
    }

    /// Whether this shard syncs `day` of the wiki at position `wiki` of `wikis`.
    pub fn owns(self, wiki: usize, wikis: usize, day: Day) -> bool {
        if self.by_wiki(wikis) {
            wiki % self.count as usize == self.index as usize
        } else {
            let n = FIRST_PAGEVIEWS_DAY
                .until(day)
                .map(|span| span.get_days())
                .unwrap_or(0);
            n.rem_euclid(self.count as i32) as u32 == self.index
        }
    }
}

/// Everything `sync` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub since: Day,
    /// `None`: up to the latest day the Pageviews API has published.
    pub until: Option<Day>,
    pub projects: Vec<Project>,
    pub access: Access,
    pub top: u32,
    pub store: StoreSettings,
    /// Re-fetch and replace days already stored.
    pub force: bool,
    /// Judge the stored days again from what the store holds, sending no request.
    pub rejudge: bool,
    /// Read the Wikidata items of the stored days that lack them (page properties only).
    pub fill_wikidata: bool,
    pub dry_run: bool,
    pub shard: Shard,
    pub pageviews_api: String,
    /// May contain `{host}`, replaced by the project's host.
    pub action_api: String,
    pub http: HttpPolicy,
    /// Pageviews requests in flight (the Action API always has one).
    pub pageviews_concurrency: usize,
    /// Fetch each day's desktop top list too (one request a day) for the desktop share.
    /// Off with `--no-desktop`, and for an access other than all-access, whose share of
    /// desktop views says nothing of bots.
    pub desktop: bool,
    /// How rows are flagged as automated traffic.
    pub judging: Judging,
    /// The options as given, recorded in `ingest_runs`.
    pub arguments: String,
    /// Today (UTC), so tests can pin the clock.
    pub today: Day,
}

/// Options as a user typed them; `Settings::resolve` checks them all.
#[derive(Debug, Clone, Default)]
pub struct SyncInput {
    pub since: Option<String>,
    pub until: Option<String>,
    pub date: Option<String>,
    pub projects: Vec<String>,
    pub access: Option<Access>,
    pub top: Option<u32>,
    pub store: StoreInput,
    pub force: bool,
    /// `--rejudge`: recompute the judged columns of stored days; fetch nothing.
    pub rejudge: bool,
    /// `--fill-wikidata`: the items of stored days that lack them, and nothing else.
    pub fill_wikidata: bool,
    pub dry_run: bool,
    pub shard: Option<String>,
    pub pageviews_api: Option<String>,
    pub action_api: Option<String>,
    pub contact: Option<String>,
    pub access_token: Option<String>,
    pub pageviews_concurrency: Option<usize>,
    /// `N/WINDOW`, e.g. `200/1min`; the default depends on `access_token`.
    pub rate: Option<String>,
    pub http_timeout_secs: Option<f64>,
    pub max_tries: Option<u32>,
    pub retry_base_ms: Option<u64>,
    /// `--no-desktop`: skip the desktop top list.
    pub no_desktop: bool,
    /// `LOW-HIGH` in percent, e.g. `10-90`.
    pub desktop_share: Option<String>,
    /// A deny list file that extends the shipped one.
    pub deny_list: Option<PathBuf>,
    pub arguments: String,
}

/// Store options as typed: `--sink`, `--db`, `--bq-dataset`, `--bq-location`.
#[derive(Debug, Clone, Default)]
pub struct StoreInput {
    pub sink: Option<SinkKind>,
    pub db: Option<PathBuf>,
    pub bq_dataset: Option<String>,
    pub bq_location: Option<String>,
    pub bq_endpoint: Option<String>,
    /// `WIKITOP_TASK_TIMEOUT`, e.g. `3600s`: the deployment's limit on one run.
    pub task_timeout: Option<String>,
}

impl StoreInput {
    pub fn resolve(&self) -> Result<StoreSettings> {
        match self.sink.unwrap_or_default() {
            SinkKind::DuckDb => Ok(StoreSettings::DuckDb {
                path: self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
            }),
            SinkKind::BigQuery => {
                let dataset = self.bq_dataset.as_deref().ok_or_else(|| Error::InvalidSetting {
                    what: "BigQuery dataset",
                    value: String::new(),
                    why: "`--sink bigquery` needs `--bq-dataset PROJECT.DATASET` (or WIKITOP_BQ_DATASET)".into(),
                })?;
                let settings = BigQuerySettings::new(
                    dataset,
                    self.bq_location.as_deref(),
                    self.bq_endpoint.as_deref(),
                )?;
                Ok(StoreSettings::BigQuery(match &self.task_timeout {
                    Some(t) => settings.with_task_timeout(parse_age("task timeout", t)?),
                    None => settings,
                }))
            }
        }
    }
}

/// Parses a `YYYY-MM-DD` day and checks it is one the Pageviews API can have.
pub fn parse_day(s: &str, today: Day) -> Result<Day> {
    let s = s.trim();
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let day: Date = if shaped { s.parse().ok() } else { None }
        .ok_or_else(|| Error::InvalidDate(s.to_owned()))?;
    if day < FIRST_PAGEVIEWS_DAY {
        return Err(Error::TooEarly(day));
    }
    if day > today {
        return Err(Error::FutureDate(day));
    }
    Ok(day)
}

fn parse_shard(s: &str) -> Result<Shard> {
    let bad = || Error::InvalidSetting {
        what: "shard",
        value: s.to_owned(),
        why: "expected `i/n` with 0 <= i < n, e.g. `0/4`".into(),
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn parse_rate(s: &str) -> Result<Rate> {
    let bad = || Error::InvalidSetting {
        what: "rate",
        value: s.to_owned(),
        why: "expected `N/WINDOW`, e.g. `200/1min`, `5000/1h` or `20/10s`".into(),
    };
    let (n, w) = s.split_once('/').ok_or_else(bad)?;
    let requests: u32 = n.trim().parse().map_err(|_| bad())?;
    let w = w.trim();
    let split = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
    let (num, unit) = w.split_at(split);
    let num: u64 = if num.is_empty() {
        1
    } else {
        num.parse().map_err(|_| bad())?
    };
    let secs = match unit {
        "s" | "" => num,
        "m" | "min" => num * 60,
        "h" => num * 3600,
        "d" => num * 86400,
        _ => return Err(bad()),
    };
    if requests == 0 || secs == 0 {
        return Err(bad());
    }
    Ok(Rate {
        requests,
        window: Duration::from_secs(secs),
    })
}

/// The operator's contact as it goes into the User-Agent header: an e-mail address, a
/// URL or `(wikipedia:de; User:Name)`-style wiki user, on one line.
fn check_contact(contact: &str) -> Result<String> {
    let contact = contact.trim();
    if contact.is_empty() {
        return Err(Error::ContactRequired);
    }
    if contact
        .chars()
        .any(|c| c.is_control() || c == '(' || c == ')')
    {
        return Err(Error::InvalidSetting {
            what: "contact",
            value: contact.to_owned(),
            why: "expected an e-mail address or URL on one line, without parentheses".into(),
        });
    }
    Ok(contact.to_owned())
}

fn check_url(what: &'static str, url: String) -> Result<String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(Error::InvalidSetting {
            what,
            value: url,
            why: "expected an http:// or https:// URL".into(),
        })
    }
}

/// `--date`, or `--since` (default 2023-04-01) and `--until` (default: none, the
/// latest published day), in order.
fn resolve_range(input: &SyncInput, today: Day) -> Result<(Day, Option<Day>)> {
    if let Some(d) = &input.date {
        let day = parse_day(d, today)?;
        return Ok((day, Some(day)));
    }
    let parse = |s: &Option<String>| s.as_deref().map(|s| parse_day(s, today)).transpose();
    let since = parse(&input.since)?.unwrap_or(DEFAULT_SINCE);
    let until = parse(&input.until)?;
    match until {
        Some(until) if until < since => Err(Error::RangeReversed { since, until }),
        _ => Ok((since, until)),
    }
}

/// How `--project` names the N largest Wikipedias ([`wikipedias::WIKIPEDIAS`]).
pub const LARGEST_PREFIX: &str = "largest:";

/// `largest:N`: the first N Wikipedias of the compiled list, largest first.
pub fn largest_wikipedias(name: &str) -> Result<Vec<Project>> {
    let list = wikipedias::WIKIPEDIAS;
    let n = name
        .trim()
        .strip_prefix(LARGEST_PREFIX)
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|n| (1..=list.len()).contains(n))
        .ok_or_else(|| Error::InvalidSetting {
            what: "project",
            value: name.trim().to_owned(),
            why: format!(
                "expected `largest:N` with N from 1 to {}, the Wikipedias of Meta's List of Wikipedias of {} by articles",
                list.len(),
                wikipedias::SNAPSHOT
            ),
        })?;
    list[..n]
        .iter()
        .map(|(code, _)| Ok(format!("{code}.wikipedia").parse()?))
        .collect()
}

/// Repeated or comma-separated names (`largest:N` among them), each once, in the order
/// given.
fn resolve_projects(names: &[String]) -> Result<Vec<Project>> {
    let mut projects = Vec::new();
    for name in names.iter().flat_map(|p| p.split(',')) {
        if name.trim().is_empty() {
            continue;
        }
        let named = if name.trim().to_ascii_lowercase().starts_with(LARGEST_PREFIX) {
            largest_wikipedias(&name.trim().to_ascii_lowercase())?
        } else {
            vec![name.parse()?]
        };
        for project in named {
            if !projects.contains(&project) {
                projects.push(project);
            }
        }
    }
    if projects.is_empty() {
        projects.push(DEFAULT_PROJECT.parse()?);
    }
    Ok(projects)
}

/// The HTTP policy: a contact unless nothing is sent, the budget (shared by the
/// shards), timeouts and retries.
fn resolve_http(input: &SyncInput, shard: Shard) -> Result<HttpPolicy> {
    let timeout = match input.http_timeout_secs {
        Some(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
        Some(s) => {
            return Err(Error::InvalidSetting {
                what: "HTTP timeout",
                value: s.to_string(),
                why: "expected a positive number of seconds".into(),
            });
        }
        None => crate::http::DEFAULT_TIMEOUT,
    };
    let contact = input.contact.as_deref().map(check_contact).transpose()?;
    // Neither a dry run nor a rejudging run sends a request (filling items does).
    if contact.is_none() && !input.dry_run && !input.rejudge {
        return Err(Error::ContactRequired);
    }
    let access_token = input.access_token.clone().filter(|t| !t.trim().is_empty());
    let rate = match input.rate.as_deref() {
        Some(r) => parse_rate(r)?,
        None if access_token.is_some() => DEFAULT_RATE_WITH_TOKEN,
        None => DEFAULT_RATE,
    }
    .shared_by(shard.count);
    Ok(HttpPolicy {
        contact,
        access_token,
        rate,
        timeout,
        max_tries: input
            .max_tries
            .unwrap_or(crate::http::DEFAULT_MAX_TRIES)
            .max(1),
        retry_base: input
            .retry_base_ms
            .map(Duration::from_millis)
            .unwrap_or(crate::http::DEFAULT_RETRY_BASE),
    })
}

/// Pageviews requests in flight: 1 or 2.
fn resolve_concurrency(input: &SyncInput) -> Result<usize> {
    let n = input
        .pageviews_concurrency
        .unwrap_or(DEFAULT_PAGEVIEWS_CONCURRENCY);
    if !(1..=2).contains(&n) {
        return Err(Error::InvalidSetting {
            what: "Pageviews concurrency",
            value: n.to_string(),
            why: "expected 1 or 2: with the Action API's one request, Wikimedia allows 3 in flight"
                .into(),
        });
    }
    Ok(n)
}

/// `--rejudge` fetches nothing and `--fill-wikidata` only items: each goes with none of
/// `--force`, `--dry-run` and the other.
fn check_modes(input: &SyncInput) -> Result<()> {
    if input.rejudge && (input.force || input.dry_run) {
        return Err(Error::InvalidSetting {
            what: "--rejudge",
            value: if input.force { "--force" } else { "--dry-run" }.into(),
            why: "--rejudge judges the stored days again and fetches nothing: it goes with neither --force nor --dry-run".into(),
        });
    }
    if input.fill_wikidata && (input.force || input.dry_run || input.rejudge) {
        let other = if input.force {
            "--force"
        } else if input.dry_run {
            "--dry-run"
        } else {
            "--rejudge"
        };
        return Err(Error::InvalidSetting {
            what: "--fill-wikidata",
            value: other.into(),
            why: "--fill-wikidata only reads the Wikidata items of stored days that lack them: it goes with none of --force, --dry-run and --rejudge".into(),
        });
    }
    Ok(())
}

/// The share bounds and the deny list (the shipped one and the operator's file).
fn resolve_judging(input: &SyncInput) -> Result<Judging> {
    Ok(Judging {
        bounds: input
            .desktop_share
            .as_deref()
            .map(ShareBounds::parse)
            .transpose()?
            .unwrap_or(ShareBounds::DEFAULT),
        deny_list: DenyList::load(input.deny_list.as_deref())?,
    })
}

impl Settings {
    pub fn resolve(input: SyncInput, today: Day) -> Result<Settings> {
        let (since, until) = resolve_range(&input, today)?;
        let top = input.top.unwrap_or(DEFAULT_TOP);
        if !(1..=1000).contains(&top) {
            return Err(Error::TopOutOfRange(top));
        }
        let projects = resolve_projects(&input.projects)?;
        let shard = input
            .shard
            .as_deref()
            .map(parse_shard)
            .transpose()?
            .unwrap_or(Shard::ALL);
        let http = resolve_http(&input, shard)?;
        let pageviews_concurrency = resolve_concurrency(&input)?;
        check_modes(&input)?;
        let access = input.access.unwrap_or_default();
        let judging = resolve_judging(&input)?;
        Ok(Settings {
            since,
            until,
            projects,
            access,
            top,
            store: input.store.resolve()?,
            force: input.force,
            rejudge: input.rejudge,
            fill_wikidata: input.fill_wikidata,
            dry_run: input.dry_run,
            shard,
            pageviews_api: check_url(
                "Pageviews API URL",
                input
                    .pageviews_api
                    .unwrap_or_else(|| DEFAULT_PAGEVIEWS_API.into()),
            )?,
            action_api: check_url(
                "Action API URL",
                input
                    .action_api
                    .unwrap_or_else(|| DEFAULT_ACTION_API.into()),
            )?,
            http,
            pageviews_concurrency,
            desktop: !input.no_desktop && access == Access::AllAccess,
            judging,
            arguments: input.arguments,
            today,
        })
    }

    /// The last day to fetch: `--until`, else yesterday (UTC), the newest day the
    /// Pageviews API can have published.
    pub fn last_day(&self) -> Day {
        self.until
            .unwrap_or_else(|| self.today.yesterday().unwrap_or(self.today))
    }
}

/// `status` options as typed.
#[derive(Debug, Clone, Default)]
pub struct StatusInput {
    pub since: Option<String>,
    pub until: Option<String>,
    pub runs: Option<usize>,
    pub store: StoreInput,
    /// `--check`: judge the store's health, for a probe.
    pub check: bool,
    /// `--max-age`, e.g. `36h`.
    pub max_age: Option<String>,
}

/// Everything `status` needs, validated like `sync`'s before the store is opened.
#[derive(Debug, Clone)]
pub struct StatusSettings {
    pub since: Day,
    /// Yesterday (UTC) unless given.
    pub until: Day,
    pub runs: usize,
    pub store: StoreSettings,
    /// `--check`: the age past which a store with no successful run is unhealthy.
    pub check: Option<std::time::Duration>,
}

/// How old the last successful run may be before `status --check` fails: a daily run
/// plus half a day of slack for a late publication and a retry.
pub const DEFAULT_MAX_AGE: &str = "36h";

/// A duration such as `36h`, `90m`, `2d` or `3600s` (jiff's friendly duration format).
fn parse_age(what: &'static str, s: &str) -> Result<std::time::Duration> {
    let bad = |why: &str| Error::InvalidSetting {
        what,
        value: s.to_owned(),
        why: why.to_owned(),
    };
    let span: jiff::Span = s
        .parse()
        .map_err(|_| bad("expected a duration such as `36h`, `90m` or `2d`"))?;
    let secs = span
        .total((jiff::Unit::Second, jiff::civil::date(2000, 1, 1)))
        .map_err(|_| bad("expected a duration such as `36h`, `90m` or `2d`"))?;
    if !(secs.is_finite() && secs > 0.0) {
        return Err(bad("expected a positive duration"));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
}

impl StatusSettings {
    pub fn resolve(input: StatusInput, today: Day) -> Result<StatusSettings> {
        let since = match &input.since {
            Some(s) => parse_day(s, today)?,
            None => DEFAULT_SINCE,
        };
        let until = match &input.until {
            Some(u) => parse_day(u, today)?,
            None => today.yesterday().unwrap_or(today),
        };
        if until < since {
            return Err(Error::RangeReversed { since, until });
        }
        let check = input
            .check
            .then(|| {
                parse_age(
                    "--max-age",
                    input.max_age.as_deref().unwrap_or(DEFAULT_MAX_AGE),
                )
            })
            .transpose()?;
        Ok(StatusSettings {
            since,
            until,
            runs: input.runs.unwrap_or(DEFAULT_STATUS_RUNS),
            store: input.store.resolve()?,
            check,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Day {
        jiff::civil::date(2026, 11, 28)
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_day("2023-04-01", today()).unwrap(),
            jiff::civil::date(2023, 4, 1)
        );
        for bad in [
            "2023-4-1",
            "2023/04/01",
            "yesterday",
            "2023-02-30",
            "2023-04-01T00:00",
            "",
        ] {
            assert!(
                matches!(parse_day(bad, today()), Err(Error::InvalidDate(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_day("2015-06-30", today()),
            Err(Error::TooEarly(_))
        ));
        assert!(matches!(
            parse_day("2026-11-29", today()),
            Err(Error::FutureDate(_))
        ));
    }

    #[test]
    fn shards_cover_every_day_of_every_wiki_once() {
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        for wikis in [1, 2, 3, 7] {
            let mut day = jiff::civil::date(2023, 4, 1);
            for _ in 0..100 {
                for wiki in 0..wikis {
                    let owners: Vec<u32> = shards
                        .iter()
                        .filter(|s| s.owns(wiki, wikis, day))
                        .map(|s| s.index)
                        .collect();
                    assert_eq!(owners.len(), 1, "{wikis} wikis");
                    if wikis >= 3 {
                        // Whole wikis: the same shard every day.
                        assert_eq!(owners[0] as usize, wiki % 3);
                    }
                }
                day = day.tomorrow().unwrap();
            }
        }
        assert!(parse_shard("3/3").is_err());
        assert_eq!(parse_shard("1/4").unwrap(), Shard { index: 1, count: 4 });
    }

    #[test]
    fn largest_n_names_the_largest_wikipedias_in_order() {
        let names =
            |n: &[&str]| resolve_projects(&n.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let five: Vec<String> = names(&["largest:5"])
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            five,
            [
                "en.wikipedia",
                "ceb.wikipedia",
                "de.wikipedia",
                "fr.wikipedia",
                "sv.wikipedia"
            ]
        );
        // Mixed with named wikis, each once, in the order given.
        let mixed = names(&["hi.wikipedia,LARGEST:3", "de.wikipedia"]).unwrap();
        assert_eq!(mixed.len(), 4);
        assert_eq!(mixed[0].as_str(), "hi.wikipedia");
        let all = wikipedias::WIKIPEDIAS.len();
        assert_eq!(
            names(&[&format!("largest:{all}")]).unwrap().len(),
            all,
            "every code of the list is a valid project"
        );
        for bad in [
            "largest:0",
            &format!("largest:{}", all + 1),
            "largest:x",
            "largest:",
        ] {
            let err = names(&[bad]).unwrap_err();
            assert!(err.is_usage(), "{bad}");
            assert!(
                err.to_string().contains(&format!("N from 1 to {all}")),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn the_wikipedia_list_is_largest_first_and_has_no_duplicate() {
        let list = wikipedias::WIKIPEDIAS;
        assert!(list.len() > 300, "every open Wikipedia: {}", list.len());
        assert!(list.windows(2).all(|w| w[0].1 >= w[1].1));
        let codes: std::collections::HashSet<&str> = list.iter().map(|(c, _)| *c).collect();
        assert_eq!(codes.len(), list.len());
    }

    #[test]
    fn rates_read_units() {
        assert_eq!(
            parse_rate("200/10s").unwrap().window,
            Duration::from_secs(10)
        );
        assert_eq!(
            parse_rate("200/1min").unwrap().window,
            Duration::from_secs(60)
        );
        assert_eq!(
            parse_rate("500/h").unwrap().window,
            Duration::from_secs(3600)
        );
        assert!(parse_rate("0/1h").is_err());
        assert!(parse_rate("5/1w").is_err());
    }

    fn bigquery(dataset: &str) -> Result<BigQuerySettings> {
        BigQuerySettings::new(dataset, None, None)
    }

    #[test]
    fn datasets_are_validated_before_any_sql() {
        let ok = bigquery(" my-project.wikitop ").unwrap();
        assert_eq!((ok.project_id(), ok.dataset()), ("my-project", "wikitop"));
        assert_eq!(ok.to_string(), "my-project.wikitop");
        let scoped = bigquery("example.com:my-project.Wiki_Top_2").unwrap();
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
            let err = bigquery(bad).unwrap_err();
            assert!(matches!(err, Error::InvalidSetting { .. }), "{bad}");
            assert!(err.to_string().contains(why), "{bad}: {err}");
            assert!(err.is_usage());
        }
    }

    #[test]
    fn location_and_endpoint_are_validated() {
        let c = BigQuerySettings::new(
            "my-project.wikitop",
            Some("europe-west1"),
            Some("http://127.0.0.1:9050/"),
        )
        .unwrap();
        assert_eq!(c.location(), Some("europe-west1"));
        assert_eq!(c.endpoint(), Some("http://127.0.0.1:9050"));
        assert_eq!(
            BigQuerySettings::new("my-project.wikitop", Some(""), None)
                .unwrap()
                .location(),
            None
        );
        for location in ["US'", "eu west", "x".repeat(65).as_str()] {
            let err =
                BigQuerySettings::new("my-project.wikitop", Some(location), None).unwrap_err();
            assert!(
                err.to_string().contains("invalid BigQuery location"),
                "{err}"
            );
        }
        for endpoint in ["127.0.0.1:9050", "ftp://x", "http://"] {
            let err =
                BigQuerySettings::new("my-project.wikitop", None, Some(endpoint)).unwrap_err();
            assert!(
                err.to_string().contains("invalid BigQuery endpoint"),
                "{endpoint}: {err}"
            );
        }
    }

    fn input(contact: Option<&str>, dry_run: bool) -> SyncInput {
        SyncInput {
            contact: contact.map(str::to_owned),
            dry_run,
            ..SyncInput::default()
        }
    }

    #[test]
    fn a_contact_is_required_unless_nothing_is_sent() {
        assert!(matches!(
            Settings::resolve(input(None, false), today()),
            Err(Error::ContactRequired)
        ));
        assert!(matches!(
            Settings::resolve(input(Some("  "), false), today()),
            Err(Error::ContactRequired)
        ));
        assert!(Settings::resolve(input(None, true), today()).is_ok());
        let s = Settings::resolve(input(Some(" ops@example.org "), false), today()).unwrap();
        assert_eq!(s.http.contact.as_deref(), Some("ops@example.org"));
        assert!(Settings::resolve(input(Some("a\nb"), false), today()).is_err());
    }

    #[test]
    fn the_default_rate_follows_the_token() {
        let mut i = input(Some("ops@example.org"), false);
        assert_eq!(
            Settings::resolve(i.clone(), today()).unwrap().http.rate,
            DEFAULT_RATE
        );
        i.access_token = Some("t".into());
        assert_eq!(
            Settings::resolve(i.clone(), today()).unwrap().http.rate,
            DEFAULT_RATE_WITH_TOKEN
        );
        i.rate = Some("20/10s".into());
        assert_eq!(
            Settings::resolve(i.clone(), today()).unwrap().http.rate,
            Rate {
                requests: 20,
                window: Duration::from_secs(10)
            }
        );
        // Shards run at once under one contact: they share the budget.
        i.shard = Some("1/4".into());
        assert_eq!(Settings::resolve(i, today()).unwrap().http.rate.requests, 5);
    }
}
