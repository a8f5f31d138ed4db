//===- KernelShapes.cpp - the run-time shape logic of the kernels (see KernelShapes.h) --------===//
#include "KernelShapes.h"

#include "cpu/Indexing.h"

namespace tfc::rt {

// ---- Elementwise ----------------------------------------------------------------------------
Shape binaryOutputShape(const KernelContext &ctx) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  Shape shape;
  if (!broadcastShapes(a.shape, b.shape, shape))
    ctx.fail(TFC_INVALID_ARGUMENT, "shapes %s and %s do not broadcast", a.shape.str().c_str(),
             b.shape.str().c_str());
  ctx.expectOutputShape(0, shape);
  return shape;
}

Shape whereOutputShape(const KernelContext &ctx) {
  const Tensor &c = *ctx.in(0), &a = *ctx.in(1), &b = *ctx.in(2);
  Shape ab, shape;
  if (!broadcastShapes(a.shape, b.shape, ab) || !broadcastShapes(c.shape, ab, shape))
    ctx.fail(TFC_INVALID_ARGUMENT, "shapes %s, %s and %s do not broadcast", c.shape.str().c_str(),
             a.shape.str().c_str(), b.shape.str().c_str());
  ctx.expectOutputShape(0, shape);
  return shape;
}

void sameShapeOutput(const KernelContext &ctx) { ctx.expectOutputShape(0, ctx.in(0)->shape); }

// ---- Reduce ---------------------------------------------------------------------------------
ReduceGeometry reduceGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const auto &o = options<tfc::plan::ReduceOptionsT>(*ctx.k);
  int rank = x.shape.rank;
  bool reduced[kMaxRank] = {};
  if (o.axes.empty()) // ONNX: no axes reduces all
    for (int i = 0; i < rank; ++i)
      reduced[i] = true;
  for (int32_t axis : o.axes) {
    int64_t a = axis;
    if (!normalizeAxis(a, rank)) // the load-time check saw the static rank; this is the bound one
      ctx.fail(TFC_INVALID_ARGUMENT, "axis %d is out of range for rank %d", axis, rank);
    reduced[a] = true;
  }
  int64_t strides[kMaxRank];
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; --i) {
    strides[i] = s;
    s *= x.shape.d[i];
  }
  ReduceGeometry g;
  g.mean = o.op == tfc::plan::ReduceOp::Mean;
  Shape out;
  for (int i = 0; i < rank; ++i) {
    if (reduced[i]) {
      g.redDims[g.numReduced] = x.shape.d[i];
      g.redStrides[g.numReduced++] = strides[i];
      g.count *= x.shape.d[i];
      if (o.keepdims)
        out.d[out.rank++] = 1;
    } else {
      g.keptDims[g.numKept] = x.shape.d[i];
      g.keptStrides[g.numKept++] = strides[i];
      out.d[out.rank++] = x.shape.d[i];
    }
  }
  ctx.expectOutputShape(0, out);
  g.outputs = out.numel();
  return g;
}

// ---- Softmax --------------------------------------------------------------------------------
AxisView softmaxGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  ctx.expectOutputShape(0, x.shape);
  int64_t axis = options<tfc::plan::SoftmaxOptionsT>(*ctx.k).axis;
  if (!normalizeAxis(axis, x.shape.rank))
    ctx.fail(TFC_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axis,
             x.shape.rank);
  return AxisView(x.shape, int(axis));
}

// ---- Norms ----------------------------------------------------------------------------------
/// The residual (when present) must have x's shape.
static void checkResidual(const KernelContext &ctx, const Tensor *r) {
  const Tensor &x = *ctx.in(0);
  if (r && r->shape != x.shape)
    ctx.fail(TFC_INVALID_ARGUMENT, "residual %s does not have the input's shape %s",
             r->shape.str().c_str(), x.shape.str().c_str());
}

static int64_t lastDim(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  if (x.shape.rank < 1)
    ctx.fail(TFC_INVALID_ARGUMENT, "input '%s' is a scalar", ctx.inName(0).c_str());
  return x.shape.d[x.shape.rank - 1];
}

static void setRows(NormGeometry &g, const Tensor &x) {
  g.rows = g.cols ? x.shape.numel() / g.cols : 0;
}

NormGeometry layerNormGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &g = *ctx.in(1), &b = *ctx.in(2);
  NormGeometry geo;
  geo.cols = lastDim(ctx);
  if (g.shape.numel() != geo.cols || b.shape.numel() != geo.cols)
    ctx.fail(TFC_INVALID_ARGUMENT, "gamma %s and beta %s must have %lld elements",
             g.shape.str().c_str(), b.shape.str().c_str(), (long long)geo.cols);
  checkResidual(ctx, ctx.in(3));
  ctx.expectOutputShape(0, x.shape);
  geo.residual = ctx.in(3) != nullptr;
  geo.eps = options<tfc::plan::LayerNormOptionsT>(*ctx.k).epsilon;
  setRows(geo, x);
  return geo;
}

