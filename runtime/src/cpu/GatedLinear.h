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

/// oneDNN primitives of one gated projection, cached per (M, threads, weights copied), and the
/// gate's scratch.
class GatedLinearPrimitives : public KernelState {
public:
  struct Entry {
    int64_t m, k, n;
    int threads;
    GateActivation act;
    bool copyAsked; // the weights come from plan-wide copies (PackedWeights.h)
    bool bf16Asked; // bf16 products where oneDNN has them (weights.data_type() says)
    dnnl::matmul gate, up;
    dnnl::memory::desc weights; // the layout (and type: f32, or bf16) both weights are read in
    const void *gateData = nullptr, *upData = nullptr; // the copies, once found
    dnnl::reorder toBf16 = {}; // bf16 weights: x, f32 -> bf16
  };
  /// The primitives for these dimensions, made on first use: with `copy`, reading weights in
  /// the layout of `weights` (oneDNN's own, or padded rows), else plain `ab` in place; with
  /// `bf16` (a bf16 plan's weights, bf16ProductsInBf16), both products in bf16 (x rounded to
  /// bf16, f32 sums) where oneDNN has a bf16 kernel for them, else as without it.
  Entry &entry(DnnlEnv &env, int threads, int64_t M, int64_t K, int64_t N, GateActivation act,
               bool copy, bool bf16);
  /// Computes y (which must not alias x) on `env`'s stream and waits for it: x [e.m, e.k], the
  /// weights in e.weights' layout.
  void run(DnnlEnv &env, const Entry &e, const float *x, const void *wg, const void *wu, float *y);
  /// The same with plain row-major [K, N] weights read in place.
  void run(DnnlEnv &env, int threads, const float *x, const float *wg, const float *wu, float *y,
           int64_t M, int64_t K, int64_t N, GateActivation act);

private:
  std::vector<Entry> cache_;
  std::vector<float> gate_; // act(x @ Wg), [M, N]
  std::vector<uint16_t> xBf16_; // x rounded to bf16 (bf16 products)

public:
  GemvState gemv; // the packed-weight path (LinearGemv.h)
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_GATEDLINEAR_H
