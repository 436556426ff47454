#!/usr/bin/env bash
# bench/net-throughput.sh: HTTP requests per second to busybox httpd in a container, measured with
# wrk from a client namespace (a second "host"): through the published port (nftables DNAT) and
# direct to the container address (routed through the host), for shoal and, when Debian's
# dockerd is installed, for Docker 20.10 the same way. Bounded: DURATION seconds per measurement.
#
#   client netns --veth-- shoal host netns (shoald, bridge shoal0, container 172.17.0.x)
#          \-----veth---- docker host netns (dockerd, docker0, container 172.17.0.x)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-4}
CONNS=${CONNS:-16}
W=$(mktemp -d /tmp/shoal-netbench.XXXXXX)
NS_C=shoalnb-c NS_S=shoalnb-s NS_D=shoalnb-d
DPID="" SPID=""

CGROUPS="shoalnetbench shoalnetbench-ref"
. "$HERE/bench/lib.sh"
cleanup() { bench_cleanup $NS_C $NS_S $NS_D; }
trap cleanup EXIT

bash "$HERE/scripts/setup.sh" >/dev/null
command -v wrk >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
tar=$(bash "$HERE/scripts/busybox-rootfs.sh" "$W/cache")
HTTPD='mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 80 -h /www'

# namespaces and links (nothing in the root namespace)
for ns in $NS_C $NS_S $NS_D; do ip netns add $ns; ip -n $ns link set lo up; done
ip -n $NS_C link add nbs type veth peer name eth0 netns $NS_S
ip -n $NS_C link add nbd type veth peer name eth0 netns $NS_D
ip -n $NS_C addr add 10.231.1.1/24 dev nbs; ip -n $NS_C link set nbs up
ip -n $NS_C addr add 10.231.2.1/24 dev nbd; ip -n $NS_C link set nbd up
ip -n $NS_S addr add 10.231.1.2/24 dev eth0; ip -n $NS_S link set eth0 up
ip -n $NS_D addr add 10.231.2.2/24 dev eth0; ip -n $NS_D link set eth0 up

rps() { # URL: requests/s reported by wrk run in the client namespace
  ip netns exec $NS_C wrk -t2 -c"$CONNS" -d"${DURATION}s" "$1" 2>/dev/null | awk '/Requests\/sec/ {printf "%.0f", $2}'
}
ready() { for _ in $(seq 100); do ip netns exec $NS_C curl -sf -m 1 "$1" >/dev/null && return 0; sleep 0.1; done; echo "not answering: $1" >&2; return 1; }

# --- shoal
start_shoald $NS_S shoalnetbench
$S run -d --name web -p 8080:80 busybox sh -c "$HTTPD" >/dev/null
sip=$($S inspect -f '{{.NetworkSettings.IPAddress}}' web)
ip -n $NS_C route add 172.17.0.0/16 via 10.231.1.2
ready "http://10.231.1.2:8080/"; ready "http://$sip/"
s_pub=$(rps "http://10.231.1.2:8080/")
s_dir=$(rps "http://$sip/")
ip -n $NS_C route del 172.17.0.0/16 via 10.231.1.2

# --- docker (reference), when installed
d_pub=- d_dir=-
if command -v dockerd >/dev/null 2>&1; then
  start_dockerd $NS_D shoalnetbench-ref
  docker run -d --name web -p 8080:80 busybox sh -c "$HTTPD" >/dev/null
  dip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' web)
  ip -n $NS_C route add 172.17.0.0/16 via 10.231.2.2
  ready "http://10.231.2.2:8080/"; ready "http://$dip/"
  d_pub=$(rps "http://10.231.2.2:8080/")
  d_dir=$(rps "http://$dip/")
  unset DOCKER_HOST
fi

pct() { [ "$1" = - ] || [ "$2" = - ] && { echo -; return; }; echo "$(( 100 * $1 / $2 ))%"; }
cat <<TABLE
| requests/s (wrk, $CONNS connections, ${DURATION}s, new connection per request) | shoal | docker | shoal/docker |
|---|---|---|---|
| through the published port (host:8080 -> container:80) | $s_pub | $d_pub | $(pct "$s_pub" "$d_pub") |
| direct to the container address (routed via the host) | $s_dir | $d_dir | $(pct "$s_dir" "$d_dir") |
| published / direct | $(pct "$s_pub" "$s_dir") | $(pct "$d_pub" "$d_dir") | |
TABLE
