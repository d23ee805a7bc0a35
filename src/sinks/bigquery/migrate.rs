//! The schema version of a BigQuery dataset: reading it, bringing an older dataset to
//! the current version in place, and refusing a newer one.
//!
//! The version is the label `wikitop_schema_version` on `top_pages`: the table lookup
//! that `open` makes anyway returns it, so reading it costs no request, and an operator
//! sees it in the console or with `bq show`. A dataset whose `top_pages` has no label
//! was written by the first release (or its label was removed, e.g. by a Terraform
//! apply that manages the table's labels): version 1, whose steps are re-run.
//!
//! BigQuery DDL cannot run inside a multi-statement transaction
//! (<https://cloud.google.com/bigquery/docs/transactions#statements_supported_in_transactions>),
//! so unlike DuckDB a migration is not one transaction. Instead every step is safe to
//! run again (`ADD COLUMN IF NOT EXISTS`, a fill of what is still unset), and the label
//! is set only after every step has run and the tables passed the check: a migration
//! cut short leaves the old label, and the next `open` runs the steps again. Processes
//! opening one dataset at once take turns (`lock.rs`), and every schema or label patch
//! carries the etag it was built from, so none undoes another's change.

use google_cloud_bigquery_v2::client::TableService;
use google_cloud_bigquery_v2::model::{Table as TableResource, TableSchema};
use google_cloud_gax::options::RequestOptionsBuilder;
use reqwest::header::{HeaderValue, IF_MATCH};
use tracing::{debug, info};

use super::client::Clients;
use super::jobs::{api_error, retrying};
use super::{schema, sql};
use crate::error::{Error, Message, Result};
use crate::settings::BigQuerySettings;
use crate::sinks::schema::migrations::{Change, MIGRATIONS, added_in, pending};
use crate::sinks::schema::{Column, Mode, SCHEMA_VERSION, TOP_PAGES, Table};

/// The label on `top_pages` that holds the dataset's schema version. Label keys and
/// values allow lowercase letters, digits, `_` and `-`
/// (<https://cloud.google.com/bigquery/docs/labels-intro#requirements>).
pub const VERSION_LABEL: &str = "wikitop_schema_version";

/// The resource to create `table` with: `top_pages` carries the current version, so a
/// dataset created by this build is stamped from the start.
pub(super) fn stamped(table: &Table, resource: TableResource) -> TableResource {
    if table.name == TOP_PAGES.name {
        resource.set_labels([(VERSION_LABEL, SCHEMA_VERSION.to_string())])
    } else {
        resource
    }
}

