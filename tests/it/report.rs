//! `wikitop report` and `wikitop export` on stores synced from the fake Wikimedia
//! server: the report's figures equal SQL written here independently (DuckDB), the
//! BigQuery path gives the same report, the HTML opens offline in a real browser with
//! every chart drawn, and an export reads back in another DuckDB and in pyarrow.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use fakewiki::{Config, FakeWiki};
use jiff::civil::{Date, date};
use wikitop::report::{DayState, Report, ReportInput, ReportSettings, thousands};
use wikitop::settings::{BigQuerySettings, StoreInput, StoreSettings};

use crate::support::*;

/// Three months touched, with a gap, so every section has something to show.
const SINCE: Date = date(2025, 5, 20);
const UNTIL: Date = date(2025, 7, 3);
const GAP: Date = date(2025, 6, 10);

/// Syncs `[SINCE, UNTIL]` but `GAP` from `fake` into `db`.
async fn synced_store(fake: &FakeWiki, db: &Path) {
    let before = GAP.yesterday().unwrap();
    let after = GAP.tomorrow().unwrap();
    for (since, until) in [(SINCE, before), (after, UNTIL)] {
        let report = sync(&settings(fake, db, since, until)).await.expect("sync");
        assert!(report.days_failed.is_empty(), "{:?}", report.days_failed);
    }
}

fn report_settings(store: StoreInput, today: Date, all_rows: bool) -> ReportSettings {
    ReportSettings::resolve(
        ReportInput {
            since: Some(SINCE.to_string()),
            until: Some(UNTIL.to_string()),
            all_rows,
            store,
            ..ReportInput::default()
        },
        today,
    )
    .expect("valid report settings")
}

fn duckdb_store(db: &Path) -> StoreInput {
    StoreInput {
        db: Some(db.to_owned()),
        ..StoreInput::default()
    }
}

/// Runs one query on a connection of the test's own and returns its rows as text.
fn rows(conn: &duckdb::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut stmt = conn.prepare(sql).expect("valid SQL");
    stmt.query_map([], |r| {
        (0..r.as_ref().column_count())
            .map(|i| {
                r.get::<_, duckdb::types::Value>(i).map(|v| match v {
                    duckdb::types::Value::Text(s) => s,
                    duckdb::types::Value::Null => "NULL".into(),
                    duckdb::types::Value::Date32(d) => date(1970, 1, 1)
                        .checked_add(jiff::Span::new().days(d))
                        .unwrap()
                        .to_string(),
                    other => format!("{other:?}")
                        .trim_start_matches(|c: char| c.is_alphabetic())
                        .trim_matches(|c| c == '(' || c == ')')
                        .to_owned(),
                })
            })
            .collect()
    })
    .and_then(|r| r.collect())
    .expect("rows")
}

fn one(conn: &duckdb::Connection, sql: &str) -> u64 {
    rows(conn, sql)[0][0].parse().expect("a count")
}

