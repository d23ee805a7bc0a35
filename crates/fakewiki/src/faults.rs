//! Switchable faults: which requests get one, and what each looks like on the wire.
//!
//! Rules are matched in the order they were added; a rule fires by a seeded coin flip
//! (`Trigger::Rate`) or for its next N matching requests (`Trigger::Next`), so a run
//! that sends requests in the same order sees the same faults. The responses copy what
//! Wikimedia's edge and MediaWiki actually send (HTML error pages with 200 or 5xx,
//! `Retry-After` in both forms, the maxlag error). This module does not decide quotas.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;

use crate::rng::Rng;
use crate::wire::{Endpoint, Reply};

/// One kind of misbehaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 with `Retry-After: <secs>`.
    TooManyRequests { retry_after_secs: u64 },
    /// 429 with `Retry-After` as an HTTP-date `secs` from now (the form octocrab misses).
    TooManyRequestsHttpDate { retry_after_secs: u64 },
    /// 429 with no `Retry-After` at all: "Responses with status code 429 or 503
    /// typically also have the Retry-After header set" — typically, not always
    /// (mediawiki.org, Wikimedia APIs/Rate limits).
    TooManyRequestsBare,
    /// That status (500, 502, 503, 504, …) with Wikimedia's HTML error page.
    Status(u16),
    /// The real answer's status and headers, its body cut in half (still a complete
    /// HTTP message: the client's JSON decoding must fail, not its transport).
    TruncatedBody,
    /// 200 with an HTML error page instead of JSON.
    HtmlErrorPage,
    /// 200 JSON without `items` (Pageviews) or `query` (Action API).
    MissingTopLevel,
    /// Waits this long, then answers normally: longer than the client's timeout.
    Hang(Duration),
    /// Sends the headers and part of the body, then closes the connection.
    DropConnection,
    /// The Action API's `maxlag` refusal (Action API requests only): 200 with
    /// `Retry-After` and `X-Database-Lag` both `lag_secs`.
    Maxlag { lag_secs: u64 },
    /// An Action API error with HTTP 200 (Action API requests only), as ApiMain answers
    /// an exception: `code` such as `internal_api_error_DBConnectionError`, `readonly` or
    /// `badvalue`, with the `MediaWiki-API-Error` header (ApiMain::handleException).
    ApiError {
        code: &'static str,
        info: &'static str,
    },
}

/// When a matching rule fires.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Trigger {
    /// Each matching request with this probability (0.0–1.0), from the seeded RNG.
    Rate(f64),
    /// The next N matching requests, then the rule is spent.
    Next(u32),
}

/// A fault, when it fires, and which requests it may hit.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    pub fault: Fault,
    pub trigger: Trigger,
    /// `None`: both the top and the categories endpoint.
    pub endpoint: Option<Endpoint>,
    /// Only top requests for this day (categories requests carry no day, so never match).
    pub day: Option<Date>,
    /// Only this project (`en.wikipedia`; the Action API's host maps to it).
    pub project: Option<String>,
}

/// Names a rule so it can be removed while others stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FaultId(u64);

impl FaultRule {
    /// Fires on each matching request with probability `rate`.
    pub fn rate(fault: Fault, rate: f64) -> Self {
        FaultRule {
            fault,
            trigger: Trigger::Rate(rate),
            endpoint: None,
            day: None,
            project: None,
        }
    }

    /// Fires on the next `n` matching requests.
    pub fn next(fault: Fault, n: u32) -> Self {
        FaultRule {
            trigger: Trigger::Next(n),
            ..FaultRule::rate(fault, 0.0)
        }
    }

    /// A (project, day) whose top list always fails with 500: the day a client must give
    /// up on while writing the others.
    pub fn persistent_500(project: &str, day: Date) -> Self {
        FaultRule::rate(Fault::Status(500), 1.0)
            .on(Endpoint::Top)
            .on_day(day)
            .on_project(project)
    }

