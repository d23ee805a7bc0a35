//! Categories and the Wikidata item of up to 50 pages per Action API request, merged
//! across `continue` rounds and mapped back to the article names the Pageviews API served.
//! <https://www.mediawiki.org/wiki/API:Categories>, <https://www.mediawiki.org/wiki/API:Pageprops>,
//! <https://www.mediawiki.org/wiki/API:Continue>
//!
//! `cllimit=max` (500) counts category rows across the whole batch, so one batch of
//! 50 pages usually takes 2–3 rounds; a page's categories may be split between rounds.
//! Each requested name is mapped through `query.normalized` (percent-decoded when
//! `fromencoded`), `converted` (language variants) and every hop of `redirects` to the
//! page object it ended on, the way `ApiPageSet` built them. Status and namespace come
//! from that page object, never from the title's spelling, so localised wikis need no
//! prefix lists. The Pageviews API's `-` ("no title found") is never looked up.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use jiff::Timestamp;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::http::{Fetched, Http, Lane, Method, Verdict};
use crate::model::{PageInfo, PageStatus, WikidataId};

/// MediaWiki refuses more titles per request for non-bot clients.
pub(crate) const MAX_TITLES_PER_REQUEST: usize = 50;
/// Longest GET URL we send; a longer batch goes as a POST form instead. MediaWiki's
/// `api-help-methods`: "Prefer using the GET method, which allows requests to be routed to
/// faster replica servers and responses to be cached, unless the length of the URL with
/// parameters would exceed its length limit (commonly 8000 bytes)". Wikimedia's edge
/// answers 414 past about 8 KB; this leaves room for the request line and proxies.
pub(crate) const MAX_GET_URL_BYTES: usize = 7_400;
/// What the Pageviews API lists when it could not tell which page was viewed (hits
/// without a title; Topviews filters it out, MusikAnimal/pageviews#1).
pub(crate) const NO_TITLE: &str = "-";
/// Seconds of replication lag beyond which Wikimedia asks us to back off.
const MAXLAG: &str = "5";
/// Wait when a maxlag error comes without Retry-After (MediaWiki sends at least 5).
const DEFAULT_MAXLAG_WAIT: std::time::Duration = std::time::Duration::from_secs(5);
/// Parameters repeated in the URL of a POST, so the layers in front of MediaWiki (rate
/// limiting among them) see what the request is (Phabricator T421288); the body keeps
/// them too, which MediaWiki allows when both agree (`api-help-methods`).
const URL_PARAMS: usize = 1;
/// A POST that only reads: Wikimedia's CDN may then route it to the local replica
/// datacenter instead of the primary (ApiBase::isWriteMode, T91820).
const POST_HEADERS: &[(&str, &str)] = &[("promise-non-write-api-action", "true")];

/// Error codes MediaWiki answers (with HTTP 200) when the request may well succeed a
/// moment later: replica lag, read-only mode, rate and concurrency limits.
/// (ApiMain::checkMaxLag, ApiBase::dieReadOnly, `apierror-ratelimited`,
/// `apierror-concurrency-limit`).
const TRANSIENT_CODES: &[&str] = &["maxlag", "readonly", "ratelimited", "concurrency-limit"];
/// Exception classes behind `internal_api_error_<Class>` that are outages, not bugs:
/// database connection, timeout, read-only and replication errors
/// (`includes/libs/rdbms/exception/`, ApiMain::errorMessagesFromException).
const TRANSIENT_EXCEPTIONS: &[&str] = &[
    "DBConnectionError",
    "DBQueryError",
    "DBQueryTimeoutError",
    "DBQueryDisconnectedError",
    "DBReadOnlyError",
    "DBReadOnlyRoleError",
    "DBReplicationWaitError",
    "DBTransactionError",
    "DBTransactionSizeError",
    "ReadOnlyError",
];
/// How many hops of normalisation a title may take (MediaWiki makes at most two: NFC,
/// then title normalisation); a longer chain means a broken answer, not a loop to follow.
const MAX_NORMALISATION_HOPS: usize = 4;

