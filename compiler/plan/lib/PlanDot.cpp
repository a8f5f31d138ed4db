//===- PlanDot.cpp - the plan as a Graphviz DOT graph ------------------------------------------===//
#include "tfc/plan/PlanDot.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <set>
#include <tuple>

namespace tfc::planner {
namespace {

constexpr size_t kMaxWeightLines = 4; // constants listed per kernel; the rest are counted

/// `text` inside a DOT double-quoted string: quotes and backslashes escaped, control bytes
/// dropped (line breaks are added by the caller as \l or \n).
std::string esc(const std::string &text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20)
      out += c;
  }
  return out;
}

const char *fillOf(fb::KernelKind kind) {
  switch (kind) {
  case fb::KernelKind::Attention:
  case fb::KernelKind::CachedAttention:
  case fb::KernelKind::CacheStore:
    return "#fdd0a2";
  case fb::KernelKind::Linear:
  case fb::KernelKind::GatedLinear:
  case fb::KernelKind::MatMul:
    return "#c6dbef";
  case fb::KernelKind::LayerNorm:
  case fb::KernelKind::RmsNorm:
  case fb::KernelKind::LayerNormalization:
    return "#c7e9c0";
  case fb::KernelKind::Embedding:
  case fb::KernelKind::Gather:
    return "#dadaeb";
  default:
    return "#eeeeee";
  }
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

/// Where a value lives: "@0x3000 +196.6 KB" (arena), "input", "output", "constant".
std::string placement(const Plan &plan, const Value &v) {
  switch (v.kind) {
  case fb::ValueKind::Intermediate:
    return "@" + hex(v.arenaOffset) + " +" + formatBytes(maxBytes(plan, v));
  case fb::ValueKind::Input:
    return "input";
  case fb::ValueKind::Output:
    return "output +" + formatBytes(maxBytes(plan, v));
  case fb::ValueKind::Constant:
    return "constant";
  }
  return "";
}

std::string typeOf(const Plan &plan, const Value &v) {
  return std::string(dtypeName(v.dtype)) + " " + dimsToString(plan, v.dims);
}

std::string kernelLabel(const Plan &plan, const Function &f, size_t index) {
  const Kernel &k = f.kernels[index];
  std::string l = "#" + std::to_string(index) + " " + fb::EnumNameKernelKind(k.kind) + "\\l";
  if (!k.name.empty())
    l += esc(k.name) + "\\l";
  if (!k.origin.empty())
    l += "fused: " + esc(k.origin) + "\\l";
  size_t weights = 0;
  for (int32_t in : k.inputs) {
    if (in < 0 || size_t(in) >= f.values.size() || f.values[size_t(in)].kind != fb::ValueKind::Constant)
      continue;
    const Value &v = f.values[size_t(in)];
    if (weights++ >= kMaxWeightLines)
      continue;
    uint64_t bytes = v.constant >= 0 && size_t(v.constant) < plan.constants.size()
                         ? plan.constants[size_t(v.constant)].bytes.size
                         : maxBytes(plan, v);
    l += "w: " + esc(v.name) + " " + typeOf(plan, v) + " " + formatBytes(bytes) + "\\l";
  }
  if (weights > kMaxWeightLines)
    l += "(+" + std::to_string(weights - kMaxWeightLines) + " more constants)\\l";
  for (int32_t out : k.outputs) {
    if (out < 0 || size_t(out) >= f.values.size())
      continue;
    const Value &v = f.values[size_t(out)];
    l += "out: " + typeOf(plan, v) + " " + placement(plan, v) + "\\l";
  }
  return l;
}

void writeFunction(const Plan &plan, size_t fi, std::string &s) {
  const Function &f = plan.functions[fi];
  const std::string p = "f" + std::to_string(fi) + "_";
  s += "  subgraph cluster_f" + std::to_string(fi) + " {\n";
  s += "    label=\"" + esc(f.name) + ": " + std::to_string(f.kernels.size()) +
       " kernels, arena " + formatBytes(f.arenaSize) + " (" + formatBytes(f.naiveBytes) +
       " without reuse)\";\n";
  std::vector<int> producer(f.values.size(), -1);
  for (size_t ki = 0; ki < f.kernels.size(); ++ki)
    for (int32_t out : f.kernels[ki].outputs)
      if (out >= 0 && size_t(out) < f.values.size())
        producer[size_t(out)] = int(ki);
  for (size_t i = 0; i < f.inputs.size(); ++i) {
    const Value *v = f.inputs[i].value >= 0 && size_t(f.inputs[i].value) < f.values.size()
                         ? &f.values[size_t(f.inputs[i].value)] : nullptr;
    s += "    " + p + "in" + std::to_string(i) + " [shape=ellipse, fillcolor=\"#ffffcc\", label=\"" +
         esc(f.inputs[i].name) + "\\n" + (v ? typeOf(plan, *v) : "") + "\"];\n";
  }
  for (size_t ki = 0; ki < f.kernels.size(); ++ki)
    s += "    " + p + "k" + std::to_string(ki) + " [fillcolor=\"" + fillOf(f.kernels[ki].kind) +
         "\", label=\"" + kernelLabel(plan, f, ki) + "\"];\n";
  for (size_t i = 0; i < f.outputs.size(); ++i)
    s += "    " + p + "out" + std::to_string(i) + " [shape=ellipse, fillcolor=\"#ffffcc\", label=\"" +
         esc(f.outputs[i].name) + "\"];\n";
  // Edges: producer (a kernel or an input port) -> consumer, once per value.
  std::set<std::tuple<std::string, std::string, int32_t>> seen;
  auto edge = [&](const std::string &from, const std::string &to, int32_t value) {
    if (!seen.insert({from, to, value}).second)
      return;
    const Value &v = f.values[size_t(value)];
    s += "    " + from + " -> " + to + " [label=\"" + typeOf(plan, v) + "\\n" +
         placement(plan, v) + "\"];\n";
  };
  auto source = [&](int32_t value) -> std::string {
    if (int k = producer[size_t(value)]; k >= 0)
      return p + "k" + std::to_string(k);
    for (size_t i = 0; i < f.inputs.size(); ++i)
      if (f.inputs[i].value == value)
        return p + "in" + std::to_string(i);
    return "";
  };
  for (size_t ki = 0; ki < f.kernels.size(); ++ki)
    for (int32_t in : f.kernels[ki].inputs) {
      if (in < 0 || size_t(in) >= f.values.size() ||
          f.values[size_t(in)].kind == fb::ValueKind::Constant)
        continue;
      if (std::string from = source(in); !from.empty())
        edge(from, p + "k" + std::to_string(ki), in);
    }
  for (size_t i = 0; i < f.outputs.size(); ++i) {
    int32_t value = f.outputs[i].value;
    if (value < 0 || size_t(value) >= f.values.size())
      continue;
    if (std::string from = source(value); !from.empty())
      edge(from, p + "out" + std::to_string(i), value);
  }
  s += "  }\n";
}

} // namespace

