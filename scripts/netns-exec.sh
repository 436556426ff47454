#!/usr/bin/env bash
# netns-exec.sh NS CMD...: `ip netns exec` that keeps /sys/fs/cgroup usable. ip netns exec
# mounts a fresh sysfs on /sys, hiding the cgroup v1 mounts; mount the same hierarchies again.
set -euo pipefail
if [ "${1:-}" = "--inside" ]; then
  shift; spec=$1; shift
  while read -r src mnt fstype opts; do
    [ -n "$mnt" ] || continue
    mkdir -p "$mnt" 2>/dev/null || true
    mount -t "$fstype" -o "$opts" "$src" "$mnt"
  done <<<"$spec"
  exec "$@"
fi
ns=${1:?usage: netns-exec.sh NS CMD...}; shift
spec=$(awk '$2 ~ "^/sys/fs/cgroup" {print $1, $2, $3, $4}' /proc/self/mounts)
exec ip netns exec "$ns" "$0" --inside "$spec" "$@"
