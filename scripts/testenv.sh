#!/usr/bin/env bash
# Sourced by test.sh and reliability.sh: provides what the test tiers need
# and checks afterwards that they left nothing behind.
#
# testenv_up: a PostgreSQL for tier 3 (the stack's throwaway cluster, or
# BYOK_DATABASE_URL), the Temporal CLI for tier 4 (built into bin/ once),
# the loop-device and ext4 tools of the encrypted volumes, headless
# Chromium for the Web UI test (apt-get install chromium where missing);
# exports BYOK_TEST_DATABASE and BYOK_TEST_TEMPORAL_CLI. The throwaway
# cluster it started is stopped when the script exits.
# testenv_check_leaks: a loop device or mount left by a test fails the run.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/volumes.sh"

# test_volumes lists the loop devices and mounts of test volumes
# (fscrypttest's, under /tmp/fscrypttest-*), to compare before and after.
test_volumes() {
  { losetup --list --noheadings --output NAME,BACK-FILE 2>/dev/null; cat /proc/mounts; } | grep fscrypttest- | sort || true
}

testenv_up() {
  cd "$ROOT"
  pg_was_up=false
  if [ -z "${BYOK_DATABASE_URL:-}" ] && [ -f "$RUN/pgdata" ] &&
    as_pg "$(pg_bindir)/pg_ctl" -D "$(cat "$RUN/pgdata")" status >/dev/null 2>&1; then
    pg_was_up=true
  fi
  "$ROOT/scripts/stack.sh" up postgres
  temporal_cli
  [ "$(id -u)" = 0 ] && volumes_need
  trap stop_started_postgres EXIT

  # The Web UI test drives headless Chromium: install Debian's where missing
  # (as root with apt-get); without it that one test skips with one line.
  if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing chromium for the Web UI test"
    (export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq chromium) >"$LOGS/apt-chromium.log" 2>&1 ||
      say "chromium could not be installed (log: .run/logs/apt-chromium.log): the Web UI test will skip"
  fi
  volumes_before=$(test_volumes)
  export BYOK_TEST_DATABASE="${BYOK_TEST_DATABASE:-$(cat "$RUN/database_url")}"
  export BYOK_TEST_TEMPORAL_CLI="$BIN/temporal"
}

# stop_started_postgres stops the throwaway cluster unless it ran before.
stop_started_postgres() {
  if [ "$pg_was_up" = false ] && [ -z "${BYOK_DATABASE_URL:-}" ] && [ -f "$RUN/pgdata" ]; then
    as_pg "$(pg_bindir)/pg_ctl" -D "$(cat "$RUN/pgdata")" -m fast stop >/dev/null 2>&1 || true
  fi
}

# The tests' volumes live in /tmp/fscrypttest-*: none may outlive them.
testenv_check_leaks() {
  local leaked
  leaked=$(comm -13 <(printf '%s\n' "$volumes_before") <(test_volumes) | sed '/^$/d')
  [ -z "$leaked" ] || die "tests left loop devices attached or volumes mounted: $leaked"
}
