//===- runtime_generate_test.cpp - greedy, sampling and beam search against a mock model ------===//
//
// MockModel implements StepModel with logits that are a deterministic function of each row's
// full token history (a hash-seeded table by default), so a token fed to the wrong row or a wrong
// reorder() changes the output. It checks the call protocol (one start(), row counts, tokens in
// the vocabulary, never past maxLength) and counts calls. The references recompute every logit
// from the full history, without a cache: a naive greedy loop and a brute-force enumeration.
//
//===----------------------------------------------------------------------------------------===//
#include "Error.h"
#include "Generate.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <tuple>

using namespace tfc::rt;

namespace {

using History = std::vector<int64_t>;
using LogitFn = std::function<void(const History &, float *)>;
using Prompts = std::vector<History>;

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// Logits in [-4, 4) on a grid of `levels` steps, from a hash of the whole history.
LogitFn hashLogits(int64_t vocab, uint64_t levels = 1u << 20) {
  return [vocab, levels](const History &h, float *out) {
    uint64_t x = 0x1234567ull;
    for (int64_t t : h)
      x = mix(x ^ uint64_t(t));
    for (int64_t v = 0; v < vocab; ++v) {
      x = mix(x);
      out[v] = float(double(x % levels) / double(levels) * 8.0 - 4.0);
    }
  };
}

/// The same distribution at every position: logits = log(probs).
LogitFn fixedLogits(std::vector<double> probs) {
  return [probs](const History &, float *out) {
    for (size_t v = 0; v < probs.size(); ++v)
      out[v] = float(std::log(probs[v]));
  };
}

class MockModel : public StepModel {
public:
  MockModel(int64_t vocab, int64_t maxBatch, int64_t maxLength, LogitFn fn)
      : vocab_(vocab), maxBatch_(maxBatch), maxLength_(maxLength), fn_(std::move(fn)) {}

  int64_t vocabSize() const override { return vocab_; }
  int64_t maxBatch() const override { return maxBatch_; }
  int64_t maxLength() const override { return maxLength_; }

  void start(const int64_t *tokens, int64_t batch, int64_t len, float *logits) override {
    ++starts;
    EXPECT_EQ(starts, 1) << "start() called twice";
    ASSERT_GE(batch, 1);
    ASSERT_LE(batch, maxBatch_);
    ASSERT_GE(len, 1);
    ASSERT_LE(len, maxLength_);
    rows.assign(size_t(batch), {});
    for (int64_t r = 0; r < batch; ++r) {
      for (int64_t j = 0; j < len; ++j) {
        int64_t t = tokens[r * len + j];
        ASSERT_TRUE(t >= 0 && t < vocab_) << "start() token " << t;
        rows[size_t(r)].push_back(t);
      }
      fn_(rows[size_t(r)], logits + r * vocab_);
    }
    startBatch = batch;
    startLen = len;
    maxRows = batch;
  }
  void step(const int64_t *tokens, float *logits) override {
    ASSERT_EQ(starts, 1) << "step() before start()";
    ++steps;
    for (size_t r = 0; r < rows.size(); ++r) {
      ASSERT_TRUE(tokens[r] >= 0 && tokens[r] < vocab_) << "step() token " << tokens[r];
      rows[r].push_back(tokens[r]);
      ASSERT_LE(int64_t(rows[r].size()), maxLength_) << "row " << r << " past maxLength";
      fn_(rows[r], logits + r * vocab_);
    }
  }
  void reorder(const int32_t *src, int64_t newBatch) override {
    ASSERT_EQ(starts, 1) << "reorder() before start()";
    ASSERT_GE(newBatch, 1);
    ASSERT_LE(newBatch, maxBatch_);
    ++reorders;
    std::vector<History> next;
    for (int64_t i = 0; i < newBatch; ++i) {
      ASSERT_TRUE(src[i] >= 0 && size_t(src[i]) < rows.size()) << "reorder() source " << src[i];
      next.push_back(rows[size_t(src[i])]);
    }
    rows = std::move(next);
    maxRows = std::max(maxRows, newBatch);
  }

