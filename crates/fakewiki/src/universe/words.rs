//! Word pools the realistic universe builds titles and categories from.
//!
//! Combinatorial on purpose: a few hundred words give millions of distinct titles, so
//! stories born years apart rarely share a name by accident, while the curated pool keeps
//! the awkward real titles (punctuation, scripts, emoji) recurring.

use crate::rng::Rng;

/// Real titles that break naive clients: `/`, `&`, `+`, `'`, `?`, `$`, `!`, `*`, `"`,
/// `%`, `:` outside a namespace, and non-Latin scripts including RTL and emoji.
pub(super) const CURATED: &[&str] = &[
    "AC/DC",
    "Pokémon",
    "Tom & Jerry",
    "C++",
    "Ocean's Eleven",
    "Question?",
    "Zürich",
    "Беларусь",
    "東京",
    "😂",
    "القاهرة",
    "ירושלים",
    "AC DC",
    "Mötley Crüe",
    "Beyoncé",
    "Björk",
    "Guns N' Roses",
    "Romeo + Juliet",
    "100% Wolf",
    "Earth, Wind & Fire",
    "Ke$ha",
    "P!nk",
    "M*A*S*H",
    "Who Wants to Be a Millionaire?",
    "\"Weird Al\" Yankovic",
    "Sigur Rós",
    "Dune: Part Two",
    "Mission: Impossible – Dead Reckoning Part One",
    "Star Wars: Episode I – The Phantom Menace",
    "Ça ira",
    "Łódź",
    "São Paulo",
    "Αθήνα",
    "서울",
    "Deaths in 2024",
];

/// Curated titles that are redirects on the real wiki, with their targets.
pub(super) const CURATED_REDIRECTS: &[(&str, &str)] = &[
    ("AC DC", "AC/DC"),
    ("Беларусь", "Belarus"),
    ("東京", "Tokyo"),
    ("😂", "Face with Tears of Joy emoji"),
    ("القاهرة", "Cairo"),
    ("ירושלים", "Jerusalem"),
    ("Ke$ha", "Kesha"),
    ("Αθήνα", "Athens"),
    ("서울", "Seoul"),
];

const GIVEN: &[&str] = &[
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Sandra",
    "Anthony", "Ashley", "Mark", "Emily", "Andrew", "Margaret", "Joshua", "Olivia", "Kevin",
    "Emma", "Brian", "Sophia", "Ryan", "Chloé", "José", "Zoë", "Søren", "Łukasz", "Renée",
    "Aoife", "Siobhán", "Mateo", "Lucía", "Ngozi", "Kwame", "Aarav", "Priya", "Hiroshi", "Yuki",
    "Dmitri", "Olga", "Ahmed", "Fatima", "Chen", "Wei", "Ingrid", "Lars", "Anaïs",
];

const SURNAMES: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Taylor", "Thomas",
    "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
    "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen",
    "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell",
    "Mitchell", "Carter", "Roberts", "Müller", "Schröder", "Dvořák", "Kowalski", "Nowak",
    "Öztürk", "Yılmaz", "Sánchez", "Pérez", "O'Brien", "O'Connor", "McAllister", "Van der Berg",
    "de la Cruz", "Okafor", "Mensah", "Patel", "Sharma", "Tanaka", "Sato", "Ivanov", "Petrova",
    "Haddad", "Kim", "Park", "Zhang", "Liu", "Andersson", "Johansson", "Jensen", "Nielsen",
    "Rossi", "Bianchi", "Dubois", "Lefèvre",
];

const PERSON_KINDS: &[&str] = &[
    "actor", "actress", "singer", "footballer", "politician", "rapper", "basketball",
    "businessman", "musician", "YouTuber", "cricketer", "director", "writer", "boxer",
];

const ADJECTIVES: &[&str] = &[

    "Dark", "Silent", "Golden", "Broken", "Last", "Lost", "Hidden", "Burning", "Crimson", "Frozen",
    "Wild", "Secret", "Eternal", "Final", "Fallen", "Electric", "Midnight", "Savage", "Little",
    "Big", "Red", "Blue", "Black", "White", "Green", "Iron", "Glass", "Paper", "Hollow", "Bright",
    "Endless", "Sacred", "Restless", "Quiet", "Lonely", "Brave", "Sweet", "Bitter", "Strange",
    "Perfect", "Wicked", "Gentle", "Neon", "Velvet", "Cosmic", "Royal", "Rogue", "Northern",
    "Southern", "Ancient",
];

