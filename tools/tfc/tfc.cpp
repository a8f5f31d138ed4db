//===- tfc.cpp - the `tfc` command line: thin over compiler/driver -------===//
//
//   tfc compile MODEL [-o OUT] [--emit=mlir] [--no-fuse] [--report FILE.json]
//
// main() only parses flags, calls the driver library and reports its status.
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

constexpr const char *kUsage =
    "usage: tfc compile MODEL [-o OUT] [--emit=mlir] [--no-fuse] [--report FILE.json]\n"
    "\n"
    "  MODEL            a model description (model.fbs)\n"
    "  -o OUT           write the output to OUT (written to a temp file, then renamed)\n"
    "  --emit=mlir      emit the IR after the pipeline as MLIR text (stdout without -o)\n"
    "  --no-fuse        skip the fusion passes (primitive IR; same numbers, slower)\n"
    "  --report FILE    write the fusion report as JSON\n";

struct Args {
  std::string model, output, report, emit;
  bool fuse = true;
};

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
  return true;
}

int runCompile(const Args &args) {
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.fuse = args.fuse;
  tfc::driver::CompileResult result;
  if (auto s = tfc::driver::compileModel(context, args.model, options, result); !s.ok()) {
    std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
    return 1;
  }
  if (!args.report.empty()) {
    auto s = tfc::driver::writeFileAtomically(args.report,
                                              tfc::driver::reportToJson(result, options));
    if (!s.ok()) {
      std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
      return 1;
    }
  }
  if (args.emit == "mlir") {
    std::string ir = tfc::driver::printModule(*result.module);
    if (args.output.empty()) {
      std::fwrite(ir.data(), 1, ir.size(), stdout);
    } else if (auto s = tfc::driver::writeFileAtomically(args.output, ir); !s.ok()) {
      std::fprintf(stderr, "tfc: error: %s\n", s.error.c_str());
      return 1;
    }
  } else if (!args.output.empty()) {
    std::fprintf(stderr,
                 "tfc: error: writing a plan is not implemented yet (the CPU runtime and plan "
                 "format come next); use --emit=mlir to write the fused IR\n");
    return 1;
  }
  // A one-line summary on stderr so that users see what fired.
  std::fflush(stdout);
  const auto &f = result.fusions;
  std::fprintf(stderr,
               "tfc: %s (%s): fused attention %lld/%lld, layer_norm %lld/%lld, gelu %lld, "
               "linear %lld; %zu unfused candidate(s)\n",
               args.model.c_str(), result.family.c_str(), (long long)f.attention,
               (long long)result.expected.attention, (long long)f.layerNorm,
               (long long)result.expected.layerNorm, (long long)f.gelu, (long long)f.linear,
               result.unfused.size());
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "compile") != 0)
    return usageError(std::string("unknown command '") + argv[1] + "'");
  Args args;
  std::string error;
  if (!parseCompileArgs(argc, argv, args, error))
    return usageError(error);
  return runCompile(args);
}
