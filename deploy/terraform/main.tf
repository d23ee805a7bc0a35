# wikitop on Google Cloud: a Cloud Run job that writes to BigQuery, started
# daily by Cloud Scheduler. Two service accounts keep privileges apart:
#   wikitop-job        runs the container; may edit the one dataset and run
#                      BigQuery jobs, nothing else.
#   wikitop-scheduler  may only start this one Cloud Run job.
# The APIs must be enabled beforehand (see deploy/README.md).

locals {
  labels = {
    app        = "wikitop"
    managed-by = "terraform"
  }

  # PROJECT.DATASET, the form the CLI's --bq-dataset takes.
  bq_dataset = "${var.project_id}.${var.dataset_id}"

  repository_url = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.wikitop.repository_id}"

  # A digest pins the exact image; a tag is resolved when the job is deployed.
  image = startswith(var.image_tag, "sha256:") ? "${local.repository_url}/wikitop@${var.image_tag}" : "${local.repository_url}/wikitop:${var.image_tag}"

  # The schema version this checkout's sink writes, and the label on top_pages that
  # records it: {"label": "wikitop_schema_version", "version": N}. Generated from the
  # sink's migrations (SCHEMA_VERSION in src/sinks/schema/migrations.rs, VERSION_LABEL
  # in src/sinks/bigquery/migrate.rs); a test fails when the file drifts from them.
  schema_version = jsondecode(file("${path.module}/../../schema/schema_version.json"))
}

# --- Identities -------------------------------------------------------------

resource "google_service_account" "job" {
  account_id   = "wikitop-job"
  display_name = "wikitop Cloud Run job"
  description  = "Runs `wikitop sync`: edits the wikitop BigQuery dataset and runs BigQuery jobs."
}

resource "google_service_account" "scheduler" {
  account_id   = "wikitop-scheduler"
  display_name = "wikitop scheduler"
  description  = "Used by Cloud Scheduler to start the wikitop Cloud Run job; holds no other role."
}

# --- BigQuery ---------------------------------------------------------------

# The sink would create these objects itself; Terraform owns them so that the
# partitioning, clustering and deletion protection are reviewed code. Terraform
# creates the tables at the sink's current schema; from then on the sink owns the
# columns and the schema version: it checks an existing table's columns (name,
# type, mode) and partitioning against its table definition (src/sinks/schema.rs,
# which schema/*.json are generated from) and migrates an older dataset in place.
# The views top_page_categories and top_articles are left to the sink (dataEditor may create them).
resource "google_bigquery_dataset" "wikitop" {
  #checkov:skip=CKV_GCP_81:Public Wikipedia pageview data; Google-managed encryption at rest is enough and CMEK would add a KMS key ring, key and grants to operate.
  dataset_id                 = var.dataset_id
  friendly_name              = "wikitop"
  description                = "Daily top pages of Wikimedia projects with their categories, written by wikitop."
  location                   = var.location
  delete_contents_on_destroy = false
  labels                     = local.labels
}

resource "google_bigquery_table" "top_pages" {
  #checkov:skip=CKV_GCP_80:Public Wikipedia pageview data; Google-managed encryption at rest is enough (same reason as the dataset).
  dataset_id  = google_bigquery_dataset.wikitop.dataset_id
  table_id    = "top_pages"
  description = "Daily top pages of a Wikimedia project with their categories; one row per (date, project, access, article). Written by wikitop."
  # The sink reads the dataset's schema version from this label. A table created here
  # already has the current columns, so it is stamped with the current version and
  # the first run migrates nothing (unlabelled, it would count as version 1).
  labels = merge(local.labels, {
    (local.schema_version.label) = tostring(local.schema_version.version)
  })

  lifecycle {
    # Both set at creation only; from then on the sink owns them. A version means
    # "every migration step ran", data fills included, and only the sink runs the
    # steps: it adds the columns, fills them and then relabels. An apply must not
    # undo that (a newer dataset would read as older), nor move the label ahead of
    # the sink (it would skip the fills), nor remove columns a newer sink added:
    # the google provider drops a column missing from `schema` in place (>= 5.25),
    # so an apply from an older checkout would delete their data.
    ignore_changes = [schema, labels["wikitop_schema_version"]]

    precondition {
      condition     = local.schema_version.label == "wikitop_schema_version"
      error_message = "schema/schema_version.json names another label than the one ignore_changes keeps to the sink."
    }
  }

  # Generated from the sink's one table definition (src/sinks/schema.rs); a test fails
  # when this file drifts from it. Used at creation (see lifecycle above).
  schema = file("${path.module}/../../schema/top_pages.json")

  time_partitioning {
    type  = "DAY"
    field = "date"
  }

  clustering = ["project", "article"]

  deletion_protection = true
}

