//===- AttentionCapture.h - attention weights kept on request, per kernel and run -------------===//
//
// tfc_session_set_attention_capture: while it is on, every run of a session hands the attention
// kernels an AttentionCapture (KernelContext::attention) and each Attention / CachedAttention
// kernel stores its softmax probabilities there as [B, H, Sq, Sk] f32 (query rows over the keys
// they attend: this run's keys, or the cache's past + new ones). Records accumulate over runs
// (a generation's prefill then each decode step) until cleared. Off, the kernels see a null
// pointer and do nothing more than test it: the fused kernel never materializes its scores.
// The CPU backend implements it; a session on another backend refuses to turn it on.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_ATTENTIONCAPTURE_H
#define TFC_RUNTIME_ATTENTIONCAPTURE_H

#include <cstdint>
#include <string>
#include <vector>

namespace tfc::rt {

/// One attention kernel's weights in one run.
struct AttentionRecord {
  std::string function;   // the plan function that ran ("forward", "prefill", "decode_step")
  std::string kernel;     // the kernel's name (its op location, e.g. "encoder.layers.0.attention")
  int64_t run = 0;        // which run since capture began (0, 1, ...)
  int64_t index = 0;      // the kernel's ordinal among this run's attention kernels (the layer)
  int64_t dims[4] = {};   // B, H, Sq, Sk
  std::vector<float> weights; // [B, H, Sq, Sk], row-major; each row sums to 1 (or is all zeros)
};

class AttentionCapture {
public:
  /// Starts a run of `function`: the records it adds get the next run number.
  void beginRun(const std::string &function) {
    function_ = function;
    runStart_ = records_.size();
    index_ = 0;
  }
  /// Ends the current run: kept (ok) or its records dropped (the run failed).
  void endRun(bool ok) {
    if (!ok)
      records_.resize(runStart_);
    else if (records_.size() > runStart_)
      ++runs_;
  }
  /// A zero-filled [B, H, Sq, Sk] record for kernel `kernel` of the current run.
  float *add(const std::string &kernel, int64_t B, int64_t H, int64_t Sq, int64_t Sk) {
    AttentionRecord &r = records_.emplace_back();
    r.function = function_;
    r.kernel = kernel;
    r.run = runs_;
    r.index = index_++;
    r.dims[0] = B, r.dims[1] = H, r.dims[2] = Sq, r.dims[3] = Sk;
    r.weights.assign(size_t(B * H * Sq * Sk), 0.f);
    return r.weights.data();
  }
  void clear() {
    records_.clear();
    runs_ = 0;
    runStart_ = 0;
  }
  const std::vector<AttentionRecord> &records() const { return records_; }

private:
  std::vector<AttentionRecord> records_;
  std::string function_;
  size_t runStart_ = 0;
  int64_t runs_ = 0, index_ = 0;
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_ATTENTIONCAPTURE_H
