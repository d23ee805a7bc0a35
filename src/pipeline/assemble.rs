//! The day assembler: a top list whose every article is resolved becomes the rows the
//! sink stores, stamped with the run. It decides nothing about which days are ready
//! (the category resolver does) or when they are written (the writer does).

use std::sync::Arc;

use jiff::Timestamp;

use crate::judge::{DesktopList, Judging, Served};
use crate::model::{Access, Day, DayBatch, PageInfo, Project, TopEntry, TopRow};

use super::pages::PageCache;

/// A day as the category resolver hands it to the writer.
pub(super) enum DayOutcome {
    Ready(DayBatch),
    /// The day fails with this message; it stays missing until the next run.
    Failed(Day, String),
}

/// Builds one project's finished days for one run.
pub(super) struct DayAssembler<'a> {
    project: &'a Project,
    access: Access,
    run_id: &'a str,
    judging: &'a Judging,
}

impl<'a> DayAssembler<'a> {
    pub(super) fn new(
        project: &'a Project,
        access: Access,
        run_id: &'a str,
        judging: &'a Judging,
    ) -> Self {
        DayAssembler {
            project,
            access,
            run_id,
            judging,
        }
    }

    /// A day whose every article is cached, as the rows the sink stores, each judged
    /// against the day's desktop list and the wiki's main page.
    pub(super) fn assemble(
        &self,
        day: Day,
        entries: Vec<TopEntry>,
        desktop: Option<&DesktopList>,
        pages: &PageCache,
        main_page: Option<&str>,
    ) -> DayBatch {
        let resolved: Vec<(TopEntry, PageInfo)> = entries
            .into_iter()
            .filter_map(|e| {
                let page = pages.get(&e.article)?;
                Some((e, page))
            })
            .collect();
        let served: Vec<Served<'_>> = resolved
            .iter()
            .map(|(e, page)| Served {
                rank: e.rank,
                article: &e.article,
                views: e.views,
                page,
            })
            .collect();
        let assessments = self
            .judging
            .assess(self.project, &served, desktop, main_page);
        let rows = resolved
            .into_iter()
            .zip(assessments)
            .map(|((e, page), assessment)| TopRow {
                rank: e.rank,
                article: e.article,
                views: e.views,
                page: Arc::new(page),
                assessment,
            })
            .collect();
        DayBatch {
            date: day,
            project: self.project.clone(),
            access: self.access,
            rows,
            run_id: self.run_id.to_owned(),
            ingested_at: Timestamp::now(),
        }
    }
}
