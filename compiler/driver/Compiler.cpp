//===- Compiler.cpp - model file -> fused tfc IR + fusion report -> plan ---===//
#include "tfc/driver/Compiler.h"
#include "tfc/driver/OutOfMemory.h"
#include "tfc/frontends/HfImporter.h"

#include "Passes.h"
#include "tfc/generation/DeriveGeneration.h"
#include "tfc/lower/cpu/CpuKernelLowering.h"
#include "tfc/lower/cpu/LowerToPlan.h"
#include "tfc/plan/MemoryPlanner.h"
#include "tfc/plan/PlanWriter.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"
#include "tfc/support/OutputFile.h"
#include "tfc/support/Progress.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <new>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::driver {

namespace {

/// The passes a pipeline runs (each once per function: the model has one when they run), from
/// its textual form "builtin.module(a,b,func.func(c,d),e)": the names not followed by '('.
size_t countPasses(mlir::OpPassManager &pm) {
  std::string text;
  llvm::raw_string_ostream os(text);
  pm.printAsTextualPipeline(os);
  os.flush();
  size_t n = 0, depth = 0;
  std::string name;
  for (char c : text) {
    if (c == '{' || c == '}') { // pass options: "{fuse=true}"
      depth += c == '{' ? 1 : -1;
      continue;
    }
    if (depth)
      continue;
    if (c == '(')
      name.clear();
    else if (c == ',' || c == ')') {
      n += !name.empty();
      name.clear();
    } else if (c != ' ')
      name += c;
  }
  return n + !name.empty();
}

/// "compiling: pass 5/12 tfc-fuse-attention" on a terminal's stderr (tfc/support/Progress.h).
class ProgressInstrumentation : public mlir::PassInstrumentation {
public:
  explicit ProgressInstrumentation(size_t total) : total_(total) {}
  void runBeforePass(mlir::Pass *pass, mlir::Operation *) override {
    llvm::StringRef arg = pass->getArgument();
    if (arg.empty()) // the adaptor that runs a nested pipeline
      return;
    ++done_;
    line_.update(llvm::formatv("compiling: pass {0}/{1} {2}", done_, std::max(done_, total_), arg)
                     .str(),
                 /*force=*/true);
  }

private:
  tfc::support::ProgressLine line_;
  size_t total_, done_ = 0;
};

const char *familyName(fbs::Family f) {
  switch (f) {
  case fbs::Family::Encoder:
    return "encoder";
  case fbs::Family::Decoder:
    return "decoder";
  case fbs::Family::EncoderDecoder:
    return "encoder_decoder";
  case fbs::Family::Classifier:
    return "classifier";
  }
  return "unknown";
}

/// Collects MLIR diagnostics into a string instead of printing them (warnings apart).
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &ctx)
      : handler(&ctx, [this](mlir::Diagnostic &diag) {
          if (diag.getSeverity() == mlir::DiagnosticSeverity::Warning) {
            std::string w;
            llvm::raw_string_ostream os(w);
            os << diag.getLocation() << ": " << diag;
            warnings.push_back(os.str());
            return mlir::success();
          }
          llvm::raw_string_ostream os(text);
          if (!text.empty())
            os << "\n";
          os << diag.getLocation() << ": " << diag;
          return mlir::success();
        }) {}
  std::string text;
  std::vector<std::string> warnings;

private:
  mlir::ScopedDiagnosticHandler handler;
};

std::vector<std::pair<std::string, int64_t>> histogram(mlir::ModuleOp module,
                                                       const std::set<std::string> &functions) {
  llvm::StringMap<int64_t> counts;
  for (auto fn : module.getOps<mlir::func::FuncOp>()) {
    if (!functions.count(fn.getSymName().str()))
      continue;
    fn.walk([&](mlir::Operation *op) {
      if (op->getDialect() && op->getDialect()->getNamespace() == "tfc")
        ++counts[op->getName().getStringRef()];
    });
  }
  std::vector<std::pair<std::string, int64_t>> out;
  for (auto &entry : counts)
    out.emplace_back(entry.getKey().str(), entry.getValue());
  std::sort(out.begin(), out.end());
  return out;
}

