//===- CorpusHarness.h - committed models vs committed references -*- C++ -*-===//
//
// The one code path of the corpus tests (onnx_corpus_test: tests/onnx/,
// arch_corpus_test: tests/onnx/arch/ and tests/hf/checkpoints/): read a
// corpus manifest, compile a model (an .onnx file or a Hugging Face checkpoint
// directory) in-process with the driver, write and open the plan through the
// runtime's C API, run the manifest's cases and compare every output with its
// reference at max |out - ref| <= 1e-4 * max(1, max |ref|).
//
// Every step returns "" or the first thing that went wrong, as a message
// (never a gtest assertion), so that a test can require success or, for a
// model that is known not to work yet, require the failure it has today.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TESTS_UNIT_CORPUSHARNESS_H
#define TFC_TESTS_UNIT_CORPUSHARNESS_H

#include "MiniJson.h"
#include "RuntimeTestUtil.h"
#include "../common/NpyTfcDtype.h"
#include "tfc/support/Npy.h"

#include "tfc/driver/Compiler.h"
#include "tfc/tfc_runtime.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace tfc::testutil::corpus {

namespace fs = std::filesystem;

struct Tensor {
  std::string name, file;  // file: relative to the corpus directory
};
struct Case {
  std::string label;
  std::vector<Tensor> inputs, outputs;
};
struct Model {
  std::string name, path;  // path: relative to the corpus directory
  std::vector<Case> cases;
  /// The manifest's architecture counts that a fusion report also has ("attention",
  /// "layer_norm", "rms_norm"); a count the manifest lacks is absent.
  std::map<std::string, int64_t> counts;
};

/// The keys of the manifest's "architecture" that are compared with the report's "fusions".
inline const std::vector<std::string> &fusedKinds() {
  static const std::vector<std::string> kinds = {"attention", "layer_norm", "rms_norm"};
  return kinds;
}

inline bool readJson(const std::string &file, minijson::Value &root, std::string &error) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.empty()) {
    error = "cannot read " + file;
    return false;
  }
  if (!minijson::Parser(text).parse(root, error)) {
    error = file + ": " + error;
    return false;
  }
  return true;
}

/// The models of `dir`/manifest.json (tests/onnx/manifest.json's layout).
inline std::vector<Model> loadManifest(const std::string &dir, std::string *error = nullptr) {
  minijson::Value root;
  std::string why;
  if (!readJson(dir + "/manifest.json", root, why)) {
    if (error)
      *error = why;
    return {};
  }
  std::vector<Model> models;
  for (const auto &m : root["models"].array) {
    Model model{m["name"].string, m["model"].string, {}, {}};
    for (const std::string &kind : fusedKinds())
      if (m["architecture"][kind].kind == minijson::Value::Number)
        model.counts[kind] = static_cast<int64_t>(m["architecture"][kind].number);
    for (const auto &c : m["cases"].array) {
      Case cs;
      for (const auto &[k, v] : c["dims"].object)
        cs.label += k + "=" + std::to_string(static_cast<int64_t>(v.number)) + " ";
      for (const auto &i : m["inputs"].array)
        cs.inputs.push_back({i["name"].string, c["files"][i["name"].string].string});
      for (const auto &o : m["outputs"].array)
        cs.outputs.push_back({o["name"].string, c["files"][o["name"].string].string});
      model.cases.push_back(std::move(cs));
    }
    models.push_back(std::move(model));
  }
  return models;
}

/// "" when every file the cases name exists, else the first missing one.
inline std::string missingFile(const std::string &dir, const Model &m) {
  for (const Case &c : m.cases)
    for (const auto *list : {&c.inputs, &c.outputs})
      for (const Tensor &t : *list)
        if (t.file.empty() || !fs::exists(dir + "/" + t.file))
          return "the corpus is incomplete: " + m.name + " lacks " +
                 (t.file.empty() ? t.name : t.file);
  return "";
}

/// A per-process temporary path for `stem`.
inline std::string tempPath(const std::string &stem) {
  return (fs::temp_directory_path() / (stem + "_" + std::to_string(::getpid()))).string();
}

/// Compiles the model at `modelPath` (an .onnx file, a model.fbs or a checkpoint directory)
/// into `result` and writes its plan to `planPath`; returns the first error.
inline std::string compileToPlan(mlir::MLIRContext &context, const std::string &modelPath,
                                 const driver::CompileOptions &options,
                                 driver::CompileResult &result, const std::string &planPath) {
  if (auto s = driver::compileModel(context, modelPath, options, result); !s.ok())
    return s.error;
  planner::Plan plan;
  if (auto s = driver::buildPlan(result, options, plan); !s.ok())
    return s.error;
  return driver::writePlanFile(plan, planPath).error;
}

