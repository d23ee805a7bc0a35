//! The one HTTP client wikitop uses to talk to Wikimedia, and its politeness policy.
//!
//! It owns the User-Agent, timeouts, the cap on requests in flight, and retries:
//! 429, 408, 5xx (not 501), timeouts, dropped connections, unreadable bodies and the
//! Action API's `maxlag` are retried; `Retry-After` (seconds or HTTP-date) is always
//! honoured and pauses *every* request, so a throttled client sends nothing until the
//! server said it may. It knows nothing of pageviews or categories: callers hand it a
//! typed body and a check that says whether that body is usable.
//! <https://wikitech.wikimedia.org/wiki/Robot_policy>,
//! <https://www.mediawiki.org/wiki/Manual:Maxlag_parameter>

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{Mutex, Semaphore};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::pace::Pacer;

/// Read and connect timeouts: a Wikimedia response that takes longer is stuck.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Tries per request for errors other than 429 (which waits as long as it is told).
pub(crate) const DEFAULT_MAX_TRIES: u32 = 6;
/// How many 429s one request may receive before the run gives up on it: with
/// Retry-After honoured this is hours of patience.
pub(crate) const MAX_THROTTLED_TRIES: u32 = 200;
/// First backoff step; doubles per try, jittered, capped at `MAX_BACKOFF`.
pub(crate) const DEFAULT_RETRY_BASE: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// Never believe a Retry-After longer than this: it is a broken header, not a plan.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Wikimedia asks for at most this many requests in flight per client.
pub(crate) const MAX_IN_FLIGHT: usize = 3;
/// A 429 without Retry-After waits this many backoff steps (5 s by default), doubling
/// while 429s keep coming: "If no such header is present, clients should wait at least
/// five seconds, or implement exponential back-off" (mediawiki.org, Wikimedia APIs/Rate limits).
const BARE_429_STEPS: u32 = 5;
/// Wikimedia's global limit for a client identified by a compliant User-Agent:
/// 200 requests a minute (mediawiki.org, Wikimedia APIs/Rate limits, since May 2026).
pub(crate) const DEFAULT_RATE: Rate = Rate {
    requests: 200,
    window: Duration::from_secs(60),
};
/// With an OAuth 2 access token: the lowest tier a token gets at the API gateway, 200 a
/// minute for a new account, so the default never meets a 429. The gateway grants
/// established editors 2,000 a minute; the Robot policy allows authenticated clients 10
/// a second: those who have it pass `--rate 600/1min` (or more, as their tier allows).
pub(crate) const DEFAULT_RATE_WITH_TOKEN: Rate = Rate {
    requests: 200,
    window: Duration::from_secs(60),
};

/// A request budget: at most `requests` per `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub requests: u32,
    pub window: Duration,
}

impl Rate {
    /// This process's share when `n` processes (shards) run at once under one contact,
    /// which Wikimedia counts as one client.
    pub fn shared_by(self, n: u32) -> Rate {
        Rate {
            requests: (self.requests / n.max(1)).max(1),
            window: self.window,
        }
    }

    /// How long `requests` requests take at this rate.
    pub fn time_for(self, requests: u64) -> Duration {
        self.window
            .mul_f64(requests as f64 / f64::from(self.requests.max(1)))
    }
}

/// How the client behaves; resolved from settings before any request is sent.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    /// The operator's e-mail or URL for the User-Agent, as the policy asks; `None` only
    /// for runs that send no request (`--dry-run`).
    pub contact: Option<String>,
    /// OAuth 2 access token, sent as a Bearer token to lift the anonymous limits.
    pub access_token: Option<String>,
    /// Requests leave evenly spaced within this budget.
    pub rate: Rate,
    pub timeout: Duration,
    pub max_tries: u32,
    pub retry_base: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        HttpPolicy {
            contact: None,
            access_token: None,
            rate: DEFAULT_RATE,
            timeout: DEFAULT_TIMEOUT,
            max_tries: DEFAULT_MAX_TRIES,
            retry_base: DEFAULT_RETRY_BASE,
        }
    }
}

/// Which API a request goes to: each has its own in-flight cap under the global one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    Pageviews,
    Action,
}

/// Counters the run reports and records in `ingest_runs`.
#[derive(Debug, Default)]
pub(crate) struct HttpStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub throttled: AtomicU64,
    pub top_requests: AtomicU64,
    pub category_requests: AtomicU64,
}

/// What the caller's check says about a decoded body.
pub(crate) enum Verdict {
    Usable,
    /// Try again: the server said so in the body (e.g. `maxlag`) or the body is incomplete.
    Retry {
        reason: String,
        wait: Option<Duration>,
    },
    /// The server limits our rate in the body (`ratelimited`): handled like a 429.
    Throttled(String),
    /// A definite answer that retrying cannot change.
    Fail(String),
}

