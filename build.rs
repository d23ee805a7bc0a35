//! Reads the resolved reqwest version from Cargo.lock, so the User-Agent names the HTTP
//! library that is really in the binary (Wikimedia's User-Agent policy asks for
//! `<library>/<version>`) without a literal that drifts on the next `cargo update`.

use std::path::Path;

fn main() {
    // Read when the script runs, not baked in when it is compiled: cargo reuses a
    // compiled build script for the same package at another path (a fresh clone).
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock = Path::new(&manifest_dir).join("Cargo.lock");
    println!("cargo::rerun-if-changed={}", lock.display());
    let version = std::fs::read_to_string(&lock)
        .ok()
        .and_then(|text| locked_version(&text, "reqwest"))
        // A source package without its lock file still builds; the UA then says so.
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo::rustc-env=WIKITOP_REQWEST_VERSION={version}");
}

/// The `version` line that follows `name = "<name>"` in a Cargo.lock `[[package]]`.
fn locked_version(lock: &str, name: &str) -> Option<String> {
    let wanted = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == wanted {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_owned());
        }
    }
    None
}
