//! `mostread_rank`: an article's position in Wikimedia's "Top read" list of its wiki
//! and day, recomputed from the rows wikitop stores.
//!
//! The rules are wikifeeds' `lib/most-read.js` at commit
//! 7bddb993b9d49eaa834da243960ac32f6e0f02d7 (2026-08-17), `promise()`, in its order:
//! 1. the first `MAX_TITLES` (50) entries the Pageviews API served (`slice(0, MAX_TITLES)`);
//! 2. namespace 0 by title (`.filter((entry) => entry.ns === 0)`);
//! 3. not blocked by the served name (`isBlocked(siteinfo.general.lang, entry.article)`);
//! 4. the page exists: an entry whose page summary fails is thrown away (a missing or
//!    invalid page; the summary follows redirects);
//! 5. redirect duplicates merged (`util.removeDuplicateTitles` on the summary's title):
//!    the first entry keeps its place and gets the others' views;
//! 6. `filterSpecial`: namespace 0 and not the main page, compared case-insensitively
//!    (`new RegExp(`^${mainPageTitle}$`, 'i')` on `titles.canonical`);
//! 7. not blocked by the canonical title.
//!
//! The position in what remains (1-based) is the rank; every row of a merged page
//! carries it. wikifeeds serves no most-read list for `fy.wikipedia.org` (first lines
//! of `promise()`), so no row of fy.wikipedia has one.
//!
//! Where wikitop's data cannot say exactly what the feed would: entries come in
//! (rank, article) order, the order wikitop stores them in (the Pageviews API promises
//! no order among ties); the served name's namespace is the namespace of the page it
//! resolves to (a redirect from another namespace into the main one counts as the
//! main namespace); a title the feed's title parser refuses (it then fails the whole
//! day) is simply not an article here.

use std::collections::HashMap;

use super::Served;
use super::deny::DenyList;
use crate::model::{PageStatus, Project};

/// wikifeeds `MAX_TITLES`: how many served entries the feed looks at.
pub const MAX_TITLES: usize = 50;

/// The wiki for which wikifeeds answers every most-read request with an empty feed.
const NO_FEED: &str = "fy.wikipedia";

/// Whether wikifeeds serves a "Top read" list for `project` at all.
pub fn has_feed(project: &Project) -> bool {
    project.as_str() != NO_FEED
}

/// One entry that made the list: its rows (indices into the served rows) and views.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listed {
    rows: Vec<usize>,
    views: u64,
}

/// The "Top read" position of each served row (`None` when it is not in the list),
/// aligned with `rows`. `main_page` is the wiki's, as `meta=siteinfo` names it.
pub(crate) fn ranks(
    project: &Project,
    deny: &DenyList,
    rows: &[Served<'_>],
    main_page: Option<&str>,
) -> Vec<Option<u32>> {
    let mut out = vec![None; rows.len()];
    if !has_feed(project) {
        return out;
    }
    let main_page = main_page.map(db_key);
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| (rows[a].rank, rows[a].article).cmp(&(rows[b].rank, rows[b].article)));
    let mut listed: Vec<Listed> = Vec::new();
    let mut by_title: HashMap<String, usize> = HashMap::new();
    for i in order.into_iter().take(MAX_TITLES) {
        let row = &rows[i];
        let exists = matches!(row.page.status, PageStatus::Ok | PageStatus::Redirect);
        if row.page.namespace != Some(0) || deny.blocks(project, row.article) || !exists {
            continue;
        }
        match by_title.get(&db_key(&row.page.title)) {
            Some(&at) => {
                listed[at].rows.push(i);
                listed[at].views += row.views;
            }
            None => {
                by_title.insert(db_key(&row.page.title), listed.len());
                listed.push(Listed {
                    rows: vec![i],
                    views: row.views,
                });
            }
        }
    }
    let kept = listed.iter().filter(|l| {
        let title = db_key(&rows[l.rows[0]].page.title);
        let main = main_page
            .as_deref()
            .is_some_and(|m| same_ignoring_case(&title, m));
        !main && !deny.blocks(project, &title)
    });
    for (position, entry) in kept.enumerate() {
        let rank = u32::try_from(position + 1).ok();
        for &i in &entry.rows {
            out[i] = rank;
        }
    }
    out
}

/// A title as the feed compares it: underscores (the summary's `title`, `getPrefixedDBKey`).
fn db_key(title: &str) -> String {
    title.replace(' ', "_")
}

