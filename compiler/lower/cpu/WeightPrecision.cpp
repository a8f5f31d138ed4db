//===- WeightPrecision.cpp - bf16 / int8 Linear and GatedLinear weights of a cpu plan -------===//
//
// See WeightPrecision.h. Works on the lowered plan (no MLIR): finds the weight inputs of every
// Linear / GatedLinear kernel (tfc::plan::weightInputsOf) that are f32 constants [K, N],
// converts each constant once, retypes the value (or gives the converted weight a value of its
// own when something else reads the f32 one), adds the int8 scales, drops constants no value
// reads any more.
//
//===----------------------------------------------------------------------------------------===//
#include "tfc/lower/cpu/WeightPrecision.h"

#include "tfc/schema/PlanKernels.h"
#include "tfc/support/Float16.h"
#include "tfc/support/Int8Weights.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace tfc::lower {

using namespace tfc::planner;
namespace fb = ::tfc::plan;

namespace {

/// A weight input of a kernel: (kernel, weight input, scale input).
struct Slot {
  size_t kernel;
  int32_t weight, scale;
};

/// The converted copies of one f32 constant.
struct Converted {
  int32_t weight = -1; // index into Plan::constants
  int32_t scale = -1;  // I8: the scale constant
};

Status convertBf16(const Constant &c, Constant &out, std::vector<std::string> *warnings) {
  const uint64_t n = c.bytes.size / 4;
  auto bytes = std::make_shared<std::vector<uint8_t>>(n * 2);
  float chunk[1024];
  uint16_t bits[1024];
  size_t overflowed = 0;
  for (uint64_t i = 0; i < n; i += 1024) {
    size_t m = size_t(std::min<uint64_t>(1024, n - i));
    std::memcpy(chunk, c.bytes.data() + i * 4, m * 4);
    overflowed += ::tfc::support::convertFloats(chunk, m, /*bf16=*/true,
                                                ::tfc::support::Overflow::Saturate, bits);
    std::memcpy(bytes->data() + i * 2, bits, m * 2);
  }
  if (overflowed && warnings)
    warnings->push_back("weight '" + c.name + "': " + std::to_string(overflowed) +
                        " value(s) beyond the bf16 range saturated to the largest finite value");
  out.dtype = fb::DType::BF16;
  out.bytes.size = bytes->size();
  out.bytes.storage = std::move(bytes);
  return {};
}

Status convertI8(const Constant &c, Constant &out, Constant &scale) {
  const int64_t K = c.shape[0], N = c.shape[1];
  auto q = std::make_shared<std::vector<uint8_t>>(size_t(K * N));
  auto s = std::make_shared<std::vector<uint8_t>>(size_t(N) * sizeof(float));
  int64_t bad = ::tfc::support::quantizeColumns(c.bytes.data(), K, N,
                                                reinterpret_cast<int8_t *>(q->data()),
                                                reinterpret_cast<float *>(s->data()));
  if (bad >= 0)
    return {"weight '" + c.name + "' has a value that is not finite (at [" +
            std::to_string(bad / N) + ", " + std::to_string(bad % N) +
            "]): it cannot be quantized to int8"};
  out.dtype = fb::DType::I8;
  out.bytes.size = q->size();
  out.bytes.storage = std::move(q);
  scale.name = c.name + "/scale";
  scale.dtype = fb::DType::F32;
  scale.shape = {N};
  scale.bytes.size = s->size();
  scale.bytes.storage = std::move(s);
  return {};
}

/// Converts constant `index` once (memoized in `done`).
Status convertConstant(Plan &plan, int32_t index, fb::DType dtype,
                       std::map<int32_t, Converted> &done, std::vector<std::string> *warnings,
                       WeightConversion &stats, Converted &out) {
  if (auto it = done.find(index); it != done.end()) {
    out = it->second;
    return {};
  }
  Constant c = plan.constants[size_t(index)]; // a copy: push_back below may move the vector
  Constant weight;
  weight.name = c.name;
  weight.shape = c.shape;
  Constant scale;
  Status s = dtype == fb::DType::I8 ? convertI8(c, weight, scale) : convertBf16(c, weight, warnings);
  if (!s.ok())
    return s;
  stats.weights += 1;
  stats.bytesBefore += c.bytes.size;
  stats.bytesAfter += weight.bytes.size + scale.bytes.size;
  plan.constants.push_back(std::move(weight));
  out.weight = int32_t(plan.constants.size() - 1);
  if (dtype == fb::DType::I8) {
    plan.constants.push_back(std::move(scale));
    out.scale = int32_t(plan.constants.size() - 1);
  }
  done[index] = out;
  return {};
}

/// The weight slots of `fn` whose value is an f32 constant [K, N] not named in `keep`.
std::vector<Slot> convertibleSlots(const Plan &plan, const Function &fn,
                                   const std::set<std::string> *keep) {
  std::vector<Slot> slots;
  for (size_t k = 0; k < fn.kernels.size(); ++k) {
    const Kernel &kernel = fn.kernels[k];
    fb::WeightInputs w = fb::weightInputsOf(kernel.kind);
    for (int j = 0; j < w.count; ++j) {
      size_t i = size_t(w.list[j].weight);
      if (i >= kernel.inputs.size() || kernel.inputs[i] < 0)
        continue;
      const Value &v = fn.values[size_t(kernel.inputs[i])];
      if (v.kind == fb::ValueKind::Constant && v.dtype == fb::DType::F32 && v.dims.size() == 2 &&
          !v.dims[0].isSymbolic() && !v.dims[1].isSymbolic() &&
          !(keep && keep->count(plan.constants[size_t(v.constant)].name)))
        slots.push_back({k, w.list[j].weight, w.list[j].scale});
    }
  }
  return slots;
}

/// How many kernel inputs of `fn` read each value.
std::vector<size_t> readers(const Function &fn) {
  std::vector<size_t> count(fn.values.size(), 0);
  for (const Kernel &k : fn.kernels)
    for (int32_t v : k.inputs)
      if (v >= 0 && size_t(v) < count.size())
        ++count[size_t(v)];
  return count;
}

Status convertFunction(Plan &plan, Function &fn, fb::DType dtype,
                       std::map<int32_t, Converted> &done, std::vector<std::string> *warnings,
                       WeightConversion &stats, const std::set<std::string> *keep) {
  std::vector<Slot> slots = convertibleSlots(plan, fn, keep);
  std::vector<size_t> all = readers(fn), asWeight(fn.values.size(), 0);
  for (const Slot &s : slots)
    ++asWeight[size_t(fn.kernels[s.kernel].inputs[size_t(s.weight)])];
  // Per f32 value: the value of its converted weight and of its scale.
  std::map<int32_t, std::pair<int32_t, int32_t>> values;
  for (const Slot &s : slots) {
    Kernel &kernel = fn.kernels[s.kernel];
    const int32_t v = kernel.inputs[size_t(s.weight)];
    auto it = values.find(v);
    if (it == values.end()) {
      Converted c;
      if (Status st = convertConstant(plan, fn.values[size_t(v)].constant, dtype, done, warnings,
                                      stats, c);
          !st.ok())
        return st;
      int32_t weightValue = v;
      if (all[size_t(v)] != asWeight[size_t(v)]) {
        // Something else reads the f32 value: the converted weight gets a value of its own.
        Value copy = fn.values[size_t(v)];
        fn.values.push_back(copy);
        weightValue = int32_t(fn.values.size() - 1);
      }
      Value &w = fn.values[size_t(weightValue)];
      w.dtype = dtype;
      w.constant = c.weight;
      int32_t scaleValue = -1;
      if (c.scale >= 0) {
        Value scale;
        scale.kind = fb::ValueKind::Constant;
        scale.dtype = fb::DType::F32;
        scale.dims = {Dim::ofSize(fn.values[size_t(weightValue)].dims[1].size)};
        scale.constant = c.scale;
        scale.name = fn.values[size_t(weightValue)].name + "/scale";
        fn.values.push_back(std::move(scale));
        scaleValue = int32_t(fn.values.size() - 1);
      }
      it = values.emplace(v, std::make_pair(weightValue, scaleValue)).first;
    }
    kernel.inputs[size_t(s.weight)] = it->second.first;
    if (it->second.second >= 0) {
      if (kernel.inputs.size() <= size_t(s.scale))
        kernel.inputs.resize(size_t(s.scale) + 1, -1);
      kernel.inputs[size_t(s.scale)] = it->second.second;
    }
  }
  return {};
}

/// Drops the constants no value reads; a converted weight whose f32 original stays is renamed
/// "<name>@<dtype>" (its scale "<name>@<dtype>/scale").
void dropUnreadConstants(Plan &plan, const std::map<int32_t, Converted> &done) {
  std::vector<bool> read(plan.constants.size(), false);
  for (const Function &fn : plan.functions)
    for (const Value &v : fn.values)
      if (v.kind == fb::ValueKind::Constant && v.constant >= 0)
        read[size_t(v.constant)] = true;
  for (const auto &[original, converted] : done)
    if (read[size_t(original)]) {
      Constant &w = plan.constants[size_t(converted.weight)];
      w.name += std::string("@") + dtypeName(w.dtype);
      if (converted.scale >= 0)
        plan.constants[size_t(converted.scale)].name = w.name + "/scale";
    }
  std::vector<int32_t> remap(plan.constants.size(), -1);
  std::vector<Constant> kept;
  for (size_t i = 0; i < plan.constants.size(); ++i)
    if (read[i]) {
      remap[i] = int32_t(kept.size());
      kept.push_back(std::move(plan.constants[i]));
    }
  plan.constants = std::move(kept);
  for (Function &fn : plan.functions)
    for (Value &v : fn.values)
      if (v.kind == fb::ValueKind::Constant && v.constant >= 0)
        v.constant = remap[size_t(v.constant)];
}

} // namespace

Status convertWeightPrecision(Plan &plan, fb::DType dtype, std::vector<std::string> *warnings,
                              WeightConversion *stats, const std::set<std::string> *keepF32) {
  WeightConversion local;
  WeightConversion &st = stats ? *stats : local;
  st = {};
  if (dtype == fb::DType::F32)
    return {};
  if (dtype != fb::DType::BF16 && dtype != fb::DType::I8)
    return {std::string("weights cannot be converted to ") + dtypeName(dtype) +
            " (bf16 or i8 only)"};
  plan.weightPrecision = dtype;
  std::map<int32_t, Converted> done;
  for (Function &fn : plan.functions)
    if (Status s = convertFunction(plan, fn, dtype, done, warnings, st, keepF32); !s.ok())
      return {"function '" + fn.name + "': " + s.error};
  dropUnreadConstants(plan, done);
  return {};
}

} // namespace tfc::lower
