//! The tables of `sinks/schema.rs` in DuckDB's terms: type names, DDL and comments, the
//! staging table and the statements moving rows through it, and the conversion of
//! [`Value`]s to parameters and back from result rows. Knows nothing of the sink.
//!
//! Rows reach DuckDB through its appender, which takes primitive values only, so every
//! column has a primitive *stage* form (a date as text, a timestamp as integer
//! microseconds, a list as its items joined by a control character) and one SQL
//! expression turning the stage form into the stored one; reads use the inverse.

use duckdb::types::Value as DuckValue;

use crate::sinks::schema::{Column, ColumnType, Mode, Table, Value, View, ViewKind};

/// Joins list values in the stage; never part of a MediaWiki title (control character).
pub(super) const LIST_SEP: char = '\u{1f}';

pub(crate) fn column_type(c: &Column) -> String {
    let base = match c.ty {
        ColumnType::Date => "DATE",
        ColumnType::String => "VARCHAR",
        ColumnType::Int32 => "INTEGER",
        ColumnType::Int64 => "BIGINT",
        ColumnType::Timestamp => "TIMESTAMP",
        ColumnType::Bool => "BOOLEAN",
        ColumnType::Float64 => "DOUBLE",
    };
    match c.mode {
        Mode::Repeated => format!("{base}[]"),
        Mode::Required | Mode::Nullable => base.to_owned(),
    }
}

/// An identifier quoted for DuckDB (the names are ours; quoting keeps keywords safe).
pub(super) fn ident(name: &str) -> String {
    format!("\"{name}\"")
}

/// A string as an SQL literal.
pub(super) fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn not_null(c: &Column) -> &'static str {
    match c.mode {
        Mode::Required | Mode::Repeated => " NOT NULL",
        Mode::Nullable => "",
    }
}

pub(super) fn create_table(table: &Table) -> String {
    let columns = table
        .columns
        .iter()
        .map(|c| format!("    {} {}{}", ident(c.name), column_type(c), not_null(c)))
        .collect::<Vec<_>>()
        .join(",\n");
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n{columns}\n);\n",
        ident(table.name)
    )
}

/// The table's and every column's description as DuckDB comments.
pub(super) fn describe(table: &Table) -> String {
    let mut sql = format!(
        "COMMENT ON TABLE {} IS {};\n",
        ident(table.name),
        literal(table.description)
    );
    for c in table.columns {
        sql.push_str(&format!(
            "COMMENT ON COLUMN {}.{} IS {};\n",
            ident(table.name),
            ident(c.name),
            literal(c.description)
        ));
    }
    sql
}

pub(super) fn create_view(view: &View) -> String {
    let mut columns: Vec<String> = view.columns.iter().map(|c| ident(c)).collect();
    let mut tail = String::new();
    match view.kind {
        ViewKind::Unnest { unnest, element } => {
            columns.push(format!("unnest({}) AS {}", ident(unnest), ident(element)));
        }
        ViewKind::PerPage {
            condition,
            aggregates,
            order_by,
        } => {
            let group = columns.join(", ");
            columns.extend(
                aggregates
                    .iter()
                    .map(|(name, expr)| format!("{expr} AS {}", ident(name))),
            );
            let order: Vec<String> = order_by.iter().map(|c| ident(c)).collect();
            tail = format!(
                " WHERE {condition} GROUP BY {group} ORDER BY {}",
                order.join(", ")
            );
        }
        ViewKind::AcrossWikis {
            condition,
            per_wiki,
            aggregates,
            order_by,
        } => {
            let group = columns.join(", ");
            let inner: Vec<String> = per_wiki
                .iter()
                .map(|(name, expr)| format!("{expr} AS {}", ident(name)))
                .collect();
            let outer: Vec<String> = aggregates
                .iter()
                .map(|(name, expr)| format!("{expr} AS {}", ident(name)))
                .collect();
            let order: Vec<String> = order_by.iter().map(|c| ident(c)).collect();
            return format!(
                "CREATE OR REPLACE VIEW {view} AS SELECT {group}, {} FROM (SELECT {group}, \
                 project, {} FROM {} WHERE {condition} GROUP BY {group}, project) AS per_wiki \
                 GROUP BY {group} ORDER BY {};\nCOMMENT ON VIEW {view} IS {};\n",
                outer.join(", "),
                inner.join(", "),
                ident(view.from.name),
                order.join(", "),
                literal(view.description),
                view = ident(view.name),
            );
        }
    }
    format!(
        "CREATE OR REPLACE VIEW {} AS SELECT {} FROM {}{tail};\nCOMMENT ON VIEW {} IS {};\n",
        ident(view.name),
        columns.join(", "),
        ident(view.from.name),
        ident(view.name),
        literal(view.description)
    )
}

