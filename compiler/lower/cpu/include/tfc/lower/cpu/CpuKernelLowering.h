//===- CpuKernelLowering.h - the op interface that lowers a tfc op to a CPU kernel -*- C++ -*-===//
//
// CpuKernelLoweringOpInterface (CpuKernelLowering.td) and what its implementations may ask of
// the function being lowered (KernelLowering, implemented by LowerToPlan.cpp). The tfc ops get
// the interface as external models: registerCpuLowering() adds them to a DialectRegistry
// (the driver's prepareContext() does it for every compiler context).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_LOWER_CPU_CPUKERNELLOWERING_H
#define TFC_LOWER_CPU_CPUKERNELLOWERING_H

#include "tfc/plan/PlanDesc.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OpDefinition.h"

#include <string>

namespace tfc::lower {

/// The function being lowered, as an op's kernel lowering sees it.
class KernelLowering {
public:
  virtual ~KernelLowering() = default;
  /// The plan value of `v`; -1 for a null Value (an absent optional operand).
  virtual int32_t valueId(mlir::Value v) const = 0;
  /// Records the KV-cache slot `slot` that `op` uses (of `kind`, `numHeads` heads of the last
  /// dim of `kv`), or checks it against an earlier use; the error names the op.
  virtual planner::Status useCacheSlot(mlir::Operation *op, int64_t slot,
                                       planner::fb::CacheKind kind, int64_t numHeads,
                                       mlir::Value kv) = 0;
  /// The plan's cache slot `slot` when an earlier kernel described it, else null.
  virtual const planner::CacheSlot *findCacheSlot(int64_t slot) const = 0;
};

/// "'tfc.add' at 'encoder.layers.0.attn'": the op and its location, for messages.
std::string describeOp(mlir::Operation *op);

/// Attaches CpuKernelLoweringOpInterface to every tfc op that has a CPU kernel.
void registerCpuLowering(mlir::DialectRegistry &registry);

} // namespace tfc::lower

#include "tfc/lower/cpu/CpuKernelLowering.h.inc"

#endif // TFC_LOWER_CPU_CPUKERNELLOWERING_H
