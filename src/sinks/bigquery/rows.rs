//! Rows in and out of BigQuery: the JSON text that carries a chunk of days (or a run
//! record) as one STRING query parameter, the split of days into chunks by size, the
//! deterministic fingerprint of a chunk, and the decoding of `{"f":[{"v":…}]}` result rows.
//!
//! Rows are the definition's row types ([`TopPageRow`], [`IngestRunRow`]) encoded by
//! `schema::to_json`. Every value travels as a JSON string (or an array of strings), so
//! the SQL converts each one exactly (`schema::from_json`): 64-bit integers and timestamps (as integer
//! microseconds) never pass through a JSON number and its double rounding.

use std::collections::HashSet;
use std::ops::Range;

use google_cloud_bigquery_v2::model::{QueryParameter, QueryParameterType, QueryParameterValue};
use jiff::civil::Date;
use serde_json::Value;

use super::schema;
use crate::model::{DayBatch, RunRecord};
use crate::sinks::schema::{INGEST_RUNS, IngestRunRow, Row, TOP_PAGES, TopPageRow};

/// A day's rows as comma-separated JSON objects (a fragment of the chunk's array), and
/// how many rows were left out because their article came earlier in the day: the
/// MERGE matches on (date, project, access, article), which must be unique.
pub(super) fn day_fragment(day: &DayBatch) -> (String, usize) {
    let mut seen = HashSet::with_capacity(day.rows.len());
    let mut out = String::new();
    let mut duplicates = 0;
    for row in &day.rows {
        if !seen.insert(row.article.as_str()) {
            duplicates += 1;
            continue;
        }
        if !out.is_empty() {
            out.push(',');
        }
        schema::to_json(&TOP_PAGES, &TopPageRow::new(day, row).to_values(), &mut out);
    }
    (out, duplicates)
}

/// Joins day fragments into the JSON array passed as `@rows`.
pub(super) fn rows_array<'a>(fragments: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from("[");
    for fragment in fragments.into_iter().filter(|f| !f.is_empty()) {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(fragment);
    }
    out.push(']');
    out
}

/// The run record as the JSON object passed as `@run`.
pub(super) fn run_json(run: &RunRecord) -> String {
    let mut out = String::new();
    schema::to_json(&INGEST_RUNS, &IngestRunRow::new(run).to_values(), &mut out);
    out
}

/// Decodes one result row of all of `R`'s columns, in the definition's order.
pub(super) fn decode_row<R: Row>(row: &serde_json::Map<String, Value>) -> Result<R, String> {
    let columns = R::TABLE.columns;
    let cells = cells(row, columns.len())?;
    let values = columns
        .iter()
        .zip(cells)
        .map(|(column, cell)| schema::from_cell(column, cell))
        .collect::<Result<Vec<_>, _>>()?;
    R::from_values(values)
}

/// How many bytes `s` takes once written as a JSON string inside the request body
/// (quotes and backslashes escaped, control characters as `\n` or `\u00XX`): what the
/// 10 MB request limit counts.
pub(super) fn escaped_len(s: &str) -> usize {
    s.len()
        + s.bytes()
            .map(|b| match b {
                b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 1,
                0..=0x1f => 5,
                _ => 0,
            })
            .sum::<usize>()
}

