//! Stage 2, the category resolver: categories for every article of every day, one
//! Action API request in flight. Titles are deduplicated across the run (a title's
//! categories are fetched once, and again only if it comes back after `KEEP_DAYS`
//! away from the top list) and packed 50 to a request across day boundaries, so the
//! request count sits on the floor. A day waits here until all its articles are
//! resolved, then goes to the writer whole. It never touches a store.

use std::collections::{HashSet, VecDeque};

use jiff::Timestamp;
use tokio::sync::mpsc;

use crate::http::Http;
use crate::judge::DesktopList;
use crate::model::{Day, PageInfo, PageStatus, Project, TopEntry};
use crate::sources::categories::{self, MAX_TITLES_PER_REQUEST};

use super::assemble::{DayAssembler, DayOutcome};
use super::pages::PageCache;
use super::tops::Fetched;

/// A top list waiting for the categories of some of its articles.
struct PendingDay {
    day: Day,
    entries: Vec<TopEntry>,
    desktop: Option<DesktopList>,
}

/// The resolver's state for one project's run.
pub(super) struct CategoryResolver<'a> {
    http: &'a Http,
    action_url: String,
    project: &'a Project,
    assembler: DayAssembler<'a>,
    cache: PageCache,
    /// The titles in `pending`, so a title trending on several waiting days is asked once.
    queued: HashSet<String>,
    /// Titles to ask for, in the order they came; each full 50 makes a request.
    pending: VecDeque<String>,
    /// Days in the order they came, each until all its articles are cached.
    waiting: VecDeque<PendingDay>,
    /// The wiki's main page, learnt with the run's first request (`meta=siteinfo`).
    main_page: Option<String>,
    /// The newest day admitted: a page fetched now is wanted by no later day yet.
    newest: Day,
}

impl<'a> CategoryResolver<'a> {
    /// `action_api` is the settings' template; the project's host fills it.
    pub(super) fn new(
        http: &'a Http,
        action_api: &str,
        project: &'a Project,
        assembler: DayAssembler<'a>,
    ) -> Self {
        CategoryResolver {
            http,
            action_url: categories::action_url(action_api, &project.host()),
            project,
            assembler,
            cache: PageCache::default(),
            queued: HashSet::new(),
            pending: VecDeque::new(),
            waiting: VecDeque::new(),
            main_page: None,
            newest: Day::MIN,
        }
    }

