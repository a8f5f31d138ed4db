//===- FusedAttention.h - blocked attention: QK^T, mask, online softmax and PV in one pass ----===//
//
// The CPU Attention kernel's math (for the kernel and its tests). Per batch, head and block of
// query rows, one thread computes the block's scores against a block of keys, applies the scale,
// the mask and the causal / window / hidden-score rules, updates a running (online) softmax and
// accumulates P V, without ever holding more than [query block, key block] scores: no
// [H, Sq, Sk] scratch, one parallel region per call. The semantics are Attention.cpp's (see its
// banner): a row with every key hidden is zeros, a NaN score makes its row NaN.
// Keys that the causal and window rules hide from every row of a query block are skipped (their
// scores and values are not read) unless a hidden score is given. So are the keys of a padding
// tail when that changes nothing: a batch row whose mask, shared by its heads and queries, ends
// in keys masked by at least 1e4 (bool false, -inf, a frontend's -1e9) is cut before them when
// the queries' and keys' norms put every tail score more than 1000 below its last kept key's,
// so that each tail weight is exactly 0 (exp underflows below -87.3), and the keys and the
// tail's values are finite (no NaN to spread, no 0 * inf).
// Not with a window or a hidden score.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_FUSEDATTENTION_H
#define TFC_RUNTIME_CPU_FUSEDATTENTION_H

#include "cpu/Common.h"

#include <vector>

namespace tfc::rt {

/// One call of the kernel: q [B, Sq, H*dh], k / v [B, Sk, G*dh] (read in place), o
/// [B, Sq, H*dh] (row-major); query head h reads key/value head h / (H / G). The inputs' rows
/// are qs, ks and vs floats apart (0: their width, H*dh or G*dh): with packed projections q, k
/// and v point at their first column inside one wider row. Key head g of batch row b starts
/// at k + b kBatchStride + g kHeadStride (0: Sk ks and dh, the layout above; a KV cache's
/// [B][G][positions][dh] has ks = dh, kHeadStride = positions dh), and the same for v.
struct FusedAttentionProblem {
  const float *q = nullptr, *k = nullptr, *v = nullptr;
  float *o = nullptr;
  int64_t B = 0, Sq = 0, Sk = 0, H = 0, G = 0, dh = 0;
  int64_t qs = 0, ks = 0, vs = 0;
  int64_t kHeadStride = 0, vHeadStride = 0, kBatchStride = 0, vBatchStride = 0;
  float scale = 1.f;
  bool causal = false;
  AttentionRule rule;
  MaskView mask; // data null: no mask
  /// Multiply in bf16 where the CPU has bf16 dot products (AVX512_BF16; see
  /// fusedAttentionBf16Available): q, k, v and the softmax weights rounded to bf16 (nearest
  /// even), their products summed in f32 (vdpbf16ps), the softmax itself in f32. The bf16 and
  /// int8 cpu plans ask for it; elsewhere the f32 kernel runs.
  bool bf16 = false;
};

/// The instruction set the kernel's inner loops are compiled for (Best: the widest this CPU
/// runs). The narrower ones exist for CPUs without AVX-512 and are exercised by the tests.
enum class FusedAttentionIsa { Best, Avx512, Avx2, Baseline };

/// Whether this CPU runs `isa` (Best and Baseline: always).
bool fusedAttentionIsaAvailable(FusedAttentionIsa isa);

/// Whether this CPU runs the bf16 products of FusedAttentionProblem::bf16 (AVX-512 with BF16);
/// false when TFC_ATTENTION_BF16=0 (read once).
bool fusedAttentionBf16Available();

/// Scratch kept between calls (grows to the largest problem seen): keys transposed per
/// (batch, key head), values with padded rows when dh is not a multiple of the vector width,
/// and per-thread score / accumulator tiles.
struct FusedAttentionScratch {
  std::vector<float> keys, values, threads; // (bf16: pairs of bf16 in the floats' place)
  // Padding tails: per batch row where its tail starts and its gap, a mask row's scratch; per
  // (batch row, key head) the keys' largest norm and whether the tail's values are finite.
  std::vector<int64_t> tailStart;
  std::vector<float> tailGap, maskRow, keyNorms;
  std::vector<uint8_t> tailFinite;
};

/// Computes `p` with up to `threads` OpenMP threads. `p` must be valid (shapes checked by the
/// caller, Sk > 0).
void runFusedAttention(const FusedAttentionProblem &p, FusedAttentionScratch &scratch,
                       int threads, FusedAttentionIsa isa = FusedAttentionIsa::Best);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_FUSEDATTENTION_H
