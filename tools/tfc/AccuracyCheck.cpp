//===- AccuracyCheck.cpp - run an fp32 plan and a low-precision plan, compare their outputs --===//
//
// See AccuracyCheck.h. Everything goes through the runtime's C API.
//
//===----------------------------------------------------------------------------------------===//
#include "AccuracyCheck.h"

#include "tfc/support/SymbolNames.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

namespace tfc::accuracy {
namespace {

using tfc::tfrun::HostTensor;
using PlanPtr = std::unique_ptr<tfc_plan, void (*)(tfc_plan *)>;
using SessionPtr = std::unique_ptr<tfc_session, void (*)(tfc_session *)>;
using OutputsPtr = std::unique_ptr<tfc_outputs, void (*)(tfc_outputs *)>;

const char *const kFunction = "forward";

Status take(tfc_status *s) {
  if (!s)
    return Status::success();
  std::string m = tfc_status_message(s);
  tfc_status_free(s);
  return Status::failure(m);
}

Status openPlan(const std::string &path, const char *what, PlanPtr &plan, SessionPtr &session,
                int threads) {
  tfc_plan *p = nullptr;
  if (Status s = take(tfc_plan_open(path.c_str(), nullptr, &p)); !s.ok())
    return Status::failure(std::string("the ") + what + " plan does not open: " + s.error);
  plan.reset(p);
  tfc_session_options o;
  tfc_session_options_init(&o);
  o.num_threads = threads;
  tfc_session *sess = nullptr;
  if (Status s = take(tfc_session_create(p, &o, &sess)); !s.ok())
    return Status::failure(std::string("no session on the ") + what + " plan: " + s.error);
  session.reset(sess);
  return Status::success();
}

/// The output's values as floats (f32 as they are; integers converted).
std::vector<float> valuesOf(const tfc_tensor &t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t.rank; ++i)
    n *= t.dims[i];
  std::vector<float> v(size_t(std::max<int64_t>(n, 0)));
  const auto *bytes = static_cast<const uint8_t *>(t.data);
  for (int64_t i = 0; i < n; ++i) {
    switch (t.dtype) {
    case TFC_F32: std::memcpy(&v[size_t(i)], bytes + 4 * i, 4); break;
    case TFC_I64: { int64_t x; std::memcpy(&x, bytes + 8 * i, 8); v[size_t(i)] = float(x); break; }
    case TFC_I32: { int32_t x; std::memcpy(&x, bytes + 4 * i, 4); v[size_t(i)] = float(x); break; }
    case TFC_I8: v[size_t(i)] = float(int8_t(bytes[i])); break;
    case TFC_BOOL: v[size_t(i)] = float(bytes[i] != 0); break;
    default: v[size_t(i)] = NAN; break; // f16/bf16 outputs do not occur (outputs are f32)
    }
  }
  return v;
}

std::string shapeText(const tfc_tensor &t) {
  std::string s = "[";
  for (int32_t i = 0; i < t.rank; ++i)
    s += (i ? ", " : "") + std::to_string(t.dims[i]);
  return s + "]";
}

/// Runs one set on both sessions and folds the figures of every output into `result`.
Status runSet(tfc_session *ref, tfc_session *cand, const InputSet &set, Result &result) {
  std::vector<tfc_tensor> views;
  for (const HostTensor &t : set.tensors)
    views.push_back(t.view());
  tfc_outputs *rawRef = nullptr, *rawCand = nullptr;
  if (Status s = take(tfc_session_run(ref, kFunction, views.data(), views.size(), &rawRef));
      !s.ok())
    return Status::failure("input set " + set.name + ": the fp32 plan refuses it: " + s.error);
  OutputsPtr outRef(rawRef, tfc_outputs_free);
  if (Status s = take(tfc_session_run(cand, kFunction, views.data(), views.size(), &rawCand));
      !s.ok())
    return Status::failure("input set " + set.name + ": the low-precision plan fails on it: " +
                         s.error);
  OutputsPtr outCand(rawCand, tfc_outputs_free);
  const size_t count = tfc_outputs_count(rawRef);
  if (tfc_outputs_count(rawCand) != count)
    return Status::failure("the plans' " + std::string(kFunction) + " functions have " +
                         std::to_string(count) + " and " +
                         std::to_string(tfc_outputs_count(rawCand)) + " outputs");
  const bool first = result.outputs.empty();
  for (size_t i = 0; i < count; ++i) {
    tfc_tensor r{}, c{};
    if (Status s = take(tfc_outputs_get(rawRef, i, &r)); !s.ok())
      return s;
    if (Status s = take(tfc_outputs_get(rawCand, i, &c)); !s.ok())
      return s;
    const std::string name = r.name ? r.name : "output " + std::to_string(i);
    if (shapeText(r) != shapeText(c) || r.dtype != c.dtype)
      return Status::failure("output '" + name + "' is " + tfc_dtype_name(r.dtype) + " " +
                           shapeText(r) + " in the fp32 plan but " + tfc_dtype_name(c.dtype) +
                           " " + shapeText(c) + " in the low-precision plan");
    std::vector<float> rv = valuesOf(r), cv = valuesOf(c);
    Figures f = compareValues(cv.data(), rv.data(), int64_t(rv.size()));
    if (first)
      result.outputs.push_back({kFunction, name, f, set.name});
    OutputFigures &o = result.outputs[i];
    if (!first) {
      if (f.cosine < o.figures.cosine) {
        o.figures.cosine = f.cosine;
        o.worstSet = set.name;
      }
      o.figures.elements += f.elements;
      o.figures.maxAbsError = std::max(o.figures.maxAbsError, f.maxAbsError);
      o.figures.maxRelError = std::max(o.figures.maxRelError, f.maxRelError);
      o.figures.nonFiniteMismatches += f.nonFiniteMismatches;
    }
  }
  return Status::success();
}

/// Greedy prompts and fixed inputs for a generating plan.
struct Prompts {
  std::vector<int64_t> tokens, offsets{0};
  std::vector<HostTensor> fixed;
  size_t count() const { return offsets.size() - 1; }
};

int64_t valueAt(const HostTensor &t, int64_t i) {
  switch (t.dtype) {
  case TFC_I64: { int64_t v; std::memcpy(&v, t.data.data() + 8 * i, 8); return v; }
  case TFC_I32: { int32_t v; std::memcpy(&v, t.data.data() + 4 * i, 4); return v; }
  case TFC_BOOL:
  case TFC_I8: return int64_t(int8_t(t.data[size_t(i)]));
  case TFC_F32: { float v; std::memcpy(&v, t.data.data() + 4 * i, 4); return int64_t(v); }
  default: return 0;
  }
}

/// Prompts from the first input set (its token input's rows, trimmed by its mask, the set's other
/// inputs fixed), or random (the other inputs generated, one row per prompt).
Prompts makePrompts(tfc_plan *plan, const tfc_generation_info &gen, const InputSet *calibration,
                    int64_t newTokens, uint64_t seed) {
  Prompts p;
  if (calibration) {
    const HostTensor *ids = nullptr, *mask = nullptr;
    for (const HostTensor &t : calibration->tensors) {
      if (t.name == gen.token_input) {
        ids = &t;
        continue;
      }
      if (t.name.find("mask") != std::string::npos && t.dims.size() == 2)
        mask = &t;
      p.fixed.push_back(t);
    }
    if (ids && ids->dims.size() == 2) {
      const int64_t rows = ids->dims[0], len = ids->dims[1];
      for (int64_t r = 0; r < rows; ++r) {
        int64_t n = len;
        if (mask && mask->dims == ids->dims)
          while (n > 1 && valueAt(*mask, r * len + n - 1) == 0)
            --n;
        n = std::min(n, gen.max_length - newTokens);
        for (int64_t j = 0; j < n; ++j)
          p.tokens.push_back(valueAt(*ids, r * len + j));
        p.offsets.push_back(int64_t(p.tokens.size()));
      }
    }
    return p;
  }
  std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ull);
  const int64_t prompts = std::min<int64_t>(2, std::max<int64_t>(gen.max_batch, 1));
  for (int64_t r = 0; r < prompts; ++r) {
    int64_t n = std::min<int64_t>(r == 0 ? 6 : 4, gen.max_length - newTokens);
    for (int64_t j = 0; j < n; ++j)
      p.tokens.push_back(int64_t(rng() % uint64_t(std::max<int64_t>(gen.vocab_size, 1))));
    p.offsets.push_back(int64_t(p.tokens.size()));
  }
  if (!generateInputs(plan, kFunction, prompts, 8, seed + 1, gen.token_input, p.fixed).ok())
    p.fixed.clear();
  return p;
}

