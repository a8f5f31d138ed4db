//===- CudaGemm.cpp - Linear, MatMul, GatedLinear and Conv on cuBLASLt ------------------------===//
//
// See CudaGemm.h for the row-major <-> column-major mapping. Per kind:
//  * Linear: one GEMM; the bias is the Lt BIAS epilogue; GeluTanh is the Lt GELU epilogue
//    (cuBLASLt's GELU is the tanh approximation) in f16/bf16 plans, where its approximation error
//    is far below the 16-bit rounding; in f32 plans the GELU runs in our epilogue kernel with
//    tanhf, so fp32 stays within 1e-4 of the CPU. A residual with the output's shape and no
//    activation after the product is Lt's C with beta = 1 (in place too: C == D); Relu (which
//    must keep NaN, as the CPU does), GeluErf and any other residual go through one epilogue
//    kernel, after saving an in-place residual the GEMM would overwrite.
//  * MatMul: b without batch dims folds a's batch into M; equal batches, or a without batch,
//    are one strided-batched GEMM (batch stride 0 broadcasts a); other broadcasts loop over the
//    output's batches.
//  * GatedLinear: the gate GEMM into scratch, the up GEMM into y, then y = act(gate) * y.
//  * Conv: im2col into scratch (skipped for a dense 1x1 kernel), then per group one GEMM
//    strided over the images: Y_g[M/g, P] = W_g[M/g, C/g*kh*kw] @ col_g[C/g*kh*kw, P]; the bias
//    is per output channel (a row of that product), added by a small kernel.
//
//===----------------------------------------------------------------------------------------===//
#include "cuda/CudaGemm.h"

#include "GemmShapes.h"
#include "MovementShapes.h"

#include <climits>
#include <cstring>

namespace tfc::rt {

// ---- LtCache ----------------------------------------------------------------------------------
namespace {

cudaDataType_t ltType(const KernelContext &ctx, tfc_dtype d) {
  switch (d) {
  case TFC_F32: return CUDA_R_32F;
  case TFC_F16: return CUDA_R_16F;
  case TFC_BF16: return CUDA_R_16BF;
  default: ctx.fail(TFC_UNSUPPORTED, "GEMM of dtype %s", dtypeName(d));
  }
}

/// The alignment cuBLASLt may assume for p (a power of two up to 256).
uint32_t alignmentOf(const void *p) {
  uintptr_t a = reinterpret_cast<uintptr_t>(p);
  uint32_t al = 256;
  while (al > 1 && (a % al) != 0)
    al /= 2;
  return al;
}

} // namespace

struct LtCache::Entry {
  RowMajorGemm g;
  uint32_t alignX = 0, alignW = 0, alignY = 0, alignBias = 0;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};

  bool matches(const RowMajorGemm &o, uint32_t ax, uint32_t aw, uint32_t ay, uint32_t ab) const {
    return g.dtype == o.dtype && g.M == o.M && g.N == o.N && g.K == o.K && g.ldX == o.ldX &&
           g.ldW == o.ldW && g.ldY == o.ldY && g.batch == o.batch && g.strideX == o.strideX &&
           g.strideW == o.strideW && g.strideY == o.strideY &&
           (g.bias != nullptr) == (o.bias != nullptr) && g.geluTanh == o.geluTanh &&
           g.accumulate == o.accumulate && alignX == ax && alignW == aw && alignY == ay &&
           alignBias == ab;
  }
  ~Entry() {
    if (a)
      cublasLtMatrixLayoutDestroy(a);
    if (b)
      cublasLtMatrixLayoutDestroy(b);
    if (d)
      cublasLtMatrixLayoutDestroy(d);
    if (op)
      cublasLtMatmulDescDestroy(op);
  }
};

LtCache::~LtCache() = default;

