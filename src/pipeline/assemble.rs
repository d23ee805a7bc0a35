//! The day assembler: a top list whose every article is resolved becomes the rows the
//! sink stores, stamped with the run. It decides nothing about which days are ready
//! (the category resolver does) or when they are written (the writer does).

use std::sync::Arc;

use jiff::Timestamp;

use crate::model::{Access, Day, DayBatch, Project, TopEntry, TopRow};

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
}

impl<'a> DayAssembler<'a> {
    pub(super) fn new(project: &'a Project, access: Access, run_id: &'a str) -> Self {
        DayAssembler {
            project,
            access,
            run_id,
        }
    }

    /// A day whose every article is cached, as the rows the sink stores.
    pub(super) fn assemble(&self, day: Day, entries: Vec<TopEntry>, pages: &PageCache) -> DayBatch {
        let rows = entries
            .into_iter()
            .filter_map(|e| {
                let page = Arc::new(pages.get(&e.article)?);
                Some(TopRow {
                    rank: e.rank,
                    article: e.article,
                    views: e.views,
                    page,
                })
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
