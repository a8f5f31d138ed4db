//===- ConstantKernels.cpp - kernels of a plan whose inputs are all constants -===//
//
// A kernel whose every (present) input is a plan constant computes the same value at every
// run: the compiler should have folded it (tfc-fold-constants). The driver reports the count
// (`--report`'s "constant_input_kernels", 0 for every model the compiler folds completely) and
// `tfc compile` warns when it is not zero. Works on the lowered plan, so it sees exactly the
// kernels the runtime will run, in every function (forward and the generation functions).
//
//===----------------------------------------------------------------------===//
#include "tfc/lower/cpu/LowerToPlan.h"

namespace tfc::lower {

std::vector<std::string> constantInputKernels(const planner::Plan &plan) {
  std::vector<std::string> out;
  for (const planner::Function &fn : plan.functions)
    for (const planner::Kernel &k : fn.kernels) {
      bool any = false, allConstant = true;
      for (int32_t in : k.inputs) {
        if (in < 0)
          continue;  // an absent optional input
        any = true;
        if (in >= (int32_t)fn.values.size() ||
            fn.values[in].kind != planner::fb::ValueKind::Constant)
          allConstant = false;
      }
      if (any && allConstant)
        out.push_back(fn.name + ": " + (k.name.empty() ? "(unnamed)" : k.name) + " (" +
                      planner::fb::EnumNameKernelKind(k.kind) + ")");
    }
  return out;
}

} // namespace tfc::lower
