//! The deny list: titles kept out of Wikimedia's "Top read" list, each with why.
//!
//! The shipped entries are every entry of the feed's own list (`deny_list.tsv` says at
//! which wikifeeds revision), each with its scope, its kind and its source. The kind
//! decides what an entry does here: every entry keeps its page out of `mostread_rank`
//! (the feed's rule), but only `automated` and `unexplained` entries flag a row as
//! `suspect_automated`; an `editorial` entry says nothing about the traffic. An
//! operator's file adds entries of the same form.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::model::Project;

/// The deny list shipped with wikitop: Wikimedia's feed's entries, with their sources.
const SHIPPED: &str = include_str!("deny_list.tsv");

/// Why an entry is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Its task or commit names a traffic anomaly or bots.
    Automated,
    /// Kept out for its content, or another reason that is not about traffic.
    Editorial,
    /// Its commit gives no reason.
    Unexplained,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "automated" => Some(Kind::Automated),
            "editorial" => Some(Kind::Editorial),
            "unexplained" => Some(Kind::Unexplained),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Automated => "automated",
            Kind::Editorial => "editorial",
            Kind::Unexplained => "unexplained",
        }
    }

    /// Whether an entry of this kind says the traffic is likely automated.
    pub fn flags_traffic(self) -> bool {
        !matches!(self, Kind::Editorial)
    }
}

/// Where an entry applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Scope {
    Everywhere,
    /// Every wiki of a language code: the project's subdomain (`pt` for `pt.wikipedia`).
    Language(String),
    /// One project (an operator's entry, e.g. `fr.wikipedia`).
    Project(Project),
}

/// One entry: its kind and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub source: String,
}

/// Titles kept out of the "Top read" list: the shipped entries plus the operator's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DenyList {
    /// `(scope, title with underscores)` → entry.
    entries: HashMap<(Scope, String), Entry>,
}

impl DenyList {
    /// The shipped list, extended by `extra` (a file of the same form) when given.
    pub fn load(extra: Option<&Path>) -> Result<Self> {
        let mut list = DenyList {
            entries: HashMap::new(),
        };
        list.extend(SHIPPED, "the shipped deny list")?;
        if let Some(path) = extra {
            let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidSetting {
                what: "deny list",
                value: path.display().to_string(),
                why: format!("cannot read it: {e}"),
            })?;
            list.extend(&text, &path.display().to_string())?;
        }
        Ok(list)
    }

    /// Adds the entries of a file: `scope<TAB>title<TAB>kind<TAB>source` lines, where
    /// scope is `*`, a language code or a project; `#` comments. The previous release's
    /// `project<TAB>title<TAB>reason` lines still read, as `automated` entries.
    fn extend(&mut self, text: &str, name: &str) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |why: &str| Error::InvalidSetting {
                what: "deny list",
                value: format!("{name} line {}", n + 1),
                why: why.to_owned(),
            };
            let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
            let (scope, title, kind, source) = match fields[..] {
                [scope, title, kind, source] => (
                    scope,
                    title,
                    Kind::parse(kind).ok_or_else(|| {
                        bad("the kind must be `automated`, `editorial` or `unexplained`")
                    })?,
                    source,
                ),
                [scope, title, reason] => (scope, title, Kind::Automated, reason),
                _ => return Err(bad("expected `scope<TAB>title<TAB>kind<TAB>source`")),
            };
            let title = underscored(title);
            if title.is_empty() || source.is_empty() {
                return Err(bad("the title and the source may not be empty"));
            }
            let scope = parse_scope(scope).map_err(|e| bad(&e))?;
            let entry = Entry {
                kind,
                source: source.to_owned(),
            };
            self.entries.insert((scope, title), entry);
        }
        Ok(())
    }

    /// The entries that name `title` (served or canonical, spaces or underscores) on
    /// `project`, most specific scope first.
    fn matching(&self, project: &Project, title: &str) -> Vec<&Entry> {
        let title = underscored(title);
        [
            Scope::Project(project.clone()),
            Scope::Language(project.language().to_owned()),
            Scope::Everywhere,
        ]
        .into_iter()
        .filter_map(|scope| self.entries.get(&(scope, title.clone())))
        .collect()
    }

    /// Whether `title` is kept out of the "Top read" list of `project` (any kind).
    pub fn blocks(&self, project: &Project, title: &str) -> bool {
        !self.matching(project, title).is_empty()
    }

    /// The entry that flags traffic to `title` on `project` as likely automated, if any.
    pub fn flagging(&self, project: &Project, title: &str) -> Option<&Entry> {
        self.matching(project, title)
            .into_iter()
            .find(|e| e.kind.flags_traffic())
    }
}

