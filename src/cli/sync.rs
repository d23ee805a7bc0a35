//! `wikitop sync` and `wikitop schedule`: run the library's sync and print its outcome.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Arc;

use wikitop::model::{Day, Project};
use wikitop::{DryRun, RunOutcome, Settings};

use super::Failure;
use super::args::{ScheduleArgs, SyncArgs};
use super::progress::Bars;
use super::text::{bytes, human_duration, ranges, thousands};

pub(super) async fn run(
    args: &SyncArgs,
    today: Day,
    interactive: bool,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let settings = args.settings(today)?;
    let reporter = Arc::new(Bars::new(interactive, settings.projects.len()));
    let report = wikitop::sync(&settings, reporter.clone()).await?;
    reporter.finish();
    if !quiet {
        print_outcome(&mut io::stdout().lock(), &settings, &report)?;
    }
    Ok(if report.days_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What the run did: days, rows, requests, per project, and every failed day.
fn print_outcome(out: &mut impl Write, settings: &Settings, report: &RunOutcome) -> io::Result<()> {
    if let Some(plan) = &report.dry_run {
        return print_plan(out, settings, plan, report.days_skipped);
    }
    if settings.rejudge {
        return print_rejudged(out, report);
    }
    if settings.fill_wikidata {
        return print_filled(out, report);
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
    print_projects(out, report)?;
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

/// Past this many wikis a dry run sums them up instead of a line each.
const WIKI_LINES: usize = 10;

/// `--dry-run`: the days it would fetch and what that would cost.
fn print_plan(
    out: &mut impl Write,
    settings: &Settings,
    plan: &DryRun,
    skipped: u64,
) -> io::Result<()> {
    print_plan_days(out, plan)?;
    let rate = settings.http.rate;
    writeln!(
        out,
        "Estimated requests: {} (about {} at {} requests per {}{}).",
        plan.estimated_requests,
        human_duration(plan.estimated_time),
        rate.requests,
        human_duration(rate.window),
        if settings.shard.count > 1 {
            " for each shard"
        } else {
            ""
        }
    )?;
    writeln!(out, "{skipped} day(s) already stored would be skipped.")?;
    if plan.days.len() > 1 || settings.shard.count > 1 {
        print_bigquery_cost(out, settings, plan)?;
        print_shards(out, plan)?;
    }
    Ok(())
}

/// A line per wiki, or their sum when there are many.
fn print_plan_days(out: &mut impl Write, plan: &DryRun) -> io::Result<()> {
    if plan.days.len() <= WIKI_LINES {
        for (project, days) in &plan.days {
            writeln!(
                out,
                "{project}: would fetch {} day(s): {}",
                days.len(),
                ranges(days)
            )?;
        }
        return Ok(());
    }
    let wiki_days: usize = plan.days.iter().map(|(_, d)| d.len()).sum();
    let first = plan.days.iter().filter_map(|(_, d)| d.first()).min();
    let last = plan.days.iter().filter_map(|(_, d)| d.last()).max();
    let span = match (first, last) {
        (Some(a), Some(b)) => format!(", {a}..{b}"),
        _ => String::new(),
    };
    writeln!(
        out,
        "{} wikis: would fetch {} wiki-day(s){span}.",
        plan.days.len(),
        thousands(wiki_days as u64)
    )
}

/// Rows, bytes and dollars in BigQuery, whichever sink the run has.
fn print_bigquery_cost(out: &mut impl Write, settings: &Settings, plan: &DryRun) -> io::Result<()> {
    let c = &plan.bigquery;
    writeln!(
        out,
        "In BigQuery: about {} rows ({} a wiki and day), {} logical: ${:.2} a month of active storage, ${:.2} once 90 days old (the first 10 GiB are free).",
        thousands(c.rows),
        settings.top,
        bytes(c.bytes),
        c.storage_dollars_month,
        c.long_term_dollars_month
    )?;
    writeln!(
        out,
        "Writing it: about {} jobs (a MERGE per 30 days of a wiki, a query per wiki), {} billed at 10 MB or more each: ${:.2} on demand (the first 1 TiB a month is free).",
        thousands(c.jobs),
        bytes(c.billed_bytes),
        c.query_dollars
    )
}

/// Which shard takes which wikis and days, and how long each takes at its share.
fn print_shards(out: &mut impl Write, plan: &DryRun) -> io::Result<()> {
    let Some(first) = plan.shards.first() else {
        return Ok(());
    };
    if first.count == 1 {
        return writeln!(
            out,
            "One process: `--shard i/n` (or a Cloud Run job of n tasks) splits the wikis n ways when there are at least n, else the days; the budget is shared, so the time stays the same."
        );
    }
    let how = if plan.by_wiki {
        format!(
            "whole wikis: shard i takes the wikis at positions i, i+{0}, i+{1}, … of --project",
            first.count,
            2 * first.count
        )
    } else {
        format!(
            "days: shard i takes every day whose number since 2015-07-01 is i modulo {}",
            first.count
        )
    };
    writeln!(out, "{} shards, by {how}:", first.count)?;
    for s in &plan.shards {
        writeln!(
            out,
            "  shard {}/{}: {} wiki(s), {} wiki-day(s), about {} requests, {}",
            s.index,
            s.count,
            s.wikis,
            thousands(s.days),
            thousands(s.requests),
            human_duration(s.time)
        )?;
    }
    Ok(())
}

/// One line per project of the run.
fn print_projects(out: &mut impl Write, report: &RunOutcome) -> io::Result<()> {
    for t in &report.projects {
        writeln!(
            out,
            "  {}: {} day(s), {} rows, {} flagged as likely automated traffic, {} requests.",
            t.project, t.days_written, t.rows_written, t.suspect_rows, t.requests
        )?;
    }
    Ok(())
}

pub(super) async fn schedule(args: &ScheduleArgs, today: Day) -> Result<ExitCode, Failure> {
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
        Arc::new(Bars::new(false, 0)),
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

/// What `sync --rejudge` did, and the days it left as they were.
fn print_rejudged(out: &mut impl Write, report: &RunOutcome) -> io::Result<()> {
    writeln!(
        out,
        "Judged {} stored day(s) again ({} rows) from the store; {} requests.",
        report.days_written, report.rows_written, report.http_requests
    )?;
    print_projects(out, report)?;
    print_unjudged(out, report)
}

/// What `sync --fill-wikidata` did, and the days it left as they were.
fn print_filled(out: &mut impl Write, report: &RunOutcome) -> io::Result<()> {
    writeln!(
        out,
        "Filled the Wikidata items of {} stored day(s) ({} rows); {} requests.",
        report.days_written, report.rows_written, report.http_requests
    )?;
    print_projects(out, report)?;
    print_unjudged(out, report)
}

/// The days a rewrite of stored days left alone, stored before wikitop judged rows.
fn print_unjudged(out: &mut impl Write, report: &RunOutcome) -> io::Result<()> {
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
