//===- Linear.cpp - fused matmul + bias + activation (+ residual) on oneDNN -------------------===//
//
// y = act(x @ W + b) + r with x [..., K] viewed as [M, K], W [K, N] row-major (plain `ab` in
// the plan), b [N], r broadcasting to y. One oneDNN matmul per (M, threads, residual mode),
// created on first use and cached in the session: exact-M primitives. A constant weight is
// read from a copy made once per plan and shared by its sessions (Plan::derived): in oneDNN's
// own layout (format `any`), or, where the implementation reads plain rows (oneDNN 2.6's AVX2
// `gemm:jit`), as a 1x1 convolution's blocked weight above kPackedMaxM rows (makeConv: the
// convolution reads it prepacked, where the matmul packs it on every call), else in rows padded
// against cache-set conflicts (kWeightRowPad); a weight computed at run time is read in place.
// The activation is an eltwise post-op; the residual is a binary_add post-op ([M, N] or
// [1, N]), an append_sum when it is computed in place (r and y share bytes), or, for other
// broadcasts, a separate pass.
// NaN propagates as in PyTorch: oneDNN's relu post-op (and clip) turn NaN into 0, so Relu is a
// pass of its own after the matmul (the residual then comes after it, in the separate pass;
// an elu(0) + linear post-op chain that keeps NaN measured 1.4-3x slower at M = 128).
// Decode-sized products of a constant weight, and every product of a bf16 or int8 weight (a cpu
// plan compiled with --precision bf16|int8), run on packed weights instead (LinearGemv.h), but
// for int8 weights with many rows (prompts, encoders): int8 x int8 (LinearInt8.h), and bf16
// weights with many rows: a bf16 matmul on a bf16 copy where oneDNN has a bf16 kernel for this
// CPU (runBf16Products), else this matmul on an f32 copy converted once per plan
// (bf16ProductsAsF32). A generation loop's prompt may ask for only the last position of the
// function's first output (runLastPositionRows).
//
//===----------------------------------------------------------------------------------------===//
#include "GemmShapes.h"
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/Dnnl.h"
#include "cpu/LinearGemv.h"
#include "cpu/LinearInt8.h"
#include "cpu/PackedWeights.h"

#include <cstdlib>
#include <exception>
#include <mutex>
#include <omp.h>

namespace tfc::rt {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

using Activation = tfc::plan::Activation;
enum ResidualMode { kNoResidual, kResidualFull, kResidualRow, kResidualInPlace, kResidualOther };

/// TFC_LINEAR_RUNTIME_M=1 switches to one runtime-M primitive per (threads, mode) (for
/// measurements; exact M is the default, see the banner).
bool useRuntimeM() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_LINEAR_RUNTIME_M");
    return e && *e == '1';
  }();
  return on;
}

/// Small M (decode: a few rows per step) reads each weight once per row block, so the weight
/// layout decides the speed: oneDNN's blocked layout (format `any`, reordered once) reads 20-45%
/// faster than the plain `ab` layout at M = 1..8 on this machine class (docs/BENCHMARKS.md,
/// "Generation"). Up to this M the kernel uses prepacked weights, shared by the plan's sessions.
constexpr int64_t kPackedMaxM = 16;

/// TFC_LINEAR_PACKED=0 turns the prepacked path off (for measurements): every weight is read
/// in place.
bool usePacked() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_LINEAR_PACKED");
    return !(e && *e == '0');
  }();
  return on;
}

/// Above kPackedMaxM rows (prompts, encoders) a constant weight is also read from a copy made
/// once per plan, in the layout oneDNN picks for it (format `any`). Where that is plain
/// row-major (the AVX2 `gemm:jit` matmul of oneDNN 2.6, at every M), the copy's rows are
/// padded by kWeightRowPad floats (PackedWeights.h). Measured on an AVX2 Zen 3, one thread:
/// 128x768x3072 42.7 -> 92.5 GFLOP/s, 128x384x1536 69.4 -> 98.2, 128x3072x768 78.7 -> 96.0,
/// 128x768x768 86.8 -> 98.0, 128x384x384 93.6 -> 96.5; 8x768x3072 35 -> 73; 1x768x3072 24.7 ->
/// 24.4 (docs/BENCHMARKS.md, "Encoder speed"). TFC_LINEAR_PACKED_LARGE_M=0 reads the weights in
/// place above kPackedMaxM rows, as before (for measurements).

bool usePackedLargeM() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_LINEAR_PACKED_LARGE_M");
    return !(e && *e == '0');
  }();
  return on;
}