    /// Only requests of this kind (a maxlag fault only ever hits the Action API).
    pub fn on(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Only top requests for this day.
    pub fn on_day(mut self, day: Date) -> Self {
        self.day = Some(day);
        self
    }

    /// Only requests for this project, named like `en.wikipedia` (the Action API host
    /// `en.wikipedia.org` maps to it).
    pub fn on_project(mut self, project: &str) -> Self {
        self.project = Some(project.to_owned());
        self
    }

    fn matches(&self, endpoint: Endpoint, project: Option<&str>, day: Option<Date>) -> bool {
        let endpoint_ok = match self.endpoint {
            Some(e) => e == endpoint,
            None => endpoint != Endpoint::Other,
        };
        let maxlag_ok = !matches!(self.fault, Fault::Maxlag { .. } | Fault::ApiError { .. })
            || endpoint == Endpoint::Categories;
        endpoint_ok
            && maxlag_ok
            && self.day.is_none_or(|d| Some(d) == day)
            && self.project.as_deref().is_none_or(|p| Some(p) == project)
    }
}

/// The active rules and the RNG their rates draw from.
#[derive(Debug)]
pub(crate) struct Faults {
    rules: Vec<(FaultId, FaultRule)>,
    rng: Rng,
    next_id: u64,
}

impl Faults {
    pub(crate) fn new(seed: u64) -> Self {
        Faults {
            rules: Vec::new(),
            rng: Rng::new(seed),
            next_id: 0,
        }
    }

    pub(crate) fn add(&mut self, rule: FaultRule) -> FaultId {
        self.next_id += 1;
        let id = FaultId(self.next_id);
        self.rules.push((id, rule));
        id
    }

    pub(crate) fn remove(&mut self, id: FaultId) -> bool {
        let before = self.rules.len();
        self.rules.retain(|(i, _)| *i != id);
        self.rules.len() != before
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// The fault for this request, if a rule fires; spent `Next` rules are dropped.
    pub(crate) fn pick(
        &mut self,
        endpoint: Endpoint,
        project: Option<&str>,
        day: Option<Date>,
    ) -> Option<Fault> {
        let mut fired = None;
        for (_, rule) in &mut self.rules {
            if !rule.matches(endpoint, project, day) {
                continue;
            }
            let fires = match &mut rule.trigger {
                Trigger::Rate(p) => self.rng.chance(*p),
                Trigger::Next(n) => {
                    let fires = *n > 0;
                    *n = n.saturating_sub(1);
                    fires
                }
            };
            if fires {
                fired = Some(rule.fault.clone());
                break;
            }
        }
        self.rules
            .retain(|(_, r)| !matches!(r.trigger, Trigger::Next(0)));
        fired
    }
}

/// Wikimedia's edge error page (trimmed), served for 5xx and for the 200-with-HTML fault.
pub(crate) fn html_error_page(status: u16) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<meta charset=\"utf-8\">\n<title>Wikimedia Error</title>\n\
         <div class=\"content\" role=\"main\">\n<h1>Error</h1>\n\
         <p>Our servers are currently under maintenance or experiencing a technical issue</p>\n</div>\n\
         <div class=\"footer\"><p>If you report this error to the Wikimedia System Administrators, \
         please include the details below.</p><p class=\"text-muted\"><code>\
         Request from 127.0.0.1 via cp3066 cp3066, Varnish XID 318937621<br>\
         Upstream caches: cp3066 int<br>Error: {status}, Backend fetch failed</code></p></div>\n</html>\n"
    )
}