/// A bound given below 1 (the tools reject them; library callers may not).
Status checkBoundRequest(const CompileOptions &options) {
  auto check = [](const std::string &flag, int64_t v) -> Status {
    if (v < 0)
      return {flag + " must be at least 1 (got " + std::to_string(v) + ")"};
    return {};
  };
  if (Status s = check("--max-batch", options.maxBatch); !s.ok())
    return s;
  if (Status s = check("--max-seq", options.maxSeq); !s.ok())
    return s;
  for (const auto &[name, v] : options.bounds)
    if (v < 1)
      return {"--bound " + name + " must be at least 1 (got " + std::to_string(v) + ")"};
  return {};
}

/// The lowering's view of the bounds: the request, the model's max positions, the limits the
/// frontend found.
tfc::lower::LowerOptions lowerOptionsFor(const CompileResult &result,
                                         const CompileOptions &options) {
  tfc::lower::LowerOptions lo;
  lo.bounds.maxBatch = options.maxBatch;
  lo.bounds.maxSeq = options.maxSeq;
  lo.bounds.named = options.bounds;
  lo.maxPositions = result.onnxWeights ? 0 : result.model.hparams.maxPositions;
  lo.limits = result.onnxLimits;
  lo.target = options.target;
  lo.precision = options.precision;
  return lo;
}

/// The MLIR name of a precision for tfc-convert-precision.
const char *mlirPrecision(tfc::target::DType precision) {
  switch (precision) {
  case tfc::target::DType::F16: return "f16";
  case tfc::target::DType::BF16: return "bf16";
  default: return "f32";
  }
}

} // namespace

void prepareContext(mlir::MLIRContext &context) {
  // The ops' CPU lowering (CpuKernelLoweringOpInterface models), attached once per context.
  auto add = mlir::RegisteredOperationName::lookup(mlir::tfc::AddOp::getOperationName(), &context);
  if (!add || !add->hasInterface<tfc::lower::CpuKernelLoweringOpInterface>()) {
    mlir::DialectRegistry registry;
    tfc::lower::registerCpuLowering(registry);
    context.appendDialectRegistry(registry);
  }
  context.loadDialect<mlir::tfc::TfcDialect, mlir::func::FuncDialect>();
}

bool isOnnxPath(const std::string &path) {
  return path.size() >= 5 && path.compare(path.size() - 5, 5, ".onnx") == 0;
}

