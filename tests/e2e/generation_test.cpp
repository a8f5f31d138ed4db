//===- generation_test.cpp - KV-cache generation against full-sequence runs and PyTorch --===//
//
// * StepLogits: on causal decoders and encoder-decoders (model.fbs examples and ONNX exports),
//   the logits of prefill and of every decode_step of a long greedy generation equal the last
//   position of forward run on the whole sequence so far (forward itself is checked against
//   PyTorch / ONNX Runtime by the other end-to-end tests), within 1e-4 * max(1, max |ref|).
// * Greedy: tfc_session_generate is token-exact with the plain PyTorch greedy loops of
//   tests/generation/make_refs.py (full recompute), for every case of its manifest.
// * Strategies: sampling with a seed is reproducible, beam width 1 equals greedy, a
//   --no-fuse plan (which generates by recomputing) gives the same greedy tokens.
// * Errors: decode_step before prefill, a plan that does not generate, bad options.
//
//===----------------------------------------------------------------------------------------===//
#include "MiniJson.h"
#include "RuntimeTestUtil.h"
#include "tfc/support/Npy.h"

#include "tfc/tfc_runtime.h"
#include "tfc/tfc_runtime.hpp"

#include "onnx/onnx_pb.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
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
using tfc::testutil::maxAbs;
using tfc::testutil::maxAbsDiff;
using tfc::testutil::take;

const std::string kSource = TFC_SOURCE_DIR;
const std::string kTfc = TFC_BINARY_DIR "/bin/tfc";

// Owning handles of tfc_runtime.hpp (release on destruction).
using PlanPtr = tfc::Plan;
using SessionPtr = tfc::Session;
using OutputsPtr = tfc::Outputs;
using GenerationPtr = tfc::Generation;

/// Compiles `model` (relative to the repository) with `flags`; the plan path, or "" (and a test
/// failure) when tfc fails.
std::string compile(const std::string &model, const std::string &flags) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() / ("tfc_generation_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string plan = (dir / (fs::path(model).stem().string() + "." + std::to_string(counter++) +
                             ".plan")).string();
  std::string source = model.rfind("/", 0) == 0 ? model : kSource + "/" + model;
  std::string cmd = kTfc + " compile " + source + " -o " + plan + " " + flags +
                    " > " + plan + ".log 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    std::ifstream log(plan + ".log");
    std::stringstream ss;
    ss << log.rdbuf();
    ADD_FAILURE() << cmd << " failed:\n" << ss.str();
    return "";
  }
  return plan;
}

PlanPtr open(const std::string &path) {
  tfc_plan *p = nullptr;
  std::string err = take(tfc_plan_open(path.c_str(), nullptr, &p));
  EXPECT_EQ(err, "") << path;
  return PlanPtr(p);
}

SessionPtr session(tfc_plan *plan) {
  tfc_session_options o;
  tfc_session_options_init(&o);
  o.num_threads = 2;
  tfc_session *s = nullptr;
  std::string err = take(tfc_session_create(plan, &o, &s));
  EXPECT_EQ(err, "");
  return SessionPtr(s);
}

/// A host tensor.
struct Tensor {
  std::string name;
  tfc_dtype dtype = TFC_I64;
  std::vector<int64_t> dims;
  std::vector<uint8_t> bytes;
  tfc_tensor view() const { return {name.c_str(), dtype, int32_t(dims.size()), dims.data(), bytes.data()}; }
  static Tensor ints(std::string name, tfc_dtype dtype, std::vector<int64_t> dims,
                     const std::vector<int64_t> &values) {
    Tensor t{std::move(name), dtype, std::move(dims), {}};
    size_t size = tfc_dtype_size(dtype);
    t.bytes.resize(values.size() * size);
    for (size_t i = 0; i < values.size(); ++i) {
      if (dtype == TFC_I64)
        std::memcpy(t.bytes.data() + 8 * i, &values[i], 8);
      else if (dtype == TFC_I32) {
        int32_t v = int32_t(values[i]);
        std::memcpy(t.bytes.data() + 4 * i, &v, 4);
      } else if (dtype == TFC_F32) {
        float v = float(values[i]);
        std::memcpy(t.bytes.data() + 4 * i, &v, 4);
      } else {
        t.bytes[i] = uint8_t(values[i]);
      }
    }
    return t;
  }
};

