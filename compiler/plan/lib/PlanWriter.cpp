//===- PlanWriter.cpp - header + FlatBuffer + weight section, streamed -----===//
#include "tfc/plan/PlanWriter.h"

#include "tfc/schema/PlanFile.h"
#include "tfc/schema/PlanKernels.h"
#include "tfc/support/OutputFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::planner {

namespace {

using tfc::plan::alignUp;

/// Writes to an output file (support/OutputFile.h); remembers the first error.
class FileSink : public ByteSink {
public:
  explicit FileSink(tfc::support::OutputFile &file) : file(file) {}
  bool write(const void *data, size_t size) override {
    if (!error.empty())
      return false;
    error = file.write(data, size);
    return error.empty();
  }

private:
  tfc::support::OutputFile &file;
};

bool writeZeros(ByteSink &sink, uint64_t n) {
  static const uint8_t zeros[256] = {};
  while (n > 0) {
    uint64_t chunk = n < sizeof(zeros) ? n : sizeof(zeros);
    if (!sink.write(zeros, chunk))
      return false;
    n -= chunk;
  }
  return true;
}

std::vector<tfc::plan::Dim> toDims(const std::vector<Dim> &dims) {
  std::vector<tfc::plan::Dim> out;
  out.reserve(dims.size());
  for (const Dim &d : dims)
    out.emplace_back(d.symbol, d.isSymbolic() ? 0 : d.size);
  return out;
}

/// Builds the FlatBuffer (constant offsets and checksums included).
void buildFlatBuffer(const Plan &plan, const std::vector<uint64_t> &offsets,
                     flatbuffers::FlatBufferBuilder &fbb) {
  fbb.ForceDefaults(true);
  std::vector<flatbuffers::Offset<fb::Constant>> constants;
  for (size_t i = 0; i < plan.constants.size(); ++i) {
    const Constant &c = plan.constants[i];
    constants.push_back(fb::CreateConstantDirect(
        fbb, c.name.c_str(), c.dtype, &c.shape, "row_major", offsets[i], c.bytes.size,
        tfc::plan::weightsChecksum(c.bytes.data(), c.bytes.size)));
  }
  std::vector<flatbuffers::Offset<fb::Symbol>> symbols;
  for (const Symbol &s : plan.symbols)
    symbols.push_back(fb::CreateSymbolDirect(fbb, s.name.c_str(), s.min, s.max));
  std::vector<flatbuffers::Offset<fb::Function>> functions;
  for (const Function &f : plan.functions) {
    auto ports = [&](const std::vector<Port> &list) {
      std::vector<flatbuffers::Offset<fb::Port>> out;
      for (const Port &p : list)
        out.push_back(fb::CreatePortDirect(fbb, p.name.c_str(), p.value));
      return out;
    };
    std::vector<flatbuffers::Offset<fb::Port>> inputs = ports(f.inputs), outputs = ports(f.outputs);
    std::vector<flatbuffers::Offset<fb::Value>> values;
    for (const Value &v : f.values) {
      std::vector<tfc::plan::Dim> dims = toDims(v.dims);
      values.push_back(fb::CreateValueDirect(fbb, v.kind, v.dtype, &dims, v.arenaOffset,
                                             v.constant, v.port, v.name.c_str()));
    }
    std::vector<flatbuffers::Offset<fb::Kernel>> kernels;
    for (const Kernel &k : f.kernels)
      kernels.push_back(fb::CreateKernelDirect(fbb, k.kind, &k.inputs, &k.outputs,
                                               k.options.type, k.options.Pack(fbb),
                                               k.name.c_str()));
    functions.push_back(fb::CreateFunctionDirect(fbb, f.name.c_str(), &inputs, &outputs, &values,
                                                 &kernels, f.arenaSize, f.cacheOp));
  }
  fb::SpecialTokens tokens(plan.model.startId, plan.model.endId, plan.model.unkId,
                           plan.model.padId);
  auto strings = [&](const std::vector<std::string> &list) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> out;
    for (const std::string &s : list)
      out.push_back(fbb.CreateString(s));
    return out;
  };
  std::vector<flatbuffers::Offset<flatbuffers::String>> vocabulary = strings(plan.model.vocabulary);
  flatbuffers::Offset<fb::Tokenizer> tokenizer = 0;
  if (const TokenizerDesc &t = plan.model.tokenizer; t.kind != fb::TokenizerKind::None) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> merges = strings(t.merges);
    std::vector<flatbuffers::Offset<fb::AddedToken>> added;
    for (const AddedTokenDesc &a : t.addedTokens)
      added.push_back(fb::CreateAddedTokenDirect(fbb, a.content.c_str(), a.special, a.singleWord,
                                                 a.lstrip, a.rstrip, a.normalized));
    tokenizer = fb::CreateTokenizerDirect(
        fbb, t.kind, t.lowercase, t.stripAccents, t.handleChineseChars, t.cleanText,
        t.continuingSubwordPrefix.c_str(), t.maxInputCharsPerWord, t.unkToken.c_str(),
        t.clsToken.c_str(), t.sepToken.c_str(), t.padToken.c_str(), &merges, t.addPrefixSpace,
        t.maxLength, added.empty() ? nullptr : &added);
  }
  auto model = fb::CreateModelInfoDirect(fbb, plan.model.family.c_str(), plan.model.name.c_str(),
                                         &tokens, vocabulary.empty() ? nullptr : &vocabulary,
                                         tokenizer);
  std::vector<flatbuffers::Offset<fb::CacheSlot>> caches;
  for (const CacheSlot &c : plan.caches)
    caches.push_back(fb::CreateCacheSlotDirect(fbb, c.name.c_str(), c.kind, c.numHeads,
                                               c.headDim, c.maxLength, /*window=*/0, c.dtype));
  flatbuffers::Offset<fb::Generation> generation = 0;
  if (!plan.generation.mode.empty()) {
    std::vector<flatbuffers::Offset<flatbuffers::String>> keys =
        strings(plan.generation.keyMaskInputs);
    generation = fb::CreateGenerationDirect(fbb, plan.generation.mode.c_str(),
                                            plan.generation.reason.c_str(),
                                            plan.generation.tokenInput.c_str(), &keys);
  }
  auto root = fb::CreatePlanDirect(fbb, tfc::plan::kPlanFormatMajor, tfc::plan::kPlanFormatMinor,
                                   kProducer, plan.target, model, &symbols, &functions,
                                   &constants, caches.empty() ? nullptr : &caches, generation,
                                   plan.precision, plan.weightPrecision);
  fb::FinishPlanBuffer(fbb, root);
}

