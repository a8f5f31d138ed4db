//===- runtime_input_rules_test.cpp - token ids and masks are checked per input, per element --===//
//
// Plans written by the test (runtime_plan_builder.h) in the shapes the compiler lowers models to:
// token ids into a constant table through ONNX Gather (negative ids used to read from the end:
// -1 was the last token) or the fused Embedding, masks into Attention (fused) or into the scores
// of a Softmax (unfused). Each run with an id outside the table or a mask value other than 0 and
// 1 is refused with a message naming the input and the element; tfc_plan_input_values says what
// each input takes; Gathers that are not table lookups keep ONNX's negative indices.
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

using namespace rtt;
using K = fb::KernelKind;

namespace {

constexpr int64_t kRows = 5, kDim = 3;

/// An opened plan, released at scope exit.
struct OpenPlan {
  tfc_plan *plan = nullptr;
  explicit OpenPlan(const PlanBuilder &pb) {
    tfc_status *s = openBytes(pb.build(), &plan, "rules");
    EXPECT_EQ(s, nullptr) << (s ? tfc_status_message(s) : "");
    tfc_status_free(s);
  }
  ~OpenPlan() { tfc_plan_release(plan); }
};

struct Result {
  tfc_code code = TFC_OK;
  std::string message;
  std::vector<float> out;
};

/// Runs `forward` with the given inputs; the first output as floats.
Result run(tfc_plan *plan, const std::vector<tfc_tensor> &inputs) {
  Result r;
  tfc_session *session = nullptr;
  tfc_status *s = tfc_session_create(plan, nullptr, &session);
  tfc_outputs *outs = nullptr;
  if (!s)
    s = tfc_session_run(session, "forward", inputs.data(), inputs.size(), &outs);
  if (!s) {
    tfc_tensor y;
    s = tfc_outputs_get(outs, 0, &y);
    if (!s) {
      int64_t n = 1;
      for (int32_t i = 0; i < y.rank; ++i)
        n *= y.dims[i];
      const float *p = static_cast<const float *>(y.data);
      r.out.assign(p, p + n);
    }
  }
  if (s) {
    r.code = tfc_status_code(s);
    r.message = tfc_status_message(s);
    tfc_status_free(s);
  }
  tfc_outputs_free(outs);
  tfc_session_release(session);
  return r;
}

tfc_input_values valuesOf(tfc_plan *plan, size_t index) {
  tfc_input_values v{};
  tfc_status *s = tfc_plan_input_values(plan, "forward", index, &v);
  EXPECT_EQ(s, nullptr);
  tfc_status_free(s);
  return v;
}

#define EXPECT_REFUSED(result, CODE, TEXT)                                                         \
  do {                                                                                             \
    Result r_ = (result);                                                                          \
    EXPECT_EQ(r_.code, CODE) << r_.message;                                                        \
    EXPECT_NE(r_.message.find(TEXT), std::string::npos) << r_.message;                            \
  } while (0)

/// ids [1, 4] (i64, through `via`: none, a Reshape, or an i32 Cast) -> Gather(table [5, 3], axis)
/// -> out. With `constantTable` false the table is an input (ONNX Gather on data: no rule).
PlanBuilder gatherPlan(const std::string &via, bool constantTable = true, int64_t axis = 0) {
  PlanBuilder pb;
  auto table = randomFloats(kRows * kDim, 1);
  int ids = pb.addInput("input_ids", TFC_I64, {S(1), S(4)});
  int data = constantTable
                 ? pb.addConstantValue(pb.addConstant("tokens.weight", TFC_F32, {kRows, kDim},
                                                      table.data()))
                 : pb.addInput("table", TFC_F32, {S(kRows), S(kDim)});
  int idx = ids;
  if (via == "reshape") {
    idx = pb.addIntermediate("ids.flat", TFC_I64, {S(4)});
    pb.addKernel(K::Reshape, {ids}, {idx});
  } else if (via == "cast") {
    idx = pb.addIntermediate("ids.i32", TFC_I32, {S(1), S(4)});
    pb.addKernel(K::Cast, {ids}, {idx});
  }
  std::vector<DimSpec> out = via == "reshape" ? std::vector<DimSpec>{S(4), S(kDim)}
                                              : std::vector<DimSpec>{S(1), S(4), S(kDim)};
  if (axis == 1)
    out = {S(kRows), S(1), S(4)};
  int y = pb.addOutput("y", TFC_F32, out);
  pb.addKernel(K::Gather, {data, idx}, {y}, opt::gather(int32_t(axis)), "embeddings.word");
  return pb;
}

TEST(RuntimeInputRules, NegativeTokenIdsIntoATableAreRefused) {
  std::vector<float> table = randomFloats(kRows * kDim, 1);
  int64_t dims[2] = {1, 4};
  for (const char *via : {"", "reshape", "cast"}) {
    OpenPlan p(gatherPlan(via));
    ASSERT_NE(p.plan, nullptr);
    tfc_input_values v = valuesOf(p.plan, 0);
    EXPECT_EQ(v.kind, TFC_INPUT_IDS) << via;
    EXPECT_EQ(v.id_bound, kRows) << via;
    std::vector<int64_t> ids = {4, 0, -1, 2};
    tfc_tensor t{"input_ids", TFC_I64, 2, dims, ids.data()};
    // ONNX Gather read -1 as row 4 (the last token): now the run is refused.
    EXPECT_REFUSED(run(p.plan, {t}), TFC_OUT_OF_RANGE,
                   "input 'input_ids' element 2 (at [0, 2]) is -1: token ids must be in [0, 5) "
                   "(the rows of 'tokens.weight')");
    ids = {4, 0, -5, 2};
    EXPECT_REFUSED(run(p.plan, {t}), TFC_OUT_OF_RANGE, "element 2 (at [0, 2]) is -5");
    ids = {4, 0, 5, 2};
    EXPECT_REFUSED(run(p.plan, {t}), TFC_OUT_OF_RANGE, "element 2 (at [0, 2]) is 5");
    ids = {4, 0, 1, 2};
    Result ok = run(p.plan, {t});
    ASSERT_EQ(ok.code, TFC_OK) << ok.message;
    std::vector<float> ref;
    for (int64_t i : ids)
      ref.insert(ref.end(), table.begin() + i * kDim, table.begin() + (i + 1) * kDim);
    EXPECT_EQ(ok.out, ref) << via;
  }
}

TEST(RuntimeInputRules, GathersThatAreNotTableLookupsKeepNegativeIndices) {
  int64_t dims[2] = {1, 4}, tdims[2] = {kRows, kDim};
  std::vector<float> table = randomFloats(kRows * kDim, 1);
  std::vector<int64_t> ids = {4, 0, -1, 2};
  tfc_tensor t{"input_ids", TFC_I64, 2, dims, ids.data()};
  { // data from an input: ONNX semantics, -1 is row 4
    OpenPlan p(gatherPlan("", false));
    EXPECT_EQ(valuesOf(p.plan, 0).kind, TFC_INPUT_DATA);
    tfc_tensor d{"table", TFC_F32, 2, tdims, table.data()};
    Result r = run(p.plan, {t, d});
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    std::vector<float> ref;
    for (int64_t i : {4, 0, 4, 2})
      ref.insert(ref.end(), table.begin() + i * kDim, table.begin() + (i + 1) * kDim);
    EXPECT_EQ(r.out, ref);
  }
  { // along axis 1 of a constant: not a row lookup (ids index the columns, -1 is column 2)
    PlanBuilder pb;
    int ids4 = pb.addInput("input_ids", TFC_I64, {S(1), S(4)});
    int data = pb.addConstantValue(pb.addConstant("t", TFC_F32, {kRows, kDim}, table.data()));
    int y = pb.addOutput("y", TFC_F32, {S(kRows), S(1), S(4)});
    pb.addKernel(K::Gather, {data, ids4}, {y}, opt::gather(1));
    OpenPlan p(pb);
    EXPECT_EQ(valuesOf(p.plan, 0).kind, TFC_INPUT_DATA);
    std::vector<int64_t> cols = {2, 0, -1, 1};
    tfc_tensor c{"input_ids", TFC_I64, 2, dims, cols.data()};
    Result r = run(p.plan, {c});
    ASSERT_EQ(r.code, TFC_OK) << r.message;
    EXPECT_EQ(r.out[2], table[2]); // row 0, column -1 = 2
  }
}

TEST(RuntimeInputRules, EmbeddingIdsAndTypeIds) {
  // The fused embedding: its own check named the kernel; the input rule names the input first.
  PlanBuilder pb;
  int64_t V = 7, P = 8, T = 2, D = 4;
  auto tok = randomFloats(V * D, 1), pos = randomFloats(P * D, 2), typ = randomFloats(T * D, 3);
  int ids = pb.addInput("input_ids", TFC_I64, {S(2), S(3)});
  int tids = pb.addInput("token_type_ids", TFC_I32, {S(2), S(3)});
  int vt = pb.addConstantValue(pb.addConstant("tok", TFC_F32, {V, D}, tok.data()));
  int vp = pb.addConstantValue(pb.addConstant("pos", TFC_F32, {P, D}, pos.data()));
  int vy = pb.addConstantValue(pb.addConstant("typ", TFC_F32, {T, D}, typ.data()));
  int y = pb.addOutput("y", TFC_F32, {S(2), S(3), S(D)});
  pb.addKernel(K::Embedding, {ids, vt, vp, tids, vy}, {y}, opt::embedding(1.f), "embeddings");
  OpenPlan p(pb);
  EXPECT_EQ(valuesOf(p.plan, 0).kind, TFC_INPUT_IDS);
  EXPECT_EQ(valuesOf(p.plan, 0).id_bound, V);
  EXPECT_EQ(valuesOf(p.plan, 1).kind, TFC_INPUT_IDS);
  EXPECT_EQ(valuesOf(p.plan, 1).id_bound, T);
  int64_t dims[2] = {2, 3};
  std::vector<int64_t> i = {1, 2, 3, 4, 5, 6};
  std::vector<int32_t> t = {0, 1, 0, 1, 0, 1};
  auto in = [&] {
    return std::vector<tfc_tensor>{{"input_ids", TFC_I64, 2, dims, i.data()},
                                   {"token_type_ids", TFC_I32, 2, dims, t.data()}};
  };
  ASSERT_EQ(run(p.plan, in()).code, TFC_OK);
  i[4] = 7;
  EXPECT_REFUSED(run(p.plan, in()), TFC_OUT_OF_RANGE,
                 "input 'input_ids' element 4 (at [1, 1]) is 7: token ids must be in [0, 7) "
                 "(the rows of 'tok')");
  i[4] = 5;
  t[5] = -1;
  EXPECT_REFUSED(run(p.plan, in()), TFC_OUT_OF_RANGE,
                 "input 'token_type_ids' element 5 (at [1, 2]) is -1: token type ids must be in "
                 "[0, 2) (the rows of 'typ')");
}

TEST(RuntimeInputRules, IdsComputedInTheGraphAreStillCheckedByTheKernel) {
  // ids + 1 is not the input's own values: no input rule, the Embedding kernel's check remains.
  PlanBuilder pb;
  int64_t V = 4, D = 2;
  auto tok = randomFloats(V * D, 1), pos = randomFloats(8 * D, 2);
  int64_t one = 1;
  int ids = pb.addInput("input_ids", TFC_I64, {S(1), S(2)});
  int c1 = pb.addConstantValue(pb.addConstant("one", TFC_I64, {}, &one));
  int shifted = pb.addIntermediate("ids+1", TFC_I64, {S(1), S(2)});
  pb.addKernel(K::Binary, {ids, c1}, {shifted}, opt::binary(fb::BinaryOp::Add));
  int vt = pb.addConstantValue(pb.addConstant("tok", TFC_F32, {V, D}, tok.data()));
  int vp = pb.addConstantValue(pb.addConstant("pos", TFC_F32, {8, D}, pos.data()));
  int y = pb.addOutput("y", TFC_F32, {S(1), S(2), S(D)});
  pb.addKernel(K::Embedding, {shifted, vt, vp, -1, -1}, {y}, opt::embedding(1.f), "embeddings");
  OpenPlan p(pb);
  EXPECT_EQ(valuesOf(p.plan, 0).kind, TFC_INPUT_DATA);
  int64_t dims[2] = {1, 2};
  std::vector<int64_t> i = {0, 3};
  EXPECT_REFUSED(run(p.plan, {{"input_ids", TFC_I64, 2, dims, i.data()}}), TFC_OUT_OF_RANGE,
                 "kernel 'embeddings' (Embedding): token id 4 at [0, 1] of 'ids+1' is out of "
                 "range [0, 4)");
}

/// q, k, v [1, 4, 4] inputs and an i64 attention_mask [1, 4]; fused: mask -> Cast bool ->
/// Reshape [1, 1, 1, 4] -> Attention; unfused: (1 - f32(mask)) * -1e9 added to q k^T -> Softmax
/// -> out (the attention probabilities).
PlanBuilder maskPlan(bool fused, tfc_dtype maskDtype = TFC_I64) {
  PlanBuilder pb;
  std::vector<DimSpec> bsd = {S(1), S(4), S(4)};
  int mask = pb.addInput("attention_mask", maskDtype, {S(1), S(4)});
  int q = pb.addInput("q", TFC_F32, bsd);
  if (fused) {
    int k = pb.addInput("k", TFC_F32, bsd), v = pb.addInput("v", TFC_F32, bsd);
    int mb = pb.addIntermediate("mask.bool", TFC_BOOL, {S(1), S(4)});
    pb.addKernel(K::Cast, {mask}, {mb});
    int m4 = pb.addIntermediate("mask4", TFC_BOOL, {S(1), S(1), S(1), S(4)});
    pb.addKernel(K::Reshape, {mb}, {m4});
    int o = pb.addOutput("o", TFC_F32, bsd);
    pb.addKernel(K::Attention, {q, k, v, m4}, {o}, opt::attention(1, fb::MaskKind::Padding, 0.5f), "attn");
    return pb;
  }
  float oneF = 1.f, big = -1e9f;
  int one = pb.addConstantValue(pb.addConstant("one", TFC_F32, {}, &oneF));
  int neg = pb.addConstantValue(pb.addConstant("neg", TFC_F32, {}, &big));
  int mf = pb.addIntermediate("mask.f32", TFC_F32, {S(1), S(4)});
  pb.addKernel(K::Cast, {mask}, {mf});
  int inv = pb.addIntermediate("mask.inv", TFC_F32, {S(1), S(4)});
  pb.addKernel(K::Binary, {one, mf}, {inv}, opt::binary(fb::BinaryOp::Sub));
  int add = pb.addIntermediate("mask.add", TFC_F32, {S(1), S(4)});
  pb.addKernel(K::Binary, {inv, neg}, {add}, opt::binary(fb::BinaryOp::Mul));
  int m3 = pb.addIntermediate("mask3", TFC_F32, {S(1), S(1), S(4)});
  pb.addKernel(K::Reshape, {add}, {m3});
  int scores = pb.addIntermediate("scores", TFC_F32, bsd);
  pb.addKernel(K::MatMul, {q, q}, {scores});
  int masked = pb.addIntermediate("masked", TFC_F32, bsd);
  pb.addKernel(K::Binary, {scores, m3}, {masked}, opt::binary(fb::BinaryOp::Add));
  int o = pb.addOutput("p", TFC_F32, bsd);
  pb.addKernel(K::Softmax, {masked}, {o}, opt::softmax(-1));
  return pb;
}

TEST(RuntimeInputRules, MaskValuesMustBeZeroOrOne) {
  auto q = randomFloats(16, 5), k = randomFloats(16, 6), v = randomFloats(16, 7);
  int64_t mdims[2] = {1, 4}, dims[3] = {1, 4, 4};
  for (bool fused : {true, false}) {
    OpenPlan p(maskPlan(fused));
    ASSERT_NE(p.plan, nullptr);
    EXPECT_EQ(valuesOf(p.plan, 0).kind, TFC_INPUT_MASK) << fused;
    EXPECT_EQ(valuesOf(p.plan, 1).kind, TFC_INPUT_DATA) << fused;
    std::vector<int64_t> mask = {1, 1, 1, 2};
    std::vector<tfc_tensor> in = {{"attention_mask", TFC_I64, 2, mdims, mask.data()},
                                  {"q", TFC_F32, 3, dims, q.data()}};
    if (fused) {
      in.push_back({"k", TFC_F32, 3, dims, k.data()});
      in.push_back({"v", TFC_F32, 3, dims, v.data()});
    }
    // 2 was taken as "keep" (fused: cast to bool) or as a +1e9 score (unfused): refused now.
    EXPECT_REFUSED(run(p.plan, in), TFC_INVALID_ARGUMENT,
                   "input 'attention_mask' element 3 (at [0, 3]) is 2: mask values must be 0 or 1");
    mask = {1, -1, 1, 0};
    EXPECT_REFUSED(run(p.plan, in), TFC_INVALID_ARGUMENT,
                   "input 'attention_mask' element 1 (at [0, 1]) is -1: mask values must be 0 or 1");
    mask = {1, 1, 1, 0};
    EXPECT_EQ(run(p.plan, in).code, TFC_OK) << fused;
  }
  // A bool mask is checked too (a byte other than 0 and 1 is not a bool).
  OpenPlan b(maskPlan(true, TFC_BOOL));
  EXPECT_EQ(valuesOf(b.plan, 0).kind, TFC_INPUT_MASK);
  std::vector<uint8_t> bm = {1, 1, 7, 0};
  EXPECT_REFUSED(run(b.plan, {{"attention_mask", TFC_BOOL, 2, mdims, bm.data()},
                              {"q", TFC_F32, 3, dims, q.data()},
                              {"k", TFC_F32, 3, dims, k.data()},
                              {"v", TFC_F32, 3, dims, v.data()}}),
                 TFC_INVALID_ARGUMENT, "input 'attention_mask' element 2 (at [0, 2]) is 7");
  // Unknown function and index are reported, not a crash.
  tfc_input_values out;
  tfc_status *s = tfc_plan_input_values(b.plan, "forward", 9, &out);
  EXPECT_EQ(tfc_status_code(s), TFC_NOT_FOUND);
  tfc_status_free(s);
  s = tfc_plan_input_values(b.plan, "nope", 0, &out);
  EXPECT_EQ(tfc_status_code(s), TFC_NOT_FOUND);
  tfc_status_free(s);
}

TEST(RuntimeInputRules, IdsComparedWithAPadIdAreNotAMask) {
  // A seq2seq decoder step gets src_ids only to build the cross-attention mask from
  // src_ids != pad, lowered as where(cast<i1>(src_ids - pad), true, false): the ids make a mask
  // but are not one (a rule "0 or 1" refused every real source sentence).
  PlanBuilder pb;
  std::vector<DimSpec> bsd = {S(1), S(4), S(4)};
  int src = pb.addInput("src_ids", TFC_I64, {S(1), S(4)});
  int q = pb.addInput("q", TFC_F32, bsd);
  int64_t padId = 0;
  uint8_t yes = 1, no = 0;
  int pad = pb.addConstantValue(pb.addConstant("pad", TFC_I64, {}, &padId));
  int vt = pb.addConstantValue(pb.addConstant("true", TFC_BOOL, {}, &yes));
  int vf = pb.addConstantValue(pb.addConstant("false", TFC_BOOL, {}, &no));
  int diff = pb.addIntermediate("diff", TFC_I64, {S(1), S(4)});
  pb.addKernel(K::Binary, {src, pad}, {diff}, opt::binary(fb::BinaryOp::Sub));
  int nz = pb.addIntermediate("nz", TFC_BOOL, {S(1), S(4)});
  pb.addKernel(K::Cast, {diff}, {nz});
  int keep = pb.addIntermediate("keep", TFC_BOOL, {S(1), S(4)});
  pb.addKernel(K::Where, {nz, vt, vf}, {keep});
  int m4 = pb.addIntermediate("mask4", TFC_BOOL, {S(1), S(1), S(1), S(4)});
  pb.addKernel(K::Reshape, {keep}, {m4});
  int o = pb.addOutput("o", TFC_F32, bsd);
  pb.addKernel(K::Attention, {q, q, q, m4}, {o}, opt::attention(1, fb::MaskKind::Padding, 0.5f),
               "cross_attn");
  OpenPlan p(pb);
  EXPECT_EQ(valuesOf(p.plan, 0).kind, TFC_INPUT_DATA);
  auto qv = randomFloats(16, 3);
  std::vector<int64_t> ids = {70, 12, 0, 0};
  int64_t idims[2] = {1, 4}, qdims[3] = {1, 4, 4};
  Result r = run(p.plan, {{"src_ids", TFC_I64, 2, idims, ids.data()},
                          {"q", TFC_F32, 3, qdims, qv.data()}});
  EXPECT_EQ(r.code, TFC_OK) << r.message;
}

} // namespace
