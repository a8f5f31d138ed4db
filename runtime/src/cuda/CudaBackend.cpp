//===- CudaBackend.cpp - CudaBackend, CudaDevice, the CUDA kernel table -----------------------===//
#include "cuda/CudaBackend.h"

#include "DecodeGraph.h"
#include "Error.h"
#include "cuda/AttentionKernels.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace tfc::rt {

void cudaCheck(cudaError_t e, const char *what) {
  if (e != cudaSuccess)
    throw Error(TFC_INTERNAL, format("CUDA error in %s: %s: %s", what, cudaGetErrorName(e),
                                     cudaGetErrorString(e)));
}

void cublasCheck(cublasStatus_t s, const char *what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw Error(TFC_INTERNAL, format("cuBLAS error in %s: status %d", what, int(s)));
}

// ---- Constants: one upload per plan and GPU --------------------------------------------------
struct CudaConstants {
  int ordinal = 0;
  void *base = nullptr;
  std::vector<const void *> ptrs; // by constant index
  ~CudaConstants() {
    if (base) {
      cudaSetDevice(ordinal);
      cudaFree(base);
    }
  }
};

static std::shared_ptr<CudaConstants> uploadConstants(const Plan &plan, int ordinal) {
  std::string key = "cuda:" + std::to_string(ordinal) + "/constants";
  std::lock_guard<std::mutex> lock(plan.derivedMutex);
  auto it = plan.derived.find(key);
  if (it != plan.derived.end())
    return std::static_pointer_cast<CudaConstants>(it->second);
  auto c = std::make_shared<CudaConstants>();
  c->ordinal = ordinal;
  // One allocation, every constant 256-byte aligned (what cuBLASLt and vector loads like).
  std::vector<size_t> offset(plan.constants.size());
  size_t total = 0;
  for (size_t i = 0; i < plan.constants.size(); ++i) {
    offset[i] = total;
    total += (plan.constants[i].size + 255) / 256 * 256;
  }
  cudaCheck(cudaMalloc(&c->base, total ? total : 256), "cudaMalloc (plan constants)");
  for (size_t i = 0; i < plan.constants.size(); ++i) {
    char *dst = static_cast<char *>(c->base) + offset[i];
    if (plan.constants[i].size)
      cudaCheck(cudaMemcpy(dst, plan.constants[i].data, plan.constants[i].size,
                           cudaMemcpyHostToDevice),
                "cudaMemcpy (plan constants)");
    c->ptrs.push_back(dst);
  }
  // cudaMemcpy from pageable memory may return before its DMA lands, and the sessions' streams
  // are non-blocking (unordered with the default stream): wait here, once per plan and GPU.
  cudaCheck(cudaStreamSynchronize(0), "cudaMemcpy (plan constants, synchronize)");
  plan.derived.emplace(key, c);
  return c;
}

// ---- CudaDevice ---------------------------------------------------------------------------
CudaDevice::CudaDevice(const std::shared_ptr<const Plan> &plan, int ordinal)
    : plan_(plan), ordinal_(ordinal) {
  bind();
  cudaCheck(cudaGetDeviceProperties(&props_, ordinal_), "cudaGetDeviceProperties");
  cudaCheck(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate");
  cublasCheck(cublasLtCreate(&lt_), "cublasLtCreate");
  ltWorkspaceBytes_ = 32u << 20; // cuBLASLt's recommendation for Hopper
  cudaCheck(cudaMalloc(&ltWorkspace_, ltWorkspaceBytes_), "cudaMalloc (cuBLASLt workspace)");
  constants_ = uploadConstants(*plan_, ordinal_);
  cudaCheck(cudaMalloc(reinterpret_cast<void **>(&step_), 256), "cudaMalloc (step values)");
  cudaCheck(cudaMemsetAsync(step_, 0, 256, stream_), "cudaMemset (step values)");
  const char *graphs = std::getenv("TFC_CUDA_GRAPHS");
  graphsEnabled_ = !(graphs && std::strcmp(graphs, "0") == 0);
}

CudaDevice::~CudaDevice() {
  cudaSetDevice(ordinal_);
  if (stream_)
    cudaStreamSynchronize(stream_);
  graphs_.clear();
  cudaFree(step_);
  cudaFree(scratch_);
  cudaFree(ltWorkspace_);
  if (lt_)
    cublasLtDestroy(lt_);
  if (stream_)
    cudaStreamDestroy(stream_);
}

void CudaDevice::bind() const { cudaCheck(cudaSetDevice(ordinal_), "cudaSetDevice"); }

void *CudaDevice::allocate(size_t bytes) {
  bind();
  void *p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 256);
  if (e != cudaSuccess)
    throw Error(TFC_INTERNAL, format("out of device memory on cuda:%d: %zu bytes (%s)", ordinal_,
                                     bytes, cudaGetErrorString(e)));
  return p;
}