/// Splits consecutive days into chunks of at most `max_bytes` each (by their escaped
/// size), in order. A day is never split: one larger than `max_bytes` is a chunk alone.
pub(super) fn chunks(sizes: &[usize], max_bytes: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, &size) in sizes.iter().enumerate() {
        if i > start && bytes + size > max_bytes {
            out.push(start..i);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

/// FNV-1a, 64 bits: a stable fingerprint (the same in every process and Rust version,
/// unlike `DefaultHasher`) for deterministic job ids.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fingerprint(u64);

impl Fingerprint {
    pub(super) fn new() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }

    /// Adds a field; the length prefix keeps `("ab","c")` apart from `("a","bc")`.
    pub(super) fn add(mut self, field: &str) -> Self {
        for b in (field.len() as u64)
            .to_le_bytes()
            .iter()
            .chain(field.as_bytes())
        {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
        self
    }

    pub(super) fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A run id reduced to what a job id may hold (letters, digits, `_`, `-`; at most 1024
/// characters in all), kept short so the id stays readable in the console.
pub(super) fn job_id_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

pub(super) fn string_param(name: &str, value: &str) -> QueryParameter {
    scalar_param(name, "STRING", value)
}

pub(super) fn scalar_param(name: &str, ty: &str, value: &str) -> QueryParameter {
    QueryParameter::new()
        .set_name(name)
        .set_parameter_type(QueryParameterType::new().set_type(ty))
        .set_parameter_value(QueryParameterValue::new().set_value(value))
}

pub(super) fn dates_param(name: &str, days: &[Date]) -> QueryParameter {
    QueryParameter::new()
        .set_name(name)
        .set_parameter_type(
            QueryParameterType::new()
                .set_type("ARRAY")
                .set_array_type(QueryParameterType::new().set_type("DATE")),
        )
        .set_parameter_value(
            QueryParameterValue::new().set_array_values(
                days.iter()
                    .map(|d| QueryParameterValue::new().set_value(d.to_string())),
            ),
        )
}

/// The cells of one result row, `{"f":[{"v":…},…]}`, checked against the column count.
pub(super) fn cells(
    row: &serde_json::Map<String, Value>,
    width: usize,
) -> Result<Vec<&Value>, String> {
    let fields = row
        .get("f")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("a result row without `f`: {}", Value::Object(row.clone())))?;
    if fields.len() != width {
        return Err(format!(
            "a result row with {} cells, expected {width}",
            fields.len()
        ));
    }
    Ok(fields
        .iter()
        .map(|f| f.get("v").unwrap_or(&Value::Null))
        .collect())
}

pub(super) fn opt_str<'a>(v: &'a Value, column: &str) -> Result<Option<&'a str>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(format!(
            "column `{column}` holds {other}, expected a string"
        )),
    }
}

pub(super) fn req_str<'a>(v: &'a Value, column: &str) -> Result<&'a str, String> {
    opt_str(v, column)?.ok_or_else(|| format!("column `{column}` is NULL"))
}

