//! The report's SQL: one statement per section, aggregated in the store (DuckDB or
//! BigQuery) so that only the figures travel, never the rows. The few expressions the
//! two dialects spell differently are rendered per [`Dialect`]; everything else is
//! the common subset both run (and the BigQuery emulator the tests use). Column names
//! come from the table definition (`top_pages::…`); each statement's result columns are
//! named as the fields of its record in `figures.rs`.
//!
//! Which rows count: by default the *articles* whose traffic is not flagged, as the
//! store judged them (`is_article`, `suspect_automated`), with the one rule for rows
//! stored before judging in `crate::judge::stored`. The report counts those rows ("not
//! checked") so a reader knows how much of it rests on that rule. `--all-rows` counts
//! every row.

use crate::judge::stored::{ARTICLE, JUDGED, SUSPECT};
use crate::model::{Access, Day, Project};
use crate::sinks::read::{Dialect, Param};
use crate::sinks::schema::top_pages::{
    access, article, article_rank, categories, date, desktop_share, mostread_rank, project, rank,
    suspect_automated, suspect_reason, title, views,
};

/// How many categories the "top categories" chart follows.
pub(crate) const TOP_CATEGORIES: usize = 12;
/// How many streaks the report lists.
pub(crate) const TOP_STREAKS: usize = 15;
/// How many pages "Most read articles" lists.
pub(crate) const TOP_PAGES: usize = 20;
/// How many pages the range's "Top read" lists.
pub(crate) const TOP_READ: usize = 25;

/// A statement and what it does, for errors.
pub(crate) struct Query {
    pub(crate) what: &'static str,
    pub(crate) sql: String,
}

/// What every section's query shares: the store's dialect and table, the range, and
/// which rows count.
pub(crate) struct Scope {
    pub(crate) dialect: Dialect,
    /// `top_pages` as the store names it.
    pub(crate) table: String,
    pub(crate) project: Project,
    pub(crate) access: Access,
    pub(crate) since: Day,
    pub(crate) until: Day,
    pub(crate) all_rows: bool,
}

impl Scope {
    pub(crate) fn params(&self) -> Vec<(&'static str, Param)> {
        vec![
            ("project", Param::String(self.project.as_str().to_owned())),
            ("access", Param::String(self.access.as_str().to_owned())),
            ("since", Param::Date(self.since)),
            ("until", Param::Date(self.until)),
        ]
    }

    /// The rows of the range, of every kind.
    fn range(&self) -> String {
        format!(
            "t.{project} = @project AND t.{access} = @access AND t.{date} BETWEEN @since AND @until"
        )
    }

    /// The condition (without the range) a counted row meets.
    fn counted_cond(&self) -> String {
        if self.all_rows {
            "TRUE".to_owned()
        } else {
            format!("({ARTICLE} AND NOT {SUSPECT})")
        }
    }

    /// The rows of the range that the report counts.
    fn counted(&self) -> String {
        format!("{} AND {}", self.range(), self.counted_cond())
    }

    /// `FROM top_pages AS t` joined with one row per visible category, named `category`.
    fn with_categories(&self) -> String {
        match self.dialect {
            Dialect::DuckDb => format!(
                "{} AS t CROSS JOIN UNNEST(t.{categories}) AS u(category)",
                self.table
            ),
            Dialect::BigQuery => format!(
                "{} AS t CROSS JOIN UNNEST(t.{categories}) AS category",
                self.table
            ),
        }
    }

