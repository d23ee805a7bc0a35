//! `wikitop report`: writes the HTML report and says what it wrote.

use std::io::{self, Write};
use std::process::ExitCode;

use wikitop::model::Day;
use wikitop::report::{ReportSettings, thousands};

use super::Failure;
use super::args::ReportArgs;

pub(super) async fn run(args: &ReportArgs, today: Day, quiet: bool) -> Result<ExitCode, Failure> {
    let settings = ReportSettings::resolve(args.input(), today)?;
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
