//! End-to-end syncs through the library against the fake Wikimedia server: the store
//! must hold exactly what was served, with the fewest requests, whatever the API does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use fakewiki::{Config, Endpoint, FakeWiki, Fault, FaultRule};
use wikitop::Error;

use crate::support::*;

async fn fixture() -> (FakeWiki, Vec<jiff::civil::Date>) {
    let fake = FakeWiki::start(Config::fixture()).await.unwrap();
    let days = fake.universe().days().unwrap();
    (fake, days)
}

/// Category rows a batch of article names costs: each distinct page once.
fn category_rows(
    fake: &FakeWiki,
    titles: &[String],
    by_article: &HashMap<String, (String, usize)>,
) -> usize {
    let _ = fake;
    let pages: BTreeMap<&str, usize> = titles
        .iter()
        .filter_map(|t| by_article.get(t))
        .map(|(title, n)| (title.as_str(), *n))
        .collect();
    pages.values().sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fixture_is_stored_exactly_with_the_fewest_requests_and_a_rerun_sends_none() {
    let (fake, days) = fixture().await;
    stored_exactly_with_the_fewest_requests(fake, days).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realistic_month_is_stored_exactly_with_the_fewest_requests_and_a_rerun_sends_none() {
    let fake = FakeWiki::start(Config::realistic(3)).await.unwrap();
    stored_exactly_with_the_fewest_requests(
        fake,
        days(
            jiff::civil::date(2025, 6, 1),
            jiff::civil::date(2025, 6, 30),
        ),
    )
    .await;
}

async fn stored_exactly_with_the_fewest_requests(fake: FakeWiki, days: Vec<jiff::civil::Date>) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let (since, until) = (days[0], *days.last().unwrap());
    let settings = settings(&fake, &db, since, until);

    let report = sync(&settings).await.unwrap();
    assert_eq!(report.days_written, days.len() as u64);
    assert!(report.days_failed.is_empty(), "{:?}", report.days_failed);
    assert_store_matches(&db, &fake, "en.wikipedia", &days, 100);

    // Requests: two top lists per day (all-access, desktop); each unique article in
    // exactly one batch of at most 50; as many rounds per batch as its category rows
    // need at 500 a response. The main page rides on the first batch.
    let stats = fake.stats();
    assert_eq!(stats.top_requests, 2 * days.len() as u64);
    assert_eq!(
        (
            stats.title_limit_violations,
            stats.bad_continues,
            stats.api_errors
        ),
        (0, 0, 0)
    );
    let category_requests = assert_fewest_category_requests(&fake, "en.wikipedia", &days);
    assert_eq!(stats.requests, 2 * days.len() as u64 + category_requests);
    assert_eq!(report.http_requests, stats.requests);

    // A rerun: nothing to do, no request, rows untouched.
    let before = read_store(&db, "en.wikipedia", since, until);
    fake.reset_log();
    let again = sync(&settings).await.unwrap();
    assert_eq!(
        (again.days_written, again.days_skipped, again.http_requests),
        (0, days.len() as u64, 0)
    );
    assert_eq!(fake.stats().requests, 0);
    assert_eq!(read_store(&db, "en.wikipedia", since, until), before);
}

/// Checks one project's Action API requests against the floor: each unique article of
/// `days` in exactly one batch of at most 50, batches full, as many rounds per batch as
/// its category rows need at 500 a response. Returns how many requests that makes.
fn assert_fewest_category_requests(
    fake: &FakeWiki,
    project: &str,
    days: &[jiff::civil::Date],
) -> u64 {
    let mut by_article: HashMap<String, (String, usize)> = HashMap::new();
    for day in days {
        for row in fake.expected_day(project, "all-access", *day, 100).unwrap() {
            // `-` is "no title found": stored, never looked up.
            if row.article == fakewiki::NO_TITLE {
                continue;
            }
            let n = row.categories.len() + row.hidden_categories.len();
            by_article.insert(row.article.clone(), (row.title.clone(), n));
        }
    }
    let mut batches: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for r in fake
        .requests()
        .iter()
        .filter(|r| r.endpoint == Endpoint::Categories && r.project.as_deref() == Some(project))
    {
        assert!(
            r.titles.len() <= 50,
            "{} titles in one request",
            r.titles.len()
        );
        *batches.entry(r.titles.clone()).or_default() += 1;
    }
    let mut seen = BTreeSet::new();
    for titles in batches.keys() {
        for t in titles {
            assert!(seen.insert(t.clone()), "{t} requested in two batches");
        }
    }
    let unique: BTreeSet<&String> = by_article.keys().collect();
    assert_eq!(seen.len(), unique.len(), "every article requested once");
    assert_eq!(batches.len(), unique.len().div_ceil(50), "batches are full");
    for (titles, rounds) in &batches {
        let rows = category_rows(fake, titles, &by_article);
        assert_eq!(
            *rounds,
            rows.div_ceil(500).max(1) as u64,
            "rounds for a batch of {} pages with {rows} category rows",
            titles.len()
        );
    }
    batches.values().sum()
}

/// Three wikis in one run, one of them non-Latin with a main page of its own name: each
/// stored exactly and judged, each on its own floor plus its desktop list a day.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_wikis_in_one_run_each_on_its_own_floor_plus_one_request_a_day() {
    let fake = FakeWiki::start(Config::realistic(11)).await.unwrap();
    let days = days(jiff::civil::date(2024, 3, 1), jiff::civil::date(2024, 3, 7));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let mut s = settings(&fake, &db, days[0], days[6]);
    let wikis = ["en.wikipedia", "de.wikipedia", "hi.wikipedia"];
    s.projects = wikis.iter().map(|p| p.parse().unwrap()).collect();
    let report = sync(&s).await.unwrap();
    assert_eq!(report.days_written, 3 * days.len() as u64);
    let mut floor = 0;
    for wiki in wikis {
        assert_store_matches(&db, &fake, wiki, &days, 100);
        floor += 2 * days.len() as u64 + assert_fewest_category_requests(&fake, wiki, &days);
    }
    assert_eq!(fake.stats().requests, floor);
    assert_eq!(report.http_requests, floor);

    // The main pages go by their own names, and none of them is an article.
    for (wiki, main_page) in [
        ("en.wikipedia", "Main_Page"),
        ("de.wikipedia", "Wikipedia:Hauptseite"),
        ("hi.wikipedia", "मुखपृष्ठ"),
    ] {
        let rows = read_store(&db, wiki, days[0], days[0]);
        let row = rows
            .iter()
            .find(|r| r.article == main_page)
            .unwrap_or_else(|| panic!("{wiki}: {main_page} not in the top list"));
        assert_eq!(row.is_article, Some(false), "{wiki}");
        assert_eq!(
            rows.iter().filter(|r| r.article_rank == Some(1)).count(),
            1,
            "{wiki}: one top article"
        );
    }
    let status = wikitop::status(&s.store, days[0], days[6], 5)
        .await
        .unwrap();
    let listed: Vec<&str> = status.projects.iter().map(|p| p.project.as_str()).collect();
    assert_eq!(listed, ["de.wikipedia", "en.wikipedia", "hi.wikipedia"]);
    assert!(
        status
            .projects
            .iter()
            .all(|p| p.missing_days == 0 && p.unassessed_days == 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_replaces_a_day_exactly() {
    let (fake, days) = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    sync(&settings(&fake, &db, days[0], days[2])).await.unwrap();
    let before = read_store(&db, "en.wikipedia", days[0], days[2]);

    let mut forced = settings(&fake, &db, days[1], days[1]);
    forced.force = true;
    let report = sync(&forced).await.unwrap();
    assert_eq!(report.days_written, 1);
    assert_store_matches(&db, &fake, "en.wikipedia", &days[0..3], 100);
    let after = read_store(&db, "en.wikipedia", days[0], days[2]);
    let run_of = |rows: &[wikitop::sinks::duckdb::StoredRow], d| {
        rows.iter()
            .filter(|r| r.date == d)
            .map(|r| r.run_id.clone())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(
        run_of(&after, days[0]),
        run_of(&before, days[0]),
        "other days untouched"
    );
    assert_eq!(
        run_of(&after, days[1]),
        BTreeSet::from([report.run_id.clone()]),
        "the day was replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unpublished_day_ends_the_range_without_failing() {
    let fake =
        FakeWiki::start(Config::realistic(7).published_until(jiff::civil::date(2024, 3, 10)))
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let mut s = settings(
        &fake,
        &db,
        jiff::civil::date(2024, 3, 8),
        jiff::civil::date(2024, 3, 10),
    );
    s.until = None; // up to the latest published day
    s.today = jiff::civil::date(2024, 3, 12); // so the API is asked for 03-11 too
    let report = sync(&s).await.unwrap();
    assert_eq!(report.days_written, 3);
    assert!(report.days_failed.is_empty());
    assert_eq!(report.not_published.len(), 1);
    assert_eq!(report.not_published[0].1, jiff::civil::date(2024, 3, 11));
    assert_store_matches(
        &db,
        &fake,
        "en.wikipedia",
        &days(
            jiff::civil::date(2024, 3, 8),
            jiff::civil::date(2024, 3, 10),
        ),
        100,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_the_api_does_not_know_is_refused() {
    let (fake, days) = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let mut s = settings(&fake, &db, days[0], days[1]);
    s.projects = vec!["xx.wikipedia".parse().unwrap()];
    // Long published: a 404 can only mean the project does not exist.
    s.today = days[0].checked_add(jiff::Span::new().days(400)).unwrap();
    let err = sync(&s).await.unwrap_err();
    assert!(
        matches!(err, Error::ProjectNotFound(ref p) if p == "xx.wikipedia"),
        "{err}"
    );
    // A recent day: a 404 is ambiguous, so one more request for a long-published day decides.
    s.today = today_for(&fake);
    s.since = s.today.yesterday().unwrap();
    s.until = None;
    let err = sync(&s).await.unwrap_err();
    assert!(
        matches!(err, Error::ProjectNotFound(ref p) if p == "xx.wikipedia"),
        "{err}"
    );
    assert!(err.is_usage());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_errors_and_broken_bodies_are_retried_to_exact_data() {
    let (fake, days) = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    fake.add_fault(FaultRule::next(
        Fault::TooManyRequests {
            retry_after_secs: 1,
        },
        2,
    ));
    fake.add_fault(
        FaultRule::next(
            Fault::TooManyRequestsHttpDate {
                retry_after_secs: 2,
            },
            1,
        )
        .on(Endpoint::Categories),
    );
    fake.add_fault(FaultRule::next(Fault::Maxlag { lag_secs: 1 }, 2));
    fake.add_fault(FaultRule::next(Fault::TruncatedBody, 2));
    fake.add_fault(FaultRule::next(Fault::HtmlErrorPage, 2));
    fake.add_fault(FaultRule::next(Fault::MissingTopLevel, 1).on(Endpoint::Top));
    fake.add_fault(FaultRule::next(Fault::MissingTopLevel, 1).on(Endpoint::Categories));
    fake.add_fault(FaultRule::next(Fault::DropConnection, 2));
    fake.add_fault(FaultRule::next(Fault::Hang(Duration::from_secs(4)), 1));
    fake.add_fault(FaultRule::rate(Fault::Status(503), 0.2));
    // The faults go to whichever requests come next, so several can line up on one
    // request (its all-access and desktop lists fetched back to back): give each
    // request tries for all of them, so the test is about retrying, not about the cap.
    let mut s = settings(&fake, &db, days[0], *days.last().unwrap());
    s.http.max_tries = 30;
    let started = std::time::Instant::now();
    let report = sync(&s).await.unwrap();
    assert!(report.days_failed.is_empty(), "{:?}", report.days_failed);
    assert_store_matches(&db, &fake, "en.wikipedia", &days, 100);
    let stats = fake.stats();
    assert!(stats.faults_injected >= 14, "{stats:?}");
    assert_eq!(
        report.http_retries, stats.faults_injected,
        "every fault retried once"
    );
    assert!(report.throttled >= 3);
    // The 429s asked for 1 + 1 + 2 s and maxlag for 1 + 1 s; waits overlap at most pairwise.
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "Retry-After was not honoured"
    );
    // Bounded: the hang costs one 2 s timeout, the waits a few seconds, backoff milliseconds.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    let sink = wikitop::sinks::duckdb::DuckDbSink::open(&db, wikitop::sinks::Mode::Read).unwrap();
    let mut sink = sink;
    let runs = wikitop::sinks::Sink::recent_runs(&mut sink, 1)
        .await
        .unwrap();
    assert_eq!(runs[0].http_retries, report.http_retries);
    assert_eq!(runs[0].status.as_str(), "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_are_polite() {
    let (fake, days) = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let mut s = settings(&fake, &db, days[0], *days.last().unwrap());
    s.http.access_token = Some("token-123".into());
    fake.set_latency(Duration::from_millis(20));
    sync(&s).await.unwrap();
    let stats = fake.stats();
    assert!(stats.max_in_flight <= 3, "{stats:?}");
    assert!(stats.max_in_flight_categories <= 1, "{stats:?}");
    assert!(stats.max_in_flight_top <= 2, "{stats:?}");
    // The operator first, so each operator has a rate-limit counter of their own.
    let ua_prefix = format!(
        "wikitop/{} ({CONTACT}; {}) reqwest/0.",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_REPOSITORY")
    );
    let first_answer = fake
        .requests()
        .iter()
        .filter_map(|r| r.finished_at)
        .min()
        .expect("answers");
    let mut with_cookie = 0;
    for r in fake.requests() {
        assert!(
            r.user_agent
                .as_deref()
                .is_some_and(|ua| ua.starts_with(&ua_prefix)),
            "{:?}",
            r.user_agent
        );
        assert!(r.authorization, "Bearer token not sent");
        // Wikimedia asks authenticated clients to send its cookies back: every request
        // sent after the first answer came back carries the session cookie.
        if r.received_at > first_answer + Duration::from_millis(5) {
            with_cookie += 1;
            assert!(
                r.cookie
                    .as_deref()
                    .is_some_and(|c| c.contains(fakewiki::SESSION_COOKIE)),
                "request {} sent no session cookie",
                r.seq
            );
        }
        if r.endpoint == Endpoint::Categories {
            assert!(
                r.path_and_query.contains("maxlag=5"),
                "{}",
                r.path_and_query
            );
        }
    }
    assert!(with_cookie > 0, "no request came after an answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_that_keeps_failing_is_reported_and_filled_by_the_next_run() {
    let (fake, days) = fixture().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let bad = days[2];
    let mut s = settings(&fake, &db, days[0], *days.last().unwrap());
    s.http.max_tries = 3;
    let fault = fake.add_fault(FaultRule::persistent_500("en.wikipedia", bad));
    let report = sync(&s).await.unwrap();
    assert_eq!(
        report.days_failed.iter().map(|f| f.day).collect::<Vec<_>>(),
        [bad]
    );
    assert_eq!(report.days_written, days.len() as u64 - 1);
    assert_eq!(report.status().as_str(), "partial");
    let status = wikitop::status(&s.store, days[0], *days.last().unwrap(), 5)
        .await
        .unwrap();
    assert_eq!(status.projects[0].missing, [(bad, bad)]);
    assert_eq!(status.runs[0].status.as_str(), "partial");

    fake.remove_fault(fault);
    fake.reset_log();
    let report = sync(&s).await.unwrap();
    assert_eq!(report.days_written, 1);
    assert_eq!(
        fake.stats().top_requests,
        2,
        "only the missing day's two lists are fetched"
    );
    assert_store_matches(&db, &fake, "en.wikipedia", &days, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_categories_batch_fails_only_the_days_waiting_on_it() {
    let fake = FakeWiki::start(Config::realistic(5)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let range = days(
        jiff::civil::date(2024, 2, 1),
        jiff::civil::date(2024, 2, 10),
    );
    let mut s = settings(&fake, &db, range[0], range[9]);
    s.http.max_tries = 2;
    // The first batch fails for good; titles it held come back on later days and
    // must be fetched again then, not failed for the rest of the run.
    fake.add_fault(FaultRule::next(Fault::Status(500), 2).on(Endpoint::Categories));
    let report = sync(&s).await.unwrap();
    let failed: Vec<_> = report.days_failed.iter().map(|f| f.day).collect();
    assert!(!failed.is_empty() && failed.len() < 4, "{failed:?}");
    assert_eq!(report.days_written as usize, range.len() - failed.len());
    let written: Vec<_> = range
        .iter()
        .copied()
        .filter(|d| !failed.contains(d))
        .collect();
    assert_store_matches(&db, &fake, "en.wikipedia", &written, 100);
    let again = sync(&s).await.unwrap();
    assert_eq!(again.days_written as usize, failed.len());
    assert_store_matches(&db, &fake, "en.wikipedia", &range, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_cover_every_day_exactly_once() {
    let fake = FakeWiki::start(Config::realistic(6)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let range = days(
        jiff::civil::date(2024, 2, 1),
        jiff::civil::date(2024, 2, 14),
    );
    let mut stored = Vec::new();
    for i in 0..3 {
        let db = dir.path().join(format!("shard-{i}.duckdb"));
        let mut s = settings(&fake, &db, range[0], range[13]);
        s.shard = wikitop::settings::Shard { index: i, count: 3 };
        sync(&s).await.unwrap();
        let rows = read_store(&db, "en.wikipedia", range[0], range[13]);
        stored.extend(rows.iter().map(|r| r.date).collect::<BTreeSet<_>>());
    }
    stored.sort();
    assert_eq!(stored, range, "each day stored by exactly one shard");
    let mut asked: Vec<_> = fake
        .requests()
        .iter()
        .filter(|r| r.path_and_query.contains("/all-access/"))
        .filter_map(|r| r.day)
        .collect();
    asked.sort();
    assert_eq!(asked, range, "each day's top list requested once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_as_many_wikis_as_shards_each_shard_takes_whole_wikis() {
    let fake = FakeWiki::start(Config::realistic(7)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (since, until) = (jiff::civil::date(2024, 3, 1), jiff::civil::date(2024, 3, 4));
    let wikis = ["en.wikipedia", "de.wikipedia", "fr.wikipedia"];
    for i in 0..3u32 {
        let db = dir.path().join(format!("shard-{i}.duckdb"));
        let mut s = settings(&fake, &db, since, until);
        s.projects = wikis.iter().map(|w| w.parse().unwrap()).collect();
        s.shard = wikitop::settings::Shard { index: i, count: 3 };
        fake.reset_log();
        let outcome = sync(&s).await.unwrap();
        // Shard i stores every day of the wiki at position i, and nothing else.
        for (position, wiki) in wikis.iter().enumerate() {
            let stored = read_store(&db, wiki, since, until).len();
            assert_eq!(stored > 0, position == i as usize, "shard {i}, {wiki}");
        }
        assert_store_matches(&db, &fake, wikis[i as usize], &days(since, until), 100);
        // Its requests are that wiki's, counted per wiki in the outcome.
        assert_eq!(outcome.projects.len(), 1);
        assert_eq!(outcome.projects[0].requests, fake.stats().requests);
        assert_eq!(outcome.http_requests, fake.stats().requests);
    }
}
