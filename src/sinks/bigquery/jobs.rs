//! Query jobs: submit under a job id we choose, wait for the job, read its results.
//!
//! The client library's pollers do not fit an exactly-once write: they fail on a 409
//! or resubmit under a random job id, and `jobs.insert` is not retried by default. So
//! this module owns a short loop instead
//! (<https://cloud.google.com/bigquery/docs/error-messages>):
//! - `jobs.insert` is retried with the **same** job id on connection errors, 408, 429,
//!   5xx and `rateLimitExceeded`/`backendError`; when BigQuery answers 409 "already
//!   exists", the job was created by an earlier try whose answer was lost, and we wait
//!   for *that* job rather than run the statement twice;
//! - a finished job that failed changed nothing (a DML statement is atomic), so the
//!   next attempt goes under the next id (`…_2`, `…_3`): transient job errors are
//!   retried that way, and a later call with the same statement is not stuck on the
//!   failed job's id;
//! - a job failed only when its `status.errorResult` is set; `errors` without it (in
//!   the job or in `getQueryResults`) are warnings, logged and otherwise ignored;
//! - `jobs.insert` and `jobs.get` answer with the job's status only (a field mask), so
//!   polling does not download the statement's multi-megabyte parameters each time;
//!   `jobs.get` is polled with a growing interval; results are read page by page with
//!   `formatOptions.useInt64Timestamp`, so TIMESTAMPs are integer microseconds from
//!   BigQuery and from the emulator alike.

use std::time::{Duration, Instant};

use google_cloud_bigquery_v2::client::JobService;
use google_cloud_bigquery_v2::model::{
    DataFormatOptions, ErrorProto, GetQueryResultsResponse, Job, JobConfiguration,
    JobConfigurationQuery, JobReference, QueryParameter,
};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tracing::{debug, warn};

/// Tries of one API call on transient errors (the library has already retried
/// connection errors before the request was sent, and idempotent GETs on 503): with
/// the backoff below they span about a minute, as long as a table's update rate limit
/// ("too many table update operations", about 50 per 10 s) takes to clear.
const API_TRIES: u32 = 8;
/// First wait between API tries; doubled each time, with jitter.
const API_BACKOFF: Duration = Duration::from_millis(500);
const API_BACKOFF_MAX: Duration = Duration::from_secs(16);

/// Job ids tried for one statement: transient job failures and failed jobs left by an
/// earlier call each use one.
const JOB_ATTEMPTS: u32 = 8;
/// Polling `jobs.get`: from fast (small jobs finish in about a second) to a calm pace.
const POLL_FIRST: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);
/// A MERGE of a chunk takes seconds; a job queued behind others may wait minutes.
const JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);

/// The fields of a `Job` that `insert` and `get` ask for; this module reads no others.
/// Without a mask both answers echo the whole configuration, i.e. a chunk's rows
/// parameter of up to ~9 MB, on every poll. `X-Goog-FieldMask` is the header form of
/// the `fields` system parameter (<https://cloud.google.com/apis/docs/system-parameters>,
/// <https://cloud.google.com/bigquery/docs/api-performance#partial-response>).
pub(super) const JOB_STATUS_FIELDS: &str = "jobReference,status";

/// Job failure reasons BigQuery documents as transient.
const RETRYABLE_JOB_REASONS: &[&str] = &[
    "backendError",
    "internalError",
    "rateLimitExceeded",
    "jobBackendError",
    "jobInternalError",
    "jobRateLimitExceeded",
    "tableUnavailable",
];

/// Reasons of a refused call that the same call, a little later, may not meet: a
/// short-term rate limit (HTTP 403) and a temporary server failure (HTTP 5xx, at times
/// 403) in BigQuery's table of errors
/// (<https://cloud.google.com/bigquery/docs/error-messages>,
/// <https://cloud.google.com/bigquery/docs/troubleshoot-quotas>), and the rate limit's
/// name in `google.api.ErrorReason`, used when the answer has `details`.
const RETRYABLE_API_REASONS: &[&str] =
    &["rateLimitExceeded", "backendError", "RATE_LIMIT_EXCEEDED"];
