//===- Dnnl.h - oneDNN objects of a session, and small helpers for the oneDNN kernels --------===//
//
// One engine and one (in-order) stream per session; kernels create their primitives on them and
// cache them in their KernelState, keyed by shape and thread count (oneDNN implementations keep
// the thread count they were created with).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_DNNL_H
#define TFC_RUNTIME_CPU_DNNL_H

#include <dnnl.hpp>

namespace tfc::rt {

struct DnnlEnv {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_DNNL_H
