//===- onnx_importer_test.cpp - the ONNX importer on models built in C++ ----===//
//
// Each test builds a small onnx::ModelProto with the protobuf API, imports it
// (tfc::onnxfe::importOnnxBuffer) and checks the primitive IR, or the error:
// unsupported ops/opsets/attributes name the node, the op and the opset;
// malformed and truncated files give a message, never a crash. Shape folding
// of the typical `view(batch, seq, heads, dh)` subgraph gives `[0, 0, H, dh]`.
//
//===----------------------------------------------------------------------===//
#include "tfc/frontends/OnnxFrontend.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using tfc::onnxfe::ImportResult;

/// Builds a ModelProto node by node.
class ModelMaker {
public:
  explicit ModelMaker(int opset = 17) {
    model.set_ir_version(8);
    auto *o = model.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    graph = model.mutable_graph();
    graph->set_name("test");
  }

  /// dims: a number is a static dim, anything else a dim param ("batch").
  void input(const std::string &name, int elem, const std::vector<std::string> &dims) {
    auto *v = graph->add_input();
    v->set_name(name);
    auto *t = v->mutable_type()->mutable_tensor_type();
    t->set_elem_type(elem);
    for (const std::string &d : dims) {
      auto *dim = t->mutable_shape()->add_dim();
      if (!d.empty() && std::isdigit(static_cast<unsigned char>(d[0])))
        dim->set_dim_value(std::stoll(d));
      else
        dim->set_dim_param(d);
    }
  }
  void output(const std::string &name) { graph->add_output()->set_name(name); }

  onnx::NodeProto &node(const std::string &op, const std::string &name,
                        const std::vector<std::string> &inputs,
                        const std::vector<std::string> &outputs) {
    auto *n = graph->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto &i : inputs)
      n->add_input(i);
    for (const auto &o : outputs)
      n->add_output(o);
    return *n;
  }

  void initF32(const std::string &name, const std::vector<int64_t> &shape, float fill = 0.5f) {
    auto *t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (int64_t d : shape) {
      t->add_dims(d);
      n *= d;
    }
    for (int64_t i = 0; i < n; ++i)
      t->add_float_data(fill);
  }
  void initI64(const std::string &name, const std::vector<int64_t> &values, bool scalar = false) {
    auto *t = graph->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalar)
      t->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values)
      t->add_int64_data(v);
  }

  std::string bytes() const { return model.SerializeAsString(); }

  onnx::ModelProto model;
  onnx::GraphProto *graph;
};

void setInt(onnx::NodeProto &n, const std::string &name, int64_t v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void setInts(onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &v) {
  auto *a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v)
    a->add_ints(x);
}

struct Imported {
  tfc::onnxfe::Status status;
  std::string ir;
};

Imported import(const std::string &bytes, tfc::onnxfe::ImportOptions options = {}) {
  mlir::MLIRContext context;
  ImportResult result;
  Imported out;
  out.status = tfc::onnxfe::importOnnxBuffer(context, bytes, "model.onnx", options, result);
  if (out.status.ok()) {
    llvm::raw_string_ostream os(out.ir);
    result.module->print(os);
  }
  return out;
}

Imported import(const ModelMaker &m) { return import(m.bytes()); }

bool contains(const std::string &s, const std::string &what) {
  return s.find(what) != std::string::npos;
}

constexpr int kF32 = onnx::TensorProto::FLOAT;
constexpr int kI64 = onnx::TensorProto::INT64;

//===----------------------------------------------------------------------===//
// Op families
//===----------------------------------------------------------------------===//

TEST(OnnxImporter, ElementwiseBinaryAndWeights) {
  ModelMaker m;
  m.input("x", kF32, {"batch", "seq", "64"});
  m.initF32("bias", {64});
  m.node("Add", "add0", {"x", "bias"}, {"a"});
  m.node("Sub", "sub0", {"a", "x"}, {"s"});
  m.node("Mul", "mul0", {"s", "x"}, {"p"});
  m.node("Div", "div0", {"p", "x"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.weight \"bias\" : tensor<64xf32>")) << r.ir;
  for (const char *op : {"tfc.add", "tfc.sub", "tfc.mul", "tfc.div"})
    EXPECT_TRUE(contains(r.ir, op)) << op << "\n" << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.dims = [\"batch\", \"seq\", \"\"]")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tensor<?x?x64xf32>")) << r.ir;
}

TEST(OnnxImporter, ElementwiseUnary) {
  ModelMaker m(20);
  m.input("x", kF32, {"batch", "8"});
  m.node("Sqrt", "n0", {"x"}, {"a"});
  m.node("Erf", "n1", {"a"}, {"b"});
  m.node("Tanh", "n2", {"b"}, {"c"});
  m.node("Relu", "n3", {"c"}, {"d"});
  m.node("Neg", "n4", {"d"}, {"e"});
  auto &g = m.node("Gelu", "n5", {"e"}, {"f"});
  auto *a = g.add_attribute();
  a->set_name("approximate");
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s("tanh");
  m.node("Identity", "n6", {"f"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  for (const char *op : {"tfc.sqrt", "tfc.erf", "tfc.tanh", "tfc.relu", "tfc.neg", "tfc.gelu"})
    EXPECT_TRUE(contains(r.ir, op)) << op << "\n" << r.ir;
  EXPECT_TRUE(contains(r.ir, "#tfc<gelu tanh>")) << r.ir;
}

TEST(OnnxImporter, MatMulAndGemm) {
  ModelMaker m;
  m.input("x", kF32, {"batch", "16"});
  m.initF32("w", {16, 32});
  m.initF32("wt", {8, 32});
  m.initF32("b", {8});
  m.node("MatMul", "mm", {"x", "w"}, {"h"});
  auto &g = m.node("Gemm", "gemm", {"h", "wt", "b"}, {"y"});
  setInt(g, "transB", 1);
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.matmul")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.transpose")) << r.ir;  // transB on the weight
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x8xf32>")) << r.ir;
}

TEST(OnnxImporter, ReduceMeanAxesAsAttributeAndAsInput) {
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "seq", "64"});
    auto &n = m.node("ReduceMean", "rm", {"x"}, {"y"});
    setInts(n, "axes", {-1});
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.reduce_mean %arg0 {axes = array<i64: -1>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>"))
        << r.ir;
  }
  {
    ModelMaker m(18);
    m.input("x", kF32, {"batch", "seq", "64"});
    m.initI64("axes", {-1});
    auto &n = m.node("ReduceMean", "rm", {"x", "axes"}, {"y"});
    setInt(n, "keepdims", 0);
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "keepdims = false")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "-> tensor<?x?xf32>")) << r.ir;
  }
}

TEST(OnnxImporter, SoftmaxAnyAxisAndLayerNorm) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "4", "seq"});
  auto &s = m.node("Softmax", "sm", {"x"}, {"p"});
  setInt(s, "axis", 1);
  m.node("LogSoftmax", "lsm", {"x"}, {"lp"});
  m.output("lp");
  m.initF32("g", {8});
  m.initF32("b", {8});
  m.input("z", kF32, {"batch", "8"});
  m.node("LayerNormalization", "ln", {"z", "g", "b"}, {"y"});
  m.output("p");
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.softmax %arg0 {axis = 1 : i64}")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.log")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.layer_normalization")) << r.ir;
}

/// The `x.view(batch, seq, H, dh)` subgraph: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
TEST(OnnxImporter, ViewSubgraphFoldsToStaticReshape) {
  ModelMaker m(14);
  m.input("x", kF32, {"batch", "seq", "64"});
  m.node("Shape", "shape", {"x"}, {"s"});
  m.initI64("i0", {0}, true);
  m.initI64("i1", {1}, true);
  m.initI64("ax", {0});
  m.initI64("hd", {4, 16});
  m.node("Gather", "g0", {"s", "i0"}, {"b"});
  m.node("Gather", "g1", {"s", "i1"}, {"t"});
  m.node("Unsqueeze", "u0", {"b", "ax"}, {"bu"});
  m.node("Unsqueeze", "u1", {"t", "ax"}, {"tu"});
  auto &c = m.node("Concat", "cat", {"bu", "tu", "hd"}, {"shape4"});
  setInt(c, "axis", 0);
  m.node("Reshape", "view", {"x", "shape4"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.reshape %arg0 {shape = array<i64: 0, 0, 4, 16>}")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.shape")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.concat")) << r.ir;
}

TEST(OnnxImporter, TransposeSliceConcatGatherSplit) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch", "seq"});
  m.initF32("table", {100, 8});
  m.node("Gather", "emb", {"table", "ids"}, {"e"});
  auto &t = m.node("Transpose", "tr", {"e"}, {"et"});
  setInts(t, "perm", {0, 2, 1});
  m.initI64("st", {0});
  m.initI64("en", {4});
  m.initI64("ax", {1});
  m.node("Slice", "sl", {"et", "st", "en", "ax"}, {"half"});
  auto &c = m.node("Concat", "cat", {"half", "half"}, {"both"});
  setInt(c, "axis", 1);
  auto &sp = m.node("Split", "split", {"both"}, {"p0", "p1"});
  setInt(sp, "axis", 1);
  setInt(sp, "num_outputs", 2);
  m.output("p0");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  for (const char *op : {"tfc.gather", "tfc.transpose", "tfc.slice", "tfc.concat"})
    EXPECT_TRUE(contains(r.ir, op)) << op << "\n" << r.ir;
  EXPECT_TRUE(contains(r.ir, "tensor<?x4x?xf32>")) << r.ir;
}

/// A causal mask: ConstantOfShape([seq, seq]) -> Trilu -> Equal 0 -> Not -> Where.
TEST(OnnxImporter, CausalMaskFoldsToATableSlice) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "seq"});
  m.node("Shape", "shape", {"x"}, {"s"});
  m.initI64("st", {1});
  m.initI64("en", {3});
  m.node("Slice", "sl", {"s", "st", "en"}, {"ss"});
  auto &cs = m.node("ConstantOfShape", "ones", {"ss"}, {"o"});
  auto *v = cs.add_attribute();
  v->set_name("value");
  v->set_type(onnx::AttributeProto::TENSOR);
  v->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  v->mutable_t()->add_dims(1);
  v->mutable_t()->add_int64_data(1);
  auto &tri = m.node("Trilu", "tril", {"o"}, {"lower"});
  setInt(tri, "upper", 0);
  m.initI64("zero", {0}, true);
  m.node("Equal", "eq", {"lower", "zero"}, {"hidden"});
  m.node("Not", "not", {"hidden"}, {"keep"});
  auto *big = m.graph->add_initializer();
  big->set_name("neg");
  big->set_data_type(onnx::TensorProto::FLOAT);
  big->add_float_data(-1e9f);
  m.node("Where", "mask", {"keep", "x", "neg"}, {"y"});
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxSeq = 32;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  // One [32, 32] i1 table sliced to [seq, seq]; no run-time Trilu/Equal/Not.
  EXPECT_TRUE(contains(r.ir, "tensor<32x32xi1>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.slice")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.where")) << r.ir;
  EXPECT_EQ(r.ir.find("tfc.where"), r.ir.rfind("tfc.where")) << r.ir;
}