  std::vector<History> rows; // every row's tokens so far (the "cache")
  int starts = 0, steps = 0, reorders = 0;
  int64_t startBatch = 0, startLen = 0, maxRows = 0;

private:
  int64_t vocab_, maxBatch_, maxLength_;
  LogitFn fn_;
};

/// Greedy without a cache: recompute the logits of the whole history for every token.
History naiveGreedy(const LogitFn &fn, int64_t vocab, History h, int64_t maxNew, int64_t eos) {
  std::vector<float> l(static_cast<size_t>(vocab));
  for (int64_t k = 0; k < maxNew; ++k) {
    fn(h, l.data());
    int64_t best = 0;
    for (int64_t v = 1; v < vocab; ++v)
      if (l[size_t(v)] > l[size_t(best)])
        best = v;
    h.push_back(best);
    if (best == eos)
      break;
  }
  return h;
}

/// log-softmax of one token, computed as generate() does.
double logProb(const std::vector<float> &l, int64_t token) {
  double m = *std::max_element(l.begin(), l.end()), sum = 0;
  for (float x : l)
    sum += std::exp(double(x) - m);
  return double(l[size_t(token)]) - (m + std::log(sum));
}

GenerateOptions greedyOptions(int64_t maxNew, int64_t eos = -1) {
  GenerateOptions o;
  o.maxNewTokens = maxNew;
  o.eosId = eos;
  return o;
}

GenerateOptions sampleOptions(int64_t maxNew, uint64_t seed) {
  GenerateOptions o;
  o.strategy = Strategy::Sample;
  o.maxNewTokens = maxNew;
  o.seed = seed;
  return o;
}

GenerateOptions beamOptions(int64_t maxNew, int64_t width, float lengthPenalty, int64_t eos = -1) {
  GenerateOptions o;
  o.strategy = Strategy::Beam;
  o.maxNewTokens = maxNew;
  o.beamWidth = width;
  o.lengthPenalty = lengthPenalty;
  o.eosId = eos;
  return o;
}

int64_t maxPromptLength(const Prompts &p) {
  size_t n = 0;
  for (const auto &q : p)
    n = std::max(n, q.size());
  return int64_t(n);
}

//===----------------------------------------------------------------------------------------===//
// Greedy
//===----------------------------------------------------------------------------------------===//

TEST(GenerateGreedy, EqualsNaiveArgmaxLoop) {
  const int64_t V = 50, maxNew = 10;
  Prompts prompts = {{1, 2, 3, 4}, {7, 7, 7, 7}, {49, 0, 3, 12}};
  MockModel m(V, 3, 4 + maxNew, hashLogits(V));
  GenerateResult r = generate(m, prompts, greedyOptions(maxNew));
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(r.sequences[i], naiveGreedy(hashLogits(V), V, prompts[i], maxNew, -1)) << "row " << i;
  EXPECT_EQ(m.starts, 1);
  EXPECT_EQ(m.startLen, 4);
  EXPECT_EQ(m.steps, maxNew - 1); // the last token is never fed
  EXPECT_EQ(m.reorders, 0);
  EXPECT_EQ(r.promptTokens, 12);
  EXPECT_EQ(r.generatedTokens, 3 * maxNew);
  EXPECT_EQ(r.decodeSteps, maxNew - 1);
  EXPECT_GE(r.startMs, 0);
  EXPECT_GE(r.decodeMs, 0);
}

TEST(GenerateGreedy, StopsAtEos) {
  const int64_t V = 8, maxNew = 12;
  Prompts prompts = {{1, 2}, {3, 4}, {5, 6}, {0, 7}};
  // eos = the 3rd greedy token of prompt 0 (it stops there, or earlier if it came before).
  int64_t eos = naiveGreedy(hashLogits(V), V, prompts[0], maxNew, -1)[2 + 2];
  MockModel m(V, 4, 2 + maxNew, hashLogits(V));
  GenerateResult r = generate(m, prompts, greedyOptions(maxNew, eos));
  int64_t longest = 0, total = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    History want = naiveGreedy(hashLogits(V), V, prompts[i], maxNew, eos);
    EXPECT_EQ(r.sequences[i], want) << "row " << i;
    longest = std::max<int64_t>(longest, int64_t(want.size()) - 2);
    total += int64_t(want.size()) - 2;
  }
  EXPECT_LE(r.sequences[0].size(), 5u);
  EXPECT_EQ(r.sequences[0].back(), eos);
  EXPECT_EQ(r.generatedTokens, total);
  EXPECT_EQ(m.steps, longest - 1);
  // A finished row is fed eos from then on.
  const History &fed = m.rows[0];
  for (size_t j = r.sequences[0].size(); j < fed.size(); ++j)
    EXPECT_EQ(fed[j], eos) << "position " << j;
}

