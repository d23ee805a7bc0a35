//! Non-Latin wikis shaped like the real ones, for the cases English hides.
//!
//! hi.wikipedia: Devanagari titles long enough that 50 of them, percent-encoded, are
//! 10–20 KB (past Wikimedia's ~8 KB request-target limit), local namespace names
//! (`विशेष:खोज`, `श्रेणी:…`), a main page with a local name, `-` existing as a page, a
//! title that is not in Unicode NFC, a double redirect, a redirect loop, chains into a
//! missing page, and a page whose categories need `continue`. zh.wikipedia: titles
//! written in another Chinese variant, found only with `converttitles=1`. en.wikipedia:
//! a short list of the same topics in English, so the three wikis share Wikidata items
//! (India on all three, reached through redirects on two). Every access value serves the
//! same lists; other projects have none.

use std::collections::HashMap;

use jiff::civil::Date;

use super::{Category, Page, sort_api_order};
use crate::rng::{Rng, hash_str, key};

pub(super) const FIRST_DAY: Date = jiff::civil::date(2023, 4, 1);
const DAYS: i64 = 4;
/// Generated articles a day besides the planted ones; with them the list passes 100.
const GENERATED_PER_DAY: u64 = 110;
/// Of the generated titles, this many are shared by every day (evergreen).
const EVERGREEN: u64 = 40;

/// `क़` written as the single code point U+0958, which NFC decomposes to `क` + nukta
/// (U+0958 is a composition exclusion): the Pageviews API passes such bytes through.
pub const NOT_NFC: &str = "\u{0958}ुतुब_मीनार";
const NOT_NFC_PAGE: &str = "\u{0915}\u{093C}ुतुब मीनार";

/// The page with more category rows than one response carries.
const BIG_PAGE: &str = "भारत के राज्यों और केंद्रशासित प्रदेशों की सूची";

/// Planted rows of every hi.wikipedia day: (article as served, views).
const HI_PLANTED: &[(&str, u64)] = &[
    ("मुखपृष्ठ", 1_900_000),
    ("विशेष:खोज", 640_000),
    ("Special:Search", 210_000),
    ("-", 120_000),
    (NOT_NFC, 96_000),
    ("भारत_गणराज्य", 91_000),
    ("लूप_क", 88_000),
    ("पुराना_नाम", 87_000),
    ("पुराना_नाम_२", 86_000),
    ("प्रवेशद्वार:भारत", 85_000),
    ("Project:चौपाल", 84_000),
    ("भारत_के_राज्यों_और_केंद्रशासित_प्रदेशों_की_सूची", 83_000),
];

/// hi.wikipedia pages beside the generated ones: (title, page id, visible, hidden).
const HI_PAGES: &[(&str, i64, &[&str], &[&str])] = &[
    ("मुखपृष्ठ", 1_001, &[], &["सुरक्षित पृष्ठ"]),
    // On real wikis `-` may be a page of its own; a client must never ask for it.
    ("-", 1_002, &["विराम चिह्न"], &[]),
    (
        NOT_NFC_PAGE,
        1_003,
        &["दिल्ली के स्मारक", "विश्व धरोहर स्थल"],
        &["निर्देशांक वाले लेख"],
    ),
    ("भारत", 1_004, &["भारत", "दक्षिण एशिया के देश"], &["आधार लेख"]),
    ("प्रवेशद्वार:भारत", 1_005, &["भारत प्रवेशद्वार"], &[]),
    (
        "विकिपीडिया:चौपाल",
        1_006,
        &["विकिपीडिया चर्चा"],
        &["सुरक्षित पृष्ठ"],
    ),
];

/// hi.wikipedia redirects, normalised title → target: a double redirect, a loop, and
/// chains ending at pages that do not exist.
const HI_REDIRECTS: &[(&str, &str)] = &[
    ("भारत गणराज्य", "भारतवर्ष"),
    ("भारतवर्ष", "भारत"),
    ("लूप क", "लूप ख"),
    ("लूप ख", "लूप क"),
    ("पुराना नाम", "नया नाम"),
    ("पुराना नाम २", "मध्य नाम"),
    ("मध्य नाम", "अनुपलब्ध नाम"),
];

