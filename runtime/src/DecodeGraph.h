//===- DecodeGraph.h - when a per-token function may be captured once and replayed -----------===//
//
// A backend with graphs (CUDA) captures the per-token decode function (cache_op Append) once and
// replays it for every token. A replay re-runs the captured launches with the captured
// arguments, so it is only right when nothing a kernel computed on the host at capture time has
// changed. This file decides that, in plain C++ (tested without a GPU):
//
//  * decodeGraphBlocker: the static rule. A function may be captured when its cache_op is Append
//    and none of its kernels reads a per-token value on the host: CacheStore sets a slot's
//    length on the host. CachedAttention, Embedding with offset_positions and Slice with
//    cache_offset read the cache's length (KvCache::past) from device memory
//    (CudaDevice::stepPast), so they may. Kernels that copy device values to the host (int64
//    inputs of Expand/Slice that are neither constants nor computed from bound shapes, on the
//    CUDA backend: CudaHostValues.h) fail the capture itself (a synchronizing copy is illegal
//    while capturing): the backend then runs the plain loop and, after kMaxCaptureFailures,
//    stops trying.
//  * DecodeGraphKey: what a captured graph depends on: every value's bound shape and address,
//    the cache's rows and slot addresses, Cross slots' lengths, and backend words (e.g. the
//    scratch buffer's generation). A replay needs the key of the capture.
//  * DecodeGraphPolicy: per function, run plain the first time a key is seen, capture when the
//    same key comes twice in a row (so a function whose shapes change every token, e.g. with an
//    attention mask that grows by one key per token, is never captured in vain), replay while
//    it stays.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_RUNTIME_DECODEGRAPH_H
#define TFC_RUNTIME_DECODEGRAPH_H

#include "cpu/Kernel.h"

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace tfc::rt {

/// "" when `fn` may be captured and replayed per token, else why not (naming the kernel).
std::string decodeGraphBlocker(const FunctionDesc &fn);

struct DecodeGraphKey {
  std::vector<int64_t> words;
  bool operator==(const DecodeGraphKey &o) const { return words == o.words; }
  bool operator!=(const DecodeGraphKey &o) const { return words != o.words; }
};

/// The key of one run of `fn` with `ctx` (tensors bound, cache set) plus `extra` backend words.
DecodeGraphKey decodeGraphKey(const FunctionDesc &fn, const KernelContext &ctx,
                              std::initializer_list<int64_t> extra);

class DecodeGraphPolicy {
public:
  enum class Action { RunPlain, Capture, Replay };
  static constexpr int kMaxCaptureFailures = 2;

  /// What to do for a run with `key`.
  Action next(const DecodeGraphKey &key);
  /// The capture that next() asked for succeeded (the graph now belongs to `key`).
  void captured(const DecodeGraphKey &key);
  /// It failed; after kMaxCaptureFailures the function always runs plain.
  void captureFailed();
  bool hasGraph() const { return hasGraph_; }
  bool gaveUp() const { return failures_ >= kMaxCaptureFailures; }

private:
  DecodeGraphKey last_, graph_;
  bool hasLast_ = false, hasGraph_ = false;
  int failures_ = 0;
};

} // namespace tfc::rt

#endif // TFC_RUNTIME_DECODEGRAPH_H
