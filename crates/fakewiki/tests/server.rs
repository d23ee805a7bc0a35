//! fakewiki over real HTTP: response shapes, continuation, quota, faults and the log.
//!
//! The client here is a raw HTTP/1.1 exchange on a `TcpStream`, so a truncated body or a
//! dropped connection is observed exactly as sent, not through a client library's errors.

use std::collections::HashMap;
use std::time::Duration;

use fakewiki::{
    Config, Endpoint, ExpectedRow, FakeWiki, Fault, FaultRule, NO_TITLE, Quota, Universe,
};
use jiff::civil::{Date, date};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const DAY_1: Date = date(2023, 4, 1);

/// A response as it came off the socket.
#[derive(Debug)]
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// The body arrived whole (content-length met or the chunked terminator seen).
    complete: bool,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn get(wiki: &FakeWiki, target: &str) -> Raw {
    get_with(wiki, target, &[]).await
}

async fn get_with(wiki: &FakeWiki, target: &str, headers: &[(&str, &str)]) -> Raw {
    send(wiki, "GET", target, headers, "").await
}

/// A POST with a form body, as a client sends a batch too long for a URL.
async fn post(wiki: &FakeWiki, target: &str, form: &str) -> Raw {
    let length = form.len().to_string();
    let headers = [
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Content-Length", length.as_str()),
    ];
    send(wiki, "POST", target, &headers, form).await
}

