//===- BreadthKernels.cpp - plan kernels Compare, CumSum, Tile, GatherElements, ArgMax, Trilu, Conv
//
// The load-time checks and run functions of the kernel kinds added for issue 11 (plan 2.1). The
// arithmetic is in ElementwiseMath.cpp, Indexing.cpp and Conv.cpp (functions on bound tensors,
// unit-tested on their own); these functions check operands and options, compute the output
// shape the inputs give and compare it with the bound one, then call them.
//
//===----------------------------------------------------------------------------------------===//
#include "cpu/Common.h"
#include "cpu/CpuBackend.h"
#include "cpu/Conv.h"
#include "cpu/ElementwiseMath.h"
#include "cpu/Indexing.h"

namespace tfc::rt {

namespace fb = tfc::plan;

namespace {

/// "" when the static rank of input i is `rank`.
std::string expectRank(const FunctionDesc &fn, const KernelDesc &k, size_t i, int rank,
                       const char *what) {
  const ValueDesc &v = fn.values[k.inputs[i]];
  if (v.rank == rank)
    return "";
  return format("input %zu (%s, value '%s') has rank %d, expected %d", i, what, v.name.c_str(),
                v.rank, rank);
}

/// Checks `axis` against input 0's rank; "" or the problem.
std::string checkAxis(const FunctionDesc &fn, const KernelDesc &k, int32_t given) {
  int64_t axis = given;
  int rank = fn.values[k.inputs[0]].rank;
  if (!normalizeAxis(axis, rank))
    return format("axis %d is out of range for rank %d", given, rank);
  return "";
}

int axisOf(int32_t given, int rank) {
  int64_t a = given;
  normalizeAxis(a, rank);
  return int(a);
}

} // namespace

// ---- Compare --------------------------------------------------------------------------------
std::string checkCompare(const FunctionDesc &fn, const KernelDesc &k) {
  fb::CompareOp op = options<fb::CompareOptionsT>(k).op;
  if (!isKnownEnumValue(op))
    return format("unknown CompareOp %d", int(op));
  std::string e = expectDtype(fn, k, 0, "a", {TFC_F32, TFC_I32, TFC_I64, TFC_I8, TFC_BOOL});
  if (e.empty() && inDtype(fn, k, 1) != inDtype(fn, k, 0))
    e = format("inputs have different dtypes (%s and %s)", dtypeName(inDtype(fn, k, 0)),
               dtypeName(inDtype(fn, k, 1)));
  if (e.empty() && inDtype(fn, k, 0) == TFC_BOOL && op != fb::CompareOp::Equal)
    e = format("%s of bool inputs is not defined (only Equal)", fb::EnumNameCompareOp(op));
  return e.empty() ? expectOutDtype(fn, k, 0, {TFC_BOOL}) : e;
}

void runCompare(const KernelContext &ctx) {
  const Tensor &a = *ctx.in(0), &b = *ctx.in(1);
  Shape shape;
  if (!broadcastShapes(a.shape, b.shape, shape))
    ctx.fail(TFC_INVALID_ARGUMENT, "shapes %s and %s do not broadcast", a.shape.str().c_str(),
             b.shape.str().c_str());
  ctx.expectOutputShape(0, shape);
  if (!compare(options<fb::CompareOptionsT>(*ctx.k).op, a, b, ctx.out(0)))
    ctx.fail(TFC_UNSUPPORTED, "dtype %s", dtypeName(a.dtype));
}

// ---- CumSum ---------------------------------------------------------------------------------
std::string checkCumSum(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 0, "x", {TFC_F32, TFC_I32, TFC_I64});
  if (e.empty())
    e = checkAxis(fn, k, options<fb::CumSumOptionsT>(k).axis);
  return e.empty() ? expectSameDtype(fn, k, 0) : e;
}

void runCumSum(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const auto &o = options<fb::CumSumOptionsT>(*ctx.k);
  ctx.expectOutputShape(0, x.shape);
  cumSum(x, ctx.out(0), axisOf(o.axis, x.shape.rank), o.exclusive, o.reverse);
}

// ---- Tile -----------------------------------------------------------------------------------
std::string checkTile(const FunctionDesc &fn, const KernelDesc &k) {
  const auto &reps = options<fb::TileOptionsT>(k).repeats;
  int rank = fn.values[k.inputs[0]].rank;
  if (int(reps.size()) != rank)
    return format("%zu repeats for an input of rank %d", reps.size(), rank);
  for (int64_t r : reps)
    if (r < 1 || r > (int64_t(1) << 32))
      return format("repeat %lld is outside [1, 2^32]", (long long)r);
  return expectSameDtype(fn, k, 0);
}

void runTile(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  ctx.expectOutputShape(0, tileShape(x.shape, options<fb::TileOptionsT>(*ctx.k).repeats.data()));
  tile(x, ctx.out(0));
}

// ---- GatherElements -------------------------------------------------------------------------
std::string checkGatherElements(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 1, "indices", {TFC_I64, TFC_I32});
  if (e.empty())
    e = expectRank(fn, k, 1, fn.values[k.inputs[0]].rank, "indices");
  if (e.empty())
    e = checkAxis(fn, k, options<fb::GatherElementsOptionsT>(k).axis);
  return e.empty() ? expectSameDtype(fn, k, 0) : e;
}

