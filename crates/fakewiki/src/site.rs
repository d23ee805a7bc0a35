//! What differs from one wiki to the next, as far as titles go: the local names of the
//! namespaces, and the language variants a title may be written in.
//!
//! Every wiki also accepts the canonical (English) namespace names and answers with its
//! local ones, e.g. `Special:Search` on hi.wikipedia becomes `विशेष:खोज`
//! (MediaWiki `Language::getNsIndex` accepts canonical names; `Title::getPrefixedText`
//! prints the local one). It knows nothing of pages: that is the universe's business.

/// Canonical namespace names, which every wiki accepts.
const CANONICAL: &[(i32, &str)] = &[
    (-1, "Special"),
    (1, "Talk"),
    (2, "User"),
    (3, "User talk"),
    (4, "Project"),
    (5, "Project talk"),
    (6, "File"),
    (7, "File talk"),
    (10, "Template"),
    (11, "Template talk"),
    (12, "Help"),
    (14, "Category"),
    (15, "Category talk"),
    (100, "Portal"),
    (118, "Draft"),
];

/// The main namespace: no prefix, no canonical name.
const MAIN_NS: i32 = 0;

/// One namespace as the wiki names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Namespace {
    pub(crate) id: i32,
    /// The local name; empty for the main namespace.
    pub(crate) name: &'static str,
    /// The canonical (English) name; none for the main namespace.
    pub(crate) canonical: Option<&'static str>,
}

/// A wiki's title conventions.
#[derive(Debug)]
pub(crate) struct Site {
    /// Local namespace names; namespaces not listed use the canonical name.
    local: &'static [(i32, &'static str)],
    /// Further names that map to a namespace (`WP:` on en.wikipedia), spelt as
    /// `meta=siteinfo&siprop=namespacealiases` lists them; matched in any letter case.
    aliases: &'static [(&'static str, i32)],
    /// Title written in another variant → the title as stored, for `converttitles=1`.
    variants: &'static [(&'static str, &'static str)],
    /// Canonical special page name → local name (`specialPageAliases` in MessagesXx.php).
    specials: &'static [(&'static str, &'static str)],
    /// The main page's prefixed title, as `meta=siteinfo` names it: in the main
    /// namespace on some wikis, in the project namespace on others (the real ones).
    pub(crate) main_page: &'static str,
}

const ENGLISH: Site = Site {
    local: &[(4, "Wikipedia"), (5, "Wikipedia talk")],
    aliases: &[("WP", 4), ("Image", 6)],
    variants: &[],
    specials: &[],
    main_page: "Main Page",
};

const GERMAN: Site = Site {
    local: &[(-1, "Spezial"), (4, "Wikipedia"), (14, "Kategorie")],
    aliases: &[],
    variants: &[],
    specials: &[("Search", "Suche")],
    main_page: "Wikipedia:Hauptseite",
};

const FRENCH: Site = Site {
    local: &[
        (-1, "Spécial"),
        (4, "Wikipédia"),
        (14, "Catégorie"),
        (100, "Portail"),
    ],
    aliases: &[],
    variants: &[],
    specials: &[("Search", "Recherche")],
    main_page: "Wikipédia:Accueil principal",
};

/// hi.wikipedia's namespace names (its `Special:AllPages` namespace menu).
const HINDI: Site = Site {
    local: &[
        (-1, "विशेष"),
        (1, "वार्ता"),
        (2, "सदस्य"),
        (4, "विकिपीडिया"),
        (6, "चित्र"),
        (10, "साँचा"),
        (12, "सहायता"),
        (14, "श्रेणी"),
        (100, "प्रवेशद्वार"),
    ],
    aliases: &[("WP", 4)],
    variants: &[],
    specials: &[("Search", "खोज")],
    main_page: "मुखपृष्ठ",
};

/// zh.wikipedia keeps canonical names and converts between Chinese variants
/// (`LanguageConverter::findVariantLink`): a traditional title finds the simplified page.
const CHINESE: Site = Site {
    local: &[(4, "Wikipedia")],
    aliases: &[("特殊", -1), ("分类", 14)],
    variants: &[
        ("計算機", "计算机"),
        ("電腦 科學", "电脑 科学"),
        ("臺北", "台北"),
    ],
    specials: &[],
    main_page: "Wikipedia:首页",
};

