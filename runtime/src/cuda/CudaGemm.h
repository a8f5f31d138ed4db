//===- CudaGemm.h - cuBLASLt GEMMs on row-major tensors and the GEMM kernels' epilogues -------===//
//
// tfc tensors are row-major; cuBLASLt is column-major. A row-major Y[M, N] = X[M, K] @ W[K, N]
// is the column-major Y^T[N, M] = W^T[N, K] @ X^T[K, M] with the same bytes, so the Lt problem
// is A = W (N x K, ld = W's row stride), B = X (K x M), D = Y (N x M): no transposes, and a bias
// over Y's columns (one per n) is the Lt bias over D's rows (CUBLASLT_EPILOGUE_BIAS).
//
// Compute is CUBLAS_COMPUTE_32F for f32, f16 and bf16 alike (f32 accumulation; no TF32, so fp32
// plans agree with the CPU within 1e-4). Descriptors, layouts and the heuristic's algorithm are
// cached per problem (shapes, strides, epilogue, dtype and the pointers' alignments) in an
// LtCache, which a kernel keeps in its per-session state.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_CUDA_CUDAGEMM_H
#define TFC_RUNTIME_CUDA_CUDAGEMM_H

#include "cuda/CudaBackend.h"

#include <memory>
#include <vector>

namespace tfc::rt {

/// One row-major GEMM (or a strided batch of them): Y = X @ W (+ bias) (GELU-tanh) (+ C).
struct RowMajorGemm {
  tfc_dtype dtype = TFC_F32; // of X, W, Y, bias and C alike
  int64_t M = 0, N = 0, K = 0;
  int64_t ldX = 0, ldW = 0, ldY = 0;        // row strides (elements)
  int64_t batch = 1;                         // strided batch
  int64_t strideX = 0, strideW = 0, strideY = 0; // batch strides (elements; 0 broadcasts)
  const void *bias = nullptr;                // [N], or null
  bool geluTanh = false;                     // the epilogue's GELU (tanh approximation)
  bool accumulate = false;                   // Y += X @ W ... (beta = 1; Y holds C)
};

/// The cuBLASLt problems of one kernel in one session.
class LtCache : public KernelState {
public:
  ~LtCache() override;
  /// Enqueues g on the device's stream with the device's workspace.
  void run(const KernelContext &ctx, const RowMajorGemm &g, const void *x, const void *w,
           void *y);

private:
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// ---- element-wise epilogues (CudaGemmKernels.cu) ---------------------------------------------
/// The activations the epilogue kernels apply (Linear's and GatedLinear's enums map onto it).
enum class EpilogueAct { None, Relu, GeluErf, GeluTanh, Silu };

/// y[i] = act(y[i]) (+ r[view of i]) over `out`, computing in f32. r (may be null) broadcasts to
/// `out` with element strides rStrides (0 where broadcast).
void linearEpilogue(const KernelContext &ctx, tfc_dtype dtype, void *y, const Shape &out,
                    EpilogueAct act, const void *r, const int64_t *rStrides);
/// y[i] = act(gate[i]) * y[i] for n elements.
void gatedEpilogue(const KernelContext &ctx, tfc_dtype dtype, const void *gate, void *y,
                   int64_t n, EpilogueAct act);
/// y[n, c, p] += bias[c] for y [batch, channels, spatial].
void addChannelBias(const KernelContext &ctx, tfc_dtype dtype, void *y, const void *bias,
                    int64_t batch, int64_t channels, int64_t spatial);

/// im2col of x [N, C, H, W] into col [N, C * kh * kw, OH * OW] (zeros in the padding).
struct Im2Col {
  int64_t n = 0, c = 0, h = 0, w = 0, kh = 1, kw = 1, oh = 0, ow = 0;
  int64_t strideH = 1, strideW = 1, padH = 0, padW = 0, dilH = 1, dilW = 1;
};
void im2col(const KernelContext &ctx, tfc_dtype dtype, const void *x, void *col, const Im2Col &p);

} // namespace tfc::rt

#endif // TFC_RUNTIME_CUDA_CUDAGEMM_H