TEST(GenerateGreedy, RaggedPromptsEqualEachAlone) {
  const int64_t V = 30, maxNew = 6;
  Prompts prompts = {{4, 5, 6, 7, 8}, {9}, {1, 2, 3}, {29, 28}};
  for (int64_t eos : {int64_t(-1), int64_t(3)}) {
    MockModel m(V, 4, 5 + maxNew, hashLogits(V)); // exactly enough for the longest prompt
    GenerateResult r = generate(m, prompts, greedyOptions(maxNew, eos));
    for (size_t i = 0; i < prompts.size(); ++i) {
      MockModel alone(V, 1, int64_t(prompts[i].size()) + maxNew, hashLogits(V));
      GenerateResult a = generate(alone, {prompts[i]}, greedyOptions(maxNew, eos));
      EXPECT_EQ(r.sequences[i], a.sequences[0]) << "row " << i << " eos " << eos;
      EXPECT_EQ(r.sequences[i], naiveGreedy(hashLogits(V), V, prompts[i], maxNew, eos));
    }
    EXPECT_EQ(m.startLen, 1);
    EXPECT_EQ(m.startBatch, 4);
    if (eos < 0) {
      EXPECT_EQ(m.steps, 5 + maxNew - 1 - 1); // longest prompt + maxNew - 1 - shortest
    }
    // The rows the model holds are each prompt followed by its generated tokens.
    for (size_t i = 0; i < prompts.size(); ++i)
      EXPECT_TRUE(std::equal(r.sequences[i].begin(), r.sequences[i].end() - 1, m.rows[i].begin()))
          << "row " << i;
  }
}

TEST(GenerateGreedy, ZeroNewTokensDoesNotCallTheModel) {
  MockModel m(10, 2, 10, hashLogits(10));
  GenerateResult r = generate(m, {{1, 2}, {3}}, greedyOptions(0));
  EXPECT_EQ(r.sequences, (Prompts{{1, 2}, {3}}));
  EXPECT_EQ(m.starts, 0);
  EXPECT_EQ(r.generatedTokens, 0);
}

TEST(GenerateGreedy, TiesGoToTheLowestId) {
  MockModel m(6, 1, 8, [](const History &, float *l) {
    float v[6] = {0, 2, 1, 2, 2, -1};
    std::copy(v, v + 6, l);
  });
  EXPECT_EQ(generate(m, {{0}}, greedyOptions(3)).sequences[0], (History{0, 1, 1, 1}));
}

//===----------------------------------------------------------------------------------------===//
// Beam search
//===----------------------------------------------------------------------------------------===//

TEST(GenerateBeam, WidthOneEqualsGreedy) {
  const int64_t V = 12, maxNew = 9;
  Prompts prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8, 9}, {10, 11}};
  for (int64_t eos : {int64_t(-1), int64_t(2), int64_t(5)}) {
    for (float lp : {0.f, 0.5f, 1.f, 2.f}) {
      MockModel g(V, 4, 5 + maxNew, hashLogits(V)), b(V, 4, 5 + maxNew, hashLogits(V));
      GenerateResult rg = generate(g, prompts, greedyOptions(maxNew, eos));
      GenerateResult rb = generate(b, prompts, beamOptions(maxNew, 1, lp, eos));
      EXPECT_EQ(rb.sequences, rg.sequences) << "eos " << eos << " lengthPenalty " << lp;
      EXPECT_EQ(b.reorders, 0);
      EXPECT_EQ(b.steps, g.steps);
      EXPECT_EQ(rb.generatedTokens, rg.generatedTokens);
    }
  }
}

/// The best continuation of `prompt` among all vocab^n, scored sum logprob / n^lp.
History bruteForceBest(const LogitFn &fn, int64_t V, const History &prompt, int64_t n, float lp) {
  History best;
  double bestScore = -INFINITY;
  std::vector<float> l(static_cast<size_t>(V));
  int64_t total = 1;
  for (int64_t k = 0; k < n; ++k)
    total *= V;
  for (int64_t code = 0; code < total; ++code) {
    History h = prompt;
    double s = 0;
    for (int64_t k = 0, c = code; k < n; ++k, c /= V) {
      fn(h, l.data());
      s += logProb(l, c % V);
      h.push_back(c % V);
    }
    double score = s / std::pow(double(n), double(lp));
    if (score > bestScore) {
      bestScore = score;
      best = h;
    }
  }
  return best;
}

TEST(GenerateBeam, WideBeamFindsTheBruteForceBest) {
  // 5 tokens, 3 new: a width of 25 keeps every 2-token prefix, so the search is exhaustive.
  const int64_t V = 5, maxNew = 3, W = 25;
  Prompts prompts = {{1, 2}, {3, 4, 0}};
  for (float lp : {1.f, 0.f}) {
    MockModel m(V, 2 * W, 3 + maxNew, hashLogits(V));
    GenerateResult r = generate(m, prompts, beamOptions(maxNew, W, lp));
    for (size_t i = 0; i < prompts.size(); ++i)
      EXPECT_EQ(r.sequences[i], bruteForceBest(hashLogits(V), V, prompts[i], maxNew, lp))
          << "prompt " << i << " lengthPenalty " << lp;
    EXPECT_EQ(m.startBatch, 2);
    EXPECT_EQ(m.maxRows, 2 * W);
    EXPECT_GE(m.reorders, 1);
    EXPECT_EQ(m.steps, 3 + maxNew - 1 - 2);
  }
}