const NOUNS: &[&str] = &[
    "Kingdom", "River", "Empire", "Night", "Heart", "Storm", "Dream", "Road", "City", "Garden",
    "House", "Island", "Mountain", "Ocean", "Star", "Moon", "Sun", "Shadow", "Fire", "Water",
    "Knight", "Queen", "King", "Witness", "Stranger", "Hunter", "Game", "Machine", "Signal",
    "Horizon", "Voyage", "Legacy", "Promise", "Secret", "Mirror", "Crown", "Throne", "Forest",
    "Desert", "Winter", "Summer", "Harvest", "Echo", "Frontier", "Circus", "Protocol",
    "Paradise", "Symphony", "Dynasty", "Station", "Bridge", "Tower", "Lake", "Valley",
    "Brotherhood", "Alliance", "Rebellion", "Odyssey", "Orchard", "Lighthouse",
];

const WORK_KINDS: &[&str] = &[
    "film", "TV series", "album", "song", "video game", "novel", "miniseries", "band",
];

const PLACES: &[&str] = &[
    "London", "Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Warsaw", "Budapest",
    "Lisbon", "Dublin", "Oslo", "Stockholm", "Helsinki", "Copenhagen", "Amsterdam", "Brussels",
    "Zürich", "Geneva", "Kraków", "Gdańsk", "Reykjavík", "Málaga", "Düsseldorf", "Montréal",
    "Bogotá", "Medellín", "São Paulo", "Brasília", "Córdoba", "Tokyo", "Osaka", "Seoul",
    "Beijing", "Shanghai", "Mumbai", "Delhi", "Karachi", "Lagos", "Nairobi", "Cairo",
    "Istanbul", "Tehran", "Baghdad", "Kyiv", "Kharkiv", "Odesa", "Minsk", "Moscow", "Tbilisi",
    "Gaza", "Jerusalem", "Sydney", "Melbourne", "Auckland", "Toronto", "Vancouver", "Chicago",
    "Houston", "Texas", "California", "Florida", "Hawaii", "Alaska", "Ohio", "Maui",
];

const PLACE_FEATURES: &[&str] = &[
    "Airport", "Metro", "Cathedral", "Old Town", "Central Station", "Zoo", "Marathon",
    "Stock Exchange", "University", "Film Festival", "Derby", "City Hall",
];

const EVENTS: &[&str] = &[
    "Summer Olympics", "Winter Olympics", "FIFA World Cup", "Cricket World Cup",
    "Eurovision Song Contest", "Wimbledon Championships", "Tour de France",
    "UEFA Champions League final", "Formula One World Championship", "NBA playoffs",
    "Atlantic hurricane season", "Pacific typhoon season", "Grammy Awards", "Met Gala",
    "general election", "presidential election", "Indian Premier League", "Super Bowl",
    "Rugby World Cup", "World Series", "Stanley Cup playoffs", "Copa América",
    "Australian Open", "French Open", "US Open", "Ballon d'Or", "G20 summit", "earthquake",
];

const LIST_TOPICS: &[&str] = &[
    "highest-grossing films", "Marvel Cinematic Universe films", "best-selling music artists",
    "most-subscribed YouTube channels", "countries by population",
    "presidents of the United States", "prime ministers of the United Kingdom",
    "Taylor Swift songs", "FIFA World Cup finals", "tallest buildings",
    "Academy Award-winning films", "Formula One World Drivers' Champions",
    "largest companies by revenue", "serial killers by number of victims", "Pokémon",
    "Game of Thrones episodes", "The Simpsons episodes", "Star Wars films", "James Bond films",
    "most-followed Instagram accounts", "national parks of the United States",
    "UEFA Champions League finals", "Nobel laureates", "billionaires", "mass shootings",
];

const SCIENCE: &[&str] = &[
    "computing", "mechanics", "entanglement", "chromodynamics", "encryption", "learning",
    "fusion", "genomics", "therapy", "intelligence", "vaccine", "syndrome", "virus",
    "algorithm", "telescope", "reactor", "network", "economics", "psychology", "linguistics",
];

const SCIENCE_ADJ: &[&str] = &[
    "Quantum", "Artificial", "Machine", "Nuclear", "Behavioral", "Cognitive", "Neural",
    "Molecular", "Generative", "Post-quantum", "Large language", "Dark", "Solar", "Stem cell",
];

const NATIONALITIES: &[&str] = &[
    "American", "British", "English", "Scottish", "Irish", "Canadian", "Australian", "German",
    "French", "Italian", "Spanish", "Brazilian", "Argentine", "Mexican", "Japanese", "Korean",
    "Chinese", "Indian", "Nigerian", "South African", "Swedish", "Norwegian", "Polish",
    "Ukrainian", "Russian", "Turkish", "Egyptian", "Israeli", "Swiss", "Dutch",
];