/// The rows the report counts, as the test reads the README: articles (schema v3 flag)
/// whose traffic is not flagged, in the range.
const COUNTED: &str = "date BETWEEN DATE '2025-05-20' AND DATE '2025-07-03' \
     AND is_article AND NOT suspect_automated";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_shows_the_figures_that_independent_sql_computes() {
    let fake = FakeWiki::start(Config::realistic(5)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    synced_store(&fake, &db).await;
    let today = today_for(&fake);
    let report = wikitop::report::build(&report_settings(duckdb_store(&db), today, false))
        .await
        .expect("report");
    let conn = duckdb::Connection::open_with_flags(
        &db,
        duckdb::Config::default()
            .access_mode(duckdb::AccessMode::ReadOnly)
            .unwrap(),
    )
    .expect("the store opens read-only");

    // Coverage: every day stored but the gap.
    assert_eq!(report.coverage.len(), 45);
    for (day, state) in &report.coverage {
        let want = if *day == GAP {
            DayState::Missing
        } else {
            DayState::Stored
        };
        assert_eq!(*state, want, "{day}");
    }
    let s = &report.summary;
    assert_eq!((s.days_stored, s.days_missing), (44, 1));

    // Summary.
    let counted = |select: &str| {
        one(
            &conn,
            &format!("SELECT {select} FROM top_pages WHERE {COUNTED}"),
        )
    };
    assert_eq!(s.rows, counted("count(*)"));
    assert_eq!(s.articles, counted("count(DISTINCT article)"));
    assert_eq!(s.views, counted("CAST(sum(views) AS BIGINT)"));
    assert_eq!(
        s.categories,
        one(
            &conn,
            &format!(
                "SELECT count(DISTINCT c) FROM (SELECT unnest(categories) AS c FROM top_pages WHERE {COUNTED})"
            )
        )
    );
    assert_eq!(
        s.flagged,
        one(
            &conn,
            "SELECT count(*) FROM top_pages WHERE suspect_automated"
        )
    );
    assert_eq!(
        s.not_articles,
        one(&conn, "SELECT count(*) FROM top_pages WHERE NOT is_article")
    );
    assert_eq!(s.not_checked, 0, "every day was stored at schema v3");
    assert!(s.flagged > 0 && s.not_articles > 0, "the fake serves both");

    // Daily #1: the page ranked 1 in the view `top_articles`; tied pages go to the
    // first title.
    let mut want_number_one: BTreeMap<String, (String, String)> = BTreeMap::new();
    for r in rows(
        &conn,
        "SELECT CAST(date AS VARCHAR), title, CAST(views AS VARCHAR) FROM top_articles \
         WHERE article_rank = 1 ORDER BY date, title",
    ) {
        want_number_one
            .entry(r[0].clone())
            .or_insert((r[1].clone(), r[2].clone()));
    }
    let got_number_one: BTreeMap<String, (String, String)> = report
        .number_one
        .iter()
        .map(|d| (d.day.to_string(), (d.article.clone(), d.views.to_string())))
        .collect();
    assert_eq!(got_number_one, want_number_one);

    // Most read pages: the counted rows summed per title, and each page's daily views.
    let want_most_read = rows(
        &conn,
        &format!(
            "SELECT title, CAST(sum(views) AS VARCHAR), CAST(count(DISTINCT date) AS VARCHAR), \
             CAST(min(article_rank) AS VARCHAR) FROM top_pages WHERE {COUNTED} \
             GROUP BY title ORDER BY sum(views) DESC, title LIMIT 20"
        ),
    );
    let got_most_read: Vec<Vec<String>> = report
        .most_read
        .iter()
        .map(|p| {
            vec![
                p.title.clone(),
                p.views.to_string(),
                p.days.to_string(),
                p.best_rank.map_or_else(|| "NULL".into(), |r| r.to_string()),
            ]
        })
        .collect();
    assert_eq!(got_most_read, want_most_read);
    for p in &report.most_read {
        assert_eq!(p.daily.iter().sum::<u64>(), p.views, "{}", p.title);
        assert_eq!(
            p.daily.iter().filter(|&&v| v > 0).count() as u64,
            p.days,
            "{}",
            p.title
        );
    }

    // Wikimedia's "Top read" of the range, from mostread_rank.
    let want_top_read = rows(
        &conn,
        "SELECT title, CAST(count(DISTINCT date) AS VARCHAR), CAST(min(mostread_rank) AS VARCHAR), \
         CAST(sum(views) AS VARCHAR) FROM top_pages WHERE mostread_rank IS NOT NULL \
         AND date BETWEEN DATE '2025-05-20' AND DATE '2025-07-03' GROUP BY title ORDER BY sum(views) DESC, title LIMIT 25",
    );
    let got_top_read: Vec<Vec<String>> = report
        .top_read
        .iter()
        .map(|p| {
            vec![
                p.title.clone(),
                p.days.to_string(),
                p.best.to_string(),
                p.views.to_string(),
            ]
        })
        .collect();
    assert_eq!(got_top_read, want_top_read);
    assert!(!got_top_read.is_empty());

    // Streaks, by another method: a run starts where the previous day is not yesterday.
    let want_streaks = rows(
        &conn,
        &format!(
            "WITH d AS (SELECT article, date, views, \
                 CASE WHEN lag(date) OVER (PARTITION BY article ORDER BY date) = date - 1 \
                      THEN 0 ELSE 1 END AS starts FROM top_pages WHERE {COUNTED}), \
             r AS (SELECT *, sum(starts) OVER (PARTITION BY article ORDER BY date) AS run FROM d) \
             SELECT article, CAST(min(date) AS VARCHAR), CAST(max(date) AS VARCHAR), \
                    CAST(count(*) AS VARCHAR), CAST(sum(views) AS VARCHAR) \
             FROM r GROUP BY article, run ORDER BY count(*) DESC, sum(views) DESC, article LIMIT 15"
        ),
    );
    let got_streaks: Vec<Vec<String>> = report
        .streaks
        .iter()
        .map(|s| {
            vec![
                s.article.clone(),
                s.first.to_string(),
                s.last.to_string(),
                s.days.to_string(),
                s.views.to_string(),
            ]
        })
        .collect();
    assert_eq!(got_streaks, want_streaks);
    assert!(report.streaks[0].days > 1);

    // Top categories: page-days per month of the 12 categories with the most.
    let per_month = rows(
        &conn,
        &format!(
            "WITH c AS (SELECT strftime(date, '%Y-%m') AS month, unnest(categories) AS category \
                        FROM top_pages WHERE {COUNTED}), \
             top AS (SELECT category FROM c GROUP BY category ORDER BY count(*) DESC, category LIMIT 12) \
             SELECT category, month, CAST(count(*) AS VARCHAR) FROM c WHERE category IN (SELECT category FROM top) \
             GROUP BY category, month"
        ),
    );
    assert_eq!(report.categories.months, ["2025-05", "2025-06", "2025-07"]);
    assert_eq!(report.categories.rows.len(), 12);
    for r in &per_month {
        let row = report
            .categories
            .rows
            .iter()
            .find(|c| c.category == r[0])
            .unwrap_or_else(|| panic!("category {} missing from the report", r[0]));
        let m = report
            .categories
            .months
            .iter()
            .position(|m| *m == r[1])
            .unwrap();
        assert_eq!(row.by_month[m].to_string(), r[2], "{} {}", r[0], r[1]);
    }
    let cells: usize = report
        .categories
        .rows
        .iter()
        .map(|r| r.by_month.iter().filter(|n| **n > 0).count())
        .sum();
    assert_eq!(cells, per_month.len());

    // Flagged traffic: pages, days and views.
    let want_flagged = rows(
        &conn,
        "SELECT article, CAST(count(*) AS VARCHAR), CAST(sum(views) AS VARCHAR) FROM top_pages \
         WHERE suspect_automated GROUP BY article ORDER BY article",
    );
    let mut got_flagged: Vec<Vec<String>> = report
        .flagged
        .iter()
        .map(|f| vec![f.article.clone(), f.days.to_string(), f.views.to_string()])
        .collect();
    got_flagged.sort();
    assert_eq!(got_flagged, want_flagged);

    // The HTML shows those figures, thousands separated.
    let html = wikitop::report::render(&report).expect("render");
    for (figure, value) in [
        ("days_stored", s.days_stored),
        ("articles", s.articles),
        ("categories", s.categories),
        ("views", s.views),
        ("rows", s.rows),
        ("days_missing", s.days_missing),
    ] {
        let needle = format!("data-figure=\"{figure}\">{}<", thousands(value));
        assert!(html.contains(&needle), "{needle}");
    }
    assert_eq!(html.matches("data-streak>").count(), report.streaks.len());
    assert_eq!(html.matches("data-number-one>").count(), 44);
    assert_eq!(html.matches("data-flagged>").count(), report.flagged.len());

    // --all-rows counts every row of the range.
    let all = wikitop::report::build(&report_settings(duckdb_store(&db), today, true))
        .await
        .expect("report");
    assert_eq!(
        all.summary.rows,
        one(
            &conn,
            "SELECT count(*) FROM top_pages WHERE date BETWEEN DATE '2025-05-20' AND DATE '2025-07-03'"
        )
    );
    assert!(all.summary.rows > s.rows);
}

/// The same days synced into BigQuery (the emulator) give the same report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_from_bigquery_equals_the_report_from_duckdb() {
    let (endpoint, dataset) = emulator_dataset("report");
    let fake = FakeWiki::start(Config::realistic(5)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    synced_store(&fake, &db).await;
    let bigquery = BigQuerySettings::new(&dataset, None, Some(&endpoint)).expect("dataset");
    for (since, until) in [
        (SINCE, GAP.yesterday().unwrap()),
        (GAP.tomorrow().unwrap(), UNTIL),
    ] {
        let mut settings = settings(&fake, &db, since, until);
        settings.store = StoreSettings::BigQuery(bigquery.clone());
        sync(&settings).await.expect("sync into BigQuery");
    }
    let today = today_for(&fake);
    let from_duckdb = wikitop::report::build(&report_settings(duckdb_store(&db), today, false))
        .await
        .expect("DuckDB report");
    let bq_store = StoreInput {
        sink: Some(wikitop::settings::SinkKind::BigQuery),
        bq_dataset: Some(dataset.clone()),
        bq_endpoint: Some(endpoint.clone()),
        ..StoreInput::default()
    };
    let from_bigquery = wikitop::report::build(&report_settings(bq_store, today, false))
        .await
        .expect("BigQuery report");
    assert_same_figures(&from_bigquery, &from_duckdb);
    assert!(from_bigquery.store.contains(&dataset));
}

fn assert_same_figures(got: &Report, want: &Report) {
    assert_eq!(got.summary, want.summary);
    assert_eq!(got.coverage, want.coverage);
    assert_eq!(got.categories, want.categories);
    assert_eq!(got.streaks, want.streaks);
    assert_eq!(got.number_one, want.number_one);
    assert_eq!(got.flagged.len(), want.flagged.len());
    for (g, w) in got.flagged.iter().zip(&want.flagged) {
        assert_eq!(
            (&g.article, &g.reason, g.days, g.first, g.last, g.views),
            (&w.article, &w.reason, w.days, w.first, w.last, w.views)
        );
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() < 1e-9,
            (a, b) => a == b,
        };
        assert!(close(g.desktop_share, w.desktop_share), "{}", g.article);
        assert!(close(g.desktop_share_min, w.desktop_share_min));
        assert!(close(g.desktop_share_max, w.desktop_share_max));
    }
}