    /// Resolves every day from `rx` and hands it to `tx`, ready or failed. Ends when
    /// `rx` is done and every day is handed over, or when the writer stops.
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::Receiver<Fetched>,
        tx: mpsc::Sender<DayOutcome>,
    ) {
        let mut open = true;
        loop {
            // Hand over every day whose articles are all resolved.
            let ready = self.take_ready();
            if !send_all(&tx, ready).await {
                return;
            }
            if let Some(batch) = self.next_batch(open) {
                let failed = self.fetch(batch).await;
                if !send_all(&tx, failed).await {
                    return;
                }
                continue;
            }
            if !open {
                debug_assert!(self.waiting.is_empty());
                return;
            }
            match rx.recv().await {
                None => open = false,
                Some(Fetched::Published(day, entries, desktop)) => {
                    self.admit(day, entries, desktop);
                }
                Some(Fetched::Failed(day, error)) => {
                    if !send_all(&tx, vec![DayOutcome::Failed(day, error)]).await {
                        return;
                    }
                }
            }
        }
    }

    /// Forgets the pages no day has wanted for more than `KEEP_DAYS` before `day`, then
    /// queues the day's unresolved titles and makes it wait for them.
    fn admit(&mut self, day: Day, entries: Vec<TopEntry>, desktop: Option<DesktopList>) {
        self.newest = self.newest.max(day);
        self.cache
            .forget_old(day, self.waiting.front().map(|d| d.day));
        for e in &entries {
            if e.article == categories::NO_TITLE && !self.cache.contains(&e.article) {
                let page =
                    PageInfo::without_page(&e.article, PageStatus::NoTitle, Timestamp::now());
                self.cache.insert(e.article.clone(), page, day);
            }
            if !self.cache.want(&e.article, day) && self.queued.insert(e.article.clone()) {
                self.pending.push_back(e.article.clone());
            }
        }
        self.waiting.push_back(PendingDay {
            day,
            entries,
            desktop,
        });
    }

    /// The waiting days whose articles are all cached, assembled, in order.
    fn take_ready(&mut self) -> Vec<DayOutcome> {
        let cache = &self.cache;
        let (ready, still): (VecDeque<_>, VecDeque<_>) = self
            .waiting
            .drain(..)
            .partition(|d| d.entries.iter().all(|e| cache.contains(&e.article)));
        self.waiting = still;
        let main_page = self.main_page.as_deref();
        ready
            .into_iter()
            .map(|d| {
                DayOutcome::Ready(self.assembler.assemble(
                    d.day,
                    d.entries,
                    d.desktop.as_ref(),
                    cache,
                    main_page,
                ))
            })
            .collect()
    }

    /// The next request's titles: a full 50, or the rest once no more days will come.
    fn next_batch(&mut self, open: bool) -> Option<Vec<String>> {
        let full = self.pending.len() >= MAX_TITLES_PER_REQUEST;
        if !full && (open || self.pending.is_empty()) {
            return None;
        }
        let n = self.pending.len().min(MAX_TITLES_PER_REQUEST);
        let batch: Vec<String> = self.pending.drain(..n).collect();
        for article in &batch {
            self.queued.remove(article);
        }
        Some(batch)
    }

    /// Asks for one batch's categories. Returns the days that fail with it.
    async fn fetch(&mut self, batch: Vec<String>) -> Vec<DayOutcome> {
        match self.answer(&batch).await {
            Ok(pages) => {
                // Every day waiting for these titles was admitted by now.
                for (article, info) in batch.into_iter().zip(pages) {
                    self.cache.insert(article, info, self.newest);
                }
                Vec::new()
            }
            Err(e) => {
                // The days waiting on these titles fail now; a later day with one of
                // them queues it again, so one bad hour does not fail the whole run.
                let msg = e.to_string();
                tracing::warn!(project = %self.project, error = %msg, "A categories request failed; its days stay missing until the next run.");
                let failed: HashSet<&String> = batch.iter().collect();
                let (hit, kept): (VecDeque<_>, VecDeque<_>) = self
                    .waiting
                    .drain(..)
                    .partition(|d| d.entries.iter().any(|e| failed.contains(&e.article)));
                self.waiting = kept;
                hit.into_iter()
                    .map(|d| DayOutcome::Failed(d.day, msg.clone()))
                    .collect()
            }
        }
    }

    /// The batch's pages, once the main page they are judged against is known: asked
    /// with the run's first batch, or alone if the server left it out of the answer.
    async fn answer(&mut self, batch: &[String]) -> crate::error::Result<Vec<PageInfo>> {
        let siteinfo = self.main_page.is_none();
        let answer = categories::fetch_categories(
            self.http,
            &self.action_url,
            batch,
            Timestamp::now(),
            siteinfo,
        )
        .await?;
        if let Some(main_page) = answer.main_page {
            self.main_page = Some(main_page);
        }
        let judged_by_it = answer
            .pages
            .iter()
            .any(|p| matches!(p.status, PageStatus::Ok | PageStatus::Redirect));
        if self.main_page.is_none() && judged_by_it {
            self.main_page = Some(categories::fetch_main_page(self.http, &self.action_url).await?);
        }
        Ok(answer.pages)
    }
}

/// Sends `outcomes` in order; false when the writer has stopped (the run is ending).
async fn send_all(tx: &mpsc::Sender<DayOutcome>, outcomes: Vec<DayOutcome>) -> bool {
    for outcome in outcomes {
        if tx.send(outcome).await.is_err() {
            return false;
        }
    }
    true
}
