#!/usr/bin/env bash
# The entry point of a node agent's container (docker-compose.yml): make the
# host's encrypted volume — an ext4 image with the encrypt feature, in the
# container's /volume, on a loop device, mounted at /storage — then run the
# node agent on it. The container must be privileged: loop devices, mount
# and the fscrypt key ioctls need CAP_SYS_ADMIN.
#
#   scripts/node-entrypoint.sh HOST
set -euo pipefail
host=${1:?usage: node-entrypoint.sh HOST}
img=/volume/$host.img

missing=()
command -v mkfs.ext4 >/dev/null || missing+=(e2fsprogs)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
mkdir -p /volume /storage /node
if [ ! -f "$img" ]; then
  truncate -s "${BYOK_VOLUME_MIB:-4096}M" "$img"
  mkfs.ext4 -q -F -O encrypt "$img"
fi
mountpoint -q /storage || mount -o loop "$img" /storage
chmod 0755 /storage
exec go run ./worker node --host "$host" --data-dir /node --storage /storage
