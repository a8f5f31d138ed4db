//===- plan_bounds_test.cpp - one bound per symbol: flags, graph limits, defaults ---===//
//
// resolveBounds() on its own (the order: --bound, --max-batch/--max-seq, limits, defaults;
// the errors), then lowerToPlan() on IR text whose tables limit a symbol (the 96-row
// position table), batch dims under other names, and the examples' sources.
//
//===----------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "tfc/lower/cpu/LowerToPlan.h"
#include "tfc/lower/cpu/SymbolBounds.h"

#include "mlir/Parser/Parser.h"

#include <gmock/gmock.h>

using ::testing::HasSubstr;
using tfc::lower::BoundRequest;
using tfc::lower::SequenceDefault;
using tfc::lower::SymbolLimits;
using tfc::planner::Symbol;

namespace {

struct Resolved {
  std::string error;
  std::vector<Symbol> symbols;
  const Symbol &operator[](const std::string &name) const {
    for (const Symbol &s : symbols)
      if (s.name == name)
        return s;
    static Symbol none;
    return none;
  }
};

Resolved resolve(const std::vector<std::string> &names, const BoundRequest &request,
                 const SymbolLimits &limits = {}, const SequenceDefault &seq = {}) {
  Resolved r;
  r.error = tfc::lower::resolveBounds(names, request, limits, seq, r.symbols).error;
  return r;
}

TEST(SymbolBounds, BatchNamesTakeMaxBatchOthersMaxSeq) {
  BoundRequest request;
  request.maxBatch = 4;
  request.maxSeq = 32;
  Resolved r = resolve({"batch_size", "N", "sequence_length", "src_len", "past_sequence_length"},
                       request);
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.symbols.size(), 5u);
  EXPECT_EQ(r["batch_size"].max, 4);
  EXPECT_EQ(r["batch_size"].source, "--max-batch");
  EXPECT_EQ(r["N"].max, 4);
  EXPECT_EQ(r["sequence_length"].max, 32);
  EXPECT_EQ(r["sequence_length"].source, "--max-seq");
  EXPECT_EQ(r["src_len"].max, 32);
  EXPECT_EQ(r["past_sequence_length"].max, 32);
  // Order follows the names.
  EXPECT_EQ(r.symbols[0].name, "batch_size");
  EXPECT_EQ(r.symbols[4].name, "past_sequence_length");
}

TEST(SymbolBounds, DefaultsThenLimits) {
  SymbolLimits limits;
  tfc::lower::addLimit(limits, "src_len", 128, "table 'big' (128 rows)");
  tfc::lower::addLimit(limits, "src_len", 96, "table 'pos' (96 rows)");
  tfc::lower::addLimit(limits, "src_len", 200, "table 'bigger' (200 rows)");  // not smaller
  tfc::lower::addLimit(limits, "tgt_len", 1024, "table 'bias' (1024 rows)");  // above 512
  Resolved r = resolve({"batch", "src_len", "tgt_len", "other"}, {}, limits);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r["batch"].max, 16);
  EXPECT_EQ(r["batch"].source, "default");
  EXPECT_EQ(r["src_len"].max, 96);
  EXPECT_EQ(r["src_len"].source, "table 'pos' (96 rows)");
  EXPECT_EQ(r["tgt_len"].max, 512);
  EXPECT_EQ(r["tgt_len"].source, "default");
  EXPECT_EQ(r["other"].max, 512);

  // A declared max positions is the sequence default (and a limit, added by the caller).
  Resolved fbs = resolve({"seq"}, {}, {}, {1024, "max_positions of the model"});
  EXPECT_EQ(fbs["seq"].max, 1024);
  EXPECT_EQ(fbs["seq"].source, "max_positions of the model");
}

TEST(SymbolBounds, NamedBoundsWinAndAreChecked) {
  SymbolLimits limits;
  tfc::lower::addLimit(limits, "src_len", 96, "table 'pos' (96 rows)");
  BoundRequest request;
  request.maxSeq = 64;
  request.named["src_len"] = 80;
  request.named["batch_size"] = 3;
  Resolved r = resolve({"batch_size", "src_len", "tgt_len"}, request, limits);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r["batch_size"].max, 3);
  EXPECT_EQ(r["batch_size"].source, "--bound");
  EXPECT_EQ(r["src_len"].max, 80);
  EXPECT_EQ(r["src_len"].source, "--bound");
  EXPECT_EQ(r["tgt_len"].max, 64);

  // More than the model allows: an error naming the flag, the symbol and the limit's source.
  request.named["src_len"] = 97;
  EXPECT_EQ(resolve({"batch_size", "src_len"}, request, limits).error,
            "--bound src_len=97 exceeds what the model allows for 'src_len': 96 "
            "(table 'pos' (96 rows))");
  request.named.erase("src_len");
  request.maxSeq = 100;
  EXPECT_EQ(resolve({"batch_size", "src_len"}, request, limits).error,
            "--max-seq 100 exceeds what the model allows for 'src_len': 96 "
            "(table 'pos' (96 rows))");
  // A name the model does not have.
  BoundRequest typo;
  typo.named["seqlen"] = 8;
  EXPECT_EQ(resolve({"batch", "seq"}, typo).error,
            "--bound seqlen=8: the model has no symbol 'seqlen' (its symbols: batch, seq)");
  BoundRequest zero;
  zero.named["seq"] = 0;
  EXPECT_THAT(resolve({"seq"}, zero).error, HasSubstr("at least 1"));
}