NormGeometry layerNormalizationGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &g = *ctx.in(1);
  const Tensor *b = ctx.in(2);
  const auto &o = options<tfc::plan::LayerNormalizationOptionsT>(*ctx.k);
  int64_t axis = o.axis;
  if (!normalizeAxis(axis, x.shape.rank))
    ctx.fail(TFC_INVALID_ARGUMENT, "axis %d is out of range for rank %d", o.axis, x.shape.rank);
  NormGeometry geo;
  geo.cols = 1;
  for (int i = int(axis); i < x.shape.rank; ++i)
    geo.cols *= x.shape.d[i];
  auto stride = [&](const Tensor &t, const char *what) -> int64_t {
    int64_t n = t.shape.numel();
    if (n != geo.cols && n != 1)
      ctx.fail(TFC_INVALID_ARGUMENT, "%s %s must have %lld elements (the normalized dims) or 1",
               what, t.shape.str().c_str(), (long long)geo.cols);
    return n == 1 ? 0 : 1;
  };
  geo.gammaStride = stride(g, "scale");
  geo.beta = b != nullptr;
  geo.betaStride = b ? stride(*b, "bias") : 0;
  ctx.expectOutputShape(0, x.shape);
  geo.eps = o.epsilon;
  setRows(geo, x);
  return geo;
}

NormGeometry rmsNormGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  NormGeometry geo;
  geo.cols = lastDim(ctx);
  if (w.shape.numel() != geo.cols)
    ctx.fail(TFC_INVALID_ARGUMENT, "weight %s must have %lld elements (the last dim of %s)",
             w.shape.str().c_str(), (long long)geo.cols, x.shape.str().c_str());
  checkResidual(ctx, ctx.in(2));
  ctx.expectOutputShape(0, x.shape);
  geo.residual = ctx.in(2) != nullptr;
  geo.beta = false;
  geo.eps = options<tfc::plan::RmsNormOptionsT>(*ctx.k).epsilon;
  setRows(geo, x);
  return geo;
}

// ---- Embedding ------------------------------------------------------------------------------
EmbeddingGeometry embeddingGeometry(const KernelContext &ctx) {
  const Tensor &ids = *ctx.in(0), &tok = *ctx.in(1), &pos = *ctx.in(2);
  const Tensor *tids = ctx.in(3), *types = ctx.in(4);
  if (ids.shape.rank != 2)
    ctx.fail(TFC_INVALID_ARGUMENT, "ids '%s' has shape %s, expected [B, S]",
             ctx.inName(0).c_str(), ids.shape.str().c_str());
  EmbeddingGeometry g;
  g.B = ids.shape.d[0], g.S = ids.shape.d[1], g.D = tok.shape.d[1], g.V = tok.shape.d[0];
  if (pos.shape.d[1] != g.D || (types && types->shape.d[1] != g.D))
    ctx.fail(TFC_INVALID_ARGUMENT, "tables disagree on D (tokens %s, positions %s)",
             tok.shape.str().c_str(), pos.shape.str().c_str());
  const auto &o = options<tfc::plan::EmbeddingOptionsT>(*ctx.k);
  // offset_positions: token s of this run is at position past + s (past: the KV cache's length).
  g.past = o.offset_positions && ctx.cache ? ctx.cache->past : 0;
  if (pos.shape.d[0] - g.past < g.S) {
    if (g.past)
      ctx.fail(TFC_OUT_OF_RANGE,
               "positions past + seq = %lld + %lld are above the %lld positions of '%s'",
               (long long)g.past, (long long)g.S, (long long)pos.shape.d[0],
               ctx.inName(2).c_str());
    ctx.fail(TFC_OUT_OF_RANGE, "sequence length %lld is above the %lld positions of '%s'",
             (long long)g.S, (long long)pos.shape.d[0], ctx.inName(2).c_str());
  }
  if (tids && tids->shape != ids.shape)
    ctx.fail(TFC_INVALID_ARGUMENT, "type_ids %s do not have the shape of ids %s",
             tids->shape.str().c_str(), ids.shape.str().c_str());
  Shape shape;
  shape.rank = 3;
  shape.d[0] = g.B, shape.d[1] = g.S, shape.d[2] = g.D;
  ctx.expectOutputShape(0, shape);
  g.numTypes = types ? types->shape.d[0] : 0;
  g.scale = o.scale;
  return g;
}

void failEmbeddingId(const KernelContext &ctx, size_t input, int64_t id, int64_t at, int64_t S,
                     int64_t rows) {
  ctx.fail(TFC_OUT_OF_RANGE, "%s id %lld at [%lld, %lld] of '%s' is out of range [0, %lld)",
           input == 0 ? "token" : "token type", (long long)id, (long long)(at / S),
           (long long)(at % S), ctx.inName(input).c_str(), (long long)rows);
}

