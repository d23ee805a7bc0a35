//! `sync --rejudge`: judging the stored days again from the store gives exactly what a
//! fresh sync with the same judging settings stores, sends no request, and keeps the served
//! columns; on DuckDB and on BigQuery (the emulator).

use std::path::Path;

use fakewiki::{Config, FakeWiki};
use jiff::civil::{Date, date};
use wikitop::judge::{DenyList, Judging, ShareBounds};
use wikitop::model::{Access, Project};
use wikitop::settings::{BigQuerySettings, StoreSettings};
use wikitop::sinks::schema::TopPageRow;
use wikitop::sinks::{Mode, Sink, Store};

use crate::support::*;

/// Two months: a rewrite that long, a transaction a day, once ran DuckDB's writer out of
/// memory at the automatic checkpoint.
const SINCE: Date = date(2024, 3, 1);
const UNTIL: Date = date(2024, 4, 30);

/// What a row says, served and judged; not when or by which run it was stored.
type Judged = (
    String,
    String,
    u32,
    u64,
    String,
    Option<u64>,
    Option<u64>,
    Option<bool>,
    Option<String>,
    Option<bool>,
    Option<u32>,
    Option<u32>,
);

fn judged(rows: Vec<TopPageRow>) -> Vec<Judged> {
    let mut out: Vec<Judged> = rows
        .into_iter()
        .map(|r| {
            (
                r.date.to_string(),
                r.article,
                r.rank,
                r.views,
                r.title,
                r.desktop_views,
                r.desktop_min_views,
                r.suspect_automated,
                r.suspect_reason,
                r.is_article,
                r.article_rank,
                r.mostread_rank,
            )
        })
        .collect();
    out.sort();
    out
}

async fn rows_of(store: &StoreSettings) -> Vec<TopPageRow> {
    let en: Project = "en.wikipedia".parse().unwrap();
    let mut store = Store::open(store, Mode::Read)
        .await
        .expect("open the store");
    store
        .read_days(&en, Access::AllAccess, SINCE, UNTIL)
        .await
        .expect("read the stored days")
}

/// Judging settings that change every judged column: the day's top two pages on the deny
/// list (one for its traffic, one for its content) and narrower share bounds.
fn stricter(dir: &Path, rows: &[TopPageRow]) -> Judging {
    let top = |n: u32| {
        rows.iter()
            .find(|r| r.article_rank == Some(n) && r.mostread_rank.is_some())
            .map(|r| r.article.clone())
            .unwrap_or_else(|| panic!("a page ranked {n}"))
    };
    let file = dir.join("deny.tsv");
    std::fs::write(
        &file,
        format!(
            "*\t{}\tautomated\tour logs\n*\t{}\teditorial\tour style guide\n",
            top(1),
            top(2)
        ),
    )
    .unwrap();
    Judging {
        bounds: ShareBounds::parse("20-80").unwrap(),
        deny_list: DenyList::load(Some(&file)).unwrap(),
    }
}

/// Syncs the range into `store` with default judging, then checks that `--rejudge` with
/// stricter settings stores what a fresh sync with them stores (into `reference`), with
/// no request, and that rejudging with the defaults gives the first state back.
async fn rejudging_equals_syncing(store: StoreSettings) {
    let fake = FakeWiki::start(Config::realistic(11)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut plain = settings(&fake, &dir.path().join("unused.duckdb"), SINCE, UNTIL);
    plain.store = store.clone();
    sync(&plain).await.expect("first sync");
    let first = rows_of(&store).await;
    assert!(first.iter().any(|r| r.mostread_rank.is_some()));

    let mut strict = plain.clone();
    strict.judging = stricter(dir.path(), &first);
    let reference = dir.path().join("reference.duckdb");
    strict.store = StoreSettings::DuckDb {
        path: reference.clone(),
    };
    sync(&strict).await.expect("reference sync");
    let want = judged(rows_of(&strict.store).await);

    let requests = fake.requests().len();
    strict.store = store.clone();
    strict.rejudge = true;
    let report = sync(&strict).await.expect("rejudge");
    assert_eq!(fake.requests().len(), requests, "rejudging sent a request");
    assert_eq!(report.http_requests, 0);
    assert_eq!(report.days_written, 61);
    let got = rows_of(&store).await;
    assert_ne!(
        judged(got.clone()),
        judged(first.clone()),
        "nothing changed"
    );
    assert_eq!(judged(got.clone()), want);
    // The rows keep the run and the time that fetched them.
    let provenance = |rows: &[TopPageRow]| -> Vec<(String, String, i64)> {
        let mut p: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.article.clone(),
                    r.run_id.clone(),
                    r.ingested_at.as_microsecond(),
                )
            })
            .collect();
        p.sort();
        p
    };
    assert_eq!(provenance(&got), provenance(&first));

    plain.rejudge = true;
    sync(&plain).await.expect("rejudge with the defaults");
    assert_eq!(judged(rows_of(&store).await), judged(first));
    assert_eq!(fake.requests().len(), requests, "rejudging sent a request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejudging_a_duckdb_store_equals_syncing_it_with_the_same_judging() {
    let dir = tempfile::tempdir().unwrap();
    rejudging_equals_syncing(StoreSettings::DuckDb {
        path: dir.path().join("w.duckdb"),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejudging_a_bigquery_dataset_equals_syncing_it_with_the_same_judging() {
    let (endpoint, dataset) = emulator_dataset("rejudge");
    let bigquery = BigQuerySettings::new(&dataset, None, Some(&endpoint)).expect("dataset");
    rejudging_equals_syncing(StoreSettings::BigQuery(bigquery)).await;
}