TEST(OnnxImporter, RangeWithSymbolicLimitIsATableSlice) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch", "seq"});
  m.initF32("pos", {64, 8});
  m.node("Shape", "shape", {"ids"}, {"s"});
  m.initI64("one", {1}, true);
  m.initI64("zero", {0}, true);
  m.node("Gather", "len", {"s", "one"}, {"n"});
  m.node("Range", "range", {"zero", "n", "one"}, {"positions"});
  m.node("Gather", "pe", {"pos", "positions"}, {"y"});
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxSeq = 64;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tensor<64xi64>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x8xf32>")) << r.ir;
}

/// GPT-2's Conv1D: view(-1, K) -> Gemm -> view(batch, seq, N) keeps the rank: no
/// [batch*seq, K] value (the plan could not bound it) and no reshape at all.
TEST(OnnxImporter, FlattenAroundGemmIsDeferred) {
  ModelMaker m(14);
  m.input("x", kF32, {"batch", "seq", "16"});
  m.initF32("w", {16, 24});
  m.initF32("b", {24});
  m.node("Shape", "shape", {"x"}, {"s"});
  m.initI64("st", {0});
  m.initI64("en", {2});
  m.node("Slice", "lead", {"s", "st", "en"}, {"bs"});
  m.initI64("flat", {-1, 16});
  m.node("Reshape", "view", {"x", "flat"}, {"x2"});
  m.node("Gemm", "gemm", {"x2", "w", "b"}, {"y2"});
  m.initI64("n", {24});
  auto &c = m.node("Concat", "cat", {"bs", "n"}, {"shape3"});
  setInt(c, "axis", 0);
  m.node("Reshape", "unview", {"y2", "shape3"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_FALSE(contains(r.ir, "tfc.reshape")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x?x16xf32>, tensor<16x24xf32>) -> tensor<?x?x24xf32>"))
      << r.ir;
}

/// Comparisons on run-time values are tfc comparisons with i1 results (exact, false for NaN);
/// Not is a where.
TEST(OnnxImporter, RunTimeComparisonsAreTfcComparisons) {
  ModelMaker m(17);
  m.input("a", kF32, {"batch", "8"});
  m.input("b", kF32, {"batch", "8"});
  m.node("Equal", "eq", {"a", "b"}, {"e"});
  m.node("Less", "lt", {"a", "b"}, {"l"});
  m.node("Not", "not", {"l"}, {"ge"});
  m.output("e");
  m.output("ge");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.equal %arg0, %arg1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> "
                             "tensor<?x8xi1>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.less %arg0, %arg1 : (tensor<?x8xf32>, tensor<?x8xf32>) -> "
                             "tensor<?x8xi1>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.where")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.relu")) << r.ir;
}

/// A constant position buffer of 16 rows sliced by the sequence length lowers the default
/// sequence bound to 16 (the model says otherwise) for that symbol only; an explicit larger
/// bound is an error naming the table.
TEST(OnnxImporter, ModelTablesBoundTheSequence) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch", "seq"});
  m.input("other", kF32, {"batch", "len"});
  m.initI64("pos", std::vector<int64_t>(16, 1));
  m.node("Shape", "shape", {"ids"}, {"s"});
  m.initI64("one", {1});
  m.initI64("two", {2});
  m.initI64("zero", {0});
  m.node("Slice", "len", {"s", "one", "two"}, {"n"});
  m.node("Slice", "take", {"pos", "zero", "n"}, {"p"});
  m.node("Add", "add", {"ids", "p"}, {"y"});
  m.node("Relu", "relu", {"other"}, {"z"});
  m.output("y");
  m.output("z");
  {
    mlir::MLIRContext context;
    ImportResult result;
    auto s = tfc::onnxfe::importOnnxBuffer(context, m.bytes(), "model.onnx", {}, result);
    ASSERT_TRUE(s.ok()) << s.error;
    ASSERT_EQ(result.limits.size(), 1u);
    EXPECT_EQ(result.limits["seq"].max, 16);
    EXPECT_EQ(result.limits["seq"].source, "table 'pos' (16 rows)");
  }
  tfc::onnxfe::ImportOptions explicitBound;
  explicitBound.maxSeq = 64;
  explicitBound.maxSeqFromModel = false;
  Imported r = import(m.bytes(), explicitBound);
  EXPECT_TRUE(contains(r.status.error, "node 'take' (op 'Slice', opset 17): the slice end seq "
                                       "may reach 64 at the bounds, beyond the constant's 16 "
                                       "(table 'pos' (16 rows))"))
      << r.status.error;
  // A bound given for that one symbol is fixed too; other symbols keep their defaults.
  tfc::onnxfe::ImportOptions named;
  named.bounds["seq"] = 20;
  r = import(m.bytes(), named);
  EXPECT_TRUE(contains(r.status.error, "at most 16 for 'seq'")) << r.status.error;
  named.bounds["seq"] = 12;
  r = import(m.bytes(), named);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tensor<12xi64>")) << r.ir;  // the table sized at the bound
}

/// A batch dim named `batch_size` (sentence-transformers exports) is bounded by maxBatch,
/// not by maxSeq: a ConstantOfShape over it is sized at maxBatch.
TEST(OnnxImporter, BatchNamedBatchSizeTakesTheBatchBound) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch_size", "sequence_length"});
  m.node("Shape", "shape", {"ids"}, {"s"});
  m.initI64("zero", {0});
  m.initI64("one", {1});
  m.node("Slice", "b", {"s", "zero", "one"}, {"bs"});
  auto &c = m.node("ConstantOfShape", "fill", {"bs"}, {"f"});
  auto *v = c.add_attribute();
  v->set_name("value");
  v->set_type(onnx::AttributeProto::TENSOR);
  v->mutable_t()->set_data_type(onnx::TensorProto::INT64);
  v->mutable_t()->add_dims(1);
  v->mutable_t()->add_int64_data(7);
  m.node("Unsqueeze", "col", {"f", "one"}, {"f2"});
  m.node("Add", "add", {"ids", "f2"}, {"y"});
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxBatch = 3;
  options.maxSeq = 40;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tensor<3x1xi64>")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tensor<40x1xi64>")) << r.ir;
}

//===----------------------------------------------------------------------===//
// Shape glue as torch and transformers export it (symbolic dims)
//===----------------------------------------------------------------------===//

void setTensorValue(onnx::NodeProto &n, int dtype, double v) {
  auto *a = n.add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  a->mutable_t()->set_data_type(dtype);
  a->mutable_t()->add_dims(1);
  if (dtype == onnx::TensorProto::FLOAT)
    a->mutable_t()->add_float_data(static_cast<float>(v));
  else
    a->mutable_t()->add_int64_data(static_cast<int64_t>(v));
}

void initF32Values(ModelMaker &m, const std::string &name, const std::vector<int64_t> &shape,
                   const std::vector<float> &values) {
  auto *t = m.graph->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape)
    t->add_dims(d);
  for (float v : values)
    t->add_float_data(v);
}

/// `shape4 = [batch, 1, -1, -1]` guarded by `Where(Equal(shape4, -1), 1, shape4)` (Llama,
/// Mistral, Qwen2, OPT, ...'s `mask[None, None].expand(bsz, 1, -1, -1)`): the guard folds on
/// the symbolic dims, and the causal table expanded over the batch stays one [M, M] table
/// sliced to [seq, seq] (no expand, no batch-sized copy), added to the scores as it is.
TEST(OnnxImporter, ExpandGuardFoldsAndTheCausalTableIsNotCopied) {
  ModelMaker m(17);
  m.input("scores", kF32, {"batch", "4", "seq", "seq"});
  m.input("ids", kI64, {"batch", "seq"});
  m.node("Shape", "shape", {"ids"}, {"s"});
  m.initI64("i0", {0}, true);
  m.initI64("i1", {1}, true);
  m.initI64("ax0", {0});
  m.node("Gather", "gb", {"s", "i0"}, {"b"});
  m.node("Gather", "gt", {"s", "i1"}, {"t"});
  m.node("Unsqueeze", "ub", {"b", "ax0"}, {"b1"});
  m.node("Unsqueeze", "ut", {"t", "ax0"}, {"t1"});
  // The causal mask: triu(full([t, t], min), 1), unsqueezed twice.
  auto &tt = m.node("Concat", "tt", {"t1", "t1"}, {"tshape"});
  setInt(tt, "axis", 0);
  auto &full = m.node("ConstantOfShape", "full", {"tshape"}, {"f"});
  setTensorValue(full, kF32, -3.4028234663852886e38);
  m.initI64("one", {1}, true);
  auto &tri = m.node("Trilu", "triu", {"f", "one"}, {"causal"});
  setInt(tri, "upper", 1);
  m.node("Unsqueeze", "u0", {"causal", "ax0"}, {"c3"});
  m.node("Unsqueeze", "u1", {"c3", "ax0"}, {"c4"});
  // expand(b, 1, -1, -1) with the exporter's -1 guard.
  m.initI64("rest", {1, -1, -1});
  auto &cat = m.node("Concat", "cat", {"b1", "rest"}, {"shape4"});
  setInt(cat, "axis", 0);
  m.node("Shape", "len", {"shape4"}, {"n"});
  auto &ones = m.node("ConstantOfShape", "ones", {"n"}, {"o"});
  setTensorValue(ones, kI64, 1);
  m.initI64("minus1", {-1}, true);
  m.node("Mul", "neg", {"o", "minus1"}, {"negs"});
  m.node("Equal", "eq", {"shape4", "negs"}, {"isneg"});
  m.node("Where", "guard", {"isneg", "o", "shape4"}, {"target"});
  m.node("Expand", "expand", {"c4", "target"}, {"mask"});
  m.node("Add", "add", {"scores", "mask"}, {"y"});
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxSeq = 32;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tensor<32x32xf32>")) << r.ir;     // one [M, M] table
  EXPECT_FALSE(contains(r.ir, "tfc.expand")) << r.ir;          // not copied over the batch
  EXPECT_FALSE(contains(r.ir, "x32x32xf32>")) << r.ir;          // no batch-bound table
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?x?xf32>, tensor<?x?xf32>) -> tensor<?x4x?x?xf32>"))
      << r.ir;
}

/// The same table used where no operand gives the batch dim is materialized with an expand.
TEST(OnnxImporter, StretchedTableExpandsWhereNothingElseGivesTheDim) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch", "seq"});
  m.node("Shape", "shape", {"ids"}, {"s"});
  // [1, 3] constant expanded to [batch, 3]
  initF32Values(m, "c", {1, 3}, {1, 2, 3});
  m.initI64("i0", {0});
  m.initI64("i1", {1});
  m.node("Slice", "b", {"s", "i0", "i1"}, {"b1"});
  m.initI64("three", {3});
  auto &cat = m.node("Concat", "cat", {"b1", "three"}, {"shape2"});
  setInt(cat, "axis", 0);
  m.node("Expand", "expand", {"c", "shape2"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.expand")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x3xf32>")) << r.ir;
}

