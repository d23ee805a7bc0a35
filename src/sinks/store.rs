//! The one door to a store: the choice between DuckDB and BigQuery is made here, once,
//! from the resolved settings and how the command opens it ([`Mode`]); `sync`,
//! `status`, `report` and `export` all go through [`Store`], which forwards the sink and
//! read traits to the store inside.
//!
//! Futures are boxed here, where they nest: the BigQuery client's futures are deep, and
//! a caller may poll them on a thread with a small stack (a test thread has 2 MiB).

use std::collections::BTreeSet;
use std::path::Path;

use super::bigquery::BigQuerySink;
use super::duckdb::DuckDbSink;
use super::duckdb::query::CopyFormat;
use super::read::{Dialect, Param, ReadStore};
use super::schema::{ColumnType, Table, TopPageRow, Value};
use super::{Batching, Mode, Sink, StoredDays};
use crate::error::{Error, Result};
use crate::model::{Access, Day, DayBatch, Project, RunRecord};
use crate::settings::StoreSettings;

/// An open store, DuckDB or BigQuery.
pub enum Store {
    DuckDb(DuckDbSink),
    BigQuery(Box<BigQuerySink>),
}

/// `$body` with `$s` bound to the store inside, whichever it is.
macro_rules! each {
    ($store:expr, $s:ident => $body:expr) => {
        match $store {
            Store::DuckDb($s) => $body,
            Store::BigQuery($s) => $body,
        }
    };
}

impl Store {
    /// Opens the store `settings` name, as `mode` says.
    pub async fn open(settings: &StoreSettings, mode: Mode) -> Result<Store> {
        Ok(match settings {
            StoreSettings::DuckDb { path } => Store::DuckDb(DuckDbSink::open(path, mode)?),
            StoreSettings::BigQuery(bigquery) => Store::BigQuery(Box::new(
                Box::pin(BigQuerySink::open(bigquery, mode)).await?,
            )),
        })
    }

    /// The store's schema version: the current one once opened to write; possibly older
    /// when opened to read, which reads an older store as it is.
    pub fn schema_version(&self) -> Result<u32> {
        match self {
            Store::DuckDb(s) => s.schema_version(),
            Store::BigQuery(s) => Ok(s.schema_version()),
        }
    }

    /// Writes `table` to `path` with the store's own export (DuckDB's `COPY … TO`);
    /// BigQuery is refused with the sentence that names its own export.
    pub(crate) fn copy_to(
        &self,
        table: &'static Table,
        order: &str,
        path: &Path,
        format: CopyFormat,
    ) -> Result<u64> {
        match self {
            Store::DuckDb(s) => s.copy_to(table, order, path, format),
            Store::BigQuery(s) => Err(Error::ExportFromBigQuery {
                dataset: s.dataset(),
            }),
        }
    }
}

impl Sink for Store {
    async fn stored_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<BTreeSet<Day>> {
        each!(self, s => Box::pin(s.stored_days(project, access, from, to)).await)
    }

    fn batching(&self) -> Batching {
        each!(self, s => s.batching())
    }

    async fn read_days(
        &mut self,
        project: &Project,
        access: Access,
        from: Day,
        to: Day,
    ) -> Result<Vec<TopPageRow>> {
        each!(self, s => Box::pin(s.read_days(project, access, from, to)).await)
    }

    async fn write_days(&mut self, days: &[DayBatch]) -> Result<()> {
        each!(self, s => Box::pin(s.write_days(days)).await)
    }

    async fn record_run(&mut self, run: &RunRecord) -> Result<()> {
        each!(self, s => Box::pin(s.record_run(run)).await)
    }

    async fn all_stored_days(&mut self) -> Result<Vec<StoredDays>> {
        each!(self, s => Box::pin(s.all_stored_days()).await)
    }

    async fn recent_runs(&mut self, limit: usize) -> Result<Vec<RunRecord>> {
        each!(self, s => Box::pin(s.recent_runs(limit)).await)
    }
}

impl ReadStore for Store {
    fn dialect(&self) -> Dialect {
        each!(self, s => s.dialect())
    }

    fn table(&self, name: &str) -> String {
        each!(self, s => s.table(name))
    }

    async fn select(
        &mut self,
        what: &str,
        sql: &str,
        params: &[(&str, Param)],
        columns: &[(&str, ColumnType)],
    ) -> Result<Vec<Vec<Value>>> {
        each!(self, s => Box::pin(s.select(what, sql, params, columns)).await)
    }
}
