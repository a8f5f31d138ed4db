//===- Progress.h - one progress line on stderr, only when stderr is a terminal ----------------===//
//
// Long compiles, imports and generations report where they are on one line of stderr, redrawn in
// place ("\r" + text + erase to the end of line), e.g. "compiling: pass 5/12 tfc-fuse-attention",
// "importing weights 120/200 MB", "generating 37/64 tokens 41 tok/s". Nothing is ever written
// when stderr is not a terminal (tests, pipes and files see no change), when a tool turned it off
// (--quiet / --no-progress: setProgressEnabled(false)) or when TFC_NO_PROGRESS is set to anything
// but "" or "0". Redraws are throttled (10 per second); the line is erased when the work ends, so
// later messages start on a clean line.
//
//===----------------------------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_PROGRESS_H
#define TFC_SUPPORT_PROGRESS_H

#include <chrono>
#include <string>

namespace tfc::support {

/// Turns every later ProgressLine off (false) or back on (the default) for this process.
void setProgressEnabled(bool enabled);
/// Whether a ProgressLine made now would draw: enabled, TFC_NO_PROGRESS unset, stderr a terminal.
bool progressWanted();

class ProgressLine {
public:
  ProgressLine();
  ~ProgressLine(); // erases the line if anything was drawn
  ProgressLine(const ProgressLine &) = delete;
  ProgressLine &operator=(const ProgressLine &) = delete;

  bool active() const { return active_; }
  /// Redraws the line with `text` (at most 10 times a second unless `force`).
  void update(const std::string &text, bool force = false);
  /// Erases the line (a later update draws it again).
  void clear();

private:
  bool active_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

} // namespace tfc::support

#endif // TFC_SUPPORT_PROGRESS_H
