//! The ground floor every layer of the fake stands on: which kind of request came in
//! ([`Endpoint`]), what a handler knows about it ([`Incoming`]), what is published when an
//! answer is built ([`Published`]), and a complete response before framing ([`Reply`]).
//!
//! It imports nothing else of this crate, so the server, the endpoints, the faults and the
//! log all use these words without using each other. It decides nothing: routing, the
//! quota, faults and the log belong to the modules above it.

use axum::body::Body;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderName, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use jiff::civil::Date;

/// The kind of request, as the fake routes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `GET /api/rest_v1/metrics/pageviews/top/...`
    Top,
    /// `GET /{host}/w/api.php`
    Categories,
    /// Anything else (answered 404).
    Other,
}

/// What a handler knows about a request before answering it.
#[derive(Debug)]
pub(crate) struct Incoming {
    pub(crate) endpoint: Endpoint,
    pub(crate) path_and_query: String,
    pub(crate) project: Option<String>,
    pub(crate) day: Option<Date>,
    pub(crate) titles: Vec<String>,
    pub(crate) user_agent: Option<String>,
    pub(crate) authorization: Option<String>,
    pub(crate) method: &'static str,
    /// Every parameter, from the URL and a form body.
    pub(crate) params: Vec<(String, String)>,
    pub(crate) cookie: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
}

impl Incoming {
    pub(crate) fn new(endpoint: Endpoint, uri: &Uri, headers: &HeaderMap) -> Self {
        let text = |name| {
            headers
                .get(name)
                .map(|v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned())
        };
        Incoming {
            endpoint,
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            project: None,
            day: None,
            titles: Vec::new(),
            user_agent: text(USER_AGENT),
            authorization: text(AUTHORIZATION),
            method: "GET",
            params: Vec::new(),
            cookie: text(COOKIE),
            headers: headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }
}

/// Which projects are served, and up to which day their top lists are published. The
/// server hands the endpoints a copy taken when the answer is built (after latency and
/// any hang), so a test can publish a day while a client polls.
#[derive(Debug, Clone)]
pub(crate) struct Published {
    /// Later days answer 404 like days the Pageviews API has not loaded yet.
    pub(crate) until: Date,
    /// Projects served, named like `en.wikipedia`.
    pub(crate) projects: Vec<String>,
}

impl Published {
    pub(crate) fn is_known(&self, project: &str) -> bool {
        self.projects.iter().any(|p| p == project)
    }

    /// Whether a top list for (project, day) is published.
    pub(crate) fn serves(&self, project: &str, day: Date) -> bool {
        day <= self.until && self.is_known(project)
    }
}

/// A complete response before framing, so faults can cut or delay it.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Vec<u8>,
    /// The Action API error code in the body, for the log.
    pub(crate) api_error: Option<String>,
}

impl Reply {
    pub(crate) fn json(status: StatusCode, body: Vec<u8>) -> Self {
        Reply {
            status,
            content_type: "application/json; charset=utf-8",
            headers: Vec::new(),
            body,
            api_error: None,
        }
    }

    /// RFC 7807 errors, as the Wikimedia REST API sends them.
    pub(crate) fn problem(status: StatusCode, body: Vec<u8>) -> Self {
        Reply {
            content_type: "application/problem+json",
            ..Reply::json(status, body)
        }
    }

    pub(crate) fn html(body: String) -> Self {
        Reply {
            content_type: "text/html; charset=utf-8",
            ..Reply::json(StatusCode::OK, body.into_bytes())
        }
    }

    /// What Wikimedia's edge answers a request target past its limit (seen on
    /// ar.wikipedia's api.php in 2026).
    pub(crate) fn uri_too_long() -> Self {
        Reply {
            status: StatusCode::URI_TOO_LONG,
            ..Reply::html("<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>414 Request-URI Too Long</title>\n</head><body>\n<h1>Request-URI Too Long</h1>\n<p>The requested URL's length exceeds the capacity\nlimit for this server.<br />\n</p>\n</body></html>\n".to_owned())
        }
    }

    /// The API gateway's rate-limit answer.
    pub(crate) fn too_many_requests(retry_after: String) -> Self {
        let mut reply = Reply::json(
            StatusCode::TOO_MANY_REQUESTS,
            br#"{"httpCode":429,"httpReason":"Too many requests. Please slow down and see https://meta.wikimedia.org/wiki/User-Agent_policy."}"#.to_vec(),
        );
        reply.headers.push(("retry-after", retry_after));
        reply
    }

    pub(crate) fn into_response(self) -> Response {
        let mut response = Response::new(Body::from(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(HeaderName::from_static(name), value);
            }
        }
        response
    }
}
