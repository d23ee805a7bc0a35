//! MediaWiki title parsing: what `Title::newFromText` does to a `titles=` value.
//!
//! Owns normalisation (underscores to spaces, collapsed whitespace, the wiki's local
//! namespace prefix and special page name, first letter uppercased) and the syntactic
//! validity rules. Which names a wiki gives its namespaces is the `site`'s business; which
//! pages exist, the universe's.
//! See <https://www.mediawiki.org/wiki/Manual:Page_title>.

use crate::site::Site;

/// The longest title MediaWiki accepts, in bytes.
const MAX_TITLE_BYTES: usize = 255;

pub(crate) const EMPTY_REASON: &str =
    "The requested page title is empty or contains only the name of a namespace.";

/// A syntactically valid title in its canonical display form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Title {
    /// With spaces and the canonical namespace prefix, e.g. `Wikipedia:Featured pictures`.
    pub(crate) text: String,
    pub(crate) ns: i32,
}

/// Parses a title as MediaWiki would on `site`, or says why it is invalid (the
/// `invalidreason`).
pub(crate) fn parse(site: &Site, raw: &str) -> Result<Title, String> {
    let collapsed = collapse_whitespace(raw);
    if let Some(bad) = illegal_part(&collapsed) {
        return Err(format!(
            "The requested page title contains invalid characters: \"{bad}\"."
        ));
    }
    let text = collapsed
        .strip_prefix(':')
        .map_or(collapsed.as_str(), str::trim);
    if text.is_empty() {
        return Err(EMPTY_REASON.to_owned());
    }
    let title = match text.split_once(':').and_then(|(prefix, rest)| {
        site.namespace(prefix.trim())
            .map(|(ns, name)| (ns, name, rest.trim()))
    }) {
        Some((_, _, "")) => return Err(EMPTY_REASON.to_owned()),
        // Title::fixSpecialName: a special page's alias becomes its local name.
        Some((-1, name, rest)) => Title {
            text: format!("{name}:{}", site.special_name(&ucfirst(rest))),
            ns: -1,
        },
        Some((ns, name, rest)) => Title {
            text: format!("{name}:{}", ucfirst(rest)),
            ns,
        },
        None => Title {
            text: ucfirst(text),
            ns: 0,
        },
    };
    if title.text.len() > MAX_TITLE_BYTES {
        return Err("The requested page title is too long. It must be no longer than 255 bytes in UTF-8 encoding.".to_owned());
    }
    Ok(title)
}

/// The page name form used in URLs, the Pageviews API and `clcontinue`.
pub(crate) fn underscored(text: &str) -> String {
    text.replace(' ', "_")
}

/// Uppercases the first character when that is one character (MediaWiki leaves `ß` alone
/// rather than turning it into `SS`).
pub(crate) fn ucfirst(s: &str) -> String {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut upper = first.to_uppercase();
    let replaced = match (upper.next(), upper.next()) {
        (Some(u), None) => u,
        _ => first,
    };
    let mut out = String::with_capacity(s.len());
    out.push(replaced);
    out.push_str(chars.as_str());
    out
}

/// Underscores and Unicode spaces become one space; leading and trailing space go.
fn collapse_whitespace(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars() {
        if c == '_' || (c.is_whitespace() && !c.is_control()) {
            pending_space = true;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

/// The first character (or `%XX` escape) MediaWiki refuses in a title, if any.
fn illegal_part(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    for (i, c) in s.char_indices() {
        if "<>[]{}|#".contains(c) || c.is_control() || c == '\u{FFFD}' {
            return Some(c.to_string());
        }
        // A percent-encoded byte would make the title ambiguous in URLs.
        if c == '%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
        {
            return Some(s[i..i + 3].to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{EMPTY_REASON, Title};
    use crate::site::{Site, site};

    fn ok(raw: &str) -> (String, i32) {
        ok_on("en.wikipedia", raw)
    }

    fn ok_on(project: &str, raw: &str) -> (String, i32) {
        let t = parse(site(project), raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
        (t.text, t.ns)
    }

    fn parse(site: &Site, raw: &str) -> Result<Title, String> {
        super::parse(site, raw)
    }

    fn parse_en(raw: &str) -> Result<Title, String> {
        parse(site("en.wikipedia"), raw)
    }

    #[test]
    fn local_namespace_and_special_page_names() {
        assert_eq!(
            ok_on("hi.wikipedia", "Special:Search"),
            ("विशेष:खोज".into(), -1)
        );
        assert_eq!(ok_on("hi.wikipedia", "विशेष:खोज"), ("विशेष:खोज".into(), -1));
        assert_eq!(
            ok_on("hi.wikipedia", "Project:चौपाल"),
            ("विकिपीडिया:चौपाल".into(), 4)
        );
        assert_eq!(
            ok_on("hi.wikipedia", "प्रवेशद्वार:भारत"),
            ("प्रवेशद्वार:भारत".into(), 100)
        );
        assert_eq!(
            ok_on("de.wikipedia", "special:search"),
            ("Spezial:Suche".into(), -1)
        );
    }

    #[test]
    fn normalises_like_mediawiki() {
        assert_eq!(ok("tom_&_Jerry"), ("Tom & Jerry".into(), 0));
        assert_eq!(ok("  Main__Page "), ("Main Page".into(), 0));
        assert_eq!(ok("special:search"), ("Special:Search".into(), -1));
        assert_eq!(
            ok("wikipedia:featured_pictures"),
            ("Wikipedia:Featured pictures".into(), 4)
        );
        assert_eq!(ok("WP:x"), ("Wikipedia:X".into(), 4));
        assert_eq!(ok("école"), ("École".into(), 0));
        assert_eq!(ok("ßtraße"), ("ßtraße".into(), 0));
        assert_eq!(ok("беларусь"), ("Беларусь".into(), 0));
        assert_eq!(ok("AC/DC"), ("AC/DC".into(), 0));
        assert_eq!(ok("Question?"), ("Question?".into(), 0));
        assert_eq!(ok("100%_Wolf"), ("100% Wolf".into(), 0));
        assert_eq!(ok("Foo:bar"), ("Foo:bar".into(), 0));
        assert_eq!(ok("-"), ("-".into(), 0));
    }

    #[test]
    fn rejects_what_mediawiki_rejects() {
        for raw in [
            "",
            "_",
            "Category:",
            "a<b",
            "x[1]",
            "{{t}}",
            "a|b",
            "a#b",
            "Caf%C3%A9",
            "\u{7}",
        ] {
            assert!(parse_en(raw).is_err(), "{raw:?}");
        }
        assert_eq!(parse_en("Talk:").unwrap_err(), EMPTY_REASON);
        assert_eq!(
            parse_en("x[1]").unwrap_err(),
            "The requested page title contains invalid characters: \"[\"."
        );
        assert!(parse_en(&"a".repeat(256)).is_err());
    }
}
