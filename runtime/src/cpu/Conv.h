//===- Conv.h - 1-D and 2-D convolution (ONNX Conv, NCW / NCHW) on oneDNN --------------------===//
//
// ViT's patch embedding and Whisper's 1-D front end. A function on bound tensors (no plan, no
// KernelContext), so that the kernel of the plan and the unit tests run the same code; its
// oneDNN primitives are cached in a ConvState per shape and thread count, like MatMul's.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_CONV_H
#define TFC_RUNTIME_CPU_CONV_H

#include "cpu/Dnnl.h"
#include "cpu/Kernel.h"

#include <string>
#include <vector>

namespace tfc::rt {

/// The attributes of a convolution with `spatial` (1 or 2) spatial dims. Dilations count as in
/// ONNX (1 = none); pads are the begins and ends of each spatial dim.
struct ConvParams {
  int spatial = 2;
  int64_t strides[2] = {1, 1};
  int64_t padBegin[2] = {0, 0}, padEnd[2] = {0, 0};
  int64_t dilations[2] = {1, 1};
  int64_t group = 1;
};

/// Checks x [N, C, *spatial] and w [M, C / group, *kernel] against `p` and gives the output
/// shape [N, M, *out]: "" when they go together, else the problem.
std::string convOutputShape(const Shape &x, const Shape &w, const ConvParams &p, Shape &out);

/// The oneDNN primitives of one Conv kernel in one session.
struct ConvState : KernelState {
  struct Entry {
    Shape x, w;
    bool bias;
    int threads;
    dnnl::convolution_forward prim;
  };
  std::vector<Entry> cache;
};

/// y = conv(x, w) + b (b may be null; f32 throughout) with y bound to convOutputShape.
void convForward(DnnlEnv &env, ConvState &state, int threads, const Tensor &x, const Tensor &w,
                 const Tensor *b, const ConvParams &p, const Tensor &y);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_CONV_H