#[derive(Debug, Deserialize)]
pub(crate) struct Response {
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
pub(crate) struct Query {
    #[serde(default)]
    pub normalized: Vec<Mapping>,
    #[serde(default)]
    pub converted: Vec<Mapping>,
    #[serde(default)]
    pub redirects: Vec<Mapping>,
    #[serde(default)]
    pub pages: Vec<Page>,
    /// `meta=siteinfo&siprop=general`, when asked for.
    #[serde(default)]
    pub general: Option<General>,
}

/// The part of `meta=siteinfo`'s general information wikitop reads.
#[derive(Debug, Deserialize, Clone, PartialEq)]
pub(crate) struct General {
    /// The main page's prefixed title, e.g. `Main Page`, `मुखपृष्ठ`,
    /// `Wikipedia:Hauptseite` (ApiQuerySiteinfo::appendGeneralInfo).
    pub mainpage: String,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
pub(crate) struct Mapping {
    pub from: String,
    pub to: String,
    /// `from` is the raw title percent-encoded: Unicode normalisation changed it
    /// (ApiPageSet::getNormalizedTitlesAsResult).
    #[serde(default)]
    pub fromencoded: bool,
}

impl Mapping {
    /// The title as the client sent it.
    fn raw_from(&self) -> String {
        if self.fromencoded {
            percent_encoding::percent_decode_str(&self.from)
                .decode_utf8_lossy()
                .into_owned()
        } else {
            self.from.clone()
        }
    }
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
pub(crate) struct Page {
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
    /// Only in the round in which `prop=pageprops` ran, and only for an existing page
    /// that has one of the asked properties (ApiQueryPageProps::execute, 0ae0c665).
    #[serde(default)]
    pub pageprops: Option<PageProps>,
}

/// The page properties wikitop asks for (`ppprop`).
#[derive(Debug, Deserialize, Clone, PartialEq)]
pub(crate) struct PageProps {
    /// Set by Wikibase on a page linked to a Wikidata item.
    #[serde(default)]
    pub wikibase_item: Option<String>,
}

#[derive(Debug, Deserialize, Clone, PartialEq)]
pub(crate) struct Category {
    pub title: String,
    #[serde(default)]
    pub hidden: bool,
}

/// Every round of one batch folded into one query: mappings and pages deduplicated,
/// each page's categories the union over all rounds.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Merged {
    normalized: HashMap<String, String>,
    converted: HashMap<String, String>,
    redirects: HashMap<String, String>,
    pages: HashMap<String, MergedPage>,
    main_page: Option<String>,
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
    wikidata_id: Option<WikidataId>,
}

impl MergedPage {
    /// A later round lacks the page properties of an earlier one (a module that is
    /// done is skipped), so a value once seen is kept.
    fn absorb(&mut self, other: MergedPage) {
        self.wikidata_id = self.wikidata_id.or(other.wikidata_id);
        self.page_id = self.page_id.or(other.page_id);
        self.namespace = self.namespace.or(other.namespace);
        self.missing |= other.missing;
        self.special |= other.special;
        self.invalid |= other.invalid;
        self.visible.extend(other.visible);
        self.hidden.extend(other.hidden);
    }
}

impl Merged {
    pub(crate) fn absorb(&mut self, query: Query) {
        if let Some(general) = query.general {
            self.main_page = Some(general.mainpage);
        }
        for m in query.normalized {
            self.normalized.insert(m.raw_from(), m.to);
        }
        for m in query.converted {
            self.converted.insert(m.from, m.to);
        }
        for m in query.redirects {
            self.redirects.insert(m.from, m.to);
        }
        for page in query.pages {
            let mut merged = MergedPage {
                page_id: page.pageid,
                namespace: page.ns,
                missing: page.missing,
                special: page.special,
                invalid: page.invalid,
                wikidata_id: page.pageprops.and_then(|p| wikidata_id(p.wikibase_item?)),
                ..MergedPage::default()
            };
            for cat in page.categories {
                let name = strip_namespace(&cat.title).to_owned();
                if cat.hidden {
                    merged.hidden.insert(name);
                } else {
                    merged.visible.insert(name);
                }
            }
            self.pages.entry(page.title).or_default().absorb(merged);
        }
    }