/// Long-term quotas, also HTTP 403: BigQuery says to wait ten minutes or more, so these
/// are not retried within a run, and no role would help.
const QUOTA_REASONS: &[&str] = &["quotaExceeded", "RESOURCE_QUOTA_EXCEEDED"];
/// A 403 that the account's roles (or enabling the API) would cure.
const PERMISSION_REASONS: &[&str] = &["accessDenied", "IAM_PERMISSION_DENIED", "SERVICE_DISABLED"];

/// Why a BigQuery call or job did not succeed; becomes the source of a crate `Error`.
#[derive(Debug, thiserror::Error)]
pub(super) enum BqError {
    #[error("{hint}")]
    Api {
        hint: String,
        #[source]
        source: google_cloud_bigquery_v2::Error,
    },
    #[error("BigQuery job `{job_id}` failed ({reason}): {message}")]
    JobFailed {
        job_id: String,
        reason: String,
        message: String,
    },
    #[error("BigQuery job `{job_id}` is still not done after {} min", JOB_TIMEOUT.as_secs() / 60)]
    Timeout { job_id: String },
    #[error("unexpected answer from BigQuery for job `{job_id}`: {detail}")]
    Decode { job_id: String, detail: String },
}

impl BqError {
    /// The HTTP status of a refused API call, if that is what this is.
    pub(super) fn http_status(&self) -> Option<u16> {
        match self {
            BqError::Api { source, .. } => source.http_status_code(),
            _ => None,
        }
    }
}

/// What BigQuery said when it refused a call.
#[derive(Debug)]
struct Refusal {
    http: Option<u16>,
    /// The status, e.g. `PERMISSION_DENIED`, when the answer was an error body.
    code: Option<&'static str>,
    /// The reasons given, e.g. `rateLimitExceeded`.
    reasons: Vec<String>,
}

impl Refusal {
    /// Reads the reasons from the structured status the client library parsed. In
    /// google-cloud-gax 1.15 `src/error/rpc.rs` (`TryFrom<&Bytes> for Status`), a REST
    /// error body's `errors[]` become `ErrorInfo` details (`reason`, `domain`, the rest
    /// in `metadata`), but only when the body has no `details` of its own; then
    /// `errors[]` is dropped. google-cloud-gax-internal 0.7.21 `src/http.rs`
    /// (`to_http_error`) keeps the raw body (`http_payload`) only when it could not
    /// parse it at all, hence the fallback.
    fn of(e: &google_cloud_bigquery_v2::Error) -> Self {
        let status = e.status();
        let mut reasons = status
            .map(|s| error_info_reasons(&s.details))
            .unwrap_or_default();
        if reasons.is_empty() {
            reasons.extend(e.http_payload().and_then(|p| error_reason(p)));
        }
        Refusal {
            http: e.http_status_code(),
            code: status.map(|s| s.code.name()),
            reasons,
        }
    }

    fn has_any(&self, of: &[&str]) -> bool {
        self.reasons.iter().any(|r| of.contains(&r.as_str()))
    }

    /// Worth the same request again, after a pause.
    fn transient(&self) -> bool {
        match self.http {
            Some(408 | 429 | 500 | 502 | 503 | 504) => true,
            // BigQuery reports rate limits as 403 with a reason.
            Some(403) => self.has_any(RETRYABLE_API_REASONS),
            _ => false,
        }
    }

    /// A real permission denial, not a rate limit or a quota (both are 403s too).
    fn permission_denied(&self) -> bool {
        let unexplained =
            self.reasons.is_empty() && matches!(self.code, None | Some("PERMISSION_DENIED"));
        self.http == Some(403) && (self.has_any(PERMISSION_REASONS) || unexplained)
    }

