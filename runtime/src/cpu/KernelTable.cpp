//===- KernelTable.cpp - the CPU kernel table and shared kernel helpers ---------------------===//
//
// One row per tfc.plan.KernelKind, in enum order: operand and attribute counts (checked by the
// loader for every kernel), the kind's own load-time check, and the run function. The counts
// are those of docs/PLAN_FORMAT.md, "Kernels".
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Kernel.h"

#include <cstdarg>
#include <cstdio>

namespace tfc::rt {

static const KernelSpec kSpecs[] = {
    // name, inputs [min, max], outputs, ints [min, max], floats [min, max], check, run
    {"Binary", 2, 2, 1, 1, 1, 0, 0, checkBinary, runBinary},
    {"Unary", 1, 1, 1, 1, 1, 0, 0, checkUnary, runUnary},
    {"MatMul", 2, 2, 1, 0, 0, 0, 0, checkMatMul, runMatMul},
    {"Reduce", 1, 1, 1, 2, -1, 0, 0, checkReduce, runReduce},
    {"Softmax", 1, 1, 1, 1, 1, 0, 0, checkSoftmax, runSoftmax},
    {"LayerNormalization", 2, 3, 1, 1, 1, 1, 1, checkLayerNormalization, runLayerNormalization},
    {"Gather", 2, 2, 1, 1, 1, 0, 0, checkGather, runGather},
    {"Transpose", 1, 1, 1, 0, -1, 0, 0, checkTranspose, runTranspose},
    {"Reshape", 1, 1, 1, 0, 0, 0, 0, checkReshape, runReshape},
    {"Concat", 1, -1, 1, 1, 1, 0, 0, checkConcat, runConcat},
    {"Slice", 3, 3, 1, 1, -1, 0, 0, checkSlice, runSlice},
    {"Shape", 1, 1, 1, 0, 0, 0, 0, checkShape, runShape},
    {"Expand", 2, 2, 1, 0, 0, 0, 0, checkExpand, runExpand},
    {"Where", 3, 3, 1, 0, 0, 0, 0, checkWhere, runWhere},
    {"Cast", 1, 1, 1, 0, 0, 0, 0, checkCast, runCast},
    {"LayerNorm", 3, 4, 1, 0, 0, 1, 1, checkLayerNorm, runLayerNorm},
    {"Attention", 3, 4, 1, 2, 4, 1, 2, checkAttention, runAttention},  // + kv heads, window, hidden
    {"Linear", 2, 4, 1, 1, 1, 0, 0, checkLinear, runLinear},
    {"Embedding", 3, 5, 1, 0, 1, 1, 1, checkEmbedding, runEmbedding},
    {"CachedAttention", 1, 4, 1, 4, 6, 1, 2, checkCachedAttention, runCachedAttention},
    {"CacheStore", 2, 2, 0, 1, 1, 0, 0, checkCacheStore, runCacheStore},
};
static_assert(sizeof(kSpecs) / sizeof(kSpecs[0]) == size_t(KernelKind::NumKinds),
              "one kernel table row per KernelKind");

const KernelSpec *kernelSpec(int32_t kind) {
  if (kind < 0 || kind >= int32_t(KernelKind::NumKinds))
    return nullptr;
  return &kSpecs[kind];
}

const char *kernelKindName(KernelKind kind) {
  const KernelSpec *s = kernelSpec(int32_t(kind));
  return s ? s->name : "unknown";
}

size_t dtypeSize(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_F32: case TFC_I32: return 4;
  case TFC_F16: case TFC_BF16: return 2;
  case TFC_I64: return 8;
  case TFC_I8: case TFC_BOOL: return 1;
  }
  return 0;
}

const char *dtypeName(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_F32: return "f32";
  case TFC_F16: return "f16";
  case TFC_BF16: return "bf16";
  case TFC_I32: return "i32";
  case TFC_I64: return "i64";
  case TFC_I8: return "i8";
  case TFC_BOOL: return "bool";
  }
  return "unknown";
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i)
    s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

void KernelContext::fail(tfc_code code, const char *fmt, ...) const {
  va_list ap;
  va_start(ap, fmt);
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  throw Error(code, format("function '%s': kernel '%s' (%s): %s", fn->name.c_str(),
                           k->name.c_str(), kernelKindName(k->kind), buf));
}

void KernelContext::expectOutputShape(size_t i, const Shape &expected) const {
  const Tensor &o = out(i);
  if (o.shape != expected)
    fail(TFC_INVALID_ARGUMENT, "output '%s' is bound to shape %s but the inputs give %s",
         fn->values[k->outputs[i]].name.c_str(), o.shape.str().c_str(), expected.str().c_str());
}

static std::string dtypeList(std::initializer_list<tfc_dtype> allowed) {
  std::string s;
  for (tfc_dtype d : allowed)
    s += (s.empty() ? "" : ", ") + std::string(dtypeName(d));
  return s;
}

std::string expectDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i, const char *what,
                        std::initializer_list<tfc_dtype> allowed) {
  if (!hasInput(k, i))
    return "";
  const ValueDesc &v = fn.values[k.inputs[i]];
  for (tfc_dtype d : allowed)
    if (v.dtype == d)
      return "";
  return format("input %zu (%s, value '%s') has dtype %s; supported: %s", i, what, v.name.c_str(),
                dtypeName(v.dtype), dtypeList(allowed).c_str());
}

std::string expectOutDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i,
                           std::initializer_list<tfc_dtype> allowed) {
  const ValueDesc &v = fn.values[k.outputs[i]];
  for (tfc_dtype d : allowed)
    if (v.dtype == d)
      return "";
  return format("output %zu (value '%s') has dtype %s; supported: %s", i, v.name.c_str(),
                dtypeName(v.dtype), dtypeList(allowed).c_str());
}

std::string expectSameDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i) {
  const ValueDesc &in = fn.values[k.inputs[i]];
  const ValueDesc &out = fn.values[k.outputs[0]];
  if (in.dtype == out.dtype)
    return "";
  return format("input %zu (value '%s') has dtype %s but the output '%s' has %s", i,
                in.name.c_str(), dtypeName(in.dtype), out.name.c_str(), dtypeName(out.dtype));
}

} // namespace tfc::rt
