# Terraform and provider versions. The configuration uses the Cloud Run Admin
# API v2 job resource with `deletion_protection`, which needs google >= 6.0, and
# `disable_metric_validation` on an alerting policy's condition, added in 6.13.0.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.13, < 8.0"
    }
  }

  # State is local by default. For a team, keep it in a GCS bucket instead:
  # backend "gcs" {
  #   bucket = "YOUR-STATE-BUCKET"
  #   prefix = "wikitop"
  # }
}

provider "google" {
  project = var.project_id
  region  = var.region
}
