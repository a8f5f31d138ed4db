//===- WaitPolicy.cpp - TFC_WAIT_POLICY applied before libgomp initializes --------------------===//
//
// Built as its own shared library (libtfc_wait_policy) with no dependency but libc, listed in
// libtfc_runtime after libgomp: glibc runs the initializers of a library's dependencies in
// reverse order of its DT_NEEDED list, so this constructor runs before libgomp's, which reads
// the environment (checked by the wait_policy_display_* tests through OMP_DISPLAY_ENV).
//
//===------------------------------------------------------------------------------------------===//
#include "WaitPolicy.h"

#include <cctype>
#include <cstdlib>
#include <cstring>

namespace tfc::rt {
namespace {

// Written once by the constructor, before main and before any other thread exists.
std::string &appliedText() {
  static std::string text = "not applied (the library's constructor did not run)";
  return text;
}

bool equalsNoCase(const char *a, const char *b) {
  for (; *a && *b; ++a, ++b)
    if (std::tolower(static_cast<unsigned char>(*a)) != std::tolower(static_cast<unsigned char>(*b)))
      return false;
  return *a == *b;
}

__attribute__((constructor)) void applyWaitPolicyAtLoad() {
  const char *value = std::getenv("TFC_WAIT_POLICY");
  WaitPolicy policy;
  std::string error;
  if (!parseWaitPolicy(value, &policy, &error)) {
    appliedText() = "nothing set: " + error;
    return;
  }
  const char *name = policy == WaitPolicy::Auto ? "auto"
                     : policy == WaitPolicy::Spin ? "spin"
                                                  : "passive";
  const char *omp = std::getenv("OMP_WAIT_POLICY");
  const char *spin = std::getenv("GOMP_SPINCOUNT");
  std::string text = name;
  auto vars = waitPolicyEnvironment(policy, omp, spin);
  for (const auto &[key, val] : vars) {
    setenv(key.c_str(), val.c_str(), 0);
    text += ": " + key + "=" + val;
  }
  if (vars.empty() && (omp || spin))
    text += std::string(": left to the user's ") + (omp ? "OMP_WAIT_POLICY=" : "GOMP_SPINCOUNT=") +
            (omp ? omp : spin);
  else if (vars.empty())
    text += ": the OpenMP runtime's default";
  appliedText() = text;
}

} // namespace

bool parseWaitPolicy(const char *value, WaitPolicy *policy, std::string *error) {
  if (!value || !*value || equalsNoCase(value, "auto")) {
    *policy = WaitPolicy::Auto;
    return true;
  }
  if (equalsNoCase(value, "spin")) {
    *policy = WaitPolicy::Spin;
    return true;
  }
  if (equalsNoCase(value, "passive")) {
    *policy = WaitPolicy::Passive;
    return true;
  }
  if (error)
    *error = std::string("TFC_WAIT_POLICY='") + value + "' is not one of auto, spin, passive";
  return false;
}

std::vector<std::pair<std::string, std::string>>
waitPolicyEnvironment(WaitPolicy policy, const char *ompWaitPolicy, const char *gompSpinCount) {
  // The user's own OpenMP settings are the more specific request: tfc adds nothing to them.
  if (ompWaitPolicy || gompSpinCount)
    return {};
  switch (policy) {
  case WaitPolicy::Auto:
    return {{"GOMP_SPINCOUNT", autoSpinCount()}};
  case WaitPolicy::Passive:
    return {{"OMP_WAIT_POLICY", "PASSIVE"}};
  case WaitPolicy::Spin:
    break;
  }
  return {};
}

const char *autoSpinCount() { return TFC_WAIT_POLICY_AUTO_SPIN; }

const char *waitPolicyApplied() { return appliedText().c_str(); }

bool checkWaitPolicyEnv(std::string *error) {
  WaitPolicy policy;
  return parseWaitPolicy(std::getenv("TFC_WAIT_POLICY"), &policy, error);
}

} // namespace tfc::rt
