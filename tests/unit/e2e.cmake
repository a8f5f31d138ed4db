# End-to-end: tests/e2e/e2e_reference_test.cpp compiles every model of
# tests/e2e/refs/manifest.json with the `tfc` binary, runs the plans through the runtime's
# C API and compares them with the PyTorch reference outputs. Registered only once the
# runtime library exists (it is built alongside); labelled e2e, not unit.
if(TARGET tfc_runtime AND TARGET tfc AND TARGET TfrunLib)
  add_executable(e2e_reference_test ${TFC_SOURCE_DIR}/tests/e2e/e2e_reference_test.cpp)
  target_include_directories(e2e_reference_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(e2e_reference_test PRIVATE tfc_runtime TfrunLib GTest::gtest
    GTest::gtest_main)
  target_compile_definitions(e2e_reference_test PRIVATE
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  add_dependencies(e2e_reference_test tfc) # the test runs ${TFC_BINARY_DIR}/bin/tfc
  gtest_discover_tests(e2e_reference_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS e2e TIMEOUT 900)
endif()

# Generation (KV cache): decode_step/prefill vs forward, greedy vs the PyTorch loops of
# tests/generation/, sampling/beam properties, errors. Runs the `tfc` binary like the test above.
if(TARGET tfc_runtime AND TARGET tfc AND TARGET TfrunLib)
  add_executable(generation_test ${TFC_SOURCE_DIR}/tests/e2e/generation_test.cpp)
  target_include_directories(generation_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(generation_test PRIVATE tfc_runtime TfrunLib GTest::gtest GTest::gtest_main)
  target_compile_definitions(generation_test PRIVATE
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  add_dependencies(generation_test tfc)
  gtest_discover_tests(generation_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS e2e TIMEOUT 900)
endif()

# all-MiniLM-L6-v2 (the real checkpoint tools/get_minilm.sh installs) against
# sentence-transformers' token ids and embeddings (tests/hf/minilm/).
if(TARGET tfc_runtime AND TARGET tfc AND TARGET TfrunLib)
  add_executable(minilm_test ${TFC_SOURCE_DIR}/tests/e2e/minilm_test.cpp)
  target_include_directories(minilm_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(minilm_test PRIVATE tfc_runtime TfrunLib GTest::gtest GTest::gtest_main)
  target_compile_definitions(minilm_test PRIVATE
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  add_dependencies(minilm_test tfc)
  gtest_discover_tests(minilm_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS e2e TIMEOUT 900)
endif()
