//! Where days are stored. The pipeline talks to one `Sink` and never knows which:
//! DuckDB (embedded default) or BigQuery (production). Sinks know SQL, nothing of HTTP.
//!
//! Contract every implementation keeps (checked by `tests/it/contract.rs` against both):
//! - `open` creates missing objects and refuses an existing table whose schema differs;
//! - `write_days` stores each given day all-or-nothing, replacing any rows the store
//!   already had for that (date, project, access): a rerun never duplicates a row;
//! - `stored_days` is cheap (one query on the partition column), never a full scan;
//! - `batching` declares how finished days are grouped into `write_days` calls, and
//!   the pipeline's writer is the one place that obeys it.

pub mod bigquery;
#[cfg(test)]
mod docs;
pub mod duckdb;
pub mod read;
pub mod schema;
mod store;

pub use self::store::Store;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::error::Result;
use crate::model::{Access, Day, DayBatch, Project, RunRecord};

use self::schema::TopPageRow;

/// How a command opens a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `sync`: create what is missing, migrate an older store, take the write lock.
    Write,
    /// `sync --rejudge`: as `Write`, for rewriting whole ranges of stored days, with
    /// memory sized for that rather than for a backfill's steady trickle.
    Rewrite,
    /// `sync --dry-run`: plan against the store without changing a DuckDB file (one
    /// that does not exist yet is planned against as empty, in memory).
    DryRun,
    /// `status`: read the store as it is; create and migrate nothing.
    Read,
    /// `report` and `export`: read as it is, with memory sized for whole-range queries.
    Analysis,
}

/// Days stored for one (project, access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDays {
    pub project: Project,
    pub access: Access,
    pub days: BTreeSet<Day>,
    /// Those of `days` stored before schema version 3, whose derived columns
    /// (`is_article`, `suspect_automated`, …) stay NULL until `sync --force` fetches
    /// them again.
    pub unassessed: BTreeSet<Day>,
    /// Those of `days` judged before schema version 4, whose `mostread_rank` stays NULL
    /// until `sync --rejudge` computes it from the store.
    pub unranked: BTreeSet<Day>,
}

/// One (project, access)'s days as a sink collects them row by row.
#[derive(Default)]
pub(crate) struct StoredDaysOf {
    pub(crate) days: BTreeSet<Day>,
    pub(crate) unassessed: BTreeSet<Day>,
    pub(crate) unranked: BTreeSet<Day>,
}

impl StoredDaysOf {
    /// A stored day: `assessed` when every row is judged, `ranked` when a row has a
    /// `mostread_rank`.
    pub(crate) fn add(&mut self, day: Day, assessed: bool, ranked: bool) {
        self.days.insert(day);
        if !assessed {
            self.unassessed.insert(day);
        } else if !ranked {
            self.unranked.insert(day);
        }
    }

    /// The days of `project`/`access`; a wiki without a "Top read" feed has no ranked day
    /// to miss.
    pub(crate) fn finish(mut self, project: Project, access: Access) -> StoredDays {
        if !crate::judge::mostread::has_feed(&project) {
            self.unranked.clear();
        }
        StoredDays {
            project,
            access,
            days: self.days,
            unassessed: self.unassessed,
            unranked: self.unranked,
        }
    }
}

/// The column whose NULL marks a row stored before wikitop judged rows.
pub(crate) const ASSESSED_COLUMN: &str = "is_article";
/// The column no row of a day judged before schema version 4 has: every judged day of a
/// wiki with a "Top read" feed has some row in that list (50 served entries all
/// excluded by its rules is not a day seen on any wiki).
pub(crate) const RANKED_COLUMN: &str = "mostread_rank";

/// How a sink wants finished days grouped into `write_days` calls: the sink declares
/// it, the pipeline's writer obeys it. A sink may still split one call's days further
/// (BigQuery splits by request size, by whole days), never merge calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Batching {
    /// The most finished days in one `write_days` call (at least 1).
    pub max_days: usize,
    /// Write a finished day as soon as it is ready (DuckDB: cheap commits) rather than
    /// waiting for `max_days` days (BigQuery: one job per chunk).
    pub flush_partial: bool,
    /// A partial batch is written once its first day has waited this long, so a slow
    /// (throttled) backfill into a chunking sink still commits regularly and a kill
    /// loses little.
    pub max_age: Duration,
}

impl Batching {
    /// A chunking sink (BigQuery) gets what is ready at least this often.
    pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);
}

#[allow(async_fn_in_trait)] // used generically inside the crate, never as `dyn`
pub trait Sink {
    /// Days of `[from, to]` already stored for `project`/`access`.
    async fn stored_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<BTreeSet<Day>>;

    /// How the pipeline groups finished days into `write_days` calls.
    fn batching(&self) -> Batching;

    /// The stored rows of `[from, to]` for `project`/`access`, in (date, rank, article)
    /// order: what `sync --rejudge` judges again.
    async fn read_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<Vec<TopPageRow>>;

    /// Stores each day atomically, replacing whatever the store had for it.
    /// A sink may commit the days one by one or as one chunk; on error, no day
    /// of the failing transaction is left half-written.
    async fn write_days(&mut self, days: &[DayBatch]) -> Result<()>;

    /// Inserts or updates the run's row in `ingest_runs`.
    async fn record_run(&mut self, run: &RunRecord) -> Result<()>;

    /// Every stored day, grouped by (project, access), for `status`.
    async fn all_stored_days(&mut self) -> Result<Vec<StoredDays>>;

    /// The latest runs, newest first.
    async fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRecord>>;
}