    /// Folds in the answer to another part of the same batch.
    fn extend(&mut self, other: Merged) {
        self.main_page = self.main_page.take().or(other.main_page);
        self.normalized.extend(other.normalized);
        self.converted.extend(other.converted);
        self.redirects.extend(other.redirects);
        for (title, page) in other.pages {
            self.pages.entry(title).or_default().absorb(page);
        }
    }

    /// The title `article` names after normalisation and variant conversion.
    fn normalise<'a>(&'a self, article: &'a str) -> &'a str {
        let mut title = article;
        for _ in 0..MAX_NORMALISATION_HOPS {
            match self.normalized.get(title) {
                Some(next) if next != title => title = next,
                _ => break,
            }
        }
        self.converted.get(title).map_or(title, String::as_str)
    }

    /// Follows every redirect hop, as `redirects=1` does; `Err` with the title where a
    /// loop closed (MediaWiki then outputs no page for it).
    fn follow<'a>(&'a self, start: &'a str) -> std::result::Result<(&'a str, bool), &'a str> {
        let mut seen = HashSet::from([start]);
        let mut title = start;
        while let Some(next) = self.redirects.get(title) {
            if !seen.insert(next.as_str()) {
                return Err(next);
            }
            title = next;
        }
        Ok((title, title != start))
    }

    /// What the API said about `article`.
    pub(crate) fn resolve(&self, article: &str, fetched_at: Timestamp) -> PageInfo {
        let normal = self.normalise(article);
        let (title, redirected) = match self.follow(normal) {
            Ok(found) => found,
            Err(closed_at) => {
                return PageInfo::without_page(closed_at, PageStatus::Missing, fetched_at);
            }
        };
        let Some(page) = self.pages.get(title) else {
            // A redirect whose chain produced no page object is a dead end; a title with
            // no page object at all was not understood.
            let status = if redirected {
                PageStatus::Missing
            } else {
                PageStatus::Invalid
            };
            let shown = if redirected { title } else { article };
            return PageInfo::without_page(shown, status, fetched_at);
        };
        if page.invalid {
            return PageInfo::without_page(article, PageStatus::Invalid, fetched_at);
        }
        let status = if page.special {
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
            wikidata_id: page.wikidata_id.filter(|_| exists),
            categories: page.visible.iter().cloned().collect(),
            hidden_categories: page.hidden.iter().cloned().collect(),
            fetched_at,
        }
    }
}

/// The item a page property names; a malformed one is logged and dropped, never stored.
fn wikidata_id(value: String) -> Option<WikidataId> {
    match value.parse() {
        Ok(id) => Some(id),
        Err(e) => {
            tracing::warn!("The Action API served a malformed wikibase_item: {e}.");
            None
        }
    }
}

/// `Category:Foo` → `Foo`; also `Kategorie:Foo` or `श्रेणी:Foo` on other wikis
/// (namespace 14 always carries exactly one prefix).
fn strip_namespace(title: &str) -> &str {
    title.split_once(':').map_or(title, |(_, name)| name)
}

/// A name the Action API cannot take as a title: it would split or corrupt the batch.
fn unrequestable(article: &str) -> bool {
    article.is_empty() || article.contains(['|', '\u{1f}']) || article.len() > 255
}

/// The Action API URL for a project's host, from a template that may hold `{host}`.
pub(crate) fn action_url(template: &str, host: &str) -> String {
    template.replace("{host}", host)
}

/// One batch's answer: a page per article, and the wiki's main page when it was asked.
pub(crate) struct Answer {
    pub(crate) pages: Vec<PageInfo>,
    pub(crate) main_page: Option<String>,
}

