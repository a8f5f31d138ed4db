//===- Progress.cpp - one progress line on stderr, only when stderr is a terminal --------------===//
#include "tfc/support/Progress.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace tfc::support {
namespace {
std::atomic<bool> enabledFlag{true};
} // namespace

void setProgressEnabled(bool enabled) { enabledFlag = enabled; }

bool progressWanted() {
  if (!enabledFlag)
    return false;
  const char *env = std::getenv("TFC_NO_PROGRESS");
  if (env && *env && std::strcmp(env, "0") != 0)
    return false;
  return isatty(STDERR_FILENO) == 1;
}

ProgressLine::ProgressLine() : active_(progressWanted()) {}

ProgressLine::~ProgressLine() { clear(); }

void ProgressLine::update(const std::string &text, bool force) {
  if (!active_)
    return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && !force && now - last_ < std::chrono::milliseconds(100))
    return;
  last_ = now;
  std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressLine::clear() {
  if (!drawn_)
    return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  drawn_ = false;
}

} // namespace tfc::support