/// How a request carries its parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Method<'a> {
    /// All parameters in the URL's query string.
    Get,
    /// `form` as an `application/x-www-form-urlencoded` body (the URL's query string
    /// keeps the rest), with `headers` added.
    PostForm {
        form: &'a [(&'a str, &'a str)],
        headers: &'a [(&'static str, &'static str)],
    },
}

/// The outcome of a request that the caller must interpret.
pub(crate) enum Fetched<T> {
    Body(T),
    NotFound,
}

/// Something that wants to know when the client waits on the server's say-so.
pub trait WaitObserver: Send + Sync {
    fn throttled(&self, until: jiff::Timestamp, reason: &str);
}

pub(crate) struct Http {
    client: reqwest::Client,
    policy: HttpPolicy,
    all: Semaphore,
    pageviews: Semaphore,
    action: Semaphore,
    /// No request leaves before this instant: set by Retry-After, 429s and maxlag.
    paused_until: Mutex<Option<Instant>>,
    /// 429s in a row without a success between them, for the bare-429 backoff.
    throttle_streak: AtomicU32,
    pacer: Pacer,
    pub stats: Arc<HttpStats>,
    observer: Option<Arc<dyn WaitObserver>>,
}

/// `wikitop/<version> (<operator's contact>; <project URL>) reqwest/<version>`: the
/// format of Wikimedia's User-Agent policy, with the operator first so that each
/// operator gets a rate-limit counter of their own. Without a contact (a dry run sends
/// nothing) only the project is named.
pub(crate) fn user_agent(contact: Option<&str>) -> String {
    let repo = env!("CARGO_PKG_REPOSITORY");
    let who = contact.map_or_else(|| repo.to_owned(), |c| format!("{c}; {repo}"));
    format!(
        "wikitop/{} ({who}) reqwest/{}",
        env!("CARGO_PKG_VERSION"),
        env!("WIKITOP_REQWEST_VERSION")
    )
}

