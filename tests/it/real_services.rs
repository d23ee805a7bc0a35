//! The behaviours of the real Wikimedia services that English hides, through the real
//! binary: a non-Latin wiki whose batches are too long for a URL, `-` existing as a
//! page, a title not in NFC, redirect chains and a loop, localised special pages,
//! language variants, errors served with HTTP 200, bare 429s, and a request budget.

use std::collections::BTreeSet;
use std::time::Duration;

use fakewiki::{
    Config, Endpoint, FakeWiki, Fault, FaultRule, NO_TITLE, NOT_NFC, Quota, RequestRecord,
};
use jiff::civil::date;

use crate::support::*;

const DAYS: (&str, &str) = ("2023-04-01", "2023-04-04");

fn categories_requests(fake: &FakeWiki) -> Vec<RequestRecord> {
    fake.requests()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Categories)
        .collect()
}

fn param<'a>(r: &'a RequestRecord, name: &str) -> Option<&'a str> {
    r.params
        .iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn stored<'a>(
    rows: &'a [wikitop::sinks::duckdb::StoredRow],
    article: &str,
) -> &'a wikitop::sinks::duckdb::StoredRow {
    rows.iter()
        .find(|r| r.article == article)
        .unwrap_or_else(|| panic!("{article} not stored"))
}

