//===- tfc.cpp - the `tfc` command line: thin over compiler/driver -------===//
//
//   tfc compile MODEL [-o OUT] [--emit=mlir] [--no-fuse] [--report FILE.json]
//               [--max-batch N] [--max-seq N] [--bound NAME=N ...]
//               [--target cpu|cuda] [--precision fp32|fp16|bf16|int8]
//               [--min-cosine X] [--calibrate DIR] [--fallback-fp32] [--no-accuracy-check]
//               [--graph FILE.svg|.dot|.png|.pdf] [--quiet]
//   tfc import HF_DIR -o model.fbs [--quiet]
//
// main() only parses flags, calls the driver library and reports its status.
//
//===----------------------------------------------------------------------===//
#include "Graph.h"
#include "PrecisionCheck.h"
#include "tfc/driver/Compiler.h"
#include "tfc/driver/OutOfMemory.h"
#include "tfc/frontends/HfImporter.h"
#include "tfc/support/OutputFile.h"
#include "tfc/support/Progress.h"
#include "llvm/Support/FormatVariadic.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <optional>
#include <string>
#include <vector>

namespace {

constexpr const char *kUsage =
    "usage: tfc compile MODEL [-o OUT] [--emit=mlir] [--no-fuse] [--report FILE.json]\n"
    "                   [--max-batch N] [--max-seq N] [--bound NAME=N ...]\n"
    "                   [--target cpu|cuda] [--precision fp32|fp16|bf16|int8]\n"
    "                   [--min-cosine X] [--calibrate DIR] [--fallback-fp32]\n"
    "                   [--no-accuracy-check] [--graph FILE.svg] [--quiet]\n"
    "       tfc import HF_DIR -o model.fbs [--quiet]\n"
    "\n"
    "  MODEL            a model description (model.fbs), an ONNX export (model.onnx) or a\n"
    "                   Hugging Face checkpoint directory (bert, distilbert, gpt2)\n"
    "  HF_DIR           a Hugging Face checkpoint directory: config.json, model.safetensors\n"
    "                   and tokenizer files (tokenizer.json, vocab.txt or vocab.json + merges.txt)\n"
    "  -o OUT           write the plan (or with --emit=mlir the IR) to OUT\n"
    "                   (written to a temp file, then renamed)\n"
    "  --emit=mlir      emit the IR after the pipeline as MLIR text (stdout without -o)\n"
    "  --no-fuse        skip the fusion passes (primitive IR; same numbers, slower)\n"
    "  --report FILE    write the fusion report as JSON (with the arena size when a plan is\n"
    "                   built, and every symbolic dim with its bound and where it comes from)\n"
    "  --max-batch N    the plan's bound for batch dims (batch, batch_size, N, ...; default 16)\n"
    "  --max-seq N      the plan's bound for the other (sequence) dims (default: what the\n"
    "                   model allows: its max positions or the tables it slices, else 512)\n"
    "  --bound NAME=N   the plan's bound for the symbolic dim NAME (repeatable; wins over\n"
    "                   --max-batch and --max-seq). A bound above what the model allows is\n"
    "                   an error\n"
    "  --target T       the device the plan is for: cpu (default) or cuda. An op the target\n"
    "                   cannot run is an error naming the op and its location\n"
    "  --precision P    fp32 (default); cuda: fp16 / bf16, the dtype of the plan's activations\n"
    "                   and weights; cpu: bf16 / int8, the dtype of the weights of the linear\n"
    "                   layers (int8: per output column with an f32 scale), activations f32\n"
    "                   (int8: products of 17 rows or more quantize them at run time).\n"
    "                   Weights are converted now; inputs and outputs stay f32\n"
    "  --min-cosine X   a precision other than fp32 is checked before the plan is written: the\n"
    "                   fp32 plan of the same compile and the new plan run on the same inputs,\n"
    "                   and an output whose cosine similarity with the fp32 plan's is below X\n"
    "                   refuses the plan (exit 1, nothing written at -o). Default: 0.999 for\n"
    "                   bf16 and fp16, 0.99 for int8. Figures in --report (\"accuracy\") and on\n"
    "                   stderr. Runs when the runtime in tfc runs the target (cpu)\n"
    "  --calibrate DIR  the check's inputs: DIR/<set>/<input>.npy (one subdirectory per set)\n"
    "                   or DIR/<input>.npy (one set), every input of forward in each set.\n"
    "                   Default: generated inputs (ids across the vocabulary, padded masks)\n"
    "  --fallback-fp32  when the check refuses the plan, keep the layers whose conversion\n"
    "                   costs the most in fp32 (the fewest that make --min-cosine hold) and\n"
    "                   write that plan; the report's \"fallback\" names them\n"
    "  --no-accuracy-check  write the low-precision plan without running the check\n"
    "  --graph FILE     draw the plan: one box per kernel in execution order (what fused into\n"
    "                   it, its weights, its results' arena offsets and sizes), edges along\n"
    "                   the tensors. FILE.dot: the Graphviz text; FILE.svg / .png / .pdf:\n"
    "                   rendered by Graphviz's dot (apt-get install graphviz)\n"
    "  --quiet, --no-progress  no progress line on stderr (drawn only when it is a terminal)\n";

struct Args {
  std::string model, output, report, emit, graph;
  bool fuse = true;
  tfc::target::Target target = tfc::target::Target::Cpu;
  tfc::target::DType precision = tfc::target::DType::F32;
  int64_t maxBatch = 0, maxSeq = 0;  // 0: not given
  std::map<std::string, int64_t> bounds;
  bool accuracyCheck = true;
  bool fallback = false;
  std::optional<double> minCosine;
  std::string calibrate;
};

bool parsePositive(const char *flag, const char *text, int64_t &out, std::string &error) {
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < 1) {
    error = std::string(flag) + " needs a positive integer (got '" + text + "')";
    return false;
  }
  out = v;
  return true;
}

