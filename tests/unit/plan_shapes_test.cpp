//===- plan_shapes_test.cpp - symbolic shapes of the lowered examples -----===//
//
// Every value of every example plan (fused and --no-fuse) has resolved dims; the position
// table slice is [seq, 64]; the causal table slice of the primitive decoder is [seq, seq];
// symbols and bounds follow the arguments and the options; unresolvable dims are errors
// naming the op.
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/lower/cpu/LowerToPlan.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>

using ::testing::HasSubstr;
using tfc::planner::Dim;
namespace fb = tfc::plan;

namespace {

struct Case {
  std::string model;
  bool fuse;
};

std::string caseName(const ::testing::TestParamInfo<Case> &info) {
  return info.param.model + (info.param.fuse ? "_fused" : "_nofuse");
}

class ExamplePlan : public ::testing::TestWithParam<Case> {};

/// The Slice kernels reading an f32 [64, 64] constant (the position tables).
std::vector<const tfc::planner::Value *> positionSlices(const tfc::planner::Plan &plan,
                                                        fb::DType tableType) {
  std::vector<const tfc::planner::Value *> out;
  const auto &fn = plan.functions[0];
  for (const auto &k : fn.kernels) {
    if (k.kind != fb::KernelKind::Slice)
      continue;
    const auto &x = fn.values[k.inputs[0]];
    if (x.kind == fb::ValueKind::Constant && x.dtype == tableType)
      out.push_back(&fn.values[k.outputs[0]]);
  }
  return out;
}

TEST_P(ExamplePlan, EveryValueIsResolved) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, GetParam().model, GetParam().fuse, result, plan);
  // Fused causal models also carry their generation functions (prefill, decode_step, encode).
  std::vector<std::string> names;
  for (const auto &f : plan.functions)
    names.push_back(f.name);
  std::vector<std::string> expected = {"forward"};
  if (GetParam().fuse && GetParam().model == "decoder")
    expected = {"forward", "prefill", "decode_step"};
  if (GetParam().fuse && GetParam().model == "encdec")
    expected = {"forward", "prefill", "decode_step", "encode"};
  ASSERT_EQ(names, expected);
  const auto &fn = plan.functions[0];

  // Values correspond to the SSA values of @forward, in order: compare ranks and static dims.
  auto func = result.module->lookupSymbol<mlir::func::FuncOp>("forward");
  std::vector<mlir::Value> ssa(func.getArguments().begin(), func.getArguments().end());
  for (mlir::Operation &op : func.getBody().front())
    for (mlir::Value r : op.getResults())
      ssa.push_back(r);
  ASSERT_GE(fn.values.size(), ssa.size());
  for (size_t i = 0; i < ssa.size(); ++i) {
    auto type = mlir::cast<mlir::RankedTensorType>(ssa[i].getType());
    const auto &v = fn.values[i];
    ASSERT_EQ((int64_t)v.dims.size(), type.getRank()) << v.name;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      if (type.isDynamicDim(d)) {
        EXPECT_TRUE(v.dims[d].isSymbolic()) << v.name << " dim " << d;
        EXPECT_LT(v.dims[d].symbol, (int32_t)plan.symbols.size());
      } else {
        EXPECT_EQ(v.dims[d], Dim::ofSize(type.getDimSize(d))) << v.name << " dim " << d;
      }
    }
  }
  // Every kernel's outputs are intermediates or outputs, inputs in range.
  for (const auto &k : fn.kernels) {
    EXPECT_FALSE(k.outputs.empty());
    for (int32_t in : k.inputs)
      EXPECT_LT(in, (int32_t)fn.values.size());
  }
  EXPECT_EQ(result.plan.built, true);
}

TEST_P(ExamplePlan, PositionSliceIsSeqBy64) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, GetParam().model, GetParam().fuse, result, plan);
  auto slices = positionSlices(plan, fb::DType::F32);
  bool encdec = GetParam().model == "encdec";
  ASSERT_EQ(slices.size(), encdec ? 2u : 1u);
  std::vector<std::string> seqs = encdec ? std::vector<std::string>{"src_seq", "tgt_seq"}
                                         : std::vector<std::string>{"seq"};
  for (size_t i = 0; i < slices.size(); ++i) {
    int32_t seq = plantest::symbolIndex(plan, seqs[i]);
    ASSERT_GE(seq, 0);
    EXPECT_EQ(slices[i]->dims, (std::vector<Dim>{Dim::ofSymbol(seq), Dim::ofSize(64)}))
        << tfc::planner::dimsToString(plan, slices[i]->dims);
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExamplePlan,
                         ::testing::Values(Case{"encoder", true}, Case{"encoder", false},
                                           Case{"decoder", true}, Case{"decoder", false},
                                           Case{"encdec", true}, Case{"encdec", false},
                                           Case{"classifier", true}, Case{"classifier", false}),
                         caseName);

