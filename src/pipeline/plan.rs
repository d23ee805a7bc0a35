//! The planner: which days a run fetches. For each project, the days of
//! `[since, last]` that the shard owns and (unless forced) the store lacks, and the
//! estimates `--dry-run` prints (requests, time, BigQuery rows, bytes and dollars, each
//! shard's share). It asks the sink one question per project it plans and sends no
//! request; fetching is the other stages' job.

use crate::error::Result;
use crate::model::{Day, Project};
use crate::settings::{Settings, Shard};
use crate::sinks::Sink;
use crate::sinks::bigquery::BigQuerySink;
use crate::sources::categories::MAX_TITLES_PER_REQUEST;

use super::outcome::{BigQueryCost, DryRun, RunOutcome, ShardShare};

/// Expected category rounds per 50-title batch (500 category rows per response,
/// ~20 categories a page), for `--dry-run` estimates.
const ROUNDS_PER_BATCH: f64 = 2.5;
/// Share of a day's top list that was not in the list of any earlier day.
const NEW_TITLE_SHARE: f64 = 0.4;

/// The days to fetch for each project, in the settings' project order.
pub(super) type Plans = Vec<(Project, Vec<Day>)>;

/// Decides the days of a run from the settings and what the store already has.
pub(super) struct Planner<'a> {
    settings: &'a Settings,
}

impl<'a> Planner<'a> {
    pub(super) fn new(settings: &'a Settings) -> Self {
        Planner { settings }
    }

    /// Every project's days, counting the planned and the skipped ones into `outcome`.
    /// A dry run plans every shard's days, so it can show how the shards split them.
    pub(super) async fn plan<S: Sink>(
        &self,
        sink: &mut S,
        outcome: &mut RunOutcome,
    ) -> Result<Plans> {
        let shard = if self.settings.dry_run {
            Shard::ALL
        } else {
            self.settings.shard
        };
        let wikis = self.settings.projects.len();
        let mut plans = Vec::new();
        for (position, project) in self.settings.projects.iter().enumerate() {
            let owns = |day| shard.owns(position, wikis, day);
            let (days, skipped) = self.plan_project(sink, project, owns).await?;
            outcome.days_skipped += skipped;
            outcome.days_planned += days.len() as u64;
            plans.push((project.clone(), days));
        }
        Ok(plans)
    }

    /// What `--dry-run` prints instead of fetching: the whole job's days, and each of
    /// the run's shards' share of them at its share of the budget.
    pub(super) fn dry_run(&self, plans: Plans) -> DryRun {
        let settings = self.settings;
        let count = settings.shard.count;
        let shards: Vec<ShardShare> = (0..count)
            .map(|index| self.shard_share(&plans, Shard { index, count }))
            .collect();
        DryRun {
            estimated_time: shards.iter().map(|s| s.time).max().unwrap_or_default(),
            estimated_requests: shards.iter().map(|s| s.requests).sum(),
            bigquery: bigquery_cost(&plans, settings.top),
            by_wiki: settings.shard.by_wiki(plans.len()),
            shards,
            days: plans,
        }
    }

    /// The wikis, wiki-days and requests one shard takes of the planned days.
    fn shard_share(&self, plans: &Plans, shard: Shard) -> ShardShare {
        let settings = self.settings;
        let (mut wikis, mut days, mut requests) = (0, 0, 0);
        for (position, (_, planned)) in plans.iter().enumerate() {
            let owned = planned
                .iter()
                .filter(|d| shard.owns(position, plans.len(), **d))
                .count() as u64;
            wikis += usize::from(owned > 0);
            days += owned;
            requests += estimate_requests(owned, settings.top, settings.desktop);
        }
        ShardShare {
            index: shard.index,
            count: shard.count,
            wikis,
            days,
            requests,
            // `settings.http.rate` is already this shard's share of the budget.
            time: settings.http.rate.time_for(requests),
        }
    }

