//! `status`: what the store holds, what it lacks, and how the last runs went.

use std::time::Duration;

use jiff::Timestamp;

use crate::error::Result;
use crate::model::{Access, Day, Project, RunRecord, RunStatus};
use crate::settings::StoreSettings;
use crate::sinks::{Mode, Sink, Store, StoredDays};

/// Per (project, access): what is stored and what is missing in the checked range.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectStatus {
    pub project: Project,
    pub access: Access,
    pub first: Day,
    pub last: Day,
    pub stored: u64,
    /// Missing days of `[since, until]`, compressed to inclusive ranges.
    pub missing: Vec<(Day, Day)>,
    pub missing_days: u64,
    /// Stored days of `[since, until]` without the derived columns (stored before
    /// schema version 3): `sync --force` over them fills them.
    pub unassessed: Vec<(Day, Day)>,
    pub unassessed_days: u64,
    /// Stored days of `[since, until]` judged before `mostread_rank` existed (schema
    /// version 4): `sync --rejudge` over them fills it, with no request.
    pub unranked: Vec<(Day, Day)>,
    pub unranked_days: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusReport {
    pub since: Day,
    pub until: Day,
    pub projects: Vec<ProjectStatus>,
    pub runs: Vec<RunRecord>,
}

/// The store across its wikis: how many, their days stored and missing, and which
/// lack days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Totals {
    pub wikis: usize,
    pub stored: u64,
    pub missing_days: u64,
    /// The wikis (and access) with a missing day in the range, in the report's order.
    pub with_gaps: Vec<String>,
}

impl StatusReport {
    /// Sums over every (project, access) of the report.
    pub fn totals(&self) -> Totals {
        Totals {
            wikis: self.projects.len(),
            stored: self.projects.iter().map(|p| p.stored).sum(),
            missing_days: self.projects.iter().map(|p| p.missing_days).sum(),
            with_gaps: self
                .projects
                .iter()
                .filter(|p| p.missing_days > 0)
                .map(|p| format!("{} {}", p.project, p.access))
                .collect(),
        }
    }
}

/// Why the store is not healthy, in one sentence; `None` when it is. Unhealthy: a day
/// the Pageviews API has published (before yesterday) is missing on any wiki, the last
/// run failed, was partial or was abandoned, or no run succeeded within `max_age` of
/// `now`.
pub fn check(
    report: &StatusReport,
    today: Day,
    now: Timestamp,
    max_age: Duration,
) -> Option<String> {
    let published_until = today.yesterday().ok()?.yesterday().ok()?;
    let gaps: Vec<String> = report
        .projects
        .iter()
        .filter_map(|p| {
            let (first, _) = p.missing.iter().find(|(f, _)| *f <= published_until)?;
            Some(format!("{} {} from {first} on", p.project, p.access))
        })
        .collect();
    match gaps.as_slice() {
        [] => {}
        [one] => return Some(format!("{one} lacks published days: run `wikitop sync`")),
        many => {
            return Some(format!(
                "{} wikis lack published days ({}): run `wikitop sync`",
                many.len(),
                many.join(", ")
            ));
        }
    }
    if let Some(last) = report.runs.first()
        && matches!(
            last.status,
            RunStatus::Failed | RunStatus::Partial | RunStatus::Abandoned
        )
    {
        return Some(format!(
            "the last run, `{}`, ended {}{}",
            last.run_id,
            last.status.as_str(),
            last.error
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        ));
    }
    let last_ok = report
        .runs
        .iter()
        .filter(|r| r.status == RunStatus::Ok)
        .filter_map(|r| r.finished_at)
        .max();
    let max = jiff::SignedDuration::try_from(max_age).unwrap_or(jiff::SignedDuration::MAX);
    let recent = last_ok.is_some_and(|t| now.duration_since(t) <= max);
    (!recent).then(|| match last_ok {
        Some(t) => format!("no run succeeded since {t}, more than {max:#} ago"),
        None => "no run has succeeded yet".to_owned(),
    })
}

/// Reads the store's days and latest runs. Opens DuckDB read-only: creates nothing.
pub async fn status(
    store: &StoreSettings,
    since: Day,
    until: Day,
    runs: usize,
) -> Result<StatusReport> {
    let mut store = Store::open(store, Mode::Read).await?;
    let (days, runs) = (
        store.all_stored_days().await?,
        store.recent_runs(runs).await?,
    );
    Ok(StatusReport {
        since,
        until,
        projects: days
            .into_iter()
            .filter_map(|d| summarize(d, since, until))
            .collect(),
        runs,
    })
}

