#!/usr/bin/env bash
# busybox-rootfs.sh CACHE_DIR: builds (once) a busybox rootfs tar from Debian's busybox-static
# and prints its path. No network needed.
set -euo pipefail
cache=${1:?usage: busybox-rootfs.sh CACHE_DIR}
BUSYBOX=${BUSYBOX:-/bin/busybox}
tar="$cache/busybox-rootfs.tar"
if [ ! -s "$tar" ] || [ "$BUSYBOX" -nt "$tar" ]; then
  r="$cache/rootfs"; rm -rf "$r"; mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/www,home}
  chmod 1777 "$r/tmp"
  cp "$BUSYBOX" "$r/bin/busybox"; chmod 755 "$r/bin/busybox"
  "$r/bin/busybox" --list-full | while read -r app; do
    [ "$app" = "bin/busybox" ] && continue
    mkdir -p "$r/$(dirname "$app")"; ln -sf /bin/busybox "$r/$app"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nwww-data:x:33:33:www-data:/var/www:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\nwww-data:x:33:\n' > "$r/etc/group"
  echo 'hello from busybox' > "$r/var/www/index.html"
  tar --numeric-owner --owner=0 --group=0 -C "$r" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar"
  rm -rf "$r"
fi
echo "$tar"
