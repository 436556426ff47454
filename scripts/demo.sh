#!/usr/bin/env bash
# The main job: `scripts/demo.sh` (up) brings up a demo swarm of 3 hosts on this machine. Each
# host is a network namespace (shoal-demo-h1..h3, on a bridge in the namespace shoal-demo) with
# its own shoald, hostname and busybox image; h1 inits the swarm, h2 and h3 join as workers, and
# a 3-replica web service (busybox httpd) is deployed, asked for its page on every task and
# through the routing mesh (-p 8080:80) on every node.
# Nothing is added to the machine's own network namespace.
# `scripts/demo.sh down` stops the daemons and removes everything the demo made.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
LAB=shoal-demo
DIR=${SHOAL_DEMO_DIR:-/var/lib/shoal-demo}
NET=10.213.50
HOSTS="1 2 3"
addr() { echo "$NET.1$1"; }
sock() { echo "$DIR/h$1/shoal.sock"; }
shoal() { local i=$1; shift; "$HERE/bin/shoal" -H "unix://$(sock "$i")" "$@"; }
netns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }

down() {
  for i in $HOSTS; do
    pidf="$DIR/h$i/shoald.pid"
    if [ -s "$pidf" ] && [ -d "/proc/$(cat "$pidf")" ]; then
      # the demo's containers first (their conmon and runc processes are ours), then the daemon
      [ "$i" = 1 ] && shoal 1 service rm demo-web >/dev/null 2>&1 || true
      ids=$(shoal "$i" ps -aq 2>/dev/null || true)
      [ -n "$ids" ] && shoal "$i" rm -f $ids >/dev/null 2>&1 || true
      pid=$(cat "$pidf")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
  done
  # containers of a daemon that died live on in their own namespaces: found by the demo's cgroups
  for i in $HOSTS; do
    for p in $(cat /sys/fs/cgroup/pids/shoal-demo-h$i/*/cgroup.procs 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
  done
  # whatever still runs inside a demo namespace (etcd, conmon) was started by a demo daemon
  for ns in $LAB-h1 $LAB-h2 $LAB-h3 $LAB; do
    if netns_exists "$ns"; then
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
      ip netns del "$ns"
    fi
  done
  # the cgroups, deepest first, once their killed processes are gone
  for _ in $(seq 20); do
    left=$(find /sys/fs/cgroup -maxdepth 3 -type d -name 'shoal-demo-h*' 2>/dev/null)
    [ -z "$left" ] && break
    for d in $left; do find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true; done
    sleep 0.1
  done
  # the control sockets of the hosts' wireguard-go (killed above), named as tunnelIfname() names them
  for i in $HOSTS; do rm -f "/var/run/wireguard/wg-$(printf %s "$DIR/h$i/exec" | sha256sum | cut -c1-8).sock"; done
  rm -rf "$DIR"
  echo "demo: removed"
}

start_host() {
  local i=$1 ns=$LAB-h$1
  mkdir -p "$DIR/h$i"
  if ! netns_exists "$ns"; then
    ip netns add "$ns"
    ip -n "$LAB" link add "vh$i" type veth peer name eth0 netns "$ns"
    ip -n "$LAB" link set "vh$i" master br0 up
    ip -n "$ns" addr add "$(addr "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  fi
  local pidf="$DIR/h$i/shoald.pid"
  if ! { [ -s "$pidf" ] && [ -d "/proc/$(cat "$pidf")" ]; }; then
    # own network, mount (ip netns exec) and UTS namespaces: the node is called h$i
    setsid "$HERE/scripts/netns-exec.sh" "$ns" unshare --uts sh -c 'hostname "$0" && exec "$@"' "h$i" \
      "$HERE/bin/shoald" --data-root "$DIR/h$i/root" --exec-root "$DIR/h$i/exec" -H "unix://$(sock "$i")" \
      --pidfile "$pidf" --cgroup-parent "shoal-demo-h$i" </dev/null >>"$DIR/h$i/shoald.log" 2>&1 &
  fi
}

up() {
  bash "$HERE/scripts/setup.sh"
  mkdir -p "$DIR"
  if ! netns_exists "$LAB"; then
    ip netns add "$LAB"
    ip -n "$LAB" link add br0 type bridge
    ip -n "$LAB" addr add "$NET.2/24" dev br0
    ip -n "$LAB" link set br0 up
    ip -n "$LAB" link set lo up
  fi
  for i in $HOSTS; do start_host "$i"; done
  for i in $HOSTS; do
    for _ in $(seq 150); do shoal "$i" version >/dev/null 2>&1 && break; sleep 0.1; done
    shoal "$i" version --format "h$i: shoald {{.Server.Version}} at $(addr "$i") (network namespace $LAB-h$i)"
  done
  tar=$(bash "$HERE/scripts/busybox-rootfs.sh" "$DIR/cache")
  for i in $HOSTS; do shoal "$i" import --change 'CMD ["sh"]' "$tar" busybox:latest >/dev/null; done
  echo '$ shoal run --rm busybox echo ...      (on h1)'
  shoal 1 run --rm busybox sh -c 'echo "hello from a shoal container: $(hostname), kernel $(uname -r)"'

  if [ "$(shoal 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    echo "\$ shoal swarm init --advertise-addr $(addr 1)      (on h1)"
    shoal 1 swarm init --advertise-addr "$(addr 1)"
  fi
  token=$(shoal 1 swarm join-token -q worker)
  for i in 2 3; do
    if [ "$(shoal "$i" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
      echo "\$ shoal swarm join --token ... $(addr 1):2377      (on h$i)"
      shoal "$i" swarm join --token "$token" "$(addr 1):2377"
    fi
  done
  echo '$ shoal node ls'
  shoal 1 node ls
  if ! shoal 1 service inspect demo-web >/dev/null 2>&1; then
    echo '$ shoal service create --name demo-web --replicas 3 -p 8080:80 --hostname "{{.Service.Name}}.{{.Task.Slot}}" busybox httpd ...'
    shoal 1 service create --name demo-web --replicas 3 -p 8080:80 --hostname '{{.Service.Name}}.{{.Task.Slot}}' --env 'NODE={{.Node.Hostname}}' busybox \
      sh -c 'mkdir -p /www && echo "hello from $(hostname) on node $NODE" > /www/index.html && exec httpd -f -p 80 -h /www'
  fi
  echo '$ shoal service ls'
  shoal 1 service ls
  echo '$ shoal service ps demo-web'
  shoal 1 service ps demo-web
  echo "Each task answers on its node (wget from inside that node's namespace to the task's address):"
  for i in $HOSTS; do
    for c in $(shoal "$i" ps -q --filter label=com.docker.swarm.service.name=demo-web); do
      # a task's address is on the ingress overlay (its way out, docker_gwbridge, is hidden as with Docker)
      ip=$(shoal "$i" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c")
      for _ in $(seq 30); do out=$(ip netns exec "$LAB-h$i" wget -qO- -T 2 "http://$ip/" 2>/dev/null) && break; sleep 0.2; done
      echo "  h$i $ip: ${out:-no answer}"
    done
  done
  echo "The routing mesh: port 8080 answers on every node and spreads over the tasks (curl from the lab namespace):"
  for i in $HOSTS; do
    for _ in 1 2 3; do
      out=""; for _ in $(seq 20); do out=$(ip netns exec "$LAB" curl -s -m 2 "http://$(addr "$i"):8080/") && [ -n "$out" ] && break; sleep 0.3; done
      echo "  $(addr "$i"):8080 -> ${out:-no answer}"
    done
  done
  cat <<MSG

The swarm keeps running. Point the shoal or docker CLI at any host:
  export DOCKER_HOST=unix://$(sock 1)     # h1, the manager; h2 and h3: $DIR/h2/shoal.sock, $DIR/h3/shoal.sock
  docker node ls; docker service scale demo-web=6; docker service ps demo-web
  $HERE/bin/shoal -H unix://$(sock 1) service update --env-add V=2 demo-web
Stop and clean up with: $HERE/scripts/demo.sh down
MSG
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
