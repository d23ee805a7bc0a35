# shellcheck shell=bash
# Start and stop a local BigQuery emulator (bqemulator 1.4.0, PyPI) for the
# contract tests of the BigQuery sink.
#
#   source scripts/bqemu.sh && bqemu_start   # exports WIKITOP_TEST_BQ_ENDPOINT/_PROJECT
#   cargo test ...
#   bqemu_stop
#
#   bash scripts/bqemu.sh run -- cargo test ...   # the same, stopped on exit
#
# Knobs: BQEMU_VENV (default ~/.cache/wikitop/bqemu-venv), BQEMU_READY_TIMEOUT (60 s),
# BQEMU_KEEP_LOG=1 keeps the emulator's log (in ${TMPDIR:-/tmp}) after it stops.
#
# The emulator lives in its own virtualenv (created once, cached under
# ~/.cache/wikitop) so it never touches the system Python. It runs offline: the
# DuckDB spatial extension comes from PyPI wheels and is installed once into
# ~/.duckdb, and BQEMU_ENABLE_FORMAT_EXTENSIONS=false keeps it from downloading
# other extensions at boot (it would exit without network otherwise).

BQEMU_VENV="${BQEMU_VENV:-$HOME/.cache/wikitop/bqemu-venv}"
BQEMU_PACKAGES=(
    bqemulator==1.4.0
    duckdb==1.5.5
    duckdb-extension-spatial==1.5.5
    duckdb-extensions==1.5.5
    numpy
)
BQEMU_PROJECT="test-project"
BQEMU_READY_TIMEOUT="${BQEMU_READY_TIMEOUT:-60}"

# Creates the virtualenv and installs the emulator unless the cached one has
# exactly these packages; installs the spatial extension when it is missing.
_bqemu_install() {
    local stamp="$BQEMU_VENV/.wikitop-packages" want="${BQEMU_PACKAGES[*]}"
    if [[ ! -x "$BQEMU_VENV/bin/bqemulator" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        echo "bqemu: installing ${want} into $BQEMU_VENV (once, ~30 s)" >&2
        rm -rf "$BQEMU_VENV"
        python3 -m venv "$BQEMU_VENV" || {
            echo "bqemu: python3 -m venv failed: install Python 3 with venv (apt-get install python3-venv)" >&2
            return 1
        }
        "$BQEMU_VENV/bin/python" -m pip install --quiet "${BQEMU_PACKAGES[@]}" || {
            echo "bqemu: pip install failed (PyPI must be reachable)" >&2
            return 1
        }
        echo "$want" >"$stamp"
    fi
    if ! compgen -G "$HOME/.duckdb/extensions/v1.5.5/*/spatial.duckdb_extension" >/dev/null; then
        "$BQEMU_VENV/bin/python" -c \
            'from duckdb_extensions import import_extension; import_extension("spatial")' || {
            echo "bqemu: could not install the DuckDB spatial extension into ~/.duckdb" >&2
            return 1
        }
    fi
}

# Prints two distinct free TCP ports on 127.0.0.1.
_bqemu_free_ports() {
    "$BQEMU_VENV/bin/python" - <<'EOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()
EOF
}

# Starts the emulator in the background and waits until it is ready; exports
# WIKITOP_TEST_BQ_ENDPOINT, WIKITOP_TEST_BQ_PROJECT and BQEMU_PID.
bqemu_start() {
    if [[ -n "${BQEMU_PID:-}" ]] && kill -0 "$BQEMU_PID" 2>/dev/null; then
        echo "bqemu: already running (pid $BQEMU_PID) at ${WIKITOP_TEST_BQ_ENDPOINT:-?}" >&2
        return 0
    fi
    _bqemu_install || return 1
    local ports rest grpc
    ports="$(_bqemu_free_ports)" || return 1
    read -r rest grpc <<<"$ports"
    BQEMU_LOG="$(mktemp "${TMPDIR:-/tmp}/bqemu.XXXXXX.log")"
    # Its own session, so bqemu_stop can end the emulator and anything it spawned by
    # process group without touching the caller's processes.
    BQEMU_ENABLE_FORMAT_EXTENSIONS=false "$BQEMU_VENV/bin/python" -c '
import os, sys
try:
    os.setsid()
except OSError:
    pass  # already a process group leader (shell with job control)
os.execv(sys.argv[1], sys.argv[1:])
' "$BQEMU_VENV/bin/bqemulator" start \
        --rest-host 127.0.0.1 --rest-port "$rest" \
        --grpc-host 127.0.0.1 --grpc-port "$grpc" \
        --project "$BQEMU_PROJECT" --ephemeral \
        </dev/null >"$BQEMU_LOG" 2>&1 &
    BQEMU_PID=$!
    export BQEMU_PID BQEMU_LOG
    if ! "$BQEMU_VENV/bin/python" - "$rest" "$BQEMU_PID" "$BQEMU_READY_TIMEOUT" <<'EOF'; then
import os, sys, time, urllib.request
port, pid, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("bqemu: the emulator exited during start-up")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(f"bqemu: not ready after {timeout:.0f} s")
EOF
        echo "bqemu: start failed; last lines of $BQEMU_LOG:" >&2
        tail -n 30 "$BQEMU_LOG" >&2
        bqemu_stop
        return 1
    fi
    export WIKITOP_TEST_BQ_ENDPOINT="http://127.0.0.1:$rest"
    export WIKITOP_TEST_BQ_PROJECT="$BQEMU_PROJECT"
    echo "bqemu: ready at $WIKITOP_TEST_BQ_ENDPOINT (pid $BQEMU_PID, log $BQEMU_LOG)" >&2
}

# Stops the emulator started by bqemu_start (by its pid and process group) and removes
# its log unless BQEMU_KEEP_LOG is set.
bqemu_stop() {
    local pid="${BQEMU_PID:-}"
    [[ -n "$pid" ]] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    local i
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
    # Its exit status is SIGTERM's; callers under `set -e` must not fail for it.
    wait "$pid" 2>/dev/null || true
    if [[ -n "${BQEMU_LOG:-}" && -z "${BQEMU_KEEP_LOG:-}" ]]; then
        rm -f "$BQEMU_LOG"
    fi
    unset BQEMU_PID WIKITOP_TEST_BQ_ENDPOINT WIKITOP_TEST_BQ_PROJECT
    return 0
}

# `bash scripts/bqemu.sh run -- CMD...`: runs CMD with the emulator up, then stops it.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -u
    case "${1:-}" in
    run)
        shift
        [[ "${1:-}" == "--" ]] && shift
        [[ $# -gt 0 ]] || { echo "usage: bash scripts/bqemu.sh run -- COMMAND [ARGS...]" >&2; exit 2; }
        bqemu_start || exit 1
        trap bqemu_stop EXIT
        trap 'exit 130' INT TERM
        "$@"
        exit $?
        ;;
    *)
        echo "usage: source scripts/bqemu.sh (then bqemu_start / bqemu_stop), or: bash scripts/bqemu.sh run -- COMMAND [ARGS...]" >&2
        exit 2
        ;;
    esac
fi
