//===- MemoryPlanner.cpp - liveness + greedy placement in one arena --------===//
#include "tfc/plan/MemoryPlanner.h"

#include "tfc/schema/PlanFile.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace tfc::planner {

using tfc::plan::alignUp;

namespace {

/// A block of the arena shared by a value and its Reshape aliases.
struct Buffer {
  int32_t root = -1;  // the value owning the block
  int32_t first = 0, last = 0;
  uint64_t bytes = 0;  // 64-aligned
  uint64_t offset = 0;
};

bool overlaps(const Buffer &a, const Buffer &b) { return a.first <= b.last && b.first <= a.last; }

/// Walks the kernels; best fit among the free blocks, coalescing freed neighbours.
uint64_t placeInOrder(std::vector<Buffer> &buffers) {
  std::map<uint64_t, uint64_t> freeBlocks;  // offset -> size
  uint64_t end = 0;
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].first < buffers[b].first; });
  std::vector<size_t> byLast = order;
  std::stable_sort(byLast.begin(), byLast.end(),
                   [&](size_t a, size_t b) { return buffers[a].last < buffers[b].last; });
  size_t nextAlloc = 0, nextFree = 0;
  auto release = [&](uint64_t offset, uint64_t size) {
    auto it = freeBlocks.emplace(offset, size).first;
    if (auto next = std::next(it); next != freeBlocks.end() && it->first + it->second == next->first) {
      it->second += next->second;
      freeBlocks.erase(next);
    }
    if (it != freeBlocks.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        freeBlocks.erase(it);
      }
    }
  };
  int32_t lastKernel = 0;
  for (const Buffer &b : buffers)
    lastKernel = std::max(lastKernel, b.last);
  for (int32_t k = 0; k <= lastKernel; ++k) {
    for (; nextAlloc < order.size() && buffers[order[nextAlloc]].first == k; ++nextAlloc) {
      Buffer &b = buffers[order[nextAlloc]];
      if (b.bytes == 0)
        continue;
      auto best = freeBlocks.end();
      for (auto it = freeBlocks.begin(); it != freeBlocks.end(); ++it)
        if (it->second >= b.bytes && (best == freeBlocks.end() || it->second < best->second))
          best = it;
      if (best != freeBlocks.end()) {
        b.offset = best->first;
        uint64_t rest = best->second - b.bytes;
        uint64_t restOffset = best->first + b.bytes;
        freeBlocks.erase(best);
        if (rest)
          freeBlocks.emplace(restOffset, rest);
        continue;
      }
      // Grow the arena; a free block at its end is used as the start of the new block.
      uint64_t start = end;
      if (!freeBlocks.empty()) {
        auto lastBlock = std::prev(freeBlocks.end());
        if (lastBlock->first + lastBlock->second == end) {
          start = lastBlock->first;
          freeBlocks.erase(lastBlock);
        }
      }
      b.offset = start;
      end = start + b.bytes;
    }
    for (; nextFree < byLast.size() && buffers[byLast[nextFree]].last == k; ++nextFree) {
      const Buffer &b = buffers[byLast[nextFree]];
      if (b.bytes)
        release(b.offset, b.bytes);
    }
  }
  return end;
}

/// Largest first; each at the smallest gap between the overlapping buffers placed before it.
uint64_t placeLargestFirst(std::vector<Buffer> &buffers) {
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes)
      return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });
  std::vector<size_t> placed;
  uint64_t end = 0;
  for (size_t i : order) {
    Buffer &b = buffers[i];
    if (b.bytes == 0)
      continue;
    std::vector<std::pair<uint64_t, uint64_t>> busy;  // [offset, end) of live neighbours
    for (size_t j : placed)
      if (overlaps(b, buffers[j]))
        busy.emplace_back(buffers[j].offset, buffers[j].offset + buffers[j].bytes);
    std::sort(busy.begin(), busy.end());
    uint64_t cursor = 0, bestOffset = UINT64_MAX, bestWaste = UINT64_MAX;
    for (const auto &[lo, hi] : busy) {
      if (lo > cursor && lo - cursor >= b.bytes && lo - cursor - b.bytes < bestWaste) {
        bestWaste = lo - cursor - b.bytes;
        bestOffset = cursor;
      }
      cursor = std::max(cursor, hi);
    }
    b.offset = bestOffset != UINT64_MAX ? bestOffset : cursor;
    end = std::max(end, b.offset + b.bytes);
    placed.push_back(i);
  }
  return end;
}

} // namespace