resource "google_bigquery_table" "ingest_runs" {
  #checkov:skip=CKV_GCP_80:Holds run metadata only (counts, arguments, errors); Google-managed encryption at rest is enough.
  dataset_id  = google_bigquery_dataset.wikitop.dataset_id
  table_id    = "ingest_runs"
  description = "One row per wikitop run: its options, outcome and counts."
  labels      = local.labels

  # At creation; later columns come from the sink's migrations, as for top_pages.
  schema = file("${path.module}/../../schema/ingest_runs.json")

  deletion_protection = true

  lifecycle {
    ignore_changes = [schema]
  }
}

# Read/write on tables and views of this dataset only.
resource "google_bigquery_dataset_iam_member" "job_data_editor" {
  dataset_id = google_bigquery_dataset.wikitop.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.job.email}"
}

# Running a query or MERGE is a project-level permission (bigquery.jobs.create);
# jobUser grants it without any access to data.
resource "google_project_iam_member" "job_bigquery_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.job.email}"
}

# --- Optional Wikimedia token -----------------------------------------------

# The secret itself is created outside Terraform so that its value never lands
# in the state; Terraform only lets the job's account read it.
resource "google_secret_manager_secret_iam_member" "job_access_token" {
  count     = var.access_token_secret == "" ? 0 : 1
  secret_id = var.access_token_secret
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.job.email}"
}

# --- Image repository -------------------------------------------------------

resource "google_artifact_registry_repository" "wikitop" {
  #checkov:skip=CKV_GCP_84:The image holds only the open-source wikitop binary; Google-managed encryption is enough and CMEK would add a KMS key to operate.
  repository_id = "wikitop"
  location      = var.region
  format        = "DOCKER"
  description   = "wikitop container images."
  labels        = local.labels

  # A tag always names the same image: tag builds with the git commit.
  docker_config {
    immutable_tags = true
  }
}

# --- The job ----------------------------------------------------------------

resource "google_cloud_run_v2_job" "wikitop" {
  name     = "wikitop"
  location = var.region
  labels   = local.labels

  # The job is stateless (all data is in BigQuery): recreating it loses nothing.
  deletion_protection = false

  template {
    # Each task gets CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT, from which the
    # CLI takes its --shard, so N tasks split the missing days N ways.
    task_count = var.task_count

    template {
      service_account = google_service_account.job.email
      max_retries     = var.max_retries
      timeout         = var.task_timeout

      containers {
        image = local.image
        args = [
          "sync",
          "--sink", "bigquery",
          "--bq-dataset", local.bq_dataset,
          "--bq-location", var.location,
          "--since", var.backfill_since,
        ]

        env {
          name  = "WIKITOP_CONTACT"
          value = var.contact
        }

        # Structured logs for Cloud Logging (also the image default).
        env {
          name  = "WIKITOP_LOG_FORMAT"
          value = "json"
        }

        # The attempt's deadline, as the template's timeout above ("3600s"): Cloud Run
        # stops an attempt then, so a run still `running` after it is dead.
        env {
          name  = "WIKITOP_TASK_TIMEOUT"
          value = var.task_timeout
        }

        dynamic "env" {
          for_each = var.access_token_secret == "" ? [] : [var.access_token_secret]
          content {
            name = "WIKITOP_ACCESS_TOKEN"
            value_source {
              secret_key_ref {
                secret  = env.value
                version = "latest"
              }
            }
          }
        }

        resources {
          limits = {
            cpu    = "1"
            memory = "512Mi"
          }
        }
      }
    }
  }

  # A run started right after apply must already have its permissions.
  depends_on = [
    google_bigquery_dataset_iam_member.job_data_editor,
    google_project_iam_member.job_bigquery_job_user,
    google_secret_manager_secret_iam_member.job_access_token,
    google_bigquery_table.top_pages,
    google_bigquery_table.ingest_runs,
  ]
}

# --- Daily trigger ----------------------------------------------------------

# roles/run.invoker on this job only (includes run.jobs.run).
resource "google_cloud_run_v2_job_iam_member" "scheduler_invoker" {
  project  = google_cloud_run_v2_job.wikitop.project
  location = google_cloud_run_v2_job.wikitop.location
  name     = google_cloud_run_v2_job.wikitop.name
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

resource "google_cloud_scheduler_job" "daily" {
  name             = "wikitop-daily"
  description      = "Starts the wikitop Cloud Run job once a day."
  region           = var.region
  schedule         = var.schedule
  time_zone        = "Etc/UTC"
  attempt_deadline = "120s"

  # Retries only the :run call, not a failed execution (max_retries does that).
  retry_config {
    retry_count          = 3
    min_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.wikitop.name}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_invoker]
}