/// Beam search without a cache, over all vocab continuations of every beam (generate() looks at
/// the best beamWidth + 1 tokens of each beam only), following the documented rules.
History naiveBeam(const LogitFn &fn, int64_t V, const History &prompt, int64_t maxNew, int64_t W,
                  float lp, int64_t eos) {
  struct Beam {
    History h;
    double s;
  };
  struct Cand {
    double s;
    size_t beam;
    int64_t rank, token;
  };
  std::vector<Beam> beams = {{prompt, 0}};
  std::vector<std::pair<double, History>> done; // best first, at most W
  auto finish = [&](double score, History h) {
    auto at = std::upper_bound(done.begin(), done.end(), score,
                               [](double s, const auto &x) { return s > x.first; });
    done.insert(at, {score, std::move(h)});
    if (int64_t(done.size()) > W)
      done.pop_back();
  };
  std::vector<float> l(static_cast<size_t>(V));
  for (int64_t len = 1; len <= maxNew; ++len) {
    std::vector<Cand> cands;
    for (size_t b = 0; b < beams.size(); ++b) {
      fn(beams[b].h, l.data());
      std::vector<int64_t> ids(static_cast<size_t>(V));
      std::iota(ids.begin(), ids.end(), 0);
      std::stable_sort(ids.begin(), ids.end(),
                       [&](int64_t a, int64_t c) { return l[size_t(a)] > l[size_t(c)]; });
      for (int64_t r = 0; r < V; ++r)
        cands.push_back({beams[b].s + logProb(l, ids[size_t(r)]), b, r, ids[size_t(r)]});
    }
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Cand &a, const Cand &c) { return a.s > c.s; });
    std::vector<Beam> next;
    for (size_t r = 0; r < cands.size() && int64_t(next.size()) < W; ++r) {
      History h = beams[cands[r].beam].h;
      h.push_back(cands[r].token);
      if (cands[r].token == eos) {
        if (int64_t(r) < W)
          finish(cands[r].s / std::pow(double(len), double(lp)), h);
        continue;
      }
      next.push_back({h, cands[r].s});
    }
    beams = next;
    if (len == maxNew) {
      for (const Beam &b : beams)
        finish(b.s / std::pow(double(len), double(lp)), b.h);
      break;
    }
    double bestLive = -INFINITY;
    for (const Beam &b : beams)
      bestLive = std::max(bestLive, b.s / std::pow(double(len), double(lp)));
    if (beams.empty() || (int64_t(done.size()) >= W && done[0].first >= bestLive))
      break;
  }
  return done.empty() ? prompt : done[0].second;
}

TEST(GenerateBeam, EqualsANaiveBeamSearchWithoutCache) {
  // Many small configurations: ragged prompts, eos or none, length penalties, widths 1-4, a
  // coarse logit grid (ties). The mock's logits depend on each row's whole history, so a wrong
  // reorder() source, a token fed to the wrong row or a wrong score shows.
  uint64_t x = 99;
  for (int trial = 0; trial < 1500; ++trial) {
    x = mix(x);
    int64_t V = 3 + int64_t(x % 7), W = 1 + int64_t((x >> 8) % 4), maxNew = 1 + int64_t((x >> 16) % 6);
    int64_t eos = int64_t((x >> 24) % uint64_t(V + 1)) - 1;
    float lp = std::vector<float>{0.f, .7f, 1.f, 1.5f, -.5f}[(x >> 32) % 5];
    int64_t count = 1 + int64_t((x >> 40) % 3);
    Prompts prompts;
    for (int64_t i = 0; i < count; ++i) {
      History p;
      for (int64_t j = 0, n = 1 + int64_t((x >> (44 + 4 * i)) % 4); j < n; ++j)
        p.push_back(int64_t(mix(x + uint64_t(17 * i + j)) % uint64_t(V)));
      prompts.push_back(p);
    }
    auto fn = hashLogits(V, 16);
    MockModel m(V, count * W, maxPromptLength(prompts) + maxNew, fn);
    GenerateResult r = generate(m, prompts, beamOptions(maxNew, W, lp, eos));
    for (size_t i = 0; i < prompts.size(); ++i)
      ASSERT_EQ(r.sequences[i], naiveBeam(fn, V, prompts[i], maxNew, W, lp, eos))
          << "trial " << trial << " prompt " << i << " V " << V << " W " << W << " maxNew "
          << maxNew << " eos " << eos << " lp " << lp;
  }
}

TEST(GenerateBeam, BeatsGreedyWhereGreedyIsShortSighted) {
  // Greedy takes token 1 (p .5) then a flat continuation; token 2 (p .4) leads to a sure token.
  auto fn = [](const History &h, float *l) {
    double p[3] = {1e-3, 1e-3, 1e-3};
    if (h.size() == 1) {
      p[1] = .5, p[2] = .4;
    } else if (h.back() == 2) {
      p[0] = .98;
    } else {
      p[0] = p[1] = p[2] = 1. / 3;
    }
    for (int v = 0; v < 3; ++v)
      l[v] = float(std::log(p[v]));
  };
  MockModel g(3, 2, 3, fn), b(3, 2, 3, fn);
  EXPECT_EQ(generate(g, {{0}}, greedyOptions(2)).sequences[0], (History{0, 1, 0}));
  EXPECT_EQ(generate(b, {{0}}, beamOptions(2, 2, 1.f)).sequences[0], (History{0, 2, 0}));
}

