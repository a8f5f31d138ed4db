//===- CudaHostValues.h - int64 inputs a CUDA kernel needs on the host (Slice, Expand) --------===//
//
// On the CUDA backend every value lives in device memory, but some kernels decide shapes from
// their int64 inputs (Slice's starts/ends, Expand's shape). Read without device traffic (so
// capture-safe): a plan constant (from the plan's mapping), and a value computed from bound
// shapes only (Shape of a value, Gather along axis 0 of such a value with such indices, Concat
// of 1-D such values; e.g. the [0, seq] that a decode step's position Slice ends at): the
// kernels that produce it write what the session bound on the host. Any other value is copied
// to the host with CudaDevice::copyToHost, which synchronizes the stream and therefore cannot
// run inside a CUDA graph capture.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CUDA_CUDAHOSTVALUES_H
#define TFC_RUNTIME_CUDA_CUDAHOSTVALUES_H

#include "cpu/Kernel.h"

#include <vector>

namespace tfc::rt {

/// The first min(numel, maxCount) int64 values of input `i` on the host.
std::vector<int64_t> hostInt64s(const KernelContext &ctx, size_t i, int64_t maxCount);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CUDA_CUDAHOSTVALUES_H
