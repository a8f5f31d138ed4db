//===- PlanGenerator.cpp - generate() over prefill/decode_step (or forward) ------------------===//
#include "PlanGenerator.h"

#include "Error.h"
#include "tfc/support/SymbolNames.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace tfc::rt {

tfc_tensor OwnedTensor::view() const {
  return {name.c_str(), dtype, int32_t(dims.size()), dims.data(), bytes.data()};
}

namespace {

bool contains(const std::vector<std::string> &list, const std::string &s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

/// A tensor of `rows` x `cols` filled with `value` in `dtype`.
OwnedTensor filled(const std::string &name, tfc_dtype dtype, int64_t rows, int64_t cols,
                   double value) {
  OwnedTensor t;
  t.name = name;
  t.dtype = dtype;
  t.dims = {rows, cols};
  size_t n = size_t(rows * cols), size = tfc_dtype_size(dtype);
  t.bytes.resize(n * size);
  for (size_t i = 0; i < n; ++i) {
    uint8_t *p = t.bytes.data() + i * size;
    switch (dtype) {
    case TFC_I64: { int64_t v = int64_t(value); std::memcpy(p, &v, 8); break; }
    case TFC_I32: { int32_t v = int32_t(value); std::memcpy(p, &v, 4); break; }
    case TFC_F32: { float v = float(value); std::memcpy(p, &v, 4); break; }
    case TFC_I8:
    case TFC_BOOL: *p = uint8_t(value); break;
    default: fail(TFC_UNSUPPORTED, "input '%s': dtype %s is not supported for a mask", name.c_str(), tfc_dtype_name(dtype));
    }
  }
  return t;
}

} // namespace

GenerationBounds generationBounds(const Plan &plan) {
  const GenerationDesc &g = plan.generation;
  if (!g.present)
    fail(TFC_UNSUPPORTED,
         "plan '%s' does not generate (family '%s': no causal self-attention producing "
         "per-position logits)",
         plan.path.c_str(), plan.family.c_str());
  const FunctionDesc *forward = plan.findFunction("forward");
  if (!forward || forward->outputs.empty())
    fail(TFC_INVALID_PLAN, "plan '%s' has no function 'forward' with an output", plan.path.c_str());
  GenerationBounds b;
  b.kvCache = g.mode == "kv-cache" && plan.findFunction("prefill") &&
              plan.findFunction("decode_step");
  const ValueDesc &logits = forward->values[forward->outputs[0].value];
  if (logits.rank != 3 || logits.dims[2].symbol >= 0 || logits.dtype != TFC_F32)
    fail(TFC_INVALID_PLAN, "plan '%s': forward's output '%s' is not f32 logits [batch, seq, vocab]",
         plan.path.c_str(), forward->outputs[0].name.c_str());
  b.vocab = logits.dims[2].size;
  if (int s = tfc::support::batchSymbolIndex(plan.symbols); s >= 0)
    b.maxBatch = plan.symbols[size_t(s)].max;
  const PortDesc *tokens = nullptr;
  for (const PortDesc &p : forward->inputs)
    if (p.name == g.tokenInput)
      tokens = &p;
  if (!tokens)
    fail(TFC_INVALID_PLAN, "plan '%s': forward has no token input '%s'", plan.path.c_str(),
         g.tokenInput.c_str());
  const ValueDesc &tv = forward->values[tokens->value];
  if (tv.rank != 2 || tv.dims[1].symbol < 0)
    fail(TFC_INVALID_PLAN, "plan '%s': token input '%s' is not [batch, seq]", plan.path.c_str(),
         g.tokenInput.c_str());
  b.maxLength = plan.symbols[tv.dims[1].symbol].max;
  if (b.kvCache)
    for (const CacheSlotDesc &c : plan.caches)
      if (c.kind == CacheKind::Self)
        b.maxLength = std::min(b.maxLength, c.maxLength);
  return b;
}

PlanStepModel::PlanStepModel(Session &session, const tfc_tensor *fixed, size_t numFixed,
                             int64_t numPrompts)
    : session_(session), plan_(session.plan()) {
  const GenerationDesc &g = plan_.generation;
  GenerationBounds bounds = generationBounds(plan_);
  kvCache_ = bounds.kvCache;
  vocab_ = bounds.vocab;
  maxBatch_ = bounds.maxBatch;
  maxLength_ = bounds.maxLength;
  const FunctionDesc *forward = plan_.findFunction("forward");

  // Fixed inputs: every input of forward except the tokens and the key masks, once per prompt.
  for (size_t i = 0; i < numFixed; ++i) {
    const tfc_tensor &t = fixed[i];
    std::string name = t.name ? t.name : "";
    if (name == g.tokenInput)
      fail(TFC_INVALID_ARGUMENT, "input '%s' is the token sequence: give it as the prompts",
           name.c_str());
    if (contains(g.keyMaskInputs, name))
      fail(TFC_INVALID_ARGUMENT,
           "input '%s' covers every position and is built by generate (all ones); do not give it",
           name.c_str());
    const PortDesc *port = nullptr;
    for (const PortDesc &p : forward->inputs)
      if (p.name == name)
        port = &p;
    if (!port)
      fail(TFC_NOT_FOUND, "unknown input '%s'", name.c_str());
    const ValueDesc &v = forward->values[port->value];
    if (t.rank < 1 || !t.dims || t.dims[0] != numPrompts || v.rank < 1 || v.dims[0].symbol < 0 ||
        !tfc::support::isBatchSymbolName(plan_.symbols[v.dims[0].symbol].name))
      fail(TFC_INVALID_ARGUMENT,
           "input '%s' must have one row per prompt (dim 0 = %lld prompts, a batch dim)",
           name.c_str(), (long long)numPrompts);
    for (const OwnedTensor &o : fixed_)
      if (o.name == name)
        fail(TFC_INVALID_ARGUMENT, "input '%s' is given twice", name.c_str());
    OwnedTensor o;
    o.name = name;
    o.dtype = t.dtype;
    o.dims.assign(t.dims, t.dims + t.rank);
    int64_t n = 1;
    for (int64_t d : o.dims) {
      if (d < 0)
        fail(TFC_INVALID_ARGUMENT, "input '%s' has a negative dim", name.c_str());
      n *= d;
    }
    if (n > 0 && !t.data)
      fail(TFC_INVALID_ARGUMENT, "input '%s' has no data", name.c_str());
    o.bytes.resize(size_t(n) * tfc_dtype_size(t.dtype));
    if (n > 0)
      std::memcpy(o.bytes.data(), t.data, o.bytes.size());
    fixed_.push_back(std::move(o));
  }
  for (const PortDesc &p : forward->inputs)
    if (p.name != g.tokenInput && !contains(g.keyMaskInputs, p.name) &&
        std::none_of(fixed_.begin(), fixed_.end(), [&](const OwnedTensor &o) { return o.name == p.name; }))
      fail(TFC_INVALID_ARGUMENT, "missing input '%s' (generation takes every input of forward "
                                 "except the token sequence '%s')",
           p.name.c_str(), g.tokenInput.c_str());
  rows_ = numPrompts;
}

void PlanStepModel::runWith(const char *function, const int64_t *tokens, int64_t len,
                            int64_t keys, float *logits) {
  const FunctionDesc *fn = plan_.findFunction(function);
  if (!fn)
    fail(TFC_INVALID_PLAN, "plan '%s' has no function '%s'", plan_.path.c_str(), function);
  std::vector<OwnedTensor> built;
  built.reserve(fn->inputs.size());
  std::vector<tfc_tensor> inputs;
  for (const PortDesc &p : fn->inputs) {
    const ValueDesc &v = fn->values[p.value];
    if (p.name == plan_.generation.tokenInput) {
      OwnedTensor t = filled(p.name, v.dtype, rows_, len, 0);
      for (int64_t i = 0; i < rows_ * len; ++i) {
        if (v.dtype == TFC_I64)
          reinterpret_cast<int64_t *>(t.bytes.data())[i] = tokens[i];
        else if (v.dtype == TFC_I32)
          reinterpret_cast<int32_t *>(t.bytes.data())[i] = int32_t(tokens[i]);
        else
          fail(TFC_INVALID_PLAN, "token input '%s' is not an integer tensor", p.name.c_str());
      }
      built.push_back(std::move(t));
    } else if (contains(plan_.generation.keyMaskInputs, p.name)) {
      built.push_back(filled(p.name, v.dtype, rows_, keys, 1));
    } else {
      auto it = std::find_if(fixed_.begin(), fixed_.end(),
                             [&](const OwnedTensor &o) { return o.name == p.name; });
      if (it == fixed_.end())
        fail(TFC_INVALID_ARGUMENT, "function '%s' needs input '%s'", function, p.name.c_str());
      inputs.push_back(it->view());
      continue;
    }
    inputs.push_back(built.back().view());
  }
  // Only each row's last position of the logits is read (below): the LM head may skip the rest
  // (TFC_LAST_POSITION=0 computes every position, for measurements).
  static const bool lastOnly = [] {
    const char *e = std::getenv("TFC_LAST_POSITION");
    return !(e && *e == '0');
  }();
  Session::RunOptions options;
  options.lastPositionOnly = logits != nullptr && lastOnly;
  std::unique_ptr<Outputs> out = session_.run(function, inputs.data(), inputs.size(), options);
  if (!logits)
    return;
  const Outputs::Output &o = out->outputs.at(0);
  if (o.dims.size() != 3 || o.dims[0] != rows_ || o.dims[1] != len || o.dims[2] != vocab_)
    fail(TFC_INTERNAL, "function '%s' returned logits of an unexpected shape", function);
  const float *data = static_cast<const float *>(o.buffer.data);
  for (int64_t r = 0; r < rows_; ++r)
    std::memcpy(logits + r * vocab_, data + (r * len + len - 1) * vocab_,
                size_t(vocab_) * sizeof(float));
}

void PlanStepModel::start(const int64_t *tokens, int64_t batch, int64_t len, float *logits) {
  if (batch != rows_)
    fail(TFC_INVALID_ARGUMENT, "%lld prompts, but the inputs were given for %lld",
         (long long)batch, (long long)rows_);
  length_ = len;
  if (kvCache_) {
    if (plan_.findFunction("encode"))
      runWith("encode", nullptr, 0, 0, nullptr);
    runWith("prefill", tokens, len, len, logits);
  } else {
    history_.assign(tokens, tokens + batch * len);
    runWith("forward", history_.data(), len, len, logits);
  }
}

void PlanStepModel::step(const int64_t *tokens, float *logits) {
  if (kvCache_) {
    runWith("decode_step", tokens, 1, length_ + 1, logits);
    ++length_;
    return;
  }
  std::vector<int64_t> next(size_t(rows_ * (length_ + 1)));
  for (int64_t r = 0; r < rows_; ++r) {
    std::copy_n(history_.begin() + r * length_, length_, next.begin() + r * (length_ + 1));
    next[size_t(r * (length_ + 1) + length_)] = tokens[r];
  }
  history_ = std::move(next);
  ++length_;
  runWith("forward", history_.data(), length_, length_, logits);
}

void PlanStepModel::reorder(const int32_t *src, int64_t newBatch) {
  if (newBatch < 1 || newBatch > maxBatch_)
    fail(TFC_OUT_OF_RANGE, "reorder to %lld rows (the plan's batch bound is %lld)",
         (long long)newBatch, (long long)maxBatch_);
  for (int64_t i = 0; i < newBatch; ++i)
    if (src[i] < 0 || src[i] >= rows_)
      fail(TFC_INVALID_ARGUMENT, "reorder: row %d does not exist (%lld rows)", src[i],
           (long long)rows_);
  if (kvCache_) {
    session_.reorderCache(src, newBatch);
  } else {
    std::vector<int64_t> next(size_t(newBatch * length_));
    for (int64_t i = 0; i < newBatch; ++i)
      std::copy_n(history_.begin() + src[i] * length_, length_, next.begin() + i * length_);
    history_ = std::move(next);
  }
  for (OwnedTensor &t : fixed_) {
    size_t rowBytes = t.bytes.size() / size_t(rows_);
    std::vector<uint8_t> next(rowBytes * size_t(newBatch));
    for (int64_t i = 0; i < newBatch; ++i)
      std::memcpy(next.data() + i * rowBytes, t.bytes.data() + src[i] * rowBytes, rowBytes);
    t.bytes = std::move(next);
    t.dims[0] = newBatch;
  }
  rows_ = newBatch;
}

} // namespace tfc::rt
