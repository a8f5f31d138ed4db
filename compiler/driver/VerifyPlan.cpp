//===- VerifyPlan.cpp - open a written plan with the runtime's own loader ---===//
//
// The compiler checks what it can while it builds a plan (sizes, ranks, indices); the last
// word is the runtime's: writePlanFile() opens the complete temporary file with
// tfc_plan_open (every check of docs/PLAN_FORMAT.md, the tokenizer built, the checksums)
// before it replaces the destination, so `tfc compile` never leaves a plan the runtime refuses.
//
//===----------------------------------------------------------------------===//
#include "tfc/driver/Compiler.h"

#include "tfc/tfc_runtime.h"

static_assert(tfc::planner::kMaxRank == TFC_MAX_RANK,
              "the compiler's rank limit must be the runtime's");

namespace tfc::driver {

Status verifyPlanFile(const std::string &file) {
  tfc_plan *plan = nullptr;
  tfc_status *status = tfc_plan_open(file.c_str(), nullptr, &plan);
  tfc_plan_release(plan);
  if (!status)
    return {};
  std::string message = tfc_status_message(status);
  tfc_status_free(status);
  // The loader names the temporary file; the caller names the destination.
  std::string prefix = "plan '" + file + "': ";
  if (message.rfind(prefix, 0) == 0)
    message = message.substr(prefix.size());
  return {"the runtime refuses the plan: " + message};
}

} // namespace tfc::driver
