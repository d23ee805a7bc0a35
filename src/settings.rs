//! Validated settings: every option a user can give is checked here, before the store
//! is opened or a request sent, so bad input fails fast with one sentence and exit 2.

use std::path::PathBuf;
use std::time::Duration;

use jiff::civil::Date;

use crate::error::{Error, Result};
use crate::http::{DEFAULT_RATE, DEFAULT_RATE_WITH_TOKEN, HttpPolicy, Rate};
use crate::model::{Access, Day, FIRST_PAGEVIEWS_DAY, Project};
use crate::sinks::bigquery::BigQueryConfig;

/// The first day of the default backfill.
pub const DEFAULT_SINCE: Day = jiff::civil::date(2023, 4, 1);
pub const DEFAULT_TOP: u32 = 100;
pub const DEFAULT_PAGEVIEWS_API: &str = "https://wikimedia.org/api/rest_v1";
pub const DEFAULT_ACTION_API: &str = "https://{host}/w/api.php";
pub const DEFAULT_DB: &str = "wikitop.duckdb";

/// Where the days go.
#[derive(Debug, Clone)]
pub enum StoreSettings {
    DuckDb { path: PathBuf },
    BigQuery(BigQueryConfig),
}

/// This process's share of the days: day number `k` (counted from 2015-07-01) is
/// ours when `k % count == index`, so shards never overlap whatever `--since` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn owns(self, day: Day) -> bool {
        let n = FIRST_PAGEVIEWS_DAY
            .until(day)
            .map(|span| span.get_days())
            .unwrap_or(0);
        n.rem_euclid(self.count as i32) as u32 == self.index
    }
}

/// Everything `sync` needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub since: Day,
    /// `None`: up to the latest day the Pageviews API has published.
    pub until: Option<Day>,
    pub projects: Vec<Project>,
    pub access: Access,
    pub top: u32,
    pub store: StoreSettings,
    /// Re-fetch and replace days already stored.
    pub force: bool,
    pub dry_run: bool,
    pub shard: Shard,
    pub pageviews_api: String,
    /// May contain `{host}`, replaced by the project's host.
    pub action_api: String,
    pub http: HttpPolicy,
    /// Pageviews requests in flight (the Action API always has one).
    pub pageviews_concurrency: usize,
    /// The options as given, recorded in `ingest_runs`.
    pub arguments: String,
    /// Today (UTC), so tests can pin the clock.
    pub today: Day,
}

/// Options as a user typed them; `Settings::resolve` checks them all.
#[derive(Debug, Clone, Default)]
pub struct SyncInput {
    pub since: Option<String>,
    pub until: Option<String>,
    pub date: Option<String>,
    pub projects: Vec<String>,
    pub access: Option<String>,
    pub top: Option<u32>,
    pub store: StoreInput,
    pub force: bool,
    pub dry_run: bool,
    pub shard: Option<String>,
    pub pageviews_api: Option<String>,
    pub action_api: Option<String>,
    pub contact: Option<String>,
    pub access_token: Option<String>,
    pub pageviews_concurrency: Option<usize>,
    /// `N/WINDOW`, e.g. `200/1min`; the default depends on `access_token`.
    pub rate: Option<String>,
    pub http_timeout_secs: Option<f64>,
    pub max_tries: Option<u32>,
    pub retry_base_ms: Option<u64>,
    pub arguments: String,
}

/// Store options as typed: `--sink`, `--db`, `--bq-dataset`, `--bq-location`.
#[derive(Debug, Clone, Default)]
pub struct StoreInput {
    pub sink: Option<String>,
    pub db: Option<PathBuf>,
    pub bq_dataset: Option<String>,
    pub bq_location: Option<String>,
    pub bq_endpoint: Option<String>,
}

impl StoreInput {
    pub fn resolve(&self) -> Result<StoreSettings> {
        match self.sink.as_deref().unwrap_or("duckdb") {
            "duckdb" => Ok(StoreSettings::DuckDb {
                path: self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
            }),
            "bigquery" => {
                let dataset = self.bq_dataset.as_deref().ok_or_else(|| Error::InvalidSetting {
                    what: "BigQuery dataset",
                    value: String::new(),
                    why: "`--sink bigquery` needs `--bq-dataset PROJECT.DATASET` (or WIKITOP_BQ_DATASET)".into(),
                })?;
                Ok(StoreSettings::BigQuery(BigQueryConfig::new(
                    dataset,
                    self.bq_location.as_deref(),
                    self.bq_endpoint.as_deref(),
                )?))
            }
            other => Err(Error::InvalidSetting {
                what: "sink",
                value: other.to_owned(),
                why: "expected `duckdb` or `bigquery`".into(),
            }),
        }
    }
}

/// Parses a `YYYY-MM-DD` day and checks it is one the Pageviews API can have.
pub fn parse_day(s: &str, today: Day) -> Result<Day> {
    let s = s.trim();
    let shaped = s.len() == 10
        && s.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    let day: Date = if shaped { s.parse().ok() } else { None }
        .ok_or_else(|| Error::InvalidDate(s.to_owned()))?;
    if day < FIRST_PAGEVIEWS_DAY {
        return Err(Error::TooEarly(day));
    }
    if day > today {
        return Err(Error::FutureDate(day));
    }
    Ok(day)
}