void LtCache::run(const KernelContext &ctx, const RowMajorGemm &g, const void *x, const void *w,
                  void *y) {
  if (g.M == 0 || g.N == 0 || g.batch == 0)
    return;
  for (int64_t v : {g.M, g.N, g.K, g.batch})
    if (v > INT_MAX)
      ctx.fail(TFC_UNSUPPORTED, "a GEMM dimension of %lld exceeds cuBLASLt's int range",
               (long long)v);
  CudaDevice &dev = cudaDevice(ctx);
  const uint32_t ax = alignmentOf(x), aw = alignmentOf(w), ay = alignmentOf(y),
                 ab = g.bias ? alignmentOf(g.bias) : 0;
  Entry *e = nullptr;
  for (auto &p : entries_)
    if (p->matches(g, ax, aw, ay, ab))
      e = p.get();
  cublasLtEpilogue_t epi = g.bias ? (g.geluTanh ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_BIAS)
                                  : (g.geluTanh ? CUBLASLT_EPILOGUE_GELU : CUBLASLT_EPILOGUE_DEFAULT);
  if (!e) {
    auto fresh = std::make_unique<Entry>();
    fresh->g = g;
    fresh->alignX = ax;
    fresh->alignW = aw;
    fresh->alignY = ay;
    fresh->alignBias = ab;
    cudaDataType_t t = ltType(ctx, g.dtype);
    cublasCheck(cublasLtMatmulDescCreate(&fresh->op, CUBLAS_COMPUTE_32F, CUDA_R_32F),
                "cublasLtMatmulDescCreate");
    cublasCheck(cublasLtMatmulDescSetAttribute(fresh->op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epi,
                                               sizeof epi),
                "cublasLtMatmulDescSetAttribute (epilogue)");
    // Column-major: A = W (N x K), B = X (K x M), D = Y (N x M); see CudaGemm.h.
    cublasCheck(cublasLtMatrixLayoutCreate(&fresh->a, t, uint64_t(g.N), uint64_t(g.K), g.ldW),
                "cublasLtMatrixLayoutCreate (A)");
    cublasCheck(cublasLtMatrixLayoutCreate(&fresh->b, t, uint64_t(g.K), uint64_t(g.M), g.ldX),
                "cublasLtMatrixLayoutCreate (B)");
    cublasCheck(cublasLtMatrixLayoutCreate(&fresh->d, t, uint64_t(g.N), uint64_t(g.M), g.ldY),
                "cublasLtMatrixLayoutCreate (D)");
    if (g.batch > 1) {
      int32_t count = int32_t(g.batch);
      struct {
        cublasLtMatrixLayout_t layout;
        int64_t stride;
      } batched[] = {{fresh->a, g.strideW}, {fresh->b, g.strideX}, {fresh->d, g.strideY}};
      for (auto &bl : batched) {
        cublasCheck(cublasLtMatrixLayoutSetAttribute(bl.layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT,
                                                     &count, sizeof count),
                    "cublasLtMatrixLayoutSetAttribute (batch count)");
        cublasCheck(cublasLtMatrixLayoutSetAttribute(
                        bl.layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &bl.stride,
                        sizeof bl.stride),
                    "cublasLtMatrixLayoutSetAttribute (batch stride)");
      }
    }
    if (g.bias)
      cublasCheck(cublasLtMatmulDescSetAttribute(fresh->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER,
                                                 &g.bias, sizeof g.bias),
                  "cublasLtMatmulDescSetAttribute (bias)");
    cublasLtMatmulPreference_t pref = nullptr;
    cublasCheck(cublasLtMatmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
    uint64_t ws = dev.ltWorkspaceBytes();
    cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    // The alignments of this call's pointers (with C == D, C's is D's).
    const std::pair<cublasLtMatmulPreferenceAttributes_t, uint32_t> aligns[] = {
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, aw},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, ax},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, ay},
        {CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, ay}};
    for (const auto &al : aligns)
      if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasLtMatmulPreferenceSetAttribute(pref, al.first, &al.second, sizeof al.second);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    if (st == CUBLAS_STATUS_SUCCESS)
      st = cublasLtMatmulAlgoGetHeuristic(dev.lt(), fresh->op, fresh->a, fresh->b, fresh->d,
                                          fresh->d, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0)
      ctx.fail(TFC_UNSUPPORTED,
               "cuBLASLt has no algorithm for a %s GEMM [%lld, %lld] x [%lld, %lld] (batch %lld, "
               "epilogue %d): status %d",
               dtypeName(g.dtype), (long long)g.M, (long long)g.K, (long long)g.K,
               (long long)g.N, (long long)g.batch, int(epi), int(st));
    fresh->algo = result.algo;
    entries_.push_back(std::move(fresh));
    e = entries_.back().get();
  }
  if (g.bias) // the pointer may differ from the cached one's (same alignment)
    cublasCheck(cublasLtMatmulDescSetAttribute(e->op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &g.bias,
                                               sizeof g.bias),
                "cublasLtMatmulDescSetAttribute (bias)");
  const float alpha = 1.f, beta = g.accumulate ? 1.f : 0.f;
  cublasCheck(cublasLtMatmul(dev.lt(), e->op, &alpha, w, e->a, x, e->b, &beta, y, e->d, y, e->d,
                             &e->algo, dev.ltWorkspace(), dev.ltWorkspaceBytes(), dev.stream()),
              "cublasLtMatmul");
}

