# runtime/ (libtfc_runtime): kernels against reference loops, loader and session errors,
# concurrency. The plans are written by the tests themselves (runtime_plan_builder.h).
find_package(Threads REQUIRED)
if(TARGET tfc_runtime_static)
  tfc_add_unit_test(runtime_kernels_test SOURCES runtime_kernels_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  tfc_add_unit_test(runtime_loader_test SOURCES runtime_loader_test.cpp
    LIBS tfc_runtime_static tfc_schema Threads::Threads)
  # The lazy checksums' once-per-plan count (Plan::weightsReads) is internal.
  target_include_directories(runtime_loader_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  # NaN and infinities through the kernels (softmax, activations, attention, ...).
  tfc_add_unit_test(runtime_nan_test SOURCES runtime_nan_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  # What a run requires of token ids and masks, checked per input and element.
  # The RmsNorm kernel's math against a plain reference (runtime/src/cpu/RmsNorm.h is internal).
  tfc_add_unit_test(runtime_rms_norm_test SOURCES runtime_rms_norm_test.cpp LIBS tfc_runtime_static)
  target_include_directories(runtime_rms_norm_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  # The blocked attention kernel (runtime/src/cpu/FusedAttention.h) per instruction set.
  tfc_add_unit_test(runtime_fused_attention_test SOURCES runtime_fused_attention_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  target_include_directories(runtime_fused_attention_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  # The GatedLinear kernel's oneDNN primitives against plain loops (cpu/GatedLinear.h).
  tfc_add_unit_test(runtime_gated_linear_test SOURCES runtime_gated_linear_test.cpp
    LIBS tfc_runtime_static tfc_schema DNNL::dnnl)
  target_include_directories(runtime_gated_linear_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  # The packed-weight products (cpu/Gemv.h: scalar, AVX2, AVX-512) against plain double loops,
  # the bf16 / int8 Linear and GatedLinear kernels, the loader's checks of int8 scales.
  tfc_add_unit_test(runtime_gemv_test SOURCES runtime_gemv_test.cpp LIBS tfc_runtime_static tfc_schema)
  target_include_directories(runtime_gemv_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src
                                                       ${TFC_SOURCE_DIR}/support/include)
  # The int8 x int8 products (cpu/Int8Gemm.h: scalar, AVX2) and the int8 Linear with many rows
  # (cpu/LinearInt8.h) against plain double loops over the same quantized values.
  tfc_add_unit_test(runtime_int8_gemm_test SOURCES runtime_int8_gemm_test.cpp
    LIBS tfc_runtime_static tfc_schema DNNL::dnnl)
  target_include_directories(runtime_int8_gemm_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src
                                                            ${TFC_SOURCE_DIR}/support/include)
  # Attention weights kept on request (runtime/src/AttentionCapture.h) against a plain softmax.
  tfc_add_unit_test(runtime_attention_capture_test SOURCES runtime_attention_capture_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  target_include_directories(runtime_attention_capture_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  tfc_add_unit_test(runtime_input_rules_test SOURCES runtime_input_rules_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  tfc_add_unit_test(runtime_session_test SOURCES runtime_session_test.cpp
    LIBS tfc_runtime_static tfc_schema Threads::Threads)
  # The host-side shape helpers the CPU and CUDA kernels share (MovementShapes.h, GemmShapes.h).
  tfc_add_unit_test(runtime_shapes_test SOURCES runtime_shapes_test.cpp LIBS tfc_runtime_static tfc_schema)
  target_include_directories(runtime_shapes_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  # Decoding algorithms against a mock StepModel (runtime/src/Generate.h is internal).
  tfc_add_unit_test(runtime_generate_test SOURCES runtime_generate_test.cpp LIBS tfc_runtime_static)
  target_include_directories(runtime_generate_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  # The KV cache: runs tfc::rt::Session directly (cache length, rows, reorder).
  tfc_add_unit_test(runtime_cache_test SOURCES runtime_cache_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  target_include_directories(runtime_cache_test PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
  # The same file with its decode timing compiled in: a benchmark, never registered with ctest.
  add_executable(runtime_cache_bench runtime_cache_test.cpp)
  target_compile_definitions(runtime_cache_bench PRIVATE TFC_CACHE_BENCH_BUILD
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  target_include_directories(runtime_cache_bench PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
  target_link_libraries(runtime_cache_bench PRIVATE tfc_runtime_static tfc_schema GTest::gtest GTest::gtest_main)
  # A benchmark, not a test: built, never registered with ctest.
  add_executable(runtime_kernel_bench runtime_kernel_bench.cpp)
  target_link_libraries(runtime_kernel_bench PRIVATE tfc_runtime_static tfc_schema GTest::gtest GTest::gtest_main)
endif()
# The measured alternatives behind environment switches (runtime-M Linear primitives,
# oneDNN Attention) must stay correct too: each runs an existing test binary again under one
# environment setting, as its own ctest entry named BINARY.NAME.
function(tfc_add_env_variant binary name env)
  add_test(NAME ${binary}.${name} COMMAND ${binary} ${ARGN})
  set_tests_properties(${binary}.${name} PROPERTIES ENVIRONMENT ${env} LABELS unit)
endfunction()
if(TARGET runtime_kernels_test)
  tfc_add_env_variant(runtime_kernels_test linear_runtime_m TFC_LINEAR_RUNTIME_M=1
    --gtest_filter=*Linear*)
  # Decode-sized Linear / GatedLinear products of constant weights run on the packed GEMV
  # (cpu/LinearGemv.h); TFC_LINEAR_GEMV=0 keeps oneDNN's small-M path tested.
  tfc_add_env_variant(runtime_kernels_test linear_onednn TFC_LINEAR_GEMV=0 --gtest_filter=*Linear*)
  # The column split (Linear.cpp, runSplitColumns) runs by default only where oneDNN's product
  # is a brgemm kernel (AVX-512); TFC_LINEAR_SPLIT=1 takes it on every CPU.
  tfc_add_env_variant(runtime_kernels_test linear_split_always TFC_LINEAR_SPLIT=1
    --gtest_filter=*Linear*)
  # Above 16 rows a constant weight's product runs as a 1x1 convolution where oneDNN's matmul
  # reads plain rows (AVX2); TFC_LINEAR_CONV=1 takes it on every CPU, =0 keeps the matmul.
  tfc_add_env_variant(runtime_kernels_test linear_conv_always TFC_LINEAR_CONV=1
    --gtest_filter=*Linear*)
  tfc_add_env_variant(runtime_kernels_test linear_matmul TFC_LINEAR_CONV=0 --gtest_filter=*Linear*)
  tfc_add_env_variant(runtime_gated_linear_test onednn TFC_LINEAR_GEMV=0)
  # The GEMV code paths this CPU runs below its best (the scalar loops, AVX2 on an AVX-512 CPU)
  # through the kernels: TFC_GEMV_ISA lowers the instruction set the plans' weights are packed for.
  tfc_add_env_variant(runtime_gemv_test scalar_isa TFC_GEMV_ISA=scalar
    --gtest_filter=LowPrecision*)
  tfc_add_env_variant(runtime_kernels_test attention_onednn TFC_ATTENTION=onednn
    --gtest_filter=*Attention*)
  tfc_add_env_variant(runtime_nan_test attention_onednn TFC_ATTENTION=onednn
    --gtest_filter=*Attention*)
endif()
# A first prompt's CachedAttention runs the blocked kernel (FusedAttention.h);
# TFC_CACHED_PROMPT=rows keeps the per-query loop it replaced tested.
if(TARGET runtime_cache_test)
  tfc_add_env_variant(runtime_cache_test prompt_rows TFC_CACHED_PROMPT=rows
    --gtest_filter=RuntimeCache.Self*)
  # Which decode steps a backend may capture into a graph and replay (DecodeGraph.h; no GPU).
  tfc_add_unit_test(runtime_decode_graph_test SOURCES runtime_decode_graph_test.cpp
    LIBS tfc_runtime_static tfc_schema)
  target_include_directories(runtime_decode_graph_test PRIVATE ${PROJECT_SOURCE_DIR}/runtime/src)
endif()
# TFC_WAIT_POLICY (runtime/src/waitpolicy/WaitPolicy.h): parsing and mapping, then libgomp's own
# report (OMP_DISPLAY_ENV) of what it read at load, and the CPU an idle worker burns, per policy.
if(TARGET tfc_wait_policy)
  find_package(OpenMP REQUIRED COMPONENTS CXX)
  tfc_add_unit_test(runtime_wait_policy_test SOURCES runtime_wait_policy_test.cpp
    LIBS tfc_wait_policy)
  add_executable(runtime_wait_policy_probe runtime_wait_policy_probe.cpp)
  target_link_libraries(runtime_wait_policy_probe PRIVATE OpenMP::OpenMP_CXX tfc_runtime)
  set(probe_env OMP_DISPLAY_ENV=set:VERBOSE OMP_WAIT_POLICY=unset: GOMP_SPINCOUNT=unset:)
  # name | TFC_WAIT_POLICY | probe arguments | expected output (libgomp's lines, then tfc's)
  foreach(case
      "auto|auto|--max-idle-cpu-ms,1|GOMP_SPINCOUNT = '${TFC_WAIT_POLICY_AUTO_SPIN}'.*applied: auto: GOMP_SPINCOUNT=${TFC_WAIT_POLICY_AUTO_SPIN}"
      "unset||--max-idle-cpu-ms,1|GOMP_SPINCOUNT = '${TFC_WAIT_POLICY_AUTO_SPIN}'.*applied: auto: GOMP_SPINCOUNT="
      "passive|passive|--max-idle-cpu-ms,1|OMP_WAIT_POLICY = 'PASSIVE'.*GOMP_SPINCOUNT = '0'.*applied: passive: OMP_WAIT_POLICY=PASSIVE"
      "spin|spin||GOMP_SPINCOUNT = '300000'.*applied: spin: the OpenMP runtime's default")
    string(REPLACE "|" ";" fields "${case}")
    list(GET fields 0 name)
    list(GET fields 1 value)
    list(GET fields 2 args)
    list(GET fields 3 expect)
    string(REPLACE "," ";" args "${args}")
    add_test(NAME runtime_wait_policy_display.${name} COMMAND runtime_wait_policy_probe ${args})
    if(value STREQUAL "")
      set(env ${probe_env} TFC_WAIT_POLICY=unset:)
    else()
      set(env ${probe_env} TFC_WAIT_POLICY=set:${value})
    endif()
    set_tests_properties(runtime_wait_policy_display.${name} PROPERTIES
      ENVIRONMENT_MODIFICATION "${env}" PASS_REGULAR_EXPRESSION "${expect}" LABELS unit)
  endforeach()
  # The user's own OMP_WAIT_POLICY wins over TFC_WAIT_POLICY.
  add_test(NAME runtime_wait_policy_display.user_wins COMMAND runtime_wait_policy_probe)
  set_tests_properties(runtime_wait_policy_display.user_wins PROPERTIES
    ENVIRONMENT_MODIFICATION
      "OMP_DISPLAY_ENV=set:VERBOSE;GOMP_SPINCOUNT=unset:;OMP_WAIT_POLICY=set:ACTIVE;TFC_WAIT_POLICY=set:passive"
    PASS_REGULAR_EXPRESSION "OMP_WAIT_POLICY = 'ACTIVE'.*applied: passive: left to the user's OMP_WAIT_POLICY=ACTIVE"
    LABELS unit)
endif()
# Backend modules (runtime/src/BackendModule.h): libtfc_runtime's DT_NEEDED has no CUDA library;
# the loader against stand-in modules (one source built as libtfc_cuda.so three ways, in
# build/tests/backend_modules/<variant>, plus an empty directory); whole processes (death-test
# children) with the module absent, of another ABI, or the built one loaded on first need.
if(TARGET tfc_runtime_static)
  set(TFC_FAKE_MODULES ${TFC_BINARY_DIR}/tests/backend_modules)
  file(MAKE_DIRECTORY ${TFC_FAKE_MODULES}/empty)
  foreach(variant good badabi badlayout)
    add_library(tfc_fake_module_${variant} MODULE runtime_backend_module_fake.cpp)
    target_include_directories(tfc_fake_module_${variant} PRIVATE ${TFC_SOURCE_DIR}/runtime/src
      ${TFC_SOURCE_DIR}/runtime/include)
    # libtfc_runtime.so exports only the C API: a module carries its copy of the seam's code.
    target_link_libraries(tfc_fake_module_${variant} PRIVATE tfc_schema tfc_runtime_static)
    target_link_options(tfc_fake_module_${variant} PRIVATE "LINKER:--exclude-libs,ALL")
    set_target_properties(tfc_fake_module_${variant} PROPERTIES OUTPUT_NAME tfc_cuda
      LIBRARY_OUTPUT_DIRECTORY ${TFC_FAKE_MODULES}/${variant})
  endforeach()
  target_compile_definitions(tfc_fake_module_badabi PRIVATE TFC_FAKE_ABI_DELTA=1000)
  target_compile_definitions(tfc_fake_module_badlayout PRIVATE TFC_FAKE_LAYOUT_XOR=0x5a5a5a5au)
  tfc_add_unit_test(runtime_backend_module_test SOURCES runtime_backend_module_test.cpp
    LIBS tfc_runtime_static tfc_schema GTest::gmock ${CMAKE_DL_LIBS})
  target_include_directories(runtime_backend_module_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src)
  add_dependencies(runtime_backend_module_test tfc_wait_policy tfc_fake_module_good
    tfc_fake_module_badabi tfc_fake_module_badlayout)
endif()
# The backend seam: device texts, the registry, CpuDevice, sessions on explicit devices, old
# options structs, cuda plans for inspection (any_target), the staging path of a device the host
# cannot address. Compiles its plans from examples/models in-process (TfcDriver: not in a
# runtime-only build).
if(TARGET tfc_runtime_static AND TARGET TfcDriver)
  tfc_add_unit_test(runtime_backend_test SOURCES runtime_backend_test.cpp
    LIBS TfcDriver tfc_runtime_static tfc_schema DNNL::dnnl)
  target_include_directories(runtime_backend_test PRIVATE ${TFC_SOURCE_DIR}/runtime/src
    ${TFC_SOURCE_DIR}/support/include)
endif()
