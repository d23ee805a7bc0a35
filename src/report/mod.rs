//! `wikitop report`: the store, DuckDB or BigQuery, summarised as one self-contained
//! HTML file — coverage calendar, top categories by month, longest streaks, each day's
//! most viewed article, flagged traffic, summary and last runs.
//!
//! Data flows one way: `queries` writes the SQL, the sink runs it read-only
//! ([`ReadStore`]) and returns only the aggregated figures, [`build`] assembles them
//! into a [`Report`] (plain data, what tests compare with their own SQL), `charts`
//! draws its charts as SVG with `plotters`, and `render` fills the `minijinja`
//! template. Nothing is fetched from Wikimedia; nothing in the file refers to the
//! network, so it opens offline and can be mailed as it is. The library never prints:
//! [`write`] writes the file and says what it wrote.

mod charts;
mod figures;
mod format;
mod queries;
mod render;
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use crate::error::{Error, Result};
use crate::model::{Access, Day, Project, RunRecord};
use crate::settings::{DEFAULT_PROJECT, StoreInput, StoreSettings, parse_day};
use crate::sinks::read::{Param, ReadStore, Record, fetch};
use crate::sinks::schema::{SCHEMA_VERSION, TOP_PAGES};
use crate::sinks::{Mode, Sink, Store};

pub use self::figures::{Flagged, NumberOne, Streak, TopRead};
pub use self::format::thousands;

use self::figures::{CategoryCount, DailyViews, MonthCategory, MostReadPage, Totals};
pub use self::render::render;
pub use self::world::{World, WorldRow, WorldTopic, world_top};

/// Where the report goes unless `--out` says otherwise.
pub const DEFAULT_OUT: &str = "report.html";
/// Runs the summary lists.
const RUNS: usize = 5;

/// `report` options as typed.
#[derive(Debug, Clone, Default)]
pub struct ReportInput {
    pub since: Option<String>,
    pub until: Option<String>,
    pub project: Option<String>,
    pub access: Option<Access>,
    pub out: Option<PathBuf>,
    pub all_rows: bool,
    pub store: StoreInput,
}

/// Everything `report` needs, validated before the store is opened.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// The first day of the report; the first stored day of the project when `None`.
    pub since: Option<Day>,
    /// Yesterday (UTC) unless given: the latest day the Pageviews API can have.
    pub until: Day,
    pub project: Project,
    pub access: Access,
    pub out: PathBuf,
    /// Count every row, not only the articles whose traffic is not flagged.
    pub all_rows: bool,
    pub store: StoreSettings,
    /// The day the report is made (UTC): days from yesterday on may be unpublished.
    pub today: Day,
}

impl ReportSettings {
    pub fn resolve(input: ReportInput, today: Day) -> Result<ReportSettings> {
        let since = input
            .since
            .as_deref()
            .map(|s| parse_day(s, today))
            .transpose()?;
        let until = match &input.until {
            Some(u) => parse_day(u, today)?,
            None => today.yesterday().unwrap_or(today),
        };
        if let Some(since) = since.filter(|s| *s > until) {
            return Err(Error::RangeReversed { since, until });
        }
        let project: Project = input
            .project
            .as_deref()
            .unwrap_or(DEFAULT_PROJECT)
            .parse()?;
        let out = input.out.unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
        check_output_file(&out)?;
        Ok(ReportSettings {
            since,
            until,
            project,
            access: input.access.unwrap_or_default(),
            out,
            all_rows: input.all_rows,
            store: input.store.resolve()?,
            today,
        })
    }
}

/// The report's file must go into an existing directory and not replace one.
fn check_output_file(out: &Path) -> Result<()> {
    let invalid = |why: &str| Error::InvalidSetting {
        what: "--out",
        value: out.display().to_string(),
        why: why.to_owned(),
    };
    if out.is_dir() {
        return Err(invalid("it is a directory; name the HTML file to write"));
    }
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
    if parent.is_some_and(|p| !p.is_dir()) {
        return Err(invalid("its directory does not exist"));
    }
    Ok(())
}