/// The inputs of `function` besides the token input: key masks (a dim named total_seq) and
/// fixed inputs (given by `fixed`, by name).
struct Signature {
  std::string tokenInput;
  tfc_dtype tokenDtype = TFC_I64;
  std::vector<std::pair<std::string, tfc_dtype>> keyMasks;
  std::vector<std::string> fixed;
};

Signature signatureOf(tfc_plan *plan, const char *function) {
  Signature s;
  tfc_generation_info g;
  tfc_plan_get_generation_info(plan, &g);
  s.tokenInput = g.token_input ? g.token_input : "";
  // Key masks: the inputs of decode_step that cover every position (symbol total_seq).
  std::vector<std::string> keyNames;
  size_t ni = 0, no = 0;
  if (take(tfc_plan_num_ports(plan, "decode_step", &ni, &no)).empty())
    for (size_t i = 0; i < ni; ++i) {
      tfc_port_info p;
      EXPECT_EQ(take(tfc_plan_input_info(plan, "decode_step", i, &p)), "");
      for (int r = 0; r < p.rank; ++r)
        if (p.dims[r].symbol && std::string(p.dims[r].symbol) == "total_seq")
          keyNames.push_back(p.name);
    }
  EXPECT_EQ(take(tfc_plan_num_ports(plan, function, &ni, &no)), "") << function;
  for (size_t i = 0; i < ni; ++i) {
    tfc_port_info p;
    EXPECT_EQ(take(tfc_plan_input_info(plan, function, i, &p)), "");
    bool key = std::find(keyNames.begin(), keyNames.end(), p.name) != keyNames.end();
    if (p.name == s.tokenInput)
      s.tokenDtype = p.dtype;
    else if (key)
      s.keyMasks.push_back({p.name, p.dtype});
    else
      s.fixed.push_back(p.name);
  }
  return s;
}

/// Runs `function` on tokens [rows, len] (+ key masks of `keys` ones, + fixed inputs); returns
/// the logits of the last position of every row, [rows, vocab].
std::vector<float> lastLogits(tfc_session *s, tfc_plan *plan, const char *function,
                              const std::vector<int64_t> &tokens, int64_t rows, int64_t len,
                              int64_t keys, const std::map<std::string, Tensor> &fixed,
                              std::string &error) {
  Signature sig = signatureOf(plan, function);
  std::vector<Tensor> owned;
  owned.push_back(Tensor::ints(sig.tokenInput, sig.tokenDtype, {rows, len}, tokens));
  for (auto &[name, dtype] : sig.keyMasks)
    owned.push_back(Tensor::ints(name, dtype, {rows, keys},
                                 std::vector<int64_t>(size_t(rows * keys), 1)));
  std::vector<tfc_tensor> views;
  for (const Tensor &t : owned)
    views.push_back(t.view());
  for (const std::string &name : sig.fixed) {
    auto it = fixed.find(name);
    if (it == fixed.end()) {
      error = std::string(function) + " needs input " + name;
      return {};
    }
    views.push_back(it->second.view());
  }
  tfc_outputs *raw = nullptr;
  error = take(tfc_session_run(s, function, views.data(), views.size(), &raw));
  OutputsPtr out(raw);
  if (!error.empty())
    return {};
  tfc_tensor y;
  error = take(tfc_outputs_get(raw, 0, &y));
  if (!error.empty())
    return {};
  int64_t vocab = y.dims[2];
  std::vector<float> result(size_t(rows * vocab));
  const float *data = static_cast<const float *>(y.data);
  for (int64_t r = 0; r < rows; ++r)
    std::copy_n(data + (r * y.dims[1] + y.dims[1] - 1) * vocab, vocab, result.begin() + r * vocab);
  return result;
}