/// JavaScript's case-insensitive match (`i` without `u`): each character compared by
/// its upper case when that is one character (ECMA-262 `Canonicalize`), else as it is.
fn same_ignoring_case(a: &str, b: &str) -> bool {
    fn canon(c: char) -> char {
        let mut upper = c.to_uppercase();
        match (upper.next(), upper.next()) {
            (Some(u), None) if !(c as u32 >= 128 && (u as u32) < 128) => u,
            _ => c,
        }
    }
    a.chars().map(canon).eq(b.chars().map(canon))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use jiff::Timestamp;
    use proptest::prelude::*;

    use super::*;
    use crate::model::PageInfo;

    fn page(title: &str, ns: Option<i32>, status: PageStatus) -> PageInfo {
        PageInfo {
            title: title.into(),
            page_id: Some(1),
            namespace: ns,
            status,
            wikidata_id: None,
            categories: vec![],
            hidden_categories: vec![],
            fetched_at: Timestamp::UNIX_EPOCH,
        }
    }

    /// The feed's steps written out one after another as `lib/most-read.js` (7bddb99)
    /// runs them, on plain data: line 130 (no feed for fy.wikipedia), 157 (the first 50),
    /// 174-175 (namespace 0, served-name block), 194 (entries whose summary failed are
    /// dropped), 204 (`util.removeDuplicateTitles`, views summed into the first), 217
    /// (`filterSpecial`, lines 120-122) and 218 (canonical block). Returns each entry's
    /// title and views.
    fn feed_model(
        project: &Project,
        deny: &DenyList,
        rows: &[(String, u64, PageInfo)],
        main_page: &str,
    ) -> Vec<(String, u64)> {
        if project.as_str() == "fy.wikipedia" {
            return vec![];
        }
        let titles: Vec<&(String, u64, PageInfo)> = rows
            .iter()
            .take(50)
            .filter(|(_, _, p)| p.namespace == Some(0))
            .filter(|(a, _, _)| !deny.blocks(project, a))
            .collect();
        let with_summary: Vec<(String, u64)> = titles
            .into_iter()
            .filter(|(_, _, p)| matches!(p.status, PageStatus::Ok | PageStatus::Redirect))
            .map(|(_, v, p)| (p.title.replace(' ', "_"), *v))
            .collect();
        let mut deduped: Vec<(String, u64)> = Vec::new();
        for (title, views) in with_summary {
            match deduped.iter_mut().find(|(t, _)| *t == title) {
                Some(orig) => orig.1 += views,
                None => deduped.push((title, views)),
            }
        }
        let main = main_page.replace(' ', "_").to_lowercase();
        deduped
            .into_iter()
            .filter(|(t, _)| t.to_lowercase() != main)
            .filter(|(t, _)| !deny.blocks(project, t))
            .collect()
    }

    fn listed(
        project: &Project,
        rows: &[(String, u64, PageInfo)],
        main_page: &str,
    ) -> Vec<(String, u64)> {
        let deny = DenyList::load(None).unwrap();
        let served: Vec<Served<'_>> = rows
            .iter()
            .enumerate()
            .map(|(i, (a, v, p))| Served {
                rank: i as u32 + 1,
                article: a,
                views: *v,
                page: p,
            })
            .collect();
        let got = ranks(project, &deny, &served, Some(main_page));
        let mut by_rank: HashMap<u32, (String, u64)> = HashMap::new();
        for (i, r) in got.iter().enumerate() {
            if let Some(r) = r {
                let e = by_rank
                    .entry(*r)
                    .or_insert((rows[i].2.title.replace(' ', "_"), 0));
                e.1 += rows[i].1;
            }
        }
        let mut out: Vec<(u32, (String, u64))> = by_rank.into_iter().collect();
        out.sort();
        let positions: Vec<u32> = out.iter().map(|(r, _)| *r).collect();
        assert_eq!(positions, (1..=out.len() as u32).collect::<Vec<_>>());
        out.into_iter().map(|(_, e)| e).collect()
    }

    fn row(
        article: &str,
        views: u64,
        title: &str,
        ns: i32,
        status: PageStatus,
    ) -> (String, u64, PageInfo) {
        (article.into(), views, page(title, Some(ns), status))
    }

    /// Every rule bites: the 50 cut, a namespace, the deny list on the served name and
    /// on the canonical title, a language list, a redirect pair, a missing page, the
    /// main page in another case.
    #[test]
    fn every_rule_of_the_feed_bites() {
        use PageStatus::*;
        let pt: Project = "pt.wikipedia".parse().unwrap();
        let mut rows = vec![
            row("Página_principal", 9_000, "Página principal", 0, Ok),
            row("PÁGINA_PRINCIPAL", 8_000, "PÁGINA PRINCIPAL", 0, Ok), // main page, other case
            row(
                "Especial:Pesquisar",
                7_000,
                "Especial:Pesquisar",
                -1,
                Special,
            ),
            row("Elon_Musk", 6_000, "Elon Musk", 0, Ok),
            row("ChatGPT", 5_900, "ChatGPT", 0, Ok), // blocked by served name
            row("Chat_GPT", 5_800, "ChatGPT", 0, Redirect), // blocked by canonical title
            row("Ereção", 5_700, "Ereção", 0, Ok),   // pt list
            row("Sem_página", 5_600, "Sem página", 0, Missing),
            row("Elon_musk", 5_500, "Elon Musk", 0, Redirect), // merged into Elon_Musk
            row("Predefinição:X", 5_400, "Predefinição:X", 10, Ok),
            row("Lisboa", 5_300, "Lisboa", 0, Ok),
        ];
        for i in 0..45 {
            rows.push(row(
                &format!("Artigo_{i}"),
                5_000 - i,
                &format!("Artigo {i}"),
                0,
                Ok,
            ));
        }
        let got = listed(&pt, &rows, "Página principal");
        assert_eq!(
            got,
            feed_model(
                &pt,
                &DenyList::load(None).unwrap(),
                &rows,
                "Página principal"
            )
        );
        assert_eq!(got[0], ("Elon_Musk".into(), 11_500));
        assert_eq!(got[1], ("Lisboa".into(), 5_300));
        // 56 served: entries 51.. are past the cut.
        assert_eq!(got.last().unwrap().0, "Artigo_38");
        assert_eq!(got.len(), 2 + 39);
        // Where the feed serves nothing.
        let fy: Project = "fy.wikipedia".parse().unwrap();
        assert!(listed(&fy, &rows, "Haadside").is_empty());
    }

    #[test]
    fn the_main_page_matches_as_javascripts_case_insensitive_regexp() {
        assert!(same_ignoring_case("Main_Page", "main_page"));
        assert!(same_ignoring_case(
            "Заглавная_страница",
            "ЗАГЛАВНАЯ_СТРАНИЦА"
        ));
        // `ß` upper-cases to two letters: JavaScript leaves it as it is.
        assert!(!same_ignoring_case("Straße", "STRASSE"));
        // Non-ASCII never matches ASCII (`ſ` upper-cases to `S`).
        assert!(!same_ignoring_case("ſ", "s"));
    }

    fn arb_rows() -> impl Strategy<Value = Vec<(String, u64, PageInfo)>> {
        let names = ["A", "B", "C", "Main_Page", "ChatGPT", "Talk:A", "X", "Y"];
        proptest::collection::vec((0..names.len(), 0..names.len(), 0..4u8, 1..100u64), 0..70)
            .prop_map(move |picks| {
                let mut views = 10_000;
                picks
                    .into_iter()
                    .enumerate()
                    .map(|(i, (served, target, kind, drop))| {
                        views -= drop;
                        let target = names[target].replace('_', " ");
                        let (status, ns) = match kind {
                            0 => (
                                PageStatus::Ok,
                                if target.starts_with("Talk:") { 1 } else { 0 },
                            ),
                            1 => (PageStatus::Redirect, 0),
                            2 => (PageStatus::Missing, 0),
                            _ => (PageStatus::Special, -1),
                        };
                        (
                            format!("{}_{i}", names[served]),
                            views,
                            page(&target, Some(ns), status),
                        )
                    })
                    .collect()
            })
    }

    proptest! {
        /// On any list, the ranks are the feed's list, in the feed's order.
        #[test]
        fn ranks_follow_the_feed(rows in arb_rows()) {
            let en: Project = "en.wikipedia".parse().unwrap();
            let want = feed_model(&en, &DenyList::load(None).unwrap(), &rows, "Main Page");
            prop_assert_eq!(listed(&en, &rows, "Main Page"), want);
        }
    }
}
