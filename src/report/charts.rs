//! The report's charts, drawn by `plotters` into SVG text (its SVG backend only, no
//! fonts loaded: text stays `<text>` for the browser to set). Each function takes the
//! report's figures and returns one `<svg>` element; none reads the store.

use std::collections::BTreeMap;

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::format::{label, thousands};
use super::{Categories, DayState, Flagged, NumberOne, Streak};
use crate::error::{Error, Result};
use crate::model::Day;

const WIDTH: u32 = 960;
const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(34, 34, 34);
const GRID: RGBColor = RGBColor(220, 220, 220);
const STORED: RGBColor = RGBColor(46, 125, 50);
const MISSING: RGBColor = RGBColor(198, 40, 40);
const NOT_PUBLISHED: RGBColor = RGBColor(189, 189, 189);
const OUTSIDE: RGBColor = RGBColor(245, 245, 245);
const BAR: RGBColor = RGBColor(31, 119, 180);
const FLAG_ZONE: RGBColor = RGBColor(253, 224, 221);
/// A colour-blind-safe palette (Okabe–Ito) for telling articles apart.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(240, 228, 66),
    RGBColor(0, 0, 0),
];

/// Any drawing error, named by its chart.
fn failed<E: std::fmt::Display>(chart: &'static str) -> impl Fn(E) -> Error {
    move |e| Error::Chart {
        chart,
        detail: e.to_string(),
    }
}

fn text_style(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&INK)
}

/// Draws into a fresh SVG of `height` pixels and returns its text.
fn svg(
    chart: &'static str,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<()>,
) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed(chart))?;
        draw(&root)?;
        root.present().map_err(failed(chart))?;
    }
    Ok(out)
}

/// Days since 1970: the x coordinate of a day.
fn day_number(d: Day) -> i32 {
    (d - jiff::civil::date(1970, 1, 1)).get_days()
}

fn from_day_number(n: i32) -> Option<Day> {
    jiff::civil::date(1970, 1, 1)
        .checked_add(jiff::Span::new().days(n))
        .ok()
}