namespace {

Status compileModelImpl(mlir::MLIRContext &context, const std::string &path,
                        const CompileOptions &options, CompileResult &result) {
  prepareContext(context);
  fbs::Model model;
  DiagnosticCollector diagnostics(context);
  result.modelPath = path;
  if (std::string e = tfc::target::checkPrecision(options.target, options.precision); !e.empty())
    return {e};
  if (Status s = checkBoundRequest(options); !s.ok())
    return {path + ": " + s.error};
  if (isOnnxPath(path)) {
    onnxfe::ImportOptions importOptions;
    importOptions.maxBatch = options.maxBatch > 0 ? options.maxBatch : lower::kDefaultMaxBatch;
    importOptions.maxBatchFromModel = options.maxBatch == 0;
    importOptions.maxSeq = options.maxSeq > 0 ? options.maxSeq : lower::kDefaultMaxSeq;
    importOptions.maxSeqFromModel = options.maxSeq == 0;
    importOptions.bounds = options.bounds;
    onnxfe::ImportResult imported;
    if (onnxfe::Status s = onnxfe::importOnnxFile(context, path, importOptions, imported); !s.ok())
      return {s.error};
    result.family = "onnx";
    result.module = std::move(imported.module);
    result.onnxWeights = imported.weights;
    for (const auto &[name, limit] : imported.limits)
      lower::addLimit(result.onnxLimits, name, limit.max, limit.source);
  } else {
    if (hf::isHfCheckpointDir(path)) {
      // A Hugging Face checkpoint: imported to model.fbs bytes, then read like a file.
      std::vector<uint8_t> bytes;
      if (hf::Status s = hf::importCheckpoint(path, bytes); !s.ok())
        return {s.error};
      if (Status s = fbs::loadModelBuffer(std::move(bytes), path + " (imported)", model); !s.ok())
        return s;
    } else if (Status s = fbs::loadModelFile(path, model); !s.ok()) {
      return s;
    }
    result.family = familyName(model.hparams.family);
    result.expected = fbs::countArchitecture(model.hparams);

    std::string error;
    result.module = fbs::buildModule(context, model, error);
    if (!result.module)
      return {error.empty() ? path + ": " + diagnostics.text : error};
  }

  // The weights' bytes for tfc-fold-constants (f32, row-major, checked against their shape).
  mlir::tfc::FoldedWeights::Lookup lookup;
  if (auto store = result.onnxWeights) {
    lookup = [store](const std::string &name, mlir::tfc::FoldedWeights::Data &out) {
      auto it = store->weights.find(name);
      if (it == store->weights.end() || it->second.offset + it->second.size > store->bytes->size())
        return false;
      out.shape = it->second.shape;
      out.bytes = store->bytes->data() + it->second.offset;
      out.owner = store->bytes;
      int64_t n = 1;
      for (int64_t d : out.shape)
        n *= d;
      return n >= 0 && it->second.size == (uint64_t)n * sizeof(float);
    };
  } else {
    auto weights = std::make_shared<std::map<std::string, fbs::Weight>>(model.weights);
    lookup = [weights, buffer = model.buffer](const std::string &name,
                                              mlir::tfc::FoldedWeights::Data &out) {
      auto it = weights->find(name);
      if (it == weights->end() || !it->second.data || it->second.numElements() < 0)
        return false;
      out.shape = it->second.shape;
      out.bytes = reinterpret_cast<const uint8_t *>(it->second.data);
      out.owner = buffer;
      return true;
    };
  }
  result.folded = std::make_shared<mlir::tfc::FoldedWeights>(std::move(lookup));

  mlir::PassManager pm(&context);
  mlir::tfc::PipelineOptions pipeline;
  pipeline.fuse = options.fuse;
  pipeline.weights = result.folded;
  mlir::tfc::buildPipeline(pm, pipeline);
  if (tfc::support::progressWanted())
    pm.addInstrumentation(std::make_unique<ProgressInstrumentation>(countPasses(pm)));
  if (mlir::failed(pm.run(*result.module)))
    return {path + ": the compiler pipeline failed: " + diagnostics.text};
  if (mlir::failed(mlir::verify(*result.module)))
    return {path + ": the IR after the pipeline does not verify: " + diagnostics.text};

  result.fusions = mlir::tfc::countFusedOps(*result.module);
  result.unfused = mlir::tfc::findUnfusedCandidates(*result.module);
  if (result.family == "onnx") {
    // No architecture to count from: what the passes found (fused + unfused candidates).
    result.expectedSource = "candidates";
    result.expected.attention = result.fusions.attention;
    result.expected.layerNorm = result.fusions.layerNorm;
    for (const auto &u : result.unfused) {
      result.expected.attention += u.pattern == "attention";
      result.expected.layerNorm += u.pattern == "layer_norm";
    }
  }
  // The op histogram counts the model's own functions (the derived ones repeat their ops), in
  // the IR the plan is built from: after the packing pass below.
  std::set<std::string> modelFunctions;
  for (auto fn : result.module->getOps<mlir::func::FuncOp>())
    modelFunctions.insert(fn.getSymName().str());
  if (options.generation)
    result.generation = tfc::generation::deriveGeneration(*result.module);
  if (mlir::failed(mlir::verify(*result.module)))
    return {path + ": the IR with the generation functions does not verify: " + diagnostics.text};
  // cuda fp16 / bf16: every function computes in the precision (signatures stay f32). cpu
  // bf16 / int8 are weight-only: the IR stays f32, buildPlan converts the weights.
  if (tfc::target::planPrecisions(options.target, options.precision).activations !=
      tfc::target::DType::F32) {
    mlir::PassManager convert(&context);
    mlir::tfc::ConvertPrecisionOptions precision;
    precision.precision = mlirPrecision(options.precision);
    convert.addPass(mlir::tfc::createConvertPrecision(precision));
    if (mlir::failed(convert.run(*result.module)))
      return {path + ": tfc-convert-precision failed: " + diagnostics.text};
    if (mlir::failed(mlir::verify(*result.module)))
      return {path + ": the IR in " + tfc::target::precisionName(options.precision) +
              " does not verify: " + diagnostics.text};
  }
  // After the KV-cache derivation (which reads the q/k/v slices): attention reads the fused
  // projection's columns in place, where the CPU kernel implements it.
  if (options.fuse && options.target == tfc::target::Target::Cpu) {
    mlir::PassManager pack(&context);
    pack.addPass(mlir::tfc::createPackAttentionInputs());
    pack.addPass(mlir::tfc::createDeadCodeElimination());
    if (mlir::failed(pack.run(*result.module)))
      return {path + ": tfc-pack-attention-inputs failed: " + diagnostics.text};
    if (mlir::failed(mlir::verify(*result.module)))
      return {path + ": the IR with packed attention inputs does not verify: " + diagnostics.text};
  }
  result.opHistogram = histogram(*result.module, modelFunctions);
  result.warnings.insert(result.warnings.end(), diagnostics.warnings.begin(),
                         diagnostics.warnings.end());
  result.model = std::move(model);
  if (auto s = lower::planSymbols(*result.module, lowerOptionsFor(result, options),
                                  result.symbols);
      !s.ok())
    return {path + ": " + s.error};
  return {};
}

Status buildPlanImpl(CompileResult &result, const CompileOptions &options,
                     tfc::planner::Plan &plan) {
  result.plan = {};
  if (!result.module)
    return {result.modelPath + ": nothing compiled"};
  const fbs::Model &model = result.model;
  tfc::lower::WeightLookup weights;
  if (auto store = result.onnxWeights) {
    weights = [store](const std::string &name, tfc::lower::WeightData &out) {
      auto it = store->weights.find(name);
      if (it == store->weights.end())
        return false;
      out.shape = it->second.shape;
      out.bytes.storage = store->bytes;
      out.bytes.offset = it->second.offset;
      out.bytes.size = it->second.size;
      return true;
    };
  } else {
    weights = [&model](const std::string &name, tfc::lower::WeightData &out) {
      auto it = model.weights.find(name);
      if (it == model.weights.end() || !model.buffer || it->second.numElements() < 0)
        return false;
      // The weight's bytes are a range of the model file's buffer: share it, copy nothing.
      auto base = reinterpret_cast<uintptr_t>(model.buffer->data());
      auto data = reinterpret_cast<uintptr_t>(it->second.data);
      uint64_t size = static_cast<uint64_t>(it->second.numElements()) * sizeof(float);
      if (data < base || data - base + size > model.buffer->size())
        return false;
      out.shape = it->second.shape;
      out.bytes.storage = model.buffer;
      out.bytes.offset = data - base;
      out.bytes.size = size;
      return true;
    };
  }
  // What tfc-fold-constants derived (the transposed tied LM head, ...) comes first.
  if (auto folded = result.folded)
    weights = [folded, model = std::move(weights)](const std::string &name,
                                                   tfc::lower::WeightData &out) {
      auto it = folded->derived().find(name);
      if (it == folded->derived().end())
        return model(name, out);
      out.shape = it->second.shape;
      out.bytes.storage = it->second.bytes;
      out.bytes.offset = 0;
      out.bytes.size = it->second.bytes->size();
      return true;
    };
  tfc::lower::LowerOptions lowerOptions = lowerOptionsFor(result, options);
  lowerOptions.warnings = &result.warnings;
  lowerOptions.weightConversion = &result.plan.weights;
  if (auto s = tfc::lower::lowerToPlan(*result.module, weights, lowerOptions, plan); !s.ok())
    return {result.modelPath + ": " + s.error};
  result.symbols = plan.symbols;
  plan.model.vocabulary = model.vocabulary;
  if (const fbs::Tokenizer &t = model.tokenizer; t.kind != fbs::TokenizerKind::None) {
    tfc::planner::TokenizerDesc &d = plan.model.tokenizer;
    d.kind = t.kind == fbs::TokenizerKind::WordPiece ? tfc::plan::TokenizerKind::WordPiece
                                                      : tfc::plan::TokenizerKind::ByteLevelBpe;
    d.lowercase = t.lowercase;
    d.stripAccents = t.stripAccents;
    d.handleChineseChars = t.handleChineseChars;
    d.cleanText = t.cleanText;
    d.continuingSubwordPrefix = t.continuingSubwordPrefix;
    d.maxInputCharsPerWord = t.maxInputCharsPerWord;
    d.unkToken = t.unkToken;
    d.clsToken = t.clsToken;
    d.sepToken = t.sepToken;
    d.padToken = t.padToken;
    d.merges = t.merges;
    d.addPrefixSpace = t.addPrefixSpace;
    d.maxLength = t.maxLength;
    for (const fbs::AddedToken &a : t.addedTokens)
      d.addedTokens.push_back(
          {a.content, a.special, a.singleWord, a.lstrip, a.rstrip, a.normalized});
  }
  tfc::planner::MemoryPlanStats stats;
  for (tfc::planner::Function &fn : plan.functions)
    if (auto s = tfc::planner::planMemory(plan, fn, {}, fn.name == "forward" ? &stats : nullptr);
        !s.ok())
      return {result.modelPath + ": " + s.error};
  result.plan.built = true;
  result.plan.arenaBytes = stats.arenaBytes;
  result.plan.naiveBytes = stats.naiveBytes;
  result.plan.strategy = stats.strategy;
  result.plan.constants = plan.constants.size();
  for (const auto &fn : plan.functions)
    result.plan.kernels += fn.kernels.size();
  result.plan.constantInputKernels = tfc::lower::constantInputKernels(plan);
  return {};
}

} // namespace

