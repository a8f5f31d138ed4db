//===- Session.cpp - binding inputs, laying out tensors, running kernels ----------------------===//
//
// A run: match the caller's inputs to the signature by name (unknown, missing and duplicate
// names, dtype, rank and dims are checked with messages naming the input; token ids and masks
// against the function's input rules, InputRules.h), bind every symbol
// (bounds and consistency), compute every value's shape, point every value at its bytes (caller
// memory for inputs, or its staged copy on a device the host cannot address; the device's view
// of the constants; the arena for intermediates; fresh host buffers for outputs, or staging
// buffers copied out after the run) and let the device run the kernels in order
// (Device::execute; the CPU limits OpenMP to the session's thread count, at most
// TFC_MAX_THREADS: a larger request is refused when the session is made).
// Functions whose cache_op is not None also see the session's KV cache (allocated in device
// memory at the first such run, per plan slot): Prefill/Encode restart it, Append requires it
// valid with the same rows, the run's new tokens must fit every Self slot, and any failure
// empties it. While attention capture is on (setAttentionCapture) the kernels also see an
// AttentionCapture and add their weights to it; a failed run's records are dropped.
//
//===----------------------------------------------------------------------------------------===//
#include "Session.h"

#include "Error.h"
#include "tfc/support/SymbolNames.h"
#include "InputRules.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <omp.h>

namespace tfc::rt {

AlignedBuffer::AlignedBuffer(size_t bytes) {
  size = bytes;
  size_t rounded = (bytes + 63) / 64 * 64;
  data = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!data)
    throw Error(TFC_INTERNAL, format("out of memory allocating %zu bytes", bytes));
}

AlignedBuffer::~AlignedBuffer() { std::free(data); }

AlignedBuffer &AlignedBuffer::operator=(AlignedBuffer &&o) noexcept {
  if (this != &o) {
    std::free(data);
    data = o.data;
    size = o.size;
    o.data = nullptr;
  }
  return *this;
}

/// The session's thread count: `requested`, or the OpenMP default for 0, within
/// [1, TFC_MAX_THREADS] (libgomp crashes or exits the process on huge teams).
static int checkedThreads(int requested) {
  if (requested < 0)
    fail(TFC_INVALID_ARGUMENT, "num_threads is %d; use 0 for the default", requested);
  if (requested > TFC_MAX_THREADS)
    fail(TFC_INVALID_ARGUMENT,
         "num_threads is %d, above the limit %d (TFC_MAX_THREADS); use 0 for the default",
         requested, TFC_MAX_THREADS);
  if (requested > 0)
    return requested;
  return std::clamp(omp_get_max_threads(), 1, TFC_MAX_THREADS); // OMP_NUM_THREADS may be huge
}

/// Opens the session's device: `text` ("cpu", "cuda:1"; null or "" for device 0 of the backend
/// that runs the plan's target), refusing devices that cannot run the plan.
const Backend &checkDeviceRunsPlan(const Plan &plan, const char *text, DeviceSpec *specOut) {
  DeviceSpec spec = parseDeviceSpec(text);
  std::string why;
  const Backend *backend = findBackend(spec.backend, &why); // loads its module on first need
  if (!backend)
    fail(TFC_UNAVAILABLE, "device '%s': %s", text, why.c_str());
  if (plan.target != backend->planTarget())
    fail(TFC_UNAVAILABLE, "plan targets %s; device '%s' runs %s plans", plan.target.c_str(), text,
         backend->planTarget());
  if (specOut)
    *specOut = spec;
  return *backend;
}

static std::unique_ptr<Device> openDevice(const std::shared_ptr<const Plan> &plan, int threads,
                                          const char *text) {
  const Backend *backend = plan->backend;
  DeviceSpec spec;
  if (text && *text) {
    backend = &checkDeviceRunsPlan(*plan, text, &spec);
  } else if (!backend) {
    std::string why; // the reason the loader had: no such backend, or its module cannot load
    backendForTarget(plan->target, &why);
    fail(TFC_UNAVAILABLE, "plan targets %s, which this runtime cannot run (%s): it was opened "
                          "for inspection only (any_target)", plan->target.c_str(),
         why.empty() ? ("its backends: " + backendNames()).c_str() : why.c_str());
  } else {
    spec.backend = backend->name();
  }
  std::string why;
  if (!backend->available(spec.ordinal, &why))
    fail(TFC_UNAVAILABLE, "device '%s' is unavailable: %s", spec.str().c_str(), why.c_str());
  DeviceOptions options;
  options.threads = threads;
  return backend->open(plan, spec.ordinal, options);
}

