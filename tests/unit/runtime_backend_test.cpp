//===- runtime_backend_test.cpp - the backend seam: devices, registry, staging, C API --------===//
//
// What the runtime's backend seam (runtime/src/Backend.h) promises, on the CPU backend:
//  * device texts ("cpu", "cuda:1") parse or are refused naming the text;
//  * the registry lists the backends this build has (the C API the same) and finds them, loading
//    the CUDA module where the build has one (runtime_backend_module_test: the module itself);
//  * CpuDevice's memory and copies;
//  * a session on an explicit "cpu" device computes the same floats as one on the default device;
//    a device this build cannot open ("cuda:0" on a CPU-only build) fails with TFC_UNAVAILABLE
//    and a reason;
//  * options structs of an older (smaller) struct_size still work, bad sizes are refused;
//  * a cuda plan opens for inspection only (any_target) on a runtime without the CUDA backend,
//    and sessions on it are refused;
//  * the staging path a GPU backend takes: a test device that is not hostAccessible (host memory
//    it allocates, poisoned; it checks that no kernel ever sees a caller's pointer) gives the
//    CPU's outputs, for a forward run and for greedy and beam generation over the KV cache.
// Plans are compiled in-process from the example models (examples/models/*.fbs).
//
//===----------------------------------------------------------------------------------------===//
#include "plan_test_util.h"

#include "Backend.h"
#include "Error.h"
#include "Generate.h"
#include "PlanGenerator.h"
#include "Session.h"
#include "cpu/CpuBackend.h"
#include "tfc/tfc_runtime.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <map>
#include <unistd.h>

