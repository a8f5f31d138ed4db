//===- DecodeGraph.cpp - when a per-token function may be captured once and replayed ---------===//
#include "DecodeGraph.h"

namespace tfc::rt {

std::string decodeGraphBlocker(const FunctionDesc &fn) {
  if (fn.cacheOp != CacheOp::Append)
    return format("function '%s' is not a per-token decode function (cache_op is not Append)",
                  fn.name.c_str());
  for (const KernelDesc &k : fn.kernels) {
    const char *why = nullptr;
    // Embedding (offset_positions) and Slice (cache_offset) read the cache's length from
    // device memory on the CUDA backend (CudaDevice::stepPast), like CachedAttention.
    if (k.kind == KernelKind::CacheStore)
      why = "sets a cache slot's length on the host";
    if (why)
      return format("function '%s': kernel '%s' (%s) %s", fn.name.c_str(), k.name.c_str(),
                    kernelKindName(k.kind), why);
  }
  return "";
}

DecodeGraphKey decodeGraphKey(const FunctionDesc &fn, const KernelContext &ctx,
                              std::initializer_list<int64_t> extra) {
  DecodeGraphKey key;
  std::vector<int64_t> &w = key.words;
  w.reserve(fn.values.size() * 4 + 16);
  w.push_back(int64_t(reinterpret_cast<uintptr_t>(&fn)));
  for (size_t i = 0; i < fn.values.size(); ++i) {
    const Tensor &t = ctx.tensors[i];
    w.push_back(int64_t(reinterpret_cast<uintptr_t>(t.data)));
    w.push_back(int64_t(t.dtype));
    w.push_back(t.shape.rank);
    for (int r = 0; r < t.shape.rank; ++r)
      w.push_back(t.shape.d[r]);
  }
  if (const KvCache *c = ctx.cache) {
    w.push_back(c->rows);
    w.push_back(c->maxRows);
    for (const KvCache::Slot &s : c->slots) {
      w.push_back(int64_t(reinterpret_cast<uintptr_t>(s.k)));
      w.push_back(int64_t(reinterpret_cast<uintptr_t>(s.v)));
      // Self slots grow every token (the kernels read the length from device memory); a Cross
      // slot's length is a launch argument.
      w.push_back(s.desc && s.desc->kind == CacheKind::Cross ? s.length : -1);
    }
  }
  w.insert(w.end(), extra.begin(), extra.end());
  return key;
}

DecodeGraphPolicy::Action DecodeGraphPolicy::next(const DecodeGraphKey &key) {
  const bool again = hasLast_ && key == last_;
  last_ = key;
  hasLast_ = true;
  if (hasGraph_ && key == graph_)
    return Action::Replay;
  if (again && !gaveUp())
    return Action::Capture;
  return Action::RunPlain;
}

void DecodeGraphPolicy::captured(const DecodeGraphKey &key) {
  graph_ = key;
  hasGraph_ = true;
}

void DecodeGraphPolicy::captureFailed() {
  ++failures_;
  hasGraph_ = false;
}

} // namespace tfc::rt