// ---- Gather, GatherElements -----------------------------------------------------------------
GatherGeometry gatherGeometry(const KernelContext &ctx) {
  const Tensor &data = *ctx.in(0), &idx = *ctx.in(1);
  int64_t axis = options<tfc::plan::GatherOptionsT>(*ctx.k).axis;
  if (!normalizeAxis(axis, data.shape.rank))
    ctx.fail(TFC_INVALID_ARGUMENT, "axis %lld is out of range for rank %d", (long long)axis,
             data.shape.rank);
  if (data.shape.rank - 1 + idx.shape.rank > kMaxRank)
    ctx.fail(TFC_UNSUPPORTED, "result rank above %d", kMaxRank);
  Shape shape;
  for (int i = 0; i < axis; ++i)
    shape.d[shape.rank++] = data.shape.d[i];
  for (int i = 0; i < idx.shape.rank; ++i)
    shape.d[shape.rank++] = idx.shape.d[i];
  for (int i = int(axis) + 1; i < data.shape.rank; ++i)
    shape.d[shape.rank++] = data.shape.d[i];
  ctx.expectOutputShape(0, shape);
  GatherGeometry g;
  g.data = AxisView(data.shape, int(axis));
  g.axis = axis;
  g.numIndices = idx.shape.numel();
  return g;
}

void failGatherIndex(const KernelContext &ctx, const GatherGeometry &g, int64_t index,
                     int64_t element) {
  ctx.fail(TFC_OUT_OF_RANGE, "index %lld (element %lld of '%s') is out of range for dim %lld "
           "of size %lld of '%s'", (long long)index, (long long)element, ctx.inName(1).c_str(),
           (long long)g.axis, (long long)g.data.len, ctx.inName(0).c_str());
}

static int axisOf(int32_t given, int rank) {
  int64_t a = given;
  normalizeAxis(a, rank);
  return int(a);
}

int gatherElementsGeometry(const KernelContext &ctx) {
  const Tensor &data = *ctx.in(0), &idx = *ctx.in(1);
  int axis = axisOf(options<tfc::plan::GatherElementsOptionsT>(*ctx.k).axis, data.shape.rank);
  if (idx.shape.rank != data.shape.rank)
    ctx.fail(TFC_INVALID_ARGUMENT, "indices %s and data %s differ in rank",
             idx.shape.str().c_str(), data.shape.str().c_str());
  for (int i = 0; i < data.shape.rank; ++i)
    if (i != axis && idx.shape.d[i] > data.shape.d[i])
      ctx.fail(TFC_INVALID_ARGUMENT, "indices %s exceed the data %s on axis %d",
               idx.shape.str().c_str(), data.shape.str().c_str(), i);
  ctx.expectOutputShape(0, idx.shape);
  return axis;
}

// ---- Rotary ---------------------------------------------------------------------------------
RotaryGeometry rotaryGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const Tensor *tables[2] = {ctx.in(1), ctx.in(2)};
  const auto &o = options<tfc::plan::RotaryOptionsT>(*ctx.k);
  RotaryGeometry g;
  g.B = x.shape.d[0], g.S = x.shape.d[1], g.D = x.shape.d[2], g.H = o.num_heads;
  g.r = o.rotary_dim;
  g.interleaved = o.interleaved;
  if (g.D % g.H != 0 || g.r > g.D / g.H)
    ctx.fail(TFC_INVALID_ARGUMENT, "x %s: width %lld is not num_heads %lld heads of at least "
             "rotary_dim %lld", x.shape.str().c_str(), (long long)g.D, (long long)g.H,
             (long long)g.r);
  g.dh = g.D / g.H;
  for (int t = 0; t < 2; ++t) {
    const Shape &s = tables[t]->shape;
    bool ok = s.d[s.rank - 1] == g.r && s.d[s.rank - 2] == g.S &&
              (s.rank == 2 || s.d[0] == 1 || s.d[0] == g.B);
    if (!ok)
      ctx.fail(TFC_INVALID_ARGUMENT, "%s '%s' has shape %s; x %s needs [%lld, %lld] or "
               "[1|%lld, %lld, %lld]", t ? "sin" : "cos", ctx.inName(1 + t).c_str(),
               s.str().c_str(), x.shape.str().c_str(), (long long)g.S, (long long)g.r,
               (long long)g.B, (long long)g.S, (long long)g.r);
    g.batchStride[t] = s.rank == 3 && s.d[0] == g.B && g.B > 1 ? g.S * g.r : 0;
  }
  ctx.expectOutputShape(0, x.shape);
  return g;
}

// ---- ArgMax, CumSum -------------------------------------------------------------------------
int argMaxGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const auto &o = options<tfc::plan::ArgMaxOptionsT>(*ctx.k);
  int axis = axisOf(o.axis, x.shape.rank);
  if (x.shape.d[axis] == 0)
    ctx.fail(TFC_INVALID_ARGUMENT, "the reduced axis %d of %s is empty", axis,
             x.shape.str().c_str());
  ctx.expectOutputShape(0, argMaxShape(x.shape, axis, o.keepdims));
  return axis;
}

int cumSumGeometry(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  ctx.expectOutputShape(0, x.shape);
  return axisOf(options<tfc::plan::CumSumOptionsT>(*ctx.k).axis, x.shape.rank);
}

} // namespace tfc::rt