struct LinearState : KernelState {
  struct Entry {
    int64_t m;
    int threads;
    int mode;
    dnnl::primitive prim; // a matmul, or a 1x1 convolution (conv)
    memory::desc packed; // weights layout of a packed primitive (zero desc: plain `ab`)
    bool conv = false;
    void *packedData = nullptr; // the plan's packed copy of this kernel's (constant) weight
  };
  std::vector<Entry> cache;
  /// The column-split path (splitColumns): one single-threaded primitive per thread, each on its
  /// own columns of the weight (packed apart) and its own stream.
  struct Split {
    int64_t m;
    int threads;
    int mode;
    bool used; // false: this shape runs whole (runSplitColumns decided so once)
    dnnl::matmul prim;
    memory::desc packed;
    std::vector<void *> parts; // the plan's packed copy of each thread's columns
    std::vector<dnnl::stream> streams;
    memory::desc scratchpadDesc;
    std::vector<std::vector<uint8_t>> scratchpads; // one per thread (oneDNN shares its own)
  };
  std::vector<Split> splits;
  GemvState gemv; // the packed-weight path (LinearGemv.h)
  Int8LinearState int8; // int8 weights, many rows (LinearInt8.h)
  std::vector<float> lastRows; // runLastPositionRows: the gathered x rows, then the y rows
  /// bf16 x bf16 products (runBf16Products): per (M, threads, mode), or not available.
  struct Bf16Entry {
    int64_t m;
    int threads;
    int mode;
    bool available;
    dnnl::matmul prim;
    dnnl::reorder toBf16; // x, f32 -> bf16 (round to nearest even)
    memory::desc packed;  // the weight's bf16 layout
    void *packedData = nullptr;
  };
  std::vector<Bf16Entry> bf16;
  std::vector<uint16_t> xBf16; // x rounded to bf16
};

/// The matmul's description: weights `wei` ([K, N], any layout or format `any`).
dnnl::matmul::primitive_desc makeDesc(DnnlEnv &env, int64_t m, int64_t k, int64_t n, bool bias,
                                      Activation act, int mode, const memory::desc &wei,
                                      int64_t rowStride = 0, bool userScratchpad = false,
                                      dt srcType = dt::f32) {
  // m == DNNL_RUNTIME_DIM_VAL: a runtime-M primitive (a full residual comes as append_sum).
  // rowStride (0: n): the output's (and a full residual's) rows, wider than n columns.
  if (rowStride == 0)
    rowStride = n;
  memory::desc src({m, k}, srcType, tag::ab);
  memory::desc dst({m, n}, dt::f32, memory::dims{rowStride, 1});
  dnnl::post_ops po;
  switch (act) {
  case Activation::Relu: // applied by runLinear: oneDNN's eltwise_relu (and clip) turn NaN into 0
    break;
  case Activation::GeluErf: po.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f); break;
  case Activation::GeluTanh: po.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_tanh, 0.f, 0.f); break;
  default: break;
  }
  if (mode == kResidualFull)
    po.append_binary(dnnl::algorithm::binary_add,
                     memory::desc({m, n}, dt::f32, memory::dims{rowStride, 1}));
  else if (mode == kResidualRow)
    po.append_binary(dnnl::algorithm::binary_add, memory::desc({1, n}, dt::f32, tag::ab));
  else if (mode == kResidualInPlace)
    po.append_sum(1.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  if (userScratchpad) // run by several threads at once: each passes its own scratchpad
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::matmul::desc desc = bias ? dnnl::matmul::desc(src, wei, memory::desc({1, n}, dt::f32, tag::ab), dst)
                                 : dnnl::matmul::desc(src, wei, dst);
  return dnnl::matmul::primitive_desc(desc, attr, env.engine);
}

/// Where a primitive reads its weights from: the plan's bytes in place (`packed` empty), or the
/// plan's copy in layout `packed` (packedWeights).
struct WeightChoice {
  dnnl::primitive prim;
  memory::desc packed;
  bool conv = false; // prim is a 1x1 convolution (makeConv)
};

/// A three-way switch read once from the environment: unset (or any other value) gives the
/// default, "0" Off, "1" Always.
enum class Switch { Default, Off, Always };
Switch envSwitch(const char *name) {
  const char *e = std::getenv(name);
  if (e && *e == '0')
    return Switch::Off;
  if (e && *e == '1')
    return Switch::Always;
  return Switch::Default;
}

