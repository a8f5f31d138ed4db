//===- GatedLinear.cpp - fused gated feed-forward projection (SwiGLU, GeGLU) on oneDNN -------===//
//
// See GatedLinear.h. Two oneDNN matmuls of exact M: the gate projection with the activation as
// an eltwise post-op (SiLU is oneDNN's swish with alpha 1: x * sigmoid(x)) into a scratch
// buffer, then the up projection with a binary_mul post-op reading that buffer, writing y. NaN
// and infinities propagate as in the primitive ops (swish and gelu keep NaN; nothing here
// clamps). The kernel: inputs x [..., K], gate_weight and up_weight [K, N]; GatedLinearOptions
// activation; the primitives are the kernel's per-session state. Constant weights are read from
// copies made once per plan in the layout the matmul reads fastest (PackedWeights.h); a weight
// computed at run time is read in place. Decode-sized products of constant weights and bf16 /
// int8 weights (inputs 3 and 4: the int8 weights' scales) run on packed weights instead
// (LinearGemv.h), but bf16 weights above 16 rows, which run here: in bf16 on bf16 copies (x
// rounded to bf16) where oneDNN has a bf16 kernel (bf16ProductsInBf16), else on f32 copies.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/GatedLinear.h"

#include "GemmShapes.h"
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/PackedWeights.h"

#include <cstdlib>
#include <string>
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

dnnl::matmul::primitive_desc makeDesc(DnnlEnv &env, int64_t m, int64_t k, int64_t n,
                                      const dnnl::post_ops &po, const memory::desc &wei) {
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  // bf16 weights (bf16ProductsInBf16): x in bf16 too.
  dnnl::matmul::desc desc(memory::desc({m, k}, wei.data_type(), tag::ab), wei,
                          memory::desc({m, n}, dt::f32, tag::ab));
  return dnnl::matmul::primitive_desc(desc, attr, env.engine);
}

/// TFC_GATED_PACKED=0 reads f32 constant weights in place (plain `ab`), as before the plan-wide
/// copies (for measurements); bf16 weights are always read from their f32 copy.
bool gatedPacked() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_GATED_PACKED");
    return !(e && *e == '0');
  }();
  return on;
}

} // namespace

GatedLinearPrimitives::Entry &GatedLinearPrimitives::entry(DnnlEnv &env, int threads, int64_t M,
                                                           int64_t K, int64_t N,
                                                           GateActivation act, bool copy,
                                                           bool bf16) {
  for (Entry &e : cache_)
    if (e.m == M && e.k == K && e.n == N && e.threads == threads && e.act == act &&
        e.copyAsked == copy && e.bf16Asked == bf16)
      return e;
  dnnl::post_ops gatePo, upPo;
  gatePo.append_eltwise(1.f, algorithmOf(act), 1.f, 0.f); // swish: x * sigmoid(alpha x)
  upPo.append_binary(dnnl::algorithm::binary_mul, memory::desc({M, N}, dt::f32, tag::ab));
  if (bf16) {
    // Both products in bf16 (as Linear's runBf16Products), where oneDNN has the kernel for both.
    try {
      const memory::desc any({K, N}, dt::bf16, tag::any);
      dnnl::matmul::primitive_desc g = makeDesc(env, M, K, N, gatePo, any);
      dnnl::matmul::primitive_desc u = makeDesc(env, M, K, N, upPo, g.weights_desc());
      if (bf16Brgemm(g) && bf16Brgemm(u)) {
        Entry e{M, K, N, threads, act, copy, bf16, dnnl::matmul(g), dnnl::matmul(u),
                g.weights_desc()};
        e.toBf16 = dnnl::reorder(memory({{M, K}, dt::f32, tag::ab}, env.engine, nullptr),
                                 memory({{M, K}, dt::bf16, tag::ab}, env.engine, nullptr));
        cache_.push_back(std::move(e));
        return cache_.back();
      }
    } catch (const dnnl::error &) {
    }
  }
  const memory::desc plain({K, N}, dt::f32, tag::ab);
  memory::desc wei = plain;
  if (copy) {
    // oneDNN's own layout (AVX-512 brgemm: blocked); where that is plain rows (AVX2 gemm:jit),
    // rows padded against cache-set conflicts, unless that would be a reference kernel.
    wei = makeDesc(env, M, K, N, gatePo, memory::desc({K, N}, dt::f32, tag::any)).weights_desc();
    if (wei == plain &&
        std::string(makeDesc(env, M, K, N, gatePo, paddedRows(K, N)).impl_info_str())
                .rfind("ref", 0) != 0)
      wei = paddedRows(K, N);
  }
  cache_.push_back({M, K, N, threads, act, copy, bf16,
                    dnnl::matmul(makeDesc(env, M, K, N, gatePo, wei)),
                    dnnl::matmul(makeDesc(env, M, K, N, upPo, wei)), wei});
  return cache_.back();
}

