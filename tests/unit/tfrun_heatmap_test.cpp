//===- tfrun_heatmap_test.cpp - the attention heatmap SVG (tools/tfrun/Heatmap.h) ------------===//
#include "tfrun/Heatmap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

using namespace tfc::tfrun;
using ::testing::HasSubstr;

namespace {

size_t count(const std::string &text, const std::string &what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST(TfrunHeatmap, Colors) {
  EXPECT_EQ(heatmapColor(0.f), "#ffffff");
  EXPECT_EQ(heatmapColor(1.f), "#08306b");
  EXPECT_EQ(heatmapColor(-3.f), "#ffffff"); // clamped
  EXPECT_EQ(heatmapColor(7.f), "#08306b");
  EXPECT_EQ(heatmapColor(0.5f), "#8498b5"); // halfway in each channel, rounded
}

TEST(TfrunHeatmap, OneCellPerWeightWithTokensOnBothAxes) {
  // Two queries over three keys; key 2 is padding (weight 0 in every row).
  std::vector<float> w = {0.25f, 0.75f, 0.f, 1.f, 0.f, 0.f};
  HeatmapInput in;
  in.weights = w.data();
  in.rows = 2, in.cols = 3;
  in.rowLabels = {"[CLS]", "hello"};
  in.colLabels = {"[CLS]", "hello", "[PAD]"};
  in.title = "layer 0 <head 1> & \"row\" 0";
  std::string svg = attentionHeatmapSvg(in);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_THAT(svg, HasSubstr("</svg>\n"));
  EXPECT_EQ(count(svg, "<rect class=\"cell\""), 6u);
  // Each cell carries its indices, fill and value.
  std::regex cell("<rect class=\"cell\" data-q=\"(\\d+)\" data-k=\"(\\d+)\"[^>]* fill=\"(#[0-9a-f]{6})\""
                  "><title>([0-9.]+)</title>");
  size_t seen = 0;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), cell); it != std::sregex_iterator();
       ++it, ++seen) {
    int q = std::stoi((*it)[1]), k = std::stoi((*it)[2]);
    float value = w[size_t(q * 3 + k)];
    EXPECT_EQ((*it)[3].str(), heatmapColor(value)) << q << "," << k;
    EXPECT_NEAR(std::stof((*it)[4]), value, 1e-4) << q << "," << k;
  }
  EXPECT_EQ(seen, 6u);
  // The padded key's column is white in both rows.
  EXPECT_THAT(svg, HasSubstr("data-q=\"0\" data-k=\"2\""));
  EXPECT_EQ(count(svg, "fill=\"#ffffff\"><title>0.0000</title>"), 3u);
  // Tokens on both axes, escaped; the title too.
  EXPECT_EQ(count(svg, ">[PAD]</text>"), 1u);
  EXPECT_EQ(count(svg, ">hello</text>"), 2u);
  EXPECT_EQ(count(svg, ">[CLS]</text>"), 2u);
  EXPECT_THAT(svg, HasSubstr("layer 0 &lt;head 1&gt; &amp; &quot;row&quot; 0"));
}

TEST(TfrunHeatmap, LongAndMissingLabels) {
  std::vector<float> w(4, 0.5f);
  HeatmapInput in;
  in.weights = w.data();
  in.rows = 2, in.cols = 2;
  in.rowLabels = {"\xC3\xA9tait-un-tr\xC3\xA8s-long-mot-vraiment"}; // 2nd row: missing
  std::string svg = attentionHeatmapSvg(in);
  // Cut after 16 code points (never inside a UTF-8 sequence), marked with "~".
  EXPECT_THAT(svg, HasSubstr(">\xC3\xA9tait-un-tr\xC3\xA8s-lo~</text>"));
  EXPECT_THAT(svg, HasSubstr(">1</text>")); // row 1 and the columns: their index
  EXPECT_EQ(xmlEscape(std::string("a\x01<b")), "a?&lt;b");
}