/// zh.wikipedia's list: written in traditional characters, stored as simplified.
const ZH_LIST: &[(&str, u64)] = &[
    ("Wikipedia:首页", 900_000),
    ("Special:Search", 300_000),
    ("-", 80_000),
    ("計算機", 50_000),
    ("電腦_科學", 40_000),
    ("臺北", 30_000),
    ("计算机", 20_000),
    ("印度", 15_000),
];

const ZH_PAGES: &[(&str, i64, &[&str], &[&str])] = &[
    ("Wikipedia:首页", 2_001, &[], &["Wikipedia保护页面"]),
    (
        "计算机",
        2_002,
        &["计算机", "电子设备"],
        &["含有英语的条目"],
    ),
    ("电脑 科学", 2_003, &["计算机科学"], &[]),
    (
        "台北",
        2_004,
        &["台北市", "台湾城市"],
        &["使用Infobox的页面"],
    ),
    ("印度", 2_005, &["印度", "南亚国家"], &[]),
];

/// en.wikipedia's list: the topics of the other two wikis, a redirect to one of them, a
/// page in the project namespace and one linked to no Wikidata item.
const EN_LIST: &[(&str, u64)] = &[
    ("Main_Page", 4_800_000),
    ("Special:Search", 1_100_000),
    ("-", 250_000),
    ("India", 180_000),
    ("Computer", 120_000),
    ("Taipei", 64_000),
    ("Qutb_Minar", 52_000),
    ("Computer_science", 51_000),
    ("List_of_states_and_union_territories_of_India", 47_000),
    ("Republic_of_India", 33_000),
    ("Wikipedia:About", 21_000),
    ("Obscure_new_stub", 12_000),
    ("No_such_page_here", 9_000),
];

const EN_PAGES: &[(&str, i64, &[&str], &[&str])] = &[
    ("Main Page", 3_001, &[], &["Protected main page"]),
    (
        "India",
        3_002,
        &["Countries in South Asia"],
        &["Good articles"],
    ),
    ("Computer", 3_003, &["Computers"], &[]),
    ("Taipei", 3_004, &["Capitals in Asia"], &[]),
    ("Qutb Minar", 3_005, &["World Heritage Sites in India"], &[]),
    ("Computer science", 3_006, &["Computer science"], &[]),
    (
        "List of states and union territories of India",
        3_007,
        &["Lists of subdivisions of India"],
        &[],
    ),
    (
        "Wikipedia:About",
        3_008,
        &["Wikipedia information pages"],
        &[],
    ),
    ("Obscure new stub", 3_009, &["Stubs"], &[]),
];

/// Wikidata items of the hand-written pages (`wikibase_item`): the same topic is the same
/// item on every wiki. Pages not listed here (and not generated) are linked to none.
const ITEMS: &[(&str, &str, u64)] = &[
    ("en.wikipedia", "Main Page", 5_296),
    ("hi.wikipedia", "मुखपृष्ठ", 5_296),
    ("zh.wikipedia", "Wikipedia:首页", 5_296),
    ("en.wikipedia", "India", 668),
    ("hi.wikipedia", "भारत", 668),
    ("zh.wikipedia", "印度", 668),
    ("en.wikipedia", "Computer", 68),
    ("zh.wikipedia", "计算机", 68),
    ("en.wikipedia", "Taipei", 1_867),
    ("zh.wikipedia", "台北", 1_867),
    ("en.wikipedia", "Qutb Minar", 188_015),
    ("hi.wikipedia", NOT_NFC_PAGE, 188_015),
    ("en.wikipedia", "Computer science", 21_198),
    ("zh.wikipedia", "电脑 科学", 21_198),
    (
        "en.wikipedia",
        "List of states and union territories of India",
        158_352,
    ),
    ("hi.wikipedia", BIG_PAGE, 158_352),
    ("en.wikipedia", "Wikipedia:About", 4_026_523),
    ("hi.wikipedia", "विकिपीडिया:चौपाल", 3_504_129),
    ("hi.wikipedia", "-", 11_043),
];

