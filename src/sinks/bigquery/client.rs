//! Connecting to BigQuery: credentials (anonymous for an emulator, else Application
//! Default Credentials checked up front) and the three API clients the sink uses. This
//! module sends no request of its own beyond fetching one access token.

use std::time::Duration;

use google_cloud_auth::credentials::{Credentials, anonymous};
use google_cloud_bigquery_v2::client::{DatasetService, JobService, TableService};

use super::jobs::{self, Jobs};
use crate::error::{Error, Message, Result};
use crate::settings::BigQuerySettings;

/// Without a credentials file, ADC falls back to the metadata server, which answers in
/// milliseconds on Cloud Run and GCE; elsewhere the auth library would retry for about a
/// minute before giving up. So a machine without credentials fails after this long.
const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// With a credentials file, getting a token is one HTTPS exchange.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(60);

/// The API clients of one dataset's project, all with the same credentials and endpoint.
pub(super) struct Clients {
    pub datasets: DatasetService,
    pub tables: TableService,
    /// Its location is set once the dataset's is known.
    pub jobs: Jobs,
}

impl Clients {
    pub(super) async fn connect(settings: &BigQuerySettings) -> Result<Self> {
        let credentials = credentials(settings.endpoint()).await?;
        let connecting = |e| Error::store(format!("connecting to BigQuery for `{settings}`"), e);
        macro_rules! client {
            ($service:ty $(, $default_headers:expr)?) => {{
                let mut builder = <$service>::builder().with_credentials(credentials.clone());
                if let Some(endpoint) = settings.endpoint() {
                    builder = builder.with_endpoint(endpoint);
                }
                $(builder = builder.with_extension($default_headers);)?
                builder.build().await.map_err(connecting)?
            }};
        }
        Ok(Clients {
            datasets: client!(DatasetService),
            tables: client!(TableService),
            jobs: Jobs::new(
                client!(JobService, jobs::job_status_headers()),
                client!(JobService),
                settings.project_id(),
            ),
        })
    }
}

/// Whether ADC would read a credentials file (`GOOGLE_APPLICATION_CREDENTIALS`, or the
/// file `gcloud auth application-default login` writes) rather than ask the metadata
/// server: the lookup order of AIP-4110, as `google-cloud-auth` implements it.
fn adc_file_present() -> bool {
    if std::env::var_os("GOOGLE_APPLICATION_CREDENTIALS").is_some() {
        return true;
    }
    let root = if cfg!(windows) {
        std::env::var_os("APPDATA").map(|r| std::path::PathBuf::from(r).join("gcloud"))
    } else {
        std::env::var_os("HOME").map(|r| std::path::PathBuf::from(r).join(".config/gcloud"))
    };
    root.is_some_and(|r| r.join("application_default_credentials.json").is_file())
}

/// Anonymous credentials for an emulator; otherwise Application Default Credentials,
/// checked here by fetching one token, so that a machine without any fails now, in
/// one sentence, instead of at the first request after a minute of retries.
async fn credentials(endpoint: Option<&str>) -> Result<Credentials> {
    if endpoint.is_some() {
        return Ok(anonymous::Builder::new().build());
    }
    let adc = google_cloud_auth::credentials::Builder::default()
        .build_access_token_credentials()
        .map_err(|e| Error::NoCredentials(Box::new(e)))?;
    let file = adc_file_present();
    let timeout = if file {
        TOKEN_TIMEOUT
    } else {
        METADATA_TIMEOUT
    };
    // Without a file the only question is whether a metadata server answered; the
    // auth library's ten-line chain for "it did not" helps no one, its last cause does.
    let no_metadata_server = |detail: String| {
        Error::NoCredentials(Box::new(Message(format!(
            "GOOGLE_APPLICATION_CREDENTIALS is unset, there is no gcloud application-default \
             credentials file, and no metadata server answered ({detail})"
        ))))
    };
    match tokio::time::timeout(timeout, adc.access_token()).await {
        Ok(Ok(_)) => Ok(adc.into()),
        Ok(Err(e)) if file => Err(Error::NoCredentials(Box::new(e))),
        Ok(Err(e)) => Err(no_metadata_server(root_cause(&e))),
        Err(_) if file => Err(Error::NoCredentials(
            format!("no access token within {} s", timeout.as_secs()).into(),
        )),
        Err(_) => Err(no_metadata_server(format!(
            "no answer within {} s",
            timeout.as_secs()
        ))),
    }
}

/// The innermost cause of an error chain, e.g. "Name or service not known".
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut e = e;
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}
