//===- GemmShapes.cpp - host-side shape logic of the matrix-product kernels -------------------===//
#include "GemmShapes.h"

#include "cpu/Common.h"

namespace tfc::rt {

LinearDims linearDims(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2), *r = ctx.in(3);
  if (x.shape.rank < 1)
    ctx.fail(TFC_INVALID_ARGUMENT, "input '%s' is a scalar", ctx.inName(0).c_str());
  LinearDims d;
  d.K = x.shape.d[x.shape.rank - 1];
  d.N = w.shape.d[1];
  if (w.shape.d[0] != d.K)
    ctx.fail(TFC_INVALID_ARGUMENT, "x %s and weight %s do not agree on K", x.shape.str().c_str(),
             w.shape.str().c_str());
  if (b && b->shape.numel() != d.N)
    ctx.fail(TFC_INVALID_ARGUMENT, "bias %s does not have N = %lld elements",
             b->shape.str().c_str(), (long long)d.N);
  d.out = x.shape;
  d.out.d[d.out.rank - 1] = d.N;
  ctx.expectOutputShape(0, d.out);
  if (d.K == 0)
    ctx.fail(TFC_UNSUPPORTED, "an empty reduction (K = 0)");
  d.M = x.shape.numel() / d.K;
  if (r && !broadcastsTo(r->shape, d.out))
    ctx.fail(TFC_INVALID_ARGUMENT, "residual %s does not broadcast to the output %s",
             r->shape.str().c_str(), d.out.str().c_str());
  return d;
}

LinearDims gatedLinearDims(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &wg = *ctx.in(1), &wu = *ctx.in(2);
  if (x.shape.rank < 1)
    ctx.fail(TFC_INVALID_ARGUMENT, "input '%s' is a scalar", ctx.inName(0).c_str());
  LinearDims d;
  d.K = x.shape.d[x.shape.rank - 1];
  d.N = wg.shape.d[1];
  if (wg.shape.d[0] != d.K || wu.shape != wg.shape)
    ctx.fail(TFC_INVALID_ARGUMENT, "x %s, gate_weight %s and up_weight %s do not agree on [K, N]",
             x.shape.str().c_str(), wg.shape.str().c_str(), wu.shape.str().c_str());
  d.out = x.shape;
  d.out.d[d.out.rank - 1] = d.N;
  ctx.expectOutputShape(0, d.out);
  if (d.K == 0)
    ctx.fail(TFC_UNSUPPORTED, "an empty reduction (K = 0)");
  if (ctx.out(0).data == x.data && d.out.numel() > 0)
    ctx.fail(TFC_INTERNAL, "the output shares the input's bytes");
  d.M = x.shape.numel() / d.K;
  return d;
}

void MatMulDims::batchOffsets(int64_t i, int64_t &offA, int64_t &offB) const {
  int64_t rem = i, strideA = 1, strideB = 1;
  offA = offB = 0;
  for (int d = batch.rank - 1; d >= 0; --d) {
    int64_t idx = rem % batch.d[d];
    rem /= batch.d[d];
    int ja = d - (batch.rank - batchA.rank), jb = d - (batch.rank - batchB.rank);
    if (ja >= 0) {
      if (batchA.d[ja] != 1)
        offA += idx * strideA;
      strideA *= batchA.d[ja];
    }
    if (jb >= 0) {
      if (batchB.d[jb] != 1)
        offB += idx * strideB;
      strideB *= batchB.d[jb];
    }
  }
}

MatMulDims matMulDims(const KernelContext &ctx) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  int ra = a.shape.rank, rb = b.shape.rank;
  MatMulDims d;
  d.M = a.shape.d[ra - 2];
  d.K = a.shape.d[ra - 1];
  d.N = b.shape.d[rb - 1];
  if (b.shape.d[rb - 2] != d.K)
    ctx.fail(TFC_INVALID_ARGUMENT, "shapes %s and %s do not agree on K", a.shape.str().c_str(),
             b.shape.str().c_str());
  d.batchA.rank = ra - 2;
  d.batchB.rank = rb - 2;
  for (int i = 0; i < d.batchA.rank; ++i)
    d.batchA.d[i] = a.shape.d[i];
  for (int i = 0; i < d.batchB.rank; ++i)
    d.batchB.d[i] = b.shape.d[i];
  if (!broadcastShapes(d.batchA, d.batchB, d.batch) || d.batch.rank + 2 > kMaxRank)
    ctx.fail(TFC_INVALID_ARGUMENT, "batch dims of %s and %s do not broadcast",
             a.shape.str().c_str(), b.shape.str().c_str());
  Shape shape = d.batch;
  shape.rank += 2;
  shape.d[shape.rank - 2] = d.M;
  shape.d[shape.rank - 1] = d.N;
  ctx.expectOutputShape(0, shape);
  d.numA = d.batchA.numel();
  d.numB = d.batchB.numel();
  d.num = d.batch.numel();
  return d;
}

std::string convOutputShape(const Shape &x, const Shape &w, const ConvParams &p, Shape &out) {
  int rank = p.spatial + 2;
  if (x.rank != rank || w.rank != rank)
    return format("input %s and weight %s must both have rank %d", x.str().c_str(),
                  w.str().c_str(), rank);
  if (w.d[0] % p.group != 0 || x.d[1] != w.d[1] * p.group)
    return format("input %s and weight %s do not go together with group %lld", x.str().c_str(),
                  w.str().c_str(), (long long)p.group);
  out.rank = rank;
  out.d[0] = x.d[0];
  out.d[1] = w.d[0];
  for (int i = 0; i < p.spatial; ++i) {
    int64_t padded = x.d[2 + i] + p.padBegin[i] + p.padEnd[i];
    int64_t span = p.dilations[i] * (w.d[2 + i] - 1) + 1;
    if (padded < span)
      return format("spatial dim %d of input %s (padded to %lld) is smaller than the dilated "
                    "kernel (%lld)", i, x.str().c_str(), (long long)padded, (long long)span);
    out.d[2 + i] = (padded - span) / p.strides[i] + 1;
  }
  return "";
}

ConvParams convDims(const KernelContext &ctx, Shape &out) {
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2);
  const auto &o = options<tfc::plan::ConvOptionsT>(*ctx.k);
  ConvParams p;
  p.spatial = x.shape.rank - 2;
  for (int i = 0; i < p.spatial; ++i) {
    p.strides[i] = o.strides[size_t(i)];
    p.dilations[i] = o.dilations[size_t(i)];
    p.padBegin[i] = o.pads[size_t(i)];
    p.padEnd[i] = o.pads[size_t(p.spatial + i)];
  }
  p.group = o.group;
  std::string e = convOutputShape(x.shape, w.shape, p, out);
  if (!e.empty())
    ctx.fail(TFC_INVALID_ARGUMENT, "%s", e.c_str());
  if (b && (b->shape.rank != 1 || b->shape.d[0] != w.shape.d[0]))
    ctx.fail(TFC_INVALID_ARGUMENT, "bias %s does not match the %lld output channels",
             b->shape.str().c_str(), (long long)w.shape.d[0]);
  ctx.expectOutputShape(0, out);
  return p;
}

} // namespace tfc::rt
