#!/usr/bin/env bash
# make test: every test tier (design.md section 8). Provides what the tiers need:
# a PostgreSQL for tier 3 (the stack's throwaway cluster, or BYOK_DATABASE_URL),
# the Temporal CLI for tier 4 (built into bin/ once), headless Chromium for the
# Web UI test (apt-get install chromium where missing), then runs go vet and the
# tests of the main module and of the bench module.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/stack.sh" up postgres
temporal_cli

# The Web UI test drives headless Chromium: install Debian's where missing
# (as root with apt-get); without it that one test skips with one line.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  say "installing chromium for the Web UI test"
  (export DEBIAN_FRONTEND=noninteractive && apt-get update -qq && apt-get install -y -qq chromium) >"$LOGS/apt-chromium.log" 2>&1 ||
    say "chromium could not be installed (log: .run/logs/apt-chromium.log): the Web UI test will skip"
fi

export BYOK_TEST_DATABASE="${BYOK_TEST_DATABASE:-$(cat "$RUN/database_url")}"
export BYOK_TEST_TEMPORAL_CLI="$BIN/temporal"

unformatted=$(gofmt -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

go vet ./...
go test -count=1 -timeout 30m ./... "$@"
if [ -f bench/go.mod ]; then
  (cd bench && go vet ./... && go test -count=1 -run . ./...)
fi
