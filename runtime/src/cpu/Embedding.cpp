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
  const EmbeddingGeometry g = embeddingGeometry(ctx);
  const int64_t B = g.B, S = g.S, D = g.D, past = g.past;
  for (int64_t i = 0; i < B * S; ++i) {
    int64_t id = idAt(ids, i);
    if (id < 0 || id >= g.V)
      failEmbeddingId(ctx, 0, id, i, S, g.V);
    if (tids) {
      int64_t t = idAt(*tids, i);
      if (t < 0 || t >= g.numTypes)
        failEmbeddingId(ctx, 3, t, i, S, g.numTypes);
    }
  }
  float scale = g.scale;
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
