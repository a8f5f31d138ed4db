//===- e2e_reference_test.cpp - compiled plans vs the PyTorch reference ----===//
//
// For every model of tests/e2e/refs/manifest.json: `tfc compile` it twice (fused,
// and --no-fuse) to temporary plans with bounds covering the cases
// (--max-batch 3, the default --max-seq = max_positions), load both through the
// runtime's C API, run every case and compare every output with the reference
// the independent PyTorch implementation computed, and the two plans' outputs
// with each other. Tolerance: max |out - ref| <= 1e-4 * max(1, max |ref|).
// The max error per model is printed and recorded as test properties.
//
//===----------------------------------------------------------------------===//
#include "MiniJson.h"
#include "RuntimeTestUtil.h"
#include "../common/NpyTfcDtype.h"
#include "tfc/support/Npy.h"

#include "tfc/tfc_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using tfc::support::NpyArray;
using tfc::support::NpyDtype;

namespace {

namespace fs = std::filesystem;
const std::string kRefsDir = TFC_SOURCE_DIR "/tests/e2e/refs";
const std::string kTfc = TFC_BINARY_DIR "/bin/tfc";

// ---- the manifest ---------------------------------------------------------

struct RefTensor {
  std::string name, file; // file: relative to kRefsDir
};
struct RefCase {
  std::string name;
  std::vector<RefTensor> inputs, outputs;
};
struct RefModel {
  std::string name, model; // model: relative to the repository root
  std::vector<RefCase> cases;
};

std::vector<RefTensor> tensors(const tfc::minijson::Value &map) {
  std::vector<RefTensor> out;
  for (const auto &[name, spec] : map.object)
    out.push_back({name, spec["file"].string});
  return out;
}

/// The models of the manifest; empty (and the reason in `error`) when unreadable.
std::vector<RefModel> loadManifest(std::string *error = nullptr) {
  std::ifstream in(kRefsDir + "/manifest.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tfc::minijson::Value root;
  std::string why;
  if (!in.good() && text.empty())
    why = "cannot read " + kRefsDir + "/manifest.json";
  else if (!tfc::minijson::Parser(text).parse(root, why))
    why = kRefsDir + "/manifest.json: " + why;
  if (!why.empty()) {
    if (error)
      *error = why;
    return {};
  }
  std::vector<RefModel> models;
  for (const auto &m : root["models"].array) {
    RefModel model{m["name"].string, m["model"].string, {}};
    for (const auto &c : m["cases"].array)
      model.cases.push_back({c["name"].string, tensors(c["inputs"]), tensors(c["outputs"])});
    models.push_back(std::move(model));
  }
  return models;
}

// ---- runtime helpers -----------------------------------------------------------

using tfc::testutil::maxAbs;
using tfc::testutil::take;
using tfc::testutil::maxAbsDiff;

struct PlanDeleter {
  void operator()(tfc_plan *p) const { tfc_plan_release(p); }
};
struct SessionDeleter {
  void operator()(tfc_session *s) const { tfc_session_release(s); }
};
struct OutputsDeleter {
  void operator()(tfc_outputs *o) const { tfc_outputs_free(o); }
};
using OutputsPtr = std::unique_ptr<tfc_outputs, OutputsDeleter>;

/// A compiled plan and a session on it.
struct Loaded {
  std::unique_ptr<tfc_plan, PlanDeleter> plan;
  std::unique_ptr<tfc_session, SessionDeleter> session;
};

std::string compilePlan(const RefModel &m, const std::string &plan, bool fuse,
                        const std::string &log) {
  std::string cmd = "'" + kTfc + "' compile '" + TFC_SOURCE_DIR "/" + m.model + "' -o '" + plan +
                    "' --max-batch 3" + (fuse ? "" : " --no-fuse") + " > '" + log + "' 2>&1";
  int rc = std::system(cmd.c_str());
  if (rc == 0 && fs::exists(plan))
    return {};
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return "`" + cmd + "` failed (status " + std::to_string(rc) + "):\n" + out;
}

std::string load(const std::string &path, Loaded &out) {
  tfc_plan *plan = nullptr;
  if (std::string e = take(tfc_plan_open(path.c_str(), nullptr, &plan)); !e.empty())
    return e;
  out.plan.reset(plan);
  tfc_session *session = nullptr;
  if (std::string e = take(tfc_session_create(plan, nullptr, &session)); !e.empty())
    return e;
  out.session.reset(session);
  return {};
}

std::string run(Loaded &l, const std::vector<RefTensor> &names,
                const std::vector<NpyArray> &arrays, OutputsPtr &out) {
  std::vector<tfc_tensor> views;
  for (size_t i = 0; i < arrays.size(); ++i) {
    tfc_dtype dtype;
    if (!tfc::testutil::tfcDtypeOf(arrays[i].dtype, dtype))
      return names[i].file + ": no plan dtype for '" + tfc::support::npyDescr(arrays[i].dtype) + "'";
    views.push_back({names[i].name.c_str(), dtype, static_cast<int32_t>(arrays[i].shape.size()),
                     arrays[i].shape.data(), arrays[i].data.data()});
  }
  tfc_outputs *raw = nullptr;
  std::string e =
      take(tfc_session_run(l.session.get(), "forward", views.data(), views.size(), &raw));
  out.reset(raw);
  return e;
}

/// Output `name` of a run, or an error.
std::string findOutput(const tfc_outputs *outputs, const std::string &name, tfc_tensor &t) {
  for (size_t i = 0, n = tfc_outputs_count(outputs); i < n; ++i) {
    if (std::string e = take(tfc_outputs_get(outputs, i, &t)); !e.empty())
      return e;
    if (t.name && name == t.name)
      return {};
  }
  return "no output named '" + name + "'";
}



/// The kernel kinds of a plan's "forward", through the profile API (one entry per kernel).
std::vector<std::string> kernelKinds(const Loaded &l) {
  std::vector<std::string> kinds;
  for (size_t i = 0, n = tfc_session_profile_count(l.session.get(), "forward"); i < n; ++i) {
    tfc_kernel_profile p;
    if (take(tfc_session_profile_get(l.session.get(), "forward", i, &p)).empty() && p.kind)
      kinds.push_back(p.kind);
  }
  return kinds;
}

bool has(const std::vector<std::string> &v, const char *s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

class TempDir {
public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "tfc_e2e_XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty())
      fs::remove_all(path_, ec);
  }
  const std::string &path() const { return path_; }

private:
  std::string path_;
};

std::string testName(const ::testing::TestParamInfo<RefModel> &info) {
  std::string s = info.param.name;
  for (char &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return s;
}

} // namespace

TEST(E2EManifest, IsReadable) {
  std::string error;
  std::vector<RefModel> models = loadManifest(&error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(models.empty());
  for (const RefModel &m : models) {
    EXPECT_TRUE(fs::exists(std::string(TFC_SOURCE_DIR "/") + m.model)) << m.model;
    EXPECT_FALSE(m.cases.empty()) << m.name;
  }
}

class E2EReference : public ::testing::TestWithParam<RefModel> {};

TEST_P(E2EReference, FusedAndUnfusedPlansMatchPyTorch) {
  const RefModel &m = GetParam();
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string fusedPath = dir.path() + "/fused.plan",
                    unfusedPath = dir.path() + "/unfused.plan";
  ASSERT_EQ(compilePlan(m, fusedPath, true, dir.path() + "/fused.log"), "");
  ASSERT_EQ(compilePlan(m, unfusedPath, false, dir.path() + "/unfused.log"), "");
  Loaded fused, unfused;
  ASSERT_EQ(load(fusedPath, fused), "") << fusedPath;
  ASSERT_EQ(load(unfusedPath, unfused), "") << unfusedPath;

  // The two plans really differ: only the fused one has fused kernels.
  const std::vector<std::string> fusedKinds = kernelKinds(fused);
  const std::vector<std::string> unfusedKinds = kernelKinds(unfused);
  EXPECT_TRUE(has(fusedKinds, "Attention")) << "the fused plan has no Attention kernel";
  EXPECT_FALSE(has(unfusedKinds, "Attention")) << "the --no-fuse plan has an Attention kernel";
  EXPECT_FALSE(has(unfusedKinds, "LayerNorm")) << "the --no-fuse plan has a LayerNorm kernel";

  double worstFused = 0, worstUnfused = 0, worstBetween = 0; // error / allowed
  double maxErrFused = 0, maxErrUnfused = 0, maxErrBetween = 0;
  for (const RefCase &c : m.cases) {
    SCOPED_TRACE(m.name + "/" + c.name);
    std::vector<NpyArray> inputs(c.inputs.size());
    for (size_t i = 0; i < c.inputs.size(); ++i) {
      tfc::support::Status s = tfc::support::readNpy(kRefsDir + "/" + c.inputs[i].file, inputs[i]);
      ASSERT_TRUE(s.ok()) << s.error;
    }
    OutputsPtr outFused, outUnfused;
    ASSERT_EQ(run(fused, c.inputs, inputs, outFused), "");
    ASSERT_EQ(run(unfused, c.inputs, inputs, outUnfused), "");
    EXPECT_EQ(tfc_outputs_count(outFused.get()), c.outputs.size());
    EXPECT_EQ(tfc_outputs_count(outUnfused.get()), c.outputs.size());

    for (const RefTensor &r : c.outputs) {
      SCOPED_TRACE("output " + r.name);
      NpyArray ref;
      tfc::support::Status s = tfc::support::readNpy(kRefsDir + "/" + r.file, ref);
      ASSERT_TRUE(s.ok()) << s.error;
      ASSERT_EQ(ref.dtype, NpyDtype::F32);
      tfc_tensor a, b;
      ASSERT_EQ(findOutput(outFused.get(), r.name, a), "");
      ASSERT_EQ(findOutput(outUnfused.get(), r.name, b), "");
      for (const tfc_tensor *t : {&a, &b}) {
        ASSERT_EQ(t->dtype, TFC_F32);
        ASSERT_EQ(std::vector<int64_t>(t->dims, t->dims + t->rank), ref.shape);
      }
      const size_t n = static_cast<size_t>(ref.numElements());
      const auto *refData = reinterpret_cast<const float *>(ref.data.data());
      const auto *fa = static_cast<const float *>(a.data);
      const auto *fb = static_cast<const float *>(b.data);
      const double allowed = 1e-4 * std::max(1.0, maxAbs(refData, n));
      const double eFused = maxAbsDiff(fa, refData, n);
      const double eUnfused = maxAbsDiff(fb, refData, n);
      const double eBetween = maxAbsDiff(fa, fb, n);
      EXPECT_LE(eFused, allowed) << "fused plan vs reference";
      EXPECT_LE(eUnfused, allowed) << "--no-fuse plan vs reference";
      EXPECT_LE(eBetween, allowed) << "fused vs --no-fuse plan";
      maxErrFused = std::max(maxErrFused, eFused);
      maxErrUnfused = std::max(maxErrUnfused, eUnfused);
      maxErrBetween = std::max(maxErrBetween, eBetween);
      worstFused = std::max(worstFused, eFused / allowed);
      worstUnfused = std::max(worstUnfused, eUnfused / allowed);
      worstBetween = std::max(worstBetween, eBetween / allowed);
    }
  }
  std::printf("[ e2e      ] %s: %zu case(s); max abs error: fused %.3g, --no-fuse %.3g, "
              "fused vs --no-fuse %.3g (worst error/tolerance %.3f, %.3f, %.3f)\n",
              m.name.c_str(), m.cases.size(), maxErrFused, maxErrUnfused, maxErrBetween,
              worstFused, worstUnfused, worstBetween);
  RecordProperty("max_abs_error_fused", std::to_string(maxErrFused));
  RecordProperty("max_abs_error_unfused", std::to_string(maxErrUnfused));
  RecordProperty("max_abs_error_fused_vs_unfused", std::to_string(maxErrBetween));
}

INSTANTIATE_TEST_SUITE_P(Models, E2EReference, ::testing::ValuesIn(loadManifest()), testName);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(E2EReference);