    /// Days in `[since, last]` that `owns` and (unless forced) not yet stored, and how
    /// many were skipped as stored. A project none of whose days are owned costs no
    /// store query.
    async fn plan_project<S: Sink>(
        &self,
        sink: &mut S,
        project: &Project,
        owns: impl Fn(Day) -> bool,
    ) -> Result<(Vec<Day>, u64)> {
        let settings = self.settings;
        let last = settings.last_day();
        let mut owned = Vec::new();
        let mut day = settings.since;
        while day <= last {
            if owns(day) {
                owned.push(day);
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        if owned.is_empty() || settings.force {
            return Ok((owned, 0));
        }
        let stored = sink
            .stored_days(project, settings.access, settings.since, last)
            .await?;
        let (skipped, days): (Vec<Day>, Vec<Day>) =
            owned.into_iter().partition(|d| stored.contains(d));
        Ok((days, skipped.len() as u64))
    }
}

/// BigQuery's prices and billing rules as its pricing page states them
/// (<https://cloud.google.com/bigquery/pricing>, read 2026-12-03; US multi-region,
/// on-demand compute, logical storage).
struct BigQueryPrices;

impl BigQueryPrices {
    /// On-demand queries (DML included): dollars per TiB processed; the first TiB of a
    /// month is free.
    const QUERY_PER_TIB: f64 = 6.25;
    /// Active logical storage, dollars per GiB a month (the first 10 GiB are free).
    const ACTIVE_PER_GIB_MONTH: f64 = 0.02;
    /// Long-term logical storage: a partition untouched for 90 days.
    const LONG_TERM_PER_GIB_MONTH: f64 = 0.01;
    /// A query is billed at least 10 MB for each table it references.
    const MIN_BILLED_BYTES: u64 = 10 * 1024 * 1024;
}

/// Logical bytes of a stored `top_pages` row by BigQuery's data-size rules (a STRING is
/// 2 bytes plus its UTF-8, INT64, FLOAT64, DATE and TIMESTAMP 8, BOOL 1): 13 fixed-size
/// columns (~100 bytes), 7 short strings (~110) and ~20 category names of ~30 bytes in
/// the two lists (~640), the mix the fake serves (calibrated on English Wikipedia);
/// rounded up to 1,000.
const BYTES_PER_ROW: u64 = 1_000;

/// Rows, bytes and dollars of storing `plans` in BigQuery: storage by the month, and the
/// jobs that write it: one MERGE per chunk of up to 30 days of a wiki (the sink's
/// batching), which reads the chunk's partitions of that wiki, plus one query per wiki
/// for its stored days; each billed at least 10 MB.
fn bigquery_cost(plans: &Plans, top: u32) -> BigQueryCost {
    let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
    let (mut rows, mut jobs, mut billed) = (0, 0, 0);
    for (_, days) in plans.iter().filter(|(_, days)| !days.is_empty()) {
        let wiki_rows = days.len() as u64 * u64::from(top);
        rows += wiki_rows;
        let chunks = days.len().div_ceil(BigQuerySink::MAX_DAYS_PER_WRITE) as u64;
        // Each MERGE reads its chunk's rows (source and the target partitions it
        // replaces): twice the chunk's bytes, at least the minimum.
        let per_chunk = 2 * wiki_rows * BYTES_PER_ROW / chunks;
        jobs += chunks + 1;
        billed += chunks * per_chunk.max(BigQueryPrices::MIN_BILLED_BYTES)
            + BigQueryPrices::MIN_BILLED_BYTES;
    }
    let bytes = rows * BYTES_PER_ROW;
    BigQueryCost {
        rows,
        bytes,
        storage_dollars_month: gib(bytes) * BigQueryPrices::ACTIVE_PER_GIB_MONTH,
        long_term_dollars_month: gib(bytes) * BigQueryPrices::LONG_TERM_PER_GIB_MONTH,
        jobs,
        billed_bytes: billed,
        query_dollars: gib(billed) / 1024.0 * BigQueryPrices::QUERY_PER_TIB,
    }
}

/// Requests a run of `days` days would send with `top` articles a day: a top list a
/// day, and a desktop list a day when `desktop`, plus the categories batches.
pub(crate) fn estimate_requests(days: u64, top: u32, desktop: bool) -> u64 {
    if days == 0 {
        return 0;
    }
    let titles = top as f64 * (1.0 + (days - 1) as f64 * NEW_TITLE_SHARE);
    let batches = (titles / MAX_TITLES_PER_REQUEST as f64).ceil();
    let lists = if desktop { 2 * days } else { days };
    lists + (batches * ROUNDS_PER_BATCH).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plans(wikis: usize, days: u32) -> Plans {
        let first = jiff::civil::date(2024, 1, 1);
        (0..wikis)
            .map(|i| {
                let days = (0..days)
                    .map(|d| first.checked_add(jiff::Span::new().days(d)).unwrap())
                    .collect();
                (format!("w{i:02}.wikipedia").parse().unwrap(), days)
            })
            .collect()
    }

    #[test]
    fn bigquery_cost_counts_rows_chunks_and_the_minimum_billing() {
        let cost = bigquery_cost(&plans(2, 60), 100);
        assert_eq!(cost.rows, 2 * 60 * 100);
        assert_eq!(cost.bytes, cost.rows * BYTES_PER_ROW);
        // Two 30-day MERGE jobs and one stored-days query a wiki, each under 10 MB.
        assert_eq!(cost.jobs, 2 * 3);
        assert_eq!(cost.billed_bytes, 6 * BigQueryPrices::MIN_BILLED_BYTES);
        assert!(cost.query_dollars > 0.0 && cost.storage_dollars_month > 0.0);
        assert_eq!(bigquery_cost(&plans(3, 0), 100), BigQueryCost::default());
    }
}
