output "dataset" {
  description = "BigQuery dataset, as PROJECT.DATASET (the job's --bq-dataset)."
  value       = local.bq_dataset
}

output "top_pages_table_id" {
  description = "Fully qualified id of the top_pages table."
  value       = "${local.bq_dataset}.${google_bigquery_table.top_pages.table_id}"
}

output "ingest_runs_table_id" {
  description = "Fully qualified id of the ingest_runs table."
  value       = "${local.bq_dataset}.${google_bigquery_table.ingest_runs.table_id}"
}

output "job_name" {
  description = "Cloud Run job name (gcloud run jobs execute NAME --region REGION)."
  value       = google_cloud_run_v2_job.wikitop.name
}

output "image" {
  description = "Image the job runs."
  value       = local.image
}

output "service_account_email" {
  description = "Service account the job runs as."
  value       = google_service_account.job.email
}

output "scheduler_service_account_email" {
  description = "Service account Cloud Scheduler uses to start the job."
  value       = google_service_account.scheduler.email
}

output "artifact_registry_repository_url" {
  description = "Docker repository to push wikitop images to (append /wikitop:TAG)."
  value       = local.repository_url
}