// ---- Linear ---------------------------------------------------------------------------------
namespace {

EpilogueAct epilogueOf(tfc::plan::Activation a) {
  switch (a) {
  case tfc::plan::Activation::Relu: return EpilogueAct::Relu;
  case tfc::plan::Activation::GeluErf: return EpilogueAct::GeluErf;
  case tfc::plan::Activation::GeluTanh: return EpilogueAct::GeluTanh;
  default: return EpilogueAct::None;
  }
}

EpilogueAct epilogueOf(tfc::plan::GateActivation a) {
  switch (a) {
  case tfc::plan::GateActivation::GeluErf: return EpilogueAct::GeluErf;
  case tfc::plan::GateActivation::GeluTanh: return EpilogueAct::GeluTanh;
  default: return EpilogueAct::Silu;
  }
}

/// cuBLASLt reads every operand in one dtype: the output's (a plan's float dtype). The loader's
/// checks admit F32 or the plan's float dtype per value; a mix would be read as garbage.
void expectOneFloatDtype(const KernelContext &ctx) {
  tfc_dtype d = ctx.out(0).dtype;
  for (size_t i = 0; i < ctx.numInputs(); ++i)
    if (const Tensor *t = ctx.in(i); t && t->dtype != d)
      ctx.fail(TFC_UNSUPPORTED, "input '%s' is %s but the output is %s: the CUDA kernel needs "
               "one float dtype", ctx.inName(i).c_str(), dtypeName(t->dtype), dtypeName(d));
}

/// A [M, K] x [K, N] -> [M, N] problem on dense row-major operands.
RowMajorGemm denseGemm(tfc_dtype dtype, int64_t M, int64_t K, int64_t N) {
  RowMajorGemm g;
  g.dtype = dtype;
  g.M = M;
  g.K = K;
  g.N = N;
  g.ldX = K;
  g.ldW = N;
  g.ldY = N;
  return g;
}

} // namespace

void cudaRunLinear(const KernelContext &ctx) {
  expectOneFloatDtype(ctx);
  const LinearDims dims = linearDims(ctx);
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2), *r = ctx.in(3);
  Tensor &y = ctx.out(0);
  if (dims.M == 0 || dims.N == 0)
    return;
  EpilogueAct act = epilogueOf(options<tfc::plan::LinearOptionsT>(*ctx.k).activation);
  RowMajorGemm g = denseGemm(y.dtype, dims.M, dims.K, dims.N);
  g.bias = b ? b->data : nullptr;
  // cuBLASLt's GELU is the tanh form: exact enough below 16-bit rounding (see the banner).
  if (act == EpilogueAct::GeluTanh && y.dtype != TFC_F32) {
    g.geluTanh = true;
    act = EpilogueAct::None;
  }
  const void *residual = nullptr; // added by the epilogue kernel
  if (r) {
    if (r->shape.numel() == dims.M * dims.N && act == EpilogueAct::None && !g.geluTanh) {
      // Same elements in the same order as y: Lt's C (beta = 1), in place when r is y.
      if (r->data != y.data)
        cudaDevice(ctx).copyOnDevice(y.data, r->data, y.bytes());
      g.accumulate = true;
    } else if (r->data == y.data) {
      if (r->shape != dims.out)
        ctx.fail(TFC_UNSUPPORTED, "an in-place residual must have the output's shape");
      void *saved = cudaDevice(ctx).scratch(y.bytes()); // the GEMM overwrites y
      cudaDevice(ctx).copyOnDevice(saved, y.data, y.bytes());
      residual = saved;
    } else {
      residual = r->data;
    }
  }
  ctx.stateAs<LtCache>().run(ctx, g, x.data, w.data, y.data);
  if (act != EpilogueAct::None || residual) {
    StridedView rv = broadcastView(r ? r->shape : dims.out, dims.out);
    linearEpilogue(ctx, y.dtype, y.data, dims.out, act, residual, rv.strides);
  }
}

// ---- MatMul ---------------------------------------------------------------------------------
void cudaRunMatMul(const KernelContext &ctx) {
  expectOneFloatDtype(ctx);
  const MatMulDims d = matMulDims(ctx);
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  Tensor &c = ctx.out(0);
  if (d.num * d.M * d.N == 0)
    return;
  if (d.K == 0) {
    cudaDevice(ctx).fill(c.data, 0, c.bytes());
    return;
  }
  LtCache &lt = ctx.stateAs<LtCache>();
  const size_t es = dtypeSize(c.dtype);
  if (d.numB == 1) { // b is one matrix: a's batch folds into M
    lt.run(ctx, denseGemm(c.dtype, d.numA * d.M, d.K, d.N), a.data, b.data, c.data);
    return;
  }
  if (d.numB == d.num && (d.numA == d.num || d.numA == 1)) {
    RowMajorGemm g = denseGemm(c.dtype, d.M, d.K, d.N);
    g.batch = d.num;
    g.strideX = d.numA == 1 ? 0 : d.M * d.K;
    g.strideW = d.K * d.N;
    g.strideY = d.M * d.N;
    lt.run(ctx, g, a.data, b.data, c.data);
    return;
  }
  const RowMajorGemm g = denseGemm(c.dtype, d.M, d.K, d.N);
  for (int64_t i = 0; i < d.num; ++i) {
    int64_t offA, offB;
    d.batchOffsets(i, offA, offB);
    lt.run(ctx, g, a.as<char>() + offA * d.M * d.K * int64_t(es),
           b.as<char>() + offB * d.K * d.N * int64_t(es), c.as<char>() + i * d.M * d.N * int64_t(es));
  }
}

