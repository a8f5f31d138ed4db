//===- GatedLinear.h - the math of the GatedLinear kernel (for the kernel and its tests) -----===//
//
// y = act(x @ Wg) * (x @ Wu) with x [M, K], Wg and Wu [K, N] (row-major, read in place), y
// [M, N]: the SwiGLU (act = SiLU, x * sigmoid(x)) and GeGLU (act = GELU, erf or tanh) gated
// feed-forward projections of LLaMA, Mistral, Qwen2, Gemma and T5 v1.1.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_GATEDLINEAR_H
#define TFC_RUNTIME_CPU_GATEDLINEAR_H

#include "cpu/Dnnl.h"
#include "cpu/Kernel.h"
#include "cpu/LinearGemv.h"

#include "tfc/schema/plan_generated.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace tfc::rt {

/// The gate's activation: the schema's enum (plan.fbs GateActivation).
using GateActivation = tfc::plan::GateActivation;

/// oneDNN primitives of one gated projection, cached per (M, threads), and the gate's scratch.
class GatedLinearPrimitives : public KernelState {
public:
  /// Computes y (which must not alias x) on `env`'s stream and waits for it.
  void run(DnnlEnv &env, int threads, const float *x, const float *wg, const float *wu, float *y,
           int64_t M, int64_t K, int64_t N, GateActivation act);

private:
  struct Entry {
    int64_t m, k, n;
    int threads;
    GateActivation act;
    dnnl::matmul gate, up;
  };
  std::vector<Entry> cache_;
  std::vector<float> gate_; // act(x @ Wg), [M, N]

public:
  GemvState gemv; // the packed-weight path (LinearGemv.h)
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_GATEDLINEAR_H
