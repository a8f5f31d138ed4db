#!/usr/bin/env bash
# Sets up, builds and runs every test (GoogleTest + lit, through ctest).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
cd build
ctest --output-on-failure -j2
