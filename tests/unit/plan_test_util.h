//===- plan_test_util.h - shared helpers of the plan_* unit tests ----------===//
#ifndef TFC_TESTS_UNIT_PLAN_TEST_UTIL_H
#define TFC_TESTS_UNIT_PLAN_TEST_UTIL_H

#include "tfc/driver/Compiler.h"

#include <gtest/gtest.h>

#include <string>

namespace plantest {

inline std::string examplePath(const std::string &name) {
  return std::string(TFC_SOURCE_DIR) + "/examples/models/" + name + ".fbs";
}

/// Compiles an example and builds its plan; fails the test on an error.
inline void compileExample(mlir::MLIRContext &context, const std::string &name, bool fuse,
                           tfc::driver::CompileResult &result, tfc::planner::Plan &plan,
                           tfc::driver::CompileOptions options = {}) {
  options.fuse = fuse;
  auto s = tfc::driver::compileModel(context, examplePath(name), options, result);
  ASSERT_TRUE(s.ok()) << s.error;
  s = tfc::driver::buildPlan(result, options, plan);
  ASSERT_TRUE(s.ok()) << s.error;
}

inline int32_t symbolIndex(const tfc::planner::Plan &plan, const std::string &name) {
  for (size_t i = 0; i < plan.symbols.size(); ++i)
    if (plan.symbols[i].name == name)
      return static_cast<int32_t>(i);
  return -1;
}

} // namespace plantest

#endif // TFC_TESTS_UNIT_PLAN_TEST_UTIL_H
