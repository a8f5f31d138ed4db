//===- CudaModule.cpp - libtfc_cuda.so's entry point (BackendModule.h) ------------------------===//
//
// The CUDA backend is built as the module libtfc_cuda.so, which links libtfc_runtime, libcudart
// and libcublasLt; libtfc_runtime loads it on first need. This is its one exported C symbol.
//
//===----------------------------------------------------------------------------------------===//
#include "BackendModule.h"
#include "cuda/CudaBackend.h"

namespace {

const tfc::rt::Backend *moduleBackend() { return tfc::rt::cudaBackend(); }

} // namespace

extern "C" __attribute__((visibility("default"))) const tfc_backend_module *
tfc_backend_module_entry(void) {
  static const tfc_backend_module module = {tfc::rt::kBackendModuleAbi, tfc::rt::seamLayout(),
                                            "cuda", &moduleBackend};
  return &module;
}
