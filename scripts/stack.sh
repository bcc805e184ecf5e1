#!/usr/bin/env bash
# The local stack: a throwaway PostgreSQL cluster for the catalog (or
# BYOK_DATABASE_URL), the Temporal dev server, the Key Protect + IAM emulator,
# the payload codec (its keyring and the codec server the Web UI decodes
# with), the control-plane worker and three node agents (hosts a, b, c), each
# on its own encrypted volume (scripts/volumes.sh: an ext4 image with the
# encrypt feature, loop-mounted), where it runs its nodes' PostgreSQL servers.
# Each program is started in the background once, its pid in .run/pids and
# its log in .run/logs. Every address and credential the other programs need
# is written to .run/env.
#
#   scripts/stack.sh up [postgres|temporal|emulator|codec|worker|nodes|schedules ...]
#                                                           start (idempotent)
#   scripts/stack.sh down                                   stop what up started
#   scripts/stack.sh where                                  print what runs where
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# shellcheck source=volumes.sh
. "$(dirname "$0")/volumes.sh"

pg_url_file="$RUN/database_url"

# pg_data_dir: where the throwaway cluster lives: .run/pg, or, when running
# as root in a checkout the postgres user cannot enter, a private folder
# under /tmp named after the checkout. Recorded in .run/pgdata for down.
pg_data_dir() {
  local data="$RUN/pg"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
    data="${TMPDIR:-/tmp}/byokflow-pg-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
  fi
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres: "$data" && chmod 700 "$data"
  echo "$data" >"$RUN/pgdata"
  echo "$data"
}

up_postgres() {
  if [ -n "${BYOK_DATABASE_URL:-}" ]; then
    echo "$BYOK_DATABASE_URL" >"$pg_url_file"
    return 0
  fi
  local bindir data
  bindir=$(pg_bindir)
  [ -n "$bindir" ] || die "PostgreSQL server binaries (initdb, pg_ctl) are missing: install them with 'apt-get install postgresql' (Debian/Ubuntu), or set BYOK_DATABASE_URL to a server you have"
  data=$(pg_data_dir)
  if [ ! -f "$data/PG_VERSION" ]; then
    say "initdb a throwaway cluster in $data"
    as_pg "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >"$LOGS/initdb.log" 2>&1 ||
      { tail -n 20 "$LOGS/initdb.log" >&2; die "initdb failed (log: .run/logs/initdb.log)"; }
  fi
  if ! as_pg "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    need_free_port "$BYOK_PG_PORT" PostgreSQL BYOK_PG_PORT
    as_pg "$bindir/pg_ctl" -D "$data" -w -t 60 -l "$data/server.log" \
      -o "-p $BYOK_PG_PORT -k $data -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null ||
      { tail -n 20 "$data/server.log" >&2; die "PostgreSQL did not start (log: $data/server.log)"; }
  fi
  # The port the cluster listens on: one started earlier with another
  # BYOK_PG_PORT keeps its own (line 4 of postmaster.pid).
  local port
  port=$(sed -n 4p "$data/postmaster.pid" 2>/dev/null)
  echo "postgres://postgres@127.0.0.1:${port:-$BYOK_PG_PORT}/postgres?sslmode=disable" >"$pg_url_file"
}

up_temporal() {
  temporal_cli
  alive "$PIDS/temporal.pid" && return 0
  need_free_port "$BYOK_TEMPORAL_PORT" "the Temporal dev server" BYOK_TEMPORAL_PORT
  need_free_port "$BYOK_UI_PORT" "the Temporal Web UI" BYOK_UI_PORT
  "$BIN/temporal" server start-dev --ip 127.0.0.1 --port "$BYOK_TEMPORAL_PORT" \
    --ui-port "$BYOK_UI_PORT" --db-filename "$RUN/temporal.db" --log-level warn \
    --search-attribute ByokInstanceID=Keyword --search-attribute ByokRootKeyID=Keyword \
    --search-attribute ByokOperation=Keyword \
    --ui-codec-endpoint "http://127.0.0.1:$BYOK_CODEC_PORT" >"$LOGS/temporal.log" 2>&1 &
  echo $! >"$PIDS/temporal.pid"
  wait_port "$BYOK_TEMPORAL_PORT" "the Temporal dev server" "$LOGS/temporal.log"
}

