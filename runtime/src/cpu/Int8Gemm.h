//===- Int8Gemm.h - int8 x int8 products for many rows (prompts, encoders) ----------------===//
//
// y[m, n] = (sum_b xs[m, b] * sum_{k in block b} qx[m, k] * qw[k, n]) * ws[n] + bias[n]
//           + residual[m, n]
//
// for a cpu plan compiled with --precision int8 (weights: int8 symmetric per output column,
// support/Int8Weights.h) when a product has enough rows that arithmetic, not weight bandwidth,
// bounds it. The activations are quantized at run time, symmetrically, per row and per block of
// kBlock = 64 consecutive k (dynamic scales, no calibration):
//
//   amax[m, b]  = max_{k in b} |x[m, k]|,  xs[m, b] = amax[m, b] / 127  (0 for a block of zeros)
//   qx[m, k]    = round_half_even(x[m, k] * (127 / amax[m, b])), in [-127, 127]  (f32 arithmetic)
//
// A scale per block rather than per row keeps the few large channels of a transformer's hidden
// states (and of its GELU outputs) from flattening the rest of the row: on all-MiniLM-L6-v2 the
// lowest embedding cosine against fp32 over the 50-sentence set is 0.9916 with one scale per row,
// 0.9978 per 64 (0.9982 with f32 activations; docs/BENCHMARKS.md, "CPU precision").
// The products of the two int8 operands are summed exactly in int32 within a block, and the
// blocks' sums, times their scales, in f32. Rows holding a value that is not finite are not
// quantized: they are computed in f32 from the dequantized weight (qw * ws), so NaN and infinity
// propagate as in the fp32 plan.
//
// The AVX2 kernel (no VNNI, no AVX-512 needed) multiplies int16 pairs with vpmaddwd: the int8
// values are widened to int16 (the weight once, at pack time; the activations when they are
// quantized), so 16 products are summed per instruction into 8 int32 lanes, exactly: unlike
// vpmaddubsw (u8 x s8 -> saturating int16), nothing can saturate, and both operands keep all 8
// bits. Weight layout (pack()): panels of 16 columns; panel p holds, for each pair of rows
// (2j, 2j + 1) of W, the 16 columns' (W[2j, c], W[2j + 1, c]) int16 pairs, 64-byte aligned, K
// rounded up to a multiple of kBlock and the last panel padded with zeros. The register tile is
// 6 rows x 16 columns (12 ymm int32 accumulators, folded into f32 sums in L1 after each block);
// threads split (row block, panel) tiles. A scalar variant runs the same layout with plain loops;
// TFC_INT8GEMM_ISA=scalar asks for it (tests, measurements).
//
// With AVX-512 VNNI (Zen 4, Ice Lake and later) the kernel is vpdpbusd: 64 products of an
// unsigned and a signed byte summed into 16 int32 lanes per instruction, four times the pairs
// of vpmaddwd's ymm and no separate add. The activations go in as bytes u = q + 128 (in
// [1, 255]); the 128 * sum_k w[k, n] this adds to each block's sum is subtracted exactly, from a
// per-block column sum made at pack time (`comp`). Nothing saturates (4 * 255 * 127 per lane
// and instruction, 16 instructions per block). Weight layout for it: panels of 16 columns, for
// each quad of rows (4j .. 4j + 3) of W the 16 columns' 4 bytes, one 64-byte vector per quad.
// The register tile is 6 rows x 2 panels (12 zmm int32 block sums, 12 zmm f32 sums).
// TFC_INT8GEMM_ISA=avx2 or scalar asks for a lower path. Every path is tested against a plain
// double reference (tests/unit/runtime_int8_gemm_test.cpp).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_INT8GEMM_H
#define TFC_RUNTIME_CPU_INT8GEMM_H

#include <cstdint>
#include <memory>
#include <vector>

namespace tfc::rt::int8gemm {

enum class Isa : uint8_t { Scalar, Avx2, Avx512Vnni };

bool cpuSupports(Isa isa);
/// The best of this CPU, lowered by TFC_INT8GEMM_ISA=scalar|avx2 (read once).
Isa defaultIsa();
const char *isaName(Isa isa);

/// Columns per panel, rows per register tile, k per activation scale.
constexpr int kPanel = 16;
constexpr int kTileRows = 6;
constexpr int kBlock = 64;

/// An int8 weight [K, N] in the layout of `isa` (see the banner): int16 pairs for Scalar and
/// Avx2, byte quads plus column sums for Avx512Vnni.
struct PackedWeight {
  Isa isa = Isa::Scalar;
  int64_t K = 0, N = 0;
  int64_t pairs = 0;  // K rounded up to a multiple of kBlock, halved
  int64_t panels = 0; // ceil(N / 16)
  std::shared_ptr<int16_t> data; // pairs layout: panels * pairs * 32 int16, 64-byte aligned
  std::shared_ptr<int8_t> quads; // quads layout: panels * (pairs / 2) * 64 bytes, aligned
  std::shared_ptr<int32_t> comp; // quads layout: [panels][K blocks][16] = 128 * block sums

  const int16_t *panel(int64_t p) const { return data.get() + p * pairs * 2 * kPanel; }
  const int8_t *quadPanel(int64_t p) const { return quads.get() + p * pairs / 2 * 4 * kPanel; }
  const int32_t *compPanel(int64_t p) const { return comp.get() + p * (2 * pairs / kBlock) * kPanel; }
};

/// Packs `w` ([K, N] row-major int8) for `isa` (quantizeRows and multiply must be given the
/// same). Throws std::bad_alloc when the memory is not there.
PackedWeight pack(const int8_t *w, int64_t K, int64_t N, Isa isa);

/// Activations quantized per row and block (see the banner). Reused across runs (no
/// reallocation when the size does not grow).
struct QuantizedRows {
  int64_t M = 0, K = 0;
  int64_t stride = 0;                // int16 per row: K rounded up to kBlock, padded with 0
  int64_t blocks = 0;                // stride / kBlock
  std::vector<int16_t> q;            // [M, stride] (Scalar, Avx2)
  std::vector<uint8_t> u;            // [M, stride]: q + 128 (Avx512Vnni)
  std::vector<float> scale;          // [M, blocks]: amax / 127 of each block
  std::vector<uint8_t> finite;       // [M]: 1 when the row was quantized
};

/// Quantizes x ([M, K], rows ldx floats apart) into `out`, on up to `threads` threads.
void quantizeRows(const float *x, int64_t M, int64_t K, int64_t ldx, QuantizedRows &out,
                  Isa isa, int threads);

struct Epilogue {
  const float *weightScale = nullptr; // [N], required
  const float *bias = nullptr;        // [N] or null
  const float *residual = nullptr;    // row m at residual + m * residualStride; or null
  int64_t residualStride = 0;         // 0: one row for every m. May be y itself.
};

/// y[m, :] (rows ldy floats apart) for m in [0, x.M): the product of the quantized rows and the
/// packed weight, plus the epilogue. Rows not quantized (QuantizedRows::finite 0) are computed
/// from `xf` (the f32 rows, ldx apart) and the int8 weight `w` ([K, N] row-major) in f32.
/// x must not overlap y.
void multiply(const PackedWeight &pw, const QuantizedRows &x, const float *xf, int64_t ldx,
              const int8_t *w, float *y, int64_t ldy, const Epilogue &e, Isa isa, int threads);

} // namespace tfc::rt::int8gemm

#endif // TFC_RUNTIME_CPU_INT8GEMM_H
