//! What the world read: three wikis (two non-Latin) sharing Wikidata items, synced from
//! the fake, give a `world_top` equal to a computation made here from what the fake
//! served, on DuckDB and on BigQuery (the emulator); the report's first page reads it.

use std::collections::BTreeMap;

use fakewiki::{Config, ExpectedRow, FakeWiki};
use jiff::civil::{Date, date};
use wikitop::model::Access;
use wikitop::report::{ReportSettings, WorldRow, world_top};
use wikitop::settings::{BigQuerySettings, StoreSettings};

use crate::support::*;

const WIKIS: [&str; 3] = ["en.wikipedia", "hi.wikipedia", "zh.wikipedia"];
const SINCE: Date = date(2023, 4, 1);
const UNTIL: Date = date(2023, 4, 4);

/// `world_top` computed from the served lists: per day and item, the rows that are
/// articles and not suspect, summed per wiki and then over the wikis, ranked like SQL
/// `rank()`; each wiki's title in the order of its views.
fn expected_world(fake: &FakeWiki) -> Vec<WorldRow> {
    let mut out = Vec::new();
    for day in days(SINCE, UNTIL) {
        // item -> project -> (views, title)
        let mut items: BTreeMap<String, BTreeMap<&str, (u64, String)>> = BTreeMap::new();
        for project in WIKIS {
            let rows = fake.expected_day(project, "all-access", day, 100).unwrap();
            for r in rows.iter().filter(|r| counts(project, r)) {
                let item = r.wikidata_id.clone().unwrap();
                let wiki = items.entry(item).or_default().entry(project).or_default();
                wiki.0 += r.views;
                wiki.1 = r.title.clone();
            }
        }
        let mut rows: Vec<WorldRow> = items
            .into_iter()
            .map(|(item, wikis)| {
                let mut by_views: Vec<(&str, (u64, String))> = wikis.into_iter().collect();
                by_views.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
                WorldRow {
                    day,
                    wikidata_id: item,
                    world_rank: 0,
                    views: by_views.iter().map(|w| w.1.0).sum(),
                    wikis: by_views.len() as u64,
                    projects: by_views.iter().map(|w| w.0.to_owned()).collect(),
                    titles: by_views.into_iter().map(|w| w.1.1).collect(),
                }
            })
            .collect();
        let all: Vec<u64> = rows.iter().map(|r| r.views).collect();
        for r in &mut rows {
            r.world_rank = 1 + all.iter().filter(|&&v| v > r.views).count() as u64;
        }
        rows.sort_by(|a, b| (a.world_rank, &a.wikidata_id).cmp(&(b.world_rank, &b.wikidata_id)));
        out.extend(rows);
    }
    out
}

fn counts(project: &str, r: &ExpectedRow) -> bool {
    r.wikidata_id.is_some() && r.is_article && !expected_suspect(project, r)
}

async fn the_world_is_what_the_wikis_served(store: StoreSettings) {
    let fake = FakeWiki::start(Config::intl()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(&fake, &dir.path().join("unused.duckdb"), SINCE, UNTIL);
    settings.store = store.clone();
    settings.projects = WIKIS.iter().map(|w| w.parse().unwrap()).collect();
    sync(&settings).await.expect("sync");

    let want = expected_world(&fake);
    // The data must exercise what the view does: a topic on all three wikis, one
    // reached through redirects, one counted twice on a wiki (two spellings).
    assert!(want.iter().any(|r| r.wikis == 3), "{want:#?}");
    let got = world_top(&store, Access::AllAccess, SINCE, UNTIL, u32::MAX)
        .await
        .expect("world_top read");
    assert_eq!(got, want);
    let india = got.iter().find(|r| r.wikidata_id == "Q668").unwrap();
    assert_eq!(india.titles, ["India", "भारत", "印度"]);

    let report = wikitop::report::build(&ReportSettings {
        since: Some(SINCE),
        until: UNTIL,
        project: "hi.wikipedia".parse().unwrap(),
        access: Access::AllAccess,
        out: dir.path().join("report.html"),
        all_rows: false,
        store: store.clone(),
        today: UNTIL.tomorrow().unwrap(),
    })
    .await
    .expect("report");
    let world = report
        .world
        .expect("a store of three wikis has a world page");
    assert_eq!(world.wikis, WIKIS);
    let ones: Vec<&WorldRow> = want.iter().filter(|r| r.world_rank == 1).collect();
    assert_eq!(world.number_one.iter().collect::<Vec<_>>(), ones);
    let top = &world.topics[0].0;
    let total = |item: &str| {
        want.iter()
            .filter(|r| r.wikidata_id == item)
            .map(|r| r.views)
            .sum::<u64>()
    };
    assert_eq!(top.views, total(&top.wikidata_id));
    assert!(world.topics.iter().all(|(t, _)| t.views <= top.views));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_top_on_duckdb_equals_the_served_lists_summed_by_item() {
    let dir = tempfile::tempdir().unwrap();
    the_world_is_what_the_wikis_served(StoreSettings::DuckDb {
        path: dir.path().join("w.duckdb"),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn world_top_on_bigquery_equals_the_served_lists_summed_by_item() {
    let (endpoint, dataset) = emulator_dataset("world");
    let bigquery = BigQuerySettings::new(&dataset, None, Some(&endpoint)).expect("dataset");
    the_world_is_what_the_wikis_served(StoreSettings::BigQuery(bigquery)).await;
}
