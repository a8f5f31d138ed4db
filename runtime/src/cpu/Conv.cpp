//===- Conv.cpp - 1-D and 2-D convolution on oneDNN ------------------------------------------===//
//
// Plain layouts in and out (ncw / nchw activations, oiw / oihw weights, goiw / goihw with
// groups), so the tensors of the arena and the plan's constants are used in place; oneDNN picks
// its implementation for those layouts. oneDNN counts dilations from 0 (0 = dense), ONNX from 1.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Conv.h"

#include <unordered_map>

namespace tfc::rt {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

memory::dims dimsOf(const Shape &s) { return memory::dims(s.d, s.d + s.rank); }

/// The weights' dims as oneDNN wants them: [G, M/G, C/G, *k] with groups, else as they are.
memory::desc weightsDesc(const Shape &w, const ConvParams &p) {
  if (p.group == 1)
    return memory::desc(dimsOf(w), dt::f32, p.spatial == 1 ? tag::oiw : tag::oihw);
  memory::dims d = {p.group, w.d[0] / p.group};
  for (int i = 1; i < w.rank; ++i)
    d.push_back(w.d[i]);
  return memory::desc(d, dt::f32, p.spatial == 1 ? tag::goiw : tag::goihw);
}

} // namespace

void convForward(DnnlEnv &env, ConvState &state, int threads, const Tensor &x, const Tensor &w,
                 const Tensor *b, const ConvParams &p, const Tensor &y) {
  if (y.shape.numel() == 0)
    return;
  tag act = p.spatial == 1 ? tag::ncw : tag::nchw;
  memory::desc xd(dimsOf(x.shape), dt::f32, act), yd(dimsOf(y.shape), dt::f32, act);
  memory::desc wd = weightsDesc(w.shape, p);
  memory::desc bd({w.shape.d[0]}, dt::f32, tag::x);
  dnnl::convolution_forward *prim = nullptr;
  for (auto &e : state.cache)
    if (e.x == x.shape && e.w == w.shape && e.bias == (b != nullptr) && e.threads == threads)
      prim = &e.prim;
  if (!prim) {
    memory::dims strides, dil, padL, padR;
    for (int i = 0; i < p.spatial; ++i) {
      strides.push_back(p.strides[i]);
      dil.push_back(p.dilations[i] - 1);
      padL.push_back(p.padBegin[i]);
      padR.push_back(p.padEnd[i]);
    }
    auto kind = dnnl::prop_kind::forward_inference;
    auto algo = dnnl::algorithm::convolution_direct;
    auto desc = b ? dnnl::convolution_forward::desc(kind, algo, xd, wd, bd, yd, strides, dil,
                                                    padL, padR)
                  : dnnl::convolution_forward::desc(kind, algo, xd, wd, yd, strides, dil, padL,
                                                    padR);
    state.cache.push_back({x.shape, w.shape, b != nullptr, threads,
                           dnnl::convolution_forward(
                               dnnl::convolution_forward::primitive_desc(desc, env.engine))});
    prim = &state.cache.back().prim;
  }
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, memory(xd, env.engine, x.data)},
      {DNNL_ARG_WEIGHTS, memory(wd, env.engine, w.data)},
      {DNNL_ARG_DST, memory(yd, env.engine, y.data)}};
  if (b)
    args.emplace(DNNL_ARG_BIAS, memory(bd, env.engine, b->data));
  prim->execute(env.stream, args);
  env.stream.wait();
}

} // namespace tfc::rt
