//! Shared helpers: the binary under test, settings pointing at a fake server, and the
//! comparison of a store with what the fake served.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use fakewiki::{ExpectedRow, FakeWiki};
use jiff::civil::Date;
use wikitop::model::Day;
use wikitop::settings::{Settings, StoreInput, SyncInput};
use wikitop::sinks::duckdb::{DuckDbSink, StoredRow};

/// The `wikitop` binary cargo built for these tests.
pub fn wikitop() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wikitop"))
}

pub const CONTACT: &str = "ops@example.org";
/// A budget the tests never reach: pacing itself is tested on its own, against quotas.
pub const TEST_RATE: &str = "1000000/1s";

/// The binary with `args`, storing into `db`, pointed at `fake` as a user would point it
/// at Wikimedia: a contact, a budget the tests never reach, a short backoff, and none
/// of the caller's sink or log settings.
pub fn command(fake: &FakeWiki, db: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(wikitop());
    cmd.args(args)
        .arg("--db")
        .arg(db)
        .env("WIKITOP_PAGEVIEWS_API", fake.pageviews_api())
        .env("WIKITOP_ACTION_API", fake.action_api())
        .env("WIKITOP_CONTACT", CONTACT)
        .env("WIKITOP_RATE", TEST_RATE)
        .env("WIKITOP_RETRY_BASE_MS", "5")
        .env_remove("WIKITOP_SINK")
        .env_remove("WIKITOP_LOG_FORMAT");
    cmd
}

