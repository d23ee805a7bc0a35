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

#[cfg(test)]
mod golden_tmp {
    use super::super::{
        Categories, CategoryRow, DayState, Flagged, MostRead, NumberOne, Report, Streak, Summary,
        TopRead,
    };
    use super::render;
    use crate::model::{Day, RunRecord, RunStatus};
    use jiff::civil::date;

    fn add(d: Day, n: i64) -> Day {
        d.checked_add(jiff::Span::new().days(n)).unwrap()
    }

    fn report(
        since: Day,
        days: i64,
        cats: usize,
        months: usize,
        flagged: usize,
        empty: bool,
    ) -> Report {
        let until = add(since, days - 1);
        let names = [
            "Deaths_in_2024",
            "Taylor_Swift",
            "<b>Bold</b>",
            "A_very_long_article_name_that_goes_on_and_on_and_on_forever",
            "Ünïcødé_名前",
            "Cricket",
            "Olympics",
            "X",
        ];
        let coverage: Vec<(Day, DayState)> = (0..days)
            .map(|i| {
                let s = match i % 11 {
                    3 | 4 => DayState::Missing,
                    7 => DayState::NotPublished,
                    _ => DayState::Stored,
                };
                (add(since, i), s)
            })
            .collect();
        let month_names: Vec<String> = (0..months)
            .map(|m| format!("{}-{:02}", 2020 + m / 12, m % 12 + 1))
            .collect();
        let rows: Vec<CategoryRow> = (0..cats)
            .map(|c| CategoryRow {
                category: format!("Category_{}_{}", c, names[c % names.len()]),
                page_days: 1000 - c as u64 * 37,
                by_month: (0..months)
                    .map(|m| ((c * 7 + m * 13) % 29) as u64 * 1234 / (c as u64 + 1))
                    .collect(),
            })
            .collect();
        let number_one: Vec<NumberOne> = (0..days)
            .filter(|i| i % 13 != 5)
            .map(|i| NumberOne {
                day: add(since, i),
                article: names[(i / 3) as usize % names.len()].into(),
                views: 100_000 + ((i * 7919) % 5000) as u64 * 311,
            })
            .collect();
        let streaks: Vec<Streak> = (0..6)
            .map(|k| Streak {
                article: names[k % names.len()].into(),
                first: add(since, k as i64 * 3),
                last: add(since, k as i64 * 3 + 10 - k as i64),
                days: 11 - k as u64,
                views: 12345 * (k as u64 + 1),
            })
            .collect();
        let flagged: Vec<Flagged> = (0..flagged)
            .map(|k| Flagged {
                article: format!("{}_{k}", names[k % names.len()]),
                reason: if k % 2 == 0 {
                    "desktop share".into()
                } else {
                    "<i>spike</i>".into()
                },
                days: k as u64 + 1,
                first: add(since, k as i64),
                last: add(since, 2 * k as i64),
                views: 999 * k as u64,
                desktop_share: (k % 4 != 3).then(|| (k as f64 * 0.137) % 1.0),
                desktop_share_min: (k % 3 != 0).then(|| (k as f64 * 0.05) % 0.5),
                desktop_share_max: (k % 3 != 0).then(|| 0.5 + (k as f64 * 0.07) % 0.5),
            })
            .collect();
        let most_read: Vec<MostRead> = (0..5)
            .map(|k| MostRead {
                title: names[k].into(),
                views: 5_000_000 / (k as u64 + 1),
                days: 30 - k as u64,
                best_rank: (k != 2).then_some(k as u64 + 1),
                daily: (0..days.min(60))
                    .map(|i| ((i as u64 * 31 + k as u64 * 7) % 17) * 1000)
                    .collect(),
            })
            .collect();
        let top_read: Vec<TopRead> = (0..4)
            .map(|k| TopRead {
                title: names[k + 1].into(),
                days: 3 + k as u64,
                best: k as u64 + 1,
                views: 77_777 * k as u64,
            })
            .collect();
        let runs: Vec<RunRecord> = [RunStatus::Ok, RunStatus::Partial, RunStatus::Failed]
            .into_iter()
            .enumerate()
            .map(|(k, status)| RunRecord {
                run_id: format!("run-{k}"),
                started_at: jiff::Timestamp::from_millisecond(
                    1_700_000_000_567 + k as i64 * 86_400_000,
                )
                .unwrap(),
                finished_at: None,
                status,
                arguments: "sync".into(),
                days_written: k as u64,
                rows_written: 1000 * k as u64,
                http_requests: 12,
                http_retries: 1,
                error: (k == 2).then(|| "boom <x>".into()),
            })
            .collect();
        let mut r = Report {
            project: "en.wikipedia".parse().unwrap(),
            access: crate::model::Access::AllAccess,
            since,
            until,
            all_rows: days % 2 == 0,
            store: "DuckDB file /tmp/x & y".into(),
            generated_at: jiff::Timestamp::from_millisecond(1_720_000_000_678).unwrap(),
            summary: Summary {
                days_in_range: days as u64,
                days_stored: 1,
                days_missing: 2,
                days_not_published: 3,
                rows: 1_234_567,
                articles: 4,
                categories: 5,
                views: 987_654_321,
                range_rows: 6,
                not_articles: 7,
                flagged: 8,
                not_checked: 9,
            },
            coverage,
            categories: Categories {
                months: month_names,
                rows,
            },
            streaks,
            number_one,
            most_read,
            top_read,
            flagged,
            runs,
        };
        if empty {
            r.categories.rows.clear();
            r.streaks.clear();
            r.number_one.clear();
            r.most_read.clear();
            r.top_read.clear();
            r.flagged.clear();
            r.runs.clear();
        }
        r
    }

    #[test]
    fn golden_tmp_write() {
        let tag = std::env::var("GOLDEN_TAG").unwrap_or_else(|_| "before".into());
        let cases = [
            report(date(2023, 11, 20), 70, 6, 3, 5, false),
            report(date(2021, 3, 15), 800, 12, 27, 25, false),
            report(date(2024, 2, 27), 5, 1, 1, 1, false),
            report(date(2024, 6, 1), 10, 0, 1, 0, true),
        ];
        for (i, r) in cases.iter().enumerate() {
            let html = render(r).unwrap();
            std::fs::write(format!("/tmp/render-{tag}-{i}.html"), html).unwrap();
        }
    }
}
