//===- InputRules.h - what a function requires of its inputs' values --------------------------===//
//
// To the runtime, token ids and attention masks are plain integer tensors, but kernels read them
// as row indices into a table (Embedding; ONNX Gather on a constant table, which reads a negative
// index from the end, so id -1 would silently read the last token) and as 0/1 masks (a 2 would
// silently count as padding or as keep, depending on how the graph turns it into scores). The
// loader derives one rule per input port by following the input through the kernels that only
// move or convert its values (InputRule in Plan.h); the session checks each run's inputs
// against these rules before any kernel runs, with messages naming the input and the element.
//
// * Ids: an integer input that reaches the ids of an Embedding, or the indices of a Gather whose
//   data is a constant 2-D f32 table along axis 0, through Reshape/Transpose/Expand/Slice/Concat/
//   Gather data/integer Cast only: every value in [0, rows of the table) (the smallest table if
//   there are several). A Gather on anything else keeps ONNX's negative indices.
// * Mask: an integer or bool input that reaches an Attention/CachedAttention mask, or the input
//   of a Softmax, through elementwise kernels (Cast, Where, float Binary and Unary) and data
//   movement: every value 0 or 1. Integer arithmetic stops the walk: ids compared with a pad id
//   (an integer Sub) make a mask, but are not one. Float inputs get no rule (an additive float
//   mask may hold any value).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_INPUTRULES_H
#define TFC_RUNTIME_INPUTRULES_H

#include "Plan.h"

#include <vector>

namespace tfc::rt {

/// One rule per input port of `fn` (whose kernels the loader has checked).
std::vector<InputRule> deriveInputRules(const Plan &plan, const FunctionDesc &fn);

/// Throws Error (TFC_OUT_OF_RANGE for an id, TFC_INVALID_ARGUMENT for a mask value) at the first
/// value of an input that breaks its rule; `byPort` holds the run's tensors in port order, with
/// dtype and shape already checked.
void checkInputValues(const FunctionDesc &fn, const std::vector<const tfc_tensor *> &byPort);

} // namespace tfc::rt

#endif // TFC_RUNTIME_INPUTRULES_H
