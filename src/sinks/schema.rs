//! The one definition of wikitop's tables: `top_pages`, `ingest_runs` and the views
//! `top_page_categories`, `top_articles` and `world_top` — columns, types, modes, descriptions, key,
//! partitioning and clustering — and the one row type of each table, declared by the
//! same `table!` line as its column, with where its value comes from.
//!
//! Everything else follows from here: the DuckDB DDL and comments and the BigQuery
//! table resources (each sink renders its own dialect), both sinks' row encoding and
//! decoding (through [`Row`] and [`Value`]), and, checked by tests in `sinks/docs.rs`,
//! Terraform's `schema/*.json` and the README's column tables. How an older store
//! becomes this one is [`migrations`]. This module knows no SQL dialect and no store.
//!
//! Adding a column: a line in its `table!` below and a migration step in
//! `migrations.rs`; then regenerate the files as the failing test says (ARCHITECTURE.md
//! has the whole list).

pub mod migrations;

use jiff::Timestamp;

use crate::model::{Day, DayBatch, PageStatus, RunRecord, RunStatus, TopRow, WikidataId};

pub use self::migrations::SCHEMA_VERSION;

/// A column's type, named by what it holds; each sink maps it to its own type names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Date,
    String,
    /// DuckDB `INTEGER`; BigQuery has only `INT64`.
    Int32,
    Int64,
    /// Microsecond precision, UTC.
    Timestamp,
    Bool,
    /// IEEE double; only for derived ratios, never for a count.
    Float64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Nullable,
    /// A list, never NULL (empty instead). Only lists of strings are used.
    Repeated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
    pub mode: Mode,
    /// Stored with the column (BigQuery description, DuckDB comment).
    pub description: &'static str,
    /// More for the README's reader, after the description; may be empty.
    pub note: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub name: &'static str,
    pub description: &'static str,
    pub columns: &'static [Column],
    /// The columns that identify a row: a write replaces by them.
    pub key: &'static [&'static str],
    /// BigQuery's daily partitioning column; DuckDB has no partitions.
    pub partition_by: Option<&'static str>,
    /// BigQuery's clustering columns.
    pub cluster_by: &'static [&'static str],
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A view over one table, defined once for every sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub name: &'static str,
    pub description: &'static str,
    pub from: &'static Table,
    /// Columns of `from` kept as they are.
    pub columns: &'static [&'static str],
    pub kind: ViewKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViewKind {
    /// One row per element of the list column `unnest`, named `element`, the other
    /// columns repeated.
    Unnest {
        unnest: &'static str,
        element: &'static str,
    },
    /// One row per group of `columns` among the rows where `condition` holds, with
    /// `aggregates` (name, expression) after them, ordered by `order_by`; every
    /// expression is SQL valid in DuckDB and GoogleSQL alike.
    PerPage {
        condition: &'static str,
        aggregates: &'static [(&'static str, &'static str)],
        order_by: &'static [&'static str],
    },
    /// One row per group of `columns` across every project: the rows where `condition`
    /// holds are first grouped per `columns` and `project` into `per_wiki` (name,
    /// expression), then those per-wiki rows per `columns` into `aggregates`, which may
    /// read `project` and the `per_wiki` names. Same SQL in DuckDB and GoogleSQL.
    AcrossWikis {
        condition: &'static str,
        per_wiki: &'static [(&'static str, &'static str)],
        aggregates: &'static [(&'static str, &'static str)],
        order_by: &'static [&'static str],
    },
}

/// One cell's value as every sink encodes and decodes it: a sink turns each variant
/// into its own representation, the row types turn it into their fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Date(Day),
    String(String),
    Int(i64),
    Timestamp(Timestamp),
    Bool(bool),
    Float(f64),
    List(Vec<String>),
}

/// A Rust type a column can hold; its column type and mode follow from it.
pub trait Cell: Sized {
    const TYPE: ColumnType;
    const MODE: Mode = Mode::Required;
    fn to_value(&self) -> Value;
    fn from_value(value: Value) -> Result<Self, String>;
}

