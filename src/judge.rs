//! Judging a day's rows beside what the APIs served: which rows are articles, which look
//! like automated traffic the Pageviews API did not filter, and each article's rank
//! among those that do not. Flag, never drop: every served row is stored either way.
//!
//! The rules are those of Wikimedia's own "most read" feed (wikifeeds,
//! `lib/most-read-filter.js`): a row is suspect when its desktop share of views lies
//! outside 10–90 % (`desktopViews >= total * 0.1 && desktopViews <= total * 0.9` keeps
//! it), when it is missing from the day's desktop top list (the feed drops those too), or
//! when its title is on the feed's deny list. An article is a page in namespace 0 that
//! exists and is not the wiki's main page (the feed's `filterSpecial`), judged from the
//! Action API's answer and `meta=siteinfo`, never from title prefixes.
//!
//! Pure: no I/O. The pipeline feeds it the served lists and resolved pages.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::{Assessment, DesktopViews, PageInfo, PageStatus, Project};

/// The deny list shipped with wikitop (Wikimedia's feed's entries).
const SHIPPED_DENY_LIST: &str = include_str!("deny_list.tsv");

/// The desktop share of views outside which a row is suspect, as fractions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareBounds {
    low: f64,
    high: f64,
}

impl ShareBounds {
    /// Wikimedia's feed: `BOT_FILTER_THRESHOLD = 0.1`, on either side.
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
        let low: f64 = low
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| bad())?;
        let high: f64 = high
            .trim()
            .trim_end_matches('%')
            .parse()
            .map_err(|_| bad())?;
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

/// Titles flagged whatever their share: the shipped entries plus the operator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyList {
    /// `(project or None for every wiki, title with underscores)` → reason.
    entries: HashMap<(Option<Project>, String), String>,
}

impl DenyList {
    /// The shipped list, extended by `extra` (a file of the same form) when given.
    pub fn load(extra: Option<&Path>) -> Result<Self> {
        let mut list = DenyList {
            entries: HashMap::new(),
        };
        list.extend(SHIPPED_DENY_LIST, "the shipped deny list")?;
        if let Some(path) = extra {
            let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidSetting {
                what: "deny list",
                value: path.display().to_string(),
                why: format!("cannot read it: {e}"),
            })?;
            list.extend(&text, &path.display().to_string())?;
        }
        Ok(list)
    }

    /// Adds the entries of a file: `project<TAB>title<TAB>reason` lines, `*` for every
    /// wiki, `#` comments. A title may use spaces or underscores.
    fn extend(&mut self, text: &str, name: &str) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| Error::InvalidSetting {
                what: "deny list",
                value: format!("{name} line {}", n + 1),
                why: why.to_owned(),
            };
            let mut fields = line.splitn(3, '\t');
            let (Some(project), Some(title), Some(reason)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(bad("expected `project<TAB>title<TAB>reason`"));
            };
            let project = match project.trim() {
                "*" => None,
                p => Some(p.parse::<Project>().map_err(|e| bad(&e.to_string()))?),
            };
            let title = underscored(title.trim());
            if title.is_empty() || reason.trim().is_empty() {
                return Err(bad("the title and the reason may not be empty"));
            }
            self.entries
                .insert((project, title), reason.trim().to_owned());
        }
        Ok(())
    }

    /// The reason `article` (or the page it resolves to) is denied on `project`.
    fn reason(&self, project: &Project, names: [&str; 2]) -> Option<&str> {
        names.into_iter().find_map(|name| {
            let name = underscored(name);
            self.entries
                .get(&(Some(project.clone()), name.clone()))
                .or_else(|| self.entries.get(&(None, name)))
                .map(String::as_str)
        })
    }
}

