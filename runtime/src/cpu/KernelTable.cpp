//===- KernelTable.cpp - the CPU kernel table and shared kernel helpers ---------------------===//
//
// One row per tfc.plan.KernelKind, in enum order (checked at compile time): operand counts
// (checked by the loader for every kernel, as is the options table's type), the kind's own
// load-time check, its refusal of declared-but-unimplemented options, and the run function.
// The counts are those of docs/PLAN_FORMAT.md, "Kernels".
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Kernel.h"

#include <cstdarg>
#include <cstdio>

namespace tfc::rt {

using K = KernelKind;
static constexpr KernelSpec kSpecs[] = {
    // kind, inputs [min, max], outputs, check, unsupported, run (the name: plan.fbs's)
    {K::Binary, 2, 2, 1, checkBinary, nullptr, runBinary},
    {K::Unary, 1, 1, 1, checkUnary, nullptr, runUnary},
    {K::MatMul, 2, 2, 1, checkMatMul, nullptr, runMatMul},
    {K::Reduce, 1, 1, 1, checkReduce, nullptr, runReduce},
    {K::Softmax, 1, 1, 1, checkSoftmax, nullptr, runSoftmax},
    {K::LayerNormalization, 2, 3, 1, checkLayerNormalization, nullptr,
     runLayerNormalization},
    {K::Gather, 2, 2, 1, checkGather, nullptr, runGather},
    {K::Transpose, 1, 1, 1, checkTranspose, nullptr, runTranspose},
    {K::Reshape, 1, 1, 1, checkReshape, nullptr, runReshape},
    {K::Concat, 1, -1, 1, checkConcat, nullptr, runConcat},
    {K::Slice, 3, 3, 1, checkSlice, nullptr, runSlice},
    {K::Shape, 1, 1, 1, checkShape, nullptr, runShape},
    {K::Expand, 2, 2, 1, checkExpand, nullptr, runExpand},
    {K::Where, 3, 3, 1, checkWhere, nullptr, runWhere},
    {K::Cast, 1, 1, 1, checkCast, nullptr, runCast},
    {K::LayerNorm, 3, 4, 1, checkLayerNorm, nullptr, runLayerNorm},
    // Attention and CachedAttention: input 4 is the (declared, not yet implemented) bias;
    // num_kv_heads, window and hidden_score are implemented.
    {K::Attention, 3, 5, 1, checkAttention, unsupportedAttention, runAttention},
    {K::Linear, 2, 5, 1, checkLinear, nullptr, runLinear},
    {K::Embedding, 3, 5, 1, checkEmbedding, nullptr, runEmbedding},
    {K::CachedAttention, 1, 5, 1, checkCachedAttention,
     unsupportedCachedAttention, runCachedAttention},
    {K::CacheStore, 2, 2, 0, checkCacheStore, nullptr, runCacheStore},
    {K::Rotary, 3, 3, 1, checkRotary, nullptr, runRotary},
    {K::RmsNorm, 2, 3, 1, checkRmsNorm, nullptr, runRmsNorm},
    {K::GatedLinear, 3, 5, 1, checkGatedLinear, nullptr, runGatedLinear},
    {K::Compare, 2, 2, 1, checkCompare, nullptr, runCompare},
    {K::CumSum, 1, 1, 1, checkCumSum, nullptr, runCumSum},
    {K::Tile, 1, 1, 1, checkTile, nullptr, runTile},
    {K::GatherElements, 2, 2, 1, checkGatherElements, nullptr, runGatherElements},
    {K::ArgMax, 1, 1, 1, checkArgMax, nullptr, runArgMax},
    {K::Trilu, 1, 1, 1, checkTrilu, nullptr, runTrilu},
    {K::Conv, 2, 3, 1, checkConv, nullptr, runConv},
};
static_assert(sizeof(kSpecs) / sizeof(kSpecs[0]) == kNumKernelKinds,
              "one kernel table row per plan.fbs KernelKind");

/// Row i is kind i, named as the schema names it.
static constexpr bool rowsInSchemaOrder() {
  for (size_t i = 0; i < kNumKernelKinds; ++i)
    if (size_t(kSpecs[i].kind) != i)
      return false;
  return true;
}
static_assert(rowsInSchemaOrder(), "kernel table rows in plan.fbs KernelKind order");

const KernelSpec *kernelSpec(int32_t kind) {
  if (kind < 0 || size_t(kind) >= kNumKernelKinds)
    return nullptr;
  return &kSpecs[kind];
}

const char *kernelKindName(KernelKind kind) {
  return kernelSpec(int32_t(kind)) ? tfc::plan::EnumNameKernelKind(kind) : "unknown";
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

// F32 in an `allowed` list stands for "float": also the function's floatDtype (F16/BF16 plans).
static bool allows(const FunctionDesc &fn, std::initializer_list<tfc_dtype> allowed,
                   tfc_dtype d) {
  for (tfc_dtype a : allowed)
    if (d == a || (a == TFC_F32 && d == fn.floatDtype))
      return true;
  return false;
}

static std::string dtypeList(const FunctionDesc &fn, std::initializer_list<tfc_dtype> allowed) {
  std::string s;
  for (tfc_dtype d : allowed) {
    s += (s.empty() ? "" : ", ") + std::string(dtypeName(d));
    if (d == TFC_F32 && fn.floatDtype != TFC_F32)
      s += ", " + std::string(dtypeName(fn.floatDtype));
  }
  return s;
}

std::string expectDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i, const char *what,
                        std::initializer_list<tfc_dtype> allowed) {
  if (!hasInput(k, i))
    return "";
  const ValueDesc &v = fn.values[k.inputs[i]];
  if (allows(fn, allowed, v.dtype))
    return "";
  return format("input %zu (%s, value '%s') has dtype %s; supported: %s", i, what, v.name.c_str(),
                dtypeName(v.dtype), dtypeList(fn, allowed).c_str());
}

std::string expectOutDtype(const FunctionDesc &fn, const KernelDesc &k, size_t i,
                           std::initializer_list<tfc_dtype> allowed) {
  const ValueDesc &v = fn.values[k.outputs[i]];
  if (allows(fn, allowed, v.dtype))
    return "";
  return format("output %zu (value '%s') has dtype %s; supported: %s", i, v.name.c_str(),
                dtypeName(v.dtype), dtypeList(fn, allowed).c_str());
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