/// Fetches the categories of `articles` (at most 50), following every `continue`.
/// Returns one `PageInfo` per requested article, in the same order. With `siteinfo`,
/// the first round also asks `meta=siteinfo` for the main page: the same request, so
/// learning it costs nothing (MediaWiki runs meta modules beside prop ones and lists
/// them as done in `continue`: ApiContinuationManager::getContinuation).
pub(crate) async fn fetch_categories(
    http: &Http,
    url: &str,
    articles: &[String],
    fetched_at: Timestamp,
    siteinfo: bool,
) -> Result<Answer> {
    let merged = fetch_batch(http, url, articles, Ask::Categories { siteinfo }).await?;
    Ok(Answer {
        pages: articles
            .iter()
            .map(|a| match a.as_str() {
                NO_TITLE => PageInfo::without_page(a, PageStatus::NoTitle, fetched_at),
                _ => merged.resolve(a, fetched_at),
            })
            .collect(),
        main_page: merged.main_page,
    })
}

/// What a batch asks besides the Wikidata item.
#[derive(Debug, Clone, Copy)]
enum Ask {
    /// The categories too, and with `siteinfo` the main page in the first round.
    Categories { siteinfo: bool },
    /// The item alone (`prop=pageprops`): one round, no category rows to page through.
    ItemOnly,
}

impl Ask {
    /// The request's parameters, `action` first (the one a POST repeats in its URL).
    fn params(self, titles: &str) -> Vec<(&str, &str)> {
        let mut params = vec![("action", "query")];
        match self {
            Ask::Categories { .. } => params.extend([
                ("prop", "categories|pageprops"),
                ("clprop", "hidden"),
                ("cllimit", "max"),
            ]),
            Ask::ItemOnly => params.push(("prop", "pageprops")),
        }
        params.extend([
            // The item rides along in the same request. Once `pageprops` is done it is
            // listed after `||` in `continue` and skipped in later rounds
            // (ApiContinuationManager::__construct and getContinuation, 0077c5da).
            ("ppprop", "wikibase_item"),
            ("redirects", "1"),
            ("converttitles", "1"),
            ("format", "json"),
            ("formatversion", "2"),
            ("maxlag", MAXLAG),
            ("titles", titles),
        ]);
        if let Ask::Categories { siteinfo: true } = self {
            params.extend([("meta", "siteinfo"), ("siprop", "general")]);
        }
        params
    }
}

/// The Wikidata item of each of `titles` (at most 50, `NO_TITLE` and unrequestable
/// names left out), page properties only: one request for a batch, for filling days
/// stored before wikitop read items. A title is resolved as in [`fetch_categories`], so
/// a title that became a redirect gets its target's item.
pub(crate) async fn fetch_items(
    http: &Http,
    url: &str,
    titles: &[String],
) -> Result<Vec<Option<WikidataId>>> {
    let merged = fetch_batch(http, url, titles, Ask::ItemOnly).await?;
    let never = Timestamp::UNIX_EPOCH;
    Ok(titles
        .iter()
        .map(|t| match t.as_str() {
            NO_TITLE => None,
            _ => merged.resolve(t, never).wikidata_id,
        })
        .collect())
}

/// One batch of at most 50 names: each requestable name once (never `NO_TITLE`, nor a
/// name that would split the batch), every round folded together.
async fn fetch_batch(http: &Http, url: &str, names: &[String], ask: Ask) -> Result<Merged> {
    debug_assert!(names.len() <= MAX_TITLES_PER_REQUEST);
    let requestable: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|a| *a != NO_TITLE && !unrequestable(a))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if requestable.is_empty() {
        return Ok(Merged::default());
    }
    fetch_merged(http, url, &requestable, ask).await
}

