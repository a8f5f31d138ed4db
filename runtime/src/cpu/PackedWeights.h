//===- PackedWeights.h - plan-wide copies of constant weights in oneDNN's layouts -------------===//
//
// A constant weight of a plan ([K, N] row-major, f32 or bf16) is copied once per plan, on first
// use, into the f32 layout a oneDNN primitive reads fastest, and shared by all the plan's
// sessions (Plan::derived). Linear (Linear.cpp) and GatedLinear (GatedLinear.cpp) read their
// products above the decode sizes from these copies.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_PACKEDWEIGHTS_H
#define TFC_RUNTIME_CPU_PACKEDWEIGHTS_H

#include "cpu/Dnnl.h"
#include "cpu/Kernel.h"

#include <cstdint>

namespace tfc::rt {

/// The packed copy of `w` (plain [K, N] of `type`: f32, or bf16 converted exactly), or of its
/// columns [col, col + cols) (cols 0: all), in the f32 layout `desc` (a matmul's [K, cols] or a
/// 1x1 convolution's [cols, K, 1, 1]), made on first use and kept by ctx.plan. Once the copy of
/// the last columns is made, the plan's pages of `w` are given back (the kernels read the copy).
void *packedWeights(const KernelContext &ctx, const void *w, dnnl::memory::data_type type,
                    int64_t K, int64_t N, const dnnl::memory::desc &desc, int64_t col = 0,
                    int64_t cols = 0);

/// Rows of a plain row-major copy are padded by this many floats: rows whose stride is a multiple
/// of 4 KiB (N = 1024, 3072) map to the same cache sets, and a GEMM's packing of a [K, N] panel
/// then misses its cache (Linear.cpp: measured 42.7 -> 92.5 GFLOP/s at 128x768x3072 on AVX2).
constexpr int64_t kWeightRowPad = 16;

/// The padded row-major [K, N] f32 layout (rows of N rounded up to 16, plus kWeightRowPad).
inline dnnl::memory::desc paddedRows(int64_t K, int64_t N) {
  return dnnl::memory::desc({K, N}, dnnl::memory::data_type::f32,
                            dnnl::memory::dims{(N + 15) / 16 * 16 + kWeightRowPad, 1});
}

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_PACKEDWEIGHTS_H
