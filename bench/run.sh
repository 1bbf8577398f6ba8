#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Side-by-side load bench: gatehouse vs nginx vs HAProxy (+ nghttpx for TLS and HTTP/2, Varnish
# in the cache scenarios).
# See bench/README.md.
#   bench/run.sh [--only gatehouse,nginx] [--scenarios small-keepalive,tls,...] [--out DIR]
#   env: BENCH_QUICK=1 BENCH_SCENARIOS=tls BENCH_ROUNDS=3 BENCH_DURATION=5s BENCH_IDLE_CONNS=9000
#        GATEHOUSE_BIN=...
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Tools, installed only when missing (a fresh Debian 12 machine runs this as root).
need=()
declare -A pkg=([nginx]=nginx-light [haproxy]=haproxy [varnishd]=varnish [wrk]=wrk [h2load]=nghttp2-client
                [nghttpx]=nghttp2-proxy [openssl]=openssl [gnuplot]=gnuplot-nox [curl]=curl
                [taskset]=util-linux [python3]=python3)
for cmd in nginx haproxy varnishd wrk h2load nghttpx openssl gnuplot curl taskset python3; do
  command -v "$cmd" >/dev/null 2>&1 || need+=("${pkg[$cmd]}")
done
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${need[@]}"
  # Debian's nginx package starts a system nginx on :80; the bench never uses it.
fi

# Idle-connection scenarios (9,000 plain or TLS connections): one fd per connection in the client
# and in the proxy. Raise the soft limit to the hard one (and the hard one too, as root, if it is
# below what they need).
hard="$(ulimit -Hn)"
if [[ $hard =~ ^[0-9]+$ ]] && ((hard < 20000)) && [[ $(id -u) -eq 0 ]]; then
  ulimit -Hn 20000 2>/dev/null || true
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")"
export BENCH_TMP
py_pid=""
cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  [[ -n $py_pid ]] && kill -TERM "$py_pid" 2>/dev/null && wait "$py_pid" 2>/dev/null
  # Whatever Python could not stop (it was killed, say): every process group it started.
  if [[ -f $BENCH_TMP/pids ]]; then
    while read -r pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done <"$BENCH_TMP/pids"
  fi
  if [[ -n ${BENCH_KEEP_TMP:-} ]]; then echo "kept $BENCH_TMP" >&2; else rm -rf -- "$BENCH_TMP"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Other work on the machine (builds, usually niced) disturbs the figures less when the bench and
# everything it starts run at a higher priority. BENCH_NICE=0 turns it off.
nice_cmd=()
if [[ ${BENCH_NICE:--10} != 0 ]] && [[ $(id -u) -eq 0 ]]; then
  nice_cmd=(nice -n "${BENCH_NICE:--10}")
fi
"${nice_cmd[@]}" python3 "$here/harness/main.py" "$@" &
py_pid=$!
status=0
wait "$py_pid" || status=$?
py_pid=""
exit "$status"
