//===- LinearInt8.h - Linear with an int8 weight and many rows: int8 x int8 (Int8Gemm.h) -----===//
//
// A cpu plan compiled with --precision int8 stores its Linear weights as int8 with a scale per
// output column (support/Int8Weights.h). For a product with at least kInt8GemmMinRows rows
// (prompts, encoders: arithmetic-bound) the Linear kernel hands it here: the activations are
// quantized at run time (dynamic symmetric scales per row and block of 64 along K) and
// multiplied in int8 with int32 sums (Int8Gemm.h); bias and residual are added in the kernel's epilogue, GELU as a oneDNN
// eltwise pass and ReLU as a NaN-keeping loop over the output afterwards. Fewer rows (decode
// steps: bound by the weight's bytes) stay on the packed-weight path (LinearGemv.h), whose x
// stays f32. TFC_INT8_GEMM=0 sends every int8 product there (for measurements).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_LINEARINT8_H
#define TFC_RUNTIME_CPU_LINEARINT8_H

#include "GemmShapes.h"
#include "cpu/Dnnl.h"
#include "cpu/Int8Gemm.h"
#include "cpu/Kernel.h"

#include <vector>

namespace tfc::rt {

/// From this many rows an int8 weight's product runs int8 x int8 (measured: docs/BENCHMARKS.md,
/// "CPU precision").
constexpr int64_t kInt8GemmMinRows = 17;

/// What the path keeps per kernel and session.
struct Int8LinearState {
  const void *source = nullptr;                   // the weight's bytes (a plan constant)
  const int8gemm::PackedWeight *packed = nullptr; // owned by the plan's cache
  int8gemm::QuantizedRows rows;
  struct Eltwise {
    dnnl::algorithm alg;
    int64_t n;
    int threads;
    dnnl::eltwise_forward prim;
  };
  std::vector<Eltwise> eltwise;
  std::vector<float> scratch;
};

/// Runs the Linear kernel of `ctx` as an int8 x int8 product and returns true when this path
/// takes it (an int8 weight, enough rows); false: the caller runs it.
bool runLinearInt8(const KernelContext &ctx, const LinearDims &dims, Int8LinearState &state);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_LINEARINT8_H
