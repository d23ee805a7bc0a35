# Being told when the daily run goes wrong. Two alerting policies send e-mail to
# var.alert_email:
#   wikitop run failed         a task ended `failed` or `partial` (its last log line),
#                              or Cloud Run counted a failed execution (a crash, an
#                              out-of-memory kill, a timeout, or a store it could not
#                              open: all log no such line);
#   wikitop: no successful run no task ended `ok` for var.max_hours_without_success.
# Both read the line every task logs when it ends: message "Run finished." with the
# field `status` = ok | partial | failed (JSON on stderr, WIKITOP_LOG_FORMAT=json).

locals {
  # The line the binary logs once per task, when the task ends.
  run_finished_message = "Run finished."

  # Cloud Monitoring's name of the log-based metric below, and PromQL's name of it
  # (the first "/" becomes ":", every other "/" and "." becomes "_"):
  # https://cloud.google.com/monitoring/promql/promql-mapping
  runs_metric_type   = "logging.googleapis.com/user/${google_logging_metric.runs_finished.name}"
  runs_metric_promql = "logging_googleapis_com:user_${google_logging_metric.runs_finished.name}"
}

resource "google_monitoring_notification_channel" "email" {
  display_name = "wikitop alerts (${var.alert_email})"
  type         = "email"
  description  = "Where the wikitop alerting policies send their notifications."
  user_labels  = local.labels

  labels = {
    email_address = var.alert_email
  }
}

# One point per finished task, labelled with its status. A counter of log entries:
# https://cloud.google.com/logging/docs/logs-based-metrics/counter-metrics
resource "google_logging_metric" "runs_finished" {
  name        = "wikitop_runs_finished"
  description = "wikitop tasks that ended, by status (ok, partial, failed), from the task's \"${local.run_finished_message}\" log line."
  filter = join(" AND ", [
    "resource.type=\"cloud_run_job\"",
    "resource.labels.job_name=\"${google_cloud_run_v2_job.wikitop.name}\"",
    "jsonPayload.message=\"${local.run_finished_message}\"",
  ])

  metric_descriptor {
    metric_kind  = "DELTA"
    value_type   = "INT64"
    unit         = "1"
    display_name = "wikitop runs finished"

    labels {
      key         = "status"
      value_type  = "STRING"
      description = "How the task ended: ok, partial (some days failed, the others were written) or failed."
    }
  }

  label_extractors = {
    status = "EXTRACT(jsonPayload.status)"
  }
}

resource "google_monitoring_alert_policy" "run_failed" {
  display_name          = "wikitop run failed"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  user_labels           = local.labels

  # Any status but ok, including an empty one (a line the extractor could not read).
  conditions {
    display_name = "A task ended failed or partial"

    condition_threshold {
      filter = join(" AND ", [
        "metric.type=\"${local.runs_metric_type}\"",
        "resource.type=\"cloud_run_job\"",
        "metric.labels.status!=\"ok\"",
      ])
      comparison              = "COMPARISON_GT"
      threshold_value         = 0
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  # A task that crashed, ran out of memory or hit its timeout logs no last line.
  conditions {
    display_name = "Cloud Run counted a failed execution"

    condition_threshold {
      filter = join(" AND ", [
        "metric.type=\"run.googleapis.com/job/completed_execution_count\"",
        "resource.type=\"cloud_run_job\"",
        "resource.labels.job_name=\"${google_cloud_run_v2_job.wikitop.name}\"",
        "metric.labels.result=\"failed\"",
      ])
      comparison              = "COMPARISON_GT"
      threshold_value         = 0
      duration                = "0s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }

      trigger {
        count = 1
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      A wikitop task ended `failed` or `partial`, or Cloud Run counted a failed execution of the job `${google_cloud_run_v2_job.wikitop.name}`.
      Days that failed are stored by the next run; a run that keeps failing needs an operator.

      Its last lines:
      `gcloud logging read 'resource.type="cloud_run_job" AND resource.labels.job_name="${google_cloud_run_v2_job.wikitop.name}" AND severity>=WARNING' --limit 50`

      The store as the next run sees it: `wikitop status --sink bigquery --bq-dataset ${local.bq_dataset}`.
    EOT
  }
}

# A metric-absence condition waits at most 23.5 hours and a threshold condition's
# window is at most 25 hours (https://cloud.google.com/monitoring/alerts/metric-absence,
# Aggregation.alignmentPeriod), so the longer look-back is a PromQL condition:
# absent_over_time() is 1 when the range holds no `ok` point at all.
resource "google_monitoring_alert_policy" "no_successful_run" {
  display_name          = "wikitop: no successful run"
  combiner              = "OR"
  severity              = "ERROR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  user_labels           = local.labels

  conditions {
    display_name = "No task ended ok for ${var.max_hours_without_success} h"

    condition_prometheus_query_language {
      query               = "absent_over_time(${local.runs_metric_promql}{monitored_resource=\"cloud_run_job\",job_name=\"${google_cloud_run_v2_job.wikitop.name}\",status=\"ok\"}[${var.max_hours_without_success}h])"
      duration            = "0s"
      evaluation_interval = "300s"
      # The log-based metric has no time series until the first task ends.
      disable_metric_validation = true
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = <<-EOT
      No task of the Cloud Run job `${google_cloud_run_v2_job.wikitop.name}` has logged "${local.run_finished_message}" with status `ok` for ${var.max_hours_without_success} hours.
      Either the runs fail (see the policy "wikitop run failed"), or none started: check the Cloud Scheduler job `${google_cloud_scheduler_job.daily.name}` and the job's executions:
      `gcloud run jobs executions list --job ${google_cloud_run_v2_job.wikitop.name} --region ${var.region}`

      This policy is also open from the first apply until the first run ends `ok`.
    EOT
  }
}
