//! Provisioning: the dataset, the tables and the view, each got (or created when
//! missing and allowed) by the one ladder of [`get_or_create`], then checked against
//! the definition in `sinks/schema.rs`. An older dataset is brought to the current
//! schema version by `migrate.rs` between the lookup and the check, by one process at a
//! time (`lock.rs`). Writes no rows.

use std::future::Future;

use google_cloud_bigquery_v2::client::{DatasetService, TableService};
use google_cloud_bigquery_v2::model::{Dataset, DatasetReference, Table, TableReference};
use tracing::info;

use super::client::Clients;
use super::jobs::{api_error, retrying};
use super::{lock, migrate, schema, sql};
use crate::error::{Error, Result};
use crate::settings::BigQuerySettings;
use crate::sinks::schema::{SCHEMA_VERSION, TABLES, TOP_PAGES, Table as Definition, VIEWS};

type ApiResult<T> = std::result::Result<T, google_cloud_bigquery_v2::Error>;

/// What [`get_or_create`] ended with.
pub(super) enum Got<T> {
    /// It existed (or was created meanwhile by another run).
    Found(T),
    /// This call created it, from the wanted resource.
    Created(T),
}

/// A dataset or table as [`get_or_create`] names it in errors.
pub(super) struct Object<'a> {
    pub settings: &'a BigQuerySettings,
    /// `dataset` or `table`.
    pub kind: &'static str,
    /// e.g. `my-project.wikitop.top_pages`.
    pub path: String,
    /// Why it is absent, when `open` may not create it.
    pub missing: String,
    /// Said after "creating the {kind}" when creating fails, e.g. how to do it by hand.
    pub create_hint: String,
}

/// Gets an object; when it does not exist (404) and `create` allows, inserts it; when
/// the insert meets 409 "already exists", another run created it meanwhile and it is
/// got again. Every call is retried on transient errors (see `jobs::retrying`).
pub(super) async fn get_or_create<T, Get, GetFut, Insert, InsertFut>(
    object: &Object<'_>,
    create: bool,
    get: Get,
    insert: Insert,
) -> Result<Got<T>>
where
    Get: Fn() -> GetFut,
    GetFut: Future<Output = ApiResult<T>>,
    Insert: Fn() -> InsertFut,
    InsertFut: Future<Output = ApiResult<T>>,
{
    let project = object.settings.project_id();
    let doing = || format!("opening the BigQuery {} `{}`", object.kind, object.path);
    let unreadable = |e| {
        let reading = format!("reading the {}", object.kind);
        Error::store(doing(), api_error(project, &reading, e))
    };
    match retrying(&get).await {
        Ok(found) => return Ok(Got::Found(found)),
        Err(e) if e.http_status_code() != Some(404) => return Err(unreadable(e)),
        Err(_) if !create => {
            return Err(Error::InvalidSetting {
                what: "BigQuery dataset",
                value: object.settings.to_string(),
                why: object.missing.clone(),
            });
        }
        Err(_) => {}
    }
    match retrying(&insert).await {
        Ok(created) => Ok(Got::Created(created)),
        // Created meanwhile by another run.
        Err(e) if e.http_status_code() == Some(409) => {
            retrying(&get).await.map(Got::Found).map_err(unreadable)
        }
        Err(e) => {
            let creating = format!("creating the {}{}", object.kind, object.create_hint);
            Err(Error::store(doing(), api_error(project, &creating, e)))
        }
    }
}

