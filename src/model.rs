//! The domain types that flow from the sources through the pipeline into a sink.
//!
//! They carry no I/O: a `Project` or `Access` that exists has already been validated,
//! so the sources and sinks never re-check their input.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;

/// A calendar day (UTC), the unit of work and of atomic storage.
pub type Day = Date;

/// The first day the Pageviews API has data for.
pub const FIRST_PAGEVIEWS_DAY: Day = jiff::civil::date(2015, 7, 1);

/// Wikis outside the `<language>.<family>` scheme that the Pageviews API serves.
const SPECIAL_WIKIS: &[&str] = &[
    "commons.wikimedia",
    "meta.wikimedia",
    "species.wikimedia",
    "incubator.wikimedia",
    "outreach.wikimedia",
    "wikisource.org",
    "www.wikidata",
    "www.mediawiki",
    "wikimania.wikimedia",
];

/// Wikimedia project families in `<language>.<family>` names.
const FAMILIES: &[&str] = &[
    "wikipedia",
    "wiktionary",
    "wikibooks",
    "wikinews",
    "wikiquote",
    "wikisource",
    "wikiversity",
    "wikivoyage",
];

/// A Wikimedia project as the Pageviews API names it, e.g. `en.wikipedia`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Project(String);

/// Why a project name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown project `{0}`: expected `<language>.<family>` such as `en.wikipedia` or `de.wiktionary`"
)]
pub struct UnknownProject(pub String);

impl Project {
    /// The project's web host, e.g. `en.wikipedia.org`.
    pub fn host(&self) -> String {
        format!("{}.org", self.0)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The language code of the project: its subdomain (`pt` for `pt.wikipedia`).
    /// Wikimedia's feed keys its per-language deny lists by the wiki's `siteinfo`
    /// `lang`, which differs from the subdomain on a few wikis (`simple` is `en`); on
    /// every wiki that one of its lists names, the two agree.
    pub fn language(&self) -> &str {
        self.0.split('.').next().unwrap_or(&self.0)
    }
}

impl FromStr for Project {
    type Err = UnknownProject;

    /// Accepts the form the Pageviews API uses; a well-formed but unknown language is
    /// caught later by a 404 for a day that is long published.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        let name = name.strip_suffix(".org").unwrap_or(&name).to_owned();
        if SPECIAL_WIKIS.contains(&name.as_str()) {
            return Ok(Project(name));
        }
        let valid = name.split_once('.').is_some_and(|(lang, family)| {
            FAMILIES.contains(&family)
                && (2..=12).contains(&lang.len())
                && lang.starts_with(|c: char| c.is_ascii_lowercase())
                && lang
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        });
        if valid {
            Ok(Project(name))
        } else {
            Err(UnknownProject(s.to_owned()))
        }
    }
}

impl fmt::Display for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An option whose values are a fixed set of names, as users type them: the command
/// line offers and parses them from here, so the library needs no argument parser.
pub trait Named: Copy + 'static {
    /// Every value, the default first.
    const ALL: &'static [Self];
    fn name(self) -> &'static str;

    /// The value called `name`, if any.
    fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.name() == name)
    }
}

/// The Pageviews API's access method filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Access {
    #[default]
    AllAccess,
    Desktop,
    MobileApp,
    MobileWeb,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::AllAccess => "all-access",
            Access::Desktop => "desktop",
            Access::MobileApp => "mobile-app",
            Access::MobileWeb => "mobile-web",
        }
    }
}

impl Named for Access {
    const ALL: &'static [Access] = &[
        Access::AllAccess,
        Access::Desktop,
        Access::MobileApp,
        Access::MobileWeb,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl FromStr for Access {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "all-access" => Ok(Access::AllAccess),
            "desktop" => Ok(Access::Desktop),
            "mobile-app" => Ok(Access::MobileApp),
            "mobile-web" => Ok(Access::MobileWeb),
            other => Err(format!(
                "unknown access `{other}`: expected all-access, desktop, mobile-app or mobile-web"
            )),
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ranked article of a day's top list, as the Pageviews API served it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopEntry {
    pub rank: u32,
    /// Exactly as returned (underscores, percent signs and all).
    pub article: String,
    pub views: u64,
}

/// What the Action API said about the page behind an article name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageStatus {
    Ok,
    /// The article name is a redirect; `title` is its target.
    Redirect,
    Missing,
    Special,
    Invalid,
    /// The Pageviews API's `-`: it could not tell which page was viewed. Never looked
    /// up (on real wikis `-` may be a page of its own), so no page and no categories.
    NoTitle,
}

impl PageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PageStatus::Ok => "ok",
            PageStatus::Redirect => "redirect",
            PageStatus::Missing => "missing",
            PageStatus::Special => "special",
            PageStatus::Invalid => "invalid",
            PageStatus::NoTitle => "no_title",
        }
    }
}

impl FromStr for PageStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ok" => PageStatus::Ok,
            "redirect" => PageStatus::Redirect,
            "missing" => PageStatus::Missing,
            "special" => PageStatus::Special,
            "invalid" => PageStatus::Invalid,
            "no_title" => PageStatus::NoTitle,
            other => return Err(format!("unknown page status `{other}`")),
        })
    }
}

/// A Wikidata item such as `Q42`: the topic a page is about, the same on every wiki
/// (`Elon_Musk`, `埃隆·马斯克` and `एलन_मस्क` are all `Q317521`). Wikibase sets it as the
/// page property `wikibase_item` on every page linked to an item. Kept as its number, so
/// the run's page cache stays small and only a well-formed id can exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WikidataId(std::num::NonZeroU64);

impl FromStr for WikidataId {
    type Err = String;