/// The response a fault produces; `answer` is the normal reply, computed only when the
/// fault needs it. Returns the status served, for the log.
pub(crate) async fn inject(
    fault: &Fault,
    endpoint: Endpoint,
    answer: impl FnOnce() -> Reply,
) -> (u16, Response) {
    let reply = match fault {
        Fault::TooManyRequests { retry_after_secs } => {
            Reply::too_many_requests(retry_after_secs.to_string())
        }
        Fault::TooManyRequestsHttpDate { retry_after_secs } => {
            let secs = i64::try_from(*retry_after_secs).unwrap_or(i64::MAX);
            let at = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_secs(secs))
                .unwrap_or(jiff::Timestamp::MAX);
            let date = jiff::fmt::rfc2822::DateTimePrinter::new()
                .timestamp_to_rfc9110_string(&at)
                .unwrap_or_else(|_| "Fri, 31 Dec 9999 23:59:59 GMT".to_owned());
            Reply::too_many_requests(date)
        }
        Fault::TooManyRequestsBare => {
            let mut reply = Reply::too_many_requests(String::new());
            reply.headers.retain(|(name, _)| *name != "retry-after");
            reply
        }
        Fault::ApiError { code, info } => {
            let body = serde_json::json!({
                "error": {"code": code, "info": info, "docref": "See https://en.wikipedia.org/w/api.php for API usage."},
                "servedby": "mw1234",
            });
            let mut reply = Reply::json(StatusCode::OK, body.to_string().into_bytes());
            reply
                .headers
                .push(("mediawiki-api-error", (*code).to_owned()));
            reply
        }
        Fault::Status(code) => Reply {
            status: StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ..Reply::html(html_error_page(*code))
        },
        Fault::HtmlErrorPage => Reply::html(html_error_page(503)),
        Fault::MissingTopLevel => match endpoint {
            // What the Action API really answers when it has nothing to report.
            Endpoint::Categories => {
                Reply::json(StatusCode::OK, br#"{"batchcomplete":true}"#.to_vec())
            }
            _ => Reply::json(StatusCode::OK, b"{}".to_vec()),
        },
        Fault::Maxlag { lag_secs } => {
            let body = format!(
                r#"{{"error":{{"code":"maxlag","info":"Waiting for 10.64.48.42: {lag_secs} seconds lagged.","host":"10.64.48.42","lag":{lag_secs},"type":"db"}},"servedby":"mw1234"}}"#
            );
            let mut reply = Reply::json(StatusCode::OK, body.into_bytes());
            reply.headers.push(("retry-after", lag_secs.to_string()));
            reply.headers.push(("x-database-lag", lag_secs.to_string()));
            reply
                .headers
                .push(("mediawiki-api-error", "maxlag".to_owned()));
            reply
        }
        Fault::Hang(delay) => {
            tokio::time::sleep(*delay).await;
            answer()
        }
        Fault::TruncatedBody => {
            let mut reply = answer();
            let keep = reply.body.len() / 2;
            reply.body.truncate(keep);
            reply
        }
        Fault::DropConnection => {
            let reply = answer();
            let status = reply.status.as_u16();
            return (status, dropping_response(reply));
        }
    };
    (reply.status.as_u16(), reply.into_response())
}

/// Streams the first half of the body, waits a moment so it reaches the client, then
/// fails the stream: hyper aborts the connection mid-body (chunked, no terminator).
fn dropping_response(reply: Reply) -> Response {
    let half = Bytes::from(reply.body[..reply.body.len() / 2].to_vec());
    let chunks = futures_util::stream::unfold(0u8, move |step| {
        let half = half.clone();
        async move {
            match step {
                0 => Some((Ok(half), 1)),
                1 => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Some((
                        Err(std::io::Error::other("fakewiki dropped the connection")),
                        2,
                    ))
                }
                _ => None,
            }
        }
    });
    let mut response = Reply {
        body: Vec::new(),
        ..reply
    }
    .into_response();
    *response.body_mut() = Body::from_stream(chunks);
    response
        .headers_mut()
        .remove(axum::http::header::CONTENT_LENGTH);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_rules_are_spent_and_filters_apply() {
        let mut f = Faults::new(1);
        let day = jiff::civil::date(2023, 4, 1);
        f.add(
            FaultRule::next(Fault::Status(503), 2)
                .on(Endpoint::Top)
                .on_day(day),
        );
        assert_eq!(f.pick(Endpoint::Categories, None, None), None);
        assert_eq!(
            f.pick(
                Endpoint::Top,
                Some("en.wikipedia"),
                Some(day.yesterday().unwrap())
            ),
            None
        );
        assert_eq!(
            f.pick(Endpoint::Top, Some("en.wikipedia"), Some(day)),
            Some(Fault::Status(503))
        );
        assert_eq!(
            f.pick(Endpoint::Top, Some("en.wikipedia"), Some(day)),
            Some(Fault::Status(503))
        );
        assert_eq!(f.pick(Endpoint::Top, Some("en.wikipedia"), Some(day)), None);
        assert!(f.rules.is_empty());
    }

    #[test]
    fn rates_are_reproducible_and_maxlag_only_hits_the_action_api() {
        let draw = |seed| {
            let mut f = Faults::new(seed);
            f.add(FaultRule::rate(Fault::Maxlag { lag_secs: 5 }, 0.3));
            (0..200)
                .map(|i| {
                    let e = if i % 2 == 0 {
                        Endpoint::Top
                    } else {
                        Endpoint::Categories
                    };
                    f.pick(e, None, None).is_some()
                })
                .collect::<Vec<_>>()
        };
        let a = draw(9);
        assert_eq!(a, draw(9));
        assert!(a.iter().step_by(2).all(|fired| !fired));
        let fired = a.iter().filter(|f| **f).count();
        assert!((15..=45).contains(&fired), "{fired} of 100 at 0.3");
    }
}
