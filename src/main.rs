//! The `wikitop` binary: a thin shell over the library; see `cli.rs`.

mod cli;
mod logging;

fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    pin_mmap_threshold();
    cli::main()
}

/// glibc's malloc serves DuckDB's 256 KiB blocks from its heap once one has been freed
/// (its mmap threshold rises to the largest block freed) and keeps the holes they leave
/// resident: a six-wiki backfill (bench build, 1,337 days) peaked at 98 MB RSS, 55 MB
/// of it anonymous, against 90 MB and 43 MB with the threshold pinned at glibc's default
/// of 128 KiB, where each block is a mapping of its own, returned to the OS when freed.
/// The price, a few system calls per block, is CPU a request-paced run does not miss.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // the one allocator setting, which libc offers only as FFI
fn pin_mmap_threshold() {
    // SAFETY: mallopt(3) only sets a parameter of glibc's allocator; it is called once,
    // first thing in `main`, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
