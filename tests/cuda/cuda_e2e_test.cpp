//===- cuda_e2e_test.cpp - whole cuda plans against the CPU plan of the same model ------------===//
//
// Issue 12's end-to-end check: the models the repository ships (examples/models/*.fbs, the ONNX
// exports of tests/generation/models/ that tests/e2e and tests/generation use) compiled with the
// `tfc` binary for --target cpu (the reference: its numbers are checked against PyTorch / ONNX
// Runtime by tests/e2e) and for --target cuda at fp32, fp16 and (one model) bf16:
//  * Forward: the same inputs (seeded random ids, masks with padding in row 1, zero token types)
//    on cuda:0 and on the CPU; every output within
//      fp32: max|cuda - cpu| <= 1e-4 * max(1, max|cpu|) (the e2e tests' measure);
//      fp16: cosine >= 0.999 and max|cuda - cpu| <= 2e-2 * max(1, max|cpu|);
//      bf16: cosine >= 0.995 and max|cuda - cpu| <= 8e-2 * max(1, max|cpu|).
//    Why these: inputs and outputs are f32, but every activation and weight is stored in 16 bits
//    (unit roundoff 2^-11 = 4.9e-4 for f16, 2^-8 = 3.9e-3 for bf16), with f32 accumulation. A
//    model of L layers rounds each value about 6L times on the way (norms, linears, attention,
//    residuals); independent roundings add up to ~sqrt(6L) * u relative per output, i.e. about
//    3e-3 (f16) and 2e-2 (bf16) for these 2-4 layer models, and the worst element of a few
//    thousand sits within ~4 sigma of that. The bounds are that worst case with a margin of ~1.5;
//    bf16's is the f16 bound scaled by the 8x wider roundoff (and cosine by the squared error).
//  * Greedy: tfc_session_generate on the shipped prompts (tests/generation/manifest.json;
//    encoder-decoders get seeded random source ids) gives the CPU plan's tokens exactly at fp32.
//    At fp16 the tokens must agree too, or at the first divergence the CPU plan's own logits at
//    that prefix must show a near-tie: logit[cpu token] - logit[cuda token] within the fp16
//    output bound above (printed either way).
//  * GraphReplay: greedy tokens with decode-step CUDA graphs (the default) equal those of the
//    plain kernel loop (TFC_CUDA_GRAPHS=0, read when a session opens its device).
//  * NoGpu (runs on a machine without a usable GPU, skips where there is one): a cuda plan's
//    session fails with TFC_UNAVAILABLE and the reason, through the C API and `tfrun --device`.
//
// Every test that needs a GPU starts with TFC_REQUIRE_CUDA() and skips with the reason.
//
//===----------------------------------------------------------------------------------------===//
#include "MiniJson.h"
#include "cuda_test_util.h"

#include "tfc/tfc_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kSource = TFC_SOURCE_DIR;
const std::string kBin = TFC_BINARY_DIR "/bin/";

// ---- plans and sessions ----------------------------------------------------------------------

struct PlanDel {
  void operator()(tfc_plan *p) const { tfc_plan_release(p); }
};
struct SessionDel {
  void operator()(tfc_session *s) const { tfc_session_release(s); }
};
using PlanPtr = std::unique_ptr<tfc_plan, PlanDel>;
using SessionPtr = std::unique_ptr<tfc_session, SessionDel>;

/// The status's code and message (the status freed); {TFC_OK, ""} for success.
std::pair<tfc_code, std::string> take(tfc_status *st) {
  if (!st)
    return {TFC_OK, ""};
  std::pair<tfc_code, std::string> r{tfc_status_code(st), tfc_status_message(st)};
  tfc_status_free(st);
  return r;
}

/// `tfc compile MODEL FLAGS` (MODEL relative to the repository), once per process and
/// (model, flags); the plan's path, or "" with a test failure.
std::string compile(const std::string &model, const std::string &flags) {
  static std::map<std::string, std::string> done;
  static int counter = 0;
  const std::string key = model + " " + flags;
  if (auto it = done.find(key); it != done.end())
    return it->second;
  fs::path dir = fs::temp_directory_path() / ("tfc_cuda_e2e_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string plan = (dir / (fs::path(model).stem().string() + "." + std::to_string(counter++) +
                             ".plan")).string();
  std::string log = plan + ".log";
  std::string cmd = "'" + kBin + "tfc' compile '" + kSource + "/" + model + "' -o '" + plan +
                    "' " + flags + " > '" + log + "' 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream in(log);
    std::stringstream ss;
    ss << in.rdbuf();
    ADD_FAILURE() << cmd << "\n" << ss.str();
    return "";
  }
  done[key] = plan;
  return plan;
}

