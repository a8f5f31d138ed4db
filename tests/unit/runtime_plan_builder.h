//===- runtime_plan_builder.h - writes small plan files for the runtime unit tests -----------===//
//
// Builds a valid plan (header + FlatBuffer + weight section, docs/PLAN_FORMAT.md) from values,
// kernels and constants given in the test, independent of the compiler. Knobs let the loader
// tests break one thing at a time (versions, checksums, offsets).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TESTS_UNIT_RUNTIME_PLAN_BUILDER_H
#define TFC_TESTS_UNIT_RUNTIME_PLAN_BUILDER_H

#include "tfc/schema/PlanFile.h"
#include "tfc/schema/plan_generated.h"
#include "tfc/tfc_runtime.h"

#include <atomic>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>
#include <unistd.h>
#include <vector>

namespace rtt {

namespace fb = tfc::plan;

struct DimSpec {
  int32_t symbol = -1;
  int64_t size = 0;
};
inline DimSpec S(int64_t n) { return {-1, n}; }
inline DimSpec Sym(int32_t symbol) { return {symbol, 0}; }

struct ConstantSpec {
  std::string name;
  tfc_dtype dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  // Knobs for broken plans.
  int64_t offsetDelta = 0;     // added to the written offset
  int64_t sizeDelta = 0;       // added to the written size
  bool badChecksum = false;
};

struct ValueSpec {
  fb::ValueKind kind;
  tfc_dtype dtype;
  std::vector<DimSpec> dims;
  std::string name;
  int32_t constant = -1;
  int32_t port = -1;
  uint64_t arenaOffset = 0;
};

/// A kernel's options (plan.fbs KernelOptions, the object API's union); NONE for the kinds
/// without attributes. The helpers in `opt` make one table each.
using Options = fb::KernelOptionsUnion;

namespace opt {
template <typename T> Options make(T table) {
  Options u;
  u.Set(std::move(table));
  return u;
}
inline Options binary(fb::BinaryOp op) {
  fb::BinaryOptionsT o;
  o.op = op;
  return make(std::move(o));
}
inline Options unary(fb::UnaryOp op) {
  fb::UnaryOptionsT o;
  o.op = op;
  return make(std::move(o));
}
inline Options reduce(fb::ReduceOp op, bool keepdims, std::vector<int32_t> axes) {
  fb::ReduceOptionsT o;
  o.op = op;
  o.keepdims = keepdims;
  o.axes = std::move(axes);
  return make(std::move(o));
}
inline Options softmax(int32_t axis) {
  fb::SoftmaxOptionsT o;
  o.axis = axis;
  return make(std::move(o));
}
inline Options layerNormalization(int32_t axis, float epsilon) {
  fb::LayerNormalizationOptionsT o;
  o.axis = axis;
  o.epsilon = epsilon;
  return make(std::move(o));
}
inline Options gather(int32_t axis) {
  fb::GatherOptionsT o;
  o.axis = axis;
  return make(std::move(o));
}
inline Options transpose(std::vector<int32_t> perm) {
  fb::TransposeOptionsT o;
  o.perm = std::move(perm);
  return make(std::move(o));
}
inline Options concat(int32_t axis) {
  fb::ConcatOptionsT o;
  o.axis = axis;
  return make(std::move(o));
}
inline Options slice(std::vector<int32_t> axes, std::vector<int64_t> steps,
                     std::vector<bool> cacheOffset = {}) {
  fb::SliceOptionsT o;
  o.axes = std::move(axes);
  o.steps = std::move(steps);
  o.cache_offset = std::move(cacheOffset);
  return make(std::move(o));
}
inline Options layerNorm(float epsilon) {
  fb::LayerNormOptionsT o;
  o.epsilon = epsilon;
  return make(std::move(o));
}
inline Options rmsNorm(float epsilon, bool unitOffset = false) {
  fb::RmsNormOptionsT o;
  o.epsilon = epsilon;
  o.unit_offset = unitOffset;
  return make(std::move(o));
}
inline Options gatedLinear(fb::GateActivation activation) {
  fb::GatedLinearOptionsT o;
  o.activation = activation;
  return make(std::move(o));
}
inline Options attention(int32_t numHeads, fb::MaskKind mask, float scale,
                         int32_t numKvHeads = 0, int32_t window = 0,
                         float hiddenScore = std::numeric_limits<float>::quiet_NaN()) {
  fb::AttentionOptionsT o;
  o.num_heads = numHeads;
  o.mask = mask;
  o.scale = scale;
  o.num_kv_heads = numKvHeads;
  o.window = window;
  o.hidden_score = hiddenScore;
  return make(std::move(o));
}
inline Options linear(fb::Activation activation) {
  fb::LinearOptionsT o;
  o.activation = activation;
  return make(std::move(o));
}
inline Options embedding(float scale, bool offsetPositions = false) {
  fb::EmbeddingOptionsT o;
  o.scale = scale;
  o.offset_positions = offsetPositions;
  return make(std::move(o));
}
inline Options cachedAttention(int32_t numHeads, fb::MaskKind mask, float scale, int32_t slot,
                               fb::CacheKind kind, int32_t numKvHeads = 0, int32_t window = 0,
                               float hiddenScore = std::numeric_limits<float>::quiet_NaN()) {
  fb::CachedAttentionOptionsT o;
  o.num_heads = numHeads;
  o.mask = mask;
  o.scale = scale;
  o.slot = slot;
  o.cache_kind = kind;
  o.num_kv_heads = numKvHeads;
  o.window = window;
  o.hidden_score = hiddenScore;
  return make(std::move(o));
}
inline Options cacheStore(int32_t slot) {
  fb::CacheStoreOptionsT o;
  o.slot = slot;
  return make(std::move(o));
}
inline Options rotary(int32_t numHeads, int32_t rotaryDim, bool interleaved = false) {
  fb::RotaryOptionsT o;
  o.num_heads = numHeads;
  o.rotary_dim = rotaryDim;
  o.interleaved = interleaved;
  return make(std::move(o));
}
} // namespace opt

struct KernelSpecT {
  fb::KernelKind kind;
  std::vector<int32_t> inputs, outputs;
  Options options;
  std::string name;
};

struct SymbolSpec {
  std::string name;
  int64_t min, max;
};

struct CacheSlotSpec {
  std::string name;
  fb::CacheKind kind;
  int32_t numHeads, headDim;
  int64_t maxLength;
  int64_t window = 0;
  fb::DType dtype = fb::DType::F32; // (2.1)
};

inline size_t dtypeBytes(tfc_dtype d) { return tfc_dtype_size(d); }

class PlanBuilder {
public:
  // Knobs for broken plans.
  uint32_t headerMajor = tfc::plan::kPlanFormatMajor, headerMinor = tfc::plan::kPlanFormatMinor;
  uint32_t fbMajor = tfc::plan::kPlanFormatMajor, fbMinor = tfc::plan::kPlanFormatMinor;
  int64_t planSizeDelta = 0, weightsOffsetDelta = 0, weightsSizeDelta = 0;
  int64_t arenaSizeDelta = 0;
  std::string functionName = "forward";
  fb::CacheOp cacheOp = fb::CacheOp::None; // of the function being built
  // KV-cache slots, generation (written when generationTokenInput is set), vocabulary.
  std::vector<CacheSlotSpec> caches;
  std::string generationTokenInput;
  std::vector<std::string> vocabulary;
  fb::DType precision = fb::DType::F32; // Plan.precision (2.1)
  fb::DType weightPrecision = fb::DType::F32; // Plan.weight_precision (2.2)
  fb::Target target = fb::Target::Cpu;  // Plan.target (the CUDA tests write cuda plans)