/// TFC_LINEAR_CONV: unset, a constant weight's product over more than kPackedMaxM rows runs as
/// a 1x1 convolution (makeConv) where oneDNN's matmul would read plain rows (its AVX2
/// `gemm:jit`); 1, also where the matmul has a blocked layout of its own (AVX-512 brgemm: tests
/// use this to keep the path covered on every CPU); 0, never (for measurements).
Switch convMode() {
  static const Switch mode = envSwitch("TFC_LINEAR_CONV");
  return mode;
}

/// The product as a 1x1 convolution, x [M, K] seen as an NHWC image of 1 x M pixels with K
/// channels, y as M pixels of N channels, W as N output x K input channels in the blocked layout
/// the convolution picks: where oneDNN 2.6's matmul is its AVX2 `gemm:jit` (which packs both
/// operands on every call), its `jit_1x1:avx2` convolution reads the weight prepacked: whole
/// MiniLM and BERT-base ran in 0.86 and 0.88 of the matmul's time on two threads of a Zen 3
/// (docs/BENCHMARKS.md, "Linear as a 1x1 convolution"). Null where that is not the kernel
/// oneDNN picks (the residual's broadcast, a row stride wider than N: a reference or a
/// different convolution); the caller keeps the matmul. `weights` gets the weight's layout.
dnnl::primitive makeConv(DnnlEnv &env, int64_t m, int64_t k, int64_t n, bool bias,
                         Activation act, int mode, memory::desc &weights) {
  memory::desc src({1, k, 1, m}, dt::f32, tag::nhwc), dst({1, n, 1, m}, dt::f32, tag::nhwc);
  memory::desc wei({n, k, 1, 1}, dt::f32, tag::any);
  dnnl::post_ops po;
  if (act == Activation::GeluErf)
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_erf, 0.f, 0.f);
  else if (act == Activation::GeluTanh)
    po.append_eltwise(1.f, dnnl::algorithm::eltwise_gelu_tanh, 0.f, 0.f);
  else if (act != Activation::None)
    return {};
  if (mode == kResidualFull)
    po.append_binary(dnnl::algorithm::binary_add, dst);
  else if (mode == kResidualRow)
    po.append_binary(dnnl::algorithm::binary_add, memory::desc({1, n, 1, 1}, dt::f32, tag::nhwc));
  else if (mode == kResidualInPlace)
    po.append_sum(1.f);
  else if (mode != kNoResidual)
    return {};
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  try {
    dnnl::convolution_forward::desc desc =
        bias ? dnnl::convolution_forward::desc(
                   dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
                   wei, memory::desc({n}, dt::f32, tag::a), dst, {1, 1}, {0, 0}, {0, 0})
             : dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference,
                                               dnnl::algorithm::convolution_direct, src, wei, dst,
                                               {1, 1}, {0, 0}, {0, 0});
    dnnl::convolution_forward::primitive_desc pd(desc, attr, env.engine);
    if (std::string(pd.impl_info_str()).rfind("jit_1x1", 0) != 0)
      return {};
    weights = pd.weights_desc();
    return dnnl::convolution_forward(pd);
  } catch (const dnnl::error &) {
    return {}; // no implementation for these post-ops: the matmul
  }
}

/// The primitive for `m` rows and the weights layout it reads (see kPackedMaxM and
/// kWeightRowPad): `packed` false reads the plain [K, N] weight in place.
WeightChoice choosePrimitive(DnnlEnv &env, int64_t m, int64_t k, int64_t n, bool bias,
                             Activation act, int mode, bool packed, bool mustCopy) {
  const memory::desc plain({k, n}, dt::f32, tag::ab);
  if (!packed)
    return {dnnl::matmul(makeDesc(env, m, k, n, bias, act, mode, plain)), memory::desc()};
  dnnl::matmul::primitive_desc any = makeDesc(env, m, k, n, bias, act, mode,
                                              memory::desc({k, n}, dt::f32, tag::any));
  // Where the matmul reads plain row-major weights, above kPackedMaxM rows a 1x1 convolution
  // reads a prepacked weight instead (makeConv); else the rows are padded (at any M: one copy
  // serves prompts and decode steps; at M = 1 as fast as unpadded, at M = 8 faster).
  const bool plainMatmul = any.weights_desc() == plain;
  memory::desc convWeights;
  if (m > kPackedMaxM && m != DNNL_RUNTIME_DIM_VAL &&
      (convMode() == Switch::Always || (convMode() == Switch::Default && plainMatmul)))
    if (dnnl::primitive conv = makeConv(env, m, k, n, bias, act, mode, convWeights))
      return {conv, convWeights, true};
  if (!plainMatmul)
    return {dnnl::matmul(any), any.weights_desc()};
  const memory::desc padded = paddedRows(k, n);
  dnnl::matmul::primitive_desc pd = makeDesc(env, m, k, n, bias, act, mode, padded);
  if (std::string(pd.impl_info_str()).rfind("ref", 0) == 0) // never trade for a reference kernel
    return {dnnl::matmul(any), mustCopy ? plain : memory::desc()};
  return {dnnl::matmul(pd), padded};
}
/// TFC_LINEAR_SPLIT: unset, the column split runs where oneDNN's single-threaded product is a
/// brgemm kernel (the AVX-512 ones: measured faster there); 1, wherever it applies (on AVX2,
/// where oneDNN 2.6 runs its gemm:jit, the split was slower; tests use this to keep the path
/// covered on every CPU); 0, never (for measurements).
Switch splitMode() {
  static const Switch mode = envSwitch("TFC_LINEAR_SPLIT");
  return mode;
}

