//! Plans the missing days, fetches them and hands finished days to the sink. The only
//! module that sees both the sources and the sinks; each stage is a type in a file of
//! its own that owns its state, and `run` only wires them:
//! - `plan`: which days, per project (one store query, no request);
//! - `existence`: whether a project exists, decided once from the store and the API.
//!
//! Then, per project, three stages run concurrently in one task, joined by bounded
//! channels so memory stays flat however long the range is:
//! 1. `tops`: top lists (and each day's desktop list), `pageviews_concurrency` requests
//!    in flight, in day order, stopping at the first day the API has not published;
//! 2. `resolve`: categories, one Action API request in flight: titles are deduplicated
//!    across the run (a title's categories are fetched once, again only if it returns
//!    after a year away: `pages`) and packed 50 to a request across day boundaries, so
//!    the request count sits on the floor; `assemble` turns a fully resolved day into
//!    the rows the sink stores, judged (`crate::judge`);
//! 3. `write`: gives the sink finished days as its `Batching` asks (one at a time for
//!    DuckDB, in chunks for BigQuery). Only whole days reach the sink.
//!
//! The types a caller sees (`Progress`, `RunOutcome`, …) live in `outcome` at the
//! bottom, so every stage can fill them and no import runs back up.

mod assemble;
mod existence;
mod fill;
mod outcome;
mod pages;
mod plan;
mod rejudge;
mod resolve;
mod tops;
mod write;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::http::{Http, HttpStats, WaitObserver};
use crate::model::{Day, Project, RunRecord, RunStatus};
use crate::settings::Settings;
use crate::sinks::Sink;

use self::assemble::DayAssembler;
use self::existence::ProjectExistence;
use self::plan::{Planner, Plans};
use self::resolve::CategoryResolver;
use self::tops::TopFetcher;
use self::write::DayWriter;

pub(crate) use self::outcome::new_run_id;
#[allow(unreachable_pub)] // re-exported at the crate root
pub use self::outcome::{
    BigQueryCost, DryRun, FailedDay, Progress, ProjectTally, RunOutcome, ShardShare, Silent,
};

/// Top lists fetched ahead of the categories stage; bounds memory.
const TOP_LOOKAHEAD: usize = 16;
/// Finished days waiting for the writer.
const DAYS_AHEAD: usize = 4;

/// What every project's sync shares within one run.
struct RunContext<'a> {
    settings: &'a Settings,
    http: &'a Http,
    progress: &'a dyn Progress,
    run_id: &'a str,
}

/// Runs `sync` against an open sink. The caller owns the sink and the lock on it.
pub(crate) async fn run<S: Sink>(
    settings: &Settings,
    sink: &mut S,
    progress: Arc<dyn Progress>,
) -> Result<RunOutcome> {
    let started = Timestamp::now();
    let mut outcome = RunOutcome {
        run_id: new_run_id(started),
        ..RunOutcome::default()
    };
    if settings.rejudge || settings.fill_wikidata {
        return rewrite_stored(settings, sink, progress, outcome, started).await;
    }
    let planner = Planner::new(settings);
    let plans = planner.plan(sink, &mut outcome).await?;
    if settings.dry_run {
        outcome.dry_run = Some(planner.dry_run(plans));
        return Ok(outcome);
    }
    if outcome.days_planned == 0 {
        return Ok(outcome);
    }
    let mut record = started_record(settings, &outcome, started);
    sink.record_run(&record).await?;

    let observer: Arc<dyn WaitObserver> = Arc::new(Forward(progress.clone()));
    let http = Http::new(
        settings.http.clone(),
        settings.pageviews_concurrency,
        1,
        Some(observer),
    )?;
    let run_id = outcome.run_id.clone();
    let context = RunContext {
        settings,
        http: &http,
        progress: progress.as_ref(),
        run_id: &run_id,
    };
    let result = sync_projects(&context, sink, plans, &mut outcome).await;
    count_requests(&mut outcome, &http.stats);
    finish_record(&mut record, &outcome, &result);
    if let Err(e) = sink.record_run(&record).await {
        // The days themselves are safe; only the ledger line is missing.
        tracing::warn!(error = %e, "Could not record the run in ingest_runs.");
    }
    result.map(|()| outcome)
}

