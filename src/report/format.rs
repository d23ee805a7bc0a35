//! How the report writes numbers and names: thousands separated, shares as percent,
//! Pageviews article names with spaces. Shared by the charts and the template.

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share (0–1) as `42.5 %`.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// An article name as a reader writes it (`Deaths_in_2024` → `Deaths in 2024`), cut
/// to `max` characters with an ellipsis.
pub(crate) fn label(article: &str, max: usize) -> String {
    let spaced = article.replace('_', " ");
    if spaced.chars().count() <= max {
        return spaced;
    }
    let mut cut: String = spaced.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(percent(0.925), "92.5 %");
        assert_eq!(label("A_b_c", 10), "A b c");
        assert_eq!(label("Abcdefgh", 5), "Abcd…");
    }
}