namespace {

using ::testing::HasSubstr;
using namespace tfc::rt;

std::string tempFile(const std::string &name) {
  return (std::filesystem::temp_directory_path() /
          ("tfc_backend_" + std::to_string(getpid()) + "_" + name))
      .string();
}

bool buildHasCuda() {
  for (size_t i = 0; i < tfc_backend_count(); ++i)
    if (std::string(tfc_backend_name(i)) == "cuda")
      return true;
  return false;
}

/// Compiles examples/models/<name>.fbs for `options` and writes the plan; "" on failure.
std::string compilePlan(const std::string &name, tfc::driver::CompileOptions options,
                        const std::string &file) {
  mlir::MLIRContext context;
  tfc::driver::CompileResult result;
  tfc::planner::Plan plan;
  plantest::compileExample(context, name, true, result, plan, options);
  if (::testing::Test::HasFatalFailure())
    return "";
  std::string path = tempFile(file);
  auto s = tfc::driver::writePlanFile(plan, path);
  EXPECT_TRUE(s.ok()) << s.error;
  return s.ok() ? path : "";
}

/// Code and message of a C status (freed).
struct Result {
  tfc_code code = TFC_OK;
  std::string message;
};
Result take(tfc_status *s) {
  Result r;
  if (s) {
    r.code = tfc_status_code(s);
    r.message = tfc_status_message(s);
    tfc_status_free(s);
  }
  return r;
}

// ---- device specs and the registry ------------------------------------------------------------

TEST(DeviceSpec, ParsesBackendAndOrdinal) {
  DeviceSpec cpu = parseDeviceSpec("cpu");
  EXPECT_EQ(cpu.backend, "cpu");
  EXPECT_EQ(cpu.ordinal, 0);
  EXPECT_EQ(cpu.str(), "cpu");
  DeviceSpec cuda = parseDeviceSpec("cuda");
  EXPECT_EQ(cuda.backend, "cuda");
  EXPECT_EQ(cuda.ordinal, 0);
  DeviceSpec cuda3 = parseDeviceSpec("cuda:3");
  EXPECT_EQ(cuda3.backend, "cuda");
  EXPECT_EQ(cuda3.ordinal, 3);
  EXPECT_EQ(cuda3.str(), "cuda:3");
  EXPECT_EQ(parseDeviceSpec("cpu:1").ordinal, 1); // parses; CpuBackend::available says no
}

TEST(DeviceSpec, RefusesBadTextNamingIt) {
  for (const char *bad : {"", "gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1a", "CUDA", " cpu",
                          "cuda:1234567890"}) {
    SCOPED_TRACE(bad);
    try {
      parseDeviceSpec(bad);
      ADD_FAILURE() << "accepted";
    } catch (const Error &e) {
      EXPECT_EQ(e.code(), TFC_INVALID_ARGUMENT);
      EXPECT_THAT(e.what(), HasSubstr("bad device '" + std::string(bad) + "'"));
    }
  }
  EXPECT_THROW(parseDeviceSpec(nullptr), Error);
}

TEST(Registry, ListsTheBackendsOfThisBuild) {
  const std::vector<std::string> &names = backendNameList();
  ASSERT_FALSE(names.empty());
  EXPECT_EQ(names[0], "cpu");
  EXPECT_STREQ(cpuBackend()->name(), "cpu");
  EXPECT_STREQ(cpuBackend()->planTarget(), "cpu");
  EXPECT_EQ(findBackend("cpu"), cpuBackend());
  EXPECT_EQ(backendForTarget("cpu"), cpuBackend());
  std::string why;
  EXPECT_EQ(findBackend("tpu", &why), nullptr);
  EXPECT_EQ(why, "this runtime was built without the tpu backend (its backends: " +
                     backendNames() + ")");
  why = "unchanged?";
  EXPECT_EQ(backendForTarget("tpu", &why), nullptr);
  EXPECT_EQ(why, ""); // no backend for the target (not a module that failed to load)
  // A build with CUDA lists it (its module, libtfc_cuda.so, is built beside the runtime and
  // loads here: this machine has the CUDA runtime libraries whenever the build has CUDA).
  EXPECT_EQ(names.size(), buildHasCuda() ? 2u : 1u);
  EXPECT_EQ(findBackend("cuda", &why) != nullptr, buildHasCuda()) << why;
  EXPECT_EQ(backendForTarget("cuda"), findBackend("cuda"));
  if (buildHasCuda()) {
    EXPECT_STREQ(findBackend("cuda")->name(), "cuda");
    EXPECT_STREQ(findBackend("cuda")->planTarget(), "cuda");
  }
  // The C API lists the same, in order.
  ASSERT_EQ(tfc_backend_count(), names.size());
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(tfc_backend_name(i), names[i]);
  EXPECT_EQ(tfc_backend_name(names.size()), nullptr);
  EXPECT_EQ(backendNames(), buildHasCuda() ? "cpu, cuda" : "cpu");
}

TEST(Registry, CpuBackendHasEveryKernelAndF32Caches) {
  const Backend &cpu = *cpuBackend();
  for (size_t k = 0; k < kNumKernelKinds; ++k) {
    const KernelSpec *spec = cpu.kernel(KernelKind(k));
    ASSERT_NE(spec, nullptr) << k;
    EXPECT_EQ(size_t(spec->kind), k);
  }
  EXPECT_TRUE(cpu.supportsCacheDtype(TFC_F32));
  EXPECT_FALSE(cpu.supportsCacheDtype(TFC_F16));
  EXPECT_FALSE(cpu.supportsCacheDtype(TFC_BF16));
  std::string why;
  EXPECT_TRUE(cpu.available(0, &why));
  EXPECT_FALSE(cpu.available(1, &why));
  EXPECT_THAT(why, HasSubstr("cpu:1"));
}

TEST(DeviceCheck, SaysWhetherAndWhy) {
  char why[256];
  EXPECT_EQ(tfc_device_check("cpu", why, sizeof why), 1);
  EXPECT_STREQ(why, "");
  EXPECT_EQ(tfc_device_check("gpu", why, sizeof why), 0);
  EXPECT_THAT(why, HasSubstr("bad device 'gpu'"));
  EXPECT_EQ(tfc_device_check("cpu:1", why, sizeof why), 0);
  EXPECT_THAT(why, HasSubstr("one device"));
  EXPECT_EQ(tfc_device_check(nullptr, nullptr, 0), 0); // no crash without a buffer
  char tiny[8];
  EXPECT_EQ(tfc_device_check("gpu", tiny, sizeof tiny), 0);
  EXPECT_EQ(std::strlen(tiny), sizeof tiny - 1); // truncated, terminated
  if (!buildHasCuda()) {
    EXPECT_EQ(tfc_device_check("cuda:0", why, sizeof why), 0);
    EXPECT_THAT(why, HasSubstr("built without the cuda backend"));
  }
  std::string reason;
  EXPECT_TRUE(tfc::deviceAvailable("cpu", &reason));
  EXPECT_FALSE(tfc::deviceAvailable("gpu", &reason));
  EXPECT_THAT(reason, HasSubstr("gpu"));
}

// ---- CpuDevice ---------------------------------------------------------------------------------

class CpuDeviceTest : public ::testing::Test {
protected:
  void SetUp() override {
    tfc::driver::CompileOptions o;
    path = compilePlan("encoder", o, "enc.plan");
    ASSERT_FALSE(path.empty());
    plan = loadPlan(path.c_str(), true);
  }
  void TearDown() override {
    if (!path.empty())
      std::filesystem::remove(path);
  }
  std::string path;
  std::shared_ptr<const Plan> plan;
};

TEST_F(CpuDeviceTest, MemoryCopiesAndConstants) {
  EXPECT_EQ(plan->backend, cpuBackend());
  CpuDevice d(plan, 2);
  EXPECT_EQ(&d.backend(), cpuBackend());
  EXPECT_EQ(d.spec().str(), "cpu");
  EXPECT_TRUE(d.hostAccessible());
  EXPECT_EQ(d.threads(), 2);
  {
    DeviceBuffer zero(d, 0);
    EXPECT_NE(zero.data(), nullptr);
    DeviceBuffer a(d, 1000), b(d, 1000);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 256, 0u);
    std::vector<uint8_t> host(1000), back(1000);
    for (size_t i = 0; i < host.size(); ++i)
      host[i] = uint8_t(i * 7 + 3);
    d.copyToDevice(a.data(), host.data(), host.size());
    d.copyOnDevice(b.data(), a.data(), 1000);
    d.copyToHost(back.data(), b.data(), 1000);
    EXPECT_EQ(back, host);
    d.fill(b.data(), 0xAB, 10);
    d.copyToHost(back.data(), b.data(), 1000);
    for (size_t i = 0; i < 10; ++i)
      EXPECT_EQ(back[i], 0xAB);
    EXPECT_EQ(back[10], host[10]);
    // 2-D: 3 rows of 4 bytes, source rows 10 apart, destination rows 5 apart.
    d.copyOnDevice2D(b.data(), 5, a.data(), 10, 4, 3);
    d.synchronize();
    d.copyToHost(back.data(), b.data(), 1000);
    for (size_t r = 0; r < 3; ++r)
      for (size_t c = 0; c < 4; ++c)
        EXPECT_EQ(back[r * 5 + c], host[r * 10 + c]) << r << "," << c;
    DeviceBuffer moved = std::move(a);
    EXPECT_EQ(a.data(), nullptr);
    EXPECT_NE(moved.data(), nullptr);
  }
  ASSERT_FALSE(plan->constants.empty());
  for (size_t i = 0; i < plan->constants.size(); ++i)
    EXPECT_EQ(d.constant(int32_t(i)), plan->constants[i].data); // the mapping itself
  EXPECT_THROW(d.constant(int32_t(plan->constants.size())), Error);
  EXPECT_THROW(d.constant(-1), Error);
}

