//! A store written by the first release (`tests/fixtures/store-v1.duckdb`: 3 days of
//! the fixture universe, 2023-04-01..03, written by wikitop 0.1.0 before stores recorded
//! a schema version) opened by this one through the real binary: `status` reads it as
//! it is, `sync` migrates it in place and keeps every row, and a store stamped with a
//! newer version is refused in one sentence with exit code 2. A store of the previous
//! release (`tests/fixtures/store-v3.duckdb`: the same 3 days written by wikitop at
//! commit 8c84c2f, schema version 3) is migrated and judged again with no request.

use std::path::{Path, PathBuf};

use fakewiki::{Config, FakeWiki};
use jiff::civil::date;
use wikitop::sinks::duckdb::DuckDbSink;
use wikitop::sinks::schema::SCHEMA_VERSION;

use crate::support::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/store-v1.duckdb"
);

const FIXTURE_V3: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/store-v3.duckdb"
);

/// A copy of the fixture, so the committed file is never changed.
fn copy_of_fixture(dir: &Path) -> PathBuf {
    copy_of(FIXTURE, dir)
}

fn copy_of(fixture: &str, dir: &Path) -> PathBuf {
    let db = dir.join("store.duckdb");
    std::fs::copy(fixture, &db).expect("the store fixture is committed");
    db
}

/// `sync MODE` over the fixtures' three days, which must succeed; its stdout.
fn sync_days(fake: &FakeWiki, db: &Path, mode: &str) -> String {
    let out = run(
        fake,
        db,
        &[
            "sync",
            mode,
            "--since",
            "2023-04-01",
            "--until",
            "2023-04-03",
        ],
    );
    assert!(out.status.success(), "{mode}: {}", text(&out.stderr));
    text(&out.stdout)
}

fn version(db: &Path) -> u32 {
    DuckDbSink::open(db, wikitop::sinks::Mode::Read)
        .and_then(|s| s.schema_version())
        .expect("the store opens")
}