/// Debian's Chromium, as `scripts/test` installs it; `WIKITOP_TEST_CHROMIUM=skip` (set by
/// the script only when it cannot install it) skips the browser test with a message.
#[allow(clippy::print_stderr)] // says why the browser test did not run
fn chromium() -> Option<PathBuf> {
    match std::env::var("WIKITOP_TEST_CHROMIUM").ok().as_deref() {
        Some("skip") => {
            eprintln!("SKIPPED: Chromium is not installed (scripts/test could not install it)");
            None
        }
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            let found = ["chromium", "chromium-browser"].iter().find_map(|name| {
                std::env::var_os("PATH").and_then(|paths| {
                    std::env::split_paths(&paths)
                        .map(|p| p.join(name))
                        .find(|p| p.is_file())
                })
            });
            assert!(
                found.is_some(),
                "Chromium is needed for the browser test: `apt-get install chromium`, or run `make test`, which installs it"
            );
            found
        }
    }
}

/// Headless Chromium with the network off: no proxy reachable, no name resolves.
fn browser(chromium: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(chromium);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--proxy-server=127.0.0.1:9",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    cmd
}

#[test]
#[allow(clippy::print_stderr)] // prints where the screenshot is
fn the_report_opens_offline_in_chromium_with_every_chart_drawn() {
    let Some(chromium) = chromium() else { return };
    let fake = FakeWiki::start_blocking(Config::realistic(5)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let out = run(
        &fake,
        &db,
        &[
            "sync",
            "--since",
            &SINCE.to_string(),
            "--until",
            &UNTIL.to_string(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let html_path = dir.path().join("report.html");
    let out = run(
        &fake,
        &db,
        &[
            "report",
            "--since",
            &SINCE.to_string(),
            "--until",
            &UNTIL.to_string(),
            "--out",
            html_path.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with(&format!("Wrote {}", html_path.display()))
            && stdout.contains("45 of 45 days stored"),
        "{stdout}"
    );
    let html = std::fs::read_to_string(&html_path).unwrap();

    // Self-contained: no script, no stylesheet or image from elsewhere, no URL but the
    // SVG namespace.
    assert!(!html.contains("<script"), "the report needs no script");
    for needle in ["src=", "href=", "url(", "@import"] {
        assert!(!html.contains(needle), "`{needle}` in the report");
    }
    let urls = html.matches("http://").count() + html.matches("https://").count();
    assert_eq!(
        urls,
        html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "only SVG namespaces may name a URL"
    );

    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", html_path.display());
    let dump = browser(&chromium, profile.path())
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("Chromium runs");
    assert!(dump.status.success(), "{}", text(&dump.stderr));
    let dom = text(&dump.stdout);
    let log = text(&dump.stderr);
    assert!(
        !log.contains("CONSOLE") && !log.contains("Failed to load resource"),
        "console messages while loading the report:\n{log}"
    );
    for chart in ["coverage", "categories", "streaks", "number-one", "flagged"] {
        let start = dom
            .find(&format!("data-chart=\"{chart}\""))
            .unwrap_or_else(|| panic!("chart `{chart}` is missing from the page"));
        let figure = &dom[start..start + dom[start..].find("</figure>").unwrap()];
        let svg = &figure[figure
            .find("<svg")
            .unwrap_or_else(|| panic!("`{chart}` has no SVG"))..];
        let marks = ["<rect", "<circle", "<polyline", "<path", "<line"]
            .iter()
            .map(|m| svg.matches(m).count())
            .sum::<usize>();
        assert!(marks >= 10, "chart `{chart}` draws only {marks} marks");
        assert!(svg.contains("<text"), "chart `{chart}` has no labels");
    }

    // The artefact a person looks at.
    let artefacts = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report");
    std::fs::create_dir_all(&artefacts).unwrap();
    std::fs::copy(&html_path, artefacts.join("report.html")).unwrap();
    let png = artefacts.join("report.png");
    let _ = std::fs::remove_file(&png);
    let shot = browser(&chromium, profile.path())
        .arg("--window-size=1200,3200")
        .arg(format!("--screenshot={}", png.display()))
        .arg(&url)
        .output()
        .expect("Chromium runs");
    assert!(shot.status.success(), "{}", text(&shot.stderr));
    let bytes = std::fs::read(&png).expect("a screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        bytes.len() > 50_000,
        "a near-empty screenshot: {} bytes",
        bytes.len()
    );
    eprintln!("screenshot of the report: {}", png.display());
}

#[test]
fn an_export_reads_back_in_another_duckdb_and_in_pyarrow() {
    let fake = FakeWiki::start_blocking(Config::realistic(5)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.duckdb");
    let out = run(
        &fake,
        &db,
        &["sync", "--since", "2025-06-01", "--until", "2025-06-10"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let store = duckdb::Connection::open_in_memory().unwrap();
    store
        .execute_batch(&format!(
            "ATTACH '{}' AS s (READ_ONLY)",
            db.display().to_string().replace('\'', "''")
        ))
        .unwrap();
    let stored = rows(
        &store,
        "SELECT CAST(count(*) AS VARCHAR), CAST(sum(views) AS VARCHAR), \
                CAST(count(DISTINCT article) AS VARCHAR), CAST(sum(len(categories)) AS VARCHAR), \
                CAST(count(suspect_automated) AS VARCHAR) FROM s.top_pages",
    );
    let n_rows: u64 = stored[0][0].parse().unwrap();

    for format in ["parquet", "csv"] {
        let out_dir = dir.path().join(format);
        let out = run(
            &fake,
            &db,
            &[
                "export",
                "--format",
                format,
                "--out",
                out_dir.to_str().unwrap(),
            ],
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
        let file = out_dir.join(format!("top_pages.{format}"));
        assert_eq!(
            text(&out.stdout),
            format!(
                "top_pages: {} rows → {}\ningest_runs: 1 rows → {}\n",
                thousands(n_rows),
                file.display(),
                out_dir.join(format!("ingest_runs.{format}")).display()
            )
        );
        let reader = duckdb::Connection::open_in_memory().unwrap();
        let source = match format {
            "parquet" => format!("read_parquet('{}')", file.display()),
            // CSV carries the lists as JSON arrays.
            _ => format!(
                "(SELECT * REPLACE (CAST(categories AS VARCHAR[]) AS categories) FROM read_csv('{}', \
                  types = {{'categories': 'JSON', 'suspect_automated': 'BOOLEAN'}}))",
                file.display()
            ),
        };
        let back = rows(
            &reader,
            &format!(
                "SELECT CAST(count(*) AS VARCHAR), CAST(sum(views) AS VARCHAR), \
                        CAST(count(DISTINCT article) AS VARCHAR), CAST(sum(len(categories)) AS VARCHAR), \
                        CAST(count(suspect_automated) AS VARCHAR) FROM {source}"
            ),
        );
        assert_eq!(back, stored, "{format} read back by another DuckDB");
    }

    // pyarrow, as the analyst's notebook reads it.
    let python = std::env::var("WIKITOP_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let parquet = dir.path().join("parquet").join("top_pages.parquet");
    let script = "import sys, pyarrow.parquet as pq\n\
        t = pq.read_table(sys.argv[1])\n\
        print(t.num_rows, sum(t.column('views').to_pylist()), t.schema.field('categories').type)";
    let py = Command::new(&python)
        .args(["-c", script])
        .arg(&parquet)
        .output()
        .unwrap_or_else(|e| panic!("{python} runs: {e}"));
    assert!(
        py.status.success(),
        "pyarrow could not read the export with {python} (set WIKITOP_TEST_PYTHON to a Python with pyarrow; `make test` does): {}",
        text(&py.stderr)
    );
    assert_eq!(
        text(&py.stdout).trim(),
        format!("{} {} list<element: string>", stored[0][0], stored[0][1])
    );
}

#[test]
fn bad_report_and_export_options_are_one_sentence_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["report", "--out", "/no/such/dir/report.html"],
            "invalid --out `/no/such/dir/report.html`: its directory does not exist",
        ),
        (
            &["report", "--since", "2024-02-01", "--until", "2024-01-01"],
            "error: `--until` 2024-01-01 is before `--since` 2024-02-01",
        ),
        (
            &[
                "export",
                "--sink",
                "bigquery",
                "--bq-dataset",
                "my-project.wikitop",
            ],
            "`wikitop export` reads a DuckDB store; for BigQuery use BigQuery's own export",
        ),
        (&["report"], "no such file: run `wikitop sync` first"),
    ];
    for (args, want) in cases {
        let out = Command::new(wikitop())
            .args(args)
            .arg("--db")
            .arg(dir.path().join("none.duckdb"))
            .env_remove("WIKITOP_SINK")
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!dir.path().join("none.duckdb").exists(), "no store created");
    }
}