fn stage_type(c: &Column) -> &'static str {
    match (c.mode, c.ty) {
        (Mode::Repeated, _) => "VARCHAR",
        (_, ColumnType::Date | ColumnType::String) => "VARCHAR",
        (_, ColumnType::Int32 | ColumnType::Int64 | ColumnType::Timestamp) => "BIGINT",
        (_, ColumnType::Bool) => "BOOLEAN",
        (_, ColumnType::Float64) => "DOUBLE",
    }
}

/// The temporary staging table for `table`'s rows, recreated for every write.
pub(super) fn create_stage(table: &Table, stage: &str) -> String {
    let columns = table
        .columns
        .iter()
        .map(|c| format!("{} {}", ident(c.name), stage_type(c)))
        .collect::<Vec<_>>()
        .join(", ");
    format!("CREATE OR REPLACE TEMP TABLE {stage} ({columns});\n")
}

/// The stored form of `src`, the stage form of column `c`.
pub(super) fn from_stage(c: &Column, src: &str) -> String {
    if c.mode == Mode::Repeated {
        return format!(
            "CASE WHEN {src} = '' THEN []::VARCHAR[] ELSE string_split({src}, chr({})) END",
            LIST_SEP as u32
        );
    }
    match c.ty {
        ColumnType::Date => format!("CAST({src} AS DATE)"),
        ColumnType::Int32 => format!("CAST({src} AS INTEGER)"),
        ColumnType::Timestamp => format!("make_timestamp({src})"),
        ColumnType::String | ColumnType::Int64 | ColumnType::Bool | ColumnType::Float64 => {
            src.to_owned()
        }
    }
}

