//! The data the fake serves: daily top lists and the pages behind their article names.
//!
//! A universe answers two questions, both pure functions of its seed: "what is the top
//! list of (project, access, day)?" and "what page is behind this title on this wiki?".
//! Nothing is materialised up front: a day costs O(1000) work when it is asked for, and a
//! page is derived from a hash of its title, so any of thousands of days can be served in
//! constant memory. It also computes what a correct client must store ([`ExpectedRow`]).
//! It knows nothing of HTTP, publication dates or faults.

mod fixture;
mod intl;
mod realistic;
#[rustfmt::skip] // Word lists read better packed than one per line.
mod words;

use std::sync::Arc;

use jiff::civil::Date;

pub use intl::NOT_NFC;
use unicode_normalization::UnicodeNormalization;

use crate::site::site;
use crate::title::{self, Title};

/// The Pageviews API's `access` values.
pub(crate) const ACCESSES: [&str; 4] = ["all-access", "desktop", "mobile-app", "mobile-web"];

/// The Pageviews API's "no title found" (hits it could not attribute to a title, which
/// Topviews and top.hatnote filter out: MusikAnimal/pageviews#1); `-` may also be a real
/// page, so a client stores the row with status `no_title` and never asks for it.
pub const NO_TITLE: &str = "-";

/// A seeded, deterministic source of top lists and pages. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Universe(Arc<Kind>);

#[derive(Debug)]
enum Kind {
    Realistic(realistic::Realistic),
    Fixture(fixture::Fixture),
    Intl(intl::Intl),
}

/// One article of a top list, in rank order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopArticle {
    /// As the Pageviews API serves it (underscores, original case).
    pub article: String,
    pub views: u64,
    /// SQL `rank()`: ties share a rank and the next rank is skipped.
    pub rank: u32,
}

/// What a correct client stores for one article of a day's top list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedRow {
    /// As served by the Pageviews API.
    pub article: String,
    pub rank: u32,
    pub views: u64,
    /// Normalised and redirect-followed; the article itself when the title is invalid.
    pub title: String,
    pub page_id: Option<i64>,
    /// `None` when the API gives no page object: invalid titles, `-`, redirect loops.
    pub namespace: Option<i32>,
    /// One of `ok`, `redirect`, `missing`, `special`, `invalid`, `no_title`.
    pub page_status: String,
    /// Visible categories without the `Category:` prefix, sorted by `str` order, no duplicates.
    pub categories: Vec<String>,
    /// Hidden categories, same form.
    pub hidden_categories: Vec<String>,
    /// The Wikidata item of the page the article resolved to, e.g. `Q42`: `None` when
    /// no existing page was found or the page has no item.
    pub wikidata_id: Option<String>,
    /// The article's views in the day's desktop top list (all-access rows only; `None`
    /// when it is not in that list).
    pub desktop_views: Option<u64>,
    /// Views of the desktop list's last article (all-access rows only).
    pub desktop_min_views: Option<u64>,
    /// An existing page (ok or redirect) in namespace 0 that is not the wiki's main page.
    pub is_article: bool,
}

/// A category row of a page, as stored on the wiki.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Category {
    /// With spaces, without the `Category:` prefix.
    pub(crate) name: String,
    pub(crate) hidden: bool,
}

/// What a title names on a wiki, before redirects are followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Page {
    /// `categories` are in the API's order: by name with underscores, bytewise.
    Existing {
        page_id: i64,
        categories: Vec<Category>,
    },
    Redirect {
        target: String,
    },
    Missing,
    Special,
}

/// A valid title after `redirects=1`: every hop and the page the chain ended on.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The title the page object carries (the last hop); where the loop closed when
    /// the chain loops.
    pub(crate) title: Title,
    /// Every redirect hop in order, `(from, to)`; empty when the title is no redirect.
    pub(crate) hops: Vec<(String, String)>,
    /// Never [`Page::Redirect`]; `None` for a loop, which MediaWiki outputs no page for
    /// (ApiPageSet::resolvePendingRedirects).
    pub(crate) page: Option<Page>,
}

