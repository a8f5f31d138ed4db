//===- WaitPolicy.h - how OpenMP worker threads wait: TFC_WAIT_POLICY -------------------------===//
//
// libgomp (the OpenMP runtime of the kernels and of Debian's oneDNN) reads OMP_WAIT_POLICY and
// GOMP_SPINCOUNT once, in its ELF constructor; nothing changes them afterwards. Its default is
// to spin 300,000 iterations (milliseconds) at every barrier and between parallel regions: on a
// machine with one other busy process the spinning threads take the cores the working ones
// need, and a MiniLM run that takes 55 ms quiet takes up to seconds (docs/BENCHMARKS.md, "Busy
// machine"). So libtfc_wait_policy, a tiny library that libtfc_runtime lists after libgomp (the
// loader then runs its constructor first), translates TFC_WAIT_POLICY into the OpenMP variables
// before libgomp reads them:
//   auto (the default)  GOMP_SPINCOUNT=kAutoSpinCount: a short spin, then sleep,
//   spin                nothing set: libgomp's default (long spins; for users who own the cores),
//   passive             OMP_WAIT_POLICY=PASSIVE: sleep at once.
// OMP_WAIT_POLICY or GOMP_SPINCOUNT set by the user always win (tfc sets neither then). A process
// that initialized libgomp before loading libtfc_runtime keeps its own policy. An unknown value
// is left alone here and refused when a CPU session opens (checkWaitPolicyEnv).
//
//===------------------------------------------------------------------------------------------===//
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tfc::rt {

enum class WaitPolicy { Auto, Spin, Passive };

/// Spin iterations before a waiting libgomp thread sleeps under `auto`, as GOMP_SPINCOUNT text
/// (libgomp's default is 300,000; measured in docs/BENCHMARKS.md, "Busy machine"). Set in
/// runtime/CMakeLists.txt (TFC_WAIT_POLICY_AUTO_SPIN).
const char *autoSpinCount();

/// Parses a TFC_WAIT_POLICY value: null or "" is auto; "auto", "spin", "passive" (any case).
/// False, with *error naming the variable, the value and the choices, for anything else.
bool parseWaitPolicy(const char *value, WaitPolicy *policy, std::string *error);

/// The environment variables to set for `policy`, given the current OMP_WAIT_POLICY and
/// GOMP_SPINCOUNT (null when unset): none when either is set, or for spin.
std::vector<std::pair<std::string, std::string>>
waitPolicyEnvironment(WaitPolicy policy, const char *ompWaitPolicy, const char *gompSpinCount);

/// What the library's constructor did at load, for --describe-like reports and tests, e.g.
/// "auto: GOMP_SPINCOUNT=1000" or "auto: left to the user's OMP_WAIT_POLICY=ACTIVE".
const char *waitPolicyApplied();

/// The current TFC_WAIT_POLICY is valid; otherwise false with *error (sessions refuse to open).
bool checkWaitPolicyEnv(std::string *error);

} // namespace tfc::rt
