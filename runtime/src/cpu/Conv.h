//===- Conv.h - 1-D and 2-D convolution (ONNX Conv, NCW / NCHW) on oneDNN --------------------===//
//
// ViT's patch embedding and Whisper's 1-D front end. A function on bound tensors (no plan, no
// KernelContext), so that the kernel of the plan and the unit tests run the same code; its
// oneDNN primitives are cached in a ConvState per shape and thread count, like MatMul's.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_CONV_H
#define TFC_RUNTIME_CPU_CONV_H

#include "GemmShapes.h" // ConvParams, convOutputShape
#include "cpu/Dnnl.h"
#include "cpu/Kernel.h"

#include <string>
#include <vector>

namespace tfc::rt {

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