const PROFESSIONS: &[&str] = &[
    "film actors", "television actors", "male singers", "women singers", "footballers",
    "politicians", "rappers", "basketball players", "businesspeople", "musicians", "YouTubers",
    "cricketers", "film directors", "novelists", "boxers", "journalists", "comedians",
    "philanthropists", "screenwriters", "songwriters", "record producers",
    "expatriate footballers", "Olympic medalists", "television presenters",
];

const GENRES: &[&str] = &[
    "action", "comedy", "drama", "horror", "science fiction", "thriller", "romance", "animated",
    "crime", "war", "musical", "fantasy", "superhero", "coming-of-age", "heist",
];

const FIELDS: &[&str] = &[
    "American television", "British television", "music", "film", "sports", "video games",
    "association football", "science", "spaceflight", "politics", "literature", "Japan",
];

const MISC_CATEGORIES: &[&str] = &[
    "Living people", "Internet memes", "Grammy Award winners", "Emmy Award winners", "Time 100",
    "Netflix original programming", "HBO original programming",
    "Marvel Cinematic Universe films", "Fictional characters", "Nintendo franchises",
    "Pokémon species", "Anime series", "Hip-hop musicians", "Association football forwards",
    "Premier League players", "Member states of the United Nations", "Landlocked countries",
    "Capitals in Europe", "Year of birth missing (living people)", "Works about Zürich",
    "Articles about multiple people", "English-language films", "Categories named after cities",
];

