//! `GET` or `POST /{host}/w/api.php?action=query&prop=categories[|pageprops]&…&formatversion=2`.
//!
//! Reproduces what MediaWiki answers a non-bot for a batch of titles: at most 50 titles
//! (more are refused with `toomanyvalues` and logged as a violation), `normalized` (with
//! `fromencoded` for titles Unicode normalisation changed), `converted` and every hop of
//! `redirects`, one page object per distinct resolved page (none for a redirect loop),
//! and category rows paged across the whole batch — `cllimit` rows per response ordered by (page id, `cl_to`) — with
//! `continue`/`clcontinue` until `batchcomplete`. Continuation values must come back
//! exactly as served, and parameters this client must send are enforced with
//! MediaWiki-shaped errors so a wrong client fails loudly instead of getting HTML.
//! `meta=siteinfo` may ride along or come alone (its sections are `siteinfo`'s).
//! `prop=pageprops` (with `ppprop`) may ride along: each existing page's properties in
//! the first round only, as a finished module is skipped in later ones.
//! This module reads the request and builds the answer; the server decides when (or
//! whether) it is given.
//! See <https://www.mediawiki.org/wiki/API:Categories> and
//! <https://www.mediawiki.org/wiki/API:Continue>.

use std::collections::{BTreeMap, HashSet};

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde::Serialize;

use crate::site::site;
use crate::siteinfo::{Prop, SiteinfoOut};
use crate::title::underscored;
use crate::universe::{Category, Page, Parsed, Universe};
use crate::wire::{Endpoint, Incoming, Published, Reply};

/// PHP's `rawurlencode`: everything but `A-Za-z0-9-_.~` is percent-encoded.
const RAWURLENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// A non-bot's limit for multi-value parameters such as `titles`.
pub const MAX_TITLES: usize = 50;
/// What `cllimit=max` means for a non-bot.
pub const MAX_CLLIMIT: usize = 500;
const DEFAULT_CLLIMIT: usize = 10;
/// Namespace number of categories.
const CATEGORY_NS: i32 = 14;
/// The value of `continue` that goes with a `clcontinue` when no generator is used; the
/// modules that finished (here `pageprops`, `siteinfo`) follow the `||` in the order they
/// were instantiated, prop modules before meta ones, and are skipped on the next round
/// (ApiContinuationManager::__construct and getContinuation, wikimedia/mediawiki 0077c5da).
const CONTINUE_PREFIX: &str = "||";
/// The one page property fakewiki knows (Wikibase's link to the page's item).
const WIKIBASE_ITEM: &str = "wikibase_item";

const DOCREF: &str = "See https://en.wikipedia.org/w/api.php for API usage. Subscribe to the mediawiki-api-announce mailing list at &lt;https://lists.wikimedia.org/postorius/lists/mediawiki-api-announce.lists.wikimedia.org/&gt; for notice of API deprecations and breaking changes.";

/// Parameters the real API accepts for this query; anything else gets its warning.
const KNOWN_PARAMS: &[&str] = &[
    "action",
    "prop",
    "titles",
    "redirects",
    "converttitles",
    "format",
    "formatversion",
    "maxlag",
    "clprop",
    "cllimit",
    "clshow",
    "clcategories",
    "cldir",
    "continue",
    "clcontinue",
    "ppprop",
    "ppcontinue",
    "utf8",
    "ascii",
    "errorformat",
    "errorlang",
    "origin",
    "meta",
    "siprop",
    "assert",
    "assertuser",
    "curtimestamp",
    "servedby",
    "requestid",
    "uselang",
    "smaxage",
    "maxage",
    "responselanginfo",
];

/// Decoded query parameters; like PHP, a repeated name keeps its last value.
#[derive(Debug, Clone)]
struct Params(Vec<(String, String)>);

