//===- analysis_shapes_test.cpp - the target-neutral shape analysis and the op interfaces ---===//
//
// tfc::analysis::ShapeAnalysis runs the ops' own symbolic shape rules (no plan, no lowering):
// shape tensors get symbolic contents, a slice of a static table by a symbol is checked
// against the symbol's bound (or recorded as a limit in collect mode), an op without a rule is
// an error naming it and its location. And every tfc op declares the interfaces the compiler
// asks of it, so a new op cannot be added without its rules.
//
//===----------------------------------------------------------------------===//
#include "tfc/analysis/ShapeAnalysis.h"

#include "tfc/IR/TfcDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>

#include <set>

using ::testing::HasSubstr;
using tfc::analysis::ShapeAnalysis;
using tfc::analysis::ShapeSymbol;
using tfc::analysis::SymExpr;
using tfc::analysis::SymShape;

namespace {

// A position table of 96 rows sliced to the sequence length, the length read from the ids'
// shape.
const char *kTableSlice = R"mlir(
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"]}) -> tensor<?x?x4xf32> {
    %table = tfc.constant dense<1.0> : tensor<96x4xf32>
    %one = tfc.constant dense<1> : tensor<1xi64>
    %zero = tfc.constant dense<0> : tensor<1xi64>
    %s = tfc.shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
    %n = tfc.gather %s, %one : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
    %p = tfc.slice %table, %zero, %n {axes = array<i64: 0>} : (tensor<96x4xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32> loc("pos_slice")
    %f = tfc.cast %ids : (tensor<?x?xi64>) -> tensor<?x?xf32>
    %y = tfc.add %f, %f : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
    %y3 = tfc.reshape %y {shape = array<i64: 0, 0, 1>} : (tensor<?x?xf32>) -> tensor<?x?x1xf32>
    %o = tfc.add %y3, %p : (tensor<?x?x1xf32>, tensor<?x4xf32>) -> tensor<?x?x4xf32>
    return %o : tensor<?x?x4xf32>
  })mlir";

struct Parsed {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  mlir::func::FuncOp func;

  explicit Parsed(const char *text) {
    context.allowUnregisteredDialects();
    context.loadDialect<mlir::tfc::TfcDialect, mlir::func::FuncDialect>();
    module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
    if (module)
      func = module->lookupSymbol<mlir::func::FuncOp>("forward");
  }
  /// The result of the op at `loc` (a NameLoc), or the value returned.
  mlir::Value named(llvm::StringRef loc) {
    mlir::Value found;
    func.walk([&](mlir::Operation *op) {
      if (auto n = llvm::dyn_cast<mlir::NameLoc>(op->getLoc()); n && n.getName() == loc)
        found = op->getResult(0);
    });
    return found;
  }
};

std::string str(const SymShape &s, const ShapeAnalysis &a) {
  std::string out;
  for (const SymExpr &d : s)
    out += (out.empty() ? "" : ", ") + a.str(d);
  return "[" + out + "]";
}

TEST(AnalysisShapes, SliceOfATableBySymbolWithinItsBound) {
  Parsed p(kTableSlice);
  ASSERT_TRUE(p.func);
  ShapeAnalysis shapes({{"batch", 16}, {"seq", 64}});
  std::string error;
  ASSERT_TRUE(shapes.run(p.func, error)) << error;
  const SymShape *slice = shapes.shape(p.named("pos_slice"));
  ASSERT_NE(slice, nullptr);
  EXPECT_EQ(str(*slice, shapes), "[seq, 4]");
  // The shape tensor and the gathered length carry symbolic contents.
  mlir::Operation *sliceOp = p.named("pos_slice").getDefiningOp();
  const auto *ends = shapes.contents(sliceOp->getOperand(2));
  ASSERT_NE(ends, nullptr);
  ASSERT_EQ(ends->size(), 1u);
  EXPECT_EQ(shapes.str((*ends)[0]), "seq");
  mlir::Value shapeOfIds = sliceOp->getOperand(2).getDefiningOp()->getOperand(0);
  ASSERT_NE(shapes.contents(shapeOfIds), nullptr);
  EXPECT_EQ(str(*shapes.contents(shapeOfIds), shapes), "[batch, seq]");
  // The function's result broadcasts [batch, seq, 1] with [seq, 4].
  auto ret = llvm::cast<mlir::func::ReturnOp>(p.func.getBody().front().getTerminator());
  EXPECT_EQ(str(*shapes.shape(ret.getOperand(0)), shapes), "[batch, seq, 4]");
}

