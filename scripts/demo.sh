#!/usr/bin/env bash
# The main job: `scripts/demo.sh` (up) starts shoald in a network namespace of its own,
# imports a busybox image built offline, runs a demo container and shows its output, then a web
# server on a user-defined network reached by name from another container and through a published port.
# `scripts/demo.sh down` stops it and removes everything it made.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
NS=shoal-demo
DIR=${SHOAL_DEMO_DIR:-/var/lib/shoal-demo}
SOCK=$DIR/shoal.sock
SHOAL="$HERE/bin/shoal -H unix://$SOCK"

down() {
  if [ -s "$DIR/shoald.pid" ]; then
    pid=$(cat "$DIR/shoald.pid")
    if [ -d "/proc/$pid" ]; then
      # Remove the demo's containers first (their conmon and runc processes are ours).
      $SHOAL rm -f $($SHOAL ps -aq 2>/dev/null) >/dev/null 2>&1 || true
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 50); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
  fi
  # Processes still inside the demo namespace were started by the demo daemon.
  if ip netns list | awk '{print $1}' | grep -qx "$NS"; then
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$NS"
  fi
  rmdir /sys/fs/cgroup/*/shoal-demo/*/ /sys/fs/cgroup/*/shoal-demo 2>/dev/null || true
  rm -rf "$DIR"
  echo "demo: removed"
}

up() {
  bash "$HERE/scripts/setup.sh"
  mkdir -p "$DIR"
  ip netns list | awk '{print $1}' | grep -qx "$NS" || ip netns add "$NS"
  ip -n "$NS" link set lo up
  if ! { [ -s "$DIR/shoald.pid" ] && [ -d "/proc/$(cat "$DIR/shoald.pid")" ]; }; then
    # ip netns exec gives the daemon a private mount namespace (its overlay mounts stay there)
    # and a fresh /sys; the cgroup hierarchies are mounted again inside it.
    setsid "$HERE/scripts/netns-exec.sh" "$NS" "$HERE/bin/shoald" --data-root "$DIR/root" --exec-root "$DIR/exec" \
      -H "unix://$SOCK" --pidfile "$DIR/shoald.pid" --cgroup-parent shoal-demo </dev/null >>"$DIR/shoald.log" 2>&1 &
    for _ in $(seq 100); do $SHOAL version >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  $SHOAL version --format 'shoald {{.Server.Version}} is up in network namespace '"$NS"
  tar=$(bash "$HERE/scripts/busybox-rootfs.sh" "$DIR/cache")
  $SHOAL import --change 'CMD ["sh"]' "$tar" busybox:latest >/dev/null
  $SHOAL images
  echo '$ shoal run --rm busybox sh -c '"'"'echo "hello from a shoal container: $(hostname), pid $$, kernel $(uname -r)"'"'"
  $SHOAL run --rm busybox sh -c 'echo "hello from a shoal container: $(hostname), pid $$, kernel $(uname -r)"'
  # Two containers on a user-defined network find each other by name; a published port answers.
  $SHOAL rm -f demo-web >/dev/null 2>&1 || true
  $SHOAL network inspect demo-net >/dev/null 2>&1 || $SHOAL network create demo-net >/dev/null
  echo '$ shoal run -d --name demo-web --network demo-net -p 8080:80 busybox httpd ...'
  $SHOAL run -d --name demo-web --network demo-net -p 8080:80 busybox \
    sh -c 'mkdir -p /www && echo "hello from demo-web, served by busybox httpd" > /www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
  echo '$ shoal run --rm --network demo-net busybox wget -qO- http://demo-web/'
  for _ in $(seq 50); do $SHOAL run --rm --network demo-net busybox wget -qO- http://demo-web/ 2>/dev/null && break; sleep 0.2; done
  echo "\$ curl http://127.0.0.1:8080/   (inside the $NS namespace, through the published port)"
  ip netns exec "$NS" curl -s -m 5 http://127.0.0.1:8080/
  $SHOAL ps
  cat <<MSG

shoald keeps running. Try:
  export SHOAL_HOST=unix://$SOCK        # or DOCKER_HOST=unix://$SOCK for the docker CLI
  $HERE/bin/shoal run -it busybox sh
Stop and clean up with: $HERE/scripts/demo.sh down
MSG
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 [up|down]" >&2; exit 2 ;;
esac