/// What an output may never replace: the model file, or the files of a checkpoint directory.
std::vector<tfc::support::NamedPath> modelInputs(const std::string &model) {
  if (!tfc::hf::isHfCheckpointDir(model))
    return {{model, "the model"}};
  std::vector<tfc::support::NamedPath> inputs;
  for (const std::string &file : tfc::hf::checkpointFiles(model))
    inputs.push_back({file, "the checkpoint's file"});
  return inputs;
}

/// Refuses outputs that are inputs or that name one file twice (before any work is done).
bool checkOutputs(const std::string &model, const std::vector<tfc::support::NamedPath> &outputs) {
  std::vector<tfc::support::NamedPath> named;
  for (const auto &o : outputs)
    if (!o.path.empty())
      named.push_back(o);
  if (std::string e = tfc::support::checkOutputPaths(modelInputs(model), named); !e.empty()) {
    std::fprintf(stderr, "tfc: error: %s\n", e.c_str());
    return false;
  }
  return true;
}

int usageError(const std::string &message) {
  std::fprintf(stderr, "tfc: %s\n\n%s", message.c_str(), kUsage);
  return 2;
}

bool parseCompileArgs(int argc, char **argv, Args &args, std::string &error) {
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char *flag) -> const char * {
      if (i + 1 >= argc) {
        error = std::string(flag) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "-o" || a == "--output") {
      const char *v = value("-o");
      if (!v)
        return false;
      args.output = v;
    } else if (a == "--report") {
      const char *v = value("--report");
      if (!v)
        return false;
      args.report = v;
    } else if (a.rfind("--report=", 0) == 0) {
      args.report = a.substr(9);
    } else if (a.rfind("--emit=", 0) == 0) {
      args.emit = a.substr(7);
      if (args.emit != "mlir") {
        error = "unknown --emit value '" + args.emit + "' (supported: mlir)";
        return false;
      }
    } else if (a == "--max-batch" || a == "--max-seq") {
      const char *v = value(a.c_str());
      if (!v || !parsePositive(a.c_str(), v, a == "--max-batch" ? args.maxBatch : args.maxSeq,
                               error))
        return false;
    } else if (a == "--bound" || a.rfind("--bound=", 0) == 0) {
      const char *v = a == "--bound" ? value("--bound") : argv[i] + 8;
      if (!v)
        return false;
      std::string text = v;
      size_t eq = text.find('=');
      if (eq == std::string::npos || eq == 0) {
        error = "--bound needs NAME=N (got '" + text + "')";
        return false;
      }
      std::string name = text.substr(0, eq);
      int64_t n = 0;
      if (!parsePositive(("--bound " + name).c_str(), text.c_str() + eq + 1, n, error))
        return false;
      if (auto it = args.bounds.find(name); it != args.bounds.end() && it->second != n) {
        error = "--bound " + name + " given twice (" + std::to_string(it->second) + " and " +
                std::to_string(n) + ")";
        return false;
      }
      args.bounds[name] = n;
    } else if (a == "--target" || a.rfind("--target=", 0) == 0) {
      const char *v = a == "--target" ? value("--target") : argv[i] + 9;
      if (!v)
        return false;
      std::optional<tfc::target::Target> t = tfc::target::parseTarget(v);
      if (!t) {
        error = "unknown --target '" + std::string(v) + "' (supported: " +
                tfc::target::targetNames() + ")";
        return false;
      }
      args.target = *t;
    } else if (a == "--precision" || a.rfind("--precision=", 0) == 0) {
      const char *v = a == "--precision" ? value("--precision") : argv[i] + 12;
      if (!v)
        return false;
      std::optional<tfc::target::DType> p = tfc::target::parsePrecision(v);
      if (!p) {
        error = "unknown --precision '" + std::string(v) + "' (supported: " +
                tfc::target::precisionNames() + ")";
        return false;
      }
      args.precision = *p;
    } else if (a == "--min-cosine" || a.rfind("--min-cosine=", 0) == 0) {
      const char *v = a == "--min-cosine" ? value("--min-cosine") : argv[i] + 13;
      if (!v)
        return false;
      char *end = nullptr;
      double x = std::strtod(v, &end);
      if (end == v || *end != '\0' || !(x >= -1.0 && x <= 1.0)) {
        error = "--min-cosine needs a number in [-1, 1] (got '" + std::string(v) + "')";
        return false;
      }
      args.minCosine = x;
    } else if (a == "--calibrate" || a.rfind("--calibrate=", 0) == 0) {
      const char *v = a == "--calibrate" ? value("--calibrate") : argv[i] + 12;
      if (!v)
        return false;
      args.calibrate = v;
    } else if (a == "--graph" || a.rfind("--graph=", 0) == 0) {
      const char *v = a == "--graph" ? value("--graph") : argv[i] + 8;
      if (!v)
        return false;
      args.graph = v;
      if (std::string e = tfc::tools::checkGraphPath(args.graph); !e.empty()) {
        error = e;
        return false;
      }
    } else if (a == "--quiet" || a == "--no-progress") {
      tfc::support::setProgressEnabled(false);
    } else if (a == "--no-accuracy-check") {
      args.accuracyCheck = false;
    } else if (a == "--fallback-fp32") {
      args.fallback = true;
    } else if (a == "--no-fuse") {
      args.fuse = false;
    } else if (!a.empty() && a[0] == '-') {
      error = "unknown option '" + a + "'";
      return false;
    } else if (args.model.empty()) {
      args.model = a;
    } else {
      error = "more than one model given ('" + args.model + "' and '" + a + "')";
      return false;
    }
  }
  if (args.model.empty()) {
    error = "no model given";
    return false;
  }
  if (!args.graph.empty() && !args.emit.empty()) {
    error = "--graph draws the plan: it cannot go with --emit=" + args.emit;
    return false;
  }
  const bool checkFlags = args.minCosine || !args.calibrate.empty() || args.fallback;
  const char *checkFlag = args.minCosine ? "--min-cosine"
                          : args.fallback ? "--fallback-fp32"
                                          : "--calibrate";
  if (checkFlags && args.precision == tfc::target::DType::F32) {
    error = std::string(checkFlag) +
            " checks a plan of another precision against fp32: give --precision too";
    return false;
  }
  if (checkFlags && !args.accuracyCheck) {
    error = std::string(checkFlag) + " and --no-accuracy-check contradict each other";
    return false;
  }
  return true;
}

