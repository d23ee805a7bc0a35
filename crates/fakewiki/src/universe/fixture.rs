//! The hand-written universe: three days of `en.wikipedia` whose every row is known.
//!
//! Each case a client must handle appears at least once, on purpose and by name: ties
//! (two-way and three-way, one at rank 10), the punctuation and non-Latin titles, a title
//! needing normalisation, redirects, a missing page, `Special:Search`, `-` (a real page
//! here, as on real wikis, which a client must never ask for) and a syntactically invalid
//! title, hidden categories, a page without categories, and a page
//! with 520 categories so that even a batch of two pages needs `continue`. Every access
//! value serves the same lists; other projects and days have none.

use std::collections::HashMap;

use jiff::civil::Date;

use super::{Category, Page, sort_api_order};
use crate::title::Title;

pub(super) const FIRST_DAY: Date = jiff::civil::date(2023, 4, 1);
const PROJECT: &str = "en.wikipedia";

/// The page with more category rows than one response carries (`cllimit=max` is 500).
pub(crate) const BIG_PAGE: &str = "Lists of everything";
const BIG_PAGE_VISIBLE: usize = 400;
const BIG_PAGE_HIDDEN: usize = 120;

const DAY_1: &[(&str, u64)] = &[
    ("Main_Page", 4_521_423),
    ("Special:Search", 1_234_567),
    ("-", 234_567),
    ("AC/DC", 98_000),
    ("AC_DC", 98_000),
    ("Pokémon", 77_000),
    ("Tom_&_Jerry", 65_000),
    ("C++", 54_321),
    ("Ocean's_Eleven", 43_210),
    ("Question?", 40_000),
    ("Wikipedia:Featured_pictures", 40_000),
    ("Zürich", 40_000),
    ("Беларусь", 30_000),
    ("東京", 25_000),
    ("😂", 20_000),
    ("القاهرة", 19_000),
    ("ירושלים", 18_000),
    ("Foo_bar", 17_000),
    ("Lists_of_everything", 16_000),
    ("iPhone_15", 15_000),
    ("Reference_[1]", 14_000),
    ("tom_&_Jerry", 12_000),
];

const DAY_2: &[(&str, u64)] = &[
    ("Main_Page", 4_400_000),
    ("Special:Search", 1_200_000),
    ("-", 200_000),
    ("Eurovision_Song_Contest_2023", 150_000),
    ("Pokémon", 88_000),
    ("AC/DC", 60_000),
    ("C++", 60_000),
    ("Ocean's_Eleven", 50_000),
    ("Lists_of_everything", 45_000),
    ("Ms._Marvel_(TV_series)", 31_000),
    ("Zürich", 30_000),
    ("Foo_bar", 20_000),
    ("😂", 19_500),
];

const DAY_3: &[(&str, u64)] = &[
    ("Main_Page", 4_300_000),
    ("Special:Search", 1_100_000),
    ("Eurovision_Song_Contest_2023", 400_000),
    ("-", 190_000),
    ("2023_in_film", 75_000),
    ("Pokémon", 70_000),
    ("AC_DC", 44_000),
    ("Tom_&_Jerry", 44_000),
    ("Беларусь", 44_000),
    ("C++", 30_000),
    ("Lists_of_everything", 30_000),
];

