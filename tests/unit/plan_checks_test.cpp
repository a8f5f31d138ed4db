//===- plan_checks_test.cpp - the compiler refuses what the runtime would refuse ---===//
//
// Everything the runtime checks when it loads a plan, the compiler checks before it writes
// one: ranks within TFC_MAX_RANK, sizes at the bounds without overflow, KV caches within the
// runtime's limit, and, as the last word, the written file opened with the runtime's loader
// before it replaces the destination (a tokenizer the runtime cannot build, ...).
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/lower/cpu/CpuKernelLowering.h"
#include "tfc/lower/cpu/LowerToPlan.h"
#include "tfc/plan/PlanWriter.h"
#include "tfc/tfc_runtime.h"

#include "tfc/IR/TfcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>

#include <filesystem>
#include <limits>
#include <unistd.h>

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

namespace {

std::string lowerText(const std::string &text, tfc::planner::Plan &plan) {
  mlir::MLIRContext context;
  tfc::driver::prepareContext(context);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module)
    return "parse error";
  return tfc::lower::lowerToPlan(*module, nullptr, {}, plan).error;
}

TEST(PlanChecks, RankAboveTheRuntimeLimitIsACompileError) {
  static_assert(tfc::planner::kMaxRank == TFC_MAX_RANK);
  tfc::planner::Plan plan;
  EXPECT_EQ(lowerText(R"mlir(
    func.func @forward(%x: tensor<?x1x1x1x1x1x1x1x4xf32> {tfc.dims = ["batch"], tfc.name = "x"}) -> tensor<?x1x1x1x1x1x1x1x4xf32> {
      %y = tfc.relu %x : (tensor<?x1x1x1x1x1x1x1x4xf32>) -> tensor<?x1x1x1x1x1x1x1x4xf32>
      return %y : tensor<?x1x1x1x1x1x1x1x4xf32>
    })mlir",
                      plan),
            "function 'forward': input 'x' has rank 9; the runtime supports at most 8");
  std::string error = lowerText(R"mlir(
    func.func @forward(%x: tensor<?x4xf32> {tfc.dims = ["batch"], tfc.name = "x"}) -> tensor<?x1x1x1x1x1x1x1x4xf32> {
      %y = tfc.reshape %x {shape = array<i64: 0, 1, 1, 1, 1, 1, 1, 1, 4>} : (tensor<?x4xf32>) -> tensor<?x1x1x1x1x1x1x1x4xf32>
      return %y : tensor<?x1x1x1x1x1x1x1x4xf32>
    })mlir",
                                plan);
  EXPECT_THAT(error, HasSubstr("'tfc.reshape'"));
  EXPECT_THAT(error, HasSubstr("the result has rank 9; the runtime supports at most 8"));
}

TEST(PlanChecks, EveryTfcOpLowersThroughTheCpuKernelInterface) {
  // One place per op: each tfc op's CPU kernel is its CpuKernelLoweringOpInterface model
  // (CpuKernels.cpp); only the ops that become plan constants have none.
  mlir::MLIRContext context;
  tfc::driver::prepareContext(context);
  int ops = 0;
  for (mlir::RegisteredOperationName name : context.getRegisteredOperations()) {
    if (name.getDialectNamespace() != "tfc")
      continue;
    ++ops;
    bool constant = name.getStringRef() == "tfc.constant" || name.getStringRef() == "tfc.weight";
    EXPECT_EQ(name.hasInterface<tfc::lower::CpuKernelLoweringOpInterface>(), !constant)
        << name.getStringRef().str();
  }
  EXPECT_GT(ops, 30);
  tfc::driver::prepareContext(context); // again: harmless
  tfc::planner::Plan plan;
  auto module = mlir::parseSourceString<mlir::ModuleOp>(R"mlir(
    func.func @forward(%x: tensor<?x4xf32> {tfc.dims = ["batch"], tfc.name = "x"}) -> tensor<?x4xf32> {
      %y = tfc.relu %x : (tensor<?x4xf32>) -> tensor<?x4xf32> loc("layer0.act")
      return %y : tensor<?x4xf32>
    })mlir",
                                                        &context);
  ASSERT_TRUE(module);
  EXPECT_EQ(tfc::lower::lowerToPlan(*module, nullptr, {}, plan).error, "");
  ASSERT_EQ(plan.functions[0].kernels.size(), 1u);
  const tfc::planner::Kernel &k = plan.functions[0].kernels[0];
  EXPECT_EQ(k.kind, tfc::plan::KernelKind::Unary);
  ASSERT_NE(k.options.AsUnaryOptions(), nullptr);
  EXPECT_EQ(k.options.AsUnaryOptions()->op, tfc::plan::UnaryOp::Relu);
}