std::string inFunction(const Function &f) { return "function '" + f.name + "': "; }

} // namespace

Status validatePlan(const Plan &plan) {
  if (!fb::isKnownEnumValue(plan.target))
    return {"unknown target " + std::to_string(int(plan.target))};
  auto isFloat = [](fb::DType d) {
    return d == fb::DType::F32 || d == fb::DType::F16 || d == fb::DType::BF16;
  };
  if (!isFloat(plan.precision))
    return {std::string("precision ") + dtypeName(plan.precision) + " is not a float dtype"};
  if (plan.weightPrecision != fb::DType::F32 && plan.weightPrecision != fb::DType::BF16 &&
      plan.weightPrecision != fb::DType::I8)
    return {std::string("weight precision ") + dtypeName(plan.weightPrecision) +
            " is not f32, bf16 or i8"};
  for (const CacheSlot &c : plan.caches)
    if (!isFloat(c.dtype))
      return {"cache slot '" + c.name + "' holds " + dtypeName(c.dtype) + ", not a float dtype"};
  for (const Constant &c : plan.constants) {
    uint64_t n = dtypeSize(c.dtype);
    for (int64_t d : c.shape) {
      if (d < 0)
        return {"constant '" + c.name + "' has a negative dim"};
      n *= static_cast<uint64_t>(d);
    }
    if (n != c.bytes.size)
      return {"constant '" + c.name + "' holds " + std::to_string(c.bytes.size) +
              " bytes, its shape needs " + std::to_string(n)};
    if (n && (!c.bytes.storage || c.bytes.offset + n > c.bytes.storage->size()))
      return {"constant '" + c.name + "' has no data"};
  }
  for (const Symbol &s : plan.symbols)
    if (s.min < 0 || s.max < s.min)
      return {"symbol '" + s.name + "' has bounds [" + std::to_string(s.min) + ", " +
              std::to_string(s.max) + "]"};
  for (const Function &f : plan.functions) {
    int32_t numValues = (int32_t)f.values.size();
    for (const Value &v : f.values) {
      for (const Dim &d : v.dims)
        if (d.symbol >= (int32_t)plan.symbols.size() || (!d.isSymbolic() && d.size < 0))
          return {inFunction(f) + "value '" + v.name + "' has a bad dim"};
      if (v.kind == fb::ValueKind::Constant &&
          (v.constant < 0 || v.constant >= (int32_t)plan.constants.size()))
        return {inFunction(f) + "value '" + v.name + "' refers to no constant"};
    }
    auto checkPorts = [&](const std::vector<Port> &ports, fb::ValueKind kind) -> Status {
      for (size_t i = 0; i < ports.size(); ++i) {
        const Port &p = ports[i];
        if (p.value < 0 || p.value >= numValues || f.values[p.value].kind != kind ||
            f.values[p.value].port != (int32_t)i)
          return {inFunction(f) + "port '" + p.name + "' is not tied to its value"};
      }
      return {};
    };
    if (Status s = checkPorts(f.inputs, fb::ValueKind::Input); !s.ok())
      return s;
    if (Status s = checkPorts(f.outputs, fb::ValueKind::Output); !s.ok())
      return s;
    for (const Kernel &k : f.kernels) {
      if (!fb::isKnownEnumValue(k.kind))
        return {inFunction(f) + "kernel '" + k.name + "' has unknown kind " +
                std::to_string(int(k.kind))};
      if (k.options.type != fb::kernelOptionsOf(k.kind)) {
        auto name = [](fb::KernelOptions t) {
          return std::string(t == fb::KernelOptions::NONE ? "none" : fb::kernelOptionsName(t));
        };
        return {inFunction(f) + "kernel '" + k.name + "' (" + fb::EnumNameKernelKind(k.kind) +
                "): its options are " + name(k.options.type) + "; " +
                fb::EnumNameKernelKind(k.kind) + " kernels take " +
                name(fb::kernelOptionsOf(k.kind))};
      }
      for (int32_t v : k.inputs)
        if (v < -1 || v >= numValues)
          return {inFunction(f) + "kernel '" + k.name + "' reads value " + std::to_string(v) +
                  " of " + std::to_string(numValues)};
      for (int32_t v : k.outputs)
        if (v < 0 || v >= numValues)
          return {inFunction(f) + "kernel '" + k.name + "' writes value " + std::to_string(v) +
                  " of " + std::to_string(numValues)};
    }
  }
  return {};
}

