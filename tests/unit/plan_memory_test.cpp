//===- plan_memory_test.cpp - the arena planner ---------------------------===//
//
// Hand-built schedules (chains, diamonds, reshapes) under both strategies, then every example
// plan: offsets 64-aligned, blocks inside the arena, no two intermediates live at the same
// kernel sharing a byte (every pair checked), arena <= naive; the encoder's arena is at most
// half of the no-reuse size.
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/plan/MemoryPlanner.h"

#include <cstdio>

namespace fb = tfc::plan;
using namespace tfc::planner;

namespace {

/// Independent of the planner: liveness from the kernel list, every pair checked.
void expectNoOverlap(const Plan &plan, const Function &fn) {
  size_t n = fn.values.size();
  std::vector<int> first(n, -1), last(n, -1);
  for (int k = 0; k < (int)fn.kernels.size(); ++k) {
    for (int32_t v : fn.kernels[k].outputs)
      if (first[v] < 0)
        first[v] = last[v] = k;
    for (int32_t v : fn.kernels[k].inputs)
      if (v >= 0)
        last[v] = std::max(last[v], k);
  }
  // A Reshape's output may share its input's block when the input dies there.
  auto aliased = [&](size_t a, size_t b) {
    for (int k = 0; k < (int)fn.kernels.size(); ++k) {
      const Kernel &kr = fn.kernels[k];
      if (kr.kind == fb::KernelKind::Reshape && kr.inputs.size() == 1 &&
          ((size_t)kr.inputs[0] == a && (size_t)kr.outputs[0] == b) && last[a] == k)
        return true;
    }
    return false;
  };
  std::vector<size_t> inter;
  for (size_t v = 0; v < n; ++v) {
    const Value &value = fn.values[v];
    if (value.kind != fb::ValueKind::Intermediate)
      continue;
    EXPECT_EQ(value.arenaOffset % 64, 0u) << value.name;
    EXPECT_LE(value.arenaOffset + maxBytes(plan, value), fn.arenaSize) << value.name;
    EXPECT_GE(first[v], 0) << value.name;
    inter.push_back(v);
  }
  // Transitive aliases (reshape chains) are roots of the same block: group by union.
  std::vector<size_t> group(n);
  for (size_t v = 0; v < n; ++v)
    group[v] = v;
  for (size_t a : inter)
    for (size_t b : inter)
      if (aliased(a, b))
        group[b] = group[a];
  for (size_t i = 0; i < inter.size(); ++i)
    for (size_t j = i + 1; j < inter.size(); ++j) {
      size_t a = inter[i], b = inter[j];
      if (group[a] == group[b])
        continue;
      bool liveTogether = first[a] <= last[b] && first[b] <= last[a];
      if (!liveTogether)
        continue;
      uint64_t a0 = fn.values[a].arenaOffset, a1 = a0 + maxBytes(plan, fn.values[a]);
      uint64_t b0 = fn.values[b].arenaOffset, b1 = b0 + maxBytes(plan, fn.values[b]);
      bool disjoint = a1 <= b0 || b1 <= a0 || a0 == a1 || b0 == b1;
      EXPECT_TRUE(disjoint) << fn.values[a].name << " [" << a0 << ", " << a1 << ") and "
                            << fn.values[b].name << " [" << b0 << ", " << b1 << ")";
    }
}

/// A plan with one symbol `seq` (max 10) and values of `sizes[i]` f32 elements x seq.
struct Builder {
  Plan plan;
  Function &fn;
  Builder() : fn((plan.symbols.push_back({"seq", 1, 10}), plan.functions.emplace_back())) {
    fn.name = "forward";
    Value in;
    in.kind = fb::ValueKind::Input;
    in.dims = {Dim::ofSymbol(0)};
    in.port = 0;
    in.name = "in";
    fn.values.push_back(in);
    fn.inputs.push_back({"in", 0});
  }
  int32_t value(int64_t width, const std::string &name) {
    Value v;
    v.dims = {Dim::ofSymbol(0), Dim::ofSize(width)};
    v.name = name;
    fn.values.push_back(v);
    return (int32_t)fn.values.size() - 1;
  }
  void kernel(fb::KernelKind kind, std::vector<int32_t> in, std::vector<int32_t> out) {
    // The memory planner reads operands only; options are the writer's concern.
    fn.kernels.push_back({kind, std::move(in), std::move(out), {}, "k"});
  }
  void output(int32_t v) {
    fn.values[v].kind = fb::ValueKind::Output;
    fn.values[v].port = (int32_t)fn.outputs.size();
    fn.outputs.push_back({"out", v});
  }
};

class Strategies : public ::testing::TestWithParam<PlacementStrategy> {};

TEST_P(Strategies, ChainReusesBlocks) {
  Builder b;
  int32_t prev = 0;
  for (int i = 0; i < 8; ++i) {
    int32_t v = b.value(i % 2 ? 32 : 16, "v" + std::to_string(i));
    b.kernel(fb::KernelKind::Unary, {prev}, {v});
    prev = v;
  }
  int32_t out = b.value(16, "out");
  b.kernel(fb::KernelKind::Unary, {prev}, {out});
  b.output(out);
  MemoryPlanStats stats;
  MemoryPlanOptions options;
  options.strategy = GetParam();
  ASSERT_TRUE(planMemory(b.plan, b.fn, options, &stats).ok());
  expectNoOverlap(b.plan, b.fn);
  EXPECT_TRUE(checkArena(b.plan, b.fn).ok()) << checkArena(b.plan, b.fn).error;
  // Only two values live at a time: at most the two largest neighbours.
  EXPECT_EQ(stats.naiveBytes, 4u * (10 * 16 * 4) + 4u * (10 * 32 * 4));
  EXPECT_LE(stats.arenaBytes, 10u * 16 * 4 + 10u * 32 * 4 + 64);
  EXPECT_LE(b.fn.arenaSize, b.fn.naiveBytes);
  EXPECT_EQ(b.fn.values[out].arenaOffset, 0u);  // outputs are not in the arena
}

TEST_P(Strategies, DiamondKeepsBranchesApart) {
  Builder b;
  int32_t a = b.value(8, "a"), l = b.value(8, "left"), r = b.value(24, "right"),
          s = b.value(8, "sum"), t = b.value(8, "t"), u = b.value(3, "odd");
  b.kernel(fb::KernelKind::Unary, {0}, {a});
  b.kernel(fb::KernelKind::Unary, {a}, {l});
  b.kernel(fb::KernelKind::Unary, {a}, {r});
  b.kernel(fb::KernelKind::Binary, {l, r}, {s});
  b.kernel(fb::KernelKind::Binary, {s, a}, {t});  // a lives until here
  b.kernel(fb::KernelKind::Unary, {t}, {u});
  b.output(u);
  MemoryPlanOptions options;
  options.strategy = GetParam();
  ASSERT_TRUE(planMemory(b.plan, b.fn, options).ok());
  expectNoOverlap(b.plan, b.fn);
  EXPECT_TRUE(checkArena(b.plan, b.fn).ok());
  EXPECT_LE(b.fn.arenaSize, b.fn.naiveBytes);
}

TEST_P(Strategies, ReshapeAliasesADyingInput) {
  Builder b;
  int32_t a = b.value(8, "a"), r = b.value(8, "r"), c = b.value(8, "c"), r2 = b.value(8, "r2"),
          d = b.value(8, "d");
  b.kernel(fb::KernelKind::Unary, {0}, {a});
  b.kernel(fb::KernelKind::Reshape, {a}, {r});  // a dies here: r aliases a
  b.kernel(fb::KernelKind::Unary, {r}, {c});
  b.kernel(fb::KernelKind::Reshape, {c}, {r2});  // c is read again below: no alias
  b.kernel(fb::KernelKind::Binary, {r2, c}, {d});
  b.output(d);
  MemoryPlanOptions options;
  options.strategy = GetParam();
  MemoryPlanStats stats;
  ASSERT_TRUE(planMemory(b.plan, b.fn, options, &stats).ok());
  EXPECT_EQ(b.fn.values[r].arenaOffset, b.fn.values[a].arenaOffset);
  EXPECT_NE(b.fn.values[r2].arenaOffset, b.fn.values[c].arenaOffset);
  EXPECT_EQ(stats.aliasedReshapes, 1);
  expectNoOverlap(b.plan, b.fn);
  EXPECT_TRUE(checkArena(b.plan, b.fn).ok());
}

INSTANTIATE_TEST_SUITE_P(Planner, Strategies,
                         ::testing::Values(PlacementStrategy::InOrderBestFit,
                                           PlacementStrategy::LargestFirst,
                                           PlacementStrategy::Best));

TEST(MemoryPlanner, CheckArenaCatchesAnOverlap) {
  Builder b;
  int32_t a = b.value(8, "a"), c = b.value(8, "c"), d = b.value(8, "d");
  b.kernel(fb::KernelKind::Unary, {0}, {a});
  b.kernel(fb::KernelKind::Unary, {a}, {c});
  b.kernel(fb::KernelKind::Binary, {a, c}, {d});
  b.output(d);
  ASSERT_TRUE(planMemory(b.plan, b.fn).ok());
  EXPECT_TRUE(checkArena(b.plan, b.fn).ok());
  b.fn.values[c].arenaOffset = b.fn.values[a].arenaOffset;
  auto s = checkArena(b.plan, b.fn);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.error.find("overlap"), std::string::npos) << s.error;
  b.fn.values[c].arenaOffset = 32;
  EXPECT_NE(checkArena(b.plan, b.fn).error.find("64-aligned"), std::string::npos);
}