/// `(title, page id, visible, hidden)` of the pages that exist.
const PAGES: &[(&str, i64, &[&str], &[&str])] = &[
    (
        "Main Page",
        15_580_374,
        &[],
        &["Wikipedia pages with a fixed image"],
    ),
    (
        "AC/DC",
        2_466,
        &[
            "Australian hard rock musical groups",
            "Musical groups established in 1973",
            "Rock and Roll Hall of Fame inductees",
            "Atlantic Records artists",
        ],
        &[
            "Articles with short description",
            "Use Australian English from August 2014",
        ],
    ),
    (
        "Pokémon",
        24_380,
        &[
            "Pokémon",
            "Media franchises introduced in 1996",
            "Nintendo franchises",
        ],
        &[
            "Articles with short description",
            "Articles containing Japanese-language text",
        ],
    ),
    (
        "Tom & Jerry",
        30_958,
        &[
            "Tom and Jerry",
            "Animated duos",
            "Fictional cats",
            "Fictional mice and rats",
        ],
        &["Use mdy dates from March 2021"],
    ),
    (
        "C++",
        72_038,
        &[
            "C++",
            "Algol programming language family",
            "Programming languages created in 1983",
        ],
        &[
            "Articles with short description",
            "Articles with example C++ code",
        ],
    ),
    (
        "Ocean's Eleven",
        1_187,
        &[
            "2001 films",
            "American heist films",
            "Films directed by Steven Soderbergh",
            "Films set in the Las Vegas Valley",
        ],
        &["Use mdy dates from June 2019"],
    ),
    // A page that exists but is in no category: no `categories` key at all.
    ("Question?", 4_821, &[], &[]),
    (
        "Wikipedia:Featured pictures",
        2_070_541,
        &["Wikipedia featured content"],
        &["Wikipedia semi-protected project pages"],
    ),
    (
        "Zürich",
        34_064,
        &[
            "Zürich",
            "Cities in Switzerland",
            "Cantonal capitals of Switzerland",
        ],
        &["Articles containing German-language text"],
    ),
    (
        "Belarus",
        3_457,
        &["Belarus", "Countries in Europe", "Landlocked countries"],
        &["Articles containing Belarusian-language text"],
    ),
    (
        "Tokyo",
        30_057,
        &["Tokyo", "Capitals in Asia", "Megacities"],
        &["Articles containing Japanese-language text"],
    ),
    (
        "Face with Tears of Joy emoji",
        48_183_958,
        &["Emoji", "Internet memes introduced in 2015"],
        &[],
    ),
    (
        "Cairo",
        7_155,
        &["Cairo", "Capitals in Africa"],
        &["Articles containing Arabic-language text"],
    ),
    (
        "Jerusalem",
        16_064,
        &["Jerusalem", "Holy cities"],
        &["Articles containing Hebrew-language text"],
    ),
    (
        "IPhone 15",
        74_436_102,
        &["IPhone", "Mobile phones introduced in 2023"],
        &["Articles with short description"],
    ),
    (
        "Eurovision Song Contest 2023",
        69_001_234,
        &[
            "Eurovision Song Contest 2023",
            "2023 song contests",
            "Events in Liverpool",
        ],
        &["Use British English from May 2023"],
    ),
    (
        "Ms. Marvel (TV series)",
        62_345_678,
        &[
            "2022 American television series debuts",
            "Marvel Cinematic Universe television series",
        ],
        &["Articles with short description"],
    ),
    (
        "Hyphen-minus",
        1_411_436,
        &["Typographical symbols", "Punctuation"],
        &[],
    ),
    (
        "2023 in film",
        71_234_567,
        &["2023 in film", "Years in film"],
        &[],
    ),
];

/// Redirects, from normalised title to target.
const REDIRECTS: &[(&str, &str)] = &[
    ("-", "Hyphen-minus"),
    ("AC DC", "AC/DC"),
    ("Беларусь", "Belarus"),
    ("東京", "Tokyo"),
    ("😂", "Face with Tears of Joy emoji"),
    ("القاهرة", "Cairo"),
    ("ירושלים", "Jerusalem"),
];

#[derive(Debug)]
pub(super) struct Fixture {
    pages: HashMap<String, Page>,
}

impl Fixture {
    pub(super) fn new() -> Self {
        let mut pages = HashMap::new();
        for &(title, page_id, visible, hidden) in PAGES {
            let mut categories: Vec<Category> = visible
                .iter()
                .map(|c| (c, false))
                .chain(hidden.iter().map(|c| (c, true)))
                .map(|(name, hidden)| Category {
                    name: (*name).to_owned(),
                    hidden,
                })
                .collect();
            sort_api_order(&mut categories);
            pages.insert(
                title.to_owned(),
                Page::Existing {
                    page_id,
                    categories,
                },
            );
        }
        let mut big: Vec<Category> = (0..BIG_PAGE_VISIBLE)
            .map(|i| Category {
                name: format!("Lists of topic {i:03}"),
                hidden: false,
            })
            .chain((0..BIG_PAGE_HIDDEN).map(|i| Category {
                name: format!("Maintenance list {i:03}"),
                hidden: true,
            }))
            .collect();
        sort_api_order(&mut big);
        pages.insert(
            BIG_PAGE.to_owned(),
            Page::Existing {
                page_id: 5_000,
                categories: big,
            },
        );
        for &(from, to) in REDIRECTS {
            pages.insert(
                from.to_owned(),
                Page::Redirect {
                    target: to.to_owned(),
                },
            );
        }
        Fixture { pages }
    }

    pub(super) fn days(&self) -> Vec<Date> {
        (0..3)
            .filter_map(|i| FIRST_DAY.checked_add(jiff::Span::new().days(i)).ok())
            .collect()
    }

    pub(super) fn day(&self, project: &str, day: Date) -> Option<Vec<(String, u64)>> {
        if project != PROJECT {
            return None;
        }
        let list = match self.days().iter().position(|d| *d == day)? {
            0 => DAY_1,
            1 => DAY_2,
            _ => DAY_3,
        };
        Some(list.iter().map(|&(a, v)| (a.to_owned(), v)).collect())
    }

    /// Pages not listed are missing, like `Foo bar`.
    pub(super) fn page(&self, title: &Title) -> Page {
        self.pages
            .get(&title.text)
            .cloned()
            .unwrap_or(Page::Missing)
    }
}
