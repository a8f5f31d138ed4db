//===- fuzz_onnx.cpp - libFuzzer: the ONNX importer (frontends/onnx) ---------------------------===//
//
// Input: a serialized ModelProto. importOnnxBuffer parses it (protobuf), checks every node
// against the op table, folds shape subgraphs and builds the primitive IR of @forward with small
// bounds (so that constant folding stays cheap). Any Status is fine; a crash, a hang or a
// sanitizer report is a finding. One MLIRContext for the whole run (each input's module is
// destroyed with its ImportResult).
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/frontends/OnnxFrontend.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *c = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    c->printOpOnDiagnostic(false);
    // Diagnostics the importer does not capture itself would flood the fuzzer's output.
    c->getDiagEngine().registerHandler([](mlir::Diagnostic &) { return mlir::success(); });
    return c;
  }();
  tfc::onnxfe::ImportOptions options;
  options.maxBatch = 2;
  options.maxSeq = 16;
  tfc::onnxfe::ImportResult result;
  (void)tfc::onnxfe::importOnnxBuffer(*context, std::string(reinterpret_cast<const char *>(data),
                                                            size),
                                      "fuzz.onnx", options, result);
  return 0;
}
