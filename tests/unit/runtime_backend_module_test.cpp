//===- runtime_backend_module_test.cpp - backends as modules loaded on first need -----------===//
//
// What runtime/src/BackendModule.h promises:
//  * libtfc_runtime.so names no CUDA library in DT_NEEDED (read from its ELF dynamic section);
//    libtfc_cuda.so, where built, does (the same reader finds libcudart there);
//  * the loader (loadBackendModule) on stand-in modules (runtime_backend_module_fake.cpp): a
//    missing file and a library without the entry point are refused with dlerror's reason, a
//    module of another ABI version or seam layout with both versions named (and never called),
//    a matching one gives its backend; backendModulePath honours TFC_BACKEND_DIR and otherwise
//    looks next to libtfc_runtime.so (this test links libtfc_runtime.a from build/bin: then in
//    build/lib, where the modules and libtfc_runtime.so are);
//  * in a fresh process (a gtest death-test child, "threadsafe": the test binary re-executed):
//    with TFC_BACKEND_DIR at an empty directory or at a module of another ABI, the backend list
//    still names cuda, tfc_device_check("cuda:0"), a cuda plan, and sessions on a cuda plan opened
//    for inspection (any_target) fail (TFC_UNAVAILABLE) with the loader's reason, and a CPU plan runs and computes the right numbers, with no CUDA
//    library mapped; with the built module (default location) nothing CUDA is mapped until a
//    cuda device is asked for, and then the module is.
// The module cases that need the CUDA module skip in a build without it, saying so.
//
//===----------------------------------------------------------------------------------------===//
#include "runtime_kernel_harness.h"

#include "BackendModule.h"
#include "tfc/tfc_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <elf.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using ::testing::HasSubstr;
using namespace rtt;
namespace fs = std::filesystem;
using K = fb::KernelKind;

/// The directory of this build's libtfc_runtime.so and libtfc_cuda.so. This test links the static
/// libtfc_runtime.a (it calls the loader's C++ functions, which the shared library does not
/// export) and lives in build/bin: the runtime looks for modules in build/bin/../lib.
std::string runtimeDir() { return std::string(TFC_BINARY_DIR) + "/lib"; }

/// Whether this build has the CUDA backend (the names list loads nothing).
bool buildHasCuda() {
  for (size_t i = 0; i < tfc_backend_count(); ++i)
    if (std::string(tfc_backend_name(i)) == "cuda")
      return true;
  return false;
}

/// The DT_NEEDED entries of the 64-bit ELF shared object at `path`; `error` set on failure.
std::vector<std::string> neededOf(const std::string &path, std::string *error) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto fits = [&](uint64_t off, uint64_t n) { return off <= f.size() && n <= f.size() - off; };
  Elf64_Ehdr eh;
  if (!fits(0, sizeof eh) || std::memcmp(f.data(), ELFMAG, SELFMAG) != 0 ||
      f[EI_CLASS] != ELFCLASS64) {
    *error = path + ": not a 64-bit ELF file";
    return {};
  }
  std::memcpy(&eh, f.data(), sizeof eh);
  auto section = [&](size_t i) {
    Elf64_Shdr sh{};
    uint64_t off = eh.e_shoff + i * uint64_t(eh.e_shentsize);
    if (i < eh.e_shnum && eh.e_shentsize == sizeof sh && fits(off, sizeof sh))
      std::memcpy(&sh, f.data() + off, sizeof sh);
    return sh;
  };
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr dyn = section(i);
    if (dyn.sh_type != SHT_DYNAMIC)
      continue;
    Elf64_Shdr str = section(dyn.sh_link);
    if (!fits(dyn.sh_offset, dyn.sh_size) || !fits(str.sh_offset, str.sh_size)) {
      *error = path + ": the dynamic section does not fit the file";
      return {};
    }
    std::vector<std::string> needed;
    for (uint64_t off = 0; off + sizeof(Elf64_Dyn) <= dyn.sh_size; off += sizeof(Elf64_Dyn)) {
      Elf64_Dyn d;
      std::memcpy(&d, f.data() + dyn.sh_offset + off, sizeof d);
      if (d.d_tag == DT_NULL)
        break;
      if (d.d_tag == DT_NEEDED && d.d_un.d_val < str.sh_size)
        needed.emplace_back(f.data() + str.sh_offset + d.d_un.d_val);
    }
    return needed;
  }
  *error = path + ": no dynamic section";
  return {};
}

