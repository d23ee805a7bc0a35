//! `meta=siteinfo` with `siprop=general|namespaces|namespacealiases`, in `formatversion=2`
//! shapes, derived from the wiki's [`Site`](crate::site::Site).
//!
//! It owns which properties the fake serves and what each one answers; parsing the
//! request, refusing what it does not serve and placing the sections in `query` are the
//! Action API module's (`action`). Fields are the subset clients read (wikitop reads
//! `mainpage`; Wikimedia's own feeds build `mediawiki-title` from all three sections), in
//! MediaWiki's order. See <https://www.mediawiki.org/wiki/API:Siteinfo>.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::site::site;

/// MediaWiki's default `$wgLegalTitleChars` (MainConfigSchema::LegalTitleChars), as
/// `Title::legalChars()` returns it: a regex character class for titles.
pub(crate) const LEGAL_TITLE_CHARS: &str = r#" %!"$&'()*,\-.\/0-9:;=?@A-Z\\^_`a-z~\x80-\xFF+"#;

/// Every Wikipedia keeps `$wgCapitalLinks` on (ApiQuerySiteinfo reports it as `case`).
const CASE: &str = "first-letter";

/// Namespaces with subpages: core's default `$wgNamespacesWithSubpages` (talk namespaces,
/// User, Project, MediaWiki, Template, Help); the fake sets no per-wiki overrides.
const WITH_SUBPAGES: &[i32] = &[1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 15];

/// Core's default `$wgContentNamespaces`.
const CONTENT: &[i32] = &[0];

/// One value of `siprop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prop {
    General,
    Namespaces,
    NamespaceAliases,
}

impl Prop {
    /// What the fake serves, for its refusal of the rest.
    pub(crate) const SERVED: &'static str = "general|namespaces|namespacealiases";

    pub(crate) fn parse(value: &str) -> Option<Self> {
        match value {
            "general" => Some(Prop::General),
            "namespaces" => Some(Prop::Namespaces),
            "namespacealiases" => Some(Prop::NamespaceAliases),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Prop::General => "general",
            Prop::Namespaces => "namespaces",
            Prop::NamespaceAliases => "namespacealiases",
        }
    }
}

/// The sections `query` gains, in the order asked: ApiQuerySiteinfo::execute appends
/// them to the result one `siprop` value after the other.
pub(crate) struct SiteinfoOut(Vec<(Prop, Section)>);

enum Section {
    General(GeneralOut),
    Namespaces(BTreeMap<i32, NamespaceOut>),
    NamespaceAliases(Vec<AliasOut>),
}

/// Part of ApiQuerySiteinfo::appendGeneralInfo: the main page's prefixed title, with spaces.
#[derive(Serialize)]
struct GeneralOut {
    mainpage: String,
    sitename: &'static str,
    legaltitlechars: &'static str,
    case: &'static str,
    lang: String,
}

/// One entry of ApiQuerySiteinfo::appendNamespaces, keyed by its id.
#[derive(Serialize)]
struct NamespaceOut {
    id: i32,
    case: &'static str,
    name: &'static str,
    subpages: bool,
    /// Left out for the main namespace, whose canonical name is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    canonical: Option<&'static str>,
    content: bool,
    nonincludable: bool,
}

/// One entry of ApiQuerySiteinfo::appendNamespaceAliases.
#[derive(Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct AliasOut {
    id: i32,
    alias: &'static str,
}

impl SiteinfoOut {
    /// What `project` (`hi.wikipedia`) answers for `props`, each asked once.
    pub(crate) fn answer(project: &str, props: &[Prop]) -> Self {
        let site = site(project);
        let sections = props.iter().map(|&prop| {
            let section = match prop {
                Prop::General => Section::General(GeneralOut {
                    mainpage: site.main_page.to_owned(),
                    sitename: "Wikipedia",
                    legaltitlechars: LEGAL_TITLE_CHARS,
                    case: CASE,
                    lang: project.split('.').next().unwrap_or_default().to_owned(),
                }),
                // An object keyed by id, in id order (Language::getFormattedNamespaces).
                Prop::Namespaces => Section::Namespaces(
                    site.namespaces()
                        .into_iter()
                        .map(|ns| {
                            let out = NamespaceOut {
                                id: ns.id,
                                case: CASE,
                                name: ns.name,
                                subpages: WITH_SUBPAGES.contains(&ns.id),
                                canonical: ns.canonical,
                                content: CONTENT.contains(&ns.id),
                                nonincludable: false,
                            };
                            (ns.id, out)
                        })
                        .collect(),
                ),
                // appendNamespaceAliases ends with PHP's `sort( $data )`: by id, then alias.
                Prop::NamespaceAliases => {
                    let mut aliases: Vec<AliasOut> = site
                        .aliases()
                        .iter()
                        .map(|&(alias, id)| AliasOut { id, alias })
                        .collect();
                    aliases.sort();
                    Section::NamespaceAliases(aliases)
                }
            };
            (prop, section)
        });
        SiteinfoOut(sections.collect())
    }
}

/// Flattened into `query`: one key per section, in the order asked.
impl Serialize for SiteinfoOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (prop, section) in &self.0 {
            match section {
                Section::General(general) => map.serialize_entry(prop.name(), general)?,
                Section::Namespaces(namespaces) => map.serialize_entry(prop.name(), namespaces)?,
                Section::NamespaceAliases(aliases) => map.serialize_entry(prop.name(), aliases)?,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_come_in_the_order_asked_with_namespaces_in_id_order() {
        let out = SiteinfoOut::answer(
            "en.wikipedia",
            &[Prop::NamespaceAliases, Prop::Namespaces, Prop::General],
        );
        let json = serde_json::to_string(&out).expect("serialises");
        let aliases = json.find("\"namespacealiases\"").expect("aliases");
        let namespaces = json.find("\"namespaces\"").expect("namespaces");
        let general = json.find("\"general\"").expect("general");
        assert!(aliases < namespaces && namespaces < general, "{json}");
        // Numeric order, not string order: -1 before 0, 14 before 100.
        let positions: Vec<usize> = ["\"-1\"", "\"0\"", "\"1\"", "\"14\"", "\"100\""]
            .iter()
            .map(|key| json.find(key).expect(key))
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{json}");
    }
}