/// A table's row: a struct whose fields are the table's columns, in order.
pub trait Row: Sized {
    const TABLE: &'static Table;
    /// The cells in the order of `TABLE.columns`.
    fn to_values(&self) -> Vec<Value>;
    /// The inverse of `to_values`; the message names the column that did not fit.
    fn from_values(values: Vec<Value>) -> Result<Self, String>;
}

fn unexpected(value: &Value, wanted: &str) -> String {
    format!("{value:?}, expected {wanted}")
}

impl Cell for Day {
    const TYPE: ColumnType = ColumnType::Date;
    fn to_value(&self) -> Value {
        Value::Date(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Date(d) => Ok(d),
            other => Err(unexpected(&other, "a date")),
        }
    }
}

impl Cell for String {
    const TYPE: ColumnType = ColumnType::String;
    fn to_value(&self) -> Value {
        Value::String(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::String(s) => Ok(s),
            other => Err(unexpected(&other, "a string")),
        }
    }
}

impl Cell for Timestamp {
    const TYPE: ColumnType = ColumnType::Timestamp;
    fn to_value(&self) -> Value {
        Value::Timestamp(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Timestamp(t) => Ok(t),
            other => Err(unexpected(&other, "a timestamp")),
        }
    }
}

fn int(value: Value) -> Result<i64, String> {
    match value {
        Value::Int(n) => Ok(n),
        other => Err(unexpected(&other, "an integer")),
    }
}

impl Cell for i64 {
    const TYPE: ColumnType = ColumnType::Int64;
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        int(value)
    }
}

/// Counts and views: INT64 holds every number wikitop can meet; clamp rather than wrap.
impl Cell for u64 {
    const TYPE: ColumnType = ColumnType::Int64;
    fn to_value(&self) -> Value {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
    fn from_value(value: Value) -> Result<Self, String> {
        let n = int(value)?;
        u64::try_from(n).map_err(|_| format!("{n}, expected a count"))
    }
}

impl Cell for i32 {
    const TYPE: ColumnType = ColumnType::Int32;
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
    fn from_value(value: Value) -> Result<Self, String> {
        let n = int(value)?;
        i32::try_from(n).map_err(|_| format!("{n}, expected a 32-bit integer"))
    }
}

impl Cell for u32 {
    const TYPE: ColumnType = ColumnType::Int32;
    fn to_value(&self) -> Value {
        Value::Int(i64::from(*self))
    }
    fn from_value(value: Value) -> Result<Self, String> {
        let n = int(value)?;
        u32::try_from(n).map_err(|_| format!("{n}, expected a rank"))
    }
}

impl Cell for bool {
    const TYPE: ColumnType = ColumnType::Bool;
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Bool(b) => Ok(b),
            other => Err(unexpected(&other, "a boolean")),
        }
    }
}

impl Cell for f64 {
    const TYPE: ColumnType = ColumnType::Float64;
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Float(x) => Ok(x),
            other => Err(unexpected(&other, "a number")),
        }
    }
}

/// Enums stored by their names.
macro_rules! cell_by_name {
    ($($ty:ty),*) => {$(
        impl Cell for $ty {
            const TYPE: ColumnType = ColumnType::String;
            fn to_value(&self) -> Value {
                Value::String(self.as_str().to_owned())
            }
            fn from_value(value: Value) -> Result<Self, String> {
                String::from_value(value)?.parse()
            }
        }
    )*};
}
cell_by_name!(PageStatus, RunStatus);

/// Stored as its text, `Q42`, as Wikidata and every tool that joins on it writes it.
impl Cell for WikidataId {
    const TYPE: ColumnType = ColumnType::String;
    fn to_value(&self) -> Value {
        Value::String(self.to_string())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        String::from_value(value)?.parse()
    }
}

