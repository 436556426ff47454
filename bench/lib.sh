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
  # deepest first; also where a daemon put them under its own cgroup (dockerd's cgroup-parent is relative)
  for c in ${CGROUPS:-}; do
    for d in $(find /sys/fs/cgroup -maxdepth 5 -type d -name "$c" 2>/dev/null); do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
  done
  rm -rf "$W"
}

# start_shoald NETNS CGROUP_PARENT: shoald under $W/s in NETNS, busybox:latest imported from $tar;
# sets SPID and S (the shoal CLI for it).
start_shoald() {
  mkdir -p "$W/s"
  setsid "$HERE/scripts/netns-exec.sh" "$1" "$HERE/bin/shoald" --data-root "$W/s/root" --exec-root "$W/s/exec" \
    -H "unix://$W/s/shoal.sock" --pidfile "$W/s/pid" --cgroup-parent "$2" </dev/null >"$W/s/log" 2>&1 &
  S="$HERE/bin/shoal -H unix://$W/s/shoal.sock"
  for _ in $(seq 100); do $S version >/dev/null 2>&1 && break; sleep 0.1; done
  SPID=$(cat "$W/s/pid")
  $S import --change 'CMD ["sh"]' "$tar" busybox:latest >/dev/null
}

# start_dockerd NETNS CGROUP_PARENT: the reference dockerd under $W/d in NETNS, busybox:latest
# imported; sets DPID and exports DOCKER_HOST.
start_dockerd() {
  mkdir -p "$W/d"; printf '{"deprecated-key-path": "%s"}\n' "$W/d/key.json" > "$W/d/daemon.json"
  setsid "$HERE/scripts/netns-exec.sh" "$1" dockerd --data-root "$W/d/root" --exec-root "$W/d/exec" --pidfile "$W/d/pid" \
    -H "unix://$W/d/docker.sock" --config-file "$W/d/daemon.json" --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "$2" --storage-driver overlay2 </dev/null >"$W/d/log" 2>&1 &
  export DOCKER_HOST="unix://$W/d/docker.sock"
  for _ in $(seq 300); do docker info >/dev/null 2>&1 && break; sleep 0.2; done
  DPID=$(cat "$W/d/pid")
  docker import --change 'CMD ["sh"]' "$tar" busybox:latest >/dev/null
}
