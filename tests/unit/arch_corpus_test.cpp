//===- arch_corpus_test.cpp - issue 11's architectures, as CI measures them ===//
//
// ArchCorpus.<model>_<Status>: every model of tests/onnx/arch/manifest.json
// (24 transformers architectures plus a sentence-transformers export and two
// static-shape exports, made by tests/onnx/make_arch_corpus.py) is compiled
// in-process at --max-batch 2; the fusion report's attention / layer_norm /
// rms_norm counts must equal the manifest's architecture counts with no
// unfused candidate, and every case must match ONNX Runtime within
// 1e-4 * max(1, max|ref|).
//
// ArchCheckpoint.<name>_<Status>: every checkpoint of tests/hf/arch/refs/
// manifest.json (tests/hf/make_arch_fixtures.py: BF16, F16 and F32 weights, one
// sharded; hf_arch_test checks the same checkpoints' logits and what the import
// describes) is imported and compiled from its directory; its fusion counts are
// checked the same way; decoders must generate through a derived KV cache
// ("kv-cache") 32 greedy tokens equal to transformers' generate, encoders must
// match last_hidden_state.
//
// What is expected of each model is written down, honestly, in
// tests/onnx/arch/expectations.json and tests/hf/arch/expectations.json:
// "pass", or {"blocked": "<part of today's failure>"}. A blocked model's test
// (named ..._Blocked) asserts that the check still fails with that text, so it
// fails, asking for the expectation to be updated, as soon as the model works
// or fails differently. The checks themselves are CorpusHarness.h, shared with
// onnx_corpus_test.
//
//===----------------------------------------------------------------------===//
#include "CorpusHarness.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using namespace tfc::testutil::corpus;
using tfc::minijson::Value;
using tfc::testutil::take;

const std::string kOnnxDir = TFC_SOURCE_DIR "/tests/onnx/arch";
const std::string kHfDir = TFC_SOURCE_DIR "/tests/hf/arch";
const std::string kHfRefs = kHfDir + "/refs";

/// An expectation: pass (blocked empty) or fail with `blocked` in the message.
struct Expectation {
  bool known = false;
  std::string blocked;
};

std::map<std::string, Expectation> loadExpectations(const std::string &file,
                                                    std::string &error) {
  Value root;
  std::map<std::string, Expectation> out;
  if (!readJson(file, root, error))
    return out;
  for (const auto &[name, v] : root["models"].object) {
    Expectation e;
    e.known = (v.kind == Value::String && v.string == "pass") ||
              (v.kind == Value::Object && !v["blocked"].string.empty());
    e.blocked = v.kind == Value::Object ? v["blocked"].string : "";
    out[name] = e;
  }
  return out;
}

/// Joins the non-empty messages with "; ".
void note(std::string &failures, const std::string &message) {
  if (message.empty())
    return;
  failures += (failures.empty() ? "" : "; ") + message;
}

/// "" when the ONNX model `m` compiles, fuses as its architecture says and matches ONNX Runtime;
/// else everything that went wrong (a failed compile stops there).
std::string checkOnnxModel(const Model &m) {
  if (std::string e = missingFile(kOnnxDir, m); !e.empty())
    return e;
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.maxBatch = 2;
  tfc::driver::CompileResult result;
  if (auto s = tfc::driver::compileModel(context, kOnnxDir + "/" + m.path, options, result);
      !s.ok())
    return "compile: " + s.error;
  std::string failures;
  note(failures, checkFusionCounts(m, result, options));
  tfc::planner::Plan plan;
  std::string planPath = tempPath("tfc_arch_" + m.name) + ".plan";
  if (auto s = tfc::driver::buildPlan(result, options, plan); !s.ok()) {
    note(failures, "plan: " + s.error);
    return failures;
  }
  if (auto s = tfc::driver::writePlanFile(plan, planPath); !s.ok()) {
    note(failures, "plan: " + s.error);
    return failures;
  }
  Runner r;
  std::string e = r.open(planPath);
  fs::remove(planPath);
  if (!e.empty()) {
    note(failures, e);
    return failures;
  }
  double worst = 0;
  note(failures, runCases(r.session, kOnnxDir, m, worst));
  std::printf("[ arch     ] %s: %zu case(s), max abs error %.3g\n", m.name.c_str(),
              m.cases.size(), worst);
  return failures;
}

/// A checkpoint of tests/hf/arch/refs/manifest.json.
struct Checkpoint {
  std::string name, dir, kind;  // kind: "decoder" or "encoder"; dir under tests/hf/arch
  Model model;                  // counts; for encoders one case (files under kHfRefs)
  struct Prompt {
    std::string prompt, tokens;
    double minLogitMargin = 0;  // transformers' smallest top-1/top-2 gap on the greedy path
  };
  std::vector<Prompt> prompts;
  int64_t maxNewTokens = 0;
};

