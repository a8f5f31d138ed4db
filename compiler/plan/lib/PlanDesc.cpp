//===- PlanDesc.cpp - helpers over the in-memory plan ----------------------===//
#include "tfc/plan/PlanDesc.h"

namespace tfc::planner {

uint64_t dtypeSize(fb::DType dtype) {
  switch (dtype) {
  case fb::DType::F32:
  case fb::DType::I32:
    return 4;
  case fb::DType::F16:
  case fb::DType::BF16:
    return 2;
  case fb::DType::I64:
    return 8;
  case fb::DType::I8:
  case fb::DType::Bool:
    return 1;
  }
  return 0;
}

const char *dtypeName(fb::DType dtype) {
  switch (dtype) {
  case fb::DType::F32:
    return "f32";
  case fb::DType::F16:
    return "f16";
  case fb::DType::BF16:
    return "bf16";
  case fb::DType::I32:
    return "i32";
  case fb::DType::I64:
    return "i64";
  case fb::DType::I8:
    return "i8";
  case fb::DType::Bool:
    return "bool";
  }
  return "?";
}

uint64_t maxElements(const Plan &plan, const Value &value) {
  uint64_t n = 1;
  for (const Dim &d : value.dims) {
    int64_t size = d.isSymbolic() && d.symbol < (int32_t)plan.symbols.size()
                       ? plan.symbols[d.symbol].max
                       : d.size;
    n *= static_cast<uint64_t>(size < 0 ? 0 : size);
  }
  return n;
}

uint64_t maxBytes(const Plan &plan, const Value &value) {
  return maxElements(plan, value) * dtypeSize(value.dtype);
}

bool maxBytesChecked(const Plan &plan, const Value &value, uint64_t &bytes) {
  constexpr uint64_t kLimit = uint64_t(1) << 63;
  uint64_t n = dtypeSize(value.dtype);
  for (const Dim &d : value.dims) {
    int64_t size = d.isSymbolic() && d.symbol < (int32_t)plan.symbols.size()
                       ? plan.symbols[d.symbol].max
                       : d.size;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(size < 0 ? 0 : size), &n) || n > kLimit)
      return false;
  }
  bytes = n;
  return true;
}

std::string boundsOf(const Plan &plan, const std::vector<Dim> &dims) {
  std::string s;
  std::vector<int32_t> seen;
  for (const Dim &d : dims) {
    if (!d.isSymbolic() || d.symbol >= (int32_t)plan.symbols.size())
      continue;
    bool again = false;
    for (int32_t x : seen)
      again |= x == d.symbol;
    if (again)
      continue;
    seen.push_back(d.symbol);
    const Symbol &sym = plan.symbols[d.symbol];
    s += (s.empty() ? "" : ", ") + sym.name + " = " + std::to_string(sym.max);
  }
  return s;
}

std::string dimsToString(const Plan &plan, const std::vector<Dim> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i)
      s += ", ";
    if (!dims[i].isSymbolic())
      s += std::to_string(dims[i].size);
    else if (dims[i].symbol < (int32_t)plan.symbols.size())
      s += plan.symbols[dims[i].symbol].name;
    else
      s += "?" + std::to_string(dims[i].symbol);
  }
  return s + "]";
}

} // namespace tfc::planner