    /// ` (reason `x`)`, or nothing.
    fn reason_note(&self) -> String {
        self.reasons
            .first()
            .map(|r| format!(" (reason `{r}`)"))
            .unwrap_or_default()
    }
}

/// A `details` entry as the client library serializes it: `@type` and, for an
/// `ErrorInfo`, its `reason`. The library's enum of details
/// (`google_cloud_gax::error::rpc::StatusDetails`) cannot be named here, since
/// google-cloud-gax is not a direct dependency; its JSON form is pinned by the
/// library's own test `serialization_all_variants`.
#[derive(serde::Deserialize)]
struct Detail {
    #[serde(rename = "@type", default)]
    kind: String,
    #[serde(default)]
    reason: String,
}

const ERROR_INFO: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// The reasons of the `ErrorInfo` entries among a status's `details`.
fn error_info_reasons(details: &impl serde::Serialize) -> Vec<String> {
    let details = serde_json::to_value(details).and_then(serde_json::from_value::<Vec<Detail>>);
    details
        .unwrap_or_default()
        .into_iter()
        .filter(|d| d.kind == ERROR_INFO && !d.reason.is_empty())
        .map(|d| d.reason)
        .collect()
}

/// The first `reason` of a raw BigQuery error body (`{"error":{"errors":[{"reason":…}]}}`).
fn error_reason(payload: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(payload).ok()?;
    body.pointer("/error/errors/0/reason")?
        .as_str()
        .map(str::to_owned)
}

/// Worth another try with the same request: the request may not have arrived, or
/// BigQuery said to come back later.
fn transient(e: &google_cloud_bigquery_v2::Error) -> bool {
    // A transport error with a status is an answer (e.g. a proxy's 404 page), not a
    // lost request; the status decides.
    let no_answer = e.is_io()
        || e.is_timeout()
        || e.is_connect()
        || (e.is_transport() && e.http_status_code().is_none());
    no_answer || Refusal::of(e).transient()
}

/// Turns a refused call into one sentence naming what to fix.
pub(super) fn api_error(
    project: &str,
    what: &str,
    source: google_cloud_bigquery_v2::Error,
) -> BqError {
    let hint = match source.http_status_code() {
        Some(_) => refusal_hint(&Refusal::of(&source), project, what),
        None if source.is_authentication() => {
            format!("could not get a Google Cloud access token while {what}: check the credentials")
        }
        None => format!("could not reach BigQuery while {what}"),
    };
    BqError::Api { hint, source }
}

fn refusal_hint(r: &Refusal, project: &str, what: &str) -> String {
    let reason = r.reason_note();
    match r.http {
        Some(401) => format!(
            "BigQuery refused the credentials while {what}: renew them \
             (`gcloud auth application-default login`) or fix GOOGLE_APPLICATION_CREDENTIALS"
        ),
        _ if r.transient() => format!(
            "BigQuery was still unavailable or rate-limited while {what} after {API_TRIES} \
             tries{reason}: run again later"
        ),
        Some(403) if r.has_any(QUOTA_REASONS) => format!(
            "BigQuery refused the request while {what}: a quota of project `{project}` is \
             used up{reason}; wait for it to refill or ask for more \
             (https://cloud.google.com/bigquery/docs/troubleshoot-quotas)"
        ),
        Some(403) if r.permission_denied() => format!(
            "BigQuery denied access while {what}{reason}: grant the account the roles \
             BigQuery Data Editor and BigQuery Job User on project `{project}`, and check \
             that the BigQuery API is enabled there"
        ),
        Some(404) => format!(
            "BigQuery found no such resource while {what}: check the project id `{project}` \
             and the dataset name"
        ),
        Some(400) => format!("BigQuery rejected the request while {what}{reason}"),
        Some(status) => format!("BigQuery answered HTTP {status} while {what}{reason}"),
        None => format!("BigQuery refused the request while {what}{reason}"),
    }
}

