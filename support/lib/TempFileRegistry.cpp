//===- TempFileRegistry.cpp - remove temporary outputs on SIGINT/SIGTERM ---===//
#include "TempFileRegistry.h"

#include "tfc/support/OutputFile.h"

#include <atomic>
#include <csignal>
#include <cstring>
#include <unistd.h>

namespace tfc::support {
namespace detail {
namespace {

constexpr size_t kMaxPath = 4096;
enum : int { kFree = 0, kFilling = 1, kLive = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[kMaxPath]{}; // {}: constant-initialized (.bss), no page touched at start
};
Slot slots[kMaxTempFiles];

extern "C" void removeTempFilesAndDie(int sig) {
  for (Slot &slot : slots)
    if (slot.state.load(std::memory_order_acquire) == kLive)
      ::unlink(slot.path);
  // End the process the way the signal would have, so the parent sees it.
  std::signal(sig, SIG_DFL);
  ::raise(sig);
}

} // namespace

int registerTempFile(const char *path) {
  size_t n = std::strlen(path);
  if (n >= kMaxPath)
    return -1;
  for (int i = 0; i < kMaxTempFiles; ++i) {
    int expected = kFree;
    if (slots[i].state.compare_exchange_strong(expected, kFilling, std::memory_order_acq_rel)) {
      std::memcpy(slots[i].path, path, n + 1);
      slots[i].state.store(kLive, std::memory_order_release);
      return i;
    }
  }
  return -1;
}

void unregisterTempFile(int slot) {
  if (slot >= 0 && slot < kMaxTempFiles)
    slots[slot].state.store(kFree, std::memory_order_release);
}

} // namespace detail

void installTempFileCleanup() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL)
      continue;  // ignored (nohup) or someone else's handler: leave it
    struct sigaction act {};
    act.sa_handler = detail::removeTempFilesAndDie;
    sigemptyset(&act.sa_mask);
    act.sa_flags = SA_RESETHAND;
    ::sigaction(sig, &act, nullptr);
  }
}

} // namespace tfc::support