/// Lowers IR text (no weights) with `options`.
std::string lowerText(const std::string &text, const tfc::lower::LowerOptions &options,
                      tfc::planner::Plan &plan) {
  mlir::MLIRContext context;
  tfc::driver::prepareContext(context);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
  if (!module)
    return "parse error";
  return tfc::lower::lowerToPlan(*module, nullptr, options, plan).error;
}

/// A 96-row position table sliced by the sequence length, the batch dim named batch_size.
constexpr const char *kPositionTable96 = R"mlir(
  func.func @forward(%ids: tensor<?x?xf32> {tfc.dims = ["batch_size", "src_len"], tfc.name = "x"}) -> (tensor<?x?x4xf32> {tfc.name = "y"}) {
    %pos = tfc.constant dense<1.0> : tensor<96x4xf32>
    %s = tfc.shape %ids : (tensor<?x?xf32>) -> tensor<2xi64>
    %one = tfc.constant dense<1> : tensor<1xi64>
    %zero = tfc.constant dense<0> : tensor<1xi64>
    %n = tfc.gather %s, %one {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
    %p = tfc.slice %pos, %zero, %n {axes = array<i64: 0>} : (tensor<96x4xf32>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xf32>
    %x = tfc.reshape %ids {shape = array<i64: 0, 0, 1>} : (tensor<?x?xf32>) -> tensor<?x?x1xf32>
    %y = tfc.add %x, %p : (tensor<?x?x1xf32>, tensor<?x4xf32>) -> tensor<?x?x4xf32>
    return %y : tensor<?x?x4xf32>
  })mlir";

TEST(SymbolBounds, PositionTableBoundsTheSequenceByDefault) {
  tfc::planner::Plan plan;
  tfc::lower::LowerOptions options;
  ASSERT_EQ(lowerText(kPositionTable96, options, plan), "");
  ASSERT_EQ(plan.symbols.size(), 2u);
  EXPECT_EQ(plan.symbols[0].name, "batch_size");
  EXPECT_EQ(plan.symbols[0].max, 16);
  EXPECT_EQ(plan.symbols[1].name, "src_len");
  EXPECT_EQ(plan.symbols[1].max, 96);
  EXPECT_THAT(plan.symbols[1].source, HasSubstr("(96 rows)"));

  // --max-batch bounds batch_size; --max-seq above the table is an error naming both.
  options.bounds.maxBatch = 2;
  ASSERT_EQ(lowerText(kPositionTable96, options, plan), "");
  EXPECT_EQ(plan.symbols[0].max, 2);
  options.bounds.maxSeq = 512;
  std::string error = lowerText(kPositionTable96, options, plan);
  EXPECT_THAT(error, HasSubstr("--max-seq 512 exceeds what the model allows for 'src_len': 96"));
  options.bounds.maxSeq = 0;
  options.bounds.named["src_len"] = 40;
  ASSERT_EQ(lowerText(kPositionTable96, options, plan), "");
  EXPECT_EQ(plan.symbols[1].max, 40);
  EXPECT_EQ(plan.symbols[1].source, "--bound");
}

TEST(SymbolBounds, ExamplesSayWhereTheirBoundsComeFrom) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, "encdec", true, result, plan);
  ASSERT_EQ(plan.symbols.size(), 3u);
  EXPECT_EQ(plan.symbols[0].source, "default");
  EXPECT_EQ(plan.symbols[1].max, result.model.hparams.maxPositions);
  EXPECT_EQ(plan.symbols[1].source, "max_positions of the model");
  EXPECT_EQ(plan.symbols[2].source, "max_positions of the model");
  // compileModel alone (no plan) already knows them, for --report.
  mlir::MLIRContext context2;
  tfc::driver::CompileResult r2;
  tfc::driver::CompileOptions options;
  options.bounds["tgt_seq"] = 8;
  ASSERT_TRUE(
      tfc::driver::compileModel(context2, plantest::examplePath("encdec"), options, r2).ok());
  ASSERT_EQ(r2.symbols.size(), 3u);
  EXPECT_EQ(r2.symbols[2].name, "tgt_seq");
  EXPECT_EQ(r2.symbols[2].max, 8);
  EXPECT_EQ(r2.symbols[2].source, "--bound");
  std::string report = tfc::driver::reportToJson(r2, options);
  EXPECT_THAT(report, HasSubstr("\"source\": \"--bound\""));
}

/// A KV-cache slot holds what its own sequence symbol allows: self slots the target's,
/// cross slots the source's (they differ when the bounds do).
TEST(SymbolBounds, CacheSlotsFollowTheirSequenceSymbol) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  tfc::driver::CompileOptions options;
  options.bounds["src_seq"] = 16;
  options.bounds["tgt_seq"] = 8;
  plantest::compileExample(context, "encdec", true, result, plan, options);
  ASSERT_FALSE(plan.caches.empty());
  int self = 0, cross = 0;
  for (const auto &c : plan.caches) {
    if (c.kind == tfc::plan::CacheKind::Self) {
      ++self;
      EXPECT_EQ(c.maxLength, 8) << c.name;
    } else {
      ++cross;
      EXPECT_EQ(c.maxLength, 16) << c.name;
    }
  }
  EXPECT_GT(self, 0);
  EXPECT_GT(cross, 0);
}

} // namespace
