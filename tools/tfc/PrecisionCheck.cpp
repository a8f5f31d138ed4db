//===- PrecisionCheck.cpp - check a low-precision plan against its fp32 plan, then write it ---===//
//
// See PrecisionCheck.h.
//
//===----------------------------------------------------------------------------------------===//
#include "PrecisionCheck.h"

#include "tfc/lower/cpu/WeightPrecision.h"
#include "tfc/plan/PlanWriter.h"
#include "tfc/support/OutputFile.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::accuracy {
namespace {

using DriverStatus = tfc::driver::Status;
namespace fs = std::filesystem;

/// A plan written to a temporary file that is never renamed into place: removed when this goes
/// away (and by the Ctrl-C cleanup, support/OutputFile.h).
class ScratchPlan {
public:
  DriverStatus write(const tfc::planner::Plan &plan, const char *what) {
    std::error_code ec;
    fs::path dir = fs::temp_directory_path(ec);
    if (ec)
      dir = "/tmp";
    const std::string path =
        (dir / ("tfc-check-" + std::to_string(getpid()) + "-" + what + ".plan")).string();
    if (std::string e = file_.open(path); !e.empty())
      return {"the " + std::string(what) + " plan for the accuracy check: " + e};
    Sink sink(file_);
    if (tfc::planner::Status s = tfc::planner::writePlan(plan, sink); !s.ok())
      return {"the " + std::string(what) + " plan for the accuracy check: " +
              (sink.error.empty() ? s.error : sink.error)};
    return {};
  }
  const std::string &path() const { return file_.tempPath(); }

private:
  class Sink : public tfc::planner::ByteSink {
  public:
    explicit Sink(tfc::support::OutputFile &f) : file(f) {}
    bool write(const void *data, size_t size) override {
      error = file.write(data, size);
      return error.empty();
    }
    tfc::support::OutputFile &file;
  };
  tfc::support::OutputFile file_;
};

/// A character device or FIFO (written in place, no temporary file to check).
bool writtenDirectly(const std::string &path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode));
}

/// Builds the fp32 plan of `result` into `reference` and `file`, leaving `result` as it was.
DriverStatus writeReference(tfc::driver::CompileResult &result,
                            const tfc::driver::CompileOptions &options,
                            tfc::planner::Plan &reference, ScratchPlan &file) {
  tfc::driver::CompileOptions fp32 = options;
  fp32.precision = tfc::target::DType::F32;
  tfc::driver::PlanSummary summary = result.plan;
  std::vector<tfc::planner::Symbol> symbols = result.symbols;
  const size_t warnings = result.warnings.size();
  DriverStatus s = tfc::driver::buildPlan(result, fp32, reference);
  result.plan = std::move(summary);
  result.symbols = std::move(symbols);
  result.warnings.resize(warnings);
  if (!s.ok())
    return {"the fp32 plan for the accuracy check: " + s.error};
  return file.write(reference, "fp32");
}

/// The lowest cosine of a comparison (1 when there is no output).
double worstCosine(const Result &r) {
  const OutputFigures *w = r.worst();
  return w ? w->figures.cosine : 1.0;
}

/// The group ("layer") of a weight: its name up to the last component that is a number
/// ("encoder.layers.3.ffn.fc1.weight" -> "encoder.layers.3"), else the name itself.
std::string layerOf(const std::string &name) {
  size_t end = std::string::npos;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    size_t stop = dot == std::string::npos ? name.size() : dot;
    if (stop > start && std::all_of(name.begin() + long(start), name.begin() + long(stop),
                                    [](char c) { return c >= '0' && c <= '9'; }))
      end = stop;
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return end == std::string::npos ? name : name.substr(0, end);
}

/// The fp32 plan with its Linear / GatedLinear weights converted, but for those in `keep`.
DriverStatus convertedPlan(const tfc::planner::Plan &fp32, tfc::planner::fb::DType dtype,
                           const std::set<std::string> &keep, tfc::planner::Plan &out,
                           tfc::lower::WeightConversion &stats) {
  out = fp32;
  if (tfc::planner::Status s =
          tfc::lower::convertWeightPrecision(out, dtype, nullptr, &stats, &keep);
      !s.ok())
    return {s.error};
  return {};
}

/// Layer -> the names of its weights that the precision converts.
std::map<std::string, std::set<std::string>> convertedLayers(const tfc::planner::Plan &fp32,
                                                            tfc::planner::fb::DType dtype) {
  tfc::planner::Plan all;
  tfc::lower::WeightConversion stats;
  std::map<std::string, std::set<std::string>> layers;
  if (!convertedPlan(fp32, dtype, {}, all, stats).ok())
    return layers;
  for (const tfc::planner::Constant &c : all.constants)
    if (c.dtype == dtype) {
      std::string name = c.name.substr(0, c.name.find('@')); // "<name>@i8" when f32 stays too
      layers[layerOf(name)].insert(name);
    }
  return layers;
}

