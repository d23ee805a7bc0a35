//! The history of the schema: which version a store is at and the steps that bring an
//! older store to the current one. Each sink records the version in its store, applies
//! the steps it lacks in order (rendering each change in its own dialect) and refuses a
//! store of a newer version. This module only lists the changes; it runs nothing.
//!
//! Version 1 is the schema of the first release, which recorded no version: a store
//! holding wikitop's tables but no version is version 1.

use super::{Column, Table};

/// One change a step makes to a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Adds a column of the current definition (its type, mode and description come
    /// from there) to an existing table, then sets it where it is NULL to `fill`: an
    /// SQL expression over the row's other columns, valid in DuckDB and GoogleSQL
    /// alike (e.g. `views >= 1000000`). A REQUIRED column needs a fill; a sink may keep
    /// an added column NULLABLE where its dialect cannot add a required one.
    AddColumn {
        table: &'static Table,
        column: &'static str,
        fill: Option<&'static str>,
    },
}

impl Change {
    /// The column an `AddColumn` adds, from the current definition.
    pub fn added_column(&self) -> (&'static Table, &'static Column, Option<&'static str>) {
        match *self {
            Change::AddColumn {
                table,
                column,
                fill,
            } => {
                let Some(c) = table.column(column) else {
                    // Checked for every step by `steps_are_consistent` below.
                    unreachable!("migration adds `{column}`, which `{}` lacks", table.name)
                };
                (table, c, fill)
            }
        }
    }
}

/// The changes that take a store from version `to - 1` to version `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub to: u32,
    /// What the version brings, for the log.
    pub what: &'static str,
    pub changes: &'static [Change],
}

/// Every migration, in order; the last one's `to` is [`SCHEMA_VERSION`].
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        to: 2,
        what: "the store records its schema version",
        changes: &[],
    },
    Migration {
        to: 3,
        what: "desktop share, suspect automated traffic, articles and their rank",
        // Derived from requests an older release never made: NULL until `--force`.
        changes: &[
            added("desktop_views"),
            added("desktop_share"),
            added("desktop_min_views"),
            added("suspect_automated"),
            added("suspect_reason"),
            added("is_article"),
            added("article_rank"),
        ],
    },
    Migration {
        to: 4,
        what: "Wikimedia's \"Top read\" rank; top_articles one row per page",
        // Computed from the stored rows by `sync --rejudge`, with no request. Every
        // sink recreates its views from the definition when it migrates.
        changes: &[added("mostread_rank")],
    },
    Migration {
        to: 5,
        what: "each page's Wikidata item; the view world_top",
        // Served by the Action API, never derivable from a stored row: NULL until
        // `sync --fill-wikidata` (page properties only) or `--force` fills the day.
        changes: &[added("wikidata_id")],
    },
];

/// A `top_pages` column added empty: its values cannot be computed from the row.
const fn added(column: &'static str) -> Change {
    Change::AddColumn {
        table: &super::TOP_PAGES,
        column,
        fill: None,
    }
}

/// The version this build writes.
pub const SCHEMA_VERSION: u32 = match MIGRATIONS.last() {
    Some(m) => m.to,
    None => 1,
};

/// The version whose migration added `column` to `table` (1: it was there from the
/// start), so a reader of an older store knows what it lacks.
pub fn added_in(table: &Table, column: &str) -> u32 {
    MIGRATIONS
        .iter()
        .find(|m| {
            m.changes.iter().any(|c| {
                let (t, c, _) = c.added_column();
                t.name == table.name && c.name == column
            })
        })
        .map_or(1, |m| m.to)
}

/// The migrations a store at `from` lacks, in order (empty when it is current).
pub fn pending(migrations: &'static [Migration], from: u32) -> &'static [Migration] {
    let start = migrations
        .iter()
        .position(|m| m.to > from)
        .unwrap_or(migrations.len());
    &migrations[start..]
}

/// A column every sink can add for testing the mechanism; not part of any release.
#[cfg(test)]
pub(crate) const TEST_ADD_COLUMN: Change = Change::AddColumn {
    table: &super::TOP_PAGES,
    column: "views",
    fill: Some("rank * 10"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_consistent() {
        let mut version = 1;
        for m in MIGRATIONS {
            assert_eq!(m.to, version + 1, "versions go up one at a time");
            version = m.to;
            for change in m.changes {
                let (_, column, fill) = change.added_column();
                assert!(
                    column.mode != super::super::Mode::Required || fill.is_some(),
                    "a REQUIRED column `{}` needs a fill",
                    column.name
                );
            }
        }
        assert_eq!(SCHEMA_VERSION, version);
        let _ = TEST_ADD_COLUMN.added_column();
    }

    #[test]
    fn pending_steps_start_after_the_store() {
        assert_eq!(pending(MIGRATIONS, 1), MIGRATIONS);
        assert!(pending(MIGRATIONS, SCHEMA_VERSION).is_empty());
        assert!(pending(MIGRATIONS, SCHEMA_VERSION + 5).is_empty());
    }
}
