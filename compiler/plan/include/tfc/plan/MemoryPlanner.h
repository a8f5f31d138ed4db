//===- MemoryPlanner.h - arena offsets for a function's intermediates -*- C++ -*-===//
//
// Every Intermediate value of a Function lives in one session arena, sized for the symbols' max
// bounds. Liveness is taken over the kernel order: a value is live from the kernel that writes
// it to the last kernel that reads it (inclusive), so a kernel's outputs never share memory with
// its inputs. Blocks are 64-byte aligned. A Reshape whose input dies at that Reshape reuses the
// input's block (same offset: the runtime may skip the copy when the offsets are equal).
//
// Two placement strategies; `Best` (the default) runs both and keeps the smaller arena:
//   * InOrderBestFit: walk the kernels, give each new value the smallest free block that fits
//     (growing the arena when none does), free blocks after their last reader;
//   * LargestFirst:   place values by decreasing size at the lowest-waste gap among the values
//     already placed whose lifetimes overlap (the TFLite arena planner's greedy-by-size).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_PLAN_MEMORYPLANNER_H
#define TFC_PLAN_MEMORYPLANNER_H

#include "tfc/plan/PlanDesc.h"

namespace tfc::planner {

enum class PlacementStrategy { InOrderBestFit, LargestFirst, Best };

struct MemoryPlanOptions {
  PlacementStrategy strategy = PlacementStrategy::Best;
  bool aliasReshapes = true;
};

struct MemoryPlanStats {
  uint64_t arenaBytes = 0;
  uint64_t naiveBytes = 0;          // sum of every intermediate's 64-aligned max size
  uint64_t inOrderBytes = 0;        // what each strategy gave (0 when not run)
  uint64_t largestFirstBytes = 0;
  int64_t aliasedReshapes = 0;
  const char *strategy = "";        // the strategy kept
};

/// Live range of a value in kernel indices: `first` writes it (-1 for values no kernel
/// writes: inputs, constants), `last` is the last kernel reading it (`first` when none does).
struct Lifetime {
  int32_t first = -1, last = -1;
};
std::vector<Lifetime> computeLifetimes(const Function &fn);

/// For every value, the value whose block it uses (itself unless it is a Reshape alias).
std::vector<int32_t> computeAliases(const Function &fn);

/// Assigns `arenaOffset` to every Intermediate of `fn` and sets `fn.arenaSize` and
/// `fn.naiveBytes`. Fails (naming the value) on a value no kernel writes.
Status planMemory(const Plan &plan, Function &fn, const MemoryPlanOptions &options = {},
                  MemoryPlanStats *stats = nullptr);

/// Checks an assignment: every offset 64-aligned, every block inside the arena, and no two
/// intermediates with overlapping lifetimes sharing bytes (except a Reshape and its input).
Status checkArena(const Plan &plan, const Function &fn);

} // namespace tfc::planner

#endif // TFC_PLAN_MEMORYPLANNER_H
