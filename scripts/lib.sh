# shellcheck shell=bash
# Shared helpers for the stack and test scripts: paths, logging, pid files,
# ports, and finding the tools the local stack runs on. Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUN="$ROOT/.run"
BIN="$ROOT/bin"
PIDS="$RUN/pids"
LOGS="$RUN/logs"
TEMPORAL_VERSION=v1.5.1

: "${BYOK_TEMPORAL_PORT:=7233}"
: "${BYOK_UI_PORT:=8233}"
: "${BYOK_EMULATOR_PORT:=8444}"
: "${BYOK_PG_PORT:=54329}"
: "${BYOK_CODEC_PORT:=8081}"

say() { printf 'stack: %s\n' "$*" >&2; }
die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# alive PIDFILE: true when the process named by PIDFILE is running.
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_taken PORT: true when something listens on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT NAME LOG: wait up to 60 s for a listener, else show the log.
wait_port() {
  local i
  for i in $(seq 1 600); do
    port_taken "$1" && return 0
    sleep 0.1
  done
  tail -n 20 "$3" >&2 || true
  die "$2 did not start listening on 127.0.0.1:$1 within 60 s (log: $3)"
}

# need_free_port PORT NAME VAR: clear error when a port we must bind is taken.
need_free_port() {
  port_taken "$1" && die "port $1 for $2 is taken by another process: stop it, or choose another port with $3=PORT"
  return 0
}

# go_tool NAME PKG: build a Go program of this repository into bin/ when stale.
go_tool() {
  (cd "$ROOT" && go build -o "$BIN/$1" "$2") || die "building $2 failed"
}

# temporal_cli: build the official Temporal CLI into bin/ once (about 4 minutes cold).
temporal_cli() {
  # go install builds report version 0.0.0-DEV, so a stamp file records ours.
  if [ -x "$BIN/temporal" ] && [ "$(cat "$BIN/.temporal-version" 2>/dev/null)" = "$TEMPORAL_VERSION" ]; then
    return 0
  fi
  say "building the Temporal CLI $TEMPORAL_VERSION into bin/ (once; a few minutes)"
  mkdir -p "$BIN"
  GOBIN="$BIN" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION" ||
    die "go install of the Temporal CLI failed (it needs the Go module proxy)"
  echo "$TEMPORAL_VERSION" >"$BIN/.temporal-version"
}

# pg_bindir: the directory holding initdb and pg_ctl, or empty.
pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null)
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r) /usr/local/pgsql/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(readlink -f "$(command -v initdb)")"
}

# as_pg CMD...: PostgreSQL refuses to run as root; run as the postgres user then.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}
