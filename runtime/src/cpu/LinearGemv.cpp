//===- LinearGemv.cpp - Linear / GatedLinear on packed f32, bf16 and int8 weights -------------===//
//
// See LinearGemv.h. The product and its epilogue (int8 scale, bias, the activation: ActivationMath.h,
// a residual of the output's shape or one row of it, GatedLinear's gate as a multiplier) are
// Gemv.h's; what is left is here: residuals of other broadcasts, the gated product's two calls,
// and the plan's cache of packed weights.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/LinearGemv.h"

#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/Gemv.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <omp.h>

namespace tfc::rt {
namespace {

using Activation = tfc::plan::Activation;
using GateActivation = tfc::plan::GateActivation;

/// TFC_LINEAR_GEMV=0 sends f32 decode products back to oneDNN (for measurements).
bool gemvForF32() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_LINEAR_GEMV");
    return !(e && *e == '0');
  }();
  return on;
}

/// The plan's packed weights, per (constant bytes, instruction set); a Plan::derived entry.
struct PackedCache {
  std::mutex mutex;
  std::map<std::pair<const void *, gemv::Isa>, std::unique_ptr<gemv::PackedWeight>> entries;
  // The decode_step weights (prepackDecodeWeights), which prompts may read (kPrefillGemvMaxRows).
  // Set when the first session opens, from the plan alone: which path a product takes never
  // depends on what ran before (a weight packed on first use by a small product is not in it).
  std::set<std::pair<const void *, gemv::Isa>> decode;
  // Held through prepackDecodeWeights: sessions opened at once pack once, and none opens before
  // `decode` is complete.
  std::mutex prepack;
};

gemv::WeightType weightType(tfc_dtype d) {
  return d == TFC_BF16 ? gemv::WeightType::BF16
         : d == TFC_I8 ? gemv::WeightType::I8
                       : gemv::WeightType::F32;
}

/// The plan's cache of packed weights (made on first use).
std::shared_ptr<PackedCache> cacheOf(const Plan &plan) {
  std::lock_guard<std::mutex> lock(plan.derivedMutex);
  std::shared_ptr<void> &entry = plan.derived["gemv.packed"];
  if (!entry)
    entry = std::make_shared<PackedCache>();
  return std::static_pointer_cast<PackedCache>(entry);
}

/// The packed copy of input `input` (a constant [K, N] weight), made on first use per plan
/// unless the session's device made it at open (prepackDecodeWeights).
const gemv::PackedWeight &packedWeight(const KernelContext &ctx, GemvState &st, int slot,
                                       size_t input) {
  const Tensor &w = *ctx.in(input);
  GemvState::Packed &p = st.packed[slot];
  if (p.packed && p.source == w.data)
    return *p.packed;
  if (!ctx.plan)
    ctx.fail(TFC_INTERNAL, "packed weights need the plan");
  std::shared_ptr<PackedCache> cache = cacheOf(*ctx.plan);
  const gemv::Isa isa = gemv::defaultIsa();
  std::lock_guard<std::mutex> lock(cache->mutex);
  std::unique_ptr<gemv::PackedWeight> &slotOf = cache->entries[{w.data, isa}];
  if (!slotOf)
    slotOf = std::make_unique<gemv::PackedWeight>(
        gemv::pack(weightType(w.dtype), w.data, w.shape.d[0], w.shape.d[1], isa));
  p = {w.data, slotOf.get()};
  return *slotOf;
}

gemv::Act actOf(Activation a) {
  switch (a) {
  case Activation::Relu: return gemv::Act::Relu;
  case Activation::GeluErf: return gemv::Act::GeluErf;
  case Activation::GeluTanh: return gemv::Act::GeluTanh;
  default: return gemv::Act::None;
  }
}

gemv::Act actOf(GateActivation a) {
  switch (a) {
  case GateActivation::GeluErf: return gemv::Act::GeluErf;
  case GateActivation::GeluTanh: return gemv::Act::GeluTanh;
  default: return gemv::Act::Silu; // Silu, and (refused by checkGatedLinear) any other number
  }
}

