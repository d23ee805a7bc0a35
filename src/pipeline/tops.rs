//! Stage 1, the top-list fetcher: one project's top lists in day order,
//! `pageviews_concurrency` requests in flight, stopping at the first day the API has
//! not published. It hands each day on as published entries or as a failure; what a
//! 404 means is `existence`'s call, and categories are the next stage's.

use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::error::{Error, Result};
use crate::http::Http;
use crate::judge::DesktopList;
use crate::model::{Day, Project, TopEntry};
use crate::settings::Settings;
use crate::sources::pageviews::{self, TopList};

use super::existence::{Gap, ProjectExistence};

/// A day as the fetcher hands it to the category resolver.
pub(super) enum Fetched {
    /// The top list, and the desktop list when the settings ask for it.
    Published(Day, Vec<TopEntry>, Option<DesktopList>),
    /// The day fails with this message; the days after it go on.
    Failed(Day, String),
}

/// Fetches one project's top lists and keeps what they show about the project.
pub(super) struct TopFetcher<'a> {
    settings: &'a Settings,
    http: &'a Http,
    project: &'a Project,
    existence: ProjectExistence<'a>,
}

impl<'a> TopFetcher<'a> {
    pub(super) fn new(
        settings: &'a Settings,
        http: &'a Http,
        project: &'a Project,
        existence: ProjectExistence<'a>,
    ) -> Self {
        TopFetcher {
            settings,
            http,
            project,
            existence,
        }
    }

    /// Sends `days` in order into `tx`. Returns the first unpublished day, if any.
    pub(super) async fn run(
        mut self,
        days: Vec<Day>,
        tx: mpsc::Sender<Fetched>,
    ) -> Result<Option<Day>> {
        let (settings, http, project) = (self.settings, self.http, self.project);
        let mut lists = futures_util::stream::iter(days)
            .map(|day| fetch_day(settings, http, project, day))
            .buffered(settings.pageviews_concurrency);
        while let Some(day) = lists.next().await {
            let fetched = match self.judge(day).await? {
                Next::Send(fetched) => fetched,
                Next::Stop(day) => return Ok(Some(day)),
            };
            if tx.send(fetched).await.is_err() {
                break; // the categories stage stopped: the run is ending
            }
        }
        Ok(None)
    }

    /// What a fetched day becomes: handed on, or the end of the published days.
    async fn judge(&mut self, day: DayLists) -> Result<Next> {
        let DayLists { day, list, desktop } = day;
        Ok(Next::Send(match list {
            Ok(TopList::Published(entries)) => {
                self.existence.saw_published();
                match desktop.transpose() {
                    Ok(None) => Fetched::Published(day, entries, None),
                    Ok(Some(Some(desktop))) => Fetched::Published(day, entries, Some(desktop)),
                    Ok(Some(None)) => Fetched::Failed(
                        day,
                        "the Pageviews API has no desktop top list for this day (404)".to_owned(),
                    ),
                    Err(e @ Error::Unreachable { .. }) => return Err(e),
                    Err(e) => Fetched::Failed(day, e.to_string()),
                }
            }
            Ok(TopList::NotFound) => match self.existence.judge_not_found(day).await? {
                Gap::NotPublishedYet => {
                    let project = self.project;
                    tracing::info!(%project, %day, "Not published yet by the Pageviews API; stopping here.");
                    return Ok(Next::Stop(day));
                }
                Gap::Missing => Fetched::Failed(
                    day,
                    "the Pageviews API has no top list for this day (404)".to_owned(),
                ),
            },
            // Every other day would fail the same way, each after its full backoff:
            // stop; the days already stored stay, and the next run resumes.
            Err(e @ Error::Unreachable { .. }) => return Err(e),
            Err(e) => Fetched::Failed(day, e.to_string()),
        }))
    }
}

/// A day's answers: the top list, and the desktop list when it was asked for.
struct DayLists {
    day: Day,
    list: Result<TopList>,
    desktop: Option<Result<Option<DesktopList>>>,
}

/// What the fetcher does with a day.
enum Next {
    Send(Fetched),
    /// The API has not published this day yet: stop here.
    Stop(Day),
}

/// Fetches a day's top list, then its desktop list when the settings ask for it and the
/// top list is published.
async fn fetch_day(settings: &Settings, http: &Http, project: &Project, day: Day) -> DayLists {
    let api = &settings.pageviews_api;
    let list = pageviews::fetch_top(http, api, project, settings.access, day, settings.top).await;
    // One after the other, so the day still holds one request slot.
    let desktop = match &list {
        Ok(TopList::Published(entries)) if settings.desktop => {
            Some(pageviews::fetch_desktop(http, api, project, day, entries).await)
        }
        _ => None,
    };
    DayLists { day, list, desktop }
}