/// The stage form of the stored column `c`, for reading back.
fn to_stage(c: &Column) -> String {
    let name = ident(c.name);
    if c.mode == Mode::Repeated {
        return format!("array_to_string({name}, chr({}))", LIST_SEP as u32);
    }
    match c.ty {
        ColumnType::Date => format!("CAST({name} AS VARCHAR)"),
        ColumnType::Timestamp => format!("epoch_us({name})"),
        ColumnType::Int32 => format!("CAST({name} AS BIGINT)"),
        ColumnType::String | ColumnType::Int64 | ColumnType::Bool | ColumnType::Float64 => name,
    }
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|c| ident(c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Moves every staged row into the table.
pub(super) fn insert_from_stage(table: &Table, stage: &str) -> String {
    let values = table
        .columns
        .iter()
        .map(|c| from_stage(c, &ident(c.name)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {} ({}) SELECT {values} FROM {stage}",
        ident(table.name),
        column_list(table)
    )
}

/// Inserts one row given as parameters in stage form (see [`to_param`]).
pub(super) fn insert_values(table: &Table) -> String {
    let values = table
        .columns
        .iter()
        .map(|c| from_stage(c, "?"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO {} ({}) VALUES ({values})",
        ident(table.name),
        column_list(table)
    )
}

/// The table's columns in stage form, for `SELECT … FROM table`; read with [`read`].
/// A column the store does not have (`has` says no) reads as NULL.
pub(super) fn select_list(table: &Table, has: impl Fn(&str) -> bool) -> String {
    table
        .columns
        .iter()
        .map(|c| {
            if has(c.name) {
                to_stage(c)
            } else {
                "NULL".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value in stage form, for the appender or a parameter.
pub(super) fn to_param(value: &Value) -> DuckValue {
    match value {
        Value::Null => DuckValue::Null,
        Value::Date(d) => DuckValue::Text(d.to_string()),
        Value::String(s) => DuckValue::Text(s.clone()),
        Value::Int(n) => DuckValue::BigInt(*n),
        Value::Timestamp(t) => DuckValue::BigInt(t.as_microsecond()),
        Value::Bool(b) => DuckValue::Boolean(*b),
        Value::Float(x) => DuckValue::Double(*x),
        Value::List(items) => {
            let mut joined = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    joined.push(LIST_SEP);
                }
                joined.push_str(item);
            }
            DuckValue::Text(joined)
        }
    }
}

/// Reads the cells of one result row of [`select_list`] back into [`Value`]s.
pub(super) fn read(
    table: &Table,
    row: &duckdb::Row<'_>,
) -> duckdb::Result<Result<Vec<Value>, String>> {
    let mut values = Vec::with_capacity(table.columns.len());
    for (i, c) in table.columns.iter().enumerate() {
        let value = match (c.mode, c.ty) {
            (Mode::Repeated, _) => {
                let s: Option<String> = row.get(i)?;
                Value::List(match s.as_deref() {
                    None | Some("") => Vec::new(),
                    Some(s) => s.split(LIST_SEP).map(str::to_owned).collect(),
                })
            }
            (_, ColumnType::String | ColumnType::Date) => match row.get::<_, Option<String>>(i)? {
                None => Value::Null,
                Some(s) if c.ty == ColumnType::String => Value::String(s),
                Some(s) => match s.parse() {
                    Ok(d) => Value::Date(d),
                    Err(_) => {
                        return Ok(Err(format!(
                            "column `{}` holds `{s}`, expected a date",
                            c.name
                        )));
                    }
                },
            },
            (_, ColumnType::Int32 | ColumnType::Int64) => row
                .get::<_, Option<i64>>(i)?
                .map_or(Value::Null, Value::Int),
            (_, ColumnType::Bool) => row
                .get::<_, Option<bool>>(i)?
                .map_or(Value::Null, Value::Bool),
            (_, ColumnType::Float64) => row
                .get::<_, Option<f64>>(i)?
                .map_or(Value::Null, Value::Float),
            (_, ColumnType::Timestamp) => match row.get::<_, Option<i64>>(i)? {
                None => Value::Null,
                Some(us) => match jiff::Timestamp::from_microsecond(us) {
                    Ok(t) => Value::Timestamp(t),
                    Err(_) => {
                        return Ok(Err(format!(
                            "column `{}` holds {us} µs, out of range",
                            c.name
                        )));
                    }
                },
            },
        };
        values.push(value);
    }
    Ok(Ok(values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::schema::{INGEST_RUNS, TOP_PAGES};

    #[test]
    fn ddl_follows_the_definition() {
        let ddl = create_table(&TOP_PAGES);
        for needle in [
            "\"date\" DATE NOT NULL",
            "\"rank\" INTEGER NOT NULL",
            "\"views\" BIGINT NOT NULL",
            "\"page_id\" BIGINT,",
            "\"namespace\" INTEGER,",
            "\"categories\" VARCHAR[] NOT NULL",
            "\"categories_fetched_at\" TIMESTAMP NOT NULL",
        ] {
            assert!(ddl.contains(needle), "{needle}\n{ddl}");
        }
        let runs = create_table(&INGEST_RUNS);
        assert!(runs.contains("\"finished_at\" TIMESTAMP,"), "{runs}");
        assert!(describe(&TOP_PAGES).contains("the Pageviews API''s - row"));
    }

    #[test]
    fn stage_expressions_per_type() {
        let insert = insert_from_stage(&TOP_PAGES, "s");
        for needle in [
            "CAST(\"date\" AS DATE)",
            "CAST(\"rank\" AS INTEGER)",
            "make_timestamp(\"ingested_at\")",
            "string_split(\"categories\", chr(31))",
        ] {
            assert!(insert.contains(needle), "{needle}\n{insert}");
        }
        assert!(
            select_list(&TOP_PAGES, |_| true)
                .contains("array_to_string(\"hidden_categories\", chr(31))")
        );
    }
}
