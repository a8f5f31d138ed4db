//===- Backend.cpp - device specs, the default kernel loop, the backend registry --------------===//
//
// What every backend shares: parsing "cpu" / "cuda:1", the plain in-order kernel loop that
// Device::execute runs unless a backend overrides it (with the per-kernel profile and errors
// naming the function, kernel and kind), and the registry: the backends this runtime knows, the
// built-in CPU one and module backends loaded on first need (BackendModule.h).
//
//===----------------------------------------------------------------------------------------===//
#include "Backend.h"

#include "BackendModule.h"
#include "Error.h"
#include "Session.h" // KernelProfile
#include "cpu/Kernel.h"

#include <chrono>
#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <dnnl.hpp> // dnnl::error: the CPU backend is always built, its errors get their own words

namespace tfc::rt {

std::string DeviceSpec::str() const {
  return ordinal == 0 && backend == "cpu" ? backend : backend + ":" + std::to_string(ordinal);
}

DeviceSpec parseDeviceSpec(const char *text) {
  std::string s = text ? text : "";
  auto bad = [&]() -> DeviceSpec {
    fail(TFC_INVALID_ARGUMENT, "bad device '%s': expected cpu, cuda or cuda:N (N a device "
                               "ordinal from 0)", s.c_str());
  };
  size_t colon = s.find(':');
  DeviceSpec spec;
  spec.backend = s.substr(0, colon);
  if (spec.backend != "cpu" && spec.backend != "cuda")
    return bad();
  spec.ordinal = 0;
  if (colon != std::string::npos) {
    std::string n = s.substr(colon + 1);
    if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos)
      return bad();
    spec.ordinal = std::atoi(n.c_str());
  }
  return spec;
}

void Device::copyOnDevice2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                            size_t width, size_t height) {
  for (size_t r = 0; r < height; ++r)
    copyOnDevice(static_cast<uint8_t *>(dst) + r * dstPitch,
                 static_cast<const uint8_t *>(src) + r * srcPitch, width);
}

void Device::execute(const FunctionDesc &fn, KernelContext &ctx,
                     std::unique_ptr<KernelState> *states, KernelProfile *profile,
                     bool profiling) {
  runKernels(backend(), fn, ctx, states, profile, profiling);
}

void runKernels(const Backend &backend, const FunctionDesc &fn, KernelContext &ctx,
                std::unique_ptr<KernelState> *states, KernelProfile *profile, bool profiling) {
  using Clock = std::chrono::steady_clock;
  for (size_t i = 0; i < fn.kernels.size(); ++i) {
    const KernelDesc &k = fn.kernels[i];
    ctx.k = &k;
    ctx.state = &states[i];
    Clock::time_point t0;
    if (profiling)
      t0 = Clock::now();
    try {
      // The loader has checked that the backend has a row for every kernel of the plan.
      backend.kernel(k.kind)->run(ctx);
    } catch (const Error &) {
      throw;
    } catch (const dnnl::error &e) {
      fail(TFC_INTERNAL, "function '%s': kernel '%s' (%s): oneDNN error %d: %s", fn.name.c_str(),
           k.name.c_str(), kernelKindName(k.kind), int(e.status), e.what());
    } catch (const std::bad_alloc &) {
      fail(TFC_INTERNAL, "function '%s': kernel '%s' (%s): out of memory", fn.name.c_str(),
           k.name.c_str(), kernelKindName(k.kind));
    } catch (const std::exception &e) {
      fail(TFC_INTERNAL, "function '%s': kernel '%s' (%s): %s", fn.name.c_str(), k.name.c_str(),
           kernelKindName(k.kind), e.what());
    }
    if (profiling) {
      KernelProfile &p = profile[i];
      p.calls++;
      p.totalMs += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
  }
}

namespace {

/// One backend this runtime knows: built in (`builtIn`) or a module loaded on first need.
struct KnownBackend {
  const char *name;
  const char *target; // the plan target it runs (Backend::planTarget)
  const Backend *(*builtIn)();
};

const std::vector<KnownBackend> &known() {
  static const std::vector<KnownBackend> all = {
      {"cpu", "cpu", &cpuBackend},
#ifdef TFC_WITH_CUDA
      {"cuda", "cuda", nullptr}, // libtfc_cuda.so (runtime/src/cuda)
#endif
  };
  return all;
}

/// A module backend's outcome, decided on first need and kept.
struct LoadedModule {
  const Backend *backend = nullptr;
  std::string why;
};

const Backend *resolve(const KnownBackend &b, std::string *why) {
  if (b.builtIn)
    return b.builtIn();
  // Each module is loaded once per process, under the lock; its outcome is kept.
  static std::mutex mutex;
  static std::map<std::string, LoadedModule> modules;
  std::lock_guard<std::mutex> lock(mutex);
  auto [it, first] = modules.try_emplace(b.name);
  LoadedModule &m = it->second;
  if (first) {
    std::string reason;
    m.backend = loadBackendModule(b.name, backendModulePath(b.name), &reason);
    if (!m.backend)
      m.why = format("the %s backend's module cannot be loaded: %s", b.name, reason.c_str());
  }
  if (!m.backend && why)
    *why = m.why;
  return m.backend;
}

} // namespace

const std::vector<std::string> &backendNameList() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const KnownBackend &b : known())
      v.push_back(b.name);
    return v;
  }();
  return names;
}

std::string backendNames() {
  std::string names;
  for (const std::string &n : backendNameList())
    names += (names.empty() ? "" : ", ") + n;
  return names;
}

const Backend *findBackend(const std::string &name, std::string *why) {
  for (const KnownBackend &b : known())
    if (name == b.name)
      return resolve(b, why);
  if (why)
    *why = format("this runtime was built without the %s backend (its backends: %s)",
                  name.c_str(), backendNames().c_str());
  return nullptr;
}

const Backend *backendForTarget(const std::string &target, std::string *why) {
  for (const KnownBackend &b : known())
    if (target == b.target)
      return resolve(b, why);
  if (why)
    why->clear();
  return nullptr;
}

} // namespace tfc::rt