bool hasFunction(const tfc_plan *plan, const char *name) {
  for (size_t i = 0, n = tfc_plan_num_functions(plan); i < n; ++i)
    if (std::string(tfc_plan_function_name(plan, i)) == name)
      return true;
  return false;
}

int64_t argmax(const float *p, int64_t n) { return std::max_element(p, p + n) - p; }

struct StepCase {
  std::string model, flags;
  int64_t rows, promptLen, steps;
  int64_t srcLen = 0; // fixed (source) inputs are [rows, srcLen]
};

class StepLogits : public ::testing::TestWithParam<StepCase> {};

TEST_P(StepLogits, EqualFullSequenceRunAtEveryStep) {
  const StepCase &c = GetParam();
  std::string path = compile(c.model, c.flags);
  ASSERT_FALSE(path.empty());
  PlanPtr plan = open(path);
  ASSERT_TRUE(plan);
  tfc_generation_info g;
  tfc_plan_get_generation_info(plan.get(), &g);
  ASSERT_TRUE(g.mode);
  ASSERT_STREQ(g.mode, "kv-cache") << g.reason;
  ASSERT_GE(g.max_length, c.promptLen + c.steps);
  SessionPtr cached = session(plan.get()), full = session(plan.get());

  std::mt19937_64 rng(7);
  auto randomIds = [&](size_t n, int64_t lo) {
    std::vector<int64_t> v(n);
    for (auto &x : v)
      x = lo + int64_t(rng() % uint64_t(std::min<int64_t>(g.vocab_size, 200) - lo));
    return v;
  };
  // Fixed inputs (the source side): ids, and masks with padding at the end of row 1 (PyTorch's
  // key_padding_mask is true where padded; other masks are 1 where kept).
  std::map<std::string, Tensor> fixed;
  size_t ni = 0, no = 0;
  ASSERT_EQ(take(tfc_plan_num_ports(plan.get(), "forward", &ni, &no)), "");
  Signature fwd = signatureOf(plan.get(), "forward");
  for (size_t i = 0; i < ni; ++i) {
    tfc_port_info p;
    ASSERT_EQ(take(tfc_plan_input_info(plan.get(), "forward", i, &p)), "");
    std::string name = p.name;
    if (std::find(fwd.fixed.begin(), fwd.fixed.end(), name) == fwd.fixed.end())
      continue;
    std::vector<int64_t> dims = {c.rows, c.srcLen};
    std::vector<int64_t> values;
    if (name.find("mask") != std::string::npos) {
      bool padIsTrue = name.find("padding") != std::string::npos;
      for (int64_t r = 0; r < dims[0]; ++r)
        for (int64_t j = 0; j < dims[1]; ++j)
          values.push_back((r == 1 && j >= dims[1] - 3) == padIsTrue ? 1 : 0);
    } else {
      values = randomIds(size_t(dims[0] * dims[1]), 4);
    }
    fixed[name] = Tensor::ints(name, p.dtype, dims, values);
  }

  std::vector<int64_t> seq = randomIds(size_t(c.rows * c.promptLen), 4);
  int64_t len = c.promptLen;
  std::string err;
  if (hasFunction(plan.get(), "encode")) {
    std::vector<tfc_tensor> views;
    for (const std::string &n : signatureOf(plan.get(), "encode").fixed)
      views.push_back(fixed.at(n).view());
    tfc_outputs *raw = nullptr;
    ASSERT_EQ(take(tfc_session_run(cached.get(), "encode", views.data(), views.size(), &raw)), "");
    tfc_outputs_free(raw);
  }
  std::vector<float> step = lastLogits(cached.get(), plan.get(), "prefill", seq, c.rows, len, len,
                                       fixed, err);
  ASSERT_EQ(err, "");
  double worst = 0;
  for (int64_t s = 0; s <= c.steps; ++s) {
    std::vector<float> ref = lastLogits(full.get(), plan.get(), "forward", seq, c.rows, len, len,
                                        fixed, err);
    ASSERT_EQ(err, "") << "step " << s;
    ASSERT_EQ(ref.size(), step.size());
    double diff = maxAbsDiff(step.data(), ref.data(), ref.size());
    double tol = 1e-4 * std::max(1.0, maxAbs(ref.data(), ref.size()));
    ASSERT_LE(diff, tol) << c.model << ": step " << s << " (length " << len << ")";
    worst = std::max(worst, diff / tol);
    if (s == c.steps)
      break;
    // Greedy next tokens (from the reference logits), appended to each row.
    int64_t vocab = int64_t(ref.size()) / c.rows;
    std::vector<int64_t> next(size_t(c.rows)), grown;
    for (int64_t r = 0; r < c.rows; ++r) {
      next[size_t(r)] = argmax(ref.data() + r * vocab, vocab);
      grown.insert(grown.end(), seq.begin() + r * len, seq.begin() + (r + 1) * len);
      grown.push_back(next[size_t(r)]);
    }
    seq = std::move(grown);
    ++len;
    step = lastLogits(cached.get(), plan.get(), "decode_step", next, c.rows, 1, len, fixed, err);
    ASSERT_EQ(err, "") << "step " << s;
  }
  std::printf("%s: %lld steps, worst error / tolerance %.3g\n", c.model.c_str(),
              (long long)c.steps, worst);
}