/// Gets the dataset (creating it, in the configured location, if allowed) and returns
/// its location; refuses one that exists in another location than the configured one.
pub(super) async fn dataset(
    datasets: &DatasetService,
    settings: &BigQuerySettings,
    create: bool,
) -> Result<String> {
    let (project, id) = (settings.project_id(), settings.dataset());
    let object = Object {
        settings,
        kind: "dataset",
        path: settings.to_string(),
        missing: "it does not exist: run `wikitop sync --sink bigquery` first, or check the name"
            .into(),
        create_hint: format!(
            " (create it yourself with `bq mk --dataset {project}:{id}`, or grant \
             bigquery.datasets.create)"
        ),
    };
    let mut new = Dataset::new()
        .set_dataset_reference(
            DatasetReference::new()
                .set_project_id(project)
                .set_dataset_id(id),
        )
        .set_description("Daily top Wikipedia pages with their categories (wikitop).");
    if let Some(location) = settings.location() {
        new = new.set_location(location);
    }
    let get = || {
        datasets
            .get_dataset()
            .set_project_id(project)
            .set_dataset_id(id)
            .send()
    };
    let insert = || {
        datasets
            .insert_dataset()
            .set_project_id(project)
            .set_dataset(new.clone())
            .send()
    };
    let dataset = match get_or_create(&object, create, get, insert).await? {
        Got::Found(dataset) => dataset,
        Got::Created(dataset) => {
            info!(dataset = %settings, location = %dataset.location, "Created the BigQuery dataset.");
            dataset
        }
    };
    check_location(settings, &dataset)?;
    Ok(dataset.location)
}

/// Refuses a dataset that exists in another location than the configured one.
fn check_location(settings: &BigQuerySettings, dataset: &Dataset) -> Result<()> {
    match settings.location() {
        Some(wanted)
            if !dataset.location.is_empty() && !dataset.location.eq_ignore_ascii_case(wanted) =>
        {
            Err(Error::InvalidSetting {
                what: "BigQuery location",
                value: wanted.to_owned(),
                why: format!(
                    "the dataset `{settings}` already exists in `{}`: use that location or leave it unset",
                    dataset.location
                ),
            })
        }
        _ => Ok(()),
    }
}

/// `tables.get` of one table or view of the dataset, as one request (callers retry it).
pub(super) async fn get_table(
    tables: &TableService,
    settings: &BigQuerySettings,
    name: &str,
) -> std::result::Result<Table, google_cloud_bigquery_v2::Error> {
    tables
        .get_table()
        .set_project_id(settings.project_id())
        .set_dataset_id(settings.dataset())
        .set_table_id(name)
        .send()
        .await
}

/// Gets a table or view, creating it from `wanted` if allowed.
pub(super) async fn table(
    tables: &TableService,
    settings: &BigQuerySettings,
    name: &str,
    wanted: &Table,
    create: bool,
) -> Result<Got<Table>> {
    let (project, id) = (settings.project_id(), settings.dataset());
    let object = Object {
        settings,
        kind: "table",
        path: format!("{settings}.{name}"),
        missing: format!("it has no `{name}` yet: run `wikitop sync --sink bigquery` first"),
        create_hint: String::new(),
    };
    let new = wanted.clone().set_table_reference(
        TableReference::new()
            .set_project_id(project)
            .set_dataset_id(id)
            .set_table_id(name),
    );
    let get = || get_table(tables, settings, name);
    let insert = || {
        tables
            .insert_table()
            .set_project_id(project)
            .set_dataset_id(id)
            .set_table(new.clone())
            .send()
    };
    let got = get_or_create(&object, create, get, insert).await?;
    if let Got::Created(_) = got {
        info!(table = %object.path, "Created the BigQuery table.");
    }
    Ok(got)
}

/// Gets (or creates) every table, brings an older dataset to the current schema version
/// when `create` allows (a read-only open reads it as it is), checks every table and
/// the view against the definition, and returns the dataset's schema version. Refuses
/// a dataset newer than this build before changing anything.
pub(super) async fn tables(
    clients: &Clients,
    settings: &BigQuerySettings,
    create: bool,
) -> Result<u32> {
    let wanted = wanted_tables();
    let got = get_tables(clients, settings, &wanted, create).await?;
    let version = migrate::version(settings, found_top_pages(&got).as_ref())?;
    if create && version < SCHEMA_VERSION {
        // Boxed, as each await below is: the client's request futures are large, and
        // nested unboxed they overflow a 2 MiB test thread in an unoptimised build
        // (contract test `bigquery_an_unversioned_dataset_is_stamped_and_keeps_its_rows`).
        return Box::pin(migrate_once(clients, settings, &wanted)).await;
    }
    check_tables(&got, &wanted, version)?;
    views(clients, settings, create, version, false).await?;
    Ok(version)
}