/// Weights from this many elements (f32: 6 MB) run split across the threads by columns;
/// TFC_LINEAR_SPLIT_MIN=elements sets another bound (for measurements).
int64_t splitMinWeight() {
  static const int64_t elements = [] {
    const char *e = std::getenv("TFC_LINEAR_SPLIT_MIN");
    return e ? int64_t(std::atoll(e)) : int64_t(3) << 19;
  }();
  return elements;
}

/// A product with a large constant weight on several threads: thread t computes its own
/// columns [t N/T, (t+1) N/T) with a single-threaded oneDNN primitive on its own packed copy of
/// those columns (and its own stream and scratchpad: one primitive object run by several threads
/// at once must not share oneDNN's), in one parallel region: each thread reads only its part of
/// the weight and the threads never wait for each other inside the product. On a 2-core Zen 4,
/// BERT-base's 128 x 768 x 3072, 128 x 3072 x 768 and 128 x 768 x 2304 products ran 3-5% faster
/// alone, and the whole model 5.8% faster (median p50 over 10 alternating rounds; MiniLM's
/// smaller weights showed no difference, hence splitMinWeight; docs/BENCHMARKS.md, "Column-split
/// linears"), where oneDNN runs its AVX-512 brgemm. On a 2-core Zen 3 (AVX2: oneDNN 2.6's
/// gemm:jit) each thread's half ran slower than the whole product on two threads, and BERT-base
/// lost 10-25%, hence splitMode. The output, bias and residual are column slices (row stride
/// N); the activation and residual stay oneDNN post-ops. Returns false (nothing done) where it
/// does not apply.
bool runSplitColumns(const KernelContext &ctx, LinearState &st, const LinearDims &dims, int mode,
                     Activation act, int threads, bool bf16Copy) {
  const int64_t M = dims.M, K = dims.K, N = dims.N;
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2), *r = ctx.in(3);
  if (splitMode() == Switch::Off || !usePacked() || !usePackedLargeM() || threads < 2 ||
      M <= kPackedMaxM || K * N < splitMinWeight() || N % (16 * threads) != 0 ||
      omp_in_parallel() || (w.dtype != TFC_F32 && !(w.dtype == TFC_BF16 && bf16Copy)))
    return false;
  const int64_t n = N / threads;
  LinearState::Split *split = nullptr;
  for (auto &e : st.splits)
    if (e.m == M && e.threads == threads && e.mode == mode)
      split = &e;
  DnnlEnv &env = cpuDevice(ctx).dnnl();
  if (!split) {
    dnnl::matmul::primitive_desc pd = makeDesc(env, M, K, n, b != nullptr, act, mode,
                                               memory::desc({K, n}, dt::f32, tag::any), N, true);
    const std::string impl = pd.impl_info_str();
    // Never trade for a reference kernel; by default only for a brgemm one (splitMode). The
    // answer is kept: the next call of this shape returns at once.
    const bool use = impl.rfind("ref", 0) != 0 &&
                     (splitMode() == Switch::Always || impl.rfind("brg", 0) == 0);
    LinearState::Split e{M, threads, mode, use, use ? dnnl::matmul(pd) : dnnl::matmul(),
                         pd.weights_desc(), {}, {}, pd.scratchpad_desc(), {}};
    if (!use) {
      st.splits.push_back(std::move(e));
      return false;
    }
    for (int t = 0; t < threads; ++t) {
      e.parts.push_back(packedWeights(ctx, w.data, w.dtype == TFC_BF16 ? dt::bf16 : dt::f32, K, N,
                                      e.packed, t * n, n));
      e.streams.emplace_back(env.engine);
      e.scratchpads.emplace_back(e.scratchpadDesc.get_size() + 64);
    }
    st.splits.push_back(std::move(e));
    split = &st.splits.back();
  }
  if (!split->used)
    return false;
  const int postIndex = act == Activation::None ? 0 : 1; // the residual's post-op index
  const float *px = x.as<float>(), *pb = b ? b->as<float>() : nullptr;
  const float *pr = r ? r->as<float>() : nullptr;
  float *py = ctx.out(0).as<float>();
  std::exception_ptr error;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    try {
      const memory::desc slice({M, n}, dt::f32, memory::dims{N, 1});
      std::unordered_map<int, memory> args = {
          {DNNL_ARG_SRC, memory({{M, K}, dt::f32, tag::ab}, env.engine, const_cast<float *>(px))},
          {DNNL_ARG_WEIGHTS, memory(split->packed, env.engine, split->parts[size_t(t)])},
          {DNNL_ARG_DST, memory(slice, env.engine, py + t * n)}};
      if (pb)
        args[DNNL_ARG_BIAS] =
            memory({{1, n}, dt::f32, tag::ab}, env.engine, const_cast<float *>(pb + t * n));
      if (mode == kResidualFull)
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postIndex) | DNNL_ARG_SRC_1] =
            memory(slice, env.engine, const_cast<float *>(pr + t * n));
      else if (mode == kResidualRow)
        args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postIndex) | DNNL_ARG_SRC_1] =
            memory({{1, n}, dt::f32, tag::ab}, env.engine, const_cast<float *>(pr + t * n));
      std::vector<uint8_t> &pad = split->scratchpads[size_t(t)];
      args[DNNL_ARG_SCRATCHPAD] = memory(
          split->scratchpadDesc, env.engine,
          reinterpret_cast<void *>((reinterpret_cast<uintptr_t>(pad.data()) + 63) / 64 * 64));
      split->prim.execute(split->streams[size_t(t)], args);
      split->streams[size_t(t)].wait();
    } catch (...) {
#pragma omp critical(tfc_linear_split_error)
      if (!error)
        error = std::current_exception();
    }
  }
  if (error)
    std::rethrow_exception(error);
  return true;
}
/// TFC_LINEAR_BF16=f32 runs a bf16 weight's products over many rows on its f32 copy, as before
/// runBf16Products (for measurements); unset, in bf16 where oneDNN has a bf16 brgemm.
bool bf16Native() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_LINEAR_BF16");
    return !(e && std::string(e) == "f32");
  }();
  return on;
}

