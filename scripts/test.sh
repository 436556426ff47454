#!/usr/bin/env bash
# Runs the whole test suite: unit tests beside the code, then the root/runc integration tests in test/.
set -euo pipefail
cd "$(dirname "$0")/.."
SHOAL_SETUP_TEST=1 bash scripts/setup.sh
[ "$(id -u)" = 0 ] || { echo "the test suite needs root (runc, mounts, network namespaces)" >&2; exit 1; }
mapfile -t unit < <(find dist/src -name '*.test.js' | sort)
mapfile -t integ < <(find dist/test -name '*.test.js' | sort)
# Integration files each stand up their own hosts (netns) and daemons, so two can run at once.
node --test --test-concurrency=2 --test-reporter=spec "${unit[@]}" "${integ[@]}"
