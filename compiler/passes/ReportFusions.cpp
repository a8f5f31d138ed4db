//===- ReportFusions.cpp - the fusion report as remarks -------------------===//
//
// tfc-report-fusions: a read-only pass that makes FusionReport.h testable
// with `-verify-diagnostics`: a remark on each unfused candidate op
// ("unfused attention candidate: <reason>") and on each function
// ("fused: attention A, layer_norm L, gelu G, linear N" for the module).
//
//===----------------------------------------------------------------------===//
#include "FusionReport.h"
#include "Passes.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_REPORTFUSIONS
#include "Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct ReportFusionsPass : tfc::impl::ReportFusionsBase<ReportFusionsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FusionCounts counts = countFusedOps(module);
    module.walk([&](func::FuncOp func) {
      func.emitRemark() << "fused: attention " << counts.attention << ", layer_norm "
                        << counts.layerNorm << ", gelu " << counts.gelu << ", linear "
                        << counts.linear << ", rotary " << counts.rotary;
    });
    forEachUnfusedCandidate(module, [](Operation *op, const UnfusedCandidate &c) {
      op->emitRemark() << "unfused " << c.pattern << " candidate: " << c.reason;
    });
    markAllAnalysesPreserved();
  }
};

} // namespace
