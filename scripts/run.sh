#!/usr/bin/env bash
# make run: the customer's story on the local stack, step by step, with the
# starter CLI: create a root key and import a second one from the customer's
# own material, authorize the service (step 2), provision a
# 3-node instance, load data, back up, rotate, restore into a new instance
# under a second root key and compare, crypto-shred the original and show its
# backup can no longer be restored. The stack stays up for the Web UI until
# Ctrl-C, unless BYOK_EXIT=1 (then it exits 0 after the story, non-zero if a
# step failed).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

"$ROOT/scripts/stack.sh" up
go build -o "$BIN/starter" ./starter
set -a && . "$RUN/env" && set +a
"$ROOT/scripts/stack.sh" where

run_id=$(date +%H%M%S)
orders="orders-$run_id"
restored="orders-restored-$run_id"

step() { printf '\n== %s\n' "$*"; }
show() { printf '$ starter %s\n' "$*" >&2; "$BIN/starter" "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
checksum() {
  "$BIN/starter" sql --instance "$1" -c "select md5(string_agg(t::text, ',' order by id)) from sales t" --json | json '[0]["md5"]'
}

step "1. The customer creates a root key in Key Protect and imports a second from their own material"
key1=$(show keys create --name "orders-root-$run_id" --json | json '["id"]')
material="$RUN/restore-root-$run_id.key"
(umask 077 && head -c 32 /dev/urandom > "$material")   # as exported from the customer's HSM
key2=$(show keys import --name "restore-root-$run_id" --material-file "$material" --json | json '["id"]')
rm -f "$material"
echo "root keys: $key1 (orders, generated), $key2 (restore target, imported with an import token)"
show keys list

step "2-3. Authorize the DBaaS service (step 2) and provision a 3-node instance under the first key"
show provision --instance "$orders" --root-key "$key1" --nodes 3 --create-authorization

step "Load sample data"
show sql --instance "$orders" -c "create table sales (id bigserial primary key, customer text not null,
  amount numeric(12,2), paid_at timestamptz, note text, receipt bytea);
  insert into sales (customer, amount, paid_at, note, receipt)
  select 'customer-' || g, g * 1.25, now() - g * interval '1 hour',
         case when g % 7 = 0 then null else 'order ' || g end, sha256(g::text::bytea)
  from generate_series(1, 20000) g"
show sql --instance "$orders" -c "select count(*) as rows, sum(amount) from sales"
original=$(checksum "$orders")
show status --instance "$orders"

step "Back up the instance (encrypted under a fresh backup key wrapped by the root key)"
backup=$(show backup --instance "$orders" --json | json '["backupId"]')
show backups --instance "$orders"
show status --instance "$orders"

step "Rotate the root key: every node and the backup rewrap to the new version"
show rotate --instance "$orders"
show backups --instance "$orders"

step "Restore the backup into a new instance under the second root key"
show restore --backup "$backup" --instance "$restored" --root-key "$key2"
copy=$(checksum "$restored")
echo "content checksum: original $original, restored $copy"
[ "$original" = "$copy" ] || die "the restored data differs from the original"

step "4. Crypto-shred the original: destroy its node keys and its root key"
show shred --instance "$orders" --include-backups
show status --instance "$orders"
show shred-certificate --instance "$orders"

step "Its backup can no longer be restored"
if show restore --backup "$backup" --instance "orders-again-$run_id" --root-key "$key2"; then
  die "the backup of a shredded instance was restored"
fi
echo "as expected: the backup is unrecoverable"

step "Done. Web UI: http://127.0.0.1:$BYOK_UI_PORT (search ByokInstanceID = $orders)"
if [ "${BYOK_EXIT:-}" = 1 ]; then
  exit 0
fi
echo "The stack stays up for the Web UI; press Ctrl-C to stop it (or 'make stack-down' later)."
trap '"$ROOT/scripts/stack.sh" down; exit 0' INT TERM
sleep infinity &
wait $!
