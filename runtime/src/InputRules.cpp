//===- InputRules.cpp - deriving and checking what a function requires of its inputs ----------===//
//
// See InputRules.h. The derivation is a forward walk over the function's values from each
// integer/bool input port, through the kernels that pass the input's values on (a different
// set for ids and for masks); the check is one pass over each constrained input per run.
//
//===----------------------------------------------------------------------------------------===//
#include "InputRules.h"

#include "Error.h"

#include <algorithm>

namespace tfc::rt {
namespace {

bool isInteger(tfc_dtype d) { return d == TFC_I64 || d == TFC_I32 || d == TFC_I8; }

/// Whether kernel `k` passes the values of its operand `i` on to its outputs unchanged (moved
/// or converted between integer types), so that ids stay ids.
bool movesValues(const FunctionDesc &fn, const KernelDesc &k, size_t i) {
  switch (k.kind) {
  case KernelKind::Reshape:
  case KernelKind::Transpose:
  case KernelKind::Expand:
  case KernelKind::Slice:
  case KernelKind::Gather: // the data operand
    return i == 0;
  case KernelKind::Concat:
    return true;
  case KernelKind::Cast:
    return i == 0 && isInteger(fn.values[size_t(k.outputs[0])].dtype);
  default:
    return false;
  }
}

/// Whether kernel `k` computes its outputs from operand `i` elementwise (or moves it), so that
/// a mask stays a mask on its way to the scores. Integer arithmetic does not: it is how a
/// comparison of ids is lowered (src_ids == pad: where(cast<i1>(src_ids - pad), false, true)),
/// which makes a mask out of ids; masks are cast to float or bool before any arithmetic.
bool carriesMask(const FunctionDesc &fn, const KernelDesc &k, size_t i) {
  switch (k.kind) {
  case KernelKind::Binary:
  case KernelKind::Unary:
    return fn.values[size_t(k.outputs[0])].dtype == TFC_F32;
  case KernelKind::Cast:
  case KernelKind::Where:
  case KernelKind::Reshape:
  case KernelKind::Transpose:
  case KernelKind::Concat:
    return true;
  case KernelKind::Expand:
  case KernelKind::Slice:
    return i == 0;
  default:
    return false;
  }
}

/// For each value, the (kernel, operand) pairs that read it.
std::vector<std::vector<std::pair<size_t, size_t>>> usesOf(const FunctionDesc &fn) {
  std::vector<std::vector<std::pair<size_t, size_t>>> uses(fn.values.size());
  for (size_t k = 0; k < fn.kernels.size(); ++k)
    for (size_t i = 0; i < fn.kernels[k].inputs.size(); ++i)
      if (fn.kernels[k].inputs[i] >= 0)
        uses[size_t(fn.kernels[k].inputs[i])].push_back({k, i});
  return uses;
}

/// Calls visit(kernel, operand) for every use reachable from `start` through kernels for which
/// follow(kernel, operand) holds (each value once).
template <typename Follow, typename Visit>
void walk(const FunctionDesc &fn, const std::vector<std::vector<std::pair<size_t, size_t>>> &uses,
          int32_t start, Follow follow, Visit visit) {
  std::vector<bool> seen(fn.values.size(), false);
  std::vector<int32_t> stack = {start};
  seen[size_t(start)] = true;
  while (!stack.empty()) {
    int32_t v = stack.back();
    stack.pop_back();
    for (auto [k, i] : uses[size_t(v)]) {
      const KernelDesc &kd = fn.kernels[k];
      visit(kd, i);
      if (!follow(kd, i))
        continue;
      for (int32_t o : kd.outputs)
        if (o >= 0 && !seen[size_t(o)]) {
          seen[size_t(o)] = true;
          stack.push_back(o);
        }
    }
  }
}

/// The rows of `table` when it is a static 2-D f32 table, else -1.
int64_t tableRows(const FunctionDesc &fn, int32_t table, bool constantOnly) {
  if (table < 0)
    return -1;
  const ValueDesc &t = fn.values[size_t(table)];
  if (t.dtype != TFC_F32 || t.rank != 2 || t.dims[0].symbol >= 0)
    return -1;
  if (constantOnly && t.kind != ValueKind::Constant)
    return -1;
  return t.dims[0].size;
}

std::string coordinates(const tfc_tensor &t, int64_t flat) {
  if (t.rank < 2)
    return "";
  std::vector<int64_t> idx(size_t(t.rank));
  for (int32_t r = t.rank - 1; r >= 0; --r) {
    int64_t d = std::max<int64_t>(t.dims[r], 1);
    idx[size_t(r)] = flat % d;
    flat /= d;
  }
  std::string s = " (at [";
  for (size_t r = 0; r < idx.size(); ++r)
    s += (r ? ", " : "") + std::to_string(idx[r]);
  return s + "])";
}

int64_t valueAt(const tfc_tensor &t, int64_t i) {
  switch (t.dtype) {
  case TFC_I64: return static_cast<const int64_t *>(t.data)[i];
  case TFC_I32: return static_cast<const int32_t *>(t.data)[i];
  case TFC_I8: return static_cast<const int8_t *>(t.data)[i];
  case TFC_BOOL: return static_cast<const uint8_t *>(t.data)[i];
  default: return 0;
  }
}

} // namespace

std::vector<InputRule> deriveInputRules(const Plan &plan, const FunctionDesc &fn) {
  std::vector<InputRule> rules(fn.inputs.size());
  auto uses = usesOf(fn);
  for (size_t port = 0; port < fn.inputs.size(); ++port) {
    const PortDesc &p = fn.inputs[port];
    const ValueDesc &v = fn.values[size_t(p.value)];
    InputRule &rule = rules[port];
    if (isInteger(v.dtype)) {
      walk(
          fn, uses, p.value, [&](const KernelDesc &k, size_t i) { return movesValues(fn, k, i); },
          [&](const KernelDesc &k, size_t i) {
            int32_t table = -1;
            const char *what = "ids";
            if (k.kind == KernelKind::Embedding && (i == 0 || i == 3)) {
              table = k.inputs[i == 0 ? 1 : 4];
              what = i == 0 ? "token ids" : "token type ids";
            } else if (k.kind == KernelKind::Gather && i == 1) {
              // ONNX Gather along axis 0 of a constant 2-D table: a lookup.
              int64_t axis = k.options.AsGatherOptions()->axis;
              axis = axis < 0 ? axis + 2 : axis;
              if (axis == 0 && tableRows(fn, k.inputs[0], true) >= 0)
                table = k.inputs[0];
            }
            int64_t rows = tableRows(fn, table, false);
            if (rows < 0 || (rule.kind == TFC_INPUT_IDS && rule.bound <= rows))
              return;
            rule.kind = TFC_INPUT_IDS;
            rule.bound = rows;
            rule.table = fn.values[size_t(table)].name;
            rule.what = what;
          });
      if (rule.kind == TFC_INPUT_IDS && rule.what == "ids") {
        if (p.name == plan.generation.tokenInput || p.name == "input_ids")
          rule.what = "token ids";
        else if (p.name == "token_type_ids")
          rule.what = "token type ids";
      }
    }
    if (rule.kind == TFC_INPUT_DATA && (isInteger(v.dtype) || v.dtype == TFC_BOOL)) {
      bool mask = false;
      walk(
          fn, uses, p.value, [&](const KernelDesc &k, size_t i) { return carriesMask(fn, k, i); },
          [&](const KernelDesc &k, size_t i) {
            mask |= ((k.kind == KernelKind::Attention || k.kind == KernelKind::CachedAttention) &&
                     i == 3) ||
                    (k.kind == KernelKind::Softmax && i == 0);
          });
      if (mask)
        rule.kind = TFC_INPUT_MASK;
    }
  }
  return rules;
}

void checkInputValues(const FunctionDesc &fn, const std::vector<const tfc_tensor *> &byPort) {
  for (size_t port = 0; port < fn.inputs.size() && port < fn.inputRules.size(); ++port) {
    const InputRule &rule = fn.inputRules[port];
    if (rule.kind == TFC_INPUT_DATA)
      continue;
    const tfc_tensor &t = *byPort[port];
    int64_t n = 1;
    for (int32_t r = 0; r < t.rank; ++r)
      n *= t.dims[r];
    for (int64_t i = 0; i < n; ++i) {
      int64_t x = valueAt(t, i);
      if (rule.kind == TFC_INPUT_IDS && (x < 0 || x >= rule.bound))
        fail(TFC_OUT_OF_RANGE, "input '%s' element %lld%s is %lld: %s must be in [0, %lld) (the "
             "rows of '%s')", fn.inputs[port].name.c_str(), (long long)i,
             coordinates(t, i).c_str(), (long long)x, rule.what.c_str(), (long long)rule.bound,
             rule.table.c_str());
      if (rule.kind == TFC_INPUT_MASK && x != 0 && x != 1)
        fail(TFC_INVALID_ARGUMENT, "input '%s' element %lld%s is %lld: mask values must be 0 or 1",
             fn.inputs[port].name.c_str(), (long long)i, coordinates(t, i).c_str(), (long long)x);
    }
  }
}

} // namespace tfc::rt