up_emulator() {
  alive "$PIDS/emulator.pid" && return 0
  go_tool emulator ./emulator/cmd/emulator
  need_free_port "$BYOK_EMULATOR_PORT" "the Key Protect emulator" BYOK_EMULATOR_PORT
  # shellcheck disable=SC2086 # BYOK_EMULATOR_FLAGS is a list of flags
  "$BIN/emulator" --dev --addr "127.0.0.1:$BYOK_EMULATOR_PORT" --data "$RUN/emulator" \
    ${BYOK_EMULATOR_FLAGS:-} >"$RUN/emulator.env" 2>"$LOGS/emulator.log" &
  echo $! >"$PIDS/emulator.pid"
  wait_port "$BYOK_EMULATOR_PORT" "the Key Protect emulator" "$LOGS/emulator.log"
}

# up_codec makes the codec keyring once (a codec key wrapped by a platform
# root key in the emulator) and starts the codec server for the Web UI, with
# authorization off: the dev server's UI has no login to pass a token from.
up_codec() {
  go_tool worker ./worker
  write_env
  if [ ! -s "$RUN/codec-keyring.json" ]; then
    (set -a && . "$RUN/env" && exec "$BIN/worker" codec-key rotate --create-root-key byokflow-payload-codec) >>"$LOGS/codec-key.log" 2>&1 ||
      { tail -n 20 "$LOGS/codec-key.log" >&2; die "creating the codec keyring failed (log: .run/logs/codec-key.log)"; }
  fi
  alive "$PIDS/codec-server.pid" && return 0
  need_free_port "$BYOK_CODEC_PORT" "the codec server" BYOK_CODEC_PORT
  start_worker codec-server codec-server --addr "127.0.0.1:$BYOK_CODEC_PORT" --dev-no-auth \
    --ui-origin "http://127.0.0.1:$BYOK_UI_PORT,http://localhost:$BYOK_UI_PORT"
}

# up_worker and up_nodes run our own programs with the settings of .run/env.
up_worker() {
  go_tool worker ./worker
  alive "$PIDS/worker.pid" && return 0
  start_worker worker
}

up_nodes() {
  go_tool worker ./worker
  volumes_need
  mkdir -p "$VOLS"
  local h storage
  for h in ${BYOK_NODE_HOSTS:-a b c}; do
    alive "$PIDS/node-$h.pid" && continue
    mkdir -p "$RUN/nodes/$h"
    storage=$(volume_up "$h")
    start_worker "node-$h" node --host "$h" --data-dir "$RUN/nodes/$h" --storage "$storage"
  done
}

# up_schedules creates the Temporal Schedule of the reconciliation with Key
# Protect (ReconcileKeys every minute), or updates it when it exists.
up_schedules() {
  go_tool starter ./starter
  write_env
  (set -a && . "$RUN/env" && exec "$BIN/starter" schedule reconcile --every 1m) >>"$LOGS/schedules.log" 2>&1 ||
    { tail -n 20 "$LOGS/schedules.log" >&2; die "creating the reconcile schedule failed (log: .run/logs/schedules.log)"; }
}

# start_worker NAME ARGS...: start bin/worker in the background and wait for
# the "ready" line it logs once it polls its task queue.
start_worker() {
  local name=$1 log="$LOGS/$1.log"
  shift
  write_env
  (set -a && . "$RUN/env" && exec "$BIN/worker" "$@") >"$log" 2>&1 &
  echo $! >"$PIDS/$name.pid"
  for _ in $(seq 1 300); do
    grep -q 'msg=ready' "$log" 2>/dev/null && return 0
    alive "$PIDS/$name.pid" || break
    sleep 0.1
  done
  tail -n 20 "$log" >&2
  die "$name did not become ready (log: $log)"
}