/// seq + 0, Max(seq, 0), Min(seq, -1), comparisons of dims with constants of the other sign
/// fold to shape values: the reshape target is static in the IR.
TEST(OnnxImporter, IdentitiesAndMaxMinOfDimsFold) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "64"});
  m.node("Shape", "shape", {"x"}, {"s"});
  m.initI64("i1", {1}, true);
  m.initI64("zero", {0}, true);
  m.initI64("minus1", {-1}, true);
  m.node("Gather", "gt", {"s", "i1"}, {"t"});
  m.node("Add", "plus0", {"t", "zero"}, {"t0"});
  m.node("Max", "max", {"t0", "zero"}, {"t1"});
  m.node("Min", "min", {"t1", "minus1"}, {"m1"});  // -1: seq >= 0 > -1
  m.node("Greater", "gt0", {"t1", "minus1"}, {"isPos"});
  m.node("Cast", "c", {"isPos"}, {"isPosI"});
  setInt(m.graph->mutable_node(m.graph->node_size() - 1)[0], "to", kI64);
  m.initI64("ax0", {0});
  m.node("Unsqueeze", "u", {"t1", "ax0"}, {"tu"});
  m.node("Unsqueeze", "um", {"m1", "ax0"}, {"mu"});     // -1
  m.node("Unsqueeze", "up", {"isPosI", "ax0"}, {"pu"});  // 1
  m.initI64("hd", {4, 16});
  auto &cat = m.node("Concat", "cat", {"pu", "tu", "hd"}, {"shape4"});
  setInt(cat, "axis", 0);
  m.initI64("first", {0});
  m.node("Reshape", "view", {"x", "shape4"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  // [1, seq, 4, 16]: seq kept in place.
  EXPECT_TRUE(contains(r.ir, "tfc.reshape %arg0 {shape = array<i64: 1, 0, 4, 16>}")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.shape")) << r.ir;
}

/// torch's `mask[..., :n] = value` over whole axes: ScatterND with the full index grid built
/// from Range/Reshape/Expand/Unsqueeze/Concat is the updates; a grid with its axes swapped
/// (a transposed write) is refused with a message.
TEST(OnnxImporter, ScatterNDOverTheFullIndexGridIsTheUpdates) {
  for (int64_t swapped : {0, 1}) {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "seq"});
    m.node("Relu", "relu", {"x"}, {"u"});
    m.node("Shape", "shape", {"x"}, {"s"});
    m.initI64("i0", {0}, true);
    m.initI64("i1", {1}, true);
    m.node("Gather", "gb", {"s", "i0"}, {"b"});
    m.node("Gather", "gt", {"s", "i1"}, {"t"});
    m.node("Range", "rb", {"i0", "b", "i1"}, {"rb"});
    m.node("Range", "rt", {"i0", "t", "i1"}, {"rt"});
    m.initI64("col", {-1, 1});
    m.initI64("row", {1, -1});
    m.node("Reshape", "rb2", {"rb", "col"}, {"rb2"});
    m.node("Reshape", "rt2", {"rt", "row"}, {"rt2"});
    m.node("Expand", "eb", {"rb2", "s"}, {"eb"});
    m.node("Expand", "et", {"rt2", "s"}, {"et"});
    m.initI64("last", {-1});
    m.node("Unsqueeze", "ub", {"eb", "last"}, {"ub"});
    m.node("Unsqueeze", "ut", {"et", "last"}, {"ut"});
    auto &cat = m.node("Concat", "grid", {swapped ? "ut" : "ub", swapped ? "ub" : "ut"}, {"idx"});
    setInt(cat, "axis", -1);
    m.node("ScatterND", "assign", {"x", "idx", "u"}, {"y"});
    m.output("y");
    Imported r = import(m);
    if (!swapped) {
      ASSERT_TRUE(r.status.ok()) << r.status.error;
      EXPECT_TRUE(contains(r.ir, "return %0 : tensor<?x?xf32>")) << r.ir;  // the relu
    } else {
      EXPECT_TRUE(contains(r.status.error, "node 'assign' (op 'ScatterND', opset 17): only a "
                                           "ScatterND that writes every element"))
          << r.status.error;
    }
  }
}

/// Unary ops of constants fold at import time (values checked against <cmath> by hand).
TEST(OnnxImporter, UnaryOpsOfConstantsFold) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "4"});
  initF32Values(m, "c", {4}, {-1.5f, -0.25f, 0.0f, 2.5f});
  m.node("Abs", "abs", {"c"}, {"a"});      // 1.5 0.25 0 2.5
  m.node("Sign", "sign", {"c"}, {"sg"});   // -1 -1 0 1
  m.node("Ceil", "ceil", {"c"}, {"ce"});   // -1 0 0 3
  m.node("Floor", "floor", {"c"}, {"fl"}); // -2 -1 0 2
  m.node("Add", "s1", {"a", "sg"}, {"p1"});    // 0.5 -0.75 0 3.5
  m.node("Add", "s2", {"ce", "fl"}, {"p2"});   // -3 -1 0 5
  m.node("Mul", "s3", {"p1", "p2"}, {"p3"});   // -1.5 0.75 0 17.5
  m.node("Add", "y", {"x", "p3"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "dense<[-1.500000e+00, 7.500000e-01, 0.000000e+00, 1.750000e+01]>"))
      << r.ir;
  for (const char *op : {"tfc.max", "tfc.neg", "tfc.mul"})
    EXPECT_FALSE(contains(r.ir, op)) << op << "\n" << r.ir;
}

TEST(OnnxImporter, SinCosLogOfConstantsFold) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "2"});
  initF32Values(m, "c", {2}, {0.0f, 1.0f});
  m.node("Sin", "sin", {"c"}, {"s"});   // 0, 0.841471
  m.node("Cos", "cos", {"c"}, {"co"});  // 1, 0.540302
  m.node("Add", "sc", {"s", "co"}, {"sc"});  // 1, 1.381773
  m.node("Log", "log", {"sc"}, {"l"});       // 0, 0.323368
  m.node("Add", "y", {"x", "l"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "dense<[0.000000e+00, 0.3233676")) << r.ir;
}

/// At run time: Sigmoid, Abs, Log, Min, Max, LessOrEqual, Sin, Cos, Ceil, Floor, Sign are
/// their tfc ops; Sin of an integer tensor is refused with a message.
TEST(OnnxImporter, RunTimeUnaryAndMinMaxAreTfcOps) {
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "8"});
    m.input("z", kF32, {"batch", "8"});
    m.node("Sigmoid", "sig", {"x"}, {"s"});
    m.node("Abs", "abs", {"s"}, {"a"});
    m.node("Log", "log", {"a"}, {"l"});
    m.node("Min", "min", {"l", "z"}, {"mn"});
    m.node("Max", "max", {"mn", "z"}, {"y"});
    m.node("LessOrEqual", "le", {"x", "z"}, {"c"});
    m.node("Sin", "sin", {"y"}, {"sn"});
    m.node("Cos", "cos", {"sn"}, {"cs"});
    m.node("Ceil", "ceil", {"cs"}, {"ce"});
    m.node("Floor", "floor", {"ce"}, {"fl"});
    m.node("Sign", "sign", {"fl"}, {"sg"});
    m.output("sg");
    m.output("c");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    for (const char *op : {"tfc.sigmoid", "tfc.abs", "tfc.log", "tfc.min", "tfc.max",
                           "tfc.sin", "tfc.cos", "tfc.ceil", "tfc.floor", "tfc.sign"})
      EXPECT_TRUE(contains(r.ir, op)) << op << "\n" << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.less_equal %arg0, %arg1 : (tensor<?x8xf32>, "
                               "tensor<?x8xf32>) -> tensor<?x8xi1>")) << r.ir;
  }
  {
    // Integer position arithmetic (T5's relative buckets): Abs, Neg, Min, Sign stay i64.
    ModelMaker m(17);
    m.input("p", kI64, {"seq", "seq"});
    m.input("q", kI64, {"seq", "seq"});
    m.node("Abs", "abs", {"p"}, {"a"});
    m.node("Neg", "neg", {"a"}, {"n"});
    m.node("Min", "min", {"n", "q"}, {"mn"});
    m.node("Sign", "sign", {"mn"}, {"y"});
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.abs %arg0 : (tensor<?x?xi64>) -> tensor<?x?xi64>")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.sub")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.min")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.sign")) << r.ir;
    EXPECT_FALSE(contains(r.ir, "f32")) << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("x", kI64, {"batch", "8"});
    m.node("Sin", "rope_sin", {"x"}, {"y"});
    m.output("y");
    Imported r = import(m);
    EXPECT_TRUE(contains(r.status.error, "node 'rope_sin' (op 'Sin', opset 17): a run-time Sin "
                                         "is supported on float tensors only"))
        << r.status.error;
  }
}

/// Rotary tables: inv_freq @ positions (a Range over seq), transposed, concatenated with
/// itself and Cos'd fold at import time to one [1, M, dh] table sliced to seq: no run-time
/// matmul and no run-time Cos.
TEST(OnnxImporter, RotaryCosTableFoldsAtImportTime) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "4"});
  m.node("Shape", "shape", {"x"}, {"s"});
  m.initI64("i0", {0}, true);
  m.initI64("i1", {1}, true);
  m.node("Gather", "gt", {"s", "i1"}, {"t"});
  m.node("Range", "pos", {"i0", "t", "i1"}, {"p"});
  auto &c = m.node("Cast", "pf", {"p"}, {"pf"});
  setInt(c, "to", kF32);
  m.initI64("ax01", {0, 1});
  m.node("Unsqueeze", "pu", {"pf", "ax01"}, {"p3"});  // [1, 1, seq]
  initF32Values(m, "inv_freq", {1, 2, 1}, {1.0f, 0.5f});
  m.node("MatMul", "freqs", {"inv_freq", "p3"}, {"f"});  // [1, 2, seq]
  auto &t = m.node("Transpose", "tr", {"f"}, {"ft"});
  setInts(t, "perm", {0, 2, 1});
  auto &cat = m.node("Concat", "emb", {"ft", "ft"}, {"e"});
  setInt(cat, "axis", -1);
  m.node("Cos", "cos", {"e"}, {"cosT"});
  m.node("Mul", "y", {"x", "cosT"}, {"y"});
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxSeq = 32;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tensor<32x4xf32>")) << r.ir;  // the leading 1 broadcasts
  EXPECT_FALSE(contains(r.ir, "tfc.matmul")) << r.ir;
  // Rows 0 and 1 as f32 little-endian hex: 1 (x4), then cos(1) = 0x3F0A5140,
  // cos(0.5) = 0x3F60A940, cos(1), cos(0.5) (Python's struct.pack('<f', math.cos(x))).
  EXPECT_TRUE(contains(r.ir, "0x0000803F0000803F0000803F0000803F40510A3F40A9603F40510A3F40A9603F"))
      << r.ir;
}

/// CumSum: of a constant at import time; of a run-time [batch, seq] mask (OPT/BLOOM position
/// ids) a tfc.cumsum along its axis, staying i64.
TEST(OnnxImporter, CumSumFoldsOrIsATfcCumSum) {
  ModelMaker m(17);
  m.input("mask", kI64, {"batch", "seq"});
  m.initI64("ax", {1}, true);
  m.node("CumSum", "cs", {"mask", "ax"}, {"pos"});
  m.output("pos");
  m.initI64("c", {3, 1, 4});
  m.initI64("ax0", {0}, true);
  auto &ex = m.node("CumSum", "ccs", {"c", "ax0"}, {"cc"});
  setInt(ex, "exclusive", 1);                      // 0 3 4
  m.node("Add", "y", {"mask", "cc"}, {"y"});       // needs seq == 3 at run time; IR only
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxSeq = 16;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.cumsum %arg0 {axis = 1 : i64} : (tensor<?x?xi64>) -> "
                             "tensor<?x?xi64>")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.matmul")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "dense<[0, 3, 4]> : tensor<3xi64>")) << r.ir;
}