/// The tables as this build creates them, `top_pages` stamped with the current version.
fn wanted_tables() -> Vec<Table> {
    TABLES
        .iter()
        .map(|t| migrate::stamped(t, schema::table_resource(t)))
        .collect()
}

async fn get_tables(
    clients: &Clients,
    settings: &BigQuerySettings,
    wanted: &[Table],
    create: bool,
) -> Result<Vec<Got<Table>>> {
    let mut got = Vec::with_capacity(TABLES.len());
    for (table, wanted) in TABLES.iter().zip(wanted) {
        got.push(self::table(&clients.tables, settings, table.name, wanted, create).await?);
    }
    Ok(got)
}

/// `top_pages` as it existed before this open; `None` when this open created it.
fn found_top_pages(got: &[Got<Table>]) -> Option<Table> {
    let i = TABLES.iter().position(|t| t.name == TOP_PAGES.name)?;
    match got.get(i) {
        Some(Got::Found(table)) => Some(table.clone()),
        Some(Got::Created(_)) | None => None,
    }
}

fn check_tables(got: &[Got<Table>], wanted: &[Table], version: u32) -> Result<()> {
    for ((table, wanted), got) in TABLES.iter().zip(wanted).zip(got) {
        if let Got::Found(found) = got {
            check_table(table.name, Some(table), wanted, found, version)?;
        }
    }
    Ok(())
}

/// Gets (or creates) and checks every view; after a migration, gives each this
/// build's definition.
async fn views(
    clients: &Clients,
    settings: &BigQuerySettings,
    create: bool,
    version: u32,
    migrated: bool,
) -> Result<()> {
    for view in VIEWS {
        let wanted = schema::view_resource(view, &sql::table_path(settings, view.from.name));
        if let Got::Found(found) =
            self::table(&clients.tables, settings, view.name, &wanted, create).await?
        {
            check_table(view.name, None, &wanted, &found, version)?;
            if migrated {
                migrate::replace_view(&clients.tables, settings, view.name, &wanted).await?;
            }
        }
    }
    Ok(())
}

/// Migrates an older dataset in exactly one of the processes opening it at once: the
/// one that takes the lease of `lock.rs`; the others wait for the version label and
/// then open the migrated dataset as it is.
async fn migrate_once(
    clients: &Clients,
    settings: &BigQuerySettings,
    wanted: &[Table],
) -> Result<u32> {
    let deadline = std::time::Instant::now() + lock::WAIT;
    loop {
        if Box::pin(lock::acquire(&clients.tables, settings)).await? {
            let migrated = Box::pin(migrate_holding_lock(clients, settings, wanted)).await;
            Box::pin(lock::release(&clients.tables, settings)).await;
            return migrated;
        }
        match Box::pin(lock::wait(&clients.tables, settings, deadline)).await? {
            lock::Turn::Migrated => {
                let got = Box::pin(get_tables(clients, settings, wanted, false)).await?;
                check_tables(&got, wanted, SCHEMA_VERSION)?;
                Box::pin(views(clients, settings, true, SCHEMA_VERSION, false)).await?;
                return Ok(SCHEMA_VERSION);
            }
            lock::Turn::Free => {}
        }
    }
}

/// Runs the steps the dataset lacks, checks the tables, updates the views and only then
/// records the version: a label means every step ran. Reads the version again first,
/// as the previous holder may have finished between the first look and the lease.
async fn migrate_holding_lock(
    clients: &Clients,
    settings: &BigQuerySettings,
    wanted: &[Table],
) -> Result<u32> {
    let got = Box::pin(get_tables(clients, settings, wanted, false)).await?;
    let version = migrate::version(settings, found_top_pages(&got).as_ref())?;
    let migrating = version < SCHEMA_VERSION;
    if migrating {
        Box::pin(migrate::apply(clients, settings, version)).await?;
    }
    let got = Box::pin(get_tables(clients, settings, wanted, false)).await?;
    check_tables(&got, wanted, SCHEMA_VERSION)?;
    Box::pin(views(clients, settings, true, SCHEMA_VERSION, migrating)).await?;
    if migrating {
        Box::pin(migrate::stamp(&clients.tables, settings)).await?;
    }
    Ok(SCHEMA_VERSION)
}

