//! The request log and counters tests assert on.
//!
//! Every request is recorded when it arrives and completed when it ends (a client that
//! gives up leaves it without a status), including
//! the ones answered with a quota 429 or a fault, so a test can check politeness (no
//! batch over 50 titles, a User-Agent on every request, bounded concurrency) as well as
//! retries. Records past the capacity are counted but not kept, so a long benchmark
//! cannot grow the server's memory without bound.

use std::time::Duration;

use jiff::civil::Date;

use crate::faults::Fault;
use crate::wire::Endpoint;

/// One request as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    /// Arrival order, from 0 (not reset by [`crate::FakeWiki::reset_log`]).
    pub seq: u64,
    pub endpoint: Endpoint,
    /// Path and query exactly as received (still percent-encoded).
    pub path_and_query: String,
    /// The project the request was for, when the path names a known form of one.
    pub project: Option<String>,
    /// The day of a top request.
    pub day: Option<Date>,
    /// The `titles=` values of an Action API request as sent (decoded, before any cut).
    pub titles: Vec<String>,
    pub user_agent: Option<String>,
    /// Whether an `Authorization` header was present.
    pub authorization: bool,
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Every parameter decoded, from the URL and a form body, in order.
    pub params: Vec<(String, String)>,
    /// The `Cookie` header, if any.
    pub cookie: Option<String>,
    /// Every request header, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Since the server started.
    pub received_at: Duration,
    /// When the answer was handed over; `None` while in flight or if the client went away.
    pub finished_at: Option<Duration>,
    /// The status served; `None` while in flight or if the client went away.
    pub status: Option<u16>,
    pub fault: Option<Fault>,
    /// Answered 429 by the quota (not by an injected fault).
    pub throttled: bool,
    /// The Action API error code served (`badcontinue`, `badvalue`, …), faults excluded.
    pub api_error: Option<String>,
}

/// Counters since the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub top_requests: u64,
    pub category_requests: u64,
    pub other_requests: u64,
    /// Most requests in flight at once, all kinds together.
    pub max_in_flight: u32,
    pub max_in_flight_top: u32,
    pub max_in_flight_categories: u32,
    /// Action API requests with more than 50 titles (a non-bot's limit).
    pub title_limit_violations: u64,
    /// Every 429, from the quota or injected.
    pub served_429: u64,
    /// 429s from the quota alone.
    pub quota_rejections: u64,
    pub faults_injected: u64,
    /// Action API `badcontinue` errors: the client did not echo `continue` correctly.
    pub bad_continues: u64,
    /// Every Action API error response except injected faults (includes `bad_continues`).
    pub api_errors: u64,
    /// Records not kept because the log was full.
    pub records_dropped: u64,
}

/// How a request ended, filled in as it is answered.
#[derive(Debug, Clone, Default)]
pub(crate) struct Outcome {
    pub(crate) status: Option<u16>,
    pub(crate) finished_at: Option<Duration>,
    pub(crate) fault: Option<Fault>,
    pub(crate) throttled: bool,
    pub(crate) api_error: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Log {
    records: Vec<RequestRecord>,
    capacity: usize,
    stats: Stats,
    in_flight: [u32; 3],
    next_seq: u64,
}

fn slot(endpoint: Endpoint) -> usize {
    match endpoint {
        Endpoint::Top => 0,
        Endpoint::Categories => 1,
        Endpoint::Other => 2,
    }
}

impl Log {
    pub(crate) fn new(capacity: usize) -> Self {
        Log {
            records: Vec::new(),
            capacity,
            stats: Stats::default(),
            in_flight: [0; 3],
            next_seq: 0,
        }
    }

    /// Counts a request in and keeps its record (status still unknown); returns its `seq`.
    pub(crate) fn begin(&mut self, mut record: RequestRecord) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        record.seq = seq;
        let endpoint = record.endpoint;
        let s = &mut self.stats;
        s.requests += 1;
        match endpoint {
            Endpoint::Top => s.top_requests += 1,
            Endpoint::Categories => s.category_requests += 1,
            Endpoint::Other => s.other_requests += 1,
        }
        if endpoint == Endpoint::Categories && record.titles.len() > 50 {
            s.title_limit_violations += 1;
        }
        self.in_flight[slot(endpoint)] += 1;
        let total: u32 = self.in_flight.iter().sum();
        s.max_in_flight = s.max_in_flight.max(total);
        s.max_in_flight_top = s.max_in_flight_top.max(self.in_flight[0]);
        s.max_in_flight_categories = s.max_in_flight_categories.max(self.in_flight[1]);
        if self.records.len() < self.capacity {
            self.records.push(record);
        } else {
            s.records_dropped += 1;
        }
        seq
    }

    /// Marks the fault on the record right away, so a hanging request shows it.
    pub(crate) fn note_fault(&mut self, seq: u64, fault: &Fault) {
        if let Ok(at) = self.records.binary_search_by_key(&seq, |r| r.seq) {
            self.records[at].fault = Some(fault.clone());
        }
    }

    /// Counts a request out and completes its record, if still kept.
    pub(crate) fn end(&mut self, seq: u64, endpoint: Endpoint, outcome: Outcome) {
        let i = slot(endpoint);
        self.in_flight[i] = self.in_flight[i].saturating_sub(1);
        let s = &mut self.stats;
        if outcome.status == Some(429) {
            s.served_429 += 1;
        }
        if outcome.throttled {
            s.quota_rejections += 1;
        }
        if outcome.fault.is_some() {
            s.faults_injected += 1;
        }
        if let Some(code) = &outcome.api_error {
            s.api_errors += 1;
            if code == "badcontinue" {
                s.bad_continues += 1;
            }
        }
        // Records are pushed in `seq` order, so the vector is sorted by it.
        if let Ok(at) = self.records.binary_search_by_key(&seq, |r| r.seq) {
            let r = &mut self.records[at];
            r.status = outcome.status;
            r.finished_at = outcome.finished_at;
            r.fault = outcome.fault;
            r.throttled = outcome.throttled;
            r.api_error = outcome.api_error;
        }
    }

    pub(crate) fn records(&self) -> Vec<RequestRecord> {
        self.records.clone()
    }

    pub(crate) fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Forgets records and counters; requests still in flight stay counted as such.
    pub(crate) fn reset(&mut self) {
        self.records = Vec::new();
        self.stats = Stats::default();
        let total: u32 = self.in_flight.iter().sum();
        self.stats.max_in_flight = total;
        self.stats.max_in_flight_top = self.in_flight[0];
        self.stats.max_in_flight_categories = self.in_flight[1];
    }
}
