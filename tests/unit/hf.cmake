# Hugging Face checkpoints (frontends/hf): the safetensors reader's checks, import errors,
# and tests/hf/checkpoints/ imported, compiled and run through the runtime against the
# transformers references of tests/hf/refs/ (made by tests/hf/make_checkpoints.py).
if(TARGET TfcFrontendHf AND TARGET TfcDriver AND TARGET tfc_runtime_static)
  tfc_add_unit_test(hf_import_test SOURCES hf_import_test.cpp
    LIBS TfcFrontendHf TfcDriver tfc_runtime_static TfcSupport)
  # The model.fbs 2.0 architectures of tests/hf/arch/ (make_arch_fixtures.py); arch_corpus_test
  # (onnx.cmake) holds the same checkpoints to issue 11's acceptance.
  tfc_add_unit_test(hf_arch_test SOURCES hf_arch_test.cpp
    LIBS TfcFrontendHf TfcDriver tfc_runtime_static TfcSupport)
endif()
