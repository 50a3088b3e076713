#!/usr/bin/env bash
# Builds the Debian package: build-deb/duplex_<version>_amd64.deb.
# Needs the build dependencies (./installer/quickstart.sh installs them) and
# dpkg-dev (dpkg-shlibdeps computes the package's Depends).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
cmake -S . -B build-deb -G Ninja -DCMAKE_BUILD_TYPE=Release -DDUPLEX_TESTS=OFF >/dev/null
cmake --build build-deb --parallel "$(nproc)" --target duplex
(cd build-deb && cpack -G DEB >/dev/null)
ls "$top"/build-deb/duplex_*_amd64.deb
