//! The real binary, run as users and schedulers run it: killed mid-run, run twice at
//! once, scheduled, asked for its status.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fakewiki::{Config, FakeWiki, FaultRule};
use jiff::civil::date;

use crate::support::*;

const SINCE: &str = "2024-05-01";
const UNTIL: &str = "2024-05-30";

#[test]
fn sigkill_at_random_points_then_a_rerun_equals_an_uninterrupted_run() {
    let fake =
        FakeWiki::start_blocking(Config::realistic(11).latency(Duration::from_millis(4))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = ["sync", "--since", SINCE, "--until", UNTIL];
    let all_days = days(date(2024, 5, 1), date(2024, 5, 30));

    // The uninterrupted run, timed: kill points are drawn over its whole length.
    let reference = dir.path().join("reference.duckdb");
    let started = Instant::now();
    let out = run(&fake, &reference, &args);
    let full = started.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_store_matches(&reference, &fake, "en.wikipedia", &all_days, 100);
    let want = read_store(&reference, "en.wikipedia", all_days[0], all_days[29]);

    let seed = fastrand::u64(..);
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut partial_kills = 0;
    for i in 0..12 {
        let db = dir.path().join(format!("killed-{i}.duckdb"));
        let at = full.mul_f64(rng.f64());
        let mut child = command(&fake, &db, &args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(at);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        // A kill before the first statement leaves no store, or one without tables.
        let stored_at_kill =
            match wikitop::sinks::duckdb::DuckDbSink::open(&db, wikitop::sinks::Mode::Read) {
                Ok(sink) => sink
                    .read_rows("en.wikipedia", all_days[0], all_days[29])
                    .unwrap()
                    .iter()
                    .map(|r| r.date)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                Err(_) => 0,
            };
        if (1..30).contains(&stored_at_kill) {
            partial_kills += 1;
        }
        let out = run(&fake, &db, &args);
        assert!(
            out.status.success(),
            "seed {seed}, kill {i} at {at:?}: {}",
            text(&out.stderr)
        );
        let got = read_store(&db, "en.wikipedia", all_days[0], all_days[29]);
        assert_eq!(
            got.len(),
            want.len(),
            "seed {seed}, kill {i} at {at:?} ({stored_at_kill} days stored)"
        );
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                (g.date, &g.article, comparable_stored(g)),
                (w.date, &w.article, comparable_stored(w)),
                "seed {seed}, kill {i} at {at:?}"
            );
        }
        // A run killed mid-way is marked abandoned by the next one; none stays running.
        let status = text(&run(&fake, &db, &["status", "--since", SINCE, "--until", UNTIL]).stdout);
        assert!(
            !status.contains(" running "),
            "seed {seed}, kill {i}: {status}"
        );
        if (1..30).contains(&stored_at_kill) {
            assert!(
                status.contains(" abandoned "),
                "seed {seed}, kill {i}: {status}"
            );
        }
    }
    assert!(
        partial_kills >= 1,
        "seed {seed}: no kill landed mid-run; the test proved nothing"
    );
}