async fn send(
    wiki: &FakeWiki,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Raw {
    let mut stream = TcpStream::connect(wiki.addr()).await.expect("connect");
    let mut request = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: fakewiki-tests/0.1 (test@example.org)\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut bytes = Vec::new();
    // A connection dropped mid-body may end in a reset: keep what arrived.
    let _ = stream.read_to_end(&mut bytes).await;
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Raw {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let rest = &bytes[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut raw = Raw {
        status,
        headers,
        body: Vec::new(),
        complete: false,
    };
    if raw.header("transfer-encoding") == Some("chunked") {
        let mut rest = rest;
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap_or("x"), 16);
            let Ok(size) = size else { break };
            if size == 0 {
                raw.complete = true;
                break;
            }
            let start = eol + 2;
            let end = (start + size).min(rest.len());
            raw.body.extend_from_slice(&rest[start..end]);
            if start + size + 2 > rest.len() {
                break;
            }
            rest = &rest[start + size + 2..];
        }
    } else {
        raw.body = rest.to_vec();
        let length: Option<usize> = raw.header("content-length").and_then(|v| v.parse().ok());
        raw.complete = length == Some(raw.body.len());
    }
    raw
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn top_path(project: &str, day: Date) -> String {
    format!(
        "/api/rest_v1/metrics/pageviews/top/{project}/all-access/{}",
        day.strftime("%Y/%m/%d")
    )
}

const CATEGORY_QUERY: &str = "action=query&prop=categories%7Cpageprops&ppprop=wikibase_item&clprop=hidden&cllimit=max&redirects=1&converttitles=1&format=json&formatversion=2&maxlag=5";

fn categories_path(host: &str, titles: &[String], cont: Option<(&str, &str)>) -> String {
    let titles = titles.iter().map(|t| enc(t)).collect::<Vec<_>>().join("|");
    let mut path = format!("/{host}/w/api.php?{CATEGORY_QUERY}&titles={titles}");
    if let Some((clcontinue, token)) = cont {
        path.push_str(&format!(
            "&clcontinue={}&continue={}",
            enc(clcontinue),
            enc(token)
        ));
    }
    path
}

/// A minimal correct client: fetches a top list and the categories of its articles, and
/// builds the rows a store would hold. Returns the rows and the number of Action API calls.
async fn client_rows(
    wiki: &FakeWiki,
    project: &str,
    day: Date,
    top: u32,
) -> (Vec<ExpectedRow>, usize) {
    let raw = get(wiki, &top_path(project, day)).await;
    assert_eq!(raw.status, 200);
    let mut articles: Vec<(String, u32, u64)> = raw.json()["items"][0]["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .map(|a| {
            (
                a["article"].as_str().expect("article").to_owned(),
                a["rank"].as_u64().expect("rank") as u32,
                a["views"].as_u64().expect("views"),
            )
        })
        .filter(|a| a.1 <= top)
        .collect();
    articles.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let desktop_path = top_path(project, day).replace("/all-access/", "/desktop/");
    let desktop = get(wiki, &desktop_path).await.json();
    let desktop: HashMap<String, u64> = desktop["items"][0]["articles"]
        .as_array()
        .expect("desktop articles")
        .iter()
        .map(|a| {
            (
                a["article"].as_str().unwrap().to_owned(),
                a["views"].as_u64().unwrap(),
            )
        })
        .collect();
    let desktop_min = desktop.values().copied().min();

    let host = format!("{project}.org");
    // The main page, from siteinfo asked alone (the real API answers it without `prop`).
    let general = get(
        wiki,
        &format!("/{host}/w/api.php?action=query&meta=siteinfo&siprop=general&format=json&formatversion=2"),
    )
    .await
    .json();
    let main_page = general["query"]["general"]["mainpage"]
        .as_str()
        .expect("siteinfo names the main page")
        .to_owned();
    let mut normalized = HashMap::new();
    let mut redirects = HashMap::new();
    let mut pages: HashMap<String, Value> = HashMap::new();
    let mut categories: HashMap<String, Vec<(String, bool)>> = HashMap::new();
    let mut calls = 0;
    // The Pageviews API's `-` is "no title found", never a page to look up.
    let titles: Vec<String> = articles
        .iter()
        .map(|a| a.0.clone())
        .filter(|a| a != NO_TITLE)
        .collect();
    for batch in titles.chunks(50) {
        let mut cont: Option<(String, String)> = None;
        loop {
            let path = categories_path(
                &host,
                batch,
                cont.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            );
            let raw = get(wiki, &path).await;
            calls += 1;
            assert_eq!(raw.status, 200);
            let body = raw.json();
            assert!(body.get("error").is_none(), "{body}");
            let query = &body["query"];
            for n in query["normalized"].as_array().into_iter().flatten() {
                normalized.insert(
                    n["from"].as_str().unwrap().to_owned(),
                    n["to"].as_str().unwrap().to_owned(),
                );
            }
            for r in query["redirects"].as_array().into_iter().flatten() {
                redirects.insert(
                    r["from"].as_str().unwrap().to_owned(),
                    r["to"].as_str().unwrap().to_owned(),
                );
            }
            for page in query["pages"].as_array().into_iter().flatten() {
                let title = page["title"].as_str().unwrap().to_owned();
                for c in page["categories"].as_array().into_iter().flatten() {
                    let (_, name) = c["title"].as_str().unwrap().split_once(':').unwrap();
                    let name = name.to_owned();
                    categories
                        .entry(title.clone())
                        .or_default()
                        .push((name, c["hidden"] == true));
                }
                // A later round skips pageprops: keep the item the first one gave.
                let item = pages.get(&title).map(|p| p["pageprops"].clone());
                let mut page = page.clone();
                if let Some(item) = item.filter(|i| !i.is_null()) {
                    page["pageprops"] = item;
                }
                pages.insert(title, page);
            }
            match body.get("continue") {
                Some(c) => {
                    assert!(body.get("batchcomplete").is_none());
                    cont = Some((
                        c["clcontinue"].as_str().unwrap().to_owned(),
                        c["continue"].as_str().unwrap().to_owned(),
                    ));
                }
                None => {
                    assert_eq!(body["batchcomplete"], true);
                    break;
                }
            }
        }
    }

    let rows = articles
        .into_iter()
        .map(|(article, rank, views)| {
            let mut row = ExpectedRow {
                title: article.clone(),
                article: article.clone(),
                rank,
                views,
                page_id: None,
                namespace: None,
                page_status: "invalid".to_owned(),
                categories: Vec::new(),
                hidden_categories: Vec::new(),
                desktop_views: desktop.get(&article).copied(),
                desktop_min_views: desktop_min,
                is_article: false,
                wikidata_id: None,
            };
            if article == NO_TITLE {
                row.page_status = "no_title".to_owned();
                return row;
            }
            if pages.get(&article).is_some_and(|p| p["invalid"] == true) {
                return row;
            }
            let mut title = normalized.get(&article).cloned().unwrap_or(article);
            let mut seen = std::collections::HashSet::from([title.clone()]);
            let mut redirected = false;
            while let Some(to) = redirects.get(&title) {
                redirected = true;
                title = to.clone();
                if !seen.insert(title.clone()) {
                    // A loop: MediaWiki outputs no page for it.
                    row.title = title;
                    row.page_status = "missing".to_owned();
                    return row;
                }
            }
            let page = &pages[&title];
            row.page_status = if page["missing"] == true {
                "missing"
            } else if redirected {
                "redirect"
            } else if page["special"] == true {
                "special"
            } else {
                "ok"
            }
            .to_owned();
            row.page_id = page["pageid"].as_i64();
            row.wikidata_id = page["pageprops"]["wikibase_item"]
                .as_str()
                .map(str::to_owned);
            row.namespace = page["ns"].as_i64().map(|n| n as i32);
            for (name, hidden) in categories.get(&title).into_iter().flatten() {
                if *hidden {
                    row.hidden_categories.push(name.clone());
                } else {
                    row.categories.push(name.clone());
                }
            }
            row.categories.sort();
            row.categories.dedup();
            row.hidden_categories.sort();
            row.hidden_categories.dedup();
            row.is_article = matches!(row.page_status.as_str(), "ok" | "redirect")
                && row.namespace == Some(0)
                && title != main_page;
            row.title = title;
            row
        })
        .collect();
    (rows, calls)
}

#[tokio::test]
async fn top_list_has_the_real_shape_with_sql_ranks_served_shuffled() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    let raw = get(&wiki, &top_path("en.wikipedia", DAY_1)).await;
    assert_eq!(raw.status, 200);
    assert!(
        raw.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let body = raw.json();
    let item = &body["items"][0];
    assert_eq!(item["project"], "en.wikipedia");
    assert_eq!(item["access"], "all-access");
    assert_eq!(
        (
            item["year"].as_str(),
            item["month"].as_str(),
            item["day"].as_str()
        ),
        (Some("2023"), Some("04"), Some("01"))
    );
    let served: Vec<(String, u64, u64)> = item["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .map(|a| {
            assert_eq!(a.as_object().map(|o| o.len()), Some(3), "{a}");
            (
                a["article"].as_str().unwrap().to_owned(),
                a["views"].as_u64().unwrap(),
                a["rank"].as_u64().unwrap(),
            )
        })
        .collect();
    let rank_of = |name: &str| served.iter().find(|a| a.0 == name).map(|a| a.2);
    assert_eq!(rank_of("Main_Page"), Some(1));
    // Two-way tie at 4 skips 5; three-way tie at 10 skips 11 and 12.
    assert_eq!(
        (rank_of("AC/DC"), rank_of("AC_DC"), rank_of("Pokémon")),
        (Some(4), Some(4), Some(6))
    );
    assert_eq!(
        (
            rank_of("Question?"),
            rank_of("Wikipedia:Featured_pictures"),
            rank_of("Zürich"),
            rank_of("Беларусь")
        ),
        (Some(10), Some(10), Some(10), Some(13))
    );
    for name in [
        "Tom_&_Jerry",
        "C++",
        "Ocean's_Eleven",
        "Special:Search",
        "-",
        "😂",
        "ירושלים",
    ] {
        assert!(rank_of(name).is_some(), "{name}");
    }
    let ranks: Vec<u64> = served.iter().map(|a| a.2).collect();
    let mut sorted = ranks.clone();
    sorted.sort_unstable();
    assert_ne!(ranks, sorted, "articles must not be served in rank order");
    // Deterministic: the same order every time.
    let again = get(&wiki, &top_path("en.wikipedia", DAY_1)).await.json();
    assert_eq!(again, body);
}