TEST(OnnxImporter, TileArgMaxFlattenOfConstantsAndValues) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "4", "8"});
  m.node("Flatten", "flat", {"x"}, {"f"});  // [batch, 32]
  m.output("f");
  m.initI64("c", {1, 2});
  m.initI64("reps", {3});
  m.node("Tile", "tile", {"c", "reps"}, {"t"});  // 1 2 1 2 1 2
  initF32Values(m, "v", {2, 3}, {0.f, 5.f, 5.f, 7.f, -1.f, 2.f});
  auto &am = m.node("ArgMax", "am", {"v"}, {"i"});
  setInt(am, "axis", 1);
  setInt(am, "keepdims", 0);  // [1, 0]
  m.node("Concat", "cat", {"t", "i"}, {"ti"});
  setInt(m.graph->mutable_node(m.graph->node_size() - 1)[0], "axis", 0);
  m.input("ids", kI64, {"8"});
  m.node("Add", "y", {"ids", "ti"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "dense<[1, 2, 1, 2, 1, 2, 1, 0]> : tensor<8xi64>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x32xf32>")) << r.ir;
}

/// An int8 weight-only export: DequantizeLinear of an INT8 initializer with per-column
/// scales folds to an f32 weight of the store ((q - zp) * scale).
TEST(OnnxImporter, DequantizeLinearOfInt8InitializerIsAWeight) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "2"});
  auto *q = m.graph->add_initializer();
  q->set_name("wq");
  q->set_data_type(onnx::TensorProto::INT8);
  q->add_dims(2);
  q->add_dims(10);
  std::string raw;
  for (int i = 0; i < 20; ++i)
    raw.push_back(static_cast<char>(static_cast<int8_t>(i - 10)));
  q->set_raw_data(raw);
  initF32Values(m, "scale", {10}, {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 1.f, 1.f, 1.f, 1.f, 2.f});
  auto *zp = m.graph->add_initializer();
  zp->set_name("zp");
  zp->set_data_type(onnx::TensorProto::INT8);
  zp->add_dims(10);
  zp->set_raw_data(std::string(10, '\x02'));
  auto &dq = m.node("DequantizeLinear", "dq", {"wq", "scale", "zp"}, {"w"});
  setInt(dq, "axis", 1);
  m.node("MatMul", "mm", {"x", "w"}, {"y"});
  m.output("y");
  mlir::MLIRContext context;
  ImportResult result;
  auto st = tfc::onnxfe::importOnnxBuffer(context, m.bytes(), "model.onnx", {}, result);
  ASSERT_TRUE(st.ok()) << st.error;
  ASSERT_TRUE(result.weights->weights.count("w"));
  const auto &w = result.weights->weights.at("w");
  ASSERT_EQ(w.size, 20u * 4u);
  std::vector<float> got(20);
  std::memcpy(got.data(), result.weights->bytes->data() + w.offset, w.size);
  for (int i = 0; i < 20; ++i) {
    int col = i % 10;
    float scale = col < 5 ? 0.5f : col < 9 ? 1.f : 2.f;
    EXPECT_EQ(got[i], static_cast<float>((i - 10) - 2) * scale) << i;
  }
  // A quantized tensor used at run time is refused, not crashed on.
  ModelMaker bad(17);
  bad.input("x", kF32, {"batch", "2"});
  auto *bq = bad.graph->add_initializer();
  bq->set_name("q");
  bq->set_data_type(onnx::TensorProto::INT8);
  bq->add_dims(2);
  bq->set_raw_data(std::string("\x01\x02", 2));
  bad.node("Cast", "c", {"q"}, {"qf"});
  setInt(bad.graph->mutable_node(0)[0], "to", kF32);
  bad.node("Gather", "g", {"x", "q"}, {"y"});
  bad.output("y");
  Imported r = import(bad);
  EXPECT_FALSE(r.status.ok());
  EXPECT_TRUE(contains(r.status.error, "node 'g'")) << r.status.error;
}

//===----------------------------------------------------------------------===//
// Heads folded into the batch dim, Tile as Expand
//===----------------------------------------------------------------------===//

/// Appends nodes computing the 1-D shape `out` from `parts`: "dN" is dim N of `of`, "dN*K"
/// that dim times K, a number a constant (the exporters' Shape/Gather/Mul/Concat glue).
void shapeNodes(ModelMaker &m, const std::string &out, const std::string &of,
                const std::vector<std::string> &parts) {
  m.node("Shape", out + "_shape", {of}, {out + "_s"});
  m.initI64(out + "_axis0", {0});
  std::vector<std::string> pieces;
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string p = parts[i], name = out + "_" + std::to_string(i);
    if (p[0] == 'd') {
      size_t star = p.find('*');
      m.initI64(name + "_idx", {std::stoll(p.substr(1, star))}, true);
      m.node("Gather", name + "_gather", {out + "_s", name + "_idx"}, {name + "_g"});
      std::string dim = name + "_g";
      if (star != std::string::npos) {
        m.initI64(name + "_k", {std::stoll(p.substr(star + 1))}, true);
        m.node("Mul", name + "_mul", {dim, name + "_k"}, {name + "_m"});
        dim = name + "_m";
      }
      m.node("Unsqueeze", name + "_unsq", {dim, out + "_axis0"}, {name});
    } else {
      m.initI64(name, {std::stoll(p)});
    }
    pieces.push_back(name);
  }
  auto &c = m.node("Concat", out + "_cat", pieces, {out});
  setInt(c, "axis", 0);
}

/// BART/Marian/mBART/OPT attention: q, k, v [B, H, S, dh] viewed as [B*H, S, dh], bmm, the
/// scores viewed back as [B, H, S, T] for the mask and again as [B*H, S, T] for softmax and
/// the second bmm, then [B, H, S, dh]. With a symbolic batch tfc.reshape cannot merge B and
/// H; the importer keeps [B, H] (a folded view) so the attention stays 4-D: no reshape at
/// all, K^T a 4-D transpose, the matmuls and softmax on [?, 4, ?, ?].
TEST(OnnxImporter, HeadsFoldedIntoTheBatchKeepTheAttention4D) {
  ModelMaker m(17);
  for (const char *n : {"q", "k", "v"})
    m.input(n, kF32, {"batch", "4", "seq", "16"});
  m.input("mask", kF32, {"batch", "1", "1", "seq"});
  shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
  m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
  m.node("Reshape", "fold_k", {"k", "fold"}, {"kf"});
  m.node("Reshape", "fold_v", {"v", "fold"}, {"vf"});
  auto &t = m.node("Transpose", "kt", {"kf"}, {"ktf"});
  setInts(t, "perm", {0, 2, 1});
  m.node("MatMul", "qk", {"qf", "ktf"}, {"scores"});
  shapeNodes(m, "unfold", "q", {"d0", "4", "d2", "d2"});
  m.node("Reshape", "unfold_scores", {"scores", "unfold"}, {"s4"});
  m.node("Add", "add_mask", {"s4", "mask"}, {"masked"});
  shapeNodes(m, "refold", "q", {"d0*4", "d2", "d2"});
  m.node("Reshape", "refold_scores", {"masked", "refold"}, {"sf"});
  m.node("Softmax", "softmax", {"sf"}, {"p"});
  m.node("MatMul", "pv", {"p", "vf"}, {"ctx"});
  shapeNodes(m, "out", "q", {"d0", "4", "d2", "16"});
  m.node("Reshape", "unfold_ctx", {"ctx", "out"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_FALSE(contains(r.ir, "tfc.reshape")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "perm = array<i64: 0, 1, 3, 2>}")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>"))
      << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>"))
      << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.softmax")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>"))
      << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.dims = [\"batch\", \"\", \"seq\", \"\"]")) << r.ir;
}

/// A folded value reaching an op that needs the [B*H, ...] value itself: with a static
/// batch the reshape is built ([8, -1, 16]); with a symbolic one the error names the node,
/// the input and both shapes.
TEST(OnnxImporter, FoldedHeadsReachOtherOpsOnlyWhenTheyCanBeBuilt) {
  for (const char *batch : {"2", "batch"}) {
    ModelMaker m(17);
    m.input("q", kF32, {batch, "4", "seq", "16"});
    shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
    m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
    auto &c = m.node("Concat", "cat", {"qf", "qf"}, {"y"});
    setInt(c, "axis", 2);
    m.output("y");
    Imported r = import(m);
    if (std::string(batch) == "2") {
      ASSERT_TRUE(r.status.ok()) << r.status.error;
      EXPECT_TRUE(contains(r.ir, "{shape = array<i64: 8, -1, 16>}")) << r.ir;
      EXPECT_TRUE(contains(r.ir, "-> tensor<8x?x32xf32>")) << r.ir;
    } else {
      ASSERT_FALSE(r.status.ok()) << r.ir;
      EXPECT_TRUE(contains(r.status.error,
                           "node 'cat' (op 'Concat', opset 17): input 'qf' is [4*batch, seq, 16], "
                           "the heads of a [batch, 4, seq, 16] value folded into its batch dim"))
          << r.status.error;
    }
  }
}

/// BLOOM's ALiBi: slopes [H, 1] * positions [B, 1, T] = [B, H, T] viewed as [B*H, 1, T] and
/// added to the folded scores: reshaped to [B, H, 1, T] (the 1 inserted behind the heads),
/// the add stays 4-D. torch's key padding mask [B, H, 1, T] -> [B*H, 1, T] added to plain
/// [B*H, S, T] scores (nn.MultiheadAttention) still gets the plain value, built in two steps.
TEST(OnnxImporter, AlibiViewedAsFoldedHeadsAddsIn4D) {
  ModelMaker m(17);
  m.input("q", kF32, {"batch", "4", "seq", "16"});
  m.input("pos", kF32, {"batch", "1", "seq"});
  initF32Values(m, "slopes", {4, 1}, {0.25f, 0.0625f, 0.015625f, 0.00390625f});
  m.node("Mul", "alibi", {"slopes", "pos"}, {"a3"});  // [batch, 4, seq]
  shapeNodes(m, "abias", "q", {"d0*4", "1", "d2"});
  m.node("Reshape", "fold_alibi", {"a3", "abias"}, {"af"});
  shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
  m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
  auto &t = m.node("Transpose", "qt", {"qf"}, {"qtf"});
  setInts(t, "perm", {0, 2, 1});
  m.node("MatMul", "qq", {"qf", "qtf"}, {"scores"});
  m.node("Add", "add_alibi", {"scores", "af"}, {"biased"});
  shapeNodes(m, "out", "q", {"d0", "4", "d2", "d2"});
  m.node("Reshape", "unfold", {"biased", "out"}, {"y"});
  m.output("y");
  // torch MHA: the same [B, H, 1, T] view added to a plain [B*H, S, T].
  m.input("plain", kF32, {"batch", "seq", "seq"});
  m.input("kpm", kF32, {"batch", "4", "1", "seq"});
  shapeNodes(m, "kpmshape", "kpm", {"d0*4", "1", "d3"});
  m.node("Reshape", "fold_kpm", {"kpm", "kpmshape"}, {"kpmf"});
  shapeNodes(m, "pshape", "plain", {"d0*4", "d1", "d2"});
  m.node("Expand", "plain_heads", {"plain", "pshape"}, {"plain4"});
  m.node("Add", "add_kpm", {"plain4", "kpmf"}, {"y2"});
  m.output("y2");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "{shape = array<i64: 0, 4, 1, -1>} : (tensor<?x4x?xf32>) -> "
                             "tensor<?x4x1x?xf32>"))
      << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?x?xf32>, tensor<?x4x1x?xf32>) -> tensor<?x4x?x?xf32>"))
      << r.ir;
  // [B, H, 1, T] -> [B, H, T] -> [B*H, 1, T] for the plain add.
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x1x?xf32>) -> tensor<?x4x?xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?xf32>) -> tensor<?x1x?xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x?x?xf32>, tensor<?x1x?xf32>) -> tensor<?x?x?xf32>"))
      << r.ir;
}

