//===- GatedLinear.cpp - fused gated feed-forward projection (SwiGLU, GeGLU) on oneDNN -------===//
//
// See GatedLinear.h. Two oneDNN matmuls of exact M on the plain `ab` weights (as Linear.cpp's
// default path): the gate projection with the activation as an eltwise post-op (SiLU is oneDNN's
// swish with alpha 1: x * sigmoid(x)) into a scratch buffer, then the up projection with a
// binary_mul post-op reading that buffer, writing y. NaN and infinities propagate as in the
// primitive ops (swish and gelu keep NaN; nothing here clamps). The kernel: inputs x [..., K],
// gate_weight and up_weight [K, N]; GatedLinearOptions activation; the primitives are the
// kernel's per-session state.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/GatedLinear.h"

#include "cpu/Common.h"
#include "cpu/CpuBackend.h"

namespace tfc::rt {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::algorithm algorithmOf(GateActivation act) {
  switch (act) {
  case GateActivation::GeluErf: return dnnl::algorithm::eltwise_gelu_erf;
  case GateActivation::GeluTanh: return dnnl::algorithm::eltwise_gelu_tanh;
  case GateActivation::Silu: break;
  }
  // Silu, and (refused by checkGatedLinear) any other number.
  return dnnl::algorithm::eltwise_swish;
}

dnnl::matmul makeMatmul(DnnlEnv &env, int64_t m, int64_t k, int64_t n, const dnnl::post_ops &po) {
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  dnnl::matmul::desc desc(memory::desc({m, k}, dt::f32, tag::ab),
                          memory::desc({k, n}, dt::f32, tag::ab),
                          memory::desc({m, n}, dt::f32, tag::ab));
  return dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, env.engine));
}

} // namespace

void GatedLinearPrimitives::run(DnnlEnv &env, int threads, const float *x, const float *wg,
                                const float *wu, float *y, int64_t M, int64_t K, int64_t N,
                                GateActivation act) {
  if (M == 0 || N == 0)
    return;
  Entry *entry = nullptr;
  for (Entry &e : cache_)
    if (e.m == M && e.k == K && e.n == N && e.threads == threads && e.act == act)
      entry = &e;
  if (!entry) {
    dnnl::post_ops gatePo, upPo;
    gatePo.append_eltwise(1.f, algorithmOf(act), 1.f, 0.f); // swish: x * sigmoid(alpha x)
    upPo.append_binary(dnnl::algorithm::binary_mul, memory::desc({M, N}, dt::f32, tag::ab));
    cache_.push_back({M, K, N, threads, act, makeMatmul(env, M, K, N, gatePo),
                      makeMatmul(env, M, K, N, upPo)});
    entry = &cache_.back();
  }
  gate_.resize(size_t(M * N));
  memory src({{M, K}, dt::f32, tag::ab}, env.engine, const_cast<float *>(x));
  memory gate({{M, N}, dt::f32, tag::ab}, env.engine, gate_.data());
  entry->gate.execute(env.stream,
                      {{DNNL_ARG_SRC, src},
                       {DNNL_ARG_WEIGHTS, memory({{K, N}, dt::f32, tag::ab}, env.engine,
                                                 const_cast<float *>(wg))},
                       {DNNL_ARG_DST, gate}});
  entry->up.execute(env.stream,
                    {{DNNL_ARG_SRC, src},
                     {DNNL_ARG_WEIGHTS, memory({{K, N}, dt::f32, tag::ab}, env.engine,
                                               const_cast<float *>(wu))},
                     {DNNL_ARG_DST, memory({{M, N}, dt::f32, tag::ab}, env.engine, y)},
                     {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, gate}});
  env.stream.wait();
}

std::string checkGatedLinear(const FunctionDesc &fn, const KernelDesc &k) {
  GateActivation act = options<tfc::plan::GatedLinearOptionsT>(k).activation;
  if (!isKnownEnumValue(act))
    return format("unknown GateActivation %d", int(act));
  static const char *names[] = {"x", "gate_weight", "up_weight"};
  for (size_t i = 0; i < k.inputs.size(); ++i) {
    std::string e = expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
  }
  for (size_t i : {1, 2})
    if (fn.values[k.inputs[i]].rank != 2)
      return format("%s '%s' has rank %d, expected 2 ([K, N])", names[i],
                    fn.values[k.inputs[i]].name.c_str(), fn.values[k.inputs[i]].rank);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runGatedLinear(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &wg = *ctx.in(1), &wu = *ctx.in(2);
  Tensor &y = ctx.out(0);
  if (x.shape.rank < 1)
    ctx.fail(TFC_INVALID_ARGUMENT, "input '%s' is a scalar", ctx.inName(0).c_str());
  int64_t K = x.shape.d[x.shape.rank - 1], N = wg.shape.d[1];
  if (wg.shape.d[0] != K || wu.shape != wg.shape)
    ctx.fail(TFC_INVALID_ARGUMENT, "x %s, gate_weight %s and up_weight %s do not agree on [K, N]",
             x.shape.str().c_str(), wg.shape.str().c_str(), wu.shape.str().c_str());
  Shape shape = x.shape;
  shape.d[shape.rank - 1] = N;
  ctx.expectOutputShape(0, shape);
  if (K == 0)
    ctx.fail(TFC_UNSUPPORTED, "an empty reduction (K = 0)");
  if (y.data == x.data && shape.numel() > 0)
    ctx.fail(TFC_INTERNAL, "the output shares the input's bytes");
  CpuDevice &device = cpuDevice(ctx);
  ctx.stateAs<GatedLinearPrimitives>().run(
      device.dnnl(), device.threads(), x.as<float>(), wg.as<float>(), wu.as<float>(), y.as<float>(),
      x.shape.numel() / K, K, N, options<tfc::plan::GatedLinearOptionsT>(*ctx.k).activation);
}

} // namespace tfc::rt