INSTANTIATE_TEST_SUITE_P(
    Models, StepLogits,
    ::testing::Values(
        StepCase{"examples/models/decoder.fbs", "--max-batch 2", 2, 3, 100, 0},
        StepCase{"examples/models/encdec.fbs", "--max-batch 2", 2, 1, 100, 9},
        StepCase{"tests/onnx/models/gpt2_opset14.onnx", "--max-batch 2 --max-seq 104", 2, 4, 100, 0},
        StepCase{"tests/onnx/models/gpt2_opset17.onnx", "--max-batch 2 --max-seq 104", 2, 4, 100, 0},
        StepCase{"tests/onnx/models/sdpa_opset17.onnx", "--max-batch 2", 2, 4, 60, 0},
        StepCase{"tests/onnx/models/torch_transformer_opset17.onnx", "--max-batch 2 --max-seq 64",
                 2, 1, 60, 11}),
    [](const ::testing::TestParamInfo<StepCase> &info) {
      std::string n = fs::path(info.param.model).stem().string();
      std::replace_if(n.begin(), n.end(), [](char ch) { return !std::isalnum((unsigned char)ch); }, '_');
      return n;
    });

// ---- strategies, recompute, errors (model.fbs examples) -----------------------------------

struct Generated {
  std::string error;
  std::vector<std::vector<int64_t>> sequences;
};

Generated generate(tfc_plan *plan, const std::vector<std::vector<int64_t>> &prompts,
                   const std::vector<Tensor> &fixed, const tfc_generate_options &o) {
  SessionPtr s = session(plan);
  std::vector<int64_t> tokens, offsets = {0};
  for (const auto &p : prompts) {
    tokens.insert(tokens.end(), p.begin(), p.end());
    offsets.push_back(int64_t(tokens.size()));
  }
  std::vector<tfc_tensor> views;
  for (const Tensor &t : fixed)
    views.push_back(t.view());
  tfc_generation *raw = nullptr;
  Generated g;
  g.error = take(tfc_session_generate(s.get(), tokens.data(), offsets.data(), prompts.size(),
                                      views.data(), views.size(), &o, nullptr, nullptr, &raw));
  GenerationPtr result(raw);
  for (size_t i = 0; i < tfc_generation_count(raw); ++i) {
    size_t n = 0;
    const int64_t *t = tfc_generation_tokens(raw, i, &n);
    g.sequences.emplace_back(t, t + n);
  }
  return g;
}

