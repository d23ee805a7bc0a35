//! Read-only SQL against the DuckDB store ([`ReadStore`]), and `COPY … TO` for
//! `wikitop export`. Parameters written `@name` become DuckDB's numbered `$n`, each
//! name one number however often it appears, and are bound as values.

use std::path::Path;

use duckdb::types::Value as DuckValue;
use duckdb::{params_from_iter, types::ToSql};

use super::DuckDbSink;
use super::sql::{ident, literal};
use crate::error::{Error, Message, Result};
use crate::model::Day;
use crate::sinks::read::{Dialect, Param, ReadStore};
use crate::sinks::schema::{ColumnType, Value};

/// A file format `COPY … TO` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyFormat {
    Parquet,
    Csv,
}

impl DuckDbSink {
    /// Writes every row of `table` (or view) to `path` with DuckDB's own `COPY … TO`, in
    /// key order so two exports of one store are identical; returns the row count.
    /// CSV has no lists: list columns are written as JSON arrays there, which any
    /// CSV reader can parse back exactly (Parquet keeps them as lists).
    pub(crate) fn copy_to(
        &self,
        table: &'static crate::sinks::schema::Table,
        order: &str,
        path: &Path,
        format: CopyFormat,
    ) -> Result<u64> {
        let columns = table
            .columns
            .iter()
            .map(|c| match (format, c.mode) {
                (CopyFormat::Csv, crate::sinks::schema::Mode::Repeated) => {
                    format!("CAST(to_json({0}) AS VARCHAR) AS {0}", ident(c.name))
                }
                _ => ident(c.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let options = match format {
            CopyFormat::Parquet => "FORMAT parquet, COMPRESSION zstd",
            CopyFormat::Csv => "FORMAT csv, HEADER true",
        };
        // A path is not a bindable parameter in COPY: quoted as an SQL string literal.
        let sql = format!(
            "COPY (SELECT {columns} FROM {} ORDER BY {order}) TO {} ({options})",
            ident(table.name),
            literal(&path.display().to_string()),
        );
        let doing = format!("exporting `{}` to `{}`", table.name, path.display());
        let rows = self
            .conn
            .execute(&sql, [])
            .map_err(|e| Error::store(&doing, e))?;
        Ok(rows as u64)
    }
}

/// `sql` with each `@name` replaced by `$n`, and the values in `$n` order.
fn numbered<'p>(sql: &str, params: &'p [(&str, Param)]) -> Result<(String, Vec<&'p Param>)> {
    let mut out = String::with_capacity(sql.len());
    let mut order: Vec<&str> = Vec::new();
    let mut rest = sql;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 1..];
        let len = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..len];
        let n = match order.iter().position(|o| *o == name) {
            Some(i) => i + 1,
            None => {
                order.push(name);
                order.len()
            }
        };
        out.push_str(&format!("${n}"));
        rest = &tail[len..];
    }
    out.push_str(rest);
    let values = order
        .iter()
        .map(|name| {
            params
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .ok_or_else(|| {
                    Error::store(
                        "preparing a query",
                        Message(format!("no value for the parameter `@{name}`")),
                    )
                })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((out, values))
}

fn to_sql(param: &Param) -> DuckValue {
    match param {
        Param::Date(d) => DuckValue::Date32(epoch_days(*d)),
        Param::String(s) => DuckValue::Text(s.clone()),
    }
}

const EPOCH: Day = jiff::civil::date(1970, 1, 1);

fn epoch_days(d: Day) -> i32 {
    // Days since 1970 fit an i32 for every civil date jiff can hold.
    (d - EPOCH).get_days()
}

fn decode(value: DuckValue, ty: ColumnType) -> std::result::Result<Value, String> {
    use ColumnType as T;
    use DuckValue as V;
    let int = |n: i128| i64::try_from(n).map_err(|_| format!("{n} is out of range"));
    Ok(match (ty, value) {
        (_, V::Null) => Value::Null,
        (T::Int32 | T::Int64, V::TinyInt(n)) => Value::Int(n.into()),
        (T::Int32 | T::Int64, V::SmallInt(n)) => Value::Int(n.into()),
        (T::Int32 | T::Int64, V::Int(n)) => Value::Int(n.into()),
        (T::Int32 | T::Int64, V::BigInt(n)) => Value::Int(n),
        (T::Int32 | T::Int64, V::HugeInt(n)) => Value::Int(int(n)?),
        (T::Int32 | T::Int64, V::UInt(n)) => Value::Int(n.into()),
        (T::Int32 | T::Int64, V::UBigInt(n)) => Value::Int(int(n.into())?),
        (T::Float64, V::Double(x)) => Value::Float(x),
        (T::Float64, V::Float(x)) => Value::Float(x.into()),
        (T::Float64, V::BigInt(n)) => Value::Float(n as f64),
        (T::Float64, V::HugeInt(n)) => Value::Float(n as f64),
        (T::String, V::Text(s)) => Value::String(s),
        // A list of strings (a repeated column, or a view's ARRAY_AGG).
        (T::String, V::List(items)) => Value::List(
            items
                .into_iter()
                .map(|item| match item {
                    V::Text(s) => Ok(s),
                    other => Err(format!("{other:?} in a list, expected a string")),
                })
                .collect::<std::result::Result<_, _>>()?,
        ),
        (T::Bool, V::Boolean(b)) => Value::Bool(b),
        (T::Date, V::Date32(days)) => Value::Date(
            EPOCH
                .checked_add(jiff::Span::new().days(days))
                .map_err(|e| format!("day {days} after 1970: {e}"))?,
        ),
        (ty, other) => return Err(format!("{other:?}, expected {ty:?}")),
    })
}

impl ReadStore for DuckDbSink {
    fn dialect(&self) -> Dialect {
        Dialect::DuckDb
    }

    fn table(&self, name: &str) -> String {
        ident(name)
    }

    async fn select(
        &mut self,
        what: &str,
        sql: &str,
        params: &[(&str, Param)],
        columns: &[(&str, ColumnType)],
    ) -> Result<Vec<Vec<Value>>> {
        let (sql, values) = numbered(sql, params)?;
        let values: Vec<DuckValue> = values.into_iter().map(to_sql).collect();
        let mut stmt = self.conn.prepare(&sql).map_err(|e| Error::store(what, e))?;
        let raw: Vec<Vec<DuckValue>> = stmt
            .query_map(
                params_from_iter(values.iter().map(|v| v as &dyn ToSql)),
                |row| {
                    (0..columns.len())
                        .map(|i| row.get::<_, DuckValue>(i))
                        .collect()
                },
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| Error::store(what, e))?;
        let names = stmt.column_names();
        let wanted: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
        if names != wanted {
            let why = format!("the query's columns are {names:?}, expected {wanted:?}");
            return Err(Error::store(what, Message(why)));
        }
        raw.into_iter()
            .map(|row| {
                row.into_iter()
                    .zip(columns)
                    .map(|(v, (_, ty))| decode(v, *ty).map_err(|e| Error::store(what, Message(e))))
                    .collect()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_parameters_become_numbered_ones_once_per_name() {
        let params = [
            ("since", Param::String("a".into())),
            ("until", Param::String("b".into())),
        ];
        let (sql, values) =
            numbered("x BETWEEN @since AND @until AND @since < y", &params).unwrap();
        assert_eq!(sql, "x BETWEEN $1 AND $2 AND $1 < y");
        assert_eq!(values, [&params[0].1, &params[1].1]);
        assert!(numbered("@missing", &params).is_err());
    }

    #[test]
    fn dates_round_trip_through_day_numbers() {
        let d = jiff::civil::date(2024, 2, 29);
        assert_eq!(
            decode(DuckValue::Date32(epoch_days(d)), ColumnType::Date),
            Ok(Value::Date(d))
        );
        assert_eq!(
            decode(DuckValue::HugeInt(5), ColumnType::Int64),
            Ok(Value::Int(5))
        );
        assert!(decode(DuckValue::Text("x".into()), ColumnType::Int64).is_err());
    }
}