/// OPT: `hidden.reshape(-1, D)`, LayerNormalization, Gemms and the residual add on the
/// [-1, D] rows, then `view(batch, seq, D)`: the deferred flatten survives all of it (no
/// reshape; the [batch*seq, D] value could not be reshaped back over two symbols).
TEST(OnnxImporter, FlattenSurvivesLayerNormAndTheResidual) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "16"});
  m.initI64("rows", {-1, 16});
  m.node("Reshape", "flat", {"x", "rows"}, {"xf"});
  m.initF32("g", {16}, 1.0f);
  m.initF32("b", {16}, 0.0f);
  m.node("LayerNormalization", "ln", {"xf", "g", "b"}, {"h"});
  m.initF32("w", {16, 16});
  m.node("Gemm", "fc", {"h", "w", "b"}, {"f"});
  m.node("Add", "residual", {"xf", "f"}, {"sum"});
  shapeNodes(m, "back", "x", {"d0", "d1", "16"});
  m.node("Reshape", "unflat", {"sum", "back"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_FALSE(contains(r.ir, "tfc.reshape")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.layer_norm")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>"))
      << r.ir;
}

/// Tile over axes of size 1 is an Expand: T5's mask `repeat(batch, seq, 1)` of a [1, 1, T]
/// value (symbolic repeats) and GPT-J's [1, seq, 1] positions tiled (1, 1, 8).
TEST(OnnxImporter, TileOverAxesOfSizeOneIsAnExpand) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch", "seq"});
  m.input("row", kF32, {"1", "1", "seq"});
  shapeNodes(m, "reps", "ids", {"d0", "d1", "1"});
  m.node("Tile", "t5_tile", {"row", "reps"}, {"y"});
  m.output("y");
  m.input("col", kF32, {"1", "seq", "1"});
  m.initI64("reps8", {1, 1, 8});
  m.node("Tile", "gptj_tile", {"col", "reps8"}, {"y2"});
  m.output("y2");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.expand")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<1x1x?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<1x?x1xf32>, tensor<3xi64>) -> tensor<1x?x8xf32>")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.concat %arg")) << r.ir;  // no tiling by concatenation
}

/// DeBERTa's `pos_key.repeat(batch, 1, 1)` of a run-time [H, 2k, dh]: element b*H + h is
/// x[h], i.e. heads folded into the batch of x expanded to [B, H, 2k, dh]; the bmm with the
/// folded query stays 4-D. A Tile over an axis of size > 1 that is not the leading one, by a
/// static repeat, is a tfc.tile.
TEST(OnnxImporter, TileOfHeadsOverTheBatchIsFoldedHeads) {
  {
    ModelMaker m(17);
    m.input("q", kF32, {"batch", "4", "seq", "16"});
    m.input("pos", kF32, {"4", "32", "16"});
    shapeNodes(m, "reps", "q", {"d0", "1", "1"});
    m.node("Tile", "tile", {"pos", "reps"}, {"posf"});
    auto &t = m.node("Transpose", "pt", {"posf"}, {"ptf"});
    setInts(t, "perm", {0, 2, 1});
    shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
    m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
    m.node("MatMul", "c2p", {"qf", "ptf"}, {"c"});
    shapeNodes(m, "out", "q", {"d0", "4", "d2", "32"});
    m.node("Reshape", "unfold", {"c", "out"}, {"y"});
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "(tensor<1x4x32x16xf32>, tensor<4xi64>) -> tensor<?x4x32x16xf32>"))
        << r.ir;
    EXPECT_TRUE(contains(r.ir, "(tensor<?x4x?x16xf32>, tensor<?x4x16x32xf32>) -> tensor<?x4x?x32xf32>"))
        << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "3"});
    m.initI64("reps", {1, 2});
    m.node("Tile", "tile", {"x", "reps"}, {"y"});
    m.output("y");
    Imported r = import(m);  // static repeats of a run-time value: tfc.tile (issue 11)
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.tile %arg0 {repeats = array<i64: 1, 2>} : (tensor<?x3xf32>) "
                               "-> tensor<?x6xf32>")) << r.ir;
  }
}

/// Clip of a table with constant bounds folds (DeBERTa clamps relative positions, index
/// differences known at import time, to the attention span).
TEST(OnnxImporter, ClipOfATableFolds) {
  ModelMaker m(17);
  m.input("ids", kI64, {"batch", "seq"});
  m.node("Shape", "shape", {"ids"}, {"s"});
  m.initI64("one", {1}, true);
  m.initI64("zero", {0}, true);
  m.initI64("lo", {2}, true);
  m.initI64("hi", {5}, true);
  m.node("Gather", "len", {"s", "one"}, {"n"});
  m.node("Range", "range", {"zero", "n", "one"}, {"positions"});
  m.node("Clip", "clip", {"positions", "lo", "hi"}, {"c"});
  m.node("Add", "y", {"ids", "c"}, {"y"});
  m.output("y");
  tfc::onnxfe::ImportOptions options;
  options.maxSeq = 8;
  Imported r = import(m.bytes(), options);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "dense<[2, 2, 2, 3, 4, 5, 5, 5]> : tensor<8xi64>")) << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.max")) << r.ir;
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST(OnnxImporter, UnsupportedOpNamesNodeOpAndOpset) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "8"});
  m.node("Celu", "Foo_3", {"x"}, {"y"});
  m.output("y");
  Imported r = import(m);
  EXPECT_EQ(r.status.error, "model.onnx: node 'Foo_3' (op 'Celu', opset 17) is not supported");
}

TEST(OnnxImporter, OpBelowItsFirstOpsetIsUnsupported) {
  ModelMaker m(17);  // Gelu exists from opset 20
  m.input("x", kF32, {"batch", "8"});
  m.node("Gelu", "g", {"x"}, {"y"});
  m.output("y");
  Imported r = import(m);
  EXPECT_EQ(r.status.error, "model.onnx: node 'g' (op 'Gelu', opset 17) is not supported");
}

TEST(OnnxImporter, UnsupportedOpsetOfTheModel) {
  ModelMaker m(12);
  m.input("x", kF32, {"batch", "8"});
  m.node("Relu", "r", {"x"}, {"y"});
  m.output("y");
  Imported r = import(m);
  EXPECT_TRUE(contains(r.status.error, "opset 12 is not supported (supported: 13 to 21)"))
      << r.status.error;
}

TEST(OnnxImporter, UnknownAttributeNamesIt) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "8"});
  auto &n = m.node("Softmax", "sm", {"x"}, {"y"});
  setInt(n, "bogus", 1);
  m.output("y");
  Imported r = import(m);
  EXPECT_EQ(r.status.error,
            "model.onnx: node 'sm' (op 'Softmax', opset 17): attribute 'bogus' is not supported");
}

TEST(OnnxImporter, ExternalDataIsRejectedClearly) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "64"});
  auto *t = m.graph->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(64);
  t->add_dims(64);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto *e = t->add_external_data();
  e->set_key("location");
  e->set_value("weights.bin");
  m.node("MatMul", "mm", {"x", "w"}, {"y"});
  m.output("y");
  Imported r = import(m);
  EXPECT_TRUE(contains(r.status.error, "initializer 'w' uses external data")) << r.status.error;
}

TEST(OnnxImporter, NotProtobufIsAClearError) {
  Imported r = import(std::string("this is not an onnx model at all \xff\xfe\x01", 36));
  EXPECT_TRUE(contains(r.status.error, "model.onnx: not a valid ONNX model")) << r.status.error;
  Imported empty = import(std::string());
  EXPECT_FALSE(empty.status.ok());
}

TEST(OnnxImporter, TruncatedFilesNeverCrash) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "64"});
  m.initF32("w", {64, 64});
  m.node("MatMul", "mm", {"x", "w"}, {"y"});
  m.output("y");
  std::string bytes = m.bytes();
  ASSERT_TRUE(import(bytes).status.ok());
  int failures = 0;
  for (size_t len = 0; len < bytes.size(); len += std::max<size_t>(1, bytes.size() / 97)) {
    Imported r = import(bytes.substr(0, len));
    if (!r.status.ok()) {
      ++failures;
      EXPECT_TRUE(contains(r.status.error, "model.onnx")) << r.status.error;
    }
  }
  EXPECT_GT(failures, 0);
}

TEST(OnnxImporter, OpTableListsOpsetsPerOp) {
  auto ops = tfc::onnxfe::supportedOps();
  auto find = [&](const std::string &op) {
    for (const auto &o : ops)
      if (o.op == op)
        return o;
    return tfc::onnxfe::OpSupport{"", 0, 0};
  };
  EXPECT_EQ(find("LayerNormalization").minOpset, 17);
  EXPECT_EQ(find("Gelu").minOpset, 20);
  EXPECT_EQ(find("MatMul").minOpset, 13);
  EXPECT_EQ(find("Reshape").maxOpset, 21);
}

//===----------------------------------------------------------------------===//
// Run-time ops of issue 11: Tile, ArgMax/ArgMin, Trilu, GatherElements, Conv
//===----------------------------------------------------------------------===//

/// Tile of a run-time value: constant repeats are a tfc.tile; a repeat known only
/// symbolically (`x.repeat(batch, 1, 1)`) of an axis of size 1 is an expand; of a larger axis
/// it is refused with a message.
TEST(OnnxImporter, RunTimeTileIsTileOrExpand) {
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "1", "8"});
    m.initI64("reps", {1, 3, 2});
    m.node("Tile", "tile", {"x", "reps"}, {"y"});
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.tile %arg0 {repeats = array<i64: 1, 3, 2>} : "
                               "(tensor<?x1x8xf32>) -> tensor<?x3x16xf32>")) << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("ids", kI64, {"batch", "seq"});
    m.input("x", kF32, {"1", "4", "8"});
    m.node("Shape", "shape", {"ids"}, {"s"});
    m.initI64("i0", {0}, true);
    m.node("Gather", "g", {"s", "i0"}, {"b"});
    m.initI64("ax", {0});
    m.node("Unsqueeze", "u", {"b", "ax"}, {"bu"});
    m.initI64("rest", {1, 2});
    auto &c = m.node("Concat", "cat", {"bu", "rest"}, {"reps"});
    setInt(c, "axis", 0);
    m.node("Tile", "tile", {"x", "reps"}, {"y"});
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.expand")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.tile %0 {repeats = array<i64: 1, 1, 2>}") ||
                contains(r.ir, "{repeats = array<i64: 1, 1, 2>} : (tensor<?x4x8xf32>) -> "
                               "tensor<?x4x16xf32>")) << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("ids", kI64, {"batch", "seq"});
    m.input("x", kF32, {"2", "8"});
    m.node("Shape", "shape", {"ids"}, {"s"});
    m.node("Tile", "tile_b", {"x", "s"}, {"y"});
    m.output("y");
    Imported r = import(m);
    EXPECT_TRUE(contains(r.status.error, "node 'tile_b' (op 'Tile', opset 17): Tile of [2, 8] "
                                         "by [batch, seq] is not supported"))
        << r.status.error;
  }
}

