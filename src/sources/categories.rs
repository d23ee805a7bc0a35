//! Categories of up to 50 pages per Action API request, merged across `continue` rounds
//! and mapped back to the article names the Pageviews API served.
//! <https://www.mediawiki.org/wiki/API:Categories>, <https://www.mediawiki.org/wiki/API:Continue>
//!
//! `cllimit=max` (500) counts category rows across the whole batch, so one batch of
//! 50 pages usually takes 2–3 rounds; a page's categories may be split between rounds.
//! Each requested name is mapped through `query.normalized` (and `converted`), then
//! `query.redirects`, to the page object it ended on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::Timestamp;
use serde::Deserialize;

use crate::error::Result;
use crate::http::{Fetched, Http, Lane, Verdict};
use crate::model::{PageInfo, PageStatus};

/// MediaWiki refuses more titles per request for non-bot clients.
pub const MAX_TITLES_PER_REQUEST: usize = 50;
/// Seconds of replication lag beyond which Wikimedia asks us to back off.
const MAXLAG: &str = "5";
/// Wait when a maxlag error comes without Retry-After.
const DEFAULT_MAXLAG_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Deserialize)]
pub struct Response {
    #[serde(default)]
    error: Option<ApiError>,
    #[serde(default, rename = "continue")]
    cont: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(default)]
    query: Option<Query>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    code: String,
    #[serde(default)]
    info: String,
}

#[derive(Debug, Default, Deserialize, Clone, PartialEq)]
pub struct Query {
    #[serde(default)]
    pub normalized: Vec<Mapping>,
    #[serde(default)]
    pub converted: Vec<Mapping>,
    #[serde(default)]
    pub redirects: Vec<Mapping>,
    #[serde(default)]
    pub pages: Vec<Page>,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
pub struct Mapping {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
pub struct Page {
    #[serde(default)]
    pub pageid: Option<i64>,
    #[serde(default)]
    pub ns: Option<i32>,
    pub title: String,
    #[serde(default)]
    pub missing: bool,
    #[serde(default)]
    pub special: bool,
    #[serde(default)]
    pub invalid: bool,
    #[serde(default)]
    pub categories: Vec<Category>,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
pub struct Category {
    pub title: String,
    #[serde(default)]
    pub hidden: bool,
}

/// Every round of one batch folded into one query: mappings and pages deduplicated,
/// each page's categories the union over all rounds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Merged {
    normalized: HashMap<String, String>,
    redirects: HashMap<String, String>,
    pages: HashMap<String, MergedPage>,
}

#[derive(Debug, Default, Clone, PartialEq)]
struct MergedPage {
    page_id: Option<i64>,
    namespace: Option<i32>,
    missing: bool,
    special: bool,
    invalid: bool,
    visible: BTreeSet<String>,
    hidden: BTreeSet<String>,
}

impl Merged {
    pub fn absorb(&mut self, query: Query) {
        for m in query.normalized.into_iter().chain(query.converted) {
            self.normalized.insert(m.from, m.to);
        }
        for m in query.redirects {
            self.redirects.insert(m.from, m.to);
        }
        for page in query.pages {
            let entry = self.pages.entry(page.title).or_default();
            entry.page_id = entry.page_id.or(page.pageid);
            entry.namespace = entry.namespace.or(page.ns);
            entry.missing |= page.missing;
            entry.special |= page.special;
            entry.invalid |= page.invalid;
            for cat in page.categories {
                let name = strip_namespace(&cat.title).to_owned();
                if cat.hidden {
                    entry.hidden.insert(name);
                } else {
                    entry.visible.insert(name);
                }
            }
        }
    }