void CudaDevice::release(void *p) {
  if (!p)
    return;
  cudaSetDevice(ordinal_);
  cudaStreamSynchronize(stream_); // kernels still queued may use it
  cudaFree(p);
}

void CudaDevice::copyToDevice(void *dst, const void *src, size_t bytes) {
  if (!bytes)
    return;
  bind();
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream_), "copy to device");
}

void CudaDevice::copyToHost(void *dst, const void *src, size_t bytes) {
  if (!bytes)
    return;
  bind();
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "copy to host");
  cudaCheck(cudaStreamSynchronize(stream_), "copy to host (synchronize)");
}

void CudaDevice::copyOnDevice(void *dst, const void *src, size_t bytes) {
  if (!bytes)
    return;
  bind();
  cudaCheck(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_),
            "copy on device");
}

void CudaDevice::fill(void *dst, int byte, size_t bytes) {
  if (!bytes)
    return;
  bind();
  cudaCheck(cudaMemsetAsync(dst, byte, bytes, stream_), "fill on device");
}

void CudaDevice::synchronize() {
  bind();
  cudaCheck(cudaStreamSynchronize(stream_), "synchronize");
}

const void *CudaDevice::constant(int32_t index) {
  if (index < 0 || size_t(index) >= constants_->ptrs.size())
    throw Error(TFC_INTERNAL, format("constant %d out of range", index));
  return constants_->ptrs[size_t(index)];
}

void *CudaDevice::scratch(size_t bytes) {
  if (bytes > scratchBytes_) {
    bind();
    cudaStreamSynchronize(stream_);
    cudaFree(scratch_);
    // Bumped as the old buffer goes, not after the new one arrives: a failed cudaMalloc below
    // must not leave a captured decode graph (keyed on the generation) replaying into freed memory.
    ++scratchGeneration_;
    scratch_ = nullptr;
    scratchBytes_ = 0;
    size_t grown = bytes + bytes / 2;
    cudaCheck(cudaMalloc(&scratch_, grown), "cudaMalloc (scratch)");
    scratchBytes_ = grown;
  }
  return scratch_;
}

// ---- Decode-step graphs ------------------------------------------------------------------
struct CudaDecodeGraph {
  DecodeGraphPolicy policy;
  bool checked = false;
  std::string blocker; // why this function is never captured ("" when it may be)
  cudaGraphExec_t exec = nullptr;
  ~CudaDecodeGraph() {
    if (exec)
      cudaGraphExecDestroy(exec);
  }
};

void CudaDevice::execute(const FunctionDesc &fn, KernelContext &ctx,
                         std::unique_ptr<KernelState> *states, KernelProfile *profile,
                         bool profiling) {
  bind();
  const Backend &be = backend();
  if (ctx.cache) // before any kernel, outside any graph: the per-token value replays read
    cuda::launchSetInt64(stream_, step_, ctx.cache->past);
  if (!graphsEnabled_ || profiling || fn.cacheOp != CacheOp::Append)
    return runKernels(be, fn, ctx, states, profile, profiling);
  std::unique_ptr<CudaDecodeGraph> &slot = graphs_[&fn];
  if (!slot)
    slot = std::make_unique<CudaDecodeGraph>();
  CudaDecodeGraph &g = *slot;
  if (!g.checked) {
    g.blocker = decodeGraphBlocker(fn);
    g.checked = true;
  }
  if (!g.blocker.empty())
    return runKernels(be, fn, ctx, states, profile, profiling);
  const DecodeGraphKey key = decodeGraphKey(fn, ctx, {scratchGeneration_});
  switch (g.policy.next(key)) {
  case DecodeGraphPolicy::Action::RunPlain:
    return runKernels(be, fn, ctx, states, profile, profiling);
  case DecodeGraphPolicy::Action::Replay:
    cudaCheck(cudaGraphLaunch(g.exec, stream_), "cudaGraphLaunch (decode step)");
    ++graphReplays_;
    return;
  case DecodeGraphPolicy::Action::Capture:
    break;
  }
  // Capture. ThreadLocal: other sessions' threads may allocate meanwhile. A kernel that
  // synchronizes or copies to the host (a device value it needs on the host) fails the capture;
  // the plain loop then runs this step (and rethrows any genuine error of a kernel).
  if (g.exec) {
    cudaGraphExecDestroy(g.exec);
    g.exec = nullptr;
  }
  auto failed = [&] {
    cudaGetLastError(); // capture errors are not sticky; start the plain run clean
    g.policy.captureFailed();
    runKernels(be, fn, ctx, states, profile, profiling);
  };
  cudaCheck(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal),
            "cudaStreamBeginCapture (decode step)");
  bool threw = false;
  try {
    runKernels(be, fn, ctx, states, profile, profiling);
  } catch (const Error &) {
    threw = true;
  }
  cudaGraph_t graph = nullptr;
  cudaError_t e = cudaStreamEndCapture(stream_, &graph);
  const int64_t generation = scratchGeneration_;
  if (threw || e != cudaSuccess || !graph || generation != key.words.back()) {
    if (graph)
      cudaGraphDestroy(graph);
    return failed();
  }
  e = cudaGraphInstantiate(&g.exec, graph, 0);
  cudaGraphDestroy(graph);
  if (e != cudaSuccess) {
    g.exec = nullptr;
    return failed();
  }
  g.policy.captured(key);
  ++graphCaptures_;
  cudaCheck(cudaGraphLaunch(g.exec, stream_), "cudaGraphLaunch (decode step)");
  ++graphReplays_;
}