TEST(GenerateBeam, LengthPenaltyChangesTheWinner) {
  // eos = 0. After the prompt: eos .5, token 2 .45; after 2: eos .6. So "eos" has logprob -0.693
  // and "2 eos" -1.310: the sum prefers the short one, the per-token mean (-0.655) the long one.
  auto fn = [](const History &h, float *l) {
    double p[3];
    if (h.size() == 1)
      p[0] = .5, p[1] = .05, p[2] = .45;
    else if (h.back() == 2)
      p[0] = .6, p[1] = .1, p[2] = .3;
    else
      p[0] = .2, p[1] = .4, p[2] = .4;
    for (int v = 0; v < 3; ++v)
      l[v] = float(std::log(p[v]));
  };
  for (float lp : {0.f, 1.f, 2.f}) {
    MockModel m(3, 2, 3, fn);
    GenerateResult r = generate(m, {{1}}, beamOptions(2, 2, lp, 0));
    EXPECT_EQ(r.sequences[0], (lp == 0 ? History{1, 0} : History{1, 2, 0})) << "lengthPenalty " << lp;
  }
}

TEST(GenerateBeam, StopsWhenTheBestFinishedCannotBeBeaten) {
  // eos (0) has p .9 everywhere: "eos" finishes at once; the next step finishes two more
  // hypotheses, the live beams cannot reach -0.105, so the search stops after one step.
  auto fn = fixedLogits({.9, .1 / 3, .1 / 3, .1 / 3});
  MockModel m(4, 4, 3 + 20, fn);
  GenerateResult r = generate(m, {{1, 2, 3}, {3}}, beamOptions(20, 2, 1.f, 0));
  EXPECT_EQ(r.sequences, (Prompts{{1, 2, 3, 0}, {3, 0}}));
  // Prompt 1 generates from position 1 and is done at position 2 (one step); prompt 0 is fed
  // its prompt for two steps, generates at position 3 and is done one step later.
  EXPECT_EQ(m.steps, 3);
  EXPECT_EQ(r.generatedTokens, 2);
}

TEST(GenerateBeam, EosHypothesesEndWithEosAndLiveOnesRunToMaxNew) {
  const int64_t V = 6, maxNew = 7;
  Prompts prompts = {{1}, {2, 3}, {4, 5, 1}};
  for (int64_t eos : {int64_t(0), int64_t(1), int64_t(4)}) {
    MockModel m(V, 3 * 3, 3 + maxNew, hashLogits(V, 64));
    GenerateResult r = generate(m, prompts, beamOptions(maxNew, 3, 1.f, eos));
    for (size_t i = 0; i < prompts.size(); ++i) {
      int64_t n = int64_t(r.sequences[i].size() - prompts[i].size());
      EXPECT_GE(n, 1);
      EXPECT_LE(n, maxNew);
      EXPECT_TRUE(std::equal(prompts[i].begin(), prompts[i].end(), r.sequences[i].begin()));
      for (size_t j = prompts[i].size(); j + 1 < r.sequences[i].size(); ++j)
        EXPECT_NE(r.sequences[i][j], eos) << "eos inside the sequence of prompt " << i;
      if (n < maxNew) {
        EXPECT_EQ(r.sequences[i].back(), eos) << "prompt " << i << " stopped early without eos";
      }
    }
    EXPECT_LE(m.steps, 3 + maxNew - 1 - 1);
  }
}

//===----------------------------------------------------------------------------------------===//
// Sampling
//===----------------------------------------------------------------------------------------===//

TEST(GenerateSample, SameSeedSameTokens) {
  const int64_t V = 40;
  Prompts prompts = {{1, 2}, {3}, {4, 5, 6}};
  using Knobs = std::tuple<int64_t, float, float>; // topK, topP, temperature
  for (auto [k, p, t] : std::initializer_list<Knobs>{{0, 1.f, 1.f}, {5, 1.f, .8f}, {0, .7f, 1.3f},
                                                     {10, .9f, 1.f}}) {
    GenerateOptions o = sampleOptions(20, 42);
    o.topK = k, o.topP = p, o.temperature = t;
    MockModel m1(V, 3, 23, hashLogits(V)), m2(V, 3, 23, hashLogits(V));
    GenerateResult a = generate(m1, prompts, o), b = generate(m2, prompts, o);
    EXPECT_EQ(a.sequences, b.sequences) << "topK " << k << " topP " << p;
  }
}

