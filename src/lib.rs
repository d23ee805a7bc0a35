//! wikitop: a daily record of what the world reads on Wikipedia.
//!
//! Data flows one way. `sources` read the Pageviews API (the day's ranked top list)
//! and the MediaWiki Action API (each page's categories, 50 titles a request);
//! `pipeline` plans the days the store lacks, fetches them with bounded concurrency,
//! deduplicates titles across the run and assembles whole days; `sinks` store each
//! day atomically in DuckDB (embedded default) or BigQuery (production). `settings`
//! validates every option before any I/O; `http` holds the politeness policy.
//! `report` and `export` read a store back (read-only) for people and other tools.
//!
//! ```no_run
//! # async fn demo() -> wikitop::Result<()> {
//! use std::sync::Arc;
//! let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
//! let settings = wikitop::Settings::resolve(wikitop::SyncInput::default(), today)?;
//! let outcome = wikitop::sync(&settings, Arc::new(wikitop::Silent)).await?;
//! println!("{} days written", outcome.days_written);
//! # Ok(()) }
//! ```

pub mod error;
pub mod export;
mod http;
pub mod judge;
pub mod model;
mod pace;
mod pipeline;
pub mod report;
pub mod schedule;
pub mod settings;
pub mod sinks;
mod sources;
pub mod status;

use std::sync::Arc;

pub use error::{Error, Result};
pub use http::{HttpPolicy, Rate, WaitObserver};
pub use pipeline::{
    BigQueryCost, DryRun, FailedDay, Progress, ProjectTally, RunOutcome, ShardShare, Silent,
};
pub use settings::{BigQuerySettings, Settings, StoreInput, StoreSettings, SyncInput};
pub use status::{StatusReport, status};

use sinks::{Mode, Store};

/// The last line of every run that opened its store, with its `status` (`ok`, `partial`
/// or `failed`): the deployment's log-based metric and alerts count it
/// (`run_finished_message` in `deploy/terraform/monitoring.tf`). A store that cannot be
/// opened ends the process with one sentence and a non-zero exit, which the deployment
/// sees as a failed execution.
pub const RUN_FINISHED: &str = "Run finished.";

/// Makes the store complete for the settings' range: fetches and stores every day it
/// lacks (all days with `force`; with `rejudge`, judges the stored days again and
/// fetches nothing), and records the run in `ingest_runs`. Ends by logging
/// [`RUN_FINISHED`] once the store is open, except for a dry run.
pub async fn sync(settings: &Settings, progress: Arc<dyn Progress>) -> Result<RunOutcome> {
    // A dry run changes nothing: it reads the store as it is (no migration, no ledger).
    let mode = if settings.dry_run {
        Mode::DryRun
    } else if settings.rejudge || settings.fill_wikidata {
        Mode::Rewrite
    } else {
        Mode::Write
    };
    let mut store = Store::open(&settings.store, mode).await?;
    // Boxed: the pipeline's future is large, and callers (tests, the scheduler) may poll
    // it on a thread with a small stack.
    let result = Box::pin(pipeline::run(settings, &mut store, progress)).await;
    if !settings.dry_run {
        log_finished(&result);
    }
    result
}

/// Logs [`RUN_FINISHED`] with the run's status and counts, at the level its status
/// calls for.
fn log_finished(result: &Result<RunOutcome>) {
    let o = match result {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(status = "failed", error = %e, "{RUN_FINISHED}");
            return;
        }
    };
    let status = o.status().as_str();
    let (planned, written, failed) = (o.days_planned, o.days_written, o.days_failed.len());
    macro_rules! finished {
        ($level:ident) => {
            tracing::$level!(status, run_id = %o.run_id, days_planned = planned,
                days_written = written, days_failed = failed, rows_written = o.rows_written,
                "{RUN_FINISHED}")
        };
    }
    match o.status() {
        model::RunStatus::Ok => finished!(info),
        model::RunStatus::Partial => finished!(warn),
        _ => finished!(error),
    }
}

/// Today's date in UTC, the clock every range is checked against.
pub fn today_utc() -> model::Day {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date()
}
