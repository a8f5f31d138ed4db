//===- Inputs.h - tfrun's input tensors: from .npy files or generated ------===//
//
// Uses only the plain-data types of tfc_runtime.h (no runtime call), so that it
// can be tested without a plan.
//
// Generated inputs (for those not given with --input):
//   * symbolic dims: a symbol already bound by a given input keeps that size;
//     otherwise a symbol named like "batch" is 1 and any other min(128, max),
//     both clamped to the symbol's bounds;
//   * masks (names containing "mask", or inputs the plan takes as a mask,
//     tfc_plan_input_values): all ones (true for bool);
//   * "token_type_ids": zeros; names containing "position": 0, 1, 2, ... along the
//     last dim;
//   * other integer inputs are token ids: with special tokens in the plan's
//     metadata, start_id (when present) then 4, 5, ... kept below 100, else all 1;
//   * ids (inputs the plan uses as rows of a table) stay in [0, id_bound): the
//     cycle 4, 5, ... is shortened to fit, a start_id outside the table is skipped;
//   * float inputs: a small deterministic pattern in [-1, 1).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_INPUTS_H
#define TFC_TOOLS_TFRUN_INPUTS_H

#include "Npy.h"
#include "Status.h"

#include "tfc/tfc_runtime.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tfc::tfrun {

/// A tensor owned by tfrun (an input, or a copy of an output).
struct HostTensor {
  std::string name;
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;

  int64_t numElements() const;
  /// A view for tfc_session_run; valid while this tensor lives.
  tfc_tensor view() const;
};

/// Maps between .npy and plan dtypes; false when there is no equivalent
/// (u8 has none in a plan; bf16 none in .npy).
bool tfcDtypeOf(NpyDtype dtype, tfc_dtype &out);
bool npyDtypeOf(tfc_dtype dtype, NpyDtype &out);

/// Makes input `name` from an array read from `file` (named in errors).
Status tensorFromNpy(const std::string &name, const std::string &file, NpyArray array,
                     HostTensor &out);

/// Symbol name -> size, as bound by the inputs given so far.
using SymbolBindings = std::map<std::string, int64_t>;

/// Binds the symbols of `port` from the dims of the given `tensor` (when the
/// ranks agree; disagreements are left for the runtime to report).
void bindSymbols(const tfc_port_info &port, const HostTensor &tensor, SymbolBindings &bindings);

/// The size a generated input uses for a symbolic dim that nothing bound.
int64_t defaultSymbolSize(const tfc_dim_info &dim);

/// Generates input `port`; binds the symbols it fixes. `rule` (tfc_plan_input_values; null:
/// unknown) says whether the plan reads it as ids into a table or as a mask.
HostTensor generateInput(const tfc_port_info &port, const tfc_plan_info &info,
                         SymbolBindings &bindings, const tfc_input_values *rule = nullptr);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_INPUTS_H