TEST(PlanShapes, CausalSliceOfThePrimitiveDecoderIsSeqBySeq) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "decoder", /*fuse=*/false, result, plan);
  auto slices = positionSlices(plan, fb::DType::Bool);
  ASSERT_EQ(slices.size(), 1u);
  int32_t seq = plantest::symbolIndex(plan, "seq");
  EXPECT_EQ(slices[0]->dims, (std::vector<Dim>{Dim::ofSymbol(seq), Dim::ofSymbol(seq)}));
  // The table itself is a Bool constant stored one byte per element.
  const auto &fn = plan.functions[0];
  for (const auto &k : fn.kernels)
    if (k.kind == fb::KernelKind::Slice && fn.values[k.inputs[0]].dtype == fb::DType::Bool) {
      const auto &c = plan.constants[fn.values[k.inputs[0]].constant];
      // max_positions x max_positions (the example decoder has 128 positions).
      EXPECT_EQ(c.bytes.size, 128u * 128u);
      EXPECT_EQ(c.bytes.data()[0], 1);        // [0][0] kept
      EXPECT_EQ(c.bytes.data()[1], 0);        // [0][1] hidden
      EXPECT_EQ(c.bytes.data()[128 + 1], 1);  // [1][1] kept
    }
}

TEST(PlanShapes, SymbolsAndBounds) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encoder", true, result, plan);
  ASSERT_EQ(plan.symbols.size(), 2u);
  EXPECT_EQ(plan.symbols[0].name, "batch");
  EXPECT_EQ(plan.symbols[0].max, 16);
  EXPECT_EQ(plan.symbols[1].name, "seq");
  EXPECT_EQ(plan.symbols[1].max, result.model.hparams.maxPositions);
  EXPECT_EQ(plan.model.family, "encoder");
  EXPECT_EQ(plan.model.name, "encoder");

  mlir::MLIRContext context2;
  tfc::driver::CompileResult r2;
  tfc::planner::Plan p2;
  tfc::driver::CompileOptions options;
  options.maxBatch = 4;
  options.maxSeq = 32;
  plantest::compileExample(context2, "encdec", true, r2, p2, options);
  ASSERT_EQ(p2.symbols.size(), 3u);
  EXPECT_EQ(p2.symbols[0].name, "batch");
  EXPECT_EQ(p2.symbols[0].max, 4);
  EXPECT_EQ(p2.symbols[1].name, "src_seq");
  EXPECT_EQ(p2.symbols[1].max, 32);
  EXPECT_EQ(p2.symbols[2].name, "tgt_seq");
  EXPECT_EQ(p2.symbols[2].max, 32);
  // Smaller bounds, smaller arena.
  EXPECT_LT(r2.plan.arenaBytes, 16 * 64 * 64 * 4 * 4);
}

TEST(PlanShapes, MaxSeqBeyondMaxPositionsIsAnError) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::driver::CompileOptions options;
  ASSERT_TRUE(tfc::driver::compileModel(context, plantest::examplePath("decoder"), options, result)
                  .ok());
  options.maxSeq = result.model.hparams.maxPositions + 1;
  tfc::planner::Plan plan;
  auto s = tfc::driver::buildPlan(result, options, plan);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error, HasSubstr("--max-seq " + std::to_string(options.maxSeq) +
                                 " exceeds what the model allows for 'seq': " +
                                 std::to_string(result.model.hparams.maxPositions) +
                                 " (max_positions of the model)"));
}

/// Lowers IR text (no weights); returns the error ("" on success).
std::string lowerText(const std::string &text, tfc::planner::Plan &plan) {
  mlir::MLIRContext context;
  tfc::driver::prepareContext(context);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module)
    return "parse error";
  tfc::lower::LowerOptions options;
  options.bounds.maxSeq = 128;
  return tfc::lower::lowerToPlan(*module, nullptr, options, plan).error;
}