/// y += r, r broadcasting to y's shape (r may be y's own bytes only with y's shape).
void addResidual(Tensor &y, const Tensor &r, const float *rData) {
  const Shape *ins[2] = {&y.shape, &r.shape};
  BroadcastLoop<2> loop(y.shape, ins);
  float *py = y.as<float>();
  loop.run([&](int64_t o, const int64_t *off, int64_t n, const int64_t *stv) {
    for (int64_t i = 0; i < n; ++i)
      py[o + i] += rData[off[1] + i * stv[1]];
  });
}

std::string dimsOf(const ValueDesc &v) {
  std::string s = "[";
  for (int i = 0; i < v.rank; ++i)
    s += (i ? ", " : "") + (v.dims[i].symbol >= 0 ? std::string("?")
                                                   : std::to_string(v.dims[i].size));
  return s + "]";
}

} // namespace

std::string checkLowPrecisionWeight(const FunctionDesc &fn, const KernelDesc &k, size_t w,
                                    size_t scale, const char *what) {
  const ValueDesc &wv = fn.values[k.inputs[w]];
  const bool low = (wv.dtype == TFC_BF16 || wv.dtype == TFC_I8) && wv.dtype != fn.floatDtype;
  if (!low) {
    if (std::string e = expectDtype(fn, k, w, what, {TFC_F32}); !e.empty())
      return e;
    if (hasInput(k, scale))
      return format("input %zu (a scale, value '%s') is given but %s '%s' is %s: only an i8 "
                    "weight has a scale", scale, fn.values[k.inputs[scale]].name.c_str(), what,
                    wv.name.c_str(), dtypeName(wv.dtype));
    return "";
  }
  if (wv.dtype != fn.weightDtype)
    return format("%s '%s' is %s but the plan's weight precision is %s", what, wv.name.c_str(),
                  dtypeName(wv.dtype), dtypeName(fn.weightDtype));
  if (wv.kind != ValueKind::Constant)
    return format("%s '%s' is %s but not a plan constant (only constant weights are converted)",
                  what, wv.name.c_str(), dtypeName(wv.dtype));
  if (wv.rank != 2)
    return format("%s '%s' has rank %d, expected 2 ([K, N])", what, wv.name.c_str(), wv.rank);
  if (wv.dtype == TFC_BF16) {
    if (hasInput(k, scale))
      return format("input %zu (a scale, value '%s') is given but %s '%s' is bf16: only an i8 "
                    "weight has a scale", scale, fn.values[k.inputs[scale]].name.c_str(), what,
                    wv.name.c_str());
    return "";
  }
  if (!hasInput(k, scale))
    return format("%s '%s' is i8 but has no scale (input %zu: an f32 constant [N])", what,
                  wv.name.c_str(), scale);
  const ValueDesc &sv = fn.values[k.inputs[scale]];
  if (sv.dtype != TFC_F32)
    return format("scale '%s' of %s '%s' has dtype %s; expected f32", sv.name.c_str(), what,
                  wv.name.c_str(), dtypeName(sv.dtype));
  if (sv.kind != ValueKind::Constant)
    return format("scale '%s' of %s '%s' is not a plan constant", sv.name.c_str(), what,
                  wv.name.c_str());
  const int64_t N = wv.dims[1].size; // a constant's dims are static (the loader checked)
  if (sv.rank != 1 || sv.dims[0].symbol >= 0 || sv.dims[0].size != N)
    return format("scale '%s' of %s '%s' has shape %s; expected [%lld] (one per output column)",
                  sv.name.c_str(), what, wv.name.c_str(), dimsOf(sv).c_str(), (long long)N);
  return "";
}