/// Runs `call` until it succeeds, fails for good, or has had `API_TRIES` tries.
pub(super) async fn retrying<T, F, Fut>(mut call: F) -> Result<T, google_cloud_bigquery_v2::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, google_cloud_bigquery_v2::Error>>,
{
    let mut wait = API_BACKOFF;
    let mut tries = 1;
    loop {
        // Boxed: the client's request futures are large, and every BigQuery call of the
        // sink nests one here; unboxed, an unoptimised build overflows a test thread's
        // 2 MiB stack while opening a dataset that needs migrating.
        match Box::pin(call()).await {
            Err(e) if tries < API_TRIES && transient(&e) => {
                let jittered = wait.mul_f64(0.5 + fastrand::f64());
                let reason = Refusal::of(&e)
                    .reasons
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                warn!(error = %e, reason, tries, wait_ms = jittered.as_millis() as u64, "BigQuery call failed; retrying.");
                tokio::time::sleep(jittered).await;
                wait = (wait * 2).min(API_BACKOFF_MAX);
                tries += 1;
            }
            other => return other,
        }
    }
}

/// Default headers for the client that submits and polls jobs: the field mask of
/// [`JOB_STATUS_FIELDS`]. The crate's request builders send no `fields` parameter,
/// and their per-call `with_custom_header` needs the trait
/// `google_cloud_gax::options::RequestOptionsBuilder`, not reachable without a direct
/// dependency on google-cloud-gax; a client's default headers are set with
/// `ClientBuilder::with_extension(HeaderMap)` (read by google-cloud-gax-internal
/// `src/http.rs`, `ReqwestClient::new`).
pub(super) fn job_status_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("x-goog-fieldmask"),
        HeaderValue::from_static(JOB_STATUS_FIELDS),
    );
    headers
}

/// Logs the `errors` of a job that did not fail: without `errorResult` they are
/// warnings, "the presence of errors does not necessarily mean that the job has not
/// completed or was unsuccessful"
/// (<https://cloud.google.com/bigquery/docs/reference/rest/v2/Job#JobStatus>).
fn warn_job_errors(job_id: &str, errors: &[ErrorProto]) {
    for e in errors {
        warn!(job_id, reason = %e.reason, location = %e.location, message = %e.message,
            "BigQuery reported a problem with a job that succeeded.");
    }
}

/// A finished job's failure, if it failed; the `errors` of one that did not are logged.
fn outcome<'a>(job_id: &str, job: &'a Job) -> Option<&'a ErrorProto> {
    let status = job.status.as_ref()?;
    if status.error_result.is_none() {
        warn_job_errors(job_id, &status.errors);
    }
    status.error_result.as_ref()
}

fn is_done(job: &Job) -> bool {
    job.status.as_ref().is_some_and(|s| s.state == "DONE")
}

/// A finished job's failure as an error.
fn failed(job_id: &str, e: &ErrorProto) -> BqError {
    BqError::JobFailed {
        job_id: job_id.to_owned(),
        reason: e.reason.clone(),
        message: e.message.clone(),
    }
}

/// Whether a failed job is worth running again (under the next id).
fn retryable_job_error(e: &ErrorProto) -> bool {
    RETRYABLE_JOB_REASONS.contains(&e.reason.as_str())
        // Two runs replacing the same days at once: the loser changed nothing.
        || e.message.contains("concurrent update")
        // A table's queue of mutating DML statements is full (20 at most): it drains as
        // the running ones finish (<https://cloud.google.com/bigquery/docs/troubleshoot-quotas>,
        // "Too many DML statements outstanding against table"); BigQuery gives it no
        // reason of its own.
        || e.message.contains("Too many DML statements outstanding")
}