#[tokio::test]
async fn realistic_days_serve_1000_articles() {
    let wiki = FakeWiki::start(Config::realistic(42)).await.expect("start");
    let day = date(2024, 2, 29);
    let body = get(&wiki, &top_path("en.wikipedia", day)).await.json();
    let articles = body["items"][0]["articles"]
        .as_array()
        .expect("articles")
        .clone();
    assert_eq!(articles.len(), 1000);
    let expected = wiki
        .universe()
        .top("en.wikipedia", "all-access", day)
        .expect("day");
    let mut served: Vec<(String, u64)> = articles
        .iter()
        .map(|a| {
            (
                a["article"].as_str().unwrap().to_owned(),
                a["rank"].as_u64().unwrap(),
            )
        })
        .collect();
    let first_ranks: Vec<u64> = served.iter().take(10).map(|a| a.1).collect();
    assert_ne!(first_ranks, (1..=10).collect::<Vec<_>>());
    served.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let want: Vec<(String, u64)> = expected
        .into_iter()
        .map(|a| (a.article, u64::from(a.rank)))
        .collect();
    assert_eq!(served, want);
}

#[tokio::test]
async fn unpublished_days_and_unknown_projects_are_404_problems() {
    let wiki = FakeWiki::start(Config::realistic(1).published_until(date(2026, 11, 27)))
        .await
        .expect("start");
    let raw = get(&wiki, &top_path("en.wikipedia", date(2026, 11, 28))).await;
    assert_eq!(raw.status, 404);
    assert_eq!(raw.header("content-type"), Some("application/problem+json"));
    let expected = r#"{"type":"https://mediawiki.org/wiki/HyperSwitch/errors/not_found","title":"Not found.","method":"get","detail":"The date(s) you used are valid, but we either do not have data for those date(s), or the project you asked for is not loaded yet. Please check documentation for more information.","uri":"/analytics.wikimedia.org/v1/pageviews/top/en.wikipedia/all-access/2026/11/28"}"#;
    assert_eq!(String::from_utf8_lossy(&raw.body), expected);
    assert_eq!(
        get(&wiki, &top_path("en.wikipedia", date(2026, 11, 27)))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&wiki, &top_path("xx.wikipedia", date(2024, 1, 1)))
            .await
            .status,
        404
    );
    assert_eq!(
        wiki.expected_day("en.wikipedia", "all-access", date(2026, 11, 28), 100),
        None
    );

    // Publishing is a runtime switch.
    wiki.set_published_until(date(2026, 11, 28));
    assert_eq!(
        get(&wiki, &top_path("en.wikipedia", date(2026, 11, 28)))
            .await
            .status,
        200
    );

    for bad in [
        "/api/rest_v1/metrics/pageviews/top/en.wikipedia/everything/2024/01/01",
        "/api/rest_v1/metrics/pageviews/top/en.wikipedia/all-access/2023/02/30",
        "/api/rest_v1/metrics/pageviews/top/en.wikipedia/all-access/2023/2/01",
    ] {
        let raw = get(&wiki, bad).await;
        assert_eq!(raw.status, 400, "{bad}");
        assert_eq!(
            raw.json()["type"],
            "https://mediawiki.org/wiki/HyperSwitch/errors/invalid_request"
        );
    }
}

