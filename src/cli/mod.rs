//! The `wikitop` command line: parses the options (`args`, with a config file's
//! values as defaults: `config`), runs the command (`sync`, `status`, `report`,
//! `export`), and turns the outcome into an exit code and, for an error, one sentence.
//! Every line the user reads is printed by this folder; the library never prints.

mod args;
mod config;
mod export;
mod progress;
mod report;
mod status;
mod sync;
mod text;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use wikitop::Error;

use self::args::{Cli, Command, LogFormat};

pub(crate) fn main() -> ExitCode {
    let cli = match config::parse(std::env::args_os().collect()) {
        Ok(cli) => cli,
        Err(e) => return fail(&format!("error: {e}"), 2),
    };
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
        Command::Sync(args) => runtime.block_on(sync::run(args, today, interactive, cli.quiet)),
        Command::Status(args) => runtime.block_on(status::run(args, today)),
        Command::Schedule(args) => runtime.block_on(sync::schedule(args, today)),
        Command::Report(args) => runtime.block_on(report::run(args, today, cli.quiet)),
        Command::Export(args) => runtime.block_on(export::run(args, cli.quiet)),
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
pub(crate) enum Failure {
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