/// "" when the fusion report of `result` has, for every count `m` expects, that many fused
/// ops, and no unfused candidate; else what differs (with the first unfused reason).
inline std::string checkFusionCounts(const Model &m, const driver::CompileResult &result,
                                     const driver::CompileOptions &options) {
  // Through the --report JSON, so that a kind the report learns later (rms_norm) is read
  // without this harness knowing the C++ struct behind it.
  minijson::Value report;
  std::string why;
  if (!minijson::Parser(driver::reportToJson(result, options)).parse(report, why))
    return "the fusion report is not JSON: " + why;
  std::ostringstream out;
  for (const auto &[kind, want] : m.counts) {
    const minijson::Value &got = report["fusions"][kind];
    // A norm of constants computed at compile time (DeBERTa's LayerNorm of its relative
    // position embeddings) is one of the architecture's norms too, neither fused nor unfused.
    const minijson::Value &folded = report["folded"][kind];
    int64_t precomputed =
        folded.kind == minijson::Value::Number ? static_cast<int64_t>(folded.number) : 0;
    if (got.kind != minijson::Value::Number) {
      if (want != 0)
        out << "fusion: the report has no '" << kind << "' count (the architecture has "
            << want << "); ";
    } else if (static_cast<int64_t>(got.number) + precomputed != want) {
      out << "fusion: " << kind << " " << static_cast<int64_t>(got.number) << " fused";
      if (precomputed)
        out << " + " << precomputed << " computed at compile time";
      out << ", the architecture has " << want << "; ";
    }
  }
  if (!result.unfused.empty())
    out << "fusion: " << result.unfused.size() << " unfused candidate(s), first "
        << result.unfused.front().pattern << " at " << result.unfused.front().op << ": "
        << result.unfused.front().reason;
  std::string s = out.str();
  while (!s.empty() && (s.back() == ' ' || s.back() == ';'))
    s.pop_back();
  return s;
}

/// Owns a plan and its session.
struct Runner {
  tfc_plan *plan = nullptr;
  tfc_session *session = nullptr;
  ~Runner() {
    if (session)
      tfc_session_release(session);
    if (plan)
      tfc_plan_release(plan);
  }
  std::string open(const std::string &planPath) {
    if (std::string e = take(tfc_plan_open(planPath.c_str(), nullptr, &plan)); !e.empty())
      return "tfc_plan_open: " + e;
    if (std::string e = take(tfc_session_create(plan, nullptr, &session)); !e.empty())
      return "tfc_session_create: " + e;
    return "";
  }
};

/// Largest |got - want| over n floats (NaN anywhere in the difference: infinity).
inline double maxError(const float *got, const float *want, size_t n) {
  double err = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = std::fabs(double(got[i]) - double(want[i]));
    err = std::isnan(d) ? INFINITY : std::max(err, d);
  }
  return err;
}

/// Runs every case of `m` (files under `dir`) through `session`'s "forward" and compares each
/// output with its reference: "" or the first mismatch. `worst` gets the largest error.
inline std::string runCases(tfc_session *session, const std::string &dir, const Model &m,
                            double &worst) {
  using support::NpyArray;
  worst = 0;
  std::string firstFailure;
  for (const Case &c : m.cases) {
    std::vector<NpyArray> arrays(c.inputs.size());
    std::vector<tfc_tensor> views;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      if (auto s = support::readNpy(dir + "/" + c.inputs[i].file, arrays[i]); !s.ok())
        return s.error;
      tfc_dtype dtype;
      if (!tfc::testutil::tfcDtypeOf(arrays[i].dtype, dtype))
        return c.inputs[i].file + ": a dtype the runtime does not take";
      views.push_back({c.inputs[i].name.c_str(), dtype,
                       static_cast<int32_t>(arrays[i].shape.size()), arrays[i].shape.data(),
                       arrays[i].data.data()});
    }
    tfc_outputs *outputs = nullptr;
    std::string e =
        take(tfc_session_run(session, "forward", views.data(), views.size(), &outputs));
    std::unique_ptr<tfc_outputs, void (*)(tfc_outputs *)> guard(outputs, tfc_outputs_free);
    if (!e.empty())
      return "case " + c.label + ": run: " + e;
    for (const Tensor &o : c.outputs) {
      NpyArray ref;
      if (auto s = support::readNpy(dir + "/" + o.file, ref); !s.ok())
        return s.error;
      if (ref.dtype != support::NpyDtype::F32)
        return o.file + ": the reference is not float32";
      tfc_tensor t{};
      bool found = false;
      for (size_t i = 0, n = tfc_outputs_count(outputs); i < n && !found; ++i) {
        if (std::string e = take(tfc_outputs_get(outputs, i, &t)); !e.empty())
          return e;
        found = t.name && o.name == t.name;
      }
      if (!found)
        return "case " + c.label + ": no output " + o.name;
      if (t.dtype != TFC_F32)
        return "case " + c.label + ": output " + o.name + " is not f32";
      if (std::vector<int64_t>(t.dims, t.dims + t.rank) != ref.shape)
        return "case " + c.label + ": output " + o.name + " has the wrong shape";
      size_t n = static_cast<size_t>(ref.numElements());
      const auto *want = reinterpret_cast<const float *>(ref.data.data());
      double allowed = 1e-4 * std::max(1.0, maxAbs(want, n));
      double err = maxError(static_cast<const float *>(t.data), want, n);
      worst = std::max(worst, err);
      if (!(err <= allowed) && firstFailure.empty()) {
        char buf[160];
        std::snprintf(buf, sizeof buf, ": max |out - ref| %.3g > %.3g (1e-4 * max(1, max|ref|))",
                      err, allowed);
        firstFailure = "case " + c.label + ": output " + o.name + buf;
      }
    }
  }
  return firstFailure;
}

/// gtest parameter names: non-alphanumerics become '_'.
inline std::string identifier(std::string s) {
  for (char &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return s;
}

} // namespace tfc::testutil::corpus

#endif // TFC_TESTS_UNIT_CORPUSHARNESS_H
