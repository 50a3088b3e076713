#!/usr/bin/env bash
# Duplex PBX quick start, for a fresh Debian 12 machine, as root.
#
#   ./installer/quickstart.sh run    install what is missing, build, start the PBX
#   ./installer/quickstart.sh test   install what is missing, build, run every test
#
# `run` keeps the PBX in the foreground (Ctrl-C stops it): SIP on UDP and TCP
# 5060 on all interfaces, admin HTTP on 127.0.0.1:8080, the database in
# ./data/duplex.db, logs on the console. Extra arguments after `run` go to the
# daemon (e.g. --sip.port=5070).
#
# `test` exits non-zero if any test fails. With DUPLEX_SANITIZE=1 (CI sets
# CI=true, which implies it) it also builds and tests the ASan+UBSan variant.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
mode=${1:-}
shift || true

# Debian packages the build, the daemon and the tests need.
packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libpoco-dev libsqlite3-dev libminiupnpc-dev libspdlog-dev libfmt-dev libssl-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3 sqlite3 procps iproute2 sip-tester baresip openssl chromium chromium-driver wrk
  nftables miniupnpd miniupnpd-nftables coturn kamailio
)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "quickstart: these Debian packages are missing: ${missing[*]}" >&2
    echo "quickstart: run as root (or install them with apt-get) and try again" >&2
    exit 1
  fi
  echo "quickstart: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Kamailio is only the VoIP provider of the trunk lab tests, which start
  # their own instance in a network namespace. The Debian package enables a
  # system service that would take SIP port 5060 on this machine, the PBX's
  # port: switch it off.
  if [[ " ${missing[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now kamailio >/dev/null 2>&1 || true
  fi
}

build() { # build dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja "$@" >/dev/null
  cmake --build "$dir" --parallel "$(nproc)"
}

case "$mode" in
  run)
    install_missing
    build build -DCMAKE_BUILD_TYPE=Release
    mkdir -p data
    exec ./build/pbx/app/duplex --data.dir=./data "$@"
    ;;
  test)
    install_missing
    mkdir -p data
    build build -DCMAKE_BUILD_TYPE=Release
    (cd build && ctest --output-on-failure --timeout 600 -j 2)
    if [ "${DUPLEX_SANITIZE:-}" = 1 ] || [ "${CI:-}" = true ]; then
      build build-asan -DCMAKE_BUILD_TYPE=Debug -DDUPLEX_SANITIZE=ON
      # The namespace labs (label netns: NAT, office, trunk provider) drive
      # the same daemon code as the protocol tests, for minutes of wall
      # clock each; the Release pass runs them, the sanitizer pass runs
      # everything else (CI stays under 30 minutes on 2 cores).
      (cd build-asan && ctest --output-on-failure --timeout 900 -j 2 -LE netns)
    fi
    ;;
  *)
    echo "usage: $0 run [daemon options] | test" >&2
    exit 2
    ;;
esac