PlanPtr openPlan(const std::string &path, bool anyTarget = false) {
  tfc_plan_options o;
  tfc_plan_options_init(&o);
  o.any_target = anyTarget;
  tfc_plan *p = nullptr;
  auto r = take(tfc_plan_open(path.c_str(), &o, &p));
  EXPECT_EQ(r.second, "") << path;
  return PlanPtr(p);
}

SessionPtr openSession(tfc_plan *plan, const char *device) {
  tfc_session_options o;
  tfc_session_options_init(&o);
  o.device = device;
  tfc_session *s = nullptr;
  auto r = take(tfc_session_create(plan, &o, &s));
  EXPECT_EQ(r.second, "") << device;
  return SessionPtr(s);
}

// ---- inputs ----------------------------------------------------------------------------------

/// Owned input tensors, viewed as tfc_tensor.
struct Feed {
  struct Input {
    std::string name;
    tfc_dtype dtype;
    std::vector<int64_t> dims;
    std::vector<int64_t> ints;
    std::vector<float> floats;
  };
  std::vector<Input> inputs;
  std::vector<tfc_tensor> views() const {
    std::vector<tfc_tensor> v;
    for (const Input &i : inputs) {
      const void *data = i.dtype == TFC_F32 ? static_cast<const void *>(i.floats.data())
                                            : static_cast<const void *>(i.ints.data());
      v.push_back({i.name.c_str(), i.dtype, int32_t(i.dims.size()), i.dims.data(), data});
    }
    return v;
  }
};

/// Inputs for `fn` of `plan` (batch `rows`, every other symbolic dim `seq`, both clamped to the
/// bounds), skipping the names in `skip`: ids in [4, 60) (below every shipped vocabulary), masks
/// of ones except the last two positions of row 1 (padding), token types zero, floats N(0, 1).
Feed makeInputs(tfc_plan *plan, const char *fn, int64_t rows, int64_t seq, uint64_t seed,
                const std::vector<std::string> &skip = {}) {
  Feed feed;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  size_t ni = 0, no = 0;
  EXPECT_EQ(take(tfc_plan_num_ports(plan, fn, &ni, &no)).second, "");
  for (size_t i = 0; i < ni; ++i) {
    tfc_port_info p;
    EXPECT_EQ(take(tfc_plan_input_info(plan, fn, i, &p)).second, "");
    Feed::Input in;
    in.name = p.name;
    if (std::find(skip.begin(), skip.end(), in.name) != skip.end())
      continue;
    in.dtype = p.dtype;
    int64_t n = 1;
    for (int d = 0; d < p.rank; ++d) {
      const tfc_dim_info &di = p.dims[d];
      int64_t size = di.symbol ? (d == 0 ? rows : seq) : di.size;
      if (di.symbol)
        size = std::min(std::max(size, di.min), di.max);
      in.dims.push_back(size);
      n *= size;
    }
    const bool mask = in.name.find("mask") != std::string::npos;
    const bool types = in.name.find("type") != std::string::npos;
    const int64_t width = in.dims.empty() ? 1 : in.dims.back();
    for (int64_t e = 0; e < n; ++e) {
      if (in.dtype == TFC_F32) {
        in.floats.push_back(normal(rng));
        continue;
      }
      const int64_t row = in.dims.size() >= 2 ? e / width : 0, col = e % width;
      in.ints.push_back(mask ? (row == 1 && col >= width - 2 && width > 2 ? 0 : 1)
                        : types ? 0
                                : 4 + int64_t(rng() % 56));
    }
    feed.inputs.push_back(std::move(in));
  }
  return feed;
}

struct Output {
  std::string name;
  std::vector<int64_t> dims;
  std::vector<float> values;
};

