//! `wikitop schedule`: a foreground loop that runs `sync` on a cron expression.
//!
//! It syncs once at start-up (catching up whatever was missed), then at every cron
//! tick (UTC). Because `sync` fills every missing day up to the latest published one,
//! a missed tick heals itself. When the newest day was not published yet, it tries
//! again after `retry_unpublished` instead of waiting a whole day. Runs never overlap:
//! the loop is sequential, and the store's lock keeps other processes out.
//! Shutdown (SIGTERM/SIGINT, via `shutdown`) abandons the sync in flight; the day
//! being written is one transaction, so nothing half-written remains.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use croner::Cron;
use jiff::{Timestamp, Zoned, tz::TimeZone};

use crate::error::{Error, Result};
use crate::model::Day;
use crate::pipeline::{Progress, RunOutcome};
use crate::settings::Settings;

pub const DEFAULT_CRON: &str = "0 6 * * *";
/// When the newest day is not published yet, look again this much later.
pub const DEFAULT_RETRY_UNPUBLISHED: Duration = Duration::from_secs(3 * 3600);

/// A parsed cron expression, evaluated in UTC.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    retry_unpublished: Duration,
}

impl Schedule {
    pub fn new(expression: &str, retry_unpublished: Duration) -> Result<Self> {
        let cron = expression
            .parse::<Cron>()
            .map_err(|e| Error::InvalidSetting {
                what: "cron expression",
                value: expression.to_owned(),
                why: e.to_string(),
            })?;
        Ok(Schedule {
            cron,
            retry_unpublished,
        })
    }

    /// The next tick strictly after `after`.
    pub fn next_after(&self, after: Timestamp) -> Result<Timestamp> {
        let now = after.to_zoned(TimeZone::UTC);
        self.cron
            .find_next_occurrence(&now, false)
            .map(|z: Zoned| z.timestamp())
            .map_err(|e| Error::InvalidSetting {
                what: "cron expression",
                value: self.cron.pattern.to_string(),
                why: e.to_string(),
            })
    }
}

/// Says how a scheduled sync ended.
fn log_outcome(outcome: &Result<RunOutcome>) {
    match outcome {
        Ok(r) => tracing::info!(
            days_written = r.days_written,
            days_failed = r.days_failed.len(),
            requests = r.http_requests,
            "Scheduled sync finished."
        ),
        Err(e) if e.is_usage() => {
            tracing::error!(error = %e, "Scheduled sync cannot run with these settings.");
        }
        Err(e) => tracing::error!(error = %e, "Scheduled sync failed; the next run retries."),
    }
}

impl Schedule {
    /// When to run next, and why: the next cron tick, or sooner when the newest day was
    /// not published yet.
    fn next_run(
        &self,
        outcome: &Result<RunOutcome>,
        now: Timestamp,
    ) -> Result<(Timestamp, &'static str)> {
        let wake = self.next_after(now)?;
        let unpublished = outcome.as_ref().is_ok_and(|o| !o.not_published.is_empty());
        if unpublished {
            let retry = now
                .checked_add(
                    jiff::SignedDuration::try_from(self.retry_unpublished).unwrap_or_default(),
                )
                .unwrap_or(wake);
            if retry < wake {
                return Ok((retry, "the newest day was not published yet"));
            }
        }
        Ok((wake, "next cron tick"))
    }
}

/// Runs until `shutdown` resolves. `settings_for` builds fresh settings for each run
/// (the range ends at the current "yesterday"); `sync` runs one sync.
pub async fn run<F, S, Fut>(
    schedule: &Schedule,
    settings_for: F,
    sync: S,
    progress: Arc<dyn Progress>,
    shutdown: impl Future<Output = ()>,
) -> Result<()>
where
    F: Fn(Day) -> Result<Settings>,
    S: Fn(Settings, Arc<dyn Progress>) -> Fut,
    Fut: Future<Output = Result<RunOutcome>>,
{
    tokio::pin!(shutdown);
    loop {
        let settings = settings_for(crate::today_utc())?;
        let outcome = tokio::select! {
            outcome = sync(settings, progress.clone()) => outcome,
            () = &mut shutdown => {
                tracing::info!("Shutting down: the sync in flight was abandoned; stored days are whole.");
                return Ok(());
            }
        };
        log_outcome(&outcome);
        let (wake, why) = schedule.next_run(&outcome, Timestamp::now())?;
        tracing::info!(next_run = %wake, why, "Sleeping until the next run.");
        let wait = Duration::from_millis(
            wake.as_millisecond()
                .saturating_sub(Timestamp::now().as_millisecond())
                .max(0) as u64,
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = &mut shutdown => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tick_is_in_utc() {
        let s = Schedule::new(DEFAULT_CRON, DEFAULT_RETRY_UNPUBLISHED).unwrap();
        let at: Timestamp = "2026-11-28T07:00:00Z".parse().unwrap();
        assert_eq!(
            s.next_after(at).unwrap(),
            "2026-11-29T06:00:00Z".parse::<Timestamp>().unwrap()
        );
        let every_minute = Schedule::new("* * * * *", DEFAULT_RETRY_UNPUBLISHED).unwrap();
        assert_eq!(
            every_minute.next_after(at).unwrap(),
            "2026-11-28T07:01:00Z".parse::<Timestamp>().unwrap()
        );
        assert!(Schedule::new("61 * * * *", DEFAULT_RETRY_UNPUBLISHED).is_err());
    }
}
