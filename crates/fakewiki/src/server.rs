//! The top floor: the routes, the listener, its handle, and the path every request takes.
//!
//! Every request goes: the endpoint module reads it → record arrival → configured latency
//! → quota → fault → the real answer from `pageviews`/`action` → record the status. The
//! handle ([`FakeWiki`]) shares one mutex-guarded control block with the handlers, so tests
//! change settings and faults while a client runs; the lock is never held across an
//! `.await`. Response bodies are built by the endpoint modules, which see only the universe
//! and what is [published](Published), never this control block; faults and the log are
//! applied here, around them.

use std::future::{Future, IntoFuture};
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use jiff::civil::Date;
use tokio::sync::oneshot;

use crate::faults::{self, Fault, FaultId, FaultRule, Faults};
use crate::log::{Log, Outcome, RequestRecord, Stats};
use crate::universe::{ExpectedRow, Universe};
use crate::wire::{Endpoint, Incoming, Published, Reply};
use crate::{action, pageviews};

/// Requests kept in the log before further ones are only counted: a full 1,400-day
/// backfill makes about 5,000, and a record with 50 titles weighs a few KB.
const DEFAULT_LOG_CAPACITY: usize = 20_000;
/// Worker threads of [`FakeWiki::start_blocking`]'s own runtime: the machines have 2 cores.
const BLOCKING_WORKERS: usize = 2;
/// Longest request target (path and query) Wikimedia's edge takes before it answers 414:
/// MediaWiki's `api-help-methods` names "commonly 8000 bytes".
pub const DEFAULT_MAX_REQUEST_TARGET: usize = 8_000;
/// The session cookie this fake hands an authenticated client: Wikimedia asks such clients
/// to send cookies back so the right rate-limit class applies (Wikimedia APIs/Rate limits).
pub const SESSION_COOKIE: &str = "wikitopfake_session";

/// At most `requests` per `window` (×10 with `Authorization: Bearer …`, as Wikimedia
/// grants authenticated clients), in fixed windows starting at the first request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub window: Duration,
}

/// How the server starts; everything but the universe and port can change later through
/// the handle.
#[derive(Debug, Clone)]
pub struct Config {
    pub universe: Universe,
    /// Later days answer 404 like days the Pageviews API has not loaded yet.
    pub published_until: Date,
    /// Projects served; others answer 404 (Pageviews) or "Domain not configured".
    pub known_projects: Vec<String>,
    /// Added to every request before it is answered.
    pub latency: Duration,
    pub quota: Option<Quota>,
    /// Seeds the fault rates' coin flips.
    pub fault_seed: u64,
    /// 0 picks a free port.
    pub port: u16,
    pub log_capacity: usize,
    /// Requests whose path and query are longer get 414.
    pub max_request_target: usize,
}

impl Config {
    /// Defaults: published until the universe's last day, en/de/fr Wikipedia, no latency,
    /// no quota, a free port.
    pub fn new(universe: Universe) -> Self {
        Config {
            published_until: universe.default_published_until(),
            universe,
            known_projects: [
                "en.wikipedia",
                "de.wikipedia",
                "fr.wikipedia",
                "hi.wikipedia",
            ]
            .map(str::to_owned)
            .to_vec(),
            latency: Duration::ZERO,
            quota: None,
            fault_seed: 0x5EED,
            port: 0,
            log_capacity: DEFAULT_LOG_CAPACITY,
            max_request_target: DEFAULT_MAX_REQUEST_TARGET,
        }
    }

    pub fn realistic(seed: u64) -> Self {
        Config::new(Universe::realistic(seed))
    }

    pub fn fixture() -> Self {
        Config::new(Universe::fixture())
    }

    /// The non-Latin wikis ([`Universe::intl`]), serving `hi.wikipedia` and `zh.wikipedia`, and
    /// `en.wikipedia` with the same topics.
    pub fn intl() -> Self {
        Config::new(Universe::intl()).known_projects([
            "hi.wikipedia",
            "zh.wikipedia",
            "en.wikipedia",
        ])
    }

    pub fn published_until(mut self, day: Date) -> Self {
        self.published_until = day;
        self
    }

    pub fn known_projects<S: Into<String>>(
        mut self,
        projects: impl IntoIterator<Item = S>,
    ) -> Self {
        self.known_projects = projects.into_iter().map(Into::into).collect();
        self
    }

    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    pub fn quota(mut self, quota: Quota) -> Self {
        self.quota = Some(quota);
        self
    }

    pub fn fault_seed(mut self, seed: u64) -> Self {
        self.fault_seed = seed;
        self
    }

    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
}

/// A running fake server. Clones share it; it stops accepting connections when the last
/// clone is dropped.
#[derive(Debug, Clone)]
pub struct FakeWiki {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// Dropping the last sender ends the accept loop.
    _stop: Arc<oneshot::Sender<()>>,
}

impl FakeWiki {
    /// Binds 127.0.0.1 and serves on a task of the current tokio runtime.
    pub async fn start(config: Config) -> io::Result<FakeWiki> {
        let (wiki, server) = bind(config).await?;
        tokio::spawn(server);
        Ok(wiki)
    }