TEST(GenerateSample, ARowDependsOnlyOnItsPromptSeedAndIndex) {
  // Row 1 keeps its prompt while the others change length: forced steps draw no random numbers,
  // and each row has its own stream.
  const int64_t V = 40, maxNew = 12;
  GenerateOptions o = sampleOptions(maxNew, 5);
  o.topK = 20, o.topP = .9f;
  MockModel m1(V, 3, 6 + maxNew, hashLogits(V)), m2(V, 3, 6 + maxNew, hashLogits(V));
  GenerateResult a = generate(m1, {{1}, {2, 3, 4}, {5, 6}}, o);
  GenerateResult b = generate(m2, {{7, 8, 9, 10, 11, 12}, {2, 3, 4}, {13}}, o);
  EXPECT_EQ(a.sequences[1], b.sequences[1]);
  EXPECT_EQ(m1.startLen, 1);
  EXPECT_EQ(m2.startLen, 1);
}

TEST(GenerateSample, KnownTokensForAFixedSeed) {
  // Pins the PRNG, the seeding and the draw: a change of any of them changes these tokens.
  // (Checked against an independent Python version of splitmix64 + xoshiro256**: on 8 equal
  // probabilities the token is floor(8 * uniform).)
  MockModel m(8, 1, 16, fixedLogits({.125, .125, .125, .125, .125, .125, .125, .125}));
  GenerateResult r = generate(m, {{0}}, sampleOptions(12, 2024));
  History got(r.sequences[0].begin() + 1, r.sequences[0].end());
  MockModel m2(8, 1, 16, fixedLogits({.125, .125, .125, .125, .125, .125, .125, .125}));
  EXPECT_EQ(generate(m2, {{0}}, sampleOptions(12, 2024)).sequences[0], r.sequences[0]);
  EXPECT_EQ(got, (History{4, 7, 2, 4, 0, 1, 1, 5, 5, 6, 6, 3}));
}

TEST(GenerateSample, DifferentSeedsDifferOnAFlatDistribution) {
  const int64_t V = 50;
  auto flat = [](const History &, float *l) { std::fill(l, l + 50, 0.f); };
  MockModel m1(V, 2, 40, flat), m2(V, 2, 40, flat);
  GenerateResult a = generate(m1, {{0}, {0}}, sampleOptions(32, 1));
  GenerateResult b = generate(m2, {{0}, {0}}, sampleOptions(32, 2));
  EXPECT_NE(a.sequences[0], b.sequences[0]);
  EXPECT_NE(a.sequences[1], b.sequences[1]);
  EXPECT_NE(a.sequences[0], a.sequences[1]) << "rows must have their own streams";
}

TEST(GenerateSample, TopKOneAndTinyTopPEqualGreedy) {
  const int64_t V = 30, maxNew = 15;
  Prompts prompts = {{1, 2, 3}, {4}, {5, 6}};
  MockModel g(V, 3, 3 + maxNew, hashLogits(V, 256)); // a coarse grid: ties happen
  GenerateResult rg = generate(g, prompts, greedyOptions(maxNew, 7));
  GenerateOptions k1 = sampleOptions(maxNew, 9), p0 = sampleOptions(maxNew, 9);
  k1.topK = 1, k1.temperature = 3.f, k1.eosId = 7;
  p0.topP = 1e-6f, p0.temperature = .5f, p0.eosId = 7;
  MockModel mk(V, 3, 3 + maxNew, hashLogits(V, 256)), mp(V, 3, 3 + maxNew, hashLogits(V, 256));
  EXPECT_EQ(generate(mk, prompts, k1).sequences, rg.sequences);
  EXPECT_EQ(generate(mp, prompts, p0).sequences, rg.sequences);
}

/// Token frequencies of `rows` x `draws` samples from a fixed distribution.
std::vector<double> frequencies(const std::vector<double> &probs, GenerateOptions o,
                                int64_t rows = 8, int64_t draws = 2500) {
  int64_t V = int64_t(probs.size());
  MockModel m(V, rows, 1 + draws, fixedLogits(probs));
  o.maxNewTokens = draws;
  GenerateResult r = generate(m, Prompts(size_t(rows), History{0}), o);
  std::vector<double> f(size_t(V), 0);
  for (const auto &s : r.sequences)
    for (size_t j = 1; j < s.size(); ++j)
      f[size_t(s[j])] += 1.0 / double(rows * draws);
  return f;
}

// 20000 draws: a frequency's standard deviation is sqrt(p(1-p)/20000) <= 0.0036, so 0.015 is
// more than 4 standard deviations: a correct sampler passes for all but ~1e-4 of the seeds
// (the seed is fixed, so the outcome is too), a wrong probability of 0.02 or more fails.
constexpr double kTolerance = 0.015;