  int addCache(const std::string &name, fb::CacheKind kind, int32_t heads, int32_t headDim,
               int64_t maxLength) {
    caches.push_back({name, kind, heads, headDim, maxLength});
    return int(caches.size()) - 1;
  }

  /// Finishes the function being built and starts another (same symbols and constants).
  void nextFunction(const std::string &name, fb::CacheOp op = fb::CacheOp::None) {
    done.push_back({functionName, cacheOp, values, kernels, inputs, outputs, arenaSize});
    functionName = name;
    cacheOp = op;
    values.clear();
    kernels.clear();
    inputs.clear();
    outputs.clear();
    arenaSize = 0;
  }

  int addSymbol(const std::string &name, int64_t min, int64_t max) {
    symbols.push_back({name, min, max});
    return int(symbols.size()) - 1;
  }

  int addConstant(const std::string &name, tfc_dtype dtype, std::vector<int64_t> shape,
                  const void *data) {
    size_t n = dtypeBytes(dtype);
    for (int64_t d : shape)
      n *= size_t(d);
    ConstantSpec c{name, dtype, std::move(shape), {}};
    c.bytes.assign(static_cast<const uint8_t *>(data), static_cast<const uint8_t *>(data) + n);
    constants.push_back(std::move(c));
    return int(constants.size()) - 1;
  }

  int addInput(const std::string &name, tfc_dtype dtype, std::vector<DimSpec> dims) {
    ValueSpec v{fb::ValueKind::Input, dtype, std::move(dims), name};
    v.port = int32_t(inputs.size());
    values.push_back(v);
    inputs.push_back({name, int32_t(values.size()) - 1});
    return int(values.size()) - 1;
  }

