#!/usr/bin/env bash
# gpu_check.sh - build the runtime with CUDA on a GPU machine and run the CUDA tests there.
#
# For a lent GPU machine (no internet, a fixed budget of minutes): checks what the build needs and
# names what is missing, configures the runtime-only build (-DTFC_RUNTIME_ONLY=ON: no MLIR) with
# the CUDA backend for this machine's GPU architecture only, builds it, runs every tests/cuda
# executable, then the CPU runtime's unit tests (ctest -L unit) with whatever time is left.
# Everything it learns goes under $OUT/gpu_check (or ./gpu_check_out): env.txt, configure.log,
# build.log, one <test>.log and <test>.xml per CUDA test executable, ctest.log, summary.txt.
#
#   tools/gpu_check.sh            # from the repository root or anywhere
#   GPU_CHECK_BUILD_TIMEOUT=300 GPU_CHECK_TEST_TIMEOUT=180 GPU_CHECK_ARCH=90 tools/gpu_check.sh
#
# Exit status: 0 when every CUDA test ran and passed (skips fail it: on a GPU nothing should
# skip), 1 otherwise, 2 when a prerequisite is missing.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
LOG=${OUT:-$ROOT/gpu_check_out}/gpu_check
BUILD=${GPU_CHECK_BUILD_DIR:-$ROOT/build-gpu}
BUILD_TIMEOUT=${GPU_CHECK_BUILD_TIMEOUT:-330}
TEST_TIMEOUT=${GPU_CHECK_TEST_TIMEOUT:-150}
mkdir -p "$LOG"
SUMMARY=$LOG/summary.txt
: > "$SUMMARY"
say() { echo "gpu_check: $*" | tee -a "$SUMMARY"; }
JOBS=$(nproc 2>/dev/null || echo 4)

# ---- what is here ----------------------------------------------------------------------------
{
  date -u; uname -a
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv 2>&1
  for t in cmake ninja make g++ nvcc flatc; do printf '%-6s %s\n' "$t" "$(command -v $t || echo -)"; done
  cmake --version 2>&1 | head -1; nvcc --version 2>&1 | tail -2
} > "$LOG/env.txt" 2>&1
export PATH=$PATH:/usr/local/cuda/bin
missing=()
need_cmd() { command -v "$1" >/dev/null 2>&1 || missing+=("$1 ($2)"); }
need_file() { # a header or config any of whose paths exists
  local what=$1 pkg=$2; shift 2
  for f in "$@"; do [ -e "$f" ] && return; done
  missing+=("$what ($pkg)")
}
need_cmd cmake "cmake >= 3.20"
need_cmd g++ "g++"
need_cmd nvcc "the CUDA Toolkit, /usr/local/cuda/bin"
need_cmd flatc "flatbuffers-compiler"
command -v ninja >/dev/null 2>&1 || command -v make >/dev/null 2>&1 || missing+=("ninja or make (ninja-build)")
need_file "FlatBuffers headers" "libflatbuffers-dev" /usr/include/flatbuffers/flatbuffers.h /usr/local/include/flatbuffers/flatbuffers.h
need_file "oneDNN" "libdnnl-dev" /usr/include/oneapi/dnnl/dnnl.hpp /usr/include/dnnl.hpp /usr/local/include/oneapi/dnnl/dnnl.hpp
need_file "OpenCL headers (oneDNN's CMake config needs them)" "ocl-icd-opencl-dev" /usr/include/CL/cl.h /usr/local/include/CL/cl.h
need_file "GoogleTest" "libgtest-dev libgmock-dev" /usr/include/gtest/gtest.h /usr/local/include/gtest/gtest.h
if [ ${#missing[@]} -gt 0 ]; then
  say "missing prerequisites (Debian packages in parentheses):"
  for m in "${missing[@]}"; do say "  - $m"; done
  say "nothing built; env.txt has what was found"
  exit 2
fi
CAP=${GPU_CHECK_ARCH:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')}
if [ -z "$CAP" ]; then
  say "nvidia-smi reports no GPU (see env.txt); building for sm_90 (H100/H200) anyway"
  CAP=90
fi
say "GPU arch sm_$CAP; $JOBS jobs; logs in $LOG"

# ---- configure and build ---------------------------------------------------------------------
GEN=(); command -v ninja >/dev/null 2>&1 && GEN=(-G Ninja)
if ! cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DTFC_RUNTIME_ONLY=ON \
     -DTFC_WITH_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$CAP" \
     -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" > "$LOG/configure.log" 2>&1; then
  say "configure FAILED; the end of configure.log:"; tail -25 "$LOG/configure.log" | tee -a "$SUMMARY"
  exit 2
fi
# Keep going past a failed target (ninja -k 0, make -k): the tests that did build still run.
KEEP=(-- -k); [ ${#GEN[@]} -gt 0 ] && KEEP=(-- -k 0)
start=$(date +%s)
status=0
if ! timeout "$BUILD_TIMEOUT" cmake --build "$BUILD" -j "$JOBS" "${KEEP[@]}" > "$LOG/build.log" 2>&1; then
  say "build FAILED or timed out (${BUILD_TIMEOUT}s); the errors in build.log:"
  grep -E "error|FAILED" "$LOG/build.log" | head -30 | tee -a "$SUMMARY"
  status=1
fi
say "build took $(( $(date +%s) - start ))s"

# ---- the CUDA tests --------------------------------------------------------------------------
tests=$(cd "$ROOT/tests/cuda" && ls *_test.cpp 2>/dev/null | sed 's/\.cpp$//')
[ -n "$tests" ] || { say "no tests/cuda/*_test.cpp"; status=1; }
for t in $tests; do
  exe=$BUILD/bin/$t
  if [ ! -x "$exe" ]; then say "$t: NOT BUILT"; status=1; continue; fi
  timeout "$TEST_TIMEOUT" "$exe" --gtest_output="xml:$LOG/$t.xml" > "$LOG/$t.log" 2>&1
  rc=$?
  counts=$(grep -E "^\[  (PASSED|FAILED|SKIPPED) +\]" "$LOG/$t.log" | grep -E "tests?[,.]" | tr '\n' ' ')
  [ $rc -eq 124 ] && counts="TIMED OUT after ${TEST_TIMEOUT}s; $counts"
  say "$t: rc $rc; $counts"
  grep -E "^\[  (FAILED|SKIPPED) +\] [A-Za-z]" "$LOG/$t.log" | sort -u | head -20 | tee -a "$SUMMARY"
  if [ $rc -ne 0 ] || grep -q "SKIPPED" "$LOG/$t.log"; then status=1; fi
done

# ---- the CPU runtime's unit tests, with the time left ---------------------------------------
(cd "$BUILD" && timeout "$TEST_TIMEOUT" ctest -L unit -E '^Cuda' -j "$JOBS" --output-on-failure) \
  > "$LOG/ctest.log" 2>&1
say "ctest -L unit (CPU): $(grep -E 'tests passed|tests failed' "$LOG/ctest.log" | tail -1)"
say "overall: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
exit $status