std::vector<Output> run(tfc_session *s, const char *fn, const Feed &feed) {
  std::vector<tfc_tensor> v = feed.views();
  tfc_outputs *raw = nullptr;
  auto r = take(tfc_session_run(s, fn, v.data(), v.size(), &raw));
  EXPECT_EQ(r.second, "") << fn;
  std::vector<Output> outs;
  if (!raw)
    return outs;
  for (size_t i = 0; i < tfc_outputs_count(raw); ++i) {
    tfc_tensor t;
    EXPECT_EQ(take(tfc_outputs_get(raw, i, &t)).second, "");
    Output o;
    o.name = t.name;
    o.dims.assign(t.dims, t.dims + t.rank);
    if (t.dtype == TFC_F32) {
      size_t n = 1;
      for (int64_t d : o.dims)
        n *= size_t(d);
      const float *f = static_cast<const float *>(t.data);
      o.values.assign(f, f + n);
    }
    outs.push_back(std::move(o));
  }
  tfc_outputs_free(raw);
  return outs;
}

// ---- tolerances ------------------------------------------------------------------------------

struct Tolerance {
  double maxAbs;    // times max(1, max|ref|)
  double minCosine; // 0: not checked
};

Tolerance toleranceFor(const std::string &precision) {
  if (precision == "fp16")
    return {2e-2, 0.999};
  if (precision == "bf16")
    return {8e-2, 0.995};
  return {1e-4, 0};
}

/// Checks `got` against `ref` (see the header comment); returns "max|d| / bound, cosine".
std::string expectClose(const std::vector<float> &got, const std::vector<float> &ref,
                        const Tolerance &tol, const std::string &what) {
  EXPECT_EQ(got.size(), ref.size()) << what;
  if (got.size() != ref.size())
    return "";
  double scale = 1, diff = 0, dot = 0, ng = 0, nr = 0;
  for (float v : ref)
    scale = std::max(scale, double(std::fabs(v)));
  for (size_t i = 0; i < ref.size(); ++i) {
    double d = std::fabs(double(got[i]) - double(ref[i]));
    diff = std::isnan(d) ? INFINITY : std::max(diff, d);
    dot += double(got[i]) * ref[i], ng += double(got[i]) * got[i], nr += double(ref[i]) * ref[i];
  }
  const double cosine = ng > 0 && nr > 0 ? dot / std::sqrt(ng * nr) : (ng == nr ? 1.0 : 0.0);
  EXPECT_LE(diff, tol.maxAbs * scale) << what << ": max |cuda - cpu| " << diff;
  if (tol.minCosine > 0)
    EXPECT_GE(cosine, tol.minCosine) << what;
  std::ostringstream s;
  s << "max|d| " << diff << " (bound " << tol.maxAbs * scale << "), cosine " << cosine;
  return s.str();
}

// ---- the models ------------------------------------------------------------------------------

/// examples/models/*.fbs and tests/generation/models/*.onnx, relative to the repository.
std::vector<std::string> shippedModels() {
  std::vector<std::string> out;
  for (const char *dir : {"examples/models", "tests/generation/models"})
    for (const auto &e : fs::directory_iterator(kSource + "/" + dir)) {
      std::string ext = e.path().extension().string();
      if (ext == ".fbs" || ext == ".onnx")
        out.push_back(std::string(dir) + "/" + e.path().filename().string());
    }
  std::sort(out.begin(), out.end());
  return out;
}

struct ForwardCase {
  std::string model, precision;
};

std::vector<ForwardCase> forwardCases() {
  std::vector<ForwardCase> cases;
  for (const std::string &m : shippedModels())
    for (const char *p : {"fp32", "fp16"})
      cases.push_back({m, p});
  cases.push_back({"examples/models/encoder.fbs", "bf16"});
  return cases;
}

