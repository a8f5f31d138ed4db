//===- GatedLinear.cpp - fused gated feed-forward projection (SwiGLU, GeGLU) on oneDNN -------===//
//
// See GatedLinear.h. Two oneDNN matmuls of exact M on the plain `ab` weights (as Linear.cpp's
// default path): the gate projection with the activation as an eltwise post-op (SiLU is oneDNN's
// swish with alpha 1: x * sigmoid(x)) into a scratch buffer, then the up projection with a
// binary_mul post-op reading that buffer, writing y. NaN and infinities propagate as in the
// primitive ops (swish and gelu keep NaN; nothing here clamps). The kernel: inputs x [..., K],
// gate_weight and up_weight [K, N]; GatedLinearOptions activation; the primitives are the
// kernel's per-session state. Decode-sized products of constant weights and bf16 / int8 weights
// (inputs 3 and 4: the int8 weights' scales) run on packed weights instead (LinearGemv.h), but
// bf16 weights above 16 rows, which run here on f32 copies made once per plan (f32Copy).
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/GatedLinear.h"

#include "GemmShapes.h"
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

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

/// The f32 copy of a bf16 constant weight (exact: the bits, 16 places up), made once per plan
/// and shared by its sessions (Plan::derived "gated_linear.f32_copies").
const float *f32Copy(const KernelContext &ctx, const Tensor &w) {
  struct Copies {
    std::mutex mutex;
    std::map<const void *, std::vector<float>> entries;
  };
  std::shared_ptr<Copies> cache;
  {
    std::lock_guard<std::mutex> lock(ctx.plan->derivedMutex);
    std::shared_ptr<void> &slot = ctx.plan->derived["gated_linear.f32_copies"];
    if (!slot)
      slot = std::make_shared<Copies>();
    cache = std::static_pointer_cast<Copies>(slot);
  }
  std::lock_guard<std::mutex> lock(cache->mutex);
  std::vector<float> &copy = cache->entries[w.data];
  if (copy.empty()) {
    const int64_t n = w.shape.numel();
    copy.resize(size_t(n));
    const uint16_t *bits = static_cast<const uint16_t *>(w.data);
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t v = uint32_t(bits[i]) << 16;
      std::memcpy(&copy[size_t(i)], &v, sizeof v);
    }
  }
  return copy.data();
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
  if (std::string e = expectDtype(fn, k, 0, names[0], {TFC_F32}); !e.empty())
    return e;
  // The weights: f32, or bf16 / i8 constants (inputs 3 and 4: the i8 weights' scales).
  for (size_t i : {1, 2})
    if (std::string e = checkLowPrecisionWeight(fn, k, i, i + 2, names[i]); !e.empty())
      return e;
  if (inDtype(fn, k, 1) != inDtype(fn, k, 2))
    return format("gate_weight '%s' is %s but up_weight '%s' is %s", fn.values[k.inputs[1]].name.c_str(),
                  dtypeName(inDtype(fn, k, 1)), fn.values[k.inputs[2]].name.c_str(),
                  dtypeName(inDtype(fn, k, 2)));
  for (size_t i : {1, 2})
    if (fn.values[k.inputs[i]].rank != 2)
      return format("%s '%s' has rank %d, expected 2 ([K, N])", names[i],
                    fn.values[k.inputs[i]].name.c_str(), fn.values[k.inputs[i]].rank);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runGatedLinear(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &wg = *ctx.in(1), &wu = *ctx.in(2);
  Tensor &y = ctx.out(0);
  const LinearDims d = gatedLinearDims(ctx);
  CpuDevice &device = cpuDevice(ctx);
  // bf16 weights above kGemvMaxRows rows: oneDNN's f32 matmuls on f32 copies (LinearGemv.h).
  const bool bf16Copy = wg.dtype == TFC_BF16 && d.M > kGemvMaxRows && ctx.plan &&
                        bf16ProductsAsF32() &&
                        !(d.M <= kPrefillGemvMaxRows && isPrepacked(ctx, 1) && isPrepacked(ctx, 2));
  if (!bf16Copy && runGatedLinearGemv(ctx, d, ctx.stateAs<GatedLinearPrimitives>().gemv))
    return;
  if (wg.dtype != TFC_F32 && !bf16Copy)
    ctx.fail(TFC_INTERNAL, "a %s gated weight without its packed path", dtypeName(wg.dtype));
  const float *pg = bf16Copy ? f32Copy(ctx, wg) : wg.as<float>();
  const float *pu = bf16Copy ? f32Copy(ctx, wu) : wu.as<float>();
  ctx.stateAs<GatedLinearPrimitives>().run(
      device.dnnl(), device.threads(), x.as<float>(), pg, pu, y.as<float>(), d.M, d.K, d.N,
      options<tfc::plan::GatedLinearOptionsT>(*ctx.k).activation);
}

} // namespace tfc::rt