impl Http {
    pub(crate) fn new(
        policy: HttpPolicy,
        pageviews_concurrency: usize,
        action_concurrency: usize,
        observer: Option<Arc<dyn WaitObserver>>,
    ) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(user_agent(policy.contact.as_deref()))
            .timeout(policy.timeout)
            .connect_timeout(DEFAULT_CONNECT_TIMEOUT.min(policy.timeout))
            .gzip(true)
            // Wikimedia asks clients that authenticate to return its cookies, which carry
            // the rate-limit class (mediawiki.org, Wikimedia APIs/Rate limits).
            .cookie_store(policy.access_token.is_some())
            .build()
            .map_err(Error::HttpClient)?;
        Ok(Http {
            client,
            pacer: Pacer::new(policy.rate.requests, policy.rate.window),
            policy,
            all: Semaphore::new(MAX_IN_FLIGHT),
            pageviews: Semaphore::new(pageviews_concurrency.clamp(1, MAX_IN_FLIGHT)),
            action: Semaphore::new(action_concurrency.clamp(1, MAX_IN_FLIGHT)),
            paused_until: Mutex::new(None),
            throttle_streak: AtomicU32::new(0),
            stats: Arc::new(HttpStats::default()),
            observer,
        })
    }

    /// GETs `url` with `query`, decodes the JSON body as `T` and asks `check` whether
    /// it is usable, retrying everything transient. A 404 is returned to the caller.
    pub(crate) async fn get_json<T: DeserializeOwned>(
        &self,
        lane: Lane,
        url: &str,
        query: &[(&str, &str)],
        check: impl Fn(&T) -> Verdict,
    ) -> Result<Fetched<T>> {
        self.request_json(lane, url, query, Method::Get, check)
            .await
    }

    /// Like `get_json`, with the parameters carried as `method` says.
    pub(crate) async fn request_json<T: DeserializeOwned>(
        &self,
        lane: Lane,
        url: &str,
        query: &[(&str, &str)],
        method: Method<'_>,
        check: impl Fn(&T) -> Verdict,
    ) -> Result<Fetched<T>> {
        let mut tally = Tally {
            started: Instant::now(),
            tries: 0,
            throttled: 0,
        };
        loop {
            let outcome = self.send_paced(lane, url, query, method, &check).await;
            // `unreachable`: the last try could not even connect.
            let (reason, wait, is_throttle, unreachable) = match outcome {
                Attempt::Done(body) => return Ok(Fetched::Body(body)),
                Attempt::NotFound => return Ok(Fetched::NotFound),
                Attempt::Fatal(err) => return Err(err),
                Attempt::Retry {
                    reason,
                    wait,
                    throttle,
                    unreachable,
                } => (reason, wait, throttle, unreachable),
            };
            if is_throttle {
                tally.throttled += 1;
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
            } else {
                tally.tries += 1;
            }
            if let Some(error) = tally.given_up(&self.policy, url, &reason, unreachable) {
                return Err(error);
            }
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            self.before_retry(wait.is_some(), tally.tries, url, &reason)
                .await;
        }
    }

    /// Waits before the next try: until the pause the server asked for (everyone waits,
    /// so no request is wasted), else a jittered backoff.
    async fn before_retry(&self, told: bool, tries: u32, url: &str, reason: &str) {
        if told {
            self.wait_if_paused().await;
        } else {
            let delay = self.backoff(tries.max(1));
            tracing::debug!(
                url,
                retry_in_ms = delay.as_millis() as u64,
                reason,
                "Retrying."
            );
            tokio::time::sleep(delay).await;
        }
    }

    /// One try: waits for any pause, a permit and this request's turn in the budget.
    async fn send_paced<T: DeserializeOwned>(
        &self,
        lane: Lane,
        url: &str,
        query: &[(&str, &str)],
        method: Method<'_>,
        check: &impl Fn(&T) -> Verdict,
    ) -> Attempt<T> {
        self.wait_if_paused().await;
        let _all = self.all.acquire().await.expect("semaphore never closed");
        let _lane = match lane {
            Lane::Pageviews => self.pageviews.acquire().await,
            Lane::Action => self.action.acquire().await,
        }
        .expect("semaphore never closed");
        // The pause may have been set while this request queued for a permit.
        self.wait_if_paused().await;
        self.pacer.wait_turn().await;
        self.count(lane);
        let mut outcome = self.attempt(url, query, method, check).await;
        match &mut outcome {
            Attempt::Retry {
                throttle: true,
                wait,
                ..
            } => {
                let streak = self.throttle_streak.fetch_add(1, Ordering::Relaxed) + 1;
                wait.get_or_insert_with(|| self.throttle_backoff(streak));
            }
            Attempt::Retry { .. } => {}
            _ => self.throttle_streak.store(0, Ordering::Relaxed),
        }
        // Pause before the permits go: a request queued behind this one must not leave
        // after the server said wait.
        if let Attempt::Retry {
            wait: Some(delay),
            reason,
            ..
        } = &outcome
        {
            self.pause(*delay, reason).await;
        }
        outcome
    }

    fn count(&self, lane: Lane) {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        match lane {
            Lane::Pageviews => &self.stats.top_requests,
            Lane::Action => &self.stats.category_requests,
        }
        .fetch_add(1, Ordering::Relaxed);
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        url: &str,
        query: &[(&str, &str)],
        method: Method<'_>,
        check: &impl Fn(&T) -> Verdict,
    ) -> Attempt<T> {
        let response = match self.request(url, query, method).send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    reason: describe(&e),
                    wait: None,
                    throttle: false,
                    unreachable: e.is_connect(),
                };
            }
        };
        let retry_after = retry_after(response.headers());
        if let Some(refused) = by_status(url, response.status(), retry_after) {
            return refused;
        }
        // Read the whole body inside the retry: a connection dropped mid-body is retried.
        let bytes = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::transient(describe(&e), None),
        };
        let body: T = match serde_json::from_slice(&bytes) {
            Ok(b) => b,
            Err(e) => {
                return Attempt::transient(
                    format!("unreadable response body ({e}): {}", snippet(&bytes)),
                    None,
                );
            }
        };
        match check(&body) {
            Verdict::Usable => Attempt::Done(body),
            Verdict::Retry { reason, wait } => Attempt::transient(reason, retry_after.or(wait)),
            Verdict::Throttled(reason) => Attempt::throttled(reason, retry_after),
            Verdict::Fail(reason) => Attempt::Fatal(Error::GaveUp {
                url: url.to_owned(),
                tries: 1,
                secs: 0.0,
                last: reason,
            }),
        }
    }

    fn request(
        &self,
        url: &str,
        query: &[(&str, &str)],
        method: Method<'_>,
    ) -> reqwest::RequestBuilder {
        let request = match method {
            Method::Get => self.client.get(url).query(query),
            Method::PostForm { form, headers } => headers.iter().fold(
                self.client.post(url).query(query).form(form),
                |r, (name, value)| r.header(*name, *value),
            ),
        };
        match &self.policy.access_token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// The wait after the `streak`-th 429 in a row that named no Retry-After.
    fn throttle_backoff(&self, streak: u32) -> Duration {
        self.policy
            .retry_base
            .saturating_mul(BARE_429_STEPS)
            .saturating_mul(1u32 << streak.saturating_sub(1).min(16))
            .min(MAX_BACKOFF)
    }

    fn backoff(&self, try_no: u32) -> Duration {
        let exp = self
            .policy
            .retry_base
            .saturating_mul(1u32 << try_no.saturating_sub(1).min(16))
            .min(MAX_BACKOFF);
        // Full jitter in [50%, 100%]: spreads retries of parallel requests apart.
        exp.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    async fn wait_if_paused(&self) {
        loop {
            let until = *self.paused_until.lock().await;
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t).await,
                _ => return,
            }
        }
    }

    /// Holds every request until `delay` from now (unless a longer pause is on).
    async fn pause(&self, delay: Duration, reason: &str) {
        let until = Instant::now() + delay;
        {
            let mut paused = self.paused_until.lock().await;
            if paused.is_none_or(|p| p < until) {
                *paused = Some(until);
                let resume = jiff::Timestamp::now()
                    .checked_add(jiff::SignedDuration::try_from(delay).unwrap_or_default())
                    .unwrap_or_else(|_| jiff::Timestamp::now());
                tracing::warn!(
                    resume_at = %resume.round(jiff::Unit::Second).unwrap_or(resume),
                    wait_secs = delay.as_secs_f64(),
                    reason,
                    "Wikimedia asked us to wait; pausing all requests."
                );
                if let Some(observer) = &self.observer {
                    observer.throttled(resume, reason);
                }
            }
        }
    }
}