Status writePlan(const Plan &plan, ByteSink &sink, PlanLayout *layoutOut) {
  if (Status s = validatePlan(plan); !s.ok())
    return s;
  PlanLayout layout;
  uint64_t cursor = 0;
  for (const Constant &c : plan.constants) {
    cursor = alignUp(cursor);
    layout.constantOffsets.push_back(cursor);
    cursor += c.bytes.size;
  }
  layout.weightsSize = alignUp(cursor);

  flatbuffers::FlatBufferBuilder fbb(1 << 16);
  buildFlatBuffer(plan, layout.constantOffsets, fbb);
  if (fbb.GetSize() >= (1ull << 31))
    return {"the plan's FlatBuffer exceeds 2 GiB"};
  layout.planSize = fbb.GetSize();
  const uint64_t planOffset = sizeof(tfc::plan::PlanFileHeader);
  layout.weightsOffset = alignUp(planOffset + layout.planSize);
  layout.fileSize = layout.weightsOffset + layout.weightsSize;

  tfc::plan::PlanFileHeader header{};
  std::memcpy(header.magic, tfc::plan::kPlanMagic, sizeof(header.magic));
  header.formatMajor = tfc::plan::kPlanFormatMajor;
  header.formatMinor = tfc::plan::kPlanFormatMinor;
  header.planOffset = planOffset;
  header.planSize = layout.planSize;
  header.weightsOffset = layout.weightsOffset;
  header.weightsSize = layout.weightsSize;
  header.fileSize = layout.fileSize;
  header.planChecksum = tfc::plan::fnv1a64(fbb.GetBufferPointer(), fbb.GetSize());

  auto failed = [&]() -> Status { return {"write failed: " + sink.error}; };
  if (!sink.write(&header, sizeof(header)) || !sink.write(fbb.GetBufferPointer(), fbb.GetSize()) ||
      !writeZeros(sink, layout.weightsOffset - planOffset - layout.planSize))
    return failed();
  uint64_t written = 0;
  for (size_t i = 0; i < plan.constants.size(); ++i) {
    const Constant &c = plan.constants[i];
    if (!writeZeros(sink, layout.constantOffsets[i] - written) ||
        (c.bytes.size && !sink.write(c.bytes.data(), c.bytes.size)))
      return failed();
    written = layout.constantOffsets[i] + c.bytes.size;
  }
  if (!writeZeros(sink, layout.weightsSize - written))
    return failed();
  if (layoutOut)
    *layoutOut = std::move(layout);
  return {};
}

Status writePlanFile(const Plan &plan, const std::string &path, PlanLayout *layout,
                     const PlanFileCheck &check) {
  if (Status s = validatePlan(plan); !s.ok())
    return {path + ": " + s.error};
  tfc::support::OutputFile file;
  if (std::string e = file.open(path); !e.empty())
    return {e};
  FileSink sink(file);
  // On failure the OutputFile removes its temporary file; the target is untouched.
  if (Status s = writePlan(plan, sink, layout); !s.ok())
    return {sink.error.empty() ? path + ": " + s.error : sink.error};
  // The complete temporary file is checked before it replaces the target (a device or FIFO,
  // written in place, cannot be read back).
  if (check && !file.tempPath().empty())
    if (Status s = check(file.tempPath()); !s.ok())
      return {path + ": " + s.error};
  return {file.commit()};
}

} // namespace tfc::planner
