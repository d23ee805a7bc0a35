//! Bad input from the command line: one sentence, exit code 2, no panic, store untouched.

use std::process::Command;

use fakewiki::{Config, FakeWiki};

use crate::support::{CONTACT, wikitop};

/// Runs `wikitop` with `args` against a store in a fresh directory; returns (code, stderr).
fn run(args: &[&str]) -> (i32, String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let out = Command::new(wikitop())
        .args(args)
        .arg("--db")
        .arg(&db)
        // Nothing may be fetched: point the APIs at a closed port.
        .env("WIKITOP_PAGEVIEWS_API", "http://127.0.0.1:9/api/rest_v1")
        .env("WIKITOP_ACTION_API", "http://127.0.0.1:9/w/api.php")
        .env("WIKITOP_CONTACT", CONTACT)
        .env_remove("WIKITOP_SINK")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    )
}

#[test]
fn bad_inputs_get_one_sentence_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["sync", "--since", "2023-13-01"],
            "invalid date `2023-13-01`: expected YYYY-MM-DD",
        ),
        (
            &["sync", "--since", "01/04/2023"],
            "invalid date `01/04/2023`",
        ),
        (
            &["sync", "--date", "2023-02-30"],
            "invalid date `2023-02-30`",
        ),
        (
            &["sync", "--since", "2024-02-01", "--until", "2024-01-01"],
            "`--until` 2024-01-01 is before `--since` 2024-02-01",
        ),
        (
            &["sync", "--date", "2999-01-01"],
            "2999-01-01 is in the future",
        ),
        (
            &["sync", "--since", "2015-06-30"],
            "2015-06-30 is before 2015-07-01",
        ),
        (
            &["sync", "--project", "en.wikipediaa"],
            "unknown project `en.wikipediaa`",
        ),
        (
            &["sync", "--project", "klingon"],
            "unknown project `klingon`",
        ),
        (&["sync", "--top", "0"], "`--top 0` is out of range"),
        (&["sync", "--top", "1001"], "`--top 1001` is out of range"),
        (&["sync", "--shard", "4/4"], "invalid shard `4/4`"),
        (
            &["sync", "--project", "largest:0"],
            "invalid project `largest:0`: expected `largest:N` with N from 1 to",
        ),
        (
            &["sync", "--project", "largest:9999"],
            "invalid project `largest:9999`",
        ),
        (
            &["sync", "--project", "largest:many"],
            "invalid project `largest:many`",
        ),
        (
            &["sync", "--sink", "bigquery"],
            "`--sink bigquery` needs `--bq-dataset",
        ),
        (
            &[
                "sync",
                "--sink",
                "bigquery",
                "--bq-dataset",
                "my-project.bad;name",
            ],
            "invalid",
        ),
        (
            &["sync", "--sink", "bigquery", "--bq-dataset", "nodot"],
            "invalid",
        ),
        (
            &["status", "--since", "yesterday"],
            "invalid date `yesterday`",
        ),
    ];
    for (args, want) in cases {
        let (code, stderr, dir) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(
            stderr.contains(want),
            "{args:?}: expected {want:?} in {stderr:?}"
        );
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "{args:?}: one sentence, got {stderr:?}"
        );
        // Settings are checked before the store is opened: nothing was created.
        assert!(
            !dir.path().join("w.duckdb").exists(),
            "{args:?} touched the store"
        );
    }
}