TEST(PlanChecks, AnOpWithoutACpuKernelIsACompileErrorNamingIt) {
  // A context with the dialect but without registerCpuLowering(): what an op added to the
  // dialect without a CpuKernelLoweringOpInterface model looks like to the lowering.
  mlir::MLIRContext context;
  context.loadDialect<mlir::tfc::TfcDialect, mlir::func::FuncDialect>();
  auto module = mlir::parseSourceString<mlir::ModuleOp>(R"mlir(
    func.func @forward(%x: tensor<?x4xf32> {tfc.dims = ["batch"], tfc.name = "x"}) -> tensor<?x4xf32> {
      %y = tfc.relu %x : (tensor<?x4xf32>) -> tensor<?x4xf32> loc("layer0.act")
      return %y : tensor<?x4xf32>
    })mlir",
                                                        &context);
  ASSERT_TRUE(module);
  tfc::planner::Plan plan;
  EXPECT_EQ(tfc::lower::lowerToPlan(*module, nullptr, {}, plan).error,
            "function 'forward': 'tfc.relu' at 'layer0.act': no CPU kernel for this op (it does "
            "not implement CpuKernelLoweringOpInterface)");
}

TEST(PlanChecks, BoundsWhoseSizesOverflowAreAnError) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::driver::CompileOptions options;
  options.maxBatch = std::numeric_limits<int64_t>::max();
  ASSERT_TRUE(
      tfc::driver::compileModel(context, plantest::examplePath("encoder"), options, result).ok());
  tfc::planner::Plan plan;
  auto s = tfc::driver::buildPlan(result, options, plan);
  EXPECT_THAT(s.error, HasSubstr("value 'input_ids' i64 [batch, seq] needs more than 2^63 bytes "
                                 "at the bounds (batch = 9223372036854775807, seq = 64)"));
  // Large but representable bounds still plan (the arena is what it is, not wrapped).
  options.maxBatch = int64_t(1) << 30;
  ASSERT_TRUE(tfc::driver::buildPlan(result, options, plan).ok());
  EXPECT_GT(result.plan.arenaBytes, uint64_t(1) << 40);
}

TEST(PlanChecks, CacheAboveTheRuntimeLimitIsAnError) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::driver::CompileOptions options;
  options.maxBatch = int64_t(1) << 40;
  ASSERT_TRUE(
      tfc::driver::compileModel(context, plantest::examplePath("decoder"), options, result).ok());
  tfc::planner::Plan plan;
  auto s = tfc::driver::buildPlan(result, options, plan);
  EXPECT_THAT(s.error, HasSubstr("cache slot 'decoder.layers.0.self_attn': 1099511627776 rows"));
  EXPECT_THAT(s.error, HasSubstr("more than the 2^48 bytes the runtime allows a cache"));
}

/// A scratch directory, removed at the end.
struct ScratchDir {
  fs::path path = fs::temp_directory_path() / ("tfc_plan_checks_" + std::to_string(::getpid()));
  ScratchDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  size_t entries() const {
    return std::distance(fs::directory_iterator(path), fs::directory_iterator());
  }
};

TEST(PlanChecks, APlanTheRuntimeRefusesIsNeverWritten) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", true, result, plan);
  // A tokenizer the runtime cannot build: its unk token is not in the vocabulary.
  plan.model.vocabulary = {"[CLS]", "[SEP]", "a", "b"};
  plan.model.tokenizer.kind = tfc::plan::TokenizerKind::WordPiece;
  plan.model.tokenizer.unkToken = "[UNK]";
  plan.model.tokenizer.clsToken = "[CLS]";
  plan.model.tokenizer.sepToken = "[SEP]";

  ScratchDir dir;
  std::string out = (dir.path / "out.plan").string();
  auto s = tfc::driver::writePlanFile(plan, out);
  EXPECT_EQ(s.error, out + ": the runtime refuses the plan: tokenizer: unk_token '[UNK]' is not "
                           "in the vocabulary");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(dir.entries(), 0u);  // no temporary file left behind

  // Written without the check, the runtime's own message has one "tokenizer:" prefix.
  ASSERT_TRUE(tfc::planner::writePlanFile(plan, out).ok());
  tfc_plan *p = nullptr;
  tfc_status *st = tfc_plan_open(out.c_str(), nullptr, &p);
  ASSERT_NE(st, nullptr);
  std::string message = tfc_status_message(st);
  tfc_status_free(st);
  EXPECT_EQ(message, "plan '" + out + "': tokenizer: unk_token '[UNK]' is not in the vocabulary");
  EXPECT_THAT(message, Not(HasSubstr("tokenizer: tokenizer:")));

  // A good plan goes through the same check and opens.
  plantest::compileExample(context, "encoder", true, result, plan);
  ASSERT_EQ(tfc::driver::writePlanFile(plan, out).error, "");
  st = tfc_plan_open(out.c_str(), nullptr, &p);
  EXPECT_EQ(st, nullptr);
  tfc_status_free(st);
  tfc_plan_release(p);
}

} // namespace
