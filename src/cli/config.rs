//! `--config FILE` (or `WIKITOP_CONFIG`): lines of `WIKITOP_NAME=value`, `#` comments.
//! Each value becomes the default of the option whose environment variable is
//! `WIKITOP_NAME`, before the command line is parsed once: so a flag beats the
//! environment, which beats the file, which beats the built-in default, as clap ranks
//! them. The process environment is never changed.

use std::ffi::OsString;

use clap::{ArgAction, Command, CommandFactory, FromArgMatches, Parser};

use super::args::Cli;

/// The command line parsed, with the config file's values as defaults. A bad option
/// ends the process as clap does (usage, exit 2); a bad config file, or a name in it
/// that is no option of the command run, is an `Err`.
pub(super) fn parse(args: Vec<OsString>) -> Result<Cli, String> {
    let Some(path) = config_path(&args) else {
        return Ok(Cli::parse_from(args));
    };
    let settings = read(&path)?;
    let mut command = Cli::command();
    for (_, key, value) in &settings {
        command = with_default(command, key, value);
    }
    let matches = command.get_matches_from(args);
    if let Some(name) = matches.subcommand_name() {
        let cli = Cli::command();
        let sub = cli.find_subcommand(name);
        for (line, key, _) in &settings {
            if !has_setting(&cli, key) && !sub.is_some_and(|c| has_setting(c, key)) {
                return Err(format!(
                    "config file `{path}` line {line}: `{key}` is not a setting of `wikitop {name}`"
                ));
            }
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}

/// `--config FILE`, `--config=FILE` or `WIKITOP_CONFIG`: needed before the command line
/// is parsed, since its values shape how it is parsed.
fn config_path(args: &[OsString]) -> Option<String> {
    let from_args = args.iter().enumerate().find_map(|(i, a)| {
        let a = a.to_str()?;
        a.strip_prefix("--config=").map(str::to_owned).or_else(|| {
            (a == "--config").then(|| {
                args.get(i + 1)
                    .and_then(|v| v.to_str())
                    .unwrap_or_default()
                    .to_owned()
            })
        })
    });
    from_args.or_else(|| std::env::var("WIKITOP_CONFIG").ok())
}

/// Whether `command` itself has an option read from the environment variable `key`.
fn has_setting(command: &Command, key: &str) -> bool {
    command
        .get_arguments()
        .any(|a| a.get_env().is_some_and(|e| e == key))
}

/// `command` with `value` as the default of every option read from `key`, in it and in
/// its subcommands. A switch (`--no-desktop`) is on unless the value is false-like, as
/// clap reads its environment variable.
fn with_default(command: Command, key: &str, value: &str) -> Command {
    let set = |command: Command| {
        let ids: Vec<String> = command
            .get_arguments()
            .filter(|a| a.get_env().is_some_and(|e| e == key))
            .map(|a| a.get_id().to_string())
            .collect();
        ids.into_iter().fold(command, |command, id| {
            command.mut_arg(id, |arg| {
                let value = match arg.get_action() {
                    ArgAction::SetTrue | ArgAction::SetFalse => {
                        let off = matches!(value, "" | "0" | "false" | "no" | "off");
                        if off { "false" } else { "true" }.to_owned()
                    }
                    _ => value.to_owned(),
                };
                arg.default_value(value)
            })
        })
    };
    let names: Vec<String> = command
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    names.into_iter().fold(set(command), |command, name| {
        command.mut_subcommand(name, set)
    })
}

/// The `(line number, WIKITOP_NAME, value)` settings of a config file.
fn read(path: &str) -> Result<Vec<(usize, String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file `{path}`: {e}"))?;
    let mut settings = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || {
            format!(
                "config file `{path}` line {}: expected `WIKITOP_NAME=value`",
                n + 1
            )
        };
        let (key, value) = line.split_once('=').ok_or_else(bad)?;
        let (key, value) = (key.trim(), value.trim().trim_matches('"'));
        if !key.starts_with("WIKITOP_") || key == "WIKITOP_CONFIG" {
            return Err(bad());
        }
        settings.push((n + 1, key.to_owned(), value.to_owned()));
    }
    Ok(settings)
}
