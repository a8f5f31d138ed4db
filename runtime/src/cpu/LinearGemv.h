//===- LinearGemv.h - Linear / GatedLinear on packed weights (Gemv.h): decode, bf16, int8 ----===//
//
// The Linear and GatedLinear kernels hand their product to this path
//   * when the weight is bf16 or int8 (a cpu plan compiled with --precision bf16|int8:
//     weight-only, plan.fbs Plan.weight_precision; the activations stay f32), for any M, but
//     bf16 above kGemvMaxRows rows, which the kernels run on an f32 copy of the weight with
//     oneDNN (bf16ProductsAsF32; Linear in bf16 where the CPU has bf16 products,
//     bf16ProductsInBf16), and int8 Linear from kInt8GemmMinRows rows (LinearInt8.h);
//   * for an f32 constant weight when M <= kGemvMaxRows (decode steps), unless
//     TFC_LINEAR_GEMV=0 (then Linear's oneDNN path, for measurements).
// An int8 weight W [K, N] comes with its scale: an f32 constant [N] (Linear input 4; GatedLinear
// inputs 3 and 4 for the gate and up weights); the product uses W[k, n] * scale[n]. The weights
// are packed once per plan and instruction set (Plan::derived "gemv.packed"), shared by every
// session of the plan: those of the decode_step function when the first session opens
// (prepackDecodeWeights), any other on first use.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_LINEARGEMV_H
#define TFC_RUNTIME_CPU_LINEARGEMV_H

#include "GemmShapes.h"
#include "cpu/Kernel.h"

#include <string>
#include <vector>

namespace tfc::rt {

/// Up to this many rows an f32 constant weight takes the packed-weight path.
constexpr int64_t kGemvMaxRows = 16;

/// Up to this many rows a weight that is already packed for decode (prepackDecodeWeights) takes
/// the packed-weight path too, whatever its type: a decoder's prompt then reads the copy decode
/// reads, instead of oneDNN's own copy (f32) or an f32 conversion (bf16) made by the first
/// prompt. One copy of the weights instead of two (GPT-2 small f32: 0.5 GB less), and no
/// first-prompt reorder (0.26 s of a 32-token prompt); the packed kernels run such products at
/// about 0.75-0.8x oneDNN's speed once oneDNN has its copy (gemv_bench M = 32 and 128), so longer
/// prompts keep oneDNN.
constexpr int64_t kPrefillGemvMaxRows = 64;

/// Whether input `input` of the kernel (a constant weight) is one of the plan's decode weights
/// that prepackDecodeWeights packed for this CPU (not merely packed on first use by a small
/// product: the answer depends on the plan, never on what ran before). Nothing is packed by
/// asking.
bool isPrepacked(const KernelContext &ctx, size_t input);

/// Whether a bf16 weight's products of more than kGemvMaxRows rows (prompts, encoders) run
/// oneDNN's f32 matmul on an f32 copy of the weight converted once per plan (the default), rather
/// than the GEMV: oneDNN 2.6 has no bf16 matmul on AVX2 but its reference kernel, and the GEMV,
/// made for decode, ran such products at 0.44-0.89x the fp32 plan's speed. TFC_LINEAR_BF16_F32=0
/// keeps them on the GEMV (for measurements). Read once.
bool bf16ProductsAsF32();

/// Whether Linear runs those products (more than kGemvMaxRows rows of a bf16 constant weight) in
/// bf16 here: x rounded to bf16 (nearest even), the bf16 weight, f32 sums (Linear.cpp,
/// runBf16Products), because oneDNN has a bf16 matmul for this CPU (AVX512_BF16, AMX) and
/// TFC_LINEAR_BF16 is not "f32". Relu, and residuals that are neither [M, N], [N] nor in place,
/// keep the f32 copy. Read once.
bool bf16ProductsInBf16();

/// Load-time check of a weight input `w` of a Linear (w = 1, scale 4) or GatedLinear (w = 1, 2;
/// scales 3, 4) kernel: f32 (the plan's float dtype), or a constant of the plan's weight dtype
/// (bf16 or i8, rank 2); an i8 weight has its f32 scale constant [N] at input `scale`, other
/// weights none. "" or the problem, naming the values.
std::string checkLowPrecisionWeight(const FunctionDesc &fn, const KernelDesc &k, size_t w,
                                    size_t scale, const char *what);

namespace gemv {
struct PackedWeight;
}

/// What the path keeps per kernel and session (a member of the kernels' own state): the packed
/// weights it found, scratch.
struct GemvState {
  struct Packed {
    const void *source = nullptr;             // the weight's bytes (a plan constant)
    const gemv::PackedWeight *packed = nullptr; // owned by the plan's cache
  };
  Packed packed[2];
  std::vector<float> scratch; // GatedLinear's gate
};

/// Runs the Linear kernel of `ctx` on packed weights and returns true when this path takes it
/// (see the banner); false: the caller runs it.
bool runLinearGemv(const KernelContext &ctx, const LinearDims &dims, GemvState &state);

/// The same for GatedLinear.
bool runGatedLinearGemv(const KernelContext &ctx, const LinearDims &dims, GemvState &state);

/// Packs, into the plan's cache, every weight that the plan's `decode_step` function runs on the
/// packed-weight path (Linear and GatedLinear constant weights: bf16, int8, and f32 unless
/// TFC_LINEAR_GEMV=0), on up to `threads` threads; weights already packed are skipped. The CPU
/// device calls it when a session opens, as ONNX Runtime prepacks at session creation, so the
/// first decode step does not pay for packing the whole model (100 ms to 1 s for GPT-2 small in
/// f32, which generation timings then counted as decode). A plan without `decode_step` packs
/// nothing here: its products pack on first use, as before. Throws std::bad_alloc.
void prepackDecodeWeights(const Plan &plan, int threads);

/// How many packed weights the plan's cache holds (tests).
size_t packedWeightCount(const Plan &plan);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_LINEARGEMV_H
