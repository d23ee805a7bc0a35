//! Judging a day's rows beside what the APIs served: which rows are articles, which look
//! like automated traffic, each article's rank among those that do not, and each
//! article's place in Wikimedia's own "Top read" list (`mostread`). Flag, never drop:
//! every served row is stored either way.
//!
//! Two different things, kept apart:
//! - **Wikimedia's "Top read" list** (`mostread_rank`) follows the feed's current code
//!   exactly, deny list included (see `mostread.rs`). The feed has not looked at the
//!   desktop share since wikifeeds commit b572352 (October 2020, T251900): the Pageviews
//!   API leaves out the traffic it classes as automated since then.
//! - **`suspect_automated`** is wikitop's own judgement: the deny list's `automated` and
//!   `unexplained` entries (`deny.rs`), and the desktop-share heuristic, which the feed
//!   used from 2016 to 2020 (`lib/most-read-filter.js`, `BOT_FILTER_THRESHOLD = 0.1`,
//!   against the first 100 desktop entries) and wikitop keeps, on by default, against the
//!   whole desktop list, because automated traffic still gets through: the feed's deny
//!   list keeps growing.
//!
//! An article is a page in namespace 0 that exists and is not the wiki's main page,
//! judged from the Action API's answer and `meta=siteinfo`, never from title prefixes.
//! `article_rank` ranks pages, not names: a redirect and its target in one day's list
//! are one page, ranked by their summed views.
//!
//! Pure: no I/O. The pipeline feeds it the served lists and resolved pages, and
//! `sync --rejudge` feeds it the same from the store.

pub mod deny;
pub mod mostread;
pub mod stored;

use std::collections::HashMap;
use std::fmt;

use crate::error::{Error, Result};
use crate::model::{Assessment, DesktopViews, PageInfo, PageStatus, Project};

pub use self::deny::DenyList;

/// The desktop share of views outside which a row is suspect, as fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareBounds {
    low: f64,
    high: f64,
}

impl ShareBounds {
    /// The bounds the feed used until 2020 (`BOT_FILTER_THRESHOLD = 0.1`, either side).
    pub const DEFAULT: ShareBounds = ShareBounds {
        low: 0.1,
        high: 0.9,
    };

    /// `LOW-HIGH` in percent, e.g. `10-90`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || Error::InvalidSetting {
            what: "desktop share bounds",
            value: s.to_owned(),
            why: "expected `LOW-HIGH` in percent with 0 <= LOW < HIGH <= 100, e.g. `10-90`".into(),
        };
        let (low, high) = s.split_once('-').ok_or_else(bad)?;
        let percent = |x: &str| {
            x.trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .map_err(|_| bad())
        };
        let (low, high) = (percent(low)?, percent(high)?);
        if !((0.0..100.0).contains(&low) && low < high && high <= 100.0) {
            return Err(bad());
        }
        Ok(ShareBounds {
            low: low / 100.0,
            high: high / 100.0,
        })
    }
}

impl fmt::Display for ShareBounds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{} %", self.low * 100.0, self.high * 100.0)
    }
}

/// How rows are judged: the share bounds and the deny list.
#[derive(Debug, Clone, PartialEq)]
pub struct Judging {
    pub bounds: ShareBounds,
    pub deny_list: DenyList,
}

/// The day's desktop top list, kept only for the articles of the day's top list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DesktopList {
    pub(crate) views: HashMap<String, u64>,
    /// Views of the list's last article.
    pub(crate) min_views: u64,
}

/// One served row with its resolved page, as the judge reads it.
pub(crate) struct Served<'a> {
    /// The rank the Pageviews API gave it.
    pub(crate) rank: u32,
    pub(crate) article: &'a str,
    pub(crate) views: u64,
    pub(crate) page: &'a PageInfo,
}

