//===- OutOfMemory.cpp - the size of the allocation that failed -----------===//
#include "tfc/driver/OutOfMemory.h"

#include <atomic>

namespace tfc::driver {

namespace {
std::atomic<std::size_t> failedBytes{0};
} // namespace

void noteFailedAllocation(std::size_t bytes) noexcept { failedBytes.store(bytes); }

std::string outOfMemoryMessage(const std::string &what) {
  std::size_t bytes = failedBytes.exchange(0);
  return "out of memory while " + what +
         (bytes ? ": a request for " + std::to_string(bytes) + " bytes failed"
                : " (the size of the failed request is unknown)");
}

} // namespace tfc::driver