// ---- inputs for any function -------------------------------------------------------------------

/// Inputs for `fn`: each symbolic dim min(bound, 3) (batch 2), ids inside their table, masks of
/// ones, other integers 0, floats a smooth ramp.
struct Inputs {
  std::vector<std::vector<int64_t>> dims;
  std::vector<std::vector<uint8_t>> bytes;
  std::vector<tfc_tensor> views;
};
Inputs makeInputs(const Plan &plan, const FunctionDesc &fn) {
  Inputs in;
  in.dims.resize(fn.inputs.size());
  in.bytes.resize(fn.inputs.size());
  for (size_t p = 0; p < fn.inputs.size(); ++p) {
    const ValueDesc &v = fn.values[size_t(fn.inputs[p].value)];
    int64_t n = 1;
    for (int r = 0; r < v.rank; ++r) {
      int64_t d = v.dims[r].size;
      if (v.dims[r].symbol >= 0) {
        const SymbolDesc &s = plan.symbols[size_t(v.dims[r].symbol)];
        d = std::max(s.min, std::min<int64_t>(s.max, r == 0 ? 2 : 3));
      }
      in.dims[p].push_back(d);
      n *= d;
    }
    const InputRule &rule = fn.inputRules[p];
    in.bytes[p].resize(size_t(n) * dtypeSize(v.dtype));
    for (int64_t i = 0; i < n; ++i) {
      double x = rule.kind == TFC_INPUT_IDS    ? double((i * 5 + 1) % rule.bound)
                 : rule.kind == TFC_INPUT_MASK ? 1.0
                                               : std::sin(0.3 * double(i));
      switch (v.dtype) {
      case TFC_F32: reinterpret_cast<float *>(in.bytes[p].data())[i] = float(x); break;
      case TFC_I64: reinterpret_cast<int64_t *>(in.bytes[p].data())[i] = int64_t(x); break;
      case TFC_I32: reinterpret_cast<int32_t *>(in.bytes[p].data())[i] = int32_t(x); break;
      default: ADD_FAILURE() << "input dtype " << dtypeName(v.dtype); break;
      }
    }
    in.views.push_back({fn.inputs[p].name.c_str(), v.dtype, v.rank, in.dims[p].data(),
                        in.bytes[p].data()});
  }
  return in;
}

void expectSameOutputs(const Outputs &a, const Outputs &b) {
  ASSERT_EQ(a.outputs.size(), b.outputs.size());
  for (size_t i = 0; i < a.outputs.size(); ++i) {
    SCOPED_TRACE(a.outputs[i].name);
    EXPECT_EQ(a.outputs[i].dims, b.outputs[i].dims);
    ASSERT_EQ(a.outputs[i].buffer.size, b.outputs[i].buffer.size);
    EXPECT_GT(a.outputs[i].buffer.size, 0u);
    EXPECT_EQ(std::memcmp(a.outputs[i].buffer.data, b.outputs[i].buffer.data,
                          a.outputs[i].buffer.size),
              0);
  }
}

