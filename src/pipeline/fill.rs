//! `sync --fill-wikidata`: the Wikidata item of every row of the stored days that lack
//! it (days stored before schema version 5), read with page properties only — one
//! request per 50 distinct titles, each title once per run — and written back with
//! every other column as it was (the rows keep the run and time that fetched them).
//! Cheaper than `sync --force`, which fetches the day's top lists and every category
//! round again. A day is filled when no row of it has an item yet and some row is an
//! existing page; a day stored before wikitop judged rows (schema version 3) would lose
//! its NULL judgements in the rewrite, so it is listed in the outcome, not filled:
//! `sync --force` fetches it again.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Message, Result};
use crate::http::Http;
use crate::model::{Assessment, DayBatch, DesktopViews, PageStatus, Project, TopRow, WikidataId};
use crate::settings::Settings;
use crate::sinks::Sink;
use crate::sinks::schema::TopPageRow;
use crate::sources::categories::{self, MAX_TITLES_PER_REQUEST};

use super::outcome::{Progress, RunOutcome};
use super::rejudge::{by_day, page_of, rewrite};

/// Days read from the store at a time: bounds memory whatever the range.
const READ_DAYS: usize = 31;

/// Fills the items of the stored days of the settings' range, project by project.
pub(super) async fn run<S: Sink>(
    settings: &Settings,
    sink: &mut S,
    http: &Http,
    progress: &dyn Progress,
    outcome: &mut RunOutcome,
) -> Result<()> {
    let until = settings.until.unwrap_or(settings.today);
    for project in &settings.projects {
        let url = categories::action_url(&settings.action_api, &project.host());
        let days: Vec<_> = sink
            .stored_days(project, settings.access, settings.since, until)
            .await?
            .into_iter()
            .collect();
        let mut items: HashMap<String, Option<WikidataId>> = HashMap::new();
        let mut planned = false;
        for chunk in days.chunks(READ_DAYS) {
            let (Some(&from), Some(&to)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let rows = sink.read_days(project, settings.access, from, to).await?;
            let mut lacking = Vec::new();
            for (day, rows) in by_day(rows) {
                if !lacks_items(&rows) {
                    continue;
                }
                if rows.iter().any(|r| r.is_article.is_none()) {
                    outcome.not_rejudged.push((project.clone(), day));
                } else {
                    lacking.push(rows);
                }
            }
            if !planned && !lacking.is_empty() {
                // The days to fill are known chunk by chunk; progress counts them as met.
                planned = true;
                progress.planned(project, days.len());
            }
            outcome.days_planned += lacking.len() as u64;
            look_up(http, &url, &lacking, &mut items).await?;
            let filled = lacking
                .into_iter()
                .filter_map(|rows| filled(project, rows, &items).transpose())
                .collect::<Result<Vec<DayBatch>>>()?;
            rewrite(sink, &filled, progress, outcome).await?;
        }
    }
    Ok(())
}

/// No row has an item, and some row is a page that could have one.
fn lacks_items(rows: &[TopPageRow]) -> bool {
    rows.iter().all(|r| r.wikidata_id.is_none()) && rows.iter().any(exists)
}

fn exists(r: &TopPageRow) -> bool {
    matches!(r.page_status, PageStatus::Ok | PageStatus::Redirect)
}

/// Asks for the items of the existing pages' titles not yet known, 50 to a request.
async fn look_up(
    http: &Http,
    url: &str,
    days: &[Vec<TopPageRow>],
    items: &mut HashMap<String, Option<WikidataId>>,
) -> Result<()> {
    let mut wanted: Vec<String> = days
        .iter()
        .flatten()
        .filter(|r| exists(r) && !items.contains_key(&r.title))
        .map(|r| r.title.clone())
        .collect();
    wanted.sort();
    wanted.dedup();
    for batch in wanted.chunks(MAX_TITLES_PER_REQUEST) {
        let found = categories::fetch_items(http, url, batch).await?;
        items.extend(batch.iter().cloned().zip(found));
    }
    Ok(())
}

/// The day with each existing page's item and every other column as stored.
fn filled(
    project: &Project,
    rows: Vec<TopPageRow>,
    items: &HashMap<String, Option<WikidataId>>,
) -> Result<Option<DayBatch>> {
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let (date, run_id, ingested_at) = (first.date, first.run_id.clone(), first.ingested_at);
    let access = first.access.clone();
    let access = access
        .parse()
        .map_err(|e: String| Error::store("reading stored days", Message(e)))?;
    let rows = rows
        .into_iter()
        .map(|r| {
            let mut page = page_of(&r);
            page.wikidata_id = items
                .get(&r.title)
                .copied()
                .flatten()
                .filter(|_| exists(&r));
            TopRow {
                rank: r.rank,
                views: r.views,
                page: Arc::new(page),
                assessment: stored_assessment(&r),
                article: r.article,
            }
        })
        .collect();
    Ok(Some(DayBatch {
        date,
        project: project.clone(),
        access,
        rows,
        run_id,
        ingested_at,
    }))
}

/// The judgement a judged row was stored with.
fn stored_assessment(r: &TopPageRow) -> Assessment {
    Assessment {
        desktop: r.desktop_min_views.map(|min_views| DesktopViews {
            views: r.desktop_views,
            min_views,
        }),
        suspect: r.suspect_reason.clone(),
        is_article: r.is_article.unwrap_or(false),
        article_rank: r.article_rank,
        mostread_rank: r.mostread_rank,
    }
}
