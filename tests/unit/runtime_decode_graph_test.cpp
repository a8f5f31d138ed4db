//===- runtime_decode_graph_test.cpp - which decode steps a backend may capture and replay ----===//
//
// DecodeGraph.h in plain C++ (no GPU): the static rule (decodeGraphBlocker), the key a graph
// depends on (decodeGraphKey) and the capture/replay policy (DecodeGraphPolicy) that
// CudaDevice::execute follows.
//
//===----------------------------------------------------------------------------------------===//
#include "DecodeGraph.h"

#include <gtest/gtest.h>

namespace rt = tfc::rt;
namespace fb = tfc::plan;
using Action = rt::DecodeGraphPolicy::Action;

namespace {

rt::KernelDesc kernel(rt::KernelKind kind, const char *name, fb::KernelOptionsUnion options) {
  rt::KernelDesc k;
  k.kind = kind;
  k.name = name;
  k.options = std::move(options);
  return k;
}

template <typename T> fb::KernelOptionsUnion opts(T o) {
  fb::KernelOptionsUnion u;
  u.Set(std::move(o));
  return u;
}

rt::FunctionDesc decodeStep() {
  rt::FunctionDesc fn;
  fn.name = "decode_step";
  fn.cacheOp = rt::CacheOp::Append;
  fb::LinearOptionsT lin;
  fb::CachedAttentionOptionsT ca;
  ca.num_heads = 2;
  fn.kernels.push_back(kernel(rt::KernelKind::Linear, "qkv", opts(lin)));
  fn.kernels.push_back(kernel(rt::KernelKind::CachedAttention, "attn", opts(ca)));
  fb::EmbeddingOptionsT emb; // offset_positions false: positions come as an input
  fn.kernels.push_back(kernel(rt::KernelKind::Embedding, "embed", opts(emb)));
  return fn;
}

} // namespace

TEST(DecodeGraph, AppendFunctionWithDeviceReadLengthsIsCapturable) {
  EXPECT_EQ(rt::decodeGraphBlocker(decodeStep()), "");

  // GPT-2-style decode steps: the position lookup at the cache's length (Embedding
  // offset_positions, or a Slice of the position table with cache_offset) reads that length from
  // device memory on the CUDA backend (CudaDevice::stepPast), so these are capturable too.
  rt::FunctionDesc offset = decodeStep();
  fb::EmbeddingOptionsT emb;
  emb.offset_positions = true;
  offset.kernels.push_back(kernel(rt::KernelKind::Embedding, "wpe", opts(emb)));
  EXPECT_EQ(rt::decodeGraphBlocker(offset), "");

  rt::FunctionDesc slice = decodeStep();
  fb::SliceOptionsT so;
  so.axes = {0, 1};
  so.steps = {1, 1};
  so.cache_offset = {true, false};
  slice.kernels.push_back(kernel(rt::KernelKind::Slice, "wpe_slice", opts(so)));
  EXPECT_EQ(rt::decodeGraphBlocker(slice), "");
}

TEST(DecodeGraph, OtherFunctionsAndHostWritesOfTheLengthBlockCapture) {
  rt::FunctionDesc prefill = decodeStep();
  prefill.name = "prefill";
  prefill.cacheOp = rt::CacheOp::Prefill;
  EXPECT_NE(rt::decodeGraphBlocker(prefill).find("'prefill' is not a per-token decode function"),
            std::string::npos);

  rt::FunctionDesc store = decodeStep();
  fb::CacheStoreOptionsT cs;
  store.kernels.push_back(kernel(rt::KernelKind::CacheStore, "store", opts(cs)));
  EXPECT_EQ(rt::decodeGraphBlocker(store),
            "function 'decode_step': kernel 'store' (CacheStore) sets a cache slot's length on "
            "the host");
}

