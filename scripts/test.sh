#!/usr/bin/env bash
# make test: every test tier (unit, emulator, PostgreSQL, kernel encryption
# and end to end, with one case per class of the reliability suite).
# testenv.sh provides what the tiers need; this runs gofmt's check, go vet
# and the tests of the main module and of the bench module, then fails if a
# test left a loop device or mount behind.
set -euo pipefail
. "$(dirname "$0")/testenv.sh"
testenv_up

unformatted=$(gofmt -l $(git ls-files '*.go'; git ls-files --others --exclude-standard '*.go'))
[ -z "$unformatted" ] || die "gofmt would change: $unformatted"

go vet ./...
go test -count=1 -timeout 60m ./... "$@"
if [ -f bench/go.mod ]; then
  (cd bench && go vet ./... && go test -count=1 -run . ./...)
fi
testenv_check_leaks
