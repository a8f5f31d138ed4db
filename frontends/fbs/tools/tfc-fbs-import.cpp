//===- tfc-fbs-import.cpp - print the primitive IR of a model.fbs file -----===//
//
//   tfc-fbs-import model.fbs [-o out.mlir] [--debug-locs]
//
// Loads and validates the model, builds the primitive tfc IR (what the fusion
// passes consume) and prints it. A thin wrapper: everything happens in
// TfcFrontendFbs; errors are printed as the frontend words them.
//
//===----------------------------------------------------------------------===//
#include "tfc/frontends/FbsFrontend.h"

#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/FileSystem.h"

#include <cstring>
#include <string>

namespace {

int usage() {
  llvm::errs() << "usage: tfc-fbs-import model.fbs [-o out.mlir] [--debug-locs]\n";
  return 2;
}

} // namespace

int main(int argc, char **argv) {
  std::string input, output = "-";
  bool debugLocs = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "-o") && i + 1 < argc)
      output = argv[++i];
    else if (!std::strcmp(argv[i], "--debug-locs"))
      debugLocs = true;
    else if (argv[i][0] == '-' || !input.empty())
      return usage();
    else
      input = argv[i];
  }
  if (input.empty())
    return usage();

  tfc::fbs::Model model;
  if (tfc::fbs::Status s = tfc::fbs::loadModelFile(input, model); !s.ok()) {
    llvm::errs() << "error: " << s.error << "\n";
    return 1;
  }
  mlir::MLIRContext context;
  std::string error;
  auto module = tfc::fbs::buildModule(context, model, error);
  if (!module) {
    llvm::errs() << "error: " << error << "\n";
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
  module->print(os, flags);
  os << "\n";
  return 0;
}
