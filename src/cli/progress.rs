//! The progress bar of `sync`, on a terminal only: the library tells [`Progress`] what
//! happens, this draws it (indicatif). A run of several wikis shows which wiki of how
//! many is under way, and leaves a line per finished wiki above the bar.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use jiff::Timestamp;
use wikitop::model::{Day, Project};
use wikitop::{Progress, WaitObserver};

/// Progress on a terminal; silent otherwise (the per-day log lines say it all).
pub(super) struct Bars {
    bar: Option<ProgressBar>,
    /// The run's wikis, when it has several.
    wikis: usize,
    current: Mutex<WikiProgress>,
}

/// The wiki under way: its place in the run and its days so far.
#[derive(Default)]
struct WikiProgress {
    project: Option<Project>,
    started: usize,
    written: u64,
    failed: u64,
}

impl Bars {
    pub(super) fn new(interactive: bool, wikis: usize) -> Self {
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
        Bars {
            bar,
            wikis,
            current: Mutex::new(WikiProgress::default()),
        }
    }

    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            self.wiki_done(bar);
            bar.finish_and_clear();
        }
    }

    /// The line a finished wiki leaves above the bar, in a run of several.
    fn wiki_done(&self, bar: &ProgressBar) {
        let Ok(current) = self.current.lock() else {
            return;
        };
        let busy = current.written + current.failed > 0;
        if let Some(project) = current.project.as_ref().filter(|_| self.wikis > 1 && busy) {
            bar.println(format!(
                "{project} ({}/{}): {} day(s) stored, {} failed",
                current.started, self.wikis, current.written, current.failed
            ));
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
        let Some(bar) = &self.bar else { return };
        self.wiki_done(bar);
        let Ok(mut current) = self.current.lock() else {
            return;
        };
        let started = current.started + 1;
        *current = WikiProgress {
            project: Some(project.clone()),
            started,
            ..WikiProgress::default()
        };
        bar.set_prefix(if self.wikis > 1 {
            format!("{project} ({started}/{})", self.wikis)
        } else {
            project.to_string()
        });
        bar.set_length(days as u64);
        bar.set_position(0);
    }

    fn day_written(&self, _project: &Project, day: Day, _rows: usize) {
        if let Some(bar) = &self.bar {
            if let Ok(mut current) = self.current.lock() {
                current.written += 1;
            }
            bar.set_message(day.to_string());
            bar.inc(1);
        }
    }

    fn day_failed(&self, project: &Project, day: Day, error: &str) {
        if let Some(bar) = &self.bar {
            if let Ok(mut current) = self.current.lock() {
                current.failed += 1;
            }
            bar.println(format!("{project} {day} failed: {error}"));
            bar.inc(1);
        }
    }
}