/// Wikimedia's User-Agent policy asks for the operator's contact; a shared default
/// would put every user on one rate-limit counter.
#[test]
fn fetching_without_a_contact_is_refused_before_any_request() {
    let fake = FakeWiki::start_blocking(Config::fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let base = |args: &[&str]| {
        let mut cmd = crate::support::command(&fake, &db, args);
        cmd.env_remove("WIKITOP_CONTACT");
        cmd
    };
    for args in [&["sync"][..], &["schedule", "--cron", "* * * * *"]] {
        let out = base(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        for needed in [
            "error: a contact is required",
            "`--contact`",
            "WIKITOP_CONTACT",
        ] {
            assert!(stderr.contains(needed), "{args:?}: {stderr}");
        }
    }
    assert_eq!(fake.stats().requests, 0, "a request left without a contact");
    assert!(!db.exists());
    // Planning sends nothing, so it needs no contact.
    let out = base(&["sync", "--dry-run", "--date", "2023-04-01"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fake.stats().requests, 0);
}

#[test]
fn an_unwritable_store_is_one_sentence_and_exit_2() {
    let out = Command::new(wikitop())
        .args([
            "sync",
            "--date",
            "2024-01-01",
            "--db",
            "/nonexistent-dir/sub/w.duckdb",
        ])
        .env("WIKITOP_PAGEVIEWS_API", "http://127.0.0.1:9/api/rest_v1")
        .env("WIKITOP_CONTACT", CONTACT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the DuckDB store `/nonexistent-dir/sub/w.duckdb`"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn status_of_a_missing_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(wikitop())
        .args(["status", "--db"])
        .arg(dir.path().join("none.duckdb"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("run `wikitop sync` first"), "{stderr}");
    assert!(!dir.path().join("none.duckdb").exists());
}

#[test]
fn an_unreadable_or_malformed_config_file_is_one_sentence_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.env");
    std::fs::write(
        &bad,
        "WIKITOP_CONTACT=ops@example.org\nthis is not a setting\n",
    )
    .unwrap();
    let cases = [
        (
            dir.path().join("missing.env"),
            "error: cannot read the config file",
        ),
        (dir.path().to_owned(), "error: cannot read the config file"),
        (bad, "line 2: expected `WIKITOP_NAME=value`"),
    ];
    for (config, want) in cases {
        let out = Command::new(wikitop())
            .args(["sync", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(dir.path().join("w.duckdb"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(want), "{stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(!dir.path().join("w.duckdb").exists());
    }
}

#[test]
fn a_config_file_sets_options_and_flags_win() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wikitop.env");
    std::fs::write(
        &config,
        "# settings\nWIKITOP_DB=/nonexistent-dir/from-config.duckdb\n",
    )
    .unwrap();
    let out = Command::new(wikitop())
        .args(["sync", "--date", "2024-01-01", "--config"])
        .arg(&config)
        .env("WIKITOP_CONTACT", CONTACT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent-dir/from-config.duckdb"),
        "the file's WIKITOP_DB was used: {stderr}"
    );
    let other = dir.path().join("flag.duckdb");
    let out = Command::new(wikitop())
        .args([
            "sync",
            "--date",
            "2024-01-01",
            "--pageviews-api",
            "http://127.0.0.1:9/x",
            "--max-tries",
            "1",
            "--config",
        ])
        .arg(&config)
        .arg("--db")
        .arg(&other)
        .env("WIKITOP_CONTACT", CONTACT)
        .output()
        .unwrap();
    assert!(
        other.exists(),
        "--db beats the file: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn an_unreachable_wikimedia_stops_the_run_with_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = Command::new(wikitop())
        .args([
            "sync",
            "--since",
            "2024-01-01",
            "--until",
            "2024-03-31",
            "--max-tries",
            "2",
            "--retry-base-ms",
            "5",
            "--db",
        ])
        .arg(dir.path().join("w.duckdb"))
        .env("WIKITOP_PAGEVIEWS_API", "http://127.0.0.1:9/api/rest_v1")
        .env("WIKITOP_ACTION_API", "http://127.0.0.1:9/w/api.php")
        .env("WIKITOP_CONTACT", CONTACT)
        .env_remove("WIKITOP_SINK")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let error: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(error.len(), 1, "{stderr}");
    assert!(
        error[0].starts_with("error: could not connect to http://127.0.0.1:9/api/rest_v1/"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Stopped at once instead of failing 91 days one after another.
    assert!(String::from_utf8_lossy(&out.stdout).is_empty());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
}

/// `wikitop status | head -1`: a reader that goes away ends the command quietly.
#[test]
fn a_closed_stdout_ends_any_command_quietly() {
    let fake = FakeWiki::start_blocking(Config::fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let sync = |extra: &[&str]| {
        let args = [
            &["sync", "--since", "2023-04-01", "--until", "2023-04-03"],
            extra,
        ]
        .concat();
        crate::support::command(&fake, &db, &args)
    };
    assert!(sync(&[]).output().unwrap().status.success());
    let mut status = Command::new(wikitop());
    status
        .args(["status", "--since", "2023-01-01", "--db"])
        .arg(&db);
    for mut cmd in [status, sync(&["--dry-run", "--force"])] {
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader is gone before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// The config file fills options as if typed, without touching the environment.
#[test]
fn a_config_file_value_is_used_and_an_unknown_one_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("wikitop.env");
    std::fs::write(&config, "WIKITOP_RATE=7/1min\n").unwrap();
    let dry_run = |extra: &[&str]| {
        let out = Command::new(wikitop())
            .args(["sync", "--dry-run", "--date", "2024-01-01", "--config"])
            .arg(&config)
            .arg("--db")
            .arg(dir.path().join("w.duckdb"))
            .args(extra)
            .env_remove("WIKITOP_RATE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert!(
        dry_run(&[]).contains("at 7 requests per 1 min"),
        "the file's rate was not used"
    );
    assert!(
        dry_run(&["--rate", "9/1min"]).contains("at 9 requests per 1 min"),
        "the flag lost"
    );
    std::fs::write(&config, "WIKITOP_NO_SUCH_THING=1\n").unwrap();
    let out = Command::new(wikitop())
        .args(["status", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`WIKITOP_NO_SUCH_THING` is not a setting of `wikitop status`"),
        "{stderr}"
    );
}