/// What a day of the range holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayState {
    Stored,
    /// Published by the Pageviews API (it is older than yesterday) but not stored.
    Missing,
    /// Yesterday or today, not stored: the Pageviews API publishes a day some hours
    /// after it ends, so it may simply not be out yet.
    NotPublished,
}

/// The headline figures. Rows, articles, categories and views count the report's rows
/// (articles without flagged traffic, or every row with `--all-rows`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub days_in_range: u64,
    pub days_stored: u64,
    pub days_missing: u64,
    pub days_not_published: u64,
    pub rows: u64,
    /// Distinct article names, as the Pageviews API served them.
    pub articles: u64,
    /// Distinct visible categories of those rows.
    pub categories: u64,
    pub views: u64,
    /// Every row of the range, whatever it is.
    pub range_rows: u64,
    /// Rows of the range that are no articles (special, missing, main page, …).
    pub not_articles: u64,
    /// Rows of the range whose traffic is flagged as automated.
    pub flagged: u64,
    /// Rows stored before the flags existed (schema version 3): counted by the
    /// fallback rule until re-fetched with `sync --force`.
    pub not_checked: u64,
}

/// The top categories' page-days (an article in the category on a day) by month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Categories {
    /// `YYYY-MM`, every month of the range in order.
    pub months: Vec<String>,
    /// The categories with the most page-days in the range, most first.
    pub rows: Vec<CategoryRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    pub category: String,
    pub page_days: u64,
    /// Page-days per month, aligned with [`Categories::months`].
    pub by_month: Vec<u64>,
}

/// A page among the most read of the range (a redirect and its target together), with
/// its views day by day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MostRead {
    pub title: String,
    pub views: u64,
    /// Days the page was among the report's rows.
    pub days: u64,
    /// Its best `article_rank`; `None` with `--all-rows` for a page never ranked.
    pub best_rank: Option<u64>,
    /// Its views on each day of the range, 0 where it was not in the list.
    pub daily: Vec<u64>,
}

/// Everything the HTML shows, as figures.
#[derive(Debug, Clone)]
pub struct Report {
    pub project: Project,
    pub access: Access,
    pub since: Day,
    pub until: Day,
    pub all_rows: bool,
    /// Which store, in words (`DuckDB file …`, `BigQuery dataset …`).
    pub store: String,
    pub generated_at: Timestamp,
    pub summary: Summary,
    /// Every day of `[since, until]`, in order.
    pub coverage: Vec<(Day, DayState)>,
    pub categories: Categories,
    pub streaks: Vec<Streak>,
    pub number_one: Vec<NumberOne>,
    pub most_read: Vec<MostRead>,
    pub top_read: Vec<TopRead>,
    pub flagged: Vec<Flagged>,
    /// The latest runs of the store, newest first.
    pub runs: Vec<RunRecord>,
    /// "What the world read", when the range holds several wikis.
    pub world: Option<World>,
}

/// What [`write`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    pub report: Report,
}

/// Reads the figures of the report from the store (read-only: nothing is created,
/// migrated or written there).
pub async fn build(settings: &ReportSettings) -> Result<Report> {
    let mut store = Store::open(&settings.store, Mode::Analysis).await?;
    let version = store.schema_version()?;
    collect(&mut store, version, settings.store.to_string(), settings).await
}

/// Builds the report and writes it to `settings.out` whole: into a temporary file
/// beside it first, renamed over it once complete, so a reader never sees half a file.
pub async fn write(settings: &ReportSettings) -> Result<Written> {
    let report = build(settings).await?;
    let html = render(&report)?;
    let out = &settings.out;
    let mut tmp = out.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    let written = std::fs::write(&tmp, html.as_bytes()).and_then(|()| std::fs::rename(&tmp, out));
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Output {
            path: out.clone(),
            source,
        });
    }
    Ok(Written {
        path: out.clone(),
        bytes: html.len() as u64,
        report,
    })
}

