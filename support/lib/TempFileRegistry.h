//===- TempFileRegistry.h - temporary files to remove on a fatal signal ---===//
//
// A fixed table of paths (no allocation, so the signal handler only reads it and calls
// unlink(2), which is async-signal-safe). OutputFile registers its temporary file while it
// exists; installTempFileCleanup() (OutputFile.h) installs the handler that removes them.
// At most kMaxTempFiles are tracked at once; a further one is written but not tracked.
//
//===----------------------------------------------------------------------===//
#ifndef TFC_SUPPORT_TEMPFILEREGISTRY_H
#define TFC_SUPPORT_TEMPFILEREGISTRY_H

namespace tfc::support::detail {

constexpr int kMaxTempFiles = 64;

/// Returns the slot holding `path`, or -1 when the table is full or the path too long.
int registerTempFile(const char *path);
/// Frees a slot returned by registerTempFile (no-op for -1).
void unregisterTempFile(int slot);

} // namespace tfc::support::detail

#endif