/// ArgMax at run time is tfc.argmax; ArgMin is ArgMax of -x; Trilu of a run-time value is
/// tfc.trilu with its k.
TEST(OnnxImporter, RunTimeArgMaxArgMinTrilu) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "8"});
  auto &am = m.node("ArgMax", "am", {"x"}, {"i"});
  setInt(am, "axis", -1);
  setInt(am, "keepdims", 0);
  auto &an = m.node("ArgMin", "an", {"x"}, {"j"});
  setInt(an, "axis", 1);
  setInt(an, "select_last_index", 1);
  m.initI64("k", {1}, true);
  auto &t = m.node("Trilu", "tri", {"x", "k"}, {"u"});
  setInt(t, "upper", 0);
  m.output("i");
  m.output("j");
  m.output("u");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "tfc.argmax %arg0 {axis = 2 : i64, keepdims = false} : "
                             "(tensor<?x?x8xf32>) -> tensor<?x?xi64>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.neg %arg0")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "{axis = 1 : i64, select_last_index = true} : (tensor<?x?x8xf32>) "
                             "-> tensor<?x1x8xi64>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.trilu %arg0 {k = 1 : i64, upper = false} : "
                             "(tensor<?x?x8xf32>) -> tensor<?x?x8xf32>")) << r.ir;
}

/// GatherElements: of constants at import time (ONNX's example), of run-time values a
/// tfc.gather_elements with the indices' shape; a rank mismatch is an error.
TEST(OnnxImporter, GatherElementsFoldsOrRunsAtRunTime) {
  {
    ModelMaker m(17);
    m.input("x", kI64, {"2"});
    m.initI64("d", {1, 2, 3, 4});  // reshaped to [2, 2] below
    m.initI64("shape", {2, 2});
    m.node("Reshape", "rd", {"d", "shape"}, {"d2"});
    m.initI64("i", {0, 0, 1, 0});
    m.node("Reshape", "ri", {"i", "shape"}, {"i2"});
    auto &g = m.node("GatherElements", "ge", {"d2", "i2"}, {"g"});  // [[1, 1], [4, 3]]
    setInt(g, "axis", 1);
    m.initI64("flat", {4});
    m.node("Reshape", "rg", {"g", "flat"}, {"gf"});
    m.node("Add", "y", {"x", "x"}, {"xx"});
    m.node("Concat", "cat", {"xx", "gf"}, {"y"});
    setInt(m.graph->mutable_node(m.graph->node_size() - 1)[0], "axis", 0);
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "dense<[1, 1, 4, 3]> : tensor<4xi64>")) << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "seq", "8"});
    m.input("i", kI64, {"batch", "seq", "3"});
    auto &g = m.node("GatherElements", "ge", {"x", "i"}, {"y"});
    setInt(g, "axis", -1);
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.gather_elements %arg0, %arg1 {axis = 2 : i64} : "
                               "(tensor<?x?x8xf32>, tensor<?x?x3xi64>) -> tensor<?x?x3xf32>"))
        << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "8"});
    m.input("i", kI64, {"3"});
    m.node("GatherElements", "ge_bad", {"x", "i"}, {"y"});
    m.output("y");
    Imported r = import(m);
    EXPECT_TRUE(contains(r.status.error, "node 'ge_bad' (op 'GatherElements', opset 17): the "
                                         "indices (rank 1) must have the data's rank (2, >= 1)"))
        << r.status.error;
  }
}

/// The pooled output of CLIP's text model as torch exports `x[torch.arange(B), j]`:
/// Gather(Flatten(x) [B*S, 16], Add(j, Mul(Range(0, B, 1), S)), axis 0) with j an ArgMax
/// over the seq axis. `variant` changes one piece of the index expression:
///   "clip"      the export (j = ArgMax(ids, -1), stride S = Shape(x)[1]);
///   "swapped"   the same with the operands of Mul and Add swapped and j cast to int64;
///   "no_stride" indices Range(0, B) + j (no Mul by S);
///   "stride_b"  indices Range(0, B) * B + j (the stride is not the flattened seq dim);
///   "free_j"    j a graph input [batch] (not known to lie in [0, S));
///   "other_len" j = ArgMax over an axis of length 5, not S.
ModelMaker rowGatherModel(const std::string &variant) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "16"});
  m.input("ids", variant == "free_j" ? kI64 : onnx::TensorProto::INT32, {"batch", "seq"});
  m.input("other", onnx::TensorProto::INT32, {"batch", "5"});
  m.input("free", kI64, {"batch"});
  auto &fl = m.node("Flatten", "flatten", {"x"}, {"xf"});
  setInt(fl, "axis", 2);
  m.node("Shape", "shape", {"x"}, {"s"});
  m.initI64("zero", {0}, true);
  m.initI64("one", {1}, true);
  m.initI64("at1", {1});
  m.node("Gather", "batch_of", {"s", "zero"}, {"b"});
  m.node("Gather", "seq_of", {"s", "at1"}, {"seqlen"});
  m.node("Range", "range", {"zero", "b", "one"}, {"rows"});
  std::string j = "j";
  if (variant == "free_j") {
    j = "free";
  } else {
    auto &am = m.node("ArgMax", "argmax", {variant == "other_len" ? "other" : "ids"}, {"j"});
    setInt(am, "axis", -1);
    setInt(am, "keepdims", 0);
  }
  if (variant == "swapped") {
    auto &c = m.node("Cast", "cast", {"j"}, {"j64"});
    setInt(c, "to", onnx::TensorProto::INT64);
    m.node("Mul", "mul", {"seqlen", "rows"}, {"starts"});
    m.node("Add", "add", {"starts", "j64"}, {"idx"});
  } else if (variant == "no_stride") {
    m.node("Add", "add", {j, "rows"}, {"idx"});
  } else {
    m.node("Mul", "mul", {"rows", variant == "stride_b" ? "b" : "seqlen"}, {"starts"});
    m.node("Add", "add", {j, "starts"}, {"idx"});
  }
  auto &g = m.node("Gather", "pooled", {"xf", "idx"}, {"y"});
  setInt(g, "axis", 0);
  m.output("y");
  return m;
}

/// x[arange(B), j] of a flattened [B*S, D] is gathered per batch row (no [B*S, D] value, which
/// a plan could not bound): gather_elements on the seq axis, then [B, D].
TEST(OnnxImporter, PerRowGatherOfAFlattenIsGatherElementsOnTheSeqAxis) {
  for (const char *variant : {"clip", "swapped"}) {
    Imported r = import(rowGatherModel(variant));
    ASSERT_TRUE(r.status.ok()) << variant << ": " << r.status.error;
    EXPECT_TRUE(contains(r.ir, "{shape = array<i64: 0, 1, 1>} : (tensor<?xi64>) -> "
                               "tensor<?x1x1xi64>")) << variant << "\n" << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.gather_elements %arg0, %")) << variant << "\n" << r.ir;
    EXPECT_TRUE(contains(r.ir, "{axis = 1 : i64} : (tensor<?x?x16xf32>, tensor<?x1x16xi64>) -> "
                               "tensor<?x1x16xf32>")) << variant << "\n" << r.ir;
    EXPECT_TRUE(contains(r.ir, "{shape = array<i64: 0, 16>} : (tensor<?x1x16xf32>) -> "
                               "tensor<?x16xf32>")) << variant << "\n" << r.ir;
    EXPECT_FALSE(contains(r.ir, "array<i64: -1, 16>")) << variant << "\n" << r.ir;  // no flatten
    EXPECT_FALSE(contains(r.ir, "(tensor<?x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>"))
        << variant << "\n" << r.ir;  // no row gather of the flattened value
  }
}

/// Indices that are not provably arange(B) * S + j with j in [0, S) keep the plain Gather of
/// the flattened value (whose [batch*seq, 16] the compiler then rejects).
TEST(OnnxImporter, OtherGathersOfAFlattenAreNotPerRowGathers) {
  for (const char *variant : {"no_stride", "stride_b", "free_j", "other_len"}) {
    Imported r = import(rowGatherModel(variant));
    ASSERT_TRUE(r.status.ok()) << variant << ": " << r.status.error;
    EXPECT_FALSE(contains(r.ir, "tfc.gather_elements")) << variant << "\n" << r.ir;
    EXPECT_TRUE(contains(r.ir, "tfc.reshape %arg0 {shape = array<i64: -1, 16>} : "
                               "(tensor<?x?x16xf32>) -> tensor<?x16xf32>")) << variant << "\n" << r.ir;
    EXPECT_TRUE(contains(r.ir, " : (tensor<?x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>"))
        << variant << "\n" << r.ir;  // tfc.gather of the [batch*seq, 16] rows
  }
}

/// DeBERTa's c2p scores: `Q @ pos_key^T` with the heads folded into the batch ([B*H, S, 2k]),
/// gathered on the last axis by relative-position indices built from Range(0, S) (a table:
/// clip(i - j + 2, 0, 3)) and expanded over B*H. The gather stays 4-D on [B, H, ...]: the
/// table's [1, 1, S, S] slice expanded to [B, H, S, S], no reshape of the scores. Indices
/// folded the same way are taken as they are.
TEST(OnnxImporter, GatherElementsOfFoldedHeadsStays4D) {
  auto scores = [](ModelMaker &m) {  // c = Q @ pos^T, folded [4*batch, seq, 32]
    m.input("q", kF32, {"batch", "4", "seq", "16"});
    m.input("pos", kF32, {"4", "32", "16"});
    shapeNodes(m, "reps", "q", {"d0", "1", "1"});
    m.node("Tile", "tile", {"pos", "reps"}, {"posf"});
    auto &t = m.node("Transpose", "pt", {"posf"}, {"ptf"});
    setInts(t, "perm", {0, 2, 1});
    shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
    m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
    m.node("MatMul", "c2p", {"qf", "ptf"}, {"c"});
  };
  auto unfoldOutput = [](ModelMaker &m, const std::string &g) {
    shapeNodes(m, "out", "q", {"d0", "4", "d2", "d2"});
    m.node("Reshape", "unfold", {g, "out"}, {"y"});
    m.output("y");
  };
  {
    ModelMaker m(17);
    scores(m);
    m.node("Shape", "qshape", {"q"}, {"qs"});
    m.initI64("two", {2}, true);
    m.initI64("zero", {0}, true);
    m.initI64("one", {1}, true);
    m.initI64("three", {3}, true);
    m.node("Gather", "len", {"qs", "two"}, {"n"});
    m.node("Range", "range", {"zero", "n", "one"}, {"r"});
    m.initI64("ax0", {0});
    m.initI64("ax1", {1});
    m.node("Unsqueeze", "rows", {"r", "ax1"}, {"ri"});  // [S, 1]
    m.node("Unsqueeze", "cols", {"r", "ax0"}, {"rj"});  // [1, S]
    m.node("Sub", "rel", {"ri", "rj"}, {"d"});
    m.node("Add", "shift", {"d", "two"}, {"ds"});
    m.node("Clip", "clip", {"ds", "zero", "three"}, {"cl"});
    m.node("Unsqueeze", "lead", {"cl", "ax0"}, {"c1"});  // [1, S, S]
    shapeNodes(m, "ishape", "q", {"d0*4", "d2", "d2"});
    m.node("Expand", "bh", {"c1", "ishape"}, {"idx"});
    auto &g = m.node("GatherElements", "ge", {"c", "idx"}, {"g"});
    setInt(g, "axis", -1);
    unfoldOutput(m, "g");
    tfc::onnxfe::ImportOptions options;
    options.maxSeq = 4;
    Imported r = import(m.bytes(), options);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "dense<[[[[2, 1, 0, 0], [3, 2, 1, 0], [3, 3, 2, 1], [3, 3, 3, 2]]]]> "
                               ": tensor<1x1x4x4xi64>"))
        << r.ir;
    EXPECT_TRUE(contains(r.ir, "(tensor<1x1x?x?xi64>, tensor<4xi64>) -> tensor<?x4x?x?xi64>")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "{axis = 3 : i64} : (tensor<?x4x?x32xf32>, tensor<?x4x?x?xi64>) -> "
                               "tensor<?x4x?x?xf32>"))
        << r.ir;
    EXPECT_FALSE(contains(r.ir, "tensor<?x?x")) << r.ir;  // no [B*H, ...] value
  }
  {
    ModelMaker m(17);
    scores(m);
    m.input("i", kI64, {"batch", "4", "seq", "seq"});
    shapeNodes(m, "ifold", "i", {"d0*4", "d2", "d3"});
    m.node("Reshape", "fold_i", {"i", "ifold"}, {"idx"});
    auto &g = m.node("GatherElements", "ge", {"c", "idx"}, {"g"});
    setInt(g, "axis", 2);
    unfoldOutput(m, "g");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, ", %arg2 {axis = 3 : i64} : (tensor<?x4x?x32xf32>, "
                               "tensor<?x4x?x?xi64>) -> tensor<?x4x?x?xf32>"))
        << r.ir;
    EXPECT_FALSE(contains(r.ir, "tfc.expand %arg2")) << r.ir;
  }
}

