//! `wikitop report` and `wikitop export`: their options, and the lines they print.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use wikitop::export::{ExportInput, ExportSettings, Format};
use wikitop::model::{Access, Day};
use wikitop::report::{ReportInput, ReportSettings, thousands};
use wikitop::settings::DEFAULT_PROJECT;

use super::{Failure, StoreArgs};

#[derive(Args)]
pub(super) struct ReportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Wikimedia project, e.g. en.wikipedia.
    #[arg(long, value_name = "PROJECT", default_value = DEFAULT_PROJECT)]
    project: String,
    /// Pageviews access method.
    #[arg(long, value_enum, default_value_t = Access::AllAccess)]
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
pub(super) struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// File format: Parquet keeps the category lists as lists; CSV writes them as JSON arrays.
    #[arg(long, value_enum, default_value_t = Format::Parquet)]
    format: Format,
    /// The directory to write `top_pages.*` and `ingest_runs.*` into (created if missing).
    #[arg(long, value_name = "DIR", default_value = wikitop::export::DEFAULT_OUT)]
    out: PathBuf,
}

pub(super) async fn run_report(
    args: &ReportArgs,
    today: Day,
    quiet: bool,
) -> Result<ExitCode, Failure> {
    let settings = ReportSettings::resolve(
        ReportInput {
            since: args.since.clone(),
            until: args.until.clone(),
            project: Some(args.project.clone()),
            access: Some(args.access),
            out: Some(args.out.clone()),
            all_rows: args.all_rows,
            store: args.store.input(),
        },
        today,
    )?;
    let written = wikitop::report::write(&settings).await?;
    if !quiet {
        let r = &written.report;
        let s = &r.summary;
        writeln!(
            io::stdout().lock(),
            "Wrote {} ({} KB): {} {} → {}, {} of {} days stored, {} articles, {} views.",
            written.path.display(),
            written.bytes.div_ceil(1024),
            r.project,
            r.since,
            r.until,
            thousands(s.days_stored),
            thousands(s.days_in_range),
            thousands(s.articles),
            thousands(s.views),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn run_export(args: &ExportArgs, quiet: bool) -> Result<ExitCode, Failure> {
    let settings = ExportSettings::resolve(ExportInput {
        format: Some(args.format),
        out: Some(args.out.clone()),
        store: args.store.input(),
    })?;
    let exported = wikitop::export::export(&settings)?;
    if !quiet {
        let mut out = io::stdout().lock();
        for e in &exported {
            let rows = thousands(e.rows);
            writeln!(out, "{}: {rows} rows → {}", e.table, e.path.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