/// Words the generated Devanagari titles are made of (all NFC).
const WORDS: &[&str] = &[
    "भारत",
    "इतिहास",
    "राष्ट्रीय",
    "क्रिकेट",
    "टीम",
    "विश्व",
    "प्रतियोगिता",
    "चलचित्र",
    "अभिनेता",
    "गणतंत्र",
    "दिवस",
    "संविधान",
    "प्रधानमंत्री",
    "चुनाव",
    "लोकसभा",
    "महात्मा",
    "स्वतंत्रता",
    "संग्राम",
    "आंदोलन",
    "विज्ञान",
    "प्रौद्योगिकी",
    "संस्थान",
    "विश्वविद्यालय",
    "साहित्य",
    "पुरस्कार",
    "संगीत",
    "महोत्सव",
    "राजवंश",
    "साम्राज्य",
    "युद्ध",
    "नदी",
    "पर्वत",
];

const CATEGORY_WORDS: &[&str] = &[
    "भारतीय",
    "इतिहास",
    "खेल",
    "फ़िल्में",
    "राजनीति",
    "विज्ञान",
    "संगीत",
    "साहित्य",
    "भूगोल",
    "संस्कृति",
    "व्यक्ति",
    "संगठन",
    "वर्ष",
    "घटनाएँ",
];

#[derive(Debug)]
pub(super) struct Intl {
    pages: HashMap<(&'static str, String), Page>,
    /// Every generated title, by index.
    generated: Vec<String>,
}

impl Intl {
    pub(super) fn new() -> Self {
        let mut intl = Intl {
            pages: HashMap::new(),
            generated: (0..EVERGREEN + GENERATED_PER_DAY * DAYS as u64)
                .map(generated_title)
                .collect(),
        };
        for (project, pages) in [
            ("hi.wikipedia", HI_PAGES),
            ("zh.wikipedia", ZH_PAGES),
            ("en.wikipedia", EN_PAGES),
        ] {
            for &(title, page_id, visible, hidden) in pages {
                intl.insert(project, title, page_id, named(visible, hidden));
            }
        }
        let big: Vec<(String, bool)> = (0..640)
            .map(|i| (format!("भारत की सूचियाँ {i:03}"), i % 5 == 0))
            .collect();
        intl.insert("hi.wikipedia", BIG_PAGE, 1_100, big);
        for i in 0..intl.generated.len() {
            let title = intl.generated[i].replace('_', " ");
            let cats = generated_categories(&title);
            intl.insert("hi.wikipedia", &title, 10_000 + i as i64, cats);
        }
        let redirects = HI_REDIRECTS
            .iter()
            .map(|r| ("hi.wikipedia", r))
            .chain([("en.wikipedia", &("Republic of India", "India"))]);
        for (project, &(from, to)) in redirects {
            intl.pages.insert(
                (project, from.to_owned()),
                Page::Redirect {
                    target: to.to_owned(),
                },
            );
        }
        intl
    }

    fn insert(
        &mut self,
        project: &'static str,
        title: &str,
        page_id: i64,
        cats: Vec<(String, bool)>,
    ) {
        let mut categories: Vec<Category> = cats
            .into_iter()
            .map(|(name, hidden)| Category { name, hidden })
            .collect();
        sort_api_order(&mut categories);
        self.pages.insert(
            (project, title.to_owned()),
            Page::Existing {
                page_id,
                categories,
            },
        );
    }

    pub(super) fn days(&self) -> Vec<Date> {
        (0..DAYS)
            .filter_map(|i| FIRST_DAY.checked_add(jiff::Span::new().days(i)).ok())
            .collect()
    }