bool anyStartsWith(const std::vector<std::string> &names, const std::string &prefix) {
  for (const std::string &n : names)
    if (n.rfind(prefix, 0) == 0)
      return true;
  return false;
}

/// Which of `names` occur in this process's mappings (/proc/self/maps).
std::vector<std::string> mapped(const std::vector<std::string> &names) {
  std::ifstream maps("/proc/self/maps");
  std::string all((std::istreambuf_iterator<char>(maps)), std::istreambuf_iterator<char>());
  std::vector<std::string> found;
  for (const std::string &n : names)
    if (all.find(n) != std::string::npos)
      found.push_back(n);
  return found;
}
const std::vector<std::string> kCudaLibraries = {"libcudart", "libcublas", "libtfc_cuda"};

/// The stand-in module directories (tests/unit/runtime.cmake): good, badabi, badlayout, empty.
std::string fakeModuleDir(const char *variant) {
  return std::string(TFC_BINARY_DIR) + "/tests/backend_modules/" + variant;
}

/// A directory that holds no module (made empty by tests/unit/runtime.cmake).
std::string emptyDir() { return fakeModuleDir("empty"); }

// ---- DT_NEEDED -------------------------------------------------------------------------------

TEST(RuntimeLibrary, NamesNoCudaLibraryInDtNeeded) {
  std::string dir = runtimeDir(), error;
  ASSERT_FALSE(dir.empty());
  std::vector<std::string> needed = neededOf(dir + "/libtfc_runtime.so", &error);
  ASSERT_TRUE(error.empty()) << error;
  // The reader sees the real entries: oneDNN and libgomp are linked.
  EXPECT_TRUE(anyStartsWith(needed, "libdnnl")) << ::testing::PrintToString(needed);
  EXPECT_TRUE(anyStartsWith(needed, "libgomp")) << ::testing::PrintToString(needed);
  for (const char *cuda : {"libcudart", "libcublas", "libcuda.", "libcublasLt", "libtfc_cuda"})
    EXPECT_FALSE(anyStartsWith(needed, cuda)) << cuda << " in " << ::testing::PrintToString(needed);
}

TEST(RuntimeLibrary, CudaModuleLinksTheCudaLibraries) {
  if (!buildHasCuda())
    GTEST_SKIP() << "this build has no CUDA backend module";
  std::string error;
  std::vector<std::string> needed = neededOf(runtimeDir() + "/libtfc_cuda.so", &error);
  ASSERT_TRUE(error.empty()) << error;
  EXPECT_TRUE(anyStartsWith(needed, "libcudart")) << ::testing::PrintToString(needed);
  EXPECT_TRUE(anyStartsWith(needed, "libcublasLt")) << ::testing::PrintToString(needed);
  // The module carries its own copy of the seam's code (libtfc_runtime.a, hidden): the shared
  // runtime exports only the C API.
  EXPECT_FALSE(anyStartsWith(needed, "libtfc_runtime")) << ::testing::PrintToString(needed);
}

// ---- the loader on stand-in modules ----------------------------------------------------------

TEST(ModuleLoader, MissingFileGivesDlerrorsReason) {
  std::string path = emptyDir() + "/libtfc_cuda.so", why;
  EXPECT_EQ(tfc::rt::loadBackendModule("cuda", path, &why), nullptr);
  EXPECT_THAT(why, HasSubstr(path));
  EXPECT_THAT(why, HasSubstr("cannot open shared object file"));
}

