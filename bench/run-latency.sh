#!/usr/bin/env bash
# bench/run-latency.sh: wall time of `run --rm busybox true` (N runs: median, p90) and daemon
# memory, for shoal and, when Debian's dockerd is installed, for Docker side by side.
# Each daemon runs in a network namespace of its own; everything is removed at the end.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
N=${N:-20}
CONTAINERS=${CONTAINERS:-50}
W=$(mktemp -d /tmp/shoal-bench.XXXXXX)
NS_S=shoalbench-s NS_D=shoalbench-d
DPID="" SPID=""

CGROUPS="shoalbench shoalbench-ref"
. "$HERE/bench/lib.sh"
cleanup() { bench_cleanup $NS_S $NS_D; }
trap cleanup EXIT

bash "$HERE/scripts/setup.sh" >/dev/null
tar=$(bash "$HERE/scripts/busybox-rootfs.sh" "$W/cache")
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
sum_rss_mib() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0))); done; awk -v t="$t" 'BEGIN{printf "%.1f", t/1024}'; }
stats() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; i=int(0.9*NR+0.999); printf "%.3f %.3f\n", m, a[i]}'; }
time_runs() { # CMD...: prints N wall times in seconds
  local i t0 t1
  for i in $(seq "$N"); do t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N); echo "scale=4; ($t1-$t0)/1000000000" | bc; done
}
command -v bc >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bc >/dev/null; }

# --- shoal
ip netns add $NS_S; ip -n $NS_S link set lo up
start_shoald $NS_S shoalbench
$S run --rm busybox true   # warm-up
read -r s_med s_p90 < <(time_runs $S run --rm busybox true | stats)
read -r s_nmed s_np90 < <(time_runs $S run --rm --network none busybox true | stats)
s_idle=$(rss_mib "$SPID")
for i in $(seq "$CONTAINERS"); do $S run -d busybox sleep 600 >/dev/null; done
s_busy=$(rss_mib "$SPID")
s_conmon=$(sum_rss_mib $(for p in $(ip netns pids $NS_S); do [ "$(cat /proc/$p/comm 2>/dev/null)" = conmon ] && echo "$p"; done))

# --- docker (reference), when installed
d_med=- d_p90=- d_nmed=- d_np90=- d_idle=- d_busy=- d_ctd=- d_shims=-
if command -v dockerd >/dev/null 2>&1; then
  ip netns add $NS_D; ip -n $NS_D link set lo up
  start_dockerd $NS_D shoalbench-ref
  docker run --rm busybox true
  read -r d_med d_p90 < <(time_runs docker run --rm busybox true | stats)
  read -r d_nmed d_np90 < <(time_runs docker run --rm --network none busybox true | stats)
  d_idle=$(rss_mib "$DPID")
  for i in $(seq "$CONTAINERS"); do docker run -d busybox sleep 600 >/dev/null; done
  d_busy=$(rss_mib "$DPID")
  d_ctd=$(rss_mib "$(cat "$W/d/exec/containerd/containerd.pid")")
  d_shims=$(sum_rss_mib $(for p in $(ip netns pids $NS_D); do [ "$(cat /proc/$p/comm 2>/dev/null)" = containerd-shim ] && echo "$p"; done))
  unset DOCKER_HOST
fi
ratio=-; [ "$d_med" != - ] && ratio=$(echo "scale=2; $s_med / $d_med" | bc)
nratio=-; [ "$d_nmed" != - ] && nratio=$(echo "scale=2; $s_nmed / $d_nmed" | bc)

cat <<TABLE
| metric (N=$N runs, $CONTAINERS containers) | shoal | docker | shoal/docker |
|---|---|---|---|
| run --rm busybox true (default bridge), median (s) | $s_med | $d_med | $ratio |
| run --rm busybox true (default bridge), p90 (s) | $s_p90 | $d_p90 | |
| run --rm --network none busybox true, median (s) | $s_nmed | $d_nmed | $nratio |
| run --rm --network none busybox true, p90 (s) | $s_np90 | $d_np90 | |
| daemon RSS idle (MiB) | $s_idle | $d_idle (dockerd) | |
| daemon RSS with $CONTAINERS running (MiB) | $s_busy | $d_busy (dockerd) + $d_ctd (containerd) | |
| per-container monitors, total (MiB) | $s_conmon (conmon) | $d_shims (shims) | |
TABLE
