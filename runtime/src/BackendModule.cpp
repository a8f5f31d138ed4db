//===- BackendModule.cpp - finding and loading a backend module (BackendModule.h) -------------===//
#include "BackendModule.h"

#include "Error.h"

#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <unistd.h>

namespace tfc::rt {

namespace {

/// The directory of the libtfc_runtime.so holding this function, or "" when unknown. A program
/// that linked the static libtfc_runtime.a holds this function itself: then the modules are
/// looked for where an installation puts them, <dir of the program>/../lib when the program is in
/// a bin/ directory (<prefix>/bin and <prefix>/lib; build/bin and build/lib), else beside it.
std::string runtimeDirectory() {
  Dl_info info{};
  if (!dladdr(reinterpret_cast<const void *>(&runtimeDirectory), &info) || !info.dli_fname)
    return "";
  std::string file = info.dli_fname;
  size_t slash = file.rfind('/');
  const bool isLibrary = file.find(".so", slash == std::string::npos ? 0 : slash) !=
                         std::string::npos;
  if (!isLibrary) { // the main program (dladdr gives its argv[0]): its real path
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
      return "";
    file.assign(exe, size_t(n));
    slash = file.rfind('/');
  }
  std::string dir = slash == std::string::npos ? "" : file.substr(0, slash);
  if (!isLibrary) {
    size_t up = dir.rfind('/');
    if (up != std::string::npos && dir.compare(up + 1, std::string::npos, "bin") == 0)
      return dir.substr(0, up) + "/lib";
  }
  return dir;
}

std::string lastDlError() {
  const char *e = dlerror();
  return e ? e : "unknown dynamic loader error";
}

/// dlerror's text about `path`, which usually starts with the file it could not load (the
/// module, or a library the module needs: then the module's path comes first).
std::string dlopenFailure(const std::string &path) {
  std::string e = lastDlError();
  return e.rfind(path, 0) == 0 ? e : path + ": " + e;
}

} // namespace

std::string backendModulePath(const std::string &name) {
  const std::string file = "libtfc_" + name + ".so";
  if (const char *dir = std::getenv("TFC_BACKEND_DIR"); dir && *dir)
    return std::string(dir) + "/" + file;
  std::string dir = runtimeDirectory();
  return dir.empty() ? file : dir + "/" + file;
}

const Backend *loadBackendModule(const std::string &name, const std::string &path,
                                 std::string *why) {
  auto refuse = [&](void *handle, std::string reason) -> const Backend * {
    if (handle)
      dlclose(handle);
    if (why)
      *why = std::move(reason);
    return nullptr;
  };
  dlerror(); // clear an earlier error
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return refuse(nullptr, dlopenFailure(path));
  auto entry = reinterpret_cast<tfc_backend_module_entry_fn>(dlsym(handle, kBackendModuleEntry));
  if (!entry)
    return refuse(handle, format("%s is not a tfc backend module: %s", path.c_str(),
                                 lastDlError().c_str()));
  const tfc_backend_module *m = entry();
  if (!m)
    return refuse(handle, format("%s: %s returned no descriptor", path.c_str(),
                                 kBackendModuleEntry));
  if (m->abiVersion != kBackendModuleAbi || m->seamLayout != seamLayout())
    return refuse(handle,
                  format("%s was built for backend module ABI %u (seam layout %08x), this "
                         "runtime has ABI %u (seam layout %08x): use the module built with this "
                         "runtime", path.c_str(), m->abiVersion, m->seamLayout,
                         kBackendModuleAbi, seamLayout()));
  if (!m->name || name != m->name)
    return refuse(handle, format("%s holds the %s backend, not %s", path.c_str(),
                                 m->name ? m->name : "(unnamed)", name.c_str()));
  const Backend *backend = nullptr;
  try {
    backend = m->backend ? m->backend() : nullptr;
  } catch (const std::exception &e) {
    return refuse(handle, format("%s: its backend failed to start: %s", path.c_str(), e.what()));
  }
  if (!backend || name != backend->name())
    return refuse(handle, format("%s gave no %s backend", path.c_str(), name.c_str()));
  return backend; // the module stays loaded for the life of the process
}

} // namespace tfc::rt