/// A colour between `from` (t = 0) and `to` (t = 1).
fn blend(from: RGBColor, to: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// A stable colour per article.
fn colour_of(article: &str) -> RGBColor {
    let hash = article
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    PALETTE[hash as usize % PALETTE.len()]
}

const CELL: i32 = 15;
const CALENDAR_LEFT: i32 = 44;
const YEAR_HEIGHT: i32 = 7 * CELL + 34;

/// A calendar per year, one square per day: stored, missing, not yet published.
pub(crate) fn coverage(days: &[(Day, DayState)]) -> Result<String> {
    const CHART: &str = "coverage calendar";
    let by_year: BTreeMap<i16, Vec<(Day, DayState)>> =
        days.iter().fold(BTreeMap::new(), |mut m, &(d, s)| {
            m.entry(d.year()).or_insert_with(Vec::new).push((d, s));
            m
        });
    let height = YEAR_HEIGHT * by_year.len() as i32 + 40;
    svg(CHART, height as u32, |root| {
        for (row, (year, days)) in by_year.iter().enumerate() {
            let top = row as i32 * YEAR_HEIGHT;
            calendar_year(root, top, *year, days).map_err(failed(CHART))?;
        }
        let legend_top = YEAR_HEIGHT * by_year.len() as i32 + 12;
        let count = |state| days.iter().filter(|(_, s)| *s == state).count() as u64;
        let mut x = CALENDAR_LEFT;
        for (state, colour, name) in [
            (DayState::Stored, STORED, "stored"),
            (DayState::Missing, MISSING, "missing"),
            (DayState::NotPublished, NOT_PUBLISHED, "not yet published"),
        ] {
            root.draw(&Rectangle::new(
                [(x, legend_top), (x + CELL - 2, legend_top + CELL - 2)],
                colour.filled(),
            ))
            .map_err(failed(CHART))?;
            let text = format!("{name}: {}", thousands(count(state)));
            root.draw(&Text::new(
                text.clone(),
                (x + CELL + 4, legend_top + CELL / 2 - 1),
                text_style(13).pos(Pos::new(HPos::Left, VPos::Center)),
            ))
            .map_err(failed(CHART))?;
            x += CELL + 24 + 8 * text.len() as i32;
        }
        Ok(())
    })
}

fn calendar_year(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    top: i32,
    year: i16,
    days: &[(Day, DayState)],
) -> std::result::Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let grid_top = top + 30;
    root.draw(&Text::new(
        year.to_string(),
        (0, top + 4),
        text_style(14).pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    for (weekday, name) in [(0, "Mon"), (2, "Wed"), (4, "Fri")] {
        root.draw(&Text::new(
            name,
            (CALENDAR_LEFT - 6, grid_top + weekday * CELL + CELL / 2 - 1),
            text_style(11).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    let jan1 = jiff::civil::date(year, 1, 1);
    let offset = i32::from(jan1.weekday().to_monday_zero_offset());
    let place = |d: Day| {
        let index = i32::from(d.day_of_year()) - 1 + offset;
        (
            CALENDAR_LEFT + (index / 7) * CELL,
            grid_top + (index % 7) * CELL,
        )
    };
    // The whole year faintly, so a range that starts mid-year still reads as a calendar.
    let mut d = jan1;
    while d.year() == year {
        let (x, y) = place(d);
        root.draw(&Rectangle::new(
            [(x, y), (x + CELL - 2, y + CELL - 2)],
            OUTSIDE.filled(),
        ))?;
        if d.day() == 1 {
            root.draw(&Text::new(
                MONTHS[usize::from(d.month().unsigned_abs()) - 1],
                (x, top + 18),
                text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let Ok(next) = d.tomorrow() else { break };
        d = next;
    }
    for &(d, state) in days {
        let (x, y) = place(d);
        let colour = match state {
            DayState::Stored => STORED,
            DayState::Missing => MISSING,
            DayState::NotPublished => NOT_PUBLISHED,
        };
        root.draw(&Rectangle::new(
            [(x, y), (x + CELL - 2, y + CELL - 2)],
            colour.filled(),
        ))?;
    }
    Ok(())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A heat map: the top categories (rows) by month (columns), darker for more page-days.
pub(crate) fn categories(categories: &Categories) -> Result<String> {
    const CHART: &str = "top categories";
    let rows = categories.rows.len() as u32;
    let months = categories.months.len() as u32;
    let height = 70 + 28 * rows.max(1);
    let max = categories
        .rows
        .iter()
        .flat_map(|r| r.by_month.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let labels: Vec<String> = categories
        .rows
        .iter()
        .map(|r| label(&r.category, 40))
        .collect();
    svg(CHART, height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d(
                (0..months).into_segmented(),
                (0..rows.max(1)).into_segmented(),
            )
            .map_err(failed(CHART))?;
        let month_label = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) => categories
                .months
                .get(*i as usize)
                .cloned()
                .unwrap_or_default(),
            _ => String::new(),
        };
        // Most page-days at the top.
        let row_label = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) if *i < rows => labels[(rows - 1 - *i) as usize].clone(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(months.min(12) as usize)
            .y_labels(rows as usize + 1)
            .x_label_formatter(&month_label)
            .y_label_formatter(&row_label)
            .label_style(text_style(12))
            .axis_style(GRID)
            .draw()
            .map_err(failed(CHART))?;
        let light = RGBColor(239, 243, 255);
        let dark = RGBColor(8, 81, 156);
        let show_values = months <= 18;
        for (r, row) in categories.rows.iter().enumerate() {
            let y = rows - 1 - r as u32;
            for (m, &n) in row.by_month.iter().enumerate() {
                let m = m as u32;
                let t = n as f64 / max as f64;
                let mut cell = Rectangle::new(
                    [
                        (SegmentValue::Exact(m), SegmentValue::Exact(y)),
                        (SegmentValue::Exact(m + 1), SegmentValue::Exact(y + 1)),
                    ],
                    blend(light, dark, t).filled(),
                );
                cell.set_margin(1, 1, 1, 1);
                chart.draw_series([cell]).map_err(failed(CHART))?;
                if show_values && n > 0 {
                    let ink = if t > 0.55 { WHITE } else { INK };
                    chart
                        .draw_series([Text::new(
                            thousands(n),
                            (SegmentValue::CenterOf(m), SegmentValue::CenterOf(y)),
                            (FONT, 11)
                                .into_font()
                                .color(&ink)
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                        )])
                        .map_err(failed(CHART))?;
                }
            }
        }
        Ok(())
    })
}

/// Horizontal bars over the calendar: each streak from its first to its last day.
pub(crate) fn streaks(streaks: &[Streak], since: Day, until: Day) -> Result<String> {
    const CHART: &str = "longest streaks";
    let n = streaks.len() as u32;
    let height = 70 + 28 * n.max(1);
    let labels: Vec<String> = streaks.iter().map(|s| label(&s.article, 40)).collect();
    let (x0, x1) = (day_number(since), day_number(until) + 1);
    svg(CHART, height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(90)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d(x0..x1, (0..n.max(1)).into_segmented())
            .map_err(failed(CHART))?;
        let row_label = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) if *i < n => labels[(n - 1 - *i) as usize].clone(),
            _ => String::new(),
        };
        let date_label = |x: &i32| {
            from_day_number(*x)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(6)
            .y_labels(n as usize + 1)
            .x_label_formatter(&date_label)
            .y_label_formatter(&row_label)
            .label_style(text_style(12))
            .axis_style(GRID)
            .draw()
            .map_err(failed(CHART))?;
        for (i, s) in streaks.iter().enumerate() {
            let y = n - 1 - i as u32;
            let (a, b) = (day_number(s.first), day_number(s.last) + 1);
            let mut bar = Rectangle::new(
                [(a, SegmentValue::Exact(y)), (b, SegmentValue::Exact(y + 1))],
                BAR.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            chart.draw_series([bar]).map_err(failed(CHART))?;
            chart
                .draw_series([Text::new(
                    format!(" {} days", thousands(s.days)),
                    (b, SegmentValue::CenterOf(y)),
                    text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
                )])
                .map_err(failed(CHART))?;
        }
        Ok(())
    })
}

/// The #1 article's views day by day: a line, a dot per day coloured by article, and
/// the names of the highest peaks.
pub(crate) fn number_one(days: &[NumberOne], since: Day, until: Day) -> Result<String> {
    const CHART: &str = "daily #1 article";
    let max = days.iter().map(|d| d.views).max().unwrap_or(0).max(1) as f64;
    let (x0, x1) = (day_number(since), day_number(until) + 1);
    svg(CHART, 380, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(90)
            .build_cartesian_2d(x0..x1, 0.0..max * 1.15)
            .map_err(failed(CHART))?;
        let date_label = |x: &i32| {
            from_day_number(*x)
                .map(|d| d.to_string())
                .unwrap_or_default()
        };
        let views_label = |y: &f64| thousands(y.max(0.0).round() as u64);
        chart
            .configure_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(6)
            .y_labels(6)
            .x_label_formatter(&date_label)
            .y_label_formatter(&views_label)
            .y_desc("views of the day's #1")
            .label_style(text_style(12))
            .axis_desc_style(text_style(12))
            .axis_style(GRID)
            .draw()
            .map_err(failed(CHART))?;
        let points: Vec<(i32, f64)> = days
            .iter()
            .map(|d| (day_number(d.day), d.views as f64))
            .collect();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                RGBColor(160, 160, 160),
            ))
            .map_err(failed(CHART))?;
        let radius = if days.len() > 200 { 2 } else { 3 };
        chart
            .draw_series(
                days.iter()
                    .zip(&points)
                    .map(|(d, p)| Circle::new(*p, radius, colour_of(&d.article).filled())),
            )
            .map_err(failed(CHART))?;
        // The highest day of each of the five most viewed distinct articles, kept apart
        // by a sixth of the range so that their names do not overlap.
        let apart = (x1 - x0) / 6;
        let mut peaks: Vec<&NumberOne> = Vec::new();
        let mut by_views: Vec<&NumberOne> = days.iter().collect();
        by_views.sort_by(|a, b| b.views.cmp(&a.views).then(a.day.cmp(&b.day)));
        for d in by_views {
            if peaks.len() == 5 {
                break;
            }
            let x = day_number(d.day);
            if peaks
                .iter()
                .all(|p| p.article != d.article && (day_number(p.day) - x).abs() >= apart)
            {
                peaks.push(d);
            }
        }
        chart
            .draw_series(peaks.iter().map(|d| {
                Text::new(
                    label(&d.article, 32),
                    (day_number(d.day), d.views as f64 * 1.03),
                    text_style(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
                )
            }))
            .map_err(failed(CHART))?;
        Ok(())
    })
}

/// Each flagged page's desktop share (mean dot, lowest–highest line) against the
/// bounds outside which traffic is flagged (shaded).
pub(crate) fn flagged(flagged: &[Flagged]) -> Result<String> {
    const CHART: &str = "flagged traffic";
    let shown: Vec<&Flagged> = flagged.iter().take(20).collect();
    let n = shown.len() as u32;
    let height = 70 + 26 * n.max(1);
    let labels: Vec<String> = shown.iter().map(|f| label(&f.article, 40)).collect();
    svg(CHART, height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d(0.0..100.0, (0..n.max(1)).into_segmented())
            .map_err(failed(CHART))?;
        let row_label = |v: &SegmentValue<u32>| match v {
            SegmentValue::CenterOf(i) if *i < n => labels[(n - 1 - *i) as usize].clone(),
            _ => String::new(),
        };
        let pct = |x: &f64| format!("{x:.0} %");
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(11)
            .y_labels(n as usize + 1)
            .x_label_formatter(&pct)
            .y_label_formatter(&row_label)
            .x_desc("desktop share of the views")
            .label_style(text_style(12))
            .axis_desc_style(text_style(12))
            .axis_style(GRID)
            .draw()
            .map_err(failed(CHART))?;
        for (a, b) in [(0.0, 10.0), (90.0, 100.0)] {
            chart
                .draw_series([Rectangle::new(
                    [
                        (a, SegmentValue::Exact(0)),
                        (b, SegmentValue::Exact(n.max(1))),
                    ],
                    FLAG_ZONE.filled(),
                )])
                .map_err(failed(CHART))?;
        }
        for (i, f) in shown.iter().enumerate() {
            let y = SegmentValue::CenterOf(n - 1 - i as u32);
            let share = |s: Option<f64>| s.map(|s| (s * 100.0).clamp(0.0, 100.0));
            if let (Some(lo), Some(hi)) = (share(f.desktop_share_min), share(f.desktop_share_max)) {
                chart
                    .draw_series([PathElement::new(
                        vec![(lo, y.clone()), (hi, y.clone())],
                        MISSING.stroke_width(2),
                    )])
                    .map_err(failed(CHART))?;
            }
            match share(f.desktop_share) {
                Some(mean) => chart
                    .draw_series([Circle::new((mean, y), 5, MISSING.filled())])
                    .map(|_| ()),
                None => chart
                    .draw_series([Text::new(
                        "not in the desktop top list",
                        (1.0, y),
                        text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
                    )])
                    .map(|_| ()),
            }
            .map_err(failed(CHART))?;
        }
        Ok(())
    })
}
/// A page's views day by day as a small line, the range's first day on the left: the
/// "Most read articles" row's trend at a glance. Hand-written SVG: a line needs no axes.
pub(crate) fn sparkline(daily: &[u64]) -> String {
    const W: f64 = 160.0;
    const H: f64 = 24.0;
    let max = daily.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if daily.len() > 1 {
        W / (daily.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = daily
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - 1.0 - (H - 2.0) * v as f64 / max
            )
        })
        .collect();
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" \
         role=\"img\" aria-label=\"views per day\"><polyline fill=\"none\" stroke=\"rgb({},{},{})\" \
         stroke-width=\"1.5\" points=\"{}\"/></svg>",
        BAR.0,
        BAR.1,
        BAR.2,
        points.join(" ")
    )
}