impl Params {
    fn parse(query: &[u8]) -> Self {
        Params(
            form_urlencoded::parse(query)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// `$_POST + $_GET`: a value in the body wins over the same name in the URL
    /// (WebRequest::__construct).
    fn with_body(mut self, body: Params) -> Self {
        self.0.extend(body.0);
        self
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Splits a multi-value parameter: on `|`, or on U+001F when the value starts with it
/// (MediaWiki's escape for values containing `|`).
fn split_multi(value: &str) -> Vec<String> {
    match value.strip_prefix('\u{1f}') {
        Some(rest) => rest.split('\u{1f}').map(str::to_owned).collect(),
        None => value.split('|').map(str::to_owned).collect(),
    }
}

/// Reads a `GET` request: what the log records of it, and how to answer it.
pub(crate) fn get(
    host: Result<Path<String>, PathRejection>,
    query: Option<&str>,
    uri: &Uri,
    headers: &HeaderMap,
) -> (
    Incoming,
    impl FnOnce(&Universe, &Published) -> Reply + Send + 'static,
) {
    let params = Params::parse(query.unwrap_or("").as_bytes());
    request(
        host,
        params,
        Incoming::new(Endpoint::Categories, uri, headers),
    )
}

/// The Action API takes query modules by POST too (ApiBase::mustBePosted is only for
/// modules that need a token), with the parameters in a form body.
pub(crate) fn post(
    host: Result<Path<String>, PathRejection>,
    query: Option<&str>,
    body: &[u8],
    uri: &Uri,
    headers: &HeaderMap,
) -> (
    Incoming,
    impl FnOnce(&Universe, &Published) -> Reply + Send + 'static,
) {
    let params = Params::parse(query.unwrap_or("").as_bytes()).with_body(Params::parse(body));
    let mut incoming = Incoming::new(Endpoint::Categories, uri, headers);
    incoming.method = "POST";
    request(host, params, incoming)
}

fn request(
    host: Result<Path<String>, PathRejection>,
    params: Params,
    mut incoming: Incoming,
) -> (
    Incoming,
    impl FnOnce(&Universe, &Published) -> Reply + Send + 'static,
) {
    let host = host.map(|Path(h)| h).unwrap_or_default();
    let project = host.strip_suffix(".org").map(str::to_owned);
    incoming.project.clone_from(&project);
    incoming.titles = params
        .get("titles")
        .filter(|v| !v.is_empty())
        .map(split_multi)
        .unwrap_or_default();
    incoming.params.clone_from(&params.0);
    let reply = move |universe: &Universe, published: &Published| {
        match project.as_deref().filter(|p| published.is_known(p)) {
            Some(project) => {
                query_categories(universe, project, &params).unwrap_or_else(ApiError::into_reply)
            }
            // What Wikimedia's edge answers for a host it does not serve.
            None => Reply {
                status: StatusCode::NOT_FOUND,
                ..Reply::html(format!(
                    "<!DOCTYPE html>\n<title>Domain not configured</title>\n<p>Domain not configured: {host}</p>\n"
                ))
            },
        }
    };
    (incoming, reply)
}

/// A MediaWiki error: HTTP 200, a `MediaWiki-API-Error` header and an `error` object.
#[derive(Debug)]
struct ApiError {
    code: &'static str,
    info: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorOut<'a>,
    servedby: &'static str,
}

#[derive(Serialize)]
struct ErrorOut<'a> {
    code: &'a str,
    info: &'a str,
    docref: &'static str,
}

impl ApiError {
    fn new(code: &'static str, info: impl Into<String>) -> Self {
        ApiError {
            code,
            info: info.into(),
        }
    }

    fn bad_continue() -> Self {
        ApiError::new(
            "badcontinue",
            "Invalid continue param. You should pass the original value returned by the previous query.",
        )
    }

    fn into_reply(self) -> Reply {
        let body = ErrorBody {
            error: ErrorOut {
                code: self.code,
                info: &self.info,
                docref: DOCREF,
            },
            servedby: "mw1234",
        };
        let mut reply = Reply::json(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
        );
        reply
            .headers
            .push(("mediawiki-api-error", self.code.to_owned()));
        reply.api_error = Some(self.code.to_owned());
        reply
    }
}

/// Warnings by module, joined by newlines as `errorformat=bc` does.
#[derive(Debug, Default)]
struct Warnings(BTreeMap<&'static str, Vec<String>>);

impl Warnings {
    fn add(&mut self, module: &'static str, text: String) {
        self.0.entry(module).or_default().push(text);
    }

    fn into_out(self) -> BTreeMap<&'static str, WarningOut> {
        self.0
            .into_iter()
            .map(|(module, texts)| {
                (
                    module,
                    WarningOut {
                        warnings: texts.join("\n"),
                    },
                )
            })
            .collect()
    }
}

/// The parameters this fake insists on, and the ones that shape the answer.
#[derive(Debug)]
struct Settings {
    limit: usize,
    show_hidden: bool,
    convert: bool,
    /// The `siprop` values of `meta=siteinfo`, each once; empty when it was not asked.
    siteinfo: Vec<Prop>,
    /// `prop=categories` was asked (it may be left out when only siteinfo or
    /// pageprops is).
    categories: bool,
    /// `prop=pageprops` was asked, and whether `ppprop` lets `wikibase_item` through
    /// (every property when `ppprop` is absent).
    pageprops: Option<bool>,
}

impl Settings {
    fn continue_token(&self) -> String {
        let mut done = Vec::new();
        if self.pageprops.is_some() {
            done.push("pageprops");
        }
        if !self.siteinfo.is_empty() {
            done.push("siteinfo");
        }
        format!("{CONTINUE_PREFIX}{}", done.join("|"))
    }
}

/// `prop`: `categories`, `pageprops` or both, the modules this fake serves. Returns
/// whether each was asked.
fn props(params: &Params) -> Result<(bool, bool), ApiError> {
    let value = params.get("prop").unwrap_or_default();
    let asked = split_multi(value);
    let has = |m: &str| asked.iter().any(|p| p == m);
    let (categories, pageprops) = (has("categories"), has("pageprops"));
    if !asked.iter().all(|p| p == "categories" || p == "pageprops") || asked.is_empty() {
        require(params, "prop", "categories")?;
        return Err(ApiError::new(
            "badvalue",
            format!(
                "Unrecognized value for parameter \"prop\": {value}. (fakewiki serves only prop=categories|pageprops.)"
            ),
        ));
    }
    Ok((categories, pageprops))
}

fn require(params: &Params, name: &str, value: &str) -> Result<(), ApiError> {
    match params.get(name) {
        Some(v) if v == value => Ok(()),
        Some(v) => Err(ApiError::new(
            "badvalue",
            format!(
                "Unrecognized value for parameter \"{name}\": {v}. (fakewiki serves only {name}={value}.)"
            ),
        )),
        None => Err(ApiError::new(
            "missingparam",
            format!("The \"{name}\" parameter must be set. (fakewiki serves only {name}={value}.)"),
        )),
    }
}

/// `siprop` as a set, in the order first asked: ParamValidator drops repeated values of a
/// multi-value parameter (array_unique).
fn siprops(params: &Params) -> Result<Vec<Prop>, ApiError> {
    let value = params.get("siprop").ok_or_else(|| {
        ApiError::new(
            "missingparam",
            format!(
                "The \"siprop\" parameter must be set. (fakewiki serves only siprop={}.)",
                Prop::SERVED
            ),
        )
    })?;
    let mut props = Vec::new();
    for name in split_multi(value) {
        let prop = Prop::parse(&name).ok_or_else(|| {
            ApiError::new(
                "badvalue",
                format!(
                    "Unrecognized value for parameter \"siprop\": {name}. (fakewiki serves only siprop={}.)",
                    Prop::SERVED
                ),
            )
        })?;
        if !props.contains(&prop) {
            props.push(prop);
        }
    }
    Ok(props)
}

fn settings(params: &Params, warnings: &mut Warnings) -> Result<Settings, ApiError> {
    require(params, "action", "query")?;
    require(params, "format", "json")?;
    require(params, "formatversion", "2")?;
    let siteinfo = match params.get("meta") {
        None => Vec::new(),
        Some("siteinfo") => siprops(params)?,
        Some(v) => {
            return Err(ApiError::new(
                "badvalue",
                format!(
                    "Unrecognized value for parameter \"meta\": {v}. (fakewiki serves only meta=siteinfo.)"
                ),
            ));
        }
    };
    let prop = siteinfo.is_empty() || params.get("prop").is_some();
    let (categories, pageprops) = if prop { props(params)? } else { (false, false) };
    let pageprops = if pageprops {
        Some(
            params
                .get("ppprop")
                .is_none_or(|v| split_multi(v).iter().any(|p| p == WIKIBASE_ITEM)),
        )
    } else {
        None
    };
    if prop && params.get("redirects").is_none() {
        return Err(ApiError::new(
            "missingparam",
            "The \"redirects\" parameter must be set. (fakewiki requires redirects=1 so that redirects resolve to their targets.)",
        ));
    }
    let unknown: Vec<&str> = params
        .0
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !KNOWN_PARAMS.contains(k))
        .collect();
    match unknown.as_slice() {
        [] => {}
        [one] => warnings.add("main", format!("Unrecognized parameter: {one}.")),
        many => warnings.add(
            "main",
            format!("Unrecognized parameters: {}.", many.join(", ")),
        ),
    }
    let limit = match params.get("cllimit") {
        None => DEFAULT_CLLIMIT,
        Some("max") => MAX_CLLIMIT,
        Some(v) => {
            let n: i64 = v.parse().map_err(|_| {
                ApiError::new(
                    "badinteger",
                    format!("Invalid value \"{v}\" for integer parameter \"cllimit\"."),
                )
            })?;
            if n > MAX_CLLIMIT as i64 {
                warnings.add(
                    "categories",
                    format!(
                        "cllimit may not be over {MAX_CLLIMIT} (set to {MAX_CLLIMIT}) for users."
                    ),
                );
            } else if n < 1 {
                warnings.add(
                    "categories",
                    "cllimit may not be less than 1 (set to 1).".to_owned(),
                );
            }
            usize::try_from(n.clamp(1, MAX_CLLIMIT as i64)).unwrap_or(1)
        }
    };
    let show_hidden = params
        .get("clprop")
        .is_some_and(|v| v.split('|').any(|p| p == "hidden"));
    // A boolean parameter is true whenever it is present, whatever its value.
    let convert = params.get("converttitles").is_some();
    Ok(Settings {
        limit,
        show_hidden,
        convert,
        siteinfo,
        categories,
        pageprops,
    })
}

#[derive(Serialize)]
struct QueryResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    batchcomplete: Option<bool>,
    #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
    continuation: Option<ContinueOut>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    warnings: BTreeMap<&'static str, WarningOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<QueryOut>,
}

#[derive(Serialize)]
struct ContinueOut {
    clcontinue: String,
    #[serde(rename = "continue")]
    token: String,
}

#[derive(Serialize)]
struct WarningOut {
    warnings: String,
}

#[derive(Serialize, Default)]
struct QueryOut {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    normalized: Vec<NormalizedOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    converted: Vec<RedirectOut>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    redirects: Vec<RedirectOut>,
    /// Absent when no title produced a page (ApiQuery::outputGeneralPageInfo).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pages: Vec<PageOut>,
    /// After the pages: ApiQuery runs meta modules after outputGeneralPageInfo.
    #[serde(flatten)]
    siteinfo: Option<SiteinfoOut>,
}

#[derive(Serialize)]
struct NormalizedOut {
    fromencoded: bool,
    from: String,
    to: String,
}

#[derive(Serialize)]
struct RedirectOut {
    from: String,
    to: String,
}

#[derive(Serialize, Default)]
struct PageOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pageid: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ns: Option<i32>,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    invalidreason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    invalid: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missing: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    special: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    categories: Option<Vec<CategoryOut>>,
    /// Only for an existing page with one of the asked properties
    /// (ApiQueryPageProps::execute, wikimedia/mediawiki 0ae0c665).
    #[serde(skip_serializing_if = "Option::is_none")]
    pageprops: Option<BTreeMap<&'static str, String>>,
}

