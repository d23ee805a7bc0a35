//! A thin HTTP proxy in front of the BigQuery emulator that behaves like BigQuery where
//! the emulator does not, and injects the failures the contract suite needs.
//!
//! - A `jobs.insert` whose job id was already forwarded is answered with BigQuery's real
//!   409 body instead of being passed on: bqemulator would simply run the job again with
//!   200, and a test of "a retried chunk runs once" would pass for the wrong reason.
//! - `drop_next_merge_response`: the next MERGE submission reaches the emulator (the job
//!   runs), but the client's connection is cut before it reads the answer, as when a
//!   response is lost on the way; the client must retry with the same job id.
//! - `fail_next_merge`: the next MERGE's `@rows` gets an impossible date in its middle
//!   row, so the job fails at run time, part-way through the chunk.
//!
//! - `rate_limit_next_merge`: the next MERGE submission is refused with BigQuery's 403
//!   `rateLimitExceeded` body and not passed on, as BigQuery does past a table's DML
//!   rate limit (<https://cloud.google.com/bigquery/docs/troubleshoot-quotas>).
//! - An `X-Goog-FieldMask` of top-level fields is applied to the JSON answer, as
//!   BigQuery does (the emulator ignores it), so a client that asks for too little
//!   fails here too; the masks sent with `jobs.insert` and `jobs.get` are logged.
//!
//! - `set_down`: every request answered 503, as a warehouse that went away mid-run.
//!
//! - Table updates are rate-limited per table as BigQuery does: past
//!   [`TABLE_UPDATES_PER_WINDOW`] updates (`tables.patch`/`tables.update` and DDL jobs)
//!   within [`TABLE_UPDATE_WINDOW`], the next is refused with the real 403 "too many table
//!   update operations" body (<https://cloud.google.com/bigquery/docs/troubleshoot-quotas>).
//! - Etags: every table resource answered carries the shim's etag for that table, which
//!   changes with each patch and DDL job on it; a patch whose `If-Match` names another
//!   is refused with 412 as BigQuery does (googleapis/python-bigquery#772, "Precondition
//!   check failed"): the emulator keeps no etags. `change_before_next_patch` changes a
//!   table's etag just before its next patch arrives, as another writer would.
//!
//! Everything else is forwarded unchanged.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Bodies of a MERGE of a month of days are a few MB.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// Table updates BigQuery allows per table within [`TABLE_UPDATE_WINDOW`]: issue 20's
/// "about 50 per 10 s" for "too many table update operations"
/// (<https://cloud.google.com/bigquery/docs/troubleshoot-quotas>).
pub const TABLE_UPDATES_PER_WINDOW: usize = 50;
pub const TABLE_UPDATE_WINDOW: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Faults {
    drop_next_merge_response: bool,
    fail_next_merge: bool,
    rate_limit_next_merge: bool,
    /// Every request answered 503, as a warehouse that went away.
    down: bool,
    /// Tables whose etag changes just before their next patch.
    change_before_next_patch: Vec<String>,
}

/// What the shim keeps of each table (keyed `dataset.table`).
#[derive(Default)]
struct TableState {
    /// Bumped by every patch and DDL job; the etag is derived from it.
    generation: u64,
    /// When each recent update happened, for the rate limit.
    updates: VecDeque<Instant>,
}

impl TableState {
    fn etag(&self, key: &str) -> String {
        format!("\"shim/{key}/{}\"", self.generation)
    }

    /// Counts an update; `false` when it is past the rate limit (and not counted).
    fn admit_update(&mut self, now: Instant) -> bool {
        while self
            .updates
            .front()
            .is_some_and(|t| now.duration_since(*t) >= TABLE_UPDATE_WINDOW)
        {
            self.updates.pop_front();
        }
        if self.updates.len() >= TABLE_UPDATES_PER_WINDOW {
            return false;
        }
        self.updates.push_back(now);
        true
    }
}

