//! The report's charts, drawn by `plotters` into SVG text (its SVG backend only, no
//! fonts loaded: text stays `<text>` for the browser to set). Each function takes the
//! report's figures and returns one `<svg>` element; none reads the store.

use std::collections::BTreeMap;
use std::ops::Range;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{SegmentValue, SegmentedCoord};
use plotters::coord::types::{RangedCoordf64, RangedCoordi32, RangedCoordu32};
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

/// The drawing area of one chart's SVG.
type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
/// What a drawing call on an SVG returns; the chart's own function names the chart in
/// the error (`failed`), so the helpers that draw its parts need not know it.
type Drawn = std::result::Result<(), DrawingAreaErrorKind<std::io::Error>>;
/// An axis of one band per row (or month), labelled at the bands' centres.
type Bands = SegmentedCoord<RangedCoordu32>;
/// A chart on an SVG, `X` across and `Y` up.
type Plot<'a, 'b, X, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<X, Y>>;

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
    draw: impl FnOnce(&Area<'_>) -> Result<()>,
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
            calendar_year(root, YearGrid::new(*year, top), days).map_err(failed(CHART))?;
        }
        let legend_top = YEAR_HEIGHT * by_year.len() as i32 + 12;
        coverage_legend(root, legend_top, days).map_err(failed(CHART))
    })
}

