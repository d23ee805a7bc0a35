//! The run's memory of resolved pages: each article's categories, kept compact so a
//! long backfill stays small. The category resolver fills it and asks what it holds;
//! the day assembler reads full pages back out. It sends no request.

use std::collections::HashMap;

use jiff::Timestamp;

use crate::model::{PageInfo, PageStatus};

/// Every page resolved in this run, by article name, so each title is fetched once per
/// run however many days it trends. Pages are kept compact — category names interned
/// once for the run, a page holding their numbers — so a years-long backfill's tens of
/// thousands of pages take a few megabytes; full `PageInfo`s are rebuilt per day.
#[derive(Default)]
pub(super) struct PageCache {
    pages: HashMap<Box<str>, CompactPage>,
    names: Vec<Box<str>>,
    ids: HashMap<Box<str>, u32>,
}

struct CompactPage {
    title: Box<str>,
    page_id: Option<i64>,
    namespace: Option<i32>,
    status: PageStatus,
    categories: Box<[u32]>,
    hidden: Box<[u32]>,
    fetched_at: Timestamp,
}

impl PageCache {
    /// Whether the article is resolved; builds nothing (unlike `get`).
    pub(super) fn contains(&self, article: &str) -> bool {
        self.pages.contains_key(article)
    }

    pub(super) fn insert(&mut self, article: String, page: PageInfo) {
        let categories = self.intern(&page.categories);
        let hidden = self.intern(&page.hidden_categories);
        let compact = CompactPage {
            title: page.title.into(),
            page_id: page.page_id,
            namespace: page.namespace,
            status: page.status,
            categories,
            hidden,
            fetched_at: page.fetched_at,
        };
        self.pages.insert(article.into(), compact);
    }

    fn intern(&mut self, names: &[String]) -> Box<[u32]> {
        names
            .iter()
            .map(|name| match self.ids.get(name.as_str()) {
                Some(id) => *id,
                None => {
                    let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
                    self.names.push(name.as_str().into());
                    self.ids.insert(name.as_str().into(), id);
                    id
                }
            })
            .collect()
    }

    /// The page as the sinks want it.
    pub(super) fn get(&self, article: &str) -> Option<PageInfo> {
        let page = self.pages.get(article)?;
        let names = |ids: &[u32]| -> Vec<String> {
            ids.iter()
                .filter_map(|id| self.names.get(*id as usize))
                .map(|name| name.to_string())
                .collect()
        };
        Some(PageInfo {
            title: page.title.to_string(),
            page_id: page.page_id,
            namespace: page.namespace,
            status: page.status,
            categories: names(&page.categories),
            hidden_categories: names(&page.hidden),
            fetched_at: page.fetched_at,
        })
    }
}
