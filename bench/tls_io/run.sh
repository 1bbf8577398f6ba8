#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# TLS I/O layer bench (issue 3): tls-io-server in `bufferevent` mode (libevent's
# bufferevent_openssl) against `direct` mode (gatehouse's Transport: SSL_read/SSL_write on its own
# buffers), HTTP/1.1 keep-alive over TLS, server on CPU 0, wrk on CPU 1. See bench/README.md.
#   bench/tls_io/run.sh [--out FILE]     FILE: the table with a header (machine, versions, settings)
#   env: TLS_IO_SERVER=path (default build/bench/tls-io-server), TLS_IO_ROUNDS=3,
#        TLS_IO_DURATION=5s, TLS_IO_WARMUP=1s, TLS_IO_CONNS=64, TLS_IO_BODIES="1024 262144",
#        TLS_IO_QUIET_WAIT=20 (seconds to wait for other processes to leave the CPUs),
#        TLS_IO_BUSY_RETRIES=2 (redo a run disturbed by > 0.25 cores of other load), TLS_IO_NICE=-10
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
bin="${TLS_IO_SERVER:-$repo/build/bench/tls-io-server}"
rounds="${TLS_IO_ROUNDS:-3}"
duration="${TLS_IO_DURATION:-5s}"
warmup="${TLS_IO_WARMUP:-1s}"
conns="${TLS_IO_CONNS:-64}"
bodies="${TLS_IO_BODIES:-1024 262144}"
quiet_wait="${TLS_IO_QUIET_WAIT:-20}"
busy_retries="${TLS_IO_BUSY_RETRIES:-2}"
out=""
if [[ ${1:-} == --out ]]; then out="${2:?--out needs a file}"; shift 2; fi
(($# == 0)) || { echo "usage: $0 [--out FILE]" >&2; exit 2; }
[[ -x $bin ]] || {
  echo "no $bin: meson compile -C build tls-io-server (needs libevent_openssl), or TLS_IO_SERVER=path" >&2
  exit 1
}

need=()
declare -A pkg=([wrk]=wrk [openssl]=openssl [taskset]=util-linux [python3]=python3)
for cmd in wrk openssl taskset python3; do command -v "$cmd" >/dev/null || need+=("${pkg[$cmd]}"); done
if ((${#need[@]})); then
  echo "installing: ${need[*]}" >&2
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/tls-io-bench.XXXXXX")"
server_pid=""
cleanup() {
  set +e
  [[ -n $server_pid ]] && kill -KILL "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Niced builds elsewhere on the machine disturb the figures less (as root only).
nice_cmd=()
[[ ${TLS_IO_NICE:--10} != 0 && $(id -u) -eq 0 ]] && nice_cmd=(nice -n "${TLS_IO_NICE:--10}")

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -sha256 -nodes -days 2 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

tck="$(getconf CLK_TCK)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# utime + stime of a process, in clock ticks.
cpu_ticks() { local f; read -r -a f < <(sed 's/^.*) //' "/proc/$1/stat"); echo $((f[11] + f[12])); }
# Busy jiffies of the whole machine (user + nice + system + irq + softirq + steal).
busy_jiffies() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# Waits (up to quiet_wait s) until the machine is idle: < 0.25 cores busy over one second.
wait_quiet() {
  local deadline=$((SECONDS + quiet_wait)) b0 b1
  while :; do
    b0="$(busy_jiffies)"; sleep 1; b1="$(busy_jiffies)"
    (((b1 - b0) * 4 < tck)) && return 0
    ((SECONDS >= deadline)) && { echo "  (machine still busy: $(((b1 - b0) * 100 / tck))% of a core)" >&2; return 0; }
  done
}

# One measurement: appends "round mode body req/s MB/s us/req server-cores other-cores" to runs.
run_one() {
  local mode="$1" body="$2" port t0 b0 c0 c1 b1 t1 w
  port="$(free_port)"
  "${nice_cmd[@]}" taskset -c 0 "$bin" --mode "$mode" --port "$port" --cert "$tmp/cert.pem" \
    --key "$tmp/key.pem" --body "$body" 2>"$tmp/server.log" &
  server_pid=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  local url="https://127.0.0.1:$port/"
  [[ $warmup != 0 ]] && "${nice_cmd[@]}" taskset -c 1 wrk -t1 -c"$conns" -d"$warmup" "$url" >/dev/null
  wait_quiet
  c0="$(cpu_ticks "$server_pid")"; b0="$(busy_jiffies)"; t0="$(date +%s.%N)"
  TIMEFORMAT='%3U %3S'
  { time timeout 60 "${nice_cmd[@]}" taskset -c 1 wrk -t1 -c"$conns" -d"$duration" "$url" \
      >"$tmp/wrk.out" 2>&1; } 2>"$tmp/wrk.time"
  c1="$(cpu_ticks "$server_pid")"; b1="$(busy_jiffies)"; t1="$(date +%s.%N)"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
  read -r -a w <"$tmp/wrk.time"
  if ! grep -qE 'handshakes, ([0-9]+) of them TLS 1.3' "$tmp/server.log" ||
    [[ $(sed -nE 's/.* ([0-9]+) handshakes, ([0-9]+) of them.*/\1 \2/p' "$tmp/server.log" |
      awk '{ print ($1 == $2 && $1 > 0) }') != 1 ]]; then
    echo "  not every connection used TLS 1.3 (or the server died):" >&2; cat "$tmp/server.log" >&2
  fi
  if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk.out"; then
    echo "  errors in $mode body=$body:" >&2; grep -E 'Non-2xx|Socket errors' "$tmp/wrk.out" >&2
  fi
  python3 - "$tmp/wrk.out" "$round" "$mode" "$body" "$c0" "$c1" "$b0" "$b1" "$t0" "$t1" "$tck" "${w[0]}" \
    "${w[1]}" >"$tmp/run" <<'EOF'
import re, sys
out, rnd, mode, body = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], sys.argv[4]
c0, c1, b0, b1 = (int(x) for x in sys.argv[5:9])
t0, t1, tck, wu, ws = (float(x) for x in sys.argv[9:14])
m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)([KMGT]?B) read", out)
if not m:
    sys.exit("wrk output not understood:\n" + out)
reqs = int(m.group(1))
secs = float(m.group(2)) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60}[m.group(3)]
nbytes = float(m.group(4)) * 1024 ** "BKMGT".index(m.group(5)[0])
wall = t1 - t0
server = (c1 - c0) / tck
other = max(0.0, (b1 - b0) / tck - server - wu - ws) / wall  # cores used by everything else
print(rnd, mode, body, f"{reqs / secs:.1f}", f"{nbytes / secs / 1e6:.1f}", f"{server * 1e6 / reqs:.2f}",
      f"{server / wall:.2f}", f"{other:.2f}")
EOF
  echo "  $(cat "$tmp/run")" >&2
}

# run_one, redone (up to busy_retries times) while other processes used more than 0.25 cores
# during it; the least disturbed attempt goes to runs.
measure() {
  local best="" attempt
  for ((attempt = 0; attempt <= busy_retries; attempt++)); do
    run_one "$@"
    if [[ -z $best ]] || awk -v a="$(cut -d' ' -f8 "$tmp/run")" -v b="${best##* }" 'BEGIN { exit !(a < b) }'; then
      best="$(cat "$tmp/run")"
    fi
    awk -v a="${best##* }" 'BEGIN { exit !(a <= 0.25) }' && break
    ((attempt < busy_retries)) && echo "  disturbed (${best##* } cores of other load): again" >&2
  done
  echo "$best" >>"$tmp/runs"
}

modes=(bufferevent direct)
for ((round = 1; round <= rounds; round++)); do
  echo "round $round/$rounds" >&2
  for body in $bodies; do
    # Alternate which mode goes first, so drift on the machine does not favour one.
    if ((round % 2 == 1)); then order=("${modes[@]}"); else order=("${modes[1]}" "${modes[0]}"); fi
    for mode in "${order[@]}"; do measure "$mode" "$body"; done
  done
done

table="$(python3 "$here/report.py" "$tmp/runs")"
echo
echo "$table"

if [[ -n $out ]]; then
  {
    echo "# TLS I/O layer: bufferevent_openssl vs direct SSL_read/SSL_write (bench/tls_io/run.sh)"
    echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine:  $(lscpu | sed -n 's/^Model name: *//p' | head -n1), $(nproc) CPUs, kernel $(uname -r)"
    echo "versions: $(openssl version | cut -d' ' -f1-2), libevent $(pkg-config --modversion libevent_openssl 2>/dev/null || echo '?'), $(wrk --version 2>&1 | head -n1 | cut -d' ' -f1-2)"
    echo "settings: server on CPU 0, wrk -t1 -c$conns -d$duration on CPU 1 (warm-up $warmup), TLS 1.3,"
    echo "          ECDSA P-256, keep-alive GET, $rounds rounds, modes alternating, nice ${TLS_IO_NICE:--10},"
    echo "          up to $busy_retries retries of a run disturbed by > 0.25 cores of other load"
    echo
    echo "$table"
  } >"$out"
  echo "written: $out" >&2
fi
