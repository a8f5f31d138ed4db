//===- Gemv.h - skinny matrix products on packed f32 / bf16 / int8 weights (decode) ----------===//
//
// y[m, n] = (sum_k x[m, k] * W[k, n]) * scale[n] + bias[n] + residual[m, n] for a constant
// weight W [K, N] and few rows of x (a decode step: M = batch rows). Such a product reads every
// weight once per step and is bound by memory bandwidth, so what counts is the bytes of W read
// per row block and how sequentially they stream:
//   * W is packed once (pack(); the plan's kernels cache it in Plan::derived, shared by every
//     session) into panels of P = 4 vectors' worth of columns (P = 32 for AVX2, 64 for
//     AVX-512, 16 for the scalar code): panel p holds columns [pP, pP + P) as [K][P] contiguous,
//     64-byte aligned, the last panel zero-padded. A thread streams whole panels front to back.
//   * The weight keeps its type in the pack: F32, BF16 (expanded to f32 in registers by a 16-bit
//     shift: exact) or I8 (converted to f32 in registers; the per-column scale is applied once
//     per output, in the epilogue). x, the accumulation and y stay f32: a bf16 / int8 weight
//     costs only its own rounding, never the activations'.
//   * The epilogue (scale, bias, activation, a multiplier, a residual) is applied per panel as
//     the sums leave the registers: no second pass over y, no parallel region of its own.
//   * Rows go through the panel R at a time (R accumulators of P columns in registers; R <= 3
//     for AVX2, 6 for AVX-512), so a panel, read once from memory, serves the other row groups
//     from the L2 cache: any M works (prompts too), decode (M = 1..16) is what it is made for.
//   * Columns are split over the threads in chunks of whole panels, handed out in order (about 8
//     per thread, so that a thread slowed down by a busy machine does less of the work).
// The instruction set is picked at run time (__builtin_cpu_supports): AVX-512 with BF16 and VNNI
// (Avx512Dot: Zen 4, Sapphire Rapids), AVX-512 (F, BW, VL, DQ), AVX2 + FMA, or plain scalar
// loops over the same packed layout; TFC_GEMV_ISA=scalar|avx2|avx512|avx512dot asks for a lower
// one (tests, measurements). Avx512Dot runs f32 weights as AVX-512 does; bf16 and int8 weights
// it packs with the rows of K in pairs per column and multiplies with dot-product instructions
// (vdpbf16ps, vpdpwssd), a column's two products per 32-bit lane, instead of widening each
// weight to f32: bf16 with x split into two bf16 parts (hi + lo: x to 2^-17), int8 with x
// rounded to int16 per block of 64 k (to 2^-16 of the block's largest |x|). Gemv.cpp explains. Each variant is tested against a plain double
// reference (tests/unit/runtime_gemv_test.cpp).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_GEMV_H
#define TFC_RUNTIME_CPU_GEMV_H

#include <cstdint>
#include <memory>

namespace tfc::rt::gemv {

/// The element type of a packed weight.
enum class WeightType : uint8_t { F32, BF16, I8 };

/// The code paths, lowest first.
enum class Isa : uint8_t { Scalar, Avx2, Avx512, Avx512Dot };

/// Whether this CPU runs `isa`.
bool cpuSupports(Isa isa);
/// The best ISA of this CPU, lowered by TFC_GEMV_ISA when set (read once).
Isa defaultIsa();
/// "scalar", "avx2", "avx512", "avx512dot".
const char *isaName(Isa isa);
/// Columns per panel of the packed layout for `isa`.
int panelWidth(Isa isa);

/// A [K, N] weight in the packed layout of `isa` (see the banner).
struct PackedWeight {
  WeightType type = WeightType::F32;
  Isa isa = Isa::Scalar;
  int64_t K = 0, N = 0;
  int P = 0;            // columns per panel
  int64_t panels = 0;   // ceil(N / P)
  int64_t panelBytes = 0; // K (rounded up to even when `pairs`) * P * element size, to 64
  bool pairs = false;     // rows of K in pairs per column (Avx512Dot's bf16 / int8 kernels)
  std::shared_ptr<uint8_t> bytes; // panels * panelBytes, 64-byte aligned

  const void *panel(int64_t p) const { return bytes.get() + p * panelBytes; }
};

/// Packs `w` ([K, N] row-major: float, bf16 bits as uint16_t, or int8_t per `type`) for `isa`,
/// into memory of its own (allocateHuge). Throws std::bad_alloc when the memory is not there.
PackedWeight pack(WeightType type, const void *w, int64_t K, int64_t N, Isa isa);

/// The same in steps, for packing many weights into one allocation (LinearGemv.h's
/// prepackDecodeWeights: weights under 2 MB then share huge pages too): the layout without its
/// bytes; the bytes it needs (64-byte aligned where it goes); packing `w` into `bytes` (which p
/// then holds: an aliasing shared_ptr into a larger block works).
PackedWeight layout(WeightType type, int64_t K, int64_t N, Isa isa);
size_t packedBytes(const PackedWeight &layout);
void packInto(PackedWeight &p, const void *w, std::shared_ptr<uint8_t> bytes);

/// `bytes` of 64-byte aligned memory; from 2 MB on, 2 MB aligned and asking for transparent
/// huge pages. Throws std::bad_alloc.
std::shared_ptr<uint8_t> allocateHuge(size_t bytes);

/// The activation of the epilogue (cpu/ActivationMath.h).
enum class Act : uint8_t { None, Relu, GeluErf, GeluTanh, Silu };

/// What the epilogue makes of a column's sum s, per output (m, n):
///   y[m, n] = act(s * scale[n] + bias[n]) * mul[m, n] + residual[m, n]
/// each term optional (null: left out).
struct Epilogue {
  const float *scale = nullptr;    // [N]: multiplies the column's sum (int8 weights)
  const float *bias = nullptr;     // [N]
  Act act = Act::None;
  const float *mul = nullptr;      // row m at mul + m * mulStride, [N] (GatedLinear: the gate)
  int64_t mulStride = 0;
  const float *residual = nullptr; // row m at residual + m * residualStride, [N]
  int64_t residualStride = 0;      // 0: one row for every m. The residual may be y itself.
};

/// y[m, :] (rows of ldy floats) = x[m, :] (rows of ldx floats, K used) times `w`, plus the
/// epilogue, for m in [0, M); on up to `threads` OpenMP threads. x must not overlap y.
void multiply(const PackedWeight &w, const float *x, int64_t M, int64_t ldx, float *y,
              int64_t ldy, const Epilogue &e, int threads);

} // namespace tfc::rt::gemv

#endif // TFC_RUNTIME_CPU_GEMV_H