/// A bf16 weight's product over more than kPackedMaxM rows where the CPU multiplies bf16 pairs
/// (AVX512_BF16, AMX: oneDNN's `brg:avx512_core_bf16` / `_amx` matmul): x is rounded to bf16
/// (nearest even) into a scratch, the weight read from a plan-wide bf16 copy in oneDNN's blocked
/// layout (packedWeights), the products summed in f32, bias, GELU and residual applied as
/// post-ops in f32. On a Zen 4, MiniLM's 128 x 384 x 1536 ran in 0.50 of the f32 matmul's time
/// (462 against 232 GFLOP/s, two threads). The cost is x's rounding: 2^-9 of each activation.
/// Returns false where it does not apply (the caller runs the f32 copy): Relu and the other
/// residual broadcasts, or no bf16 kernel on this CPU (oneDNN would emulate it).
bool runBf16Products(const KernelContext &ctx, LinearState &st, const LinearDims &dims, int mode,
                     Activation act) {
  const int64_t M = dims.M, K = dims.K, N = dims.N;
  if (!bf16ProductsInBf16() || act == Activation::Relu || mode == kResidualOther)
    return false;
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2), *r = ctx.in(3);
  const int threads = cpuDevice(ctx).threads();
  DnnlEnv &env = cpuDevice(ctx).dnnl();
  LinearState::Bf16Entry *entry = nullptr;
  for (auto &e : st.bf16)
    if (e.m == M && e.threads == threads && e.mode == mode)
      entry = &e;
  if (!entry) {
    LinearState::Bf16Entry e{M, threads, mode, false, {}, {}, {}, nullptr};
    try {
      dnnl::matmul::primitive_desc pd =
          makeDesc(env, M, K, N, b != nullptr, act, mode, memory::desc({K, N}, dt::bf16, tag::any),
                   0, false, dt::bf16);
      e.available = bf16Brgemm(pd);
      if (e.available) {
        e.prim = dnnl::matmul(pd);
        e.packed = pd.weights_desc();
        e.toBf16 = dnnl::reorder(memory({{M, K}, dt::f32, tag::ab}, env.engine, nullptr),
                                 memory({{M, K}, dt::bf16, tag::ab}, env.engine, nullptr));
      }
    } catch (const dnnl::error &) {
      e.available = false; // no bf16 matmul with these post-ops: the f32 copy
    }
    st.bf16.push_back(std::move(e));
    entry = &st.bf16.back();
  }
  if (!entry->available)
    return false;
  if (!entry->packedData)
    entry->packedData = packedWeights(ctx, w.data, dt::bf16, K, N, entry->packed);
  if (st.xBf16.size() < size_t(M * K))
    st.xBf16.resize(size_t(M * K));
  memory xs({{M, K}, dt::f32, tag::ab}, env.engine, x.data);
  memory xb({{M, K}, dt::bf16, tag::ab}, env.engine, st.xBf16.data());
  entry->toBf16.execute(env.stream, xs, xb);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, xb},
      {DNNL_ARG_WEIGHTS, memory(entry->packed, env.engine, entry->packedData)},
      {DNNL_ARG_DST, memory({{M, N}, dt::f32, tag::ab}, env.engine, ctx.out(0).data)}};
  if (b)
    args[DNNL_ARG_BIAS] = memory({{1, N}, dt::f32, tag::ab}, env.engine, b->data);
  const int postIndex = act == Activation::None ? 0 : 1; // the residual's post-op index
  if (mode == kResidualFull)
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postIndex) | DNNL_ARG_SRC_1] =
        memory({{M, N}, dt::f32, tag::ab}, env.engine, r->data);
  else if (mode == kResidualRow)
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postIndex) | DNNL_ARG_SRC_1] =
        memory({{1, N}, dt::f32, tag::ab}, env.engine, r->data);
  entry->prim.execute(env.stream, args);
  env.stream.wait();
  return true;
}

