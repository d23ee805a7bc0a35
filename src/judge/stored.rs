//! The judgement as readers of a store apply it in SQL, and the one rule for rows stored
//! before wikitop judged rows (schema version 3): their `is_article` and
//! `suspect_automated` are NULL until `sync --force` fetches them again, and meanwhile
//! they count by what the row itself says — an existing page in namespace 0 (the main
//! page cannot be told apart without `meta=siteinfo`) whose traffic is not flagged.
//!
//! Each expression reads the row as `t` and is valid in DuckDB and GoogleSQL alike.

/// A row that counts as an article.
pub const ARTICLE: &str =
    "COALESCE(t.is_article, t.page_status IN ('ok', 'redirect') AND t.namespace = 0)";

/// A row whose traffic is flagged as likely automated.
pub const SUSPECT: &str = "COALESCE(t.suspect_automated, FALSE)";

/// A row judged by wikitop (stored from schema version 3 on).
pub const JUDGED: &str = "t.suspect_automated IS NOT NULL";
