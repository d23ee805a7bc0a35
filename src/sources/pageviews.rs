//! The Pageviews API's daily top list.
//! <https://doc.wikimedia.org/generated-data-platform/aqs/analytics-api/reference/page-views.html>
//!
//! The API returns up to 1000 articles, ranked like SQL `rank()` (ties share a rank
//! and the next rank is skipped), in no guaranteed order. We sort and keep every
//! article ranked within `top`, ties included.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::error::Result;
use crate::http::{Fetched, Http, Lane, Verdict};
use crate::judge::DesktopList;
use crate::model::{Access, Day, Project, TopEntry};

/// A day's top list, or the API's word that it has none for that day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TopList {
    Published(Vec<TopEntry>),
    /// 404: the day is not published yet, or the project does not exist.
    NotFound,
}

#[derive(Deserialize)]
struct TopResponse {
    items: Vec<TopItem>,
}

#[derive(Deserialize)]
struct TopItem {
    articles: Vec<Article>,
}

#[derive(Deserialize)]
struct Article {
    article: String,
    views: u64,
    rank: u32,
}

/// `{base}/metrics/pageviews/top/{project}/{access}/{YYYY}/{MM}/{DD}`.
pub(crate) fn top_url(base: &str, project: &Project, access: Access, day: Day) -> String {
    format!(
        "{}/metrics/pageviews/top/{project}/{access}/{:04}/{:02}/{:02}",
        base.trim_end_matches('/'),
        day.year(),
        day.month(),
        day.day()
    )
}

/// One top list as served; `None` for a 404. An answer without items is retried.
async fn fetch_list(
    http: &Http,
    base: &str,
    project: &Project,
    access: Access,
    day: Day,
) -> Result<Option<TopResponse>> {
    let url = top_url(base, project, access, day);
    let fetched = http
        .get_json(Lane::Pageviews, &url, &[], |body: &TopResponse| {
            if body.items.is_empty() {
                Verdict::Retry {
                    reason: "the response has no items".into(),
                    wait: None,
                }
            } else {
                Verdict::Usable
            }
        })
        .await?;
    Ok(match fetched {
        Fetched::NotFound => None,
        Fetched::Body(body) => Some(body),
    })
}

pub(crate) async fn fetch_top(
    http: &Http,
    base: &str,
    project: &Project,
    access: Access,
    day: Day,
    top: u32,
) -> Result<TopList> {
    Ok(match fetch_list(http, base, project, access, day).await? {
        None => TopList::NotFound,
        Some(body) => TopList::Published(select_top(body, top)),
    })
}

/// The day's desktop top list, kept only for `articles` (the day's top list): the
/// desktop views of each that is in it, and the views of its last article, which every
/// article missing from it had fewer of. `None` when the API has no such list (404).
pub(crate) async fn fetch_desktop(
    http: &Http,
    base: &str,
    project: &Project,
    day: Day,
    articles: &[TopEntry],
) -> Result<Option<DesktopList>> {
    let Some(body) = fetch_list(http, base, project, Access::Desktop, day).await? else {
        return Ok(None);
    };
    let wanted: HashSet<&str> = articles.iter().map(|e| e.article.as_str()).collect();
    let mut list = DesktopList {
        views: HashMap::new(),
        min_views: u64::MAX,
    };
    for a in body.items.into_iter().flat_map(|item| item.articles) {
        list.min_views = list.min_views.min(a.views);
        if wanted.contains(a.article.as_str()) {
            list.views.insert(a.article, a.views);
        }
    }
    if list.min_views == u64::MAX {
        list.min_views = 0; // an empty list: nothing had any desktop views
    }
    Ok(Some(list))
}

fn select_top(body: TopResponse, top: u32) -> Vec<TopEntry> {
    let mut entries: Vec<TopEntry> = body
        .items
        .into_iter()
        .flat_map(|item| item.articles)
        .filter(|a| a.rank <= top)
        .map(|a| TopEntry {
            rank: a.rank,
            article: a.article,
            views: a.views,
        })
        .collect();
    entries.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.article.cmp(&b.article)));
    // The same article twice in one list would be a server bug; storing it twice would
    // be ours. Keep its best rank.
    let mut seen = std::collections::HashSet::new();
    entries.retain(|e| seen.insert(e.article.clone()));
    entries
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn response(articles: &[(&str, u64, u32)]) -> TopResponse {
        let json = serde_json::json!({"items": [{"project": "en.wikipedia", "access": "all-access",
            "year": "2024", "month": "01", "day": "01",
            "articles": articles.iter().map(|(a, v, r)| serde_json::json!({"article": a, "views": v, "rank": r})).collect::<Vec<_>>()}]});
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn keeps_ties_at_the_cut_and_sorts_by_rank() {
        let body = response(&[
            ("D", 10, 4),
            ("A", 50, 1),
            ("C", 20, 2),
            ("B", 20, 2),
            ("E", 10, 4),
            ("F", 5, 6),
        ]);
        let got: Vec<_> = select_top(body, 4)
            .into_iter()
            .map(|e| (e.article, e.rank))
            .collect();
        assert_eq!(
            got,
            [
                ("A".into(), 1),
                ("B".into(), 2),
                ("C".into(), 2),
                ("D".into(), 4),
                ("E".into(), 4)
            ]
        );
    }

    #[test]
    fn an_article_listed_twice_is_kept_once_at_its_best_rank() {
        let body = response(&[("B", 9, 3), ("A", 50, 1), ("B", 20, 2)]);
        let got: Vec<_> = select_top(body, 10)
            .into_iter()
            .map(|e| (e.article, e.rank))
            .collect();
        assert_eq!(got, [("A".into(), 1), ("B".into(), 2)]);
    }

    #[test]
    fn url_has_zero_padded_date() {
        let p: Project = "en.wikipedia".parse().unwrap();
        assert_eq!(
            top_url(
                "http://x/api/rest_v1/",
                &p,
                Access::AllAccess,
                jiff::civil::date(2023, 4, 1)
            ),
            "http://x/api/rest_v1/metrics/pageviews/top/en.wikipedia/all-access/2023/04/01"
        );
    }

    proptest! {
        /// Whatever order the API serves, the kept entries are exactly those ranked
        /// within `top`, in rank order.
        #[test]
        fn selection_is_order_independent(views in proptest::collection::vec(0u64..50, 1..300), top in 1u32..120, seed in any::<u64>()) {
            let mut sorted = views.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            let ranked: Vec<(String, u64, u32)> = sorted.iter().enumerate()
                .map(|(i, v)| (format!("A{i}"), *v, 1 + sorted.iter().filter(|w| *w > v).count() as u32))
                .collect();
            let mut shuffled = ranked.clone();
            fastrand::Rng::with_seed(seed).shuffle(&mut shuffled);
            let body = response(&shuffled.iter().map(|(a, v, r)| (a.as_str(), *v, *r)).collect::<Vec<_>>());
            let got = select_top(body, top);
            let mut want: Vec<_> = ranked.iter().filter(|(_, _, r)| *r <= top).cloned().collect();
            want.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                prop_assert_eq!((&g.article, g.views, g.rank), (&w.0, w.1, w.2));
            }
        }
    }
}