tfc_generate_options options(tfc_strategy strategy, int64_t maxNew) {
  tfc_generate_options o;
  tfc_generate_options_init(&o);
  o.strategy = strategy;
  o.max_new_tokens = maxNew;
  return o;
}

const std::vector<std::vector<int64_t>> kPrompts = {{1, 17, 42, 99}, {1, 7}, {1, 300, 5, 6, 200}};

TEST(Generation, SamplingWithASeedIsReproducible) {
  std::string path = compile("examples/models/decoder.fbs", "--max-batch 4");
  ASSERT_FALSE(path.empty());
  PlanPtr plan = open(path);
  tfc_generate_options o = options(TFC_SAMPLE, 40);
  o.temperature = 1.5f;
  o.top_k = 50;
  o.top_p = 0.95f;
  o.seed = 1234;
  Generated a = generate(plan.get(), kPrompts, {}, o), b = generate(plan.get(), kPrompts, {}, o);
  ASSERT_EQ(a.error, "");
  ASSERT_EQ(b.error, "");
  EXPECT_EQ(a.sequences, b.sequences);
  o.seed = 1235;
  Generated c = generate(plan.get(), kPrompts, {}, o);
  ASSERT_EQ(c.error, "");
  EXPECT_NE(a.sequences, c.sequences) << "another seed drew the same 120 tokens";
  for (size_t i = 0; i < kPrompts.size(); ++i) {
    ASSERT_EQ(a.sequences[i].size(), kPrompts[i].size() + 40);
    EXPECT_TRUE(std::equal(kPrompts[i].begin(), kPrompts[i].end(), a.sequences[i].begin()));
  }
}

TEST(Generation, BeamWidthOneEqualsGreedyAndRecomputeEqualsKvCache) {
  std::string cachedPath = compile("examples/models/decoder.fbs", "--max-batch 4");
  std::string recomputePath = compile("examples/models/decoder.fbs", "--max-batch 4 --no-fuse");
  ASSERT_FALSE(cachedPath.empty());
  ASSERT_FALSE(recomputePath.empty());
  PlanPtr cached = open(cachedPath), recompute = open(recomputePath);
  tfc_generation_info g;
  tfc_plan_get_generation_info(recompute.get(), &g);
  ASSERT_TRUE(g.mode);
  EXPECT_STREQ(g.mode, "recompute");
  EXPECT_NE(std::string(g.reason), "");
  Generated greedy = generate(cached.get(), kPrompts, {}, options(TFC_GREEDY, 50));
  ASSERT_EQ(greedy.error, "");
  tfc_generate_options beam = options(TFC_BEAM, 50);
  beam.beam_width = 1;
  Generated beam1 = generate(cached.get(), kPrompts, {}, beam);
  ASSERT_EQ(beam1.error, "");
  EXPECT_EQ(beam1.sequences, greedy.sequences);
  Generated slow = generate(recompute.get(), kPrompts, {}, options(TFC_GREEDY, 50));
  ASSERT_EQ(slow.error, "");
  EXPECT_EQ(slow.sequences, greedy.sequences);
  // Wider beams run (cache reordering) and keep the prompts.
  beam.beam_width = 3;
  Generated beam3 = generate(cached.get(), {kPrompts[0]}, {}, beam);
  ASSERT_EQ(beam3.error, "");
  ASSERT_EQ(beam3.sequences.size(), 1u);
  EXPECT_EQ(beam3.sequences[0].size(), kPrompts[0].size() + 50);
  Generated beam3slow = generate(recompute.get(), {kPrompts[0]}, {}, beam);
  ASSERT_EQ(beam3slow.error, "");
  EXPECT_EQ(beam3slow.sequences, beam3.sequences);
}