std::vector<Lifetime> computeLifetimes(const Function &fn) {
  std::vector<Lifetime> life(fn.values.size());
  for (int32_t k = 0; k < (int32_t)fn.kernels.size(); ++k) {
    for (int32_t v : fn.kernels[k].outputs)
      if (v >= 0 && v < (int32_t)life.size() && life[v].first < 0)
        life[v].first = life[v].last = k;
    for (int32_t v : fn.kernels[k].inputs)
      if (v >= 0 && v < (int32_t)life.size())
        life[v].last = std::max(life[v].last, k);
  }
  return life;
}

std::vector<int32_t> computeAliases(const Function &fn) {
  std::vector<int32_t> alias(fn.values.size());
  std::iota(alias.begin(), alias.end(), 0);
  std::vector<Lifetime> life = computeLifetimes(fn);
  for (int32_t k = 0; k < (int32_t)fn.kernels.size(); ++k) {
    const Kernel &kernel = fn.kernels[k];
    if (kernel.kind != fb::KernelKind::Reshape || kernel.inputs.size() != 1 ||
        kernel.outputs.size() != 1)
      continue;
    int32_t x = kernel.inputs[0], y = kernel.outputs[0];
    if (x < 0 || y < 0 || x >= (int32_t)fn.values.size() || y >= (int32_t)fn.values.size())
      continue;
    if (fn.values[x].kind != fb::ValueKind::Intermediate ||
        fn.values[y].kind != fb::ValueKind::Intermediate || life[x].last != k ||
        fn.values[x].dtype != fn.values[y].dtype)
      continue;
    alias[y] = alias[x];  // x's root, so chains of reshapes share one block
  }
  return alias;
}

