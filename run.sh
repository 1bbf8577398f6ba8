#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what is missing, builds, and runs gatehouse in front of the demo backend
# (127.0.0.1:8081) on http://127.0.0.1:8080/ and https://localhost:8443/. Ctrl-C stops both.
#
# HTTPS uses a self-signed certificate for localhost (ECDSA P-256) made on the first run and kept
# in .run/tls/ (not committed; delete it for a new one). The config served is conf/gatehouse.yaml
# plus that TLS listener, written to .run/gatehouse.yaml on every run; conf/gatehouse.yaml itself
# stays usable without any certificate.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
gatehouse_install_deps

[ -f build/build.ninja ] || meson setup build --buildtype=release
meson compile -C build gatehouse

run_dir=$PWD/.run
mkdir -p "$run_dir/tls"
if [ ! -s "$run_dir/tls/localhost.crt" ] || [ ! -s "$run_dir/tls/localhost.key" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
    -keyout "$run_dir/tls/localhost.key" -out "$run_dir/tls/localhost.crt" \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
  echo "made a self-signed certificate: $run_dir/tls/localhost.crt"
fi
# The https listener goes at the end of the `listeners:` list of the default config.
https_listener="  - name: https
    address: \"127.0.0.1:8443\"
    tls:
      certificates:
        - cert: $run_dir/tls/localhost.crt
          key: $run_dir/tls/localhost.key"
awk -v block="$https_listener" '
  in_list && !/^ / { print block; in_list = 0 }
  { print }
  /^listeners:/ { in_list = 1 }
  END { if (in_list) print block }
' conf/gatehouse.yaml >"$run_dir/gatehouse.yaml"

python3 tests/backend.py --listen 127.0.0.1:8081 &
backend=$!
trap 'kill $backend 2>/dev/null; wait $backend 2>/dev/null || true' EXIT
# gatehouse starts only once the backend answers, so the first requests get no 502.
backend_answers() {
  python3 -c 'import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", 8081), timeout=1)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    sys.exit(0 if s.recv(5) == b"HTTP/" else 1)
except OSError:
    sys.exit(1)' 2>/dev/null
}
for _ in $(seq 100); do
  backend_answers && break
  if ! kill -0 $backend 2>/dev/null; then
    echo "run.sh: the demo backend did not start (is 127.0.0.1:8081 in use?)" >&2
    exit 1
  fi
  sleep 0.1
done
if ! backend_answers; then
  echo "run.sh: the demo backend does not answer on 127.0.0.1:8081" >&2
  exit 1
fi
echo "try: curl http://127.0.0.1:8080/ and curl --cacert .run/tls/localhost.crt https://localhost:8443/"
# The main process stops gracefully on Ctrl-C (SIGINT), takes its worker with it and exits 0; it
# exits non-zero when it cannot start (a port in use, a bad config), and so does this script.
status=0
build/gatehouse -c "$run_dir/gatehouse.yaml" "$@" || status=$?
exit $status