/// The wait before a failed job's next attempt (1-based): exponential from
/// `API_BACKOFF`, capped at `API_BACKOFF_MAX`, so `JOB_ATTEMPTS` attempts span about a
/// minute, as long as a table's update rate limit (about 50 updates per 10 s) or a full
/// DML queue takes to clear.
fn job_backoff(attempt: u32) -> Duration {
    let doubled = API_BACKOFF.saturating_mul(1 << attempt.saturating_sub(1).min(16));
    doubled.min(API_BACKOFF_MAX).mul_f64(0.5 + fastrand::f64())
}

/// The result rows of a query, each `{"f":[{"v":…}]}`.
pub(super) type ResultRows = Vec<serde_json::Map<String, Value>>;

/// Submits and waits for query jobs in one project and location.
#[derive(Clone)]
pub(super) struct Jobs {
    /// Submits and polls; built with [`job_status_headers`], so its answers carry
    /// only [`JOB_STATUS_FIELDS`].
    client: JobService,
    /// Reads query results, which a mask on `Job` fields would hide.
    results_client: JobService,
    project: String,
    /// The dataset's location: jobs must run there, and `jobs.get` must name it
    /// outside the US and EU multi-regions.
    location: Option<String>,
}

impl Jobs {
    /// `client` must have been built with [`job_status_headers`]; `results_client`
    /// without them.
    pub(super) fn new(client: JobService, results_client: JobService, project: &str) -> Self {
        Jobs {
            client,
            results_client,
            project: project.to_owned(),
            location: None,
        }
    }

    pub(super) fn set_location(&mut self, location: Option<String>) {
        self.location = location.filter(|l| !l.is_empty());
    }

    /// Runs one statement exactly once under `{base_id}_{attempt}` and returns the
    /// finished job. Safe to call again with the same `base_id` and statement: a job
    /// that already succeeded is not run again.
    pub(super) async fn run(
        &self,
        base_id: &str,
        sql: &str,
        params: Vec<QueryParameter>,
    ) -> Result<Job, BqError> {
        let mut attempt = 1;
        loop {
            let job_id = format!("{base_id}_{attempt}");
            let (job, ours) = match self.insert(&job_id, sql, &params).await {
                Ok(job) => (job, true),
                Err(e) if e.http_status() == Some(409) => {
                    debug!(job_id, "Job already exists; waiting for it.");
                    (self.get(&job_id).await?, false)
                }
                Err(e) => return Err(e),
            };
            let job = self.wait(&job_id, job).await?;
            let Some(proto) = outcome(&job_id, &job) else {
                return Ok(job);
            };
            let error = failed(&job_id, proto);
            // A failed job changed nothing, so running the statement again is safe. One
            // left by an earlier call is simply in the way; one of ours is retried only
            // when BigQuery calls the failure transient.
            if attempt >= JOB_ATTEMPTS || (ours && !retryable_job_error(proto)) {
                return Err(error);
            }
            warn!(job_id, error = %error, "BigQuery job failed; trying again under the next id.");
            if ours {
                tokio::time::sleep(job_backoff(attempt)).await;
            }
            attempt += 1;
        }
    }