TEST(ModuleLoader, LibraryWithoutEntryPointIsRefused) {
  std::string path = runtimeDir() + "/libtfc_wait_policy.so", why; // a library, not a module
  EXPECT_EQ(tfc::rt::loadBackendModule("cuda", path, &why), nullptr);
  EXPECT_THAT(why, HasSubstr(path + " is not a tfc backend module"));
  EXPECT_THAT(why, HasSubstr("tfc_backend_module_entry"));
}

TEST(ModuleLoader, OtherAbiVersionIsRefusedNamingBoth) {
  std::string why;
  std::string path = fakeModuleDir("badabi") + "/libtfc_cuda.so";
  EXPECT_EQ(tfc::rt::loadBackendModule("cuda", path, &why), nullptr); // (its backend aborts)
  EXPECT_THAT(why, HasSubstr(path + " was built for backend module ABI " +
                             std::to_string(tfc::rt::kBackendModuleAbi + 1000)));
  EXPECT_THAT(why, HasSubstr("this runtime has ABI " + std::to_string(tfc::rt::kBackendModuleAbi)));
}

TEST(ModuleLoader, OtherSeamLayoutIsRefusedNamingBoth) {
  std::string why;
  std::string path = fakeModuleDir("badlayout") + "/libtfc_cuda.so";
  EXPECT_EQ(tfc::rt::loadBackendModule("cuda", path, &why), nullptr);
  char ours[16], theirs[16];
  std::snprintf(ours, sizeof ours, "%08x", tfc::rt::seamLayout());
  std::snprintf(theirs, sizeof theirs, "%08x", tfc::rt::seamLayout() ^ 0x5a5a5a5au);
  EXPECT_THAT(why, HasSubstr("(seam layout " + std::string(theirs) + ")"));
  EXPECT_THAT(why, HasSubstr("this runtime has ABI " + std::to_string(tfc::rt::kBackendModuleAbi) +
                             " (seam layout " + ours + ")"));
}

TEST(ModuleLoader, MatchingModuleGivesItsBackend) {
  std::string why;
  std::string path = fakeModuleDir("good") + "/libtfc_cuda.so";
  const tfc::rt::Backend *b = tfc::rt::loadBackendModule("cuda", path, &why);
  ASSERT_NE(b, nullptr) << why;
  EXPECT_STREQ(b->name(), "cuda");
  EXPECT_STREQ(b->planTarget(), "cuda");
  EXPECT_FALSE(b->available(0, &why));
  EXPECT_EQ(why, "fake module: no device");
  // The module holds the cuda backend: asked for another name it is refused.
  EXPECT_EQ(tfc::rt::loadBackendModule("rocm", path, &why), nullptr);
  EXPECT_THAT(why, HasSubstr("holds the cuda backend, not rocm"));
}

TEST(ModuleLoader, PathIsNextToTheRuntimeUnlessTfcBackendDir) {
  const char *old = std::getenv("TFC_BACKEND_DIR");
  std::string saved = old ? old : "";
  unsetenv("TFC_BACKEND_DIR");
  EXPECT_EQ(tfc::rt::backendModulePath("cuda"), runtimeDir() + "/libtfc_cuda.so");
  setenv("TFC_BACKEND_DIR", "", 1); // empty: as if unset
  EXPECT_EQ(tfc::rt::backendModulePath("cuda"), runtimeDir() + "/libtfc_cuda.so");
  setenv("TFC_BACKEND_DIR", "/opt/tfc/modules", 1);
  EXPECT_EQ(tfc::rt::backendModulePath("cuda"), "/opt/tfc/modules/libtfc_cuda.so");
  if (old)
    setenv("TFC_BACKEND_DIR", saved.c_str(), 1);
  else
    unsetenv("TFC_BACKEND_DIR");
}

// ---- whole processes -------------------------------------------------------------------------
// Each check runs in a death-test child (a fresh process: the registry loads a module once per
// process). The child prints what failed and exits 1, or prints "module checks passed" and exits
// 0; EXPECT_EXIT shows its stderr when it does not match.

