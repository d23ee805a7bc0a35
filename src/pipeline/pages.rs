//! The run's memory of resolved pages: each article's categories, kept compact and
//! kept only while the article may still come back soon, so memory stays flat however
//! many unique titles a backfill meets. The category resolver fills it, says which
//! days want which articles and when to forget; the day assembler reads full pages
//! back out. It sends no request.

use std::collections::HashMap;
use std::sync::Arc;

use jiff::{Timestamp, ToSpan};

use crate::model::{Day, PageInfo, PageStatus, WikidataId};

/// Days a resolved page is kept after the last day that wanted it. A top-100 article
/// that comes back within this many days costs nothing; one that comes back later is
/// fetched again and costs its share of one batch (1/50 of a request and its category
/// rows). English Wikipedia's top 100 takes in about 30 new titles a day, so the cache
/// holds about a year of titles (some 11,000 pages, a few megabytes) however long the
/// range, instead of every unique title of the run. Chosen with the backfill bench
/// (`--compare-rss`, 36k unique titles over 1,337 days): 90 days cost 1.033 × the
/// request floor, 180 days 1.025 ×, a year 1.017 × for a few megabytes more.
pub(super) const KEEP_DAYS: i64 = 365;

/// The resolved pages still worth keeping, by article name. Pages are compact —
/// category names interned, a page holding their numbers — and full `PageInfo`s are
/// rebuilt per day.
#[derive(Default)]
pub(super) struct PageCache {
    pages: HashMap<Box<str>, CompactPage>,
    names: Names,
}

struct CompactPage {
    title: Box<str>,
    page_id: Option<i64>,
    namespace: Option<i32>,
    status: PageStatus,
    wikidata_id: Option<WikidataId>,
    categories: Box<[u32]>,
    hidden: Box<[u32]>,
    fetched_at: Timestamp,
    /// The newest day whose top list holds the article; the page is forgotten
    /// `KEEP_DAYS` after it.
    wanted_on: Day,
}

/// Category names interned with a use count, so a name no kept page uses any more is
/// dropped with the last page that had it: the table follows the cache, not the run.
#[derive(Default)]
struct Names {
    ids: HashMap<Arc<str>, u32>,
    /// By id; `None` for a freed id waiting in `free`.
    names: Vec<Option<Arc<str>>>,
    uses: Vec<u32>,
    free: Vec<u32>,
}

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            self.uses[id as usize] += 1;
            return id;
        }
        let name: Arc<str> = name.into();
        let id = match self.free.pop() {
            Some(id) => {
                self.names[id as usize] = Some(name.clone());
                self.uses[id as usize] = 1;
                id
            }
            None => {
                // Four billion distinct category names cannot fit in memory anyway.
                let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
                self.names.push(Some(name.clone()));
                self.uses.push(1);
                id
            }
        };
        self.ids.insert(name, id);
        id
    }

    fn release(&mut self, id: u32) {
        let i = id as usize;
        let Some(uses) = self.uses.get_mut(i) else {
            return;
        };
        *uses = uses.saturating_sub(1);
        if *uses == 0
            && let Some(name) = self.names[i].take()
        {
            self.ids.remove(&name);
            self.free.push(id);
        }
    }

    fn get(&self, id: u32) -> Option<&str> {
        self.names.get(id as usize)?.as_deref()
    }

    /// Names in use, for tests.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.ids.len()
    }
}

impl PageCache {
    /// Whether the article is resolved; builds nothing (unlike `get`).
    pub(super) fn contains(&self, article: &str) -> bool {
        self.pages.contains_key(article)
    }

    /// Whether the article is resolved, noting that `day` wants it so it is kept at
    /// least `KEEP_DAYS` more.
    pub(super) fn want(&mut self, article: &str, day: Day) -> bool {
        match self.pages.get_mut(article) {
            Some(page) => {
                page.wanted_on = page.wanted_on.max(day);
                true
            }
            None => false,
        }
    }

    /// Stores a resolved page as wanted on `day`, the newest day that may want it.
    pub(super) fn insert(&mut self, article: String, page: PageInfo, day: Day) {
        let compact = CompactPage {
            title: page.title.into(),
            page_id: page.page_id,
            namespace: page.namespace,
            status: page.status,
            wikidata_id: page.wikidata_id,
            categories: self.intern(&page.categories),
            hidden: self.intern(&page.hidden_categories),
            fetched_at: page.fetched_at,
            wanted_on: day,
        };
        if let Some(old) = self.pages.insert(article.into(), compact) {
            release(&mut self.names, &old);
        }
    }

    fn intern(&mut self, names: &[String]) -> Box<[u32]> {
        names.iter().map(|name| self.names.intern(name)).collect()
    }

    /// Forgets the pages no day wanted in the `KEEP_DAYS` days before `day`, except
    /// those wanted on or after `oldest_waiting` (a day still waiting for its articles
    /// must find them all).
    pub(super) fn forget_old(&mut self, day: Day, oldest_waiting: Option<Day>) {
        let Ok(horizon) = day.checked_sub(KEEP_DAYS.days()) else {
            return;
        };
        let keep_from = oldest_waiting.map_or(horizon, |w| w.min(horizon));
        let names = &mut self.names;
        self.pages.retain(|_, page| {
            let keep = page.wanted_on >= keep_from;
            if !keep {
                release(names, page);
            }
            keep
        });
    }