std::string refusal(const OutputFigures &w, double threshold) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "has cosine %.6f against the fp32 plan (input set %s), below "
                "--min-cosine %g", w.figures.cosine, w.worstSet.c_str(), threshold);
  return "the accuracy check refuses the plan, nothing was written: output '" + w.output + "' " +
         buf;
}

} // namespace

double defaultMinCosine(tfc::target::DType precision) {
  switch (precision) {
  case tfc::target::DType::BF16:
  case tfc::target::DType::F16: return 0.999;
  case tfc::target::DType::I8: return 0.99;
  default: return 1.0;
  }
}

std::string whyNotCheckable(const tfc::driver::CompileOptions &options) {
  if (!tfc::driver::runtimeRunsTarget(options.target))
    return std::string("the runtime in this tfc does not run ") +
           tfc::target::targetName(options.target) + " plans";
  std::string why(256, '\0');
  if (!tfc_device_check(tfc::target::targetName(options.target), why.data(), why.size()))
    return std::string("no ") + tfc::target::targetName(options.target) + " device here: " +
           why.c_str();
  return "";
}

namespace {

/// Runs the comparison of `candidate` against the fp32 plan's file; fills `outcome`.
tfc::planner::Status checkFile(const std::string &reference, const std::string &candidate,
                               const CheckRequest &request, CheckOutcome &outcome) {
  if (tfc::tfrun::Status s =
          comparePlans(reference, candidate, request.options, outcome.result);
      !s.ok())
    return {"the accuracy check failed: " + s.error};
  outcome.ran = true;
  const OutputFigures *worst = outcome.result.worst();
  outcome.passed = !worst || worst->figures.cosine >= request.minCosine;
  if (!outcome.passed)
    return {refusal(*worst, request.minCosine)};
  return {};
}

/// The worst cosine of `plan` against the fp32 plan (written to a scratch file first).
tfc::driver::Status measure(const tfc::planner::Plan &plan, const std::string &reference,
                            const CheckRequest &request, double &cosine) {
  ScratchPlan file;
  if (tfc::driver::Status s = file.write(plan, "fallback"); !s.ok())
    return s;
  Result r;
  if (tfc::tfrun::Status s = comparePlans(reference, file.path(), request.options, r); !s.ok())
    return {"the accuracy check's fallback failed: " + s.error};
  cosine = worstCosine(r);
  return {};
}

/// --fallback-fp32: ranks the layers by the cosine of the fp32 plan with that layer alone
/// converted, then keeps the costliest layers in f32, the fewest that make the threshold hold
/// (doubling, then bisection, over the ranking). `plan` becomes that plan.
tfc::driver::Status fallBack(const tfc::planner::Plan &fp32, const std::string &reference,
                             tfc::planner::fb::DType dtype, const CheckRequest &request,
                             tfc::planner::Plan &plan, tfc::lower::WeightConversion &stats,
                             CheckOutcome &outcome) {
  std::map<std::string, std::set<std::string>> layers = convertedLayers(fp32, dtype);
  if (layers.empty())
    return {};
  std::set<std::string> all;
  for (const auto &[layer, names] : layers)
    all.insert(names.begin(), names.end());
  std::vector<std::pair<double, std::string>> ranking; // (cosine with the layer alone, layer)
  for (const auto &[layer, names] : layers) {
    std::set<std::string> keep;
    std::set_difference(all.begin(), all.end(), names.begin(), names.end(),
                        std::inserter(keep, keep.end()));
    tfc::planner::Plan alone;
    tfc::lower::WeightConversion st;
    double c = 1.0;
    if (tfc::driver::Status s = convertedPlan(fp32, dtype, keep, alone, st); !s.ok())
      return s;
    if (tfc::driver::Status s = measure(alone, reference, request, c); !s.ok())
      return s;
    ranking.push_back({c, layer});
  }
  std::sort(ranking.begin(), ranking.end());
  for (const auto &[c, layer] : ranking)
    outcome.layerCosines.push_back({layer, c});
  // keptFor(k): the k costliest layers in f32. Find the least k that passes.
  auto keptFor = [&](size_t k) {
    std::set<std::string> keep;
    for (size_t i = 0; i < k && i < ranking.size(); ++i)
      keep.insert(layers[ranking[i].second].begin(), layers[ranking[i].second].end());
    return keep;
  };
  auto passes = [&](size_t k, bool &ok) -> tfc::driver::Status {
    tfc::planner::Plan p;
    tfc::lower::WeightConversion st;
    double c = 1.0;
    if (tfc::driver::Status s = convertedPlan(fp32, dtype, keptFor(k), p, st); !s.ok())
      return s;
    if (tfc::driver::Status s = measure(p, reference, request, c); !s.ok())
      return s;
    ok = c >= request.minCosine;
    return {};
  };
  size_t lo = 0, hi = 1; // lo fails (all converted failed); find a passing hi
  for (bool ok = false;; hi = std::min(ranking.size(), hi * 2)) {
    if (tfc::driver::Status s = passes(hi, ok); !s.ok())
      return s;
    if (ok)
      break;
    lo = hi;
    if (hi == ranking.size())
      return {}; // nothing passes, even with every layer in f32: refused as it is
  }
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    bool ok = false;
    if (tfc::driver::Status s = passes(mid, ok); !s.ok())
      return s;
    (ok ? hi : lo) = mid;
  }
  for (size_t i = 0; i < hi; ++i)
    outcome.keptLayers.push_back(ranking[i].second);
  std::set<std::string> keep = keptFor(hi);
  outcome.keptWeights.assign(keep.begin(), keep.end());
  return convertedPlan(fp32, dtype, keep, plan, stats);
}

} // namespace

