//! `GET /api/rest_v1/metrics/pageviews/top/{project}/{access}/{YYYY}/{MM}/{DD}`.
//!
//! Serves a day's list in the Pageviews API's shape: one item, up to 1000 articles, ranks
//! as SQL `rank()`, and the articles in a shuffled order (the real endpoint does not
//! promise rank order, so a client must not rely on it). Refusals are the REST API's
//! `application/problem+json` bodies. Publication and known projects are read at answer
//! time, so a test can publish a day while a client polls. This module reads the request
//! and builds the answer; the server decides when (or whether) it is given.
//! See <https://doc.wikimedia.org/generated-data-platform/aqs/analytics-api/reference/page-views.html>.

use axum::extract::Path;
use axum::extract::rejection::PathRejection;
use axum::http::{HeaderMap, StatusCode, Uri};
use jiff::civil::Date;
use serde::Serialize;

use crate::rng::{Rng, hash_str, key};
use crate::universe::{ACCESSES, Universe};
use crate::wire::{Endpoint, Incoming, Published, Reply};

const NOT_FOUND_DETAIL: &str = "The date(s) you used are valid, but we either do not have data for those date(s), or the project you asked for is not loaded yet. Please check documentation for more information.";

/// A well-formed top request.
#[derive(Debug, Clone)]
struct TopRequest {
    project: String,
    access: String,
    day: Date,
    /// The path's own date segments, echoed in the body like the real API does.
    segments: [String; 3],
}

#[derive(Serialize)]
struct TopResponse<'a> {
    items: [TopItem<'a>; 1],
}

#[derive(Serialize)]
struct TopItem<'a> {
    project: &'a str,
    access: &'a str,
    year: &'a str,
    month: &'a str,
    day: &'a str,
    articles: Vec<ArticleOut>,
}

#[derive(Serialize)]
struct ArticleOut {
    article: String,
    views: u64,
    rank: u32,
}

/// The path's segments after `top/`: project, access, year, month, day.
pub(crate) type Segments = (String, String, String, String, String);

/// Reads a top request: what the log records of it, and how to answer it.
pub(crate) fn top(
    path: Result<Path<Segments>, PathRejection>,
    uri: &Uri,
    headers: &HeaderMap,
) -> (
    Incoming,
    impl FnOnce(&Universe, &Published) -> Reply + Send + 'static,
) {
    let mut incoming = Incoming::new(Endpoint::Top, uri, headers);
    let request = match path {
        Ok(Path(segments)) => parse(segments),
        Err(rejection) => Err(rejection.body_text()),
    };
    if let Ok(r) = &request {
        incoming.project = Some(r.project.clone());
        incoming.day = Some(r.day);
    }
    let uri_path = uri.path().to_owned();
    let reply = move |universe: &Universe, published: &Published| match request {
        Ok(r) => answer(universe, published, &r),
        Err(detail) => problem(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid parameters",
            &detail,
            &uri_path,
        ),
    };
    (incoming, reply)
}

/// Validates the path like the real endpoint: known access, `YYYY/MM/DD`, a real date.
fn parse((project, access, year, month, day): Segments) -> Result<TopRequest, String> {
    if !ACCESSES.contains(&access.as_str()) {
        return Err(format!(
            "access should be equal to one of the allowed values: [{}], got `{access}`",
            ACCESSES.join(", ")
        ));
    }
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(&year, 4) && digits(&month, 2) && digits(&day, 2)) {
        return Err(format!(
            "start timestamp is invalid, must be a valid date in YYYYMMDD format: {year}/{month}/{day}"
        ));
    }
    // Two and four ASCII digits always parse.
    let (y, m, d) = (
        year.parse::<i16>().unwrap_or(0),
        month.parse::<i8>().unwrap_or(0),
        day.parse::<i8>().unwrap_or(0),
    );
    let date = Date::new(y, m, d)
        .map_err(|_| format!("Given date(s) are invalid: {year}/{month}/{day}"))?;
    Ok(TopRequest {
        project,
        access,
        day: date,
        segments: [year, month, day],
    })
}

fn answer(universe: &Universe, published: &Published, r: &TopRequest) -> Reply {
    let [year, month, day] = &r.segments;
    let not_found = || {
        let uri = format!(
            "/analytics.wikimedia.org/v1/pageviews/top/{}/{}/{year}/{month}/{day}",
            r.project, r.access
        );
        problem(
            StatusCode::NOT_FOUND,
            "not_found",
            "Not found.",
            NOT_FOUND_DETAIL,
            &uri,
        )
    };
    if !published.serves(&r.project, r.day) {
        return not_found();
    }
    let Some(list) = universe.top(&r.project, &r.access, r.day) else {
        return not_found();
    };
    let mut articles: Vec<ArticleOut> = list
        .into_iter()
        .map(|a| ArticleOut {
            article: a.article,
            views: a.views,
            rank: a.rank,
        })
        .collect();
    Rng::new(key(&[
        universe.seed(),
        hash_str(&r.project),
        hash_str(&r.access),
        hash_str(&r.day.to_string()),
    ]))
    .shuffle(&mut articles);
    let body = TopResponse {
        items: [TopItem {
            project: &r.project,
            access: &r.access,
            year,
            month,
            day,
            articles,
        }],
    };
    match serde_json::to_vec(&body) {
        Ok(bytes) => Reply::json(StatusCode::OK, bytes),
        Err(e) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Internal error",
            &e.to_string(),
            "",
        ),
    }
}

/// An HyperSwitch-style `application/problem+json` body, fields in the real order.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    method: &'a str,
    detail: &'a str,
    uri: &'a str,
}

pub(crate) fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    uri: &str,
) -> Reply {
    let body = Problem {
        kind: format!("https://mediawiki.org/wiki/HyperSwitch/errors/{kind}"),
        title,
        method: "get",
        detail,
        uri,
    };
    Reply::problem(status, serde_json::to_vec(&body).unwrap_or_default())
}