#[tokio::test]
async fn fixture_categories_reassemble_to_the_expected_rows() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    for day in Universe::fixture().days().expect("fixture days") {
        let (rows, calls) = client_rows(&wiki, "en.wikipedia", day, 1000).await;
        let expected = wiki
            .expected_day("en.wikipedia", "all-access", day, 1000)
            .expect("day");
        assert_eq!(rows, expected, "{day}");
        // The 520-category page forces continuation even for a handful of titles.
        assert!(calls >= 2, "{day}: {calls} calls");
    }
    let stats = wiki.stats();
    assert_eq!(
        (
            stats.bad_continues,
            stats.api_errors,
            stats.title_limit_violations
        ),
        (0, 0, 0)
    );

    let expected = wiki
        .expected_day("en.wikipedia", "all-access", DAY_1, 1000)
        .expect("day");
    let row = |article: &str| {
        expected
            .iter()
            .find(|r| r.article == article)
            .expect(article)
            .clone()
    };
    let acdc = row("AC_DC");
    assert_eq!(
        (acdc.title.as_str(), acdc.page_status.as_str(), acdc.page_id),
        ("AC/DC", "redirect", Some(2466))
    );
    assert_eq!(
        acdc.hidden_categories,
        [
            "Articles with short description",
            "Use Australian English from August 2014"
        ]
    );
    let tom = row("tom_&_Jerry");
    assert_eq!(
        (tom.title.as_str(), tom.page_status.as_str()),
        ("Tom & Jerry", "ok")
    );
    let missing = row("Foo_bar");
    assert_eq!(
        (
            missing.title.as_str(),
            missing.page_status.as_str(),
            missing.namespace
        ),
        ("Foo bar", "missing", Some(0))
    );
    let special = row("Special:Search");
    assert_eq!(
        (special.page_status.as_str(), special.namespace),
        ("special", Some(-1))
    );
    let invalid = row("Reference_[1]");
    assert_eq!(
        (
            invalid.title.as_str(),
            invalid.page_status.as_str(),
            invalid.namespace
        ),
        ("Reference_[1]", "invalid", None)
    );
    // `-` is a real page here, as on real wikis; the row still names no page.
    let no_title = row("-");
    assert_eq!(
        (
            no_title.title.as_str(),
            no_title.page_status.as_str(),
            no_title.page_id
        ),
        ("-", "no_title", None)
    );
    assert!(
        wiki.requests()
            .iter()
            .all(|r| !r.titles.iter().any(|t| t == "-")),
        "`-` was looked up"
    );
    assert_eq!(
        row("Lists_of_everything").categories.len()
            + row("Lists_of_everything").hidden_categories.len(),
        520
    );
    // Ties at the cut are included: rank 10 is shared by three articles.
    assert_eq!(
        wiki.expected_day("en.wikipedia", "all-access", DAY_1, 10)
            .expect("day")
            .len(),
        12
    );
}

#[tokio::test]
async fn action_api_shapes_match_formatversion_2() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    let titles: Vec<String> = [
        "tom_&_Jerry",
        "AC_DC",
        "Foo_bar",
        "Special:Search",
        "Reference_[1]",
        "Question?",
    ]
    .map(str::to_owned)
    .to_vec();
    let body = get(&wiki, &categories_path("en.wikipedia.org", &titles, None))
        .await
        .json();
    assert_eq!(body["batchcomplete"], true);
    let q = &body["query"];
    assert!(
        q["normalized"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(
                {"fromencoded": false, "from": "tom_&_Jerry", "to": "Tom & Jerry"}
            ))
    );
    assert_eq!(
        q["redirects"],
        serde_json::json!([{"from": "AC DC", "to": "AC/DC"}])
    );
    let pages = q["pages"].as_array().unwrap();
    let page = |title: &str| {
        pages
            .iter()
            .find(|p| p["title"] == title)
            .unwrap_or_else(|| panic!("{title}: {q}"))
    };
    assert_eq!(
        *page("Foo bar"),
        serde_json::json!({"ns": 0, "title": "Foo bar", "missing": true})
    );
    assert_eq!(
        *page("Special:Search"),
        serde_json::json!({"ns": -1, "title": "Special:Search", "special": true})
    );
    assert_eq!(
        *page("Reference_[1]"),
        serde_json::json!({"title": "Reference_[1]", "invalidreason": "The requested page title contains invalid characters: \"[\".", "invalid": true})
    );
    assert_eq!(
        *page("Question?"),
        serde_json::json!({"pageid": 4821, "ns": 0, "title": "Question?",
            "pageprops": {"wikibase_item": "Q119406720"}})
    );
    let acdc = page("AC/DC");
    assert_eq!(acdc["pageid"], 2466);
    assert!(
        acdc["categories"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(
                {"ns": 14, "title": "Category:Articles with short description", "hidden": true}
            ))
    );
    assert!(
        acdc["categories"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(
                {"ns": 14, "title": "Category:Australian hard rock musical groups"}
            ))
    );
}