TEST(Generation, EncoderDecoderBeamAndGreedyAgreeWithRecompute) {
  std::string cachedPath = compile("examples/models/encdec.fbs", "--max-batch 6");
  std::string recomputePath = compile("examples/models/encdec.fbs", "--max-batch 6 --no-fuse");
  ASSERT_FALSE(cachedPath.empty());
  ASSERT_FALSE(recomputePath.empty());
  PlanPtr cached = open(cachedPath), recompute = open(recomputePath);
  std::vector<Tensor> fixed = {
      Tensor::ints("src_ids", TFC_I64, {2, 5}, {1, 9, 8, 7, 2, 1, 30, 2, 0, 0}),
      Tensor::ints("src_mask", TFC_I64, {2, 5}, {1, 1, 1, 1, 1, 1, 1, 1, 0, 0})};
  std::vector<std::vector<int64_t>> start = {{1}, {1}};
  for (tfc_strategy st : {TFC_GREEDY, TFC_BEAM}) {
    tfc_generate_options o = options(st, 30);
    o.beam_width = st == TFC_BEAM ? 3 : 1;
    Generated a = generate(cached.get(), start, fixed, o), b = generate(recompute.get(), start, fixed, o);
    ASSERT_EQ(a.error, "");
    ASSERT_EQ(b.error, "");
    EXPECT_EQ(a.sequences, b.sequences) << "strategy " << int(st);
  }
}

TEST(Generation, ErrorsNameTheProblem) {
  std::string decoder = compile("examples/models/decoder.fbs", "--max-batch 2");
  std::string encoder = compile("examples/models/encoder.fbs", "");
  ASSERT_FALSE(decoder.empty());
  ASSERT_FALSE(encoder.empty());
  PlanPtr plan = open(decoder), enc = open(encoder);

  // decode_step before any prefill.
  SessionPtr s = session(plan.get());
  std::map<std::string, Tensor> none;
  std::string err;
  lastLogits(s.get(), plan.get(), "decode_step", {5, 6}, 2, 1, 1, none, err);
  EXPECT_NE(err.find("prefill"), std::string::npos) << err;

  // A plan that does not generate.
  Generated g = generate(enc.get(), {{1, 2}}, {}, options(TFC_GREEDY, 4));
  EXPECT_NE(g.error.find("does not generate"), std::string::npos) << g.error;

  // Longer than the cache.
  g = generate(plan.get(), {{1, 2, 3}}, {}, options(TFC_GREEDY, 1000));
  EXPECT_NE(g.error.find("1000"), std::string::npos) << g.error;

  // More rows than the batch bound (2 prompts x beam 2 > 2).
  tfc_generate_options beam = options(TFC_BEAM, 4);
  beam.beam_width = 2;
  g = generate(plan.get(), {{1, 2}, {1, 3}}, {}, beam);
  EXPECT_NE(g.error, "");

  // Options of another layout.
  tfc_generate_options bad = options(TFC_GREEDY, 4);
  bad.struct_size = 8;
  g = generate(plan.get(), {{1, 2}}, {}, bad);
  EXPECT_NE(g.error.find("struct_size"), std::string::npos) << g.error;

  // A bad sampling option.
  tfc_generate_options cold = options(TFC_SAMPLE, 4);
  cold.temperature = 0;
  g = generate(plan.get(), {{1, 2}}, {}, cold);
  EXPECT_NE(g.error.find("temperature"), std::string::npos) << g.error;

  // An input generation builds itself / one it does not know.
  Tensor ids = Tensor::ints("input_ids", TFC_I64, {1, 2}, {1, 2});
  g = generate(plan.get(), {{1, 2}}, {ids}, options(TFC_GREEDY, 4));
  EXPECT_NE(g.error.find("input_ids"), std::string::npos) << g.error;
}

// ---- greedy, token-exact with the PyTorch loops (tests/generation/manifest.json) -----------

const std::string kGenDir = kSource + "/tests/generation";

