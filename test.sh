#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds gatehouse twice (release with warnings as errors; clang with
# ASan+UBSan and the libFuzzer targets), runs every test in both, fuzzes the HTTP/1 parser, and
# ends with one "N passed, N failed" line. Exit status 0 only if everything passed.
set -uo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
set +e
gatehouse_install_deps || exit 1

FUZZ_SECONDS=${FUZZ_SECONDS:-15}
passed=0
failed=0
record() {  # record NAME STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "== $1: ok"; else failed=$((failed + 1)); echo "== $1: FAILED"; fi
}
count_meson() {  # adds the test cases run in build dir $1 (doctest and pytest counts) to the totals
  local log="$1/meson-logs/testlog.json"
  [ -f "$log" ] || return
  local ok bad
  read -r ok bad < <(python3 scripts/count_tests.py "$log")
  passed=$((passed + ok))
  failed=$((failed + bad))
}

# 1. Release build, warnings are errors.
[ -f build/build.ninja ] || meson setup build --buildtype=debugoptimized -Dwerror=true
meson compile -C build -j2 || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
meson test -C build --print-errorlogs --num-processes 2
count_meson build

# 2. Sanitizer build with clang, and the fuzz targets.
if [ ! -f build-asan/build.ninja ]; then
  CC=clang CXX=clang++ meson setup build-asan --buildtype=debug -Dwerror=true -Dfuzz=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
if meson compile -C build-asan -j2; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3
  count_meson build-asan
  for target in fuzz_http_request fuzz_http_response fuzz_config fuzz_cache_control; do
    bin=build-asan/tests/fuzz/$target
    [ -x "$bin" ] || continue
    corpus=$(mktemp -d)
    seeds=tests/fuzz/corpus/${target#fuzz_}
    [ -d "$seeds" ] && cp "$seeds"/* "$corpus"/ 2>/dev/null
    "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 "$corpus" >"$corpus.log" 2>&1
    status=$?
    [ $status -eq 0 ] || tail -40 "$corpus.log"
    record "$target (${FUZZ_SECONDS}s)" $status
    rm -rf "$corpus" "$corpus.log"
  done
else
  record "asan build" 1
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