/// The wiki's main page alone, for a server that answered a batch without it.
pub(crate) async fn fetch_main_page(http: &Http, url: &str) -> Result<String> {
    let params = [
        ("action", "query"),
        ("meta", "siteinfo"),
        ("siprop", "general"),
        ("format", "json"),
        ("formatversion", "2"),
        ("maxlag", MAXLAG),
    ];
    let fetched = http
        .request_json(Lane::Action, url, &params, Method::Get, check_response)
        .await?;
    let general = match fetched {
        Fetched::Body(Response {
            query:
                Some(Query {
                    general: Some(general),
                    ..
                }),
            ..
        }) => general,
        _ => {
            return Err(Error::UnexpectedResponse {
                url: url.to_owned(),
                what: "meta=siteinfo gave no main page".into(),
            });
        }
    };
    Ok(general.mainpage)
}

/// One batch, split in halves whenever a server refuses the request for its length or
/// its method: a 414 costs one extra request, never a day, and the halves may fit a GET.
async fn fetch_merged(http: &Http, url: &str, titles: &[&str], ask: Ask) -> Result<Merged> {
    match fetch_rounds(http, url, titles, ask).await {
        Err(e) if e.is_refused_for_its_form() && titles.len() > 1 => {
            let (a, b) = titles.split_at(titles.len() / 2);
            tracing::warn!(
                titles = titles.len(),
                "The request was too long for the server; splitting the batch."
            );
            let mut merged = Box::pin(fetch_merged(http, url, a, ask)).await?;
            let rest = match ask {
                Ask::Categories { .. } => Ask::Categories { siteinfo: false },
                Ask::ItemOnly => Ask::ItemOnly,
            };
            merged.extend(Box::pin(fetch_merged(http, url, b, rest)).await?);
            Ok(merged)
        }
        other => other,
    }
}

