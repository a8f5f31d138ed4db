//===- Compiler.cpp - model file -> fused tfc IR + fusion report ----------===//
#include "tfc/driver/Compiler.h"

#include "Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tfc::driver {

namespace {

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

/// Collects MLIR diagnostics into a string instead of printing them.
class DiagnosticCollector {
public:
  explicit DiagnosticCollector(mlir::MLIRContext &ctx)
      : handler(&ctx, [this](mlir::Diagnostic &diag) {
          llvm::raw_string_ostream os(text);
          if (!text.empty())
            os << "\n";
          os << diag.getLocation() << ": " << diag;
          return mlir::success();
        }) {}
  std::string text;

private:
  mlir::ScopedDiagnosticHandler handler;
};

std::vector<std::pair<std::string, int64_t>> histogram(mlir::ModuleOp module) {
  llvm::StringMap<int64_t> counts;
  module.walk([&](mlir::Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "tfc")
      ++counts[op->getName().getStringRef()];
  });
  std::vector<std::pair<std::string, int64_t>> out;
  for (auto &entry : counts)
    out.emplace_back(entry.getKey().str(), entry.getValue());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

void prepareContext(mlir::MLIRContext &context) {
  context.loadDialect<mlir::tfc::TfcDialect, mlir::func::FuncDialect>();
}

Status compileModel(mlir::MLIRContext &context, const std::string &path,
                    const CompileOptions &options, CompileResult &result) {
  prepareContext(context);
  fbs::Model model;
  if (Status s = fbs::loadModelFile(path, model); !s.ok())
    return s;
  result.modelPath = path;
  result.family = familyName(model.hparams.family);
  result.expected = fbs::countArchitecture(model.hparams);

  std::string error;
  DiagnosticCollector diagnostics(context);
  result.module = fbs::buildModule(context, model, error);
  if (!result.module)
    return {error.empty() ? path + ": " + diagnostics.text : error};

  mlir::PassManager pm(&context);
  mlir::tfc::PipelineOptions pipeline;
  pipeline.fuse = options.fuse;
  mlir::tfc::buildPipeline(pm, pipeline);
  if (mlir::failed(pm.run(*result.module)))
    return {path + ": the compiler pipeline failed: " + diagnostics.text};
  if (mlir::failed(mlir::verify(*result.module)))
    return {path + ": the IR after the pipeline does not verify: " + diagnostics.text};

  result.fusions = mlir::tfc::countFusedOps(*result.module);
  result.unfused = mlir::tfc::findUnfusedCandidates(*result.module);
  result.opHistogram = histogram(*result.module);
  return {};
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
      {"fused", options.fuse},
      {"fusions", llvm::json::Object{{"attention", r.fusions.attention},
                                     {"layer_norm", r.fusions.layerNorm},
                                     {"gelu", r.fusions.gelu},
                                     {"linear", r.fusions.linear}}},
      {"expected", llvm::json::Object{{"attention", r.expected.attention},
                                      {"layer_norm", r.expected.layerNorm}}},
      {"unfused", std::move(unfused)},
      {"ops", std::move(ops)},
  };
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
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0)
    return {path + ": cannot create a temporary file next to it: " + std::strerror(errno)};
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return {path + ": write failed: " + why};
    }
    done += static_cast<size_t>(n);
  }
  // mkstemp creates 0600; give the file the usual permissions.
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return {path + ": write failed: " + why};
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return {path + ": cannot replace the file: " + why};
  }
  return {};
}

} // namespace tfc::driver
