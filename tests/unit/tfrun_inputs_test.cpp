//===- tfrun_inputs_test.cpp - tfrun's input generation and symbol binding -===//
#include "tfrun/Inputs.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

using namespace tfc::tfrun;

namespace {

tfc_dim_info symbolic(const char *symbol, int64_t min, int64_t max) {
  return tfc_dim_info{-1, symbol, min, max};
}
tfc_dim_info fixed(int64_t size) { return tfc_dim_info{size, nullptr, size, size}; }

tfc_port_info port(const char *name, tfc_dtype dtype, std::vector<tfc_dim_info> dims) {
  tfc_port_info p{};
  p.name = name;
  p.dtype = dtype;
  p.rank = static_cast<int32_t>(dims.size());
  for (size_t i = 0; i < dims.size(); ++i)
    p.dims[i] = dims[i];
  return p;
}

tfc_plan_info infoWithTokens(int32_t start) {
  tfc_plan_info info{};
  info.start_id = start;
  info.end_id = 2;
  info.unk_id = 3;
  info.pad_id = 0;
  return info;
}

tfc_plan_info infoWithoutTokens() {
  tfc_plan_info info{};
  info.start_id = info.end_id = info.unk_id = info.pad_id = -1;
  return info;
}

template <typename T> std::vector<T> values(const HostTensor &t) {
  std::vector<T> v(static_cast<size_t>(t.numElements()));
  std::memcpy(v.data(), t.data.data(), v.size() * sizeof(T));
  return v;
}

} // namespace

TEST(TfrunInputs, DefaultSymbolSizes) {
  EXPECT_EQ(defaultSymbolSize(symbolic("batch", 1, 4)), 1);
  EXPECT_EQ(defaultSymbolSize(symbolic("batch", 2, 4)), 2);
  EXPECT_EQ(defaultSymbolSize(symbolic("seq", 1, 64)), 64);
  EXPECT_EQ(defaultSymbolSize(symbolic("seq", 1, 512)), 128);
  EXPECT_EQ(defaultSymbolSize(symbolic("src_seq", 1, 8)), 8);
}

TEST(TfrunInputs, TokenIdsStartWithStartIdThenSmallIds) {
  SymbolBindings b;
  auto p = port("input_ids", TFC_I64, {symbolic("batch", 1, 4), symbolic("seq", 1, 6)});
  HostTensor t = generateInput(p, infoWithTokens(1), b);
  EXPECT_EQ(t.name, "input_ids");
  EXPECT_EQ(t.dtype, TFC_I64);
  EXPECT_EQ(t.dims, (std::vector<int64_t>{1, 6}));
  EXPECT_EQ(values<int64_t>(t), (std::vector<int64_t>{1, 4, 5, 6, 7, 8}));
  EXPECT_EQ(b.at("batch"), 1);
  EXPECT_EQ(b.at("seq"), 6);
}

TEST(TfrunInputs, TokenIdsStayBelow100) {
  SymbolBindings b;
  auto p = port("input_ids", TFC_I32, {symbolic("batch", 1, 1), symbolic("seq", 1, 300)});
  HostTensor t = generateInput(p, infoWithTokens(-1), b);
  ASSERT_EQ(t.dims, (std::vector<int64_t>{1, 128}));
  auto v = values<int32_t>(t);
  EXPECT_EQ(v[0], 4); // no start token: small ids from the first position
  for (int32_t id : v) {
    EXPECT_GE(id, 4);
    EXPECT_LT(id, 100);
  }
}

TEST(TfrunInputs, TokenIdsStayInsideTheTable) {
  // chargpt: a 64-character vocabulary; the cycle 4..99 read past it ("index 64 is out of range
  // for dim 0 of size 64").
  SymbolBindings b;
  auto p = port("input_ids", TFC_I64, {symbolic("batch", 1, 16), symbolic("seq", 1, 256)});
  tfc_input_values ids{TFC_INPUT_IDS, 64};
  auto v = values<int64_t>(generateInput(p, infoWithTokens(1), b, &ids));
  ASSERT_EQ(v.size(), 128u);
  EXPECT_EQ(v[0], 1); // the start token
  EXPECT_EQ(v[1], 4);
  EXPECT_EQ(v[60], 63);
  EXPECT_EQ(v[61], 4);
  for (int64_t id : v) {
    EXPECT_GE(id, 0);
    EXPECT_LT(id, 64);
  }
  // Tables smaller than the special ids: a start id outside is skipped, every id fits.
  for (int64_t bound : {1, 2, 3, 5}) {
    SymbolBindings b2;
    tfc_input_values small{TFC_INPUT_IDS, bound};
    for (int32_t start : {1, 7, -1})
      for (int64_t id : values<int64_t>(generateInput(p, infoWithTokens(start), b2, &small))) {
        EXPECT_GE(id, 0) << bound;
        EXPECT_LT(id, bound) << bound;
      }
  }
  // A rule that says "data" changes nothing.
  SymbolBindings b3;
  tfc_input_values data{TFC_INPUT_DATA, 0};
  EXPECT_EQ(values<int64_t>(generateInput(p, infoWithTokens(1), b3, &data)),
            values<int64_t>(generateInput(p, infoWithTokens(1), b3)));
}

