# Inputs. project_id, contact, image_tag and alert_email have no default.

variable "project_id" {
  description = "Google Cloud project that holds the dataset, the job and the image repository."
  type        = string
}

variable "region" {
  description = "Region of the Cloud Run job, the Cloud Scheduler job and the Artifact Registry repository."
  type        = string
  default     = "us-central1"
}

variable "dataset_id" {
  description = "BigQuery dataset id (letters, digits and underscores)."
  type        = string
  default     = "wikitop"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.dataset_id))
    error_message = "dataset_id may only contain letters, digits and underscores."
  }
}

variable "location" {
  description = "BigQuery location of the dataset (multi-region such as US or EU, or a region). Passed to the job as --bq-location."
  type        = string
  default     = "US"
}

variable "schedule" {
  description = "Cron schedule (Etc/UTC) of the daily run. Wikimedia publishes a day's top list some hours after midnight UTC."
  type        = string
  default     = "0 6 * * *"
}

variable "contact" {
  description = "Contact e-mail or URL sent in the User-Agent to Wikimedia (WIKITOP_CONTACT). Wikimedia's User-Agent policy requires one."
  type        = string

  validation {
    condition     = length(trimspace(var.contact)) > 0
    error_message = "contact must not be empty: Wikimedia blocks clients without a contact in the User-Agent."
  }
}

variable "image_tag" {
  description = "Tag (the git commit it was built from) or digest (sha256:...) of the wikitop image in this configuration's Artifact Registry repository. Tags there are immutable."
  type        = string

  validation {
    condition     = can(regex("^(sha256:[0-9a-f]{64}|[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})$", var.image_tag))
    error_message = "image_tag must be a Docker tag or a sha256:<64 hex> digest."
  }
}

variable "task_count" {
  description = "Tasks per execution of the job. Each task syncs its share of the days (the CLI reads CLOUD_RUN_TASK_INDEX/CLOUD_RUN_TASK_COUNT). 1 for the daily run; override per execution for a backfill."
  type        = number
  default     = 1

  validation {
    condition     = var.task_count >= 1 && var.task_count <= 20
    error_message = "task_count must be between 1 and 20 (BigQuery queues at most 20 DML statements per table)."
  }
}

variable "backfill_since" {
  description = "First day (YYYY-MM-DD) the job keeps complete. Every run fills whatever days since then are missing, so a missed daily run heals itself."
  type        = string
  default     = "2023-04-01"

  validation {
    condition     = can(regex("^\\d{4}-\\d{2}-\\d{2}$", var.backfill_since))
    error_message = "backfill_since must be a date in the form YYYY-MM-DD."
  }
}

variable "max_retries" {
  description = "Retries of a failed task within one execution. A retry is safe: days are replaced, never duplicated."
  type        = number
  default     = 3
}

variable "task_timeout" {
  description = "Time limit of one task attempt: whole seconds with an 's' suffix, from 1s to 604800s (168 hours, Cloud Run's maximum for a job's task; timeouts over 24 hours were a Preview feature). Also passed to the container as WIKITOP_TASK_TIMEOUT, unchanged."
  type        = string
  default     = "3600s"

  # https://cloud.google.com/run/docs/configuring/task-timeout
  validation {
    condition     = can(regex("^[0-9]{1,6}s$", var.task_timeout)) && try(tonumber(trimsuffix(var.task_timeout, "s")) >= 1 && tonumber(trimsuffix(var.task_timeout, "s")) <= 604800, false)
    error_message = "task_timeout must be whole seconds with an 's' suffix, from \"1s\" to \"604800s\" (168 hours, Cloud Run's limit for a job's task)."
  }
}

variable "access_token_secret" {
  description = "Optional Secret Manager secret id (same project) holding a Wikimedia OAuth2 access token, exposed to the job as WIKITOP_ACCESS_TOKEN. Empty: no token. Terraform never sees the value; create the secret and its versions with gcloud."
  type        = string
  default     = ""
}

variable "alert_email" {
  description = "E-mail address the alerting policies notify (a failed or partial run; no successful run for max_hours_without_success)."
  type        = string

  validation {
    condition     = can(regex("^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address."
  }
}

variable "max_hours_without_success" {
  description = "Hours without a task that ended ok before the alert \"wikitop: no successful run\" opens. More than a day, so that one late or retried daily run does not page; pass the same age to `wikitop status --check --max-age`."
  type        = number
  default     = 36

  validation {
    condition     = var.max_hours_without_success >= 25 && var.max_hours_without_success <= 720 && floor(var.max_hours_without_success) == var.max_hours_without_success
    error_message = "max_hours_without_success must be a whole number of hours from 25 (more than the daily schedule) to 720."
  }
}
