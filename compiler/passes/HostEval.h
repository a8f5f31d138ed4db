//===- HostEval.h - tfc ops evaluated on host tensors (for folding) -*- C++ -*-===//
//
// Plain reference implementations of the tfc ops the constant folder
// (FoldConstants.cpp) evaluates at compile time: movement (transpose, reshape,
// slice, gather, concat, expand, where, shape), cast, binary elementwise
// (add sub mul div pow max; f32, i32, i64; NumPy broadcasting), unary f32
// (sqrt erf tanh relu exp neg log gelu), layer_normalization and matmul (f32).
// They follow the CPU runtime's kernels (runtime/src/cpu/) element for element,
// so a folded value is the value the kernel would have computed (matmul: to
// within float rounding; it accumulates in double). Data is row-major in the plan's layout (i1 as one
// byte 0/1). evaluate() gives up (returns nullopt, with the reason) on anything
// else, and on inputs the runtime would reject (an index out of range, integer
// division by zero, a float that does not fit the integer type it is cast to).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_HOSTEVAL_H
#define TFC_COMPILER_PASSES_HOSTEVAL_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Operation.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tfc {

/// A statically shaped tensor with its data on the host.
struct HostTensor {
  RankedTensorType type;
  const uint8_t *data = nullptr;      // numel() * elementSize() bytes, row-major
  /// Keeps `data` alive (null: the model owns it); `data` lies within it.
  std::shared_ptr<const std::vector<uint8_t>> owner;

  int64_t numel() const { return type.getNumElements(); }
  size_t elementSize() const;
  size_t byteSize() const { return (size_t)numel() * elementSize(); }
};

/// Bytes per element in the plan's layout (i1: 1); 0 for an element type the folder does not
/// handle (anything but f32, f16, bf16, i64, i32, i8, i1).
size_t hostElementSize(Type elementType);

/// The data of a dense elements attribute in the plan's layout; nullopt for other attributes.
std::optional<HostTensor> hostTensorFromAttr(Attribute attr);

/// The dense elements attribute holding `t`'s data.
Attribute attrFromHostTensor(const HostTensor &t);

/// Evaluates the single-result op `op` on `operands` (one per operand of `op`); nullopt when
/// it is not one of the ops above or the inputs are outside what it can fold (`why` says).
std::optional<HostTensor> evaluate(Operation *op, ArrayRef<const HostTensor *> operands,
                                   std::string &why);

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_HOSTEVAL_H