impl<T: Cell> Cell for Option<T> {
    const TYPE: ColumnType = T::TYPE;
    const MODE: Mode = Mode::Nullable;
    fn to_value(&self) -> Value {
        self.as_ref().map_or(Value::Null, Cell::to_value)
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl Cell for Vec<String> {
    const TYPE: ColumnType = ColumnType::String;
    const MODE: Mode = Mode::Repeated;
    fn to_value(&self) -> Value {
        Value::List(self.clone())
    }
    fn from_value(value: Value) -> Result<Self, String> {
        match value {
            Value::List(items) => Ok(items),
            Value::Null => Ok(Vec::new()),
            other => Err(unexpected(&other, "a list")),
        }
    }
}

/// The next cell of a row being decoded, as the field's type.
pub(crate) fn next_cell<T: Cell>(
    cells: &mut impl Iterator<Item = Value>,
    column: &str,
) -> Result<T, String> {
    let value = cells
        .next()
        .ok_or_else(|| format!("the row ends before column `{column}`"))?;
    T::from_value(value).map_err(|e| format!("column `{column}` holds {e}"))
}

/// Defines a table and its row struct at once, so a column is written once: each line
/// is a field (a column), its type (which gives the column's type and mode through
/// [`Cell`]), its description, and how a row gets it from the domain types named in
/// `from (...)`. Generated: the struct, the [`Table`] constant, the [`Row`] codec, the
/// constructor `new` from the domain types, and a module of the column names for SQL
/// written elsewhere (`top_pages::views` is `"views"`), so a name that is no column
/// does not compile.
macro_rules! table {
    (
        $(#[$attr:meta])*
        pub const $konst:ident: Table = {
            name: $name:literal,
            description: $description:literal,
            key: [$($key:literal),* $(,)?],
            partition_by: $partition:expr,
            cluster_by: [$($cluster:literal),* $(,)?],
        };
        $(#[$row_attr:meta])*
        pub struct $row:ident from ($($arg:ident: $arg_ty:ty),*), columns in $names:ident {
            $( $field:ident: $ty:ty = $desc:literal $(, note: $note:literal)? <- $from:expr ; )*
        }
    ) => {
        $(#[$attr])*
        pub const $konst: Table = Table {
            name: $name,
            description: $description,
            columns: &[$(Column {
                name: stringify!($field),
                ty: <$ty as Cell>::TYPE,
                mode: <$ty as Cell>::MODE,
                description: $desc,
                note: concat!("" $(, $note)?),
            }),*],
            key: &[$($key),*],
            partition_by: $partition,
            cluster_by: &[$($cluster),*],
        };

        $(#[$row_attr])*
        pub struct $row {
            $( #[doc = $desc] pub $field: $ty, )*
        }

        impl $row {
            /// The stored form of what the domain types say.
            pub fn new($($arg: $arg_ty),*) -> Self {
                $row { $( $field: $from, )* }
            }
        }

        #[doc = concat!("The column names of `", $name, "`, for SQL.")]
        #[allow(non_upper_case_globals)]
        pub mod $names {
            $( pub const $field: &str = stringify!($field); )*
        }

        impl Row for $row {
            const TABLE: &'static Table = &$konst;

            fn to_values(&self) -> Vec<Value> {
                vec![$(Cell::to_value(&self.$field)),*]
            }

            fn from_values(values: Vec<Value>) -> Result<Self, String> {
                let mut cells = values.into_iter();
                let row = Self {
                    $($field: next_cell::<$ty>(&mut cells, stringify!($field))?,)*
                };
                match cells.next() {
                    None => Ok(row),
                    Some(_) => Err(format!("the row has more cells than `{}` has columns", $name)),
                }
            }
        }
    };
}

table! {
    /// Daily top pages with their categories.
    pub const TOP_PAGES: Table = {
        name: "top_pages",
        description: "Daily top pages of a Wikimedia project with their categories; one row per \
            (date, project, access, article). Written by wikitop.",
        key: ["date", "project", "access", "article"],
        partition_by: Some("date"),
        cluster_by: ["project", "article"],
    };
    /// One stored `top_pages` row, as both sinks write and read it.
    #[derive(Debug, Clone, PartialEq)]
    pub struct TopPageRow from (day: &DayBatch, row: &TopRow), columns in top_pages {
            date: Day = "Day the views were counted (UTC)."
                <- day.date;
            project: String = "Wikimedia project, e.g. en.wikipedia."
                <- day.project.as_str().to_owned();
            access: String = "Pageviews access method, e.g. all-access."
                <- day.access.as_str().to_owned();
            rank: u32 = "Rank as the Pageviews API served it; tied views share a rank.",
                note: "The rank after a tie is skipped, as in SQL `rank()`."
                <- row.rank;
            article: String = "Article name exactly as the Pageviews API returned it."
                <- row.article.clone();
            views: u64 = "Views of the article that day."
                <- row.views;
            title: String = "Page whose categories are stored: normalised, every redirect \
                followed; the article itself when no page was found.",
                note: "Normalised means Unicode NFC and, where the wiki has them, its language \
                variant."
                <- row.page.title.clone();
            page_id: Option<i64> = "MediaWiki page id; NULL unless the page exists (ok or \
                redirect)."
                <- row.page.page_id;
            namespace: Option<i32> = "MediaWiki namespace number, as the Action API answered \
                it; NULL when it gave no page (invalid, no_title, redirect loop).",
                note: "Local namespace names such as `विशेष:` are never parsed."
                <- row.page.namespace;
            page_status: PageStatus = "ok, redirect, missing, special, invalid or no_title \
                (the Pageviews API's - row).",
                note: "`redirect`: the article redirects, through any number of hops, to an \
                existing page, whose categories are stored. `missing`: the page, or the end \
                of a redirect chain, does not exist, or the chain loops. `invalid`: not a \
                valid title. `no_title`: the Pageviews API's `-` row; it could not tell which \
                page was viewed, so nothing is looked up, even where `-` is a page."
                <- row.page.status;
            categories: Vec<String> = "Visible categories without the Category: prefix, \
                sorted."
                <- row.page.categories.clone();
            hidden_categories: Vec<String> = "Hidden (maintenance) categories, same form."
                <- row.page.hidden_categories.clone();
            categories_fetched_at: Timestamp = "When the categories were read from the \
                Action API (UTC)."
                <- row.page.fetched_at;
            ingested_at: Timestamp = "When the row was stored (UTC)."
                <- day.ingested_at;
            run_id: String = "The wikitop run that stored the row (see ingest_runs)."
                <- day.run_id.clone();
            desktop_views: Option<u64> = "Views from desktop browsers that day, from the day's \
                desktop top list; NULL when the article is not in it (see desktop_min_views)."
                <- row.assessment.desktop.and_then(|d| d.views);
            desktop_share: Option<f64> = "desktop_views / views, from 0 to 1; NULL when \
                desktop_views is."
                <- row.desktop_share();
            desktop_min_views: Option<u64> = "Views of the last article of the day's desktop top \
                list: an article missing from it had fewer desktop views. NULL when the desktop \
                list was not fetched (--no-desktop, an access other than all-access, or a day \
                stored before schema version 3).",
                note: "So a row with `desktop_views` NULL and `desktop_min_views` set has a \
                desktop share below `desktop_min_views / views`. When that ceiling is above the \
                low bound, the share is unknown: the row is not suspect for its share."
                <- row.assessment.desktop.map(|d| d.min_views);
            suspect_automated: Option<bool> = "Likely automated traffic, by wikitop's own \
                judgement: a deny-list entry of kind automated or unexplained, or a desktop share \
                outside the bounds (10-90 % by default; a heuristic Wikimedia's feed used from 2016 \
                to 2020). Flagged, never dropped; NULL on days stored before schema version 3."
                <- Some(row.assessment.suspect.is_some());
            suspect_reason: Option<String> = "Why the row is suspect; NULL when it is not."
                <- row.assessment.suspect.clone();
            is_article: Option<bool> = "An existing page (ok or redirect) in namespace 0 that \
                is not the wiki's main page (read from meta=siteinfo); NULL on days stored before \
                schema version 3."
                <- Some(row.assessment.is_article);
            article_rank: Option<u32> = "Rank of the row's page among the day's pages that are \
                articles and not suspect, by views, a redirect and its target counted once with \
                their views summed; ties share a rank as in `rank`. NULL for other rows.",
                note: "The top 100 articles of a day are `article_rank <= 100`, or the view \
                `top_articles` (one row per page)."
                <- row.assessment.article_rank;
            mostread_rank: Option<u32> = "Position in Wikimedia's \"Top read\" list of the wiki \
                and day, as its feed (wikifeeds lib/most-read.js) computes it from the first 50 \
                served entries; every row of a merged redirect pair carries it. NULL when not in \
                that list, and on days judged before schema version 4 until `sync --rejudge`.",
                note: "A day's \"Top read\" list is `WHERE mostread_rank IS NOT NULL`."
                <- row.assessment.mostread_rank;
            wikidata_id: Option<WikidataId> = "The page's Wikidata item, e.g. Q42: the same topic \
                on every wiki (the page property wikibase_item; a redirect's is its target's). \
                NULL when the page does not exist (missing, special, invalid, no_title) or is \
                linked to no item, and on days stored before schema version 5 until they are \
                filled.",
                note: "Read in the same Action API requests as the categories \
                (`prop=categories|pageprops&ppprop=wikibase_item`): it costs no request. Days \
                stored before version 5 are filled by `sync --fill-wikidata` (one request per \
                50 distinct pages) or `sync --force`. The view `world_top` joins the wikis on it."
                <- row.page.wikidata_id;
    }
}

table! {
    /// The run ledger.
    pub const INGEST_RUNS: Table = {
        name: "ingest_runs",
        description: "One row per wikitop run: its options, outcome and counts.",
        key: ["run_id"],
        partition_by: None,
        cluster_by: [],
    };
    /// One stored `ingest_runs` row.
    #[derive(Debug, Clone, PartialEq)]
    pub struct IngestRunRow from (run: &RunRecord), columns in ingest_runs {
            run_id: String = "Unique id of the run."
                <- run.run_id.clone();
            started_at: Timestamp = "When the run started (UTC)."
                <- run.started_at;
            finished_at: Option<Timestamp> = "When the run ended; NULL while running or if \
                it was killed."
                <- run.finished_at;
            status: RunStatus = "running, ok, partial (some days failed), failed, or abandoned (its process ended \
                without saying how: found running by a later run)."
                <- run.status;
            arguments: String = "The options the run was started with."
                <- run.arguments.clone();
            days_written: u64 = "Days stored by the run."
                <- run.days_written;
            rows_written: u64 = "Rows stored by the run."
                <- run.rows_written;
            http_requests: u64 = "HTTP requests sent to Wikimedia, retries included."
                <- run.http_requests;
            http_retries: u64 = "Requests that had to be retried."
                <- run.http_retries;
            error: Option<String> = "Why days failed, if any did."
                <- run.error.clone();
    }
}

impl From<IngestRunRow> for RunRecord {
    fn from(row: IngestRunRow) -> Self {
        RunRecord {
            run_id: row.run_id,
            started_at: row.started_at,
            finished_at: row.finished_at,
            status: row.status,
            arguments: row.arguments,
            days_written: row.days_written,
            rows_written: row.rows_written,
            http_requests: row.http_requests,
            http_retries: row.http_retries,
            error: row.error,
        }
    }
}

/// One row per visible category of a top page, for `GROUP BY category`.
pub const TOP_PAGE_CATEGORIES: View = View {
    name: "top_page_categories",
    description: "top_pages with one row per date, project, access, article and visible \
        category, for GROUP BY category.",
    from: &TOP_PAGES,
    columns: &[
        "date", "project", "access", "rank", "article", "views", "title",
    ],
    kind: ViewKind::Unnest {
        unnest: "categories",
        element: "category",
    },
};

/// What people mean by "the most read articles": one row per page, suspect rows left out.
pub const TOP_ARTICLES: View = View {
    name: "top_articles",
    description: "The day's articles that are not suspect, one row per page (a redirect and its \
        target together, views summed), by article_rank: the top 100 articles of a day are \
        WHERE article_rank <= 100.",
    from: &TOP_PAGES,
    columns: &["date", "project", "access", "article_rank", "title"],
    kind: ViewKind::PerPage {
        condition: "article_rank IS NOT NULL",
        aggregates: &[
            ("views", "CAST(SUM(views) AS BIGINT)"),
            ("articles", "ARRAY_AGG(article ORDER BY rank, article)"),
            ("page_id", "MAX(page_id)"),
            ("mostread_rank", "MIN(mostread_rank)"),
            ("categories", "ANY_VALUE(categories)"),
        ],
        order_by: &["date", "project", "access", "article_rank", "title"],
    },
};

/// What the world read: one row per day and Wikidata item over every wiki in the store.
pub const WORLD_TOP: View = View {
    name: "world_top",
    description: "What the world read: one row per date, access and Wikidata item over every \
        project in the store, views summed over the rows that count as articles (is_article, \
        not suspect_automated; a redirect and its target both counted), ranked by them. A \
        lower bound: a topic counts only on the wikis whose stored top list it reached.",
    from: &TOP_PAGES,
    columns: &["date", "access", "wikidata_id"],
    kind: ViewKind::AcrossWikis {
        condition: "wikidata_id IS NOT NULL AND is_article AND NOT suspect_automated",
        per_wiki: &[
            ("wiki_views", "CAST(SUM(views) AS BIGINT)"),
            ("wiki_title", "MIN(title)"),
        ],
        aggregates: &[
            (
                "world_rank",
                "RANK() OVER (PARTITION BY date, access ORDER BY SUM(wiki_views) DESC)",
            ),
            ("views", "CAST(SUM(wiki_views) AS BIGINT)"),
            ("wikis", "COUNT(*)"),
            (
                "projects",
                "ARRAY_AGG(project ORDER BY wiki_views DESC, project)",
            ),
            (
                "titles",
                "ARRAY_AGG(wiki_title ORDER BY wiki_views DESC, project)",
            ),
        ],
        order_by: &["date", "access", "world_rank", "wikidata_id"],
    },
};

/// Every table, in the order they are created.
pub const TABLES: [&Table; 2] = [&TOP_PAGES, &INGEST_RUNS];

/// Every view, created after the tables.
pub const VIEWS: [&View; 3] = [&TOP_PAGE_CATEGORIES, &TOP_ARTICLES, &WORLD_TOP];

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::{Access, Assessment, DesktopViews, PageInfo};

    #[test]
    fn definitions_are_well_formed() {
        for table in TABLES {
            assert!(!table.description.is_empty());
            for c in table.columns {
                assert!(
                    c.name
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                    "{}",
                    c.name
                );
                assert!(!c.description.is_empty(), "{} has no description", c.name);
                assert!(
                    c.mode != Mode::Repeated || c.ty == ColumnType::String,
                    "only lists of strings are encoded: {}",
                    c.name
                );
                let named = table.columns.iter().filter(|o| o.name == c.name).count();
                assert_eq!(named, 1, "{} is defined {named} times", c.name);
            }
            for key in table
                .key
                .iter()
                .chain(table.cluster_by)
                .chain(table.partition_by.as_slice())
            {
                let column = table.column(key).unwrap_or_else(|| panic!("{key}"));
                assert_eq!(column.mode, Mode::Required, "{key}");
            }
        }
        for view in VIEWS {
            let extra: &[&str] = match view.kind {
                ViewKind::Unnest { unnest, .. } => {
                    assert_eq!(view.from.column(unnest).unwrap().mode, Mode::Repeated);
                    &[unnest]
                }
                ViewKind::PerPage { aggregates, .. } => {
                    for (name, _) in aggregates {
                        assert!(!view.columns.contains(name), "{}: {name}", view.name);
                    }
                    &[]
                }
                ViewKind::AcrossWikis {
                    per_wiki,
                    aggregates,
                    ..
                } => {
                    for (name, _) in per_wiki {
                        assert!(view.from.column(name).is_none(), "{}: {name}", view.name);
                    }
                    for (name, _) in aggregates {
                        assert!(!view.columns.contains(name), "{}: {name}", view.name);
                    }
                    &["project"]
                }
            };
            for c in view.columns.iter().chain(extra) {
                assert!(view.from.column(c).is_some(), "{}: {c}", view.name);
            }
        }
    }

    #[test]
    fn rows_round_trip_through_values() {
        let page = PageInfo {
            title: "T".into(),
            page_id: Some(9_007_199_254_740_993),
            namespace: None,
            status: PageStatus::Redirect,
            wikidata_id: Some("Q42".parse().unwrap()),
            categories: vec!["A".into(), "B".into()],
            hidden_categories: vec![],
            fetched_at: Timestamp::from_microsecond(1_680_307_200_123_456).unwrap(),
        };
        let day = DayBatch {
            date: jiff::civil::date(2023, 4, 1),
            project: "en.wikipedia".parse().unwrap(),
            access: Access::AllAccess,
            rows: vec![TopRow {
                rank: 3,
                article: "A_b".into(),
                views: u64::MAX,
                page: Arc::new(page),
                assessment: Assessment {
                    desktop: Some(DesktopViews {
                        views: Some(7),
                        min_views: 5,
                    }),
                    suspect: Some("on the deny list".into()),
                    is_article: true,
                    article_rank: None,
                    mostread_rank: Some(1),
                },
            }],
            run_id: "r".into(),
            ingested_at: Timestamp::from_microsecond(1).unwrap(),
        };
        let row = TopPageRow::new(&day, &day.rows[0]);
        let values = row.to_values();
        assert_eq!(values.len(), TOP_PAGES.columns.len());
        assert_eq!(values[5], Value::Int(i64::MAX), "views clamp to INT64");
        let back = TopPageRow::from_values(values).unwrap();
        assert_eq!(back.views, i64::MAX as u64);
        assert_eq!(
            TopPageRow {
                views: row.views,
                ..back
            },
            row
        );

        let run = RunRecord {
            run_id: "r".into(),
            started_at: Timestamp::UNIX_EPOCH,
            finished_at: None,
            status: RunStatus::Partial,
            arguments: "sync".into(),
            days_written: 1,
            rows_written: 2,
            http_requests: 3,
            http_retries: 4,
            error: Some("e".into()),
        };
        let back = IngestRunRow::from_values(IngestRunRow::new(&run).to_values()).unwrap();
        assert_eq!(RunRecord::from(back), run);
    }

    #[test]
    fn a_bad_cell_names_its_column() {
        let mut values = INGEST_RUNS_SAMPLE.with(Clone::clone);
        values[3] = Value::String("sleeping".into());
        let err = IngestRunRow::from_values(values.clone()).unwrap_err();
        assert!(
            err.contains("column `status`") && err.contains("sleeping"),
            "{err}"
        );
        values[3] = Value::String("ok".into());
        values.pop();
        let err = IngestRunRow::from_values(values).unwrap_err();
        assert!(err.contains("before column `error`"), "{err}");
    }

    thread_local! {
        static INGEST_RUNS_SAMPLE: Vec<Value> = vec![
            Value::String("r".into()),
            Value::Timestamp(Timestamp::UNIX_EPOCH),
            Value::Null,
            Value::String("ok".into()),
            Value::String("sync".into()),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            Value::Int(0),
            Value::Null,
        ];
    }
}