/// A row under the calendars: each state's colour and how many days of the range are
/// in it.
fn coverage_legend(root: &Area<'_>, top: i32, days: &[(Day, DayState)]) -> Drawn {
    let count = |state| days.iter().filter(|(_, s)| *s == state).count() as u64;
    let mut x = CALENDAR_LEFT;
    for (state, name) in [
        (DayState::Stored, "stored"),
        (DayState::Missing, "missing"),
        (DayState::NotPublished, "not yet published"),
    ] {
        square(root, (x, top), state_colour(state))?;
        let text = format!("{name}: {}", thousands(count(state)));
        root.draw(&Text::new(
            text.clone(),
            (x + CELL + 4, top + CELL / 2 - 1),
            text_style(13).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        // No font is loaded to measure the text, so its width is estimated from its length.
        x += CELL + 24 + 8 * text.len() as i32;
    }
    Ok(())
}

fn state_colour(state: DayState) -> RGBColor {
    match state {
        DayState::Stored => STORED,
        DayState::Missing => MISSING,
        DayState::NotPublished => NOT_PUBLISHED,
    }
}

/// A day's square (or a legend's), its top-left corner at `(x, y)`; it fills its cell
/// but for 2 pixels, the gap between squares.
fn square(root: &Area<'_>, (x, y): (i32, i32), colour: RGBColor) -> Drawn {
    root.draw(&Rectangle::new(
        [(x, y), (x + CELL - 2, y + CELL - 2)],
        colour.filled(),
    ))
}

/// Where one year's calendar sits: a column per week, Monday on top, the first column
/// the week of 1 January.
struct YearGrid {
    year: i16,
    /// The top of the year's band: its name, then the month names, then the squares.
    top: i32,
    jan1: Day,
    /// Days from that week's Monday to 1 January.
    offset: i32,
}

impl YearGrid {
    fn new(year: i16, top: i32) -> YearGrid {
        let jan1 = jiff::civil::date(year, 1, 1);
        YearGrid {
            year,
            top,
            jan1,
            offset: i32::from(jan1.weekday().to_monday_zero_offset()),
        }
    }

    /// The top of Monday's row.
    fn grid_top(&self) -> i32 {
        self.top + 30
    }

    /// The top-left corner of a day's square.
    fn place(&self, d: Day) -> (i32, i32) {
        let index = i32::from(d.day_of_year()) - 1 + self.offset;
        (
            CALENDAR_LEFT + (index / 7) * CELL,
            self.grid_top() + (index % 7) * CELL,
        )
    }
}

/// One year: its labels, the whole year faintly, then the range's days in their state.
fn calendar_year(root: &Area<'_>, grid: YearGrid, days: &[(Day, DayState)]) -> Drawn {
    calendar_labels(root, &grid)?;
    calendar_background(root, &grid)?;
    for &(d, state) in days {
        square(root, grid.place(d), state_colour(state))?;
    }
    Ok(())
}

/// The year's name and every other weekday's, as on a wall calendar.
fn calendar_labels(root: &Area<'_>, grid: &YearGrid) -> Drawn {
    root.draw(&Text::new(
        grid.year.to_string(),
        (0, grid.top + 4),
        text_style(14).pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    for (weekday, name) in [(0, "Mon"), (2, "Wed"), (4, "Fri")] {
        root.draw(&Text::new(
            name,
            (
                CALENDAR_LEFT - 6,
                grid.grid_top() + weekday * CELL + CELL / 2 - 1,
            ),
            text_style(11).pos(Pos::new(HPos::Right, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// The whole year faintly, so a range that starts mid-year still reads as a calendar,
/// with each month's name above the week of its first day.
fn calendar_background(root: &Area<'_>, grid: &YearGrid) -> Drawn {
    let mut d = grid.jan1;
    while d.year() == grid.year {
        let (x, y) = grid.place(d);
        square(root, (x, y), OUTSIDE)?;
        if d.day() == 1 {
            root.draw(&Text::new(
                MONTHS[usize::from(d.month().unsigned_abs()) - 1],
                (x, grid.top + 18),
                text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let Ok(next) = d.tomorrow() else { break };
        d = next;
    }
    Ok(())
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The labelled rows of a chart with one band per item, the first item on top:
/// plotters counts bands from the bottom, so item `i` sits in band `count - 1 - i`.
struct Rows {
    labels: Vec<String>,
}

impl Rows {
    /// One row per name, written as a reader writes it and cut to fit the label area.
    fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Rows {
        Rows {
            labels: names.into_iter().map(|n| label(n, 40)).collect(),
        }
    }

    fn count(&self) -> u32 {
        self.labels.len() as u32
    }

    /// The top of the y axis: at least one band, so that a chart without rows still
    /// has a range to build.
    fn top(&self) -> u32 {
        self.count().max(1)
    }

    fn bands(&self) -> Bands {
        (0..self.top()).into_segmented()
    }

    /// The chart's height in pixels at `per_row` pixels a row, axes included.
    fn height(&self, per_row: u32) -> u32 {
        70 + per_row * self.top()
    }

    /// The band of item `i`.
    fn band(&self, i: usize) -> u32 {
        self.count() - 1 - i as u32
    }

    /// How many y labels to ask plotters for: one more than the rows, as the axis's
    /// key points run to its end inclusive; fewer, and plotters thins the rows' labels.
    fn label_count(&self) -> usize {
        self.count() as usize + 1
    }

    /// The label at a band's centre; plotters asks for other points too, left blank.
    fn label_at(&self, v: &SegmentValue<u32>) -> String {
        match v {
            SegmentValue::CenterOf(i) if *i < self.count() => {
                self.labels[(self.count() - 1 - *i) as usize].clone()
            }
            _ => String::new(),
        }
    }
}

/// The heat map's colours, from a cell without page-days to the fullest cell.
const HEAT_LIGHT: RGBColor = RGBColor(239, 243, 255);
const HEAT_DARK: RGBColor = RGBColor(8, 81, 156);
/// Up to this many months each cell shows its number; more columns are too narrow.
const HEAT_NUMBERS_UP_TO: usize = 18;

/// A heat map: the top categories (rows) by month (columns), darker for more page-days.
pub(crate) fn categories(categories: &Categories) -> Result<String> {
    const CHART: &str = "top categories";
    let rows = Rows::new(categories.rows.iter().map(|r| r.category.as_str()));
    let months = categories.months.len() as u32;
    svg(CHART, rows.height(28), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d((0..months).into_segmented(), rows.bands())
            .map_err(failed(CHART))?;
        heat_map_axes(&mut chart, &categories.months, &rows).map_err(failed(CHART))?;
        heat_map_cells(&mut chart, categories, &rows).map_err(failed(CHART))
    })
}

/// Months along the bottom (at most twelve named), categories down the side.
fn heat_map_axes(chart: &mut Plot<'_, '_, Bands, Bands>, months: &[String], rows: &Rows) -> Drawn {
    let month_label = |v: &SegmentValue<u32>| match v {
        SegmentValue::CenterOf(i) => months.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    let row_label = |v: &SegmentValue<u32>| rows.label_at(v);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(months.len().min(12))
        .y_labels(rows.label_count())
        .x_label_formatter(&month_label)
        .y_label_formatter(&row_label)
        .label_style(text_style(12))
        .axis_style(GRID)
        .draw()
}

/// A cell per category and month, shaded by its page-days against the fullest cell of
/// the map, with the number written in while the columns are wide enough.
fn heat_map_cells(
    chart: &mut Plot<'_, '_, Bands, Bands>,
    categories: &Categories,
    rows: &Rows,
) -> Drawn {
    let max = categories
        .rows
        .iter()
        .flat_map(|r| r.by_month.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let show_numbers = categories.months.len() <= HEAT_NUMBERS_UP_TO;
    for (r, row) in categories.rows.iter().enumerate() {
        let y = rows.band(r);
        for (m, &n) in row.by_month.iter().enumerate() {
            let cell = (m as u32, y);
            let shade = n as f64 / max as f64;
            heat_cell(chart, cell, shade)?;
            if show_numbers && n > 0 {
                heat_number(chart, cell, n, shade)?;
            }
        }
    }
    Ok(())
}

/// One cell, `shade` of the way (0–1) from the lightest colour to the darkest.
fn heat_cell(chart: &mut Plot<'_, '_, Bands, Bands>, (m, y): (u32, u32), shade: f64) -> Drawn {
    let mut cell = Rectangle::new(
        [
            (SegmentValue::Exact(m), SegmentValue::Exact(y)),
            (SegmentValue::Exact(m + 1), SegmentValue::Exact(y + 1)),
        ],
        blend(HEAT_LIGHT, HEAT_DARK, shade).filled(),
    );
    cell.set_margin(1, 1, 1, 1);
    chart.draw_series([cell])?;
    Ok(())
}

/// A cell's page-days, white on the dark cells so that it stays readable.
fn heat_number(
    chart: &mut Plot<'_, '_, Bands, Bands>,
    (m, y): (u32, u32),
    n: u64,
    shade: f64,
) -> Drawn {
    let ink = if shade > 0.55 { WHITE } else { INK };
    chart.draw_series([Text::new(
        thousands(n),
        (SegmentValue::CenterOf(m), SegmentValue::CenterOf(y)),
        (FONT, 11)
            .into_font()
            .color(&ink)
            .pos(Pos::new(HPos::Center, VPos::Center)),
    )])?;
    Ok(())
}

/// The x axis of the charts over time: every day of the range, as a day number.
fn days_across(since: Day, until: Day) -> Range<i32> {
    day_number(since)..day_number(until) + 1
}

/// A day number as the date it stands for, for the x labels of the charts over time.
fn date_label(x: &i32) -> String {
    from_day_number(*x)
        .map(|d| d.to_string())
        .unwrap_or_default()
}

/// Horizontal bars over the calendar: each streak from its first to its last day.
pub(crate) fn streaks(streaks: &[Streak], since: Day, until: Day) -> Result<String> {
    const CHART: &str = "longest streaks";
    let rows = Rows::new(streaks.iter().map(|s| s.article.as_str()));
    svg(CHART, rows.height(28), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(90)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d(days_across(since, until), rows.bands())
            .map_err(failed(CHART))?;
        let row_label = |v: &SegmentValue<u32>| rows.label_at(v);
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(GRID)
            .x_labels(6)
            .y_labels(rows.label_count())
            .x_label_formatter(&date_label)
            .y_label_formatter(&row_label)
            .label_style(text_style(12))
            .axis_style(GRID)
            .draw()
            .map_err(failed(CHART))?;
        for (i, s) in streaks.iter().enumerate() {
            streak_bar(&mut chart, rows.band(i), s).map_err(failed(CHART))?;
        }
        Ok(())
    })
}

/// A streak's bar from the start of its first day to the end of its last, with its
/// length written after it.
fn streak_bar(chart: &mut Plot<'_, '_, RangedCoordi32, Bands>, y: u32, s: &Streak) -> Drawn {
    let (a, b) = (day_number(s.first), day_number(s.last) + 1);
    let mut bar = Rectangle::new(
        [(a, SegmentValue::Exact(y)), (b, SegmentValue::Exact(y + 1))],
        BAR.filled(),
    );
    bar.set_margin(4, 4, 0, 0);
    chart.draw_series([bar])?;
    chart.draw_series([Text::new(
        format!(" {} days", thousands(s.days)),
        (b, SegmentValue::CenterOf(y)),
        text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
    )])?;
    Ok(())
}

/// How many peaks of the #1 chart are named.
const PEAKS: usize = 5;
/// The line joining the #1's views: grey, so that the dots' colours stand out.
const TRACE: RGBColor = RGBColor(160, 160, 160);
/// Above this many days the dots are smaller, so that neighbours do not merge.
const DENSE_DAYS: usize = 200;

/// The #1 article's views day by day: a line, a dot per day coloured by article, and
/// the names of the highest peaks.
pub(crate) fn number_one(days: &[NumberOne], since: Day, until: Day) -> Result<String> {
    const CHART: &str = "daily #1 article";
    let max = days.iter().map(|d| d.views).max().unwrap_or(0).max(1) as f64;
    let across = days_across(since, until);
    // Peaks a sixth of the range apart at least, so that their names do not overlap.
    let apart = (across.end - across.start) / 6;
    svg(CHART, 380, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(90)
            // Headroom above the highest dot for its name.
            .build_cartesian_2d(across, 0.0..max * 1.15)
            .map_err(failed(CHART))?;
        number_one_axes(&mut chart).map_err(failed(CHART))?;
        number_one_series(&mut chart, days).map_err(failed(CHART))?;
        peak_names(&mut chart, &peaks(days, apart)).map_err(failed(CHART))
    })
}

/// Dates along the bottom, views up the side.
fn number_one_axes(chart: &mut Plot<'_, '_, RangedCoordi32, RangedCoordf64>) -> Drawn {
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
}

/// The line through the days' views, then a dot per day in its article's colour, so
/// that a reign reads as a run of one colour.
fn number_one_series(
    chart: &mut Plot<'_, '_, RangedCoordi32, RangedCoordf64>,
    days: &[NumberOne],
) -> Drawn {
    let points: Vec<(i32, f64)> = days
        .iter()
        .map(|d| (day_number(d.day), d.views as f64))
        .collect();
    chart.draw_series(LineSeries::new(points.iter().copied(), TRACE))?;
    let radius = if days.len() > DENSE_DAYS { 2 } else { 3 };
    chart.draw_series(
        days.iter()
            .zip(&points)
            .map(|(d, p)| Circle::new(*p, radius, colour_of(&d.article).filled())),
    )?;
    Ok(())
}

/// The highest day of each of the most viewed distinct articles (at most [`PEAKS`]),
/// each at least `apart` days from the others; the most viewed first, the earlier day
/// first among equals.
fn peaks(days: &[NumberOne], apart: i32) -> Vec<&NumberOne> {
    let mut by_views: Vec<&NumberOne> = days.iter().collect();
    by_views.sort_by(|a, b| b.views.cmp(&a.views).then(a.day.cmp(&b.day)));
    let mut peaks: Vec<&NumberOne> = Vec::new();
    for d in by_views {
        if peaks.len() == PEAKS {
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
    peaks
}

/// Each peak's article named just above its dot.
fn peak_names(
    chart: &mut Plot<'_, '_, RangedCoordi32, RangedCoordf64>,
    peaks: &[&NumberOne],
) -> Drawn {
    chart.draw_series(peaks.iter().map(|d| {
        Text::new(
            label(&d.article, 32),
            (day_number(d.day), d.views as f64 * 1.03),
            text_style(11).pos(Pos::new(HPos::Center, VPos::Bottom)),
        )
    }))?;
    Ok(())
}

/// How many flagged pages the chart shows; the table below it lists them all.
const FLAGGED_SHOWN: usize = 20;
/// Desktop shares (percent) outside which traffic is flagged, shaded behind the marks.
const FLAG_ZONES: [(f64, f64); 2] = [(0.0, 10.0), (90.0, 100.0)];

/// Each flagged page's desktop share (mean dot, lowest–highest line) against the
/// bounds outside which traffic is flagged (shaded).
pub(crate) fn flagged(flagged: &[Flagged]) -> Result<String> {
    const CHART: &str = "flagged traffic";
    let shown = &flagged[..flagged.len().min(FLAGGED_SHOWN)];
    let rows = Rows::new(shown.iter().map(|f| f.article.as_str()));
    svg(CHART, rows.height(26), |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .margin_right(30)
            .x_label_area_size(40)
            .y_label_area_size(300)
            .build_cartesian_2d(0.0..100.0, rows.bands())
            .map_err(failed(CHART))?;
        flagged_axes(&mut chart, &rows).map_err(failed(CHART))?;
        for (a, b) in FLAG_ZONES {
            chart
                .draw_series([Rectangle::new(
                    [
                        (a, SegmentValue::Exact(0)),
                        (b, SegmentValue::Exact(rows.top())),
                    ],
                    FLAG_ZONE.filled(),
                )])
                .map_err(failed(CHART))?;
        }
        for (i, f) in shown.iter().enumerate() {
            let y = SegmentValue::CenterOf(rows.band(i));
            desktop_share(&mut chart, y, f).map_err(failed(CHART))?;
        }
        Ok(())
    })
}

/// Shares along the bottom in percent, the pages down the side.
fn flagged_axes(chart: &mut Plot<'_, '_, RangedCoordf64, Bands>, rows: &Rows) -> Drawn {
    let row_label = |v: &SegmentValue<u32>| rows.label_at(v);
    let pct = |x: &f64| format!("{x:.0} %");
    chart
        .configure_mesh()
        .disable_y_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .x_labels(11)
        .y_labels(rows.label_count())
        .x_label_formatter(&pct)
        .y_label_formatter(&row_label)
        .x_desc("desktop share of the views")
        .label_style(text_style(12))
        .axis_desc_style(text_style(12))
        .axis_style(GRID)
        .draw()
}

/// One page's row: its lowest–highest share as a line and its mean as a dot, or a note
/// where the desktop top list did not have the page (no share to place).
fn desktop_share(
    chart: &mut Plot<'_, '_, RangedCoordf64, Bands>,
    y: SegmentValue<u32>,
    f: &Flagged,
) -> Drawn {
    let share = |s: Option<f64>| s.map(|s| (s * 100.0).clamp(0.0, 100.0));
    if let (Some(lo), Some(hi)) = (share(f.desktop_share_min), share(f.desktop_share_max)) {
        chart.draw_series([PathElement::new(
            vec![(lo, y.clone()), (hi, y.clone())],
            MISSING.stroke_width(2),
        )])?;
    }
    match share(f.desktop_share) {
        Some(mean) => chart.draw_series([Circle::new((mean, y), 5, MISSING.filled())]),
        None => chart.draw_series([Text::new(
            "not in the desktop top list",
            (1.0, y),
            text_style(11).pos(Pos::new(HPos::Left, VPos::Center)),
        )]),
    }?;
    Ok(())
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