/// Everything the Action API does to one `titles=` value before it outputs a page.
#[derive(Debug, Clone)]
pub(crate) struct LookedUp {
    /// The value after Unicode normalisation (WebRequest::normalizeUnicode).
    pub(crate) nfc: String,
    /// The parsed title, or the `invalidreason`.
    pub(crate) parsed: Result<Parsed, String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    /// After title normalisation, before variant conversion.
    pub(crate) title: Title,
    /// The variant the title was converted to (`converttitles=1`).
    pub(crate) converted: Option<Title>,
    pub(crate) resolved: Resolved,
}

impl Universe {
    /// A synthetic universe calibrated on real English Wikipedia top lists: evergreen pages,
    /// stories trending for days, long-running topics, a long tail, ties, redirects,
    /// missing pages and awkward titles. Different seeds give different universes.
    pub fn realistic(seed: u64) -> Self {
        Universe(Arc::new(Kind::Realistic(realistic::Realistic::new(seed))))
    }

    /// A small hand-written universe for exact-content tests, covering every case
    /// explicitly; its days are listed by [`Universe::days`].
    pub fn fixture() -> Self {
        Universe(Arc::new(Kind::Fixture(fixture::Fixture::new())))
    }

    /// Non-Latin wikis as the real ones are: `hi.wikipedia` (long Devanagari titles, local
    /// namespace names, `-` as a page, a title not in NFC, redirect chains and a loop)
    /// and `zh.wikipedia` (language variants); see [`Universe::days`].
    pub fn intl() -> Self {
        Universe(Arc::new(Kind::Intl(intl::Intl::new())))
    }

    /// The days this universe has data for, when it is a finite list.
    pub fn days(&self) -> Option<Vec<Date>> {
        match &*self.0 {
            Kind::Realistic(_) => None,
            Kind::Fixture(f) => Some(f.days()),
            Kind::Intl(i) => Some(i.days()),
        }
    }

    /// The last day a server over this universe publishes by default.
    pub fn default_published_until(&self) -> Date {
        match self.days() {
            None => jiff::civil::date(2026, 11, 27),
            Some(days) => days.last().copied().unwrap_or(fixture::FIRST_DAY),
        }
    }

    /// The ranked top list of a day (up to 1000 articles), highest views first and ties
    /// ordered by article; `None` when the universe has no such list.
    pub fn top(&self, project: &str, access: &str, day: Date) -> Option<Vec<TopArticle>> {
        if !ACCESSES.contains(&access) {
            return None;
        }
        let mut list = match &*self.0 {
            Kind::Realistic(r) => r.day(project, access, day)?,
            Kind::Fixture(f) => by_access(f.day(project, day)?, access),
            Kind::Intl(i) => by_access(i.day(project, day)?, access),
        };
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut out: Vec<TopArticle> = Vec::with_capacity(list.len());
        for (i, (article, views)) in list.into_iter().enumerate() {
            let rank = match out.last() {
                Some(prev) if prev.views == views => prev.rank,
                _ => u32::try_from(i + 1).unwrap_or(u32::MAX),
            };
            out.push(TopArticle {
                article,
                views,
                rank,
            });
        }
        Some(out)
    }

    /// Exactly what a correct client stores for the articles ranked `<= top` (ties at the
    /// boundary included), in rank order; `None` when the day has no list.
    pub fn expected_day(
        &self,
        project: &str,
        access: &str,
        day: Date,
        top: u32,
    ) -> Option<Vec<ExpectedRow>> {
        let list = self.top(project, access, day)?;
        let desktop = (access == "all-access")
            .then(|| self.top(project, "desktop", day))
            .flatten();
        let desktop_min_views = desktop.as_ref().map(|d| d.last().map_or(0, |a| a.views));
        Some(
            list.into_iter()
                .take_while(|a| a.rank <= top)
                .map(|a| {
                    let desktop_views = desktop
                        .as_ref()
                        .and_then(|d| d.iter().find(|x| x.article == a.article))
                        .map(|x| x.views);
                    let mut row = self.expected_row(project, a);
                    row.desktop_views = desktop_views;
                    row.desktop_min_views = desktop_min_views;
                    row
                })
                .collect(),
        )
    }