std::string caseName(const std::string &model, const std::string &precision) {
  std::string n = fs::path(model).stem().string() + "_" + precision;
  for (char &c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return n;
}

class Forward : public ::testing::TestWithParam<ForwardCase> {};

TEST_P(Forward, CudaPlanMatchesCpuPlan) {
  TFC_REQUIRE_CUDA();
  const ForwardCase &c = GetParam();
  std::string cpuPath = compile(c.model, "--max-batch 2");
  std::string cudaPath = compile(c.model, "--max-batch 2 --target cuda --precision " + c.precision);
  ASSERT_FALSE(cpuPath.empty() || cudaPath.empty());
  PlanPtr cpu = openPlan(cpuPath), cuda = openPlan(cudaPath);
  ASSERT_TRUE(cpu && cuda);
  SessionPtr cs = openSession(cpu.get(), "cpu"), gs = openSession(cuda.get(), "cuda:0");
  ASSERT_TRUE(cs && gs);
  const Tolerance tol = toleranceFor(c.precision);
  // Two shapes: one row of odd length, and two rows (row 1 padded where there is a mask).
  for (auto [rows, seq] : {std::pair<int64_t, int64_t>{1, 7}, {2, 13}}) {
    Feed feed = makeInputs(cpu.get(), "forward", rows, seq, 1000 + uint64_t(seq));
    std::vector<Output> ref = run(cs.get(), "forward", feed), got = run(gs.get(), "forward", feed);
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_EQ(got[i].dims, ref[i].dims) << ref[i].name;
      std::string what = c.model + " " + c.precision + " '" + ref[i].name + "' [" +
                         std::to_string(rows) + ", " + std::to_string(seq) + "]";
      std::string m = expectClose(got[i].values, ref[i].values, tol, what);
      std::printf("[ cuda e2e ] %s: %s\n", what.c_str(), m.c_str());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, Forward, ::testing::ValuesIn(forwardCases()),
                         [](const auto &info) {
                           return caseName(info.param.model, info.param.precision);
                         });

// ---- generation ------------------------------------------------------------------------------

struct GenCase {
  std::string name, model, tokenInput;
  std::vector<std::vector<int64_t>> prompts;
  std::vector<std::string> fixed; // other inputs (the source side), synthesized
  int64_t newTokens = 0;
};

std::vector<GenCase> genCases() {
  std::vector<GenCase> out;
  std::ifstream in(kSource + "/tests/generation/manifest.json");
  std::stringstream ss;
  ss << in.rdbuf();
  tfc::minijson::Value root;
  std::string error;
  if (!tfc::minijson::Parser(ss.str()).parse(root, error))
    return out; // GenerationManifest below fails on this
  for (const auto &c : root["cases"].array) {
    GenCase g;
    g.name = c["name"].string;
    g.model = c["source"].string;
    g.tokenInput = c["token_input"].string;
    g.newTokens = int64_t(c["new_tokens"].number);
    for (const auto &p : c["prompt"].array) {
      g.prompts.emplace_back();
      for (const auto &t : p.array)
        g.prompts.back().push_back(int64_t(t.number));
    }
    for (const auto &[name, v] : c["inputs"].object)
      if (name != g.tokenInput)
        g.fixed.push_back(name);
    out.push_back(std::move(g));
  }
  return out;
}

TEST(GenerationManifest, HasCases) { EXPECT_GE(genCases().size(), 4u); }

/// Greedy tokens of every prompt (the prompt followed by `newTokens`), or a failure.
std::vector<std::vector<int64_t>> greedy(tfc_session *s, const GenCase &c, const Feed &fixed) {
  std::vector<int64_t> tokens, offsets = {0};
  for (const auto &p : c.prompts) {
    tokens.insert(tokens.end(), p.begin(), p.end());
    offsets.push_back(int64_t(tokens.size()));
  }
  tfc_generate_options o;
  tfc_generate_options_init(&o);
  o.max_new_tokens = c.newTokens;
  o.eos_id = -1;
  std::vector<tfc_tensor> v = fixed.views();
  tfc_generation *g = nullptr;
  auto r = take(tfc_session_generate(s, tokens.data(), offsets.data(), c.prompts.size(), v.data(),
                                     v.size(), &o, nullptr, nullptr, &g));
  EXPECT_EQ(r.second, "") << c.name;
  std::vector<std::vector<int64_t>> out;
  for (size_t i = 0; g && i < tfc_generation_count(g); ++i) {
    size_t n = 0;
    const int64_t *t = tfc_generation_tokens(g, i, &n);
    out.emplace_back(t, t + n);
  }
  tfc_generation_free(g);
  return out;
}

/// The fixed (source-side) inputs of `c`: one row per prompt, length 7.
Feed fixedInputs(tfc_plan *plan, const GenCase &c) {
  Feed all = makeInputs(plan, "forward", int64_t(c.prompts.size()), 7, 77);
  Feed f;
  for (auto &in : all.inputs)
    if (std::find(c.fixed.begin(), c.fixed.end(), in.name) != c.fixed.end())
      f.inputs.push_back(in);
  return f;
}

/// The CPU plan's last-position logits for row `row` of `fixed` after the tokens `prefix`.
std::vector<float> cpuLogits(tfc_plan *plan, tfc_session *s, const GenCase &c, const Feed &fixed,
                             size_t row, const std::vector<int64_t> &prefix) {
  Feed f;
  for (const auto &in : fixed.inputs) {
    Feed::Input one = in;
    const int64_t width = in.dims.size() >= 2 ? in.dims[1] : 1;
    one.dims[0] = 1;
    one.ints.assign(in.ints.begin() + int64_t(row) * width,
                    in.ints.begin() + int64_t(row + 1) * width);
    f.inputs.push_back(std::move(one));
  }
  Feed::Input ids;
  ids.name = c.tokenInput;
  ids.dtype = TFC_I64;
  ids.dims = {1, int64_t(prefix.size())};
  ids.ints = prefix;
  f.inputs.push_back(ids);
  // Inputs covering the keys (a decoder's attention mask): all ones.
  Feed rest = makeInputs(plan, "forward", 1, int64_t(prefix.size()), 5, {});
  for (auto &in : rest.inputs) {
    bool given = false;
    for (const auto &g : f.inputs)
      given = given || g.name == in.name;
    if (!given) {
      std::fill(in.ints.begin(), in.ints.end(), 1);
      f.inputs.push_back(in);
    }
  }
  std::vector<Output> out = run(s, "forward", f);
  if (out.empty() || out[0].values.empty())
    return {};
  const size_t vocab = size_t(out[0].dims.back());
  return std::vector<float>(out[0].values.end() - int64_t(vocab), out[0].values.end());
}

struct GreedyCase {
  GenCase gen;
  std::string precision;
};

std::vector<GreedyCase> greedyCases() {
  std::vector<GreedyCase> out;
  for (const GenCase &g : genCases())
    for (const char *p : {"fp32", "fp16"})
      out.push_back({g, p});
  return out;
}

class Greedy : public ::testing::TestWithParam<GreedyCase> {};

TEST_P(Greedy, CudaTokensMatchCpuTokens) {
  TFC_REQUIRE_CUDA();
  const GenCase &c = GetParam().gen;
  const std::string &precision = GetParam().precision;
  std::string cpuPath = compile(c.model, "--max-batch 4");
  std::string cudaPath = compile(c.model, "--max-batch 4 --target cuda --precision " + precision);
  ASSERT_FALSE(cpuPath.empty() || cudaPath.empty());
  PlanPtr cpu = openPlan(cpuPath), cuda = openPlan(cudaPath);
  ASSERT_TRUE(cpu && cuda);
  SessionPtr cs = openSession(cpu.get(), "cpu"), gs = openSession(cuda.get(), "cuda:0");
  ASSERT_TRUE(cs && gs);
  Feed fixed = fixedInputs(cpu.get(), c);
  auto ref = greedy(cs.get(), c, fixed), got = greedy(gs.get(), c, fixed);
  ASSERT_EQ(got.size(), ref.size());
  for (size_t r = 0; r < ref.size(); ++r) {
    ASSERT_EQ(got[r].size(), ref[r].size()) << c.name << " row " << r;
    size_t at = 0;
    while (at < ref[r].size() && got[r][at] == ref[r][at])
      ++at;
    if (at == ref[r].size()) {
      std::printf("[ cuda e2e ] %s %s row %zu: %zu tokens equal\n", c.name.c_str(),
                  precision.c_str(), r, ref[r].size());
      continue;
    }
    if (precision == "fp32") {
      ADD_FAILURE() << c.name << " fp32 row " << r << ": first difference at token " << at
                    << ": cuda " << got[r][at] << ", cpu " << ref[r][at];
      continue;
    }
    // A 16-bit divergence must be a near-tie of the CPU plan's own logits at that prefix.
    std::vector<int64_t> prefix(ref[r].begin(), ref[r].begin() + int64_t(at));
    std::vector<float> logits = cpuLogits(cpu.get(), cs.get(), c, fixed, r, prefix);
    ASSERT_FALSE(logits.empty());
    double scale = 1;
    for (float v : logits)
      scale = std::max(scale, double(std::fabs(v)));
    const double margin = double(logits[size_t(ref[r][at])]) - logits[size_t(got[r][at])];
    const double bound = toleranceFor(precision).maxAbs * scale;
    std::printf("[ cuda e2e ] %s %s row %zu: first divergence at token %zu (cuda %lld, cpu "
                "%lld): cpu logit margin %g, bound %g\n",
                c.name.c_str(), precision.c_str(), r, at, (long long)got[r][at],
                (long long)ref[r][at], margin, bound);
    EXPECT_LE(margin, bound) << c.name << " " << precision << " row " << r << " token " << at;
  }
}

INSTANTIATE_TEST_SUITE_P(Shipped, Greedy, ::testing::ValuesIn(greedyCases()),
                         [](const auto &info) {
                           return caseName(info.param.gen.name, info.param.precision);
                         });

// ---- CUDA graphs -----------------------------------------------------------------------------

class GraphReplay : public ::testing::TestWithParam<GreedyCase> {};

TEST_P(GraphReplay, EqualsThePlainKernelLoop) {
  TFC_REQUIRE_CUDA();
  const GenCase &c = GetParam().gen;
  std::string path = compile(c.model, "--max-batch 4 --target cuda --precision " +
                                          GetParam().precision);
  ASSERT_FALSE(path.empty());
  PlanPtr plan = openPlan(path);
  ASSERT_TRUE(plan);
  SessionPtr graphs = openSession(plan.get(), "cuda:0");
  const char *old = std::getenv("TFC_CUDA_GRAPHS");
  std::string saved = old ? old : "";
  setenv("TFC_CUDA_GRAPHS", "0", 1); // read when the session opens its device
  SessionPtr plain = openSession(plan.get(), "cuda:0");
  if (old)
    setenv("TFC_CUDA_GRAPHS", saved.c_str(), 1);
  else
    unsetenv("TFC_CUDA_GRAPHS");
  ASSERT_TRUE(graphs && plain);
  Feed fixed = fixedInputs(plan.get(), c);
  auto a = greedy(graphs.get(), c, fixed), b = greedy(plain.get(), c, fixed);
  EXPECT_EQ(a, b) << c.name;
  // Twice on one session: a replay after a new prompt (the cache reset) still matches.
  EXPECT_EQ(greedy(graphs.get(), c, fixed), b) << c.name << " (second generation)";
}

INSTANTIATE_TEST_SUITE_P(Shipped, GraphReplay, ::testing::ValuesIn(greedyCases()),
                         [](const auto &info) {
                           return caseName(info.param.gen.name, info.param.precision);
                         });

// ---- without a GPU ---------------------------------------------------------------------------

bool buildHasCuda() {
  for (size_t i = 0; i < tfc_backend_count(); ++i)
    if (std::string(tfc_backend_name(i)) == "cuda")
      return true;
  return false;
}

TEST(NoGpu, CudaPlanSessionIsUnavailableWithTheReason) {
  std::string why;
  if (rtt::cudaUsable(&why))
    GTEST_SKIP() << "this machine has a usable CUDA device: the other tests run the plans";
  std::string path = compile("examples/models/encoder.fbs", "--target cuda --precision fp16");
  ASSERT_FALSE(path.empty());
  // On a build without the CUDA backend the plan opens for inspection only (any_target).
  PlanPtr plan = openPlan(path, /*anyTarget=*/!buildHasCuda());
  ASSERT_TRUE(plan);
  for (const char *device : {static_cast<const char *>(nullptr), "cuda", "cuda:0"}) {
    tfc_session_options o;
    tfc_session_options_init(&o);
    o.device = device;
    tfc_session *s = nullptr;
    auto [code, message] = take(tfc_session_create(plan.get(), &o, &s));
    EXPECT_EQ(code, TFC_UNAVAILABLE) << (device ? device : "(default)") << ": " << message;
    EXPECT_EQ(s, nullptr);
    if (buildHasCuda())
      EXPECT_THAT(message, HasSubstr("is unavailable: " + why)) << "tfc_device_check said: " << why;
    else if (device)
      EXPECT_THAT(message, HasSubstr("built without the cuda backend"));
    else // the default device: the plan's target, which this build cannot run
      EXPECT_THAT(message, HasSubstr("plan targets cuda, which this runtime cannot run (its "
                                     "backends: cpu)"));
    tfc_session_release(s);
  }

  // tfrun --device cuda: exit status 1, the same reason on stderr, no outputs.
  std::string cmd = "'" + kBin + "tfrun' '" + path + "' --device cuda 2>&1";
  FILE *p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << out;
  EXPECT_THAT(out, HasSubstr("tfrun: error: "));
  if (buildHasCuda())
    EXPECT_THAT(out, HasSubstr("device 'cuda' is unavailable: " + why));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("last_hidden_state:")));
}

} // namespace
