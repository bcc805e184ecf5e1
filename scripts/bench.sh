#!/usr/bin/env bash
# make bench: the benchmarks, each printed with the command that made it.
#   1. encryption against raw AES-GCM, tink and age (bench/ module), as a table
#      with the ratios and the targets checked;
#   2. the emulator serving wrap+unwrap pairs over loopback HTTP;
#   3. backup and restore against plain COPY, with the node agent's peak memory;
#   4. workflow latency on the local stack against a no-op workflow of the
#      same shape, with the p50 of every activity.
# Figures on a shared 2-core machine are noisy: compare the ratios of one run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

banner() { printf '\n### %s\n$ %s\n' "$1" "$2"; }

banner "encryption" "(cd bench && go run ./cmd/benchtable -count ${BENCH_COUNT:-5})"
(cd bench && go run ./cmd/benchtable -count "${BENCH_COUNT:-5}") || status=$?

banner "emulator" "go test -run '^\$' -bench BenchmarkWrapUnwrap -benchtime=3s ./emulator/"
go test -run '^$' -bench BenchmarkWrapUnwrap -benchtime=3s ./emulator/

"$ROOT/scripts/stack.sh" up postgres
temporal_cli
export BYOK_TEST_DATABASE="${BYOK_TEST_DATABASE:-$(cat "$RUN/database_url")}"
export BYOK_TEST_TEMPORAL_CLI="$BIN/temporal"

banner "backup and restore" "go test -run '^\$' -bench 'BenchmarkBackup|BenchmarkRestore' -benchtime=1x ./node/"
go test -run '^$' -bench 'BenchmarkBackup|BenchmarkRestore' -benchtime=1x -timeout 30m ./node/

banner "workflow latency" "go test -run '^\$' -bench BenchmarkWorkflowLatency -benchtime=1x ./e2e/"
go test -run '^$' -bench BenchmarkWorkflowLatency -benchtime=1x -timeout 30m ./e2e/ | grep -v '^time=\|level='

exit "${status:-0}"
