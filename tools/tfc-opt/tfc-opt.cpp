//===- tfc-opt.cpp - run tfc passes on .mlir files (lit tests use it) ----===//
#include "Passes.h"
#include "tfc/IR/TfcDialect.h"
#include "tfc/generation/DeriveGeneration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::tfc::TfcDialect, mlir::func::FuncDialect>();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::tfc::registerAllPasses();
  tfc::generation::registerDeriveGenerationPass();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "tfc optimizer driver\n", registry));
}