#[derive(Serialize)]
struct CategoryOut {
    ns: i32,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    hidden: Option<bool>,
}

/// An existing page of the batch with its category rows.
struct Good {
    page_id: i64,
    ns: i32,
    title: String,
    categories: Vec<Category>,
    /// Its Wikidata item, if linked to one.
    item: Option<u64>,
}

/// Everything one batch of titles resolves to, before slicing the category rows.
struct Batch {
    normalized: Vec<NormalizedOut>,
    converted: Vec<RedirectOut>,
    redirects: Vec<RedirectOut>,
    /// Invalid, missing and special pages, in request order.
    others: Vec<PageOut>,
    /// Existing pages by page id.
    good: Vec<Good>,
    /// (index into `good`, index into its categories), in the API's row order.
    rows: Vec<(usize, usize)>,
    /// The wiki's name for namespace 14 (`Category`, `श्रेणी`, …).
    category_prefix: &'static str,
}

impl Batch {
    fn build(universe: &Universe, project: &str, titles: &[String], convert: bool) -> Self {
        let item = |title: &crate::title::Title| universe.item(project, title);
        let mut batch = Batch {
            normalized: Vec::new(),
            converted: Vec::new(),
            redirects: Vec::new(),
            others: Vec::new(),
            good: Vec::new(),
            rows: Vec::new(),
            category_prefix: site(project).name_of(CATEGORY_NS).unwrap_or("Category"),
        };
        let mut seen_pages = HashSet::new();
        for raw in titles {
            let looked_up = universe.look_up(project, raw, convert);
            // ApiPageSet::getNormalizedTitlesAsResult: a raw title that Unicode
            // normalisation changed comes back percent-encoded.
            if looked_up.nfc != *raw {
                batch.normalized.push(NormalizedOut {
                    fromencoded: true,
                    from: percent_encoding::utf8_percent_encode(raw, RAWURLENCODE).to_string(),
                    to: looked_up.nfc.clone(),
                });
            }
            let parsed = match looked_up.parsed {
                Ok(parsed) => parsed,
                Err(reason) => {
                    batch.others.push(PageOut {
                        title: looked_up.nfc,
                        invalidreason: Some(reason),
                        invalid: Some(true),
                        ..PageOut::default()
                    });
                    continue;
                }
            };
            batch.add(looked_up.nfc, parsed, &mut seen_pages, &item);
        }
        // The categories module reads `ORDER BY cl_from, cl_to`.
        batch.good.sort_by(|a, b| {
            a.page_id
                .cmp(&b.page_id)
                .then_with(|| a.title.cmp(&b.title))
        });
        batch.rows = batch
            .good
            .iter()
            .enumerate()
            .flat_map(|(g, page)| (0..page.categories.len()).map(move |c| (g, c)))
            .collect();
        batch
    }