    /// What the API said about `article`, following normalisation then one redirect.
    pub fn resolve(&self, article: &str, fetched_at: Timestamp) -> PageInfo {
        let normal = self.normalized.get(article).map_or(article, String::as_str);
        // A normalised name may itself have been converted (language variants).
        let normal = self.normalized.get(normal).map_or(normal, String::as_str);
        let (title, redirected) = match self.redirects.get(normal) {
            Some(target) => (target.as_str(), true),
            None => (normal, false),
        };
        let Some(page) = self.pages.get(title) else {
            return invalid(article, fetched_at);
        };
        let status = if page.invalid {
            return invalid(article, fetched_at);
        } else if page.special {
            PageStatus::Special
        } else if page.missing {
            PageStatus::Missing
        } else if redirected {
            PageStatus::Redirect
        } else {
            PageStatus::Ok
        };
        let exists = matches!(status, PageStatus::Ok | PageStatus::Redirect);
        PageInfo {
            title: title.to_owned(),
            page_id: page.page_id.filter(|_| exists),
            namespace: page.namespace,
            status,
            categories: page.visible.iter().cloned().collect(),
            hidden_categories: page.hidden.iter().cloned().collect(),
            fetched_at,
        }
    }
}

fn invalid(article: &str, fetched_at: Timestamp) -> PageInfo {
    PageInfo {
        title: article.to_owned(),
        page_id: None,
        namespace: None,
        status: PageStatus::Invalid,
        categories: Vec::new(),
        hidden_categories: Vec::new(),
        fetched_at,
    }
}

/// `Category:Foo` → `Foo`; also `Kategorie:Foo` on other wikis (namespace 14 always
/// carries exactly one prefix).
fn strip_namespace(title: &str) -> &str {
    title.split_once(':').map_or(title, |(_, name)| name)
}

/// A name the Action API cannot take as a title: it would split or corrupt the batch.
fn unrequestable(article: &str) -> bool {
    article.is_empty() || article.contains(['|', '\u{1f}']) || article.len() > 255
}

/// The Action API URL for a project's host, from a template that may hold `{host}`.
pub fn action_url(template: &str, host: &str) -> String {
    template.replace("{host}", host)
}

/// Fetches the categories of `articles` (at most 50), following every `continue`.
/// Returns one `PageInfo` per requested article, in the same order.
pub async fn fetch_categories(
    http: &Http,
    url: &str,
    articles: &[String],
    fetched_at: Timestamp,
) -> Result<Vec<PageInfo>> {
    debug_assert!(articles.len() <= MAX_TITLES_PER_REQUEST);
    let requestable: Vec<&str> = articles
        .iter()
        .map(String::as_str)
        .filter(|a| !unrequestable(a))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut merged = Merged::default();
    if !requestable.is_empty() {
        let titles = requestable.join("|");
        let mut cont: Vec<(String, String)> = Vec::new();
        loop {
            let mut query: Vec<(&str, &str)> = vec![
                ("action", "query"),
                ("prop", "categories"),
                ("clprop", "hidden"),
                ("cllimit", "max"),
                ("redirects", "1"),
                ("format", "json"),
                ("formatversion", "2"),
                ("maxlag", MAXLAG),
                ("titles", &titles),
            ];
            query.extend(cont.iter().map(|(k, v)| (k.as_str(), v.as_str())));
            let Fetched::Body(response) = http
                .get_json(Lane::Action, url, &query, check_response)
                .await?
            else {
                return Err(crate::error::Error::HttpStatus {
                    url: url.to_owned(),
                    status: 404,
                });
            };
            let Response {
                cont: next, query, ..
            } = response;
            merged.absorb(query.unwrap_or_default());
            match next {
                Some(next) => cont = continue_params(next),
                None => break,
            }
        }
    }
    Ok(articles
        .iter()
        .map(|a| merged.resolve(a, fetched_at))
        .collect())
}

/// The `continue` object's values go back verbatim as parameters of the next request.
fn continue_params(next: BTreeMap<String, serde_json::Value>) -> Vec<(String, String)> {
    next.into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

fn check_response(body: &Response) -> Verdict {
    match (&body.error, &body.query) {
        (Some(e), _) if e.code == "maxlag" => Verdict::Retry {
            reason: format!("maxlag: {}", e.info),
            // Used only when the response carries no Retry-After header.
            wait: Some(DEFAULT_MAXLAG_WAIT),
        },
        (Some(e), _) if e.code == "ratelimited" => Verdict::Retry {
            reason: format!("ratelimited: {}", e.info),
            wait: None,
        },
        (Some(e), _) => Verdict::Fail(format!(
            "the Action API refused the request: {} ({})",
            e.info, e.code
        )),
        (None, None) => Verdict::Retry {
            reason: "the response has no `query`".into(),
            wait: None,
        },
        (None, Some(_)) => Verdict::Usable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ts() -> Timestamp {
        Timestamp::UNIX_EPOCH
    }

    fn page(id: i64, title: &str, cats: &[(&str, bool)]) -> Page {
        Page {
            pageid: Some(id),
            ns: Some(0),
            title: title.into(),
            missing: false,
            special: false,
            invalid: false,
            categories: cats
                .iter()
                .map(|(c, h)| Category {
                    title: format!("Category:{c}"),
                    hidden: *h,
                })
                .collect(),
        }
    }

    #[test]
    fn maps_normalised_and_redirected_names_back() {
        let mut m = Merged::default();
        m.absorb(Query {
            normalized: vec![Mapping {
                from: "AC_DC".into(),
                to: "AC DC".into(),
            }],
            converted: vec![],
            redirects: vec![Mapping {
                from: "AC DC".into(),
                to: "AC/DC".into(),
            }],
            pages: vec![
                page(
                    1,
                    "AC/DC",
                    &[
                        ("Rock bands", false),
                        ("Articles with short description", true),
                    ],
                ),
                Page {
                    pageid: None,
                    ns: Some(-1),
                    title: "Special:Search".into(),
                    missing: false,
                    special: true,
                    invalid: false,
                    categories: vec![],
                },
                Page {
                    pageid: None,
                    ns: Some(0),
                    title: "Nope".into(),
                    missing: true,
                    special: false,
                    invalid: false,
                    categories: vec![],
                },
                Page {
                    pageid: None,
                    ns: None,
                    title: "-".into(),
                    missing: false,
                    special: false,
                    invalid: true,
                    categories: vec![],
                },
            ],
        });
        let acdc = m.resolve("AC_DC", ts());
        assert_eq!(
            (acdc.title.as_str(), acdc.status, acdc.page_id),
            ("AC/DC", PageStatus::Redirect, Some(1))
        );
        assert_eq!(acdc.categories, ["Rock bands"]);
        assert_eq!(acdc.hidden_categories, ["Articles with short description"]);
        assert_eq!(
            m.resolve("Special:Search", ts()).status,
            PageStatus::Special
        );
        let missing = m.resolve("Nope", ts());
        assert_eq!(
            (missing.status, missing.page_id, missing.namespace),
            (PageStatus::Missing, None, Some(0))
        );
        let invalid = m.resolve("-", ts());
        assert_eq!(
            (invalid.status, invalid.title.as_str(), invalid.namespace),
            (PageStatus::Invalid, "-", None)
        );
    }

    #[test]
    fn maxlag_is_retried_and_other_errors_fail() {
        let lag: Response = serde_json::from_str(
            r#"{"error":{"code":"maxlag","info":"Waiting for db: 5 seconds lagged.","lag":5}}"#,
        )
        .unwrap();
        assert!(matches!(check_response(&lag), Verdict::Retry { .. }));
        let bad: Response = serde_json::from_str(
            r#"{"error":{"code":"badcontinue","info":"Invalid continue param."}}"#,
        )
        .unwrap();
        assert!(matches!(check_response(&bad), Verdict::Fail(_)));
        let empty: Response = serde_json::from_str(r#"{"batchcomplete":true}"#).unwrap();
        assert!(matches!(check_response(&empty), Verdict::Retry { .. }));
    }

    proptest! {
        /// However the server splits a batch's category rows into `continue` rounds
        /// (pages repeated in every round, categories in any slice), the merged result
        /// equals the unsplit response.
        #[test]
        fn continuation_merge_equals_unsplit(
            cats in proptest::collection::vec(proptest::collection::vec((0u8..40, any::<bool>()), 0..30), 1..50),
            cuts in proptest::collection::vec(0usize..2000, 0..8),
        ) {
            let pages: Vec<Page> = cats.iter().enumerate().map(|(i, cs)| {
                let named: Vec<(String, bool)> = cs.iter().map(|(c, h)| (format!("C{c} ü/é"), *h)).collect();
                let refs: Vec<(&str, bool)> = named.iter().map(|(c, h)| (c.as_str(), *h)).collect();
                page(i as i64 + 1, &format!("Page {i}"), &refs)
            }).collect();
            let mut whole = Merged::default();
            whole.absorb(Query { pages: pages.clone(), ..Query::default() });

            // Flatten the rows in (page, category) order and cut them into rounds.
            let rows: Vec<(usize, Category)> = pages.iter().enumerate()
                .flat_map(|(i, p)| p.categories.iter().cloned().map(move |c| (i, c))).collect();
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (rows.len() + 1)).collect();
            bounds.push(0);
            bounds.push(rows.len());
            bounds.sort_unstable();
            let mut split = Merged::default();
            for w in bounds.windows(2) {
                let mut round: Vec<Page> = pages.iter().map(|p| Page { categories: vec![], ..p.clone() }).collect();
                for (i, c) in &rows[w[0]..w[1]] {
                    round[*i].categories.push(c.clone());
                }
                split.absorb(Query { pages: round, ..Query::default() });
            }
            prop_assert_eq!(split, whole);
        }
    }
}