/// ApiQuerySiteinfo: `siprop` is any set of the served sections, answered in the order
/// asked; namespaces keyed by id in id order, aliases sorted by (id, alias).
#[tokio::test]
async fn siteinfo_answers_general_namespaces_and_aliases_in_any_order() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    let siteinfo = "/en.wikipedia.org/w/api.php?action=query&meta=siteinfo&format=json&formatversion=2&siprop=";
    let raw = get(
        &wiki,
        &format!("{siteinfo}{}", enc("namespacealiases|general|namespaces")),
    )
    .await;
    let text = String::from_utf8(raw.body.clone()).expect("UTF-8");
    let body = raw.json();
    let q = &body["query"];
    assert_eq!(
        q["general"],
        serde_json::json!({
            "mainpage": "Main Page",
            "sitename": "Wikipedia",
            "legaltitlechars": " %!\"$&'()*,\\-.\\/0-9:;=?@A-Z\\\\^_`a-z~\\x80-\\xFF+",
            "case": "first-letter",
            "lang": "en",
        })
    );
    assert_eq!(
        q["namespacealiases"],
        serde_json::json!([{"id": 4, "alias": "WP"}, {"id": 6, "alias": "Image"}])
    );
    let namespaces = q["namespaces"].as_object().expect("namespaces object");
    assert_eq!(
        namespaces["0"],
        serde_json::json!({"id": 0, "case": "first-letter", "name": "", "subpages": false, "content": true, "nonincludable": false})
    );
    assert_eq!(
        namespaces["4"],
        serde_json::json!({"id": 4, "case": "first-letter", "name": "Wikipedia", "subpages": true, "canonical": "Project", "content": false, "nonincludable": false})
    );
    assert_eq!(namespaces["5"]["name"], "Wikipedia talk");
    assert_eq!(namespaces["-1"]["name"], "Special");
    for (key, ns) in namespaces {
        assert_eq!(ns["id"].to_string(), *key);
    }
    // Sections in the order asked; ids in numeric order, as PHP keeps them.
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}: {text}"))
    };
    assert!(
        at("\"namespacealiases\"") < at("\"general\"") && at("\"general\"") < at("\"namespaces\"")
    );
    assert!(at("\"-1\":") < at("\"0\":") && at("\"14\":") < at("\"100\":"));

    // Riding on a categories request, general comes after the pages; a set has no repeats.
    let titles = vec!["AC/DC".to_owned()];
    let both = get(
        &wiki,
        &format!(
            "{}&meta=siteinfo&siprop={}",
            categories_path("en.wikipedia.org", &titles, None),
            enc("general|namespaces|general")
        ),
    )
    .await
    .json();
    assert_eq!(both["query"]["pages"][0]["title"], "AC/DC");
    assert_eq!(both["query"]["general"], q["general"]);
    assert_eq!(both["query"]["namespaces"], q["namespaces"]);
    assert!(both["query"].get("namespacealiases").is_none());

    for (siprop, code) in [("general|interwikimap", "badvalue"), ("", "badvalue")] {
        let body = get(&wiki, &format!("{siteinfo}{}", enc(siprop)))
            .await
            .json();
        assert_eq!(body["error"]["code"], code, "{siprop}: {body}");
    }

    // A wiki's local names, with the canonical ones beside them.
    let intl = FakeWiki::start(Config::intl()).await.expect("start");
    let hindi = get(
        &intl,
        "/hi.wikipedia.org/w/api.php?action=query&meta=siteinfo&siprop=namespaces&format=json&formatversion=2",
    )
    .await
    .json();
    let category = &hindi["query"]["namespaces"]["14"];
    assert_eq!(
        (category["name"].as_str(), category["canonical"].as_str()),
        (Some("श्रेणी"), Some("Category"))
    );
    assert!(hindi["query"].get("general").is_none());
}

#[tokio::test]
async fn realistic_batches_need_continue_and_reassemble() {
    let wiki = FakeWiki::start(Config::realistic(42)).await.expect("start");
    let day = date(2025, 6, 3);
    let (rows, calls) = client_rows(&wiki, "en.wikipedia", day, 100).await;
    assert_eq!(
        rows,
        wiki.expected_day("en.wikipedia", "all-access", day, 100)
            .expect("day")
    );
    // 100+ titles in batches of 50, ~20 rows a page: 2–3 continue rounds per batch.
    let batches = rows.len().div_ceil(50);
    assert!(
        (batches * 2..=batches * 4).contains(&calls),
        "{calls} calls for {} rows",
        rows.len()
    );
    assert_eq!(wiki.stats().title_limit_violations, 0);
}

/// ParamValidator::validateValue: past the limit the whole request is refused.
#[tokio::test]
async fn over_50_titles_are_refused_and_logged() {
    let wiki = FakeWiki::start(Config::realistic(3)).await.expect("start");
    let titles: Vec<String> = (0..60).map(|i| format!("Title_{i}")).collect();
    let raw = get(&wiki, &categories_path("en.wikipedia.org", &titles, None)).await;
    assert_eq!(raw.status, 200);
    let body = raw.json();
    assert_eq!(body["error"]["code"], "toomanyvalues");
    assert_eq!(
        body["error"]["info"],
        "Too many values supplied for parameter \"titles\". The limit is 50."
    );
    assert!(body.get("query").is_none());
    assert_eq!(wiki.stats().title_limit_violations, 1);
    assert_eq!(wiki.requests()[0].titles.len(), 60);
}