TEST(TfrunInputs, InputsThePlanTakesAsMasksAreOnes) {
  SymbolBindings b;
  tfc_input_values mask{TFC_INPUT_MASK, 0};
  auto dims = std::vector<tfc_dim_info>{fixed(1), fixed(4)};
  EXPECT_EQ(values<int64_t>(generateInput(port("src_key_padding", TFC_I64, dims),
                                          infoWithTokens(1), b, &mask)),
            std::vector<int64_t>(4, 1));
  EXPECT_EQ(values<uint8_t>(generateInput(port("keep", TFC_BOOL, dims), infoWithTokens(1), b,
                                          &mask)),
            std::vector<uint8_t>(4, 1));
}

TEST(TfrunInputs, TokenIdsWithoutSpecialTokensAreOnes) {
  SymbolBindings b;
  HostTensor t = generateInput(port("ids", TFC_I64, {fixed(2), fixed(3)}), infoWithoutTokens(), b);
  EXPECT_EQ(values<int64_t>(t), std::vector<int64_t>(6, 1));
}

TEST(TfrunInputs, MasksAreOnesAndTokenTypesZeros) {
  SymbolBindings b;
  tfc_plan_info info = infoWithTokens(1);
  auto dims = std::vector<tfc_dim_info>{symbolic("batch", 1, 4), symbolic("seq", 1, 5)};
  EXPECT_EQ(values<int64_t>(generateInput(port("attention_mask", TFC_I64, dims), info, b)),
            std::vector<int64_t>(5, 1));
  EXPECT_EQ(values<uint8_t>(generateInput(port("src_mask", TFC_BOOL, dims), info, b)),
            std::vector<uint8_t>(5, 1));
  EXPECT_EQ(values<float>(generateInput(port("mask", TFC_F32, dims), info, b)),
            std::vector<float>(5, 1.0f));
  EXPECT_EQ(values<int64_t>(generateInput(port("token_type_ids", TFC_I64, dims), info, b)),
            std::vector<int64_t>(5, 0));
  EXPECT_EQ(values<int64_t>(generateInput(port("position_ids", TFC_I64, dims), info, b)),
            (std::vector<int64_t>{0, 1, 2, 3, 4}));
}

TEST(TfrunInputs, GivenInputsBindSymbolsForGeneratedOnes) {
  auto ids = port("input_ids", TFC_I64, {symbolic("batch", 1, 4), symbolic("seq", 1, 64)});
  auto mask = port("attention_mask", TFC_I64, {symbolic("batch", 1, 4), symbolic("seq", 1, 64)});
  HostTensor given;
  given.name = "input_ids";
  given.dtype = TFC_I64;
  given.dims = {3, 9};
  SymbolBindings b;
  bindSymbols(ids, given, b);
  HostTensor m = generateInput(mask, infoWithTokens(1), b);
  EXPECT_EQ(m.dims, (std::vector<int64_t>{3, 9}));
}

TEST(TfrunInputs, RankMismatchBindsNothing) {
  auto ids = port("input_ids", TFC_I64, {symbolic("batch", 1, 4), symbolic("seq", 1, 64)});
  HostTensor given;
  given.dims = {9};
  SymbolBindings b;
  bindSymbols(ids, given, b);
  EXPECT_TRUE(b.empty());
}

TEST(TfrunInputs, FloatInputsAreADeterministicPattern) {
  SymbolBindings b;
  HostTensor t = generateInput(port("x", TFC_F32, {fixed(4)}), infoWithTokens(1), b);
  EXPECT_EQ(values<float>(t), (std::vector<float>{-1.0f, -0.63f, -0.26f, 0.11f}));
}

TEST(TfrunInputs, FromNpy) {
  NpyArray a;
  a.dtype = NpyDtype::I32;
  a.shape = {2};
  a.data.assign(8, 0);
  HostTensor t;
  ASSERT_TRUE(tensorFromNpy("ids", "ids.npy", a, t).ok());
  EXPECT_EQ(t.name, "ids");
  EXPECT_EQ(t.dtype, TFC_I32);
  EXPECT_EQ(t.dims, std::vector<int64_t>{2});
  tfc_tensor v = t.view();
  EXPECT_STREQ(v.name, "ids");
  EXPECT_EQ(v.rank, 1);
  EXPECT_EQ(v.dims[0], 2);

  a.dtype = NpyDtype::U8;
  Status s = tensorFromNpy("ids", "ids.npy", a, t);
  EXPECT_EQ(s.error, "ids.npy: dtype '|u1' of input 'ids' has no plan equivalent (use bool "
                       "'|b1' or an integer type)");
  a.dtype = NpyDtype::F32;
  a.shape.assign(9, 1);
  a.data.assign(4, 0);
  s = tensorFromNpy("ids", "ids.npy", a, t);
  EXPECT_EQ(s.error, "ids.npy: input 'ids' has rank 9, more than the runtime's 8");
}

TEST(TfrunInputs, DtypeMapping) {
  for (NpyDtype d : {NpyDtype::F32, NpyDtype::F16, NpyDtype::I64, NpyDtype::I32, NpyDtype::I8,
                     NpyDtype::Bool}) {
    tfc_dtype t;
    NpyDtype back;
    ASSERT_TRUE(tfcDtypeOf(d, t));
    ASSERT_TRUE(npyDtypeOf(t, back));
    EXPECT_EQ(back, d);
  }
  NpyDtype n;
  EXPECT_FALSE(npyDtypeOf(TFC_BF16, n));
}
