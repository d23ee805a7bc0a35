//! Read-only GoogleSQL against the dataset ([`ReadStore`]): one query job, its
//! parameters bound by name, its rows (every value a JSON string in the REST answer)
//! decoded by the kind the caller expects.

use serde_json::Value;

use super::BigQuerySink;
use super::rows::{cells, scalar_param, string_param};
use crate::error::{Error, Message, Result};
use crate::sinks::read::{Cell, Dialect, Kind, Param, ReadStore};

fn decode(value: &Value, kind: Kind) -> std::result::Result<Cell, String> {
    let text = match value {
        Value::Null => return Ok(Cell::Null),
        Value::String(s) => s.as_str(),
        other => return Err(format!("{other}, expected {kind:?} as a string")),
    };
    let bad = |e: &dyn std::fmt::Display| format!("`{text}`, expected {kind:?}: {e}");
    Ok(match kind {
        Kind::Int => Cell::Int(text.parse().map_err(|e| bad(&e))?),
        Kind::Float => Cell::Float(text.parse().map_err(|e| bad(&e))?),
        Kind::String => Cell::String(text.to_owned()),
        Kind::Date => Cell::Date(text.parse().map_err(|e| bad(&e))?),
        Kind::Bool => Cell::Bool(text.parse().map_err(|e| bad(&e))?),
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
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Cell>>> {
        let params = params
            .iter()
            .map(|(name, value)| match value {
                Param::Date(d) => scalar_param(name, "DATE", &d.to_string()),
                Param::String(s) => string_param(name, s),
            })
            .collect();
        let rows = Box::pin(self.query(what, sql, params)).await?;
        rows.iter()
            .map(|row| {
                cells(row, kinds.len())
                    .and_then(|cells| {
                        cells
                            .into_iter()
                            .zip(kinds)
                            .map(|(v, k)| decode(v, *k))
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
        let s = |t: &str| Value::String(t.into());
        assert_eq!(decode(&s("12"), Kind::Int), Ok(Cell::Int(12)));
        assert_eq!(decode(&s("0.25"), Kind::Float), Ok(Cell::Float(0.25)));
        assert_eq!(decode(&s("1E-2"), Kind::Float), Ok(Cell::Float(0.01)));
        assert_eq!(decode(&s("true"), Kind::Bool), Ok(Cell::Bool(true)));
        assert_eq!(
            decode(&s("2024-02-29"), Kind::Date),
            Ok(Cell::Date(jiff::civil::date(2024, 2, 29)))
        );
        assert_eq!(decode(&Value::Null, Kind::Int), Ok(Cell::Null));
        assert!(decode(&s("x"), Kind::Int).is_err());
    }
}
