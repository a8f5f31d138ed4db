//===- accuracy_check_test.cpp - tfc compile's accuracy check of bf16 / int8 plans ------------===//
//
// `tfc compile --precision bf16|int8` runs the plan it is about to write against the fp32 plan of
// the same compile (tools/tfc/PrecisionCheck.h). Through the `tfc` binary and the runtime's C API:
//   * the figures come from running both plans: with --calibrate inputs written here, this test
//     runs an fp32 plan and the written bf16 plan itself on the same sets and finds the cosine
//     the report gives (and >= 0.999);
//   * an impossible --min-cosine refuses the plan: exit 1, a message naming the output and the
//     measured cosine, the file already at -o untouched, no temporary file left;
//   * --calibrate files that are malformed, named for no input, or missing are errors naming
//     the file; nothing is written;
//   * the report's "accuracy" object (fields, int8's default threshold 0.99, a generating plan's
//     greedy tokens), the one-line summary on stderr, --no-accuracy-check and the usage errors;
//   * --fallback-fp32: a threshold the int8 plan misses is met by keeping its costliest layers
//     in f32 (the report names them, the converted-weight count drops, the plan runs).
//
//===----------------------------------------------------------------------------------------===//
#include "MiniJson.h"
#include "RuntimeTestUtil.h"
#include "tfc/support/Npy.h"

#include "tfc/tfc_runtime.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

namespace fs = std::filesystem;
using tfc::testutil::take;

const std::string kSource = TFC_SOURCE_DIR;
const std::string kTfc = TFC_BINARY_DIR "/bin/tfc";
const std::string kEncoder = kSource + "/examples/models/encoder.fbs";
const std::string kDecoder = kSource + "/examples/models/decoder.fbs";

