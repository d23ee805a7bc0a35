//! Shared helpers: the binary under test, settings pointing at a fake server.

use std::path::Path;

/// The `wikitop` binary cargo built for these tests.
pub fn wikitop() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wikitop"))
}
