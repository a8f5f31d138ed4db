//===- Inputs.cpp - tfrun's input tensors: from .npy files or generated ----===//
#include "Inputs.h"

#include <algorithm>
#include <cstring>

namespace tfc::tfrun {
namespace {

size_t elementSize(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_F32:
  case TFC_I32:
    return 4;
  case TFC_F16:
  case TFC_BF16:
    return 2;
  case TFC_I64:
    return 8;
  case TFC_I8:
  case TFC_BOOL:
    return 1;
  }
  return 1;
}

bool contains(const std::string &s, const char *part) { return s.find(part) != std::string::npos; }

template <typename T> void fill(HostTensor &t, const std::vector<int64_t> &values) {
  auto *p = reinterpret_cast<T *>(t.data.data());
  for (size_t i = 0; i < values.size(); ++i)
    p[i] = static_cast<T>(values[i]);
}

} // namespace

int64_t HostTensor::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

tfc_tensor HostTensor::view() const {
  return tfc_tensor{name.c_str(), dtype, static_cast<int32_t>(dims.size()), dims.data(),
                    data.data()};
}

bool tfcDtypeOf(NpyDtype dtype, tfc_dtype &out) {
  switch (dtype) {
  case NpyDtype::F32: out = TFC_F32; return true;
  case NpyDtype::F16: out = TFC_F16; return true;
  case NpyDtype::I64: out = TFC_I64; return true;
  case NpyDtype::I32: out = TFC_I32; return true;
  case NpyDtype::I8: out = TFC_I8; return true;
  case NpyDtype::Bool: out = TFC_BOOL; return true;
  case NpyDtype::U8: return false;
  }
  return false;
}

bool npyDtypeOf(tfc_dtype dtype, NpyDtype &out) {
  switch (dtype) {
  case TFC_F32: out = NpyDtype::F32; return true;
  case TFC_F16: out = NpyDtype::F16; return true;
  case TFC_I64: out = NpyDtype::I64; return true;
  case TFC_I32: out = NpyDtype::I32; return true;
  case TFC_I8: out = NpyDtype::I8; return true;
  case TFC_BOOL: out = NpyDtype::Bool; return true;
  case TFC_BF16: return false;
  }
  return false;
}

Status tensorFromNpy(const std::string &name, const std::string &file, NpyArray array,
                     HostTensor &out) {
  tfc_dtype dtype;
  if (!tfcDtypeOf(array.dtype, dtype))
    return Status::failure(file + ": dtype '" + npyDescr(array.dtype) + "' of input '" + name +
                         "' has no plan equivalent (use bool '|b1' or an integer type)");
  if (array.shape.size() > TFC_MAX_RANK)
    return Status::failure(file + ": input '" + name + "' has rank " +
                         std::to_string(array.shape.size()) + ", more than the runtime's " +
                         std::to_string(TFC_MAX_RANK));
  out.name = name;
  out.dtype = dtype;
  out.dims = std::move(array.shape);
  out.data = std::move(array.data);
  return Status::success();
}

void bindSymbols(const tfc_port_info &port, const HostTensor &tensor, SymbolBindings &bindings) {
  if (static_cast<size_t>(port.rank) != tensor.dims.size())
    return;
  for (int32_t i = 0; i < port.rank; ++i)
    if (port.dims[i].symbol)
      bindings.emplace(port.dims[i].symbol, tensor.dims[i]); // the first binding wins
}

int64_t defaultSymbolSize(const tfc_dim_info &dim) {
  std::string symbol = dim.symbol ? dim.symbol : "";
  int64_t size = contains(symbol, "batch") ? 1 : 128;
  if (dim.max >= 0) // a bound (a negative max would mean none)
    size = std::min(size, dim.max);
  return std::max<int64_t>(size, std::max<int64_t>(dim.min, 0));
}

HostTensor generateInput(const tfc_port_info &port, const tfc_plan_info &info,
                         SymbolBindings &bindings, const tfc_input_values *rule) {
  HostTensor t;
  t.name = port.name ? port.name : "";
  t.dtype = port.dtype;
  for (int32_t i = 0; i < port.rank && i < TFC_MAX_RANK; ++i) {
    const tfc_dim_info &d = port.dims[i];
    if (!d.symbol) {
      t.dims.push_back(std::max<int64_t>(d.size, 0));
      continue;
    }
    auto it = bindings.find(d.symbol);
    if (it == bindings.end())
      it = bindings.emplace(d.symbol, defaultSymbolSize(d)).first;
    t.dims.push_back(it->second);
  }
  const int64_t n = t.numElements();
  const int64_t last = t.dims.empty() ? 1 : std::max<int64_t>(t.dims.back(), 1);
  t.data.assign(static_cast<size_t>(n) * elementSize(t.dtype), 0);

  std::vector<int64_t> values(static_cast<size_t>(n), 0);
  const bool isFloat = t.dtype == TFC_F32 || t.dtype == TFC_F16 || t.dtype == TFC_BF16;
  const bool isMask = contains(t.name, "mask") || (rule && rule->kind == TFC_INPUT_MASK);
  // Ids must stay below the rows of their table (e.g. a 64-character vocabulary).
  const int64_t bound = rule && rule->kind == TFC_INPUT_IDS ? rule->id_bound : -1;
  if (isMask) {
    std::fill(values.begin(), values.end(), 1);
  } else if (t.name == "token_type_ids") {
    // zeros
  } else if (contains(t.name, "position")) {
    for (int64_t i = 0; i < n; ++i)
      values[i] = i % last;
  } else if (t.dtype == TFC_BOOL) {
    // zeros
  } else if (!isFloat) {
    bool hasTokens = info.start_id >= 0 || info.end_id >= 0 || info.unk_id >= 0 || info.pad_id >= 0;
    // Small ids 4, 5, ... after the start token, kept below 100 and below the table's rows.
    const int64_t span = bound < 0 ? 96 : std::min<int64_t>(96, bound - 4);
    for (int64_t i = 0; i < n; ++i) {
      int64_t j = i % last; // position along the sequence
      int64_t k = info.start_id >= 0 ? j - 1 : j;
      if (!hasTokens)
        values[i] = 1;
      else if (j == 0 && info.start_id >= 0 && (bound < 0 || info.start_id < bound))
        values[i] = info.start_id;
      else if (span > 0)
        values[i] = 4 + std::max<int64_t>(k, 0) % span;
      else if (bound > 0) // a table of 4 rows or fewer
        values[i] = j % bound;
    }
  }
  if (bound > 0)
    for (int64_t &v : values)
      v = std::clamp<int64_t>(v, 0, bound - 1);

  switch (t.dtype) {
  case TFC_I64: fill<int64_t>(t, values); break;
  case TFC_I32: fill<int32_t>(t, values); break;
  case TFC_I8: fill<int8_t>(t, values); break;
  case TFC_BOOL: fill<uint8_t>(t, values); break;
  case TFC_F32: {
    auto *p = reinterpret_cast<float *>(t.data.data());
    bool pattern = !isMask && !contains(t.name, "position");
    for (int64_t i = 0; i < n; ++i)
      p[i] = pattern ? static_cast<float>((i * 37) % 200 - 100) / 100.0f
                     : static_cast<float>(values[i]);
    break;
  }
  case TFC_F16:
  case TFC_BF16: {
    // 1.0 for masks; zeros otherwise (no half arithmetic here).
    if (isMask) {
      uint16_t one = t.dtype == TFC_F16 ? 0x3c00 : 0x3f80;
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(t.data.data() + 2 * i, &one, 2);
    }
    break;
  }
  }
  return t;
}

} // namespace tfc::tfrun