TEST(PlanShapes, ReshapeDividesSymbolicProducts) {
  tfc::planner::Plan plan;
  std::string error = lowerText(R"mlir(
    func.func @forward(%x: tensor<?x?xf32> {tfc.dims = ["batch", "seq"], tfc.name = "x"}) -> tensor<?x?x1x4xf32> {
      %a = tfc.reshape %x {shape = array<i64: 0, 1, -1>} : (tensor<?x?xf32>) -> tensor<?x1x?xf32>
      %b = tfc.reshape %a {shape = array<i64: -1, 4>} : (tensor<?x1x?xf32>) -> tensor<?x4xf32>
      %c = tfc.reshape %b {shape = array<i64: 0, 0>} : (tensor<?x4xf32>) -> tensor<?x4xf32>
      %s = tfc.shape %x : (tensor<?x?xf32>) -> tensor<2xi64>
      %e = tfc.concat %s, %s {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
      %r = tfc.reshape %x {shape = array<i64: 0, -1, 1, 1>} : (tensor<?x?xf32>) -> tensor<?x?x1x1xf32>
      %t = tfc.transpose %r {perm = array<i64: 1, 0, 2, 3>} : (tensor<?x?x1x1xf32>) -> tensor<?x?x1x1xf32>
      %y = tfc.mul %t, %t : (tensor<?x?x1x1xf32>, tensor<?x?x1x1xf32>) -> tensor<?x?x1x1xf32>
      %z = tfc.reshape %y {shape = array<i64: 0, 0, 1, -1>} : (tensor<?x?x1x1xf32>) -> tensor<?x?x1x1xf32>
      %w = tfc.constant dense<1.0> : tensor<1x4xf32>
      %o = tfc.add %z, %w : (tensor<?x?x1x1xf32>, tensor<1x4xf32>) -> tensor<?x?x1x4xf32>
      return %o : tensor<?x?x1x4xf32>
    })mlir",
                                plan);
  // %b = [batch*seq/4, 4] is not one symbol.
  EXPECT_THAT(error, HasSubstr("tfc.reshape"));
  EXPECT_THAT(error, HasSubstr("batch*seq"));
}

TEST(PlanShapes, TransposeAndBroadcastKeepSymbols) {
  tfc::planner::Plan plan;
  std::string error = lowerText(R"mlir(
    func.func @forward(%x: tensor<?x?xf32> {tfc.dims = ["batch", "seq"], tfc.name = "x"}) -> (tensor<?x?x1x4xf32> {tfc.name = "y"}) {
      %r = tfc.reshape %x {shape = array<i64: 0, -1, 1, 1>} : (tensor<?x?xf32>) -> tensor<?x?x1x1xf32>
      %t = tfc.transpose %r {perm = array<i64: 1, 0, 2, 3>} : (tensor<?x?x1x1xf32>) -> tensor<?x?x1x1xf32>
      %w = tfc.constant dense<1.0> : tensor<1x4xf32>
      %o = tfc.add %t, %w : (tensor<?x?x1x1xf32>, tensor<1x4xf32>) -> tensor<?x?x1x4xf32>
      return %o : tensor<?x?x1x4xf32>
    })mlir",
                                plan);
  ASSERT_EQ(error, "");
  const auto &fn = plan.functions[0];
  EXPECT_EQ(fn.values[fn.outputs[0].value].dims,
            (std::vector<Dim>{Dim::ofSymbol(1), Dim::ofSymbol(0), Dim::ofSize(1), Dim::ofSize(4)}));
  EXPECT_EQ(plan.constants.size(), 1u);
  EXPECT_EQ(plan.constants[0].name, "const.0");
}

TEST(PlanShapes, MissingDimNamesAreAnError) {
  tfc::planner::Plan plan;
  std::string error = lowerText(R"mlir(
    func.func @forward(%x: tensor<?x?xf32>) -> tensor<?x?xf32> {
      %y = tfc.relu %x : (tensor<?x?xf32>) -> tensor<?x?xf32>
      return %y : tensor<?x?xf32>
    })mlir",
                                plan);
  EXPECT_THAT(error, HasSubstr("tfc.dims names no symbol"));
}

TEST(PlanShapes, UnknownWeightIsAnError) {
  tfc::planner::Plan plan;
  std::string error = lowerText(R"mlir(
    func.func @forward(%x: tensor<?x?xf32> {tfc.dims = ["batch", "seq"]}) -> tensor<?x?xf32> {
      %w = tfc.weight "nope" : tensor<4xf32>
      %y = tfc.relu %x : (tensor<?x?xf32>) -> tensor<?x?xf32>
      return %y : tensor<?x?xf32>
    })mlir",
                                plan);
  EXPECT_THAT(error, HasSubstr("no weight 'nope'"));
}

} // namespace