    /// Runs a query under a fresh id and returns all its rows.
    pub(super) async fn query(
        &self,
        what: &str,
        sql: &str,
        params: Vec<QueryParameter>,
    ) -> Result<ResultRows, BqError> {
        let base_id = format!("wikitop_query_{:016x}", fastrand::u64(..));
        let job = self.run(&base_id, sql, params).await?;
        let job_id = job
            .job_reference
            .as_ref()
            .map(|r| r.job_id.clone())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| BqError::Decode {
                job_id: base_id.clone(),
                detail: format!("no job reference in the answer while {what}"),
            })?;
        self.results(what, &job_id).await
    }

    async fn insert(
        &self,
        job_id: &str,
        sql: &str,
        params: &[QueryParameter],
    ) -> Result<Job, BqError> {
        let mut reference = JobReference::new()
            .set_project_id(&self.project)
            .set_job_id(job_id);
        if let Some(location) = &self.location {
            reference = reference.set_location(location);
        }
        let job = Job::new().set_job_reference(reference).set_configuration(
            JobConfiguration::new().set_query(
                JobConfigurationQuery::new()
                    .set_query(sql)
                    // The REST default is legacy SQL, which knows neither MERGE nor
                    // named parameters.
                    .set_use_legacy_sql(false)
                    .set_parameter_mode("NAMED")
                    .set_query_parameters(params.iter().cloned()),
            ),
        );
        retrying(|| {
            self.client
                .insert_job()
                .set_project_id(&self.project)
                .set_job(job.clone())
                .send()
        })
        .await
        .map_err(|e| {
            if e.http_status_code() == Some(409) {
                // Keep it recognisable for `run`; the hint is not shown.
                BqError::Api {
                    hint: format!("BigQuery job `{job_id}` already exists"),
                    source: e,
                }
            } else {
                api_error(&self.project, &format!("submitting job `{job_id}`"), e)
            }
        })
    }

    async fn get(&self, job_id: &str) -> Result<Job, BqError> {
        retrying(|| {
            self.client
                .get_job()
                .set_project_id(&self.project)
                .set_job_id(job_id)
                .set_location(self.location.clone().unwrap_or_default())
                .send()
        })
        .await
        .map_err(|e| api_error(&self.project, &format!("checking job `{job_id}`"), e))
    }

    /// Polls until the job is done (it may be already).
    async fn wait(&self, job_id: &str, mut job: Job) -> Result<Job, BqError> {
        let start = Instant::now();
        let mut interval = POLL_FIRST;
        while !is_done(&job) {
            if start.elapsed() > JOB_TIMEOUT {
                return Err(BqError::Timeout {
                    job_id: job_id.to_owned(),
                });
            }
            tokio::time::sleep(interval).await;
            interval = (interval * 2).min(POLL_MAX);
            job = self.get(job_id).await?;
        }
        Ok(job)
    }

    /// Reads every page of a finished query's results.
    async fn results(&self, what: &str, job_id: &str) -> Result<ResultRows, BqError> {
        let mut rows = ResultRows::new();
        let mut page_token = String::new();
        let mut interval = POLL_FIRST;
        loop {
            let page = self.results_page(what, job_id, &page_token).await?;
            if page.job_complete == Some(false) {
                // Cannot happen after `wait`, but the API allows it: ask again.
                tokio::time::sleep(interval).await;
                interval = (interval * 2).min(POLL_MAX);
                continue;
            }
            let first = page_token.is_empty();
            match take_page(job_id, page, first, &mut rows) {
                Some(next) => page_token = next,
                None => return Ok(rows),
            }
        }
    }

    async fn results_page(
        &self,
        what: &str,
        job_id: &str,
        page_token: &str,
    ) -> Result<GetQueryResultsResponse, BqError> {
        retrying(|| {
            self.results_client
                .get_query_results()
                .set_project_id(&self.project)
                .set_job_id(job_id)
                .set_location(self.location.clone().unwrap_or_default())
                .set_page_token(page_token)
                .set_format_options(DataFormatOptions::new().set_use_int64_timestamp(true))
                .send()
        })
        .await
        .map_err(|e| api_error(&self.project, what, e))
    }
}