struct Checks {
  int failures = 0;
  void expect(bool ok, const std::string &what) {
    if (!ok) {
      ++failures;
      std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    }
  }
  void expectHas(const std::string &text, const std::string &part, const std::string &what) {
    expect(text.find(part) != std::string::npos, what + ": '" + text + "' lacks '" + part + "'");
  }
  [[noreturn]] void finish() {
    if (failures == 0)
      std::fprintf(stderr, "module checks passed\n");
    std::fflush(stderr);
    _exit(failures == 0 ? 0 : 1);
  }
};

/// A CPU Add on a one-kernel plan gives a + b, and (`cudaMapped` false) nothing CUDA is mapped.
void checkCpuRuns(Checks &c) {
  std::vector<float> a = {1.5f, -2.f, 3.25f, 0.f}, b = {0.5f, 4.f, -1.25f, 7.f};
  RunResult r = runKernel(K::Binary, {F32({4}, a), F32({4}, b)}, TFC_F32, {4},
                          opt::binary(fb::BinaryOp::Add));
  c.expect(r.code == TFC_OK, "cpu plan: " + r.message);
  if (r.code == TFC_OK) {
    std::vector<float> y = r.as<float>();
    for (size_t i = 0; i < a.size(); ++i)
      c.expect(y[i] == a[i] + b[i], "cpu Add element " + std::to_string(i));
  }
}

/// A cuda plan (one Add) opened for inspection (any_target): its session, on the default device
/// and on "cuda", fails with TFC_UNAVAILABLE and `reason`.
void checkInspectionOnly(Checks &c, const std::vector<std::string> &reason) {
  PlanBuilder pb;
  pb.target = fb::Target::Cuda;
  int a = pb.addInput("a", TFC_F32, {S(2)}), b = pb.addInput("b", TFC_F32, {S(2)});
  int y = pb.addOutput("y", TFC_F32, {S(2)});
  pb.addKernel(K::Binary, {a, b}, {y}, opt::binary(fb::BinaryOp::Add), "add");
  std::string path = tempPath("cuda_module");
  writeFile(path, pb.build());
  tfc_plan_options po;
  tfc_plan_options_init(&po);
  po.any_target = 1;
  tfc_plan *plan = nullptr;
  tfc_status *s = tfc_plan_open(path.c_str(), &po, &plan);
  std::remove(path.c_str());
  c.expect(!s && plan, "cuda plan opens for inspection");
  tfc_status_free(s);
  if (!plan)
    return;
  for (const char *device : {static_cast<const char *>(nullptr), "cuda"}) {
    tfc_session_options so;
    tfc_session_options_init(&so);
    so.device = device;
    tfc_session *session = nullptr;
    s = tfc_session_create(plan, &so, &session);
    std::string what = std::string("session on ") + (device ? device : "the default device");
    c.expect(s && tfc_status_code(s) == TFC_UNAVAILABLE && !session, what + ": TFC_UNAVAILABLE");
    std::string message = s ? tfc_status_message(s) : "";
    c.expectHas(message, device ? "device 'cuda': the cuda backend's module cannot be loaded: "
                                : "plan targets cuda, which this runtime cannot run (the cuda "
                                  "backend's module cannot be loaded: ", what);
    for (const std::string &part : reason)
      c.expectHas(message, part, what);
    tfc_status_free(s);
    tfc_session_release(session);
  }
  tfc_plan_release(plan);
}