/// Every `continue` round of one request, folded together.
async fn fetch_rounds(http: &Http, url: &str, titles: &[&str], ask: Ask) -> Result<Merged> {
    let titles = titles.join("|");
    let mut merged = Merged::default();
    let mut cont: Vec<(String, String)> = Vec::new();
    loop {
        let mut params = ask.params(&titles);
        params.extend(cont.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let (query, method) = if get_url_len(url, &params) <= MAX_GET_URL_BYTES {
            (&params[..], Method::Get)
        } else {
            (
                &params[..URL_PARAMS],
                Method::PostForm {
                    form: &params,
                    headers: POST_HEADERS,
                },
            )
        };
        let Fetched::Body(response) = http
            .request_json(Lane::Action, url, query, method, check_response)
            .await?
        else {
            return Err(Error::HttpStatus {
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
            None => return Ok(merged),
        }
    }
}

/// The length of the GET URL for `params`, encoded exactly as the request will be.
fn get_url_len(url: &str, params: &[(&str, &str)]) -> usize {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    url.len() + 1 + query.finish().len()
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

/// Whether an error code means "try again later" rather than "this request is wrong".
fn transient_code(code: &str) -> bool {
    TRANSIENT_CODES.contains(&code)
        || code
            .strip_prefix("internal_api_error_")
            // Namespaced classes keep their backslashes; only `Wikimedia\Rdbms\` is
            // stripped (ApiMain::errorMessagesFromException).
            .and_then(|class| class.rsplit('\\').next())
            .is_some_and(|class| TRANSIENT_EXCEPTIONS.contains(&class))
}

fn check_response(body: &Response) -> Verdict {
    match (&body.error, &body.query) {
        (Some(e), _) if e.code == "maxlag" => Verdict::Retry {
            reason: format!("maxlag: {}", e.info),
            // Used only when the response carries no Retry-After header.
            wait: Some(DEFAULT_MAXLAG_WAIT),
        },
        (Some(e), _) if e.code == "ratelimited" => {
            Verdict::Throttled(format!("ratelimited: {}", e.info))
        }
        (Some(e), _) if transient_code(&e.code) => Verdict::Retry {
            reason: format!("{}: {}", e.code, e.info),
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
            pageprops: None,
        }
    }

    #[test]
    fn maps_normalised_and_redirected_names_back() {
        let mut m = Merged::default();
        m.absorb(Query {
            normalized: vec![map("AC_DC", "AC DC")],
            converted: vec![],
            redirects: vec![map("AC DC", "AC/DC")],
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
                    pageprops: None,
                },
                Page {
                    pageid: None,
                    ns: Some(0),
                    title: "Nope".into(),
                    missing: true,
                    special: false,
                    invalid: false,
                    categories: vec![],
                    pageprops: None,
                },
                Page {
                    pageid: None,
                    ns: None,
                    title: "-".into(),
                    missing: false,
                    special: false,
                    invalid: true,
                    categories: vec![],
                    pageprops: None,
                },
            ],
            ..Query::default()
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

    /// The item comes in the round in which pageprops ran; later rounds skip the module
    /// (ApiContinuationManager) and must not erase it. A redirect takes its target's, a
    /// page that does not exist has none even if a broken answer gave it one.
    #[test]
    fn the_item_survives_later_rounds_and_follows_redirects() {
        let with_item = |mut p: Page, q: &str| {
            p.pageprops = Some(PageProps {
                wikibase_item: Some(q.into()),
            });
            p
        };
        let mut m = Merged::default();
        m.absorb(Query {
            redirects: vec![map("Republic of India", "India")],
            pages: vec![
                with_item(page(1, "India", &[("Countries", false)]), "Q668"),
                with_item(
                    Page {
                        missing: true,
                        pageid: None,
                        ..page(0, "Gone", &[])
                    },
                    "Q5",
                ),
                with_item(page(3, "Odd", &[]), "not-an-item"),
            ],
            ..Query::default()
        });
        m.absorb(Query {
            pages: vec![page(1, "India", &[("South Asia", false)])],
            ..Query::default()
        });
        let item = |article: &str| m.resolve(article, ts()).wikidata_id.map(|q| q.to_string());
        assert_eq!(item("India").as_deref(), Some("Q668"));
        assert_eq!(item("Republic of India").as_deref(), Some("Q668"));
        assert_eq!(
            m.resolve("India", ts()).categories,
            ["Countries", "South Asia"]
        );
        assert_eq!(item("Gone"), None);
        assert_eq!(item("Odd"), None);
    }

    fn map(from: &str, to: &str) -> Mapping {
        Mapping {
            from: from.into(),
            to: to.into(),
            fromencoded: false,
        }
    }

    fn status_of(m: &Merged, article: &str) -> (String, PageStatus, Option<i64>) {
        let p = m.resolve(article, ts());
        (p.title, p.status, p.page_id)
    }

    /// ApiPageSet::resolvePendingRedirects follows every hop and outputs only the final
    /// page; a loop outputs no page at all.
    #[test]
    fn redirect_chains_are_followed_to_their_end() {
        let mut m = Merged::default();
        m.absorb(Query {
            normalized: vec![map("भारत_गणराज्य", "भारत गणराज्य"), map("लूप_क", "लूप क")],
            redirects: vec![
                map("भारत गणराज्य", "भारतवर्ष"),
                map("भारतवर्ष", "भारत"),
                map("लूप क", "लूप ख"),
                map("लूप ख", "लूप क"),
                map("पुराना नाम", "नया नाम"),
            ],
            pages: vec![
                page(7, "भारत", &[("भारत", false)]),
                Page {
                    pageid: None,
                    ns: Some(0),
                    title: "नया नाम".into(),
                    missing: true,
                    special: false,
                    invalid: false,
                    categories: vec![],
                    pageprops: None,
                },
            ],
            ..Query::default()
        });
        assert_eq!(
            status_of(&m, "भारत_गणराज्य"),
            ("भारत".into(), PageStatus::Redirect, Some(7))
        );
        assert_eq!(m.resolve("भारत_गणराज्य", ts()).categories, ["भारत"]);
        assert_eq!(
            status_of(&m, "लूप_क"),
            ("लूप क".into(), PageStatus::Missing, None)
        );
        assert_eq!(
            status_of(&m, "पुराना नाम"),
            ("नया नाम".into(), PageStatus::Missing, None)
        );
    }

    /// ApiPageSet::getNormalizedTitlesAsResult percent-encodes a raw title that Unicode
    /// normalisation changed; the NFC form may then be normalised again as a title.
    #[test]
    fn fromencoded_titles_map_back_to_what_was_sent() {
        let raw = "\u{0958}ुतुब_मीनार";
        let nfc = "\u{0915}\u{093C}ुतुब_मीनार";
        let mut m = Merged::default();
        m.absorb(Query {
            normalized: vec![
                Mapping {
                    from: "%E0%A5%98%E0%A5%81%E0%A4%A4%E0%A5%81%E0%A4%AC_%E0%A4%AE%E0%A5%80%E0%A4%A8%E0%A4%BE%E0%A4%B0".into(),
                    to: nfc.into(),
                    fromencoded: true,
                },
                map(nfc, &nfc.replace('_', " ")),
            ],
            pages: vec![page(3, &nfc.replace('_', " "), &[("दिल्ली", false)])],
            ..Query::default()
        });
        assert_eq!(
            status_of(&m, raw),
            (nfc.replace('_', " "), PageStatus::Ok, Some(3))
        );
    }

    /// ApiPageSet::processTitlesArray: `normalized` then `converted`, then redirects.
    #[test]
    fn converted_variants_map_back() {
        let mut m = Merged::default();
        m.absorb(Query {
            normalized: vec![map("電腦_科學", "電腦 科學")],
            converted: vec![map("電腦 科學", "电脑 科学"), map("計算機", "计算机")],
            pages: vec![page(2, "电脑 科学", &[]), page(1, "计算机", &[])],
            ..Query::default()
        });
        assert_eq!(
            status_of(&m, "電腦_科學"),
            ("电脑 科学".into(), PageStatus::Ok, Some(2))
        );
        assert_eq!(
            status_of(&m, "計算機"),
            ("计算机".into(), PageStatus::Ok, Some(1))
        );
    }

    #[test]
    fn transient_error_codes_are_read_like_mediawiki_writes_them() {
        for code in [
            "maxlag",
            "readonly",
            "concurrency-limit",
            "internal_api_error_DBConnectionError",
            "internal_api_error_DBQueryError",
            "internal_api_error_MediaWiki\\Exception\\ReadOnlyError",
        ] {
            assert!(transient_code(code), "{code}");
        }
        for code in [
            "badcontinue",
            "toomanyvalues",
            "internal_api_error_InvalidArgumentException",
        ] {
            assert!(!transient_code(code), "{code}");
        }
        let db: Response = serde_json::from_str(
            r#"{"error":{"code":"internal_api_error_DBConnectionError","info":"[abc] Exception caught: Cannot access the database","errorclass":"Wikimedia\\Rdbms\\DBConnectionError"},"servedby":"mw1"}"#,
        )
        .unwrap();
        assert!(matches!(check_response(&db), Verdict::Retry { .. }));
        let limited: Response = serde_json::from_str(
            r#"{"error":{"code":"ratelimited","info":"You've exceeded your rate limit."}}"#,
        )
        .unwrap();
        assert!(matches!(check_response(&limited), Verdict::Throttled(_)));
    }

    #[test]
    fn long_batches_are_measured_as_sent() {
        let titles: Vec<String> = (0..50)
            .map(|i| format!("भारतीय_राष्ट्रीय_कांग्रेस_का_इतिहास_{i}"))
            .collect();
        let joined = titles.join("|");
        let params = [("action", "query"), ("titles", joined.as_str())];
        let len = get_url_len("https://hi.wikipedia.org/w/api.php", &params);
        // Each Devanagari letter is 3 bytes, 9 characters once percent-encoded.
        assert!(len > MAX_GET_URL_BYTES, "{len}");
        let short = get_url_len("https://x/w/api.php", &[("titles", "A B|C")]);
        assert_eq!(short, "https://x/w/api.php?titles=A+B%7CC".len());
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
