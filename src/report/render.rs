//! A [`Report`] as one self-contained HTML file: the `minijinja` template
//! `report.html.j2` (compiled into the binary) filled with the figures and the charts'
//! SVG. Styles are inline, there is no script and no reference to any URL, so the file
//! opens offline and prints as it shows. Values are HTML-escaped by the template
//! engine; only the SVG that `charts` drew is inserted as markup.

use jiff::Timestamp;
use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::format::{label, percent, thousands};
use super::{
    Categories, DayState, Flagged, MostRead, NumberOne, Report, Streak, Summary, TopRead, World,
    charts,
};
use crate::error::{Error, Result};
use crate::model::{Day, RunRecord};

const TEMPLATE: &str = include_str!("report.html.j2");

/// Consecutive days with the same #1 article.
#[derive(Debug, Serialize)]
struct Reign {
    article: String,
    first: String,
    last: String,
    days: u64,
    peak: u64,
    views: u64,
}

fn reigns(days: &[NumberOne]) -> Vec<Reign> {
    let mut out: Vec<Reign> = Vec::new();
    let mut previous: Option<Day> = None;
    for d in days {
        let continues = previous.and_then(|p| p.tomorrow().ok()) == Some(d.day)
            && out.last().is_some_and(|r| r.article == d.article);
        match out.last_mut() {
            Some(r) if continues => {
                r.last = d.day.to_string();
                r.days += 1;
                r.peak = r.peak.max(d.views);
                r.views += d.views;
            }
            _ => out.push(Reign {
                article: d.article.clone(),
                first: d.day.to_string(),
                last: d.day.to_string(),
                days: 1,
                peak: d.views,
                views: d.views,
            }),
        }
        previous = Some(d.day);
    }
    out
}

/// How many reigns the report lists.
const REIGNS: usize = 10;

/// The longest reigns, most days first (then most views, then earliest).
fn longest_reigns(days: &[NumberOne]) -> Vec<Reign> {
    let mut all = reigns(days);
    all.sort_by(|a, b| {
        b.days
            .cmp(&a.days)
            .then(b.views.cmp(&a.views))
            .then(a.first.cmp(&b.first))
    });
    all.truncate(REIGNS);
    all
}

/// Missing days as ranges, `2024-01-03 → 2024-01-05`.
fn missing_ranges(coverage: &[(Day, DayState)]) -> Vec<String> {
    let mut out: Vec<(Day, Day)> = Vec::new();
    for &(d, state) in coverage {
        if state != DayState::Missing {
            continue;
        }
        match out.last_mut() {
            Some((_, last)) if last.tomorrow().ok() == Some(d) => *last = d,
            _ => out.push((d, d)),
        }
    }
    out.into_iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a} → {b}")
            }
        })
        .collect()
}

fn environment() -> Result<Environment<'static>> {
    let mut env = Environment::new();
    // Named `.html`, so every value is HTML-escaped unless marked safe.
    env.add_template("report.html", TEMPLATE)
        .map_err(template_failed)?;
    env.add_filter("num", |v: Value| -> String {
        match u64::try_from(v.clone()) {
            Ok(n) => thousands(n),
            Err(_) => v.to_string(),
        }
    });
    env.add_filter("pct", |v: Value| -> String {
        match f64::try_from(v.clone()) {
            Ok(x) => percent(x),
            Err(_) => "–".to_owned(),
        }
    });
    env.add_filter("article", |s: String| label(&s, usize::MAX));
    Ok(env)
}

/// A template error as ours; minijinja's message names the template's line.
fn template_failed(e: minijinja::Error) -> Error {
    Error::Template(e.to_string())
}

/// The report as HTML.
pub fn render(report: &Report) -> Result<String> {
    let env = environment()?;
    let template = env.get_template("report.html").map_err(template_failed)?;
    template.render(page(report)?).map_err(template_failed)
}

/// Everything the template reads, by the names it reads them: the header's facts, then
/// each section's context, built by its own function below.
fn page(report: &Report) -> Result<Value> {
    Ok(context! {
        project => report.project.to_string(),
        access => report.access.as_str(),
        since => report.since.to_string(),
        until => report.until.to_string(),
        all_rows => report.all_rows,
        store => report.store.clone(),
        generated_at => to_the_second(report.generated_at),
        version => env!("CARGO_PKG_VERSION"),
        summary => summary(&report.summary),
        charts => charts(report)?,
        months => report.categories.months.clone(),
        categories => category_rows(&report.categories),
        streaks => streak_rows(&report.streaks),
        most_read => most_read_rows(&report.most_read),
        top_read => top_read_rows(&report.top_read),
        reigns => Value::from(minijinja::value::Serde(longest_reigns(&report.number_one))),
        days => number_one_rows(&report.number_one, report.world.as_ref()),
        world => report.world.as_ref().map(world),
        flagged => flagged_rows(&report.flagged),
        runs => run_rows(&report.runs),
        missing => missing_ranges(&report.coverage),
    })
}

