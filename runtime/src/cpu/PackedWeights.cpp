//===- PackedWeights.cpp - plan-wide copies of constant weights in oneDNN's layouts -----------===//
//
// See PackedWeights.h.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/PackedWeights.h"

#include "cpu/Common.h"
#include "cpu/CpuBackend.h"

#include <cstdlib>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

namespace tfc::rt {
namespace {

using dnnl::memory;
using dt = memory::data_type;

/// Prepacked copies of weights, per (weight bytes, packed layout); a Plan::derived entry.
struct PackedWeights {
  struct Entry {
    const void *source;
    memory::desc desc;
    std::shared_ptr<uint8_t> bytes; // 64-byte aligned
  };
  std::mutex mutex;
  std::vector<Entry> entries;
};

} // namespace

void *packedWeights(const KernelContext &ctx, const void *w, dt type, int64_t K, int64_t N,
                    const memory::desc &desc, int64_t col, int64_t cols) {
  if (cols == 0)
    cols = N;
  const void *source = static_cast<const char *>(w) + size_t(col) * memory::data_type_size(type);
  std::shared_ptr<PackedWeights> cache;
  {
    std::lock_guard<std::mutex> lock(ctx.plan->derivedMutex);
    std::shared_ptr<void> &slot = ctx.plan->derived["linear.packed_weights"];
    if (!slot)
      slot = std::make_shared<PackedWeights>();
    cache = std::static_pointer_cast<PackedWeights>(slot);
  }
  std::lock_guard<std::mutex> lock(cache->mutex);
  for (const auto &e : cache->entries)
    if (e.source == source && e.desc == desc)
      return e.bytes.get();
  size_t size = desc.get_size();
  void *raw = std::aligned_alloc(64, (size + 63) / 64 * 64);
  if (!raw)
    throw std::bad_alloc();
  std::shared_ptr<uint8_t> bytes(static_cast<uint8_t *>(raw), [](uint8_t *p) { std::free(p); });
  DnnlEnv &env = cpuDevice(ctx).dnnl();
  // A convolution's layout (convWeights) sees the same bytes as [cols, K, 1, 1] (o, i, h, w).
  memory plain(desc.dims().size() == 4
                   ? memory::desc({cols, K, 1, 1}, type, memory::dims{1, N, 1, 1})
                   : memory::desc({K, cols}, type, memory::dims{N, 1}),
               env.engine, const_cast<void *>(source));
  memory packed(desc, env.engine, bytes.get());
  dnnl::reorder(plain, packed).execute(env.stream, plain, packed);
  env.stream.wait();
  cache->entries.push_back({source, desc, bytes});
  // The kernels read the copy from now on: give back the plan's pages of the weight (its last
  // columns' copy, for a weight copied in column ranges), as prepackDecodeWeights does.
  if (col + cols == N && ctx.plan->mapping)
    ctx.plan->mapping->dropPages(w, size_t(K * N) * memory::data_type_size(type));
  return bytes.get();
}

} // namespace tfc::rt
