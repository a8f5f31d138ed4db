//===- Generate.cpp - greedy, sampling and beam-search decoding over a StepModel ---------------===//
//
// All rows share one cache position `pos` (the number of tokens each row has in the cache).
// start() gets the shortest prompt length; each iteration then reads the logits of position pos,
// chooses (or forces) one token per row and, unless every row is finished, feeds them with step().
// Buffers are sized once before the loop; the loop allocates only for finished beam hypotheses.
//
//===----------------------------------------------------------------------------------------===//
#include "Generate.h"

#include "Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

namespace tfc::rt {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

//===----------------------------------------------------------------------------------------===//
// Random numbers: xoshiro256** seeded by splitmix64; identical on every platform.
//===----------------------------------------------------------------------------------------===//

uint64_t splitmix64(uint64_t &x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Rng {
public:
  Rng(uint64_t seed, uint64_t row) {
    uint64_t x = seed ^ (0xd1b54a32d192ed03ull * (row + 1));
    for (uint64_t &w : s_)
      w = splitmix64(x);
  }
  uint64_t next() {
    uint64_t result = rotl(s_[1] * 5, 7) * 9;
    uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

//===----------------------------------------------------------------------------------------===//
// Per-row token choice
//===----------------------------------------------------------------------------------------===//

/// Index of the largest finite logit (ties: lowest id); throws on NaN / +inf / all -inf.
int64_t checkedArgmax(const float *logits, int64_t vocab, int64_t row) {
  int64_t best = -1;
  for (int64_t v = 0; v < vocab; ++v) {
    float x = logits[v];
    if (std::isnan(x) || x == std::numeric_limits<float>::infinity())
      fail(TFC_INTERNAL, "generate: row %lld has a %s logit at token %lld", (long long)row,
           std::isnan(x) ? "NaN" : "+inf", (long long)v);
    if (x != -std::numeric_limits<float>::infinity() && (best < 0 || x > logits[best]))
      best = v;
  }
  if (best < 0)
    fail(TFC_INTERNAL, "generate: row %lld has no finite logit", (long long)row);
  return best;
}

/// Orders token ids by logit, largest first, ties to the lower id (a total order).
struct ByLogit {
  const float *logits;
  bool operator()(int32_t a, int32_t b) const {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  }
};

/// Temperature, top-k, top-p and the draw, with buffers reused across calls.
class Sampler {
public:
  Sampler(const GenerateOptions &o, int64_t vocab)
      : vocab_(vocab), invTemperature_(1.0 / double(o.temperature)),
        topK_(o.topK > 0 && o.topK < vocab ? o.topK : vocab), topP_(o.topP),
        sorted_(topK_ < vocab || o.topP < 1.0f), ids_(size_t(vocab)), probs_(size_t(vocab)) {
    std::iota(ids_.begin(), ids_.end(), 0);
  }

  int64_t draw(const float *logits, int64_t row, Rng &rng) {
    int64_t best = checkedArgmax(logits, vocab_, row);
    int64_t n = vocab_;
    if (sorted_) {
      std::iota(ids_.begin(), ids_.end(), 0);
      ByLogit cmp{logits};
      n = topK_;
      if (n < vocab_)
        std::nth_element(ids_.begin(), ids_.begin() + n, ids_.end(), cmp);
      std::sort(ids_.begin(), ids_.begin() + n, cmp);
    }
    // Softmax of logits / temperature over the candidates, unnormalized, in double.
    double m = logits[best], sum = 0;
    for (int64_t j = 0; j < n; ++j) {
      probs_[j] = std::exp((double(logits[ids_[j]]) - m) * invTemperature_);
      sum += probs_[j];
    }
    int64_t keep = n;
    if (topP_ < 1.0f) {
      double target = double(topP_) * sum, cum = 0;
      for (int64_t j = 0; j < n; ++j) {
        cum += probs_[j];
        if (cum >= target) {
          keep = j + 1;
          break;
        }
      }
    }
    double kept = 0;
    for (int64_t j = 0; j < keep; ++j)
      kept += probs_[j];
    double u = rng.uniform() * kept, acc = 0;
    int64_t last = -1;
    for (int64_t j = 0; j < keep; ++j) {
      if (probs_[j] <= 0)
        continue;
      acc += probs_[j];
      last = j;
      if (u < acc)
        return ids_[j];
    }
    return last >= 0 ? ids_[last] : best; // u rounded up to `kept`
  }

private:
  int64_t vocab_;
  double invTemperature_;
  int64_t topK_;
  float topP_;
  bool sorted_;
  std::vector<int32_t> ids_;
  std::vector<double> probs_;
};

//===----------------------------------------------------------------------------------------===//
// Checks and the shared start
//===----------------------------------------------------------------------------------------===//

void validate(const StepModel &model, const std::vector<std::vector<int64_t>> &prompts,
              const GenerateOptions &o) {
  int64_t vocab = model.vocabSize();
  if (prompts.empty())
    fail(TFC_INVALID_ARGUMENT, "generate: no prompts");
  if (o.maxNewTokens < 0)
    fail(TFC_INVALID_ARGUMENT, "generate: maxNewTokens %lld is negative", (long long)o.maxNewTokens);
  if (o.eosId < -1 || o.eosId >= vocab)
    fail(TFC_OUT_OF_RANGE, "generate: eosId %lld is outside the vocabulary [0, %lld) (-1: none)",
         (long long)o.eosId, (long long)vocab);
  int64_t width = 1;
  if (o.strategy == Strategy::Sample) {
    if (!(o.temperature > 0) || std::isinf(o.temperature))
      fail(TFC_INVALID_ARGUMENT, "generate: temperature %g must be finite and > 0",
           double(o.temperature));
    if (o.topK < 0)
      fail(TFC_INVALID_ARGUMENT, "generate: topK %lld is negative (0: off)", (long long)o.topK);
    if (!(o.topP > 0 && o.topP <= 1))
      fail(TFC_INVALID_ARGUMENT, "generate: topP %g is outside (0, 1]", double(o.topP));
  } else if (o.strategy == Strategy::Beam) {
    if (o.beamWidth < 1)
      fail(TFC_INVALID_ARGUMENT, "generate: beamWidth %lld must be >= 1", (long long)o.beamWidth);
    if (!std::isfinite(o.lengthPenalty))
      fail(TFC_INVALID_ARGUMENT, "generate: lengthPenalty %g must be finite",
           double(o.lengthPenalty));
    width = o.beamWidth;
  }
  int64_t count = int64_t(prompts.size());
  if (width > model.maxBatch() || count > model.maxBatch() / width)
    fail(TFC_OUT_OF_RANGE, "generate: %lld prompts x beam width %lld exceed the model's max batch %lld",
         (long long)count, (long long)width, (long long)model.maxBatch());
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto &p = prompts[i];
    if (p.empty())
      fail(TFC_INVALID_ARGUMENT, "generate: prompt %zu is empty", i);
    if (int64_t(p.size()) > model.maxLength())
      fail(TFC_OUT_OF_RANGE, "generate: prompt %zu has %zu tokens; the plan generates up to %lld "
           "positions", i, p.size(), (long long)model.maxLength());
    if (o.maxNewTokens > model.maxLength() - int64_t(p.size()))
      fail(TFC_OUT_OF_RANGE,
           "generate: prompt %zu has %zu tokens + maxNewTokens %lld = %llu positions; the plan "
           "generates up to %lld positions",
           i, p.size(), (long long)o.maxNewTokens,
           (unsigned long long)p.size() + (unsigned long long)o.maxNewTokens,
           (long long)model.maxLength());
    for (size_t j = 0; j < p.size(); ++j)
      if (p[j] < 0 || p[j] >= vocab)
        fail(TFC_OUT_OF_RANGE, "generate: prompt %zu token %zu is %lld, outside the vocabulary [0, %lld)",
             i, j, (long long)p[j], (long long)vocab);
  }
}

/// What every strategy shares: prompt lengths, buffers, the timed model calls.
struct Run {
  StepModel &model;
  const std::vector<std::vector<int64_t>> &prompts;
  const GenerateOptions &o;
  GenerateResult &result;
  int64_t vocab, count, minLen = 0, filler;
  std::vector<float> logits;  // [rows, vocab]
  std::vector<int64_t> tokens; // [rows], fed to step()

  Run(StepModel &m, const std::vector<std::vector<int64_t>> &p, const GenerateOptions &opt,
      GenerateResult &r, int64_t rows)
      : model(m), prompts(p), o(opt), result(r), vocab(m.vocabSize()), count(int64_t(p.size())),
        filler(opt.eosId >= 0 ? opt.eosId : 0), logits(size_t(rows * vocab)), tokens(size_t(rows)) {
    minLen = int64_t(p[0].size());
    for (const auto &q : p)
      minLen = std::min(minLen, int64_t(q.size()));
  }
  int64_t length(int64_t i) const { return int64_t(prompts[size_t(i)].size()); }

  /// start() on the first minLen tokens of every prompt: logits of row i at row i.
  void start() {
    std::vector<int64_t> first(size_t(count * minLen));
    for (int64_t i = 0; i < count; ++i)
      std::copy_n(prompts[size_t(i)].begin(), minLen, first.begin() + i * minLen);
    auto t0 = Clock::now();
    model.start(first.data(), count, minLen, logits.data());
    result.startMs += msSince(t0);
  }
  void step() {
    auto t0 = Clock::now();
    model.step(tokens.data(), logits.data());
    result.decodeMs += msSince(t0);
    ++result.decodeSteps;
  }
  void reorder(const int32_t *src, int64_t rows) {
    auto t0 = Clock::now();
    model.reorder(src, rows);
    result.decodeMs += msSince(t0);
  }
};

//===----------------------------------------------------------------------------------------===//
// Greedy and sampling: one row per prompt
//===----------------------------------------------------------------------------------------===//

void decodeRows(Run &run, const TokenCallback &onToken) {
  const GenerateOptions &o = run.o;
  auto &seqs = run.result.sequences;
  bool sample = o.strategy == Strategy::Sample;
  std::vector<Rng> rngs;
  if (sample)
    for (int64_t i = 0; i < run.count; ++i)
      rngs.emplace_back(o.seed, uint64_t(i));
  Sampler sampler(o, run.vocab);
  std::vector<int64_t> generated(size_t(run.count), 0);
  std::vector<char> finished(size_t(run.count), 0);
  run.start();
  for (int64_t pos = run.minLen;; ++pos) {
    bool allFinished = true;
    for (int64_t i = 0; i < run.count; ++i) {
      if (pos < run.length(i)) { // still feeding its prompt
        run.tokens[i] = run.prompts[size_t(i)][size_t(pos)];
        allFinished = false;
        continue;
      }
      if (finished[i]) {
        run.tokens[i] = run.filler;
        continue;
      }
      const float *l = run.logits.data() + i * run.vocab;
      int64_t t = sample ? sampler.draw(l, i, rngs[size_t(i)]) : checkedArgmax(l, run.vocab, i);
      seqs[size_t(i)].push_back(t);
      ++generated[i];
      ++run.result.generatedTokens;
      run.tokens[i] = t;
      if (t == o.eosId || generated[i] == o.maxNewTokens)
        finished[i] = 1;
      else
        allFinished = false;
      if (onToken && !onToken(i, t))
        return;
    }
    if (allFinished)
      return;
    run.step();
  }
}

//===----------------------------------------------------------------------------------------===//
// Beam search: prompt g owns rows g*W .. g*W+W-1 once expanded (before the first step, the
// cache has one row per prompt: row g)
//===----------------------------------------------------------------------------------------===//

struct Hypothesis {
  double score; // length-penalized
  std::vector<int64_t> tokens; // generated tokens
};

struct Candidate {
  double score; // cumulative log-probability
  int32_t beam, rank;
  int64_t token;
};

/// The `k` best tokens of one row by logit (ties: lower id), best first, into `out`.
void topTokens(const float *logits, int64_t vocab, int64_t k, std::vector<int32_t> &out) {
  out.clear();
  ByLogit better{logits};
  for (int64_t v = 0; v < vocab; ++v) {
    if (int64_t(out.size()) == k && !better(int32_t(v), out.back()))
      continue;
    if (int64_t(out.size()) == k)
      out.pop_back();
    auto at = std::upper_bound(out.begin(), out.end(), int32_t(v), better);
    out.insert(at, int32_t(v));
  }
}

class BeamSearch {
public:
  BeamSearch(Run &run)
      : run_(run), o_(run.o), width_(run.o.beamWidth), rows_(run.count * width_),
        maxNew_(run.o.maxNewTokens), scores_(size_t(rows_), kDead), history_(size_t(rows_ * maxNew_)),
        scratch_(size_t(width_ * maxNew_)), scratchScores_(size_t(width_)), src_(size_t(rows_)),
        genLen_(size_t(run.count), 0), done_(size_t(run.count), 0), finished_(size_t(run.count)) {
    for (int64_t g = 0; g < run.count; ++g)
      scores_[size_t(g * width_)] = 0; // beam 0 alive, the others not yet
    perBeam_ = std::min<int64_t>(run.vocab, width_ + (o_.eosId >= 0 ? 1 : 0));
    candidates_.reserve(size_t(width_ * perBeam_));
    top_.reserve(size_t(perBeam_ + 1));
  }

  void run(const TokenCallback &onToken) {
    run_.start();
    for (int64_t pos = run_.minLen;; ++pos) {
      bool allDone = true;
      for (int64_t g = 0; g < run_.count; ++g) {
        for (int64_t b = 0; b < width_; ++b) {
          src_[size_t(g * width_ + b)] = int32_t(rowOf(g, b));
          run_.tokens[size_t(g * width_ + b)] = run_.filler;
        }
        if (done_[g])
          continue;
        if (pos < run_.length(g)) {
          for (int64_t b = 0; b < width_; ++b)
            run_.tokens[size_t(g * width_ + b)] = run_.prompts[size_t(g)][size_t(pos)];
        } else {
          expand(g);
        }
        allDone = allDone && done_[g];
      }
      if (allDone)
        break;
      bool identity = true; // skip no-op reorders: width 1 never reorders
      for (int64_t r = 0; r < rows_ && identity; ++r)
        identity = src_[size_t(r)] == r;
      if (!identity)
        run_.reorder(src_.data(), rows_);
      expanded_ = true;
      run_.step();
    }
    emit(onToken);
  }

private:
  static constexpr double kDead = -std::numeric_limits<double>::infinity();

  int64_t rowOf(int64_t g, int64_t b) const { return expanded_ ? g * width_ + b : g; }
  double penalized(double score, int64_t len) const {
    return score / std::pow(double(len), double(o_.lengthPenalty));
  }
  void addFinished(int64_t g, double score, const int64_t *tokens, int64_t len, int64_t eos) {
    auto &list = finished_[size_t(g)];
    if (int64_t(list.size()) == width_ && !(score > list.back().score))
      return;
    Hypothesis h{score, std::vector<int64_t>(tokens, tokens + len)};
    if (eos >= 0)
      h.tokens.push_back(eos);
    auto at = std::upper_bound(list.begin(), list.end(), score,
                               [](double s, const Hypothesis &x) { return s > x.score; });
    list.insert(at, std::move(h));
    if (int64_t(list.size()) > width_)
      list.pop_back();
  }

  /// One generated token for prompt g: the best width_ continuations of its live beams.
  void expand(int64_t g) {
    int64_t len = genLen_[size_t(g)], vocab = run_.vocab;
    candidates_.clear();
    for (int64_t b = 0; b < width_; ++b) {
      double s = scores_[size_t(g * width_ + b)];
      if (s == kDead)
        continue;
      int64_t row = rowOf(g, b);
      const float *l = run_.logits.data() + row * vocab;
      double m = l[checkedArgmax(l, vocab, row)], sum = 0;
      for (int64_t v = 0; v < vocab; ++v)
        sum += std::exp(double(l[v]) - m);
      double lse = m + std::log(sum);
      topTokens(l, vocab, perBeam_, top_);
      for (size_t r = 0; r < top_.size(); ++r)
        candidates_.push_back({s + (double(l[top_[r]]) - lse), int32_t(b), int32_t(r), top_[r]});
    }
    std::sort(candidates_.begin(), candidates_.end(), [](const Candidate &a, const Candidate &b) {
      if (a.score != b.score)
        return a.score > b.score;
      return a.beam != b.beam ? a.beam < b.beam : a.rank < b.rank;
    });
    int64_t live = 0;
    for (size_t r = 0; r < candidates_.size() && live < width_; ++r) {
      const Candidate &c = candidates_[r];
      const int64_t *parent = history_.data() + (g * width_ + c.beam) * maxNew_;
      if (c.token == o_.eosId) {
        if (int64_t(r) < width_)
          addFinished(g, penalized(c.score, len + 1), parent, len, c.token);
        continue;
      }
      std::copy_n(parent, len, scratch_.data() + live * maxNew_);
      scratch_[size_t(live * maxNew_ + len)] = c.token;
      scratchScores_[size_t(live)] = c.score;
      src_[size_t(g * width_ + live)] = int32_t(rowOf(g, c.beam));
      run_.tokens[size_t(g * width_ + live)] = c.token;
      ++live;
    }
    for (int64_t b = live; b < width_; ++b) { // fewer continuations than beams
      scratchScores_[size_t(b)] = kDead;
      src_[size_t(g * width_ + b)] = int32_t(rowOf(g, 0));
    }
    std::copy(scratch_.begin(), scratch_.end(), history_.begin() + g * width_ * maxNew_);
    std::copy(scratchScores_.begin(), scratchScores_.end(), scores_.begin() + g * width_);
    genLen_[size_t(g)] = ++len;

    auto &list = finished_[size_t(g)];
    double bestLive = kDead;
    for (int64_t b = 0; b < live; ++b)
      bestLive = std::max(bestLive, penalized(scratchScores_[size_t(b)], len));
    if (len == maxNew_) {
      for (int64_t b = 0; b < live; ++b)
        addFinished(g, penalized(scratchScores_[size_t(b)], len), scratch_.data() + b * maxNew_,
                    len, -1);
      done_[g] = 1;
    } else if (live == 0 || (int64_t(list.size()) >= width_ && list.front().score >= bestLive)) {
      done_[g] = 1;
    }
  }

  void emit(const TokenCallback &onToken) {
    bool calling = bool(onToken);
    for (int64_t g = 0; g < run_.count; ++g) {
      auto &seq = run_.result.sequences[size_t(g)];
      const auto &list = finished_[size_t(g)];
      if (list.empty())
        continue;
      const auto &best = list.front().tokens;
      seq.insert(seq.end(), best.begin(), best.end());
      run_.result.generatedTokens += int64_t(best.size());
      for (size_t k = 0; k < best.size() && calling; ++k)
        calling = onToken(g, best[k]);
    }
  }

  Run &run_;
  const GenerateOptions &o_;
  int64_t width_, rows_, maxNew_, perBeam_ = 0;
  bool expanded_ = false;
  std::vector<double> scores_;    // [rows]: cumulative log-probability, kDead for no beam
  std::vector<int64_t> history_;  // [rows, maxNew]: generated tokens of each beam
  std::vector<int64_t> scratch_;  // [width, maxNew]: one prompt's new beams
  std::vector<double> scratchScores_;
  std::vector<int32_t> src_;      // [rows]: reorder() sources of the next step
  std::vector<int64_t> genLen_;   // per prompt: tokens generated by its beams
  std::vector<char> done_;
  std::vector<std::vector<Hypothesis>> finished_; // per prompt, best first, at most width
  std::vector<Candidate> candidates_;
  std::vector<int32_t> top_;
};

} // namespace

GenerateResult generate(StepModel &model, const std::vector<std::vector<int64_t>> &prompts,
                        const GenerateOptions &options, const TokenCallback &onToken) {
  validate(model, prompts, options);
  GenerateResult result;
  result.sequences = prompts;
  for (auto &s : result.sequences) {
    result.promptTokens += int64_t(s.size());
    s.reserve(s.size() + size_t(options.maxNewTokens));
  }
  if (options.maxNewTokens == 0)
    return result;
  bool beam = options.strategy == Strategy::Beam;
  int64_t rows = int64_t(prompts.size()) * (beam ? options.beamWidth : 1);
  Run run(model, prompts, options, result, rows);
  if (beam)
    BeamSearch(run).run(onToken);
  else
    decodeRows(run, onToken);
  return result;
}

} // namespace tfc::rt
