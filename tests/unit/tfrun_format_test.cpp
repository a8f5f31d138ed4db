//===- tfrun_format_test.cpp - tfrun's text output ---------------------------===//
#include "tfrun/Format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

using namespace tfc::tfrun;
using ::testing::HasSubstr;

namespace {

tfc_port_info port(const char *name, tfc_dtype dtype, std::vector<tfc_dim_info> dims) {
  tfc_port_info p{};
  p.name = name;
  p.dtype = dtype;
  p.rank = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    p.dims[i] = dims[i];
  return p;
}

} // namespace

TEST(TfrunFormat, Ports) {
  auto p = port("input_ids", TFC_I64,
                {{-1, "batch", 1, 4}, {-1, "seq", 1, 64}, {64, nullptr, 64, 64}});
  EXPECT_EQ(formatPort(p), "input_ids: i64 [batch, seq, 64]");
  EXPECT_EQ(formatDims({2, 7, 64}), "[2, 7, 64]");
  EXPECT_EQ(formatDims({}), "[]");
  EXPECT_STREQ(dtypeName(TFC_BOOL), "bool");
  EXPECT_STREQ(dtypeName(TFC_BF16), "bf16");
}

TEST(TfrunFormat, Description) {
  PlanDescription d;
  d.path = "enc.plan";
  d.info.format_major = 1;
  d.info.format_minor = 0;
  d.info.producer = "tfc 0.1.0";
  d.info.target = "cpu";
  d.precision = "fp16";
  d.info.family = "encoder";
  d.info.model_name = "tiny-encoder";
  d.info.start_id = 1;
  d.info.end_id = 2;
  d.info.unk_id = -1;
  d.info.pad_id = 0;
  d.info.weights_bytes = 2048;
  FunctionDescription f;
  f.name = "forward";
  f.arenaBytes = 3 << 20;
  f.inputs = {port("input_ids", TFC_I64, {{-1, "batch", 1, 4}, {-1, "seq", 1, 64}})};
  f.outputs = {port("last_hidden_state", TFC_F32,
                    {{-1, "batch", 1, 4}, {-1, "seq", 1, 64}, {64, nullptr, 64, 64}})};
  d.functions.push_back(f);
  EXPECT_EQ(formatDescription(d), "plan: enc.plan\n"
                                  "  format version: 1.0\n"
                                  "  producer: tfc 0.1.0\n"
                                  "  target: cpu\n"
                                  "  precision: fp16\n"
                                  "  family: encoder\n"
                                  "  model: tiny-encoder\n"
                                  "  special tokens: start=1 end=2 pad=0\n"
                                  "  weights: 2048 bytes (2.0 KiB)\n"
                                  "function forward:\n"
                                  "  arena: 3145728 bytes (3.0 MiB)\n"
                                  "  inputs:\n"
                                  "    input_ids: i64 [batch, seq]\n"
                                  "  outputs:\n"
                                  "    last_hidden_state: f32 [batch, seq, 64]\n"
                                  "  symbols:\n"
                                  "    batch in [1, 4]\n"
                                  "    seq in [1, 64]\n");
  d.info.start_id = d.info.end_id = d.info.pad_id = -1;
  d.info.producer = nullptr;
  EXPECT_THAT(formatDescription(d), HasSubstr("special tokens: (none)\n"));
  EXPECT_THAT(formatDescription(d), HasSubstr("producer: (none)\n"));
}

TEST(TfrunFormat, TensorSummary) {
  std::vector<float> v = {1.5f, -2.0f, 0.25f, 4.0f};
  EXPECT_EQ(formatTensorSummary("y", TFC_F32, {2, 2}, v.data()),
            "y: f32 [2, 2]\n"
            "  first: 1.5 -2 0.25 4\n"
            "  min -2  max 4  mean 0.9375\n");
  std::vector<int64_t> ids(10);
  for (int i = 0; i < 10; ++i)
    ids[i] = i;
  EXPECT_EQ(formatTensorSummary("ids", TFC_I64, {10}, ids.data()),
            "ids: i64 [10]\n"
            "  first: 0 1 2 3 4 5 6 7 ...\n"
            "  min 0  max 9  mean 4.5\n");
  std::vector<float> nan = {1.0f, NAN, 3.0f};
  EXPECT_THAT(formatTensorSummary("n", TFC_F32, {3}, nan.data()),
              HasSubstr("min 1  max 3  mean 2  nan 1\n"));
  EXPECT_EQ(formatTensorSummary("e", TFC_F32, {0, 3}, nullptr), "e: f32 [0, 3]\n  (empty)\n");
  std::vector<uint16_t> half = {0x3c00, 0xc000}; // 1, -2
  EXPECT_THAT(formatTensorSummary("h", TFC_F16, {2}, half.data()), HasSubstr("first: 1 -2\n"));
}

TEST(TfrunFormat, Latency) {
  LatencyStats s = computeLatency({5, 1, 4, 2, 3, 10, 6, 7, 8, 9});
  EXPECT_EQ(s.runs, 10u);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.p50, 5);
  EXPECT_DOUBLE_EQ(s.p90, 9);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  LatencyStats one = computeLatency({2.5});
  EXPECT_DOUBLE_EQ(one.p50, 2.5);
  EXPECT_DOUBLE_EQ(one.p90, 2.5);
  EXPECT_EQ(formatLatency(one, 3), "latency over 1 run(s) (3 warmup): min 2.500 ms  p50 2.500 ms  "
                                   "p90 2.500 ms  max 2.500 ms  mean 2.500 ms\n");
  EXPECT_EQ(computeLatency({}).runs, 0u);
}

TEST(TfrunFormat, ProfileAggregatesByKindAndNameAndSortsByTotal) {
  std::vector<KernelTime> entries = {
      {"Linear", "layers.0.ffn", 2, 1.0},   {"Attention", "layers.0.attn", 2, 3.0},
      {"Linear", "layers.0.ffn", 2, 2.0},   {"Linear", "layers.1.ffn", 2, 0.5},
      {"LayerNorm", "layers.0.ln", 2, 0.5},
  };
  auto agg = aggregateProfile(entries);
  ASSERT_EQ(agg.size(), 4u);
  EXPECT_EQ(agg[0].kind, "Attention");
  EXPECT_EQ(agg[1].name, "layers.0.ffn");
  EXPECT_EQ(agg[1].calls, 4u);
  EXPECT_DOUBLE_EQ(agg[1].totalMs, 3.0);
  // Ties keep (kind, name) order.
  EXPECT_EQ(agg[2].kind, "LayerNorm");
  EXPECT_EQ(agg[3].name, "layers.1.ffn");

  std::string text = formatProfile(agg, 2);
  EXPECT_THAT(text, HasSubstr("profile: 4 kernel(s), 7.000 ms over 2 run(s)\n"));
  EXPECT_THAT(text,
              HasSubstr("       3.000   42.9%        2  Attention            layers.0.attn\n"));
  EXPECT_THAT(text, HasSubstr("profile by kind:\n       3.500   50.0%        6  Linear\n"));
}
