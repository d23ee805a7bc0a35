//! A fake Wikimedia server over real HTTP on 127.0.0.1, for wikitop's tests and benchmark.
//!
//! Data flows one way: a seeded [`Universe`] generates a day's top list or a title's page
//! on demand; `pageviews` and `action` turn them into the exact JSON shapes of the
//! Pageviews API top endpoint and the MediaWiki Action API (`prop=categories`,
//! `formatversion=2`, with normalisation, redirects and `continue`; `meta=siteinfo` for the
//! general, namespace and alias sections); the server wraps every
//! answer in configurable latency, a quota and switchable [faults](FaultRule), and logs
//! each request. Tests drive it through the cloneable [`FakeWiki`] handle and compare what
//! the client stored with [`FakeWiki::expected_day`].
//!
//! Imports run one way, down: `server` (routes, listener, handle) → the endpoints
//! `pageviews` and `action` → `faults` and `log` → `wire`, the shared request and reply
//! types, which imports none of them; the endpoints see the universe and what is
//! published, never the server's state.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fakewiki::{Config, FakeWiki};
//! let wiki = FakeWiki::start(Config::fixture()).await?;
//! let pageviews = wiki.pageviews_api(); // http://127.0.0.1:PORT/api/rest_v1
//! let action = wiki.action_api(); // http://127.0.0.1:PORT/{host}/w/api.php
//! # Ok(()) }
//! ```

mod action;
mod faults;
mod log;
mod pageviews;
mod rng;
mod server;
mod site;
mod siteinfo;
mod title;
mod universe;
mod wire;

pub use action::{MAX_CLLIMIT, MAX_TITLES};
pub use faults::{Fault, FaultId, FaultRule, Trigger};
pub use log::{RequestRecord, Stats};
pub use server::{Config, DEFAULT_MAX_REQUEST_TARGET, FakeWiki, Quota, SESSION_COOKIE};
pub use universe::{ExpectedRow, NO_TITLE, NOT_NFC, TopArticle, Universe};
pub use wire::Endpoint;