/// The figures of the range, each section one query run in the store.
async fn collect<S: Sink + ReadStore>(
    sink: &mut S,
    version: u32,
    store: String,
    settings: &ReportSettings,
) -> Result<Report> {
    if version < SCHEMA_VERSION {
        return Err(Error::StoreTooOld {
            store,
            found: version,
            needed: SCHEMA_VERSION,
        });
    }
    let (project, access, until) = (&settings.project, settings.access, settings.until);
    let since = match settings.since {
        Some(since) => since,
        None => first_stored_day(sink, project, access, until).await?,
    };
    let stored = sink.stored_days(project, access, since, until).await?;
    if stored.is_empty() {
        return Err(Error::NothingToReport {
            project: project.to_string(),
            access: access.as_str(),
            since,
            until,
        });
    }
    let scope = queries::Scope {
        dialect: sink.dialect(),
        table: sink.table(TOP_PAGES.name),
        project: project.clone(),
        access,
        since,
        until,
        all_rows: settings.all_rows,
    };
    let coverage = coverage(since, until, &stored, settings.today);
    let sections = Sections::read(sink, &scope).await?;
    Ok(Report {
        project: project.clone(),
        access,
        since,
        until,
        all_rows: settings.all_rows,
        store,
        generated_at: Timestamp::now(),
        summary: summary(&coverage, &sections),
        categories: categories(since, until, sections.categories_by_month),
        most_read: most_read(sections.most_read, &sections.daily, since, until),
        coverage,
        streaks: sections.streaks,
        number_one: sections.number_one,
        top_read: sections.top_read,
        flagged: sections.flagged,
        runs: sink.recent_runs(RUNS).await?,
        world: world::read(sink, access, since, until).await?,
    })
}

/// What the store answered, query by query.
struct Sections {
    totals: Totals,
    categories: u64,
    categories_by_month: Vec<MonthCategory>,
    streaks: Vec<Streak>,
    number_one: Vec<NumberOne>,
    most_read: Vec<MostReadPage>,
    daily: Vec<DailyViews>,
    top_read: Vec<TopRead>,
    flagged: Vec<Flagged>,
}

impl Sections {
    async fn read<S: ReadStore>(store: &mut S, scope: &queries::Scope) -> Result<Sections> {
        let params = scope.params();
        let totals: Vec<Totals> = run(store, scope.totals(), &params).await?;
        let categories: Vec<CategoryCount> = run(store, scope.category_count(), &params).await?;
        let mut number_one: Vec<NumberOne> = run(store, scope.number_one(), &params).await?;
        // Tied #1 pages: the most viewed (then the first title) stands for the day.
        number_one.dedup_by_key(|n| n.day);
        Ok(Sections {
            totals: totals.into_iter().next().unwrap_or_default(),
            categories: categories.first().map_or(0, |c| c.categories),
            categories_by_month: run(store, scope.categories_by_month(), &params).await?,
            streaks: run(store, scope.streaks(), &params).await?,
            number_one,
            most_read: run(store, scope.most_read(), &params).await?,
            daily: run(store, scope.most_read_daily(), &params).await?,
            top_read: run(store, scope.top_read(), &params).await?,
            flagged: run(store, scope.flagged(), &params).await?,
        })
    }
}

async fn run<R: Record, S: ReadStore>(
    store: &mut S,
    query: queries::Query,
    params: &[(&str, Param)],
) -> Result<Vec<R>> {
    fetch(store, query.what, &query.sql, params).await
}

/// The headline figures: the coverage's day counts and the store's totals.
fn summary(coverage: &[(Day, DayState)], sections: &Sections) -> Summary {
    let t = &sections.totals;
    Summary {
        days_in_range: coverage.len() as u64,
        days_stored: count(coverage, DayState::Stored),
        days_missing: count(coverage, DayState::Missing),
        days_not_published: count(coverage, DayState::NotPublished),
        rows: t.rows,
        articles: t.articles,
        categories: sections.categories,
        views: t.views,
        range_rows: t.range_rows,
        not_articles: t.not_articles,
        flagged: t.flagged,
        not_checked: t.not_checked,
    }
}

/// The most read pages with their views on each day of `[since, until]`.
fn most_read(
    pages: Vec<MostReadPage>,
    daily: &[DailyViews],
    since: Day,
    until: Day,
) -> Vec<MostRead> {
    let span = usize::try_from((until - since).get_days()).unwrap_or(0) + 1;
    pages
        .into_iter()
        .map(|page| {
            let mut by_day = vec![0; span];
            for d in daily.iter().filter(|d| d.title == page.title) {
                let offset = usize::try_from((d.day - since).get_days()).ok();
                if let Some(slot) = offset.and_then(|i| by_day.get_mut(i)) {
                    *slot = d.views;
                }
            }
            MostRead {
                title: page.title,
                views: page.views,
                days: page.days,
                best_rank: page.best_rank,
                daily: by_day,
            }
        })
        .collect()
}

