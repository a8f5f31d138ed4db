#!/usr/bin/env bash
# Sanitizers and fuzzing (docs/ROBUSTNESS.md), a stage of tools/test.sh:
#   1. build-asan/: clang, AddressSanitizer + UndefinedBehaviorSanitizer (+ libFuzzer's coverage
#      instrumentation), no CUDA: the unit tests of the runtime, tokenizers, support and tfrun,
#      then the fuzz targets (tests/fuzz, -DTFC_FUZZ=ON); runs those unit tests;
#   2. build-tsan/: clang, ThreadSanitizer, runtime only: the concurrency tests of
#      runtime_session_test (N sessions on N threads, one session on two threads);
#   3. every fuzz target for TFC_FUZZ_SECONDS (default 20: the CI budget, docs/ROBUSTNESS.md)
#      on its seed corpus (the repository's fixtures, tests/fuzz/make_seed_corpora.sh) plus
#      tests/fuzz/corpus/<target>/ (past findings). A crash, a sanitizer report, a leak or a timeout fails the stage; the
#      reproducer is left in build-asan/fuzz-artifacts/.
# Prints each step's wall time. TFC_SKIP_SANITIZE=1 skips it all (local use; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${TFC_SKIP_SANITIZE:-0}" == 1 ]]; then
  echo "sanitize: skipped (TFC_SKIP_SANITIZE=1)"
  exit 0
fi
jobs=${TFC_JOBS:-2}
seconds=${TFC_FUZZ_SECONDS:-20}
t_all=$SECONDS
step() { echo "sanitize: $1: $(( SECONDS - t_step )) s"; t_step=$SECONDS; }
t_step=$SECONDS

# The sanitizer runtimes and libFuzzer ship with clang (libclang-rt-14-dev on bookworm).
if ! command -v clang++ > /dev/null || \
   ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" > /dev/null; then
  tools/setup.sh --sanitize
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:ignore_noninstrumented_modules=1:suppressions=$PWD/tests/fuzz/tsan.supp}
# The CPU backend's OpenMP threads: two are enough, and fewer make TSan's life easier.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}

san_flags="-fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=undefined"
san_flags+=" -fno-omit-frame-pointer -gline-tables-only"
common=(-G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTFC_WITH_CUDA=OFF
        -DTFC_PYTHON=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
        "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1" "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1")
# ccache, where installed (tools/setup.sh --dev), as in tools/build.sh: a fresh clone's
# sanitizer builds then cost what their changed files cost. CI has none.
if command -v ccache > /dev/null; then
  common+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# 1. ASan + UBSan: unit tests and fuzz targets.
unit_tests=(runtime_kernels_test runtime_loader_test runtime_nan_test runtime_rms_norm_test
  runtime_fused_attention_test runtime_gated_linear_test runtime_gemv_test runtime_int8_gemm_test
  runtime_attention_capture_test runtime_input_rules_test runtime_session_test runtime_shapes_test
  runtime_generate_test runtime_cache_test tokenizer_test support_output_file_test
  support_float16_test support_npy_test tfrun_cli_test)
if [[ ! -f build-asan/build.ninja ]]; then
  cmake -S . -B build-asan "${common[@]}" -DTFC_FUZZ=ON \
    "-DCMAKE_C_FLAGS=$san_flags -fsanitize=fuzzer-no-link" \
    "-DCMAKE_CXX_FLAGS=$san_flags -fsanitize=fuzzer-no-link" > build-asan-configure.log && mv build-asan-configure.log build-asan/configure.log
fi
step "configure build-asan"
nice ninja -C build-asan -j"$jobs" "${unit_tests[@]}" fuzzers
step "build build-asan (unit tests + fuzz targets)"
# $jobs executables at a time; each writes build-asan/<test>.log, and <test>.failed on failure.
rm -f build-asan/*.failed
printf '%s\n' "${unit_tests[@]}" | (cd build-asan && xargs -P "$jobs" -I{} sh -c \
  './bin/{} --gtest_brief=1 > {}.log 2>&1 || touch {}.failed')
failed=()
for t in "${unit_tests[@]}"; do
  if [[ -f build-asan/$t.failed ]]; then
    failed+=("$t")
    tail -40 "build-asan/$t.log"
  fi
done
step "run the unit tests under ASan+UBSan (${#unit_tests[@]} executables)"
if ((${#failed[@]})); then
  echo "sanitize: FAILED under ASan+UBSan: ${failed[*]} (logs: build-asan/<test>.log)"
  exit 1
fi

# 2. TSan: the concurrency tests.
if [[ ! -f build-tsan/build.ninja ]]; then
  cmake -S . -B build-tsan "${common[@]}" -DTFC_RUNTIME_ONLY=ON \
    "-DCMAKE_C_FLAGS=-fsanitize=thread -gline-tables-only" \
    "-DCMAKE_CXX_FLAGS=-fsanitize=thread -gline-tables-only" > build-tsan-configure.log && mv build-tsan-configure.log build-tsan/configure.log
fi
nice ninja -C build-tsan -j"$jobs" runtime_session_test
step "build build-tsan (runtime_session_test)"
# Archer (LLVM's OpenMP tool for TSan) tells TSan about libomp's barriers and tasks; without it
# every parallel region reads as a race with the thread that set its data up.
archer=$(compgen -G "/usr/lib/llvm-*/lib/libarcher.so" | head -1 || true)
if ! (cd build-tsan && OMP_TOOL_LIBRARIES=$archer ./bin/runtime_session_test --gtest_brief=1 \
      --gtest_filter='*NThreads*:*Busy*:*Lifetime*:*PlanFile*' > tsan.log 2>&1); then
  tail -60 build-tsan/tsan.log
  echo "sanitize: FAILED under TSan (log: build-tsan/tsan.log)"
  exit 1
fi
step "run the concurrency tests under TSan"

# 3. Fuzzing.
plan_tfc=""
[[ -x build/bin/tfc ]] && plan_tfc=build/bin/tfc
tests/fuzz/make_seed_corpora.sh build-asan/fuzz-seeds $plan_tfc > build-asan/fuzz-seeds.log
mkdir -p build-asan/fuzz-artifacts
step "seed corpora"
fuzz_failed=()
for bin in build-asan/bin/fuzz_*; do
  t=$(basename "$bin")
  work=build-asan/fuzz-work/$t
  mkdir -p "$work"
  if ! "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=3072 -max_len=1048576 \
       -print_final_stats=1 -artifact_prefix=build-asan/fuzz-artifacts/"$t"- \
       "$work" "build-asan/fuzz-seeds/$t" > "build-asan/$t.log" 2>&1; then
    fuzz_failed+=("$t")
    grep -A30 "ERROR\|==ERROR\|runtime error\|deadly signal\|Timeout" "build-asan/$t.log" | head -60
  fi
  echo "sanitize: $t: $(grep -o 'stat::number_of_executed_units: [0-9]*' "build-asan/$t.log" | awk '{print $2}') runs, $(ls "$work" | wc -l) corpus files"
  step "fuzz $t (${seconds} s)"
done
if ((${#fuzz_failed[@]})); then
  echo "sanitize: FAILED fuzz targets: ${fuzz_failed[*]} (reproducers: build-asan/fuzz-artifacts/)"
  exit 1
fi
echo "sanitize: passed in $(( SECONDS - t_all )) s"