impl Judging {
    /// Judges every row of one day of `project`. `desktop` is `None` when the desktop list
    /// was not fetched (then only the deny list flags); `main_page` is the wiki's, from
    /// `meta=siteinfo` (`None` only when no page of the day came from the Action API).
    pub(crate) fn assess(
        &self,
        project: &Project,
        rows: &[Served<'_>],
        desktop: Option<&DesktopList>,
        main_page: Option<&str>,
    ) -> Vec<Assessment> {
        let mostread = mostread::ranks(project, &self.deny_list, rows, main_page);
        let mut out: Vec<Assessment> = rows
            .iter()
            .zip(mostread)
            .map(|(row, mostread_rank)| {
                let desktop = desktop.map(|d| DesktopViews {
                    views: d.views.get(row.article).copied(),
                    min_views: d.min_views,
                });
                Assessment {
                    suspect: self.suspicion(project, row, desktop),
                    desktop,
                    is_article: is_article(row.page, main_page),
                    article_rank: None,
                    mostread_rank,
                }
            })
            .collect();
        rank_pages(rows, &mut out);
        out
    }

    /// Why a row looks automated, if it does: the deny list first, then the share.
    fn suspicion(
        &self,
        project: &Project,
        row: &Served<'_>,
        desktop: Option<DesktopViews>,
    ) -> Option<String> {
        let listed = [row.article, row.page.title.as_str()]
            .into_iter()
            .find_map(|name| self.deny_list.flagging(project, name));
        if let Some(entry) = listed {
            return Some(format!(
                "on the deny list ({}: {})",
                entry.kind.as_str(),
                entry.source
            ));
        }
        let desktop = desktop?;
        let total = row.views as f64;
        let percent = |x: f64| x * 100.0;
        let low = percent(self.bounds.low);
        match desktop.views {
            // Absent from the desktop list: its share is below `min_views / views`,
            // which says it is too low only when that ceiling is at most the bound
            // (the feed kept `desktopViews >= total * 0.1`).
            None if desktop.min_views as f64 <= total * self.bounds.low => Some(format!(
                "not in the day's desktop top list: desktop share below {:.1} %, the bound is {low} %",
                percent(desktop.min_views as f64 / total)
            )),
            None => None,
            Some(v) if (v as f64) < total * self.bounds.low => Some(format!(
                "desktop share {:.1} % is below {low} %",
                percent(v as f64 / total)
            )),
            Some(v) if (v as f64) > total * self.bounds.high => Some(format!(
                "desktop share {:.1} % is above {} %",
                percent(v as f64 / total),
                percent(self.bounds.high)
            )),
            Some(_) => None,
        }
    }
}

/// An existing page in the main namespace that is not the wiki's main page.
fn is_article(page: &PageInfo, main_page: Option<&str>) -> bool {
    matches!(page.status, PageStatus::Ok | PageStatus::Redirect)
        && page.namespace == Some(0)
        && main_page != Some(page.title.as_str())
}

/// SQL `rank()` by views among the pages whose rows are articles and not suspect: the
/// rows of one page (a redirect and its target) count once, with their views summed,
/// and each carries the page's rank. Ties share a rank and the next rank is skipped, as
/// the Pageviews API ranks.
fn rank_pages(rows: &[Served<'_>], out: &mut [Assessment]) {
    let eligible = |a: &Assessment| a.is_article && a.suspect.is_none();
    let mut pages: HashMap<&str, u64> = HashMap::new();
    for (row, a) in rows.iter().zip(out.iter()) {
        if eligible(a) {
            *pages.entry(row.page.title.as_str()).or_default() += row.views;
        }
    }
    for (row, a) in rows.iter().zip(out.iter_mut()) {
        if eligible(a) {
            let views = pages[row.page.title.as_str()];
            let above = pages.values().filter(|&&v| v > views).count();
            a.article_rank = u32::try_from(above + 1).ok();
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::*;

    fn page(title: &str, ns: Option<i32>, status: PageStatus) -> PageInfo {
        PageInfo {
            title: title.into(),
            page_id: Some(1),
            namespace: ns,
            status,
            wikidata_id: None,
            categories: vec![],
            hidden_categories: vec![],
            fetched_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn judging() -> Judging {
        Judging {
            bounds: ShareBounds::DEFAULT,
            deny_list: DenyList::load(None).unwrap(),
        }
    }

    fn served<'a>(rows: &'a [(&'a str, u64, &'a PageInfo)]) -> Vec<Served<'a>> {
        rows.iter()
            .enumerate()
            .map(|(i, &(article, views, page))| Served {
                rank: i as u32 + 1,
                article,
                views,
                page,
            })
            .collect()
    }

    #[test]
    fn shares_outside_the_bounds_and_the_deny_list_are_flagged_not_dropped() {
        let en: Project = "en.wikipedia".parse().unwrap();
        let ok = page("A", Some(0), PageStatus::Ok);
        let main = page("Main Page", Some(0), PageStatus::Ok);
        let search = page("Special:Search", Some(-1), PageStatus::Special);
        let denied = page("XHamster", Some(0), PageStatus::Ok);
        let editorial = page("Nigger", Some(0), PageStatus::Ok);
        let (human, tied, edge, low, high) = (
            page("Human", Some(0), PageStatus::Ok),
            page("Tied", Some(0), PageStatus::Ok),
            page("Edge 10", Some(0), PageStatus::Ok),
            page("Mobile only", Some(0), PageStatus::Ok),
            page("Unknown share", Some(0), PageStatus::Ok),
        );
        let rows = [
            ("Main_Page", 5_000_000, &main),
            ("Special:Search", 1_000_000, &search),
            ("Bot_98", 900_000, &ok),
            ("Bot_2", 800_000, &ok),
            ("Human", 700_000, &human),
            ("Tied", 700_000, &tied),
            ("XHamster", 650_000, &denied),
            ("Mobile_only", 600_000, &low),
            ("Edge_10", 500_000, &edge),
            ("Nigger", 110_000, &editorial),
            ("Unknown_share", 100_000, &high),
        ];
        let desktop = DesktopList {
            views: HashMap::from([
                ("Main_Page".into(), 2_000_000),
                ("Bot_98".into(), 882_000),
                ("Bot_2".into(), 16_000),
                ("Human".into(), 300_000),
                ("Tied".into(), 200_000),
                ("XHamster".into(), 300_000),
                ("Edge_10".into(), 50_000),
                ("Nigger".into(), 50_000),
            ]),
            min_views: 12_000,
        };
        let got = judging().assess(&en, &served(&rows), Some(&desktop), Some("Main Page"));
        let flags: Vec<(bool, bool, Option<u32>)> = got
            .iter()
            .map(|a| (a.is_article, a.suspect.is_some(), a.article_rank))
            .collect();
        assert_eq!(
            flags,
            [
                (false, false, None),   // the main page: not an article
                (false, true, None),    // no desktop entry, share below 1.2 %: suspect, no article
                (true, true, None),     // 98 % desktop
                (true, true, None),     // 2 % desktop
                (true, false, Some(1)), // the top article
                (true, false, Some(1)), // tied with it
                (true, true, None),     // deny list, automated
                (true, true, None),     // not in the desktop list, share below 2 %
                (true, false, Some(3)), // exactly 10 % is kept, as the feed kept it
                (true, false, Some(4)), // an editorial entry says nothing of the traffic
                (true, false, Some(5)), // absent, but its share may be up to 12 %: unknown
            ]
        );
        assert_eq!(
            got[2].suspect.as_deref(),
            Some("desktop share 98.0 % is above 90 %")
        );
        assert_eq!(
            got[3].suspect.as_deref(),
            Some("desktop share 2.0 % is below 10 %")
        );
        assert_eq!(
            got[7].suspect.as_deref(),
            Some("not in the day's desktop top list: desktop share below 2.0 %, the bound is 10 %")
        );
        assert!(
            got[6]
                .suspect
                .as_deref()
                .unwrap()
                .starts_with("on the deny list (automated: T124716")
        );
        assert_eq!(
            got[10].desktop,
            Some(DesktopViews {
                views: None,
                min_views: 12_000
            })
        );
        // The feed's list: no main page, no special page, no deny-listed page.
        let mostread: Vec<Option<u32>> = got.iter().map(|a| a.mostread_rank).collect();
        assert_eq!(
            mostread,
            [
                None,
                None,
                Some(1),
                Some(1),
                Some(2),
                Some(3),
                None,
                Some(4),
                Some(5),
                None,
                Some(6)
            ]
        );
    }

    #[test]
    fn a_redirect_and_its_target_are_one_page_with_one_rank() {
        let en: Project = "en.wikipedia".parse().unwrap();
        let musk = page("Elon Musk", Some(0), PageStatus::Ok);
        let redirect = page("Elon Musk", Some(0), PageStatus::Redirect);
        let other = page("Other", Some(0), PageStatus::Ok);
        let rows = [
            ("Other", 1_000, &other),
            ("Elon_Musk", 800, &musk),
            ("Elon_musk", 300, &redirect),
        ];
        let got = judging().assess(&en, &served(&rows), None, Some("Main Page"));
        let ranks: Vec<_> = got
            .iter()
            .map(|a| (a.article_rank, a.mostread_rank))
            .collect();
        // The feed keeps the first position of a merged page; article_rank ranks by summed views.
        assert_eq!(
            ranks,
            [(Some(2), Some(1)), (Some(1), Some(2)), (Some(1), Some(2))]
        );
    }

    #[test]
    fn without_a_desktop_list_only_the_deny_list_flags() {
        let de: Project = "de.wikipedia".parse().unwrap();
        let ok = page("A", Some(0), PageStatus::Ok);
        let edguy = page("Edguy", Some(0), PageStatus::Ok);
        let rows = [("A", 10, &ok), ("Edguy", 9, &edguy)];
        let got = judging().assess(&de, &served(&rows), None, Some("Wikipedia:Hauptseite"));
        assert_eq!(got[0].suspect, None);
        assert_eq!(got[0].article_rank, Some(1));
        assert!(got[1].suspect.is_some());
        assert_eq!(got[0].desktop, None);
    }

    #[test]
    fn bounds_parse_in_percent() {
        assert_eq!(ShareBounds::parse("10-90").unwrap(), ShareBounds::DEFAULT);
        assert_eq!(ShareBounds::parse("5%-95%").unwrap().high, 0.95);
        for bad in ["90-10", "10", "-5-50", "10-101", "a-b", "50-50"] {
            assert!(ShareBounds::parse(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        /// Article ranks are SQL `rank()` over the eligible pages, views summed per page,
        /// whatever the order.
        #[test]
        fn article_ranks_are_sql_rank_over_pages(
            views in proptest::collection::vec((1u64..50, 0..4usize), 0..40)
        ) {
            let pages = [
                page("A", Some(0), PageStatus::Ok),
                page("B", Some(0), PageStatus::Redirect),
                page("C", Some(0), PageStatus::Ok),
                page("Talk:A", Some(1), PageStatus::Ok),
            ];
            let rows: Vec<(&str, u64, &PageInfo)> =
                views.iter().map(|&(v, p)| ("x", v, &pages[p])).collect();
            let en: Project = "en.wikipedia".parse().unwrap();
            let got = judging().assess(&en, &served(&rows), None, None);
            let total = |p: usize| views.iter().filter(|(_, q)| *q == p).map(|(v, _)| v).sum::<u64>();
            let present: Vec<usize> = (0..3).filter(|p| views.iter().any(|(_, q)| q == p)).collect();
            for (i, a) in got.iter().enumerate() {
                let p = views[i].1;
                if p < 3 {
                    let above = present.iter().filter(|&&q| total(q) > total(p)).count() as u32;
                    prop_assert_eq!(a.article_rank, Some(above + 1));
                } else {
                    prop_assert_eq!(a.article_rank, None);
                }
            }
        }
    }
}
