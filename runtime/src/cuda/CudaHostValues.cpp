//===- CudaHostValues.cpp - int64 inputs a CUDA kernel needs on the host ----------------------===//
#include "cuda/CudaHostValues.h"

#include "cuda/CudaBackend.h"

#include <algorithm>
#include <cstring>

namespace tfc::rt {
namespace {

constexpr int kMaxDepth = 6; // Shape -> Gather -> ... chains are short; deeper: copy

/// The kernel of ctx.fn that writes value `v`, or nullptr (inputs, constants).
const KernelDesc *producerOf(const FunctionDesc &fn, int32_t v) {
  for (const KernelDesc &k : fn.kernels)
    for (int32_t o : k.outputs)
      if (o == v)
        return &k;
  return nullptr;
}

bool resolve(const KernelContext &ctx, int32_t v, std::vector<int64_t> &out, int depth);

/// Value `v` is a plan constant of int64s: its values from the plan's mapping.
bool fromConstant(const KernelContext &ctx, int32_t v, std::vector<int64_t> &out) {
  const ValueDesc &desc = ctx.fn->values[size_t(v)];
  const Tensor &t = ctx.tensors[size_t(v)];
  if (desc.kind != ValueKind::Constant || !ctx.plan || desc.constant < 0 ||
      size_t(desc.constant) >= ctx.plan->constants.size() || t.dtype != TFC_I64)
    return false;
  const size_t n = size_t(std::max<int64_t>(0, t.shape.numel()));
  if (ctx.plan->constants[size_t(desc.constant)].size < n * sizeof(int64_t))
    return false;
  out.resize(n);
  if (n)
    std::memcpy(out.data(), ctx.plan->constants[size_t(desc.constant)].data, n * sizeof(int64_t));
  return true;
}

/// Value `v` is computed from bound shapes only (Shape of a value, Gather of such a value along
/// axis 0 with such indices, Concat of 1-D such values or constants): its values from the shapes
/// the session bound on the host. The shapes are part of a decode graph's key, so values derived
/// from them are the same on every replay.
bool fromShapes(const KernelContext &ctx, int32_t v, std::vector<int64_t> &out, int depth) {
  const KernelDesc *k = producerOf(*ctx.fn, v);
  if (!k || k->inputs.empty() || k->inputs[0] < 0)
    return false;
  if (k->kind == KernelKind::Shape) {
    const Shape &s = ctx.tensors[size_t(k->inputs[0])].shape;
    out.assign(s.d, s.d + s.rank);
    return true;
  }
  if (k->kind == KernelKind::Gather && k->inputs.size() >= 2 && k->inputs[1] >= 0) {
    const Tensor &data = ctx.tensors[size_t(k->inputs[0])];
    const Tensor &idx = ctx.tensors[size_t(k->inputs[1])];
    if (data.dtype != TFC_I64 || data.shape.rank != 1 || idx.dtype != TFC_I64 ||
        (options<tfc::plan::GatherOptionsT>(*k).axis != 0 &&
         options<tfc::plan::GatherOptionsT>(*k).axis != -1))
      return false;
    std::vector<int64_t> d, i;
    if (!resolve(ctx, k->inputs[0], d, depth + 1) || !resolve(ctx, k->inputs[1], i, depth + 1))
      return false;
    const int64_t n = int64_t(d.size());
    out.clear();
    for (int64_t j : i) {
      if (j < 0)
        j += n;
      if (j < 0 || j >= n)
        return false; // the kernel's own behaviour decides (see CudaIndex.cu): copy
      out.push_back(d[size_t(j)]);
    }
    return true;
  }
  if (k->kind == KernelKind::Concat) { // of 1-D values (e.g. [1, seq] for a Slice's ends)
    const int64_t axis = options<tfc::plan::ConcatOptionsT>(*k).axis;
    if (axis != 0 && axis != -1)
      return false;
    out.clear();
    for (int32_t in : k->inputs) {
      std::vector<int64_t> part;
      if (in < 0 || ctx.tensors[size_t(in)].shape.rank != 1 ||
          ctx.tensors[size_t(in)].dtype != TFC_I64 || !resolve(ctx, in, part, depth + 1))
        return false;
      out.insert(out.end(), part.begin(), part.end());
    }
    return true;
  }
  return false;
}

bool resolve(const KernelContext &ctx, int32_t v, std::vector<int64_t> &out, int depth) {
  if (depth > kMaxDepth)
    return false;
  return fromConstant(ctx, v, out) || fromShapes(ctx, v, out, depth);
}

} // namespace

std::vector<int64_t> hostInt64s(const KernelContext &ctx, size_t i, int64_t maxCount) {
  const Tensor &t = *ctx.in(i);
  if (t.dtype != TFC_I64)
    ctx.fail(TFC_INTERNAL, "input '%s' is %s, not i64", ctx.inName(i).c_str(),
             dtypeName(t.dtype));
  std::vector<int64_t> v(size_t(std::max<int64_t>(0, std::min(t.shape.numel(), maxCount))));
  if (v.empty())
    return v;
  std::vector<int64_t> known;
  if (ctx.fn && resolve(ctx, ctx.k->inputs[i], known, 0) && known.size() >= v.size()) {
    std::copy(known.begin(), known.begin() + std::ptrdiff_t(v.size()), v.begin());
    return v;
  }
  cudaDevice(ctx).copyToHost(v.data(), t.data, v.size() * sizeof(int64_t));
  return v;
}

} // namespace tfc::rt