fn parse_scope(scope: &str) -> std::result::Result<Scope, String> {
    if scope == "*" {
        Ok(Scope::Everywhere)
    } else if scope.contains('.') {
        scope
            .parse::<Project>()
            .map(Scope::Project)
            .map_err(|e| e.to_string())
    } else if !scope.is_empty()
        && scope
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        Ok(Scope::Language(scope.to_owned()))
    } else {
        Err(format!(
            "the scope `{scope}` is neither `*`, a language code nor a project"
        ))
    }
}

/// Titles compare with underscores, as the Pageviews API and the feed write them.
fn underscored(title: &str) -> String {
    title.replace(' ', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Project {
        s.parse().unwrap()
    }

    #[test]
    fn the_shipped_list_is_the_feeds_with_every_entry_sourced() {
        let list = DenyList::load(None).unwrap();
        // wikifeeds lib/most-read.js at 7bddb99: 52 entries for every wiki, 2 pt, 3 ru, 1 test.
        assert_eq!(list.entries.len(), 58);
        let everywhere = list
            .entries
            .keys()
            .filter(|(s, _)| *s == Scope::Everywhere)
            .count();
        assert_eq!(everywhere, 52);
        let en = p("en.wikipedia");
        let chatgpt = list.flagging(&en, "ChatGPT").unwrap();
        assert_eq!(chatgpt.kind, Kind::Unexplained);
        assert!(chatgpt.source.contains("e745aba"), "{}", chatgpt.source);
        assert_eq!(
            list.flagging(&p("de.wikipedia"), "Edguy").unwrap().kind,
            Kind::Automated
        );
        // Content, not traffic: kept out of the "Top read" list, never flagged.
        assert!(list.blocks(&en, "Nigger") && list.flagging(&en, "Nigger").is_none());
        // A language list applies to that language's wikis only.
        assert!(list.blocks(&p("pt.wikipedia"), "Ereção"));
        assert!(!list.blocks(&en, "Ereção"));
        assert!(list.blocks(&p("ru.wikipedia"), "Яндекс"));
        assert!(!list.blocks(&en, "Elon_Musk"));
    }

    #[test]
    fn an_operators_list_extends_the_shipped_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("deny.tsv");
        std::fs::write(
            &file,
            "# ours\nfr.wikipedia\tLe Bot\tscraper seen in our logs\n\
             *\tSpoiler\teditorial\tour style guide\nde\tBlitz\tunexplained\tT1\n",
        )
        .unwrap();
        let list = DenyList::load(Some(&file)).unwrap();
        let (fr, en, de) = (p("fr.wikipedia"), p("en.wikipedia"), p("de.wiktionary"));
        let bot = list.flagging(&fr, "Le_Bot").unwrap();
        assert_eq!(
            (bot.kind, bot.source.as_str()),
            (Kind::Automated, "scraper seen in our logs")
        );
        assert!(list.flagging(&en, "Le_Bot").is_none());
        assert!(list.blocks(&en, "Spoiler") && list.flagging(&en, "Spoiler").is_none());
        assert!(list.flagging(&de, "Blitz").is_some());
        for bad in [
            "fr.wikipedia Le_Bot no tabs\n",
            "*\tX\tbots\tT1\n",
            "Deutsch!\tX\tautomated\tT1\n",
        ] {
            std::fs::write(&file, bad).unwrap();
            let err = DenyList::load(Some(&file)).unwrap_err().to_string();
            assert!(err.contains("line 1"), "{err}");
        }
    }
}
