//===- runtime_backend_module_fake.cpp - stand-in backend modules for the module loader tests ===//
//
// Built three times as libtfc_cuda.so in three directories (tests/unit/runtime.cmake), to test
// what libtfc_runtime does with a module it finds (runtime_backend_module_test.cpp) without CUDA:
//  * good: this runtime's ABI and seam layout; its backend is named "cuda", has no kernels and
//    no usable device ("fake module");
//  * badabi (TFC_FAKE_ABI_DELTA): another ABI version; badlayout (TFC_FAKE_LAYOUT_XOR): another
//    seam layout. The loader must refuse these before calling into them: their backend function
//    aborts the process.
//
//===----------------------------------------------------------------------------------------===//
#include "BackendModule.h"

#include <cstdlib>

#ifndef TFC_FAKE_ABI_DELTA
#define TFC_FAKE_ABI_DELTA 0
#endif
#ifndef TFC_FAKE_LAYOUT_XOR
#define TFC_FAKE_LAYOUT_XOR 0
#endif

namespace {

using namespace tfc::rt;

class FakeBackend final : public Backend {
public:
  const char *name() const override { return "cuda"; }
  const char *planTarget() const override { return "cuda"; }
  bool available(int, std::string *why) const override {
    if (why)
      *why = "fake module: no device";
    return false;
  }
  const KernelSpec *kernel(KernelKind) const override { return nullptr; }
  std::unique_ptr<Device> open(const std::shared_ptr<const Plan> &, int,
                               const DeviceOptions &) const override {
    return nullptr;
  }
};

const Backend *fakeBackend() {
  if (TFC_FAKE_ABI_DELTA != 0 || TFC_FAKE_LAYOUT_XOR != 0)
    std::abort(); // a refused module must never be called
  static const FakeBackend backend;
  return &backend;
}

} // namespace

extern "C" __attribute__((visibility("default"))) const tfc_backend_module *
tfc_backend_module_entry(void) {
  static const tfc_backend_module module = {kBackendModuleAbi + TFC_FAKE_ABI_DELTA,
                                            seamLayout() ^ TFC_FAKE_LAYOUT_XOR, "cuda",
                                            &fakeBackend};
  return &module;
}