#[derive(Default)]
struct Log {
    /// `jobs.insert` requests passed on to the emulator, per job id.
    forwarded: HashMap<String, usize>,
    /// `jobs.insert` requests answered 409 by the shim, per job id.
    conflicts: HashMap<String, usize>,
    /// Job ids of the MERGE statements passed on, in order.
    merges: Vec<String>,
    /// MERGE submissions refused with 403 `rateLimitExceeded`.
    rate_limited: usize,
    /// The `X-Goog-FieldMask` of each `jobs.insert` and `jobs.get` ("" if none).
    job_field_masks: Vec<String>,
    /// DDL statements (`ALTER TABLE …`) passed on, in order.
    ddl: Vec<String>,
    /// Table patches passed on: (`dataset.table`, sent with `If-Match`).
    patches: Vec<(String, bool)>,
    /// Patches refused with 412 for a stale `If-Match`.
    stale_patches: usize,
    /// Table updates refused with 403 for the rate limit.
    table_updates_limited: usize,
    /// Tables created (`tables.insert` answered 200), by `dataset.table`.
    tables_created: Vec<String>,
}

#[derive(Default)]
struct Shared {
    faults: Faults,
    log: Log,
    tables: HashMap<String, TableState>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    client: reqwest::Client,
    shared: Arc<Mutex<Shared>>,
}

impl Proxy {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panicking test thread must not hide the log from the others.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Switches a running shim; cheap to clone, `Send`.
#[derive(Clone)]
pub struct Control(Proxy);

impl Control {
    pub fn set_down(&self, down: bool) {
        self.0.lock().faults.down = down;
    }

    pub fn merges_forwarded(&self) -> usize {
        self.0.lock().log.merges.len()
    }
}

/// The running shim; stopped when dropped.
pub struct BqShim {
    pub endpoint: String,
    proxy: Proxy,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BqShim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl BqShim {
    /// Starts the shim on 127.0.0.1 (a free port) in front of `upstream`.
    pub async fn start(upstream: &str) -> BqShim {
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            shared: Arc::default(),
        };
        let app = Router::new().fallback(forward).with_state(proxy.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the shim on 127.0.0.1");
        let endpoint = format!("http://{}", listener.local_addr().expect("shim address"));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve the shim");
        });
        BqShim {
            endpoint,
            proxy,
            task,
        }
    }

    pub fn drop_next_merge_response(&self) {
        self.proxy.lock().faults.drop_next_merge_response = true;
    }

    /// While down, every request gets 503 and nothing reaches the emulator.
    pub fn set_down(&self, down: bool) {
        self.control().set_down(down);
    }

    /// A handle that can switch the shim from another task.
    pub fn control(&self) -> Control {
        Control(self.proxy.clone())
    }

    pub fn fail_next_merge(&self) {
        self.proxy.lock().faults.fail_next_merge = true;
    }

    pub fn rate_limit_next_merge(&self) {
        self.proxy.lock().faults.rate_limit_next_merge = true;
    }

    /// The next patch of `table` (`dataset.table`) finds its etag changed.
    pub fn change_before_next_patch(&self, table: &str) {
        let faults = &mut self.proxy.lock().faults;
        faults.change_before_next_patch.push(table.to_owned());
    }

    /// DDL statements passed on to the emulator, in order.
    pub fn ddl(&self) -> Vec<String> {
        self.proxy.lock().log.ddl.clone()
    }

    /// Table patches passed on: (`dataset.table`, sent with `If-Match`).
    pub fn patches(&self) -> Vec<(String, bool)> {
        self.proxy.lock().log.patches.clone()
    }

    /// Patches refused with 412 for a stale etag.
    pub fn stale_patches(&self) -> usize {
        self.proxy.lock().log.stale_patches
    }

    /// Table updates refused with 403 for the per-table rate limit.
    pub fn table_updates_limited(&self) -> usize {
        self.proxy.lock().log.table_updates_limited
    }

    /// Tables created through the shim (`dataset.table`), in order.
    pub fn tables_created(&self) -> Vec<String> {
        self.proxy.lock().log.tables_created.clone()
    }

    /// How many MERGE submissions the shim refused for the rate limit.
    pub fn rate_limited(&self) -> usize {
        self.proxy.lock().log.rate_limited
    }

    /// The field mask sent with each `jobs.insert` and `jobs.get`, in order.
    pub fn job_field_masks(&self) -> Vec<String> {
        self.proxy.lock().log.job_field_masks.clone()
    }

    /// Job ids of the MERGE statements the emulator received, in order.
    pub fn merges(&self) -> Vec<String> {
        self.proxy.lock().log.merges.clone()
    }

