//! The progress bar of `sync`, on a terminal only: the library tells [`Progress`] what
//! happens, this draws it (indicatif).

use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use wikitop::model::{Day, Project};
use wikitop::{Progress, WaitObserver};

/// Progress on a terminal; silent otherwise (the per-day log lines say it all).
pub(super) struct Bars {
    bar: Option<ProgressBar>,
}

impl Bars {
    pub(super) fn new(interactive: bool) -> Self {
        let bar = interactive.then(|| {
            let bar = ProgressBar::new(0);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {prefix} [{bar:30}] {pos}/{len} days {msg} ({eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Bars { bar }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl WaitObserver for Bars {
    fn throttled(&self, until: Timestamp, reason: &str) {
        if let Some(bar) = &self.bar {
            let at = until.round(jiff::Unit::Second).unwrap_or(until);
            bar.set_message(format!("throttled ({reason}); resuming at {at}"));
        }
    }
}

impl Progress for Bars {
    fn planned(&self, project: &Project, days: usize) {
        if let Some(bar) = &self.bar {
            bar.set_prefix(project.to_string());
            bar.set_length(days as u64);
            bar.set_position(0);
        }
    }

    fn day_written(&self, _project: &Project, day: Day, _rows: usize) {
        if let Some(bar) = &self.bar {
            bar.set_message(day.to_string());
            bar.inc(1);
        }
    }

    fn day_failed(&self, project: &Project, day: Day, error: &str) {
        if let Some(bar) = &self.bar {
            bar.println(format!("{project} {day} failed: {error}"));
            bar.inc(1);
        }
    }
}