    /// Serves from a thread with its own runtime, for synchronous tests and benchmarks.
    pub fn start_blocking(config: Config) -> io::Result<FakeWiki> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("fakewiki".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(BLOCKING_WORKERS)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match bind(config).await {
                        Ok((wiki, server)) => {
                            // The receiver only goes away if the caller panicked.
                            let _ = tx.send(Ok(wiki));
                            server.await;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                        }
                    }
                });
            })?;
        rx.recv()
            .map_err(|_| io::Error::other("the fakewiki thread ended before it was listening"))?
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Pageviews API base, to which `/metrics/pageviews/top/...` is appended.
    pub fn pageviews_api(&self) -> String {
        format!("{}/api/rest_v1", self.base_url())
    }

    /// The Action API URL template with a literal `{host}` (e.g. `en.wikipedia.org`).
    pub fn action_api(&self) -> String {
        format!("{}/{{host}}/w/api.php", self.base_url())
    }

    pub fn universe(&self) -> &Universe {
        &self.shared.universe
    }

    pub fn published_until(&self) -> Date {
        self.shared.control().published.until
    }

    pub fn set_published_until(&self, day: Date) {
        self.shared.control().published.until = day;
    }

    pub fn set_known_projects<S: Into<String>>(&self, projects: impl IntoIterator<Item = S>) {
        self.shared.control().published.projects = projects.into_iter().map(Into::into).collect();
    }

    pub fn set_latency(&self, latency: Duration) {
        self.shared.control().latency = latency;
    }

    /// Replaces the quota (and starts a fresh window); `None` lifts it.
    pub fn set_quota(&self, quota: Option<Quota>) {
        let mut c = self.shared.control();
        c.quota = quota;
        c.window_start = None;
        c.used = [0, 0];
    }

    pub fn add_fault(&self, rule: FaultRule) -> FaultId {
        self.shared.control().faults.add(rule)
    }

    /// Whether the rule was still there (spent `Next` rules remove themselves).
    pub fn remove_fault(&self, id: FaultId) -> bool {
        self.shared.control().faults.remove(id)
    }

    pub fn clear_faults(&self) {
        self.shared.control().faults.clear();
    }

    /// The kept records, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.control().log.records()
    }

    pub fn stats(&self) -> Stats {
        self.shared.control().log.stats()
    }

    pub fn reset_log(&self) {
        self.shared.control().log.reset();
    }

    /// What a correct client stores for that day, or `None` when the server would answer
    /// 404 for it now (unknown project, unpublished day, no data).
    pub fn expected_day(
        &self,
        project: &str,
        access: &str,
        day: Date,
        top: u32,
    ) -> Option<Vec<ExpectedRow>> {
        if !self.shared.control().published.serves(project, day) {
            return None;
        }
        self.shared.universe.expected_day(project, access, day, top)
    }
}

async fn bind(config: Config) -> io::Result<(FakeWiki, impl Future<Output = ()> + Send + 'static)> {
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(config));
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let app = Router::new()
        .route(
            "/api/rest_v1/metrics/pageviews/top/{project}/{access}/{year}/{month}/{day}",
            get(top),
        )
        .route("/{host}/w/api.php", get(api).post(api_post))
        .fallback(other)
        .with_state(Arc::clone(&shared));
    let server = async move {
        tokio::select! {
            // axum retries failed accepts itself; it returns only if the listener dies.
            _ = axum::serve(listener, app).into_future() => {}
            _ = stop_rx => {}
        }
    };
    let wiki = FakeWiki {
        shared,
        addr,
        _stop: Arc::new(stop_tx),
    };
    Ok((wiki, server))
}

/// State shared by the handle and the handlers.
#[derive(Debug)]
struct Shared {
    universe: Universe,
    started: Instant,
    max_request_target: usize,
    control: Mutex<Control>,
}

#[derive(Debug)]
struct Control {
    published: Published,
    latency: Duration,
    quota: Option<Quota>,
    window_start: Option<Instant>,
    /// Requests in the current window: anonymous, bearer.
    used: [u32; 2],
    faults: Faults,
    log: Log,
}

impl Shared {
    fn new(config: Config) -> Self {
        Shared {
            universe: config.universe,
            started: Instant::now(),
            max_request_target: config.max_request_target,
            control: Mutex::new(Control {
                published: Published {
                    until: config.published_until,
                    projects: config.known_projects,
                },
                latency: config.latency,
                quota: config.quota,
                window_start: None,
                used: [0, 0],
                faults: Faults::new(config.fault_seed),
                log: Log::new(config.log_capacity),
            }),
        }
    }

    /// A panic while holding the lock cannot leave it inconsistent enough to matter here.
    fn control(&self) -> MutexGuard<'_, Control> {
        self.control.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is published now, for an answer built now.
    fn published(&self) -> Published {
        self.control().published.clone()
    }

