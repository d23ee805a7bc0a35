//! `wikitop export`: writes the store's tables as files and lists them.

use std::io::{self, Write};
use std::process::ExitCode;

use wikitop::export::ExportSettings;
use wikitop::report::thousands;

use super::Failure;
use super::args::ExportArgs;

pub(super) async fn run(args: &ExportArgs, quiet: bool) -> Result<ExitCode, Failure> {
    let settings = ExportSettings::resolve(args.input())?;
    let exported = wikitop::export::export(&settings).await?;
    if !quiet {
        let mut out = io::stdout().lock();
        for e in &exported {
            let rows = thousands(e.rows);
            writeln!(out, "{}: {rows} rows → {}", e.table, e.path.display())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