/// The cuda backend fails everywhere with `reason` in its message (TFC_UNAVAILABLE), while the
/// list still names it and the CPU path runs with no CUDA library mapped.
void checkCudaRefused(Checks &c, const std::vector<std::string> &reason) {
  c.expect(tfc_backend_count() == 2 && std::string(tfc_backend_name(1)) == "cuda",
           "the backend list names cuda without its module");
  char why[1024] = {0};
  c.expect(tfc_device_check("cuda:0", why, sizeof why) == 0, "tfc_device_check(cuda:0) is 0");
  c.expectHas(why, "the cuda backend's module cannot be loaded: ", "tfc_device_check");
  for (const std::string &part : reason)
    c.expectHas(why, part, "tfc_device_check");
  RunResult r = runKernelOn(PlanTarget{fb::Target::Cuda, fb::DType::F32}, K::Binary,
                            {F32({2}, {1.f, 2.f}), F32({2}, {3.f, 4.f})}, TFC_F32, {2},
                            opt::binary(fb::BinaryOp::Add));
  c.expect(r.code == TFC_UNAVAILABLE, "cuda plan: code " + std::to_string(int(r.code)));
  c.expectHas(r.message, "the plan targets cuda, which this runtime cannot run (the cuda "
                         "backend's module cannot be loaded: ", "cuda plan");
  for (const std::string &part : reason)
    c.expectHas(r.message, part, "cuda plan");
  checkInspectionOnly(c, reason);
  checkCpuRuns(c);
  c.expect(mapped(kCudaLibraries).empty(),
           "no CUDA library mapped; found " + ::testing::PrintToString(mapped(kCudaLibraries)));
}

TEST(ModuleProcess, AbsentModuleFailsCudaWithDlerrorAndCpuRuns) {
  if (!buildHasCuda())
    GTEST_SKIP() << "this build has no CUDA backend module to miss";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string dir = emptyDir();
  EXPECT_EXIT(
      {
        setenv("TFC_BACKEND_DIR", dir.c_str(), 1);
        Checks c;
        checkCudaRefused(c, {dir + "/libtfc_cuda.so", "cannot open shared object file"});
        c.finish();
      },
      ::testing::ExitedWithCode(0), "module checks passed");
}

TEST(ModuleProcess, OtherAbiModuleFailsCudaNamingBothVersions) {
  if (!buildHasCuda())
    GTEST_SKIP() << "this build has no CUDA backend module to replace";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  const std::string dir = fakeModuleDir("badabi");
  EXPECT_EXIT(
      {
        setenv("TFC_BACKEND_DIR", dir.c_str(), 1);
        Checks c;
        checkCudaRefused(
            c, {"was built for backend module ABI " +
                    std::to_string(tfc::rt::kBackendModuleAbi + 1000),
                "this runtime has ABI " + std::to_string(tfc::rt::kBackendModuleAbi)});
        c.finish();
      },
      ::testing::ExitedWithCode(0), "module checks passed");
}

TEST(ModuleProcess, BuiltModuleLoadsOnFirstNeedOnly) {
  if (!buildHasCuda())
    GTEST_SKIP() << "this build has no CUDA backend module";
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        unsetenv("TFC_BACKEND_DIR");
        Checks c;
        // Listing the backends and running a CPU plan load nothing of CUDA.
        c.expect(tfc_backend_count() == 2, "two backends listed");
        checkCpuRuns(c);
        c.expect(mapped(kCudaLibraries).empty(), "nothing CUDA mapped before a cuda device is "
                                                 "asked for; found " +
                                                     ::testing::PrintToString(mapped(kCudaLibraries)));
        // Asking for a cuda device loads the module from beside libtfc_runtime.so; whether a GPU
        // is usable here, the answer is the backend's own, not the loader's.
        char why[1024] = {0};
        int usable = tfc_device_check("cuda:0", why, sizeof why);
        c.expect(usable || std::string(why).find("module cannot be loaded") == std::string::npos,
                 std::string("the module loads: ") + why);
        c.expect(mapped({"libtfc_cuda.so"}).size() == 1, "libtfc_cuda.so mapped after the check");
        c.expect(mapped({"libcudart"}).size() == 1, "libcudart mapped after the check");
        c.finish();
      },
      ::testing::ExitedWithCode(0), "module checks passed");
}

} // namespace
