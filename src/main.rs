//! The `wikitop` binary: a thin shell over the library; see `cli.rs`.

mod cli;
mod logging;

fn main() -> std::process::ExitCode {
    cli::main()
}