    /// The mappings and the page of one valid title (ApiPageSet::processTitlesArray).
    fn add(
        &mut self,
        nfc: String,
        parsed: Parsed,
        seen_pages: &mut HashSet<String>,
        item: &dyn Fn(&crate::title::Title) -> Option<u64>,
    ) {
        if parsed.title.text != nfc {
            self.normalized.push(NormalizedOut {
                fromencoded: false,
                from: nfc,
                to: parsed.title.text.clone(),
            });
        }
        if let Some(to) = &parsed.converted
            && !self.converted.iter().any(|c| c.from == parsed.title.text)
        {
            self.converted.push(RedirectOut {
                from: parsed.title.text.clone(),
                to: to.text.clone(),
            });
        }
        let resolved = parsed.resolved;
        for (from, to) in resolved.hops {
            if !self.redirects.iter().any(|r| r.from == from) {
                self.redirects.push(RedirectOut { from, to });
            }
        }
        // A loop outputs no page; a page reached twice is output once.
        let Some(page) = resolved.page else { return };
        if !seen_pages.insert(resolved.title.text.clone()) {
            return;
        }
        let item = item(&resolved.title);
        let (ns, text) = (resolved.title.ns, resolved.title.text);
        match page {
            Page::Existing {
                page_id,
                categories,
            } => self.good.push(Good {
                page_id,
                ns,
                title: text,
                categories,
                item,
            }),
            Page::Special => self.others.push(PageOut {
                ns: Some(ns),
                title: text,
                special: Some(true),
                ..PageOut::default()
            }),
            Page::Missing | Page::Redirect { .. } => self.others.push(PageOut {
                ns: Some(ns),
                title: text,
                missing: Some(true),
                ..PageOut::default()
            }),
        }
    }

