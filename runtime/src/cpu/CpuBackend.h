//===- CpuBackend.h - the CPU backend: host memory, oneDNN engine/stream, the kernel table ----===//
//
// The CPU device is the host: its memory is aligned heap memory (hostAccessible, so the session
// hands caller buffers to the kernels in place), copies are memcpy, the plan's constants are the
// mapping's own bytes. A CpuDevice owns what the oneDNN kernels of one session share: the
// engine and in-order stream (DnnlEnv) and the session's thread count, and runs a function's
// kernels with OpenMP limited to that count (restoring the caller's count however it ends).
// Kernels reach it through cpuDevice(ctx).
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CPU_CPUBACKEND_H
#define TFC_RUNTIME_CPU_CPUBACKEND_H

#include "Backend.h"
#include "cpu/Dnnl.h"
#include "cpu/Kernel.h"

namespace tfc::rt {

class CpuDevice : public Device {
public:
  CpuDevice(std::shared_ptr<const Plan> plan, int threads);
  ~CpuDevice() override;

  const Backend &backend() const override;
  DeviceSpec spec() const override { return DeviceSpec{"cpu", 0}; }
  bool hostAccessible() const override { return true; }
  void *allocate(size_t bytes) override;
  void release(void *p) override;
  void copyToDevice(void *dst, const void *src, size_t bytes) override;
  void copyToHost(void *dst, const void *src, size_t bytes) override;
  void copyOnDevice(void *dst, const void *src, size_t bytes) override;
  void fill(void *dst, int byte, size_t bytes) override;
  void copyOnDevice2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch, size_t width,
                      size_t height) override;
  void synchronize() override {}
  const void *constant(int32_t index) override;
  void execute(const FunctionDesc &fn, KernelContext &ctx, std::unique_ptr<KernelState> *states,
               KernelProfile *profile, bool profiling) override;

  DnnlEnv &dnnl() { return dnnl_; }
  /// The session's OpenMP team size (checked by the session: 1 to TFC_MAX_THREADS).
  int threads() const { return threads_; }

private:
  std::shared_ptr<const Plan> plan_;
  int threads_;
  DnnlEnv dnnl_;
};

/// The session's CPU device, for the CPU kernels (the loader gives CPU kernels to CPU plans
/// only, and a CPU plan's sessions run on a CpuDevice).
inline CpuDevice &cpuDevice(const KernelContext &ctx) { return static_cast<CpuDevice &>(*ctx.device); }

} // namespace tfc::rt

#endif // TFC_RUNTIME_CPU_CPUBACKEND_H