  int addOutput(const std::string &name, tfc_dtype dtype, std::vector<DimSpec> dims) {
    ValueSpec v{fb::ValueKind::Output, dtype, std::move(dims), name};
    v.port = int32_t(outputs.size());
    values.push_back(v);
    outputs.push_back({name, int32_t(values.size()) - 1});
    return int(values.size()) - 1;
  }

  /// A value for constant `c` (same dtype and static shape).
  int addConstantValue(int c) {
    ValueSpec v{fb::ValueKind::Constant, constants[c].dtype, {}, constants[c].name};
    for (int64_t d : constants[c].shape)
      v.dims.push_back(S(d));
    v.constant = c;
    values.push_back(v);
    return int(values.size()) - 1;
  }

  /// An intermediate at the next free 64-aligned arena offset (sized at the symbols' max).
  int addIntermediate(const std::string &name, tfc_dtype dtype, std::vector<DimSpec> dims) {
    ValueSpec v{fb::ValueKind::Intermediate, dtype, std::move(dims), name};
    uint64_t bytes = dtypeBytes(dtype);
    for (const DimSpec &d : v.dims)
      bytes *= uint64_t(d.symbol >= 0 ? symbols[d.symbol].max : d.size);
    v.arenaOffset = arenaSize;
    arenaSize = tfc::plan::alignUp(arenaSize + bytes);
    values.push_back(v);
    return int(values.size()) - 1;
  }

  /// A kernel; `options` must be its kind's table (opt::...), or NONE for a kind without.
  void addKernel(fb::KernelKind kind, std::vector<int32_t> ins, std::vector<int32_t> outs,
                 Options options = {}, std::string name = "") {
    if (name.empty())
      name = "k" + std::to_string(kernels.size());
    kernels.push_back({kind, std::move(ins), std::move(outs), std::move(options),
                       std::move(name)});
  }