Status planMemory(const Plan &plan, Function &fn, const MemoryPlanOptions &options,
                  MemoryPlanStats *stats) {
  // Sizes at the bounds, checked: the sum of the intermediates (the arena without reuse)
  // bounds every offset and size below, so nothing after this can wrap.
  uint64_t total = 0;
  for (const Value &value : fn.values) {
    uint64_t bytes = 0;
    if (!maxBytesChecked(plan, value, bytes))
      return {"function '" + fn.name + "': value '" + value.name + "' " +
              dtypeName(value.dtype) + " " + dimsToString(plan, value.dims) +
              " needs more than 2^63 bytes at the bounds (" + boundsOf(plan, value.dims) +
              "): lower the bounds"};
    if (value.kind == fb::ValueKind::Intermediate &&
        (__builtin_add_overflow(total, alignUp(bytes), &total) || total > (uint64_t(1) << 63)))
      return {"function '" + fn.name + "': the intermediates need more than 2^63 bytes at the "
              "bounds (value '" + value.name + "' " + dimsToString(plan, value.dims) +
              ": " + boundsOf(plan, value.dims) + "): lower the bounds"};
  }
  std::vector<Lifetime> life = computeLifetimes(fn);
  std::vector<int32_t> alias(fn.values.size());
  if (options.aliasReshapes)
    alias = computeAliases(fn);
  else
    std::iota(alias.begin(), alias.end(), 0);

  std::vector<Buffer> buffers;
  std::vector<int32_t> bufferOf(fn.values.size(), -1);
  uint64_t naive = 0;
  int64_t aliased = 0;
  for (int32_t v = 0; v < (int32_t)fn.values.size(); ++v) {
    const Value &value = fn.values[v];
    if (value.kind != fb::ValueKind::Intermediate)
      continue;
    if (life[v].first < 0)
      return {"function '" + fn.name + "': intermediate value '" + value.name +
              "' is written by no kernel"};
    uint64_t bytes = alignUp(maxBytes(plan, value));
    naive += bytes;
    int32_t root = alias[v];
    if (root != v && bufferOf[root] >= 0) {
      Buffer &b = buffers[bufferOf[root]];
      b.last = std::max(b.last, life[v].last);
      b.bytes = std::max(b.bytes, bytes);
      bufferOf[v] = bufferOf[root];
      ++aliased;
      continue;
    }
    bufferOf[v] = (int32_t)buffers.size();
    buffers.push_back({v, life[v].first, life[v].last, bytes, 0});
  }

  MemoryPlanStats s;
  s.naiveBytes = naive;
  s.aliasedReshapes = aliased;
  std::vector<Buffer> inOrder = buffers, largest = buffers;
  bool runInOrder = options.strategy != PlacementStrategy::LargestFirst;
  bool runLargest = options.strategy != PlacementStrategy::InOrderBestFit;
  if (runInOrder)
    s.inOrderBytes = placeInOrder(inOrder);
  if (runLargest)
    s.largestFirstBytes = placeLargestFirst(largest);
  bool keepLargest = runLargest && (!runInOrder || s.largestFirstBytes < s.inOrderBytes);
  const std::vector<Buffer> &chosen = keepLargest ? largest : inOrder;
  s.arenaBytes = keepLargest ? s.largestFirstBytes : s.inOrderBytes;
  s.strategy = keepLargest ? "largest_first" : "in_order_best_fit";

  for (int32_t v = 0; v < (int32_t)fn.values.size(); ++v)
    if (bufferOf[v] >= 0)
      fn.values[v].arenaOffset = chosen[bufferOf[v]].offset;
  fn.arenaSize = s.arenaBytes;
  fn.naiveBytes = naive;
  if (stats)
    *stats = s;
  return {};
}

Status checkArena(const Plan &plan, const Function &fn) {
  std::vector<Lifetime> life = computeLifetimes(fn);
  std::vector<int32_t> alias = computeAliases(fn);
  // Resolve alias chains to their root.
  for (size_t v = 0; v < alias.size(); ++v)
    while (alias[alias[v]] != alias[v])
      alias[v] = alias[alias[v]];
  std::vector<int32_t> inter;
  for (int32_t v = 0; v < (int32_t)fn.values.size(); ++v) {
    const Value &value = fn.values[v];
    if (value.kind != fb::ValueKind::Intermediate)
      continue;
    if (value.arenaOffset % tfc::plan::kPlanAlignment)
      return {"value '" + value.name + "': arena offset " + std::to_string(value.arenaOffset) +
              " is not 64-aligned"};
    if (value.arenaOffset + maxBytes(plan, value) > fn.arenaSize)
      return {"value '" + value.name + "': block ends past the arena (" +
              std::to_string(value.arenaOffset + maxBytes(plan, value)) + " > " +
              std::to_string(fn.arenaSize) + ")"};
    inter.push_back(v);
  }
  for (size_t i = 0; i < inter.size(); ++i)
    for (size_t j = i + 1; j < inter.size(); ++j) {
      int32_t a = inter[i], b = inter[j];
      if (alias[a] == alias[b])
        continue;
      if (!(life[a].first <= life[b].last && life[b].first <= life[a].last))
        continue;
      uint64_t a0 = fn.values[a].arenaOffset, a1 = a0 + maxBytes(plan, fn.values[a]);
      uint64_t b0 = fn.values[b].arenaOffset, b1 = b0 + maxBytes(plan, fn.values[b]);
      if (a0 < b1 && b0 < a1 && a1 > a0 && b1 > b0)
        return {"values '" + fn.values[a].name + "' and '" + fn.values[b].name +
                "' are live together and overlap in the arena"};
    }
  return {};
}

} // namespace tfc::planner
