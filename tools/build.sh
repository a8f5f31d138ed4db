#!/usr/bin/env bash
# Configures (once) and builds tfc into build/ with ninja -j2.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -f build/build.ninja ]]; then
  launcher=()
  # ccache, where installed (tools/setup.sh --dev), makes rebuilds in fresh clones cheap; CI has none.
  if command -v ccache > /dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache
              -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}"
fi
ninja -C build -j"${TFC_JOBS:-2}"