std::string readFile(const std::string &path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

struct ToolRun {
  int code = -1;
  std::string err;
};

/// Runs `tfc compile ARGS`; stderr and stdout in ToolRun::err.
ToolRun tfc(const std::string &args, const fs::path &dir) {
  const std::string log = (dir / "tfc.log").string();
  std::string cmd = kTfc + " compile " + args + " > " + log + " 2>&1";
  int status = std::system(cmd.c_str());
  ToolRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = readFile(log);
  return r;
}

tfc::minijson::Value readJson(const std::string &path) {
  tfc::minijson::Value v;
  std::string why;
  EXPECT_TRUE(tfc::minijson::Parser(readFile(path)).parse(v, why)) << path << ": " << why;
  return v;
}

class AccuracyCheck : public ::testing::Test {
protected:
  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("tfc_accuracy_test_" + std::to_string(getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override { fs::remove_all(dir); }
  std::string path(const std::string &name) const { return (dir / name).string(); }
  /// Files in dir other than those named: temporary files left behind.
  std::vector<std::string> strays(std::initializer_list<std::string> known) const {
    std::vector<std::string> out;
    for (const auto &e : fs::directory_iterator(dir)) {
      std::string n = e.path().filename().string();
      if (std::find(known.begin(), known.end(), n) == known.end())
        out.push_back(n);
    }
    return out;
  }
  fs::path dir;
};

// ---- inputs written here, run here --------------------------------------------------------------

struct Tensor {
  std::string name;
  std::vector<int64_t> dims, values;
};
using Set = std::vector<Tensor>;

/// A set for forward of `plan`: batch x seq, ids spread over their table, the last row padded.
Set makeSet(tfc_plan *plan, int64_t batch, int64_t seq, int64_t salt) {
  size_t ni = 0, no = 0;
  EXPECT_EQ(take(tfc_plan_num_ports(plan, "forward", &ni, &no)), "");
  Set set;
  for (size_t i = 0; i < ni; ++i) {
    tfc_port_info p;
    tfc_input_values v;
    EXPECT_EQ(take(tfc_plan_input_info(plan, "forward", i, &p)), "");
    EXPECT_EQ(take(tfc_plan_input_values(plan, "forward", i, &v)), "");
    EXPECT_EQ(p.dtype, TFC_I64) << p.name;
    EXPECT_EQ(p.rank, 2) << p.name;
    Tensor t{p.name, {batch, seq}, std::vector<int64_t>(size_t(batch * seq))};
    for (int64_t r = 0; r < batch; ++r)
      for (int64_t s = 0; s < seq; ++s) {
        int64_t &x = t.values[size_t(r * seq + s)];
        if (v.kind == TFC_INPUT_MASK)
          x = r == batch - 1 && s >= seq - seq / 4 ? 0 : 1;
        else if (v.kind == TFC_INPUT_IDS)
          x = (r * 7919 + s * 104729 + salt * 31) % v.id_bound;
      }
    set.push_back(std::move(t));
  }
  return set;
}

void writeSet(const Set &set, const fs::path &dir) {
  fs::create_directories(dir);
  for (const Tensor &t : set) {
    auto s = tfc::support::writeNpyAtomically((dir / (t.name + ".npy")).string(),
                                            tfc::support::NpyDtype::I64, t.dims, t.values.data());
    ASSERT_TRUE(s.ok()) << s.error;
  }
}

/// forward's first output on `set`.
std::vector<float> runForward(const std::string &planPath, const Set &set) {
  tfc_plan *plan = nullptr;
  EXPECT_EQ(take(tfc_plan_open(planPath.c_str(), nullptr, &plan)), "") << planPath;
  tfc_session *session = nullptr;
  EXPECT_EQ(take(tfc_session_create(plan, nullptr, &session)), "");
  std::vector<tfc_tensor> in;
  for (const Tensor &t : set)
    in.push_back({t.name.c_str(), TFC_I64, 2, t.dims.data(), t.values.data()});
  tfc_outputs *out = nullptr;
  EXPECT_EQ(take(tfc_session_run(session, "forward", in.data(), in.size(), &out)), "");
  std::vector<float> y;
  tfc_tensor t;
  if (out && take(tfc_outputs_get(out, 0, &t)).empty()) {
    int64_t n = 1;
    for (int i = 0; i < t.rank; ++i)
      n *= t.dims[i];
    const float *p = static_cast<const float *>(t.data);
    y.assign(p, p + n);
  }
  tfc_outputs_free(out);
  tfc_session_release(session);
  tfc_plan_release(plan);
  return y;
}

double cosine(const std::vector<float> &a, const std::vector<float> &b) {
  double dot = 0, na = 0, nb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double(a[i]) * b[i];
    na += double(a[i]) * a[i];
    nb += double(b[i]) * b[i];
  }
  return dot / std::sqrt(na * nb);
}

TEST_F(AccuracyCheck, TheReportedCosineIsThatOfBothPlansOnTheCalibrationInputs) {
  const std::string fp32 = path("enc.fp32.plan"), bf16 = path("enc.bf16.plan");
  ASSERT_EQ(tfc(kEncoder + " -o " + fp32, dir).code, 0);
  tfc_plan *plan = nullptr;
  ASSERT_EQ(take(tfc_plan_open(fp32.c_str(), nullptr, &plan)), "");
  std::vector<Set> sets = {makeSet(plan, 3, 24, 1), makeSet(plan, 1, 40, 2)};
  tfc_plan_release(plan);
  writeSet(sets[0], dir / "calib" / "a");
  writeSet(sets[1], dir / "calib" / "b");

  ToolRun r = tfc(kEncoder + " --precision bf16 -o " + bf16 + " --calibrate " + path("calib") +
                  " --report " + path("bf16.json"),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  tfc::minijson::Value acc = readJson(path("bf16.json"))["accuracy"];
  ASSERT_EQ(acc.kind, tfc::minijson::Value::Object) << r.err;
  EXPECT_EQ(acc["reference"].string, "fp32 plan");
  EXPECT_EQ(acc["inputs"].string, "calibrate:" + path("calib"));
  ASSERT_EQ(acc["sets"].array.size(), 2u);
  EXPECT_EQ(acc["sets"].array[0].string, (dir / "calib" / "a").string());
  EXPECT_EQ(acc["min_cosine"].number, 0.999); // bf16's default
  EXPECT_TRUE(acc["passed"].boolean);
  ASSERT_EQ(acc["outputs"].array.size(), 1u);
  const tfc::minijson::Value &o = acc["outputs"].array[0];
  EXPECT_EQ(o["function"].string, "forward");
  EXPECT_EQ(o["output"].string, "last_hidden_state");
  EXPECT_EQ(o["non_finite_mismatches"].number, 0);

  // The same figures from the two plans run here.
  double lowest = 1, maxAbs = 0;
  std::string worst;
  int64_t elements = 0;
  for (size_t i = 0; i < sets.size(); ++i) {
    std::vector<float> a = runForward(bf16, sets[i]), ref = runForward(fp32, sets[i]);
    ASSERT_EQ(a.size(), ref.size());
    ASSERT_FALSE(a.empty());
    elements += int64_t(a.size());
    double c = cosine(a, ref);
    if (c < lowest) {
      lowest = c;
      worst = acc["sets"].array[i].string;
    }
    for (size_t j = 0; j < a.size(); ++j)
      maxAbs = std::max(maxAbs, std::fabs(double(a[j]) - ref[j]));
  }
  EXPECT_LT(lowest, 1.0); // bf16 weights do change the numbers
  EXPECT_GE(lowest, 0.999);
  EXPECT_NEAR(o["cosine"].number, lowest, 1e-9);
  EXPECT_NEAR(o["max_abs_error"].number, maxAbs, 1e-6 * (1 + maxAbs));
  EXPECT_GT(o["max_rel_error"].number, 0);
  EXPECT_EQ(o["elements"].number, double(elements));
  EXPECT_EQ(o["worst_set"].string, worst);
  // The line on stderr.
  EXPECT_NE(r.err.find("tfc: accuracy of bf16 vs fp32 (calibration inputs, 2 set(s)"),
            std::string::npos) << r.err;
  EXPECT_NE(r.err.find("last_hidden_state cosine 0.99"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--min-cosine 0.999: passed"), std::string::npos) << r.err;
}

TEST_F(AccuracyCheck, AnImpossibleThresholdRefusesAndLeavesTheOutputAsItWas) {
  const std::string out = path("enc.plan");
  {
    std::ofstream f(out);
    f << "the user's previous file";
  }
  ToolRun r = tfc(kEncoder + " --precision bf16 -o " + out + " --min-cosine 1.0 --report " +
                  path("r.json"),
              dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("tfc: error: " + out + ": the accuracy check refuses the plan, nothing "
                       "was written: output 'last_hidden_state' has cosine 0.99"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("below --min-cosine 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--min-cosine 1: REFUSED"), std::string::npos) << r.err;
  EXPECT_EQ(readFile(out), "the user's previous file");
  EXPECT_EQ(strays({"enc.plan", "r.json", "tfc.log"}), std::vector<std::string>{});
  tfc::minijson::Value acc = readJson(path("r.json"))["accuracy"];
  EXPECT_FALSE(acc["passed"].boolean);
  EXPECT_EQ(acc["min_cosine"].number, 1.0);
  EXPECT_LT(acc["outputs"].array[0]["cosine"].number, 1.0);

  // A new path is not created either.
  r = tfc(kEncoder + " --precision int8 -o " + path("new.plan") + " --min-cosine 1", dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_FALSE(fs::exists(path("new.plan")));
}

TEST_F(AccuracyCheck, CalibrationFilesThatAreWrongAreNamed) {
  const std::string fp32 = path("enc.fp32.plan");
  ASSERT_EQ(tfc(kEncoder + " -o " + fp32, dir).code, 0);
  tfc_plan *plan = nullptr;
  ASSERT_EQ(take(tfc_plan_open(fp32.c_str(), nullptr, &plan)), "");
  Set set = makeSet(plan, 2, 8, 3);
  tfc_plan_release(plan);
  const fs::path calib = dir / "calib";
  writeSet(set, calib / "good");
  writeSet(set, calib / "bad");
  const std::string bad = (calib / "bad" / (set[0].name + ".npy")).string();
  {
    std::ofstream f(bad, std::ios::binary);
    f << "\x93NUMPY\x01\x00garbage";
  }
  const std::string out = path("enc.bf16.plan");
  ToolRun r = tfc(kEncoder + " --precision bf16 -o " + out + " --calibrate " + calib.string(), dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("tfc: error: " + out + ": the accuracy check failed: " + bad + ": "),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  // A file for no input.
  fs::remove_all(calib / "bad");
  writeSet(set, calib / "bad");
  fs::copy_file(calib / "bad" / (set[0].name + ".npy"), calib / "bad" / "tokens.npy");
  r = tfc(kEncoder + " --precision bf16 -o " + out + " --calibrate " + calib.string(), dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find((calib / "bad" / "tokens.npy").string() +
                       ": no input of forward is named 'tokens'"),
            std::string::npos) << r.err;

  // A missing input, a dtype of the wrong kind.
  fs::remove(calib / "bad" / "tokens.npy");
  fs::remove(calib / "bad" / (set[1].name + ".npy"));
  r = tfc(kEncoder + " --precision bf16 -o " + out + " --calibrate " + calib.string(), dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("no file for input '" + set[1].name + "' (expected " +
                       (calib / "bad" / (set[1].name + ".npy")).string() + ")"),
            std::string::npos) << r.err;
  std::vector<float> floats(16, 1.f);
  ASSERT_TRUE(tfc::support::writeNpyAtomically((calib / "bad" / (set[1].name + ".npy")).string(),
                                             tfc::support::NpyDtype::F32, {2, 8}, floats.data())
                  .ok());
  r = tfc(kEncoder + " --precision bf16 -o " + out + " --calibrate " + calib.string(), dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find((calib / "bad" / (set[1].name + ".npy")).string() +
                       ": holds f32 [2, 8]; the plan's input '" + set[1].name + "' is i64"),
            std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));

  // Not a directory.
  r = tfc(kEncoder + " --precision bf16 -o " + out + " --calibrate " + path("nowhere"), dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("--calibrate " + path("nowhere") + ": not a directory"), std::string::npos)
      << r.err;
}

TEST_F(AccuracyCheck, Int8AndAGeneratingPlanReportTheirFigures) {
  ToolRun r = tfc(kEncoder + " --precision int8 -o " + path("e8.plan") + " --report " +
                  path("e8.json"),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  tfc::minijson::Value acc = readJson(path("e8.json"))["accuracy"];
  EXPECT_EQ(acc["min_cosine"].number, 0.99);
  EXPECT_EQ(acc["inputs"].string, "generated");
  ASSERT_EQ(acc["sets"].array.size(), 2u);
  EXPECT_EQ(acc["sets"].array[0].string, "generated-batch");
  EXPECT_EQ(acc["sets"].array[1].string, "generated-short");
  EXPECT_TRUE(acc["passed"].boolean);
  const double c = acc["outputs"].array[0]["cosine"].number;
  EXPECT_GE(c, 0.99);
  EXPECT_LT(c, 1.0);
  EXPECT_TRUE(acc["generation"].isNull()); // an encoder does not generate

  r = tfc(kDecoder + " --precision bf16 --max-batch 2 -o " + path("d.plan") + " --report " +
              path("d.json"),
          dir);
  ASSERT_EQ(r.code, 0) << r.err;
  acc = readJson(path("d.json"))["accuracy"];
  EXPECT_TRUE(acc["passed"].boolean);
  EXPECT_EQ(acc["outputs"].array[0]["output"].string, "logits");
  const tfc::minijson::Value &g = acc["generation"];
  ASSERT_EQ(g.kind, tfc::minijson::Value::Object) << r.err;
  EXPECT_EQ(g["prompts"].number, 2);
  EXPECT_EQ(g["new_tokens"].number, 8);
  // Either no divergence (null) or the step where it happened.
  EXPECT_TRUE(g["first_divergence"].isNull() ||
              (g["first_divergence"].number >= 0 && g["first_divergence"].number < 8));
  EXPECT_NE(r.err.find("; greedy tokens (2 prompt(s) x 8): "), std::string::npos) << r.err;

  // An encoder-decoder generates from its source (generated, one row per prompt).
  r = tfc(kSource + "/examples/models/encdec.fbs --precision int8 --max-batch 2 -o " +
              path("ed.plan") + " --report " + path("ed.json"),
          dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const tfc::minijson::Value &eg = readJson(path("ed.json"))["accuracy"]["generation"];
  ASSERT_EQ(eg.kind, tfc::minijson::Value::Object) << r.err;
  EXPECT_TRUE(eg["skipped"].isNull()) << eg["skipped"].string;
  EXPECT_EQ(eg["prompts"].number, 2);
}

TEST_F(AccuracyCheck, FallbackKeepsTheCostliestLayersInFp32) {
  ToolRun r = tfc(kEncoder + " --precision int8 -o " + path("all.plan") + " --report " +
                      path("all.json"),
                  dir);
  ASSERT_EQ(r.code, 0) << r.err;
  tfc::minijson::Value all = readJson(path("all.json"));
  const double asCompiled = all["accuracy"]["outputs"].array[0]["cosine"].number;
  const double converted = all["converted_weights"]["count"].number;
  ASSERT_LT(asCompiled, 1.0);
  ASSERT_GT(converted, 1);
  // A threshold between the plan's cosine and 1: refused without the fallback.
  const double threshold = 1.0 - (1.0 - asCompiled) / 4;
  char t[32];
  std::snprintf(t, sizeof t, "%.12f", threshold);
  r = tfc(kEncoder + " --precision int8 -o " + path("fb.plan") + " --min-cosine " + t, dir);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_FALSE(fs::exists(path("fb.plan")));

  r = tfc(kEncoder + " --precision int8 -o " + path("fb.plan") + " --min-cosine " + t +
              " --fallback-fp32 --report " + path("fb.json"),
          dir);
  ASSERT_EQ(r.code, 0) << r.err;
  tfc::minijson::Value rep = readJson(path("fb.json"));
  const tfc::minijson::Value &acc = rep["accuracy"];
  EXPECT_TRUE(acc["passed"].boolean);
  EXPECT_GE(acc["outputs"].array[0]["cosine"].number, threshold);
  const tfc::minijson::Value &fb = acc["fallback"];
  ASSERT_EQ(fb.kind, tfc::minijson::Value::Object) << r.err;
  EXPECT_NEAR(fb["cosine_before"].number, asCompiled, 1e-12);
  ASSERT_FALSE(fb["kept_fp32_layers"].array.empty());
  ASSERT_FALSE(fb["kept_fp32_weights"].array.empty());
  // Every layer was measured alone; the kept ones are the costliest (lowest cosine alone).
  const auto &layers = fb["layers"].array;
  ASSERT_GE(layers.size(), fb["kept_fp32_layers"].array.size());
  for (size_t i = 0; i < fb["kept_fp32_layers"].array.size(); ++i)
    EXPECT_EQ(fb["kept_fp32_layers"].array[i].string, layers[i]["layer"].string);
  for (size_t i = 1; i < layers.size(); ++i)
    EXPECT_LE(layers[i - 1]["cosine_alone"].number, layers[i]["cosine_alone"].number);
  for (const auto &w : fb["kept_fp32_weights"].array) { // each belongs to a kept layer
    bool inKept = false;
    for (const auto &l : fb["kept_fp32_layers"].array)
      inKept |= w.string.rfind(l.string, 0) == 0;
    EXPECT_TRUE(inKept) << w.string;
  }
  // Fewer weights converted, and the plan runs.
  EXPECT_EQ(rep["converted_weights"]["count"].number,
            converted - double(fb["kept_fp32_weights"].array.size()));
  EXPECT_NE(r.err.find("tfc: accuracy fallback: cosine "), std::string::npos) << r.err;
  tfc_plan *plan = nullptr;
  ASSERT_EQ(take(tfc_plan_open(path("fb.plan").c_str(), nullptr, &plan)), "");
  EXPECT_STREQ(tfc_plan_weight_precision(plan), "int8");
  tfc_plan_release(plan);
}

TEST_F(AccuracyCheck, SwitchedOffAndUsageErrors) {
  ToolRun r = tfc(kEncoder + " --precision bf16 --no-accuracy-check -o " + path("e.plan") +
                  " --report " + path("e.json"),
              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err.find("tfc: accuracy"), std::string::npos) << r.err;
  EXPECT_TRUE(readJson(path("e.json"))["accuracy"].isNull());
  // fp32 plans are the reference: no check, no field.
  r = tfc(kEncoder + " -o " + path("f.plan") + " --report " + path("f.json"), dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(readJson(path("f.json"))["accuracy"].isNull());

  r = tfc(kEncoder + " --min-cosine 0.9 -o " + path("x.plan"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--min-cosine checks a plan of another precision against fp32: give "
                       "--precision too"), std::string::npos) << r.err;
  r = tfc(kEncoder + " --precision bf16 --min-cosine 1.5 -o " + path("x.plan"), dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--min-cosine needs a number in [-1, 1] (got '1.5')"), std::string::npos)
      << r.err;
  r = tfc(kEncoder + " --precision bf16 --calibrate " + dir.string() +
              " --no-accuracy-check -o " + path("x.plan"),
          dir);
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("contradict"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.plan")));
}

} // namespace
