#!/usr/bin/env bash
# Sets up, builds and runs every test (GoogleTest + lit, through ctest), then the sanitizer and
# fuzzing stage (tools/sanitize.sh: ASan+UBSan unit tests, TSan concurrency tests, every fuzz
# target for TFC_FUZZ_SECONDS; TFC_SKIP_SANITIZE=1 skips it locally, CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
(cd build && ctest --output-on-failure -j2)
tools/sanitize.sh
