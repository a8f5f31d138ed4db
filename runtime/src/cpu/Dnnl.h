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

#include <string>

namespace tfc::rt {

struct DnnlEnv {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
};

/// Whether oneDNN's matmul for `pd` multiplies bf16 pairs in hardware (a brgemm for
/// AVX512_BF16 or AMX), rather than emulating them or running a reference kernel.
inline bool bf16Brgemm(const dnnl::matmul::primitive_desc &pd) {
  const std::string impl = pd.impl_info_str();
  return impl.rfind("brg", 0) == 0 &&
         (impl.find("bf16") != std::string::npos || impl.find("amx") != std::string::npos);
}

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_DNNL_H