/// The function's first output written from x [B, S, K] when the caller reads only its last
/// position (KernelContext::lastPositionOnly: a generation loop's prompt, whose LM head is the
/// largest product of the run: GPT-2 small's [768, 50257] was 31% of a 32-token prompt): the
/// product of the B rows x[b, S - 1] alone, gathered, run as a Linear of B rows (the decode
/// packs' GEMV where there are some) and scattered back; the other positions stay as the session
/// left them (zeros). False where it does not apply (another output, a residual, one position).
bool runLastPositionRows(const KernelContext &ctx) {
  const KernelDesc &k = *ctx.k;
  const ValueDesc &yDesc = ctx.fn->values[size_t(k.outputs[0])];
  if (yDesc.kind != ValueKind::Output || yDesc.port != 0 || ctx.in(3))
    return false;
  Tensor &x = ctx.tensors[k.inputs[0]];
  Tensor &y = ctx.out(0);
  if (x.shape.rank != 3 || y.shape.rank != 3 || x.dtype != TFC_F32 || y.dtype != TFC_F32 ||
      x.shape.d[0] != y.shape.d[0] || x.shape.d[1] != y.shape.d[1] || x.shape.d[1] <= 1 ||
      x.data == y.data)
    return false;
  const int64_t B = x.shape.d[0], S = x.shape.d[1], K = x.shape.d[2], N = y.shape.d[2];
  std::vector<float> &rows = ctx.stateAs<LinearState>().lastRows;
  rows.resize(size_t(B * (K + N)));
  float *xs = rows.data(), *ys = xs + B * K;
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(xs + b * K, x.as<float>() + (b * S + S - 1) * K, size_t(K) * sizeof(float));
  const Tensor savedX = x, savedY = y;
  x.data = xs, x.shape.d[1] = 1;
  y.data = ys, y.shape.d[1] = 1;
  KernelContext rowsOnly = ctx;
  rowsOnly.lastPositionOnly = false;
  try {
    runLinear(rowsOnly);
  } catch (...) {
    x = savedX, y = savedY;
    throw;
  }
  x = savedX, y = savedY;
  for (int64_t b = 0; b < B; ++b)
    std::memcpy(y.as<float>() + (b * S + S - 1) * N, ys + b * N, size_t(N) * sizeof(float));
  return true;
}

} // namespace