std::vector<Checkpoint> loadCheckpoints(std::string *error = nullptr) {
  Value root;
  std::string why;
  if (!readJson(kHfRefs + "/manifest.json", root, why)) {
    if (error)
      *error = why;
    return {};
  }
  std::vector<Checkpoint> out;
  for (const Value &m : root["models"].array) {
    Checkpoint c;
    c.name = c.model.name = m["name"].string;
    c.dir = m["dir"].string;
    c.kind = m["kind"].string;
    for (const std::string &kind : fusedKinds())
      if (m["architecture"][kind].kind == Value::Number)
        c.model.counts[kind] = static_cast<int64_t>(m["architecture"][kind].number);
    if (c.kind == "encoder") {
      Case cs;
      cs.label = "padded batch of 2 ";
      for (const auto &[k, v] : m["inputs"].object)
        cs.inputs.push_back({k, v.string});
      for (const auto &[k, v] : m["outputs"].object)
        cs.outputs.push_back({k, v.string});
      c.model.cases.push_back(std::move(cs));
    }
    for (const Value &p : m["cases"].array)
      c.prompts.push_back({p["prompt"].string, p["tokens"].string,
                           p["min_logit_margin"].number});
    c.maxNewTokens = static_cast<int64_t>(m["max_new_tokens"].number);
    out.push_back(std::move(c));
  }
  return out;
}

/// Greedy generation from each prompt, compared token by token with transformers'.
std::string checkGeneration(tfc_plan *plan, tfc_session *session, const Checkpoint &c) {
  tfc_generation_info info;
  tfc_plan_get_generation_info(plan, &info);
  if (!info.mode)
    return "generate: the plan does not generate";
  if (std::string(info.mode) != "kv-cache")
    return std::string("generate: mode ") + info.mode + " (" + (info.reason ? info.reason : "") +
           "), not kv-cache";
  std::string failures;
  for (size_t k = 0; k < c.prompts.size(); ++k) {
    tfc::support::NpyArray prompt, tokens;
    if (auto s = tfc::support::readNpy(kHfRefs + "/" + c.prompts[k].prompt, prompt); !s.ok())
      return s.error;
    if (auto s = tfc::support::readNpy(kHfRefs + "/" + c.prompts[k].tokens, tokens); !s.ok())
      return s.error;
    if (prompt.dtype != tfc::support::NpyDtype::I64 || tokens.dtype != tfc::support::NpyDtype::I64 ||
        prompt.shape.size() != 2 || prompt.shape[0] != 1)
      return c.prompts[k].prompt + ": not an int64 [1, n] prompt with int64 tokens";
    int64_t offsets[2] = {0, prompt.shape[1]};
    tfc_generate_options o;
    tfc_generate_options_init(&o);
    o.strategy = TFC_GREEDY;
    o.max_new_tokens = c.maxNewTokens;
    o.eos_id = -1;
    tfc_generation *g = nullptr;
    std::string e = take(tfc_session_generate(
        session, reinterpret_cast<const int64_t *>(prompt.data.data()), offsets, 1, nullptr, 0,
        &o, nullptr, nullptr, &g));
    std::unique_ptr<tfc_generation, void (*)(tfc_generation *)> guard(g, tfc_generation_free);
    if (!e.empty())
      return "generate: " + e;
    size_t len = 0;
    const int64_t *got = tfc_generation_tokens(g, 0, &len);
    const auto *want = reinterpret_cast<const int64_t *>(tokens.data.data());
    size_t n = static_cast<size_t>(tokens.numElements()), same = 0, first = n;
    for (size_t i = 0; i < std::min(n, len); ++i) {
      same += got[i] == want[i];
      if (got[i] != want[i] && first == n)
        first = i;
    }
    std::printf("[ arch hf  ] %s prompt %zu: %zu/%zu tokens equal to transformers\n",
                c.name.c_str(), k, same, n);
    if (len != n || same != n)
      note(failures, "generate: prompt " + std::to_string(k) + ": " + std::to_string(same) +
                         " of " + std::to_string(n) + " tokens equal (" +
                         std::to_string(len) + " generated; first difference at " +
                         std::to_string(first) + "; transformers' smallest top-2 logit gap " +
                         std::to_string(c.prompts[k].minLogitMargin) + ")");
  }
  return failures;
}