class ExampleArena : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(ExampleArena, NoOverlapAndSmallerThanNaive) {
  auto [model, fuse] = GetParam();
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  Plan plan;
  plantest::compileExample(context, model, fuse, result, plan);
  const Function &fn = plan.functions[0];
  MemoryPlanStats stats;
  {
    Function copy = fn;
    ASSERT_TRUE(planMemory(plan, copy, {}, &stats).ok());
  }
  std::printf("%s%s: arena_bytes %llu naive_bytes %llu (kept %s; in_order_best_fit %llu, "
              "largest_first %llu; %lld reshapes aliased)\n",
              model.c_str(), fuse ? "" : " --no-fuse", (unsigned long long)fn.arenaSize,
              (unsigned long long)fn.naiveBytes, result.plan.strategy.c_str(),
              (unsigned long long)stats.inOrderBytes, (unsigned long long)stats.largestFirstBytes,
              (long long)stats.aliasedReshapes);
  EXPECT_EQ(fn.arenaSize, result.plan.arenaBytes);
  EXPECT_LE(fn.arenaSize, fn.naiveBytes);
  EXPECT_TRUE(checkArena(plan, fn).ok()) << checkArena(plan, fn).error;
  expectNoOverlap(plan, fn);
  // Both strategies are valid on their own.
  for (auto strategy : {PlacementStrategy::InOrderBestFit, PlacementStrategy::LargestFirst}) {
    Function copy = fn;
    MemoryPlanOptions options;
    options.strategy = strategy;
    ASSERT_TRUE(planMemory(plan, copy, options).ok());
    expectNoOverlap(plan, copy);
    EXPECT_GE(copy.arenaSize, fn.arenaSize);
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleArena,
                         ::testing::Combine(::testing::Values("encoder", "decoder", "encdec",
                                                              "classifier"),
                                            ::testing::Bool()));

TEST(MemoryPlanner, EncoderArenaIsAtMostHalfOfNaive) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  Plan plan;
  plantest::compileExample(context, "encoder", true, result, plan);
  std::printf("encoder: arena_bytes %llu, naive_bytes %llu\n",
              (unsigned long long)result.plan.arenaBytes,
              (unsigned long long)result.plan.naiveBytes);
  EXPECT_LE(2 * result.plan.arenaBytes, result.plan.naiveBytes);
}

} // namespace