// ---- sessions on devices (C API) ---------------------------------------------------------------

TEST_F(CpuDeviceTest, ExplicitCpuDeviceEqualsTheDefault) {
  tfc_plan *p = nullptr;
  ASSERT_EQ(take(tfc_plan_open(path.c_str(), nullptr, &p)).code, TFC_OK);
  EXPECT_STREQ(tfc_plan_target(p), "cpu");
  const FunctionDesc &fn = *plan->findFunction("forward");
  Inputs in = makeInputs(*plan, fn);
  std::vector<std::vector<float>> results[2];
  for (int which = 0; which < 2; ++which) {
    tfc_session_options o;
    tfc_session_options_init(&o);
    EXPECT_EQ(o.struct_size, sizeof o);
    EXPECT_EQ(o.device, nullptr);
    o.num_threads = 2;
    o.device = which ? "cpu" : nullptr;
    tfc_session *s = nullptr;
    ASSERT_EQ(take(tfc_session_create(p, &o, &s)).message, "");
    tfc_outputs *out = nullptr;
    ASSERT_EQ(take(tfc_session_run(s, "forward", in.views.data(), in.views.size(), &out)).message,
              "");
    for (size_t i = 0; i < tfc_outputs_count(out); ++i) {
      tfc_tensor t;
      ASSERT_EQ(tfc_outputs_get(out, i, &t), nullptr);
      ASSERT_EQ(t.dtype, TFC_F32);
      size_t n = 1;
      for (int r = 0; r < t.rank; ++r)
        n *= size_t(t.dims[r]);
      const float *f = static_cast<const float *>(t.data);
      results[which].emplace_back(f, f + n);
    }
    tfc_outputs_free(out);
    tfc_session_release(s);
  }
  ASSERT_FALSE(results[0].empty());
  ASSERT_EQ(results[0].size(), results[1].size());
  for (size_t i = 0; i < results[0].size(); ++i) {
    ASSERT_EQ(results[0][i].size(), results[1][i].size());
    EXPECT_EQ(std::memcmp(results[0][i].data(), results[1][i].data(),
                          results[0][i].size() * sizeof(float)),
              0);
    bool finite = true;
    for (float f : results[0][i])
      finite &= std::isfinite(f);
    EXPECT_TRUE(finite);
  }
  tfc_plan_release(p);
}

TEST_F(CpuDeviceTest, DevicesThatCannotBeOpenedAreUnavailable) {
  tfc_plan *p = nullptr;
  ASSERT_EQ(take(tfc_plan_open(path.c_str(), nullptr, &p)).code, TFC_OK);
  auto create = [&](const char *device) {
    tfc_session_options o;
    tfc_session_options_init(&o);
    o.device = device;
    tfc_session *s = nullptr;
    Result r = take(tfc_session_create(p, &o, &s));
    EXPECT_EQ(s == nullptr, r.code != TFC_OK);
    tfc_session_release(s);
    return r;
  };
  EXPECT_EQ(create("").code, TFC_OK);
  Result r = create("cpu:1");
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_THAT(r.message, HasSubstr("device 'cpu:1' is unavailable"));
  r = create("gpu");
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  EXPECT_THAT(r.message, HasSubstr("bad device 'gpu'"));
  r = create("cuda:0");
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  if (buildHasCuda())
    EXPECT_THAT(r.message, HasSubstr("plan targets cpu; device 'cuda:0' runs cuda plans"));
  else
    EXPECT_THAT(r.message, HasSubstr("device 'cuda:0': this runtime was built without the cuda "
                                     "backend (its backends: cpu)"));
  EXPECT_STREQ(tfc_code_name(TFC_UNAVAILABLE), "TFC_UNAVAILABLE");
  tfc_plan_release(p);
}