/// The first day stored for the project up to `until`.
async fn first_stored_day<S: Sink>(
    sink: &mut S,
    project: &Project,
    access: Access,
    until: Day,
) -> Result<Day> {
    let all = sink.all_stored_days().await?;
    all.iter()
        .filter(|s| &s.project == project && s.access == access)
        .flat_map(|s| s.days.range(..=until).next().copied())
        .next()
        .ok_or_else(|| Error::NothingToReport {
            project: project.to_string(),
            access: access.as_str(),
            since: crate::model::FIRST_PAGEVIEWS_DAY,
            until,
        })
}

/// Each day of the range with what the store has of it.
fn coverage(since: Day, until: Day, stored: &BTreeSet<Day>, today: Day) -> Vec<(Day, DayState)> {
    let unpublished_from = today.yesterday().unwrap_or(today);
    let mut out = Vec::new();
    let mut day = since;
    while day <= until {
        let state = if stored.contains(&day) {
            DayState::Stored
        } else if day >= unpublished_from {
            DayState::NotPublished
        } else {
            DayState::Missing
        };
        out.push((day, state));
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    out
}

fn count(coverage: &[(Day, DayState)], state: DayState) -> u64 {
    coverage.iter().filter(|(_, s)| *s == state).count() as u64
}

/// Every month of the range, and the categories' monthly page-days lined up with them,
/// most page-days first (ties by name).
fn categories(since: Day, until: Day, rows: Vec<MonthCategory>) -> Categories {
    let mut months = Vec::new();
    let mut month = since.first_of_month();
    while month <= until {
        months.push(format!("{:04}-{:02}", month.year(), month.month()));
        let Ok(next) = month.checked_add(jiff::Span::new().months(1)) else {
            break;
        };
        month = next;
    }
    let index: BTreeMap<&str, usize> = months
        .iter()
        .enumerate()
        .map(|(i, m)| (m.as_str(), i))
        .collect();
    let mut by_category: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for row in rows {
        if let Some(&i) = index.get(row.month.as_str()) {
            by_category
                .entry(row.category)
                .or_insert_with(|| vec![0; months.len()])[i] += row.page_days;
        }
    }
    let mut rows: Vec<CategoryRow> = by_category
        .into_iter()
        .map(|(category, by_month)| CategoryRow {
            page_days: by_month.iter().sum(),
            category,
            by_month,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.page_days
            .cmp(&a.page_days)
            .then_with(|| a.category.cmp(&b.category))
    });
    Categories { months, rows }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn yesterday_and_today_are_not_published_older_gaps_are_missing() {
        let stored: BTreeSet<Day> = [date(2024, 1, 1), date(2024, 1, 3)].into();
        let states: Vec<DayState> = coverage(
            date(2024, 1, 1),
            date(2024, 1, 5),
            &stored,
            date(2024, 1, 5),
        )
        .into_iter()
        .map(|(_, s)| s)
        .collect();
        use DayState::*;
        assert_eq!(
            states,
            [Stored, Missing, Stored, NotPublished, NotPublished]
        );
    }

    #[test]
    fn categories_line_up_with_every_month_of_the_range() {
        let row = |m: &str, c: &str, n: u64| MonthCategory {
            month: m.into(),
            category: c.into(),
            page_days: n,
        };
        let c = categories(
            date(2023, 11, 20),
            date(2024, 2, 3),
            vec![
                row("2023-11", "B", 2),
                row("2024-02", "B", 1),
                row("2024-01", "A", 3),
            ],
        );
        assert_eq!(c.months, ["2023-11", "2023-12", "2024-01", "2024-02"]);
        assert_eq!(c.rows[0].category, "A");
        assert_eq!(c.rows[1].by_month, [2, 0, 0, 1]);
        assert_eq!((c.rows[0].page_days, c.rows[1].page_days), (3, 3));
    }
}
