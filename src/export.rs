//! `wikitop export`: the store's tables as files other tools read — Parquet (lists
//! stay lists) or CSV (lists as JSON arrays) — one file per table, written by
//! DuckDB's own `COPY … TO` from a read-only store.
//!
//! BigQuery is refused with one sentence naming its own export (`bq extract` to Cloud
//! Storage): pulling a production table through this process would be slower and
//! costlier than BigQuery writing the files itself, and a row count would be all this
//! command added. Each file is written under a temporary name and renamed when
//! complete, so a file with the final name is always whole.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::model::Named;
use crate::settings::{StoreInput, StoreSettings};
use crate::sinks::duckdb::query::CopyFormat;
use crate::sinks::schema::{INGEST_RUNS, TOP_PAGES};
use crate::sinks::{Mode, Store};

/// Where the files go unless `--out` says otherwise.
pub const DEFAULT_OUT: &str = "export";

/// The file format, as `--format` names it (also the files' extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Parquet,
    Csv,
}

impl Named for Format {
    const ALL: &'static [Format] = &[Format::Parquet, Format::Csv];
    fn name(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
        }
    }
}

/// `export` options as typed.
#[derive(Debug, Clone, Default)]
pub struct ExportInput {
    pub format: Option<Format>,
    pub out: Option<PathBuf>,
    pub store: StoreInput,
}

/// Everything `export` needs, validated before the store is opened.
#[derive(Debug, Clone)]
pub struct ExportSettings {
    pub format: Format,
    /// The directory the files go into (created when missing).
    pub out: PathBuf,
    pub store: StoreSettings,
}

impl ExportSettings {
    pub fn resolve(input: ExportInput) -> Result<ExportSettings> {
        let out = input.out.unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
        if out.exists() && !out.is_dir() {
            return Err(Error::InvalidSetting {
                what: "--out",
                value: out.display().to_string(),
                why: "it is a file; name a directory for the exported files".into(),
            });
        }
        let store = input.store.resolve()?;
        if let StoreSettings::BigQuery(bigquery) = &store {
            return Err(Error::ExportFromBigQuery {
                dataset: bigquery.to_string(),
            });
        }
        Ok(ExportSettings {
            format: input.format.unwrap_or(Format::Parquet),
            out,
            store,
        })
    }
}

/// One exported table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub table: &'static str,
    pub path: PathBuf,
    pub rows: u64,
}

/// Writes `top_pages` and `ingest_runs` into `settings.out`, in key order.
pub async fn export(settings: &ExportSettings) -> Result<Vec<Exported>> {
    let store = Store::open(&settings.store, Mode::Analysis).await?;
    std::fs::create_dir_all(&settings.out).map_err(|source| Error::Output {
        path: settings.out.clone(),
        source,
    })?;
    let format = match settings.format {
        Format::Parquet => CopyFormat::Parquet,
        Format::Csv => CopyFormat::Csv,
    };
    let mut exported = Vec::new();
    for (table, order) in [
        (&TOP_PAGES, "date, project, access, rank, article"),
        (&INGEST_RUNS, "started_at, run_id"),
    ] {
        let path = settings
            .out
            .join(format!("{}.{}", table.name, settings.format.name()));
        let tmp = temporary(&path);
        let rows = store.copy_to(table, order, &tmp, format).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })?;
        std::fs::rename(&tmp, &path).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        })?;
        exported.push(Exported {
            table: table.name,
            path,
            rows,
        });
    }
    Ok(exported)
}

fn temporary(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{}.tmp", std::process::id()));
    PathBuf::from(name)
}