    /// Counts the request against the quota; `Some(secs)` to wait when over it.
    fn take_quota(&self, bearer: bool) -> Option<u64> {
        let mut c = self.control();
        let quota = c.quota?;
        let now = Instant::now();
        let end = match c.window_start.and_then(|s| s.checked_add(quota.window)) {
            Some(end) if now < end => end,
            _ => {
                c.window_start = Some(now);
                c.used = [0, 0];
                now.checked_add(quota.window).unwrap_or(now)
            }
        };
        let i = usize::from(bearer);
        c.used[i] = c.used[i].saturating_add(1);
        let limit = quota.requests.saturating_mul(if bearer { 10 } else { 1 });
        if c.used[i] <= limit {
            return None;
        }
        let left = end.saturating_duration_since(now);
        Some((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1))
    }
}

/// Keeps a request counted as in flight until it is answered or abandoned.
struct InFlight {
    shared: Arc<Shared>,
    seq: u64,
    endpoint: Endpoint,
    outcome: Outcome,
}

impl InFlight {
    fn begin(shared: &Arc<Shared>, incoming: Incoming) -> Self {
        let endpoint = incoming.endpoint;
        let record = RequestRecord {
            seq: 0,
            endpoint,
            path_and_query: incoming.path_and_query,
            project: incoming.project,
            day: incoming.day,
            titles: incoming.titles,
            user_agent: incoming.user_agent,
            authorization: incoming.authorization.is_some(),
            method: incoming.method,
            params: incoming.params,
            cookie: incoming.cookie,
            headers: incoming.headers,
            received_at: shared.started.elapsed(),
            finished_at: None,
            status: None,
            fault: None,
            throttled: false,
            api_error: None,
        };
        let seq = shared.control().log.begin(record);
        InFlight {
            shared: Arc::clone(shared),
            seq,
            endpoint,
            outcome: Outcome::default(),
        }
    }

    fn finish(&mut self, status: u16) {
        self.outcome.status = Some(status);
        self.outcome.finished_at = Some(self.shared.started.elapsed());
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let outcome = std::mem::take(&mut self.outcome);
        self.shared
            .control()
            .log
            .end(self.seq, self.endpoint, outcome);
    }
}

/// Runs one request through latency, quota and faults; `answer` builds the real reply
/// from the universe and what is published at that moment.
async fn serve(
    shared: Arc<Shared>,
    incoming: Incoming,
    answer: impl FnOnce(&Universe, &Published) -> Reply,
) -> Response {
    let endpoint = incoming.endpoint;
    let bearer = incoming
        .authorization
        .as_deref()
        .is_some_and(|a| a.len() > 7 && a[..7].eq_ignore_ascii_case("bearer "));
    let project = incoming.project.clone();
    let day = incoming.day;
    let too_long = incoming.path_and_query.len() > shared.max_request_target;
    let mut flight = InFlight::begin(&shared, incoming);
    if too_long {
        flight.finish(414);
        return Reply::uri_too_long().into_response();
    }

    let latency = shared.control().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(secs) = shared.take_quota(bearer) {
        flight.outcome.throttled = true;
        flight.finish(429);
        return Reply::too_many_requests(secs.to_string()).into_response();
    }
    let fault: Option<Fault> = shared
        .control()
        .faults
        .pick(endpoint, project.as_deref(), day);
    match fault {
        None => {
            let mut reply = answer(&shared.universe, &shared.published());
            if bearer {
                reply.headers.push((
                    "set-cookie",
                    format!("{SESSION_COOKIE}=s{}; Path=/; HttpOnly", flight.seq),
                ));
            }
            flight.outcome.api_error.clone_from(&reply.api_error);
            flight.finish(reply.status.as_u16());
            reply.into_response()
        }
        Some(fault) => {
            shared.control().log.note_fault(flight.seq, &fault);
            flight.outcome.fault = Some(fault.clone());
            let (status, response) = faults::inject(&fault, endpoint, || {
                answer(&shared.universe, &shared.published())
            })
            .await;
            flight.finish(status);
            response
        }
    }
}

// The handlers below take the request apart with axum's extractors, let the endpoint
// module read it, and run it through `serve`.

async fn top(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<pageviews::Segments>, PathRejection>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (incoming, answer) = pageviews::top(path, &uri, &headers);
    serve(shared, incoming, answer).await
}

async fn api(
    State(shared): State<Arc<Shared>>,
    host: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (incoming, answer) = action::get(host, query.as_deref(), &uri, &headers);
    serve(shared, incoming, answer).await
}

async fn api_post(
    State(shared): State<Arc<Shared>>,
    host: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (incoming, answer) = action::post(host, query.as_deref(), &body, &uri, &headers);
    serve(shared, incoming, answer).await
}

async fn other(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let incoming = Incoming::new(Endpoint::Other, &uri, &headers);
    let path = uri.path().to_owned();
    serve(shared, incoming, move |_, _| {
        pageviews::problem(StatusCode::NOT_FOUND, "not_found", "Not found.", "", &path)
    })
    .await
}