TEST(DecodeGraph, KeyFollowsShapesAddressesRowsAndCrossLengthsButNotSelfLength) {
  rt::FunctionDesc fn = decodeStep();
  fn.values.resize(2);
  std::vector<rt::Tensor> tensors(2);
  float a[4], b[4];
  tensors[0].data = a;
  tensors[0].shape.rank = 2;
  tensors[0].shape.d[0] = 1, tensors[0].shape.d[1] = 4;
  tensors[1].data = b;
  tensors[1].shape = tensors[0].shape;
  rt::CacheSlotDesc self, cross;
  self.kind = rt::CacheKind::Self;
  cross.kind = rt::CacheKind::Cross;
  rt::KvCache cache;
  cache.rows = 1;
  cache.maxRows = 2;
  cache.slots.resize(2);
  cache.slots[0].desc = &self;
  cache.slots[1].desc = &cross;
  cache.slots[1].length = 7;
  rt::KernelContext ctx;
  ctx.fn = &fn;
  ctx.tensors = tensors.data();
  ctx.cache = &cache;
  const rt::DecodeGraphKey k0 = rt::decodeGraphKey(fn, ctx, {0});

  cache.past = 5; // per token: read on the device, not part of the key
  cache.slots[0].length = 5;
  EXPECT_EQ(rt::decodeGraphKey(fn, ctx, {0}), k0);
  EXPECT_NE(rt::decodeGraphKey(fn, ctx, {1}), k0); // a backend word (scratch moved)
  tensors[1].shape.d[1] = 5;                        // a mask that grew by a key
  EXPECT_NE(rt::decodeGraphKey(fn, ctx, {0}), k0);
  tensors[1].shape.d[1] = 4;
  tensors[1].data = a; // another address
  EXPECT_NE(rt::decodeGraphKey(fn, ctx, {0}), k0);
  tensors[1].data = b;
  cache.rows = 2; // another batch
  EXPECT_NE(rt::decodeGraphKey(fn, ctx, {0}), k0);
  cache.rows = 1;
  cache.slots[1].length = 8; // the encoder ran again on a longer source
  EXPECT_NE(rt::decodeGraphKey(fn, ctx, {0}), k0);
  cache.slots[1].length = 7;
  EXPECT_EQ(rt::decodeGraphKey(fn, ctx, {0}), k0);
}

TEST(DecodeGraph, PolicyCapturesOnARepeatedKeyAndReplaysWhileItHolds) {
  rt::DecodeGraphKey a{{1, 2, 3}}, b{{1, 2, 4}}, c{{9}};
  rt::DecodeGraphPolicy p;
  EXPECT_EQ(p.next(a), Action::RunPlain); // first sight: plain
  EXPECT_EQ(p.next(a), Action::Capture);  // twice in a row: capture
  p.captured(a);
  EXPECT_EQ(p.next(a), Action::Replay);
  EXPECT_EQ(p.next(a), Action::Replay);
  EXPECT_EQ(p.next(b), Action::RunPlain); // shapes changed
  EXPECT_EQ(p.next(a), Action::Replay);   // back to the captured key
  EXPECT_EQ(p.next(b), Action::RunPlain);
  EXPECT_EQ(p.next(b), Action::Capture); // b settled: recapture
  p.captured(b);
  EXPECT_EQ(p.next(b), Action::Replay);
  EXPECT_EQ(p.next(a), Action::RunPlain); // a's graph was replaced

  // A key that changes every call (a growing mask) is never captured.
  rt::DecodeGraphPolicy growing;
  for (int64_t t = 0; t < 10; ++t)
    EXPECT_EQ(growing.next(rt::DecodeGraphKey{{t}}), Action::RunPlain);
}

TEST(DecodeGraph, PolicyGivesUpAfterRepeatedCaptureFailures) {
  rt::DecodeGraphKey a{{1}};
  rt::DecodeGraphPolicy p;
  EXPECT_EQ(p.next(a), Action::RunPlain);
  for (int i = 0; i < rt::DecodeGraphPolicy::kMaxCaptureFailures; ++i) {
    EXPECT_EQ(p.next(a), Action::Capture);
    p.captureFailed();
  }
  EXPECT_TRUE(p.gaveUp());
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(p.next(a), Action::RunPlain);
}