// ---- CudaBackend and its table -------------------------------------------------------------
namespace {

class CudaBackend final : public Backend {
public:
  CudaBackend() {
    using Run = KernelRunFn;
    using Check = KernelCheckFn;
    const std::array<Run, kNumKernelKinds> runs = {
#define TFC_CUDA_RUN_ENTRY(Kind) &cudaRun##Kind,
        TFC_CUDA_KERNEL_KINDS(TFC_CUDA_RUN_ENTRY)
#undef TFC_CUDA_RUN_ENTRY
    };
    const std::array<Check, kNumKernelKinds> checks = {
#define TFC_CUDA_CHECK_ENTRY(Kind) &cudaCheck##Kind,
        TFC_CUDA_KERNEL_KINDS(TFC_CUDA_CHECK_ENTRY)
#undef TFC_CUDA_CHECK_ENTRY
    };
    for (size_t i = 0; i < kNumKernelKinds; ++i) {
      const KernelSpec *cpu = kernelSpec(int32_t(i));
      has_[i] = cpu && runs[i]; // a weak run function nobody defined is null
      if (!has_[i])
        continue;
      rows_[i] = *cpu;
      rows_[i].run = runs[i];
      if (checks[i])
        rows_[i].check = checks[i];
    }
  }
  const char *name() const override { return "cuda"; }
  const char *planTarget() const override { return "cuda"; }
  bool available(int ordinal, std::string *why) const override {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      cudaGetLastError(); // clear the sticky-free error so later calls start clean
      if (why)
        *why = format("no usable CUDA device: cudaGetDeviceCount: %s", cudaGetErrorString(e));
      return false;
    }
    if (ordinal < 0 || ordinal >= count) {
      if (why)
        *why = format("cuda:%d does not exist: this machine has %d CUDA device%s", ordinal, count,
                      count == 1 ? "" : "s");
      return false;
    }
    return true;
  }
  // The attention kernels read and write F32, F16 and BF16 slots (cuda/CudaAttention.cpp).
  bool supportsCacheDtype(tfc_dtype dtype) const override {
    return dtype == TFC_F32 || dtype == TFC_F16 || dtype == TFC_BF16;
  }
  const KernelSpec *kernel(KernelKind kind) const override {
    size_t i = size_t(kind);
    return i < kNumKernelKinds && has_[i] ? &rows_[i] : nullptr;
  }
  std::unique_ptr<Device> open(const std::shared_ptr<const Plan> &plan, int ordinal,
                               const DeviceOptions &) const override {
    std::string why;
    if (!available(ordinal, &why))
      throw Error(TFC_UNAVAILABLE, why);
    return std::make_unique<CudaDevice>(plan, ordinal);
  }

private:
  std::array<KernelSpec, kNumKernelKinds> rows_{};
  std::array<bool, kNumKernelKinds> has_{};
};

} // namespace

const Backend *cudaBackend() {
  static const CudaBackend backend;
  return &backend;
}

} // namespace tfc::rt
