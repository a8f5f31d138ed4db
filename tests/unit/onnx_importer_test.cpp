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

/// Comparisons and Not on run-time values lower to existing ops.
TEST(OnnxImporter, RunTimeComparisonsUseExistingOps) {
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
  EXPECT_TRUE(contains(r.ir, "tfc.relu")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "tfc.where")) << r.ir;
  EXPECT_TRUE(contains(r.ir, "-> tensor<?x8xi1>")) << r.ir;
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

} // namespace
