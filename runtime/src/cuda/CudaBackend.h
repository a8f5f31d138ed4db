//===- CudaBackend.h - the CUDA backend: device, stream, cuBLASLt, the kernel table ----------===//
//
// The CUDA side of the seam in Backend.h. A CudaDevice is what one session owns on one GPU: an
// in-order non-blocking stream, a cuBLASLt handle, a grow-only workspace, and the plan's
// constants uploaded once per plan and GPU (shared by every session on that plan and GPU through
// Plan::derived). Kernels downcast KernelContext::device with cudaDevice(ctx) and enqueue on its
// stream; nothing in a kernel synchronizes (the session's copies out do).
//
// The kernel table has one row per KernelKind: the operand counts and the load-time check are
// the CPU table's (the checks are target-neutral; F32 in a check also admits the plan's float
// dtype, FunctionDesc::floatDtype), the run function is the CUDA one, cudaRun<Kind>. Each kernel
// file defines the run functions it implements; they are declared weak here, so a kind whose
// run function no file defines has no row and the loader refuses a plan that uses it, naming the
// kernel and kind (no silent fallback to the CPU).
//
// Only files under runtime/src/cuda include CUDA headers; the rest of the runtime sees Backend.h.
// These files are built as their own module, libtfc_cuda.so (CudaModule.cpp is its entry
// point), which libtfc_runtime loads on first need (BackendModule.h): the weak symbols above
// resolve within the module, and libtfc_runtime links no CUDA library.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CUDA_CUDABACKEND_H
#define TFC_RUNTIME_CUDA_CUDABACKEND_H

#include "Backend.h"
#include "cpu/Kernel.h"

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <map>
#include <memory>
#include <string>

namespace tfc::rt {

/// The CUDA backend (libtfc_cuda.so's, returned by its entry point: CudaModule.cpp).
const Backend *cudaBackend();

/// Throws Error(TFC_INTERNAL, "CUDA error in <what>: <name>: <description>") unless e is
/// cudaSuccess.
void cudaCheck(cudaError_t e, const char *what);
/// The same for cuBLAS(Lt) status codes.
void cublasCheck(cublasStatus_t s, const char *what);

/// The plan's constants on one GPU (uploaded once; shared by the sessions on that plan and GPU).
struct CudaConstants;
/// A captured decode step (CudaBackend.cpp).
struct CudaDecodeGraph;

class CudaDevice final : public Device {
public:
  CudaDevice(const std::shared_ptr<const Plan> &plan, int ordinal);
  ~CudaDevice() override;

  const Backend &backend() const override { return *cudaBackend(); }
  DeviceSpec spec() const override { return DeviceSpec{"cuda", ordinal_}; }
  bool hostAccessible() const override { return false; }

  void *allocate(size_t bytes) override;
  void release(void *p) override;
  void copyToDevice(void *dst, const void *src, size_t bytes) override;
  void copyToHost(void *dst, const void *src, size_t bytes) override;
  void copyOnDevice(void *dst, const void *src, size_t bytes) override;
  void fill(void *dst, int byte, size_t bytes) override;
  void synchronize() override;
  const void *constant(int32_t index) override;
  /// Runs `fn`'s kernels on the stream. A per-token decode function (cache_op Append) that
  /// DecodeGraph.h admits is captured into a CUDA graph once its bound shapes and addresses
  /// repeat, then replayed per token; everything else (and TFC_CUDA_GRAPHS=0, and profiling)
  /// runs the plain loop. Before the kernels of a function that uses the cache, the cache's
  /// length (KvCache::past) is written to stepPast() on the stream.
  void execute(const FunctionDesc &fn, KernelContext &ctx, std::unique_ptr<KernelState> *states,
               KernelProfile *profile, bool profiling) override;

  int ordinal() const { return ordinal_; }
  cudaStream_t stream() const { return stream_; }
  cublasLtHandle_t lt() const { return lt_; }
  const cudaDeviceProp &props() const { return props_; }
  /// Makes this device current on the calling thread (sessions may move between threads).
  void bind() const;
  /// Scratch device memory of at least `bytes`, valid until the next call (grow-only; kernels
  /// of one session run in order on one stream, so one buffer serves them all). The cuBLASLt
  /// workspace is separate: ltWorkspace().
  void *scratch(size_t bytes);
  void *ltWorkspace() const { return ltWorkspace_; }
  size_t ltWorkspaceBytes() const { return ltWorkspaceBytes_; }
  /// Device memory holding this run's KvCache::past (valid while execute runs a function that
  /// uses the cache): kernels that a captured decode step replays read it instead of taking the
  /// length as a launch argument.
  const int64_t *stepPast() const { return step_; }
  /// Decode-step graph statistics (tests): captures made, replays launched.
  int64_t graphCaptures() const { return graphCaptures_; }
  int64_t graphReplays() const { return graphReplays_; }

private:
  std::shared_ptr<const Plan> plan_;
  int ordinal_;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  cudaDeviceProp props_{};
  std::shared_ptr<CudaConstants> constants_;
  void *scratch_ = nullptr;
  size_t scratchBytes_ = 0;
  void *ltWorkspace_ = nullptr;
  size_t ltWorkspaceBytes_ = 0;
  int64_t scratchGeneration_ = 0; // bumped when scratch_ moves (captured graphs hold it)
  int64_t *step_ = nullptr;
  bool graphsEnabled_ = true;
  std::map<const FunctionDesc *, std::unique_ptr<CudaDecodeGraph>> graphs_;
  int64_t graphCaptures_ = 0, graphReplays_ = 0;
};

/// The session's CUDA device, from a kernel's context.
inline CudaDevice &cudaDevice(const KernelContext &ctx) {
  return static_cast<CudaDevice &>(*ctx.device);
}

/// The kernel kinds, for the table (X-macro; plan.fbs order).
#define TFC_CUDA_KERNEL_KINDS(X)                                                               \
  X(Binary) X(Unary) X(MatMul) X(Reduce) X(Softmax) X(LayerNormalization) X(Gather)           \
  X(Transpose) X(Reshape) X(Concat) X(Slice) X(Shape) X(Expand) X(Where) X(Cast) X(LayerNorm) \
  X(Attention) X(Linear) X(Embedding) X(CachedAttention) X(CacheStore) X(Rotary) X(RmsNorm)   \
  X(GatedLinear) X(Compare) X(CumSum) X(Tile) X(GatherElements) X(ArgMax) X(Trilu) X(Conv)

// The run functions (weak: see the header comment). A kernel file defines e.g.
//   void cudaRunSoftmax(const KernelContext &ctx) { ... }
#define TFC_CUDA_DECLARE_RUN(Kind) __attribute__((weak)) void cudaRun##Kind(const KernelContext &ctx);
TFC_CUDA_KERNEL_KINDS(TFC_CUDA_DECLARE_RUN)
#undef TFC_CUDA_DECLARE_RUN

/// A CUDA kernel's own check replacing the CPU table's for `kind` (e.g. where the CUDA kernel
/// accepts less, or more, than the CPU one); weak like the run functions, may stay undefined.
#define TFC_CUDA_DECLARE_CHECK(Kind)                                                           \
  __attribute__((weak)) std::string cudaCheck##Kind(const FunctionDesc &fn, const KernelDesc &k);
TFC_CUDA_KERNEL_KINDS(TFC_CUDA_DECLARE_CHECK)
#undef TFC_CUDA_DECLARE_CHECK

} // namespace tfc::rt

#endif // TFC_RUNTIME_CUDA_CUDABACKEND_H
