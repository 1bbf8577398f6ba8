#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages gatehouse needs to build, test and run, if any is missing.
# Sourced by run.sh and test.sh; safe to run again (it only calls apt-get when something lacks).
set -euo pipefail

GATEHOUSE_PACKAGES=(
  meson ninja-build pkg-config g++ clang libclang-rt-14-dev
  libevent-dev libssl-dev libnghttp2-dev libxxhash-dev libyaml-cpp-dev doctest-dev libre2-dev
  zlib1g-dev libbrotli-dev
  python3 python3-pytest python3-h2 python3-cryptography nghttp2-client curl openssl ca-certificates
)

gatehouse_install_deps() {
  local missing=()
  for p in "${GATEHOUSE_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}