#[tokio::test]
async fn wrong_continuation_and_params_are_api_errors() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    let titles = vec!["Lists_of_everything".to_owned(), "AC/DC".to_owned()];
    let first = get(&wiki, &categories_path("en.wikipedia.org", &titles, None))
        .await
        .json();
    let clcontinue = first["continue"]["clcontinue"]
        .as_str()
        .expect("continue")
        .to_owned();
    // pageprops finished in the first round and is skipped from then on.
    assert_eq!(first["continue"]["continue"], "||pageprops");
    assert!(
        clcontinue.starts_with("2466|") || clcontinue.starts_with("5000|"),
        "{clcontinue}"
    );

    for (cc, token) in [
        (clcontinue.as_str(), ""),
        ("5000|Nope", "||pageprops"),
        ("garbage", "||pageprops"),
        ("2466|Atlantic_Records_artists", "||pageprops"),
        (clcontinue.as_str(), "||"),
    ] {
        let raw = get(
            &wiki,
            &categories_path("en.wikipedia.org", &titles, Some((cc, token))),
        )
        .await;
        assert_eq!(raw.status, 200);
        assert_eq!(raw.header("mediawiki-api-error"), Some("badcontinue"));
        assert_eq!(
            raw.json()["error"]["info"],
            "Invalid continue param. You should pass the original value returned by the previous query."
        );
    }
    let ok = get(
        &wiki,
        &categories_path(
            "en.wikipedia.org",
            &titles,
            Some((&clcontinue, "||pageprops")),
        ),
    )
    .await
    .json();
    assert!(ok.get("error").is_none(), "{ok}");
    // The first round carries the items; a continued one skips the finished pageprops.
    let pages = |body: &Value| {
        body["query"]["pages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    assert!(
        pages(&first)
            .iter()
            .any(|p| p["pageprops"]["wikibase_item"].is_string()),
        "{first}"
    );
    assert!(
        pages(&ok).iter().all(|p| p.get("pageprops").is_none()),
        "{ok}"
    );

    let base = "/en.wikipedia.org/w/api.php?titles=AC/DC";
    for (query, code) in [
        (
            "&action=query&prop=categories&redirects=1&formatversion=2",
            "missingparam",
        ),
        (
            "&action=query&prop=categories&redirects=1&format=json",
            "missingparam",
        ),
        (
            "&action=query&prop=info&redirects=1&format=json&formatversion=2",
            "badvalue",
        ),
        (
            "&action=query&prop=categories&format=json&formatversion=2",
            "missingparam",
        ),
        (
            "&action=query&prop=categories&redirects=1&format=json&formatversion=2&cllimit=lots",
            "badinteger",
        ),
    ] {
        let body = get(&wiki, &format!("{base}{query}")).await.json();
        assert_eq!(body["error"]["code"], code, "{query}: {body}");
    }
    let stats = wiki.stats();
    // Five bad continuations: the fifth omits the pageprops that finished.
    assert_eq!((stats.bad_continues, stats.api_errors), (5, 10));
    assert_eq!(get(&wiki, "/xx.wikipedia.org/w/api.php").await.status, 404);
}

#[tokio::test]
async fn quota_answers_429_with_retry_after_and_bearer_gets_ten_times_more() {
    let config = Config::fixture().quota(Quota {
        requests: 3,
        window: Duration::from_secs(60),
    });
    let wiki = FakeWiki::start(config).await.expect("start");
    let path = top_path("en.wikipedia", DAY_1);
    for _ in 0..3 {
        assert_eq!(get(&wiki, &path).await.status, 200);
    }
    let limited = get(&wiki, &path).await;
    assert_eq!(limited.status, 429);
    let secs: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After secs");
    assert!((1..=60).contains(&secs), "{secs}");
    for _ in 0..30 {
        assert_eq!(
            get_with(&wiki, &path, &[("Authorization", "Bearer token")])
                .await
                .status,
            200
        );
    }
    assert_eq!(
        get_with(&wiki, &path, &[("Authorization", "Bearer token")])
            .await
            .status,
        429
    );
    let stats = wiki.stats();
    assert_eq!(
        (stats.served_429, stats.quota_rejections, stats.top_requests),
        (2, 2, 35)
    );
    assert!(wiki.requests().iter().filter(|r| r.authorization).count() == 31);
    wiki.set_quota(None);
    assert_eq!(get(&wiki, &path).await.status, 200);
}