Session::Session(std::shared_ptr<const Plan> plan, int numThreads, const char *device)
    : plan_(std::move(plan)) {
  // The weights' checksums are checked here, once per plan, not at open (Plan.h): before the
  // device opens, so a corrupted plan never reaches a device (the CUDA backend copies the
  // weights at open). A plan no backend here runs (any_target) is refused by openDevice
  // without reading its weights.
  if (plan_->backend)
    plan_->checkWeightsForSession();
  device_ = openDevice(plan_, checkedThreads(numThreads), device);
  init();
}

Session::Session(std::shared_ptr<const Plan> plan, std::unique_ptr<Device> device)
    : plan_(std::move(plan)), device_(std::move(device)) {
  plan_->checkWeightsForSession();
  if (!device_)
    fail(TFC_INVALID_ARGUMENT, "session: device is null");
  if (plan_->target != device_->backend().planTarget())
    fail(TFC_UNAVAILABLE, "plan targets %s; device '%s' runs %s plans", plan_->target.c_str(),
         device_->spec().str().c_str(), device_->backend().planTarget());
  init();
}

void Session::init() {
  hostAccessible_ = device_->hostAccessible();
  arena_ = DeviceBuffer(*device_, size_t(plan_->maxArenaSize()));
  states_.resize(plan_->functions.size());
  for (size_t i = 0; i < plan_->functions.size(); ++i) {
    const FunctionDesc &fn = plan_->functions[i];
    FunctionState &st = states_[i];
    st.tensors.resize(fn.values.size());
    st.kernelStates.resize(fn.kernels.size());
    st.profile.resize(fn.kernels.size());
    st.symbols.resize(plan_->symbols.size());
    st.symbolSource.resize(plan_->symbols.size());
    st.inputStage.resize(hostAccessible_ ? 0 : fn.inputs.size());
    st.outputStage.resize(hostAccessible_ ? 0 : fn.outputs.size());
    // A constant's bytes never move: point its tensor at the device's view once.
    for (size_t v = 0; v < fn.values.size(); ++v)
      if (fn.values[v].kind == ValueKind::Constant)
        st.tensors[v].data = const_cast<void *>(device_->constant(fn.values[v].constant));
  }
  batchSymbol_ = tfc::support::batchSymbolIndex(plan_->symbols);
}

// ---- the KV cache ---------------------------------------------------------------------------
void Session::allocateCache() {
  if (cache_.allocated)
    return;
  int64_t maxRows = batchSymbol_ >= 0 ? std::max<int64_t>(plan_->symbols[batchSymbol_].max, 1) : 1;
  cache_.view.maxRows = maxRows;
  cache_.view.slots.resize(plan_->caches.size());
  for (size_t i = 0; i < plan_->caches.size(); ++i) {
    const CacheSlotDesc &d = plan_->caches[i];
    // The loader checked that this product does not overflow.
    size_t bytes = size_t(maxRows) * size_t(d.numHeads) * size_t(d.maxLength) *
                   size_t(d.headDim) * dtypeSize(d.dtype);
    cache_.k.emplace_back(*device_, bytes);
    cache_.v.emplace_back(*device_, bytes);
    KvCache::Slot &s = cache_.view.slots[i];
    s.k = cache_.k.back().data();
    s.v = cache_.v.back().data();
    s.dtype = d.dtype;
    s.length = 0;
    s.desc = &d;
  }
  cache_.allocated = true;
}

void Session::invalidateCache() {
  cache_.valid = false;
  cache_.length = 0;
  cache_.view.rows = 0;
  cache_.view.past = 0;
  for (KvCache::Slot &s : cache_.view.slots)
    s.length = 0;
}

