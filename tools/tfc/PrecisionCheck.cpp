//===- PrecisionCheck.cpp - check a low-precision plan against its fp32 plan, then write it ---===//
//
// See PrecisionCheck.h.
//
//===----------------------------------------------------------------------------------------===//
#include "PrecisionCheck.h"

#include "tfc/plan/PlanWriter.h"
#include "tfc/support/OutputFile.h"

#include <cstdio>
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

/// Builds the fp32 plan of `result` into `file`, leaving `result` as it was.
DriverStatus writeReference(tfc::driver::CompileResult &result,
                            const tfc::driver::CompileOptions &options,
                            ScratchPlan &file) {
  tfc::driver::CompileOptions fp32 = options;
  fp32.precision = tfc::target::DType::F32;
  tfc::driver::PlanSummary summary = result.plan;
  std::vector<tfc::planner::Symbol> symbols = result.symbols;
  const size_t warnings = result.warnings.size();
  tfc::planner::Plan reference;
  DriverStatus s = tfc::driver::buildPlan(result, fp32, reference);
  result.plan = std::move(summary);
  result.symbols = std::move(symbols);
  result.warnings.resize(warnings);
  if (!s.ok())
    return {"the fp32 plan for the accuracy check: " + s.error};
  return file.write(reference, "fp32");
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

tfc::driver::Status writeCheckedPlan(tfc::driver::CompileResult &result,
                                     const tfc::driver::CompileOptions &options,
                                     const tfc::planner::Plan &plan, const std::string &output,
                                     const CheckRequest &request, CheckOutcome &outcome) {
  outcome = {};
  outcome.minCosine = request.minCosine;
  ScratchPlan reference;
  if (tfc::driver::Status s = writeReference(result, options, reference); !s.ok())
    return s;
  auto check = [&](const std::string &candidate) -> tfc::planner::Status {
    if (tfc::tfrun::Status s =
            comparePlans(reference.path(), candidate, request.options, outcome.result);
        !s.ok())
      return {"the accuracy check failed: " + s.message};
    outcome.ran = true;
    const OutputFigures *worst = outcome.result.worst();
    outcome.passed = !worst || worst->figures.cosine >= request.minCosine;
    if (!outcome.passed)
      return {refusal(*worst, request.minCosine)};
    return {};
  };
  if (!writtenDirectly(output))
    return tfc::driver::writePlanFile(plan, output, check);
  ScratchPlan candidate;
  if (tfc::driver::Status s = candidate.write(plan, "candidate"); !s.ok())
    return s;
  if (tfc::planner::Status s = check(candidate.path()); !s.ok())
    return {output + ": " + s.error};
  return tfc::driver::writePlanFile(plan, output);
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