#[tokio::test]
async fn faults_look_like_the_real_failures() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    let top = top_path("en.wikipedia", DAY_1);
    let cats = categories_path("en.wikipedia.org", &["AC/DC".to_owned()], None);

    wiki.add_fault(FaultRule::next(Fault::Status(503), 1));
    let raw = get(&wiki, &top).await;
    assert_eq!(raw.status, 503);
    assert!(String::from_utf8_lossy(&raw.body).contains("Wikimedia Error"));
    assert_eq!(
        get(&wiki, &top).await.status,
        200,
        "a spent rule no longer fires"
    );

    wiki.add_fault(FaultRule::next(
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    ));
    assert_eq!(get(&wiki, &top).await.header("retry-after"), Some("7"));
    wiki.add_fault(FaultRule::next(
        Fault::TooManyRequestsHttpDate {
            retry_after_secs: 30,
        },
        1,
    ));
    let http_date = get(&wiki, &top)
        .await
        .header("retry-after")
        .expect("Retry-After")
        .to_owned();
    assert!(
        http_date.ends_with(" GMT") && jiff::fmt::rfc2822::parse(&http_date).is_ok(),
        "{http_date}"
    );

    wiki.add_fault(FaultRule::next(Fault::TruncatedBody, 1));
    let raw = get(&wiki, &top).await;
    assert!(raw.complete && raw.status == 200);
    assert!(serde_json::from_slice::<Value>(&raw.body).is_err());

    wiki.add_fault(FaultRule::next(Fault::DropConnection, 1));
    let raw = get(&wiki, &top).await;
    assert_eq!(raw.status, 200);
    assert!(
        !raw.complete && !raw.body.is_empty(),
        "headers and part of the body, then EOF"
    );

    wiki.add_fault(FaultRule::next(Fault::HtmlErrorPage, 1));
    let raw = get(&wiki, &top).await;
    assert_eq!(
        (raw.status, raw.header("content-type")),
        (200, Some("text/html; charset=utf-8"))
    );

    wiki.add_fault(FaultRule::next(Fault::MissingTopLevel, 2));
    assert!(get(&wiki, &top).await.json().get("items").is_none());
    assert_eq!(
        get(&wiki, &cats).await.json(),
        serde_json::json!({"batchcomplete": true})
    );

    // Maxlag never hits the Pageviews API, only the Action API.
    wiki.add_fault(FaultRule::next(Fault::Maxlag { lag_secs: 5 }, 1));
    assert_eq!(get(&wiki, &top).await.status, 200);
    let raw = get(&wiki, &cats).await;
    assert_eq!(
        (
            raw.status,
            raw.header("retry-after"),
            raw.header("x-database-lag")
        ),
        (200, Some("5"), Some("5"))
    );
    assert_eq!(raw.json()["error"]["code"], "maxlag");
    assert_eq!(raw.json()["error"]["lag"], 5);

    let bad_day = date(2023, 4, 2);
    let id = wiki.add_fault(FaultRule::persistent_500("en.wikipedia", bad_day));
    for _ in 0..3 {
        assert_eq!(
            get(&wiki, &top_path("en.wikipedia", bad_day)).await.status,
            500
        );
    }
    assert_eq!(get(&wiki, &top).await.status, 200);
    assert!(wiki.remove_fault(id));
    assert_eq!(
        get(&wiki, &top_path("en.wikipedia", bad_day)).await.status,
        200
    );

    wiki.add_fault(
        FaultRule::next(Fault::Hang(Duration::from_secs(30)), 1).on(Endpoint::Categories),
    );
    let hung = tokio::time::timeout(Duration::from_millis(300), get(&wiki, &cats)).await;
    assert!(hung.is_err(), "the hang outlasts a client timeout");

    let log = wiki.requests();
    assert!(
        log.iter()
            .all(|r| r.user_agent.as_deref() == Some("fakewiki-tests/0.1 (test@example.org)"))
    );
    assert_eq!(log.iter().filter(|r| r.fault.is_some()).count(), 13);
    assert!(
        log.iter()
            .any(|r| r.endpoint == Endpoint::Categories && r.titles == ["AC/DC"])
    );
    wiki.reset_log();
    assert!(wiki.requests().is_empty());
}

#[tokio::test]
async fn rates_are_seeded_and_concurrency_is_measured() {
    let wiki = FakeWiki::start(
        Config::fixture()
            .fault_seed(11)
            .latency(Duration::from_millis(300)),
    )
    .await
    .expect("start");
    let top = top_path("en.wikipedia", DAY_1);
    let gets: Vec<_> = (0..4)
        .map(|_| {
            let wiki = wiki.clone();
            let top = top.clone();
            tokio::spawn(async move { get(&wiki, &top).await.status })
        })
        .collect();
    for g in gets {
        assert_eq!(g.await.expect("join"), 200);
    }
    let stats = wiki.stats();
    assert!(
        stats.max_in_flight >= 2 && stats.max_in_flight_top == stats.max_in_flight,
        "{stats:?}"
    );
    assert_eq!(stats.max_in_flight_categories, 0);

    wiki.set_latency(Duration::ZERO);
    let run = |seed| async move {
        let wiki = FakeWiki::start(Config::fixture().fault_seed(seed))
            .await
            .expect("start");
        wiki.add_fault(FaultRule::rate(Fault::Status(502), 0.5).on(Endpoint::Top));
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(get(&wiki, &top_path("en.wikipedia", DAY_1)).await.status);
        }
        statuses
    };
    let a = run(5).await;
    assert_eq!(a, run(5).await);
    let failed = a.iter().filter(|s| **s == 502).count();
    assert!((8..=32).contains(&failed), "{failed} of 40 at 0.5");
}

#[test]
fn start_blocking_serves_from_its_own_thread() {
    use std::io::{Read, Write};
    let wiki = FakeWiki::start_blocking(Config::fixture()).expect("start");
    assert!(wiki.base_url().starts_with("http://127.0.0.1:"));
    assert_eq!(
        wiki.pageviews_api(),
        format!("{}/api/rest_v1", wiki.base_url())
    );
    assert_eq!(
        wiki.action_api(),
        format!("{}/{{host}}/w/api.php", wiki.base_url())
    );
    let mut stream = std::net::TcpStream::connect(wiki.addr()).expect("connect");
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        top_path("en.wikipedia", DAY_1)
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).expect("read");
    let raw = parse(&bytes);
    assert_eq!(raw.status, 200);
    assert_eq!(wiki.requests()[0].user_agent, None);
}

/// The hi.wikipedia batch a client sends for a day: every title but `-`.
fn hindi_titles(day: Date) -> Vec<String> {
    Universe::intl()
        .top("hi.wikipedia", "all-access", day)
        .expect("day")
        .into_iter()
        .map(|a| a.article)
        .filter(|a| a != NO_TITLE)
        .take(50)
        .collect()
}

