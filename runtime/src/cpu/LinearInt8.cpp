//===- LinearInt8.cpp - Linear with an int8 weight and many rows ------------------------------===//
//
// See LinearInt8.h. The packed weights are made on first use and kept per plan
// (Plan::derived "int8gemm.packed"), shared by every session.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/LinearInt8.h"

#include "cpu/Common.h"
#include "cpu/CpuBackend.h"

#include <cstdlib>
#include <map>
#include <mutex>

namespace tfc::rt {
namespace {

using dnnl::memory;
using Activation = tfc::plan::Activation;

bool int8GemmOn() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_INT8_GEMM");
    return !(e && *e == '0');
  }();
  return on;
}

struct PackedCache {
  std::mutex mutex;
  std::map<const void *, std::unique_ptr<int8gemm::PackedWeight>> entries;
};

const int8gemm::PackedWeight &packedWeight(const KernelContext &ctx, Int8LinearState &st,
                                           const Tensor &w) {
  if (st.packed && st.source == w.data)
    return *st.packed;
  if (!ctx.plan)
    ctx.fail(TFC_INTERNAL, "packed weights need the plan");
  std::shared_ptr<PackedCache> cache;
  {
    std::lock_guard<std::mutex> lock(ctx.plan->derivedMutex);
    std::shared_ptr<void> &entry = ctx.plan->derived["int8gemm.packed"];
    if (!entry)
      entry = std::make_shared<PackedCache>();
    cache = std::static_pointer_cast<PackedCache>(entry);
  }
  std::lock_guard<std::mutex> lock(cache->mutex);
  std::unique_ptr<int8gemm::PackedWeight> &slot = cache->entries[w.data];
  if (!slot) {
    slot = std::make_unique<int8gemm::PackedWeight>(
        int8gemm::pack(w.as<int8_t>(), w.shape.d[0], w.shape.d[1], int8gemm::defaultIsa()));
    // The kernel reads the quads from now on: give back the plan's pages of the weight.
    if (ctx.plan->mapping)
      ctx.plan->mapping->dropPages(w.data, size_t(w.shape.d[0] * w.shape.d[1]));
  }
  st.source = w.data;
  st.packed = slot.get();
  return *slot;
}

/// data = alg(data) in place with a oneDNN eltwise primitive (the fp32 path's post-op function).
void eltwise(const KernelContext &ctx, Int8LinearState &st, dnnl::algorithm alg, float *data,
             int64_t n) {
  CpuDevice &device = cpuDevice(ctx);
  DnnlEnv &env = device.dnnl();
  Int8LinearState::Eltwise *entry = nullptr;
  for (Int8LinearState::Eltwise &e : st.eltwise)
    if (e.alg == alg && e.n == n && e.threads == device.threads())
      entry = &e;
  memory::desc desc({n}, memory::data_type::f32, memory::format_tag::a);
  if (!entry) {
    dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, desc, 0.f, 0.f);
    st.eltwise.push_back(
        {alg, n, device.threads(),
         dnnl::eltwise_forward(dnnl::eltwise_forward::primitive_desc(d, env.engine))});
    entry = &st.eltwise.back();
  }
  memory m(desc, env.engine, data);
  entry->prim.execute(env.stream, {{DNNL_ARG_SRC, m}, {DNNL_ARG_DST, m}});
  env.stream.wait();
}

void activate(const KernelContext &ctx, Int8LinearState &st, Activation act, float *data,
              int64_t n) {
  switch (act) {
  case Activation::Relu:
#pragma omp parallel for simd schedule(static) if (n >= 32768)
    for (int64_t i = 0; i < n; ++i)
      data[i] = data[i] < 0.f ? 0.f : data[i]; // NaN stays NaN
    break;
  case Activation::GeluErf: eltwise(ctx, st, dnnl::algorithm::eltwise_gelu_erf, data, n); break;
  case Activation::GeluTanh: eltwise(ctx, st, dnnl::algorithm::eltwise_gelu_tanh, data, n); break;
  default: break;
  }
}

/// y += r, r broadcasting to y's shape.
void addResidual(Tensor &y, const Tensor &r, const float *rData) {
  const Shape *ins[2] = {&y.shape, &r.shape};
  BroadcastLoop<2> loop(y.shape, ins);
  float *py = y.as<float>();
  loop.run([&](int64_t o, const int64_t *off, int64_t n, const int64_t *stv) {
    for (int64_t i = 0; i < n; ++i)
      py[o + i] += rData[off[1] + i * stv[1]];
  });
}

} // namespace

bool runLinearInt8(const KernelContext &ctx, const LinearDims &d, Int8LinearState &st) {
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2), *r = ctx.in(3), *scale = ctx.in(4);
  if (w.dtype != TFC_I8 || d.M < kInt8GemmMinRows || !int8GemmOn())
    return false;
  Tensor &y = ctx.out(0);
  if (d.N == 0)
    return true;
  if (!scale)
    ctx.fail(TFC_INTERNAL, "int8 weight '%s' without its scale", ctx.inName(1).c_str());
  if (x.data == y.data)
    ctx.fail(TFC_INTERNAL, "the output shares the input's bytes");
  const int8gemm::PackedWeight &pw = packedWeight(ctx, st, w);
  const int8gemm::Isa isa = int8gemm::defaultIsa();
  const int threads = cpuDevice(ctx).threads();
  const int64_t M = d.M, K = d.K, N = d.N;
  int8gemm::quantizeRows(x.as<float>(), M, K, K, st.rows, isa, threads);
  int8gemm::Epilogue e;
  e.weightScale = scale->as<float>();
  e.bias = b ? b->as<float>() : nullptr;
  const Activation act = options<tfc::plan::LinearOptionsT>(*ctx.k).activation;
  const bool inPlace = r && r->data == y.data;
  if (inPlace && r->shape != d.out)
    ctx.fail(TFC_UNSUPPORTED, "an in-place residual must have the output's shape");
  if (act == Activation::None) {
    // The residual in the epilogue when it is a full [M, N] or one row of N, else a pass after.
    if (r && r->shape.numel() == M * N) {
      e.residual = r->as<float>();
      e.residualStride = N;
    } else if (r && r->shape.numel() == N && r->shape.d[r->shape.rank - 1] == N) {
      e.residual = r->as<float>();
      e.residualStride = 0;
    }
    int8gemm::multiply(pw, st.rows, x.as<float>(), K, w.as<int8_t>(), y.as<float>(), N, e, isa,
                       threads);
    if (r && !e.residual)
      addResidual(y, *r, r->as<float>());
    return true;
  }
  // act(x W + b) + r: the activation before the residual.
  float *out = y.as<float>();
  if (inPlace) {
    st.scratch.resize(size_t(M * N));
    out = st.scratch.data();
  }
  int8gemm::multiply(pw, st.rows, x.as<float>(), K, w.as<int8_t>(), out, N, e, isa, threads);
  activate(ctx, st, act, out, M * N);
  if (inPlace) {
    float *py = y.as<float>();
    for (int64_t i = 0; i < M * N; ++i)
      py[i] += out[i];
  } else if (r) {
    addResidual(y, *r, r->as<float>());
  }
  return true;
}

} // namespace tfc::rt
