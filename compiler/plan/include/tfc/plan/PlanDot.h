//===- PlanDot.h - the plan as a Graphviz DOT graph (tfc compile --graph) ----------*- C++ -*-===//
//
// One node per kernel, in execution order, per function (a cluster each); one node per input and
// output port. A kernel's label: "#index Kind", its name (the op location), what a fusion folded
// into it (Kernel::origin), its constant inputs (weights: name, dtype, shape, bytes) and its
// results' arena placement. An edge per (producer, consumer, value) carries the value's dtype,
// shape and where it lives: "@offset +bytes" in the arena (sizes at the plan's bounds), "input"
// or "output". Node names: f<F>_k<K> (kernels), f<F>_in<P> and f<F>_out<P> (ports), so that a
// test can count kernels and follow edges.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_PLAN_PLANDOT_H
#define TFC_PLAN_PLANDOT_H

#include "tfc/plan/PlanDesc.h"

#include <string>

namespace tfc::planner {

/// The DOT text of `plan` (every function).
std::string planToDot(const Plan &plan);

/// "196.6 KB", "1.2 MB", "64 B": a byte count for labels.
std::string formatBytes(uint64_t bytes);

} // namespace tfc::planner

#endif // TFC_PLAN_PLANDOT_H
