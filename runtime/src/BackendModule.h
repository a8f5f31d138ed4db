//===- BackendModule.h - backends built as modules that the runtime loads on first need -------===//
//
// A backend whose libraries are heavy or may be missing is built as its own shared module,
// libtfc_<name>.so, and libtfc_runtime does not link those libraries. The CUDA backend is one:
// libcudart and libcublasLt cost 0.2-0.5 s and about 200 MB of resident memory to load, and a
// runtime linking them would not start at all on a machine without them. The module links
// the static libtfc_runtime.a (the seam it implements: Plan, Error, the CPU table's kernel checks,
// runKernels, DecodeGraph; libtfc_runtime.so exports only the C API) and its own libraries; the runtime dlopens it the first time something needs the
// backend itself (Backend.cpp: findBackend/backendForTarget, i.e. a plan of its target, a session
// or tfc_device_check on one of its devices). Listing the backends' names loads nothing.
//
// The module exports one C symbol, tfc_backend_module_entry (kBackendModuleEntry), returning a
// static descriptor: the seam's ABI version and layout fingerprint it was compiled with, its
// backend's name, and the function that returns its Backend. The runtime reads the descriptor
// before it calls any C++ of the module and refuses a module of another version, naming both:
// the C++ seam has no stable ABI, so a module works only with the runtime of its own build.
//
// Where: $TFC_BACKEND_DIR/libtfc_<name>.so when TFC_BACKEND_DIR is set and not empty, else the
// directory of the libtfc_runtime.so loaded in this process (dladdr); in a program linked with
// the static libtfc_runtime.a, <program dir>/../lib when the program lives in a bin/ directory.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_BACKENDMODULE_H
#define TFC_RUNTIME_BACKENDMODULE_H

#include "Backend.h"
#include "Session.h"
#include "cpu/Kernel.h"

#include <cstdint>
#include <string>

extern "C" {
/// What a backend module's entry point returns (static storage in the module). Plain C, and the
/// version first: the runtime reads abiVersion and seamLayout before anything else.
struct tfc_backend_module {
  uint32_t abiVersion; // tfc::rt::kBackendModuleAbi the module was built with
  uint32_t seamLayout; // tfc::rt::seamLayout() the module was built with
  const char *name;    // the backend's name ("cuda")
  const tfc::rt::Backend *(*backend)(void); // the module's backend (static storage)
};
typedef const tfc_backend_module *(*tfc_backend_module_entry_fn)(void);
}

namespace tfc::rt {

/// The exported symbol of every backend module.
inline constexpr const char *kBackendModuleEntry = "tfc_backend_module_entry";

/// The seam's ABI version: bump it when Backend.h, Plan.h, Session.h or cpu/Kernel.h change in a
/// way that a module built against the old headers would misread (a member, a virtual function,
/// a changed meaning). seamLayout() catches the size changes that are forgotten here.
inline constexpr uint32_t kBackendModuleAbi = 1;

/// A fingerprint of the sizes of the types a module shares with the runtime (FNV-1a over them):
/// a module compiled against headers whose structs differ in size is refused even if nobody
/// bumped kBackendModuleAbi.
constexpr uint32_t seamLayout() {
  const uint64_t sizes[] = {sizeof(Plan),        sizeof(FunctionDesc), sizeof(KernelDesc),
                            sizeof(ValueDesc),   sizeof(ConstantDesc), sizeof(CacheSlotDesc),
                            sizeof(KernelContext), sizeof(KernelSpec), sizeof(Tensor),
                            sizeof(Shape),       sizeof(KvCache),      sizeof(KernelProfile),
                            sizeof(DeviceOptions), sizeof(DeviceSpec), kNumKernelKinds};
  uint32_t h = 2166136261u;
  for (uint64_t s : sizes)
    for (int b = 0; b < 8; ++b)
      h = (h ^ uint32_t((s >> (8 * b)) & 0xff)) * 16777619u;
  return h;
}

/// The file of backend module `name`: $TFC_BACKEND_DIR/libtfc_<name>.so, or the same next to
/// this process's libtfc_runtime.so (just the file name when that cannot be found: dlopen then
/// searches the library path).
std::string backendModulePath(const std::string &name);

/// Loads backend module `name` from `path`: dlopen (RTLD_NOW: a missing library or symbol is
/// reported now, not at a first call), its entry point, the descriptor's version, layout and
/// name. Returns its backend, or nullptr with the reason in `why` (dlerror's text, or the
/// versions of both sides); a refused module is closed again. Never throws. Loads again on
/// every call: the runtime's registry (Backend.cpp) calls it once per process and backend.
const Backend *loadBackendModule(const std::string &name, const std::string &path,
                                 std::string *why);

} // namespace tfc::rt

#endif // TFC_RUNTIME_BACKENDMODULE_H
