//===- Pipeline.cpp - the standard tfc pass pipeline ----------------------===//
//
// buildPipeline() on a ModuleOp pass manager:
//   fuse = true:  tfc-canonicalize -> tfc-fold-constants -> (per func) tfc-fuse-gelu
//                 -> tfc-fuse-layer-norm -> tfc-fuse-rms-norm -> tfc-fuse-gated-linear
//                 -> tfc-fuse-rotary -> tfc-fuse-attention -> tfc-fuse-linear
//                 -> tfc-fuse-sibling-linears -> tfc-canonicalize
//                 -> tfc-fold-constants -> tfc-dce
//   fuse = false: tfc-canonicalize -> tfc-fold-constants -> tfc-dce
// Constants fold before the fusions, so that a matmul whose weight was a
// transpose (or slice) of a weight sees a plain weight and fuses into a
// tfc.linear with a constant weight; GELU goes first so that tfc-fuse-linear
// can take it as the activation (and the gated projection its GELU); RMS norm
// after layer norm (a layer norm's variance is a mean of squares too); the
// gated projection and attention before linear so that their matmuls are gone
// when linear runs; rotary before attention so that the attention matcher
// sees Q and K as tfc.rotary results split into heads; sibling linears (q, k,
// v of one input) after the attention matcher has seen them one by one, and a
// second fold to make their weights' concat one derived weight.
// registerAllPasses() registers every pass and `tfc-pipeline{fuse=true|false}`.
//
//===----------------------------------------------------------------------===//
#include "Passes.h"

#include "mlir/Pass/PassOptions.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace {

struct PipelineCommandLineOptions : PassPipelineOptions<PipelineCommandLineOptions> {
  Option<bool> fuse{*this, "fuse",
                    llvm::cl::desc("run the fusion passes (false: canonicalize + DCE only)"),
                    llvm::cl::init(true)};
};

} // namespace

void mlir::tfc::buildPipeline(OpPassManager &pm, const PipelineOptions &options) {
  pm.addPass(createTfcCanonicalize());
  pm.addPass(createFoldConstants(options.weights));
  if (options.fuse) {
    OpPassManager &func = pm.nest<func::FuncOp>();
    func.addPass(createFuseGelu());
    func.addPass(createFuseLayerNorm());
    func.addPass(createFuseRmsNorm());
    func.addPass(createFuseGatedLinear());
    func.addPass(createFuseRotary());
    func.addPass(createFuseAttention());
    func.addPass(createFuseLinear());
    pm.addPass(createFuseSiblingLinears(options.weights));
    pm.addPass(createTfcCanonicalize());
    // The sibling linears' weight concats become derived weights.
    pm.addPass(createFoldConstants(options.weights));
  }
  pm.addPass(createDeadCodeElimination());
}

void mlir::tfc::registerAllPasses() {
  static const bool registered = [] {
    registerTfcPasses();
    PassPipelineRegistration<PipelineCommandLineOptions>(
        "tfc-pipeline", "the standard tfc pipeline (fusions, canonicalization, DCE)",
        [](OpPassManager &pm, const PipelineCommandLineOptions &options) {
          PipelineOptions pipeline;
          pipeline.fuse = options.fuse;
          buildPipeline(pm, pipeline);
        });
    return true;
  }();
  (void)registered;
}
