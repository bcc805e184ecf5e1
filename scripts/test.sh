#!/usr/bin/env bash
# make test: every test tier (design.md section 8). Provides what the tiers need:
# a PostgreSQL for tier 3 (the stack's throwaway cluster, or BYOK_DATABASE_URL),
# the Temporal CLI for tier 4 (built into bin/ once), then runs go vet and the
# tests of the main module and of the bench module.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/stack.sh" up postgres
temporal_cli

export BYOK_TEST_DATABASE="${BYOK_TEST_DATABASE:-$(cat "$RUN/database_url")}"
export BYOK_TEST_TEMPORAL_CLI="$BIN/temporal"

unformatted=$(gofmt -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

go vet ./...
go test -count=1 -timeout 30m ./... "$@"
if [ -f bench/go.mod ]; then
  (cd bench && go vet ./... && go test -count=1 -run . ./...)
fi
