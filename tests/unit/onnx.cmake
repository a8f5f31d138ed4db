# ONNX frontend: the importer on small models built in C++ (onnx_importer_test), and the
# corpus of tests/onnx/ compiled, run through the runtime and compared with the ONNX Runtime
# references (onnx_corpus_test, labelled e2e; skips when tests/onnx/manifest.json is absent).
if(TARGET TfcFrontendOnnx)
  tfc_find_dependency(Protobuf DEBIAN libprotobuf-dev protobuf-compiler)
  tfc_find_dependency(ONNX DEBIAN libonnx-dev ARGS CONFIG)
  tfc_add_unit_test(onnx_importer_test SOURCES onnx_importer_test.cpp
    LIBS TfcFrontendOnnx onnx_proto protobuf::libprotobuf)
  target_compile_definitions(onnx_importer_test PRIVATE ONNX_NAMESPACE=onnx ONNX_ML=1)
endif()

if(TARGET TfcDriver AND TARGET tfc_runtime_static)
  add_executable(onnx_corpus_test onnx_corpus_test.cpp)
  target_include_directories(onnx_corpus_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(onnx_corpus_test PRIVATE TfcDriver tfc_runtime_static TfcSupport GTest::gtest
    GTest::gtest_main)
  target_compile_definitions(onnx_corpus_test PRIVATE
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  gtest_discover_tests(onnx_corpus_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS e2e TIMEOUT 900)
  # Issue 11's architectures: tests/onnx/arch/ (ONNX exports vs ONNX Runtime) and the
  # checkpoints of tests/hf/arch/ (vs transformers), each test named after the model and
  # its status in the expectations.json beside the manifest (ArchCorpus.llama_Blocked).
  add_executable(arch_corpus_test arch_corpus_test.cpp)
  target_include_directories(arch_corpus_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(arch_corpus_test PRIVATE TfcDriver tfc_runtime_static TfcSupport GTest::gtest)
  target_compile_definitions(arch_corpus_test PRIVATE TFC_SOURCE_DIR="${TFC_SOURCE_DIR}")
  gtest_discover_tests(arch_corpus_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS e2e TIMEOUT 300)
endif()

# RMS norms and gated feed-forwards (tests/onnx/norm_ffn/): all fused, fused and --no-fuse plans
# vs the ONNX Runtime references.
if(TARGET TfcDriver AND TARGET tfc_runtime_static)
  add_executable(norm_ffn_onnx_test norm_ffn_onnx_test.cpp)
  target_include_directories(norm_ffn_onnx_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(norm_ffn_onnx_test PRIVATE TfcDriver tfc_runtime_static TfcSupport GTest::gtest
    GTest::gtest_main)
  target_compile_definitions(norm_ffn_onnx_test PRIVATE
    TFC_SOURCE_DIR="${TFC_SOURCE_DIR}" TFC_BINARY_DIR="${TFC_BINARY_DIR}")
  gtest_discover_tests(norm_ffn_onnx_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS e2e TIMEOUT 300)
endif()