TEST_F(CpuDeviceTest, OlderOptionsStructsStillWork) {
  // A caller built before tfc_session_options had `device`: its struct ends at num_threads.
  // Whatever lies past it is not read.
  tfc_plan_options po;
  tfc_plan_options_init(&po);
  EXPECT_EQ(po.struct_size, sizeof po);
  EXPECT_EQ(po.verify_checksums, 1);
  EXPECT_EQ(po.any_target, 0);
  po.struct_size = offsetof(tfc_plan_options, verify_checksums) + sizeof(int32_t);
  po.any_target = 12345;
  tfc_plan *p = nullptr;
  ASSERT_EQ(take(tfc_plan_open(path.c_str(), &po, &p)).message, "");

  tfc_session_options so;
  tfc_session_options_init(&so);
  so.struct_size = offsetof(tfc_session_options, num_threads) + sizeof(int32_t);
  so.num_threads = 1;
  so.device = "cuda:7"; // past the old struct: ignored
  tfc_session *s = nullptr;
  ASSERT_EQ(take(tfc_session_create(p, &so, &s)).message, "");
  tfc_session_release(s);
  s = nullptr;

  // Sizes below the first version or above this header's are refused, naming the struct.
  for (size_t bad : {size_t(0), sizeof(size_t), sizeof(tfc_session_options) + 8}) {
    so.struct_size = bad;
    Result r = take(tfc_session_create(p, &so, &s));
    EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT) << bad;
    EXPECT_THAT(r.message, HasSubstr("tfc_session_options.struct_size is " +
                                     std::to_string(bad)));
    EXPECT_EQ(s, nullptr);
  }
  tfc_plan *p2 = nullptr;
  po.struct_size = 4;
  Result r = take(tfc_plan_open(path.c_str(), &po, &p2));
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  EXPECT_THAT(r.message, HasSubstr("tfc_plan_options.struct_size is 4"));
  EXPECT_EQ(p2, nullptr);

  // tfc_generate_options: its first version is today's; smaller or larger sizes are refused
  // before anything runs (the plan need not generate for that).
  ASSERT_EQ(take(tfc_session_create(p, nullptr, &s)).message, "");
  tfc_generate_options go;
  tfc_generate_options_init(&go);
  int64_t tokens[1] = {1}, offsets[2] = {0, 1};
  for (size_t bad : {offsetof(tfc_generate_options, beam_width), sizeof go + 4}) {
    go.struct_size = bad;
    tfc_generation *g = nullptr;
    r = take(tfc_session_generate(s, tokens, offsets, 1, nullptr, 0, &go, nullptr, nullptr, &g));
    EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT) << bad;
    EXPECT_THAT(r.message, HasSubstr("tfc_generate_options.struct_size is " +
                                     std::to_string(bad)));
    EXPECT_EQ(g, nullptr);
  }
  tfc_session_release(s);
  tfc_plan_release(p);
}

// ---- a cuda plan on this runtime ---------------------------------------------------------------

TEST(AnyTarget, CudaPlanOpensForInspectionOnly) {
  tfc::driver::CompileOptions o;
  o.target = tfc::target::Target::Cuda;
  o.precision = tfc::target::DType::F16;
  o.maxBatch = 2;
  std::string path = compilePlan("encoder", o, "enc16.plan");
  ASSERT_FALSE(path.empty());
  if (buildHasCuda()) {
    std::filesystem::remove(path);
    GTEST_SKIP() << "this runtime has the cuda backend: cuda plans open for running";
  }
  tfc_plan *p = nullptr;
  Result r = take(tfc_plan_open(path.c_str(), nullptr, &p));
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_THAT(r.message, HasSubstr("the plan targets cuda, which this runtime cannot run (its "
                                   "backends: cpu)"));
  EXPECT_THAT(r.message, HasSubstr("any_target"));
  EXPECT_EQ(p, nullptr);

  tfc_plan_options po;
  tfc_plan_options_init(&po);
  po.any_target = 1;
  ASSERT_EQ(take(tfc_plan_open(path.c_str(), &po, &p)).message, "");
  EXPECT_STREQ(tfc_plan_target(p), "cuda");
  EXPECT_STREQ(tfc_plan_precision(p), "fp16");
  tfc_plan_info info;
  tfc_plan_get_info(p, &info);
  EXPECT_STREQ(info.target, "cuda");
  ASSERT_EQ(tfc_plan_num_functions(p), 1u);
  EXPECT_STREQ(tfc_plan_function_name(p, 0), "forward");
  size_t ni = 0, no = 0;
  ASSERT_EQ(take(tfc_plan_num_ports(p, "forward", &ni, &no)).message, "");
  EXPECT_EQ(ni, 3u); // input_ids, attention_mask, token_type_ids
  EXPECT_EQ(no, 1u);
  tfc_port_info port;
  ASSERT_EQ(take(tfc_plan_input_info(p, "forward", 0, &port)).message, "");
  EXPECT_STREQ(port.name, "input_ids");
  EXPECT_EQ(port.dims[0].max, 2);
  ASSERT_EQ(take(tfc_plan_output_info(p, "forward", 0, &port)).message, "");
  EXPECT_EQ(port.dtype, TFC_F32); // the signature stays f32

  // Sessions: refused, saying why.
  tfc_session *s = nullptr;
  r = take(tfc_session_create(p, nullptr, &s));
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_THAT(r.message, HasSubstr("plan targets cuda, which this runtime cannot run"));
  EXPECT_THAT(r.message, HasSubstr("inspection only"));
  EXPECT_EQ(s, nullptr);
  tfc_session_options so;
  tfc_session_options_init(&so);
  so.device = "cpu";
  r = take(tfc_session_create(p, &so, &s));
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_THAT(r.message, HasSubstr("plan targets cuda; device 'cpu' runs cpu plans"));
  EXPECT_EQ(s, nullptr);
  so.device = "cuda";
  r = take(tfc_session_create(p, &so, &s));
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_THAT(r.message, HasSubstr("built without the cuda backend"));
  tfc_plan_release(p);

  // The C++ wrapper says the same.
  tfc::Plan plan;
  ASSERT_TRUE(tfc::Plan::open(path.c_str(), &plan, true, /*anyTarget=*/true).ok());
  EXPECT_STREQ(plan.target(), "cuda");
  EXPECT_STREQ(plan.precision(), "fp16");
  tfc::Session session;
  EXPECT_EQ(tfc::Session::create(plan, 1, &session, "cpu").code(), TFC_UNAVAILABLE);

  // The compiler asks the runtime which targets it runs.
  EXPECT_TRUE(tfc::driver::runtimeRunsTarget(tfc::target::Target::Cpu));
  EXPECT_FALSE(tfc::driver::runtimeRunsTarget(tfc::target::Target::Cuda));
  std::filesystem::remove(path);
}

