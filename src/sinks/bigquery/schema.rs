//! The tables of `sinks/schema.rs` in BigQuery's terms: type and mode names, the
//! resources `open` creates, the check of an existing table, the SQL column lists
//! and JSON extractions, and the encoding of [`Value`]s to and from JSON. Terraform's
//! `schema/*.json` is rendered from the same functions (see `sinks/docs.rs`).

use google_cloud_bigquery_v2::model::{
    Clustering, Table as TableResource, TableFieldSchema, TableSchema, TimePartitioning,
    ViewDefinition,
};
use jiff::Timestamp;
use serde_json::Value as Json;

use crate::sinks::schema::{Column, ColumnType, Mode, Table, Value, View, ViewKind};

pub(crate) fn type_name(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Date => "DATE",
        ColumnType::String => "STRING",
        ColumnType::Int32 | ColumnType::Int64 => "INT64",
        ColumnType::Timestamp => "TIMESTAMP",
        ColumnType::Bool => "BOOL",
        ColumnType::Float64 => "FLOAT64",
    }
}

pub(crate) fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Required => "REQUIRED",
        Mode::Nullable => "NULLABLE",
        Mode::Repeated => "REPEATED",
    }
}

pub(super) fn field(c: &Column) -> TableFieldSchema {
    TableFieldSchema::new()
        .set_name(c.name)
        .set_type(type_name(c.ty))
        .set_mode(mode_name(c.mode))
        .set_description(c.description)
}

/// The schema to create a table with, descriptions included.
pub(super) fn table_schema(table: &Table) -> TableSchema {
    TableSchema::new().set_fields(table.columns.iter().map(field))
}

/// The table resource `open` creates when the table is missing.
pub(super) fn table_resource(table: &Table) -> TableResource {
    let mut resource = TableResource::new()
        .set_description(table.description)
        .set_schema(table_schema(table));
    if let Some(column) = table.partition_by {
        resource = resource
            .set_time_partitioning(TimePartitioning::new().set_type("DAY").set_field(column));
    }
    if !table.cluster_by.is_empty() {
        resource =
            resource.set_clustering(Clustering::new().set_fields(table.cluster_by.iter().copied()));
    }
    resource
}

/// The view resource; `from` is the table's path for SQL.
pub(super) fn view_resource(view: &View, from: &str) -> TableResource {
    TableResource::new()
        .set_description(view.description)
        .set_view(
            ViewDefinition::new()
                .set_query(view_sql(view, from))
                .set_use_legacy_sql(false),
        )
}

