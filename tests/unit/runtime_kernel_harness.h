//===- runtime_kernel_harness.h - run one kernel through a one-kernel plan -------------------===//
//
// Each argument becomes a function input (or a constant in the weight section); the kernel's
// single output is the function's output with the given static shape. Used by the kernel tests
// to compare each kernel with a plain reference loop.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_TESTS_UNIT_RUNTIME_KERNEL_HARNESS_H
#define TFC_TESTS_UNIT_RUNTIME_KERNEL_HARNESS_H

#include "runtime_plan_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace rtt {

struct Arg {
  tfc_dtype dtype = TFC_F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
  bool constant = false;
  bool absent = false;
};

template <typename T>
Arg makeArg(tfc_dtype dtype, std::vector<int64_t> shape, const std::vector<T> &v,
            bool constant = false) {
  Arg a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  a.bytes.resize(v.size() * sizeof(T));
  std::memcpy(a.bytes.data(), v.data(), a.bytes.size());
  a.constant = constant;
  return a;
}
inline Arg F32(std::vector<int64_t> s, const std::vector<float> &v, bool c = false) {
  return makeArg(TFC_F32, std::move(s), v, c);
}
inline Arg I64(std::vector<int64_t> s, const std::vector<int64_t> &v, bool c = false) {
  return makeArg(TFC_I64, std::move(s), v, c);
}
inline Arg I32(std::vector<int64_t> s, const std::vector<int32_t> &v, bool c = false) {
  return makeArg(TFC_I32, std::move(s), v, c);
}
inline Arg Bool(std::vector<int64_t> s, const std::vector<uint8_t> &v, bool c = false) {
  return makeArg(TFC_BOOL, std::move(s), v, c);
}
inline Arg Absent() {
  Arg a;
  a.absent = true;
  return a;
}

inline int64_t numel(const std::vector<int64_t> &s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

inline std::vector<float> randomFloats(int64_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float &x : v)
    x = dist(rng);
  return v;
}

struct RunResult {
  tfc_code code = TFC_OK;
  std::string message;
  std::vector<int64_t> shape;
  tfc_dtype dtype = TFC_F32;
  std::vector<uint8_t> bytes;
  template <typename T> std::vector<T> as() const {
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), bytes.size());
    return v;
  }
};

/// Where runKernelOn runs the plan: its target and precision (the session opens device 0 of
/// the target's backend).
struct PlanTarget {
  fb::Target target = fb::Target::Cpu;
  fb::DType precision = fb::DType::F32;
  fb::DType weightPrecision = fb::DType::F32; // (2.2) cpu: bf16 / i8 Linear weights
};

inline RunResult runKernelOn(const PlanTarget &where, fb::KernelKind kind,
                             const std::vector<Arg> &args, tfc_dtype outDtype,
                             std::vector<int64_t> outShape, Options options = {},
                             int threads = 2) {
  PlanBuilder pb;
  pb.target = where.target;
  pb.precision = where.precision;
  pb.weightPrecision = where.weightPrecision;
  std::vector<int32_t> ins;
  std::vector<tfc_tensor> tensors;
  std::vector<std::string> names(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    const Arg &a = args[i];
    if (a.absent) {
      ins.push_back(-1);
      continue;
    }
    names[i] = "in" + std::to_string(i);
    if (a.constant) {
      int c = pb.addConstant(names[i], a.dtype, a.shape, a.bytes.data());
      ins.push_back(pb.addConstantValue(c));
    } else {
      std::vector<DimSpec> dims;
      for (int64_t d : a.shape)
        dims.push_back(S(d));
      ins.push_back(pb.addInput(names[i], a.dtype, dims));
      tensors.push_back({nullptr, a.dtype, int32_t(a.shape.size()), a.shape.data(), a.bytes.data()});
    }
  }
  for (size_t i = 0, t = 0; i < args.size(); ++i)
    if (!args[i].absent && !args[i].constant)
      tensors[t++].name = names[i].c_str();
  std::vector<DimSpec> odims;
  for (int64_t d : outShape)
    odims.push_back(S(d));
  int out = pb.addOutput("out", outDtype, odims);
  pb.addKernel(kind, ins, {out}, std::move(options), "kernel_under_test");

  RunResult r;
  tfc_plan *plan = nullptr;
  tfc_status *s = openBytes(pb.build(), &plan, "kernel");
  if (s) {
    r.code = tfc_status_code(s);
    r.message = tfc_status_message(s);
    tfc_status_free(s);
    return r;
  }
  tfc_session_options so;
  tfc_session_options_init(&so);
  so.num_threads = threads;
  tfc_session *session = nullptr;
  s = tfc_session_create(plan, &so, &session);
  tfc_plan_release(plan);
  if (!s) {
    tfc_outputs *outs = nullptr;
    s = tfc_session_run(session, "forward", tensors.data(), tensors.size(), &outs);
    if (!s) {
      tfc_tensor y;
      s = tfc_outputs_get(outs, 0, &y);
      if (!s) {
        r.shape.assign(y.dims, y.dims + y.rank);
        r.dtype = y.dtype;
        size_t n = size_t(numel(r.shape)) * tfc_dtype_size(y.dtype);
        r.bytes.assign(static_cast<const uint8_t *>(y.data),
                       static_cast<const uint8_t *>(y.data) + n);
      }
      tfc_outputs_free(outs);
    }
  }
  tfc_session_release(session);
  if (s) {
    r.code = tfc_status_code(s);
    r.message = tfc_status_message(s);
    tfc_status_free(s);
  }
  return r;
}

inline RunResult runKernel(fb::KernelKind kind, const std::vector<Arg> &args, tfc_dtype outDtype,
                           std::vector<int64_t> outShape, Options options = {},
                           int threads = 2) {
  return runKernelOn(PlanTarget{}, kind, args, outDtype, std::move(outShape), std::move(options),
                     threads);
}

/// |got - ref| <= 1e-4 * max(1, max|ref|) everywhere.
inline void expectClose(const std::vector<float> &got, const std::vector<float> &ref,
                        const std::string &what = "") {
  ASSERT_EQ(got.size(), ref.size()) << what;
  float mx = 1.f;
  for (float v : ref)
    mx = std::max(mx, std::fabs(v));
  float tol = 1e-4f * mx;
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(got[i], ref[i], tol) << what << " at element " << i;
}

// ---- reference helpers ----------------------------------------------------------------------
/// Offset in a tensor of shape `in` of the output multi-index `idx` under NumPy broadcasting.
inline int64_t bcastOffset(const std::vector<int64_t> &idx, const std::vector<int64_t> &in) {
  int64_t off = 0, stride = 1;
  size_t r = idx.size();
  for (size_t k = in.size(); k-- > 0;) {
    size_t i = r - in.size() + k;
    int64_t j = in[k] == 1 ? 0 : idx[i];
    off += j * stride;
    stride *= in[k];
  }
  return off;
}

/// Multi-index of flat index `flat` in `shape`.
inline std::vector<int64_t> unflatten(int64_t flat, const std::vector<int64_t> &shape) {
  std::vector<int64_t> idx(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    idx[k] = flat % shape[k];
    flat /= shape[k];
  }
  return idx;
}

} // namespace rtt

#endif // TFC_TESTS_UNIT_RUNTIME_KERNEL_HARNESS_H
