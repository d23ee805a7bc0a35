//! The first deploy on Google Cloud (issue 20): a dataset exactly as Terraform creates
//! it (`deploy/terraform/main.tf`: the tables from `schema/*.json`, partitioned and
//! clustered, `top_pages` labelled with `schema/schema_version.json`), and eight shards
//! started at once against it, as the Cloud Run job's eight tasks are. Between the sink
//! and the emulator stands the shim, which answers BigQuery's 403 "too many table update
//! operations" past 50 updates of a table in 10 s and refuses a patch with a stale etag.
//!
//! Once with the version label (nothing to migrate) and once without (version 1: every
//! migration step pending): every shard finishes, every day is stored exactly once, and
//! at most one migration pass runs (each DDL statement reaches BigQuery once, the lock
//! table is created once).

use std::collections::BTreeMap;

use fakewiki::{Config, FakeWiki};
use serde_json::{Value, json};
use wikitop::settings::{BigQuerySettings, Shard};
use wikitop::sinks::bigquery::{LOCK_TABLE, VERSION_LABEL};

use crate::bq_shim::BqShim;
use crate::support;

const SHARDS: u32 = 8;

/// Sends one REST call straight to the emulator (not through the shim) and returns
/// the answer, failing the test on an error status.
async fn rest(method: reqwest::Method, url: &str, body: Option<Value>) -> Value {
    let client = reqwest::Client::new();
    let mut request = client.request(method.clone(), url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("reach the emulator");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{method} {url}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn schema_file(name: &str) -> Value {
    let path = format!("{}/schema/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("a schema file");
    serde_json::from_str(&text).expect("JSON")
}

/// Creates the dataset and its two tables as `deploy/terraform/main.tf` does; with
/// `labelled`, `top_pages` carries the version label Terraform stamps.
async fn terraform_dataset(endpoint: &str, project: &str, dataset: &str, labelled: bool) {
    let base = format!("{endpoint}/bigquery/v2/projects/{project}");
    let reference = json!({"projectId": project, "datasetId": dataset});
    let labels = json!({"app": "wikitop"});
    rest(
        reqwest::Method::POST,
        &format!("{base}/datasets"),
        Some(json!({"datasetReference": reference, "labels": labels})),
    )
    .await;
    let mut top_labels = labels.clone();
    if labelled {
        let version = schema_file("schema_version.json");
        let label = version["label"].as_str().expect("a label").to_owned();
        top_labels[label] = json!(version["version"].to_string());
    }
    let table = |name: &str, schema: Value, labels: Value| {
        json!({
            "tableReference": {"projectId": project, "datasetId": dataset, "tableId": name},
            "schema": {"fields": schema},
            "labels": labels,
        })
    };
    let mut top_pages = table("top_pages", schema_file("top_pages.json"), top_labels);
    top_pages["timePartitioning"] = json!({"type": "DAY", "field": "date"});
    top_pages["clustering"] = json!({"fields": ["project", "article"]});
    let ingest_runs = table("ingest_runs", schema_file("ingest_runs.json"), labels);
    for body in [top_pages, ingest_runs] {
        rest(
            reqwest::Method::POST,
            &format!("{base}/datasets/{dataset}/tables"),
            Some(body),
        )
        .await;
    }
}

/// Rows stored per (date, project), read from the emulator directly.
async fn rows_per_day(endpoint: &str, project: &str, dataset: &str) -> BTreeMap<String, i64> {
    let sql = format!(
        "SELECT CONCAT(CAST(date AS STRING), ' ', project), COUNT(*) \
         FROM `{project}.{dataset}.top_pages` GROUP BY 1"
    );
    let answer = rest(
        reqwest::Method::POST,
        &format!("{endpoint}/bigquery/v2/projects/{project}/queries"),
        Some(json!({"query": sql, "useLegacySql": false, "timeoutMs": 60_000})),
    )
    .await;
    assert_eq!(answer["jobComplete"], true, "{answer}");
    let rows = answer["rows"].as_array().cloned().unwrap_or_default();
    rows.iter()
        .map(|r| {
            let key = r["f"][0]["v"].as_str().expect("a key").to_owned();
            let n = r["f"][1]["v"]
                .as_str()
                .and_then(|n| n.parse().ok())
                .expect("a count");
            (key, n)
        })
        .collect()
}

async fn first_deploy(labelled: bool) {
    let (endpoint, full) = support::emulator_dataset(if labelled { "tf_v" } else { "tf_v1" });
    let (project, dataset) = full.split_once('.').expect("project.dataset");
    terraform_dataset(&endpoint, project, dataset, labelled).await;
    let shim = BqShim::start(&endpoint).await;
    let top_pages = format!("{dataset}.top_pages");
    // Another writer changes the table just before the first schema patch.
    shim.change_before_next_patch(&top_pages);

    let fake = FakeWiki::start(Config::realistic(20))
        .await
        .expect("fake wiki");
    let range = support::days(
        jiff::civil::date(2024, 7, 1),
        jiff::civil::date(2024, 7, 16),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let bq = BigQuerySettings::new(&full, None, Some(&shim.endpoint)).expect("settings");
    let runs = (0..SHARDS).map(|index| {
        let mut settings =
            support::settings(&fake, &dir.path().join("unused"), range[0], range[15]);
        settings.store = wikitop::StoreSettings::BigQuery(bq.clone());
        settings.shard = Shard {
            index,
            count: SHARDS,
        };
        async move { support::sync(&settings).await }
    });
    let outcomes = futures_util::future::join_all(runs).await;
    for (shard, outcome) in outcomes.into_iter().enumerate() {
        let outcome = outcome.unwrap_or_else(|e| panic!("shard {shard} failed: {e}"));
        assert!(
            outcome.days_failed.is_empty(),
            "shard {shard}: {:?}",
            outcome.days_failed
        );
    }

    let mut want = BTreeMap::new();
    for day in &range {
        let served = fake
            .expected_day("en.wikipedia", "all-access", *day, 100)
            .expect("served");
        want.insert(format!("{day} en.wikipedia"), served.len() as i64);
    }
    assert_eq!(rows_per_day(&endpoint, project, dataset).await, want);

    let ddl = shim.ddl();
    let mut distinct = ddl.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        ddl.len(),
        "a DDL statement ran twice: {ddl:#?}"
    );
    let locks = shim
        .tables_created()
        .iter()
        .filter(|t| t.ends_with(&format!(".{LOCK_TABLE}")))
        .count();
    // One migrator stays well under the table's update rate: no storm to back off from.
    assert_eq!(shim.table_updates_limited(), 0);
    let patches = shim.patches();
    assert!(patches.iter().all(|(_, guarded)| *guarded), "{patches:?}");
    if labelled {
        assert!(ddl.is_empty(), "a labelled dataset was migrated: {ddl:#?}");
        assert_eq!(locks, 0);
        assert!(patches.is_empty(), "{patches:?}");
    } else {
        assert!(!ddl.is_empty(), "version 1 has steps to run");
        assert_eq!(locks, 1, "one migrator");
        assert!(
            shim.stale_patches() >= 1,
            "the changed table was patched unguarded"
        );
    }
    let table = rest(
        reqwest::Method::GET,
        &format!("{endpoint}/bigquery/v2/projects/{project}/datasets/{dataset}/tables/top_pages"),
        None,
    )
    .await;
    let version = schema_file("schema_version.json")["version"].to_string();
    assert_eq!(table["labels"][VERSION_LABEL], json!(version));
    let lock = reqwest::get(format!(
        "{endpoint}/bigquery/v2/projects/{project}/datasets/{dataset}/tables/{LOCK_TABLE}"
    ))
    .await
    .expect("reach the emulator");
    assert_eq!(
        lock.status(),
        reqwest::StatusCode::NOT_FOUND,
        "the lock was left behind"
    );
}

/// Terraform's tables, stamped: eight shards start at once and migrate nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bigquery_first_deploy_of_eight_shards_migrates_nothing() {
    first_deploy(true).await;
}

/// Terraform's tables without the label (version 1): one shard migrates, seven wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bigquery_first_deploy_of_eight_shards_migrates_once() {
    first_deploy(false).await;
}
