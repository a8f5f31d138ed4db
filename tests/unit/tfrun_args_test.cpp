//===- tfrun_args_test.cpp - tfrun's flag parsing ---------------------------===//
#include "tfrun/Args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

using namespace tfc::tfrun;

namespace {

Status parse(std::vector<const char *> args, Options &out) {
  args.insert(args.begin(), "tfrun");
  return parseArgs(static_cast<int>(args.size()), args.data(), out);
}

std::string parseError(std::vector<const char *> args) {
  Options o;
  Status s = parse(std::move(args), o);
  EXPECT_FALSE(s.ok());
  return s.error;
}

} // namespace

TEST(TfrunArgs, Defaults) {
  Options o;
  ASSERT_TRUE(parse({"plan.bin"}, o).ok());
  EXPECT_EQ(o.plan, "plan.bin");
  EXPECT_TRUE(o.inputs.empty());
  EXPECT_EQ(o.outputDir, "");
  EXPECT_EQ(o.function, "");
  EXPECT_FALSE(o.describe);
  EXPECT_FALSE(o.verify);
  EXPECT_FALSE(o.profile);
  EXPECT_EQ(o.threads, 0);
  EXPECT_EQ(o.iterations, 1);
  EXPECT_EQ(o.warmup, 0);
}

TEST(TfrunArgs, EveryFlag) {
  Options o;
  Status s = parse({"--input", "input_ids=ids.npy", "plan.bin", "--input=attention_mask=m.npy",
                    "--output-dir", "out", "--describe", "--function=encode", "--threads", "3",
                    "--iterations=10", "--warmup", "2", "--profile", "--verify"},
                   o);
  ASSERT_TRUE(s.ok()) << s.error;
  EXPECT_EQ(o.plan, "plan.bin");
  ASSERT_EQ(o.inputs.size(), 2u);
  EXPECT_EQ(o.inputs[0], std::make_pair(std::string("input_ids"), std::string("ids.npy")));
  EXPECT_EQ(o.inputs[1], std::make_pair(std::string("attention_mask"), std::string("m.npy")));
  EXPECT_EQ(o.outputDir, "out");
  EXPECT_TRUE(o.describe);
  EXPECT_TRUE(o.verify);
  EXPECT_EQ(o.function, "encode");
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.iterations, 10);
  EXPECT_EQ(o.warmup, 2);
  EXPECT_TRUE(o.profile);
}

// --wait-policy takes the three TFC_WAIT_POLICY values; --no-spin is passive; none: empty (the
// environment decides).
TEST(TfrunArgs, WaitPolicy) {
  Options o;
  ASSERT_TRUE(parse({"p"}, o).ok());
  EXPECT_EQ(o.waitPolicy, "");
  for (const char *p : {"auto", "spin", "passive"}) {
    Options w;
    ASSERT_TRUE(parse({"p", "--wait-policy", p}, w).ok()) << p;
    EXPECT_EQ(w.waitPolicy, p);
  }
  Options n;
  ASSERT_TRUE(parse({"p", "--no-spin"}, n).ok());
  EXPECT_EQ(n.waitPolicy, "passive");
  EXPECT_EQ(parseError({"p", "--wait-policy", "sleepy"}),
            "--wait-policy expects auto, spin or passive, got 'sleepy'");
  EXPECT_EQ(parseError({"p", "--wait-policy"}), "--wait-policy needs a value");
  EXPECT_EQ(parseError({"p", "--no-spin=1"}), "--no-spin takes no value");
}

TEST(TfrunArgs, InputFileMayContainEquals) {
  Options o;
  ASSERT_TRUE(parse({"p", "--input", "x=dir/a=b.npy"}, o).ok());
  EXPECT_EQ(o.inputs[0].second, "dir/a=b.npy");
}

TEST(TfrunArgs, Help) {
  Options o;
  ASSERT_TRUE(parse({"--help"}, o).ok());
  EXPECT_TRUE(o.help);
  EXPECT_THAT(kUsage, ::testing::HasSubstr("--input NAME=FILE.npy"));
}

TEST(TfrunArgs, Errors) {
  EXPECT_EQ(parseError({}), "no plan given");
  EXPECT_EQ(parseError({"--describe"}), "no plan given");
  EXPECT_EQ(parseError({"a.bin", "b.bin"}), "more than one plan given ('a.bin' and 'b.bin')");
  EXPECT_EQ(parseError({"p", "--bogus"}), "unknown option '--bogus'");
  EXPECT_EQ(parseError({"p", "--input"}), "--input needs a value");
  EXPECT_EQ(parseError({"p", "--input", "ids.npy"}),
            "--input expects NAME=FILE.npy, got 'ids.npy'");
  EXPECT_EQ(parseError({"p", "--input", "=ids.npy"}),
            "--input expects NAME=FILE.npy, got '=ids.npy'");
  EXPECT_EQ(parseError({"p", "--input", "x="}), "--input expects NAME=FILE.npy, got 'x='");
  EXPECT_EQ(parseError({"p", "--input", "x=a.npy", "--input", "x=b.npy"}),
            "input 'x' given twice");
  EXPECT_EQ(parseError({"p", "--threads", "-1"}),
            "--threads expects an integer in [0, 1024], got '-1'");
  EXPECT_EQ(parseError({"p", "--threads", "65536"}),
            "--threads expects an integer in [0, 1024], got '65536'");
  EXPECT_EQ(parseError({"p", "--threads=1025"}),
            "--threads expects an integer in [0, 1024], got '1025'");
  EXPECT_EQ(parseError({"p", "--iterations", "0"}),
            "--iterations expects an integer >= 1, got '0'");
  EXPECT_EQ(parseError({"p", "--iterations=ten"}),
            "--iterations expects an integer >= 1, got 'ten'");
  EXPECT_EQ(parseError({"p", "--warmup", "99999999999"}),
            "--warmup expects an integer >= 0, got '99999999999'");
  EXPECT_EQ(parseError({"p", "--output-dir="}), "--output-dir needs a directory");
  EXPECT_EQ(parseError({"p", "--profile=yes"}), "--profile takes no value");
}
