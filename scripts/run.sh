#!/usr/bin/env bash
# make run: the main job on the local stack. Starts the stack and shows what
# runs where; it stays up until Ctrl-C unless BYOK_EXIT=1.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$ROOT/scripts/stack.sh" up
"$ROOT/scripts/stack.sh" where
if [ "${BYOK_EXIT:-}" = 1 ]; then
  exit 0
fi
echo "The stack stays up; press Ctrl-C to stop it (or run 'make stack-down' later)."
trap '"$ROOT/scripts/stack.sh" down; exit 0' INT TERM
while sleep 3600; do :; done