/// The report with the accuracy check's figures (when the check was asked for).
std::string reportWithAccuracy(const tfc::driver::CompileResult &result,
                               const tfc::driver::CompileOptions &options,
                               const tfc::accuracy::CheckOutcome *check) {
  std::string text = tfc::driver::reportToJson(result, options);
  if (!check)
    return text;
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) {
    llvm::consumeError(parsed.takeError());
    return text;
  }
  parsed->getAsObject()->insert({"accuracy", tfc::accuracy::accuracyJson(*check)});
  std::string out;
  llvm::raw_string_ostream os(out);
  os << llvm::formatv("{0:2}", *parsed) << "\n";
  return os.str();
}

/// The accuracy check's line on stderr.
void printAccuracy(const Args &args, const tfc::accuracy::CheckOutcome &check) {
  if (!check.ran) {
    if (!check.skipped.empty())
      std::fprintf(stderr, "tfc: accuracy check skipped: %s\n", check.skipped.c_str());
    return;
  }
  const tfc::accuracy::Result &r = check.result;
  if (check.fallbackTried) {
    std::string kept;
    for (const std::string &l : check.keptLayers)
      kept += (kept.empty() ? "" : ", ") + l;
    if (kept.empty())
      std::fprintf(stderr, "tfc: accuracy fallback: cosine %.6f as compiled; keeping layers in "
                   "fp32 did not reach --min-cosine %g\n", check.cosineBefore, check.minCosine);
    else
      std::fprintf(stderr, "tfc: accuracy fallback: cosine %.6f as compiled; %zu of %zu "
                   "layer(s) kept in fp32: %s\n", check.cosineBefore, check.keptLayers.size(),
                   check.layerCosines.size(), kept.c_str());
  }
  std::fprintf(stderr, "tfc: accuracy of %s vs fp32 (%s inputs, %zu set(s), %.1f s): %s; "
               "--min-cosine %g: %s\n", tfc::target::precisionName(args.precision),
               args.calibrate.empty() ? "generated" : "calibration", r.sets.size(), r.seconds,
               tfc::accuracy::summarize(r).c_str(), check.minCosine,
               check.passed ? "passed" : "REFUSED");
}