void GatedLinearPrimitives::run(DnnlEnv &env, const Entry &e, const float *x, const void *wg,
                                const void *wu, float *y) {
  const int64_t M = e.m, N = e.n;
  if (M == 0 || N == 0)
    return;
  gate_.resize(size_t(M * N));
  memory src({{M, e.k}, dt::f32, tag::ab}, env.engine, const_cast<float *>(x));
  if (e.weights.data_type() == dt::bf16) { // x rounded to bf16 once, for both products
    if (xBf16_.size() < size_t(M * e.k))
      xBf16_.resize(size_t(M * e.k));
    memory xb({{M, e.k}, dt::bf16, tag::ab}, env.engine, xBf16_.data());
    e.toBf16.execute(env.stream, src, xb);
    src = xb;
  }
  memory gate({{M, N}, dt::f32, tag::ab}, env.engine, gate_.data());
  memory weightG(e.weights, env.engine, const_cast<void *>(wg));
  memory weightU(e.weights, env.engine, const_cast<void *>(wu));
  e.gate.execute(env.stream, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weightG}, {DNNL_ARG_DST, gate}});
  e.up.execute(env.stream, {{DNNL_ARG_SRC, src},
                            {DNNL_ARG_WEIGHTS, weightU},
                            {DNNL_ARG_DST, memory({{M, N}, dt::f32, tag::ab}, env.engine, y)},
                            {DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, gate}});
  env.stream.wait();
}

void GatedLinearPrimitives::run(DnnlEnv &env, int threads, const float *x, const float *wg,
                                const float *wu, float *y, int64_t M, int64_t K, int64_t N,
                                GateActivation act) {
  if (M == 0 || N == 0)
    return;
  run(env, entry(env, threads, M, K, N, act, false, false), x, wg, wu, y);
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
  auto &st = ctx.stateAs<GatedLinearPrimitives>();
  if (!bf16Copy && runGatedLinearGemv(ctx, d, st.gemv))
    return;
  if (wg.dtype != TFC_F32 && !bf16Copy)
    ctx.fail(TFC_INTERNAL, "a %s gated weight without its packed path", dtypeName(wg.dtype));
  if (d.M == 0 || d.N == 0)
    return;
  // Constant weights are read from plan-wide copies in the layout the matmul reads fastest
  // (PackedWeights.h): without them, oneDNN's AVX-512 matmul repacks a plain weight on every
  // call. A weight computed at run time is read in place.
  auto constant = [&](size_t i) {
    return ctx.fn->values[size_t(ctx.k->inputs[i])].kind == ValueKind::Constant;
  };
  const bool copy = bf16Copy || (gatedPacked() && ctx.plan && constant(1) && constant(2));
  GatedLinearPrimitives::Entry &e =
      st.entry(device.dnnl(), device.threads(), d.M, d.K, d.N,
               options<tfc::plan::GatedLinearOptionsT>(*ctx.k).activation, copy,
               bf16Copy && bf16ProductsInBf16());
  const void *pg = wg.data, *pu = wu.data;
  if (copy) {
    if (!e.gateData) {
      const dt type = wg.dtype == TFC_BF16 ? dt::bf16 : dt::f32; // e.weights: f32 or bf16
      e.gateData = packedWeights(ctx, wg.data, type, d.K, d.N, e.weights);
      e.upData = packedWeights(ctx, wu.data, type, d.K, d.N, e.weights);
    }
    pg = e.gateData;
    pu = e.upData;
  }
  st.run(device.dnnl(), e, x.as<float>(), pg, pu, y.as<float>());
}

} // namespace tfc::rt