struct GreedyCase {
  std::string name, source, tokenInput, expected;
  std::vector<std::pair<std::string, std::string>> inputs; // name, file
  int64_t newTokens = 0;
};

std::vector<GreedyCase> greedyCases() {
  std::ifstream f(kGenDir + "/manifest.json");
  std::stringstream ss;
  ss << f.rdbuf();
  tfc::minijson::Value root;
  std::string why;
  std::vector<GreedyCase> out;
  if (!tfc::minijson::Parser(ss.str()).parse(root, why))
    return out;
  for (const auto &c : root["cases"].array) {
    GreedyCase g;
    g.name = c["name"].string;
    g.source = c["source"].string;
    g.tokenInput = c["token_input"].string;
    g.expected = c["expected_tokens"].string;
    g.newTokens = int64_t(c["new_tokens"].number);
    for (const auto &[name, file] : c["inputs"].object)
      g.inputs.push_back({name, file.string});
    out.push_back(std::move(g));
  }
  return out;
}

TEST(GreedyVsPyTorch, ManifestHasTheFourCases) {
  std::vector<std::string> names;
  for (const GreedyCase &c : greedyCases())
    names.push_back(c.name);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"decoder", "encdec", "gpt2_tiny", "torch_seq2seq"}));
}

class GreedyVsPyTorch : public ::testing::TestWithParam<GreedyCase> {};

/// Generates the case's prompts greedily from `source` (default: the case's model) through a
/// derived KV cache and compares with the PyTorch loop's tokens.
void checkGreedy(const GreedyCase &c, const std::string &source) {
  std::string path = compile(source, "--max-batch 4");
  ASSERT_FALSE(path.empty());
  PlanPtr plan = open(path);
  tfc_generation_info g;
  tfc_plan_get_generation_info(plan.get(), &g);
  ASSERT_TRUE(g.mode);
  EXPECT_STREQ(g.mode, "kv-cache") << g.reason;
  ASSERT_EQ(std::string(g.token_input), c.tokenInput);

  std::vector<std::vector<int64_t>> prompts;
  std::vector<Tensor> fixed;
  for (const auto &[name, file] : c.inputs) {
    tfc::support::NpyArray a;
    tfc::support::Status st = tfc::support::readNpy(kGenDir + "/" + file, a);
    ASSERT_TRUE(st.ok()) << st.error;
    ASSERT_EQ(a.shape.size(), 2u) << file;
    std::vector<int64_t> values(size_t(a.numElements()));
    for (size_t i = 0; i < values.size(); ++i) {
      if (a.dtype == tfc::support::NpyDtype::I64)
        std::memcpy(&values[i], a.data.data() + 8 * i, 8);
      else if (a.dtype == tfc::support::NpyDtype::Bool || a.dtype == tfc::support::NpyDtype::U8)
        values[i] = a.data[i];
      else
        FAIL() << file << ": unexpected dtype";
    }
    if (name == c.tokenInput) {
      for (int64_t r = 0; r < a.shape[0]; ++r)
        prompts.emplace_back(values.begin() + r * a.shape[1], values.begin() + (r + 1) * a.shape[1]);
    } else {
      tfc_dtype dtype = a.dtype == tfc::support::NpyDtype::I64 ? TFC_I64 : TFC_BOOL;
      fixed.push_back(Tensor::ints(name, dtype, a.shape, values));
    }
  }
  tfc_generate_options o = options(TFC_GREEDY, c.newTokens);
  Generated got = generate(plan.get(), prompts, fixed, o);
  ASSERT_EQ(got.error, "");

  tfc::support::NpyArray ref;
  tfc::support::Status st = tfc::support::readNpy(kGenDir + "/" + c.expected, ref);
  ASSERT_TRUE(st.ok()) << st.error;
  ASSERT_EQ(ref.shape.size(), 2u);
  ASSERT_EQ(got.sequences.size(), size_t(ref.shape[0]));
  for (int64_t r = 0; r < ref.shape[0]; ++r) {
    std::vector<int64_t> expected(size_t(ref.shape[1]));
    std::memcpy(expected.data(), ref.data.data() + 8 * r * ref.shape[1], 8 * size_t(ref.shape[1]));
    EXPECT_EQ(got.sequences[size_t(r)], expected) << c.name << " row " << r;
  }
}

