//! Days and durations as the user reads them.

use wikitop::model::Day;

/// Up to 20 day ranges, then how many more.
pub(super) fn ranges_text(ranges: &[(Day, Day)]) -> String {
    let shown: Vec<String> = ranges.iter().take(20).map(|(a, b)| span(*a, *b)).collect();
    let more = ranges.len().saturating_sub(20);
    if more > 0 {
        format!("{} and {more} more range(s)", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

fn span(a: Day, b: Day) -> String {
    if a == b {
        a.to_string()
    } else {
        format!("{a}..{b}")
    }
}

/// Days as compressed ranges: `2023-04-01..2023-04-30, 2023-05-02`.
pub(super) fn ranges(days: &[Day]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut iter = days.iter().copied();
    let Some(mut start) = iter.next() else {
        return "none".into();
    };
    let mut end = start;
    for d in iter {
        if end.tomorrow().ok() == Some(d) {
            end = d;
        } else {
            out.push(span(start, end));
            start = d;
            end = d;
        }
    }
    out.push(span(start, end));
    out.join(", ")
}

pub(super) fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs.div_ceil(60)),
        _ => format!("{:.1} h", secs as f64 / 3600.0),
    }
}

/// `3512` → `3,512`, as the report writes numbers.
pub(super) use wikitop::report::thousands;

/// Bytes in decimal units, as BigQuery's console shows them: `45.3 GB`.
pub(super) fn bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", units[unit])
    }
}
