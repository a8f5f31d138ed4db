# End-to-end tests (tests/e2e/): they compile models with the `tfc` binary, run the plans
# through the runtime's C API and compare with independent references. Registered only once the
# runtime library exists (it is built alongside); labelled e2e, not unit.
function(tfc_add_e2e_test name)
  add_executable(${name} ${TFC_SOURCE_DIR}/tests/e2e/${name}.cpp)
  target_include_directories(${name} PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(${name} PRIVATE tfc_runtime_static TfcSupport GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  add_dependencies(${name} tfc) # the test runs ${TFC_BINARY_DIR}/bin/tfc
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS e2e TIMEOUT 900)
endfunction()

if(TARGET tfc_runtime_static AND TARGET tfc)
  # Every model of tests/e2e/refs/manifest.json (fused and --no-fuse) vs the PyTorch reference.
  tfc_add_e2e_test(e2e_reference_test)
  # Generation (KV cache): decode_step/prefill vs forward, greedy vs the PyTorch loops of
  # tests/generation/, sampling/beam properties, errors.
  tfc_add_e2e_test(generation_test)
  # (it also rewrites an ONNX export's dim names: the ONNX protobuf classes)
  tfc_find_dependency(Protobuf DEBIAN libprotobuf-dev protobuf-compiler)
  tfc_find_dependency(ONNX DEBIAN libonnx-dev ARGS CONFIG)
  target_link_libraries(generation_test PRIVATE onnx_proto protobuf::libprotobuf)
  target_compile_definitions(generation_test PRIVATE ONNX_NAMESPACE=onnx ONNX_ML=1)
  # cpu --precision bf16 / int8 (weight-only) against fp32 on the GPT-style fixtures: logits
  # and greedy tokens.
  tfc_add_e2e_test(precision_generation_test)
  # all-MiniLM-L6-v2 (the real checkpoint tools/get_minilm.sh installs) against
  # sentence-transformers' token ids and embeddings (tests/hf/minilm/).
  tfc_add_e2e_test(minilm_test)
  # tfc compile's accuracy check of bf16 / int8 plans (tools/tfc/PrecisionCheck.h): the figures
  # against both plans run here, refusals, --calibrate errors, the report.
  tfc_add_e2e_test(accuracy_check_test)
endif()
