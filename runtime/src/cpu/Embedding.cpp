//===- Embedding.cpp - fused token + position (+ token type) embedding -------------------------===//
//
// y[b, s] = tokens[ids[b, s]] * scale + positions[past + s] (+ types[type_ids[b, s]]) with ids and
// type_ids [B, S] (i64 or i32), tables [*, D] f32; past is 0, or the KV cache's length with
// EmbeddingOptions.offset_positions. Every id is checked against its table before anything is
// written: an out-of-range token id is an error naming the kernel and the id.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"

namespace tfc::rt {

std::string checkEmbedding(const FunctionDesc &fn, const KernelDesc &k) {
  static const char *names[] = {"ids", "tokens", "positions", "type_ids", "types"};
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    bool index = i == 0 || i == 3;
    std::string e = index ? expectDtype(fn, k, i, names[i], {TFC_I64, TFC_I32})
                          : expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
  }
  if (hasInput(k, 3) != hasInput(k, 4))
    return "type_ids and types must both be present or both absent";
  for (size_t i : {1, 2, 4})
    if (hasInput(k, i) && fn.values[k.inputs[i]].rank != 2)
      return format("table '%s' has rank %d, expected 2", fn.values[k.inputs[i]].name.c_str(),
                    fn.values[k.inputs[i]].rank);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

static int64_t idAt(const Tensor &t, int64_t i) {
  return t.dtype == TFC_I64 ? t.as<int64_t>()[i] : int64_t(t.as<int32_t>()[i]);
}

void runEmbedding(const KernelContext &ctx) {
  const Tensor &ids = *ctx.in(0), &tok = *ctx.in(1), &pos = *ctx.in(2);
  const Tensor *tids = ctx.in(3), *types = ctx.in(4);
  if (ids.shape.rank != 2)
    ctx.fail(TFC_INVALID_ARGUMENT, "ids '%s' has shape %s, expected [B, S]",
             ctx.inName(0).c_str(), ids.shape.str().c_str());
  int64_t B = ids.shape.d[0], S = ids.shape.d[1], D = tok.shape.d[1], V = tok.shape.d[0];
  if (pos.shape.d[1] != D || (types && types->shape.d[1] != D))
    ctx.fail(TFC_INVALID_ARGUMENT, "tables disagree on D (tokens %s, positions %s)",
             tok.shape.str().c_str(), pos.shape.str().c_str());
  const tfc::plan::EmbeddingOptionsT &o = options<tfc::plan::EmbeddingOptionsT>(*ctx.k);
  // offset_positions: token s of this run is at position past + s (past: the KV cache's length).
  const int64_t past = o.offset_positions && ctx.cache ? ctx.cache->past : 0;
  if (pos.shape.d[0] - past < S) {
    if (past)
      ctx.fail(TFC_OUT_OF_RANGE,
               "positions past + seq = %lld + %lld are above the %lld positions of '%s'",
               (long long)past, (long long)S, (long long)pos.shape.d[0], ctx.inName(2).c_str());
    ctx.fail(TFC_OUT_OF_RANGE, "sequence length %lld is above the %lld positions of '%s'",
             (long long)S, (long long)pos.shape.d[0], ctx.inName(2).c_str());
  }
  if (tids && tids->shape != ids.shape)
    ctx.fail(TFC_INVALID_ARGUMENT, "type_ids %s do not have the shape of ids %s",
             tids->shape.str().c_str(), ids.shape.str().c_str());
  Shape shape;
  shape.rank = 3;
  shape.d[0] = B, shape.d[1] = S, shape.d[2] = D;
  ctx.expectOutputShape(0, shape);
  for (int64_t i = 0; i < B * S; ++i) {
    int64_t id = idAt(ids, i);
    if (id < 0 || id >= V)
      ctx.fail(TFC_OUT_OF_RANGE, "token id %lld at [%lld, %lld] of '%s' is out of range [0, %lld)",
               (long long)id, (long long)(i / S), (long long)(i % S), ctx.inName(0).c_str(),
               (long long)V);
    if (tids) {
      int64_t t = idAt(*tids, i), nt = types->shape.d[0];
      if (t < 0 || t >= nt)
        ctx.fail(TFC_OUT_OF_RANGE, "token type id %lld at [%lld, %lld] of '%s' is out of range "
                 "[0, %lld)", (long long)t, (long long)(i / S), (long long)(i % S),
                 ctx.inName(3).c_str(), (long long)nt);
    }
  }
  float scale = o.scale;
  const float *pt = tok.as<float>(), *pp = pos.as<float>();
  const float *pty = types ? types->as<float>() : nullptr;
  float *py = ctx.out(0).as<float>();
#pragma omp parallel for schedule(static) if (B * S * D >= 32768)
  for (int64_t i = 0; i < B * S; ++i) {
    const float *t = pt + idAt(ids, i) * D, *p = pp + (past + i % S) * D;
    float *y = py + i * D;
    for (int64_t j = 0; j < D; ++j)
      y[j] = t[j] * scale + p[j];
    if (pty) {
      const float *ty = pty + idAt(*tids, i) * D;
      for (int64_t j = 0; j < D; ++j)
        y[j] += ty[j];
    }
  }
}

} // namespace tfc::rt
