//===- Generate.h - tfrun --generate ----------------------------------------===//
#ifndef TFC_TOOLS_TFRUN_GENERATE_H
#define TFC_TOOLS_TFRUN_GENERATE_H

#include "Args.h"
#include "Status.h"

#include "tfc/tfc_runtime.h"

#include <cstdio>

namespace tfc::tfrun {

/// Generates with `plan` as `options` ask (tfc_session_generate), streaming tokens to `out`.
Status runGenerate(const Options &options, tfc_plan *plan, const tfc_plan_info &info,
                   std::FILE *out);

} // namespace tfc::tfrun

#endif // TFC_TOOLS_TFRUN_GENERATE_H