#[test]
fn a_second_sync_on_the_same_store_refuses_and_the_first_finishes() {
    let fake =
        FakeWiki::start_blocking(Config::realistic(12).latency(Duration::from_millis(30))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let args = ["sync", "--since", SINCE, "--until", "2024-05-10"];
    let first = command(&fake, &db, &args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first run holds the store (its lock file exists and it has started fetching).
    let deadline = Instant::now() + Duration::from_secs(20);
    while fake.stats().requests == 0 {
        assert!(Instant::now() < deadline, "the first run never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = run(&fake, &db, &args);
    let stderr = text(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("another wikitop run is using the store"),
        "{stderr}"
    );
    let first = first.wait_with_output().unwrap();
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert_store_matches(
        &db,
        &fake,
        "en.wikipedia",
        &days(date(2024, 5, 1), date(2024, 5, 10)),
        100,
    );
}

#[test]
fn status_lists_stored_and_missing_days_and_the_runs() {
    let fake = FakeWiki::start_blocking(Config::realistic(13)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let fault = fake.add_fault(FaultRule::persistent_500("en.wikipedia", date(2024, 5, 3)));
    let out = run(
        &fake,
        &db,
        &[
            "sync",
            "--since",
            SINCE,
            "--until",
            "2024-05-05",
            "--max-tries",
            "2",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed day exits 1: {}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains("en.wikipedia 2024-05-03 failed"),
        "{}",
        text(&out.stdout)
    );
    let status = run(
        &fake,
        &db,
        &["status", "--since", SINCE, "--until", "2024-05-06"],
    );
    let stdout = text(&status.stdout);
    assert!(status.status.success(), "{}", text(&status.stderr));
    assert!(stdout.contains("en.wikipedia all-access: 4 day(s) stored, 2024-05-01 → 2024-05-05; 2 missing in 2024-05-01 → 2024-05-06"), "{stdout}");
    assert!(
        stdout.contains("missing: 2024-05-03, 2024-05-06"),
        "{stdout}"
    );
    assert!(stdout.contains("partial"), "{stdout}");

    fake.remove_fault(fault);
    let out = run(
        &fake,
        &db,
        &["sync", "--since", SINCE, "--until", "2024-05-05"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Stored 1 day(s)"),
        "{}",
        text(&out.stdout)
    );
    let stdout = text(
        &run(
            &fake,
            &db,
            &["status", "--since", SINCE, "--until", "2024-05-05"],
        )
        .stdout,
    );
    assert!(
        stdout.contains("5 day(s) stored, 2024-05-01 → 2024-05-05; 0 missing"),
        "{stdout}"
    );
}

/// Reads the child's stderr lines on a thread, so the test can wait for a line.
fn lines(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_for(rx: &std::sync::mpsc::Receiver<String>, needle: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(_) => {}
            Err(_) => panic!("no log line with {needle:?} within {within:?}"),
        }
    }
}

#[test]
fn schedule_catches_up_at_start_runs_on_the_minute_and_stops_on_sigterm() {
    let fake = FakeWiki::start_blocking(Config::realistic(14)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    // The fake's "today" is its publication day + 1; ours is the real today, so pin
    // the range: catch-up stores these days, later ticks find nothing to do.
    let mut child = command(
        &fake,
        &db,
        &[
            "schedule",
            "--cron",
            "* * * * *",
            "--since",
            SINCE,
            "--until",
            "2024-05-04",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let rx = lines(&mut child);
    let first = wait_for(&rx, "Scheduled sync finished.", Duration::from_secs(30));
    assert!(first.contains("days_written=4"), "{first}");
    wait_for(&rx, "Sleeping until the next run.", Duration::from_secs(5));
    let second = wait_for(&rx, "Scheduled sync finished.", Duration::from_secs(70));
    assert!(second.contains("days_written=0"), "{second}");
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_store_matches(
        &db,
        &fake,
        "en.wikipedia",
        &days(date(2024, 5, 1), date(2024, 5, 4)),
        100,
    );
}

#[test]
fn dry_run_prints_the_plan_and_fetches_nothing() {
    let fake = FakeWiki::start_blocking(Config::realistic(15)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let out = run(
        &fake,
        &db,
        &[
            "sync",
            "--dry-run",
            "--since",
            "2024-05-01",
            "--until",
            "2024-05-31",
            "--rate",
            "500/1h",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("en.wikipedia: would fetch 31 day(s): 2024-05-01..2024-05-31"),
        "{stdout}"
    );
    assert!(stdout.contains("Estimated requests: "), "{stdout}");
    assert!(stdout.contains("at 500 requests per 1.0 h"), "{stdout}");
    assert_eq!(fake.stats().requests, 0);
    assert!(!db.exists(), "a dry run creates no store");

    // With days stored, only the missing ones are planned.
    run(
        &fake,
        &db,
        &["sync", "--since", "2024-05-01", "--until", "2024-05-02"],
    );
    let requests = fake.stats().requests;
    let before = std::fs::read(&db).unwrap();
    let stdout = text(
        &run(
            &fake,
            &db,
            &[
                "sync",
                "--dry-run",
                "--since",
                "2024-05-01",
                "--until",
                "2024-05-05",
            ],
        )
        .stdout,
    );
    assert!(
        stdout.contains("would fetch 3 day(s): 2024-05-03..2024-05-05"),
        "{stdout}"
    );
    assert!(
        stdout.contains("2 day(s) already stored would be skipped"),
        "{stdout}"
    );
    assert_eq!(fake.stats().requests, requests);
    assert!(
        std::fs::read(&db).unwrap() == before,
        "a dry run changed the store"
    );
}

#[test]
fn schedule_stopped_mid_sync_exits_0_quickly_and_leaves_only_whole_days() {
    let fake =
        FakeWiki::start_blocking(Config::realistic(16).latency(Duration::from_millis(40))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let mut child = command(
        &fake,
        &db,
        &["schedule", "--since", SINCE, "--until", UNTIL],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let rx = lines(&mut child);
    wait_for(&rx, "Stored day.", Duration::from_secs(30));
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let stored: Vec<_> = read_store(&db, "en.wikipedia", date(2024, 5, 1), date(2024, 5, 30))
        .iter()
        .map(|r| r.date)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert!(
        !stored.is_empty() && stored.len() < 30,
        "{} days: the sync was not interrupted mid-way",
        stored.len()
    );
    assert_store_matches(&db, &fake, "en.wikipedia", &stored, 100);
}

/// Every run that opened its store ends with the line the deployment's alerts count
/// (`Run finished.`), in Cloud Logging's JSON, with its status; a store that cannot be
/// opened is one sentence and exit 2 instead (the deployment sees a failed execution).
#[test]
fn a_run_ends_with_the_line_the_alerts_count() {
    let fake = FakeWiki::start_blocking(Config::fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let finished = |db: &std::path::Path| {
        let out = command(&fake, db, &["sync", "--date", "2023-04-01"])
            .env("WIKITOP_LOG_FORMAT", "json")
            .output()
            .unwrap();
        text(&out.stderr)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|l| l["message"] == wikitop::RUN_FINISHED)
            .map(|l| (l["severity"].clone(), l["status"].clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        finished(&dir.path().join("w.duckdb")),
        [("INFO".into(), "ok".into())]
    );
    assert_eq!(finished(&dir.path().join("no-such-dir/w.duckdb")), []);
}
