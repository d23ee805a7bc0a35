//! `sync --rejudge`: every judged column of the stored days of the range computed again
//! from what the store already holds — views, the desktop list's figures, page status,
//! namespace and title, and the main page — after a deny-list update or a change of
//! bounds. It builds no HTTP client, so it cannot send a request. Each day is replaced
//! all or nothing: DuckDB commits a day per transaction, BigQuery merges the days its
//! `Batching` groups in one job (atomic over all of them); the rows keep the run and
//! time that fetched them.
//!
//! A day stored before wikitop judged rows (schema version 3) lacks the desktop list
//! and the main page: it is listed in the run's outcome, never guessed; `sync --force`
//! fetches it again.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::judge::{DesktopList, Served};
use crate::model::{Day, DayBatch, PageInfo, PageStatus, Project, TopRow};
use crate::settings::Settings;
use crate::sinks::Sink;
use crate::sinks::schema::TopPageRow;

use super::outcome::{Progress, RunOutcome};

/// Days read from the store at a time: bounds memory whatever the range.
const READ_DAYS: usize = 31;

/// Judges every stored day of the settings' range again, project by project.
pub(super) async fn run<S: Sink>(
    settings: &Settings,
    sink: &mut S,
    progress: &dyn Progress,
    outcome: &mut RunOutcome,
) -> Result<()> {
    let until = settings.until.unwrap_or(settings.today);
    for project in &settings.projects {
        let days: Vec<Day> = sink
            .stored_days(project, settings.access, settings.since, until)
            .await?
            .into_iter()
            .collect();
        outcome.days_planned += days.len() as u64;
        progress.planned(project, days.len());
        for chunk in days.chunks(READ_DAYS) {
            let (Some(&from), Some(&to)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let rows = sink.read_days(project, settings.access, from, to).await?;
            let mut judged = Vec::new();
            for (day, rows) in by_day(rows) {
                match rejudged(settings, project, rows)? {
                    Some(batch) => judged.push(batch),
                    None => outcome.not_rejudged.push((project.clone(), day)),
                }
            }
            rewrite(sink, &judged, progress, outcome).await?;
        }
    }
    Ok(())
}

/// Replaces stored days: a day per transaction where commits are cheap (DuckDB); a chunk
/// per job where each write is a job (BigQuery's MERGE, atomic over its days).
pub(super) async fn rewrite<S: Sink>(
    sink: &mut S,
    days: &[DayBatch],
    progress: &dyn Progress,
    outcome: &mut RunOutcome,
) -> Result<()> {
    let batching = sink.batching();
    let per_write = if batching.flush_partial {
        1
    } else {
        batching.max_days.max(1)
    };
    for group in days.chunks(per_write) {
        sink.write_days(group).await?;
        for batch in group {
            super::write::count(outcome, progress, batch);
        }
    }
    Ok(())
}

/// Rows in (date, rank, article) order, split into days.
pub(super) fn by_day(rows: Vec<TopPageRow>) -> Vec<(Day, Vec<TopPageRow>)> {
    let mut days: Vec<(Day, Vec<TopPageRow>)> = Vec::new();
    for row in rows {
        match days.last_mut() {
            Some((day, rows)) if *day == row.date => rows.push(row),
            _ => days.push((row.date, vec![row])),
        }
    }
    days
}

/// One stored day judged again; `None` when it was stored before rows were judged.
fn rejudged(
    settings: &Settings,
    project: &Project,
    rows: Vec<TopPageRow>,
) -> Result<Option<DayBatch>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    if rows.iter().any(|r| r.is_article.is_none()) {
        return Ok(None);
    }
    let (date, run_id, ingested_at) = (first.date, first.run_id.clone(), first.ingested_at);
    let access = first
        .access
        .parse()
        .map_err(|e: String| Error::store("reading stored days", crate::error::Message(e)))?;
    let (desktop, main_page) = (desktop_list(&rows), main_page(&rows));
    let pages: Vec<PageInfo> = rows.iter().map(page_of).collect();
    let served: Vec<Served<'_>> = rows
        .iter()
        .zip(&pages)
        .map(|(r, page)| Served {
            rank: r.rank,
            article: &r.article,
            views: r.views,
            page,
        })
        .collect();
    let assessments =
        settings
            .judging
            .assess(project, &served, desktop.as_ref(), main_page.as_deref());
    let rows = rows
        .into_iter()
        .zip(pages)
        .zip(assessments)
        .map(|((r, page), assessment)| TopRow {
            rank: r.rank,
            article: r.article,
            views: r.views,
            page: Arc::new(page),
            assessment,
        })
        .collect();
    let project = project.clone();
    Ok(Some(DayBatch {
        date,
        project,
        access,
        rows,
        run_id,
        ingested_at,
    }))
}

/// The page a stored row was resolved to, as the Action API answered it then.
pub(super) fn page_of(r: &TopPageRow) -> PageInfo {
    PageInfo {
        title: r.title.clone(),
        page_id: r.page_id,
        namespace: r.namespace,
        status: r.page_status,
        wikidata_id: r.wikidata_id,
        categories: r.categories.clone(),
        hidden_categories: r.hidden_categories.clone(),
        fetched_at: r.categories_fetched_at,
    }
}

/// The day's desktop list as far as the store kept it: `desktop_min_views` is set on
/// every row when the list was fetched, `desktop_views` on the rows it held.
fn desktop_list(rows: &[TopPageRow]) -> Option<DesktopList> {
    let min_views = rows.iter().find_map(|r| r.desktop_min_views)?;
    let views: HashMap<String, u64> = rows
        .iter()
        .filter_map(|r| Some((r.article.clone(), r.desktop_views?)))
        .collect();
    Some(DesktopList { views, min_views })
}

/// The wiki's main page, as the day was judged: the existing namespace-0 page that was
/// not an article. `None` when it was not in the day's list (then no row is it).
fn main_page(rows: &[TopPageRow]) -> Option<String> {
    rows.iter()
        .find(|r| {
            matches!(r.page_status, PageStatus::Ok | PageStatus::Redirect)
                && r.namespace == Some(0)
                && r.is_article == Some(false)
        })
        .map(|r| r.title.clone())
}
