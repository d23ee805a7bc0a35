//! `fakewiki`: serves a universe for manual runs of the wikitop CLI.
//!
//! `cargo run -p fakewiki -- --port 8080 --published-until 2026-11-27 --latency-ms 50 --quota 200/10`
//! `cargo run -p fakewiki -- --universe intl` serves hi.wikipedia, zh.wikipedia and en.wikipedia (2023-04-01..04).
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;
use std::time::Duration;

use fakewiki::{Config, FakeWiki, Quota, Universe};

const USAGE: &str = "usage: fakewiki [--port N (8080)] [--published-until YYYY-MM-DD] \
                     [--latency-ms N] [--quota REQUESTS/SECONDS] [--seed N (42)] \
                     [--universe realistic|fixture|intl] [--projects P,P,…]";

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let wiki = match FakeWiki::start(config).await {
        Ok(wiki) => wiki,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1\nCaused by: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("fakewiki: published until {}", wiki.published_until());
    println!("  --pageviews-api {}", wiki.pageviews_api());
    println!("  --action-api    {}", wiki.action_api());
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}

/// `Ok(None)` for `--help`.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Config>, String> {
    let mut config = Config::realistic(42).port(8080);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("`{flag}` needs a value"))?;
        let bad = |what: &str| format!("`{flag} {value}`: expected {what}");
        match flag.as_str() {
            "--port" => config.port = value.parse().map_err(|_| bad("a port number"))?,
            "--published-until" => {
                config.published_until = value.parse().map_err(|_| bad("a date YYYY-MM-DD"))?;
            }
            "--latency-ms" => {
                config.latency =
                    Duration::from_millis(value.parse().map_err(|_| bad("milliseconds"))?);
            }
            "--quota" => {
                let (requests, secs) = value
                    .split_once('/')
                    .ok_or_else(|| bad("REQUESTS/SECONDS"))?;
                config.quota = Some(Quota {
                    requests: requests.parse().map_err(|_| bad("REQUESTS/SECONDS"))?,
                    window: Duration::from_secs(secs.parse().map_err(|_| bad("REQUESTS/SECONDS"))?),
                });
            }
            "--seed" => {
                config.universe = Universe::realistic(value.parse().map_err(|_| bad("a number"))?)
            }
            // The realistic universe serves any wiki named, as the bench's many-wiki runs do.
            "--projects" => config = config.known_projects(value.split(',').map(str::to_owned)),
            "--universe" => {
                let port = config.port;
                config = match value.as_str() {
                    "realistic" => Config::realistic(42),
                    "fixture" => Config::fixture(),
                    "intl" => Config::intl(),
                    _ => return Err(bad("realistic, fixture or intl")),
                }
                .port(port);
            }
            _ => return Err(format!("unknown option `{flag}`")),
        }
    }
    Ok(Some(config))
}