TEST(GenerateSample, FrequenciesMatchTheDistribution) {
  std::vector<double> p = {.1, .2, .3, .4};
  struct Case {
    const char *name;
    int64_t topK;
    float topP, temperature;
    std::vector<double> want;
  };
  double s2 = std::sqrt(.1) + std::sqrt(.2) + std::sqrt(.3) + std::sqrt(.4);
  std::vector<Case> cases = {
      {"plain", 0, 1.f, 1.f, {.1, .2, .3, .4}},
      {"temperature 2", 0, 1.f, 2.f,
       {std::sqrt(.1) / s2, std::sqrt(.2) / s2, std::sqrt(.3) / s2, std::sqrt(.4) / s2}},
      {"topK 2", 2, 1.f, 1.f, {0, 0, .3 / .7, .4 / .7}},
      {"topK 3", 3, 1.f, 1.f, {0, .2 / .9, .3 / .9, .4 / .9}},
      {"topP .65", 0, .65f, 1.f, {0, 0, .3 / .7, .4 / .7}},
      {"topP .75", 0, .75f, 1.f, {0, .2 / .9, .3 / .9, .4 / .9}},
      {"topP .35", 0, .35f, 1.f, {0, 0, 0, 1}},
      {"topK 3 then topP .5", 3, .5f, 1.f, {0, 0, .3 / .7, .4 / .7}},
  };
  for (const Case &c : cases) {
    GenerateOptions o = sampleOptions(0, 12345);
    o.topK = c.topK, o.topP = c.topP, o.temperature = c.temperature;
    std::vector<double> f = frequencies(p, o);
    for (size_t v = 0; v < p.size(); ++v) {
      if (c.want[v] == 0)
        EXPECT_EQ(f[v], 0) << c.name << ": token " << v << " must be excluded";
      else
        EXPECT_NEAR(f[v], c.want[v], kTolerance) << c.name << ": token " << v;
    }
  }
}

TEST(GenerateSample, TopKTiesKeepTheLowerIds) {
  std::vector<double> p = {.3, .3, .3, .1}; // tokens 0, 1, 2 tie
  GenerateOptions o = sampleOptions(0, 7);
  o.topK = 2;
  std::vector<double> f = frequencies(p, o);
  EXPECT_NEAR(f[0], .5, kTolerance);
  EXPECT_NEAR(f[1], .5, kTolerance);
  EXPECT_EQ(f[2], 0);
  EXPECT_EQ(f[3], 0);
}

//===----------------------------------------------------------------------------------------===//
// Errors and the callback
//===----------------------------------------------------------------------------------------===//

void expectError(const Prompts &prompts, const GenerateOptions &o, tfc_code code,
                 const std::string &message) {
  MockModel m(10, 4, 8, hashLogits(10));
  try {
    generate(m, prompts, o);
    ADD_FAILURE() << "no error; expected: " << message;
  } catch (const Error &e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(message), std::string::npos)
        << "got: " << e.what() << "\nexpected: " << message;
  }
  EXPECT_EQ(m.starts, 0) << "the model was called before the options were checked";
}

TEST(GenerateErrors, BadOptionsAndPrompts) {
  GenerateOptions s = sampleOptions(4, 0), b = beamOptions(4, 2, 1.f), g = greedyOptions(4);
  auto with = [](GenerateOptions o, auto f) {
    f(o);
    return o;
  };
  expectError({{1}}, with(s, [](auto &o) { o.temperature = 0; }), TFC_INVALID_ARGUMENT,
              "temperature 0 must be finite and > 0");
  expectError({{1}}, with(s, [](auto &o) { o.temperature = -1; }), TFC_INVALID_ARGUMENT,
              "temperature -1 must be finite and > 0");
  expectError({{1}}, with(s, [](auto &o) { o.topP = 0; }), TFC_INVALID_ARGUMENT,
              "topP 0 is outside (0, 1]");
  expectError({{1}}, with(s, [](auto &o) { o.topP = 1.5f; }), TFC_INVALID_ARGUMENT,
              "topP 1.5 is outside (0, 1]");
  expectError({{1}}, with(s, [](auto &o) { o.topK = -2; }), TFC_INVALID_ARGUMENT,
              "topK -2 is negative");
  expectError({{1}}, with(b, [](auto &o) { o.beamWidth = 0; }), TFC_INVALID_ARGUMENT,
              "beamWidth 0 must be >= 1");
  expectError({{1}, {}}, g, TFC_INVALID_ARGUMENT, "prompt 1 is empty");
  expectError({}, g, TFC_INVALID_ARGUMENT, "no prompts");
  expectError({{1}, {2}, {3}}, b, TFC_OUT_OF_RANGE,
              "3 prompts x beam width 2 exceed the model's max batch 4");
  expectError({{1}, {2}, {3}, {4}, {5}}, g, TFC_OUT_OF_RANGE,
              "5 prompts x beam width 1 exceed the model's max batch 4");
  expectError({{1}, {1, 2, 3, 4, 5}}, g, TFC_OUT_OF_RANGE,
              "prompt 1 has 5 tokens + maxNewTokens 4 = 9 positions; the plan generates up to 8 "
              "positions");
  // A prompt that alone is too long is named with its length, whatever maxNewTokens is.
  expectError({{1}, std::vector<int64_t>(11, 1)}, with(g, [](auto &o) { o.maxNewTokens = 0; }),
              TFC_OUT_OF_RANGE, "prompt 1 has 11 tokens; the plan generates up to 8 positions");
  expectError({{1}, {1, 10}}, g, TFC_OUT_OF_RANGE,
              "prompt 1 token 1 is 10, outside the vocabulary [0, 10)");
  expectError({{-1}}, g, TFC_OUT_OF_RANGE, "prompt 0 token 0 is -1, outside the vocabulary [0, 10)");
  expectError({{1}}, with(g, [](auto &o) { o.eosId = 10; }), TFC_OUT_OF_RANGE,
              "eosId 10 is outside the vocabulary [0, 10)");
  expectError({{1}}, with(g, [](auto &o) { o.maxNewTokens = -1; }), TFC_INVALID_ARGUMENT,
              "maxNewTokens -1 is negative");
}

