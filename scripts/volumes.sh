#!/usr/bin/env bash
# Encrypted node volumes for the local stack: one ext4 filesystem with the
# encrypt feature per host, in an image file .run/volumes/HOST.img attached to
# a loop device and mounted where the postgres user can reach it. The node
# agents put each database node's data directory under fscrypt in it.
#
#   scripts/volumes.sh up HOST...   make, attach and mount (idempotent);
#                                   prints each host's storage dir
#   scripts/volumes.sh down         stop the servers on them, unmount (which
#                                   drops their fscrypt keys), detach
#   scripts/volumes.sh where        print what is mounted where
#
# Sourced (by stack.sh), it defines volumes_up, volumes_down, volumes_where.
# Needs root: loop devices and fscrypt keys are root's. BYOK_VOLUME_MIB sets
# the size of new images (sparse; default 1024).

# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VOLS="$RUN/volumes"
: "${BYOK_VOLUME_MIB:=1024}"

# volumes_need: root, loop devices and the tools, installed when missing.
volumes_need() {
  [ "$(id -u)" = 0 ] || die "encrypted node volumes need root: loop devices and fscrypt keys; run make stack as root"
  [ -e /dev/loop-control ] || modprobe loop 2>/dev/null || true
  [ -e /dev/loop-control ] || die "no loop devices (/dev/loop-control): load the loop module with 'modprobe loop'"
  local pkgs=()
  command -v mkfs.ext4 >/dev/null 2>&1 || pkgs+=(e2fsprogs)
  command -v losetup >/dev/null 2>&1 || pkgs+=(mount)
  command -v fuser >/dev/null 2>&1 || pkgs+=(psmisc)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${pkgs[*]}: install them with your package manager"
  say "installing ${pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null ||
    die "apt-get install ${pkgs[*]} failed"
}

# volume_mnt HOST: where HOST's volume is (or goes) mounted: as recorded, else
# .run/mnt/HOST when the postgres user can enter .run, else a folder under
# /tmp named after the checkout (a checkout under /root is closed to postgres).
volume_mnt() {
  if [ -f "$VOLS/$1.mnt" ]; then
    cat "$VOLS/$1.mnt"
  elif runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
    echo "$RUN/mnt/$1"
  else
    echo "${TMPDIR:-/tmp}/byokflow-vol-$(printf '%s' "$ROOT" | md5sum | cut -c1-12)/$1"
  fi
}

# volume_image HOST: make HOST's image once, sparse, ext4 with encrypt.
volume_image() {
  local img="$VOLS/$1.img"
  if [ ! -f "$img" ]; then
    say "making the encrypted volume of host $1 ($BYOK_VOLUME_MIB MiB, sparse) in $img"
    truncate -s "${BYOK_VOLUME_MIB}M" "$img.tmp"
    chmod 0600 "$img.tmp" # ciphertext, but nobody else's business
    mkfs.ext4 -q -F -b 4096 -O encrypt "$img.tmp" || { rm -f "$img.tmp"; die "mkfs.ext4 of $img failed"; }
    mv "$img.tmp" "$img"
  fi
  tune2fs -l "$img" 2>/dev/null | grep -q '^Filesystem features:.*\bencrypt\b' ||
    die "$img has no ext4 encrypt feature: remove it (scripts/volumes.sh down; rm $img) and run up again"
}

# volume_up HOST: attach and mount HOST's volume unless it is; print its dir.
volume_up() {
  local h=$1 img="$VOLS/$1.img" mnt dev
  case "$h" in '' | *[!A-Za-z0-9_.-]*) die "host name '$h': use letters, digits, '.', '_' and '-'" ;; esac
  mnt=$(volume_mnt "$h")
  if mountpoint -q "$mnt"; then
    echo "$mnt"
    return 0
  fi
  volume_image "$h"
  dev=$(losetup --list --noheadings --output NAME --associated "$img" | head -n 1)
  [ -n "$dev" ] || dev=$(losetup --find --show "$img") || die "losetup of $img failed: are loop devices free? (losetup -a)"
  mkdir -p "$mnt"
  chmod 0755 "$(dirname "$mnt")"
  mount -t ext4 "$dev" "$mnt" || { losetup -d "$dev"; die "mount of $img ($dev) on $mnt failed (see dmesg)"; }
  chmod 0755 "$mnt"
  echo "$mnt" >"$VOLS/$h.mnt"
  echo "$mnt"
}

volumes_up() {
  volumes_need
  mkdir -p "$VOLS"
  [ $# -gt 0 ] || die "usage: scripts/volumes.sh up HOST..."
  local h
  for h in "$@"; do volume_up "$h"; done
}

# stop_servers MNT: stop, gracefully, every PostgreSQL server whose data
# directory is under MNT, then kill whatever still uses the filesystem.
stop_servers() {
  local pid bindir
  bindir=$(pg_bindir)
  while IFS= read -r pid; do
    [ -n "$bindir" ] || break
    say "stopping the PostgreSQL server in $(dirname "$pid")"
    as_pg "$bindir/pg_ctl" -D "$(dirname "$pid")" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  done < <(find "$1" -xdev -name postmaster.pid 2>/dev/null)
  fuser -s -M -m "$1" 2>/dev/null || return 0
  say "stopping the processes still using $1"
  fuser -s -k -TERM -M -m "$1" 2>/dev/null || true
  for _ in $(seq 1 50); do fuser -s -M -m "$1" 2>/dev/null || return 0; sleep 0.1; done
  fuser -s -k -KILL -M -m "$1" 2>/dev/null || true
  sleep 0.2
}

volumes_down() {
  [ -d "$VOLS" ] || return 0
  volumes_need
  cd "$ROOT" # never inside a volume we unmount
  local f mnt img dev
  for f in "$VOLS"/*.mnt; do
    [ -e "$f" ] || continue
    mnt=$(cat "$f")
    if mountpoint -q "$mnt"; then
      stop_servers "$mnt"
      umount "$mnt" || die "unmount $mnt failed: a process still uses it (fuser -vm $mnt)"
    fi
    rmdir "$mnt" 2>/dev/null || true
    rmdir "$(dirname "$mnt")" 2>/dev/null || true
    rm -f "$f"
  done
  for img in "$VOLS"/*.img; do
    [ -e "$img" ] || continue
    for dev in $(losetup --list --noheadings --output NAME --associated "$img"); do
      losetup -d "$dev" || die "detach $dev ($img) failed: is it still mounted? (mount | grep $dev)"
    done
  done
}

volumes_where() {
  local f h mnt dev
  for f in "$VOLS"/*.mnt; do
    [ -e "$f" ] || continue
    h=$(basename "$f" .mnt)
    mnt=$(cat "$f")
    mountpoint -q "$mnt" || continue
    dev=$(findmnt -n -o SOURCE --target "$mnt")
    echo "  encrypted volume $h       $mnt ($dev, image .run/volumes/$h.img)"
  done
}

volumes_main() {
  set -euo pipefail
  local cmd=${1:-}
  shift || true
  case "$cmd" in
    up) volumes_up "$@" ;;
    down) volumes_down ;;
    where) volumes_where ;;
    *) die "usage: scripts/volumes.sh up HOST... | down | where" ;;
  esac
}

[ "${BASH_SOURCE[0]}" != "$0" ] || volumes_main "$@"