/// `sync --rejudge` or `--fill-wikidata`: stored days rewritten, recorded in the ledger
/// like any run. Rejudging builds no HTTP client, so its request count is 0 by
/// construction; filling builds one for the Action API alone.
async fn rewrite_stored<S: Sink>(
    settings: &Settings,
    sink: &mut S,
    progress: Arc<dyn Progress>,
    mut outcome: RunOutcome,
    started: Timestamp,
) -> Result<RunOutcome> {
    let mut record = started_record(settings, &outcome, started);
    sink.record_run(&record).await?;
    let result = if settings.fill_wikidata {
        let observer: Arc<dyn WaitObserver> = Arc::new(Forward(progress.clone()));
        let http = Http::new(settings.http.clone(), 1, 1, Some(observer))?;
        let result = fill::run(settings, sink, &http, progress.as_ref(), &mut outcome).await;
        count_requests(&mut outcome, &http.stats);
        result
    } else {
        rejudge::run(settings, sink, progress.as_ref(), &mut outcome).await
    };
    finish_record(&mut record, &outcome, &result);
    if let Err(e) = sink.record_run(&record).await {
        tracing::warn!(error = %e, "Could not record the run in ingest_runs.");
    }
    result.map(|()| outcome)
}

struct Forward(Arc<dyn Progress>);
impl WaitObserver for Forward {
    fn throttled(&self, until: Timestamp, reason: &str) {
        self.0.throttled(until, reason);
    }
}

/// The run's line in `ingest_runs` as it starts.
fn started_record(settings: &Settings, outcome: &RunOutcome, started: Timestamp) -> RunRecord {
    RunRecord {
        run_id: outcome.run_id.clone(),
        started_at: started,
        finished_at: None,
        status: RunStatus::Running,
        arguments: settings.arguments.clone(),
        days_written: 0,
        rows_written: 0,
        http_requests: 0,
        http_retries: 0,
        error: None,
    }
}

/// The run's line in `ingest_runs` as it ends, from its outcome and how it ended.
fn finish_record(record: &mut RunRecord, outcome: &RunOutcome, result: &Result<()>) {
    record.finished_at = Some(Timestamp::now());
    record.days_written = outcome.days_written;
    record.rows_written = outcome.rows_written;
    record.http_requests = outcome.http_requests;
    record.http_retries = outcome.http_retries;
    record.status = if result.is_err() {
        RunStatus::Failed
    } else {
        outcome.status()
    };
    record.error = match result {
        Err(e) => Some(e.to_string()),
        Ok(()) if !outcome.days_failed.is_empty() => Some(
            outcome
                .days_failed
                .iter()
                .map(|f| format!("{} {}: {}", f.project, f.day, f.error))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Ok(()) => None,
    };
}

fn count_requests(outcome: &mut RunOutcome, stats: &HttpStats) {
    outcome.http_requests = stats.requests.load(Ordering::Relaxed);
    outcome.top_requests = stats.top_requests.load(Ordering::Relaxed);
    outcome.category_requests = stats.category_requests.load(Ordering::Relaxed);
    outcome.http_retries = stats.retries.load(Ordering::Relaxed);
    outcome.throttled = stats.throttled.load(Ordering::Relaxed);
}

/// Every project in turn; the first error ends the run.
async fn sync_projects<S: Sink>(
    context: &RunContext<'_>,
    sink: &mut S,
    plans: Plans,
    outcome: &mut RunOutcome,
) -> Result<()> {
    for (project, days) in plans {
        context.progress.planned(&project, days.len());
        if days.is_empty() {
            continue;
        }
        // Projects run one after the other, so the requests sent meanwhile are this one's.
        let before = context.http.stats.requests.load(Ordering::Relaxed);
        let result = sync_project(context, sink, &project, days, outcome).await;
        let sent = context.http.stats.requests.load(Ordering::Relaxed) - before;
        if sent > 0 {
            outcome.tally(&project).requests += sent;
        }
        result?;
    }
    Ok(())
}

/// One project's days through the three stages.
async fn sync_project<S: Sink>(
    context: &RunContext<'_>,
    sink: &mut S,
    project: &Project,
    days: Vec<Day>,
    outcome: &mut RunOutcome,
) -> Result<()> {
    let RunContext {
        settings,
        http,
        progress,
        run_id,
    } = *context;
    let existence = ProjectExistence::from_store(sink, settings, http, project).await?;
    let (top_tx, top_rx) = mpsc::channel(TOP_LOOKAHEAD);
    let (day_tx, day_rx) = mpsc::channel(DAYS_AHEAD);

    let tops = TopFetcher::new(settings, http, project, existence).run(days, top_tx);
    let assembler = DayAssembler::new(project, settings.access, run_id, &settings.judging);
    let resolver = CategoryResolver::new(http, &settings.action_api, project, assembler);
    let cats = async {
        resolver.run(top_rx, day_tx).await;
        Ok::<(), Error>(())
    };
    let write = DayWriter::new(sink, progress, project, outcome).run(day_rx);
    let (not_published, (), ()) = tokio::try_join!(tops, cats, write)?;
    if let Some(day) = not_published {
        progress.not_published(project, day);
        outcome.not_published.push((project.clone(), day));
    }
    Ok(())
}
