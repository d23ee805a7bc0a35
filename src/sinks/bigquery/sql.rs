//! The text of every statement the BigQuery sink runs, built from the table definition
//! (`sinks/schema.rs`). Values are never spliced in: each reaches the statement as a
//! bound query parameter or inside the JSON parameter; the only names spliced in are
//! the definition's own and the project and dataset, validated by
//! [`BigQuerySettings::new`] before any SQL is built. This module runs nothing.

use super::schema::{self, quoted, type_name};
use crate::model::RunStatus;
use crate::settings::BigQuerySettings;
use crate::sinks::schema::migrations::added_in;
use crate::sinks::schema::{Column, INGEST_RUNS, Mode, TOP_PAGES};

/// A table's path for SQL, e.g. `` `my-project.wikitop.top_pages` ``.
pub(super) fn table_path(settings: &BigQuerySettings, table: &str) -> String {
    format!("`{}.{}.{table}`", settings.project_id(), settings.dataset())
}

fn select_list(columns: &[Column], src: &str) -> String {
    columns
        .iter()
        .map(|c| format!("{} AS {}", schema::from_json(c, src), quoted(c.name)))
        .collect::<Vec<_>>()
        .join(",\n    ")
}

fn insert_and_update(columns: &[Column], key: &[&str]) -> (String, String, String) {
    let names = columns.iter().map(|c| quoted(c.name)).collect::<Vec<_>>();
    let values = columns
        .iter()
        .map(|c| format!("S.{}", quoted(c.name)))
        .collect::<Vec<_>>();
    let updates = columns
        .iter()
        .filter(|c| !key.contains(&c.name))
        .map(|c| format!("{0} = S.{0}", quoted(c.name)))
        .collect::<Vec<_>>();
    (names.join(", "), values.join(", "), updates.join(", "))
}