#[test]
fn a_store_of_the_first_release_is_migrated_and_keeps_every_row() {
    let fake = FakeWiki::start_blocking(Config::fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of_fixture(dir.path());
    let stored = days(date(2023, 4, 1), date(2023, 4, 3));
    assert_eq!(version(&db), 1, "the fixture records no version");
    assert_served_matches(&db, &fake, "en.wikipedia", &stored, 100);

    // `status` reads it as it is: read-only, nothing migrated.
    let status = run(&fake, &db, &["status"]);
    assert!(status.status.success(), "{}", text(&status.stderr));
    let out = text(&status.stdout);
    assert!(
        out.contains("3 day(s) stored, 2023-04-01 → 2023-04-03"),
        "{out}"
    );
    assert!(
        out.contains("3 day(s) stored before wikitop flagged rows")
            && out.contains("2023-04-01 → 2023-04-03"),
        "{out}"
    );
    assert_eq!(version(&db), 1);

    // `sync` migrates it, finds every day stored and fetches nothing.
    let sync = run(&fake, &db, &["sync", "--until", "2023-04-03"]);
    assert!(sync.status.success(), "{}", text(&sync.stderr));
    assert!(
        text(&sync.stdout).contains("all 3 day(s) in the range are stored"),
        "{}",
        text(&sync.stdout)
    );
    assert_eq!(version(&db), SCHEMA_VERSION);
    // The new columns are there, empty: the old rows were never judged.
    assert_served_matches(&db, &fake, "en.wikipedia", &stored, 100);
    let status = run(&fake, &db, &["status"]);
    assert!(
        text(&status.stdout).contains("3 day(s) stored before wikitop flagged rows"),
        "{}",
        text(&status.stdout)
    );

    // Filling items would rewrite rows never judged, so those days are left alone.
    let requests = fake.requests().len();
    let fill = sync_days(&fake, &db, "--fill-wikidata");
    let out = &fill;
    assert!(
        out.contains("Filled the Wikidata items of 0 stored day(s) (0 rows); 0 requests."),
        "{out}"
    );
    assert!(
        out.contains("3 day(s) stored before wikitop judged rows were left as they are"),
        "{out}"
    );
    assert_eq!(fake.requests().len(), requests);
    assert_served_matches(&db, &fake, "en.wikipedia", &stored, 100);

    // `--force` fetches the days again and fills them: served values the same, judged.
    let again = run(&fake, &db, &["sync", "--until", "2023-04-03", "--force"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_store_matches(&db, &fake, "en.wikipedia", &stored, 100);
    let status = run(&fake, &db, &["status"]);
    let out = text(&status.stdout);
    assert!(
        out.contains("ok") && !out.contains("before wikitop flagged rows"),
        "{out}"
    );
}

#[test]
fn a_store_of_the_previous_release_is_migrated_and_judged_again_with_no_request() {
    let fake = FakeWiki::start_blocking(Config::fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of(FIXTURE_V3, dir.path());
    let stored = days(date(2023, 4, 1), date(2023, 4, 3));
    assert_eq!(version(&db), 3);

    let status = run(&fake, &db, &["status", "--since", "2023-04-01"]);
    let out = text(&status.stdout);
    assert!(
        out.contains("3 day(s) judged before mostread_rank existed: 2023-04-01..2023-04-03"),
        "{out}"
    );
    assert!(!out.contains("before wikitop flagged rows"), "{out}");

    let requests = fake.requests().len();
    let rejudge = sync_days(&fake, &db, "--rejudge");
    assert!(
        rejudge.contains("Judged 3 stored day(s) again (46 rows) from the store; 0 requests."),
        "{}",
        rejudge
    );
    assert_eq!(fake.requests().len(), requests, "rejudging sent a request");
    assert_eq!(version(&db), SCHEMA_VERSION);
    // Served values as they were, every judged column as this release computes it; the
    // items were never read.
    assert_matches_without_items(&db, &fake, "en.wikipedia", &stored, 100);

    // The items: page properties only, each distinct existing page once, 50 to a request.
    let fill = sync_days(&fake, &db, "--fill-wikidata");
    let pages: std::collections::BTreeSet<String> =
        read_store(&db, "en.wikipedia", stored[0], stored[2])
            .into_iter()
            .filter(|r| r.page_id.is_some())
            .map(|r| r.title)
            .collect();
    let floor = pages.len().div_ceil(50);
    let sent = fake.requests().len() - requests;
    assert_eq!(sent, floor, "{} pages", pages.len());
    assert!(
        fill.contains(&format!(
            "Filled the Wikidata items of 3 stored day(s) (46 rows); {floor} requests."
        )),
        "{}",
        fill
    );
    assert_store_matches(&db, &fake, "en.wikipedia", &stored, 100);
    // A second fill finds nothing to do.
    let again = sync_days(&fake, &db, "--fill-wikidata");
    assert!(
        again.contains("0 stored day(s) (0 rows); 0 requests."),
        "{}",
        again
    );

    // Fetching the days again instead costs more: top lists, desktop lists, categories.
    let other = tempfile::tempdir().unwrap();
    let copy = copy_of(FIXTURE_V3, other.path());
    let before = fake.requests().len();
    sync_days(&fake, &copy, "--force");
    assert!(
        fake.requests().len() - before > 2 * floor,
        "{floor} against {}",
        fake.requests().len() - before
    );
    let status = run(&fake, &db, &["status", "--since", "2023-04-01"]);
    let out = text(&status.stdout);
    assert!(!out.contains("judged before mostread_rank"), "{out}");
    // The ledger: the rejudging run sent nothing, the filling run its floor.
    let runs: Vec<&str> = out.lines().filter(|l| l.contains(" ok ")).collect();
    assert!(
        runs[1].contains(&format!("3 day(s), 46 rows, {floor} requests")),
        "{out}"
    );
    assert!(runs[2].contains("3 day(s), 46 rows, 0 requests"), "{out}");
}

#[test]
fn a_store_of_a_newer_version_is_refused_in_one_sentence() {
    let fake = FakeWiki::start_blocking(Config::fixture()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = copy_of_fixture(dir.path());
    let sync = run(&fake, &db, &["sync", "--until", "2023-04-03"]);
    assert!(sync.status.success(), "{}", text(&sync.stderr));
    {
        let conn = duckdb::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE wikitop_meta SET schema_version = ?",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
    }
    let newer = SCHEMA_VERSION + 1;
    for args in [&["status"][..], &["sync", "--until", "2023-04-03"][..]] {
        let out = run(&fake, &db, args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        let error: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(error.len(), 1, "{stderr}");
        assert!(
            error[0].contains(&format!("schema version {newer}"))
                && error[0].contains("upgrade wikitop"),
            "{stderr}"
        );
        assert!(!stderr.contains("Caused by"), "one sentence: {stderr}");
    }
}