/// The dataset's version, from the label on `top_pages`; refuses one newer than this
/// build's and a label that is not a version.
/// `found` is `top_pages` as it existed; `None` when this open created it, stamped with
/// the current version.
pub(super) fn version(settings: &BigQuerySettings, found: Option<&TableResource>) -> Result<u32> {
    let Some(found) = found else {
        return Ok(SCHEMA_VERSION);
    };
    let version = match found.labels.get(VERSION_LABEL) {
        None => 1,
        Some(label) => label
            .parse::<u32>()
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(|| Error::SchemaMismatch {
                table: TOP_PAGES.name.to_owned(),
                detail: format!("its label `{VERSION_LABEL}` is `{label}`, expected a version"),
            })?,
    };
    if version > SCHEMA_VERSION {
        return Err(Error::StoreTooNew {
            store: settings.to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(version)
}

/// The columns of `table` that some migration step adds (and may have left NULLABLE).
pub(super) fn added_columns(table: &Table) -> Vec<&'static str> {
    table
        .columns
        .iter()
        .filter(|c| added_in(table, c.name) > 1)
        .map(|c| c.name)
        .collect()
}

/// Runs the steps a dataset at `from` lacks, in order. Records nothing: see [`stamp`].
pub(super) async fn apply(clients: &Clients, settings: &BigQuerySettings, from: u32) -> Result<()> {
    for migration in pending(MIGRATIONS, from) {
        let doing = format!(
            "migrating the BigQuery dataset `{settings}` to schema version {}",
            migration.to
        );
        for change in migration.changes {
            // Boxed: a step nests a job and a schema patch, each several client calls
            // deep, inside `open`; unboxed, an unoptimised build overflows a test
            // thread's 2 MiB stack (contract test
            // `bigquery_an_unversioned_dataset_is_stamped_and_keeps_its_rows`).
            Box::pin(step(clients, settings, change))
                .await
                .map_err(|e| Error::store(&doing, e))?;
        }
        info!(dataset = %settings, version = migration.to, what = migration.what,
            "Migrated the dataset.");
    }
    Ok(())
}

/// One change in BigQuery's dialect: the statements of `sql::add_column`, each a job of
/// its own (a fresh id: every statement may run again), then the column's description.
async fn step(clients: &Clients, settings: &BigQuerySettings, change: &Change) -> Result<()> {
    let (table, column, fill) = change.added_column();
    let path = sql::table_path(settings, table.name);
    for (i, statement) in sql::add_column(&path, column, fill).iter().enumerate() {
        let base_id = format!(
            "wikitop_migrate_{}_{}_{i}_{:016x}",
            table.name,
            column.name,
            fastrand::u64(..)
        );
        clients
            .jobs
            .run(&base_id, statement, Vec::new())
            .await
            .map_err(|e| Error::store(format!("running `{statement}`"), e))?;
    }
    describe(&clients.tables, settings, table, column).await
}

/// Tries of a guarded patch whose etag went stale meanwhile (412): each re-reads the
/// table first. Another writer would have to change the table this often in a row.
const PATCH_TRIES: u32 = 5;

/// Patches a table or view with what `build` makes of it as read now, sending the
/// etag read with it: BigQuery refuses the patch with 412 Precondition Failed if the
/// table changed in between (the `If-Match` that google-cloud-bigquery's
/// `Client.update_table` sends, client.py; 412 "Precondition check failed" in
/// googleapis/python-bigquery#772), and then the table is read again and the patch
/// rebuilt. So a patch of the whole field list never drops a column another process
/// added meanwhile. `build` returns `None` when there is nothing to change.
async fn patch_guarded(
    tables: &TableService,
    settings: &BigQuerySettings,
    name: &str,
    doing: &str,
    build: impl Fn(&TableResource) -> Option<TableResource>,
) -> Result<()> {
    let (project, id) = (settings.project_id(), settings.dataset());
    let fail = |what: &str, e| Error::store(doing, api_error(project, what, e));
    for _ in 0..PATCH_TRIES {
        let found = retrying(|| super::provision::get_table(tables, settings, name))
            .await
            .map_err(|e| fail("reading the table", e))?;
        let Some(patch) = build(&found) else {
            return Ok(());
        };
        let if_match = HeaderValue::from_str(&found.etag).ok();
        let patched = retrying(|| {
            let mut call = tables
                .patch_table()
                .set_project_id(project)
                .set_dataset_id(id)
                .set_table_id(name)
                .set_table(patch.clone());
            if let Some(etag) = &if_match {
                call = call.with_custom_header(IF_MATCH, etag.clone());
            }
            call.send()
        })
        .await;
        match patched {
            Ok(_) => return Ok(()),
            Err(e) if e.http_status_code() == Some(412) => {
                debug!(
                    table = name,
                    etag = found.etag,
                    "The table changed since it was read; reading it again."
                );
            }
            Err(e) => return Err(fail("updating the table", e)),
        }
    }
    Err(Error::store(
        doing,
        Message(format!(
            "the table changed before each of {PATCH_TRIES} updates (HTTP 412 Precondition \
             Failed): another process keeps changing it"
        )),
    ))
}

/// Makes the table's metadata show the added column with the definition's description
/// (`ALTER TABLE … ADD COLUMN` sets none), through `tables.patch` with the whole schema,
/// BigQuery's other documented way of adding a NULLABLE column
/// (<https://cloud.google.com/bigquery/docs/managing-table-schemas#api>), guarded by
/// the table's etag. The emulator needs it as well: its DDL changes the stored rows but
/// not what `tables.get` answers.
async fn describe(
    tables: &TableService,
    settings: &BigQuerySettings,
    table: &Table,
    column: &Column,
) -> Result<()> {
    let doing = format!(
        "describing the new column `{}` of `{settings}.{}`",
        column.name, table.name
    );
    patch_guarded(tables, settings, table.name, &doing, |found| {
        let mut fields = found.schema.clone().map(|s| s.fields).unwrap_or_default();
        match fields.iter_mut().find(|f| f.name == column.name) {
            Some(f) if f.description.as_deref() == Some(column.description) => return None,
            Some(f) => f.description = Some(column.description.to_owned()),
            None => {
                let mode = match column.mode {
                    Mode::Required => Mode::Nullable,
                    other => other,
                };
                fields.push(schema::field(column).set_mode(schema::mode_name(mode)));
            }
        }
        Some(TableResource::new().set_schema(TableSchema::new().set_fields(fields)))
    })
    .await
}

/// Gives an existing view the definition of this build (`tables.patch` with the view's
/// query; <https://cloud.google.com/bigquery/docs/updating-views#api>): a migration may
/// change what a view computes, and a view is not versioned on its own.
pub(super) async fn replace_view(
    tables: &TableService,
    settings: &BigQuerySettings,
    name: &str,
    wanted: &TableResource,
) -> Result<()> {
    let doing = format!("updating the view `{settings}.{name}`");
    patch_guarded(tables, settings, name, &doing, |_| {
        Some(
            TableResource::new()
                .set_or_clear_view(wanted.view.clone())
                .set_or_clear_description(wanted.description.clone()),
        )
    })
    .await?;
    info!(dataset = %settings, view = name, "Updated the view's definition.");
    Ok(())
}

/// Records the current version on `top_pages`, keeping its other labels (as read
/// now, under the same etag guard).
pub(super) async fn stamp(tables: &TableService, settings: &BigQuerySettings) -> Result<()> {
    let doing = format!("recording the schema version of `{settings}`");
    patch_guarded(tables, settings, TOP_PAGES.name, &doing, |found| {
        let mut labels = found.labels.clone();
        labels.insert(VERSION_LABEL.to_owned(), SCHEMA_VERSION.to_string());
        Some(TableResource::new().set_labels(labels))
    })
    .await?;
    info!(dataset = %settings, version = SCHEMA_VERSION, "Recorded the schema version.");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> BigQuerySettings {
        BigQuerySettings::new("my-project.wikitop", None, None).unwrap()
    }

    fn found(labels: &[(&str, &str)]) -> Option<TableResource> {
        Some(TableResource::new().set_labels(labels.iter().copied()))
    }

    #[test]
    fn the_label_is_the_version() {
        assert_eq!(version(&settings(), found(&[]).as_ref()).unwrap(), 1);
        let current = SCHEMA_VERSION.to_string();
        let stamped = found(&[(VERSION_LABEL, &current), ("app", "wikitop")]);
        assert_eq!(
            version(&settings(), stamped.as_ref()).unwrap(),
            SCHEMA_VERSION
        );
        for bad in ["", "0", "two", "-1"] {
            let err = version(&settings(), found(&[(VERSION_LABEL, bad)]).as_ref()).unwrap_err();
            assert!(matches!(err, Error::SchemaMismatch { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn a_newer_dataset_is_refused_in_one_sentence() {
        let newer = (SCHEMA_VERSION + 1).to_string();
        let err = version(&settings(), found(&[(VERSION_LABEL, &newer)]).as_ref()).unwrap_err();
        assert!(matches!(err, Error::StoreTooNew { .. }), "{err}");
        assert!(err.is_usage());
        let text = err.to_string();
        assert!(
            text.contains("`my-project.wikitop`") && !text.contains('\n'),
            "{text}"
        );
    }

    #[test]
    fn a_new_top_pages_is_stamped_at_creation() {
        let created = stamped(&TOP_PAGES, schema::table_resource(&TOP_PAGES));
        assert_eq!(
            created.labels.get(VERSION_LABEL),
            Some(&SCHEMA_VERSION.to_string())
        );
    }
}