/// Replaces exactly the days in `@days` of `@project`/`@access` with the rows in
/// `@rows`. The source is read from one JSON STRING parameter: the emulator ignores an
/// ARRAY<STRUCT> parameter as a MERGE source, and a STRING works the same everywhere.
/// The day filter sits in the DELETE clause (not in ON) because the emulator cannot
/// run an outer join on a subquery condition; BigQuery then scans the key columns of
/// the whole table, a few MB for years of days.
pub(super) fn merge_top_pages(table: &str) -> String {
    let columns = TOP_PAGES.columns;
    let on = TOP_PAGES
        .key
        .iter()
        .map(|k| format!("T.{0} = S.{0}", quoted(k)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let (names, values, updates) = insert_and_update(columns, TOP_PAGES.key);
    format!(
        "MERGE {table} AS T\n\
         USING (\n  SELECT\n    {select}\n  FROM UNNEST(JSON_QUERY_ARRAY(@rows)) AS x\n) AS S\n\
         ON {on}\n\
         WHEN MATCHED THEN UPDATE SET {updates}\n\
         WHEN NOT MATCHED BY TARGET THEN INSERT ({names}) VALUES ({values})\n\
         WHEN NOT MATCHED BY SOURCE AND T.`project` = @project AND T.`access` = @access \
         AND T.`date` IN UNNEST(@days) THEN DELETE",
        select = select_list(columns, "x"),
    )
}

/// Inserts or updates one run, read from the JSON STRING parameter `@run`.
pub(super) fn merge_run(table: &str) -> String {
    let columns = INGEST_RUNS.columns;
    let (names, values, updates) = insert_and_update(columns, INGEST_RUNS.key);
    format!(
        "MERGE {table} AS T\n\
         USING (\n  SELECT\n    {select}\n) AS S\n\
         ON T.`run_id` = S.`run_id`\n\
         WHEN MATCHED THEN UPDATE SET {updates}\n\
         WHEN NOT MATCHED THEN INSERT ({names}) VALUES ({values})",
        select = select_list(columns, "@run"),
    )
}

/// Marks `abandoned` the runs `running` since before the INT64 parameter `@cutoff`
/// (microseconds): a run started longer ago than the deployment's task timeout (plus a
/// margin; `BigQuerySettings::stale_after`) has lost its process. Younger ones may be
/// shards running right now, so they are left alone.
pub(super) fn abandon_stale_runs(table: &str) -> String {
    format!(
        "UPDATE {table} SET `status` = '{abandoned}' \
         WHERE `status` = '{running}' AND `started_at` < TIMESTAMP_MICROS(@cutoff)",
        abandoned = RunStatus::Abandoned.as_str(),
        running = RunStatus::Running.as_str(),
    )
}

/// The days of `@project`/`@access` in `[@from, @to]`. On the partitioning column:
/// BigQuery reads only the partitions of the range.
/// Every column of the stored rows of one (project, access) and range, in the order
/// `read_days` promises.
pub(super) fn read_days(table: &str) -> String {
    let names = TOP_PAGES
        .columns
        .iter()
        .map(|c| quoted(c.name))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT {names} FROM {table} \
         WHERE `project` = @project AND `access` = @access AND `date` BETWEEN @from AND @to \
         ORDER BY `date`, `rank`, `article`"
    )
}

pub(super) fn stored_days(table: &str) -> String {
    format!(
        "SELECT DISTINCT `date` FROM {table} \
         WHERE `project` = @project AND `access` = @access AND `date` BETWEEN @from AND @to"
    )
}

/// Every stored (project, access, date).
/// Every stored day and whether its rows are judged (`assessed`: the dataset has the
/// judged columns).
/// Every stored day with whether all its rows are judged and whether one has a
/// `mostread_rank`; a column the dataset lacks (`version`) reads as FALSE.
pub(super) fn all_stored_days(table: &str, version: u32) -> String {
    let has = |column: &str, aggregate: &str| {
        if version >= added_in(&TOP_PAGES, column) {
            format!("{aggregate}({} IS NOT NULL)", quoted(column))
        } else {
            "FALSE".to_owned()
        }
    };
    format!(
        "SELECT `project`, `access`, `date`, {} AS assessed, {} AS ranked \
         FROM {table} GROUP BY `project`, `access`, `date`",
        has(crate::sinks::ASSESSED_COLUMN, "LOGICAL_AND"),
        has(crate::sinks::RANKED_COLUMN, "LOGICAL_OR"),
    )
}

/// The latest `@limit` runs, newest first, every column in the definition's order.
pub(super) fn recent_runs(table: &str) -> String {
    let names = INGEST_RUNS
        .columns
        .iter()
        .map(|c| quoted(c.name))
        .collect::<Vec<_>>()
        .join(", ");
    format!("SELECT {names} FROM {table} ORDER BY `started_at` DESC, `run_id` DESC LIMIT @limit")
}

/// A column's type in DDL: `ARRAY<…>` for a repeated one. No `NOT NULL`: BigQuery
/// cannot add a REQUIRED column to an existing table
/// (<https://cloud.google.com/bigquery/docs/managing-table-schemas#add_columns>).
fn ddl_type(column: &Column) -> String {
    match column.mode {
        Mode::Repeated => format!("ARRAY<{}>", type_name(column.ty)),
        Mode::Required | Mode::Nullable => type_name(column.ty).to_owned(),
    }
}

/// The statements of one migration step that adds `column` to `table`, each safe to
/// run again: BigQuery DDL cannot run inside a transaction, so a step cut short is
/// simply run again by the next `open`. The fill sets only what is still unset.
pub(super) fn add_column(table: &str, column: &Column, fill: Option<&str>) -> Vec<String> {
    let c = quoted(column.name);
    let mut statements = vec![format!(
        "ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {c} {}",
        ddl_type(column)
    )];
    if let Some(fill) = fill {
        // An ARRAY is never NULL in BigQuery: an unset one is empty.
        let unset = match column.mode {
            Mode::Repeated => format!("ARRAY_LENGTH({c}) = 0"),
            Mode::Required | Mode::Nullable => format!("{c} IS NULL"),
        };
        statements.push(format!("UPDATE {table} SET {c} = {fill} WHERE {unset}"));
    }
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_bind_every_value() {
        let merge = merge_top_pages("`p.d.top_pages`");
        for needle in [
            "MERGE `p.d.top_pages` AS T",
            "FROM UNNEST(JSON_QUERY_ARRAY(@rows)) AS x",
            "CAST(JSON_VALUE(x, '$.date') AS DATE) AS `date`",
            "JSON_VALUE_ARRAY(x, '$.categories') AS `categories`",
            "TIMESTAMP_MICROS(CAST(JSON_VALUE(x, '$.ingested_at') AS INT64)) AS `ingested_at`",
            "ON T.`date` = S.`date` AND T.`project` = S.`project` AND T.`access` = S.`access` AND T.`article` = S.`article`",
            "WHEN MATCHED THEN UPDATE SET `rank` = S.`rank`",
            "WHEN NOT MATCHED BY TARGET THEN INSERT (`date`, `project`",
            "T.`date` IN UNNEST(@days) THEN DELETE",
        ] {
            assert!(merge.contains(needle), "{needle}\n{merge}");
        }
        assert!(
            !merge.contains("`article` = S.`article`,"),
            "keys are not updated"
        );
        let run = merge_run("`p.d.ingest_runs`");
        assert!(
            run.contains("JSON_VALUE(@run, '$.status') AS `status`"),
            "{run}"
        );
        assert!(
            run.contains("WHEN NOT MATCHED THEN INSERT (`run_id`, `started_at`"),
            "{run}"
        );
    }

    #[test]
    fn an_added_column_is_nullable_and_filled_where_unset() {
        let views = TOP_PAGES.column("views").unwrap();
        assert_eq!(
            add_column("`p.d.top_pages`", views, Some("rank * 10")),
            [
                "ALTER TABLE `p.d.top_pages` ADD COLUMN IF NOT EXISTS `views` INT64",
                "UPDATE `p.d.top_pages` SET `views` = rank * 10 WHERE `views` IS NULL",
            ]
        );
        let categories = TOP_PAGES.column("categories").unwrap();
        assert_eq!(
            add_column("`t`", categories, None),
            ["ALTER TABLE `t` ADD COLUMN IF NOT EXISTS `categories` ARRAY<STRING>"]
        );
    }
}