int64_t Session::cacheLength() const { return cache_.valid ? cache_.length : 0; }
int64_t Session::cacheRows() const { return cache_.valid ? cache_.view.rows : 0; }

void Session::reorderCache(const int32_t *src, int64_t newRows) {
  if (plan_->caches.empty())
    fail(TFC_INVALID_ARGUMENT, "reorder_cache: the plan has no KV cache");
  if (!cache_.valid)
    fail(TFC_INVALID_ARGUMENT, "reorder_cache: the KV cache is empty (run prefill or encode first)");
  const int64_t maxRows = cache_.view.maxRows, rows = cache_.view.rows;
  if (newRows < 1 || newRows > maxRows)
    fail(TFC_OUT_OF_RANGE, "reorder_cache: new_rows %lld is outside [1, %lld] (the batch bound)",
         (long long)newRows, (long long)maxRows);
  if (!src)
    fail(TFC_INVALID_ARGUMENT, "reorder_cache: src is NULL");
  for (int64_t i = 0; i < newRows; ++i)
    if (src[i] < 0 || src[i] >= rows)
      fail(TFC_OUT_OF_RANGE, "reorder_cache: src[%lld] = %d is outside [0, %lld) (the rows in use)",
           (long long)i, src[i], (long long)rows);
  // Through a scratch buffer on the device, so that permutations and duplications read the
  // old rows. Row r of a slot is numHeads runs of `used` positions, one per head.
  for (size_t si = 0; si < plan_->caches.size(); ++si) {
    const CacheSlotDesc &d = plan_->caches[si];
    KvCache::Slot &slot = cache_.view.slots[si];
    const int64_t used = d.kind == CacheKind::Self ? cache_.length : slot.length;
    if (used == 0)
      continue;
    const size_t esize = dtypeSize(slot.dtype);
    const size_t run = size_t(used) * size_t(d.headDim) * esize; // one head's used bytes
    const size_t headStride = size_t(d.maxLength) * size_t(d.headDim) * esize;
    const size_t rowStride = size_t(d.numHeads) * headStride;
    const size_t scratchRow = size_t(d.numHeads) * run;
    if (reorderScratch_.size() < size_t(newRows) * scratchRow)
      reorderScratch_ = DeviceBuffer(*device_, size_t(newRows) * scratchRow);
    uint8_t *scratch = static_cast<uint8_t *>(reorderScratch_.data());
    for (void *p : {slot.k, slot.v}) {
      uint8_t *buf = static_cast<uint8_t *>(p);
      for (int64_t i = 0; i < newRows; ++i)
        device_->copyOnDevice2D(scratch + size_t(i) * scratchRow, run,
                                buf + size_t(src[i]) * rowStride, headStride, run,
                                size_t(d.numHeads));
      for (int64_t i = 0; i < newRows; ++i)
        device_->copyOnDevice2D(buf + size_t(i) * rowStride, headStride,
                                scratch + size_t(i) * scratchRow, run, run, size_t(d.numHeads));
    }
  }
  cache_.view.rows = newRows;
}

Session::~Session() = default;

void Session::setAttentionCapture(bool on) {
  if (!on) {
    capture_.reset();
    return;
  }
  if (std::string(device_->backend().name()) != "cpu")
    fail(TFC_UNSUPPORTED, "attention capture: the %s backend does not record attention weights "
                          "(the cpu backend does)", device_->backend().name());
  if (!capture_)
    capture_ = std::make_unique<AttentionCapture>();
}

const std::vector<KernelProfile> *Session::profile(const char *function) const {
  const FunctionDesc *fn = plan_->findFunction(function);
  if (!fn)
    return nullptr;
  return &states_[size_t(fn - plan_->functions.data())].profile;
}

void Session::resetProfile() {
  for (FunctionState &st : states_)
    for (KernelProfile &p : st.profile)
      p = KernelProfile();
}