/// The input the runtime's generate refuses because it builds it ("input 'X' covers every
/// position and is built by generate"), or "".
std::string builtByGenerate(const std::string &message) {
  const std::string tail = "' covers every position";
  size_t end = message.find(tail);
  if (end == std::string::npos)
    return "";
  size_t start = message.rfind("input '", end);
  return start == std::string::npos ? "" : message.substr(start + 7, end - start - 7);
}

std::vector<std::vector<int64_t>> generate(tfc_session *session, const Prompts &p,
                                           int64_t newTokens, Status &status) {
  tfc_generate_options o;
  tfc_generate_options_init(&o);
  o.strategy = TFC_GREEDY;
  o.max_new_tokens = newTokens;
  o.eos_id = -1;
  std::vector<tfc_tensor> views;
  for (const HostTensor &t : p.fixed)
    views.push_back(t.view());
  tfc_generation *raw = nullptr;
  status = take(tfc_session_generate(session, p.tokens.data(), p.offsets.data(), p.count(),
                                     views.data(), views.size(), &o, nullptr, nullptr, &raw));
  std::vector<std::vector<int64_t>> out;
  if (!status.ok())
    return out;
  for (size_t i = 0; i < tfc_generation_count(raw); ++i) {
    size_t len = 0;
    const int64_t *t = tfc_generation_tokens(raw, i, &len);
    out.emplace_back(t, t + len);
  }
  tfc_generation_free(raw);
  return out;
}