    fn expected_row(&self, project: &str, a: TopArticle) -> ExpectedRow {
        let mut row = ExpectedRow {
            title: a.article.clone(),
            article: a.article,
            rank: a.rank,
            views: a.views,
            page_id: None,
            namespace: None,
            page_status: "invalid".to_owned(),
            categories: Vec::new(),
            hidden_categories: Vec::new(),
            wikidata_id: None,
            desktop_views: None,
            desktop_min_views: None,
            is_article: false,
        };
        if row.article == NO_TITLE {
            row.page_status = "no_title".to_owned();
            return row;
        }
        let Ok(parsed) = self.look_up(project, &row.article, true).parsed else {
            return row;
        };
        let resolved = parsed.resolved;
        let item = self.item(project, &resolved.title);
        row.title = resolved.title.text;
        let Some(page) = resolved.page else {
            row.page_status = "missing".to_owned(); // a redirect loop
            return row;
        };
        row.namespace = Some(resolved.title.ns);
        let redirected = !resolved.hops.is_empty();
        // A redirect to a page that does not exist is `missing`: the status says whether
        // the stored categories belong to a real page (`page_id` is NULL exactly then).
        row.page_status = match (&page, redirected) {
            (Page::Missing | Page::Redirect { .. }, _) => "missing",
            (Page::Special, _) => "special",
            (Page::Existing { .. }, true) => "redirect",
            (Page::Existing { .. }, false) => "ok",
        }
        .to_owned();
        // What wikitop calls an article: main namespace, an existing page, not the main
        // page that meta=siteinfo names (as wikifeeds' `filterSpecial`, which compares the
        // main page case-insensitively; titles here differ from it in more than case).
        row.is_article = matches!(row.page_status.as_str(), "ok" | "redirect")
            && resolved.title.ns == 0
            && row.title != site(project).main_page;
        if let Page::Existing {
            page_id,
            categories,
        } = page
        {
            row.page_id = Some(page_id);
            row.wikidata_id = item.map(|q| format!("Q{q}"));
            for c in categories {
                if c.hidden {
                    row.hidden_categories.push(c.name);
                } else {
                    row.categories.push(c.name);
                }
            }
            row.categories.sort();
            row.categories.dedup();
            row.hidden_categories.sort();
            row.hidden_categories.dedup();
        }
        row
    }

    /// What the Action API makes of one `titles=` value on `project`: Unicode
    /// normalisation, title parsing, variant conversion when `convert` (only for a title
    /// that does not exist as written, on a wiki with variants), then every redirect.
    /// (ApiPageSet::processTitlesArray, resolvePendingRedirects.)
    pub(crate) fn look_up(&self, project: &str, raw: &str, convert: bool) -> LookedUp {
        let nfc: String = raw.nfc().collect();
        let parsed = title::parse(site(project), &nfc).map(|title| {
            let converted = site(project)
                .variant_of(&title.text)
                .filter(|_| convert && self.page(project, &title) == Page::Missing)
                .map(|to| Title {
                    text: to.to_owned(),
                    ns: title.ns,
                });
            let target = converted.clone().unwrap_or_else(|| title.clone());
            let resolved = self.resolve(project, target);
            Parsed {
                title,
                converted,
                resolved,
            }
        });
        LookedUp { nfc, parsed }
    }

    /// The page a valid title names on `project`'s wiki, before redirects.
    pub(crate) fn page(&self, project: &str, title: &Title) -> Page {
        if title.ns == -1 {
            return Page::Special;
        }
        match &*self.0 {
            Kind::Realistic(r) => r.page(project, title),
            Kind::Fixture(f) => f.page(title),
            Kind::Intl(i) => i.page(project, &title.text),
        }
    }

    /// The Wikidata item of an existing page (its `wikibase_item` page property), the
    /// same number for the same topic on every wiki; `None` for a page linked to none.
    pub(crate) fn item(&self, project: &str, title: &Title) -> Option<u64> {
        match &*self.0 {
            Kind::Realistic(r) => item_of_title(r.seed(), &title.text),
            Kind::Fixture(_) => item_of_title(0, &title.text),
            Kind::Intl(i) => i.item(project, &title.text),
        }
    }