    /// How many times `jobs.insert` for `job_id` reached the emulator.
    pub fn forwarded(&self, job_id: &str) -> usize {
        self.proxy
            .lock()
            .log
            .forwarded
            .get(job_id)
            .copied()
            .unwrap_or(0)
    }

    /// How many times the shim answered 409 for `job_id`.
    pub fn conflicts(&self, job_id: &str) -> usize {
        self.proxy
            .lock()
            .log
            .conflicts
            .get(job_id)
            .copied()
            .unwrap_or(0)
    }

    /// Every job id forwarded more than once: always empty with a correct client.
    pub fn forwarded_twice(&self) -> Vec<String> {
        let log = &self.proxy.lock().log;
        log.forwarded
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

/// BigQuery's answer to a `jobs.insert` with a job id that exists.
fn already_exists(project: &str, location: &str, job_id: &str) -> Response {
    let message = format!("Already Exists: Job {project}:{location}.{job_id}");
    let body = json!({"error": {
        "code": 409,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": "duplicate"}],
        "status": "ALREADY_EXISTS",
    }});
    (
        StatusCode::CONFLICT,
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

/// BigQuery's answer to a DML statement past the table's rate limit: HTTP 403, the
/// reason only in `errors[]` (<https://cloud.google.com/bigquery/docs/troubleshoot-quotas>,
/// <https://cloud.google.com/bigquery/docs/error-messages>).
fn rate_limit_exceeded() -> Response {
    let message = "Exceeded rate limits: too many table dml insert operations for this \
                   table. For more information, see \
                   https://cloud.google.com/bigquery/docs/troubleshoot-quotas";
    let body = json!({"error": {
        "code": 403,
        "message": message,
        "errors": [{"message": message, "domain": "usageLimits", "reason": "rateLimitExceeded"}],
        "status": "PERMISSION_DENIED",
    }});
    (
        StatusCode::FORBIDDEN,
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

/// BigQuery's answer to a table update past the table's rate limit: HTTP 403,
/// `rateLimitExceeded`, "too many table update operations for this table"
/// (<https://cloud.google.com/bigquery/docs/troubleshoot-quotas>, which quotes the
/// message; the body's shape as in [`rate_limit_exceeded`]).
fn table_update_rate_limited() -> Response {
    let message = "Exceeded rate limits: too many table update operations for this table. \
                   For more information, see \
                   https://cloud.google.com/bigquery/docs/troubleshoot-quotas";
    let body = json!({"error": {
        "code": 403,
        "message": message,
        "errors": [{"message": message, "domain": "usageLimits", "reason": "rateLimitExceeded"}],
        "status": "PERMISSION_DENIED",
    }});
    (
        StatusCode::FORBIDDEN,
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

/// BigQuery's answer to a patch whose `If-Match` is not the table's etag: HTTP 412
/// "Precondition check failed." (googleapis/python-bigquery#772; the reason is Google
/// APIs' `conditionNotMet`).
fn precondition_failed() -> Response {
    let message = "Precondition check failed.";
    let body = json!({"error": {
        "code": 412,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": "conditionNotMet"}],
        "status": "FAILED_PRECONDITION",
    }});
    (
        StatusCode::PRECONDITION_FAILED,
        [("content-type", "application/json; charset=UTF-8")],
        body.to_string(),
    )
        .into_response()
}

/// `/bigquery/v2/projects/{p}/datasets/{d}/tables/{t}` → `d.t`.
fn table_key(path: &str) -> Option<String> {
    let rest = path.strip_prefix("/bigquery/v2/projects/")?;
    match rest.split('/').collect::<Vec<_>>().as_slice() {
        [_, "datasets", d, "tables", t] => Some(format!("{d}.{t}")),
        _ => None,
    }
}

/// `POST /bigquery/v2/projects/{p}/datasets/{d}/tables`: `tables.insert`.
fn is_table_insert(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/bigquery/v2/projects/") else {
        return false;
    };
    method == Method::POST
        && matches!(
            rest.split('/').collect::<Vec<_>>().as_slice(),
            [_, "datasets", _, "tables"]
        )
}

/// The table an `ALTER TABLE \`p.d.t\` …` statement changes, as `d.t`.
fn ddl_table(query: &str) -> Option<String> {
    let rest = query.trim_start().strip_prefix("ALTER TABLE ")?;
    let name = rest.trim_start().strip_prefix('`')?.split('`').next()?;
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        [_, d, t] => Some(format!("{d}.{t}")),
        _ => None,
    }
}

/// Stamps a table resource in an answer with the shim's etag for it.
fn set_etag(shared: &mut Shared, body: Bytes) -> Bytes {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let reference = &object["tableReference"];
    let (Some(d), Some(t)) = (
        reference["datasetId"].as_str(),
        reference["tableId"].as_str(),
    ) else {
        return body;
    };
    let key = format!("{d}.{t}");
    let etag = shared.tables.entry(key.clone()).or_default().etag(&key);
    object.insert("etag".into(), json!(etag));
    Bytes::from(Value::Object(object).to_string())
}

/// A `tables.patch` or `tables.update`: refused when its `If-Match` is stale or the
/// table is past its update rate; otherwise counted, logged and let through.
fn admit_patch(proxy: &Proxy, key: &str, if_match: Option<&str>) -> Option<Response> {
    let mut shared = proxy.lock();
    let Shared {
        faults,
        log,
        tables,
    } = &mut *shared;
    let state = tables.entry(key.to_owned()).or_default();
    if let Some(i) = faults
        .change_before_next_patch
        .iter()
        .position(|t| t == key)
    {
        faults.change_before_next_patch.remove(i);
        state.generation += 1;
    }
    if if_match.is_some_and(|m| m != state.etag(key)) {
        log.stale_patches += 1;
        return Some(precondition_failed());
    }
    if !state.admit_update(Instant::now()) {
        log.table_updates_limited += 1;
        return Some(table_update_rate_limited());
    }
    state.generation += 1;
    log.patches.push((key.to_owned(), if_match.is_some()));
    None
}

/// `jobs.insert` or `jobs.get`: the calls that answer with a `Job`.
fn is_job_call(method: &Method, path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/bigquery/v2/projects/") else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        [_, "jobs"] => method == Method::POST,
        [_, "jobs", _] => method == Method::GET,
        _ => false,
    }
}

/// Keeps the fields a mask of top-level names (all wikitop sends) lists; an answer
/// that is not a JSON object is returned as it is.
fn apply_field_mask(mask: &str, body: Bytes) -> Bytes {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    let keep: Vec<&str> = mask.split(',').map(str::trim).collect();
    object.retain(|name, _| keep.contains(&name.as_str()));
    Bytes::from(Value::Object(object).to_string())
}

/// `POST /bigquery/v2/projects/{project}/jobs` → the project.
fn jobs_insert_project(method: &Method, path: &str) -> Option<String> {
    if method != Method::POST {
        return None;
    }
    let rest = path.strip_prefix("/bigquery/v2/projects/")?;
    let (project, tail) = rest.split_once('/')?;
    (tail == "jobs").then(|| project.to_owned())
}

/// Replaces the date of the middle row of `@rows` with one that does not exist.
fn corrupt_rows(job: &mut Value) -> bool {
    let Some(params) = job
        .pointer_mut("/configuration/query/queryParameters")
        .and_then(Value::as_array_mut)
    else {
        return false;
    };
    for param in params {
        if param["name"] != "rows" {
            continue;
        }
        let Some(text) = param
            .pointer("/parameterValue/value")
            .and_then(Value::as_str)
        else {
            return false;
        };
        let Ok(Value::Array(mut rows)) = serde_json::from_str::<Value>(text) else {
            return false;
        };
        if rows.is_empty() {
            return false;
        }
        let middle = rows.len() / 2;
        rows[middle]["date"] = json!("2023-02-30");
        param["parameterValue"]["value"] = json!(Value::Array(rows).to_string());
        return true;
    }
    false
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    if proxy.lock().faults.down {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "shim: the warehouse is down",
        )
            .into_response();
    }
    let (parts, body) = request.into_parts();
    let Ok(mut body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "shim: body too large").into_response();
    };
    let path_and_query = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let field_mask = parts
        .headers
        .get("x-goog-fieldmask")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if is_job_call(&parts.method, parts.uri.path()) {
        let logged = field_mask.clone().unwrap_or_default();
        proxy.lock().log.job_field_masks.push(logged);
    }
    let table = table_key(parts.uri.path());
    if let Some(key) = &table
        && matches!(parts.method, Method::PATCH | Method::PUT)
    {
        let if_match = parts.headers.get("if-match").and_then(|v| v.to_str().ok());
        if let Some(refused) = admit_patch(&proxy, key, if_match) {
            return refused;
        }
    }
    let mut drop_response = false;
    let mut inserted = None;
    if let Some(project) = jobs_insert_project(&parts.method, parts.uri.path())
        && let Ok(mut job) = serde_json::from_slice::<Value>(&body)
    {
        let job_id = job
            .pointer("/jobReference/jobId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let location = job
            .pointer("/jobReference/location")
            .and_then(Value::as_str)
            .unwrap_or("US")
            .to_owned();
        let is_merge = job
            .pointer("/configuration/query/query")
            .and_then(Value::as_str)
            .is_some_and(|q| q.trim_start().starts_with("MERGE"));
        let mut shared = proxy.lock();
        if !job_id.is_empty() && shared.log.forwarded.contains_key(&job_id) {
            *shared.log.conflicts.entry(job_id.clone()).or_default() += 1;
            return already_exists(&project, &location, &job_id);
        }
        if let Some(key) = job
            .pointer("/configuration/query/query")
            .and_then(Value::as_str)
            .and_then(ddl_table)
        {
            let state = shared.tables.entry(key).or_default();
            if !state.admit_update(Instant::now()) {
                shared.log.table_updates_limited += 1;
                return table_update_rate_limited();
            }
            state.generation += 1;
            let statement = job["configuration"]["query"]["query"]
                .as_str()
                .unwrap_or_default();
            shared.log.ddl.push(statement.to_owned());
        }
        if is_merge && shared.faults.rate_limit_next_merge {
            shared.faults.rate_limit_next_merge = false;
            shared.log.rate_limited += 1;
            return rate_limit_exceeded();
        }
        if is_merge && shared.faults.fail_next_merge && corrupt_rows(&mut job) {
            shared.faults.fail_next_merge = false;
            body = Bytes::from(job.to_string());
        }
        if is_merge && shared.faults.drop_next_merge_response {
            shared.faults.drop_next_merge_response = false;
            drop_response = true;
        }
        if is_merge {
            shared.log.merges.push(job_id.clone());
        }
        inserted = Some(job_id);
    }

    let mut headers = HeaderMap::new();
    for (name, value) in &parts.headers {
        // The etag was checked here, against the shim's own.
        if !matches!(
            name.as_str(),
            "host" | "content-length" | "connection" | "if-match"
        ) {
            headers.append(name.clone(), value.clone());
        }
    }
    let upstream = proxy
        .client
        .request(
            parts.method.clone(),
            format!("{}{path_and_query}", proxy.upstream),
        )
        .headers(headers)
        .body(body)
        .send()
        .await;
    let upstream = match upstream {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("shim: upstream failed: {e}"),
            )
                .into_response();
        }
    };
    if let Some(job_id) = inserted
        && !job_id.is_empty()
    {
        *proxy.lock().log.forwarded.entry(job_id).or_default() += 1;
    }
    let status = upstream.status();
    let mut response_headers = HeaderMap::new();
    for (name, value) in upstream.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            response_headers.append(name.clone(), value.clone());
        }
    }
    let mut bytes = upstream.bytes().await.unwrap_or_default();
    let table_call = table.is_some() || is_table_insert(&parts.method, parts.uri.path());
    if table_call && status.is_success() {
        let mut shared = proxy.lock();
        if parts.method == Method::DELETE
            && let Some(key) = &table
        {
            // A table created again under the name is another table.
            shared.tables.entry(key.clone()).or_default().generation += 1;
        }
        if parts.method == Method::POST {
            let created = serde_json::from_slice::<Value>(&bytes).ok().and_then(|v| {
                let r = &v["tableReference"];
                Some(format!(
                    "{}.{}",
                    r["datasetId"].as_str()?,
                    r["tableId"].as_str()?
                ))
            });
            shared.log.tables_created.extend(created);
        }
        bytes = set_etag(&mut shared, bytes);
    }
    if let Some(mask) = &field_mask
        && status.is_success()
    {
        bytes = apply_field_mask(mask, bytes);
    }
    if drop_response {
        // The job exists now; cut the connection in the middle of the answer.
        let failing = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::other("shim: response dropped"))
        });
        return (status, response_headers, Body::from_stream(failing)).into_response();
    }
    (status, response_headers, bytes).into_response()
}