// ---- GatedLinear ----------------------------------------------------------------------------
void cudaRunGatedLinear(const KernelContext &ctx) {
  expectOneFloatDtype(ctx);
  const LinearDims d = gatedLinearDims(ctx);
  const Tensor &x = *ctx.in(0), &wg = *ctx.in(1), &wu = *ctx.in(2);
  Tensor &y = ctx.out(0);
  if (d.M == 0 || d.N == 0)
    return;
  void *gate = cudaDevice(ctx).scratch(y.bytes());
  RowMajorGemm g = denseGemm(y.dtype, d.M, d.K, d.N);
  LtCache &lt = ctx.stateAs<LtCache>();
  lt.run(ctx, g, x.data, wg.data, gate);
  lt.run(ctx, g, x.data, wu.data, y.data);
  gatedEpilogue(ctx, y.dtype, gate, y.data, d.M * d.N,
                epilogueOf(options<tfc::plan::GatedLinearOptionsT>(*ctx.k).activation));
}

// ---- Conv -----------------------------------------------------------------------------------
void cudaRunConv(const KernelContext &ctx) {
  expectOneFloatDtype(ctx);
  Shape out;
  const ConvParams p = convDims(ctx, out);
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *bias = ctx.in(2);
  Tensor &y = ctx.out(0);
  if (out.numel() == 0)
    return;
  // 1-D is 2-D with height 1.
  const bool one = p.spatial == 1;
  Im2Col ic;
  ic.n = x.shape.d[0];
  ic.c = x.shape.d[1];
  ic.h = one ? 1 : x.shape.d[2];
  ic.w = x.shape.d[one ? 2 : 3];
  ic.kh = one ? 1 : w.shape.d[2];
  ic.kw = w.shape.d[one ? 2 : 3];
  ic.oh = one ? 1 : out.d[2];
  ic.ow = out.d[one ? 2 : 3];
  ic.strideH = one ? 1 : p.strides[0];
  ic.strideW = p.strides[one ? 0 : 1];
  ic.padH = one ? 0 : p.padBegin[0];
  ic.padW = p.padBegin[one ? 0 : 1];
  ic.dilH = one ? 1 : p.dilations[0];
  ic.dilW = p.dilations[one ? 0 : 1];
  const int64_t M = w.shape.d[0], G = p.group, Mg = M / G, Cg = ic.c / G;
  const int64_t P = ic.oh * ic.ow, Kc = Cg * ic.kh * ic.kw;
  const size_t es = dtypeSize(y.dtype);
  // A dense 1x1 kernel reads x as it is: [N, C, H*W] is already the column matrix.
  const bool direct = ic.kh == 1 && ic.kw == 1 && ic.strideH == 1 && ic.strideW == 1 &&
                      ic.padH == 0 && ic.padW == 0 && p.padEnd[0] == 0 &&
                      (one || p.padEnd[1] == 0);
  const void *col = x.data;
  if (!direct) {
    void *buf = cudaDevice(ctx).scratch(size_t(ic.n * ic.c * ic.kh * ic.kw * P) * es);
    im2col(ctx, y.dtype, x.data, buf, ic);
    col = buf;
  }
  // Per group: Y_g[n] (Mg x P, rows P apart) = W_g (Mg x Kc) @ col_g[n] (Kc x P), over n.
  RowMajorGemm g;
  g.dtype = y.dtype;
  g.M = Mg;
  g.K = Kc;
  g.N = P;
  g.ldX = Kc;
  g.ldW = P;
  g.ldY = P;
  g.batch = ic.n;
  g.strideX = 0; // the same weights for every image
  g.strideW = ic.c * ic.kh * ic.kw * P;
  g.strideY = M * P;
  LtCache &lt = ctx.stateAs<LtCache>();
  for (int64_t grp = 0; grp < G; ++grp)
    lt.run(ctx, g, w.as<char>() + grp * Mg * Kc * int64_t(es),
           static_cast<const char *>(col) + grp * Kc * P * int64_t(es),
           y.as<char>() + grp * Mg * P * int64_t(es));
  if (bias)
    addChannelBias(ctx, y.dtype, y.data, bias->data, ic.n, M, P);
}

} // namespace tfc::rt
