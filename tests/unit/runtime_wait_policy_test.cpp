//===- runtime_wait_policy_test.cpp - TFC_WAIT_POLICY parsed and mapped to OpenMP variables ---===//
//
// The pure half of runtime/src/waitpolicy/WaitPolicy.h: values accepted and refused, and which
// OpenMP variables each policy sets. That they reach libgomp before it initializes is checked
// from outside by the runtime_wait_policy_display.* tests (runtime.cmake).
//
//===------------------------------------------------------------------------------------------===//
#include "WaitPolicy.h"

#include <gtest/gtest.h>

namespace {

using tfc::rt::WaitPolicy;

TEST(WaitPolicy, ParsesTheThreeValuesInAnyCaseAndDefaultsToAuto) {
  WaitPolicy p = WaitPolicy::Spin;
  std::string error;
  ASSERT_TRUE(tfc::rt::parseWaitPolicy(nullptr, &p, &error));
  EXPECT_EQ(p, WaitPolicy::Auto);
  p = WaitPolicy::Spin;
  ASSERT_TRUE(tfc::rt::parseWaitPolicy("", &p, &error));
  EXPECT_EQ(p, WaitPolicy::Auto);
  ASSERT_TRUE(tfc::rt::parseWaitPolicy("AUTO", &p, &error));
  EXPECT_EQ(p, WaitPolicy::Auto);
  ASSERT_TRUE(tfc::rt::parseWaitPolicy("spin", &p, &error));
  EXPECT_EQ(p, WaitPolicy::Spin);
  ASSERT_TRUE(tfc::rt::parseWaitPolicy("Passive", &p, &error));
  EXPECT_EQ(p, WaitPolicy::Passive);
  EXPECT_TRUE(error.empty());
}

TEST(WaitPolicy, RefusesOtherValuesNamingThemAndTheChoices) {
  for (const char *bad : {"active", "spinning", "passive ", "1", "auto,spin"}) {
    WaitPolicy p = WaitPolicy::Spin;
    std::string error;
    EXPECT_FALSE(tfc::rt::parseWaitPolicy(bad, &p, &error)) << bad;
    EXPECT_EQ(error, std::string("TFC_WAIT_POLICY='") + bad +
                         "' is not one of auto, spin, passive");
    EXPECT_EQ(p, WaitPolicy::Spin) << "left unchanged on error";
  }
}

TEST(WaitPolicy, EnvironmentPerPolicy) {
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(tfc::rt::waitPolicyEnvironment(WaitPolicy::Auto, nullptr, nullptr),
            (Env{{"GOMP_SPINCOUNT", tfc::rt::autoSpinCount()}}));
  EXPECT_EQ(tfc::rt::waitPolicyEnvironment(WaitPolicy::Passive, nullptr, nullptr),
            (Env{{"OMP_WAIT_POLICY", "PASSIVE"}}));
  EXPECT_EQ(tfc::rt::waitPolicyEnvironment(WaitPolicy::Spin, nullptr, nullptr), Env{});
}

TEST(WaitPolicy, TheUsersOpenMpVariablesWin) {
  for (WaitPolicy p : {WaitPolicy::Auto, WaitPolicy::Spin, WaitPolicy::Passive}) {
    EXPECT_TRUE(tfc::rt::waitPolicyEnvironment(p, "ACTIVE", nullptr).empty());
    EXPECT_TRUE(tfc::rt::waitPolicyEnvironment(p, nullptr, "1000").empty());
    EXPECT_TRUE(tfc::rt::waitPolicyEnvironment(p, "", nullptr).empty()) << "set, even if empty";
  }
}

} // namespace
