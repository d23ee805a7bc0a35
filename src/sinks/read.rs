//! Read-only SQL against a store, for what summarises it (`wikitop report`): a query
//! runs *in* the store and only its (small) result comes back, as [`Record`]s.
//!
//! This module owns the shape of that capability — named parameters, the records a
//! result decodes into (their columns' types are the table definition's
//! [`ColumnType`]s, their values its [`Value`]s) — and each sink implements it in its own
//! `query.rs`. It knows no report and writes nothing: a sink opened read-only answers.
//! The SQL text is the caller's, written for the sink's [`Dialect`]; parameters are
//! written `@name` in both dialects (the DuckDB sink renumbers them) and values only
//! ever travel bound, never spliced into the text.

use super::schema::{ColumnType, Value};
use crate::error::Result;
use crate::model::Day;

/// The SQL dialect a store speaks; callers render the few differing expressions
/// (unnesting a list, a day number, a month label) per dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    DuckDb,
    /// GoogleSQL.
    BigQuery,
}

/// A value bound to the parameter `@name`.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Date(Day),
    String(String),
}

/// A query's result row as a struct: its columns in order, each with the type its field
/// decodes from. Declared with [`record!`], never written by hand, so no caller reads a
/// row by position.
pub trait Record: Sized {
    /// The result's columns in order: the names the SQL gives them (`AS name`) and types.
    const COLUMNS: &'static [(&'static str, ColumnType)];
    /// The row from its values in `COLUMNS` order; the message names the column.
    fn from_values(values: Vec<Value>) -> std::result::Result<Self, String>;
}

/// Declares a struct that a query's rows decode into: each field is a result column of
/// that name (the SQL names it with `AS`), its type one a table column can hold
/// ([`Cell`](super::schema::Cell)).
macro_rules! record {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident { $( $(#[$fattr:meta])* $fvis:vis $field:ident: $ty:ty, )* }
    ) => {
        $(#[$attr])*
        $vis struct $name { $( $(#[$fattr])* $fvis $field: $ty, )* }

        impl $crate::sinks::read::Record for $name {
            const COLUMNS: &'static [(&'static str, $crate::sinks::schema::ColumnType)] = &[
                $( (stringify!($field), <$ty as $crate::sinks::schema::Cell>::TYPE), )*
            ];

            fn from_values(
                values: Vec<$crate::sinks::schema::Value>,
            ) -> std::result::Result<Self, String> {
                let mut cells = values.into_iter();
                Ok($name {
                    $( $field: $crate::sinks::schema::next_cell::<$ty>(
                        &mut cells,
                        stringify!($field),
                    )?, )*
                })
            }
        }
    };
}
pub(crate) use record;

/// A store that answers read-only SQL.
#[allow(async_fn_in_trait)] // used generically inside the crate, never as `dyn`
pub trait ReadStore {
    fn dialect(&self) -> Dialect;

    /// A table or view of the store as its SQL names it (BigQuery qualifies it with
    /// the project and dataset).
    fn table(&self, name: &str) -> String;

    /// Runs `sql` with `params` bound to its `@name` parameters and returns every row,
    /// each value decoded as its column in `columns` says (a store that sees the result's
    /// column names checks them too); `what` names the query in errors.
    async fn select(
        &mut self,
        what: &str,
        sql: &str,
        params: &[(&str, Param)],
        columns: &[(&str, ColumnType)],
    ) -> Result<Vec<Vec<Value>>>;
}

/// Runs `sql` and decodes every row into an `R`.
pub(crate) async fn fetch<R: Record, S: ReadStore>(
    store: &mut S,
    what: &str,
    sql: &str,
    params: &[(&str, Param)],
) -> Result<Vec<R>> {
    let rows = store.select(what, sql, params, R::COLUMNS).await?;
    rows.into_iter()
        .map(|values| {
            R::from_values(values)
                .map_err(|e| crate::error::Error::store(what, crate::error::Message(e)))
        })
        .collect()
}
