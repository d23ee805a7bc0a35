//! The schema version of a DuckDB store: recognising it, migrating an older store in
//! place, refusing a newer or foreign one, and checking the tables against the
//! definition.
//!
//! The version lives in a one-row table `wikitop_meta` beside the data: a DuckDB file
//! is only ever opened by wikitop through SQL, the row changes in the same transaction
//! as the migration it records (so a store is never half-migrated), and an operator
//! can read it with `SELECT * FROM wikitop_meta`. A store with wikitop's tables but
//! no `wikitop_meta` was written by the first release: version 1.

use std::collections::BTreeMap;

use duckdb::{Connection, params};
use tracing::info;

use super::sql::{self, ident, literal};
use crate::error::{Error, Result};
use crate::sinks::schema::migrations::{Change, Migration, added_in, pending};
use crate::sinks::schema::{Mode, TABLES, Table, VIEWS};

pub(super) const META: &str = "wikitop_meta";

const CREATE_META: &str = "CREATE TABLE IF NOT EXISTS wikitop_meta (\
     schema_version INTEGER NOT NULL, written_by VARCHAR NOT NULL); \
     COMMENT ON TABLE wikitop_meta IS 'The schema version of this wikitop store (one row).';";

/// What an opened file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Found {
    /// None of wikitop's tables (a new file, or one of another program's).
    Nothing,
    /// wikitop's tables without a recorded version: the first release.
    Unstamped,
    Version(u32),
}

fn store_err(doing: &'static str) -> impl Fn(duckdb::Error) -> Error {
    move |e| Error::store(doing, e)
}

/// The tables of the open database (not those of `temp` or of the in-memory default).
fn tables(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn
        .prepare(
            "SELECT table_name FROM information_schema.tables \
             WHERE table_catalog = current_database() AND table_schema = 'main'",
        )
        .map_err(store_err("reading the schema"))?;
    stmt.query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(store_err("reading the schema"))
}

pub(super) fn inspect(conn: &Connection, store: &str) -> Result<Found> {
    let tables = tables(conn)?;
    let has = |name: &str| tables.iter().any(|t| t == name);
    if has(META) {
        let (rows, version): (i64, Option<i64>) = conn
            .query_row(
                "SELECT count(*), max(schema_version) FROM wikitop_meta",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| Error::SchemaMismatch {
                table: META.into(),
                detail: format!("it cannot be read as wikitop's ({e})"),
            })?;
        return match (rows, version.and_then(|v| u32::try_from(v).ok())) {
            (1, Some(v)) if v >= 1 => Ok(Found::Version(v)),
            _ => Err(Error::SchemaMismatch {
                table: META.into(),
                detail: format!("it holds {rows} rows, expected one with a version in `{store}`"),
            }),
        };
    }
    if TABLES.iter().any(|t| has(t.name)) {
        Ok(Found::Unstamped)
    } else {
        Ok(Found::Nothing)
    }
}

/// The version a store is at, refusing one newer than `latest`.
pub(super) fn version_of(found: &Found, store: &str, latest: u32) -> Result<u32> {
    let version = match found {
        Found::Nothing => latest,
        Found::Unstamped => 1,
        Found::Version(v) => *v,
    };
    if version > latest {
        return Err(Error::StoreTooNew {
            store: store.to_owned(),
            found: version,
            supported: latest,
        });
    }
    Ok(version)
}

/// Brings the store to the last version of `migrations` in one transaction: creates
/// what is missing, applies the steps the store lacks in order, checks every table
/// against the definition and records the version. On any error nothing is changed.
pub(super) fn open_for_writing(
    conn: &mut Connection,
    store: &str,
    migrations: &'static [Migration],
) -> Result<()> {
    let latest = migrations.last().map_or(1, |m| m.to);
    let tx = conn
        .transaction()
        .map_err(store_err("starting the schema transaction"))?;
    let found = inspect(&tx, store)?;
    let from = version_of(&found, store, latest)?;
    for migration in pending(migrations, from) {
        for change in migration.changes {
            apply(&tx, change).map_err(|e| {
                Error::store(
                    format!("migrating `{store}` to schema version {}", migration.to),
                    e,
                )
            })?;
        }
        info!(
            store,
            version = migration.to,
            what = migration.what,
            "Migrated the store."
        );
    }
    let mut ddl = String::new();
    for table in TABLES {
        ddl.push_str(&sql::create_table(table));
    }
    tx.execute_batch(&ddl)
        .map_err(store_err("creating the tables"))?;
    for table in TABLES {
        check(&tx, table, from, false)?;
    }
    if found != Found::Version(latest) {
        tx.execute_batch(CREATE_META)
            .and_then(|()| tx.execute("DELETE FROM wikitop_meta", []))
            .and_then(|_| {
                tx.execute(
                    "INSERT INTO wikitop_meta VALUES (?, ?)",
                    params![latest, concat!("wikitop ", env!("CARGO_PKG_VERSION"))],
                )
            })
            .map_err(store_err("recording the schema version"))?;
    }
    describe(&tx, &found, latest)?;
    tx.commit().map_err(store_err("committing the schema"))
}