    /// Days since 1970 of a DATE expression: consecutive days, consecutive numbers.
    fn day_number(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("date_diff('day', DATE '1970-01-01', {expr})"),
            Dialect::BigQuery => format!("DATE_DIFF({expr}, DATE '1970-01-01', DAY)"),
        }
    }

    /// `YYYY-MM` of a DATE expression.
    fn month(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("strftime({expr}, '%Y-%m')"),
            Dialect::BigQuery => format!("FORMAT_DATE('%Y-%m', {expr})"),
        }
    }

    /// A sum that stays a 64-bit integer (DuckDB widens `sum(BIGINT)` to HUGEINT).
    fn sum(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::DuckDb => format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)"),
            Dialect::BigQuery => format!("COALESCE(SUM({expr}), 0)"),
        }
    }

    fn count_if(&self, cond: &str) -> String {
        self.sum(&format!("CASE WHEN {cond} THEN 1 ELSE 0 END"))
    }

    /// [`Totals`](super::figures::Totals).
    pub(crate) fn totals(&self) -> Query {
        let counted = self.counted_cond();
        Query {
            what: "summing up the range",
            sql: format!(
                "SELECT {rows} AS rows, \
                 COUNT(DISTINCT CASE WHEN {counted} THEN t.{article} END) AS articles, \
                 {views} AS views, COUNT(*) AS range_rows, {not_article} AS not_articles, \
                 {suspect} AS flagged, {unchecked} AS not_checked \
                 FROM {table} AS t WHERE {range}",
                rows = self.count_if(&counted),
                views = self.sum(&format!("CASE WHEN {counted} THEN t.{views} ELSE 0 END")),
                not_article = self.count_if(&format!("NOT {ARTICLE}")),
                suspect = self.count_if(SUSPECT),
                unchecked = self.count_if(&format!("NOT {JUDGED}")),
                table = self.table,
                range = self.range(),
            ),
        }
    }

    /// [`CategoryCount`](super::figures::CategoryCount).
    pub(crate) fn category_count(&self) -> Query {
        Query {
            what: "counting categories",
            sql: format!(
                "SELECT COUNT(DISTINCT category) AS categories FROM {} WHERE {}",
                self.with_categories(),
                self.counted(),
            ),
        }
    }

    /// Page-days per month of the [`TOP_CATEGORIES`] visible categories that hold the
    /// most page-days in the range: [`MonthCategory`](super::figures::MonthCategory).
    pub(crate) fn categories_by_month(&self) -> Query {
        Query {
            what: "counting categories by month",
            sql: format!(
                "WITH c AS (SELECT t.{date} AS day, category FROM {from} WHERE {counted}), \
                 top AS (SELECT category, COUNT(*) AS n FROM c GROUP BY category \
                         ORDER BY n DESC, category LIMIT {TOP_CATEGORIES}) \
                 SELECT {month} AS month, c.category AS category, COUNT(*) AS page_days \
                 FROM c JOIN top ON c.category = top.category \
                 GROUP BY month, c.category ORDER BY month, c.category",
                from = self.with_categories(),
                counted = self.counted(),
                month = self.month("c.day"),
            ),
        }
    }

    /// The longest runs of consecutive days an article stayed in the counted rows
    /// ([`Streak`](super::figures::Streak)). Consecutive days have consecutive day
    /// numbers, so day number minus the row's position in its article's days is
    /// constant along a run (gaps and islands).
    pub(crate) fn streaks(&self) -> Query {
        Query {
            what: "finding the longest streaks",
            sql: format!(
                "WITH d AS (SELECT t.{article} AS article, t.{date} AS day, t.{views} AS views, \
                        {number} - ROW_NUMBER() OVER (PARTITION BY t.{article} ORDER BY t.{date}) \
                        AS run FROM {table} AS t WHERE {counted}) \
                 SELECT article, MIN(day) AS first, MAX(day) AS last, COUNT(*) AS days, \
                        {sum} AS views \
                 FROM d GROUP BY article, run \
                 ORDER BY days DESC, views DESC, article LIMIT {TOP_STREAKS}",
                number = self.day_number(&format!("t.{date}")),
                table = self.table,
                counted = self.counted(),
                sum = self.sum("views"),
            ),
        }
    }

    /// Each day's #1 as stored ([`NumberOne`](super::figures::NumberOne)): the page
    /// with `article_rank = 1` (its rows' views summed), or the served `rank = 1` with
    /// `--all-rows`; tied pages all come, most viewed first.
    pub(crate) fn number_one(&self) -> Query {
        let first = if self.all_rows { rank } else { article_rank };
        Query {
            what: "finding each day's #1",
            sql: format!(
                "SELECT t.{date} AS day, t.{title} AS article, {sum} AS views FROM {table} AS t \
                 WHERE {range} AND t.{first} = 1 GROUP BY t.{date}, t.{title} \
                 ORDER BY day, views DESC, article",
                sum = self.sum(&format!("t.{views}")),
                table = self.table,
                range = self.range(),
            ),
        }
    }

    /// The counted rows per page (a redirect and its target together).
    fn pages(&self) -> String {
        format!(
            "SELECT t.{title} AS title, {sum} AS views, COUNT(DISTINCT t.{date}) AS days, \
             MIN(t.{article_rank}) AS best_rank FROM {table} AS t WHERE {counted} \
             GROUP BY t.{title}",
            sum = self.sum(&format!("t.{views}")),
            table = self.table,
            counted = self.counted(),
        )
    }

    /// The pages with the most counted views in the range
    /// ([`MostReadPage`](super::figures::MostReadPage)).
    pub(crate) fn most_read(&self) -> Query {
        Query {
            what: "finding the most read articles",
            sql: format!(
                "{} ORDER BY views DESC, title LIMIT {TOP_PAGES}",
                self.pages()
            ),
        }
    }

    /// The counted views of each day of the pages of [`Self::most_read`]
    /// ([`DailyViews`](super::figures::DailyViews)).
    pub(crate) fn most_read_daily(&self) -> Query {
        Query {
            what: "following the most read articles day by day",
            sql: format!(
                "WITH p AS ({pages} ORDER BY views DESC, title LIMIT {TOP_PAGES}) \
                 SELECT t.{title} AS title, t.{date} AS day, {sum} AS views \
                 FROM {table} AS t JOIN p ON t.{title} = p.title \
                 WHERE {counted} GROUP BY t.{title}, t.{date} ORDER BY title, day",
                pages = self.pages(),
                sum = self.sum(&format!("t.{views}")),
                table = self.table,
                counted = self.counted(),
            ),
        }
    }

    /// Wikimedia's "Top read" lists of the range, by page, from `mostread_rank`
    /// ([`TopRead`](super::figures::TopRead)).
    pub(crate) fn top_read(&self) -> Query {
        Query {
            what: "reading the range's Top read lists",
            sql: format!(
                "SELECT t.{title} AS title, COUNT(DISTINCT t.{date}) AS days, \
                 MIN(t.{mostread_rank}) AS best, {sum} AS views FROM {table} AS t \
                 WHERE {range} AND t.{mostread_rank} IS NOT NULL GROUP BY t.{title} \
                 ORDER BY views DESC, title LIMIT {TOP_READ}",
                sum = self.sum(&format!("t.{views}")),
                table = self.table,
                range = self.range(),
            ),
        }
    }

    /// The range's pages flagged as automated traffic, whatever `--all-rows` says, one
    /// row per page ([`Flagged`](super::figures::Flagged)). A reason quotes the day's
    /// share, so the one shown is that of the page's most viewed flagged day.
    pub(crate) fn flagged(&self) -> Query {
        Query {
            what: "listing flagged traffic",
            sql: format!(
                "WITH f AS (SELECT t.{article} AS article, t.{date} AS day, t.{views} AS views, \
                        t.{desktop_share} AS share, \
                        FIRST_VALUE(t.{suspect_reason}) OVER (PARTITION BY t.{article} \
                            ORDER BY t.{views} DESC, t.{date}) AS reason \
                        FROM {table} AS t WHERE {range} AND t.{suspect_automated}) \
                 SELECT article, COALESCE(reason, '') AS reason, COUNT(*) AS days, \
                        MIN(day) AS first, MAX(day) AS last, {sum} AS views, \
                        AVG(share) AS desktop_share, MIN(share) AS desktop_share_min, \
                        MAX(share) AS desktop_share_max \
                 FROM f GROUP BY article, reason \
                 ORDER BY views DESC, article",
                sum = self.sum("views"),
                table = self.table,
                range = self.range(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::schema::TOP_PAGES as TABLE;

    fn scope(dialect: Dialect, all_rows: bool) -> Scope {
        Scope {
            dialect,
            table: "`p.d.top_pages`".into(),
            project: "en.wikipedia".parse().unwrap(),
            access: Access::AllAccess,
            since: jiff::civil::date(2024, 1, 1),
            until: jiff::civil::date(2024, 1, 31),
            all_rows,
        }
    }

    fn all(s: &Scope) -> Vec<Query> {
        vec![
            s.totals(),
            s.category_count(),
            s.categories_by_month(),
            s.streaks(),
            s.number_one(),
            s.flagged(),
            s.most_read(),
            s.most_read_daily(),
            s.top_read(),
        ]
    }

    #[test]
    fn each_dialect_gets_its_own_spelling_and_values_stay_parameters() {
        for dialect in [Dialect::DuckDb, Dialect::BigQuery] {
            let queries = all(&scope(dialect, false));
            let bigquery_only = ["DATE_DIFF(", "FORMAT_DATE(", "categories) AS category"];
            let duckdb_only = ["date_diff('day'", "strftime(", "AS u(category)"];
            let (wanted, unwanted) = match dialect {
                Dialect::DuckDb => (duckdb_only, bigquery_only),
                Dialect::BigQuery => (bigquery_only, duckdb_only),
            };
            for w in wanted {
                assert!(queries.iter().any(|q| q.sql.contains(w)), "{dialect:?} {w}");
            }
            for q in queries {
                assert!(!q.sql.contains("2024"), "dates are bound: {}", q.sql);
                assert!(!q.sql.contains("en.wikipedia"), "{}", q.sql);
                for u in unwanted {
                    assert!(!q.sql.contains(u), "{dialect:?} {u}: {}", q.sql);
                }
            }
        }
    }

    #[test]
    fn all_rows_drops_the_article_and_traffic_filter_but_flagged_keeps_its_own() {
        let s = scope(Dialect::DuckDb, true);
        assert!(!s.streaks().sql.contains("is_article"));
        assert!(s.number_one().sql.contains("t.rank = 1"));
        assert!(s.flagged().sql.contains("t.suspect_automated"));
        let s = scope(Dialect::DuckDb, false);
        assert!(s.streaks().sql.contains(ARTICLE));
        assert!(s.number_one().sql.contains("t.article_rank = 1"));
        assert!(s.most_read().sql.contains(SUSPECT));
    }

    /// Every `t.name` of every statement (the judge's rule for unjudged rows included)
    /// is a column of `top_pages`.
    #[test]
    fn every_column_read_is_one_of_the_table() {
        for q in all(&scope(Dialect::DuckDb, false)) {
            for (i, _) in q.sql.match_indices("t.") {
                let before = q.sql[..i].chars().next_back();
                if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    continue;
                }
                let name: String = q.sql[i + 2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                assert!(TABLE.column(&name).is_some(), "{}: t.{name}", q.what);
            }
        }
    }
}
