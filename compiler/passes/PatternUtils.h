//===- PatternUtils.h - helpers shared by the fusion matchers ---*- C++ -*-===//
//
// Small, side-effect-free queries the fusion matchers (and the fusion report)
// are built from: scalar constants with a tolerance, operand order of
// commutative binary ops, single-use checks, axes, location names. Matchers
// report why they gave up through `reject(why, ...)`, so that the fusion
// report prints the same reason the pattern saw.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_COMPILER_PASSES_PATTERNUTILS_H
#define TFC_COMPILER_PASSES_PATTERNUTILS_H

#include "tfc/IR/TfcDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/Value.h"
#include "mlir/Support/LogicalResult.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/Twine.h"

#include <optional>
#include <string>
#include <utility>

namespace mlir::tfc {

/// Sets `*why` to `message` (when `why` is non-null) and returns failure().
/// `FailureOr<T>` converts from the result, so matchers write
/// `return reject(why, "...");`.
LogicalResult reject(std::string *why, const llvm::Twine &message);

/// The op defining `v` when it is an `OpT`, else null.
template <typename OpT> OpT definedBy(Value v) { return v ? v.getDefiningOp<OpT>() : OpT(); }

/// True when `v` is a splat floating-point constant (any shape, usually rank
/// 0); its value is stored in `out`.
bool matchScalarConstant(Value v, float &out);

/// True when `v` is a splat constant within a relative tolerance of 1e-3 of
/// `expected`.
bool matchConstantNear(Value v, float expected);

/// Relative comparison used for every formula constant (tolerance 1e-3).
bool approxEqual(float actual, float expected, float relTol = 1e-3f);

/// For a binary op whose operand order does not matter: the operand that is
/// not a splat constant within tolerance of `constant`, when the other one is.
/// Only the rhs is tried for non-commutative ops (sub, div, pow).
Value operandBesideConstant(Operation *binary, float constant);

/// For a binary op: {lhs, rhs} and, for commutative ops, {rhs, lhs}; the
/// first pair accepted by `pred(first, second)` is returned.
std::optional<std::pair<Value, Value>>
findOperandOrder(Operation *binary, llvm::function_ref<bool(Value, Value)> pred);

/// True when `v` is used exactly once (by one operand of one op).
inline bool hasSingleUse(Value v) { return v && v.hasOneUse(); }

/// The op using `v` when `v` has a single use, else null.
inline Operation *singleUser(Value v) { return hasSingleUse(v) ? *v.getUsers().begin() : nullptr; }

/// The single user of `v` when it is an `OpT`, else null.
template <typename OpT> OpT singleUserAs(Value v) { return dyn_cast_or_null<OpT>(singleUser(v)); }

/// True when `axes` is exactly the last axis of a rank-`rank` tensor
/// (written as -1 or rank-1).
bool isLastAxisOnly(ArrayRef<int64_t> axes, int64_t rank);

/// True when `reshape` keeps its input's dims [0, count) in place: each
/// `shape[i]` copies the dim (0), or is the input's static size of dim i (a
/// literal, or -1 of a static input resolving to it). A reshape depends only
/// on its two shapes, so a static export's [1, 16, 4, 16] of a [1, 16, 64]
/// value is the same head split as the dynamic export's [0, 0, 4, 16].
bool reshapeKeepsLeadingDims(ReshapeOp reshape, int64_t count);

/// True when `v` is a tfc.weight or tfc.constant, possibly behind
/// transposes, reshapes or casts (e.g. the tied LM head's transposed table).
bool isWeightOrConstant(Value v);

/// "encoder.layers.0.self_attn" for a NameLoc, "file:line:col" for a file
/// location, the first such part of a fused or call-site location, "" when
/// nothing names the location.
std::string describeLocation(Location loc);

/// The location of a fused op: the fused location of the ops it replaces
/// (identical locations collapse into one), with their op names as metadata (an ArrayAttr of
/// StringAttr, one per op, in match order): what `tfc compile --graph` shows a kernel was fused
/// from (tfc::analysis::fusedOpNames). A replaced op that was itself fused keeps its own fused
/// location inside.
Location fusedLocation(OpBuilder &builder, ArrayRef<Operation *> ops);

/// A splat constant of `type` (ranked tensor of float) holding `value`.
Value createSplatConstant(OpBuilder &builder, Location loc, RankedTensorType type, float value);

/// "[1, 2, 3]" for messages.
std::string arrayToString(ArrayRef<int64_t> values);

} // namespace mlir::tfc

#endif // TFC_COMPILER_PASSES_PATTERNUTILS_H
