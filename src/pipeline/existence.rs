//! Whether a project exists, decided in this one place. The Pageviews API answers 404
//! both for a day it has not published yet and for a project it does not know; this
//! type tells the two apart from what the store and the run have seen, asking the API
//! once more only when nothing else can decide. It owns no day and writes nothing.

use crate::error::{Error, Result};
use crate::http::Http;
use crate::model::{Day, FIRST_PAGEVIEWS_DAY, Project};
use crate::settings::Settings;
use crate::sinks::Sink;
use crate::sources::pageviews::{self, TopList};

/// A 404 for a day this close to today means "not published yet"; older means the
/// project does not exist (or the API lost the day).
const PUBLICATION_LAG_DAYS: i32 = 3;
/// How far before the recent days the probe asks: a day long published everywhere.
const PROBE_DAYS_BACK: i32 = 30;

/// What a 404 for a day means once the project is known to exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Gap {
    /// A recent day: the API has not published it yet, so the range ends here.
    NotPublishedYet,
    /// An older day the API lacks: that day fails, the others go on.
    Missing,
}

/// What is known about one project's existence during a run.
pub(super) struct ProjectExistence<'a> {
    settings: &'a Settings,
    http: &'a Http,
    project: &'a Project,
    /// The store holds a day of it, or the API published a day of this run.
    known: bool,
    /// The first day whose 404 may mean "not published yet".
    recent: Day,
}

impl<'a> ProjectExistence<'a> {
    /// Starts from the store: a project with any stored day exists.
    pub(super) async fn from_store<S: Sink>(
        sink: &mut S,
        settings: &'a Settings,
        http: &'a Http,
        project: &'a Project,
    ) -> Result<Self> {
        let stored = sink
            .stored_days(
                project,
                settings.access,
                FIRST_PAGEVIEWS_DAY,
                settings.today,
            )
            .await?;
        let recent = settings
            .today
            .checked_sub(jiff::Span::new().days(PUBLICATION_LAG_DAYS))
            .unwrap_or(settings.today);
        Ok(ProjectExistence {
            settings,
            http,
            project,
            known: !stored.is_empty(),
            recent,
        })
    }

    /// The API published a day of the project.
    pub(super) fn saw_published(&mut self) {
        self.known = true;
    }

    /// What the API's 404 for `day` means, or `ProjectNotFound` if it shows the
    /// project does not exist: an old day of a project never seen is proof enough;
    /// a recent one is ambiguous, so one probe decides.
    pub(super) async fn judge_not_found(&self, day: Day) -> Result<Gap> {
        let recent = day >= self.recent;
        let exists = self.known || (recent && self.probe().await?);
        if !exists {
            return Err(Error::ProjectNotFound(self.project.to_string()));
        }
        Ok(if recent {
            Gap::NotPublishedYet
        } else {
            Gap::Missing
        })
    }

    /// A 404 for a recent day is ambiguous for a project never seen before: one request
    /// for a day that is long published tells "not yet" from "no such project".
    async fn probe(&self) -> Result<bool> {
        let probe = self
            .recent
            .checked_sub(jiff::Span::new().days(PROBE_DAYS_BACK))
            .unwrap_or(self.recent);
        let list = pageviews::fetch_top(
            self.http,
            &self.settings.pageviews_api,
            self.project,
            self.settings.access,
            probe,
            1,
        )
        .await?;
        Ok(matches!(list, TopList::Published(_)))
    }
}