const MONTHS: &[&str] = &[
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

/// Maintenance categories, the `hidden: true` ones (`__HIDDENCAT__` on the wiki).
const HIDDEN_FIXED: &[&str] = &[
    "Articles with short description", "Short description is different from Wikidata",
    "Short description matches Wikidata", "All articles with unsourced statements",
    "CS1 maint: multiple names: authors list", "CS1 maint: url-status",
    "CS1 errors: missing periodical", "Webarchive template wayback links",
    "Commons category link is on Wikidata", "Articles with hCards",
    "Wikipedia indefinitely semi-protected pages", "Good articles", "Featured articles",
    "Pages using infobox person with unknown parameters", "Coordinates on Wikidata",
    "Official website different in Wikidata and Wikipedia",
    "Pages using multiple image with auto scaled images",
    "All articles with dead external links", "Wikipedia pages semi-protected against vandalism",
    "Articles with IMDb links", "Template film date with 1 release date",
];

const HIDDEN_DATED: &[&str] = &[
    "Use dmy dates from", "Use mdy dates from", "Articles with unsourced statements from",
    "Articles with dead external links from", "Use American English from",
    "Use British English from", "Articles containing potentially dated statements from",
];

const LANGUAGES: &[&str] = &[
    "German", "French", "Japanese", "Arabic", "Hebrew", "Russian", "Belarusian", "Spanish",
    "Korean", "Greek", "Polish", "Chinese",
];

/// Title qualifiers a hashed redirect points at, so its target is a distinct real page.
pub(super) const REDIRECT_QUALIFIERS: &[&str] = &[
    "film", "band", "TV series", "album", "company", "song", "video game", "musician",
];

/// Synthetic surnames are a head and a tail (`Thornbridge`): with the real ones they
/// give tens of thousands of distinct people, so two stories born years apart rarely
/// share a name by accident, as on the real lists, where about 30 titles a day are new.
const SURNAME_HEADS: &[&str] = &[
    "Ash", "Black", "Brad", "Brook", "Cald", "Carl", "Dal", "Dun", "Elling", "Fair", "Farn",
    "Good", "Green", "Hard", "Hart", "Hol", "Kings", "Lang", "Marl", "Mid", "Nor", "Oak", "Pem",
    "Rad", "Red", "Ross", "Rut", "Shel", "Stan", "Sut", "Thorn", "Wake", "Wal", "Wes", "Whit",
    "Win", "Wood", "Ber", "Hal", "Lind",
];

const SURNAME_TAILS: &[&str] = &[
    "ley", "ton", "field", "wood", "man", "ford", "worth", "by", "son", "well", "more", "bridge",
    "ham", "stead", "wick", "land", "er", "dale", "combe", "hurst", "shaw", "ridge", "sworth",
    "ington",
];

/// What makes the news in a place and year (`2023 Kyiv floods`).
const NEWS: &[&str] = &[
    "earthquake", "floods", "wildfires", "bombing", "stampede", "shooting", "heat wave",
    "protests", "mayoral election", "riots", "train derailment", "blackout",
];

const CLUBS: &[&str] = &["FC", "United F.C.", "City F.C.", "Athletic", "Rovers F.C."];

/// A plausible Wikipedia title with spaces, drawn from `r`. The mix is calibrated on
/// English Wikipedia's top 100 (see `realistic::top_100_churns_like_english_wikipedia`):
/// mostly people and works from a space too large to repeat by chance, some events and
/// seasons, and small pools (places, lists, science, the curated titles) that come back
/// now and then as real evergreen topics do.
pub(super) fn story_title(r: &mut Rng) -> String {
    match r.below(100) {
        0 => (*r.pick(CURATED)).to_owned(),
        1..=48 => person(r),
        49..=78 => work(r),
        79..=95 => event(r),
        96 | 97 => match r.below(4) {
            0 => (*r.pick(PLACES)).to_owned(),
            1 => format!("Battle of {}", r.pick(PLACES)),
            2 => format!("Siege of {} ({})", r.pick(PLACES), r.between(1500, 1945)),
            _ => format!("{} {}", r.pick(PLACES), r.pick(PLACE_FEATURES)),
        },
        98 => format!("List of {}", r.pick(LIST_TOPICS)),
        _ => format!("{} {}", r.pick(SCIENCE_ADJ), r.pick(SCIENCE)),
    }
}

fn person(r: &mut Rng) -> String {
    let given = r.pick(GIVEN);
    let surname = if r.chance(0.2) {
        (*r.pick(SURNAMES)).to_owned()
    } else {
        format!("{}{}", r.pick(SURNAME_HEADS), r.pick(SURNAME_TAILS))
    };
    let name = if r.chance(0.2) {
        let initial = char::from(b'A' + r.below(26) as u8);
        format!("{given} {initial}. {surname}")
    } else {
        format!("{given} {surname}")
    };
    match r.below(20) {
        0..=2 => format!("{name} ({})", r.pick(PERSON_KINDS)),
        3 | 4 => format!("{name} ({}, born {})", r.pick(PERSON_KINDS), r.between(1940, 2008)),
        5 => format!("{name} (born {})", r.between(1940, 2008)),
        _ => name,
    }
}

fn work(r: &mut Rng) -> String {
    let base = if r.chance(0.3) {
        format!("The {} {}", r.pick(ADJECTIVES), r.pick(NOUNS))
    } else {
        format!("{} {}", r.pick(ADJECTIVES), r.pick(NOUNS))
    };
    match r.below(20) {
        0..=12 => format!("{base} ({} {})", r.between(1950, 2026), r.pick(WORK_KINDS)),
        13..=17 => format!("{base} ({})", r.pick(WORK_KINDS)),
        _ => base,
    }
}

fn event(r: &mut Rng) -> String {
    match r.below(10) {
        0 | 1 => format!("{} {}", r.between(1896, 2026), r.pick(EVENTS)),
        2..=6 => format!("{} {} {}", r.between(1990, 2026), r.pick(PLACES), r.pick(NEWS)),
        _ => {
            let year = r.between(1990, 2026);
            format!(
                "{year}–{:02} {} {} season",
                (year + 1) % 100,
                r.pick(PLACES),
                r.pick(CLUBS)
            )
        }
    }
}

/// One visible (content) category name, without the `Category:` prefix.
pub(super) fn visible_category(r: &mut Rng) -> String {
    match r.below(12) {
        0 => format!("{} births", r.between(1900, 2010)),
        1 => format!("{} deaths", r.between(1900, 2026)),
        2 | 3 => format!("{} {}", r.pick(NATIONALITIES), r.pick(PROFESSIONS)),
        4 => format!("{}s {} films", r.between(195, 202) * 10, r.pick(GENRES)),
        5 => format!("People from {}", r.pick(PLACES)),
        6 => format!("Films set in {}", r.pick(PLACES)),
        7 => format!("{} in {}", r.between(1990, 2026), r.pick(FIELDS)),
        8 => format!("{} {} albums", r.between(1960, 2026), r.pick(GENRES)),
        9 => format!("Sport in {}", r.pick(PLACES)),
        _ => (*r.pick(MISC_CATEGORIES)).to_owned(),
    }
}

/// One hidden (maintenance) category name, without the `Category:` prefix.
pub(super) fn hidden_category(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!(
            "{} {} {}",
            r.pick(HIDDEN_DATED),
            r.pick(MONTHS),
            r.between(2008, 2026)
        ),
        1 => format!("Articles containing {}-language text", r.pick(LANGUAGES)),
        _ => (*r.pick(HIDDEN_FIXED)).to_owned(),
    }
}

/// `Deaths in April 2023`: the one evergreen page whose title moves every month.
pub(super) fn deaths_in(month: i8, year: i16) -> String {
    let name = MONTHS
        .get(usize::try_from(month - 1).unwrap_or(0))
        .unwrap_or(&"January");
    format!("Deaths in {name} {year}")
}