fn parse_shard(s: &str) -> Result<Shard> {
    let bad = || Error::InvalidSetting {
        what: "shard",
        value: s.to_owned(),
        why: "expected `i/n` with 0 <= i < n, e.g. `0/4`".into(),
    };
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let index: u32 = i.trim().parse().map_err(|_| bad())?;
    let count: u32 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 || index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn parse_rate(s: &str) -> Result<Rate> {
    let bad = || Error::InvalidSetting {
        what: "rate",
        value: s.to_owned(),
        why: "expected `N/WINDOW`, e.g. `200/1min`, `5000/1h` or `20/10s`".into(),
    };
    let (n, w) = s.split_once('/').ok_or_else(bad)?;
    let requests: u32 = n.trim().parse().map_err(|_| bad())?;
    let w = w.trim();
    let split = w.find(|c: char| !c.is_ascii_digit()).unwrap_or(w.len());
    let (num, unit) = w.split_at(split);
    let num: u64 = if num.is_empty() {
        1
    } else {
        num.parse().map_err(|_| bad())?
    };
    let secs = match unit {
        "s" | "" => num,
        "m" | "min" => num * 60,
        "h" => num * 3600,
        "d" => num * 86400,
        _ => return Err(bad()),
    };
    if requests == 0 || secs == 0 {
        return Err(bad());
    }
    Ok(Rate {
        requests,
        window: Duration::from_secs(secs),
    })
}

/// The operator's contact as it goes into the User-Agent header: an e-mail address, a
/// URL or `(wikipedia:de; User:Name)`-style wiki user, on one line.
fn check_contact(contact: &str) -> Result<String> {
    let contact = contact.trim();
    if contact.is_empty() {
        return Err(Error::ContactRequired);
    }
    if contact
        .chars()
        .any(|c| c.is_control() || c == '(' || c == ')')
    {
        return Err(Error::InvalidSetting {
            what: "contact",
            value: contact.to_owned(),
            why: "expected an e-mail address or URL on one line, without parentheses".into(),
        });
    }
    Ok(contact.to_owned())
}

fn check_url(what: &'static str, url: String) -> Result<String> {
    if url.starts_with("http://") || url.starts_with("https://") {
        Ok(url)
    } else {
        Err(Error::InvalidSetting {
            what,
            value: url,
            why: "expected an http:// or https:// URL".into(),
        })
    }
}

impl Settings {
    pub fn resolve(input: SyncInput, today: Day) -> Result<Settings> {
        let (since, until) = match &input.date {
            Some(d) => {
                let day = parse_day(d, today)?;
                (day, Some(day))
            }
            None => (
                input
                    .since
                    .as_deref()
                    .map(|s| parse_day(s, today))
                    .transpose()?
                    .unwrap_or(DEFAULT_SINCE),
                input
                    .until
                    .as_deref()
                    .map(|s| parse_day(s, today))
                    .transpose()?,
            ),
        };
        if let Some(until) = until
            && until < since
        {
            return Err(Error::RangeReversed { since, until });
        }
        let top = input.top.unwrap_or(DEFAULT_TOP);
        if !(1..=1000).contains(&top) {
            return Err(Error::TopOutOfRange(top));
        }
        let mut projects = Vec::new();
        for p in &input.projects {
            for name in p.split(',').filter(|s| !s.trim().is_empty()) {
                let project: Project = name.parse()?;
                if !projects.contains(&project) {
                    projects.push(project);
                }
            }
        }
        if projects.is_empty() {
            projects.push("en.wikipedia".parse()?);
        }
        let access = match &input.access {
            Some(a) => a.parse().map_err(|why| Error::InvalidSetting {
                what: "access",
                value: a.clone(),
                why,
            })?,
            None => Access::AllAccess,
        };
        let shard = input
            .shard
            .as_deref()
            .map(parse_shard)
            .transpose()?
            .unwrap_or(Shard::ALL);
        let timeout = match input.http_timeout_secs {
            Some(s) if s.is_finite() && s > 0.0 => Duration::from_secs_f64(s),
            Some(s) => {
                return Err(Error::InvalidSetting {
                    what: "HTTP timeout",
                    value: s.to_string(),
                    why: "expected a positive number of seconds".into(),
                });
            }
            None => crate::http::DEFAULT_TIMEOUT,
        };
        let contact = input.contact.as_deref().map(check_contact).transpose()?;
        if contact.is_none() && !input.dry_run {
            return Err(Error::ContactRequired);
        }
        let access_token = input.access_token.filter(|t| !t.trim().is_empty());
        let rate = match input.rate.as_deref() {
            Some(r) => parse_rate(r)?,
            None if access_token.is_some() => DEFAULT_RATE_WITH_TOKEN,
            None => DEFAULT_RATE,
        }
        .shared_by(shard.count);
        let http = HttpPolicy {
            contact,
            access_token,
            rate,
            timeout,
            max_tries: input
                .max_tries
                .unwrap_or(crate::http::DEFAULT_MAX_TRIES)
                .max(1),
            retry_base: input
                .retry_base_ms
                .map(Duration::from_millis)
                .unwrap_or(crate::http::DEFAULT_RETRY_BASE),
        };
        let pageviews_concurrency = input.pageviews_concurrency.unwrap_or(2);
        if !(1..=2).contains(&pageviews_concurrency) {
            return Err(Error::InvalidSetting {
                what: "Pageviews concurrency",
                value: pageviews_concurrency.to_string(),
                why: "expected 1 or 2: with the Action API's one request, Wikimedia allows 3 in flight".into(),
            });
        }
        Ok(Settings {
            since,
            until,
            projects,
            access,
            top,
            store: input.store.resolve()?,
            force: input.force,
            dry_run: input.dry_run,
            shard,
            pageviews_api: check_url(
                "Pageviews API URL",
                input
                    .pageviews_api
                    .unwrap_or_else(|| DEFAULT_PAGEVIEWS_API.into()),
            )?,
            action_api: check_url(
                "Action API URL",
                input
                    .action_api
                    .unwrap_or_else(|| DEFAULT_ACTION_API.into()),
            )?,
            http,
            pageviews_concurrency,
            arguments: input.arguments,
            today,
        })
    }

    /// The last day to fetch: `--until`, else yesterday (UTC), the newest day the
    /// Pageviews API can have published.
    pub fn last_day(&self) -> Day {
        self.until
            .unwrap_or_else(|| self.today.yesterday().unwrap_or(self.today))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Day {
        jiff::civil::date(2026, 11, 28)
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(
            parse_day("2023-04-01", today()).unwrap(),
            jiff::civil::date(2023, 4, 1)
        );
        for bad in [
            "2023-4-1",
            "2023/04/01",
            "yesterday",
            "2023-02-30",
            "2023-04-01T00:00",
            "",
        ] {
            assert!(
                matches!(parse_day(bad, today()), Err(Error::InvalidDate(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            parse_day("2015-06-30", today()),
            Err(Error::TooEarly(_))
        ));
        assert!(matches!(
            parse_day("2026-11-29", today()),
            Err(Error::FutureDate(_))
        ));
    }

    #[test]
    fn shards_cover_every_day_once() {
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        let mut day = jiff::civil::date(2023, 4, 1);
        for _ in 0..100 {
            assert_eq!(shards.iter().filter(|s| s.owns(day)).count(), 1);
            day = day.tomorrow().unwrap();
        }
        assert!(parse_shard("3/3").is_err());
        assert_eq!(parse_shard("1/4").unwrap(), Shard { index: 1, count: 4 });
    }

    #[test]
    fn rates_read_units() {
        assert_eq!(
            parse_rate("200/10s").unwrap().window,
            Duration::from_secs(10)
        );
        assert_eq!(
            parse_rate("200/1min").unwrap().window,
            Duration::from_secs(60)
        );
        assert_eq!(
            parse_rate("500/h").unwrap().window,
            Duration::from_secs(3600)
        );
        assert!(parse_rate("0/1h").is_err());
        assert!(parse_rate("5/1w").is_err());
    }

    fn input(contact: Option<&str>, dry_run: bool) -> SyncInput {
        SyncInput {
            contact: contact.map(str::to_owned),
            dry_run,
            ..SyncInput::default()
        }
    }

    #[test]
    fn a_contact_is_required_unless_nothing_is_sent() {
        assert!(matches!(
            Settings::resolve(input(None, false), today()),
            Err(Error::ContactRequired)
        ));
        assert!(matches!(
            Settings::resolve(input(Some("  "), false), today()),
            Err(Error::ContactRequired)
        ));
        assert!(Settings::resolve(input(None, true), today()).is_ok());
        let s = Settings::resolve(input(Some(" ops@example.org "), false), today()).unwrap();
        assert_eq!(s.http.contact.as_deref(), Some("ops@example.org"));
        assert!(Settings::resolve(input(Some("a\nb"), false), today()).is_err());
    }

    #[test]
    fn the_default_rate_follows_the_token() {
        let mut i = input(Some("ops@example.org"), false);
        assert_eq!(
            Settings::resolve(i.clone(), today()).unwrap().http.rate,
            DEFAULT_RATE
        );
        i.access_token = Some("t".into());
        assert_eq!(
            Settings::resolve(i.clone(), today()).unwrap().http.rate,
            DEFAULT_RATE_WITH_TOKEN
        );
        i.rate = Some("20/10s".into());
        assert_eq!(
            Settings::resolve(i.clone(), today()).unwrap().http.rate,
            Rate {
                requests: 20,
                window: Duration::from_secs(10)
            }
        );
        // Shards run at once under one contact: they share the budget.
        i.shard = Some("1/4".into());
        assert_eq!(Settings::resolve(i, today()).unwrap().http.rate.requests, 5);
    }
}