/// Comments the tables and (re)creates the views, only when the store was created or
/// migrated now, or lacks a view: done on every open, it wrote a catalog entry to the
/// WAL each time, which is what grew on a full disk (issue 20).
fn describe(conn: &Connection, found: &Found, latest: u32) -> Result<()> {
    let names = tables(conn)?;
    let view_missing = VIEWS.iter().any(|v| !names.iter().any(|n| n == v.name));
    if *found == Found::Version(latest) && !view_missing {
        return Ok(());
    }
    let mut describe = String::new();
    for table in TABLES {
        describe.push_str(&sql::describe(table));
    }
    for view in VIEWS {
        describe.push_str(&sql::create_view(view));
    }
    conn.execute_batch(&describe)
        .map_err(store_err("describing the tables"))
}

/// Checks a store opened read-only: refuses an empty, newer or foreign one. An older
/// one is read as it is: it may lack the columns its pending migrations add, which
/// readers of an older store do without (see `DuckDbSink::judged_column`).
pub(super) fn check_read_only(conn: &Connection, store: &str) -> Result<()> {
    let found = inspect(conn, store)?;
    if found == Found::Nothing {
        return Err(Error::StoreOpen {
            path: store.into(),
            source: "it holds no wikitop tables yet: run `wikitop sync` first".into(),
        });
    }
    let from = version_of(&found, store, crate::sinks::schema::SCHEMA_VERSION)?;
    for table in TABLES {
        check(conn, table, from, true)?;
    }
    Ok(())
}

/// One change in DuckDB's dialect. An added column stays NULLABLE (the check compares
/// names and types only): DuckDB adds no NOT NULL column, and refuses `SET NOT NULL`
/// in the transaction that filled it ("Cannot create index with outstanding updates").
fn apply(conn: &Connection, change: &Change) -> duckdb::Result<()> {
    let (table, column, fill) = change.added_column();
    let (t, c) = (ident(table.name), ident(column.name));
    let mut sql = format!(
        "ALTER TABLE {t} ADD COLUMN IF NOT EXISTS {c} {};\n",
        sql::column_type(column)
    );
    let fill = match (fill, column.mode) {
        (Some(fill), _) => Some(fill),
        (None, Mode::Repeated) => Some("[]"),
        (None, _) => None,
    };
    if let Some(fill) = fill {
        sql.push_str(&format!("UPDATE {t} SET {c} = {fill} WHERE {c} IS NULL;\n"));
    }
    sql.push_str(&format!(
        "COMMENT ON COLUMN {t}.{c} IS {};\n",
        literal(column.description)
    ));
    conn.execute_batch(&sql)
}