/// A time as a reader wants it in a report: to the second, not the nanosecond.
fn to_the_second(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

/// The charts' SVG, inserted as markup (it is `charts`' own output, never a value from
/// the store). A section without figures gets no chart: the template says "none".
fn charts(report: &Report) -> Result<Value> {
    Ok(context! {
        coverage => Value::from_safe_string(charts::coverage(&report.coverage)?),
        categories => chart_of(&report.categories.rows, || charts::categories(&report.categories))?,
        streaks => chart_of(&report.streaks, || {
            charts::streaks(&report.streaks, report.since, report.until)
        })?,
        number_one => chart_of(&report.number_one, || {
            charts::number_one(&report.number_one, report.since, report.until)
        })?,
        flagged => chart_of(&report.flagged, || charts::flagged(&report.flagged))?,
    })
}

/// The chart `draw` draws of `figures`, or none without figures.
fn chart_of<T>(figures: &[T], draw: impl FnOnce() -> Result<String>) -> Result<Option<Value>> {
    (!figures.is_empty())
        .then(draw)
        .transpose()
        .map(|svg| svg.map(Value::from_safe_string))
}

/// The headline figures, for the summary's cards and table.
fn summary(s: &Summary) -> Value {
    context! {
        days_in_range => s.days_in_range, days_stored => s.days_stored,
        days_missing => s.days_missing, days_not_published => s.days_not_published,
        rows => s.rows, articles => s.articles, categories => s.categories, views => s.views,
        range_rows => s.range_rows, not_articles => s.not_articles, flagged => s.flagged,
        not_checked => s.not_checked,
    }
}

/// The top categories' table; `by_month` is aligned with the page's `months`.
fn category_rows(categories: &Categories) -> Vec<Value> {
    categories
        .rows
        .iter()
        .map(|r| {
            context! {
                category => r.category.clone(), page_days => r.page_days,
                by_month => r.by_month.clone(),
            }
        })
        .collect()
}

fn streak_rows(streaks: &[Streak]) -> Vec<Value> {
    streaks
        .iter()
        .map(|s| {
            context! {
                article => s.article.clone(), first => s.first.to_string(),
                last => s.last.to_string(), days => s.days, views => s.views,
            }
        })
        .collect()
}

/// Every day's #1, the table after the longest reigns.
fn number_one_rows(days: &[NumberOne], world: Option<&World>) -> Vec<Value> {
    days.iter()
        .map(|d| {
            let firsts: Vec<Value> = world
                .into_iter()
                .flat_map(|w| w.number_one.iter().filter(|r| r.day == d.day))
                .map(|r| {
                    let (lang, title) = first_title(&r.projects, &r.titles);
                    context! {
                        item => r.wikidata_id.clone(), title, lang, wikis => r.wikis, views => r.views,
                    }
                })
                .collect();
            context! {
                day => d.day.to_string(), article => d.article.clone(), views => d.views,
                world => firsts,
            }
        })
        .collect()
}

/// The most read pages, each with its views day by day drawn as a sparkline (markup of
/// `charts`' own making, like the charts).
fn most_read_rows(pages: &[MostRead]) -> Vec<Value> {
    pages
        .iter()
        .map(|p| {
            context! {
                title => p.title.clone(), views => p.views, days => p.days, best => p.best_rank,
                line => Value::from_safe_string(charts::sparkline(&p.daily)),
            }
        })
        .collect()
}

/// The language a wiki's titles are written in, for `lang`: the project's subdomain.
fn lang_of(project: &str) -> String {
    project.split('.').next().unwrap_or_default().to_owned()
}

/// The title on the wiki where a topic had the most views, and that wiki's language.
fn first_title(projects: &[String], titles: &[String]) -> (String, String) {
    let lang = projects.first().map(|p| lang_of(p)).unwrap_or_default();
    (lang, titles.first().cloned().unwrap_or_default())
}

/// "What the world read": each topic with its title on each wiki (marked with the wiki's
/// language; the browser sets each title's direction from its own script) and its views
/// day by day as a sparkline.
fn world(world: &World) -> Value {
    let topics: Vec<Value> = world
        .topics
        .iter()
        .map(|(t, daily)| {
            let titles: Vec<Value> = t
                .projects
                .iter()
                .zip(&t.titles)
                .map(|(p, title)| context! { project => p.clone(), lang => lang_of(p), title => title.clone() })
                .collect();
            context! {
                item => t.wikidata_id.clone(), titles, wikis => t.wikis, days => t.days,
                views => t.views, line => Value::from_safe_string(charts::sparkline(daily)),
            }
        })
        .collect();
    context! { wikis => world.wikis.clone(), topics }
}

fn top_read_rows(pages: &[TopRead]) -> Vec<Value> {
    pages
        .iter()
        .map(|p| context! { title => p.title.clone(), days => p.days, best => p.best, views => p.views })
        .collect()
}

/// Every flagged page (the chart shows only the first ones), shares left as
/// fractions for the template's `pct` filter.
fn flagged_rows(flagged: &[Flagged]) -> Vec<Value> {
    flagged
        .iter()
        .map(|f| {
            context! {
                article => f.article.clone(), reason => f.reason.clone(), days => f.days,
                first => f.first.to_string(), last => f.last.to_string(), views => f.views,
                share => f.desktop_share, share_min => f.desktop_share_min,
                share_max => f.desktop_share_max,
            }
        })
        .collect()
}

/// The latest runs, from the ledger as stored.
fn run_rows(runs: &[RunRecord]) -> Vec<Value> {
    runs.iter()
        .map(|r| {
            context! {
                run_id => r.run_id.clone(), started_at => to_the_second(r.started_at),
                status => r.status.as_str(), days_written => r.days_written,
                rows_written => r.rows_written, http_requests => r.http_requests,
                error => r.error.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_reign_is_consecutive_days_of_one_article() {
        let d = |day, article: &str, views| NumberOne {
            day: date(2024, 1, day),
            article: article.into(),
            views,
        };
        let r = reigns(&[d(1, "A", 5), d(2, "A", 7), d(3, "B", 1), d(5, "B", 2)]);
        let summary: Vec<(&str, u64, u64, u64)> = r
            .iter()
            .map(|r| (r.article.as_str(), r.days, r.peak, r.views))
            .collect();
        // A gap in the days starts a new reign even for the same article.
        assert_eq!(summary, [("A", 2, 7, 12), ("B", 1, 1, 1), ("B", 1, 2, 2)]);
    }

    #[test]
    fn names_from_the_store_are_text_never_markup() {
        use super::super::{Categories, CategoryRow, Flagged, MostRead, Streak, Summary, TopRead};
        let evil = "<script>alert(1)</script>&<img src=x>";
        let day = date(2024, 1, 1);
        let report = Report {
            project: "en.wikipedia".parse().unwrap(),
            access: crate::model::Access::AllAccess,
            since: day,
            until: day,
            all_rows: false,
            store: evil.into(),
            generated_at: jiff::Timestamp::UNIX_EPOCH,
            summary: Summary::default(),
            coverage: vec![(day, DayState::Stored)],
            categories: Categories {
                months: vec!["2024-01".into()],
                rows: vec![CategoryRow {
                    category: evil.into(),
                    page_days: 1,
                    by_month: vec![1],
                }],
            },
            streaks: vec![Streak {
                article: evil.into(),
                first: day,
                last: day,
                days: 1,
                views: 1,
            }],
            most_read: vec![MostRead {
                title: evil.into(),
                views: 1,
                days: 1,
                best_rank: Some(1),
                daily: vec![1],
            }],
            top_read: vec![TopRead {
                title: evil.into(),
                days: 1,
                best: 1,
                views: 1,
            }],
            number_one: vec![NumberOne {
                day,
                article: evil.into(),
                views: 1,
            }],
            flagged: vec![Flagged {
                article: evil.into(),
                reason: evil.into(),
                days: 1,
                first: day,
                last: day,
                views: 1,
                desktop_share: Some(0.95),
                desktop_share_min: None,
                desktop_share_max: None,
            }],
            runs: vec![],
            world: Some(world_of(day, evil)),
        };
        let html = render(&report).unwrap();
        assert!(!html.contains("<script"), "a name became markup");
        assert!(!html.contains("<img"), "a name became markup");
        assert!(html.contains("&lt;script&gt;") || html.contains("&lt;script>"));
        assert!(html.contains("95.0 %"));
        // Each title in its own language and direction, the day's world #1 beside its #1.
        assert!(
            html.contains(r#"<span lang="ar" dir="auto">الهند</span>"#),
            "{html}"
        );
        assert!(html.contains(r#"<span lang="hi" dir="auto">भारत</span>"#));
        assert!(html.contains("data-world-number-one><span lang=\"ar\""));
    }

    fn world_of(day: Day, evil: &str) -> World {
        use super::super::{WorldRow, WorldTopic};
        let projects: Vec<String> = ["ar.wikipedia", "hi.wikipedia", "en.wikipedia"]
            .map(str::to_owned)
            .into();
        let titles: Vec<String> = ["الهند", "भारत", evil].map(str::to_owned).into();
        World {
            wikis: projects.clone(),
            topics: vec![(
                WorldTopic {
                    wikidata_id: "Q668".into(),
                    views: 9,
                    days: 1,
                    wikis: 3,
                    projects: projects.clone(),
                    titles: titles.clone(),
                },
                vec![9],
            )],
            number_one: vec![WorldRow {
                day,
                wikidata_id: "Q668".into(),
                world_rank: 1,
                views: 9,
                wikis: 3,
                projects,
                titles,
            }],
        }
    }

    #[test]
    fn missing_days_read_as_ranges() {
        use DayState::*;
        let c = [
            (date(2024, 1, 1), Missing),
            (date(2024, 1, 2), Missing),
            (date(2024, 1, 3), Stored),
            (date(2024, 1, 4), Missing),
            (date(2024, 1, 5), NotPublished),
        ];
        assert_eq!(
            missing_ranges(&c),
            ["2024-01-01 → 2024-01-02", "2024-01-04"]
        );
    }
}
