//! Plans the missing days, fetches them and hands finished days to the sink.
//!
//! Three stages run concurrently in one task, joined by bounded channels so memory
//! stays flat however long the range is:
//! 1. top lists, `pageviews_concurrency` requests in flight, in day order, stopping at
//!    the first day the API has not published;
//! 2. categories, one Action API request in flight: titles are deduplicated across
//!    the whole run (a title's categories are fetched once per run) and packed 50 to
//!    a request across day boundaries, so the request count sits on the floor;
//! 3. the writer, which gives the sink finished days (one at a time for DuckDB, in
//!    chunks for BigQuery). Only whole days reach the sink.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use jiff::Timestamp;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::http::{Http, WaitObserver};
use crate::model::{
    Day, DayBatch, PageInfo, PageStatus, Project, RunRecord, RunStatus, TopEntry, TopRow,
};
use crate::settings::Settings;
use crate::sinks::Sink;
use crate::sources::categories::{self, MAX_TITLES_PER_REQUEST};
use crate::sources::pageviews::{self, TopList};

/// Top lists fetched ahead of the categories stage; bounds memory.
const TOP_LOOKAHEAD: usize = 16;
/// A 404 for a day this close to today means "not published yet"; older means the
/// project does not exist (or the API lost the day).
const PUBLICATION_LAG_DAYS: i32 = 3;
/// A chunking sink (BigQuery) gets what is ready at least this often.
const FLUSH_AFTER: Duration = Duration::from_secs(60);
/// Expected category rounds per 50-title batch (500 category rows per response,
/// ~20 categories a page), for `--dry-run` estimates.
const ROUNDS_PER_BATCH: f64 = 2.5;
/// Share of a day's top list that was not in the list of any earlier day.
const NEW_TITLE_SHARE: f64 = 0.4;

/// What the library tells its caller while it works; the CLI draws progress with it.
pub trait Reporter: WaitObserver {
    fn planned(&self, _project: &Project, _days: usize) {}
    fn day_written(&self, _project: &Project, _day: Day, _rows: usize) {}
    fn day_failed(&self, _project: &Project, _day: Day, _error: &str) {}
    fn not_published(&self, _project: &Project, _day: Day) {}
}

/// A reporter that says nothing (logs still go through `tracing`).
pub struct Silent;
impl WaitObserver for Silent {
    fn throttled(&self, _until: Timestamp, _reason: &str) {}
}
impl Reporter for Silent {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDay {
    pub project: Project,
    pub day: Day,
    pub error: String,
}

/// What a run did, for the caller and for `ingest_runs`.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    pub run_id: String,
    pub days_planned: u64,
    pub days_written: u64,
    /// Already stored, so not fetched.
    pub days_skipped: u64,
    pub days_failed: Vec<FailedDay>,
    pub rows_written: u64,
    pub http_requests: u64,
    pub top_requests: u64,
    pub category_requests: u64,
    pub http_retries: u64,
    pub throttled: u64,
    /// Per project, the first day the API has not published yet.
    pub not_published: Vec<(Project, Day)>,
    /// Filled by `--dry-run` instead of fetching.
    pub dry_run: Option<DryRun>,
}

impl RunReport {
    pub fn status(&self) -> RunStatus {
        match (self.days_failed.is_empty(), self.days_written) {
            (true, _) => RunStatus::Ok,
            (false, 0) => RunStatus::Failed,
            (false, _) => RunStatus::Partial,
        }
    }
}

/// The plan `--dry-run` prints.
#[derive(Debug, Clone, Default)]
pub struct DryRun {
    pub days: Vec<(Project, Vec<Day>)>,
    pub estimated_requests: u64,
    /// At the run's request budget (`--rate`).
    pub estimated_time: Duration,
}

/// A new run id: sortable by start time, unique across machines in practice.
pub fn new_run_id(started: Timestamp) -> String {
    format!(
        "{}-{:08x}",
        started.strftime("%Y%m%dT%H%M%SZ"),
        fastrand::u32(..)
    )
}

