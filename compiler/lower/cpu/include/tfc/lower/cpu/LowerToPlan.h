//===- LowerToPlan.h - tfc IR -> the CPU plan (one kernel per op) -*- C++ -*-===//
//
// lowerToPlan() takes a module whose func.func @forward holds tfc ops, fused or primitive
// (`tfc compile --no-fuse` plans run too), and fills a tfc::planner::Plan:
//   * symbols: the names in the arguments' `tfc.dims` (in order of appearance), each bounded
//     as SymbolBounds.h says (the user's bounds, else what the graph allows, else defaults);
//   * values: one per SSA value, dims resolved by ShapeAnalysis (every `?` a symbol);
//   * constants: `tfc.weight` -> the model weight named (bytes from `weights`, not copied; or,
//     for an f16/bf16 weight, converted from them);
//     `tfc.constant` -> "const.N" with the attribute's bytes (i1 as one byte 0/1, dtype Bool);
//   * kernels: one per op, in program order, per docs/PLAN_FORMAT.md's kernel table; axes are
//     normalized to be non-negative; absent optional inputs are -1;
//   * ports: arguments and results by their `tfc.name`.
// Memory is not planned here (MemoryPlanner does that). Every kernel is checked against the
// target's capability table (tfc/target/Target.h). Errors name the op and its location.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_LOWERTOPLAN_H
#define TFC_LOWER_CPU_LOWERTOPLAN_H

#include "tfc/lower/cpu/SymbolBounds.h"
#include "tfc/lower/cpu/WeightPrecision.h"
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
  BoundRequest bounds;       // --bound, --max-batch, --max-seq
  int64_t maxPositions = 0;  // the model's (0: unknown): the limit and the default bound of
                             // every sequence symbol
  SymbolLimits limits;       // limits the frontend found (ONNX tables evaluated at import)
  std::string function = "forward";
  /// The device (--target) and the precision (--precision) the plan records. Every kernel is
  /// checked against the target's capability table (tfc/target/Target.h): a kernel the target
  /// does not run is an error naming the op and its location. cuda: the IR is expected in the
  /// precision already (tfc-convert-precision); f16/bf16 `tfc.weight`s get their f32 bytes
  /// converted here (round to nearest even, overflow saturated). cpu bf16/int8 (weight-only):
  /// the IR is f32, and the Linear/GatedLinear constant weights are converted after lowering
  /// (WeightPrecision.h).
  planner::fb::Target target = planner::fb::Target::Cpu;
  planner::fb::DType precision = planner::fb::DType::F32;
  /// When set, receives a message per weight whose conversion saturated values.
  std::vector<std::string> *warnings = nullptr;
  /// When set, receives what the cpu weight-only conversion did (WeightPrecision.h).
  WeightConversion *weightConversion = nullptr;
};

/// The symbols lowerToPlan() gives the plan, with their bounds and sources (SymbolBounds.h):
/// the request of `options`, the limits of `options` and of the graph, the defaults.
planner::Status planSymbols(mlir::ModuleOp module, const LowerOptions &options,
                            std::vector<planner::Symbol> &out);

/// Lowers `module` (its function `options.function`) into `plan` (which it resets).
planner::Status lowerToPlan(mlir::ModuleOp module, const WeightLookup &weights,
                            const LowerOptions &options, planner::Plan &plan);

/// The kernels of `plan` whose present inputs are all constants, as "function: kernel name
/// (Kind)" in plan order (ConstantKernels.cpp). Such a kernel recomputes a constant at every
/// run; after tfc-fold-constants the list is empty.
std::vector<std::string> constantInputKernels(const planner::Plan &plan);

} // namespace tfc::lower

#endif // TFC_LOWER_CPU_LOWERTOPLAN_H
