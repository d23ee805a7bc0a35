//! The BigQuery tables as `schema/*.json` describes them (the files Terraform reads too):
//! the resources `open` creates, the check of an existing table, and the SQL column
//! lists and JSON extractions derived from them, so a column exists in one place only.

use std::sync::LazyLock;

use google_cloud_bigquery_v2::model::{TableFieldSchema, TableSchema};
use serde::Deserialize;

pub(super) const TOP_PAGES: &str = "top_pages";
pub(super) const INGEST_RUNS: &str = "ingest_runs";
pub(super) const TOP_PAGE_CATEGORIES: &str = "top_page_categories";

pub(super) const TOP_PAGES_DESCRIPTION: &str = "Daily top pages of a Wikimedia project with their \
    categories; one row per (date, project, access, article). Written by wikitop.";
pub(super) const INGEST_RUNS_DESCRIPTION: &str =
    "One row per wikitop run: its options, outcome and counts.";
pub(super) const TOP_PAGE_CATEGORIES_DESCRIPTION: &str = "top_pages with one row per date, \
    project, access, article and visible category, for GROUP BY category.";

/// The partitioning column of `top_pages`: `stored_days` filters on it so BigQuery
/// reads only the partitions of the range.
pub(super) const PARTITION_COLUMN: &str = "date";
pub(super) const CLUSTERING: [&str; 2] = ["project", "article"];

/// The key of a `top_pages` row: the MERGE matches on it.
pub(super) const TOP_PAGES_KEY: [&str; 4] = ["date", "project", "access", "article"];

/// One column as written in `schema/*.json`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(super) struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default = "nullable")]
    pub mode: String,
    #[serde(default)]
    pub description: String,
}

fn nullable() -> String {
    "NULLABLE".to_owned()
}

/// The embedded schema files are part of the source tree; a unit test parses both, so
/// a malformed file fails `cargo test`, never a user's run.
fn parse(json: &str, file: &str) -> Vec<Column> {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{file} is not a valid schema: {e}"))
}

pub(super) static TOP_PAGES_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    parse(
        include_str!("../../../schema/top_pages.json"),
        "schema/top_pages.json",
    )
});
pub(super) static INGEST_RUNS_COLUMNS: LazyLock<Vec<Column>> = LazyLock::new(|| {
    parse(
        include_str!("../../../schema/ingest_runs.json"),
        "schema/ingest_runs.json",
    )
});

/// The schema to create a table with, descriptions included.
pub(super) fn table_schema(columns: &[Column]) -> TableSchema {
    TableSchema::new().set_fields(columns.iter().map(|c| {
        TableFieldSchema::new()
            .set_name(&c.name)
            .set_type(&c.ty)
            .set_mode(&c.mode)
            .set_description(&c.description)
    }))
}

/// BigQuery answers `tables.get` with the legacy type names (`INTEGER` for a column
/// created as `INT64`); compare canonical names.
fn canonical_type(ty: &str) -> String {
    match ty.to_ascii_uppercase().as_str() {
        "INTEGER" => "INT64".to_owned(),
        "FLOAT" => "FLOAT64".to_owned(),
        "BOOLEAN" => "BOOL".to_owned(),
        "RECORD" => "STRUCT".to_owned(),
        other => other.to_owned(),
    }
}

/// An omitted mode means NULLABLE.
fn canonical_mode(mode: &str) -> String {
    if mode.is_empty() {
        "NULLABLE".to_owned()
    } else {
        mode.to_ascii_uppercase()
    }
}