fn kind(table: &Table) -> &'static str {
    if table.view.is_some() || table.r#type == "VIEW" {
        "VIEW"
    } else {
        "TABLE"
    }
}

/// Refuses an existing object that would not hold what wikitop writes; `definition`
/// is the table's (`None` for a view, whose columns follow its table). A column a
/// migration step added may be NULLABLE where the definition says REQUIRED: BigQuery
/// cannot add a REQUIRED column to a table. `version` is the dataset's, for the hint.
pub(super) fn check_table(
    name: &str,
    definition: Option<&Definition>,
    wanted: &Table,
    found: &Table,
    version: u32,
) -> Result<()> {
    let mismatch = |detail: String| {
        Err(Error::SchemaMismatch {
            table: name.to_owned(),
            detail,
        })
    };
    // `type` may be empty in a minimal answer; a table answers with a schema.
    let found_kind = if found.r#type.is_empty() && found.schema.is_some() {
        "TABLE"
    } else if found.r#type.is_empty() {
        kind(wanted)
    } else {
        found.r#type.as_str()
    };
    if found_kind != kind(wanted) {
        return mismatch(format!("it is a {found_kind}, expected a {}", kind(wanted)));
    }
    let Some(definition) = definition else {
        return Ok(()); // a view: its columns follow top_pages
    };
    let fields = found
        .schema
        .as_ref()
        .map(|s| s.fields.as_slice())
        .unwrap_or_default();
    let added = migrate::added_columns(definition);
    if let Some(mut detail) = schema::differences(definition, fields, &added) {
        if version < SCHEMA_VERSION {
            detail.push_str(&format!(
                "; the dataset is at schema version {version}: `wikitop sync --sink bigquery` \
                 migrates it"
            ));
        }
        return mismatch(detail);
    }
    if let Some(partitioning) = &wanted.time_partitioning {
        let found_field = found
            .time_partitioning
            .as_ref()
            .and_then(|p| p.field.as_deref());
        if found_field != partitioning.field.as_deref() {
            return mismatch(format!(
                "it is not partitioned by `{}`",
                partitioning.field.as_deref().unwrap_or_default()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::schema::TOP_PAGES;

    #[test]
    fn existing_tables_are_checked() {
        let v = SCHEMA_VERSION;
        let wanted = schema::table_resource(&TOP_PAGES);
        let good = wanted.clone().set_type("TABLE");
        let def = Some(&TOP_PAGES);
        assert!(check_table("top_pages", def, &wanted, &good, v).is_ok());
        let unpartitioned = good
            .clone()
            .set_time_partitioning(google_cloud_bigquery_v2::model::TimePartitioning::new());
        let err = check_table("top_pages", def, &wanted, &unpartitioned, v).unwrap_err();
        assert!(
            err.to_string().contains("not partitioned by `date`"),
            "{err}"
        );
        let view = Table::new().set_type("VIEW");
        assert!(matches!(
            check_table("top_pages", def, &wanted, &view, v),
            Err(Error::SchemaMismatch { .. })
        ));
        let wanted_view = schema::view_resource(
            &crate::sinks::schema::TOP_PAGE_CATEGORIES,
            "`p.d.top_pages`",
        );
        assert!(check_table("top_page_categories", None, &wanted_view, &view, v).is_ok());
        assert!(check_table("top_page_categories", None, &wanted_view, &good, v).is_err());
    }

    #[test]
    fn an_older_dataset_that_differs_says_sync_migrates_it() {
        let wanted = schema::table_resource(&TOP_PAGES);
        let mut old = wanted.clone().set_type("TABLE");
        if let Some(s) = old.schema.as_mut() {
            s.fields.retain(|f| f.name != "views");
        }
        let err = check_table("top_pages", Some(&TOP_PAGES), &wanted, &old, 1).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`views` is missing") && text.contains("schema version 1"),
            "{text}"
        );
    }
}
