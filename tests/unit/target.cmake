# compiler/target and `tfc compile --target/--precision`: the capability table, lowering to a
# target, low-precision plans of the examples, the plan verifier (target_test); every model of
# the repository that runs on the CPU compiled for cuda fp16 and bf16 (target_corpus_test).
tfc_add_unit_test(target_test SOURCES target_test.cpp LIBS TfcDriver tfc_runtime_static)
if(TARGET TfcDriver AND TARGET tfc_runtime_static)
  add_executable(target_corpus_test target_corpus_test.cpp)
  target_include_directories(target_corpus_test PRIVATE ${TFC_SOURCE_DIR}/tests/e2e)
  target_link_libraries(target_corpus_test PRIVATE TfcDriver tfc_runtime_static TfcSupport GTest::gtest)
  target_compile_definitions(target_corpus_test PRIVATE TFC_SOURCE_DIR="${TFC_SOURCE_DIR}")
  gtest_discover_tests(target_corpus_test DISCOVERY_TIMEOUT 60 PROPERTIES LABELS e2e TIMEOUT 300)
endif()
# cpu --precision bf16 / int8 (weight-only): the converted weights, their scales, the verifier's
# and the runtime's checks of them (compiler/lower/cpu/WeightPrecision.h).
tfc_add_unit_test(weight_precision_test SOURCES weight_precision_test.cpp LIBS TfcDriver tfc_runtime_static)
target_include_directories(weight_precision_test PRIVATE ${TFC_SOURCE_DIR}/support/include)
