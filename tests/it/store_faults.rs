//! Store faults: a disk that fills up mid-run and a store on a read-only filesystem.
//! Each runs in a private mount namespace (`unshare -rm`, no real privileges needed
//! where user namespaces are enabled) on a small tmpfs, so the fault is real.

use std::path::Path;
use std::process::Command;

use fakewiki::{Config, FakeWiki};
use jiff::civil::date;

use crate::support::*;

/// Runs `script` with `sh` in a new user + mount namespace, with `$W` the wikitop
/// binary and `$MNT` an empty directory to mount on; returns its stdout.
fn in_namespace(fake: &FakeWiki, mnt: &Path, script: &str) -> String {
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "sh", "-euc", script])
        .env("W", wikitop())
        .env("MNT", mnt)
        .env("WIKITOP_PAGEVIEWS_API", fake.pageviews_api())
        .env("WIKITOP_ACTION_API", fake.action_api())
        .env("WIKITOP_RETRY_BASE_MS", "5")
        .env("WIKITOP_CONTACT", CONTACT)
        .env("WIKITOP_RATE", TEST_RATE)
        .env_remove("WIKITOP_LOG_FORMAT")
        .output()
        .expect("unshare runs (util-linux)");
    assert!(
        out.status.success(),
        "namespace script failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn field<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(key))
        .unwrap_or_else(|| panic!("no {key} in {out}"))
}

#[test]
fn a_disk_that_fills_mid_run_fails_clearly_keeps_whole_days_and_the_next_run_recovers() {
    let fake = FakeWiki::start_blocking(Config::realistic(21)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let (after_full, recovered) = (
        dir.path().join("after-full.duckdb"),
        dir.path().join("recovered.duckdb"),
    );
    let script = format!(
        r#"
        mount -t tmpfs -o size=128m tmpfs "$MNT"
        "$W" sync --since 2024-05-01 --until 2024-05-03 --db "$MNT/w.duckdb" >/dev/null 2>&1
        # Leave room for a few days of writes above the 32 MiB wikitop keeps free, then
        # reach that mark mid-run.
        avail=$(df -k --output=avail "$MNT" | tail -1)
        dd if=/dev/zero of="$MNT/fill" bs=1k count=$((avail - 32768 - 600)) 2>/dev/null
        code=0; "$W" sync --since 2024-05-01 --until 2024-05-31 --db "$MNT/w.duckdb" >/dev/null 2>"$MNT/err" || code=$?
        echo "full_code=$code"
        echo "full_err=$(head -c 2000 "$MNT/err" | tr '\n' '|')"
        rm "$MNT/fill"
        cp "$MNT/w.duckdb" "{after_full}"; [ -f "$MNT/w.duckdb.wal" ] && cp "$MNT/w.duckdb.wal" "{after_full}.wal"
        code=0; "$W" sync --since 2024-05-01 --until 2024-05-31 --db "$MNT/w.duckdb" >/dev/null 2>&1 || code=$?
        echo "recover_code=$code"
        cp "$MNT/w.duckdb" "{recovered}"; [ -f "$MNT/w.duckdb.wal" ] && cp "$MNT/w.duckdb.wal" "{recovered}.wal"
        true
        "#,
        after_full = after_full.display(),
        recovered = recovered.display()
    );
    let out = in_namespace(&fake, &mnt, &script);
    assert_eq!(field(&out, "full_code="), "1", "{out}");
    let err = field(&out, "full_err=");
    // Stopped by the free-space check before a write, not by DuckDB on a full disk.
    assert!(
        err.contains("error: the store failed while writing days into")
            && err.contains("the disk holding it is full")
            && err.contains("nothing stored was lost"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");

    // Whatever was stored when the disk filled is whole days, exactly as served.
    let all = days(date(2024, 5, 1), date(2024, 5, 31));
    let stored: std::collections::BTreeSet<_> =
        read_store(&after_full, "en.wikipedia", all[0], all[30])
            .iter()
            .map(|r| r.date)
            .collect();
    assert!(
        stored.len() >= 3 && stored.len() < 31,
        "{} days stored before the disk filled",
        stored.len()
    );
    assert_store_matches(
        &after_full,
        &fake,
        "en.wikipedia",
        &stored.into_iter().collect::<Vec<_>>(),
        100,
    );

    assert_eq!(field(&out, "recover_code="), "0", "{out}");
    assert_store_matches(&recovered, &fake, "en.wikipedia", &all, 100);
}

#[test]
fn a_store_on_a_read_only_filesystem_is_refused_and_left_untouched() {
    let fake = FakeWiki::start_blocking(Config::realistic(22)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let script = r#"
        mount -t tmpfs -o size=128m tmpfs "$MNT"
        "$W" sync --since 2024-05-01 --until 2024-05-02 --db "$MNT/w.duckdb" >/dev/null 2>&1
        before=$(cat "$MNT"/w.duckdb* | sha256sum)
        mount -o remount,ro "$MNT"
        code=0; "$W" sync --since 2024-05-01 --until 2024-05-04 --db "$MNT/w.duckdb" >/dev/null 2>"$MNT/../err" || code=$?
        echo "code=$code"
        echo "err=$(tr '\n' '|' < "$MNT/../err")"
        after=$(cat "$MNT"/w.duckdb* | sha256sum)
        [ "$before" = "$after" ] && echo "untouched=yes" || echo "untouched=no"
        "#;
    let out = in_namespace(&fake, &mnt, script);
    assert_eq!(field(&out, "code="), "2", "{out}");
    let err = field(&out, "err=");
    assert!(
        err.starts_with("error: cannot open the DuckDB store"),
        "{err}"
    );
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(field(&out, "untouched="), "yes");
}