    /// Pages held, for tests.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.pages.len()
    }

    /// The page as the sinks want it.
    pub(super) fn get(&self, article: &str) -> Option<PageInfo> {
        let page = self.pages.get(article)?;
        let names = |ids: &[u32]| -> Vec<String> {
            ids.iter()
                .filter_map(|id| self.names.get(*id))
                .map(str::to_owned)
                .collect()
        };
        Some(PageInfo {
            title: page.title.to_string(),
            page_id: page.page_id,
            namespace: page.namespace,
            status: page.status,
            wikidata_id: page.wikidata_id,
            categories: names(&page.categories),
            hidden_categories: names(&page.hidden),
            fetched_at: page.fetched_at,
        })
    }
}

/// Gives back the page's uses of its category names.
fn release(names: &mut Names, page: &CompactPage) {
    for &id in page.categories.iter().chain(page.hidden.iter()) {
        names.release(id);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use jiff::civil::date;
    use proptest::prelude::*;

    use super::*;

    fn page(title: &str, categories: &[&str]) -> PageInfo {
        PageInfo {
            title: title.to_owned(),
            page_id: Some(1),
            namespace: Some(0),
            status: PageStatus::Ok,
            wikidata_id: Some("Q7".parse().expect("an item")),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            hidden_categories: vec!["Living people".to_owned()],
            fetched_at: Timestamp::UNIX_EPOCH,
        }
    }

    fn plus(day: Day, days: i64) -> Day {
        day.checked_add(days.days()).expect("in range")
    }

    #[test]
    fn a_page_is_kept_keep_days_after_the_last_day_that_wanted_it() {
        let d0 = date(2024, 1, 1);
        let mut cache = PageCache::default();
        cache.insert("A".into(), page("A", &["X", "Y"]), d0);
        cache.insert("B".into(), page("B", &["Y"]), d0);
        // B is wanted again 10 days later: its clock restarts there.
        assert!(cache.want("B", plus(d0, 10)));

        cache.forget_old(plus(d0, KEEP_DAYS), None);
        assert!(cache.contains("A"), "exactly KEEP_DAYS away is still kept");
        cache.forget_old(plus(d0, KEEP_DAYS + 1), None);
        assert!(!cache.contains("A"));
        assert_eq!(cache.get("B").map(|p| p.categories), Some(vec!["Y".into()]));
        // X went with A; Y and the hidden category are still B's.
        assert_eq!(cache.names.len(), 2);

        cache.forget_old(plus(d0, 10 + KEEP_DAYS + 1), None);
        assert_eq!((cache.len(), cache.names.len()), (0, 0));
        assert!(
            !cache.want("B", plus(d0, 500)),
            "a forgotten page is fetched again"
        );
    }

    #[test]
    fn a_page_a_waiting_day_needs_is_never_forgotten() {
        let d0 = date(2024, 1, 1);
        let mut cache = PageCache::default();
        cache.insert("A".into(), page("A", &["X"]), d0);
        cache.forget_old(plus(d0, 1000), Some(d0));
        assert!(cache.contains("A"));
        cache.forget_old(plus(d0, 1000), Some(plus(d0, 1)));
        assert!(!cache.contains("A"));
    }

    #[test]
    fn freed_name_ids_are_reused_and_pages_read_back_whole() {
        let d0 = date(2024, 1, 1);
        let mut cache = PageCache::default();
        cache.insert("A".into(), page("A", &["X", "Y"]), d0);
        cache.forget_old(plus(d0, KEEP_DAYS + 1), None);
        cache.insert("B".into(), page("B", &["Z", "X"]), plus(d0, KEEP_DAYS + 1));
        assert_eq!(cache.names.names.len(), 3, "ids of A's names reused");
        let b = cache.get("B").expect("cached");
        assert_eq!(b.categories, ["Z", "X"]);
        assert_eq!(b.hidden_categories, ["Living people"]);
        // Replacing a page gives back the old one's names.
        cache.insert("B".into(), page("B", &["W"]), plus(d0, KEEP_DAYS + 1));
        assert_eq!(cache.names.len(), 2);
    }

    proptest! {
        /// The resolver's use of the cache against a plain model: a title is fetched when
        /// it was never seen or last wanted more than KEEP_DAYS days before, and every
        /// page read back has the categories it was stored with.
        #[test]
        fn fetches_only_titles_away_longer_than_keep_days(
            days in proptest::collection::vec(
                (1i64..40, proptest::collection::vec(0u8..30, 0..12)),
                1..60,
            )
        ) {
            let mut cache = PageCache::default();
            let mut last_seen: HashMap<String, Day> = HashMap::new();
            let mut day = date(2024, 1, 1);
            for (step, titles) in days {
                day = plus(day, step * 7);
                cache.forget_old(day, None);
                for t in titles {
                    let title = format!("T{t}");
                    let expect_fetch = last_seen
                        .get(&title)
                        .is_none_or(|seen| plus(*seen, KEEP_DAYS) < day);
                    let cached = cache.want(&title, day);
                    prop_assert_eq!(!cached, expect_fetch, "{} on {}", title, day);
                    if !cached {
                        let categories = [format!("C{}", t % 7), format!("D{t}")];
                        let refs: Vec<&str> = categories.iter().map(String::as_str).collect();
                        cache.insert(title.clone(), page(&title, &refs), day);
                    }
                    let back = cache.get(&title).expect("cached");
                    prop_assert_eq!(back.categories, vec![format!("C{}", t % 7), format!("D{t}")]);
                    last_seen.insert(title, day);
                }
            }
        }
    }
}