TEST(AnalysisShapes, ReshapeMinusOneDividesTheSymbolicProduct) {
  Parsed p(R"mlir(
    func.func @forward(%x: tensor<?x?x8xf32> {tfc.dims = ["batch", "seq", ""]}) -> tensor<?x8xf32> {
      %h = tfc.reshape %x {shape = array<i64: 0, -1, 2, 4>} : (tensor<?x?x8xf32>) -> tensor<?x?x2x4xf32> loc("heads")
      %f = tfc.reshape %x {shape = array<i64: -1, 8>} : (tensor<?x?x8xf32>) -> tensor<?x8xf32> loc("flat")
      return %f : tensor<?x8xf32>
    })mlir");
  ASSERT_TRUE(p.func);
  ShapeAnalysis shapes({{"batch", 16}, {"seq", 64}});
  std::string error;
  // [batch, seq*8 / 8, 2, 4] resolves; flattening to [batch*seq, 8] does not (not one symbol).
  EXPECT_FALSE(shapes.run(p.func, error));
  ASSERT_NE(shapes.shape(p.named("heads")), nullptr);
  EXPECT_EQ(str(*shapes.shape(p.named("heads")), shapes), "[batch, seq, 2, 4]");
  EXPECT_EQ(error, "'tfc.reshape' at 'flat': cannot resolve dim 0 of the result to a symbol "
                   "(got batch*seq; operands [batch, seq, 8])");
}

const char *kSliceOnly = R"mlir(
  func.func @forward(%ids: tensor<?x?xi64> {tfc.dims = ["batch", "seq"]}) -> tensor<?x4xf32> {
    %table = tfc.constant dense<1.0> : tensor<96x4xf32> loc("pos_table")
    %one = tfc.constant dense<1> : tensor<1xi64>
    %zero = tfc.constant dense<0> : tensor<1xi64>
    %s = tfc.shape %ids : (tensor<?x?xi64>) -> tensor<2xi64>
    %n = tfc.gather %s, %one : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
    %p = tfc.slice %table, %zero, %n {axes = array<i64: 0>} : (tensor<96x4xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32> loc("pos_slice")
    return %p : tensor<?x4xf32>
  })mlir";

TEST(AnalysisShapes, SliceBeyondTheTableAtTheBoundIsAnError) {
  Parsed p(kSliceOnly);
  ShapeAnalysis shapes({{"batch", 16}, {"seq", 512}});
  std::string error;
  EXPECT_FALSE(shapes.run(p.func, error));
  EXPECT_EQ(error, "'tfc.slice' at 'pos_slice': cannot resolve dim 0 of the result to a symbol "
                   "(got ?; operands [96, 4], [1], [1]): the slice end 'seq' may exceed the dim "
                   "(96) at its max bound 512");
}

TEST(AnalysisShapes, CollectModeRecordsTheTableAsALimit) {
  Parsed p(kSliceOnly);
  ShapeAnalysis shapes({{"batch", 16}, {"seq", 512}});
  shapes.collectLimits(true);
  std::string error;
  ASSERT_TRUE(shapes.run(p.func, error)) << error;
  ASSERT_EQ(shapes.limits().size(), 1u);
  EXPECT_EQ(shapes.limits()[0].symbol, 1);
  EXPECT_EQ(shapes.limits()[0].size, 96);
  EXPECT_EQ(shapes.limits()[0].what, "table 'pos_table' (96 rows)");
}

TEST(AnalysisShapes, AnOpWithoutASymbolicShapeRuleIsAnError) {
  Parsed p(R"mlir(
    func.func @forward(%x: tensor<?x4xf32> {tfc.dims = ["seq", ""]}) -> tensor<?x4xf32> {
      %y = "test.opaque"(%x) : (tensor<?x4xf32>) -> tensor<?x4xf32> loc("layer.3.mystery")
      return %y : tensor<?x4xf32>
    })mlir");
  ASSERT_TRUE(p.func);
  ShapeAnalysis shapes({{"seq", 8}});
  std::string error;
  EXPECT_FALSE(shapes.run(p.func, error));
  EXPECT_EQ(error, "'test.opaque' at 'layer.3.mystery': the op has no symbolic shape rule "
                   "(SymbolicShapeOpInterface)");
}

// Every tfc op with results has a symbolic shape rule, and every op that can appear in a
// model's @forward has a generation role: adding an op without them fails here, by name.
TEST(AnalysisShapes, EveryTfcOpDeclaresItsRules) {
  mlir::MLIRContext context;
  context.loadDialect<mlir::tfc::TfcDialect>();
  // Ops without results have no shape; the generation ops and the sources (no operands, so
  // always Fixed) have no role.
  const std::set<std::string> noShape = {"tfc.cache_store"};
  const std::set<std::string> noRole = {"tfc.constant", "tfc.weight", "tfc.cached_attention",
                                        "tfc.cache_store"};
  int count = 0;
  for (mlir::RegisteredOperationName op : context.getRegisteredOperations()) {
    if (op.getDialectNamespace() != "tfc")
      continue;
    ++count;
    std::string name = op.getStringRef().str();
    EXPECT_EQ(op.hasInterface<mlir::tfc::SymbolicShapeOpInterface>(), !noShape.count(name))
        << name;
    EXPECT_EQ(op.hasInterface<mlir::tfc::GenerationRoleOpInterface>(), !noRole.count(name))
        << name;
  }
  EXPECT_GT(count, 30);
}

} // namespace