int runCompile(const Args &args) {
  if (!checkOutputs(args.model,
                    {{args.output, "-o"}, {args.report, "--report"}, {args.graph, "--graph"}}))
    return 1;
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.fuse = args.fuse;
  options.maxBatch = args.maxBatch;
  options.maxSeq = args.maxSeq;
  options.bounds = args.bounds;
  options.target = args.target;
  options.precision = args.precision;
  tfc::driver::CompileResult result;
  if (auto s = tfc::driver::compileModel(context, args.model, options, result); !s.ok()) {
    std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
    return 1;
  }
  // Without --emit, -o names a plan file; --graph draws the plan, written or not.
  bool writePlan = args.emit.empty() && !args.output.empty();
  tfc::planner::Plan plan;
  if (writePlan || !args.graph.empty()) {
    tfc::support::ProgressLine progress;
    progress.update("compiling: lowering to a plan, planning memory", true);
    if (auto s = tfc::driver::buildPlan(result, options, plan); !s.ok()) {
      progress.clear();
      std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
      return 1;
    }
  }
  // A plan of another precision is run against the fp32 plan before it is written.
  const bool checking =
      writePlan && args.precision != tfc::target::DType::F32 && args.accuracyCheck;
  tfc::accuracy::CheckOutcome check;
  tfc::driver::Status planWritten;
  if (checking) {
    check.skipped = tfc::accuracy::whyNotCheckable(options);
    if (check.skipped.empty()) {
      tfc::accuracy::CheckRequest request;
      request.minCosine =
          args.minCosine.value_or(tfc::accuracy::defaultMinCosine(args.precision));
      request.options.calibrateDir = args.calibrate;
      request.fallback = args.fallback;
      planWritten = tfc::accuracy::writeCheckedPlan(result, options, plan, args.output, request,
                                                    check);
    } else if (!args.calibrate.empty() || args.minCosine || args.fallback) {
      std::fprintf(stderr, "tfc: error: --min-cosine / --calibrate / --fallback-fp32: the "
                   "accuracy check cannot run: %s\n", check.skipped.c_str());
      return 1;
    }
  }
  if (!args.report.empty()) {
    auto s = tfc::driver::writeFileAtomically(
        args.report, reportWithAccuracy(result, options, checking ? &check : nullptr));
    if (!s.ok()) {
      std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
      return 1;
    }
  }
  if (!planWritten.ok()) {
    if (checking)
      printAccuracy(args, check);
    std::fprintf(stderr, "tfc: error: %s\n", planWritten.error.c_str());
    return 1;
  }
  if (args.emit == "mlir") {
    std::string ir = tfc::driver::printModule(*result.module);
    if (args.output.empty()) {
      std::fwrite(ir.data(), 1, ir.size(), stdout);
    } else if (auto s = tfc::driver::writeFileAtomically(args.output, ir); !s.ok()) {
      std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
      return 1;
    }
  } else if (writePlan && !check.ran) {
    tfc::support::ProgressLine progress;
    progress.update("compiling: writing and verifying " + args.output, true);
    if (auto s = tfc::driver::writePlanFile(plan, args.output); !s.ok()) {
      progress.clear();
      std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
      return 1;
    }
  }
  if (!args.graph.empty()) {
    if (std::string e = tfc::tools::writeGraph(plan, args.graph); !e.empty()) {
      std::fprintf(stderr, "tfc: error: %s\n", e.c_str());
      return 1;
    }
    size_t kernels = 0;
    for (const auto &f : plan.functions)
      kernels += f.kernels.size();
    std::fprintf(stderr, "tfc: wrote %s: %zu function(s), %zu kernels\n", args.graph.c_str(),
                 plan.functions.size(), kernels);
  }
  // A one-line summary on stderr so that users see what fired.
  std::fflush(stdout);
  const auto &f = result.fusions;
  std::fprintf(stderr,
               "tfc: %s (%s): fused attention %lld/%lld, layer_norm %lld/%lld, gelu %lld, "
               "linear %lld, rms_norm %lld, gated_linear %lld; %zu unfused candidate(s)\n",
               args.model.c_str(), result.family.c_str(), (long long)f.attention,
               (long long)result.expected.attention, (long long)f.layerNorm,
               (long long)result.expected.layerNorm, (long long)f.gelu, (long long)f.linear,
               (long long)f.rmsNorm, (long long)f.gatedLinear, result.unfused.size());
  for (const std::string &w : result.warnings)
    std::fprintf(stderr, "tfc: warning: %s\n", w.c_str());
  if (f.foldedLayerNorm)
    std::fprintf(stderr, "tfc: %lld layer_norm(s) of constants computed at compile time\n",
                 (long long)f.foldedLayerNorm);
  const bool weightOnly = args.precision != tfc::target::DType::F32 &&
                          tfc::target::capabilities(args.target).weightOnly;
  if (writePlan && weightOnly)
    std::fprintf(stderr, "tfc: %zu linear weight(s) in %s: %.1f MB -> %.1f MB\n",
                 result.plan.weights.weights, tfc::target::precisionName(args.precision),
                 double(result.plan.weights.bytesBefore) / 1e6,
                 double(result.plan.weights.bytesAfter) / 1e6);
  if (writePlan)
    std::fprintf(stderr,
                 "tfc: wrote %s (%s, %s%s): %zu kernels, %zu constants, arena %llu bytes (%llu "
                 "without reuse)\n",
                 args.output.c_str(), tfc::target::targetName(args.target),
                 tfc::target::precisionName(args.precision), weightOnly ? " weights" : "",
                 result.plan.kernels,
                 result.plan.constants, (unsigned long long)result.plan.arenaBytes,
                 (unsigned long long)result.plan.naiveBytes);
  if (checking)
    printAccuracy(args, check);
  if (size_t n = result.plan.constantInputKernels.size())
    std::fprintf(stderr, "tfc: warning: %zu kernel(s) with only constant inputs run at every "
                 "call (first: %s)\n", n, result.plan.constantInputKernels.front().c_str());
  return 0;
}