bool runLinearGemv(const KernelContext &ctx, const LinearDims &d, GemvState &st) {
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2), *r = ctx.in(3), *scale = ctx.in(4);
  if (w.dtype == TFC_F32 &&
      !(d.M <= kGemvMaxRows && gemvForF32() &&
        ctx.fn->values[size_t(ctx.k->inputs[1])].kind == ValueKind::Constant) &&
      !(d.M <= kPrefillGemvMaxRows && isPrepacked(ctx, 1)))
    return false;
  Tensor &y = ctx.out(0);
  if (d.M == 0 || d.N == 0)
    return true;
  if (x.data == y.data)
    ctx.fail(TFC_INTERNAL, "the output shares the input's bytes");
  const gemv::PackedWeight &pw = packedWeight(ctx, st, 0, 1);
  const int threads = cpuDevice(ctx).threads();
  const int64_t M = d.M, N = d.N;
  gemv::Epilogue e;
  e.scale = scale ? scale->as<float>() : nullptr;
  e.bias = b ? b->as<float>() : nullptr;
  e.act = actOf(options<tfc::plan::LinearOptionsT>(*ctx.k).activation);
  // act(x W + b) + r: the residual in the epilogue when it is a full [M, N] (y itself
  // included: each element is read before it is written) or one row of N, else a pass after.
  if (r && r->data == y.data && r->shape != d.out)
    ctx.fail(TFC_UNSUPPORTED, "an in-place residual must have the output's shape");
  if (r && r->shape.numel() == M * N) {
    e.residual = r->as<float>();
    e.residualStride = N;
  } else if (r && r->shape.numel() == N && r->shape.d[r->shape.rank - 1] == N) {
    e.residual = r->as<float>();
    e.residualStride = 0;
  }
  gemv::multiply(pw, x.as<float>(), M, d.K, y.as<float>(), N, e, threads);
  if (r && !e.residual)
    addResidual(y, *r, r->as<float>());
  return true;
}

bool runGatedLinearGemv(const KernelContext &ctx, const LinearDims &d, GemvState &st) {
  const Tensor &x = *ctx.in(0), &wg = *ctx.in(1);
  const Tensor *gateScale = ctx.in(3), *upScale = ctx.in(4);
  const bool constants = ctx.fn->values[size_t(ctx.k->inputs[1])].kind == ValueKind::Constant &&
                         ctx.fn->values[size_t(ctx.k->inputs[2])].kind == ValueKind::Constant;
  if (wg.dtype == TFC_F32 && !(d.M <= kGemvMaxRows && gemvForF32() && constants) &&
      !(d.M <= kPrefillGemvMaxRows && isPrepacked(ctx, 1) && isPrepacked(ctx, 2)))
    return false;
  Tensor &y = ctx.out(0);
  if (d.M == 0 || d.N == 0)
    return true;
  const int threads = cpuDevice(ctx).threads();
  const int64_t M = d.M, N = d.N;
  const gemv::PackedWeight &pg = packedWeight(ctx, st, 0, 1);
  const gemv::PackedWeight &pu = packedWeight(ctx, st, 1, 2);
  // gate = act(x Wg) into scratch, then y = (x Wu) * gate: both in the epilogues.
  st.scratch.resize(size_t(M * N));
  float *gate = st.scratch.data();
  gemv::Epilogue e;
  e.scale = gateScale ? gateScale->as<float>() : nullptr;
  e.act = actOf(options<tfc::plan::GatedLinearOptionsT>(*ctx.k).activation);
  gemv::multiply(pg, x.as<float>(), M, d.K, gate, N, e, threads);
  e = {};
  e.scale = upScale ? upScale->as<float>() : nullptr;
  e.mul = gate;
  e.mulStride = N;
  gemv::multiply(pu, x.as<float>(), M, d.K, y.as<float>(), N, e, threads);
  return true;
}

