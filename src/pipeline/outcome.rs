//! What a run tells its caller: the `Progress` it calls while it works, the
//! `RunOutcome` it returns, and the `DryRun` plan. Plain types at the bottom of the
//! pipeline, so every stage can fill them without importing the stage that runs it;
//! they know nothing of HTTP or of any store.

use std::time::Duration;

use jiff::Timestamp;

use crate::http::WaitObserver;
use crate::model::{Day, Project, RunStatus};

/// What the library tells its caller while it works; the CLI draws progress with it.
pub trait Progress: WaitObserver {
    fn planned(&self, _project: &Project, _days: usize) {}
    fn day_written(&self, _project: &Project, _day: Day, _rows: usize) {}
    fn day_failed(&self, _project: &Project, _day: Day, _error: &str) {}
    fn not_published(&self, _project: &Project, _day: Day) {}
}

/// A progress that says nothing (logs still go through `tracing`).
pub struct Silent;
impl WaitObserver for Silent {
    fn throttled(&self, _until: Timestamp, _reason: &str) {}
}
impl Progress for Silent {}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedDay {
    pub project: Project,
    pub day: Day,
    pub error: String,
}

/// What a run did, for the caller and for `ingest_runs`.
#[derive(Debug, Clone, Default)]
pub struct RunOutcome {
    pub run_id: String,
    pub days_planned: u64,
    pub days_written: u64,
    /// Already stored, so not fetched.
    pub days_skipped: u64,
    pub days_failed: Vec<FailedDay>,
    pub rows_written: u64,
    pub http_requests: u64,
    pub top_requests: u64,
    pub category_requests: u64,
    pub http_retries: u64,
    pub throttled: u64,
    /// Per project, the first day the API has not published yet.
    pub not_published: Vec<(Project, Day)>,
    /// `--rejudge`: stored days it left as they were, stored before rows were judged.
    pub not_rejudged: Vec<(Project, Day)>,
    /// Filled by `--dry-run` instead of fetching.
    pub dry_run: Option<DryRun>,
    /// What each project of the run stored, in the order they ran.
    pub projects: Vec<ProjectTally>,
}

/// One project's share of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTally {
    pub project: Project,
    pub days_written: u64,
    pub rows_written: u64,
    /// Rows flagged `suspect_automated`.
    pub suspect_rows: u64,
    /// HTTP requests sent for this project, retries included.
    pub requests: u64,
}

impl ProjectTally {
    pub(super) fn add(&mut self, rows: usize, suspect: usize) {
        self.days_written += 1;
        self.rows_written += rows as u64;
        self.suspect_rows += suspect as u64;
    }
}

impl RunOutcome {
    /// The tally of `project`, started when its first day is stored.
    pub(super) fn tally(&mut self, project: &Project) -> &mut ProjectTally {
        let i = match self.projects.iter().position(|t| &t.project == project) {
            Some(i) => i,
            None => {
                self.projects.push(ProjectTally {
                    project: project.clone(),
                    days_written: 0,
                    rows_written: 0,
                    suspect_rows: 0,
                    requests: 0,
                });
                self.projects.len() - 1
            }
        };
        &mut self.projects[i]
    }

    pub fn status(&self) -> RunStatus {
        match (self.days_failed.is_empty(), self.days_written) {
            (true, _) => RunStatus::Ok,
            (false, 0) => RunStatus::Failed,
            (false, _) => RunStatus::Partial,
        }
    }
}

/// The plan `--dry-run` prints: the days every shard of the job would fetch (all of
/// them when the run is not sharded), what they cost, and each shard's share.
#[derive(Debug, Clone, Default)]
pub struct DryRun {
    pub days: Vec<(Project, Vec<Day>)>,
    pub estimated_requests: u64,
    /// At the run's request budget (`--rate`, each shard at its share): the longest
    /// shard's time, which is the job's when its shards run at once.
    pub estimated_time: Duration,
    /// What storing those days costs in BigQuery.
    pub bigquery: BigQueryCost,
    /// Whether the shards take whole wikis (else every n-th day of each wiki).
    pub by_wiki: bool,
    /// One line per shard of the run (one when it is not sharded).
    pub shards: Vec<ShardShare>,
}

/// What the planned days cost in BigQuery, estimated from the rules its pricing page
/// states (see `plan::BigQueryPrices`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BigQueryCost {
    /// `--top` rows a wiki and day (ties add a few).
    pub rows: u64,
    /// Their logical size, as BigQuery bills storage.
    pub bytes: u64,
    /// Storage a month while the partitions are active, in US dollars.
    pub storage_dollars_month: f64,
    /// The same once they are long-term (untouched for 90 days).
    pub long_term_dollars_month: f64,
    /// MERGE jobs (one per chunk of up to 30 days of a wiki) and store queries.
    pub jobs: u64,
    /// Bytes those jobs bill on demand (at least 10 MB each).
    pub billed_bytes: u64,
    /// On-demand dollars for them, before the monthly free TiB.
    pub query_dollars: f64,
}

/// One shard's part of a dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardShare {
    pub index: u32,
    pub count: u32,
    pub wikis: usize,
    /// Wiki-days: one day of one wiki.
    pub days: u64,
    pub requests: u64,
    /// At the shard's share of the budget.
    pub time: Duration,
}

/// A new run id: sortable by start time, unique across machines in practice.
pub(crate) fn new_run_id(started: Timestamp) -> String {
    format!(
        "{}-{:08x}",
        started.strftime("%Y%m%dT%H%M%SZ"),
        fastrand::u32(..)
    )
}
