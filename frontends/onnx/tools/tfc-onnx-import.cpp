//===- tfc-onnx-import.cpp - print the primitive IR of an ONNX model -------===//
//
//   tfc-onnx-import model.onnx [-o out.mlir] [--debug-locs] [--max-batch N] [--max-seq N]
//   tfc-onnx-import --list-ops
//
// Imports the model (TfcFrontendOnnx) and prints the primitive tfc IR; a thin
// wrapper: errors are printed as the importer words them.
//
//===----------------------------------------------------------------------===//
#include "tfc/frontends/OnnxFrontend.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace {
int usage() {
  llvm::errs() << "usage: tfc-onnx-import model.onnx [-o out.mlir] [--debug-locs] "
                  "[--max-batch N] [--max-seq N] | --list-ops\n";
  return 2;
}
} // namespace

int main(int argc, char **argv) {
  std::string input, output = "-";
  bool debugLocs = false;
  tfc::onnxfe::ImportOptions options;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-o") && i + 1 < argc)
      output = argv[++i];
    else if (!std::strcmp(argv[i], "--debug-locs"))
      debugLocs = true;
    else if (!std::strcmp(argv[i], "--max-batch") && i + 1 < argc)
      options.maxBatch = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--max-seq") && i + 1 < argc)
      options.maxSeq = std::atoll(argv[++i]);
    else if (!std::strcmp(argv[i], "--list-ops")) {
      for (const auto &op : tfc::onnxfe::supportedOps())
        llvm::outs() << op.op << " " << op.minOpset << "-" << op.maxOpset << "\n";
      return 0;
    } else if (argv[i][0] == '-' || !input.empty())
      return usage();
    else
      input = argv[i];
  }
  if (input.empty())
    return usage();

  mlir::MLIRContext context;
  tfc::onnxfe::ImportResult result;
  if (auto s = tfc::onnxfe::importOnnxFile(context, input, options, result); !s.ok()) {
    llvm::errs() << "error: " << s.error << "\n";
    return 1;
  }
  std::error_code ec;
  llvm::raw_fd_ostream os(output, ec, llvm::sys::fs::OF_Text);
  if (ec) {
    llvm::errs() << "error: " << output << ": cannot write (" << ec.message() << ")\n";
    return 1;
  }
  mlir::OpPrintingFlags flags;
  if (debugLocs)
    flags.enableDebugInfo();
  result.module->print(os, flags);
  os << "\n";
  return 0;
}
