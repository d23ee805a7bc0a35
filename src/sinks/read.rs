//! Read-only SQL against a store, for what summarises it (`wikitop report`): a query
//! runs *in* the store and only its (small) result comes back, typed cell by cell.
//!
//! This module owns the shape of that capability — named parameters, the expected
//! kind of each result column, the cells — and each sink implements it in its own
//! `query.rs`. It knows no report and writes nothing: a sink opened read-only answers.
//! The SQL text is the caller's, written for the sink's [`Dialect`]; parameters are
//! written `@name` in both dialects (the DuckDB sink renumbers them) and values only
//! ever travel bound, never spliced into the text.

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

/// The kind of value a result column holds, as the caller's SQL produces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Float,
    String,
    Date,
    Bool,
}

/// One result cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Float(f64),
    String(String),
    Date(Day),
    Bool(bool),
}

/// A store that answers read-only SQL.
#[allow(async_fn_in_trait)] // used generically inside the crate, never as `dyn`
pub trait ReadStore {
    fn dialect(&self) -> Dialect;

    /// A table or view of the store as its SQL names it (BigQuery qualifies it with
    /// the project and dataset).
    fn table(&self, name: &str) -> String;

    /// Runs `sql` with `params` bound to its `@name` parameters and returns every row,
    /// each cell decoded as `kinds` says; `what` names the query in errors.
    async fn select(
        &mut self,
        what: &str,
        sql: &str,
        params: &[(&str, Param)],
        kinds: &[Kind],
    ) -> Result<Vec<Vec<Cell>>>;
}