write_env() {
  {
    echo "# written by scripts/stack.sh; source it: . .run/env"
    [ -f "$pg_url_file" ] && echo "export BYOK_DATABASE_URL='$(cat "$pg_url_file")'"
    if alive "$PIDS/temporal.pid"; then
      echo "export TEMPORAL_ADDRESS=127.0.0.1:$BYOK_TEMPORAL_PORT"
      echo "export TEMPORAL_NAMESPACE=default"
    fi
    [ -f "$RUN/emulator.env" ] && grep '^export ' "$RUN/emulator.env"
    echo "export BYOK_BACKUP_DIR='$RUN/backups'"
    # The admin passwords the starter keeps for the operator, kept with
    # the stack (the default is the user's config directory).
    echo "export BYOK_CREDENTIALS_DIR='$RUN/credentials'"
    # The control worker's attempt journal (one worker of the stack).
    echo "export BYOK_WORKER_STATE_DIR='$RUN/worker'"
    echo "export BYOK_CODEC_KEYRING='$RUN/codec-keyring.json'"
    echo "export TEMPORAL_CODEC_ENDPOINT=http://127.0.0.1:$BYOK_CODEC_PORT"
    echo "export BYOK_UI_URL=http://127.0.0.1:$BYOK_UI_PORT"
  } >"$RUN/env.tmp"
  mv "$RUN/env.tmp" "$RUN/env"
}

down() {
  local f name
  for f in "$PIDS"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    if alive "$f"; then
      say "stopping $name"
      kill "$(cat "$f")" 2>/dev/null || true
      for _ in $(seq 1 100); do alive "$f" || break; sleep 0.1; done
      alive "$f" && kill -9 "$(cat "$f")" 2>/dev/null
    fi
    rm -f "$f"
  done
  # The node agents took their nodes down as they stopped; whatever is left
  # on the volumes (a server of a killed agent) is stopped before unmount.
  volumes_down
  local data
  data=$(cat "$RUN/pgdata" 2>/dev/null || true)
  if [ -n "$data" ] && [ -f "$data/PG_VERSION" ]; then
    local bindir
    bindir=$(pg_bindir)
    [ -n "$bindir" ] && as_pg "$bindir/pg_ctl" -D "$data" -m fast stop >/dev/null 2>&1 || true
  fi
  rm -f "$RUN/env"
}

where() {
  echo "byokflow local stack:"
  [ -f "$pg_url_file" ] && echo "  PostgreSQL (catalog)     $(sed 's/?.*//' "$pg_url_file")"
  alive "$PIDS/temporal.pid" && echo "  Temporal frontend        127.0.0.1:$BYOK_TEMPORAL_PORT" &&
    echo "  Temporal Web UI          http://127.0.0.1:$BYOK_UI_PORT"
  alive "$PIDS/emulator.pid" && echo "  Key Protect + IAM        http://127.0.0.1:$BYOK_EMULATOR_PORT (emulator, --dev account)"
  alive "$PIDS/codec-server.pid" && echo "  codec server             http://127.0.0.1:$BYOK_CODEC_PORT (payload codec for the Web UI and 'temporal workflow show'; keyring .run/codec-keyring.json)"
  alive "$PIDS/worker.pid" && echo "  control-plane worker     task queue byokflow-control (log .run/logs/worker.log)" &&
    echo "  schedules                schedule-reconcile (ReconcileKeys every 1m); bin/starter schedules lists them"
  for f in "$PIDS"/node-*.pid; do
    [ -e "$f" ] && alive "$f" && echo "  node agent $(basename "$f" .pid | sed 's/^node-//')             task queue byokflow-node-$(basename "$f" .pid | sed 's/^node-//'), key slots in .run/nodes/"
  done
  volumes_where
  echo "  environment              .run/env   (. .run/env)"
  echo "  logs                     .run/logs/"
}

main() {
  local cmd=${1:-up}
  shift || true
  mkdir -p "$RUN" "$PIDS" "$LOGS" "$RUN/backups"
  case "$cmd" in
    up)
      local parts=("$@")
      [ ${#parts[@]} -gt 0 ] || parts=(postgres temporal emulator codec worker nodes schedules)
      for p in "${parts[@]}"; do
        case "$p" in
          postgres | temporal | emulator | codec | worker | nodes | schedules) "up_$p" ;;
          *) die "unknown part '$p' (postgres, temporal, emulator, codec, worker, nodes, schedules)" ;;
        esac
      done
      write_env
      ;;
    down) down ;;
    where) where ;;
    *) die "usage: scripts/stack.sh up [part...] | down | where" ;;
  esac
}

main "$@"
