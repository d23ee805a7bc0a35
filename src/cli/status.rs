//! `wikitop status`: what the store holds and lacks, and the last runs.

use std::io::{self, Write};
use std::process::ExitCode;

use wikitop::StatusReport;
use wikitop::model::Day;

use super::Failure;
use super::args::StatusArgs;
use super::text::ranges_text;

pub(super) async fn run(args: &StatusArgs, today: Day) -> Result<ExitCode, Failure> {
    let settings = args.settings(today)?;
    let report = wikitop::status(
        &settings.store,
        settings.since,
        settings.until,
        settings.runs,
    )
    .await?;
    print_status(&mut io::stdout().lock(), &report)?;
    let Some(max_age) = settings.check else {
        return Ok(ExitCode::SUCCESS);
    };
    match wikitop::status::check(&report, today, jiff::Timestamp::now(), max_age) {
        None => Ok(ExitCode::SUCCESS),
        Some(why) => Ok(super::fail(&format!("check failed: {why}"), 1)),
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
    print_totals(out, report)?;
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

/// Across the wikis, when the store holds several.
fn print_totals(out: &mut impl Write, report: &StatusReport) -> io::Result<()> {
    let t = report.totals();
    if t.wikis < 2 {
        return Ok(());
    }
    let gaps = match t.with_gaps.len() {
        0 => "none lacks a day".to_owned(),
        n if n <= 10 => format!("{n} lack days: {}", t.with_gaps.join(", ")),
        n => format!(
            "{n} lack days: {} and {} more",
            t.with_gaps[..10].join(", "),
            n - 10
        ),
    };
    writeln!(
        out,
        "All {} wikis: {} day(s) stored, {} missing in {} → {}; {gaps}",
        t.wikis, t.stored, t.missing_days, report.since, report.until
    )
}