/// Adds a page's rows to `rows` and returns the next page's token, if any. A page's
/// `errors` are the job's "errors or warnings", which "do not necessarily mean that
/// the job has completed or was unsuccessful"
/// (<https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs/getQueryResults>);
/// `run` has already seen that the job has no `errorResult`, so they are logged, with
/// the first page only since every page repeats them.
fn take_page(
    job_id: &str,
    page: GetQueryResultsResponse,
    first: bool,
    rows: &mut ResultRows,
) -> Option<String> {
    if first {
        warn_job_errors(job_id, &page.errors);
    }
    rows.extend(page.rows);
    Some(page.page_token).filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use google_cloud_bigquery_v2::Error;
    use google_cloud_bigquery_v2::model::JobStatus;
    use serde_json::json;

    use super::*;

    /// A refused call as the client library builds it from an HTTP answer
    /// (google-cloud-gax-internal 0.7.21 `src/http.rs`, `to_http_error`).
    fn refused(http: u16, body: &str) -> Error {
        let body = axum::body::Bytes::copy_from_slice(body.as_bytes());
        match TryFrom::try_from(&body) {
            Ok(status) => Error::service_with_http_metadata(status, Some(http), None),
            Err(_) => Error::http(http, HeaderMap::new(), body),
        }
    }

    /// A BigQuery error body of the shape in
    /// <https://cloud.google.com/bigquery/docs/troubleshoot-quotas>.
    fn body(code: u16, status: &str, reason: &str, message: &str) -> String {
        json!({"error": {
            "code": code,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status,
        }})
        .to_string()
    }

    fn rate_limited() -> Error {
        let message = "Exceeded rate limits: too many table dml insert operations for this table.";
        refused(
            403,
            &body(403, "PERMISSION_DENIED", "rateLimitExceeded", message),
        )
    }

    fn access_denied() -> Error {
        let message = "Access Denied: Project p: User does not have bigquery.jobs.create \
                       permission in project p.";
        refused(
            403,
            &body(403, "PERMISSION_DENIED", "accessDenied", message),
        )
    }

    fn backend_error() -> Error {
        let message = "An internal error occurred and the request could not be completed.";
        refused(500, &body(500, "INTERNAL", "backendError", message))
    }

    fn quota_exceeded() -> Error {
        let message = "Quota exceeded: Your project exceeded quota for free query bytes scanned.";
        refused(
            403,
            &body(403, "PERMISSION_DENIED", "quotaExceeded", message),
        )
    }

    #[test]
    fn reasons_come_from_the_structured_status() {
        let e = rate_limited();
        assert!(e.status().is_some(), "{e:?}");
        assert!(
            e.http_payload().is_none(),
            "the library keeps no raw body: {e:?}"
        );
        let refusal = Refusal::of(&e);
        assert_eq!(refusal.http, Some(403));
        assert_eq!(refusal.code, Some("PERMISSION_DENIED"));
        assert_eq!(refusal.reasons, ["rateLimitExceeded"]);
    }

    #[test]
    fn details_of_the_body_replace_its_legacy_errors() {
        let body = json!({"error": {
            "code": 403,
            "message": "Quota exceeded.",
            "errors": [{"message": "Quota exceeded.", "domain": "usageLimits", "reason": "rateLimitExceeded"}],
            "status": "PERMISSION_DENIED",
            "details": [{"@type": ERROR_INFO, "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com"}],
        }});
        let refusal = Refusal::of(&refused(403, &body.to_string()));
        assert_eq!(refusal.reasons, ["RATE_LIMIT_EXCEEDED"]);
        assert!(refusal.transient());
    }

    #[test]
    fn an_unparsed_body_is_read_as_a_fallback() {
        // `code` as a string: the library's parser refuses it and keeps the body.
        let odd = r#"{"error":{"code":"403","errors":[{"reason":"rateLimitExceeded"}]}}"#;
        let e = refused(403, odd);
        assert!(e.status().is_none() && e.http_payload().is_some(), "{e:?}");
        assert!(transient(&e));
        assert_eq!(error_reason(b"<html>"), None);
    }

    #[test]
    fn rate_limits_and_backend_errors_are_retried() {
        assert!(transient(&rate_limited()));
        assert!(transient(&backend_error()));
        assert!(transient(&refused(503, "<html>Service Unavailable</html>")));
        assert!(transient(&refused(429, "")));
        assert!(!transient(&access_denied()));
        assert!(!transient(&quota_exceeded()));
        assert!(!transient(&refused(
            400,
            &body(400, "INVALID_ARGUMENT", "invalidQuery", "Syntax error")
        )));
        assert!(!transient(&refused(
            409,
            &body(409, "ALREADY_EXISTS", "duplicate", "Already Exists")
        )));
        // A proxy's error page is an answer, not a lost request.
        assert!(!transient(&refused(404, "<html>Not Found</html>")));
    }

    #[test]
    fn only_a_permission_denial_asks_for_roles() {
        let hint = |e: Error| api_error("my-project", "submitting job `j`", e).to_string();
        let denied = hint(access_denied());
        assert!(denied.contains("grant the account the roles"), "{denied}");
        assert!(denied.contains("accessDenied"), "{denied}");
        let unexplained = hint(refused(403, "<html>Forbidden</html>"));
        assert!(unexplained.contains("roles"), "{unexplained}");
        let limited = hint(rate_limited());
        assert!(!limited.contains("roles"), "{limited}");
        assert!(
            limited.contains("rate-limited") && limited.contains("rateLimitExceeded"),
            "{limited}"
        );
        let backend = hint(backend_error());
        assert!(
            !backend.contains("roles") && backend.contains("backendError"),
            "{backend}"
        );
        let quota = hint(quota_exceeded());
        assert!(
            !quota.contains("roles") && quota.contains("quota"),
            "{quota}"
        );
    }

    #[test]
    fn warnings_are_not_failures() {
        let warning = ErrorProto::new()
            .set_reason("invalid")
            .set_message("Field `x` is deprecated");
        let done = |status: JobStatus| Job::new().set_status(status.set_state("DONE"));
        let warned = done(JobStatus::new().set_errors([warning.clone()]));
        assert!(outcome("j", &warned).is_none());
        let failure = ErrorProto::new()
            .set_reason("invalidQuery")
            .set_message("Syntax error");
        let failed_job = done(
            JobStatus::new()
                .set_errors([failure.clone(), warning.clone()])
                .set_error_result(failure),
        );
        assert_eq!(
            outcome("j", &failed_job).map(|e| e.reason.as_str()),
            Some("invalidQuery")
        );

        let row = serde_json::Map::from_iter([("f".to_owned(), json!([{"v": "1"}]))]);
        let page = GetQueryResultsResponse::new()
            .set_errors([warning])
            .set_rows([row.clone()])
            .set_page_token("next");
        let mut rows = ResultRows::new();
        assert_eq!(
            take_page("j", page, true, &mut rows).as_deref(),
            Some("next")
        );
        assert_eq!(rows, [row]);
    }

    #[test]
    fn transient_job_failures() {
        let e =
            |reason: &str, message: &str| ErrorProto::new().set_reason(reason).set_message(message);
        assert!(retryable_job_error(&e("backendError", "")));
        assert!(retryable_job_error(&e(
            "invalidQuery",
            "Could not serialize access to table x due to concurrent update"
        )));
        assert!(!retryable_job_error(&e("invalidQuery", "Syntax error")));
        // BigQuery's words for a table's update rate limit and a full DML queue.
        assert!(retryable_job_error(&e(
            "rateLimitExceeded",
            "Exceeded rate limits: too many table update operations for this table."
        )));
        assert!(retryable_job_error(&e(
            "invalidQuery",
            "Resources exceeded during query execution: Too many DML statements outstanding \
             against table p:d.top_pages, limit is 20."
        )));
    }

    /// A failed job's attempts, and a refused call's tries, wait about a minute in all:
    /// long enough for a table's update rate limit or a full DML queue to clear.
    #[test]
    fn retries_span_about_a_minute() {
        let jobs: f64 = (1..JOB_ATTEMPTS)
            .map(|a| job_backoff(a).as_secs_f64())
            .sum();
        assert!((20.0..=120.0).contains(&jobs), "{jobs} s");
        let mut wait = API_BACKOFF;
        let mut calls = Duration::ZERO;
        for _ in 1..API_TRIES {
            calls += wait;
            wait = (wait * 2).min(API_BACKOFF_MAX);
        }
        assert!((40..=90).contains(&calls.as_secs()), "{calls:?}");
    }
}
