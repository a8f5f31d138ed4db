//===- Rotary.cpp - rotary position embedding of each head (rotate-half or pairs) --------------===//
//
// Rotary (RotaryOptions {num_heads, rotary_dim, interleaved}): x [B, S, H*dh], cos and sin
// [S, r] or [1|B, S, r] (r = rotary_dim, even, <= dh). Per position and head, with h = r / 2
// and d < h, the rotate-half form pairs features d and d + h:
//   y[d]     = x[d] * cos[d]         - x[d + h] * sin[d]
//   y[d + h] = x[d + h] * cos[d + h] + x[d] * sin[d + h]
// and the interleaved form (GPT-J's rotate_every_two) features 2d and 2d + 1:
//   y[2d]     = x[2d] * cos[2d]         - x[2d + 1] * sin[2d]
//   y[2d + 1] = x[2d + 1] * cos[2d + 1] + x[2d] * sin[2d + 1]
// Features [r, dh) are copied. cos / sin are the graph's own rows for this run's positions
// (a slice or gather of its tables, offset by the KV cache's length in a generation step), so
// the kernel knows nothing of positions or frequencies.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"

namespace tfc::rt {

using tfc::plan::RotaryOptionsT;

std::string checkRotary(const FunctionDesc &fn, const KernelDesc &k) {
  const RotaryOptionsT &o = options<RotaryOptionsT>(k);
  if (o.num_heads <= 0)
    return format("num_heads is %d", o.num_heads);
  if (o.rotary_dim <= 0 || o.rotary_dim % 2 != 0)
    return format("rotary_dim %d is not even and positive", o.rotary_dim);
  static const char *names[] = {"x", "cos", "sin"};
  for (size_t i = 0; i < 3; ++i) {
    if (!hasInput(k, i))
      return format("input %s is absent", names[i]);
    if (std::string e = expectDtype(fn, k, i, names[i], {TFC_F32}); !e.empty())
      return e;
  }
  if (fn.values[k.inputs[0]].rank != 3)
    return format("x has rank %d, expected [B, S, H*dh]", fn.values[k.inputs[0]].rank);
  for (size_t i : {1, 2}) {
    int rank = fn.values[k.inputs[i]].rank;
    if (rank != 2 && rank != 3)
      return format("%s has rank %d, expected [S, rotary_dim] or [B, S, rotary_dim]", names[i],
                    rank);
  }
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runRotary(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const Tensor *tables[2] = {ctx.in(1), ctx.in(2)};
  const RotaryOptionsT &o = options<RotaryOptionsT>(*ctx.k);
  const RotaryGeometry g = rotaryGeometry(ctx);
  const int64_t B = g.B, S = g.S, D = g.D, H = g.H, r = g.r, half = r / 2, dh = g.dh;
  const int64_t *batchStride = g.batchStride;
  const float *px = x.as<float>(), *pc = tables[0]->as<float>(), *ps = tables[1]->as<float>();
  float *py = ctx.out(0).as<float>();
#pragma omp parallel for schedule(static) if (B * S * D >= 32768)
  for (int64_t i = 0; i < B * S; ++i) {
    const int64_t b = i / S, s = i % S;
    const float *c = pc + b * batchStride[0] + s * r, *sn = ps + b * batchStride[1] + s * r;
    for (int64_t h = 0; h < H; ++h) {
      const float *xi = px + i * D + h * dh;
      float *yi = py + i * D + h * dh;
      // The pair (lo, hi) of feature d: (d, d + half), or (2d, 2d + 1) interleaved.
      const int64_t step = o.interleaved ? 2 : 1, other = o.interleaved ? 1 : half;
      for (int64_t d = 0; d < half; ++d) {
        const int64_t lo = d * step, hi = lo + other;
        // Both inputs read before either output is written (y may be x).
        const float a = xi[lo], e = xi[hi];
        yi[lo] = a * c[lo] - e * sn[lo];
        yi[hi] = e * c[hi] + a * sn[hi];
      }
      if (yi != xi)
        for (int64_t d = r; d < dh; ++d)
          yi[d] = xi[d];
    }
  }
}

} // namespace tfc::rt