void runGatherElements(const KernelContext &ctx) {
  const Tensor &data = *ctx.in(0), &idx = *ctx.in(1);
  int axis = axisOf(options<fb::GatherElementsOptionsT>(*ctx.k).axis, data.shape.rank);
  for (int i = 0; i < data.shape.rank; ++i)
    if (i != axis && idx.shape.d[i] > data.shape.d[i])
      ctx.fail(TFC_INVALID_ARGUMENT, "indices %s exceed the data %s on axis %d",
               idx.shape.str().c_str(), data.shape.str().c_str(), i);
  ctx.expectOutputShape(0, idx.shape);
  std::string e = gatherElements(data, idx, axis, ctx.out(0));
  if (!e.empty())
    ctx.fail(TFC_OUT_OF_RANGE, "'%s': %s (data '%s')", ctx.inName(1).c_str(), e.c_str(),
             ctx.inName(0).c_str());
}

// ---- ArgMax ---------------------------------------------------------------------------------
std::string checkArgMax(const FunctionDesc &fn, const KernelDesc &k) {
  std::string e = expectDtype(fn, k, 0, "x", {TFC_F32, TFC_I32, TFC_I64});
  if (e.empty())
    e = checkAxis(fn, k, options<fb::ArgMaxOptionsT>(k).axis);
  return e.empty() ? expectOutDtype(fn, k, 0, {TFC_I64}) : e;
}

void runArgMax(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const auto &o = options<fb::ArgMaxOptionsT>(*ctx.k);
  int axis = axisOf(o.axis, x.shape.rank);
  if (x.shape.d[axis] == 0)
    ctx.fail(TFC_INVALID_ARGUMENT, "the reduced axis %d of %s is empty", axis,
             x.shape.str().c_str());
  ctx.expectOutputShape(0, argMaxShape(x.shape, axis, o.keepdims));
  argMax(x, axis, o.select_last_index, ctx.out(0));
}

// ---- Trilu ----------------------------------------------------------------------------------
std::string checkTrilu(const FunctionDesc &fn, const KernelDesc &k) {
  if (fn.values[k.inputs[0]].rank < 2)
    return format("input 0 (value '%s') has rank %d, expected >= 2",
                  fn.values[k.inputs[0]].name.c_str(), fn.values[k.inputs[0]].rank);
  return expectSameDtype(fn, k, 0);
}

void runTrilu(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0);
  const auto &o = options<fb::TriluOptionsT>(*ctx.k);
  ctx.expectOutputShape(0, x.shape);
  trilu(x, o.upper, o.k, ctx.out(0));
}

// ---- Conv -----------------------------------------------------------------------------------
namespace {

ConvParams convParams(const fb::ConvOptionsT &o, int rank) {
  ConvParams p;
  p.spatial = rank - 2;
  for (int i = 0; i < p.spatial; ++i) {
    p.strides[i] = o.strides[i];
    p.dilations[i] = o.dilations[i];
    p.padBegin[i] = o.pads[i];
    p.padEnd[i] = o.pads[p.spatial + i];
  }
  p.group = o.group;
  return p;
}

} // namespace

std::string checkConv(const FunctionDesc &fn, const KernelDesc &k) {
  for (size_t i = 0; i < 3; ++i) {
    std::string e = expectDtype(fn, k, i, i == 0 ? "x" : i == 1 ? "weight" : "bias", {TFC_F32});
    if (!e.empty())
      return e;
  }
  int rank = fn.values[k.inputs[0]].rank;
  if (rank != 3 && rank != 4)
    return format("input 0 (value '%s') has rank %d, expected 3 (NCW) or 4 (NCHW)",
                  fn.values[k.inputs[0]].name.c_str(), rank);
  std::string e = expectRank(fn, k, 1, rank, "weight");
  if (e.empty() && hasInput(k, 2))
    e = expectRank(fn, k, 2, 1, "bias");
  if (!e.empty())
    return e;
  const auto &o = options<fb::ConvOptionsT>(k);
  size_t sp = size_t(rank - 2);
  if (o.strides.size() != sp || o.dilations.size() != sp || o.pads.size() != 2 * sp)
    return format("strides, dilations and pads have %zu, %zu and %zu entries; expected %zu, %zu "
                  "and %zu", o.strides.size(), o.dilations.size(), o.pads.size(), sp, sp, 2 * sp);
  for (size_t i = 0; i < sp; ++i)
    if (o.strides[i] < 1 || o.dilations[i] < 1 || o.pads[i] < 0 || o.pads[sp + i] < 0)
      return "strides and dilations must be >= 1 and pads >= 0";
  if (o.group < 1)
    return format("group %lld must be >= 1", (long long)o.group);
  return expectOutDtype(fn, k, 0, {TFC_F32});
}

void runConv(const KernelContext &ctx) {
  const Tensor &x = *ctx.in(0), &w = *ctx.in(1);
  const Tensor *b = ctx.in(2);
  ConvParams p = convParams(options<fb::ConvOptionsT>(*ctx.k), x.shape.rank);
  Shape shape;
  std::string e = convOutputShape(x.shape, w.shape, p, shape);
  if (!e.empty())
    ctx.fail(TFC_INVALID_ARGUMENT, "%s", e.c_str());
  if (b && (b->shape.rank != 1 || b->shape.d[0] != w.shape.d[0]))
    ctx.fail(TFC_INVALID_ARGUMENT, "bias %s does not match the %lld output channels",
             b->shape.str().c_str(), (long long)w.shape.d[0]);
  ctx.expectOutputShape(0, shape);
  CpuDevice &device = cpuDevice(ctx);
  convForward(device.dnnl(), ctx.stateAs<ConvState>(), device.threads(), x, w, b, p, ctx.out(0));
}

} // namespace tfc::rt
