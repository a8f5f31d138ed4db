//===- CpuBackend.cpp - the CPU backend and its device -----------------------------------------===//
#include "cpu/CpuBackend.h"
#include "cpu/LinearGemv.h"

#include "Error.h"
#include "WaitPolicy.h"

#include <cstdlib>
#include <cstring>
#include <omp.h>

namespace tfc::rt {
namespace {

class CpuBackend : public Backend {
public:
  const char *name() const override { return "cpu"; }
  const char *planTarget() const override { return "cpu"; }
  bool available(int ordinal, std::string *why) const override {
    if (ordinal == 0)
      return true;
    if (why)
      *why = format("the cpu backend has one device (cpu:0), not cpu:%d", ordinal);
    return false;
  }
  const KernelSpec *kernel(KernelKind kind) const override { return kernelSpec(int32_t(kind)); }
  std::unique_ptr<Device> open(const std::shared_ptr<const Plan> &plan, int ordinal,
                               const DeviceOptions &options) const override {
    std::string why;
    if (!available(ordinal, &why))
      throw Error(TFC_UNAVAILABLE, why);
    // The policy itself was applied when the library loaded (WaitPolicy.h); a misspelt value
    // would silently mean `auto`, so the session that would use it is refused instead.
    if (!checkWaitPolicyEnv(&why))
      throw Error(TFC_INVALID_ARGUMENT, why);
    return std::make_unique<CpuDevice>(plan, options.threads);
  }
};

} // namespace

const Backend *cpuBackend() {
  static const CpuBackend backend;
  return &backend;
}

CpuDevice::CpuDevice(std::shared_ptr<const Plan> plan, int threads)
    : plan_(std::move(plan)), threads_(threads) {
  // Decode's packed weights, once per plan (LinearGemv.h): not in the first token's time.
  try {
    prepackDecodeWeights(*plan_, threads_);
  } catch (const std::bad_alloc &) {
    fail(TFC_INTERNAL, "plan '%s': out of memory packing the weights of decode_step for this "
                       "session's CPU", plan_->path.c_str());
  }
}

CpuDevice::~CpuDevice() = default;

const Backend &CpuDevice::backend() const { return *cpuBackend(); }

void *CpuDevice::allocate(size_t bytes) {
  // 256-byte aligned (the seam's promise; oneDNN wants 64), rounded up as aligned_alloc requires.
  size_t rounded = (bytes + 255) / 256 * 256;
  void *p = std::aligned_alloc(256, rounded ? rounded : 256);
  if (!p)
    throw Error(TFC_INTERNAL, format("out of device memory allocating %zu bytes on cpu", bytes));
  return p;
}

void CpuDevice::release(void *p) { std::free(p); }

void CpuDevice::copyToDevice(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
}
void CpuDevice::copyToHost(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memcpy(dst, src, bytes);
}
void CpuDevice::copyOnDevice(void *dst, const void *src, size_t bytes) {
  if (bytes)
    std::memmove(dst, src, bytes);
}
void CpuDevice::fill(void *dst, int byte, size_t bytes) {
  if (bytes)
    std::memset(dst, byte, bytes);
}

void CpuDevice::copyOnDevice2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch,
                               size_t width, size_t height) {
  for (size_t r = 0; r < height; ++r)
    std::memcpy(static_cast<uint8_t *>(dst) + r * dstPitch,
                static_cast<const uint8_t *>(src) + r * srcPitch, width);
}

const void *CpuDevice::constant(int32_t index) {
  if (index < 0 || size_t(index) >= plan_->constants.size())
    fail(TFC_INTERNAL, "constant %d is out of range (the plan has %zu)", index,
         plan_->constants.size());
  return plan_->constants[size_t(index)].data;
}

void CpuDevice::execute(const FunctionDesc &fn, KernelContext &ctx,
                        std::unique_ptr<KernelState> *states, KernelProfile *profile,
                        bool profiling) {
  // omp_set_num_threads sets the calling thread's ICV only (parallel regions it starts); the
  // caller's value comes back when the run ends, however it ends.
  struct ThreadsGuard {
    int saved = omp_get_max_threads();
    ~ThreadsGuard() { omp_set_num_threads(saved); }
  } threadsGuard;
  omp_set_num_threads(threads_);
  runKernels(*cpuBackend(), fn, ctx, states, profile, profiling);
}

} // namespace tfc::rt
