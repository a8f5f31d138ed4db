//===- Run.h - tfrun's work: open a plan, feed it, run it, report ----------===//
//
// The only part of tfrun that calls the runtime, and only through its C API
// (tfc/tfc_runtime.h).
//
//===----------------------------------------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_RUN_H
#define TFC_TOOLS_TFRUN_RUN_H

#include "Args.h"
#include "Npy.h"
#include "Status.h"

#include "tfc/tfc_runtime.h"

#include <cstdio>

namespace tfc::tfrun {

/// Takes ownership of a runtime status: its message, or success for NULL.
Status take(tfc_status *st);

/// Prints the kernel profile of `function` (accumulated over `runs` runs).
Status printProfile(const tfc_session *session, const std::string &function, int runs,
                    std::FILE *out);

/// Writes one output .npy file (atomically, support/OutputFile.h), after refusing a path that is
/// the plan or one of the --input files (the same file by device and inode).
Status writeOutputNpy(const Options &options, const std::string &path, NpyDtype dtype,
                      const std::vector<int64_t> &shape, const void *data);

/// Does what `options` ask, printing results to `out`.
/// "" when `device` is empty or can be opened here; else an error naming it and saying why.
Status checkDevice(const std::string &device);

Status runTool(const Options &options, std::FILE *out);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_RUN_H