// ---- the staging path --------------------------------------------------------------------------

/// A CPU device that says the host cannot address its memory, as a GPU's: the session must then
/// stage inputs in and outputs out, and keep the arena and KV cache in allocate()d memory. It
/// poisons every allocation (NaN bytes), records every copy, and checks before each function
/// runs that every tensor and cache slot the kernels see lies in its allocations (or is a plan
/// constant): never a caller's buffer.
class StagedDevice : public CpuDevice {
public:
  using CpuDevice::CpuDevice;
  bool hostAccessible() const override { return false; }
  DeviceSpec spec() const override { return DeviceSpec{"cpu", 0}; }

  void *allocate(size_t bytes) override {
    void *p = CpuDevice::allocate(bytes);
    std::memset(p, 0xFF, bytes); // NaN floats: a read of unwritten bytes shows
    allocations[static_cast<uint8_t *>(p)] = bytes;
    return p;
  }
  void release(void *p) override {
    allocations.erase(static_cast<uint8_t *>(p));
    CpuDevice::release(p);
  }
  void copyToDevice(void *dst, const void *src, size_t bytes) override {
    EXPECT_TRUE(onDevice(dst, bytes));
    EXPECT_FALSE(onDevice(src, bytes));
    ++toDevice;
    CpuDevice::copyToDevice(dst, src, bytes);
  }
  void copyToHost(void *dst, const void *src, size_t bytes) override {
    EXPECT_TRUE(onDevice(src, bytes));
    EXPECT_FALSE(onDevice(dst, bytes));
    ++toHost;
    CpuDevice::copyToHost(dst, src, bytes);
  }
  void copyOnDevice(void *dst, const void *src, size_t bytes) override {
    EXPECT_TRUE(onDevice(dst, bytes) && onDevice(src, bytes));
    ++onDeviceCopies;
    CpuDevice::copyOnDevice(dst, src, bytes);
  }
  void copyOnDevice2D(void *dst, size_t dstPitch, const void *src, size_t srcPitch, size_t width,
                      size_t height) override {
    // The seam's default (a loop of copyOnDevice), as a backend without a 2-D copy gets.
    Device::copyOnDevice2D(dst, dstPitch, src, srcPitch, width, height);
  }
  void execute(const FunctionDesc &fn, KernelContext &ctx, std::unique_ptr<KernelState> *states,
               KernelProfile *profile, bool profiling) override {
    ++runs;
    for (size_t i = 0; i < fn.values.size(); ++i) {
      const ValueDesc &v = fn.values[i];
      const Tensor &t = ctx.tensors[i];
      if (v.kind == ValueKind::Constant)
        EXPECT_EQ(t.data, constant(v.constant)) << v.name;
      else if (t.bytes() > 0)
        EXPECT_TRUE(onDevice(t.data, t.bytes())) << fn.name << ": value '" << v.name << "'";
    }
    if (ctx.cache) {
      cacheBuffers.clear();
      for (const KvCache::Slot &s : ctx.cache->slots) {
        EXPECT_TRUE(onDevice(s.k, 1) && onDevice(s.v, 1)) << s.desc->name;
        cacheBuffers.push_back({static_cast<float *>(s.k), s.desc});
        cacheBuffers.push_back({static_cast<float *>(s.v), s.desc});
      }
    }
    CpuDevice::execute(fn, ctx, states, profile, profiling);
  }

  bool onDevice(const void *p, size_t bytes) const {
    const uint8_t *b = static_cast<const uint8_t *>(p);
    auto it = allocations.upper_bound(const_cast<uint8_t *>(b));
    if (it == allocations.begin())
      return false;
    --it;
    return b >= it->first && b + bytes <= it->first + it->second;
  }

