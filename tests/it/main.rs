//! One integration test binary (see STYLE.md): the fake Wikimedia server drives
//! end-to-end syncs through the library and the real `wikitop` binary.

#![allow(unreachable_pub)] // a test binary has no API: its helpers are `pub` for each other

mod bq_first_deploy;
mod bq_shim;
mod cli_inputs;
mod cli_runs;
mod contract;
mod real_services;
mod rejudge;
mod report;
mod store_faults;
mod store_versions;
mod support;
mod sync_e2e;
mod world;