/// Compares an existing table's columns with the expected ones by name, type and mode
/// (order and descriptions do not matter: every statement names its columns). Returns
/// the differences in one line, or `None` when the table fits.
pub(super) fn differences(expected: &[Column], found: &[TableFieldSchema]) -> Option<String> {
    let mut diffs = Vec::new();
    for column in expected {
        match found.iter().find(|f| f.name == column.name) {
            None => diffs.push(format!("column `{}` is missing", column.name)),
            Some(f) => {
                let (ty, mode) = (canonical_type(&f.r#type), canonical_mode(&f.mode));
                if ty != canonical_type(&column.ty) || mode != canonical_mode(&column.mode) {
                    diffs.push(format!(
                        "column `{}` is {ty} {mode}, expected {} {}",
                        column.name, column.ty, column.mode
                    ));
                }
            }
        }
    }
    for f in found {
        if !expected.iter().any(|c| c.name == f.name) {
            diffs.push(format!("column `{}` is not expected", f.name));
        }
    }
    (!diffs.is_empty()).then(|| diffs.join("; "))
}

/// A column name quoted for GoogleSQL. The names come from our own schema files, but
/// quoting keeps a future column called e.g. `hash` or `range` from becoming a keyword.
pub(super) fn quoted(name: &str) -> String {
    format!("`{name}`")
}

/// The expression reading column `c` out of the JSON object `src` (a STRING). Values
/// arrive in the JSON as strings or arrays of strings (see `rows.rs`), so each type has
/// one exact conversion: 64-bit integers are never parsed through a JSON number.
pub(super) fn from_json(column: &Column, src: &str) -> String {
    let path = format!("'$.{}'", column.name);
    if canonical_mode(&column.mode) == "REPEATED" {
        return format!("JSON_VALUE_ARRAY({src}, {path})");
    }
    let value = format!("JSON_VALUE({src}, {path})");
    match canonical_type(&column.ty).as_str() {
        "STRING" => value,
        "TIMESTAMP" => format!("TIMESTAMP_MICROS(CAST({value} AS INT64))"),
        other => format!("CAST({value} AS {other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_schemas_parse_and_use_supported_types() {
        for (columns, n) in [(&*TOP_PAGES_COLUMNS, 15), (&*INGEST_RUNS_COLUMNS, 10)] {
            assert_eq!(columns.len(), n);
            for c in columns {
                assert!(
                    c.name
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                    "{}",
                    c.name
                );
                assert!(
                    ["DATE", "STRING", "INT64", "TIMESTAMP"].contains(&c.ty.as_str()),
                    "{}",
                    c.ty
                );
                assert!(["REQUIRED", "NULLABLE", "REPEATED"].contains(&c.mode.as_str()));
                assert!(!c.description.is_empty(), "{} has no description", c.name);
            }
        }
        for key in TOP_PAGES_KEY.iter().chain(&CLUSTERING) {
            assert!(TOP_PAGES_COLUMNS.iter().any(|c| c.name == *key), "{key}");
        }
    }

    #[test]
    fn legacy_type_names_match() {
        let found: Vec<TableFieldSchema> = TOP_PAGES_COLUMNS
            .iter()
            .map(|c| {
                TableFieldSchema::new()
                    .set_name(&c.name)
                    .set_type(if c.ty == "INT64" { "INTEGER" } else { &c.ty })
                    .set_mode(if c.mode == "NULLABLE" { "" } else { &c.mode })
            })
            .rev()
            .collect();
        assert_eq!(differences(&TOP_PAGES_COLUMNS, &found), None);
    }

    #[test]
    fn differences_name_each_column() {
        let mut found: Vec<TableFieldSchema> = table_schema(&TOP_PAGES_COLUMNS).fields;
        found.retain(|f| f.name != "views");
        found[0] = found[0].clone().set_type("STRING");
        found.push(TableFieldSchema::new().set_name("extra").set_type("STRING"));
        assert_eq!(
            differences(&TOP_PAGES_COLUMNS, &found).as_deref(),
            Some(
                "column `date` is STRING REQUIRED, expected DATE REQUIRED; column `views` is \
                 missing; column `extra` is not expected"
            )
        );
    }

    #[test]
    fn json_extraction_per_type() {
        let col = |ty: &str, mode: &str| Column {
            name: "c".into(),
            ty: ty.into(),
            mode: mode.into(),
            description: String::new(),
        };
        assert_eq!(
            from_json(&col("STRING", "REQUIRED"), "x"),
            "JSON_VALUE(x, '$.c')"
        );
        assert_eq!(
            from_json(&col("INT64", "NULLABLE"), "x"),
            "CAST(JSON_VALUE(x, '$.c') AS INT64)"
        );
        assert_eq!(
            from_json(&col("DATE", "REQUIRED"), "x"),
            "CAST(JSON_VALUE(x, '$.c') AS DATE)"
        );
        assert_eq!(
            from_json(&col("TIMESTAMP", "REQUIRED"), "@run"),
            "TIMESTAMP_MICROS(CAST(JSON_VALUE(@run, '$.c') AS INT64))"
        );
        assert_eq!(
            from_json(&col("STRING", "REPEATED"), "x"),
            "JSON_VALUE_ARRAY(x, '$.c')"
        );
    }
}