int runImport(int argc, char **argv) {
  std::string dir, output;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-o" || a == "--output") {
      if (i + 1 >= argc)
        return usageError("-o needs a value");
      output = argv[++i];
    } else if (a == "--quiet" || a == "--no-progress") {
      tfc::support::setProgressEnabled(false);
    } else if (!a.empty() && a[0] == '-') {
      return usageError("unknown option '" + a + "'");
    } else if (dir.empty()) {
      dir = a;
    } else {
      return usageError("more than one checkpoint given ('" + dir + "' and '" + a + "')");
    }
  }
  if (dir.empty())
    return usageError("no checkpoint directory given");
  if (output.empty())
    return usageError("tfc import needs -o model.fbs");
  if (!checkOutputs(dir, {{output, "-o"}}))
    return 1;
  tfc::hf::Status s;
  std::vector<std::string> notes;
  try {
    s = tfc::hf::importCheckpointToFile(dir, output, &notes);
  } catch (const std::bad_alloc &) {
    s = {dir + ": " + tfc::driver::outOfMemoryMessage("importing the checkpoint")};
  }
  if (!s.ok()) {
    std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
    return 1;
  }
  for (const std::string &note : notes)
    std::fprintf(stderr, "tfc: note: %s\n", note.c_str());
  std::fprintf(stderr, "tfc: wrote %s\n", output.c_str());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  // Ctrl-C while a plan is written leaves no temporary file behind.
  tfc::support::installTempFileCleanup();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "import"))
    return runImport(argc, argv);
  if (std::strcmp(argv[1], "compile") != 0)
    return usageError(std::string("unknown command '") + argv[1] + "'");
  Args args;
  std::string error;
  if (!parseCompileArgs(argc, argv, args, error))
    return usageError(error);
  // The driver returns "out of memory" as a Status; this catches what is left (the report,
  // the printed IR).
  try {
    return runCompile(args);
  } catch (const std::bad_alloc &) {
    std::fprintf(stderr, "tfc: error: %s: %s\n", args.model.c_str(),
                 tfc::driver::outOfMemoryMessage("compiling the model").c_str());
    return 1;
  }
}