fn summarize(stored: StoredDays, since: Day, until: Day) -> Option<ProjectStatus> {
    let first = *stored.days.first()?;
    let last = *stored.days.last()?;
    let mut missing = Vec::new();
    let mut missing_days = 0;
    let mut day = since;
    let mut open: Option<(Day, Day)> = None;
    while day <= until {
        if stored.days.contains(&day) {
            missing.extend(open.take());
        } else {
            missing_days += 1;
            open = Some(match open {
                Some((start, _)) => (start, day),
                None => (day, day),
            });
        }
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    missing.extend(open);
    let unassessed_in_range: Vec<Day> = stored.unassessed.range(since..=until).copied().collect();
    let unranked_in_range: Vec<Day> = stored.unranked.range(since..=until).copied().collect();
    Some(ProjectStatus {
        unranked: ranges(&unranked_in_range),
        unranked_days: unranked_in_range.len() as u64,
        unassessed: ranges(&unassessed_in_range),
        unassessed_days: unassessed_in_range.len() as u64,
        project: stored.project,
        access: stored.access,
        first,
        last,
        stored: stored.days.len() as u64,
        missing,
        missing_days,
    })
}

/// Sorted days as inclusive ranges of consecutive days.
fn ranges(days: &[Day]) -> Vec<(Day, Day)> {
    let mut out: Vec<(Day, Day)> = Vec::new();
    for &day in days {
        match out.last_mut() {
            Some((_, end)) if end.tomorrow().ok() == Some(day) => *end = day,
            _ => out.push((day, day)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use jiff::civil::date;

    #[test]
    fn missing_days_are_compressed_to_ranges() {
        let days = [1, 2, 5, 6, 9].iter().map(|d| date(2024, 1, *d)).collect();
        let s = summarize(
            StoredDays {
                project: "en.wikipedia".parse().unwrap(),
                access: Access::AllAccess,
                unassessed: [1, 2, 9].iter().map(|d| date(2024, 1, *d)).collect(),
                unranked: [5].iter().map(|d| date(2024, 1, *d)).collect(),
                days,
            },
            date(2024, 1, 1),
            date(2024, 1, 10),
        )
        .unwrap();
        assert_eq!(
            s.missing,
            [
                (date(2024, 1, 3), date(2024, 1, 4)),
                (date(2024, 1, 7), date(2024, 1, 8)),
                (date(2024, 1, 10), date(2024, 1, 10))
            ]
        );
        assert_eq!((s.stored, s.missing_days), (5, 5));
        assert_eq!(
            s.unassessed,
            [
                (date(2024, 1, 1), date(2024, 1, 2)),
                (date(2024, 1, 9), date(2024, 1, 9))
            ]
        );
        assert_eq!(s.unassessed_days, 3);
        assert_eq!(s.unranked, [(date(2024, 1, 5), date(2024, 1, 5))]);
    }

    fn run(id: &str, status: RunStatus, finished: &str) -> RunRecord {
        let at: Timestamp = finished.parse().unwrap();
        RunRecord {
            run_id: id.into(),
            started_at: at,
            finished_at: Some(at),
            status,
            arguments: "sync".into(),
            days_written: 1,
            rows_written: 100,
            http_requests: 3,
            http_retries: 0,
            error: (status != RunStatus::Ok).then(|| "2024-01-09: gave up".into()),
        }
    }

    /// A store of 2024-01-01..09 checked on 2024-01-11 at noon: 2024-01-10 may not be
    /// published yet.
    fn healthy() -> StatusReport {
        let days = (1..=9).map(|d| date(2024, 1, d)).collect();
        let stored = StoredDays {
            project: "en.wikipedia".parse().unwrap(),
            access: Access::AllAccess,
            days,
            unassessed: BTreeSet::new(),
            unranked: BTreeSet::new(),
        };
        StatusReport {
            since: date(2024, 1, 1),
            until: date(2024, 1, 10),
            projects: vec![summarize(stored, date(2024, 1, 1), date(2024, 1, 10)).unwrap()],
            runs: vec![run("r2", RunStatus::Ok, "2024-01-11T06:00:00Z")],
        }
    }

    #[test]
    fn the_check_fails_on_each_condition_and_passes_a_healthy_store() {
        let today = date(2024, 1, 11);
        let now: Timestamp = "2024-01-11T12:00:00Z".parse().unwrap();
        let day = Duration::from_secs(36 * 3600);
        assert_eq!(check(&healthy(), today, now, day), None);

        let mut gap = healthy();
        gap.projects[0] = summarize(
            StoredDays {
                project: "en.wikipedia".parse().unwrap(),
                access: Access::AllAccess,
                days: [1, 2, 4, 5, 6, 7, 8, 9]
                    .iter()
                    .map(|d| date(2024, 1, *d))
                    .collect(),
                unassessed: BTreeSet::new(),
                unranked: BTreeSet::new(),
            },
            date(2024, 1, 1),
            date(2024, 1, 10),
        )
        .unwrap();
        let why = check(&gap, today, now, day).unwrap();
        assert!(why.contains("from 2024-01-03 on"), "{why}");
        // Across wikis: every wiki with a gap is named, and the totals sum them.
        let mut two = gap.clone();
        let mut de = gap.projects[0].clone();
        de.project = "de.wikipedia".parse().unwrap();
        two.projects.push(de);
        two.projects.push(healthy().projects[0].clone());
        let why = check(&two, today, now, day).unwrap();
        assert!(
            why.starts_with("2 wikis lack published days (en.wikipedia all-access from 2024-01-03 on, de.wikipedia all-access from 2024-01-03 on)"),
            "{why}"
        );
        let totals = two.totals();
        assert_eq!((totals.wikis, totals.stored), (3, 8 + 8 + 9));
        assert_eq!(totals.missing_days, 2 + 2 + 1);
        assert_eq!(totals.with_gaps.len(), 3);

        for status in [RunStatus::Failed, RunStatus::Partial, RunStatus::Abandoned] {
            let mut bad = healthy();
            bad.runs
                .insert(0, run("r3", status, "2024-01-11T07:00:00Z"));
            let why = check(&bad, today, now, day).unwrap();
            assert!(
                why.contains("`r3`") && why.contains(status.as_str()),
                "{why}"
            );
        }

        let mut stale = healthy();
        stale.runs = vec![run("r1", RunStatus::Ok, "2024-01-09T06:00:00Z")];
        let why = check(&stale, today, now, day).unwrap();
        assert!(
            why.contains("no run succeeded since 2024-01-09T06:00:00Z"),
            "{why}"
        );
        stale.runs.clear();
        assert_eq!(
            check(&stale, today, now, day).unwrap(),
            "no run has succeeded yet"
        );
        // A run still going is not a failure: the last success counts.
        let mut running = healthy();
        running
            .runs
            .insert(0, run("r3", RunStatus::Running, "2024-01-11T11:00:00Z"));
        assert_eq!(check(&running, today, now, day), None);
    }
}