TEST(GenerateErrors, NanLogits) {
  MockModel m(4, 1, 8, [](const History &, float *l) { l[0] = 0, l[1] = NAN, l[2] = l[3] = 1; });
  try {
    generate(m, {{1}}, greedyOptions(2));
    ADD_FAILURE() << "no error";
  } catch (const Error &e) {
    EXPECT_EQ(e.code(), TFC_INTERNAL);
    EXPECT_STREQ(e.what(), "generate: row 0 has a NaN logit at token 1");
  }
}

TEST(GenerateCallback, SeesTokensInOrder) {
  const int64_t V = 20, maxNew = 5;
  Prompts prompts = {{1, 2, 3}, {4}};
  std::vector<std::pair<int64_t, int64_t>> calls;
  MockModel m(V, 2, 3 + maxNew, hashLogits(V));
  GenerateResult r = generate(m, prompts, greedyOptions(maxNew), [&](int64_t row, int64_t t) {
    calls.push_back({row, t});
    return true;
  });
  // Row 1 (prompt length 1) generates 2 tokens before row 0 starts; then they alternate.
  std::vector<std::pair<int64_t, int64_t>> want;
  for (int64_t pos = 1; pos < 3 + maxNew; ++pos)
    for (int64_t row = 0; row < 2; ++row) {
      int64_t k = pos - int64_t(prompts[size_t(row)].size());
      if (k >= 0 && k < maxNew)
        want.push_back({row, r.sequences[size_t(row)][prompts[size_t(row)].size() + size_t(k)]});
    }
  EXPECT_EQ(calls, want);
  EXPECT_EQ(int64_t(calls.size()), r.generatedTokens);
}

TEST(GenerateCallback, ReturningFalseStopsGeneration) {
  const int64_t V = 20;
  for (Strategy st : {Strategy::Greedy, Strategy::Sample}) {
    GenerateOptions o = greedyOptions(10);
    o.strategy = st;
    MockModel m(V, 2, 11, hashLogits(V));
    int calls = 0;
    GenerateResult r = generate(m, {{1}, {2}}, o, [&](int64_t, int64_t) { return ++calls < 5; });
    EXPECT_EQ(calls, 5);
    EXPECT_EQ(r.generatedTokens, 5);
    EXPECT_EQ(r.sequences[0].size(), 1u + 3u); // row 0 got tokens 1, 3, 5
    EXPECT_EQ(r.sequences[1].size(), 1u + 2u);
    EXPECT_EQ(m.steps, 2);
  }
}

TEST(GenerateCallback, BeamReportsTheFinalSequences) {
  const int64_t V = 10, maxNew = 4;
  Prompts prompts = {{1}, {2, 3}};
  std::vector<std::pair<int64_t, int64_t>> calls;
  MockModel m(V, 6, 2 + maxNew, hashLogits(V));
  GenerateResult r = generate(m, prompts, beamOptions(maxNew, 3, 1.f), [&](int64_t row, int64_t t) {
    calls.push_back({row, t});
    return calls.size() < 6;
  });
  std::vector<std::pair<int64_t, int64_t>> want;
  for (int64_t row = 0; row < 2; ++row)
    for (size_t j = prompts[size_t(row)].size(); j < r.sequences[size_t(row)].size(); ++j)
      want.push_back({row, r.sequences[size_t(row)][j]});
  ASSERT_EQ(want.size(), 8u);
  want.resize(6); // the 6th call returned false
  EXPECT_EQ(calls, want);
}

} // namespace