/// What a status other than 2xx means: `None` to read the body.
fn by_status<T>(
    url: &str,
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
) -> Option<Attempt<T>> {
    use reqwest::StatusCode;
    Some(match status {
        StatusCode::NOT_FOUND => Attempt::NotFound,
        StatusCode::TOO_MANY_REQUESTS => {
            Attempt::throttled("HTTP 429 Too Many Requests".into(), retry_after)
        }
        StatusCode::REQUEST_TIMEOUT => Attempt::transient("HTTP 408".into(), retry_after),
        s if s.is_server_error() && s != StatusCode::NOT_IMPLEMENTED => {
            Attempt::transient(format!("HTTP {}", s.as_u16()), retry_after)
        }
        s if s.is_success() => return None,
        s => Attempt::Fatal(Error::HttpStatus {
            url: url.to_owned(),
            status: s.as_u16(),
        }),
    })
}

enum Attempt<T> {
    Done(T),
    NotFound,
    Retry {
        reason: String,
        wait: Option<Duration>,
        throttle: bool,
        /// The request could not connect at all.
        unreachable: bool,
    },
    Fatal(Error),
}

impl<T> Attempt<T> {
    /// Rate-limited: waits as long as it is told, or a growing pause for everyone.
    fn throttled(reason: String, wait: Option<Duration>) -> Self {
        Attempt::Retry {
            reason,
            wait,
            throttle: true,
            unreachable: false,
        }
    }

    fn transient(reason: String, wait: Option<Duration>) -> Self {
        Attempt::Retry {
            reason,
            wait,
            throttle: false,
            unreachable: false,
        }
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the body".into()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s.push_str(": ");
            s.push_str(&inner.to_string());
            src = inner.source();
        }
        s
    }
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(80)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `Retry-After` in both forms RFC 9110 allows: delay-seconds or an HTTP-date.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, jiff::Timestamp::now())
}

pub(crate) fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
        let secs = at
            .as_millisecond()
            .saturating_sub(now.as_millisecond())
            .max(0);
        Duration::from_millis(secs as u64)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// One request's tries so far: those that failed and those the server throttled (which
/// have a budget of their own).
struct Tally {
    started: Instant,
    tries: u32,
    throttled: u32,
}

impl Tally {
    /// The error to end with, once the tries are spent.
    fn given_up(
        &self,
        policy: &HttpPolicy,
        url: &str,
        reason: &str,
        unreachable: bool,
    ) -> Option<Error> {
        let tries = self.tries + self.throttled;
        let secs = self.started.elapsed().as_secs_f64();
        let url = url.to_owned();
        if self.tries >= policy.max_tries && unreachable {
            return Some(Error::Unreachable { url, tries, secs });
        }
        (self.tries >= policy.max_tries || self.throttled >= MAX_THROTTLED_TRIES).then(|| {
            Error::GaveUp {
                url,
                tries,
                secs,
                last: reason.to_owned(),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: jiff::Timestamp = "2026-11-28T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sat, 28 Nov 2026 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("99999999", now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn user_agent_names_the_tool_the_operator_and_the_real_library() {
        let ua = user_agent(Some("ops@example.org"));
        let want = format!(
            "wikitop/{} (ops@example.org; {}) reqwest/",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_PKG_REPOSITORY")
        );
        assert!(ua.starts_with(&want), "{ua}");
        // The library version is the one resolved in Cargo.lock: major.minor.patch.
        let version = &ua[want.len()..];
        assert_eq!(version.split('.').count(), 3, "{ua}");
        assert!(version.split('.').all(|n| n.parse::<u32>().is_ok()), "{ua}");
    }
}
