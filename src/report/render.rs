//! A [`Report`] as one self-contained HTML file: the `minijinja` template
//! `report.html.j2` (compiled into the binary) filled with the figures and the charts'
//! SVG. Styles are inline, there is no script and no reference to any URL, so the file
//! opens offline and prints as it shows. Values are HTML-escaped by the template
//! engine; only the SVG that `charts` drew is inserted as markup.

use minijinja::{Environment, Value, context};
use serde::Serialize;

use super::format::{label, percent, thousands};
use super::{DayState, NumberOne, Report, charts};
use crate::error::{Error, Result};
use crate::model::Day;

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
        .map_err(|e| Error::Template(e.to_string()))?;
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

/// The report as HTML.
pub fn render(report: &Report) -> Result<String> {
    let env = environment()?;
    let template = env
        .get_template("report.html")
        .map_err(|e| Error::Template(e.to_string()))?;
    let svg = Value::from_safe_string;
    let charts = context! {
        coverage => svg(charts::coverage(&report.coverage)?),
        categories => (!report.categories.rows.is_empty())
            .then(|| charts::categories(&report.categories)).transpose()?.map(svg),
        streaks => (!report.streaks.is_empty())
            .then(|| charts::streaks(&report.streaks, report.since, report.until))
            .transpose()?.map(svg),
        number_one => (!report.number_one.is_empty())
            .then(|| charts::number_one(&report.number_one, report.since, report.until))
            .transpose()?.map(svg),
        flagged => (!report.flagged.is_empty())
            .then(|| charts::flagged(&report.flagged)).transpose()?.map(svg),
    };
    let s = &report.summary;
    let summary = context! {
        days_in_range => s.days_in_range, days_stored => s.days_stored,
        days_missing => s.days_missing, days_not_published => s.days_not_published,
        rows => s.rows, articles => s.articles, categories => s.categories, views => s.views,
        range_rows => s.range_rows, not_articles => s.not_articles, flagged => s.flagged,
        not_checked => s.not_checked,
    };
    let categories: Vec<Value> = report
        .categories
        .rows
        .iter()
        .map(|r| context! { category => r.category.clone(), page_days => r.page_days, by_month => r.by_month.clone() })
        .collect();
    let streaks: Vec<Value> = report
        .streaks
        .iter()
        .map(|s| context! {
            article => s.article.clone(), first => s.first.to_string(), last => s.last.to_string(),
            days => s.days, views => s.views,
        })
        .collect();
    let days: Vec<Value> = report
        .number_one
        .iter()
        .map(|d| context! { day => d.day.to_string(), article => d.article.clone(), views => d.views })
        .collect();
    let most_read: Vec<Value> = report
        .most_read
        .iter()
        .map(|p| {
            context! {
                title => p.title.clone(), views => p.views, days => p.days, best => p.best_rank,
                line => svg(charts::sparkline(&p.daily)),
            }
        })
        .collect();
    let top_read: Vec<Value> = report
        .top_read
        .iter()
        .map(|p| context! { title => p.title.clone(), days => p.days, best => p.best, views => p.views })
        .collect();
    let flagged: Vec<Value> = report
        .flagged
        .iter()
        .map(|f| {
            context! {
                article => f.article.clone(), reason => f.reason.clone(), days => f.days,
                first => f.first.to_string(), last => f.last.to_string(), views => f.views,
                share => f.desktop_share, share_min => f.desktop_share_min,
                share_max => f.desktop_share_max,
            }
        })
        .collect();
    let runs: Vec<Value> = report
        .runs
        .iter()
        .map(|r| context! {
            run_id => r.run_id.clone(),
            started_at => r.started_at.round(jiff::Unit::Second).unwrap_or(r.started_at).to_string(),
            status => r.status.as_str(), days_written => r.days_written,
            rows_written => r.rows_written, http_requests => r.http_requests, error => r.error.clone(),
        })
        .collect();
    template
        .render(context! {
            project => report.project.to_string(),
            access => report.access.as_str(),
            since => report.since.to_string(),
            until => report.until.to_string(),
            all_rows => report.all_rows,
            store => report.store.clone(),
            generated_at => report.generated_at.round(jiff::Unit::Second)
                .unwrap_or(report.generated_at).to_string(),
            version => env!("CARGO_PKG_VERSION"),
            summary,
            charts,
            months => report.categories.months.clone(),
            categories,
            streaks,
            most_read,
            top_read,
            reigns => Value::from(minijinja::value::Serde(longest_reigns(&report.number_one))),
            days,
            flagged,
            runs,
            missing => missing_ranges(&report.coverage),
        })
        .map_err(|e| Error::Template(e.to_string()))
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
        };
        let html = render(&report).unwrap();
        assert!(!html.contains("<script"), "a name became markup");
        assert!(!html.contains("<img"), "a name became markup");
        assert!(html.contains("&lt;script&gt;") || html.contains("&lt;script>"));
        assert!(html.contains("95.0 %"));
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