/// The conventions of `project` (`en.wikipedia`); unknown wikis behave like English.
pub(crate) fn site(project: &str) -> &'static Site {
    match project.split('.').next() {
        Some("de") => &GERMAN,
        Some("fr") => &FRENCH,
        Some("hi") => &HINDI,
        Some("zh") => &CHINESE,
        _ => &ENGLISH,
    }
}

impl Site {
    /// The namespace a prefix names (local, canonical or alias, any letter case) and its
    /// local name.
    pub(crate) fn namespace(&self, prefix: &str) -> Option<(i32, &'static str)> {
        let wanted = prefix.replace('_', " ").to_lowercase();
        let by_name = |names: &[(i32, &'static str)]| {
            names
                .iter()
                .find(|(_, name)| name.to_lowercase() == wanted)
                .map(|&(ns, _)| ns)
        };
        let ns = by_name(self.local)
            .or_else(|| by_name(CANONICAL))
            .or_else(|| {
                self.aliases
                    .iter()
                    .find(|(alias, _)| alias.to_lowercase() == wanted)
                    .map(|&(_, ns)| ns)
            })?;
        Some((ns, self.name_of(ns)?))
    }

    /// The local name of a namespace other than the main one.
    pub(crate) fn name_of(&self, ns: i32) -> Option<&'static str> {
        self.local
            .iter()
            .chain(CANONICAL)
            .find(|(n, _)| *n == ns)
            .map(|&(_, name)| name)
    }

    /// Every namespace of the wiki in id order, the main one included: those with a
    /// canonical name and those with a local one.
    pub(crate) fn namespaces(&self) -> Vec<Namespace> {
        let mut ids: Vec<i32> = CANONICAL
            .iter()
            .chain(self.local)
            .map(|&(ns, _)| ns)
            .chain([MAIN_NS])
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|id| Namespace {
                id,
                name: self.name_of(id).unwrap_or(""),
                canonical: CANONICAL
                    .iter()
                    .find(|(n, _)| *n == id)
                    .map(|&(_, name)| name),
            })
            .collect()
    }

    /// The further names of namespaces: (alias, namespace).
    pub(crate) fn aliases(&self) -> &'static [(&'static str, i32)] {
        self.aliases
    }

    /// The local name of a special page, given its canonical name or a local one.
    pub(crate) fn special_name(&self, name: &str) -> String {
        self.specials
            .iter()
            .find(|(canonical, _)| *canonical == name)
            .map_or(name, |&(_, local)| local)
            .to_owned()
    }

    /// The stored title a title in another variant converts to, if any.
    pub(crate) fn variant_of(&self, text: &str) -> Option<&'static str> {
        self.variants
            .iter()
            .find(|(from, _)| *from == text)
            .map(|&(_, to)| to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_list_main_local_and_canonical_in_id_order() {
        let namespaces = site("hi.wikipedia").namespaces();
        let ids: Vec<i32> = namespaces.iter().map(|ns| ns.id).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert_eq!(
            namespaces.iter().find(|ns| ns.id == 0),
            Some(&Namespace {
                id: 0,
                name: "",
                canonical: None
            })
        );
        assert_eq!(
            namespaces.iter().find(|ns| ns.id == 4),
            Some(&Namespace {
                id: 4,
                name: "विकिपीडिया",
                canonical: Some("Project")
            })
        );
    }

    #[test]
    fn canonical_names_map_to_local_ones() {
        assert_eq!(
            site("hi.wikipedia").namespace("Special"),
            Some((-1, "विशेष"))
        );
        assert_eq!(site("hi.wikipedia").namespace("विशेष"), Some((-1, "विशेष")));
        assert_eq!(
            site("hi.wikipedia").namespace("category"),
            Some((14, "श्रेणी"))
        );
        assert_eq!(
            site("en.wikipedia").namespace("project"),
            Some((4, "Wikipedia"))
        );
        assert_eq!(
            site("fr.wikipedia").namespace("Wikipédia"),
            Some((4, "Wikipédia"))
        );
        assert_eq!(site("en.wikipedia").namespace("Foo"), None);
        assert_eq!(site("en.wikipedia").namespace("wp"), Some((4, "Wikipedia")));
        assert_eq!(
            site("zh.wikipedia").namespace("分类"),
            Some((14, "Category"))
        );
        assert_eq!(site("zh.wikipedia").variant_of("計算機"), Some("计算机"));
    }
}