void compareGeneration(tfc_plan *plan, tfc_session *ref, tfc_session *cand,
                       const std::vector<InputSet> &sets, const Options &options,
                       GenerationFigures &g) {
  tfc_generation_info gen;
  tfc_plan_get_generation_info(plan, &gen);
  if (!gen.mode)
    return;
  const int64_t newTokens = std::min<int64_t>(options.newTokens, gen.max_length - 1);
  if (newTokens < 1) {
    g.skipped = "the plan's max length leaves no room for new tokens";
    return;
  }
  Prompts p = makePrompts(plan, gen, options.calibrateDir.empty() ? nullptr : &sets.front(),
                          newTokens, options.seed);
  if (p.count() == 0) {
    g.skipped = "the calibration set has no token input '" + std::string(gen.token_input) + "'";
    return;
  }
  Status s;
  std::vector<std::vector<int64_t>> a = generate(ref, p, newTokens, s);
  // Drop the inputs generate builds itself, one per refusal.
  for (std::string built; !s.ok() && !(built = builtByGenerate(s.error)).empty();) {
    size_t before = p.fixed.size();
    p.fixed.erase(std::remove_if(p.fixed.begin(), p.fixed.end(),
                                 [&](const HostTensor &t) { return t.name == built; }),
                  p.fixed.end());
    if (p.fixed.size() == before)
      break;
    a = generate(ref, p, newTokens, s);
  }
  if (!s.ok()) {
    g.skipped = "greedy generation on the fp32 plan failed: " + s.error;
    return;
  }
  std::vector<std::vector<int64_t>> b = generate(cand, p, newTokens, s);
  if (!s.ok()) {
    g.skipped = "greedy generation on the low-precision plan failed: " + s.error;
    return;
  }
  g.ran = true;
  g.prompts = int64_t(p.count());
  g.newTokens = newTokens;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const size_t start = size_t(p.offsets[i + 1] - p.offsets[i]);
    for (size_t j = start; j < std::max(a[i].size(), b[i].size()); ++j) {
      bool same = j < a[i].size() && j < b[i].size() && a[i][j] == b[i][j];
      if (!same) {
        int64_t step = int64_t(j - start);
        g.firstDivergence = g.firstDivergence < 0 ? step : std::min(g.firstDivergence, step);
        ++g.divergedPrompts;
        break;
      }
    }
  }
}

} // namespace