    pub(super) fn day(&self, project: &str, day: Date) -> Option<Vec<(String, u64)>> {
        let n = self.days().iter().position(|d| *d == day)? as u64;
        match project {
            "hi.wikipedia" => Some(self.hindi_day(n)),
            "zh.wikipedia" => Some(ZH_LIST.iter().map(|&(a, v)| (a.to_owned(), v)).collect()),
            "en.wikipedia" => Some(EN_LIST.iter().map(|&(a, v)| (a.to_owned(), v)).collect()),
            _ => None,
        }
    }

    /// The planted rows, the evergreen titles and this day's own titles, with views
    /// below the planted ones; ties appear where two hashes meet.
    fn hindi_day(&self, n: u64) -> Vec<(String, u64)> {
        let own = EVERGREEN + n * GENERATED_PER_DAY..EVERGREEN + (n + 1) * GENERATED_PER_DAY;
        let mut list: Vec<(String, u64)> =
            HI_PLANTED.iter().map(|&(a, v)| (a.to_owned(), v)).collect();
        for i in (0..EVERGREEN).chain(own) {
            let mut r = Rng::new(key(&[i, n, 0x1D1A]));
            // Coarse views so that ties are common, as in the real lists' tail.
            let views = 1_000 * r.between(2, 80);
            list.push((self.generated[i as usize].clone(), views));
        }
        list
    }

    /// Pages not listed are missing.
    pub(super) fn page(&self, project: &str, text: &str) -> Page {
        self.pages
            .get(&(wiki(project), text.to_owned()))
            .cloned()
            .unwrap_or(Page::Missing)
    }

    /// The listed item, or a generated title's own (one in 25 has none, as elsewhere).
    pub(super) fn item(&self, project: &str, text: &str) -> Option<u64> {
        let project = wiki(project);
        if let Some(&(_, _, q)) = ITEMS.iter().find(|(p, t, _)| *p == project && *t == text) {
            return Some(q);
        }
        let generated =
            project == "hi.wikipedia" && self.generated.iter().any(|g| g.replace('_', " ") == text);
        generated.then(|| super::item_of_title(0, text)).flatten()
    }
}

/// The wiki whose pages a project sees: every other project sees hi.wikipedia's.
fn wiki(project: &str) -> &'static str {
    match project {
        "zh.wikipedia" => "zh.wikipedia",
        "en.wikipedia" => "en.wikipedia",
        _ => "hi.wikipedia",
    }
}

fn named(visible: &[&str], hidden: &[&str]) -> Vec<(String, bool)> {
    visible
        .iter()
        .map(|c| ((*c).to_owned(), false))
        .chain(hidden.iter().map(|c| ((*c).to_owned(), true)))
        .collect()
}

/// Four to seven words and a year: 25–60 Devanagari letters, 200–500 bytes encoded.
fn generated_title(i: u64) -> String {
    let mut r = Rng::new(key(&[i, 0x7117]));
    let n = r.between(4, 7);
    let mut words: Vec<&str> = (0..n)
        .map(|_| WORDS[r.below(WORDS.len() as u64) as usize])
        .collect();
    words.dedup();
    format!("{}_({})", words.join("_"), 1900 + i)
}

/// Eight to thirty visible categories and a few hidden ones.
fn generated_categories(title: &str) -> Vec<(String, bool)> {
    let mut r = Rng::new(key(&[hash_str(title), 0xCA7]));
    let mut out: Vec<(String, bool)> = Vec::new();
    for hidden in [false, true] {
        let wanted = if hidden {
            r.between(1, 4)
        } else {
            r.between(8, 30)
        };
        for _ in 0..wanted {
            let a = CATEGORY_WORDS[r.below(CATEGORY_WORDS.len() as u64) as usize];
            let b = CATEGORY_WORDS[r.below(CATEGORY_WORDS.len() as u64) as usize];
            let name = if hidden {
                format!("{a} लेख जिनमें स्रोत नहीं हैं {}", r.below(50))
            } else {
                format!("{a} {b} {}", r.below(200))
            };
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, hidden));
            }
        }
    }
    out
}
