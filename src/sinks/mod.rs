//! Where days are stored. The pipeline talks to one `Sink` and never knows which:
//! DuckDB (embedded default) or BigQuery (production). Sinks know SQL, nothing of HTTP.
//!
//! Contract every implementation keeps (checked by `tests/it/contract.rs` against both):
//! - `open` creates missing objects and refuses an existing table whose schema differs;
//! - `write_days` stores each given day all-or-nothing, replacing any rows the store
//!   already had for that (date, project, access): a rerun never duplicates a row;
//! - `stored_days` is cheap (one query on the partition column), never a full scan.

pub mod bigquery;
pub mod duckdb;

use std::collections::BTreeSet;

use crate::error::Result;
use crate::model::{Access, Day, DayBatch, Project, RunRecord};

/// Days stored for one (project, access).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDays {
    pub project: Project,
    pub access: Access,
    pub days: BTreeSet<Day>,
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

    /// How many finished days the pipeline may hand to one `write_days` call.
    fn max_days_per_write(&self) -> usize {
        1
    }

    /// Whether to write a finished day as soon as it is ready (DuckDB: cheap commits)
    /// rather than waiting for `max_days_per_write` days (BigQuery: one job per chunk).
    fn flush_partial(&self) -> bool {
        true
    }

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