/// Days in `[since, last]` owned by the shard and (unless forced) not yet stored.
async fn plan<S: Sink>(
    settings: &Settings,
    sink: &mut S,
    project: &Project,
) -> Result<(Vec<Day>, u64)> {
    let last = settings.last_day();
    if last < settings.since {
        return Ok((Vec::new(), 0));
    }
    let stored = if settings.force {
        Default::default()
    } else {
        sink.stored_days(project, settings.access, settings.since, last)
            .await?
    };
    let mut days = Vec::new();
    let mut skipped = 0;
    let mut day = settings.since;
    while day <= last {
        if settings.shard.owns(day) {
            if stored.contains(&day) {
                skipped += 1;
            } else {
                days.push(day);
            }
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    Ok((days, skipped))
}

/// Requests a run of `days` days would send with `top` articles a day.
pub fn estimate_requests(days: u64, top: u32) -> u64 {
    if days == 0 {
        return 0;
    }
    let titles = top as f64 * (1.0 + (days - 1) as f64 * NEW_TITLE_SHARE);
    let batches = (titles / MAX_TITLES_PER_REQUEST as f64).ceil();
    days + (batches * ROUNDS_PER_BATCH).ceil() as u64
}

/// Runs `sync` against an open sink. The caller owns the sink and the lock on it.
pub async fn run<S: Sink>(
    settings: &Settings,
    sink: &mut S,
    reporter: Arc<dyn Reporter>,
) -> Result<RunReport> {
    let started = Timestamp::now();
    let mut report = RunReport {
        run_id: new_run_id(started),
        ..RunReport::default()
    };
    let mut plans = Vec::new();
    for project in &settings.projects {
        let (days, skipped) = plan(settings, sink, project).await?;
        report.days_skipped += skipped;
        report.days_planned += days.len() as u64;
        plans.push((project.clone(), days));
    }
    if settings.dry_run {
        let requests: u64 = plans
            .iter()
            .map(|(_, days)| estimate_requests(days.len() as u64, settings.top))
            .sum();
        report.dry_run = Some(DryRun {
            estimated_time: settings.http.rate.time_for(requests),
            estimated_requests: requests,
            days: plans,
        });
        return Ok(report);
    }
    if report.days_planned == 0 {
        return Ok(report);
    }
    let mut record = RunRecord {
        run_id: report.run_id.clone(),
        started_at: started,
        finished_at: None,
        status: RunStatus::Running,
        arguments: settings.arguments.clone(),
        days_written: 0,
        rows_written: 0,
        http_requests: 0,
        http_retries: 0,
        error: None,
    };
    sink.record_run(&record).await?;

    let observer: Arc<dyn WaitObserver> = Arc::new(Forward(reporter.clone()));
    let http = Http::new(
        settings.http.clone(),
        settings.pageviews_concurrency,
        1,
        Some(observer),
    )?;
    let mut outcome = Ok(());
    for (project, days) in plans {
        reporter.planned(&project, days.len());
        if days.is_empty() {
            continue;
        }
        let run_id = report.run_id.clone();
        outcome = sync_project(
            settings,
            &http,
            sink,
            reporter.as_ref(),
            &project,
            days,
            &run_id,
            &mut report,
        )
        .await;
        if outcome.is_err() {
            break;
        }
    }
    let stats = &http.stats;
    report.http_requests = stats.requests.load(Ordering::Relaxed);
    report.top_requests = stats.top_requests.load(Ordering::Relaxed);
    report.category_requests = stats.category_requests.load(Ordering::Relaxed);
    report.http_retries = stats.retries.load(Ordering::Relaxed);
    report.throttled = stats.throttled.load(Ordering::Relaxed);

    record.finished_at = Some(Timestamp::now());
    record.days_written = report.days_written;
    record.rows_written = report.rows_written;
    record.http_requests = report.http_requests;
    record.http_retries = report.http_retries;
    record.status = if outcome.is_err() {
        RunStatus::Failed
    } else {
        report.status()
    };
    record.error = match &outcome {
        Err(e) => Some(e.to_string()),
        Ok(()) if !report.days_failed.is_empty() => Some(
            report
                .days_failed
                .iter()
                .map(|f| format!("{} {}: {}", f.project, f.day, f.error))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Ok(()) => None,
    };
    if let Err(e) = sink.record_run(&record).await {
        // The days themselves are safe; only the ledger line is missing.
        tracing::warn!(error = %e, "Could not record the run in ingest_runs.");
    }
    outcome.map(|()| report)
}

struct Forward(Arc<dyn Reporter>);
impl WaitObserver for Forward {
    fn throttled(&self, until: Timestamp, reason: &str) {
        self.0.throttled(until, reason);
    }
}

/// A top list waiting for the categories of some of its articles.
struct PendingDay {
    day: Day,
    entries: Vec<TopEntry>,
}

enum DayOutcome {
    Ready(DayBatch),
    Failed(Day, String),
}

#[allow(clippy::too_many_arguments)]
async fn sync_project<S: Sink>(
    settings: &Settings,
    http: &Http,
    sink: &mut S,
    reporter: &dyn Reporter,
    project: &Project,
    days: Vec<Day>,
    run_id: &str,
    report: &mut RunReport,
) -> Result<()> {
    let (top_tx, top_rx) = mpsc::channel::<(Day, Result<TopList>)>(TOP_LOOKAHEAD);
    let (day_tx, day_rx) = mpsc::channel::<DayOutcome>(4);
    let action_url = categories::action_url(&settings.action_api, &project.host());
    let stored_before = !sink
        .stored_days(
            project,
            settings.access,
            jiff::civil::date(2015, 7, 1),
            settings.today,
        )
        .await?
        .is_empty();

    let tops = fetch_tops(settings, http, project, days, top_tx, stored_before);
    let cats = resolve_categories(
        http,
        &action_url,
        settings,
        project,
        run_id,
        top_rx,
        day_tx,
        stored_before,
    );
    let write = write_days(sink, reporter, project, day_rx, report);
    let (not_published, (), ()) = tokio::try_join!(tops, cats, write)?;
    if let Some(day) = not_published {
        reporter.not_published(project, day);
        report.not_published.push((project.clone(), day));
    }
    Ok(())
}

/// Stage 1: top lists in day order. Returns the first unpublished day, if any.
async fn fetch_tops(
    settings: &Settings,
    http: &Http,
    project: &Project,
    days: Vec<Day>,
    tx: mpsc::Sender<(Day, Result<TopList>)>,
    stored_before: bool,
) -> Result<Option<Day>> {
    let recent = settings
        .today
        .checked_sub(jiff::Span::new().days(PUBLICATION_LAG_DAYS))
        .unwrap_or(settings.today);
    let mut lists = futures_util::stream::iter(days)
        .map(|day| async move {
            let list = pageviews::fetch_top(
                http,
                &settings.pageviews_api,
                project,
                settings.access,
                day,
                settings.top,
            )
            .await;
            (day, list)
        })
        .buffered(settings.pageviews_concurrency);
    let mut any_published = stored_before;
    while let Some((day, list)) = lists.next().await {
        if matches!(list, Ok(TopList::NotFound)) && day >= recent {
            if !any_published && !project_exists(settings, http, project, recent).await? {
                return Err(Error::ProjectNotFound(project.to_string()));
            }
            tracing::info!(%project, %day, "Not published yet by the Pageviews API; stopping here.");
            return Ok(Some(day));
        }
        if let Err(e @ Error::Unreachable { .. }) = list {
            // Every other day would fail the same way, each after its full backoff:
            // stop; the days already stored stay, and the next run resumes.
            return Err(e);
        }
        any_published |= matches!(list, Ok(TopList::Published(_)));
        if tx.send((day, list)).await.is_err() {
            break; // the categories stage stopped: the run is ending
        }
    }
    Ok(None)
}

/// A 404 for a recent day is ambiguous for a project never seen before: one request
/// for a day that is long published tells "not yet" from "no such project".
async fn project_exists(
    settings: &Settings,
    http: &Http,
    project: &Project,
    recent: Day,
) -> Result<bool> {
    let probe = recent
        .checked_sub(jiff::Span::new().days(30))
        .unwrap_or(recent);
    let list = pageviews::fetch_top(
        http,
        &settings.pageviews_api,
        project,
        settings.access,
        probe,
        1,
    )
    .await?;
    Ok(matches!(list, TopList::Published(_)))
}

/// Every page resolved in this run, by article name, so each title is fetched once per
/// run however many days it trends. Pages are kept compact — category names interned
/// once for the run, a page holding their numbers — so a years-long backfill's tens of
/// thousands of pages take a few megabytes; full `PageInfo`s are rebuilt per day.
#[derive(Default)]
struct PageCache {
    pages: HashMap<Box<str>, CompactPage>,
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

struct CompactPage {
    title: Box<str>,
    page_id: Option<i64>,
    namespace: Option<i32>,
    status: PageStatus,
    categories: Box<[u32]>,
    hidden: Box<[u32]>,
    fetched_at: Timestamp,
}

impl PageCache {
    fn contains(&self, article: &str) -> bool {
        self.pages.contains_key(article)
    }

    fn insert(&mut self, article: String, page: PageInfo) {
        let categories = self.intern(&page.categories);
        let hidden = self.intern(&page.hidden_categories);
        let compact = CompactPage {
            title: page.title.into(),
            page_id: page.page_id,
            namespace: page.namespace,
            status: page.status,
            categories,
            hidden,
            fetched_at: page.fetched_at,
        };
        self.pages.insert(article.into(), compact);
    }

    fn intern(&mut self, names: &[String]) -> Box<[u32]> {
        names
            .iter()
            .map(|name| match self.ids.get(name.as_str()) {
                Some(id) => *id,
                None => {
                    let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
                    self.names.push(name.as_str().into());
                    self.ids.insert(name.as_str().into(), id);
                    id
                }
            })
            .collect()
    }

    /// The page as the sinks want it.
    fn get(&self, article: &str) -> Option<PageInfo> {
        let page = self.pages.get(article)?;
        let names = |ids: &[u32]| -> Vec<String> {
            ids.iter()
                .filter_map(|id| self.names.get(*id as usize))
                .map(|name| name.to_string())
                .collect()
        };
        Some(PageInfo {
            title: page.title.to_string(),
            page_id: page.page_id,
            namespace: page.namespace,
            status: page.status,
            categories: names(&page.categories),
            hidden_categories: names(&page.hidden),
            fetched_at: page.fetched_at,
        })
    }
}

/// Stage 2: categories for every article of every day, 50 titles a request.
#[allow(clippy::too_many_arguments)]
async fn resolve_categories(
    http: &Http,
    action_url: &str,
    settings: &Settings,
    project: &Project,
    run_id: &str,
    mut rx: mpsc::Receiver<(Day, Result<TopList>)>,
    tx: mpsc::Sender<DayOutcome>,
    stored_before: bool,
) -> Result<()> {
    let mut cache = PageCache::default();
    let mut queued: HashSet<String> = HashSet::new();
    let mut pending: VecDeque<String> = VecDeque::new();
    let mut waiting: VecDeque<PendingDay> = VecDeque::new();
    let mut any_published = false;
    let mut open = true;
    loop {
        // Hand over every day whose articles are all resolved.
        let mut i = 0;
        while i < waiting.len() {
            if waiting[i]
                .entries
                .iter()
                .all(|e| cache.get(&e.article).is_some())
            {
                let PendingDay { day, entries } = waiting.remove(i).expect("index in range");
                if tx
                    .send(assemble(settings, project, run_id, day, entries, &cache))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            } else {
                i += 1;
            }
        }
        if pending.len() >= MAX_TITLES_PER_REQUEST || (!open && !pending.is_empty()) {
            let n = pending.len().min(MAX_TITLES_PER_REQUEST);
            let batch: Vec<String> = pending.drain(..n).collect();
            for article in &batch {
                queued.remove(article);
            }
            match categories::fetch_categories(http, action_url, &batch, Timestamp::now()).await {
                Ok(infos) => {
                    for (article, info) in batch.into_iter().zip(infos) {
                        cache.insert(article, info);
                    }
                }
                Err(e) => {
                    // The days waiting on these titles fail now; a later day with one of
                    // them queues it again, so one bad hour does not fail the whole run.
                    let msg = e.to_string();
                    tracing::warn!(%project, error = %msg, "A categories request failed; its days stay missing until the next run.");
                    let failed: HashSet<&String> = batch.iter().collect();
                    let (hit, kept): (Vec<_>, Vec<_>) = waiting
                        .drain(..)
                        .partition(|d| d.entries.iter().any(|e| failed.contains(&e.article)));
                    waiting = kept.into();
                    for d in hit {
                        if tx
                            .send(DayOutcome::Failed(d.day, msg.clone()))
                            .await
                            .is_err()
                        {
                            return Ok(());
                        }
                    }
                }
            }
            continue;
        }
        if !open {
            debug_assert!(waiting.is_empty());
            return Ok(());
        }
        match rx.recv().await {
            None => open = false,
            Some((day, Ok(TopList::Published(entries)))) => {
                any_published = true;
                for e in &entries {
                    if e.article == categories::NO_TITLE && !cache.contains(&e.article) {
                        let page = PageInfo::without_page(
                            &e.article,
                            PageStatus::NoTitle,
                            Timestamp::now(),
                        );
                        cache.insert(e.article.clone(), page);
                    }
                    if !cache.contains(&e.article) && queued.insert(e.article.clone()) {
                        pending.push_back(e.article.clone());
                    }
                }
                waiting.push_back(PendingDay { day, entries });
            }
            Some((day, Ok(TopList::NotFound))) => {
                if !any_published && !stored_before {
                    return Err(Error::ProjectNotFound(project.to_string()));
                }
                let msg = "the Pageviews API has no top list for this day (404)".to_owned();
                if tx.send(DayOutcome::Failed(day, msg)).await.is_err() {
                    return Ok(());
                }
            }
            Some((day, Err(e))) => {
                if tx
                    .send(DayOutcome::Failed(day, e.to_string()))
                    .await
                    .is_err()
                {
                    return Ok(());
                }
            }
        }
    }
}

/// A day whose every article is cached, as the rows the sink stores.
fn assemble(
    settings: &Settings,
    project: &Project,
    run_id: &str,
    day: Day,
    entries: Vec<TopEntry>,
    cache: &PageCache,
) -> DayOutcome {
    let rows = entries
        .into_iter()
        .filter_map(|e| {
            let page = Arc::new(cache.get(&e.article)?);
            Some(TopRow {
                rank: e.rank,
                article: e.article,
                views: e.views,
                page,
            })
        })
        .collect();
    DayOutcome::Ready(DayBatch {
        date: day,
        project: project.clone(),
        access: settings.access,
        rows,
        run_id: run_id.to_owned(),
        ingested_at: Timestamp::now(),
    })
}

/// Stage 3: finished days into the sink, all or nothing per write.
async fn write_days<S: Sink>(
    sink: &mut S,
    reporter: &dyn Reporter,
    project: &Project,
    mut rx: mpsc::Receiver<DayOutcome>,
    report: &mut RunReport,
) -> Result<()> {
    let max_days = sink.max_days_per_write().max(1);
    let mut buffer: Vec<DayBatch> = Vec::new();
    // When the first day of the buffer arrived: a slow (throttled) backfill into a
    // chunking sink still commits every `FLUSH_AFTER`, so a kill loses little.
    let mut oldest: Option<Instant> = None;
    let mut open = true;
    while open || !buffer.is_empty() {
        if open {
            // Wait for one outcome (or the flush deadline), then take whatever else is ready.
            let received = match oldest {
                Some(t) => tokio::time::timeout_at(t + FLUSH_AFTER, rx.recv())
                    .await
                    .ok(),
                None => Some(rx.recv().await),
            };
            match received {
                Some(Some(outcome)) => take(outcome, &mut buffer, reporter, project, report),
                Some(None) => open = false,
                None => {} // the deadline passed
            }
            while open && buffer.len() < max_days {
                match rx.try_recv() {
                    Ok(outcome) => take(outcome, &mut buffer, reporter, project, report),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            if !buffer.is_empty() {
                oldest.get_or_insert_with(Instant::now);
            }
        }
        let due = oldest.is_some_and(|t| t.elapsed() >= FLUSH_AFTER);
        if buffer.is_empty() || (open && buffer.len() < max_days && !sink.flush_partial() && !due) {
            continue;
        }
        sink.write_days(&buffer).await?;
        oldest = None;
        for batch in buffer.drain(..) {
            report.days_written += 1;
            report.rows_written += batch.rows.len() as u64;
            tracing::info!(%project, day = %batch.date, rows = batch.rows.len(), "Stored day.");
            reporter.day_written(project, batch.date, batch.rows.len());
        }
    }
    Ok(())
}

fn take(
    outcome: DayOutcome,
    buffer: &mut Vec<DayBatch>,
    reporter: &dyn Reporter,
    project: &Project,
    report: &mut RunReport,
) {
    match outcome {
        DayOutcome::Ready(batch) => buffer.push(batch),
        DayOutcome::Failed(day, error) => {
            tracing::error!(%project, %day, %error, "Day failed; it stays missing until the next run.");
            reporter.day_failed(project, day, &error);
            report.days_failed.push(FailedDay {
                project: project.clone(),
                day,
                error,
            });
        }
    }
}