void prepackDecodeWeights(const Plan &plan, int threads) {
  const FunctionDesc *fn = plan.findFunction("decode_step");
  if (!fn)
    return;
  struct Job {
    const void *data;
    tfc_dtype dtype;
    int64_t K, N;
    std::unique_ptr<gemv::PackedWeight> packed;
  };
  std::vector<Job> jobs;
  std::set<const void *> seen;
  for (const KernelDesc &k : fn->kernels) {
    std::vector<size_t> weights;
    if (k.kind == KernelKind::Linear)
      weights = {1};
    else if (k.kind == KernelKind::GatedLinear)
      weights = {1, 2};
    for (size_t i : weights) {
      if (i >= k.inputs.size() || k.inputs[i] < 0)
        continue;
      const ValueDesc &v = fn->values[size_t(k.inputs[i])];
      if (v.kind != ValueKind::Constant || v.rank != 2 || v.constant < 0 ||
          size_t(v.constant) >= plan.constants.size())
        continue;
      if (v.dtype == TFC_F32 ? !gemvForF32() : v.dtype != TFC_BF16 && v.dtype != TFC_I8)
        continue;
      const void *data = plan.constants[size_t(v.constant)].data;
      if (seen.insert(data).second)
        jobs.push_back({data, v.dtype, v.dims[0].size, v.dims[1].size, nullptr});
    }
  }
  std::shared_ptr<PackedCache> cache = cacheOf(plan);
  const gemv::Isa isa = gemv::defaultIsa();
  std::lock_guard<std::mutex> once(cache->prepack);
  std::vector<std::pair<const void *, gemv::Isa>> keys;
  for (const Job &j : jobs)
    keys.push_back({j.data, isa});
  {
    std::lock_guard<std::mutex> lock(cache->mutex);
    jobs.erase(std::remove_if(jobs.begin(), jobs.end(),
                              [&](const Job &j) { return cache->entries.count({j.data, isa}); }),
               jobs.end());
    if (jobs.empty()) {
      cache->decode.insert(keys.begin(), keys.end());
      return;
    }
  }
  // One allocation for them all, in huge pages: a weight under 2 MB (GPT-2's attention output
  // projection in bf16, 1.2 MB) alone would stay in 4 KB pages and stream about a third slower.
  std::vector<size_t> offsets(jobs.size());
  size_t total = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    jobs[j].packed = std::make_unique<gemv::PackedWeight>(
        gemv::layout(weightType(jobs[j].dtype), jobs[j].K, jobs[j].N, isa));
    offsets[j] = total;
    total += (gemv::packedBytes(*jobs[j].packed) + 63) / 64 * 64;
  }
  std::shared_ptr<uint8_t> block = gemv::allocateHuge(total);
  // Largest first, handed out in order: the LM head does not finish last on its own.
  std::vector<size_t> order(jobs.size());
  for (size_t j = 0; j < order.size(); ++j)
    order[j] = j;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return jobs[a].K * jobs[a].N > jobs[b].K * jobs[b].N;
  });
  std::atomic<size_t> next{0};
#pragma omp parallel num_threads(std::max(1, threads))
  for (size_t i = next.fetch_add(1); i < order.size(); i = next.fetch_add(1)) {
    Job &job = jobs[order[i]];
    gemv::packInto(*job.packed, job.data,
                   std::shared_ptr<uint8_t>(block, block.get() + offsets[order[i]]));
    // The decode steps and short prompts read the pack, not the plan's bytes: give back their
    // pages now (file-backed: a longer prompt's oneDNN copy maps them again from the page
    // cache), so that the plan's pages and the packs are never both resident. GPT-2 small f32:
    // about 500 MB less peak RSS.
    if (plan.mapping)
      plan.mapping->dropPages(job.data, size_t(job.K * job.N) * tfc_dtype_size(job.dtype));
  }
  std::lock_guard<std::mutex> lock(cache->mutex);
  for (Job &j : jobs) {
    std::unique_ptr<gemv::PackedWeight> &slot = cache->entries[{j.data, isa}];
    if (!slot) // never replace a pack a kernel may be reading
      slot = std::move(j.packed);
  }
  cache->decode.insert(keys.begin(), keys.end());
}

bool isPrepacked(const KernelContext &ctx, size_t input) {
  if (!ctx.plan || !hasInput(*ctx.k, input) ||
      ctx.fn->values[size_t(ctx.k->inputs[input])].kind != ValueKind::Constant)
    return false;
  std::shared_ptr<PackedCache> cache = cacheOf(*ctx.plan);
  std::lock_guard<std::mutex> lock(cache->mutex);
  return cache->decode.count({ctx.in(input)->data, gemv::defaultIsa()}) > 0;
}

size_t packedWeightCount(const Plan &plan) {
  std::shared_ptr<PackedCache> cache = cacheOf(plan);
  std::lock_guard<std::mutex> lock(cache->mutex);
  return cache->entries.size();
}

} // namespace tfc::rt
