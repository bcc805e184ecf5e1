#!/usr/bin/env bash
# make bench: the benchmarks, each printed with the command that made it.
#   1. encryption against raw AES-GCM, tink and age (bench/ module), as a table
#      with the ratios and the targets checked;
#   2. the emulator serving wrap+unwrap pairs over loopback HTTP;
#   3. PostgreSQL under pgbench on an fscrypt-encrypted volume against a
#      plain one, as a table with the ratios and the targets checked;
#   4. backup and restore against plain COPY, with the node agent's peak memory;
#   5. workflow latency on the local stack against a no-op workflow of the
#      same shape, with the p50 of every activity;
#   6. provisioning 10 instances of 3 nodes through the starter, as a table
#      with the target checked;
#   7. FleetRotate over 10 instances (30 nodes) against a no-op workflow of the
#      same shape: instances per minute of both and the ratio (target >= 0.8);
#      then one reconcile tick over the fleet: Key Protect reads per tick
#      against the root keys in use (target: equal).
# A missed target makes the script exit 1 once everything has run.
# Figures on a shared 2-core machine are noisy: compare the ratios of one run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

banner() { printf '\n### %s\n$ %s\n' "$1" "$2"; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# metric FILE UNIT: the figure go test reported in unit UNIT, or nothing.
metric() { awk -v u="$2" '/^Benchmark/ { for (i = 3; i <= NF; i++) if ($i == u) print $(i - 1) }' "$1"; }

# check NAME VALUE OP TARGET: one target line, met or missed (OP is >= or <=).
check() {
  local verdict
  verdict=$(awk -v v="$2" -v op="$3" -v t="$4" 'BEGIN {
    ok = v != "" && (op == ">=" ? v + 0 >= t + 0 : v + 0 <= t + 0); print ok ? "met" : "missed" }')
  printf '%-7s %-28s = %-6s (target %s %s)\n' "$verdict" "$1" "${2:-missing}" "$3" "$4"
  [ "$verdict" = met ] || status=${status:-1}
}

# skipped FILE: true, saying so, when the benchmark of FILE reported nothing.
skipped() {
  grep -q '^Benchmark.*/op' "$1" && return 1
  echo "no figures: the benchmark was skipped (see above)"
}

pgbench_table() {
  skipped "$1" && return 0
  printf '\n'
  printf '%-18s %10s %14s %16s\n' workload "plain tps" "encrypted tps" "encrypted/plain"
  local w c label
  for w in tpcb select; do
    for c in "" -warm; do
      label="$w (cold)"
      [ -z "$c" ] || label="$w (warm)"
      printf '%-18s %10s %14s %16s\n' "$label" "$(metric "$1" "plain-$w$c-tps")" \
        "$(metric "$1" "encrypted-$w$c-tps")" "$(metric "$1" "$w$c-encrypted/plain")"
    done
  done
  printf '\n'
  check "select-only encrypted/plain" "$(metric "$1" select-encrypted/plain)" ">=" 0.95
  check "tpcb-like encrypted/plain" "$(metric "$1" tpcb-encrypted/plain)" ">=" 0.80
  printf 'INFO    %-28s = %s (page cache warm)\n' "select-only encrypted/plain" "$(metric "$1" select-warm-encrypted/plain)"
  printf 'INFO    %-28s = %s (page cache warm)\n' "tpcb-like encrypted/plain" "$(metric "$1" tpcb-warm-encrypted/plain)"
  printf 'INFO    %s\n' "$(grep -o 'kernel crypto driver for xts(aes): .*' "$1")"
}

provision_table() {
  skipped "$1" && return 0
  printf '\n'
  check "provision 3 nodes p50 s" "$(metric "$1" p50-s)" "<=" 8
  printf 'INFO    %-28s = %s\n' "provision 3 nodes max s" "$(metric "$1" max-s)"
}

banner "encryption" "(cd bench && go run ./cmd/benchtable -count ${BENCH_COUNT:-5})"
(cd bench && go run ./cmd/benchtable -count "${BENCH_COUNT:-5}") || status=$?

banner "emulator" "go test -run '^\$' -bench BenchmarkWrapUnwrap -benchtime=3s ./emulator/"
go test -run '^$' -bench BenchmarkWrapUnwrap -benchtime=3s ./emulator/

banner "postgresql on fscrypt" "go test -run '^\$' -bench BenchmarkPgbench -benchtime=1x ./node/pgserver/"
go test -run '^$' -bench BenchmarkPgbench -benchtime=1x -timeout 30m ./node/pgserver/ | tee "$out/pgbench.txt"
pgbench_table "$out/pgbench.txt"

"$ROOT/scripts/stack.sh" up postgres
temporal_cli
export BYOK_TEST_DATABASE="${BYOK_TEST_DATABASE:-$(cat "$RUN/database_url")}"
export BYOK_TEST_TEMPORAL_CLI="$BIN/temporal"

banner "backup and restore" "go test -run '^\$' -bench 'BenchmarkBackup|BenchmarkRestore' -benchtime=1x ./node/"
go test -run '^$' -bench 'BenchmarkBackup|BenchmarkRestore' -benchtime=1x -timeout 30m ./node/

banner "workflow latency" "go test -run '^\$' -bench BenchmarkWorkflowLatency -benchtime=1x ./e2e/"
go test -run '^$' -bench BenchmarkWorkflowLatency -benchtime=1x -timeout 30m ./e2e/ | grep -v '^time=\|level='

banner "provision" "go test -run '^\$' -bench BenchmarkProvision3Nodes -benchtime=1x ./e2e/"
go test -run '^$' -bench BenchmarkProvision3Nodes -benchtime=1x -timeout 30m ./e2e/ | grep -v '^time=\|level=' | tee "$out/provision.txt"
provision_table "$out/provision.txt"

banner "fleet rotation" "go test -run '^\$' -bench BenchmarkFleetRotate -benchtime=1x ./e2e/"
go test -run '^$' -bench BenchmarkFleetRotate -benchtime=1x -timeout 30m ./e2e/ | grep -v '^time=\|level=' | tee "$out/fleet.txt"
awk '/fleet\/noop/ { for (i = 1; i < NF; i++) if ($(i+1) == "fleet/noop") r = $i }
  END { if (r == "") { print "fleet rotation: no figure"; exit 1 }
        printf "fleet rotation: %.2fx the no-op floor (target >= 0.8) %s\n", r, (r >= 0.8 ? "ok" : "MISSED"); exit (r < 0.8) }' \
  "$out/fleet.txt" || status=1
awk '/kp-reads\/tick/ { for (i = 1; i < NF; i++) { if ($(i+1) == "kp-reads/tick") r = $i; if ($(i+1) == "keys-in-use") k = $i } }
  END { if (r == "") { print "reconcile tick: no figure"; exit 1 }
        printf "reconcile tick: %d Key Protect reads for %d root keys in use (target: equal) %s\n", r, k, (r == k ? "ok" : "MISSED"); exit (r != k) }' \
  "$out/fleet.txt" || status=1

exit "${status:-0}"