bool bf16ProductsInBf16() {
  static const bool on = [] {
    if (!bf16Native())
      return false;
    try {
      DnnlEnv env;
      return bf16Brgemm(makeDesc(env, 32, 64, 64, true, Activation::None, kNoResidual,
                                 memory::desc({64, 64}, dt::bf16, tag::any), 0, false, dt::bf16));
    } catch (const dnnl::error &) {
      return false;
    }
  }();
  return on;
}

bool bf16ProductsAsF32() {
  static const bool on = [] {
    const char *e = std::getenv("TFC_LINEAR_BF16_F32");
    return !(e && *e == '0');
  }();
  return on;
}

std::string checkLinear(const FunctionDesc &fn, const KernelDesc &k) {
  Activation act = options<tfc::plan::LinearOptionsT>(k).activation;
  if (!isKnownEnumValue(act))
    return format("unknown Activation %d", int(act));
  static const char *names[] = {"x", "weight", "bias", "residual"};
  for (size_t i : {0, 2, 3}) {
    std::string e = expectDtype(fn, k, i, names[i], {TFC_F32});
    if (!e.empty())
      return e;
  }
  // The weight: f32, or a bf16 / i8 constant (input 4: the i8 weight's scale).
  if (std::string e = checkLowPrecisionWeight(fn, k, 1, 4, "weight"); !e.empty())
    return e;
  if (fn.values[k.inputs[1]].rank != 2)
    return format("weight '%s' has rank %d, expected 2 ([K, N])",
                  fn.values[k.inputs[1]].name.c_str(), fn.values[k.inputs[1]].rank);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runLinear(const KernelContext &ctx) {
  if (ctx.lastPositionOnly && runLastPositionRows(ctx))
    return;
  const Tensor *b = ctx.in(2), *r = ctx.in(3);
  Tensor &y = ctx.out(0);
  const LinearDims dims = linearDims(ctx);
  const int64_t M = dims.M, K = dims.K, N = dims.N;
  const Shape &shape = dims.out;
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  // A bf16 weight above kPackedMaxM rows (prompts, encoders): oneDNN's bf16 matmul on a bf16
  // copy (runBf16Products, where the CPU has one), else its f32 matmul on a copy converted once
  // per plan (bf16ProductsAsF32), both in the layout packedWeights makes; below, or without the
  // copy, or up to kPrefillGemvMaxRows rows of a weight packed for decode (a decoder's prompt:
  // one copy of the weights), the packed-weight GEMV.
  const bool bf16Copy = w.dtype == TFC_BF16 && M > kPackedMaxM && bf16ProductsAsF32() && ctx.plan &&
                        usePacked() && usePackedLargeM() && !useRuntimeM() &&
                        !(M <= kPrefillGemvMaxRows && isPrepacked(ctx, 1));
  if (runLinearInt8(ctx, dims, ctx.stateAs<LinearState>().int8) ||
      (!bf16Copy && runLinearGemv(ctx, dims, ctx.stateAs<LinearState>().gemv)))
    return;
  if (M == 0 || N == 0)
    return;
  int mode = kNoResidual;
  if (r) {
    if (r->data == y.data)
      mode = r->shape == shape ? kResidualInPlace : kResidualOther;
    else if (r->shape.numel() == M * N)
      mode = kResidualFull;
    else if (r->shape.numel() == N && r->shape.d[r->shape.rank - 1] == N)
      mode = kResidualRow;
    else
      mode = kResidualOther;
  }
  const Activation act = options<tfc::plan::LinearOptionsT>(*ctx.k).activation;
  // Relu runs here after the matmul (see the banner), so a residual must come after it too.
  const bool ownRelu = act == Activation::Relu;
  std::vector<float> savedResidual; // an in-place residual, which the matmul overwrites
  if (ownRelu && r) {
    if (r->data == y.data && r->shape == shape)
      savedResidual.assign(r->as<float>(), r->as<float>() + shape.numel());
    mode = kResidualOther;
  }
  auto &st = ctx.stateAs<LinearState>();
  if (bf16Copy && ctx.fn->values[size_t(ctx.k->inputs[1])].kind == ValueKind::Constant &&
      runBf16Products(ctx, st, dims, mode, act))
    return;
  const int threads = cpuDevice(ctx).threads();
  bool runtimeM = useRuntimeM();
  if (runtimeM && mode == kResidualFull) {
    // Runtime-M primitives take a full residual as append_sum: y starts as r.
    std::memcpy(y.data, r->data, size_t(M * N) * sizeof(float));
    mode = kResidualInPlace;
  }
  bool constantWeight = ctx.fn->values[size_t(ctx.k->inputs[1])].kind == ValueKind::Constant;
  // Large weights on several threads: each thread its own columns (splitColumns).
  if (!(mode == kResidualOther || runtimeM || !constantWeight || !ctx.plan) &&
      runSplitColumns(ctx, st, dims, mode, ownRelu ? Activation::None : act, threads, bf16Copy)) {
    // done: the activation and residual were post-ops
  } else {
    int64_t key = runtimeM ? DNNL_RUNTIME_DIM_VAL : M;
    // Only a plan constant may be packed once and reused: a weight computed at run time (a slice
    // of a packed in-projection, in the arena) changes from run to run at the same address.
    bool packed = !runtimeM && usePacked() && ctx.plan && constantWeight &&
                  (M <= kPackedMaxM || usePackedLargeM());
    LinearState::Entry *entry = nullptr;
    for (auto &e : st.cache)
      if (e.m == key && e.threads == threads && e.mode == mode)
        entry = &e;
    if (!entry) {
      int primMode = mode == kResidualOther ? kNoResidual : mode;
      WeightChoice choice = choosePrimitive(cpuDevice(ctx).dnnl(), key, K, N, b != nullptr,
                                            ownRelu ? Activation::None : act, primMode, packed,
                                            bf16Copy);
      st.cache.push_back({key, threads, mode, choice.prim, choice.packed, choice.conv});
      entry = &st.cache.back();
    }
    packed = entry->packed != memory::desc();
    if (w.dtype != TFC_F32 && !packed)
      ctx.fail(TFC_INTERNAL, "a %s weight must be read from its f32 copy", dtypeName(w.dtype));
    dnnl::primitive *prim = &entry->prim;
    DnnlEnv &env = cpuDevice(ctx).dnnl();
    // The convolution sees [M, K] as an NHWC image of 1 x M pixels (makeConv): the same bytes.
    auto rows = [&](int64_t m, int64_t n) {
      return entry->conv ? memory::desc({1, n, 1, m}, dt::f32, tag::nhwc)
                         : memory::desc({m, n}, dt::f32, tag::ab);
    };
    memory src(rows(M, K), env.engine, x.data);
    // The weight is a plan constant at a fixed address: find its packed copy once per entry.
    if (packed && !entry->packedData)
      entry->packedData =
          packedWeights(ctx, w.data, w.dtype == TFC_BF16 ? dt::bf16 : dt::f32, K, N, entry->packed);
    memory wei = packed ? memory(entry->packed, env.engine, entry->packedData)
                        : memory({{K, N}, dt::f32, tag::ab}, env.engine, w.data);
    memory dst(rows(M, N), env.engine, y.data);
    std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (b) {
      const memory::desc bias = entry->conv ? memory::desc({N}, dt::f32, tag::a) : rows(1, N);
      args[DNNL_ARG_BIAS] = memory(bias, env.engine, b->data);
    }
    int postIndex = act == Activation::None || ownRelu ? 0 : 1; // the residual's post-op index
    if (mode == kResidualFull)
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postIndex) | DNNL_ARG_SRC_1] =
          memory(rows(M, N), env.engine, r->data);
    else if (mode == kResidualRow)
      args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(postIndex) | DNNL_ARG_SRC_1] =
          memory(rows(1, N), env.engine, r->data);
    if (mode == kResidualOther && r->data == y.data && savedResidual.empty())
      ctx.fail(TFC_UNSUPPORTED, "an in-place residual must have the output's shape");
    prim->execute(env.stream, args);
    env.stream.wait();
  }
  if (ownRelu) {
    float *py = y.as<float>();
    const int64_t n = M * N;
#pragma omp parallel for simd schedule(static) if (n >= 32768)
    for (int64_t i = 0; i < n; ++i)
      py[i] = py[i] < 0.f ? 0.f : py[i]; // NaN stays NaN
  }
  if (mode == kResidualOther) {
    const Shape *ins[2] = {&shape, &r->shape};
    BroadcastLoop<2> loop(shape, ins);
    float *py = y.as<float>();
    const float *pr = savedResidual.empty() ? r->as<float>() : savedResidual.data();
    loop.run([&](int64_t o, const int64_t *off, int64_t n, const int64_t *stv) {
      for (int64_t i = 0; i < n; ++i)
        py[o + i] += pr[off[1] + i * stv[1]];
    });
  }
}

} // namespace tfc::rt
