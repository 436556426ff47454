# Shared by the bench scripts (sourced): start and clean up a shoald and a reference dockerd,
# each in a network namespace of its own, under the work dir $W. Callers set HERE, W, SPID, DPID
# and CGROUPS (cgroup parent names to remove).

wait_gone() { for _ in $(seq 100); do [ -d "/proc/$1" ] || return 0; sleep 0.1; done; kill -KILL "$1" 2>/dev/null; }

# bench_cleanup NETNS...: removes the daemons' containers, stops them (by PID), deletes the
# namespaces (killing what is left inside), mounts under $W, the cgroups, and $W itself.
bench_cleanup() {
  set +e
  if [ -n "${SPID:-}" ]; then
    "$HERE/bin/shoal" -H "unix://$W/s/shoal.sock" rm -f $("$HERE/bin/shoal" -H "unix://$W/s/shoal.sock" ps -aq) >/dev/null 2>&1
    kill -TERM "$SPID" 2>/dev/null; wait_gone "$SPID"
  fi
  if [ -n "${DPID:-}" ]; then
    DOCKER_HOST="unix://$W/d/docker.sock" docker rm -f $(DOCKER_HOST="unix://$W/d/docker.sock" docker ps -aq) >/dev/null 2>&1
    kill -TERM "$DPID" 2>/dev/null; wait_gone "$DPID"
  fi
  local ns p m c
  for ns in "$@"; do
    ip netns list | awk '{print $1}' | grep -qx "$ns" || continue
    for p in $(ip netns pids "$ns"); do kill -KILL "$p" 2>/dev/null; done
    sleep 0.2; ip netns del "$ns"
  done
  for m in $(awk -v d="$W/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do umount -l "$m"; done
  for c in ${CGROUPS:-}; do rmdir /sys/fs/cgroup/*/"$c"/*/ /sys/fs/cgroup/*/"$c" 2>/dev/null; done
  rm -rf "$W"
}