/// What GatherElements of folded heads does not take: indices not known to be the same for
/// every batch*heads entry (a run-time value expanded over B*H, a constant whose slices
/// differ) and a gather along the folded axis; each error names the node and the tensors.
/// A constant that is the same in every slice is taken (static batch: [8, 3, 3] = [2, 4, 3, 3]).
TEST(OnnxImporter, GatherElementsOfFoldedHeadsNeedsIndicesSharedOverTheHeads) {
  {
    ModelMaker m(17);
    m.input("q", kF32, {"batch", "4", "seq", "16"});
    m.input("rel", kI64, {"1", "seq", "seq"});
    shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
    m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
    auto &t = m.node("Transpose", "kt", {"qf"}, {"ktf"});
    setInts(t, "perm", {0, 2, 1});
    m.node("MatMul", "qk", {"qf", "ktf"}, {"c"});
    shapeNodes(m, "ishape", "q", {"d0*4", "d2", "d2"});
    m.node("Expand", "bh", {"rel", "ishape"}, {"idx"});
    for (int64_t axis : {-1, 0}) {
      ModelMaker mm = m;
      mm.graph = mm.model.mutable_graph();
      auto &g = mm.node("GatherElements", "ge", {"c", "idx"}, {"y"});
      setInt(g, "axis", axis);
      mm.output("y");
      Imported r = import(mm);
      ASSERT_FALSE(r.status.ok()) << r.ir;
      EXPECT_TRUE(contains(
          r.status.error,
          axis == 0 ? "node 'ge' (op 'GatherElements', opset 17): gathering along the folded "
                      "batch*heads axis of input 'c' [4*batch, seq, seq] is not supported"
                    : "node 'ge' (op 'GatherElements', opset 17): the data 'c' [4*batch, seq, seq] "
                      "has its heads folded into the batch dim ([batch, 4, seq, seq]); its indices "
                      "'idx' [4*batch, seq, seq] must be a table the same for every batch*heads "
                      "entry or be folded the same way"))
          << r.status.error;
    }
  }
  for (bool differ : {true, false}) {
    ModelMaker m(17);
    m.input("q", kF32, {"2", "4", "3", "16"});
    shapeNodes(m, "fold", "q", {"d0*4", "-1", "16"});
    m.node("Reshape", "fold_q", {"q", "fold"}, {"qf"});
    auto &t = m.node("Transpose", "kt", {"qf"}, {"ktf"});
    setInts(t, "perm", {0, 2, 1});
    m.node("MatMul", "qk", {"qf", "ktf"}, {"c"});
    std::vector<int64_t> values;
    for (int64_t e = 0; e < 8 * 9; ++e)  // entry (b*h, i, j): j, or (j + b*h) % 3
      values.push_back(differ ? (e % 3 + e / 9) % 3 : e % 3);
    m.initI64("flat", values);
    m.initI64("shape", {8, 3, 3});
    m.node("Reshape", "idx3", {"flat", "shape"}, {"idx"});
    auto &g = m.node("GatherElements", "ge", {"c", "idx"}, {"g"});
    setInt(g, "axis", 2);
    m.initI64("out", {2, 4, 3, 3});
    m.node("Reshape", "unfold", {"g", "out"}, {"y"});
    m.output("y");
    Imported r = import(m);
    if (differ) {
      ASSERT_FALSE(r.status.ok()) << r.ir;
      EXPECT_TRUE(contains(r.status.error, "node 'ge' (op 'GatherElements', opset 17): the "
                                           "indices 'idx' of the folded-heads data 'c' differ "
                                           "between batch*heads entries"))
          << r.status.error;
    } else {
      ASSERT_TRUE(r.status.ok()) << r.status.error;
      EXPECT_TRUE(contains(r.ir, "dense<[[[[0, 1, 2], [0, 1, 2], [0, 1, 2]]]]> : tensor<1x1x3x3xi64>"))
          << r.ir;
      EXPECT_TRUE(contains(r.ir, "{axis = 3 : i64} : (tensor<2x4x3x3xf32>, tensor<2x4x3x3xi64>) -> "
                                 "tensor<2x4x3x3xf32>"))
          << r.ir;
    }
  }
}

/// Conv: ViT's patch embedding (2-D, stride = kernel, bias), Whisper's 1-D front end (pads,
/// stride 2), SAME_UPPER resolved on static dims; errors name the node.
TEST(OnnxImporter, ConvOneAndTwoSpatialDims) {
  {
    ModelMaker m(17);
    m.input("px", kF32, {"batch", "3", "32", "32"});
    m.initF32("w", {16, 3, 8, 8});
    m.initF32("b", {16});
    auto &c = m.node("Conv", "patch", {"px", "w", "b"}, {"y"});
    setInts(c, "kernel_shape", {8, 8});
    setInts(c, "strides", {8, 8});
    setInts(c, "pads", {0, 0, 0, 0});
    m.output("y");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "tfc.conv %arg0, %0, %1 {dilations = array<i64: 1, 1>, pads = "
                               "array<i64: 0, 0, 0, 0>, strides = array<i64: 8, 8>} : "
                               "(tensor<?x3x32x32xf32>, tensor<16x3x8x8xf32>, tensor<16xf32>) -> "
                               "tensor<?x16x4x4xf32>")) << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("mel", kF32, {"batch", "8", "32"});
    m.initF32("w1", {16, 8, 3});
    m.initF32("w2", {16, 16, 3});
    auto &c1 = m.node("Conv", "conv1", {"mel", "w1"}, {"h"});
    setInts(c1, "pads", {1, 1});
    auto &c2 = m.node("Conv", "conv2", {"h", "w2"}, {"y"});
    setInts(c2, "pads", {1, 1});
    setInts(c2, "strides", {2});
    auto &c3 = m.node("Conv", "conv3", {"y", "w2"}, {"z"});
    auto *ap = c3.add_attribute();
    ap->set_name("auto_pad");
    ap->set_type(onnx::AttributeProto::STRING);
    ap->set_s("SAME_UPPER");
    setInts(c3, "strides", {2});
    m.output("z");
    Imported r = import(m);
    ASSERT_TRUE(r.status.ok()) << r.status.error;
    EXPECT_TRUE(contains(r.ir, "-> tensor<?x16x32xf32>")) << r.ir;
    EXPECT_TRUE(contains(r.ir, "strides = array<i64: 2>} : (tensor<?x16x32xf32>, "
                               "tensor<16x16x3xf32>) -> tensor<?x16x16xf32>")) << r.ir;
    // SAME_UPPER, stride 2 over 16: out 8, total pad (8 - 1) * 2 + 3 - 16 = 1, at the end.
    EXPECT_TRUE(contains(r.ir, "pads = array<i64: 0, 1>, strides = array<i64: 2>} : "
                               "(tensor<?x16x16xf32>, tensor<16x16x3xf32>) -> "
                               "tensor<?x16x8xf32>")) << r.ir;
  }
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "4", "seq"});
    m.initF32("w", {8, 2, 3});
    auto &c = m.node("Conv", "conv_g", {"x", "w"}, {"y"});
    setInt(c, "group", 3);
    m.output("y");
    Imported r = import(m);
    EXPECT_TRUE(contains(r.status.error, "node 'conv_g' (op 'Conv', opset 17): the input [batch, "
                                         "4, seq] and the weight [8, 2, 3] do not go together "
                                         "with group 3"))
        << r.status.error;
  }
  {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "4", "seq"});
    m.initF32("w", {8, 4, 3});
    auto &c = m.node("Conv", "conv_s", {"x", "w"}, {"y"});
    setInts(c, "strides", {2});
    m.output("y");
    Imported r = import(m);
    EXPECT_TRUE(contains(r.status.error, "node 'conv_s' (op 'Conv', opset 17): the output size "
                                         "of symbolic spatial dim seq is not a symbolic dim"))
        << r.status.error;
  }
}


//===----------------------------------------------------------------------===//
// torch's repeat_interleave loop (SplitToSequence -> Loop -> ConcatFromSequence)
//===----------------------------------------------------------------------===//

/// A Constant node of a graph (body or main) with an int64 vector (or scalar) value.
void constNode(onnx::GraphProto &g, const std::string &out, const std::vector<int64_t> &v,
               bool scalar = false, int elem = kI64) {
  auto *n = g.add_node();
  n->set_op_type("Constant");
  n->set_name(out + "_node");
  n->add_output(out);
  auto *a = n->add_attribute();
  a->set_name("value");
  a->set_type(onnx::AttributeProto::TENSOR);
  auto *t = a->mutable_t();
  t->set_data_type(elem);
  if (!scalar)
    t->add_dims(static_cast<int64_t>(v.size()));
  for (int64_t x : v) {
    if (elem == kI64)
      t->add_int64_data(x);
    else
      t->add_int32_data(static_cast<int32_t>(x));
  }
}

onnx::NodeProto &bodyNode(onnx::GraphProto &g, const std::string &op, const std::string &name,
                          const std::vector<std::string> &inputs,
                          const std::vector<std::string> &outputs) {
  auto *n = g.add_node();
  n->set_op_type(op);
  n->set_name(name);
  for (const auto &i : inputs)
    n->add_input(i);
  for (const auto &o : outputs)
    n->add_output(o);
  return *n;
}

/// What the tests change in torch's form.
struct RepeatTweaks {
  std::vector<int64_t> repeats;           // a constant repeats vector instead of Expand(r, n)
  std::vector<int64_t> head;              // the expand target before the repeat (else torch's)
  std::string trip;                       // the trip count's name (else the slice count)
  bool extraBodyNode = false;             // a Neg of the slice inside the body
  bool sequenceReadOutside = false;       // the slices' sequence also read by a SequenceAt
};

