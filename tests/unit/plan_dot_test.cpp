//===- plan_dot_test.cpp - the plan as DOT (tfc compile --graph, tfc/plan/PlanDot.h) ----------===//
//
// The emitted graph's structure against the plan it draws: one node per kernel (and port), an
// edge from each value's producer to each consumer, labels carrying the arena offsets and sizes
// the memory planner chose, the weights, and what each fused kernel was fused from.
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/plan/PlanDot.h"

#include <gmock/gmock.h>

#include <cinttypes>
#include <map>
#include <regex>
#include <set>
#include <sstream>

using ::testing::HasSubstr;
using ::testing::Not;

namespace {

struct Dot {
  std::map<std::string, std::string> nodes;               // name -> label
  std::multimap<std::pair<std::string, std::string>, std::string> edges; // (from, to) -> label
};

Dot parseDot(const std::string &text) {
  Dot d;
  std::regex node("^\\s+(f\\d+_(?:k|in|out)\\d+) \\[[^\\n]*label=\"((?:[^\"\\\\]|\\\\.)*)\"\\];$");
  std::regex edge("^\\s+(f\\d+_\\w+) -> (f\\d+_\\w+) \\[label=\"((?:[^\"\\\\]|\\\\.)*)\"\\];$");
  std::istringstream in(text);
  std::string line;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, m, edge))
      d.edges.insert({{m[1], m[2]}, m[3]});
    else if (std::regex_match(line, m, node))
      d.nodes[m[1]] = m[2];
  }
  return d;
}

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIx64, v);
  return buf;
}

} // namespace

TEST(PlanDot, NodesEdgesAndArenaLabelsFollowThePlan) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", /*fuse=*/true, result, plan);
  ASSERT_FALSE(HasFatalFailure());
  const std::string text = tfc::planner::planToDot(plan);
  ASSERT_EQ(text.rfind("digraph plan {", 0), 0u);
  Dot dot = parseDot(text);
  ASSERT_EQ(plan.functions.size(), 1u);
  const tfc::planner::Function &f = plan.functions[0];

  // One node per kernel, in order, and per port.
  size_t kernels = 0, ports = 0;
  for (const auto &[name, label] : dot.nodes)
    (name.find("_k") != std::string::npos ? kernels : ports)++;
  EXPECT_EQ(kernels, f.kernels.size());
  EXPECT_EQ(ports, f.inputs.size() + f.outputs.size());

  // Producers: each value's kernel, or its input port.
  std::map<int32_t, std::string> producer;
  for (size_t i = 0; i < f.inputs.size(); ++i)
    producer[f.inputs[i].value] = "f0_in" + std::to_string(i);
  for (size_t k = 0; k < f.kernels.size(); ++k)
    for (int32_t out : f.kernels[k].outputs)
      producer[out] = "f0_k" + std::to_string(k);

  std::set<std::tuple<std::string, std::string, std::string>> expected;
  size_t attention = 0, fusedLabels = 0, weightLines = 0;
  for (size_t k = 0; k < f.kernels.size(); ++k) {
    const tfc::planner::Kernel &kernel = f.kernels[k];
    const std::string node = "f0_k" + std::to_string(k);
    ASSERT_TRUE(dot.nodes.count(node)) << node;
    const std::string &label = dot.nodes[node];
    EXPECT_EQ(label.rfind("#" + std::to_string(k) + " " +
                              tfc::plan::EnumNameKernelKind(kernel.kind), 0), 0u) << label;
    if (!kernel.origin.empty()) {
      EXPECT_THAT(label, HasSubstr("fused: " + kernel.origin)) << node;
      ++fusedLabels;
    }
    for (int32_t in : kernel.inputs) {
      if (in < 0)
        continue;
      const tfc::planner::Value &v = f.values[size_t(in)];
      if (v.kind == tfc::plan::ValueKind::Constant) {
        EXPECT_THAT(label, HasSubstr("w: " + v.name)) << node;
        ++weightLines;
        continue;
      }
      ASSERT_TRUE(producer.count(in)) << v.name;
      std::string where = v.kind == tfc::plan::ValueKind::Intermediate
                              ? "@" + hex(v.arenaOffset) + " +" +
                                    tfc::planner::formatBytes(tfc::planner::maxBytes(plan, v))
                          : v.kind == tfc::plan::ValueKind::Input ? "input"
                                                                  : "output";
      expected.insert({producer[in], node, where});
    }
    for (int32_t out : kernel.outputs) {
      const tfc::planner::Value &v = f.values[size_t(out)];
      if (v.kind == tfc::plan::ValueKind::Intermediate)
        EXPECT_THAT(label, HasSubstr("@" + hex(v.arenaOffset))) << node;
    }
    if (kernel.kind == tfc::plan::KernelKind::Attention) {
      ++attention;
      // The attention subgraph the pass matched: its softmax and both products.
      EXPECT_THAT(kernel.origin, HasSubstr("softmax")) << node;
      EXPECT_THAT(kernel.origin, HasSubstr("matmul x2")) << node;
    }
  }
  for (size_t i = 0; i < f.outputs.size(); ++i)
    expected.insert({producer[f.outputs[i].value], "f0_out" + std::to_string(i), "output"});
  EXPECT_EQ(attention, 2u);
  EXPECT_GE(fusedLabels, 10u); // attention, layer norms, linears, gelus
  EXPECT_GT(weightLines, 10u);

  // Every expected edge is there, with its placement in the label, and there are no others.
  std::set<std::tuple<std::string, std::string, std::string>> found;
  for (const auto &[ends, label] : dot.edges) {
    std::string where = label.substr(label.find("\\n") + 2);
    // "output +12.3 KB": drop the size to compare with "output".
    if (where.rfind("output", 0) == 0)
      where = "output";
    found.insert({ends.first, ends.second, where});
  }
  EXPECT_EQ(found, expected);
  EXPECT_EQ(dot.edges.size(), expected.size());
}

TEST(PlanDot, UnfusedPlanHasNoFusedLabels) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", /*fuse=*/false, result, plan);
  ASSERT_FALSE(HasFatalFailure());
  for (const auto &k : plan.functions[0].kernels)
    EXPECT_EQ(k.origin, "") << k.name;
  EXPECT_THAT(tfc::planner::planToDot(plan), Not(HasSubstr("fused: ")));
}

TEST(PlanDot, Bytes) {
  EXPECT_EQ(tfc::planner::formatBytes(64), "64 B");
  EXPECT_EQ(tfc::planner::formatBytes(196608), "196.6 KB");
  EXPECT_EQ(tfc::planner::formatBytes(90868376), "90.9 MB");
}