    /// `Q` and a number without sign or leading zero, as Wikibase mints them.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.strip_prefix('Q')
            .filter(|n| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse().ok())
            .map(WikidataId)
            .ok_or_else(|| format!("`{s}` is not a Wikidata item id"))
    }
}

impl fmt::Display for WikidataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Q{}", self.0)
    }
}

/// The categories of the page an article name resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageInfo {
    /// Normalised, redirect followed; the article name itself when the page is invalid.
    pub title: String,
    pub page_id: Option<i64>,
    pub namespace: Option<i32>,
    pub status: PageStatus,
    /// The page's Wikidata item (a redirect's is its target's); `None` when the page does
    /// not exist or is linked to no item.
    pub wikidata_id: Option<WikidataId>,
    /// Visible categories without the `Category:` prefix, sorted, no duplicates.
    pub categories: Vec<String>,
    /// Hidden (maintenance) categories, same form.
    pub hidden_categories: Vec<String>,
    pub fetched_at: Timestamp,
}

impl PageInfo {
    /// An article the API gave no page for: the name itself, no id, no categories.
    pub fn without_page(title: &str, status: PageStatus, fetched_at: Timestamp) -> Self {
        PageInfo {
            title: title.to_owned(),
            page_id: None,
            namespace: None,
            status,
            wikidata_id: None,
            categories: Vec::new(),
            hidden_categories: Vec::new(),
            fetched_at,
        }
    }
}

/// The day's desktop top list as it bears on one article of the top list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesktopViews {
    /// The article's desktop views; `None` when it is not in the desktop top list.
    pub views: Option<u64>,
    /// Views of the desktop list's last article: an article missing from it had fewer.
    pub min_views: u64,
}

/// What wikitop concluded about a row, beside what the APIs served.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Assessment {
    /// `None` when the day's desktop list was not fetched.
    pub desktop: Option<DesktopViews>,
    /// Why the row is likely automated traffic; `None` when it is not suspect.
    pub suspect: Option<String>,
    /// An existing page in namespace 0 that is not the main page.
    pub is_article: bool,
    /// Rank of the row's page among the day's pages that are articles and not suspect
    /// (a redirect and its target counted once); `None` for other rows.
    pub article_rank: Option<u32>,
    /// Position in Wikimedia's "Top read" list of the day; `None` when not in it.
    pub mostread_rank: Option<u32>,
}

/// One stored row: an article of a day's top list joined with its page's categories.
#[derive(Debug, Clone, PartialEq)]
pub struct TopRow {
    pub rank: u32,
    pub article: String,
    pub views: u64,
    pub page: Arc<PageInfo>,
    pub assessment: Assessment,
}

impl TopRow {
    /// The share of the views that came from desktop, when the desktop list had it.
    pub fn desktop_share(&self) -> Option<f64> {
        let desktop = self.assessment.desktop?.views?;
        (self.views > 0).then(|| desktop as f64 / self.views as f64)
    }
}

/// Everything stored for one day of one project: written all or nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct DayBatch {
    pub date: Day,
    pub project: Project,
    pub access: Access,
    pub rows: Vec<TopRow>,
    pub run_id: String,
    pub ingested_at: Timestamp,
}

/// How a run ended, as recorded in `ingest_runs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Still going, or killed before it could say otherwise.
    Running,
    Ok,
    /// Some days failed after retries; the others were written.
    Partial,
    Failed,
    /// Found `running` by a later run after its process was gone (killed, crashed).
    Abandoned,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Ok => "ok",
            RunStatus::Partial => "partial",
            RunStatus::Failed => "failed",
            RunStatus::Abandoned => "abandoned",
        }
    }
}

impl FromStr for RunStatus {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "running" => RunStatus::Running,
            "ok" => RunStatus::Ok,
            "partial" => RunStatus::Partial,
            "failed" => RunStatus::Failed,
            "abandoned" => RunStatus::Abandoned,
            other => return Err(format!("unknown run status `{other}`")),
        })
    }
}

/// One row of `ingest_runs`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub run_id: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub status: RunStatus,
    /// The command line options, for the operator reading the ledger.
    pub arguments: String,
    pub days_written: u64,
    pub rows_written: u64,
    pub http_requests: u64,
    /// Requests that were retried (429, 5xx, timeouts, broken bodies, maxlag).
    pub http_retries: u64,
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projects_are_checked_by_form() {
        for ok in [
            "en.wikipedia",
            "zh-yue.wikipedia",
            "DE.wiktionary",
            "commons.wikimedia",
            "fr.wikipedia.org",
        ] {
            assert!(ok.parse::<Project>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "en",
            "wikipedia",
            "en.wikipediaa",
            "en.wikipedia/x",
            "1x.wikipedia",
            "en wiki.wikipedia",
        ] {
            assert!(bad.parse::<Project>().is_err(), "{bad}");
        }
        assert_eq!(
            "en.wikipedia".parse::<Project>().unwrap().host(),
            "en.wikipedia.org"
        );
    }

    #[test]
    fn wikidata_ids_are_q_and_a_number() {
        for ok in ["Q1", "Q42", "Q317521", "Q18446744073709551615"] {
            let id: WikidataId = ok.parse().unwrap();
            assert_eq!(id.to_string(), ok);
        }
        for bad in [
            "", "Q", "Q0", "Q042", "q42", "Q-1", "Q+1", "P31", "Q4 2", " Q42", "Q1e3",
        ] {
            assert!(bad.parse::<WikidataId>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_string_either_round_trips_or_is_refused(s in "\\PC{0,12}|Q[0-9]{1,22}") {
            if let Ok(id) = s.parse::<WikidataId>() {
                proptest::prop_assert_eq!(id.to_string(), s);
            }
        }
    }
}
