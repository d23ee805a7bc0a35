//! Read-only GoogleSQL against the dataset ([`ReadStore`]): one query job, its
//! parameters bound by name, its rows (every value a JSON string in the REST answer)
//! decoded by the kind the caller expects.

use serde_json::Value as Json;

use super::BigQuerySink;
use super::rows::{cells, scalar_param, string_param};
use crate::error::{Error, Message, Result};
use crate::sinks::read::{Dialect, Param, ReadStore};
use crate::sinks::schema::{ColumnType, Value};

fn decode(value: &Json, ty: ColumnType) -> std::result::Result<Value, String> {
    let text = match value {
        Json::Null => return Ok(Value::Null),
        Json::String(s) => s.as_str(),
        // An ARRAY<STRING> comes as `[{"v": "a"}, …]` (the REST API's `f`/`v` rows).
        Json::Array(items) if ty == ColumnType::String => {
            return items
                .iter()
                .map(|item| match &item["v"] {
                    Json::String(s) => Ok(s.clone()),
                    other => Err(format!("{other} in an array, expected a string")),
                })
                .collect::<std::result::Result<_, _>>()
                .map(Value::List);
        }
        other => return Err(format!("{other}, expected {ty:?} as a string")),
    };
    let bad = |e: &dyn std::fmt::Display| format!("`{text}`, expected {ty:?}: {e}");
    Ok(match ty {
        ColumnType::Int32 | ColumnType::Int64 => Value::Int(text.parse().map_err(|e| bad(&e))?),
        ColumnType::Float64 => Value::Float(text.parse().map_err(|e| bad(&e))?),
        ColumnType::String => Value::String(text.to_owned()),
        ColumnType::Date => Value::Date(text.parse().map_err(|e| bad(&e))?),
        ColumnType::Bool => Value::Bool(text.parse().map_err(|e| bad(&e))?),
        ColumnType::Timestamp => return Err(format!("`{text}`: no query reads a timestamp")),
    })
}

impl ReadStore for BigQuerySink {
    fn dialect(&self) -> Dialect {
        Dialect::BigQuery
    }

    fn table(&self, name: &str) -> String {
        super::sql::table_path(&self.settings, name)
    }

    async fn select(
        &mut self,
        what: &str,
        sql: &str,
        params: &[(&str, Param)],
        columns: &[(&str, ColumnType)],
    ) -> Result<Vec<Vec<Value>>> {
        let params = params
            .iter()
            .map(|(name, value)| match value {
                Param::Date(d) => scalar_param(name, "DATE", &d.to_string()),
                Param::String(s) => string_param(name, s),
            })
            .collect();
        let rows = self.query(what, sql, params).await?;
        rows.iter()
            .map(|row| {
                cells(row, columns.len())
                    .and_then(|cells| {
                        cells
                            .into_iter()
                            .zip(columns)
                            .map(|(v, (_, ty))| decode(v, *ty))
                            .collect()
                    })
                    .map_err(|e| {
                        Error::store(
                            what,
                            Message(format!("unexpected answer from BigQuery: {e}")),
                        )
                    })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_decode_from_strings_by_kind() {
        let s = |t: &str| Json::String(t.into());
        assert_eq!(decode(&s("12"), ColumnType::Int64), Ok(Value::Int(12)));
        assert_eq!(
            decode(&s("0.25"), ColumnType::Float64),
            Ok(Value::Float(0.25))
        );
        assert_eq!(
            decode(&s("1E-2"), ColumnType::Float64),
            Ok(Value::Float(0.01))
        );
        assert_eq!(decode(&s("true"), ColumnType::Bool), Ok(Value::Bool(true)));
        assert_eq!(
            decode(&s("2024-02-29"), ColumnType::Date),
            Ok(Value::Date(jiff::civil::date(2024, 2, 29)))
        );
        assert_eq!(decode(&Json::Null, ColumnType::Int64), Ok(Value::Null));
        assert!(decode(&s("x"), ColumnType::Int64).is_err());
    }
}
