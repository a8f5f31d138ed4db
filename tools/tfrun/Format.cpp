//===- Format.cpp - tfrun's text output: describe, summaries, timings ------===//
#include "Format.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <map>

namespace tfc::tfrun {
namespace {

std::string format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0)
    return {};
  return std::string(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
}

float halfToFloat(uint16_t h) {
  uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float v;
  if (exp == 0)
    v = std::ldexp(static_cast<float>(mant), -24);
  else if (exp == 31)
    v = mant ? NAN : INFINITY;
  else
    v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  return sign ? -v : v;
}

float bf16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float v;
  std::memcpy(&v, &bits, 4);
  return v;
}

double elementAt(tfc_dtype dtype, const void *data, int64_t i) {
  const auto *bytes = static_cast<const uint8_t *>(data);
  switch (dtype) {
  case TFC_F32: {
    float v;
    std::memcpy(&v, bytes + 4 * i, 4);
    return v;
  }
  case TFC_F16:
  case TFC_BF16: {
    uint16_t v;
    std::memcpy(&v, bytes + 2 * i, 2);
    return dtype == TFC_F16 ? halfToFloat(v) : bf16ToFloat(v);
  }
  case TFC_I32: {
    int32_t v;
    std::memcpy(&v, bytes + 4 * i, 4);
    return v;
  }
  case TFC_I64: {
    int64_t v;
    std::memcpy(&v, bytes + 8 * i, 8);
    return static_cast<double>(v);
  }
  case TFC_I8:
    return static_cast<int8_t>(bytes[i]);
  case TFC_BOOL:
    return bytes[i] ? 1 : 0;
  }
  return 0;
}

std::string formatValue(tfc_dtype dtype, double v) {
  bool isFloat = dtype == TFC_F32 || dtype == TFC_F16 || dtype == TFC_BF16;
  if (!isFloat)
    return format("%lld", static_cast<long long>(v));
  return format("%.6g", v);
}

std::string formatDim(const tfc_dim_info &d) {
  return d.symbol ? std::string(d.symbol) : std::to_string(d.size);
}

std::string formatBytes(uint64_t bytes) {
  if (bytes >= (1u << 20))
    return format("%llu bytes (%.1f MiB)", static_cast<unsigned long long>(bytes),
                  static_cast<double>(bytes) / (1 << 20));
  if (bytes >= (1u << 10))
    return format("%llu bytes (%.1f KiB)", static_cast<unsigned long long>(bytes),
                  static_cast<double>(bytes) / (1 << 10));
  return format("%llu bytes", static_cast<unsigned long long>(bytes));
}

} // namespace

const char *dtypeName(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_F32: return "f32";
  case TFC_F16: return "f16";
  case TFC_BF16: return "bf16";
  case TFC_I32: return "i32";
  case TFC_I64: return "i64";
  case TFC_I8: return "i8";
  case TFC_BOOL: return "bool";
  }
  return "?";
}