fn view_sql(view: &View, from: &str) -> String {
    let columns = view.columns.join(", ");
    match view.kind {
        ViewKind::Unnest { unnest, element } => {
            format!("SELECT {columns}, {element}\nFROM {from}, UNNEST({unnest}) AS {element}")
        }
        ViewKind::PerPage {
            condition,
            aggregates,
            order_by,
        } => {
            let aggregates: Vec<String> = aggregates
                .iter()
                .map(|(name, expr)| format!("{expr} AS {name}"))
                .collect();
            format!(
                "SELECT {columns}, {}\nFROM {from}\nWHERE {condition}\nGROUP BY {columns}\nORDER BY {}",
                aggregates.join(", "),
                order_by.join(", ")
            )
        }
        ViewKind::AcrossWikis {
            condition,
            per_wiki,
            aggregates,
            order_by,
        } => {
            let named = |list: &[(&str, &str)]| -> String {
                let parts: Vec<String> = list
                    .iter()
                    .map(|(name, expr)| format!("{expr} AS {name}"))
                    .collect();
                parts.join(", ")
            };
            format!(
                "SELECT {columns}, {}\nFROM (\n  SELECT {columns}, project, {}\n  FROM {from}\n  \
                 WHERE {condition}\n  GROUP BY {columns}, project\n) AS per_wiki\nGROUP BY \
                 {columns}\nORDER BY {}",
                named(aggregates),
                named(per_wiki),
                order_by.join(", ")
            )
        }
    }
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
/// (order and descriptions do not matter: every statement names its columns). A column
/// in `added` (added by a migration step) may be NULLABLE where the definition says
/// REQUIRED, as BigQuery adds no REQUIRED column to an existing table. Returns the
/// differences in one line, or `None` when the table fits.
pub(super) fn differences(
    expected: &Table,
    found: &[TableFieldSchema],
    added: &[&str],
) -> Option<String> {
    let mut diffs = Vec::new();
    for column in expected.columns {
        let (want_ty, want_mode) = (type_name(column.ty), mode_name(column.mode));
        let relaxed = column.mode == Mode::Required && added.contains(&column.name);
        match found.iter().find(|f| f.name == column.name) {
            None => diffs.push(format!("column `{}` is missing", column.name)),
            Some(f) => {
                let (ty, mode) = (canonical_type(&f.r#type), canonical_mode(&f.mode));
                let mode_ok = mode == want_mode || (relaxed && mode == "NULLABLE");
                if ty != want_ty || !mode_ok {
                    diffs.push(format!(
                        "column `{}` is {ty} {mode}, expected {want_ty} {want_mode}",
                        column.name
                    ));
                }
            }
        }
    }
    for f in found {
        if expected.column(&f.name).is_none() {
            diffs.push(format!("column `{}` is not expected", f.name));
        }
    }
    (!diffs.is_empty()).then(|| diffs.join("; "))
}

/// A column name quoted for GoogleSQL. The names come from our own definition, but
/// quoting keeps a future column called e.g. `hash` or `range` from becoming a keyword.
pub(super) fn quoted(name: &str) -> String {
    format!("`{name}`")
}

/// The expression reading column `c` out of the JSON object `src` (a STRING). Values
/// arrive in the JSON as strings or arrays of strings (see [`to_json`]), so each type
/// has one exact conversion: 64-bit integers are never parsed through a JSON number.
pub(super) fn from_json(column: &Column, src: &str) -> String {
    let path = format!("'$.{}'", column.name);
    if column.mode == Mode::Repeated {
        return format!("JSON_VALUE_ARRAY({src}, {path})");
    }
    let value = format!("JSON_VALUE({src}, {path})");
    match column.ty {
        ColumnType::String => value,
        ColumnType::Timestamp => format!("TIMESTAMP_MICROS(CAST({value} AS INT64))"),
        other => format!("CAST({value} AS {})", type_name(other)),
    }
}

/// Appends a row as a JSON object, each value a string (integers and timestamps as
/// integer microseconds, in decimal), a list of strings or null, keyed by column name
/// in the table's order.
pub(super) fn to_json(table: &Table, values: &[Value], out: &mut String) {
    out.push('{');
    for (i, (column, value)) in table.columns.iter().zip(values).enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(out, column.name);
        out.push(':');
        match value {
            Value::Null => out.push_str("null"),
            Value::Date(d) => push_json_string(out, &d.to_string()),
            Value::String(s) => push_json_string(out, s),
            Value::Int(n) => push_json_string(out, &n.to_string()),
            Value::Timestamp(t) => push_json_string(out, &t.as_microsecond().to_string()),
            Value::Bool(b) => push_json_string(out, if *b { "true" } else { "false" }),
            // Rust prints the shortest decimal that reads back as the same double.
            Value::Float(x) => push_json_string(out, &x.to_string()),
            Value::List(items) => {
                out.push('[');
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        out.push(',');
                    }
                    push_json_string(out, item);
                }
                out.push(']');
            }
        }
    }
    out.push('}');
}

