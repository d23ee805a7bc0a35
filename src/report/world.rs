//! "What the world read": the report's first page when the store holds several wikis,
//! read from the view `world_top` (one row per day and Wikidata item over every wiki):
//! the range's top topics with their title on each wiki and their views day by day, and
//! each day's world #1. Also [`world_top`], the view's rows for other Rust code.

use crate::error::Result;
use crate::model::{Access, Day};
use crate::settings::StoreSettings;
use crate::sinks::read::{Param, ReadStore, fetch, record};
use crate::sinks::schema::{TOP_PAGES, WORLD_TOP};
use crate::sinks::{Mode, Store};

/// How many topics "What the world read" lists.
pub(crate) const TOP_TOPICS: usize = 15;

record! {
    /// One row of `world_top`: a day's topic across the wikis, its titles in the order
    /// of its views on each wiki.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WorldRow {
        pub day: Day,
        pub wikidata_id: String,
        pub world_rank: u64,
        pub views: u64,
        pub wikis: u64,
        pub projects: Vec<String>,
        pub titles: Vec<String>,
    }
}

record! {
    /// A topic over the range: its views and days, the most wikis it reached on a day,
    /// and its titles on the day it reached them (the latest such day).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct WorldTopic {
        pub wikidata_id: String,
        pub views: u64,
        pub days: u64,
        pub wikis: u64,
        pub projects: Vec<String>,
        pub titles: Vec<String>,
    }
}

record! {
    /// A top topic's views on one day.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct TopicDay {
        wikidata_id: String,
        day: Day,
        views: u64,
    }
}

record! {
    /// A wiki the range holds rows of.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Wiki {
        project: String,
    }
}

/// The page's figures: only when the range holds more than one wiki.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct World {
    /// The wikis of the range, by name.
    pub wikis: Vec<String>,
    /// The range's top topics, most viewed first, each with its views on every day of the
    /// range (0 where it was not in `world_top`).
    pub topics: Vec<(WorldTopic, Vec<u64>)>,
    /// Each day's world #1 (ties: every topic ranked 1).
    pub number_one: Vec<WorldRow>,
}

/// Every row of `world_top` for `access` and the days of `[since, until]` with
/// `world_rank <= max_rank`, in (day, rank, item) order; the store is opened read-only.
pub async fn world_top(
    store: &StoreSettings,
    access: Access,
    since: Day,
    until: Day,
    max_rank: u32,
) -> Result<Vec<WorldRow>> {
    let mut store = Store::open(store, Mode::Analysis).await?;
    rows(&mut store, access, since, until, max_rank).await
}

fn params(access: Access, since: Day, until: Day) -> Vec<(&'static str, Param)> {
    vec![
        ("access", Param::String(access.as_str().to_owned())),
        ("since", Param::Date(since)),
        ("until", Param::Date(until)),
    ]
}

/// The rows of the range, of the table or view named `t` (or unnamed with `""`).
fn range(t: &str) -> String {
    format!("{t}access = @access AND {t}date BETWEEN @since AND @until")
}

async fn rows<S: ReadStore>(
    store: &mut S,
    access: Access,
    since: Day,
    until: Day,
    max_rank: u32,
) -> Result<Vec<WorldRow>> {
    let sql = format!(
        "SELECT date AS day, wikidata_id, world_rank, views, wikis, projects, titles FROM {} \
         WHERE {} AND world_rank <= {max_rank} ORDER BY day, world_rank, wikidata_id",
        store.table(WORLD_TOP.name),
        range("")
    );
    let params = params(access, since, until);
    fetch(store, "reading world_top", &sql, &params).await
}

/// The figures of "What the world read", or `None` when the range holds one wiki.
pub(crate) async fn read<S: ReadStore>(
    store: &mut S,
    access: Access,
    since: Day,
    until: Day,
) -> Result<Option<World>> {
    let params = params(access, since, until);
    let all = range("");
    let sql = format!(
        "SELECT DISTINCT project FROM {} WHERE {all} ORDER BY project",
        store.table(TOP_PAGES.name)
    );
    let wikis: Vec<Wiki> = fetch(store, "listing the wikis", &sql, &params).await?;
    if wikis.len() < 2 {
        return Ok(None);
    }
    let world = store.table(WORLD_TOP.name);
    let top = format!(
        "SELECT wikidata_id, CAST(SUM(views) AS BIGINT) AS views, COUNT(*) AS days, \
         MAX(wikis) AS wikis FROM {world} WHERE {all} GROUP BY wikidata_id \
         ORDER BY views DESC, wikidata_id LIMIT {TOP_TOPICS}"
    );
    let sql = format!(
        "WITH top AS ({top}), named AS (SELECT wikidata_id, projects, titles, ROW_NUMBER() \
         OVER (PARTITION BY wikidata_id ORDER BY wikis DESC, date DESC) AS n FROM {world} \
         WHERE {all}) SELECT top.wikidata_id, top.views, top.days, top.wikis, \
         named.projects, named.titles FROM top JOIN named ON named.wikidata_id = \
         top.wikidata_id AND named.n = 1 ORDER BY top.views DESC, top.wikidata_id"
    );
    let topics: Vec<WorldTopic> =
        fetch(store, "finding the world's top topics", &sql, &params).await?;
    let sql = format!(
        "WITH top AS ({top}) SELECT w.wikidata_id, w.date AS day, w.views FROM {world} AS w \
         JOIN top ON w.wikidata_id = top.wikidata_id WHERE {} ORDER BY day",
        range("w.")
    );
    let daily: Vec<TopicDay> =
        fetch(store, "following the world's top topics", &sql, &params).await?;
    Ok(Some(World {
        wikis: wikis.into_iter().map(|w| w.project).collect(),
        topics: topics
            .into_iter()
            .map(|t| {
                let line = day_line(&daily, &t.wikidata_id, since, until);
                (t, line)
            })
            .collect(),
        number_one: rows(store, access, since, until, 1).await?,
    }))
}

/// A topic's views on every day of `[since, until]`, 0 where it has none.
fn day_line(daily: &[TopicDay], item: &str, since: Day, until: Day) -> Vec<u64> {
    let views: std::collections::HashMap<Day, u64> = daily
        .iter()
        .filter(|d| d.wikidata_id == item)
        .map(|d| (d.day, d.views))
        .collect();
    let mut line = Vec::new();
    let mut day = since;
    while day <= until {
        line.push(views.get(&day).copied().unwrap_or(0));
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    line
}