std::string formatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1000)
    std::snprintf(buf, sizeof buf, "%" PRIu64 " B", bytes);
  else if (bytes < 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.1f KB", double(bytes) / 1e3);
  else if (bytes < uint64_t(1000) * 1000 * 1000)
    std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1e6);
  else
    std::snprintf(buf, sizeof buf, "%.2f GB", double(bytes) / 1e9);
  return buf;
}

std::string planToDot(const Plan &plan) {
  uint64_t weights = 0;
  for (const Constant &c : plan.constants)
    weights += c.bytes.size;
  std::string s = "digraph plan {\n";
  s += "  graph [rankdir=TB, fontname=\"DejaVu Sans\", fontsize=12, labelloc=t, label=\"" +
       esc(plan.model.name.empty() ? "plan" : plan.model.name) + " (" +
       esc(plan.model.family) + "): " + (plan.target == fb::Target::Cuda ? "cuda" : "cpu") + ", " +
       std::to_string(plan.constants.size()) + " constants, " + formatBytes(weights) +
       " of weights\"];\n";
  // A wider margin than Graphviz's default: SVG viewers' font metrics differ from dot's.
  s += "  node [shape=box, style=\"rounded,filled\", margin=\"0.2,0.06\", fontname=\"DejaVu Sans\", "
       "fontsize=10];\n";
  s += "  edge [fontname=\"DejaVu Sans\", fontsize=8, color=\"#555555\"];\n";
  for (size_t fi = 0; fi < plan.functions.size(); ++fi)
    writeFunction(plan, fi, s);
  s += "}\n";
  return s;
}

} // namespace tfc::planner