  std::map<uint8_t *, size_t> allocations;
  std::vector<std::pair<const float *, const CacheSlotDesc *>> cacheBuffers; // K, V per slot
  int toDevice = 0, toHost = 0, onDeviceCopies = 0, runs = 0;
};

TEST_F(CpuDeviceTest, StagedDeviceGivesTheCpuOutputs) {
  const FunctionDesc &fn = *plan->findFunction("forward");
  Session cpu(plan, 1);
  auto owned = std::make_unique<StagedDevice>(plan, 1);
  StagedDevice &staged = *owned;
  Session session(plan, std::move(owned));
  EXPECT_FALSE(session.device().hostAccessible());
  for (int round = 0; round < 2; ++round) { // the staging buffers are reused
    Inputs in = makeInputs(*plan, fn);
    if (round == 1) // another shape: fewer rows
      for (auto &d : in.dims)
        d[0] = 1;
    auto want = cpu.run("forward", in.views.data(), in.views.size());
    int before = staged.toDevice;
    auto got = session.run("forward", in.views.data(), in.views.size());
    EXPECT_EQ(staged.toDevice - before, int(fn.inputs.size()));
    expectSameOutputs(*want, *got);
  }
  EXPECT_EQ(staged.runs, 2);
  EXPECT_EQ(staged.toHost, 2 * int(fn.outputs.size()));
}

TEST(StagedDevice, GenerationOverTheKvCacheGivesTheCpuTokens) {
  tfc::driver::CompileOptions o;
  o.maxBatch = 4;
  std::string path = compilePlan("decoder", o, "dec.plan");
  ASSERT_FALSE(path.empty());
  std::shared_ptr<const Plan> plan = loadPlan(path.c_str(), true);
  ASSERT_FALSE(plan->caches.empty());
  ASSERT_TRUE(plan->findFunction("decode_step"));
  GenerationBounds bounds = generationBounds(*plan);
  const std::vector<std::vector<int64_t>> prompts = {{1, 5, 9}, {2, 7}};
  for (Strategy strategy : {Strategy::Greedy, Strategy::Beam}) {
    SCOPED_TRACE(strategy == Strategy::Beam ? "beam" : "greedy");
    GenerateOptions go;
    go.strategy = strategy;
    go.maxNewTokens = 8;
    go.beamWidth = strategy == Strategy::Beam ? 2 : 1;
    Session cpu(plan, 1);
    PlanStepModel cpuModel(cpu, nullptr, 0, int64_t(prompts.size()));
    ASSERT_TRUE(cpuModel.kvCache());
    GenerateResult want = generate(cpuModel, prompts, go);

    auto owned = std::make_unique<StagedDevice>(plan, 1);
    StagedDevice &staged = *owned;
    Session session(plan, std::move(owned));
    PlanStepModel model(session, nullptr, 0, int64_t(prompts.size()));
    GenerateResult got = generate(model, prompts, go);
    EXPECT_EQ(got.sequences, want.sequences);
    ASSERT_EQ(got.sequences.size(), prompts.size());
    for (const auto &seq : got.sequences)
      for (int64_t t : seq)
        EXPECT_TRUE(t >= 0 && t < bounds.vocab);
    EXPECT_GT(staged.runs, 2);
    if (strategy == Strategy::Beam)
      EXPECT_GT(staged.onDeviceCopies, 0); // the beam reorder moved cache rows on the device
  }
  std::filesystem::remove(path);
}

