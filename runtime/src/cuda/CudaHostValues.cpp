//===- CudaHostValues.cpp - int64 inputs a CUDA kernel needs on the host ----------------------===//
#include "cuda/CudaHostValues.h"

#include "cuda/CudaBackend.h"

#include <algorithm>
#include <cstring>

namespace tfc::rt {

std::vector<int64_t> hostInt64s(const KernelContext &ctx, size_t i, int64_t maxCount) {
  const Tensor &t = *ctx.in(i);
  if (t.dtype != TFC_I64)
    ctx.fail(TFC_INTERNAL, "input '%s' is %s, not i64", ctx.inName(i).c_str(),
             dtypeName(t.dtype));
  std::vector<int64_t> v(size_t(std::max<int64_t>(0, std::min(t.shape.numel(), maxCount))));
  if (v.empty())
    return v;
  const ValueDesc &desc = ctx.fn->values[size_t(ctx.k->inputs[i])];
  if (desc.kind == ValueKind::Constant && ctx.plan && desc.constant >= 0 &&
      size_t(desc.constant) < ctx.plan->constants.size() &&
      ctx.plan->constants[size_t(desc.constant)].size >= v.size() * sizeof(int64_t)) {
    std::memcpy(v.data(), ctx.plan->constants[size_t(desc.constant)].data,
                v.size() * sizeof(int64_t));
    return v;
  }
  cudaDevice(ctx).copyToHost(v.data(), t.data, v.size() * sizeof(int64_t));
  return v;
}

} // namespace tfc::rt