pub fn run(fake: &FakeWiki, db: &Path, args: &[&str]) -> Output {
    command(fake, db, args).output().expect("wikitop runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Sync settings for `[since, until]` against `fake`, storing into `db`; backoff is
/// shortened so retry tests take milliseconds, Retry-After is honoured as served.
pub fn settings(fake: &FakeWiki, db: &Path, since: Day, until: Day) -> Settings {
    let input = SyncInput {
        since: Some(since.to_string()),
        until: Some(until.to_string()),
        store: StoreInput {
            db: Some(db.to_owned()),
            ..StoreInput::default()
        },
        pageviews_api: Some(fake.pageviews_api()),
        action_api: Some(fake.action_api()),
        contact: Some(CONTACT.into()),
        rate: Some(TEST_RATE.into()),
        retry_base_ms: Some(5),
        http_timeout_secs: Some(2.0),
        arguments: "test".into(),
        ..SyncInput::default()
    };
    Settings::resolve(input, today_for(fake)).expect("valid settings")
}

/// "Today" as the fake sees it: the day after its last published day.
pub fn today_for(fake: &FakeWiki) -> Day {
    fake.published_until().tomorrow().unwrap()
}

/// Runs a sync, as a library caller would, on the test's own thread (2 MiB of stack).
pub async fn sync(settings: &Settings) -> wikitop::Result<wikitop::RunOutcome> {
    wikitop::sync(settings, Arc::new(wikitop::Silent)).await
}

pub fn days(since: Day, until: Day) -> Vec<Day> {
    let mut out = vec![];
    let mut d = since;
    while d <= until {
        out.push(d);
        d = d.tomorrow().unwrap();
    }
    out
}

/// The store's rows as (date, article) → comparable tuple, without run bookkeeping.
pub type Comparable = (
    u32,
    u64,
    String,
    Option<i64>,
    Option<i32>,
    String,
    Vec<String>,
    Vec<String>,
    Option<String>,
);

pub fn comparable_stored(row: &StoredRow) -> Comparable {
    (
        row.rank,
        row.views,
        row.title.clone(),
        row.page_id,
        row.namespace,
        row.page_status.as_str().to_owned(),
        row.categories.clone(),
        row.hidden_categories.clone(),
        row.wikidata_id.map(|q| q.to_string()),
    )
}

pub fn comparable_expected(row: &ExpectedRow) -> Comparable {
    (
        row.rank,
        row.views,
        row.title.clone(),
        row.page_id,
        row.namespace,
        row.page_status.clone(),
        row.categories.clone(),
        row.hidden_categories.clone(),
        row.wikidata_id.clone(),
    )
}

pub fn read_store(db: &Path, project: &str, since: Day, until: Day) -> Vec<StoredRow> {
    let sink = DuckDbSink::open(db, wikitop::sinks::Mode::Read).expect("store opens");
    assert_eq!(
        sink.duplicate_rows().unwrap(),
        0,
        "duplicate rows in the store"
    );
    sink.read_rows(project, since, until).expect("rows read")
}

/// Asserts the store holds exactly what the fake served for `days`, value by value,
/// and every row judged as `assert_judged` computes.
pub fn assert_store_matches(db: &Path, fake: &FakeWiki, project: &str, days: &[Date], top: u32) {
    store_matches(db, fake, project, days, top, true, true);
}

/// As [`assert_store_matches`], for days stored before wikitop read Wikidata items and
/// not filled yet: `wikidata_id` is NULL on every row.
pub fn assert_matches_without_items(
    db: &Path,
    fake: &FakeWiki,
    project: &str,
    days: &[Date],
    top: u32,
) {
    store_matches(db, fake, project, days, top, true, false);
}

/// Asserts the served columns only, of a store of the first release: its rows were
/// never judged (NULL in the judged columns) and have no Wikidata item.
pub fn assert_served_matches(db: &Path, fake: &FakeWiki, project: &str, days: &[Date], top: u32) {
    store_matches(db, fake, project, days, top, false, false);
}

fn store_matches(
    db: &Path,
    fake: &FakeWiki,
    project: &str,
    days: &[Date],
    top: u32,
    judged: bool,
    items: bool,
) {
    let (first, last) = (days[0], days[days.len() - 1]);
    let stored = read_store(db, project, first, last);
    let mut by_day: BTreeMap<Date, BTreeMap<String, Comparable>> = BTreeMap::new();
    for row in &stored {
        assert_eq!(row.access, "all-access");
        assert!(!row.run_id.is_empty());
        assert!(
            row.categories_fetched_at <= row.ingested_at,
            "categories read after the row was stored?"
        );
        let prev = by_day
            .entry(row.date)
            .or_default()
            .insert(row.article.clone(), comparable_stored(row));
        assert!(prev.is_none(), "{} {} stored twice", row.date, row.article);
    }
    let wanted: BTreeSet<Date> = days.iter().copied().collect();
    let got: BTreeSet<Date> = by_day.keys().copied().collect();
    assert_eq!(got, wanted, "stored days differ from the days asked for");
    for day in days {
        let expected: BTreeMap<String, Comparable> = fake
            .expected_day(project, "all-access", *day, top)
            .unwrap_or_else(|| panic!("the fake has no list for {day}"))
            .iter()
            .map(|r| {
                let mut c = comparable_expected(r);
                if !items {
                    c.8 = None;
                }
                (r.article.clone(), c)
            })
            .collect();
        let actual = &by_day[day];
        for (article, want) in &expected {
            assert_eq!(actual.get(article), Some(want), "{day} {article}");
        }
        let day_rows: Vec<&StoredRow> = stored.iter().filter(|r| r.date == *day).collect();
        if judged {
            assert_judged(
                project,
                &day_rows,
                &fake.expected_day(project, "all-access", *day, top).unwrap(),
            );
        } else {
            assert!(
                day_rows.iter().all(|r| r.is_article.is_none()
                    && r.suspect_automated.is_none()
                    && r.article_rank.is_none()
                    && r.mostread_rank.is_none()
                    && r.desktop_views.is_none()),
                "{day}: a row of an older release has judged columns"
            );
        }
        assert_eq!(
            actual.len(),
            expected.len(),
            "{day}: extra rows {:?}",
            actual
                .keys()
                .filter(|a| !expected.contains_key(*a))
                .collect::<Vec<_>>()
        );
    }
}

/// The shipped deny list read as data: `(scope, title) -> flags traffic` (its kind is
/// `automated` or `unexplained`).
fn deny_list() -> BTreeMap<(String, String), bool> {
    include_str!("../../src/judge/deny_list.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            ((f[0].to_owned(), f[1].to_owned()), f[2] != "editorial")
        })
        .collect()
}

/// Asserts one day's judged columns against the fake's desktop list and pages, with the
/// rules computed here independently:
/// - suspect: a deny-list entry of a flagging kind on the served name or the title, a
///   desktop share outside 10-90 %, or absent from the desktop list with
///   `desktop_min_views` at most 10 % of the views;
/// - `article_rank`: pages (rows sharing a title) that are articles and not suspect,
///   ranked by their summed views, ties sharing a rank;
/// - `mostread_rank`: wikifeeds' `lib/most-read.js` (7bddb99) steps, one after another.
pub fn assert_judged(project: &str, stored: &[&StoredRow], expected: &[ExpectedRow]) {
    let listed = listed_in(project);
    let suspect = |e: &ExpectedRow| expected_suspect(project, e);
    let eligible = |x: &ExpectedRow| x.is_article && !suspect(x);
    let mut page_views: BTreeMap<&str, u64> = BTreeMap::new();
    for x in expected.iter().filter(|x| eligible(x)) {
        *page_views.entry(x.title.as_str()).or_default() += x.views;
    }
    let mostread = feed_positions(project, expected, &listed);
    for e in expected {
        let row = stored
            .iter()
            .find(|r| r.article == e.article)
            .unwrap_or_else(|| panic!("{} not stored", e.article));
        let what = format!("{} {}", row.date, e.article);
        assert_eq!(row.desktop_views, e.desktop_views, "{what}");
        assert_eq!(row.desktop_min_views, e.desktop_min_views, "{what}");
        assert_eq!(
            row.desktop_share,
            e.desktop_views.map(|d| d as f64 / e.views as f64),
            "{what}"
        );
        assert_eq!(row.is_article, Some(e.is_article), "{what}");
        assert_eq!(row.suspect_automated, Some(suspect(e)), "{what}");
        assert_eq!(row.suspect_reason.is_some(), suspect(e), "{what}");
        let rank = eligible(e).then(|| {
            let mine = page_views[e.title.as_str()];
            1 + page_views.values().filter(|&&v| v > mine).count() as u32
        });
        assert_eq!(row.article_rank, rank, "{what}");
        assert_eq!(
            row.mostread_rank,
            mostread.get(&e.article).copied(),
            "{what}"
        );
    }
}

/// Whether the shipped deny list names `name` on `project`: `Some(true)` for an entry
/// that flags traffic, `Some(false)` for an editorial one.
fn listed_in(project: &str) -> impl Fn(&str) -> Option<bool> {
    let deny = deny_list();
    let project = project.to_owned();
    move |name: &str| {
        let name = name.replace(' ', "_");
        let lang = project.split('.').next().unwrap();
        [project.as_str(), lang, "*"]
            .iter()
            .filter_map(|scope| deny.get(&(scope.to_string(), name.clone())).copied())
            .reduce(|a, b| a || b)
    }
}

/// Whether a served row must be flagged, by the rules stated on [`assert_judged`].
pub fn expected_suspect(project: &str, e: &ExpectedRow) -> bool {
    let listed = listed_in(project);
    listed(&e.article) == Some(true)
        || listed(&e.title) == Some(true)
        || match e.desktop_views {
            None => e.desktop_min_views.is_some_and(|m| m * 10 <= e.views),
            Some(d) => d * 10 < e.views || d * 10 > e.views * 9,
        }
}

/// Each served article's position in the feed's list: the first 50 entries in
/// (rank, article) order; namespace 0; not blocked by the served name; the page exists;
/// merged by title; not the main page (the one existing namespace-0 page that is no
/// article), case-insensitively; not blocked by the title. fy.wikipedia has no list.
fn feed_positions(
    project: &str,
    expected: &[ExpectedRow],
    listed: &dyn Fn(&str) -> Option<bool>,
) -> BTreeMap<String, u32> {
    if project == "fy.wikipedia" {
        return BTreeMap::new();
    }
    let exists = |e: &ExpectedRow| e.page_status == "ok" || e.page_status == "redirect";
    let main = expected
        .iter()
        .find(|e| exists(e) && e.namespace == Some(0) && !e.is_article)
        .map(|e| e.title.replace(' ', "_").to_lowercase());
    let mut served: Vec<&ExpectedRow> = expected.iter().collect();
    served.sort_by(|a, b| (a.rank, &a.article).cmp(&(b.rank, &b.article)));
    let mut titles: Vec<(String, Vec<&str>)> = Vec::new();
    for e in served.into_iter().take(50) {
        if e.namespace != Some(0) || listed(&e.article).is_some() || !exists(e) {
            continue;
        }
        let title = e.title.replace(' ', "_");
        match titles.iter_mut().find(|(t, _)| *t == title) {
            Some((_, names)) => names.push(&e.article),
            None => titles.push((title, vec![&e.article])),
        }
    }
    titles
        .into_iter()
        .filter(|(t, _)| Some(t.to_lowercase()) != main && listed(t).is_none())
        .enumerate()
        .flat_map(|(i, (_, names))| names.into_iter().map(move |n| (n.to_owned(), i as u32 + 1)))
        .collect()
}

/// The BigQuery emulator `make test` starts, and a dataset of its project named for
/// `test` and this process: `(endpoint, "project.dataset")`. Without the emulator the
/// test fails, never passes silently.
pub fn emulator_dataset(test: &str) -> (String, String) {
    let endpoint = std::env::var("WIKITOP_TEST_BQ_ENDPOINT").unwrap_or_default();
    assert!(
        !endpoint.is_empty(),
        "WIKITOP_TEST_BQ_ENDPOINT is not set: run `make test`, or `bash scripts/bqemu.sh run -- cargo test`"
    );
    let project =
        std::env::var("WIKITOP_TEST_BQ_PROJECT").unwrap_or_else(|_| "test-project".to_owned());
    let dataset = format!("{project}.wikitop_{test}_{}", std::process::id());
    (endpoint, dataset)
}