std::string formatDims(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

std::string formatPort(const tfc_port_info &port) {
  std::string s = std::string(port.name ? port.name : "?") + ": " + dtypeName(port.dtype) + " [";
  for (int32_t i = 0; i < port.rank && i < TFC_MAX_RANK; ++i)
    s += (i ? ", " : "") + formatDim(port.dims[i]);
  return s + "]";
}

std::string formatDescription(const PlanDescription &plan) {
  const tfc_plan_info &info = plan.info;
  auto str = [](const char *s) { return std::string(s && *s ? s : "(none)"); };
  std::string out = "plan: " + plan.path + "\n";
  out += format("  format version: %u.%u\n", info.format_major, info.format_minor);
  out += "  producer: " + str(info.producer) + "\n";
  out += "  target: " + str(info.target) +
         (plan.runnable.empty() ? "" : " (" + plan.runnable + ")") + "\n";
  out += "  precision: " + str(plan.precision.c_str()) +
         (plan.weightPrecision.empty() || plan.weightPrecision == "fp32"
              ? ""
              : " (weights " + plan.weightPrecision + ")") +
         "\n";
  out += "  family: " + str(info.family) + "\n";
  out += "  model: " + str(info.model_name) + "\n";
  std::string tokens;
  const std::pair<const char *, int32_t> ids[] = {
      {"start", info.start_id}, {"end", info.end_id}, {"unk", info.unk_id}, {"pad", info.pad_id}};
  for (const auto &[name, id] : ids)
    if (id >= 0)
      tokens += format("%s%s=%d", tokens.empty() ? "" : " ", name, id);
  out += "  special tokens: " + (tokens.empty() ? std::string("(none)") : tokens) + "\n";
  out += "  weights: " + formatBytes(info.weights_bytes) + "\n";

  for (const FunctionDescription &f : plan.functions) {
    out += "function " + f.name + ":\n";
    out += "  arena: " + formatBytes(f.arenaBytes) + "\n";
    out += "  inputs:\n";
    for (const auto &p : f.inputs)
      out += "    " + formatPort(p) + "\n";
    out += "  outputs:\n";
    for (const auto &p : f.outputs)
      out += "    " + formatPort(p) + "\n";
    // Every symbol once, in order of first use, with its bounds.
    std::vector<std::string> seen;
    std::string symbols;
    for (const auto *ports : {&f.inputs, &f.outputs})
      for (const auto &p : *ports)
        for (int32_t i = 0; i < p.rank && i < TFC_MAX_RANK; ++i) {
          const tfc_dim_info &d = p.dims[i];
          if (!d.symbol || std::find(seen.begin(), seen.end(), d.symbol) != seen.end())
            continue;
          seen.push_back(d.symbol);
          symbols += format("    %s in [%lld, %lld]\n", d.symbol, static_cast<long long>(d.min),
                            static_cast<long long>(d.max));
        }
    if (!symbols.empty())
      out += "  symbols:\n" + symbols;
  }
  return out;
}

std::string formatTensorSummary(const std::string &name, tfc_dtype dtype,
                                const std::vector<int64_t> &dims, const void *data) {
  std::string out = name + ": " + dtypeName(dtype) + " " + formatDims(dims) + "\n";
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  if (n == 0)
    return out + "  (empty)\n";
  const int64_t shown = std::min<int64_t>(n, 8);
  out += "  first:";
  for (int64_t i = 0; i < shown; ++i)
    out += " " + formatValue(dtype, elementAt(dtype, data, i));
  out += n > shown ? " ...\n" : "\n";

  double lo = INFINITY, hi = -INFINITY, sum = 0;
  int64_t nans = 0;
  for (int64_t i = 0; i < n; ++i) {
    double v = elementAt(dtype, data, i);
    if (std::isnan(v)) {
      ++nans;
      continue;
    }
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    sum += v;
  }
  if (nans == n)
    return out + format("  all %lld values are nan\n", static_cast<long long>(n));
  out += "  min " + formatValue(dtype, lo) + "  max " + formatValue(dtype, hi) +
         format("  mean %.6g", sum / static_cast<double>(n - nans));
  if (nans)
    out += format("  nan %lld", static_cast<long long>(nans));
  return out + "\n";
}

LatencyStats computeLatency(std::vector<double> ms) {
  LatencyStats s;
  s.runs = ms.size();
  if (ms.empty())
    return s;
  std::sort(ms.begin(), ms.end());
  auto rank = [&](double p) {
    size_t r = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::min(std::max<size_t>(r, 1), ms.size()) - 1];
  };
  s.min = ms.front();
  s.max = ms.back();
  s.p50 = rank(0.5);
  s.p90 = rank(0.9);
  double sum = 0;
  for (double v : ms)
    sum += v;
  s.mean = sum / static_cast<double>(ms.size());
  return s;
}

std::string formatLatency(const LatencyStats &s, int warmup) {
  return format("latency over %zu run(s) (%d warmup): min %.3f ms  p50 %.3f ms  p90 %.3f ms  "
                "max %.3f ms  mean %.3f ms\n",
                s.runs, warmup, s.min, s.p50, s.p90, s.max, s.mean);
}

std::vector<KernelTime> aggregateProfile(const std::vector<KernelTime> &entries) {
  std::map<std::pair<std::string, std::string>, KernelTime> merged;
  for (const KernelTime &e : entries) {
    KernelTime &m = merged[{e.kind, e.name}];
    m.kind = e.kind;
    m.name = e.name;
    m.calls += e.calls;
    m.totalMs += e.totalMs;
  }
  std::vector<KernelTime> out;
  for (auto &[key, k] : merged)
    out.push_back(k);
  std::stable_sort(out.begin(), out.end(), [](const KernelTime &a, const KernelTime &b) {
    return a.totalMs > b.totalMs; // map order breaks ties: kind, then name
  });
  return out;
}

std::string formatProfile(const std::vector<KernelTime> &kernels, int runs) {
  double total = 0;
  for (const KernelTime &k : kernels)
    total += k.totalMs;
  auto share = [&](double ms) { return total > 0 ? 100.0 * ms / total : 0.0; };
  std::string out = format("profile: %zu kernel(s), %.3f ms over %d run(s)\n", kernels.size(),
                           total, runs);
  out += format("  %10s %7s %8s  %-20s %s\n", "total ms", "share", "calls", "kind", "name");
  for (const KernelTime &k : kernels)
    out += format("  %10.3f %6.1f%% %8llu  %-20s %s\n", k.totalMs, share(k.totalMs),
                  static_cast<unsigned long long>(k.calls), k.kind.c_str(), k.name.c_str());

  std::map<std::string, KernelTime> byKind;
  for (const KernelTime &k : kernels) {
    KernelTime &m = byKind[k.kind];
    m.kind = k.kind;
    m.calls += k.calls;
    m.totalMs += k.totalMs;
  }
  std::vector<KernelTime> kinds;
  for (auto &[kind, k] : byKind)
    kinds.push_back(k);
  std::stable_sort(kinds.begin(), kinds.end(),
                   [](const KernelTime &a, const KernelTime &b) { return a.totalMs > b.totalMs; });
  out += "profile by kind:\n";
  for (const KernelTime &k : kinds)
    out += format("  %10.3f %6.1f%% %8llu  %s\n", k.totalMs, share(k.totalMs),
                  static_cast<unsigned long long>(k.calls), k.kind.c_str());
  return out;
}

} // namespace tfc::tfrun
