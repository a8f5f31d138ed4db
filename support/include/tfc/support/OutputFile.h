//===- OutputFile.h - writing a user's output file without losing anything -*- C++ -*-===//
//
// Every file tfc writes for a user (plans, model.fbs, reports, MLIR, .npy outputs) goes through
// OutputFile, so the rules hold in one place:
//   * the data is written to a temporary file next to the target and renamed over it only when
//     complete: a failure (or Ctrl-C, see installTempFileCleanup) leaves what was there before;
//   * a symbolic link is written through to the file it names (the link stays a link);
//   * an existing character device or FIFO (/dev/null, a pipe) is written to directly and is
//     never replaced; any other non-regular file (a directory, socket, block device) is refused;
//   * an existing file keeps its permission bits; a new one gets 0666 & ~umask, as open() would.
// checkOutputPaths() refuses an output that is one of the inputs (same device and inode, so
// links and other spellings of the path count) and a path given for two outputs.
//
// Errors are returned as a message (empty = success) naming the path; nothing here throws.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_OUTPUTFILE_H
#define TFC_SUPPORT_OUTPUTFILE_H

#include <cstddef>
#include <string>
#include <vector>

namespace tfc::support {

class OutputFile {
public:
  OutputFile() = default;
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;
  OutputFile(OutputFile &&other) noexcept;
  OutputFile &operator=(OutputFile &&other) noexcept;
  /// Removes the temporary file unless commit() succeeded.
  ~OutputFile();

  /// Prepares to write `path`: resolves links, refuses what may not be replaced, creates the
  /// temporary file. Returns an error message, empty on success.
  [[nodiscard]] std::string open(const std::string &path);
  /// The descriptor to write to (the temporary file, or the device/FIFO itself).
  int fd() const { return fd_; }
  /// The path the caller asked for, and the file that is written in the end (a link's target).
  const std::string &path() const { return path_; }
  const std::string &target() const { return target_; }
  /// The temporary file ("" when writing to a device or FIFO directly).
  const std::string &tempPath() const { return temp_; }

  /// Writes all `size` bytes (retrying short writes and EINTR).
  [[nodiscard]] std::string write(const void *data, size_t size);
  /// Gives the file its mode, flushes it to disk and renames it over the target.
  [[nodiscard]] std::string commit();
  /// Closes and removes the temporary file (the target is untouched).
  void discard();

private:
  std::string fail(const std::string &what, int err);
  int fd_ = -1;
  bool direct_ = false;          // a device or FIFO: written in place
  bool existed_ = false;         // the target existed: keep its mode
  unsigned mode_ = 0;            // the existing target's permission bits
  unsigned uid_ = 0, gid_ = 0;   // and owner (kept when we may)
  int slot_ = -1;                // TempFileRegistry slot of temp_
  std::string path_, target_, temp_;
};

/// Writes `size` bytes at `data` to `path` through an OutputFile.
[[nodiscard]] std::string writeFileAtomically(const std::string &path, const void *data,
                                              size_t size);
[[nodiscard]] inline std::string writeFileAtomically(const std::string &path,
                                                     const std::string &contents) {
  return writeFileAtomically(path, contents.data(), contents.size());
}

/// A path with what it is for the user ("the model", "-o", "--report"), for messages.
struct NamedPath {
  std::string path;
  std::string role;
};
/// Refuses an output that is the same file as an input (an existing file with the same device
/// and inode: hard links, symlinks and other spellings included) and a file named by two
/// outputs. Returns an error message naming both, empty when the paths are fine.
[[nodiscard]] std::string checkOutputPaths(const std::vector<NamedPath> &inputs,
                                           const std::vector<NamedPath> &outputs);

/// Installs SIGINT/SIGTERM/SIGHUP handlers that remove every OutputFile's temporary file, then
/// end the process with the signal as before (a tool calls this once, in main; a library never
/// does: an embedding application owns its signal handlers). Handlers that are not the default
/// are left alone.
void installTempFileCleanup();

} // namespace tfc::support

#endif // TFC_SUPPORT_OUTPUTFILE_H