void Session::bindInputs(const FunctionDesc &fn, FunctionState &st, const tfc_tensor *inputs,
                         size_t numInputs, std::vector<const tfc_tensor *> &byPort) {
  const char *fname = fn.name.c_str();
  if (numInputs && !inputs)
    fail(TFC_INVALID_ARGUMENT, "function '%s': inputs is NULL but num_inputs is %zu", fname,
         numInputs);
  byPort.assign(fn.inputs.size(), nullptr);
  for (size_t i = 0; i < numInputs; ++i) {
    const tfc_tensor &t = inputs[i];
    if (!t.name)
      fail(TFC_INVALID_ARGUMENT, "function '%s': input #%zu has no name", fname, i);
    size_t port = 0;
    while (port < fn.inputs.size() && fn.inputs[port].name != t.name)
      ++port;
    if (port == fn.inputs.size()) {
      std::string names;
      for (const PortDesc &p : fn.inputs)
        names += (names.empty() ? "" : ", ") + p.name;
      fail(TFC_NOT_FOUND, "function '%s': unknown input '%s' (its inputs are: %s)", fname,
           t.name, names.c_str());
    }
    if (byPort[port])
      fail(TFC_INVALID_ARGUMENT, "function '%s': input '%s' is given twice", fname, t.name);
    byPort[port] = &t;
  }
  for (size_t port = 0; port < fn.inputs.size(); ++port)
    if (!byPort[port])
      fail(TFC_INVALID_ARGUMENT, "function '%s': missing input '%s'", fname,
           fn.inputs[port].name.c_str());

  std::fill(st.symbolSource.begin(), st.symbolSource.end(), -1);
  for (size_t port = 0; port < fn.inputs.size(); ++port) {
    const tfc_tensor &t = *byPort[port];
    const ValueDesc &v = fn.values[fn.inputs[port].value];
    const char *name = t.name;
    if (t.dtype != v.dtype)
      fail(TFC_INVALID_ARGUMENT, "input '%s' has dtype %s, expected %s", name,
           dtypeName(t.dtype), dtypeName(v.dtype));
    if (t.rank != v.rank)
      fail(TFC_INVALID_ARGUMENT, "input '%s' has rank %d, expected %d", name, t.rank, v.rank);
    if (t.rank > 0 && !t.dims)
      fail(TFC_INVALID_ARGUMENT, "input '%s' has rank %d but dims is NULL", name, t.rank);
    for (int r = 0; r < v.rank; ++r) {
      int64_t d = t.dims[r];
      const DimDesc &dd = v.dims[r];
      if (d < 0)
        fail(TFC_INVALID_ARGUMENT, "input '%s' dim %d is negative (%lld)", name, r, (long long)d);
      if (dd.symbol < 0) {
        if (d != dd.size)
          fail(TFC_INVALID_ARGUMENT, "input '%s' dim %d is %lld, expected %lld", name, r,
               (long long)d, (long long)dd.size);
        continue;
      }
      const SymbolDesc &sym = plan_->symbols[dd.symbol];
      if (d > sym.max)
        fail(TFC_OUT_OF_RANGE,
             "input '%s' dim %d (%s) is %lld, above the bound %lld the plan was compiled for", name,
             r, sym.name.c_str(), (long long)d, (long long)sym.max);
      if (d < sym.min)
        fail(TFC_OUT_OF_RANGE,
             "input '%s' dim %d (%s) is %lld, below the minimum %lld the plan was compiled for",
             name, r, sym.name.c_str(), (long long)d, (long long)sym.min);
      int32_t src = st.symbolSource[dd.symbol];
      if (src >= 0 && st.symbols[dd.symbol] != d)
        fail(TFC_INVALID_ARGUMENT,
             "input '%s' dim %d (%s) is %lld, but input '%s' set %s = %lld", name, r,
             sym.name.c_str(), (long long)d, fn.inputs[src].name.c_str(), sym.name.c_str(),
             (long long)st.symbols[dd.symbol]);
      st.symbols[dd.symbol] = d;
      st.symbolSource[dd.symbol] = int32_t(port);
    }
    int64_t n = 1;
    for (int r = 0; r < t.rank; ++r)
      n *= t.dims[r];
    if (n > 0 && !t.data)
      fail(TFC_INVALID_ARGUMENT, "input '%s' has %lld elements but data is NULL", name,
           (long long)n);
  }
  checkInputValues(fn, byPort); // token ids within their table, masks 0 or 1 (InputRules.h)
}

