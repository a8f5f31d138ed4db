//===- MatMul.cpp - batched matrix product with NumPy broadcasting of batch dims --------------===//
//
// [..., M, K] x [..., K, N] -> [..., M, N] on oneDNN. Three shapes of work: b without batch
// (folded into one [batch*M, K] x [K, N] product), equal batches (one 3-D product), and general
// broadcasting (one 2-D primitive executed per output batch on pointer offsets). Primitives are
// cached per shape and thread count in the session.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/Dnnl.h"

namespace tfc::rt {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct MatMulState : KernelState {
  struct Entry {
    int64_t batch, m, k, n;
    int threads;
    dnnl::matmul prim;
  };
  std::vector<Entry> cache;
  dnnl::matmul &get(DnnlEnv &env, int64_t batch, int64_t m, int64_t k, int64_t n, int threads) {
    for (auto &e : cache)
      if (e.batch == batch && e.m == m && e.k == k && e.n == n && e.threads == threads)
        return e.prim;
    memory::desc a, b, c;
    if (batch > 0) {
      a = memory::desc({batch, m, k}, dt::f32, tag::abc);
      b = memory::desc({batch, k, n}, dt::f32, tag::abc);
      c = memory::desc({batch, m, n}, dt::f32, tag::abc);
    } else {
      a = memory::desc({m, k}, dt::f32, tag::ab);
      b = memory::desc({k, n}, dt::f32, tag::ab);
      c = memory::desc({m, n}, dt::f32, tag::ab);
    }
    dnnl::matmul prim(dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), env.engine));
    cache.push_back({batch, m, k, n, threads, prim});
    return cache.back().prim;
  }
};

} // namespace

std::string checkMatMul(const FunctionDesc &fn, const KernelDesc &k) {
  for (size_t i = 0; i < 2; ++i) {
    std::string e = expectDtype(fn, k, i, i ? "b" : "a", {TFC_F32});
    if (!e.empty())
      return e;
    if (fn.values[k.inputs[i]].rank < 2)
      return format("input %zu ('%s') has rank %d; matmul needs rank >= 2", i,
                    fn.values[k.inputs[i]].name.c_str(), fn.values[k.inputs[i]].rank);
  }
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runMatMul(const KernelContext &ctx) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  Tensor &c = ctx.out(0);
  int ra = a.shape.rank, rb = b.shape.rank;
  int64_t M = a.shape.d[ra - 2], K = a.shape.d[ra - 1], N = b.shape.d[rb - 1];
  if (b.shape.d[rb - 2] != K)
    ctx.fail(TFC_INVALID_ARGUMENT, "shapes %s and %s do not agree on K", a.shape.str().c_str(),
             b.shape.str().c_str());
  Shape ba, bb, batch;
  ba.rank = ra - 2;
  bb.rank = rb - 2;
  for (int i = 0; i < ba.rank; ++i)
    ba.d[i] = a.shape.d[i];
  for (int i = 0; i < bb.rank; ++i)
    bb.d[i] = b.shape.d[i];
  if (!broadcastShapes(ba, bb, batch) || batch.rank + 2 > kMaxRank)
    ctx.fail(TFC_INVALID_ARGUMENT, "batch dims of %s and %s do not broadcast",
             a.shape.str().c_str(), b.shape.str().c_str());
  Shape shape = batch;
  shape.rank += 2;
  shape.d[shape.rank - 2] = M;
  shape.d[shape.rank - 1] = N;
  ctx.expectOutputShape(0, shape);
  if (shape.numel() == 0)
    return;
  if (K == 0) {
    std::memset(c.data, 0, c.bytes());
    return;
  }
  DnnlEnv &env = cpuDevice(ctx).dnnl();
  auto &st = ctx.stateAs<MatMulState>();
  int64_t nb = batch.numel(), na = ba.numel(), nbb = bb.numel();
  auto exec = [&](dnnl::matmul &prim, const memory::desc &da, const memory::desc &db,
                  const memory::desc &dc, const float *pa, const float *pb, float *pc) {
    prim.execute(env.stream, {{DNNL_ARG_SRC, memory(da, env.engine, const_cast<float *>(pa))},
                              {DNNL_ARG_WEIGHTS, memory(db, env.engine, const_cast<float *>(pb))},
                              {DNNL_ARG_DST, memory(dc, env.engine, pc)}});
  };
  if (nbb == 1) {
    int64_t m = na * M;
    dnnl::matmul &p = st.get(env, 0, m, K, N, cpuDevice(ctx).threads());
    exec(p, {{m, K}, dt::f32, tag::ab}, {{K, N}, dt::f32, tag::ab}, {{m, N}, dt::f32, tag::ab},
         a.as<float>(), b.as<float>(), c.as<float>());
  } else if (na == nb && nbb == nb) {
    dnnl::matmul &p = st.get(env, nb, M, K, N, cpuDevice(ctx).threads());
    exec(p, {{nb, M, K}, dt::f32, tag::abc}, {{nb, K, N}, dt::f32, tag::abc},
         {{nb, M, N}, dt::f32, tag::abc}, a.as<float>(), b.as<float>(), c.as<float>());
  } else {
    dnnl::matmul &p = st.get(env, 0, M, K, N, cpuDevice(ctx).threads());
    memory::desc da({M, K}, dt::f32, tag::ab), db({K, N}, dt::f32, tag::ab),
        dc({M, N}, dt::f32, tag::ab);
    // Per output batch index, the batch offsets of a and b.
    Shape aligned = batch;
    for (int64_t i = 0; i < nb; ++i) {
      int64_t rem = i, offA = 0, offB = 0, strideA = 1, strideB = 1;
      for (int d = aligned.rank - 1; d >= 0; --d) {
        int64_t idx = rem % aligned.d[d];
        rem /= aligned.d[d];
        int ja = d - (aligned.rank - ba.rank), jb = d - (aligned.rank - bb.rank);
        if (ja >= 0) {
          if (ba.d[ja] != 1)
            offA += idx * strideA;
          strideA *= ba.d[ja];
        }
        if (jb >= 0) {
          if (bb.d[jb] != 1)
            offB += idx * strideB;
          strideB *= bb.d[jb];
        }
      }
      exec(p, da, db, dc, a.as<float>() + offA * M * K, b.as<float>() + offB * K * N,
           c.as<float>() + i * M * N);
    }
  }
  env.stream.wait();
}

} // namespace tfc::rt
