//! One migrator at a time: a lease on a dataset's migration, held as a table.
//!
//! When N tasks (Cloud Run shards, or any processes) open a dataset that needs
//! migrating at once, each would otherwise run every step: N times the DDL on one
//! table, past its update rate limit. Instead each tries to create the table
//! [`LOCK_TABLE`]; `tables.insert` of a table that exists answers 409 "Already Exists"
//! (<https://cloud.google.com/bigquery/docs/error-messages>), so exactly one wins. The
//! winner migrates, stamps the version label and deletes the lock; the others wait,
//! reading the label on `top_pages`, until it shows the current version.
//!
//! A lock, not "shard 0 migrates": it needs no Cloud Run variables, so two processes
//! on two hosts, or a backfill beside the schedule, take turns too. A winner that dies
//! leaves the lock behind; it carries an `expirationTime`, after which BigQuery deletes
//! it (<https://cloud.google.com/bigquery/docs/managing-tables#updating_a_tables_expiration_time>),
//! and a waiter that finds it expired deletes it and takes its turn. Two waiters that
//! both take over an expired lock may both migrate: harmless, since every step is safe
//! to run again and schema patches are guarded by the table's etag (`migrate.rs`).

use std::time::{Duration, Instant};

use google_cloud_bigquery_v2::client::TableService;
use google_cloud_bigquery_v2::model::{Table, TableFieldSchema, TableReference, TableSchema};
use tracing::{info, warn};

use super::jobs::{api_error, retrying};
use super::migrate;
use crate::error::{Error, Message, Result};
use crate::settings::BigQuerySettings;
use crate::sinks::schema::{SCHEMA_VERSION, TOP_PAGES};

/// The table whose existence is the lease.
pub const LOCK_TABLE: &str = "wikitop_migration_lock";
/// How long a lease lasts: a migration is a few DDL jobs and patches per step, a
/// minute or two even when BigQuery's rate limits make it back off.
const LEASE: Duration = Duration::from_secs(5 * 60);
/// How long a waiter waits for the version to appear: longer than a lease, so a
/// winner that died is taken over within one run.
pub(super) const WAIT: Duration = Duration::from_secs(7 * 60);
/// Between two looks at the label (two `tables.get`, which are not table updates).
const POLL: Duration = Duration::from_secs(2);

/// What a waiter found.
pub(super) enum Turn {
    /// `top_pages` carries the current version: the other process finished.
    Migrated,
    /// The lock is gone (its holder failed and released it) or expired: try again.
    Free,
}

/// Tries to take the lease; `false` when another process holds it.
pub(super) async fn acquire(tables: &TableService, settings: &BigQuerySettings) -> Result<bool> {
    let (project, id) = (settings.project_id(), settings.dataset());
    let expires = jiff::Timestamp::now().as_millisecond()
        + i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
    let lock = Table::new()
        .set_table_reference(
            TableReference::new()
                .set_project_id(project)
                .set_dataset_id(id)
                .set_table_id(LOCK_TABLE),
        )
        .set_description(format!(
            "Held by wikitop (pid {}) while it migrates this dataset to schema version \
             {SCHEMA_VERSION}; deleted when done, expires by itself.",
            std::process::id()
        ))
        .set_schema(
            TableSchema::new().set_fields([TableFieldSchema::new()
                .set_name("holder")
                .set_type("STRING")]),
        )
        .set_expiration_time(expires);
    let inserted = retrying(|| {
        tables
            .insert_table()
            .set_project_id(project)
            .set_dataset_id(id)
            .set_table(lock.clone())
            .send()
    })
    .await;
    match inserted {
        Ok(_) => {
            info!(dataset = %settings, lock = LOCK_TABLE, "Took the migration lock.");
            Ok(true)
        }
        Err(e) if e.http_status_code() == Some(409) => Ok(false),
        Err(e) => Err(Error::store(
            format!("taking the migration lock `{settings}.{LOCK_TABLE}`"),
            api_error(project, "creating the lock table", e),
        )),
    }
}

/// Gives the lease back. A lock that cannot be deleted expires by itself, so this
/// only warns.
pub(super) async fn release(tables: &TableService, settings: &BigQuerySettings) {
    if let Err(e) = delete(tables, settings).await {
        warn!(dataset = %settings, lock = LOCK_TABLE, error = %e,
            "Could not delete the migration lock; it expires by itself.");
    }
}

async fn delete(
    tables: &TableService,
    settings: &BigQuerySettings,
) -> std::result::Result<(), google_cloud_bigquery_v2::Error> {
    let deleted = retrying(|| {
        tables
            .delete_table()
            .set_project_id(settings.project_id())
            .set_dataset_id(settings.dataset())
            .set_table_id(LOCK_TABLE)
            .send()
    })
    .await;
    match deleted {
        Err(e) if e.http_status_code() != Some(404) => Err(e),
        _ => Ok(()),
    }
}

/// Waits until `top_pages` carries the current version, or the lock is free, or
/// `deadline` passes (an error naming the lock to delete by hand).
pub(super) async fn wait(
    tables: &TableService,
    settings: &BigQuerySettings,
    deadline: Instant,
) -> Result<Turn> {
    info!(dataset = %settings, lock = LOCK_TABLE, wait_s = WAIT.as_secs(),
        "Waiting for another task's migration of the dataset.");
    loop {
        tokio::time::sleep(POLL.mul_f64(0.5 + fastrand::f64())).await;
        if migrated(tables, settings).await? {
            return Ok(Turn::Migrated);
        }
        match get(tables, settings, LOCK_TABLE).await? {
            None => return Ok(Turn::Free),
            Some(lock) if expired(&lock) => {
                warn!(dataset = %settings, lock = LOCK_TABLE,
                    "The migration lock expired; its holder stopped. Taking over.");
                delete(tables, settings)
                    .await
                    .map_err(|e| lock_error(settings, e))?;
                return Ok(Turn::Free);
            }
            Some(_) => {}
        }
        if Instant::now() >= deadline {
            return Err(Error::store(
                format!("opening the BigQuery dataset `{settings}`"),
                Message(format!(
                    "another process has been migrating it for over {} min and the lock \
                     `{LOCK_TABLE}` is still there: if no other wikitop is running, delete \
                     that table and run again",
                    WAIT.as_secs() / 60
                )),
            ));
        }
    }
}

/// Whether `top_pages` carries the current version (a newer one is refused).
async fn migrated(tables: &TableService, settings: &BigQuerySettings) -> Result<bool> {
    let top_pages = get(tables, settings, TOP_PAGES.name).await?;
    Ok(migrate::version(settings, top_pages.as_ref())? >= SCHEMA_VERSION)
}

fn expired(lock: &Table) -> bool {
    lock.expiration_time
        .is_some_and(|ms| ms < jiff::Timestamp::now().as_millisecond())
}

/// A table, or `None` when it does not exist.
async fn get(
    tables: &TableService,
    settings: &BigQuerySettings,
    name: &str,
) -> Result<Option<Table>> {
    let got = retrying(|| super::provision::get_table(tables, settings, name)).await;
    match got {
        Ok(table) => Ok(Some(table)),
        Err(e) if e.http_status_code() == Some(404) => Ok(None),
        Err(e) => Err(lock_error(settings, e)),
    }
}

fn lock_error(settings: &BigQuerySettings, e: google_cloud_bigquery_v2::Error) -> Error {
    Error::store(
        format!("waiting for the migration of `{settings}`"),
        api_error(settings.project_id(), "reading the tables", e),
    )
}
