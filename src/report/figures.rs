//! The rows the report's queries return, one struct per query (`record!`): each field is
//! a result column of that name, so a figure is read by name, never by position.

use crate::model::Day;
use crate::sinks::read::record;

record! {
    /// The range's counts: counted rows, their unique articles and views; all rows, and
    /// how many are not articles, flagged, and not checked.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub(crate) struct Totals {
        pub(crate) rows: u64,
        pub(crate) articles: u64,
        pub(crate) views: u64,
        pub(crate) range_rows: u64,
        pub(crate) not_articles: u64,
        pub(crate) flagged: u64,
        pub(crate) not_checked: u64,
    }
}

record! {
    /// Distinct visible categories of the counted rows.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct CategoryCount {
        pub(crate) categories: u64,
    }
}

record! {
    /// One category's page-days in one month.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct MonthCategory {
        pub(crate) month: String,
        pub(crate) category: String,
        pub(crate) page_days: u64,
    }
}

record! {
    /// A run of consecutive days an article stayed among the report's rows.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Streak {
        pub article: String,
        pub first: Day,
        pub last: Day,
        pub days: u64,
        /// Views over the streak's days.
        pub views: u64,
    }
}

record! {
    /// A day's #1 as stored (`article_rank = 1`; the served `rank = 1` with
    /// `--all-rows`): the page's title and its rows' views.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct NumberOne {
        pub day: Day,
        pub article: String,
        pub views: u64,
    }
}

record! {
    /// A page among the most read of the range (a redirect and its target together).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct MostReadPage {
        pub(crate) title: String,
        pub(crate) views: u64,
        /// Days the page was among the report's rows.
        pub(crate) days: u64,
        /// Its best `article_rank`; `None` with `--all-rows` for a page never ranked.
        pub(crate) best_rank: Option<u64>,
    }
}

record! {
    /// A most read page's counted views on one day.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) struct DailyViews {
        pub(crate) title: String,
        pub(crate) day: Day,
        pub(crate) views: u64,
    }
}

record! {
    /// A page of Wikimedia's "Top read" lists of the range (`mostread_rank`).
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TopRead {
        pub title: String,
        pub days: u64,
        pub best: u64,
        pub views: u64,
    }
}

record! {
    /// A page whose traffic was flagged as automated on some days of the range.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Flagged {
        pub article: String,
        /// Why, as stored for its most viewed flagged day.
        pub reason: String,
        pub days: u64,
        pub first: Day,
        pub last: Day,
        pub views: u64,
        /// Desktop share of the views (0–1): mean, lowest and highest over the days;
        /// `None` when the desktop top list did not have the article.
        pub desktop_share: Option<f64>,
        pub desktop_share_min: Option<f64>,
        pub desktop_share_max: Option<f64>,
    }
}