fn push_json_string(out: &mut String, s: &str) {
    // Serializing a string cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

/// One result cell (`{"v": …}`'s value) of `column` as a [`Value`]. TIMESTAMPs arrive
/// as integer microseconds because every read asks for
/// `formatOptions.useInt64Timestamp` (the emulator answers that way regardless).
pub(super) fn from_cell(column: &Column, cell: &Json) -> Result<Value, String> {
    let name = column.name;
    if column.mode == Mode::Repeated {
        return match cell {
            Json::Null => Ok(Value::List(Vec::new())),
            Json::Array(items) => items
                .iter()
                .map(|item| match item.get("v").unwrap_or(item) {
                    Json::String(s) => Ok(s.clone()),
                    other => Err(format!("column `{name}` holds {other} in a list")),
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Err(format!("column `{name}` holds {other}, expected a list")),
        };
    }
    let text = match cell {
        Json::Null => return Ok(Value::Null),
        Json::String(s) => s.as_str(),
        other => return Err(format!("column `{name}` holds {other}, expected a string")),
    };
    let int = || {
        text.parse::<i64>()
            .map_err(|_| format!("column `{name}` holds `{text}`, expected an integer"))
    };
    Ok(match column.ty {
        ColumnType::String => Value::String(text.to_owned()),
        ColumnType::Date => Value::Date(
            text.parse()
                .map_err(|_| format!("column `{name}` holds `{text}`, expected a date"))?,
        ),
        ColumnType::Int32 | ColumnType::Int64 => Value::Int(int()?),
        ColumnType::Bool => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => {
                return Err(format!(
                    "column `{name}` holds `{text}`, expected a boolean"
                ));
            }
        },
        ColumnType::Float64 => Value::Float(
            text.parse()
                .map_err(|_| format!("column `{name}` holds `{text}`, expected a number"))?,
        ),
        ColumnType::Timestamp => {
            Value::Timestamp(Timestamp::from_microsecond(int()?).map_err(|_| {
                format!("column `{name}` holds `{text}`, out of the timestamp range")
            })?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::schema::{INGEST_RUNS, TOP_PAGES};

    #[test]
    fn legacy_type_names_match() {
        let found: Vec<TableFieldSchema> = TOP_PAGES
            .columns
            .iter()
            .map(|c| {
                let ty = type_name(c.ty);
                TableFieldSchema::new()
                    .set_name(c.name)
                    .set_type(if ty == "INT64" { "INTEGER" } else { ty })
                    .set_mode(if c.mode == Mode::Nullable {
                        ""
                    } else {
                        mode_name(c.mode)
                    })
            })
            .rev()
            .collect();
        assert_eq!(differences(&TOP_PAGES, &found, &[]), None);
    }

    #[test]
    fn differences_name_each_column() {
        let mut found: Vec<TableFieldSchema> = table_schema(&TOP_PAGES).fields;
        found.retain(|f| f.name != "views");
        found[0] = found[0].clone().set_type("STRING");
        found.push(TableFieldSchema::new().set_name("extra").set_type("STRING"));
        assert_eq!(
            differences(&TOP_PAGES, &found, &[]).as_deref(),
            Some(
                "column `date` is STRING REQUIRED, expected DATE REQUIRED; column `views` is \
                 missing; column `extra` is not expected"
            )
        );
    }

    #[test]
    fn a_column_added_by_a_migration_may_be_nullable() {
        let nullable_views = |f: TableFieldSchema| {
            if f.name == "views" {
                f.set_mode("NULLABLE")
            } else {
                f
            }
        };
        let found: Vec<TableFieldSchema> = table_schema(&TOP_PAGES)
            .fields
            .into_iter()
            .map(nullable_views)
            .collect();
        assert_eq!(differences(&TOP_PAGES, &found, &["views"]), None);
        assert_eq!(
            differences(&TOP_PAGES, &found, &[]).as_deref(),
            Some("column `views` is INT64 NULLABLE, expected INT64 REQUIRED")
        );
    }

    #[test]
    fn json_extraction_per_type() {
        let col = |ty, mode| Column {
            name: "c",
            ty,
            mode,
            description: "",
            note: "",
        };
        assert_eq!(
            from_json(&col(ColumnType::String, Mode::Required), "x"),
            "JSON_VALUE(x, '$.c')"
        );
        assert_eq!(
            from_json(&col(ColumnType::Int32, Mode::Nullable), "x"),
            "CAST(JSON_VALUE(x, '$.c') AS INT64)"
        );
        assert_eq!(
            from_json(&col(ColumnType::Date, Mode::Required), "x"),
            "CAST(JSON_VALUE(x, '$.c') AS DATE)"
        );
        assert_eq!(
            from_json(&col(ColumnType::Timestamp, Mode::Required), "@run"),
            "TIMESTAMP_MICROS(CAST(JSON_VALUE(@run, '$.c') AS INT64))"
        );
        assert_eq!(
            from_json(&col(ColumnType::String, Mode::Repeated), "x"),
            "JSON_VALUE_ARRAY(x, '$.c')"
        );
    }

    #[test]
    fn cells_decode_by_column_type() {
        let c = |name| *INGEST_RUNS.column(name).unwrap();
        let cell = |s: &str| Json::String(s.to_owned());
        assert_eq!(
            from_cell(&c("started_at"), &cell("1680307200123456")).unwrap(),
            Value::Timestamp(Timestamp::from_microsecond(1_680_307_200_123_456).unwrap())
        );
        assert_eq!(
            from_cell(&c("finished_at"), &Json::Null).unwrap(),
            Value::Null
        );
        assert_eq!(
            from_cell(&c("days_written"), &cell("-5")).unwrap(),
            Value::Int(-5)
        );
        assert!(
            from_cell(&c("days_written"), &cell("x"))
                .unwrap_err()
                .contains("`days_written` holds `x`")
        );
        let list = serde_json::json!([{"v": "a"}, {"v": "b"}]);
        assert_eq!(
            from_cell(TOP_PAGES.column("categories").unwrap(), &list).unwrap(),
            Value::List(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            from_cell(TOP_PAGES.column("date").unwrap(), &cell("2023-04-01")).unwrap(),
            Value::Date(jiff::civil::date(2023, 4, 1))
        );
    }
}