#[tokio::test]
async fn a_non_latin_batch_is_too_long_for_a_url_and_whole_as_a_post() {
    let wiki = FakeWiki::start(Config::intl()).await.expect("start");
    let titles = hindi_titles(DAY_1);
    let too_long = get(&wiki, &categories_path("hi.wikipedia.org", &titles, None)).await;
    assert_eq!(too_long.status, 414);
    assert!(String::from_utf8_lossy(&too_long.body).contains("Request-URI Too Long"));

    let form = format!(
        "{CATEGORY_QUERY}&titles={}",
        titles.iter().map(|t| enc(t)).collect::<Vec<_>>().join("|")
    );
    let body = post(&wiki, "/hi.wikipedia.org/w/api.php?action=query", &form)
        .await
        .json();
    assert!(body.get("error").is_none(), "{body}");
    let q = &body["query"];
    let normalized = q["normalized"].as_array().expect("normalized");
    // ApiPageSet::getNormalizedTitlesAsResult: the non-NFC title comes back encoded,
    // then its NFC form is normalised as a title.
    let nfc = "\u{0915}\u{093C}ुतुब_मीनार";
    assert!(normalized.contains(&serde_json::json!({
        "fromencoded": true,
        "from": "%E0%A5%98%E0%A5%81%E0%A4%A4%E0%A5%81%E0%A4%AC_%E0%A4%AE%E0%A5%80%E0%A4%A8%E0%A4%BE%E0%A4%B0",
        "to": nfc
    })), "{normalized:?}");
    assert!(normalized.contains(&serde_json::json!(
        {"fromencoded": false, "from": nfc, "to": nfc.replace('_', " ")}
    )));
    assert!(normalized.contains(&serde_json::json!(
        {"fromencoded": false, "from": "Special:Search", "to": "विशेष:खोज"}
    )));
    let redirects = q["redirects"].as_array().expect("redirects");
    for (from, to) in [
        ("भारत गणराज्य", "भारतवर्ष"),
        ("भारतवर्ष", "भारत"),
        ("लूप क", "लूप ख"),
        ("लूप ख", "लूप क"),
    ] {
        assert!(
            redirects.contains(&serde_json::json!({"from": from, "to": to})),
            "{from} → {to}: {redirects:?}"
        );
    }
    let pages = q["pages"].as_array().expect("pages");
    let titles_out: Vec<&str> = pages.iter().filter_map(|p| p["title"].as_str()).collect();
    // Only the end of a chain is a page; a loop has none.
    assert!(titles_out.contains(&"भारत"));
    for absent in ["भारतवर्ष", "लूप क", "लूप ख"] {
        assert!(!titles_out.contains(&absent), "{absent}");
    }
    let special = pages
        .iter()
        .find(|p| p["title"] == "विशेष:खोज")
        .expect("special");
    assert_eq!(
        *special,
        serde_json::json!({"ns": -1, "title": "विशेष:खोज", "special": true})
    );
    let category = pages
        .iter()
        .flat_map(|p| p["categories"].as_array().into_iter().flatten())
        .next()
        .expect("a category");
    assert!(category["title"].as_str().unwrap().starts_with("श्रेणी:"));
    assert_eq!(wiki.requests()[1].method, "POST");
}

#[tokio::test]
async fn variants_convert_only_when_asked() {
    let wiki = FakeWiki::start(Config::intl()).await.expect("start");
    let titles = vec!["電腦_科學".to_owned()];
    let with = get(&wiki, &categories_path("zh.wikipedia.org", &titles, None))
        .await
        .json();
    assert_eq!(
        with["query"]["converted"],
        serde_json::json!([{"from": "電腦 科學", "to": "电脑 科学"}])
    );
    assert_eq!(with["query"]["pages"][0]["pageid"], 2_003);
    let plain = CATEGORY_QUERY.replace("&converttitles=1", "");
    let without = get(
        &wiki,
        &format!(
            "/zh.wikipedia.org/w/api.php?{plain}&titles={}",
            enc(&titles[0])
        ),
    )
    .await
    .json();
    assert!(without["query"].get("converted").is_none());
    assert_eq!(without["query"]["pages"][0]["missing"], true);
}

#[tokio::test]
async fn bearer_clients_get_a_session_cookie_and_throttles_can_be_bare() {
    let wiki = FakeWiki::start(Config::fixture()).await.expect("start");
    let path = top_path("en.wikipedia", DAY_1);
    let authed = get_with(&wiki, &path, &[("Authorization", "Bearer t")]).await;
    assert!(
        authed
            .header("set-cookie")
            .is_some_and(|c| c.starts_with(fakewiki::SESSION_COOKIE)),
        "{:?}",
        authed.headers
    );
    assert!(get(&wiki, &path).await.header("set-cookie").is_none());

    wiki.add_fault(FaultRule::next(Fault::TooManyRequestsBare, 1));
    let bare = get(&wiki, &path).await;
    assert_eq!((bare.status, bare.header("retry-after")), (429, None));

    wiki.add_fault(FaultRule::next(
        Fault::ApiError {
            code: "internal_api_error_DBConnectionError",
            info: "[x] Exception caught: Cannot access the database",
        },
        1,
    ));
    let titles = vec!["C++".to_owned()];
    let db = get(&wiki, &categories_path("en.wikipedia.org", &titles, None)).await;
    assert_eq!(db.status, 200);
    assert_eq!(
        db.header("mediawiki-api-error"),
        Some("internal_api_error_DBConnectionError")
    );
    assert_eq!(
        db.json()["error"]["code"],
        "internal_api_error_DBConnectionError"
    );
}
