#!/usr/bin/env bash
# Idempotent setup: Debian packages shoal needs, npm dependencies, TypeScript build.
# A machine that already has everything is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

# wireguard-go + wireguard-tools (wg): encrypted overlays, where the kernel has no WireGuard
PKGS=(runc conmon busybox-static iproute2 nftables socat tar attr util-linux procps file curl etcd-server etcd-client wireguard-go wireguard-tools)
# tcpdump: the encrypted overlay test looks at the wire
[ "${SHOAL_SETUP_TEST:-0}" = 1 ] && PKGS+=(python3 tcpdump)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || true
  # Package services (etcd) must not start: shoald runs its own etcd members when needed.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# Tests also drive the real docker CLI. Debian's docker.io brings one where none is installed;
# its services must not start (dockerd would add docker0 to this machine's network).
if [ "${SHOAL_SETUP_TEST:-0}" = 1 ] && ! command -v docker >/dev/null 2>&1; then
  echo "setup: installing Debian's docker.io for its CLI (services disabled)"
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null || true
  rm -f /usr/sbin/policy-rc.d
fi

if [ ! -d node_modules ] || [ package.json -nt node_modules/.package-lock.json ] || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
  echo "setup: installing npm dependencies"
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
fi
npx tsc -p tsconfig.json