pub(super) fn date(v: &Value, column: &str) -> Result<Date, String> {
    let s = req_str(v, column)?;
    s.parse()
        .map_err(|_| format!("column `{column}` holds `{s}`, expected a date"))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::Arc;

    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::*;
    use crate::model::{Access, Assessment, DesktopViews, PageInfo, PageStatus, RunStatus, TopRow};

    fn day() -> DayBatch {
        let page = PageInfo {
            title: "Robert'); DROP TABLE top_pages;--".into(),
            page_id: Some(9_007_199_254_740_993), // 2^53 + 1: exact only as a string
            namespace: None,
            status: PageStatus::Ok,
            wikidata_id: Some("Q18446744073709551615".parse().unwrap()),
            categories: vec!["A \"quoted\" one".into(), "עברית".into()],
            hidden_categories: vec![],
            fetched_at: Timestamp::from_microsecond(1_680_307_200_123_456).unwrap(),
        };
        DayBatch {
            date: jiff::civil::date(2023, 4, 1),
            project: "en.wikipedia".parse().unwrap(),
            access: Access::AllAccess,
            rows: vec![TopRow {
                rank: 1,
                article: "😀\t%00".into(),
                views: u64::MAX,
                page: Arc::new(page),
                assessment: Assessment {
                    desktop: Some(DesktopViews {
                        views: Some(u64::MAX / 3),
                        min_views: 1,
                    }),
                    suspect: None,
                    is_article: true,
                    article_rank: Some(1),
                    mostread_rank: Some(1),
                },
            }],
            run_id: "run 1".into(),
            ingested_at: Timestamp::from_microsecond(1_680_393_600_000_001).unwrap(),
        }
    }

    #[test]
    fn a_row_has_exactly_the_schema_columns_as_strings() {
        let json: Value =
            serde_json::from_str(&rows_array([day_fragment(&day()).0.as_str()])).unwrap();
        let row = json[0].as_object().unwrap();
        let names: BTreeSet<&str> = TOP_PAGES.columns.iter().map(|c| c.name).collect();
        assert_eq!(
            row.keys().map(String::as_str).collect::<BTreeSet<_>>(),
            names
        );
        assert_eq!(row["page_id"], "9007199254740993");
        assert_eq!(row["views"], i64::MAX.to_string());
        assert_eq!(row["namespace"], Value::Null);
        assert_eq!(row["categories_fetched_at"], "1680307200123456");
        assert_eq!(row["article"], "😀\t%00");
        assert_eq!(row["date"], "2023-04-01");
    }

    #[test]
    fn a_run_has_exactly_the_schema_columns() {
        let run = RunRecord {
            run_id: "r".into(),
            started_at: Timestamp::UNIX_EPOCH,
            finished_at: None,
            status: RunStatus::Running,
            arguments: "sync".into(),
            days_written: 0,
            rows_written: 0,
            http_requests: 0,
            http_retries: 0,
            error: None,
        };
        let json: Value = serde_json::from_str(&run_json(&run)).unwrap();
        let names: BTreeSet<&str> = INGEST_RUNS.columns.iter().map(|c| c.name).collect();
        let keys: BTreeSet<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, names);
    }

    #[test]
    fn a_run_decodes_from_result_cells() {
        let row: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"f":[{"v":"r"},{"v":"1680307200123456"},{"v":null},{"v":"partial"},{"v":"sync"},
                {"v":"1"},{"v":"2"},{"v":"3"},{"v":"4"},{"v":"boom"}]}"#,
        )
        .unwrap();
        let run: RunRecord = decode_row::<IngestRunRow>(&row).unwrap().into();
        assert_eq!(run.status, RunStatus::Partial);
        assert_eq!(run.started_at.as_microsecond(), 1_680_307_200_123_456);
        assert_eq!((run.days_written, run.http_retries), (1, 4));
        assert_eq!(run.finished_at, None);
        assert_eq!(run.error.as_deref(), Some("boom"));
    }

    #[test]
    fn a_repeated_article_keeps_its_first_row() {
        let mut d = day();
        let mut second = d.rows[0].clone();
        second.rank = 2;
        d.rows.push(second);
        let (fragment, duplicates) = day_fragment(&d);
        assert_eq!(duplicates, 1);
        let json: Value = serde_json::from_str(&rows_array([fragment.as_str()])).unwrap();
        assert_eq!(json.as_array().unwrap().len(), 1);
        assert_eq!(json[0]["rank"], "1");
    }

    #[test]
    fn empty_days_make_an_empty_array() {
        assert_eq!(rows_array(["", "{}", ""]), "[{}]");
        assert_eq!(rows_array([] as [&str; 0]), "[]");
    }

    #[test]
    fn job_id_parts_are_safe() {
        assert_eq!(
            job_id_part("2023-04-01T12:00:00Z/ä b"),
            "2023-04-01T12_00_00Z___b"
        );
        assert_eq!(job_id_part(&"x".repeat(500)).len(), 64);
    }

    #[test]
    fn fingerprints_separate_fields() {
        let a = Fingerprint::new().add("ab").add("c").hex();
        let b = Fingerprint::new().add("a").add("bc").hex();
        assert_ne!(a, b);
        assert_eq!(a, Fingerprint::new().add("ab").add("c").hex());
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn decoding_result_cells() {
        let row: serde_json::Map<String, Value> = serde_json::from_str(
            r#"{"f":[{"v":"2023-04-01"},{"v":null},{"v":"1680307200123456"},{"v":"-5"}]}"#,
        )
        .unwrap();
        let c = cells(&row, 4).unwrap();
        assert_eq!(date(c[0], "d").unwrap(), jiff::civil::date(2023, 4, 1));
        assert_eq!(opt_str(c[1], "s").unwrap(), None);
        assert_eq!(req_str(c[3], "i").unwrap(), "-5");
        assert!(req_str(c[1], "i").unwrap_err().contains("NULL"));
        assert!(cells(&row, 3).is_err());
    }

    proptest! {
        #[test]
        fn escaped_len_matches_serde(s in "\\PC*|[\\x00-\\x7f]*") {
            prop_assert_eq!(escaped_len(&s) + 2, serde_json::to_string(&s).unwrap().len());
        }

        #[test]
        fn chunks_cover_days_in_order_within_budget(
            sizes in proptest::collection::vec(0usize..400, 0..60),
            max in 1usize..1000,
        ) {
            let chunks = chunks(&sizes, max);
            let mut next = 0;
            for c in &chunks {
                prop_assert_eq!(c.start, next);
                prop_assert!(c.end > c.start);
                let bytes: usize = sizes[c.clone()].iter().sum();
                prop_assert!(bytes <= max || c.len() == 1);
                // Greedy: the next day would not have fitted.
                if c.end < sizes.len() {
                    prop_assert!(bytes + sizes[c.end] > max);
                }
                next = c.end;
            }
            prop_assert_eq!(next, sizes.len());
        }
    }
}