#[test]
fn a_non_latin_wiki_is_stored_exactly_as_the_real_services_serve_it() {
    let fake = FakeWiki::start_blocking(Config::intl()).unwrap();
    // MediaWiki answers these with HTTP 200; each is retried, none fails a day.
    for code in [
        "internal_api_error_DBConnectionError",
        "internal_api_error_DBQueryError",
        "readonly",
    ] {
        fake.add_fault(
            FaultRule::next(
                Fault::ApiError {
                    code,
                    info: "[b7c1] Exception caught: the database is briefly unavailable",
                },
                1,
            )
            .on(Endpoint::Categories),
        );
    }
    fake.add_fault(FaultRule::next(Fault::TooManyRequestsBare, 1).on(Endpoint::Categories));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let sync = ["sync", "--since", DAYS.0, "--until", DAYS.1];
    let out = run(
        &fake,
        &db,
        &[&sync[..], &["--project", "hi.wikipedia,zh.wikipedia"]].concat(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let days = days(date(2023, 4, 1), date(2023, 4, 4));
    assert_store_matches(&db, &fake, "hi.wikipedia", &days, 100);
    assert_store_matches(&db, &fake, "zh.wikipedia", &days, 100);

    let requests = categories_requests(&fake);
    assert!(
        requests.iter().all(|r| r.status != Some(414)),
        "a request was too long"
    );
    assert!(
        requests
            .iter()
            .all(|r| !r.titles.iter().any(|t| t == NO_TITLE)),
        "`-` was looked up"
    );
    assert!(requests.iter().all(|r| r.titles.len() <= 50));
    // Long batches go as POST forms, short ones stay GETs (replicas, caches).
    let posts: Vec<&RequestRecord> = requests.iter().filter(|r| r.method == "POST").collect();
    assert!(!posts.is_empty(), "no batch was long enough to POST");
    assert!(
        requests.iter().any(|r| r.method == "GET"),
        "every batch was POSTed"
    );
    for r in &posts {
        assert!(
            r.path_and_query.ends_with("?action=query"),
            "{}",
            r.path_and_query
        );
        assert!(
            r.headers
                .iter()
                .any(|(k, v)| k == "promise-non-write-api-action" && v == "true"),
            "{:?}",
            r.headers
        );
    }
    for r in &requests {
        assert_eq!(param(r, "converttitles"), Some("1"), "{}", r.path_and_query);
        // The Wikidata item rides in the categories batch: no request of its own.
        assert_eq!(param(r, "prop"), Some("categories|pageprops"));
        assert_eq!(param(r, "ppprop"), Some("wikibase_item"));
        assert_eq!(param(r, "maxlag"), Some("5"));
    }
    // A hi batch of 50 really needed it: encoded, its titles pass the 8 KB limit.
    let longest = posts
        .iter()
        .map(|r| r.titles.iter().map(|t| t.len() * 3).sum::<usize>())
        .max()
        .unwrap_or(0);
    assert!(longest > fakewiki::DEFAULT_MAX_REQUEST_TARGET, "{longest}");

    let rows = read_store(&db, "hi.wikipedia", days[0], days[0]);
    let row = |a: &str| stored(&rows, a);
    let dash = row(NO_TITLE);
    assert_eq!(
        (
            dash.page_status.as_str(),
            dash.page_id,
            dash.categories.len()
        ),
        ("no_title", None, 0)
    );
    let chain = row("भारत_गणराज्य");
    assert_eq!(
        (
            chain.title.as_str(),
            chain.page_status.as_str(),
            chain.page_id
        ),
        ("भारत", "redirect", Some(1_004))
    );
    assert_eq!(row("लूप_क").page_status.as_str(), "missing");
    assert_eq!(row("पुराना_नाम").title, "नया नाम");
    assert_eq!(row("पुराना_नाम_२").title, "अनुपलब्ध नाम");
    let nfc = row(NOT_NFC);
    assert_eq!((nfc.page_status.as_str(), nfc.page_id), ("ok", Some(1_003)));
    for special in ["विशेष:खोज", "Special:Search"] {
        let r = row(special);
        assert_eq!(
            (r.title.as_str(), r.page_status.as_str(), r.namespace),
            ("विशेष:खोज", "special", Some(-1))
        );
    }
    assert_eq!(row("मुखपृष्ठ").page_status.as_str(), "ok");
    assert_eq!(row("Project:चौपाल").namespace, Some(4));
    assert_eq!(row("प्रवेशद्वार:भारत").namespace, Some(100));
    let zh = read_store(&db, "zh.wikipedia", days[0], days[0]);
    let converted = stored(&zh, "電腦_科學");
    assert_eq!(
        (converted.title.as_str(), converted.page_status.as_str()),
        ("电脑 科学", "ok")
    );
}

/// An edge stricter than the one we plan for still costs no day: a 414 splits the batch.
#[test]
fn a_request_refused_as_too_long_is_split_not_failed() {
    let mut config = Config::realistic(5);
    config.max_request_target = 1_200;
    let fake = FakeWiki::start_blocking(config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let out = command(
        &fake,
        &db,
        &["sync", "--since", "2024-05-01", "--until", "2024-05-03"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_store_matches(
        &db,
        &fake,
        "en.wikipedia",
        &days(date(2024, 5, 1), date(2024, 5, 3)),
        100,
    );
    let requests = categories_requests(&fake);
    assert!(
        requests.iter().any(|r| r.status == Some(414)),
        "no 414 was served"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.status == Some(414) || r.path_and_query.len() <= 1_200)
    );
}

/// Under a quota equal to the budget, a backfill meets no 429: requests leave paced.
#[test]
fn pacing_to_the_servers_quota_meets_no_429() {
    let fake = FakeWiki::start_blocking(Config::realistic(8).quota(Quota {
        requests: 5,
        window: Duration::from_secs(1),
    }))
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let started = std::time::Instant::now();
    let out = command(
        &fake,
        &db,
        &["sync", "--since", "2024-05-01", "--until", "2024-05-04"],
    )
    .env("WIKITOP_RATE", "5/1s")
    .output()
    .unwrap();
    let elapsed = started.elapsed();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats = fake.stats();
    assert_eq!(stats.served_429, 0, "{stats:?}");
    assert!(stats.requests > 10, "three windows' worth: {stats:?}");
    // Paced, not bursted: n requests take at least n-1 intervals of 1/5 s.
    let floor = Duration::from_millis(200) * (stats.requests as u32 - 1);
    assert!(elapsed >= floor, "{elapsed:?} < {floor:?}");
    assert_store_matches(
        &db,
        &fake,
        "en.wikipedia",
        &days(date(2024, 5, 1), date(2024, 5, 4)),
        100,
    );
}

/// A 429 without Retry-After holds every request, not just the one that got it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_429_pauses_every_request() {
    let fake = FakeWiki::start(Config::realistic(9)).await.unwrap();
    fake.add_fault(FaultRule::next(Fault::TooManyRequestsBare, 1).on(Endpoint::Top));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let (since, until) = (date(2024, 5, 1), date(2024, 5, 6));
    // One request in flight when the first top list gets the 429: every later request
    // was sent after the client read it.
    let mut s = settings(&fake, &db, since, until);
    s.pageviews_concurrency = 1;
    let report = sync(&s).await.unwrap();
    assert!(report.days_failed.is_empty());
    assert_eq!(report.throttled, 1);
    let log = fake.requests();
    let at = log
        .iter()
        .position(|r| r.status == Some(429))
        .expect("the 429 was served");
    assert_eq!(at, 0, "the first request was throttled");
    // Five backoff steps of the test's 5 ms: no request arrived in the 25 ms after it.
    let pause = Duration::from_millis(25);
    let throttled_at = log[at].received_at;
    assert!(
        log[at + 1..]
            .iter()
            .all(|r| r.received_at >= throttled_at + pause),
        "a request left during the pause"
    );
    assert_store_matches(&db, &fake, "en.wikipedia", &days(since, until), 100);
}

/// An error that retrying cannot change fails its days at once, in MediaWiki's words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_api_error_fails_fast_quoting_mediawiki() {
    let fake = FakeWiki::start(Config::fixture()).await.unwrap();
    fake.add_fault(
        FaultRule::rate(
            Fault::ApiError {
                code: "internal_api_error_InvalidArgumentException",
                info: "[c0ffee] Exception caught: Bad title",
            },
            1.0,
        )
        .on(Endpoint::Categories),
    );
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let day = date(2023, 4, 1);
    let report = sync(&settings(&fake, &db, day, day)).await.unwrap();
    assert_eq!(report.days_failed.len(), 1);
    assert!(
        report.days_failed[0]
            .error
            .contains("[c0ffee] Exception caught: Bad title"),
        "{}",
        report.days_failed[0].error
    );
    assert_eq!(report.http_retries, 0, "a permanent error was retried");
    let batches: BTreeSet<Vec<String>> = categories_requests(&fake)
        .into_iter()
        .map(|r| r.titles)
        .collect();
    assert_eq!(batches.len(), 1);
}