    fn continue_value(&self, row: usize) -> Option<String> {
        let &(g, c) = self.rows.get(row)?;
        let page = &self.good[g];
        Some(format!(
            "{}|{}",
            page.page_id,
            underscored(&page.categories[c].name)
        ))
    }

    /// The first row of this response: 0, or exactly where a previous response stopped.
    fn start_row(&self, params: &Params, limit: usize, expected: &str) -> Result<usize, ApiError> {
        let token = params.get("continue");
        let Some(clcontinue) = params.get("clcontinue") else {
            // `continue=` (empty) is how a client opts into continuation on its first call.
            return match token {
                None | Some("") => Ok(0),
                Some(_) => Err(ApiError::bad_continue()),
            };
        };
        if token != Some(expected) {
            return Err(ApiError::bad_continue());
        }
        (limit..self.rows.len())
            .step_by(limit)
            .find(|&row| self.continue_value(row).as_deref() == Some(clcontinue))
            .ok_or_else(ApiError::bad_continue)
    }

    /// `continued`: a later round, in which `pageprops` is done and skipped.
    fn into_response(
        self,
        start: usize,
        settings: &Settings,
        continued: bool,
        warnings: Warnings,
    ) -> QueryResponse {
        let with_item = settings.pageprops == Some(true) && !continued;
        let end = (start + settings.limit).min(self.rows.len());
        let continuation = (end < self.rows.len())
            .then(|| self.continue_value(end))
            .flatten()
            .map(|clcontinue| ContinueOut {
                clcontinue,
                token: settings.continue_token(),
            });
        let mut slices: Vec<Vec<CategoryOut>> = self.good.iter().map(|_| Vec::new()).collect();
        for &(g, c) in &self.rows[start..end] {
            let category = &self.good[g].categories[c];
            slices[g].push(CategoryOut {
                ns: CATEGORY_NS,
                title: format!("{}:{}", self.category_prefix, category.name),
                hidden: (settings.show_hidden && category.hidden).then_some(true),
            });
        }
        let mut pages = self.others;
        pages.extend(self.good.into_iter().zip(slices).map(|(page, cats)| {
            PageOut {
                pageid: Some(page.page_id),
                ns: Some(page.ns),
                title: page.title,
                categories: (!cats.is_empty()).then_some(cats),
                pageprops: page
                    .item
                    .filter(|_| with_item)
                    .map(|q| BTreeMap::from([(WIKIBASE_ITEM, format!("Q{q}"))])),
                ..PageOut::default()
            }
        }));
        QueryResponse {
            batchcomplete: continuation.is_none().then_some(true),
            continuation,
            warnings: warnings.into_out(),
            query: Some(QueryOut {
                normalized: self.normalized,
                converted: self.converted,
                redirects: self.redirects,
                pages,
                siteinfo: None,
            }),
        }
    }
}

