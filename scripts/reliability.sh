#!/usr/bin/env bash
# make reliability: the reliability suite in full, on the real local stack
# (testenv.sh provides it as for make test): every case of every class
# (e2e TestReliability_* and TestRecovery_*, BYOK_RELIABILITY=full), then each fuzz target for
# BYOK_FUZZTIME (default 20s). It prints the table of figures and writes it,
# with the command and the date, to docs/reliability.md. `make test` runs
# one case per class of the same suite.
set -euo pipefail
. "$(dirname "$0")/testenv.sh"
testenv_up

FUZZTIME="${BYOK_FUZZTIME:-20s}"
# package:target, one per fuzzed surface: the emulator's handlers, the
# encryption formats, contract input validation, the CLI's argument parsing.
FUZZ_TARGETS=(
  ./emulator:FuzzHandler
  ./encryption:FuzzReadHeader
  ./encryption:FuzzReader
  ./encryption:FuzzOpen
  ./contract:FuzzValidateInputs
  ./starter:FuzzParseArgs
)

table="$RUN/reliability-table.md"
rm -f "$table"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
t0=$(date +%s)
status=0
BYOK_RELIABILITY=full BYOK_RELIABILITY_REPORT="$table" \
  go test -count=1 -timeout 100m -run '^Test(Reliability|Recovery)_' -v ./e2e 2>&1 | tee "$LOGS/reliability.log" |
  grep -E '^(=== RUN|--- (PASS|FAIL)|\s+--- (PASS|FAIL)|PASS|FAIL|ok|panic)' || true
grep -q '^ok ' "$LOGS/reliability.log" || status=1

fuzz_rows="| target | time | result |"$'\n'"|---|---|---|"
for ft in "${FUZZ_TARGETS[@]}"; do
  pkg=${ft%%:*} target=${ft##*:}
  if out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1); then
    execs=$(printf '%s\n' "$out" | grep -oE 'execs: [0-9]+' | tail -1 || true)
    fuzz_rows+=$'\n'"| $pkg $target | $FUZZTIME | passed (${execs:-ran}) |"
  else
    status=1
    fuzz_rows+=$'\n'"| $pkg $target | $FUZZTIME | **failed**: see .run/logs/fuzz-$target.log |"
    printf '%s\n' "$out" >"$LOGS/fuzz-$target.log"
  fi
done
elapsed=$(( $(date +%s) - t0 ))

{
  echo "# Reliability"
  echo
  echo "What \`make reliability\` measured last on this project's machine (2 cores, 24 GiB; loaded"
  echo "machines move absolute times, so compare within one run). How the suite works and what"
  echo "each class does: [reliability-suite.md](reliability-suite.md)."
  echo
  echo "- command: \`make reliability\` (BYOK_FUZZTIME=$FUZZTIME)"
  echo "- started: $started; took ${elapsed}s; exit status: $status"
  echo
  echo "## Cases"
  echo
  if [ -s "$table" ]; then cat "$table"; else echo "(no table: the suite did not run; see .run/logs/reliability.log)"; fi
  echo
  echo "## Fuzzing"
  echo
  echo "$fuzz_rows"
} >"$ROOT/docs/reliability.md"
cat "$ROOT/docs/reliability.md"
testenv_check_leaks
exit $status