TEST(StagedDevice, ReorderMovesCacheRowsOnTheDevice) {
  tfc::driver::CompileOptions o;
  o.maxBatch = 3;
  std::string path = compilePlan("decoder", o, "dec3.plan");
  ASSERT_FALSE(path.empty());
  std::shared_ptr<const Plan> plan = loadPlan(path.c_str(), true);
  auto owned = std::make_unique<StagedDevice>(plan, 1);
  StagedDevice &staged = *owned;
  Session session(plan, std::move(owned));
  // Prefill three different rows, then read the cache back through copyToHost.
  const FunctionDesc &prefill = *plan->findFunction("prefill");
  Inputs in = makeInputs(*plan, prefill);
  for (auto &d : in.dims)
    d[0] = 3;
  for (size_t p = 0; p < in.views.size(); ++p) {
    size_t n = 1;
    for (int64_t d : in.dims[p])
      n *= size_t(d);
    in.bytes[p].resize(n * dtypeSize(in.views[p].dtype));
    if (plan->generation.tokenInput == in.views[p].name)
      for (size_t i = 0; i < n; ++i)
        reinterpret_cast<int64_t *>(in.bytes[p].data())[i] = int64_t(i % 7 + 1);
    else
      for (size_t i = 0; i < n; ++i)
        reinterpret_cast<int64_t *>(in.bytes[p].data())[i] = 1; // masks
    in.views[p].data = in.bytes[p].data();
  }
  session.run("prefill", in.views.data(), in.views.size());
  ASSERT_EQ(session.cacheRows(), 3);
  const int64_t L = session.cacheLength();
  ASSERT_GT(L, 0);
  // Rows 0, 1, 2 -> new rows [2, 0]: the used positions of every head, against a copy of the
  // old rows taken through the host.
  ASSERT_EQ(staged.cacheBuffers.size(), 2 * plan->caches.size()); // K and V of every slot
  std::vector<std::vector<float>> before;
  for (const auto &[buf, d] : staged.cacheBuffers) {
    const size_t row = size_t(d->numHeads) * size_t(d->maxLength) * size_t(d->headDim);
    before.emplace_back(3 * row);
    staged.copyToHost(before.back().data(), buf, 3 * row * sizeof(float));
  }
  int32_t src[2] = {2, 0};
  int copies = staged.onDeviceCopies;
  session.reorderCache(src, 2);
  EXPECT_GT(staged.onDeviceCopies, copies);
  EXPECT_EQ(session.cacheRows(), 2);
  for (size_t b = 0; b < staged.cacheBuffers.size(); ++b) {
    const CacheSlotDesc &d = *staged.cacheBuffers[b].second;
    const size_t row = size_t(d.numHeads) * size_t(d.maxLength) * size_t(d.headDim);
    const int64_t used = d.kind == CacheKind::Self ? L : 0;
    std::vector<float> after(3 * row);
    staged.copyToHost(after.data(), staged.cacheBuffers[b].first, 3 * row * sizeof(float));
    for (int i = 0; i < 2; ++i)
      for (int32_t h = 0; h < d.numHeads; ++h)
        for (int64_t j = 0; j < used * d.headDim; ++j) {
          size_t off = size_t(h) * size_t(d.maxLength) * size_t(d.headDim) + size_t(j);
          ASSERT_EQ(after[size_t(i) * row + off], before[b][size_t(src[i]) * row + off])
              << "buffer " << b << " row " << i << " head " << h << " at " << j;
          ASSERT_FALSE(std::isnan(after[size_t(i) * row + off])); // written by prefill
        }
  }
  // Rows 0 and 2 held different tokens: the reorder really moved something.
  const auto &[k0, d0] = staged.cacheBuffers[0];
  const size_t row0 = size_t(d0->numHeads) * size_t(d0->maxLength) * size_t(d0->headDim);
  EXPECT_NE(std::memcmp(before[0].data(), before[0].data() + 2 * row0,
                        size_t(L * d0->headDim) * sizeof(float)), 0);
  std::filesystem::remove(path);
}

} // namespace

// tfc_plan_options.device: the sessions' default device, checked when the plan opens; a
// session's own device overrides it.
TEST_F(CpuDeviceTest, PlanOptionDeviceIsTheSessionsDefault) {
  auto open = [&](const char *device, tfc_plan **p) {
    tfc_plan_options o;
    tfc_plan_options_init(&o);
    EXPECT_EQ(o.device, nullptr);
    o.device = device;
    return take(tfc_plan_open(path.c_str(), &o, p));
  };
  tfc_plan *p = nullptr;
  Result r = open("gpu", &p);
  EXPECT_EQ(r.code, TFC_INVALID_ARGUMENT);
  EXPECT_THAT(r.message, HasSubstr("bad device 'gpu'"));
  EXPECT_EQ(p, nullptr);
  r = open("cuda:0", &p);
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_EQ(p, nullptr);
  if (buildHasCuda())
    EXPECT_THAT(r.message, HasSubstr("plan targets cpu; device 'cuda:0' runs cuda plans"));
  else
    EXPECT_THAT(r.message, HasSubstr("built without the cuda backend"));

  // "cpu:1" passes the open-time check (the cpu backend runs cpu plans); the session that
  // opens it finds that the device does not exist, unless its own options name another.
  ASSERT_EQ(open("cpu:1", &p).code, TFC_OK);
  tfc_session *s = nullptr;
  r = take(tfc_session_create(p, nullptr, &s));
  EXPECT_EQ(r.code, TFC_UNAVAILABLE);
  EXPECT_THAT(r.message, HasSubstr("device 'cpu:1' is unavailable"));
  tfc_session_options so;
  tfc_session_options_init(&so);
  so.device = "cpu";
  ASSERT_EQ(take(tfc_session_create(p, &so, &s)).code, TFC_OK);
  tfc_session_release(s);
  tfc_plan_release(p);

  ASSERT_EQ(open("cpu", &p).code, TFC_OK);
  ASSERT_EQ(take(tfc_session_create(p, nullptr, &s)).code, TFC_OK);
  tfc_session_release(s);
  tfc_plan_release(p);
}