  /// The file's bytes.
  std::vector<uint8_t> build() const {
    flatbuffers::FlatBufferBuilder b;
    // Weight section layout.
    std::vector<uint64_t> offsets;
    uint64_t weightsSize = 0;
    for (const ConstantSpec &c : constants) {
      offsets.push_back(weightsSize);
      weightsSize = tfc::plan::alignUp(weightsSize + c.bytes.size());
    }
    std::vector<flatbuffers::Offset<fb::Constant>> fconsts;
    for (size_t i = 0; i < constants.size(); ++i) {
      const ConstantSpec &c = constants[i];
      uint64_t sum = tfc::plan::constantChecksum(headerMinor, c.bytes.data(), c.bytes.size());
      fconsts.push_back(fb::CreateConstant(
          b, b.CreateString(c.name), fb::DType(c.dtype), b.CreateVector(c.shape),
          b.CreateString("row_major"), uint64_t(int64_t(offsets[i]) + c.offsetDelta),
          uint64_t(int64_t(c.bytes.size()) + c.sizeDelta), c.badChecksum ? sum ^ 1 : sum));
    }
    std::vector<flatbuffers::Offset<fb::Symbol>> fsyms;
    for (const SymbolSpec &s : symbols)
      fsyms.push_back(fb::CreateSymbol(b, b.CreateString(s.name), s.min, s.max));
    std::vector<FunctionParts> all = done;
    all.push_back({functionName, cacheOp, values, kernels, inputs, outputs, arenaSize});
    std::vector<flatbuffers::Offset<fb::Function>> fns;
    for (size_t fi = 0; fi < all.size(); ++fi) {
      const FunctionParts &f = all[fi];
      std::vector<flatbuffers::Offset<fb::Value>> fvals;
      for (const ValueSpec &v : f.values) {
        std::vector<fb::Dim> dims;
        for (const DimSpec &d : v.dims)
          dims.emplace_back(d.symbol, d.size);
        fvals.push_back(fb::CreateValue(b, v.kind, fb::DType(v.dtype),
                                        b.CreateVectorOfStructs(dims), v.arenaOffset, v.constant,
                                        v.port, b.CreateString(v.name)));
      }
      std::vector<flatbuffers::Offset<fb::Kernel>> fkernels;
      for (const KernelSpecT &k : f.kernels)
        fkernels.push_back(fb::CreateKernel(b, k.kind, b.CreateVector(k.inputs),
                                            b.CreateVector(k.outputs), k.options.type,
                                            k.options.Pack(b), b.CreateString(k.name)));
      auto ports = [&](const std::vector<std::pair<std::string, int32_t>> &ps) {
        std::vector<flatbuffers::Offset<fb::Port>> out;
        for (const auto &p : ps)
          out.push_back(fb::CreatePort(b, b.CreateString(p.first), p.second));
        return b.CreateVector(out);
      };
      auto fins = ports(f.inputs), fouts = ports(f.outputs);
      int64_t delta = fi + 1 == all.size() ? arenaSizeDelta : 0;
      fns.push_back(fb::CreateFunction(b, b.CreateString(f.name), fins, fouts,
                                       b.CreateVector(fvals), b.CreateVector(fkernels),
                                       uint64_t(int64_t(f.arenaSize) + delta), f.cacheOp));
    }
    fb::SpecialTokens tokens(101, 102, 100, 0);
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> vocab = 0;
    if (!vocabulary.empty())
      vocab = b.CreateVectorOfStrings(vocabulary);
    auto model = fb::CreateModelInfo(b, b.CreateString("encoder"), b.CreateString("test"), &tokens,
                                     vocab);
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::CacheSlot>>> fcaches = 0;
    if (!caches.empty()) {
      std::vector<flatbuffers::Offset<fb::CacheSlot>> cs;
      for (const CacheSlotSpec &c : caches)
        cs.push_back(fb::CreateCacheSlot(b, b.CreateString(c.name), c.kind, c.numHeads, c.headDim,
                                         c.maxLength, c.window, c.dtype));
      fcaches = b.CreateVector(cs);
    }
    flatbuffers::Offset<fb::Generation> gen = 0;
    if (!generationTokenInput.empty())
      gen = fb::CreateGeneration(b, b.CreateString("kv-cache"), b.CreateString(""),
                                 b.CreateString(generationTokenInput));
    auto plan = fb::CreatePlan(b, fbMajor, fbMinor, b.CreateString("runtime tests"),
                               target, model, b.CreateVector(fsyms), b.CreateVector(fns),
                               b.CreateVector(fconsts), fcaches, gen, precision,
                               weightPrecision);
    b.Finish(plan, fb::PlanIdentifier());

    tfc::plan::PlanFileHeader h{};
    std::memcpy(h.magic, tfc::plan::kPlanMagic, 8);
    h.formatMajor = headerMajor;
    h.formatMinor = headerMinor;
    h.planOffset = 64;
    h.planSize = uint64_t(int64_t(b.GetSize()) + planSizeDelta);
    uint64_t weightsOffset = tfc::plan::alignUp(64 + b.GetSize());
    h.weightsOffset = uint64_t(int64_t(weightsOffset) + weightsOffsetDelta);
    h.weightsSize = uint64_t(int64_t(weightsSize) + weightsSizeDelta);
    std::vector<uint8_t> file(weightsOffset + weightsSize, 0);
    h.fileSize = file.size();
    std::memcpy(file.data() + 64, b.GetBufferPointer(), b.GetSize());
    // (2.3) The checksum of the bytes the header names (a planSizeDelta test still reaches the
    // check it is about).
    if (headerMinor >= tfc::plan::kPlanChecksumMinor && h.planSize <= file.size() - 64)
      h.planChecksum = tfc::plan::fnv1a64(file.data() + 64, size_t(h.planSize));
    std::memcpy(file.data(), &h, sizeof h);
    for (size_t i = 0; i < constants.size(); ++i)
      std::memcpy(file.data() + weightsOffset + offsets[i], constants[i].bytes.data(),
                  constants[i].bytes.size());
    return file;
  }

  std::vector<SymbolSpec> symbols;
  std::vector<ConstantSpec> constants;
  std::vector<ValueSpec> values;
  std::vector<KernelSpecT> kernels;
  std::vector<std::pair<std::string, int32_t>> inputs, outputs;
  uint64_t arenaSize = 0;

private:
  struct FunctionParts {
    std::string name;
    fb::CacheOp cacheOp;
    std::vector<ValueSpec> values;
    std::vector<KernelSpecT> kernels;
    std::vector<std::pair<std::string, int32_t>> inputs, outputs;
    uint64_t arenaSize;
  };
  std::vector<FunctionParts> done; // functions finished by nextFunction
};

/// A fresh temp file path.
inline std::string tempPath(const std::string &stem) {
  static std::atomic<int> counter{0};
  const char *dir = std::getenv("TMPDIR");
  return std::string(dir ? dir : "/tmp") + "/tfc_rt_" + stem + "_" + std::to_string(getpid()) +
         "_" + std::to_string(counter++) + ".plan";
}

inline void writeFile(const std::string &path, const std::vector<uint8_t> &bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
}

/// Writes `bytes` to a temp file, opens it, removes the file; returns the status (NULL: ok).
inline tfc_status *openBytes(const std::vector<uint8_t> &bytes, tfc_plan **plan,
                             const char *stem = "plan") {
  std::string path = tempPath(stem);
  writeFile(path, bytes);
  tfc_status *s = tfc_plan_open(path.c_str(), nullptr, plan);
  std::remove(path.c_str());
  return s;
}

} // namespace rtt

#endif // TFC_TESTS_UNIT_RUNTIME_PLAN_BUILDER_H