Figures compareValues(const float *x, const float *ref, int64_t n) {
  Figures f;
  f.elements = n;
  double dot = 0, nx = 0, nr = 0, maxRef = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool fx = std::isfinite(x[i]), fr = std::isfinite(ref[i]);
    if (fx != fr) {
      ++f.nonFiniteMismatches;
      continue;
    }
    if (!fx) // both not finite: inf vs -inf or NaN counts as a mismatch
      f.nonFiniteMismatches += !(x[i] == ref[i]);
    if (!fx)
      continue;
    dot += double(x[i]) * ref[i];
    nx += double(x[i]) * x[i];
    nr += double(ref[i]) * ref[i];
    maxRef = std::max(maxRef, std::fabs(double(ref[i])));
    f.maxAbsError = std::max(f.maxAbsError, std::fabs(double(x[i]) - ref[i]));
  }
  const double floor = 1e-3 * maxRef;
  for (int64_t i = 0; i < n; ++i)
    if (std::isfinite(x[i]) && std::isfinite(ref[i])) {
      double d = std::fabs(double(x[i]) - ref[i]);
      double den = std::max({std::fabs(double(ref[i])), floor, 1e-30});
      f.maxRelError = std::max(f.maxRelError, d / den);
    }
  if (f.nonFiniteMismatches)
    f.cosine = -1.0;
  else if (nx == 0 && nr == 0)
    f.cosine = 1.0;
  else if (nx == 0 || nr == 0)
    f.cosine = 0.0;
  else
    f.cosine = dot / (std::sqrt(nx) * std::sqrt(nr));
  return f;
}

const OutputFigures *Result::worst() const {
  const OutputFigures *w = nullptr;
  for (const OutputFigures &o : outputs)
    if (!w || o.figures.cosine < w->figures.cosine)
      w = &o;
  return w;
}

Status comparePlans(const std::string &reference, const std::string &candidate,
                    const Options &options, Result &result) {
  const auto start = std::chrono::steady_clock::now();
  result = {};
  result.inputs = options.calibrateDir.empty() ? "generated" : "calibrate:" + options.calibrateDir;
  PlanPtr refPlan(nullptr, tfc_plan_release), candPlan(nullptr, tfc_plan_release);
  SessionPtr refSession(nullptr, tfc_session_release), candSession(nullptr, tfc_session_release);
  if (Status s = openPlan(reference, "fp32", refPlan, refSession, options.threads); !s.ok())
    return s;
  if (Status s = openPlan(candidate, "low-precision", candPlan, candSession, options.threads);
      !s.ok())
    return s;
  std::vector<InputSet> sets;
  if (Status s = makeInputSets(refPlan.get(), kFunction, options, sets); !s.ok())
    return s;
  for (const InputSet &set : sets) {
    result.sets.push_back(set.name);
    if (Status s = runSet(refSession.get(), candSession.get(), set, result); !s.ok())
      return s;
  }
  compareGeneration(refPlan.get(), refSession.get(), candSession.get(), sets, options,
                    result.generation);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return Status::success();
}

std::string summarize(const Result &r) {
  char buf[512];
  std::string s;
  if (const OutputFigures *w = r.worst()) {
    std::snprintf(buf, sizeof buf, "%s cosine %.6f, max abs %.2e, max rel %.2e", w->output.c_str(),
                  w->figures.cosine, w->figures.maxAbsError, w->figures.maxRelError);
    s = buf;
    if (w->figures.nonFiniteMismatches)
      s += ", " + std::to_string(w->figures.nonFiniteMismatches) + " non-finite mismatch(es)";
    if (r.outputs.size() > 1)
      s += " (lowest of " + std::to_string(r.outputs.size()) + " outputs)";
  }
  const GenerationFigures &g = r.generation;
  if (g.ran) {
    std::snprintf(buf, sizeof buf, "; greedy tokens (%lld prompt(s) x %lld): ",
                  (long long)g.prompts, (long long)g.newTokens);
    s += buf;
    s += g.firstDivergence < 0 ? "equal" : "first differ at step " +
                                               std::to_string(g.firstDivergence) + " (" +
                                               std::to_string(g.divergedPrompts) + " prompt(s))";
  } else if (!g.skipped.empty()) {
    s += "; greedy tokens not compared: " + g.skipped;
  }
  return s;
}

} // namespace tfc::accuracy