/// "" when checkpoint `c` imports, compiles, fuses as its architecture says and matches
/// transformers; else everything that went wrong (a failed import/compile stops there).
std::string checkCheckpoint(const Checkpoint &c) {
  mlir::MLIRContext context;
  tfc::driver::CompileOptions options;
  options.maxBatch = 2;
  tfc::driver::CompileResult result;
  if (auto s = tfc::driver::compileModel(context, kHfDir + "/" + c.dir, options, result); !s.ok())
    return "import/compile: " + s.error;
  std::string failures;
  note(failures, checkFusionCounts(c.model, result, options));
  tfc::planner::Plan plan;
  std::string planPath = tempPath("tfc_arch_hf_" + c.name) + ".plan";
  if (auto s = tfc::driver::buildPlan(result, options, plan); !s.ok()) {
    note(failures, "plan: " + s.error);
    return failures;
  }
  if (auto s = tfc::driver::writePlanFile(plan, planPath); !s.ok()) {
    note(failures, "plan: " + s.error);
    return failures;
  }
  Runner r;
  std::string e = r.open(planPath);
  fs::remove(planPath);
  if (!e.empty()) {
    note(failures, e);
    return failures;
  }
  if (c.kind == "decoder") {
    note(failures, checkGeneration(r.plan, r.session, c));
  } else {
    double worst = 0;
    note(failures, runCases(r.session, kHfRefs, c.model, worst));
    std::printf("[ arch hf  ] %s: max abs error %.3g\n", c.name.c_str(), worst);
  }
  return failures;
}

/// The test of one model: `check` must give "" (pass) or a message holding `blocked`.
class ExpectationTest : public ::testing::Test {
public:
  ExpectationTest(std::function<std::string()> check, std::string name, Expectation expect,
                  std::string expectationsFile)
      : check_(std::move(check)), name_(std::move(name)), expect_(std::move(expect)),
        file_(std::move(expectationsFile)) {}

  void TestBody() override {
    ASSERT_TRUE(expect_.known) << name_ << " has no expectation (\"pass\" or {\"blocked\": "
                               << "\"...\"}) in " << file_;
    std::string failure = check_();
    if (expect_.blocked.empty()) {
      EXPECT_EQ(failure, "") << name_;
      return;
    }
    ASSERT_NE(failure, "") << name_ << " now passes: set it to \"pass\" in " << file_;
    EXPECT_NE(failure.find(expect_.blocked), std::string::npos)
        << name_ << " fails differently now; update " << file_ << " (was blocked by \""
        << expect_.blocked << "\"): " << failure;
    std::printf("[ blocked  ] %s: %s\n", name_.c_str(), failure.c_str());
  }

private:
  std::function<std::string()> check_;
  std::string name_;
  Expectation expect_;
  std::string file_;
};

/// Registers suite.<name>_Passes / _Blocked / _NoExpectation for one model.
void registerModel(const char *suite, const std::string &name,
                   const std::map<std::string, Expectation> &expectations,
                   const std::string &file, std::function<std::string()> check) {
  auto it = expectations.find(name);
  Expectation e = it == expectations.end() ? Expectation{} : it->second;
  std::string status = !e.known ? "_NoExpectation" : e.blocked.empty() ? "_Passes" : "_Blocked";
  std::string test = identifier(name) + status;
  ::testing::RegisterTest(suite, test.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                          [=]() -> ::testing::Test * {
                            return new ExpectationTest(check, name, e, file);
                          });
}

/// Every expectation names a model of the manifest, and the manifest loads.
void registerConsistency(const char *suite, const std::string &manifestError,
                         size_t models, size_t minModels,
                         std::map<std::string, Expectation> expectations,
                         std::vector<std::string> names, std::string expectationsError,
                         std::string file) {
  ::testing::RegisterTest(
      suite, "ManifestAndExpectationsAgree", nullptr, nullptr, __FILE__, __LINE__,
      [=]() -> ::testing::Test * {
        struct T : ::testing::Test {
          std::function<void()> body;
          void TestBody() override { body(); }
        };
        auto *t = new T;
        t->body = [=]() {
          EXPECT_EQ(manifestError, "");
          EXPECT_EQ(expectationsError, "");
          EXPECT_GE(models, minModels);
          for (const auto &[name, e] : expectations)
            EXPECT_NE(std::find(names.begin(), names.end(), name), names.end())
                << file << " names " << name << ", which the manifest does not have";
        };
        return t;
      });
}

void registerAll() {
  {
    std::string error, expError;
    std::vector<Model> models = loadManifest(kOnnxDir, &error);
    std::string file = kOnnxDir + "/expectations.json";
    auto expectations = loadExpectations(file, expError);
    std::vector<std::string> names;
    for (const Model &m : models) {
      names.push_back(m.name);
      registerModel("ArchCorpus", m.name, expectations, file,
                    [m]() { return checkOnnxModel(m); });
    }
    registerConsistency("ArchCorpus", error, models.size(), 27, expectations, names, expError,
                        file);
  }
  {
    std::string error, expError;
    std::vector<Checkpoint> checkpoints = loadCheckpoints(&error);
    std::string file = kHfDir + "/expectations.json";
    auto expectations = loadExpectations(file, expError);
    std::vector<std::string> names;
    for (const Checkpoint &c : checkpoints) {
      names.push_back(c.name);
      registerModel("ArchCheckpoint", c.name, expectations, file,
                    [c]() { return checkCheckpoint(c); });
    }
    registerConsistency("ArchCheckpoint", error, checkpoints.size(), 9, expectations, names,
                        expError, file);
  }
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  registerAll();
  return RUN_ALL_TESTS();
}
