#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and runs gatehouse on conf/gatehouse.yaml in front of the demo
# backend (127.0.0.1:8081): try `curl http://127.0.0.1:8080/`. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
gatehouse_install_deps

[ -f build/build.ninja ] || meson setup build --buildtype=release
meson compile -C build gatehouse

python3 tests/backend.py --listen 127.0.0.1:8081 &
backend=$!
trap 'kill $backend 2>/dev/null; wait $backend 2>/dev/null || true' EXIT
# The main process stops gracefully on Ctrl-C (SIGINT) and takes its worker with it.
build/gatehouse -c conf/gatehouse.yaml "$@" || true