/// Refuses a table whose columns differ from the definition by name or type (order
/// does not matter: every statement names its columns). When `older_ok`, a column
/// that a migration after `version` adds may be missing.
fn check(conn: &Connection, table: &Table, version: u32, older_ok: bool) -> Result<()> {
    let doing = "reading the schema";
    let mut stmt = conn
        .prepare(
            "SELECT column_name, data_type FROM information_schema.columns \
             WHERE table_catalog = current_database() AND table_schema = 'main' \
             AND table_name = ? ORDER BY ordinal_position",
        )
        .map_err(store_err(doing))?;
    let found: BTreeMap<String, String> = stmt
        .query_map([table.name], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(store_err(doing))?;
    let mut diffs = Vec::new();
    for c in table.columns {
        let want = sql::column_type(c);
        match found.get(c.name) {
            None if older_ok && added_in(table, c.name) > version => {}
            None => diffs.push(format!("column `{}` is missing", c.name)),
            Some(ty) if *ty != want => {
                diffs.push(format!("column `{}` is {ty}, expected {want}", c.name));
            }
            Some(_) => {}
        }
    }
    for name in found.keys() {
        if table.column(name).is_none() {
            diffs.push(format!("column `{name}` is not expected"));
        }
    }
    if diffs.is_empty() {
        return Ok(());
    }
    let mut detail = diffs.join("; ");
    if version < crate::sinks::schema::SCHEMA_VERSION {
        detail.push_str(&format!(
            "; the store is at schema version {version}: `wikitop sync` migrates it"
        ));
    }
    Err(Error::SchemaMismatch {
        table: table.name.to_owned(),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::schema::migrations::{Change, MIGRATIONS, TEST_ADD_COLUMN};
    use crate::sinks::schema::{SCHEMA_VERSION, TOP_PAGES};

    fn version(conn: &Connection) -> i64 {
        conn.query_row("SELECT schema_version FROM wikitop_meta", [], |r| r.get(0))
            .unwrap()
    }

    /// A store as the first release left it: today's tables without the columns added
    /// since, no version.
    fn first_release() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for table in TABLES {
            conn.execute_batch(&sql::create_table(table)).unwrap();
        }
        for (table, column, _) in MIGRATIONS
            .iter()
            .flat_map(|m| m.changes)
            .map(Change::added_column)
        {
            conn.execute_batch(&format!(
                "ALTER TABLE {} DROP COLUMN {};",
                table.name, column.name
            ))
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO top_pages VALUES ('2023-04-01', 'en.wikipedia', 'all-access', 1, 'A', \
             5, 'A', 1, 0, 'ok', ['c'], [], TIMESTAMP '2023-04-02 00:00:00', \
             TIMESTAMP '2023-04-02 00:00:01', 'r1'), ('2023-04-01', 'en.wikipedia', \
             'all-access', 2, 'B', 4, 'B', NULL, NULL, 'invalid', [], [], \
             TIMESTAMP '2023-04-02 00:00:00', TIMESTAMP '2023-04-02 00:00:01', 'r1');",
        )
        .unwrap();
        conn
    }

    #[test]
    fn a_new_store_is_created_at_the_current_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(inspect(&conn, "m").unwrap(), Found::Nothing);
        open_for_writing(&mut conn, "m", MIGRATIONS).unwrap();
        assert_eq!(version(&conn), i64::from(SCHEMA_VERSION));
        assert_eq!(inspect(&conn, "m").unwrap(), Found::Version(SCHEMA_VERSION));
        // Opening again changes nothing.
        open_for_writing(&mut conn, "m", MIGRATIONS).unwrap();
        check_read_only(&conn, "m").unwrap();
    }

    #[test]
    fn an_unstamped_store_is_version_one_and_is_migrated() {
        let mut conn = first_release();
        assert_eq!(inspect(&conn, "m").unwrap(), Found::Unstamped);
        check_read_only(&conn, "m").unwrap();
        open_for_writing(&mut conn, "m", MIGRATIONS).unwrap();
        assert_eq!(version(&conn), i64::from(SCHEMA_VERSION));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM top_pages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
    }

    /// The steps of a migration that adds a column: added, filled from the other
    /// columns, stamped, in one transaction.
    #[test]
    fn a_column_is_added_and_filled() {
        let next = SCHEMA_VERSION + 1;
        let steps: Vec<Migration> = MIGRATIONS
            .iter()
            .copied()
            .chain([Migration {
                to: next,
                what: "views again",
                changes: &[TEST_ADD_COLUMN],
            }])
            .collect();
        let steps: &'static [Migration] = steps.leak();
        let mut conn = first_release();
        conn.execute_batch("ALTER TABLE top_pages DROP COLUMN views")
            .unwrap();
        open_for_writing(&mut conn, "m", steps).unwrap();
        assert_eq!(version(&conn), i64::from(next));
        let views: Vec<i64> = conn
            .prepare("SELECT views FROM top_pages ORDER BY rank")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<duckdb::Result<_>>()
            .unwrap();
        assert_eq!(views, [10, 20], "filled with rank * 10");
        // A store at the next version is newer than this build's.
        let err = check_read_only(&conn, "m").unwrap_err();
        assert!(
            matches!(err, Error::StoreTooNew { found, .. } if found == next),
            "{err}"
        );
        assert!(err.is_usage());
    }

    /// A store whose check fails after the steps is left exactly as it was.
    #[test]
    fn a_failed_migration_changes_nothing() {
        let mut conn = first_release();
        conn.execute_batch("ALTER TABLE top_pages ADD COLUMN extra VARCHAR")
            .unwrap();
        let err = open_for_writing(&mut conn, "m", MIGRATIONS).unwrap_err();
        assert!(
            matches!(&err, Error::SchemaMismatch { table, detail }
                if table == "top_pages" && detail.contains("`extra` is not expected")),
            "{err}"
        );
        assert_eq!(inspect(&conn, "m").unwrap(), Found::Unstamped);
    }

    #[test]
    fn a_newer_store_is_refused_in_one_sentence() {
        let mut conn = Connection::open_in_memory().unwrap();
        open_for_writing(&mut conn, "w.duckdb", MIGRATIONS).unwrap();
        conn.execute(
            "UPDATE wikitop_meta SET schema_version = ?",
            [SCHEMA_VERSION + 1],
        )
        .unwrap();
        let err = open_for_writing(&mut conn, "w.duckdb", MIGRATIONS).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`w.duckdb`") && text.contains("upgrade wikitop"),
            "{text}"
        );
        assert!(!text.contains('\n'));
        assert!(TOP_PAGES.column("views").is_some());
    }
}