/// torch.onnx's export (torch 1.13, opset 13+ symbolic) of repeat_interleave(x, r, axis) with
/// x's sizes `sizes` as torch knows them (-1: dynamic), node for node as in the GPT-J export.
void addRepeatInterleave(ModelMaker &m, const std::string &x, int64_t axis,
                         const std::vector<int64_t> &sizes, int64_t r, const std::string &out,
                         const RepeatTweaks &tw = {}) {
  onnx::GraphProto &g = *m.graph;
  // Trip count: x.shape[axis] as [1]; repeats Expand(r, [n]); split sizes: ones like them.
  m.node("Shape", "ri/Shape", {x}, {"ri/shape"});
  constNode(g, "ri/axis", {axis}, true);
  auto &gt = m.node("Gather", "ri/Gather", {"ri/shape", "ri/axis"}, {"ri/n"});
  setInt(gt, "axis", 0);
  constNode(g, "ri/zero", {0});
  m.node("Unsqueeze", "ri/Unsqueeze", {"ri/n", "ri/zero"}, {"ri/n1"});
  if (tw.repeats.empty()) {
    constNode(g, "ri/r", {r}, true);
    m.node("Expand", "ri/Expand", {"ri/r", "ri/n1"}, {"ri/R"});
  } else {
    constNode(g, "ri/R", tw.repeats);
  }
  m.node("Shape", "ri/Shape_1", {"ri/R"}, {"ri/Rshape"});
  auto &ones = m.node("ConstantOfShape", "ri/ConstantOfShape", {"ri/Rshape"}, {"ri/ones"});
  {
    auto *a = ones.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(kI64);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_int64_data(1);
  }
  auto &sr = m.node("SplitToSequence", "ri/SplitToSequence", {"ri/R", "ri/ones"}, {"ri/rs"});
  setInt(sr, "axis", 0);
  auto &sx = m.node("SplitToSequence", "ri/SplitToSequence_1", {x, "ri/ones"}, {"ri/xs"});
  setInt(sx, "axis", axis);
  auto &empty = m.node("SequenceEmpty", "ri/SequenceEmpty", {}, {"ri/empty"});
  setInt(empty, "dtype", kF32);
  constNode(g, "ri/true", {1}, true, onnx::TensorProto::BOOL);
  auto &loop = m.node("Loop", "ri/Loop", {tw.trip.empty() ? "ri/n1" : tw.trip, "ri/true",
                                          "ri/empty"}, {"ri/seq"});
  auto *battr = loop.add_attribute();
  battr->set_name("body");
  battr->set_type(onnx::AttributeProto::GRAPH);
  onnx::GraphProto &b = *battr->mutable_g();
  b.set_name("ri/body");
  for (const char *in : {"i", "cond", "acc"})
    b.add_input()->set_name(in);
  bodyNode(b, "SequenceAt", "ri/SequenceAt", {"ri/rs", "i"}, {"rep"});
  bodyNode(b, "SequenceAt", "ri/SequenceAt_1", {"ri/xs", "i"}, {"slice"});
  std::string sliceName = "slice";
  if (tw.extraBodyNode) {
    bodyNode(b, "Neg", "ri/Neg", {"slice"}, {"negslice"});
    sliceName = "negslice";
  }
  constNode(b, "uaxes", {axis + 1});
  bodyNode(b, "Unsqueeze", "ri/Unsqueeze_1", {sliceName, "uaxes"}, {"u"});
  std::vector<int64_t> head(sizes.begin(), sizes.begin() + axis + 1), tail(sizes.begin() + axis + 1,
                                                                          sizes.end());
  head[axis] = 1;
  if (!tw.head.empty())
    head = tw.head;
  constNode(b, "head", head);
  constNode(b, "tail", tail);
  auto &cat = bodyNode(b, "Concat", "ri/Concat", {"head", "rep", "tail"}, {"T"});
  setInt(cat, "axis", 0);
  bodyNode(b, "Shape", "ri/Shape_2", {"T"}, {"Tshape"});
  auto &bones = bodyNode(b, "ConstantOfShape", "ri/ConstantOfShape_1", {"Tshape"}, {"Tones"});
  {
    auto *a = bones.add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(kI64);
    a->mutable_t()->add_dims(1);
    a->mutable_t()->add_int64_data(1);
  }
  constNode(b, "minus1", {-1}, true);
  bodyNode(b, "Mul", "ri/Mul", {"Tones", "minus1"}, {"Tneg"});
  bodyNode(b, "Equal", "ri/Equal", {"T", "Tneg"}, {"Teq"});
  bodyNode(b, "Where", "ri/Where", {"Teq", "Tones", "T"}, {"T2"});
  bodyNode(b, "Expand", "ri/Expand_1", {"u", "T2"}, {"E"});
  std::vector<int64_t> outSizes;
  for (size_t k = 0; k < sizes.size(); ++k)
    outSizes.push_back((int64_t)k == axis ? -1 : sizes[k] < 0 ? 0 : sizes[k]);
  constNode(b, "outShape", outSizes);
  auto &rs = bodyNode(b, "Reshape", "ri/Reshape", {"E", "outShape"}, {"Er"});
  setInt(rs, "allowzero", 0);
  bodyNode(b, "SequenceInsert", "ri/SequenceInsert", {"acc", "Er"}, {"acc2"});
  auto &cast = bodyNode(b, "Cast", "ri/Cast", {"ri/true"}, {"cond2"});
  setInt(cast, "to", onnx::TensorProto::BOOL);
  b.add_output()->set_name("cond2");
  b.add_output()->set_name("acc2");
  auto &cfs = m.node("ConcatFromSequence", "ri/ConcatFromSequence", {"ri/seq"}, {out});
  setInt(cfs, "axis", axis);
  if (tw.sequenceReadOutside) {
    constNode(g, "ri/zero_s", {0}, true);
    m.node("SequenceAt", "ri/SequenceAt_outside", {"ri/xs", "ri/zero_s"}, {"ri/first"});
  }
}

/// GPT-J's rotary: repeat_interleave(sin[:, :, None, :], 2, 3) of a run-time [batch, seq, 1, 4]
/// value is Unsqueeze + Expand + Reshape: [batch, seq, 1, 4, 1] -> [.., 4, 2] -> [.., 1, 8].
TEST(OnnxImporter, RepeatInterleaveLoopIsUnsqueezeExpandReshape) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "seq", "1", "4"});
  addRepeatInterleave(m, "x", 3, {-1, -1, 1, 4}, 2, "y");
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x?x1x4x1xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.expand")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x?x1x4x2xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x?x1x4x2xf32>) -> tensor<?x?x1x8xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "return %")) << r.ir;
  EXPECT_TRUE(contains(r.ir, ") -> tensor<?x?x1x8xf32>\n")) << r.ir;
}

/// Along a middle axis with dims after it, repeats of 3: [batch, 2, 5] on axis 1.
TEST(OnnxImporter, RepeatInterleaveLoopOnAMiddleAxis) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "2", "5"});
  addRepeatInterleave(m, "x", 1, {-1, 2, 5}, 3, "y");
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x2x3x5xf32>")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "(tensor<?x2x3x5xf32>) -> tensor<?x6x5xf32>")) << r.ir;
}

/// Of a constant: folded at import time. [[1, 2, 3]] repeated twice on axis 1 is
/// [[1, 1, 2, 2, 3, 3]] (torch.repeat_interleave's definition).
TEST(OnnxImporter, RepeatInterleaveLoopOfAConstantFolds) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "6"});
  initF32Values(m, "c", {1, 3}, {1, 2, 3});
  addRepeatInterleave(m, "c", 1, {1, 3}, 2, "rep");
  m.node("Add", "add", {"x", "rep"}, {"y"});
  m.output("y");
  Imported r = import(m);
  ASSERT_TRUE(r.status.ok()) << r.status.error;
  EXPECT_TRUE(contains(r.ir, "dense<[[1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00, "
                             "3.000000e+00, 3.000000e+00]]> : tensor<1x6xf32>"))
      << r.ir;
  EXPECT_FALSE(contains(r.ir, "tfc.expand")) << r.ir;
}

/// Anything else stays unsupported, naming a node of the group and why.
TEST(OnnxImporter, RepeatInterleaveLoopMustMatchExactly) {
  struct Case {
    const char *what;
    RepeatTweaks tweaks;
    const char *node, *why;
  };
  RepeatTweaks extra, uneven, broadcast, trip, outside;
  extra.extraBodyNode = true;
  uneven.repeats = {1, 2, 3, 1};
  broadcast.head = {1, 1, 3, 1};  // the expand would also copy the slice along axis 2
  trip.trip = "ri/two";
  outside.sequenceReadOutside = true;
  for (const Case &c : std::vector<Case>{
           {"extra body node", extra, "ri/SplitToSequence",
            "does not expand an Unsqueeze (constant axes) of the slice SequenceAt(xs, i)"},
           {"uneven repeats", uneven, "ri/Loop", "the repeats are not all the same positive number"},
           {"broadcast", broadcast, "ri/Loop", "the expand target 3 at axis 2 changes the slice"},
           {"trip count", trip, "ri/Loop", "the trip count is not the size 4 of the sliced axis"},
           {"sequence read outside", outside, "ri/SplitToSequence",
            "the SplitToSequence's sequence is read by more than the Loop body"}}) {
    ModelMaker m(17);
    m.input("x", kF32, {"batch", "seq", "1", "4"});
    constNode(*m.graph, "ri/two", {2});
    addRepeatInterleave(m, "x", 3, {-1, -1, 1, 4}, 2, "y", c.tweaks);
    m.output("y");
    Imported r = import(m);
    ASSERT_FALSE(r.status.ok()) << c.what;
    std::string where = std::string("node '") + c.node + "' (op '" +
                        (std::string(c.node) == "ri/Loop" ? "Loop" : "SplitToSequence") +
                        "', opset 17) is not supported";
    EXPECT_TRUE(contains(r.status.error, where)) << c.what << ": " << r.status.error;
    EXPECT_TRUE(contains(r.status.error, c.why)) << c.what << ": " << r.status.error;
    EXPECT_TRUE(contains(r.status.error, "repeat_interleave")) << c.what << ": "
                                                               << r.status.error;
  }
}

/// A Loop that is no repeat_interleave (a plain counter) is not supported, naming it.
TEST(OnnxImporter, OtherLoopsAreUnsupported) {
  ModelMaker m(17);
  m.input("x", kF32, {"batch", "4"});
  constNode(*m.graph, "trip", {3});
  constNode(*m.graph, "cond", {1}, true, onnx::TensorProto::BOOL);
  auto &loop = m.node("Loop", "counter", {"trip", "cond", "x"}, {"y"});
  auto *a = loop.add_attribute();
  a->set_name("body");
  a->set_type(onnx::AttributeProto::GRAPH);
  onnx::GraphProto &b = *a->mutable_g();
  for (const char *in : {"i", "c", "v"})
    b.add_input()->set_name(in);
  bodyNode(b, "Neg", "neg", {"v"}, {"v2"});
  b.add_output()->set_name("c");
  b.add_output()->set_name("v2");
  m.output("y");
  Imported r = import(m);
  EXPECT_TRUE(contains(r.status.error,
                       "model.onnx: node 'counter' (op 'Loop', opset 17) is not supported"))
      << r.status.error;
  EXPECT_TRUE(contains(r.status.error, "it is not part of torch's repeat_interleave form"))
      << r.status.error;
}

} // namespace
