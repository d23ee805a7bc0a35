//! `status`: what the store holds, what it lacks, and how the last runs went.

use crate::error::Result;
use crate::model::{Access, Day, Project, RunRecord};
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
}
