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
//! - `jobs.get` is polled with a growing interval; results are read page by page with
//!   `formatOptions.useInt64Timestamp`, so TIMESTAMPs are integer microseconds from
//!   BigQuery and from the emulator alike.

use std::time::{Duration, Instant};

use google_cloud_bigquery_v2::client::JobService;
use google_cloud_bigquery_v2::model::{
    DataFormatOptions, ErrorProto, Job, JobConfiguration, JobConfigurationQuery, JobReference,
    QueryParameter,
};
use serde_json::Value;
use tracing::{debug, warn};

/// Tries of one API call on transient errors (the library has already retried
/// connection errors before the request was sent, and idempotent GETs on 503).
const API_TRIES: u32 = 6;
/// First wait between API tries; doubled each time, with jitter.
const API_BACKOFF: Duration = Duration::from_millis(500);
const API_BACKOFF_MAX: Duration = Duration::from_secs(16);

/// Job ids tried for one statement: transient job failures and failed jobs left by an
/// earlier call each use one.
const JOB_ATTEMPTS: u32 = 5;
/// Polling `jobs.get`: from fast (small jobs finish in about a second) to a calm pace.
const POLL_FIRST: Duration = Duration::from_millis(100);
const POLL_MAX: Duration = Duration::from_secs(2);
/// A MERGE of a chunk takes seconds; a job queued behind others may wait minutes.
const JOB_TIMEOUT: Duration = Duration::from_secs(30 * 60);

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
    pub fn http_status(&self) -> Option<u16> {
        match self {
            BqError::Api { source, .. } => source.http_status_code(),
            _ => None,
        }
    }
}

/// The first `reason` of BigQuery's error body (`{"error":{"errors":[{"reason":…}]}}`).
fn error_reason(payload: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(payload).ok()?;
    body.pointer("/error/errors/0/reason")?
        .as_str()
        .map(str::to_owned)
}

/// Worth another try with the same request: the request may not have arrived, or
/// BigQuery said to come back later.
fn transient(e: &google_cloud_bigquery_v2::Error) -> bool {
    e.is_io()
        || e.is_timeout()
        || e.is_connect()
        || e.is_transport()
        || e.http_status_code().is_some_and(|status| {
            transient_status(
                status,
                e.http_payload().and_then(|p| error_reason(p)).as_deref(),
            )
        })
}

fn transient_status(status: u16, reason: Option<&str>) -> bool {
    match status {
        408 | 429 | 500 | 502 | 503 | 504 => true,
        // BigQuery reports rate limits as 403 with this reason.
        403 => matches!(reason, Some("rateLimitExceeded" | "backendError")),
        _ => false,
    }
}

/// Turns a refused call into one sentence naming what to fix.
pub(super) fn api_error(
    project: &str,
    what: &str,
    source: google_cloud_bigquery_v2::Error,
) -> BqError {
    let hint = match source.http_status_code() {
        Some(401) => format!(
            "BigQuery refused the credentials while {what}: renew them \
             (`gcloud auth application-default login`) or fix GOOGLE_APPLICATION_CREDENTIALS"
        ),
        Some(403) => format!(
            "BigQuery denied access while {what}: grant the account the roles BigQuery Data \
             Editor and BigQuery Job User on project `{project}`, and check that the BigQuery \
             API is enabled there"
        ),
        Some(404) => format!(
            "BigQuery found no such resource while {what}: check the project id `{project}` \
             and the dataset name"
        ),
        Some(400) => format!("BigQuery rejected the request while {what}"),
        Some(status) => format!("BigQuery answered HTTP {status} while {what}"),
        None if source.is_authentication() => {
            format!("could not get a Google Cloud access token while {what}: check the credentials")
        }
        None => format!("could not reach BigQuery while {what}"),
    };
    BqError::Api { hint, source }
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
        match call().await {
            Err(e) if tries < API_TRIES && transient(&e) => {
                let jittered = wait.mul_f64(0.5 + fastrand::f64());
                warn!(error = %e, tries, wait_ms = jittered.as_millis() as u64, "BigQuery call failed; retrying.");
                tokio::time::sleep(jittered).await;
                wait = (wait * 2).min(API_BACKOFF_MAX);
                tries += 1;
            }
            other => return other,
        }
    }
}

fn job_error(job: &Job) -> Option<&ErrorProto> {
    job.status.as_ref().and_then(|s| s.error_result.as_ref())
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
}

/// The result rows of a query, each `{"f":[{"v":…}]}`.
pub(super) type ResultRows = Vec<serde_json::Map<String, Value>>;

/// Submits and waits for query jobs in one project and location.
#[derive(Clone)]
pub(super) struct Jobs {
    client: JobService,
    project: String,
    /// The dataset's location: jobs must run there, and `jobs.get` must name it
    /// outside the US and EU multi-regions.
    location: Option<String>,
}

impl Jobs {
    pub fn new(client: JobService, project: &str) -> Self {
        Jobs {
            client,
            project: project.to_owned(),
            location: None,
        }
    }

    pub fn set_location(&mut self, location: Option<String>) {
        self.location = location.filter(|l| !l.is_empty());
    }

    /// Runs one statement exactly once under `{base_id}_{attempt}` and returns the
    /// finished job. Safe to call again with the same `base_id` and statement: a job
    /// that already succeeded is not run again.
    pub async fn run(
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
            let Some(proto) = job_error(&job) else {
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
                tokio::time::sleep(API_BACKOFF * attempt).await;
            }
            attempt += 1;
        }
    }

    /// Runs a query under a fresh id and returns all its rows.
    pub async fn query(
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
            let page = retrying(|| {
                self.client
                    .get_query_results()
                    .set_project_id(&self.project)
                    .set_job_id(job_id)
                    .set_location(self.location.clone().unwrap_or_default())
                    .set_page_token(page_token.clone())
                    .set_format_options(DataFormatOptions::new().set_use_int64_timestamp(true))
                    .send()
            })
            .await
            .map_err(|e| api_error(&self.project, what, e))?;
            if page.job_complete == Some(false) {
                // Cannot happen after `wait`, but the API allows it: ask again.
                tokio::time::sleep(interval).await;
                interval = (interval * 2).min(POLL_MAX);
                continue;
            }
            if let Some(e) = page.errors.first() {
                return Err(failed(job_id, e));
            }
            rows.extend(page.rows);
            if page.page_token.is_empty() {
                return Ok(rows);
            }
            page_token = page.page_token;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_errors_are_classified() {
        assert!(transient_status(503, None));
        assert!(transient_status(500, None));
        assert!(transient_status(429, None));
        assert!(!transient_status(400, None));
        assert!(!transient_status(404, None));
        assert!(!transient_status(409, Some("duplicate")));
        assert!(transient_status(403, Some("rateLimitExceeded")));
        assert!(!transient_status(403, Some("accessDenied")));
    }

    #[test]
    fn reasons_are_read_from_the_error_body() {
        let body = br#"{"error":{"code":409,"message":"Already Exists: Job p:US.j","errors":[{"message":"Already Exists: Job p:US.j","domain":"global","reason":"duplicate"}],"status":"ALREADY_EXISTS"}}"#;
        assert_eq!(error_reason(body).as_deref(), Some("duplicate"));
        assert_eq!(error_reason(b"<html>"), None);
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
    }
}