std::unique_ptr<Outputs> Session::run(const char *function, const tfc_tensor *inputs,
                                      size_t numInputs, const RunOptions &options) {
  plan_->checkFileUnchanged(); // a truncated file would SIGBUS on its weights' pages
  const FunctionDesc *fnp = plan_->findFunction(function);
  if (!fnp) {
    std::string names;
    for (const FunctionDesc &f : plan_->functions)
      names += (names.empty() ? "" : ", ") + f.name;
    fail(TFC_NOT_FOUND, "function '%s' is not in the plan (it has: %s)",
         function ? function : "(null)", names.c_str());
  }
  const FunctionDesc &fn = *fnp;
  FunctionState &st = states_[size_t(fnp - plan_->functions.data())];

  // A failed run of a function that uses the KV cache leaves the cache invalid.
  struct CacheGuard {
    Session *s;
    bool armed;
    ~CacheGuard() {
      if (armed)
        s->invalidateCache();
    }
  } cacheGuard{this, fn.cacheOp != CacheOp::None};

  std::vector<const tfc_tensor *> byPort;
  bindInputs(fn, st, inputs, numInputs, byPort);

  // Shapes and bytes of every value.
  auto out = std::make_unique<Outputs>();
  out->outputs.resize(fn.outputs.size());
  uint8_t *arena = static_cast<uint8_t *>(arena_.data());
  for (size_t i = 0; i < fn.values.size(); ++i) {
    const ValueDesc &v = fn.values[i];
    Tensor &t = st.tensors[i];
    t.dtype = v.dtype;
    t.shape.rank = v.rank;
    for (int r = 0; r < v.rank; ++r) {
      const DimDesc &dd = v.dims[r];
      if (dd.symbol >= 0) {
        if (st.symbolSource[dd.symbol] < 0)
          fail(TFC_INVALID_PLAN,
               "function '%s': symbol '%s' (used by value '%s') is not bound by any input",
               fn.name.c_str(), plan_->symbols[dd.symbol].name.c_str(), v.name.c_str());
        t.shape.d[r] = st.symbols[dd.symbol];
      } else {
        t.shape.d[r] = dd.size;
      }
    }
    switch (v.kind) {
    case ValueKind::Input:
      if (hostAccessible_) {
        t.data = const_cast<void *>(byPort[v.port]->data);
      } else {
        DeviceBuffer &stage = st.inputStage[size_t(v.port)];
        if (!stage.data())
          stage = DeviceBuffer(*device_, size_t(v.maxBytes));
        device_->copyToDevice(stage.data(), byPort[v.port]->data, t.bytes());
        t.data = stage.data();
      }
      break;
    case ValueKind::Constant:
      break; // set once (init)
    case ValueKind::Intermediate:
      t.data = arena + v.arenaOffset;
      break;
    case ValueKind::Output: {
      Outputs::Output &o = out->outputs[v.port];
      o.name = fn.outputs[v.port].name;
      o.dtype = v.dtype;
      o.dims.assign(t.shape.d, t.shape.d + t.shape.rank);
      o.buffer = AlignedBuffer(t.bytes());
      if (hostAccessible_) {
        t.data = o.buffer.data;
      } else {
        DeviceBuffer &stage = st.outputStage[size_t(v.port)];
        if (!stage.data())
          stage = DeviceBuffer(*device_, size_t(v.maxBytes));
        t.data = stage.data();
      }
      break;
    }
    }
  }

  // The KV cache: this run's rows, the length before it, and (Prefill/Append) its new tokens.
  int64_t newTokens = 0;
  if (fn.cacheOp != CacheOp::None) {
    const char *fname = fn.name.c_str();
    int64_t batch = batchSymbol_ >= 0 && st.symbolSource[batchSymbol_] >= 0
                        ? st.symbols[batchSymbol_] : 1;
    if (fn.cacheOp == CacheOp::Prefill || fn.cacheOp == CacheOp::Append) {
      for (size_t port = 0; port < fn.inputs.size(); ++port)
        if (fn.inputs[port].name == plan_->generation.tokenInput)
          newTokens = byPort[port]->dims[1]; // rank 2 (loader, bindInputs)
    }
    allocateCache();
    KvCache &kv = cache_.view;
    switch (fn.cacheOp) {
    case CacheOp::Prefill:
      // The Cross slots stay when the rows do (encode, then prefill the decoder).
      if (!cache_.valid || batch != kv.rows)
        for (size_t i = 0; i < kv.slots.size(); ++i)
          if (plan_->caches[i].kind == CacheKind::Cross)
            kv.slots[i].length = 0;
      cache_.length = 0;
      kv.rows = batch;
      break;
    case CacheOp::Encode:
      cache_.length = 0;
      kv.rows = batch;
      for (KvCache::Slot &s : kv.slots)
        s.length = 0;
      break;
    case CacheOp::Append:
      if (!cache_.valid)
        fail(TFC_INVALID_ARGUMENT, "function '%s': the KV cache is empty (run prefill first)",
             fname);
      if (batch != kv.rows)
        fail(TFC_INVALID_ARGUMENT,
             "function '%s': batch %lld does not match the KV cache's %lld rows (run prefill "
             "first)", fname, (long long)batch, (long long)kv.rows);
      break;
    case CacheOp::None:
      break;
    }
    for (size_t i = 0; i < kv.slots.size(); ++i) {
      const CacheSlotDesc &d = plan_->caches[i];
      if (d.kind == CacheKind::Self) {
        if (cache_.length + newTokens > d.maxLength)
          fail(TFC_OUT_OF_RANGE,
               "function '%s': the KV cache holds %lld positions; %lld + %lld exceeds it", fname,
               (long long)d.maxLength, (long long)cache_.length, (long long)newTokens);
        kv.slots[i].length = cache_.length;
      }
    }
    kv.past = cache_.length;
  }

  // A failed run leaves no attention records behind (AttentionCapture.h).
  struct CaptureGuard {
    AttentionCapture *capture;
    bool ok = false;
    ~CaptureGuard() {
      if (capture)
        capture->endRun(ok);
    }
  } captureGuard{capture_.get()};
  if (capture_)
    capture_->beginRun(fn.name);

  KernelContext ctx;
  ctx.attention = capture_.get();
  ctx.cache = fn.cacheOp != CacheOp::None ? &cache_.view : nullptr;
  ctx.plan = plan_.get();
  ctx.fn = &fn;
  ctx.tensors = st.tensors.data();
  ctx.device = device_.get();
  if (options.lastPositionOnly && hostAccessible_ && !fn.outputs.empty()) {
    // The positions the caller does not read are zeros, whatever the kernels skip.
    Outputs::Output &first = out->outputs[0];
    if (first.dims.size() >= 2 && first.dims[1] > 1) {
      std::memset(first.buffer.data, 0, first.buffer.size);
      ctx.lastPositionOnly = true;
    }
  }
  device_->execute(fn, ctx, st.kernelStates.data(), st.profile.data(), profiling_);
  if (!hostAccessible_) {
    for (size_t port = 0; port < fn.outputs.size(); ++port) {
      Outputs::Output &o = out->outputs[port];
      device_->copyToHost(o.buffer.data, st.tensors[size_t(fn.outputs[port].value)].data,
                          o.buffer.size);
    }
    // With no (non-empty) output nothing above waited: the run's kernels, and its input copies
    // from caller memory (asynchronous when that memory is pinned), must finish before we return.
    device_->synchronize();
  } else {
    device_->synchronize();
  }
  if (fn.cacheOp != CacheOp::None) {
    cache_.length += newTokens;
    for (size_t i = 0; i < cache_.view.slots.size(); ++i)
      if (plan_->caches[i].kind == CacheKind::Self)
        cache_.view.slots[i].length = cache_.length;
    cache_.view.past = cache_.length;
    cache_.valid = true;
    cacheGuard.armed = false;
  }
  captureGuard.ok = true;
  return out;
}

} // namespace tfc::rt