tfc::driver::Status writeCheckedPlan(tfc::driver::CompileResult &result,
                                     const tfc::driver::CompileOptions &options,
                                     const tfc::planner::Plan &plan, const std::string &output,
                                     const CheckRequest &request, CheckOutcome &outcome) {
  outcome = {};
  outcome.minCosine = request.minCosine;
  ScratchPlan reference;
  tfc::planner::Plan fp32;
  if (tfc::driver::Status s = writeReference(result, options, fp32, reference); !s.ok())
    return s;
  auto check = [&](const std::string &candidate) {
    return checkFile(reference.path(), candidate, request, outcome);
  };
  const tfc::planner::Plan *final = &plan;
  tfc::planner::Plan fallback;
  if (request.fallback) {
    // The plan as compiled first; when it is refused, the layers to keep in f32.
    ScratchPlan first;
    if (tfc::driver::Status s = first.write(plan, "candidate"); !s.ok())
      return s;
    if (tfc::planner::Status s = check(first.path()); !s.ok() && !outcome.ran)
      return {output + ": " + s.error};
    if (!outcome.passed) {
      outcome.fallbackTried = true;
      outcome.cosineBefore = worstCosine(outcome.result);
      tfc::lower::WeightConversion stats;
      if (tfc::driver::Status s = fallBack(fp32, reference.path(), plan.weightPrecision, request,
                                           fallback, stats, outcome);
          !s.ok())
        return {output + ": " + s.error};
      if (!outcome.keptLayers.empty()) {
        final = &fallback;
        result.plan.weights = stats;
        result.plan.constants = fallback.constants.size();
      }
    }
  }
  if (!writtenDirectly(output))
    return tfc::driver::writePlanFile(*final, output, check);
  ScratchPlan candidate;
  if (tfc::driver::Status s = candidate.write(*final, "candidate"); !s.ok())
    return s;
  if (tfc::planner::Status s = check(candidate.path()); !s.ok())
    return {output + ": " + s.error};
  return tfc::driver::writePlanFile(*final, output);
}

llvm::json::Object accuracyJson(const CheckOutcome &outcome) {
  if (!outcome.ran)
    return llvm::json::Object{{"skipped", outcome.skipped}};
  const Result &r = outcome.result;
  llvm::json::Array sets, outputs;
  for (const std::string &s : r.sets)
    sets.push_back(s);
  for (const OutputFigures &o : r.outputs)
    outputs.push_back(llvm::json::Object{
        {"function", o.function},
        {"output", o.output},
        {"elements", o.figures.elements},
        {"cosine", o.figures.cosine},
        {"max_abs_error", o.figures.maxAbsError},
        {"max_rel_error", o.figures.maxRelError},
        {"non_finite_mismatches", o.figures.nonFiniteMismatches},
        {"worst_set", o.worstSet}});
  llvm::json::Object root{{"reference", "fp32 plan"},
                          {"inputs", r.inputs},
                          {"sets", std::move(sets)},
                          {"min_cosine", outcome.minCosine},
                          {"passed", outcome.passed},
                          {"seconds", r.seconds},
                          {"outputs", std::move(outputs)}};
  if (outcome.fallbackTried) {
    llvm::json::Array layers, weights, ranking;
    for (const std::string &l : outcome.keptLayers)
      layers.push_back(l);
    for (const std::string &w : outcome.keptWeights)
      weights.push_back(w);
    for (const auto &[layer, cosine] : outcome.layerCosines)
      ranking.push_back(llvm::json::Object{{"layer", layer}, {"cosine_alone", cosine}});
    root["fallback"] = llvm::json::Object{{"cosine_before", outcome.cosineBefore},
                                          {"kept_fp32_layers", std::move(layers)},
                                          {"kept_fp32_weights", std::move(weights)},
                                          {"layers", std::move(ranking)}};
  }
  const GenerationFigures &g = r.generation;
  if (g.ran)
    root["generation"] = llvm::json::Object{
        {"prompts", g.prompts},
        {"new_tokens", g.newTokens},
        {"first_divergence",
         g.firstDivergence < 0 ? llvm::json::Value(nullptr) : llvm::json::Value(g.firstDivergence)},
        {"diverged_prompts", g.divergedPrompts}};
  else if (!g.skipped.empty())
    root["generation"] = llvm::json::Object{{"skipped", g.skipped}};
  return root;
}

} // namespace tfc::accuracy