fn underscored(title: &str) -> String {
    title.replace(' ', "_")
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
        let mut out: Vec<Assessment> = rows
            .iter()
            .map(|row| {
                let desktop = desktop.map(|d| DesktopViews {
                    views: d.views.get(row.article).copied(),
                    min_views: d.min_views,
                });
                Assessment {
                    suspect: self.suspicion(project, row, desktop),
                    desktop,
                    is_article: is_article(row.page, main_page),
                    article_rank: None,
                }
            })
            .collect();
        rank_articles(rows, &mut out);
        out
    }

    /// Why a row looks automated, if it does: the deny list first, then the share.
    fn suspicion(
        &self,
        project: &Project,
        row: &Served<'_>,
        desktop: Option<DesktopViews>,
    ) -> Option<String> {
        if let Some(reason) = self
            .deny_list
            .reason(project, [row.article, &row.page.title])
        {
            return Some(reason.to_owned());
        }
        let desktop = desktop?;
        let total = row.views as f64;
        let percent = |x: f64| x * 100.0;
        match desktop.views {
            None => Some(format!(
                "not in the day's desktop top list: desktop share below {:.1} %",
                percent(desktop.min_views as f64 / total)
            )),
            Some(v) if (v as f64) < total * self.bounds.low => Some(format!(
                "desktop share {:.1} % is below {} %",
                percent(v as f64 / total),
                percent(self.bounds.low)
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

/// SQL `rank()` by views among the articles that are not suspect: ties share a rank and
/// the next rank is skipped, as the Pageviews API ranks.
fn rank_articles(rows: &[Served<'_>], out: &mut [Assessment]) {
    let eligible: Vec<u64> = rows
        .iter()
        .zip(out.iter())
        .filter(|(_, a)| a.is_article && a.suspect.is_none())
        .map(|(r, _)| r.views)
        .collect();
    for (row, assessment) in rows.iter().zip(out.iter_mut()) {
        if assessment.is_article && assessment.suspect.is_none() {
            let above = eligible.iter().filter(|&&v| v > row.views).count();
            assessment.article_rank = u32::try_from(above + 1).ok();
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

    #[test]
    fn shares_outside_the_bounds_and_the_deny_list_are_flagged_not_dropped() {
        let en: Project = "en.wikipedia".parse().unwrap();
        let ok = page("A", Some(0), PageStatus::Ok);
        let main = page("Main Page", Some(0), PageStatus::Ok);
        let search = page("Special:Search", Some(-1), PageStatus::Special);
        let denied = page("XHamster", Some(0), PageStatus::Ok);
        let rows = [
            Served {
                article: "Main_Page",
                views: 5_000_000,
                page: &main,
            },
            Served {
                article: "Special:Search",
                views: 1_000_000,
                page: &search,
            },
            Served {
                article: "Bot_98",
                views: 900_000,
                page: &ok,
            },
            Served {
                article: "Bot_2",
                views: 800_000,
                page: &ok,
            },
            Served {
                article: "Human",
                views: 700_000,
                page: &ok,
            },
            Served {
                article: "Tied",
                views: 700_000,
                page: &ok,
            },
            Served {
                article: "XHamster",
                views: 650_000,
                page: &denied,
            },
            Served {
                article: "Mobile_only",
                views: 600_000,
                page: &ok,
            },
            Served {
                article: "Edge_10",
                views: 500_000,
                page: &ok,
            },
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
            ]),
            min_views: 12_000,
        };
        let got = judging().assess(&en, &rows, Some(&desktop), Some("Main Page"));
        let flags: Vec<(bool, bool, Option<u32>)> = got
            .iter()
            .map(|a| (a.is_article, a.suspect.is_some(), a.article_rank))
            .collect();
        assert_eq!(
            flags,
            [
                (false, false, None),   // the main page: not an article
                (false, true, None),    // no desktop entry: suspect too, not an article
                (true, true, None),     // 98 % desktop
                (true, true, None),     // 2 % desktop
                (true, false, Some(1)), // the top article
                (true, false, Some(1)), // tied with it
                (true, true, None),     // deny list
                (true, true, None),     // not in the desktop list
                (true, false, Some(3)), // exactly 10 % is kept, as the feed keeps it
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
            Some("not in the day's desktop top list: desktop share below 2.0 %")
        );
        assert!(got[6].suspect.as_deref().unwrap().contains("deny list"));
        assert_eq!(
            got[7].desktop,
            Some(DesktopViews {
                views: None,
                min_views: 12_000
            })
        );
    }

    #[test]
    fn without_a_desktop_list_only_the_deny_list_flags() {
        let de: Project = "de.wikipedia".parse().unwrap();
        let ok = page("A", Some(0), PageStatus::Ok);
        let rows = [
            Served {
                article: "A",
                views: 10,
                page: &ok,
            },
            Served {
                article: "Edguy",
                views: 9,
                page: &ok,
            },
        ];
        let got = judging().assess(&de, &rows, None, Some("Wikipedia:Hauptseite"));
        assert_eq!(got[0].suspect, None);
        assert_eq!(got[0].article_rank, Some(1));
        assert!(got[1].suspect.is_some());
        assert_eq!(got[0].desktop, None);
    }

    #[test]
    fn an_operators_list_extends_the_shipped_one_per_project() {
        let dir = std::env::temp_dir().join(format!("wikitop-deny-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("deny.tsv");
        std::fs::write(
            &file,
            "# ours\nfr.wikipedia\tLe Bot\tscraper seen in our logs\n",
        )
        .unwrap();
        let list = DenyList::load(Some(&file)).unwrap();
        let fr: Project = "fr.wikipedia".parse().unwrap();
        let en: Project = "en.wikipedia".parse().unwrap();
        assert_eq!(
            list.reason(&fr, ["Le_Bot", "x"]),
            Some("scraper seen in our logs")
        );
        assert_eq!(list.reason(&en, ["Le_Bot", "x"]), None);
        assert!(list.reason(&en, ["Web scraping", "x"]).is_some());
        std::fs::write(&file, "fr.wikipedia Le_Bot no tabs\n").unwrap();
        let err = DenyList::load(Some(&file)).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("TAB"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
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
        /// Article ranks are SQL `rank()` over the eligible rows, whatever the order.
        #[test]
        fn article_ranks_are_sql_rank(views in proptest::collection::vec((1u64..50, any::<bool>()), 0..40)) {
            let ok = page("A", Some(0), PageStatus::Ok);
            let talk = page("Talk:A", Some(1), PageStatus::Ok);
            let rows: Vec<Served<'_>> = views
                .iter()
                .map(|&(v, article)| Served { article: "x", views: v, page: if article { &ok } else { &talk } })
                .collect();
            let en: Project = "en.wikipedia".parse().unwrap();
            let got = judging().assess(&en, &rows, None, None);
            for (i, a) in got.iter().enumerate() {
                let (v, article) = views[i];
                if article {
                    let above = views.iter().filter(|(w, art)| *art && *w > v).count() as u32;
                    prop_assert_eq!(a.article_rank, Some(above + 1));
                } else {
                    prop_assert_eq!(a.article_rank, None);
                }
            }
        }
    }
}