    /// Follows redirects to the end of the chain, as `redirects=1` does, stopping where
    /// a title comes round again.
    pub(crate) fn resolve(&self, project: &str, title: Title) -> Resolved {
        let mut hops = Vec::new();
        let mut seen = std::collections::HashSet::from([title.text.clone()]);
        let mut current = title;
        loop {
            let page = self.page(project, &current);
            let Page::Redirect { target } = page else {
                return Resolved {
                    title: current,
                    hops,
                    page: Some(page),
                };
            };
            let next = title::parse(site(project), &target).unwrap_or(Title {
                text: target,
                ns: 0,
            });
            hops.push((current.text, next.text.clone()));
            if !seen.insert(next.text.clone()) {
                return Resolved {
                    title: next,
                    hops,
                    page: None,
                };
            }
            current = next;
        }
    }

    /// Seeds the served order of a day's articles.
    pub(crate) fn seed(&self) -> u64 {
        match &*self.0 {
            Kind::Realistic(r) => r.seed(),
            Kind::Fixture(_) | Kind::Intl(_) => 0,
        }
    }
}

/// Articles planted as automated-looking traffic in the hand-written universes, with
/// their desktop share of views: far outside the 10–90 % people produce (the bound
/// Wikimedia's most-read feed used from 2016 to 2020, wikifeeds lib/most-read-filter.js).
pub const BOT_LIKE: &[(&str, f64)] = &[
    ("iPhone_15", 0.98),
    ("C++", 0.02),
    ("भारत_के_राज्यों_और_केंद्रशासित_प्रदेशों_की_सूची", 0.98),
];

/// A hand-written universe's all-access list as another access method counts it: a
/// share of each article's views (desktop 30–60 %, by a hash of the title, or the
/// planted share), the rest split between mobile web and the apps.
fn by_access(list: Vec<(String, u64)>, access: &str) -> Vec<(String, u64)> {
    if access == "all-access" {
        return list;
    }
    list.into_iter()
        .map(|(article, views)| {
            let desktop = BOT_LIKE.iter().find(|(a, _)| *a == article).map_or_else(
                || 0.3 + 0.3 * (crate::rng::hash_str(&article) % 1000) as f64 / 1000.0,
                |&(_, share)| share,
            );
            let share = match access {
                "desktop" => desktop,
                "mobile-web" => (1.0 - desktop) * 0.9,
                _ => (1.0 - desktop) * 0.1,
            };
            let counted = (views as f64 * share).round().max(1.0) as u64;
            (article, counted)
        })
        .collect()
}

/// A synthetic item for a title: the same title is the same topic on every wiki of the
/// universe (as `Elon_Musk` is on en, de and fr), and about one page in 25 (lists, set
/// indexes, brand-new articles) is linked to no item.
pub(crate) fn item_of_title(seed: u64, text: &str) -> Option<u64> {
    let h = crate::rng::key(&[seed, crate::rng::hash_str(text), 0x17E3]);
    (!h.is_multiple_of(25)).then_some(1 + (h >> 8) % 130_000_000)
}

/// Sorts categories into the API's order: `cl_to` (underscores) compared bytewise.
pub(crate) fn sort_api_order(categories: &mut [Category]) {
    categories.sort_by(|a, b| api_key(&a.name).cmp(api_key(&b.name)));
}

fn api_key(name: &str) -> impl Iterator<Item = u8> + '_ {
    name.bytes().map(|b| if b == b' ' { b'_' } else { b })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_order_compares_underscores_not_spaces() {
        let mut cats = vec![
            Category {
                name: "A-B".into(),
                hidden: false,
            },
            Category {
                name: "A B".into(),
                hidden: false,
            },
        ];
        sort_api_order(&mut cats);
        // `-` (0x2D) sorts before `_` (0x5F) although it sorts after ` ` (0x20).
        assert_eq!(cats[0].name, "A-B");
    }

    #[test]
    fn ranks_are_sql_rank() {
        let u = Universe::fixture();
        let day = fixture::FIRST_DAY;
        let top = u
            .top("en.wikipedia", "all-access", day)
            .expect("fixture day");
        let mut prev: Option<&TopArticle> = None;
        for (i, a) in top.iter().enumerate() {
            let expected = match prev {
                Some(p) if p.views == a.views => p.rank,
                _ => i as u32 + 1,
            };
            assert_eq!(a.rank, expected, "{a:?}");
            prev = Some(a);
        }
        let ranks: Vec<u32> = top.iter().map(|a| a.rank).collect();
        assert!(ranks.windows(2).any(|w| w[0] == w[1]), "fixture has ties");
    }
}
