//===- LowerToPlan.h - tfc IR -> the CPU plan (one kernel per op) -*- C++ -*-===//
//
// lowerToPlan() takes a module whose func.func @forward holds tfc ops, fused or primitive
// (`tfc compile --no-fuse` plans run too), and fills a tfc::planner::Plan:
//   * symbols: the names in the arguments' `tfc.dims` (in order of appearance); `batch` is
//     bounded by `maxBatch`, every other (sequence) symbol by `maxSeq`;
//   * values: one per SSA value, dims resolved by ShapeAnalysis (every `?` a symbol);
//   * constants: `tfc.weight` -> the model weight named (bytes from `weights`, not copied);
//     `tfc.constant` -> "const.N" with the attribute's bytes (i1 as one byte 0/1, dtype Bool);
//   * kernels: one per op, in program order, per docs/PLAN_FORMAT.md's kernel table; axes are
//     normalized to be non-negative; absent optional inputs are -1;
//   * ports: arguments and results by their `tfc.name`.
// Memory is not planned here (MemoryPlanner does that). Errors name the op and its location.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_LOWERTOPLAN_H
#define TFC_LOWER_CPU_LOWERTOPLAN_H

#include "tfc/plan/PlanDesc.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <string>

namespace tfc::lower {

/// A model weight: f32, row-major.
struct WeightData {
  std::vector<int64_t> shape;
  planner::ByteRef bytes;
};

/// Finds the weight `name`; false when the model has none.
using WeightLookup = std::function<bool(const std::string &name, WeightData &out)>;

struct LowerOptions {
  int64_t maxBatch = 16;
  int64_t maxSeq = 0;        // 0: the model's max positions, else 512
  int64_t maxPositions = 0;  // the model's (0: unknown); maxSeq may not exceed it
  std::string function = "forward";
};

/// Lowers `module` (its function `options.function`) into `plan` (which it resets).
planner::Status lowerToPlan(mlir::ModuleOp module, const WeightLookup &weights,
                            const LowerOptions &options, planner::Plan &plan);

/// The kernels of `plan` whose present inputs are all constants, as "function: kernel name
/// (Kind)" in plan order (ConstantKernels.cpp). Such a kernel recomputes a constant at every
/// run; after tfc-fold-constants the list is empty.
std::vector<std::string> constantInputKernels(const planner::Plan &plan);

} // namespace tfc::lower

#endif // TFC_LOWER_CPU_LOWERTOPLAN_H
