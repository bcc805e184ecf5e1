#!/usr/bin/env bash
# make run: the customer's story on the local stack, step by step, with the
# starter CLI: create a root key and import a second one from the customer's
# own material, authorize the service (step 2), provision a 3-node instance
# (a primary and two streaming standbys, each a PostgreSQL server on
# fscrypt-encrypted storage), load data, prove it is ciphertext at rest, back
# up, rotate, restore into a new instance under the second root key and
# compare, crypto-shred the original with a second operator's approval
# (proven by Key Protect; the requester's own key is refused) and prove
# again, print byokflow's audit beside Key Protect's record, and show its
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
# on_disk MARKER: how many files under .run (the raw volume images, the
# logs, the Temporal database, key slots, backups) and of the catalog's
# cluster hold MARKER in plaintext, after flushing every cache to disk.
# What is behind the volumes' mount points is not searched: it is the
# files as the kernel decrypts them.
on_disk() {
  sync
  echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  local dirs=("$RUN") pgdata
  pgdata=$(cat "$RUN/pgdata" 2>/dev/null || true)
  [ -n "$pgdata" ] && [ "${pgdata#"$RUN"}" = "$pgdata" ] && dirs+=("$pgdata")
  local files
  files=$(find "${dirs[@]}" -path "$RUN/mnt" -prune -o -type f -print0 2>/dev/null |
    xargs -0 grep -l -a -F -- "$1" 2>/dev/null || true)
  [ -z "$files" ] && { echo 0; return; }
  printf '%s\n' "$files" >&2
  printf '%s\n' "$files" | wc -l
}

# prove_at_rest INSTANCE MARKER WHEN: the byte search of on_disk, which must
# find nothing.
prove_at_rest() {
  local found
  found=$(on_disk "$2")
  echo "byte search for the marker in every file under .run/ (raw volume images included) $3: $found files"
  [ "$found" = 0 ] || die "the marker of instance $1 was found in plaintext on disk"
}

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

step "At rest, the data is ciphertext: a marker read back from every node, found on no disk"
marker="byok-marker-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
show sql --instance "$orders" -c "create table secrets (v text); insert into secrets values ('$marker'); checkpoint"
for node in "$orders-1" "$orders-2" "$orders-3"; do
  for _ in $(seq 1 50); do
    "$BIN/starter" sql --instance "$orders" --node "$node" -c "select v from secrets" 2>/dev/null | grep -q "$marker" && break
    sleep 0.2
  done
  show sql --instance "$orders" --node "$node" -c "select v as marker_on_$(echo "$node" | tr -c 'a-z0-9\n' _) from secrets"
done
prove_at_rest "$orders" "$marker" "before the shred"

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

step "4. Crypto-shred the original, approved by a second operator whom Key Protect proves"
show shred --instance "$orders" --include-backups --require-approval &
shred_pid=$!
printf '$ starter approve --workflow shred-%s   (the requester'"'"'s own API key: refused)\n' "$orders" >&2
until out=$("$BIN/starter" approve --workflow "shred-$orders" 2>&1); [[ $out == *"the requester's"* ]]; do
  kill -0 "$shred_pid" 2>/dev/null || die "the shred ended before it waited for approval"
  sleep 1
done
echo "refused, nothing changed: ${out%%: Key Protect counts*}"
printf '$ IBMCLOUD_API_KEY=$BYOK_DEV_APPROVER_API_KEY starter approve --workflow shred-%s\n' "$orders" >&2
IBMCLOUD_API_KEY=$BYOK_DEV_APPROVER_API_KEY "$BIN/starter" approve --workflow "shred-$orders" --comment "make run"
wait "$shred_pid" || die "the approved shred failed"
show status --instance "$orders"
show shred-certificate --instance "$orders"
prove_at_rest "$orders" "$marker" "after the shred"
show audit --instance "$orders"

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