// The entry points: a std::bad_alloc anywhere below is an "out of memory" Status.
Status compileModel(mlir::MLIRContext &context, const std::string &path,
                    const CompileOptions &options, CompileResult &result) {
  try {
    return compileModelImpl(context, path, options, result);
  } catch (const std::bad_alloc &) {
    return {path + ": " + outOfMemoryMessage("compiling the model")};
  }
}

Status buildPlan(CompileResult &result, const CompileOptions &options, tfc::planner::Plan &plan) {
  try {
    return buildPlanImpl(result, options, plan);
  } catch (const std::bad_alloc &) {
    return {result.modelPath + ": " + outOfMemoryMessage("building the plan")};
  }
}

Status writePlanFile(const tfc::planner::Plan &plan, const std::string &path,
                     const tfc::planner::PlanFileCheck &check) {
  try {
    tfc::planner::Status s = tfc::planner::writePlanFile(
        plan, path, nullptr, [&check](const std::string &tmp) -> tfc::planner::Status {
          if (Status v = verifyPlanFile(tmp); !v.ok() || !check)
            return {v.error};
          return check(tmp);
        });
    return {s.error};
  } catch (const std::bad_alloc &) {
    return {path + ": " + outOfMemoryMessage("writing the plan")};
  }
}

std::string reportToJson(const CompileResult &r, const CompileOptions &options) {
  llvm::json::Array unfused;
  for (const auto &u : r.unfused)
    unfused.push_back(
        llvm::json::Object{{"pattern", u.pattern}, {"op", u.op}, {"reason", u.reason}});
  llvm::json::Object ops;
  for (const auto &[name, count] : r.opHistogram)
    ops[name] = count;
  llvm::json::Object root{
      {"model", r.modelPath},
      {"family", r.family},
      {"target", tfc::target::targetName(options.target)},
      {"precision", tfc::target::precisionName(options.precision)},
      {"fused", options.fuse},
      {"fusions", llvm::json::Object{{"attention", r.fusions.attention},
                                     {"layer_norm", r.fusions.layerNorm},
                                     {"gelu", r.fusions.gelu},
                                     {"linear", r.fusions.linear},
                                     {"rms_norm", r.fusions.rmsNorm},
                                     {"gated_linear", r.fusions.gatedLinear},

                                     {"rotary", r.fusions.rotary}}},
      {"folded", llvm::json::Object{{"layer_norm", r.fusions.foldedLayerNorm}}},
      {"expected", llvm::json::Object{{"attention", r.expected.attention},
                                      {"layer_norm", r.expected.layerNorm},
                                      {"source", r.expectedSource}}},
      {"unfused", std::move(unfused)},
      {"ops", std::move(ops)},
  };
  llvm::json::Array symbols;
  for (const tfc::planner::Symbol &sym : r.symbols)
    symbols.push_back(
        llvm::json::Object{{"name", sym.name}, {"bound", sym.max}, {"source", sym.source}});
  root["symbols"] = std::move(symbols);
  if (!r.generation.mode.empty()) {
    llvm::json::Object g{{"mode", r.generation.mode}};
    if (!r.generation.reason.empty())
      g["reason"] = r.generation.reason;
    if (!r.generation.tokenInput.empty())
      g["token_input"] = r.generation.tokenInput;
    if (r.generation.mode == "kv-cache") {
      g["self_attention_slots"] = r.generation.selfSlots;
      g["cross_attention_slots"] = r.generation.crossSlots;
      llvm::json::Array keys;
      for (const std::string &k : r.generation.keyMaskInputs)
        keys.push_back(k);
      g["key_mask_inputs"] = std::move(keys);
    }
    root["generation"] = std::move(g);
  }
  if (r.plan.built) {
    root["arena_bytes"] = static_cast<int64_t>(r.plan.arenaBytes);
    root["naive_bytes"] = static_cast<int64_t>(r.plan.naiveBytes);
    root["constant_input_kernels"] = static_cast<int64_t>(r.plan.constantInputKernels.size());
    const tfc::target::PlanPrecisions p = tfc::target::planPrecisions(options.target, options.precision);
    if (p.weights != tfc::target::DType::F32) {
      root["weight_precision"] = tfc::target::precisionName(p.weights);
      root["converted_weights"] =
          llvm::json::Object{{"count", static_cast<int64_t>(r.plan.weights.weights)},
                             {"f32_bytes", static_cast<int64_t>(r.plan.weights.bytesBefore)},
                             {"bytes", static_cast<int64_t>(r.plan.weights.bytesAfter)}};
    }
    if (!r.plan.constantInputKernels.empty()) {
      llvm::json::Array names;
      for (const std::string &n : r.plan.constantInputKernels)
        names.push_back(n);
      root["constant_input_kernel_names"] = std::move(names);
    }
  }
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(root))) << "\n";
  return os.str();
}

std::string printModule(mlir::ModuleOp module) {
  std::string out;
  llvm::raw_string_ostream os(out);
  module.print(os);
  return os.str();
}

Status writeFileAtomically(const std::string &path, const std::string &contents) {
  return {tfc::support::writeFileAtomically(path, contents)};
}

} // namespace tfc::driver