TEST_P(GreedyVsPyTorch, TokenExact) { checkGreedy(GetParam(), GetParam().source); }

// An export whose batch dim is named `batch_size` (as sentence-transformers and many exporters
// name it): the batch symbol is recognised by the compiler's derivation and by the runtime's KV
// cache alike (support/SymbolNames.h), so it still generates through the cache, with one cache
// row per prompt, token-exact. Before, only the name "batch" counted: the plan fell back to
// recomputing every step.
TEST(GreedyVsPyTorch, BatchDimNamedBatchSizeStillUsesTheKvCache) {
  GreedyCase c;
  for (const GreedyCase &g : greedyCases())
    if (g.name == "gpt2_tiny")
      c = g;
  ASSERT_EQ(c.name, "gpt2_tiny");
  onnx::ModelProto model;
  {
    std::ifstream in(kSource + "/" + c.source, std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&in)) << c.source;
  }
  int renamed = 0;
  auto rename = [&](onnx::ValueInfoProto &v) {
    if (!v.type().has_tensor_type())
      return;
    for (auto &d : *v.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim())
      if (d.has_dim_param() && d.dim_param() == "batch") {
        d.set_dim_param("batch_size");
        ++renamed;
      }
  };
  for (auto &v : *model.mutable_graph()->mutable_input())
    rename(v);
  for (auto &v : *model.mutable_graph()->mutable_output())
    rename(v);
  for (auto &v : *model.mutable_graph()->mutable_value_info())
    rename(v);
  ASSERT_GT(renamed, 0) << "the export has no dim named 'batch'";
  fs::path dir = fs::temp_directory_path() / ("tfc_generation_test_" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string path = (dir / "gpt2_tiny_batch_size.onnx").string();
  {
    std::ofstream out(path, std::ios::binary);
    ASSERT_TRUE(model.SerializeToOstream(&out));
  }
  checkGreedy(c, path);
}

INSTANTIATE_TEST_SUITE_P(Manifest, GreedyVsPyTorch, ::testing::ValuesIn(greedyCases()),
                         [](const ::testing::TestParamInfo<GreedyCase> &info) {
                           return info.param.name;
                         });

TEST(Generation, CallbackStreamsTokensInOrderAndCanStop) {
  std::string path = compile("examples/models/decoder.fbs", "--max-batch 2");
  ASSERT_FALSE(path.empty());
  tfc::Plan plan;
  ASSERT_TRUE(tfc::Plan::open(path.c_str(), &plan).ok());
  tfc::Session s;
  ASSERT_TRUE(tfc::Session::create(plan, 2, &s).ok());
  tfc_generate_options o = options(TFC_GREEDY, 12);
  std::vector<std::vector<int64_t>> streamed(2);
  tfc::Generation g;
  tfc::Status st = s.generate({{1, 5, 6}, {1, 9}}, nullptr, 0, o, &g, [&](int64_t row, int64_t t) {
    streamed[size_t(row)].push_back(t);
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(g.size(), 2u);
  for (size_t r = 0; r < 2; ++r) {
    std::vector<int64_t> seq = g[r];
    ASSERT_EQ(streamed[r].size(), 12u);
    EXPECT_TRUE(std::equal(streamed[r].begin(), streamed[r].end(), seq.end() - 12)) << r;
  }
  EXPECT_EQ(g.stats().generated_tokens, 24);
  // Returning false stops the generation early.
  int calls = 0;
  st = s.generate({{1, 5, 6}}, nullptr, 0, o, &g, [&](int64_t, int64_t) { return ++calls < 3; });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(g[0].size(), 3u + 3u);
}

} // namespace
