#!/usr/bin/env bash
# Configures (once) and builds tfc into build/ with ninja -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
ninja -C build -j"${TFC_JOBS:-2}"