fn query_categories(
    universe: &Universe,
    project: &str,
    params: &Params,
) -> Result<Reply, ApiError> {
    let mut warnings = Warnings::default();
    let settings = settings(params, &mut warnings)?;
    // A continued round lists siteinfo and pageprops as done; only the first runs them.
    let continued = params.get("continue").is_some_and(|c| !c.is_empty());
    let mut titles = params
        .get("titles")
        .filter(|v| !v.is_empty())
        .map(split_multi)
        .unwrap_or_default();
    let mut response = if titles.is_empty()
        || !(settings.categories || settings.pageprops.is_some())
    {
        // The real API's whole answer to a query about nothing.
        QueryResponse {
            batchcomplete: Some(true),
            continuation: None,
            warnings: warnings.into_out(),
            query: None,
        }
    } else {
        // ParamValidator::validateValue refuses the whole request past the limit.
        if titles.len() > MAX_TITLES {
            return Err(ApiError::new(
                "toomanyvalues",
                format!(
                    "Too many values supplied for parameter \"titles\". The limit is {MAX_TITLES}."
                ),
            ));
        }
        let mut seen = HashSet::new();
        titles.retain(|t| seen.insert(t.clone()));
        let mut batch = Batch::build(universe, project, &titles, settings.convert);
        if !settings.categories {
            batch.rows.clear();
        }
        let start = batch.start_row(params, settings.limit, &settings.continue_token())?;
        batch.into_response(start, &settings, continued, warnings)
    };
    if !settings.siteinfo.is_empty() && !continued {
        let query = response.query.get_or_insert_with(QueryOut::default);
        query.siteinfo = Some(SiteinfoOut::answer(project, &settings.siteinfo));
    }
    serde_json::to_vec(&response)
        .map(|body| Reply::json(StatusCode::OK, body))
        .map_err(|e| ApiError::new("internal_api_error", e.to_string()))
}
