//! The planner: which days a run fetches. For each project, the days of
//! `[since, last]` that the shard owns and (unless forced) the store lacks, and the
//! request estimate `--dry-run` prints. It asks the sink one question per project and
//! sends no request; fetching is the other stages' job.

use crate::error::Result;
use crate::model::{Day, Project};
use crate::settings::Settings;
use crate::sinks::Sink;
use crate::sources::categories::MAX_TITLES_PER_REQUEST;

use super::outcome::{DryRun, RunOutcome};

/// Expected category rounds per 50-title batch (500 category rows per response,
/// ~20 categories a page), for `--dry-run` estimates.
const ROUNDS_PER_BATCH: f64 = 2.5;
/// Share of a day's top list that was not in the list of any earlier day.
const NEW_TITLE_SHARE: f64 = 0.4;

/// The days to fetch for each project, in the settings' project order.
pub(super) type Plans = Vec<(Project, Vec<Day>)>;

/// Decides the days of a run from the settings and what the store already has.
pub(super) struct Planner<'a> {
    settings: &'a Settings,
}

impl<'a> Planner<'a> {
    pub(super) fn new(settings: &'a Settings) -> Self {
        Planner { settings }
    }

    /// Every project's days, counting the planned and the skipped ones into `outcome`.
    pub(super) async fn plan<S: Sink>(
        &self,
        sink: &mut S,
        outcome: &mut RunOutcome,
    ) -> Result<Plans> {
        let mut plans = Vec::new();
        for project in &self.settings.projects {
            let (days, skipped) = self.plan_project(sink, project).await?;
            outcome.days_skipped += skipped;
            outcome.days_planned += days.len() as u64;
            plans.push((project.clone(), days));
        }
        Ok(plans)
    }

    /// What `--dry-run` prints instead of fetching.
    pub(super) fn dry_run(&self, plans: Plans) -> DryRun {
        let requests: u64 = plans
            .iter()
            .map(|(_, days)| {
                estimate_requests(days.len() as u64, self.settings.top, self.settings.desktop)
            })
            .sum();
        DryRun {
            estimated_time: self.settings.http.rate.time_for(requests),
            estimated_requests: requests,
            days: plans,
        }
    }

    /// Days in `[since, last]` owned by the shard and (unless forced) not yet stored,
    /// and how many were skipped as stored.
    async fn plan_project<S: Sink>(
        &self,
        sink: &mut S,
        project: &Project,
    ) -> Result<(Vec<Day>, u64)> {
        let settings = self.settings;
        let last = settings.last_day();
        if last < settings.since {
            return Ok((Vec::new(), 0));
        }
        let stored = if settings.force {
            Default::default()
        } else {
            sink.stored_days(project, settings.access, settings.since, last)
                .await?
        };
        let mut days = Vec::new();
        let mut skipped = 0;
        let mut day = settings.since;
        while day <= last {
            if settings.shard.owns(day) {
                if stored.contains(&day) {
                    skipped += 1;
                } else {
                    days.push(day);
                }
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        Ok((days, skipped))
    }
}

/// Requests a run of `days` days would send with `top` articles a day: a top list a
/// day, and a desktop list a day when `desktop`, plus the categories batches.
pub(crate) fn estimate_requests(days: u64, top: u32, desktop: bool) -> u64 {
    if days == 0 {
        return 0;
    }
    let titles = top as f64 * (1.0 + (days - 1) as f64 * NEW_TITLE_SHARE);
    let batches = (titles / MAX_TITLES_PER_REQUEST as f64).ceil();
    let lists = if desktop { 2 * days } else { days };
    lists + (batches * ROUNDS_PER_BATCH).ceil() as u64
}
